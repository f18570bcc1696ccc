"""End to end: a user adds their own backdrop with a tag on My backdrops, marks its surface as a
box, then writes a prompt naming the tag on the prompt page and generates with the local
engine; the finished job records the backdrop. Screenshots: tests/e2e/screenshots/backdrops_*.png.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.backdrop_photos import backdrop_photo
from tests.e2e.harness import JOB_TIMEOUT_MS, ROOT, SHOTS, browser_page, running_app, wait_idle
from tests.views.photos import product_photo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with running_app(tmp_path_factory, "backdrops") as running:
        yield running.url, running.data_dir


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with browser_page(1440, 1400) as tab:
        yield tab


def _cli(data_dir: Path, *args: str) -> Any:
    env = {**os.environ, "STUDIO_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "studio", *args, "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_add_a_backdrop_then_a_prompt_naming_its_tag_uses_it(
    app: tuple[str, Path], page: Page, tmp_path: Path
) -> None:
    url, data_dir = app
    page.goto(f"{url}/?lang=en")
    expect(page.get_by_role("heading", name="Prompt background")).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="My backdrops", exact=True).click()
    expect(page.get_by_role("heading", name="My backdrops")).to_be_visible()
    expect(page.get_by_text("No backdrops yet.")).to_be_visible()
    wait_idle(page)

    slab = tmp_path / "marble-counter.jpg"
    slab.write_bytes(backdrop_photo((960, 720)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(slab))
    expect(page.get_by_text("1 photo ready to add: marble-counter.jpg")).to_be_visible()
    page.get_by_role("textbox", name="Name", exact=True).fill("White marble counter")
    tags = page.get_by_role("textbox", name="Tags (comma-separated, English or 中文)")
    tags.fill("marble, 大理石")
    tags.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Add to my backdrops").click()
    expect(page.get_by_text("Added 1 backdrop.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Edit: White marble counter")).to_be_visible()
    wait_idle(page)

    # Mark the counter top as a box instead of the default line: drawn on the canvas, then saved.
    page.get_by_text("Box (the product stands inside it)").click()
    expect(page.get_by_text("Top and bottom of the box (% from the top)")).to_be_visible()
    wait_idle(page)
    page.get_by_text("Draw the surface on the photo").click()
    canvas = page.locator("canvas.upper-canvas").first
    expect(canvas).to_be_visible(timeout=30_000)
    wait_idle(page)
    canvas.evaluate("element => element.scrollIntoView({block: 'center'})")  # all of it on screen
    page.wait_for_timeout(300)
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    for step in range(1, 11):  # a drag at a hand's pace
        page.mouse.move(
            box["x"] + box["width"] * (0.2 + 0.06 * step), box["y"] + box["height"] * (0.6 + 0.025 * step)
        )
        page.wait_for_timeout(60)
    page.mouse.up()
    # A diagonal stroke: the box is the frame around it (the brush adds a pixel or two).
    drawn = re.compile(
        r"Your drawing · Surface: a box from (19|20)% to (80|81)% across and (59|60)% to (85|86)% down"
    )
    expect(page.get_by_text(drawn)).to_be_visible(timeout=30_000)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "backdrops_drawn.png"))
    page.get_by_role("button", name="Use this surface").click()
    expect(page.get_by_text("Surface taken from your drawing.")).to_be_visible(timeout=30_000)
    wait_idle(page)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved White marble counter.")).to_be_visible()
    wait_idle(page)
    [stored] = _cli(data_dir, "backdrops", "list")
    assert stored["tags"] == ["marble", "大理石"] and stored["surface_kind"] == "box"
    assert stored["surface"] == pytest.approx([0.2, 0.6, 0.8, 0.85], abs=0.03)
    # The surface is drawn over the photo in the editor and on the gallery card.
    assert page.locator("figure img").count() >= 2
    # The add form is empty again, ready for the next photo.
    expect(page.get_by_role("textbox", name="Name", exact=True).first).to_have_value("")
    page.screenshot(path=str(SHOTS / "backdrops_page.png"))
    page.get_by_role("button", name="Editing").scroll_into_view_if_needed()  # the gallery card
    page.screenshot(path=str(SHOTS / "backdrops_gallery.png"))

    page.get_by_role("link", name="Prompt background", exact=True).click()
    expect(page.get_by_role("heading", name="Prompt background")).to_be_visible()
    wait_idle(page)
    mug = tmp_path / "red-mug.png"
    mug.write_bytes(product_photo((640, 520)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(mug))
    expect(page.get_by_text("Cutout by:")).to_be_visible(timeout=60_000)
    prompt = page.get_by_label("Describe the background (English or 中文)")
    prompt.fill("a red mug on white marble, soft light")
    prompt.press("Control+Enter")
    expect(page.get_by_text("the product goes on your backdrop")).to_be_visible()
    expect(page.get_by_text("White marble counter").first).to_be_visible()
    wait_idle(page)
    page.get_by_text("the product goes on your backdrop").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "backdrops_prompt_hint.png"))

    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Variant 1 ·").first).to_be_visible(timeout=JOB_TIMEOUT_MS)
    wait_idle(page)
    page.get_by_text("Variant 1 ·").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "backdrops_prompt_result.png"))

    [row] = _cli(data_dir, "jobs", "list")
    job = _cli(data_dir, "jobs", "show", row["job_id"])
    assert job["status"] == "succeeded", job["error"]
    plate = job["notes"]["backdrop_plate"]
    assert plate["name"] == "White marble counter" and plate["matched_tags"] == ["marble"]
    assert plate["surface"] == stored["surface"]
    assert (data_dir / plate["path"]).is_file()
    # The product stands on the user's photo: the result's top corner is the photo's warm wall.
    assert job["notes"]["scene_plan"]["plate"] is True
    result = np.asarray(Image.open(job["outputs"][0]["path"]).convert("RGB"), dtype=int)
    wall = np.asarray(Image.open(data_dir / plate["path"]).convert("RGB"), dtype=int)[5:25, 5:25]
    assert np.abs(result[5:25, 5:25].mean(axis=(0, 1)) - wall.mean(axis=(0, 1))).max() < 25
