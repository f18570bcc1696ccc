"""End to end mask editing: draw an erase stroke across the product on the real canvas in Chromium,
generate with the local engine, and check that the stored mask and the output changed where the
stroke went, and nowhere else. Screenshots: tests/e2e/screenshots/mask_*.png.

And the page's own editor at the width the window gives it (issue 18): at 1440x900 its canvas is
wide (>= 700 px), at 1280x720 it fits without a sideways scroll and a stroke still edits the mask
at the photo's full resolution. Screenshots: /tmp/shots_mask/.
"""

from __future__ import annotations

import contextlib
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
from playwright.sync_api import Locator, Page, expect

from studio.i18n import translate
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


# ------------------------------------------------ the page's editor at the width the window gives it
WIDE_PHOTO = (1200, 900)  # wider than any canvas, so the canvas is as wide as the page lets it be
PAGE_SHOTS = Path("/tmp/shots_mask")


@contextlib.contextmanager
def _window(page: Page, width: int, height: int) -> Iterator[Page]:
    """A fresh tab (its own session) of this window size, in the module's browser: one Playwright
    per thread, so not a second `browser_page`."""
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="en-US", accept_downloads=True
    )
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    try:
        yield tab
    finally:
        context.close()


def _open_page_editor(page: Page, url: str, photo: Path, lang: str = "en") -> Locator:
    """The prompt page with the photo uploaded and "Edit the mask" chosen; the page's canvas."""
    page.goto(f"{url}/?lang={lang}")
    expect(page.get_by_role("heading", name=translate(lang, "page.prompt.title"))).to_be_visible(
        timeout=60_000
    )
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))
    expect(page.get_by_text(translate(lang, "mask.mode.edit"), exact=True)).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.get_by_text(translate(lang, "mask.mode.edit"), exact=True).click()
    canvas = page.locator("canvas.upper-canvas").first
    expect(canvas).to_be_visible(timeout=60_000)
    wait_idle(page)
    # The first draw is at the fallback width; the browser's measure redraws it at the page's width.
    # (The canvas is in a shadow root, which Playwright's locators pierce and `document` does not.)
    for _ in range(60):
        box = canvas.bounding_box()
        if box is not None and box["width"] > 460:
            break
        page.wait_for_timeout(500)
    wait_idle(page)
    return canvas


def _horizontal_overflow(page: Page) -> list[str]:
    """Elements that scroll sideways (the document, or Streamlit's main area): none is wanted."""
    found: list[str] = page.evaluate(
        """() => {
            const scrolling = [document.documentElement, document.body,
                ...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"],'
                + ' [data-testid="stMainBlockContainer"]')];
            return scrolling.filter((el) => el.scrollWidth > el.clientWidth + 1)
                .map((el) => (el.dataset && el.dataset.testid) || el.tagName);
        }"""
    )
    return found


def _download_mask(page: Page, lang: str = "en") -> np.ndarray:
    button = page.get_by_role("button", name=translate(lang, "editor.download"))
    button.scroll_into_view_if_needed()
    with page.expect_download() as download:
        button.click()
    path = download.value.path()
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_at_1440_the_page_editor_canvas_takes_the_page_width(
    editor_app: tuple[str, Path], page: Page, tmp_path: Path, lang: str
) -> None:
    url, _ = editor_app
    PAGE_SHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "wide-mug.png"
    photo.write_bytes(product_photo(WIDE_PHOTO))
    with _window(page, 1440, 900) as tab:
        canvas = _open_page_editor(tab, url, photo, lang)
        canvas.scroll_into_view_if_needed()
        wait_idle(tab)
        box = canvas.bounding_box()
        assert box is not None and box["width"] >= 700, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1440, box
        # Shown whole at 100 %: not taller than the canvas's own box, same shape as the photo.
        assert box["height"] <= 722 and abs(box["width"] / box["height"] - 4 / 3) < 0.02, box
        assert not _horizontal_overflow(tab)
        tab.screenshot(path=str(PAGE_SHOTS / f"editor_1440_{lang}.png"))
        # The link in step 2 leads down to the editor, in this tab (not a new one).
        link = tab.get_by_role("link", name=translate(lang, "editor.below"))
        link.scroll_into_view_if_needed()
        tab.screenshot(path=str(PAGE_SHOTS / f"step2_1440_{lang}.png"))
        heading = tab.get_by_role("heading", name=translate(lang, "mask.mode.edit"))
        expect(heading).not_to_be_in_viewport()
        link.click()
        expect(heading).to_be_in_viewport(timeout=10_000)
        assert len(tab.context.pages) == 1
        tab.screenshot(path=str(PAGE_SHOTS / f"editor_top_1440_{lang}.png"))
        # The wide dialog still opens, over the page.
        tab.get_by_role("button", name=translate(lang, "first_hour_b.large_open")).click()
        dialog = tab.get_by_role("dialog")
        expect(dialog.locator("canvas.upper-canvas").first).to_be_visible(timeout=60_000)
        wait_idle(tab)
        large = dialog.locator("canvas.upper-canvas").first.bounding_box()
        assert large is not None and large["width"] >= 800, large
        dialog.get_by_role("button", name=translate(lang, "first_hour_b.large_done")).click()
        expect(dialog).to_have_count(0, timeout=30_000)


def test_at_1280x720_the_page_editor_fits_and_a_stroke_edits_the_full_size_mask(
    editor_app: tuple[str, Path], page: Page, tmp_path: Path
) -> None:
    url, _ = editor_app
    PAGE_SHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "wide-mug.png"
    photo.write_bytes(product_photo(WIDE_PHOTO))
    with _window(page, 1280, 720) as tab:
        canvas = _open_page_editor(tab, url, photo)
        before = _download_mask(tab)
        assert before.shape == (WIDE_PHOTO[1], WIDE_PHOTO[0])
        canvas.scroll_into_view_if_needed()
        wait_idle(tab)
        box = canvas.bounding_box()
        assert box is not None and box["width"] >= 600, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
        assert not _horizontal_overflow(tab), "the page scrolls sideways"
        tab.screenshot(path=str(PAGE_SHOTS / "editor_1280x720.png"))

        # An erase stroke (the default tool) down through the mug's body, inside the window.
        x = box["x"] + box["width"] * 0.47
        top = max(box["y"] + box["height"] * 0.2, 2)
        bottom = min(box["y"] + box["height"] * 0.85, 718)
        tab.mouse.move(x, top)
        tab.mouse.down()
        for step in range(1, 21):
            tab.mouse.move(x, top + (bottom - top) * step / 20)
        tab.mouse.up()
        wait_idle(tab)
        tab.wait_for_timeout(500)
        wait_idle(tab)
        tab.screenshot(path=str(PAGE_SHOTS / "stroke_1280x720.png"))
        after = _download_mask(tab)

    assert after.shape == before.shape == (WIDE_PHOTO[1], WIDE_PHOTO[0])
    column = round(WIDE_PHOTO[0] * 0.47)
    band = slice(column - 3, column + 4)
    rows = slice(round(WIDE_PHOTO[1] * 0.35), round(WIDE_PHOTO[1] * 0.7))  # the mug's body, stroked
    assert before[rows, band].min() == 255 and after[rows, band].max() == 0
    changed = (before > 127) != (after > 127)
    _, cols = np.nonzero(changed)
    assert cols.min() >= column - 40 and cols.max() <= column + 40
