"""End to end: a 3000x3000 JPEG's automatic cutout preview appears quickly in the browser, at
display size, with the fast model; switching to Best says which model made it.

The time from handing the file to the uploader until both preview pictures have decoded is
printed and written to tests/e2e/screenshots/preview_timing.json. BENCHMARKS.md holds the
target (3 s on the project's 2-core machine); the assertion here is generous (6 s), since CI
machines vary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import ROOT, SHOTS, browser_page, running_app, wait_idle

pytestmark = pytest.mark.e2e
PREVIEW_LIMIT_S = 6.0
ISNET = ROOT / "models" / "isnet.onnx"


def big_photo(path: Path, side: int = 3000) -> None:
    """A studio shot: a shaded bottle with a handle hole on a light, slightly noisy gradient."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    background = (205 + 35 * yy)[..., None] * np.array([1.0, 0.98, 0.95], np.float32)
    image = np.clip(background + rng.normal(0, 2, (side, side, 3)), 0, 255).astype(np.uint8)
    body = np.zeros((side, side), np.uint8)
    cv2.ellipse(body, (side // 2, side // 2), (side // 5, side // 3), 0, 0, 360, 255, -1)
    cv2.circle(body, (side // 2 + side // 4, side // 2), side // 10, 255, -1)
    cv2.circle(body, (side // 2 + side // 4, side // 2), side // 18, 0, -1)
    shade = (0.55 + 0.45 * (1 - xx))[..., None] * np.array([60, 90, 200], np.float32)
    image[body > 0] = shade[body > 0].astype(np.uint8)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory, "preview", {"STUDIO_CUTOUT_MODEL": "fast"}) as app:
        yield app.url


@pytest.fixture(scope="module")
def page(app_url: str) -> Iterator[Page]:
    with browser_page(1440, 1300) as tab:
        yield tab


def preview_widths(page: Page) -> list[int]:
    """The decoded widths of the two preview pictures: the overlay and the cutout on a checkerboard."""
    found = page.evaluate(
        """() => {
            const overlay = Array.from(document.querySelectorAll('[data-testid="stImage"]'))
                .filter(box => box.innerText.includes('Red = background'))
                .map(box => box.querySelector('img'));
            const cutout = Array.from(document.querySelectorAll('figure img[src^="data:image/png"]'));
            return [...overlay, ...cutout]
                .filter(img => img && img.complete && img.naturalWidth > 0)
                .map(img => img.naturalWidth);
        }"""
    )
    return [int(width) for width in found]


def test_a_3000px_photo_shows_its_cutout_preview_quickly(app_url: str, page: Page, tmp_path: Path) -> None:
    page.goto(f"{app_url}/?lang=en")
    expect(page.get_by_role("heading", name="Prompt background")).to_be_visible(timeout=60_000)
    wait_idle(page)
    photo = tmp_path / "bottle-3000.jpg"
    big_photo(photo)

    # The model is loaded once per app; a first small photo takes that out of the measurement.
    warm = tmp_path / "warm.jpg"
    big_photo(warm, 400)
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
    uploader.set_input_files(str(warm))
    expect(page.get_by_text("Cutout by: AI model u2netp (Fast)")).to_be_visible(timeout=60_000)
    wait_idle(page)

    start = time.perf_counter()
    uploader.set_input_files(str(photo))
    expect(page.get_by_text("bottle-3000.jpg · 3000 × 3000 px")).to_be_visible(timeout=60_000)
    # Done when both preview pictures of this photo (1024 px wide: the warm-up's are 400) have decoded.
    page.wait_for_function(
        """() => {
            const overlay = Array.from(document.querySelectorAll('[data-testid="stImage"]'))
                .filter(box => box.innerText.includes('Red = background'))
                .map(box => box.querySelector('img'));
            const cutout = Array.from(document.querySelectorAll('figure img[src^="data:image/png"]'));
            const shown = [...overlay, ...cutout];
            return shown.length === 2 && shown.every(img => img && img.complete && img.naturalWidth === 1024);
        }""",
        timeout=60_000,
    )
    elapsed = time.perf_counter() - start
    expect(page.get_by_text("Cutout by: AI model u2netp (Fast)")).to_be_visible()
    widths = preview_widths(page)
    page.screenshot(path=str(SHOTS / "preview_3000.png"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "preview_timing.json").write_text(
        json.dumps(
            {"photo": "3000x3000 JPEG", "model": "u2netp", "seconds": round(elapsed, 2), "widths": widths}
        )
    )
    print(f"\n3000x3000 JPEG: cutout preview shown after {elapsed:.2f} s (u2netp); picture widths {widths}")
    # Previews are made at display size, never at the photo's 3000 px.
    assert widths == [1024, 1024], widths
    assert elapsed < PREVIEW_LIMIT_S, (
        f"the preview took {elapsed:.1f} s (target 3 s, limit {PREVIEW_LIMIT_S} s)"
    )


@pytest.mark.skipif(not ISNET.is_file(), reason=f"ISNet model not found at {ISNET}")
def test_switching_to_best_recuts_with_isnet(app_url: str, page: Page) -> None:
    wait_idle(page)  # a click during a script run can be lost
    caption = page.get_by_text("Cutout by: AI model ISNet (Best)")
    for _attempt in range(3):
        # A click that lands while the page is still settling after the last run is sometimes not
        # sent to the server (the radio shows Best, the cutout stays Fast): go back and choose again.
        page.get_by_role("radio", name="Best (ISNet)").check(force=True)
        try:
            expect(caption).to_be_visible(timeout=30_000)
            break
        except AssertionError:
            page.get_by_role("radio", name="Fast (u2netp)").check(force=True)
            wait_idle(page)
    expect(caption).to_be_visible(timeout=30_000)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "preview_3000_best.png"))
