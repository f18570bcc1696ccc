"""End to end mask editing: draw an erase stroke across the product on the real canvas in Chromium,
generate with the local engine, and check that the stored mask and the output changed where the
stroke went, and nowhere else. Screenshots: tests/e2e/screenshots/mask_*.png.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.harness import JOB_TIMEOUT_MS, ROOT, SHOTS, browser_page, running_app, wait_idle
from tests.views.photos import product_photo

pytestmark = pytest.mark.e2e

PHOTO = (640, 520)


@pytest.fixture(scope="module")
def editor_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with running_app(tmp_path_factory, "mask") as app:
        yield app.url, app.data_dir


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with browser_page(1440, 1400) as tab:
        yield tab


def _jobs(data_dir: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "STUDIO_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "studio", "jobs", "list", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    listed = json.loads(done.stdout)
    shown = []
    for row in listed:
        one = subprocess.run(
            [sys.executable, "-m", "studio", "jobs", "show", row["job_id"], "--json"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        shown.append(json.loads(one.stdout))
    return shown


def _generate(page: Page, expected_jobs: int, data_dir: Path) -> dict[str, Any]:
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Variant 1 ·").first).to_be_visible(timeout=JOB_TIMEOUT_MS)
    wait_idle(page)
    jobs = _jobs(data_dir)
    assert len(jobs) == expected_jobs
    newest = max(jobs, key=lambda job: job["created_at"])
    assert newest["status"] == "succeeded", newest
    return newest


def _file(data_dir: Path, path: str) -> np.ndarray:
    target = Path(path) if Path(path).is_absolute() else data_dir / path
    with Image.open(target) as image:
        return np.asarray(image.convert("L" if "mask" in target.name else "RGB"))


def test_an_erase_stroke_on_the_canvas_changes_the_mask_and_the_output_there(
    editor_app: tuple[str, Path], page: Page, tmp_path: Path
) -> None:
    url, data_dir = editor_app
    page.goto(f"{url}/?lang=en")
    expect(page.get_by_role("heading", name="Prompt background")).to_be_visible(timeout=60_000)
    photo = tmp_path / "red-mug.png"
    photo.write_bytes(product_photo(PHOTO))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))
    expect(page.get_by_text("Cutout by:")).to_be_visible(timeout=60_000)
    prompt = page.get_by_label("Describe the background (English or 中文)")
    prompt.fill("white marble, soft light")
    prompt.press("Control+Enter")
    wait_idle(page)
    # Keep the product where it is, so output pixels line up with photo pixels.
    page.get_by_text("Keep original position", exact=True).click()
    wait_idle(page)
    page.get_by_text("Edit the mask", exact=True).click()
    canvas = page.locator("canvas.upper-canvas").first
    expect(canvas).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "mask_01_editor.png"), full_page=True)

    # Baseline: the untouched automatic mask.
    page.locator('[data-testid="stSlider"]').filter(has_text="Variants").scroll_into_view_if_needed()
    before = _generate(page, 1, data_dir)

    # An erase stroke (the default tool) straight down through the middle of the mug's body.
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x = box["x"] + box["width"] * 0.47
    page.mouse.move(x, box["y"] + 5)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, box["y"] + 5 + (box["height"] - 10) * step / 20)
    page.mouse.up()
    wait_idle(page)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "mask_02_stroke.png"), full_page=True)
    after = _generate(page, 2, data_dir)
    page.get_by_text("Variant 1 ·").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "mask_03_result.png"), full_page=True)

    mask_before = _file(data_dir, before["mask_path"])
    mask_after = _file(data_dir, after["mask_path"])
    assert mask_after.shape == mask_before.shape == (PHOTO[1], PHOTO[0])
    column = round(PHOTO[0] * 0.47)
    band = slice(column - 3, column + 4)
    # The product was there before, and the stroke removed it along the whole column ...
    assert mask_before[:, band].max() == 255 and mask_after[:, band].max() == 0
    # ... while far from the stroke the mask is as it was.
    changed = (mask_before > 127) != (mask_after > 127)
    rows, cols = np.nonzero(changed)
    assert cols.min() >= column - 30 and cols.max() <= column + 30
    # The output changed where the stroke went (the mug's red is gone there) and not far away.
    out_before = _file(data_dir, before["outputs"][0]["path"]).astype(int)
    out_after = _file(data_dir, after["outputs"][0]["path"]).astype(int)
    assert out_before.shape == out_after.shape
    difference = np.abs(out_before - out_after).sum(axis=2)
    assert difference[:, band].mean() > 30
    assert difference[:, : column - 80].mean() < difference[:, band].mean() / 4
