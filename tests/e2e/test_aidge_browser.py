"""End to end with Aidge: the real app under `streamlit run`, configured against the loopback emulator.

A user picks Aidge on the scene page, uploads a product photo, browses the
vendor's scene grid (covers served by the emulator), picks a scene, generates,
sees the gallery and then finds the Aidge job in History. Screenshots go to
tests/e2e/screenshots/aidge_*.png for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import JOB_TIMEOUT_MS, SHOTS, aidge_env, browser_page, running_app, wait_idle
from tests.e2e.test_browser import _images_loaded
from tests.emulators.aidge import API_SCENE_SUBMIT, CATALOGUE, AidgeEmulator
from tests.views.photos import product_photo

pytestmark = pytest.mark.e2e

KEY, SECRET = "browser-key", "browser-secret-0123456789"
SCENE = CATALOGUE[4]  # "Kitchen Counter": a mug's scene


@pytest.fixture(scope="module")
def emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(KEY, SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def aidge_app_url(tmp_path_factory: pytest.TempPathFactory, emulator: AidgeEmulator) -> Iterator[str]:
    env = aidge_env(emulator.base_url, KEY, SECRET)
    with running_app(tmp_path_factory, "aidge", env) as app:
        yield app.url


@pytest.fixture(scope="module")
def aidge_page(aidge_app_url: str) -> Iterator[Page]:
    with browser_page(1440, 1300) as tab:
        yield tab


def test_aidge_scene_background_from_catalogue_to_history(
    aidge_app_url: str, aidge_page: Page, emulator: AidgeEmulator, tmp_path: Path
) -> None:
    page = aidge_page
    page.goto(f"{aidge_app_url}/scene_background?lang=en")
    expect(page.get_by_role("heading", name="Scene background")).to_be_visible(timeout=60_000)
    wait_idle(page)

    # The provider comes first: switch from the local engine to Aidge.
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Aidge (Alibaba International AI)").click()
    expect(page.get_by_text("24 of 24 scenes")).to_be_visible(timeout=30_000)
    wait_idle(page)

    photo = tmp_path / "red-mug.png"
    photo.write_bytes(product_photo((800, 640)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))
    expect(page.get_by_text("800 × 640").first).to_be_visible(timeout=30_000)
    wait_idle(page)

    # Every cover of the vendor grid arrived from the emulator and decoded in the browser.
    covers = 'img[src*="/covers/"]'
    page.wait_for_function(
        """(selector) => Array.from(document.querySelectorAll(selector))
             .filter(img => img.complete && img.naturalWidth > 0).length >= 24""",
        arg=covers,
        timeout=30_000,
    )
    assert _images_loaded(page, covers) == len(CATALOGUE)
    recommend = page.get_by_role("button", name="Recommend for this product")
    expect(recommend).to_be_visible()
    # Its label fits: no element inside the button is cut off with an ellipsis.
    clipped = recommend.evaluate(
        """(button) => [button, ...button.querySelectorAll('*')]
             .filter(el => el.scrollWidth > el.clientWidth + 1).length"""
    )
    assert clipped == 0, "the 'Recommend for this product' label is truncated"
    # The filters, the search, "recommend" and the first rows of the grid in one view.
    page.get_by_role("heading", name="3. Scene").evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "aidge_scene_catalogue.png"), full_page=False)

    card = page.locator(f".st-key-scene-card-{SCENE.model_num}")
    card.get_by_role("button", name="Select").click()
    expect(page.get_by_role("button", name="Change scene")).to_be_visible()
    expect(page.get_by_text(f"Scene: {SCENE.name}").first).to_be_visible()
    wait_idle(page)

    generate = page.get_by_role("button", name="Generate")
    expect(generate).to_be_enabled()
    generate.click()
    expect(page.get_by_text("Variant 4 · 800 × 800")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    wait_idle(page)
    page.get_by_text("Variant 4 · 800 × 800").scroll_into_view_if_needed()
    # The four results (downloaded from the emulator into the job's folder) decoded in the browser.
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="stImage"] img'))
             .filter(img => !img.src.includes('/covers/') && img.complete && img.naturalWidth > 0)
             .length >= 5""",
        timeout=30_000,
    )
    expect(page.get_by_role("button", name="Download all (ZIP)")).to_be_visible()
    page.screenshot(path=str(SHOTS / "aidge_scene_result.png"), full_page=False)

    submits = [request for request in emulator.requests if request.api == API_SCENE_SUBMIT]
    assert len(submits) == 1 and submits[0].outcome == "ok"

    page.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.get_by_text("Page 1 of 1 · 1 job")).to_be_visible(timeout=30_000)
    jobs_table = page.locator('[data-testid="stDataFrame"]').first
    expect(jobs_table.get_by_test_id("glide-cell-3-0")).to_have_text("Scene background")
    expect(jobs_table.get_by_test_id("glide-cell-4-0")).to_have_text("Aidge (Alibaba International AI)")
    expect(jobs_table.get_by_test_id("glide-cell-5-0")).to_have_text("Succeeded")
    expect(jobs_table.get_by_test_id("glide-cell-6-0")).to_have_text("4")
    wait_idle(page)
    page.wait_for_timeout(1000)  # the grid and chart paint on canvas after they attach
    page.screenshot(path=str(SHOTS / "aidge_history.png"))
