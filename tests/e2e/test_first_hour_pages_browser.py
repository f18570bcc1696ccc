"""Issue 18's first hour on Review, My backdrops, Settings and Virtual model, in Chromium at
1440x900 and 1280x720, in English and Chinese.

One app under `streamlit run`, configured against the loopback Aidge emulator, with a finished
local batch made in this process: on Review a user approves an image with its labelled button,
sees it marked, undoes it and reaches the export panel; on My backdrops they upload a photo and
see it in the library with the way to use it; on Settings they read the provider cards, the
checks row and the hosting card and test the Aidge connection; on Virtual model they upload a
garment photo, choose a model, generate and see the result large. A second app without Aidge
shows what Virtual model says then (and its link to Settings). The language is switched by the
page link (?lang=), not by a new server. Screenshots of every step go to /tmp/shots_first_c/
(or $FIRST_HOUR_SHOTS) for a human to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from studio.i18n import translate, translate_plural
from studio.service import open_studio
from tests.backdrop_photos import backdrop_photo
from tests.e2e.harness import JOB_TIMEOUT_MS, aidge_env, browser_page, running_app, wait_idle
from tests.emulators.aidge import AidgeEmulator
from tests.views.photos import product_photo
from tests.views.review_helpers import finished_batch

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("FIRST_HOUR_SHOTS", "/tmp/shots_first_c"))
VIEWPORTS = ((1440, 900), (1280, 720))
LANGUAGES = ("en", "zh")
KEY, SECRET = "first-hour-key", "first-hour-secret-0123456789"


# ------------------------------------------------------------------ the apps
@pytest.fixture(scope="module")
def emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(KEY, SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, emulator: AidgeEmulator) -> Iterator[str]:
    env = aidge_env(emulator.base_url, KEY, SECRET)
    with running_app(tmp_path_factory, "first-hour-pages", env) as app:
        _make_batch(app.data_dir)
        yield app.url


@pytest.fixture(scope="module")
def bare_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with only the local engine: Virtual model has no provider."""
    with running_app(tmp_path_factory, "first-hour-bare") as app:
        yield app.url


def _make_batch(data_dir: Path) -> None:
    """Two products with one local image each, made by a studio of this process on the app's data."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STUDIO_DATA_DIR", str(data_dir))
        env.setenv("STUDIO_CUTOUT_MODEL", "fast")
        env.setenv("STUDIO_CHECKS", "off")
        studio = open_studio()
        try:
            studio.start_worker()
            finished_batch(studio, ("MUG-RED", "MUG-TALL"), count=1, side=(320, 260))
        finally:
            studio.close()


# ------------------------------------------------------------------ helpers
def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    _settled(page)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _settled(page: Page) -> None:
    """Wait for the run to end and for Streamlit to stop fading what the run has not redrawn."""
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)


def _open(page: Page, url: str, heading: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
    _settled(page)


def _to_top(page: Page, target: Locator) -> None:
    """Scroll so `target` is at the top of the window: what the user sees after scrolling to it."""
    target.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)


def _in_view(page: Page, target: Locator) -> bool:
    box = target.bounding_box()
    size = page.viewport_size
    return (
        box is not None and size is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
    )


def _fits_across(page: Page) -> None:
    """Nothing is cut off horizontally: the page is no wider than the window."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _action(page: Page, section: Locator, button: Locator) -> None:
    """The step's main action: with its section scrolled to the top, on screen at 1440x900; at
    every size enabled, and the page no wider than the window."""
    _settled(page)
    _images_decoded(page)
    _to_top(page, section)
    _fits_across(page)
    size = page.viewport_size or {"width": 0, "height": 0}
    if size["width"] >= 1440:
        for _ in range(4):  # a late reflow (a component's frame, a font) can move it once more
            if _in_view(page, button):
                break
            page.wait_for_timeout(500)
            _to_top(page, section)
        assert _in_view(page, button), f"{button} is below the fold"
    else:
        button.scroll_into_view_if_needed()
        assert _in_view(page, button)
    expect(button).to_be_enabled()


def _images_decoded(page: Page) -> None:
    """Every picture on the page has its size: nothing moves the layout after a measurement."""
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)", timeout=30_000)


def _heading(page: Page, text: str) -> Locator:
    return page.get_by_role("heading", name=text, exact=True).first


def _sizes() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda size: f"{size[0]}x{size[1]}")


# ------------------------------------------------------------------ Review
@pytest.mark.parametrize("lang", LANGUAGES)
def test_review_approve_see_it_marked_undo_and_reach_the_export(app_url: str, lang: str) -> None:
    tag = f"review_1280x720_{lang}"
    with browser_page(1280, 720) as page:
        _open(page, f"{app_url}/review?lang={lang}", translate(lang, "review.focus"))
        _fits_across(page)
        _shot(page, f"{tag}_1_top")
        focus = _heading(page, translate(lang, "review.focus"))
        approve = page.get_by_role("button", name=translate(lang, "review.approve")).first
        _action(page, focus, approve)
        listed = _listed(page)
        _shot(page, f"{tag}_2_focus")
        approve.click()
        moved = translate(
            lang, "review_checks.last.moved", filter=translate(lang, "review.filter.unreviewed")
        )
        expect(page.get_by_text(moved, exact=False)).to_be_visible(timeout=30_000)
        _settled(page)
        # Marked: the undo bar names what was approved and where it went; the list is one shorter.
        assert _listed(page) == listed - 1
        undo = page.get_by_role("button", name=translate(lang, "review_checks.undo"))
        _action(page, focus, undo)
        _shot(page, f"{tag}_3_marked")
        undo.click()
        undone = translate(lang, "review_checks.undone", what="", state="").split(":")[0].split("：")[0]
        expect(page.locator('[data-testid="stAlertContentSuccess"]').first).to_contain_text(
            undone, timeout=30_000
        )
        _settled(page)
        assert _listed(page) == listed
        _shot(page, f"{tag}_4_undone")
        # Approved again, the export panel checks it.
        page.get_by_role("button", name=translate(lang, "review.approve")).first.click()
        expect(page.get_by_text(moved, exact=False)).to_be_visible(timeout=30_000)
        _settled(page)
        export = _heading(page, translate(lang, "review.export"))
        check = page.get_by_role("button", name=translate(lang, "review_checks.gate.run"))
        _action(page, export, check)
        _shot(page, f"{tag}_5_export")
        check.click()
        _settled(page)
        _to_top(page, page.get_by_text(translate(lang, "review_checks.gate.title"), exact=True).first)
        _fits_across(page)
        _shot(page, f"{tag}_6_checked")
        # Leave the batch as it was for the other language.
        undo.click()
        _settled(page)
        assert _listed(page) == listed


def _listed(page: Page) -> int:
    """How many images the one-by-one view lists ("1 / 2" -> 2)."""
    counter = page.locator("strong").filter(has_text=re.compile(r"^\d+ / \d+$")).first
    return int(counter.inner_text().split("/")[1])


# ------------------------------------------------------------------ My backdrops
@_sizes()
@pytest.mark.parametrize("lang", LANGUAGES)
def test_backdrops_upload_and_see_it_in_the_library(
    app_url: str, lang: str, viewport: tuple[int, int], tmp_path: Path
) -> None:
    width, height = viewport
    tag = f"backdrops_{width}x{height}_{lang}"
    name = f"Marble {width} {lang}"
    with browser_page(width, height) as page:
        _open(page, f"{app_url}/backdrops?lang={lang}", translate(lang, "page.backdrops.title"))
        _shot(page, f"{tag}_1_start")
        photo = tmp_path / "marble-slab.jpg"
        photo.write_bytes(backdrop_photo((960, 720), "JPEG"))
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))
        ready = translate_plural(lang, "backdrops.add.ready", 1, names="marble-slab.jpg")
        expect(page.get_by_text(ready)).to_be_visible(timeout=30_000)
        page.get_by_role("textbox", name=translate(lang, "backdrops.add.name"), exact=True).first.fill(name)
        tags = page.get_by_role("textbox", name=translate(lang, "backdrops.add.tags")).first
        tags.fill("marble, 大理石")
        tags.press("Enter")
        _settled(page)
        add = page.get_by_role("button", name=translate(lang, "backdrops.add.button"))
        _action(page, _heading(page, translate(lang, "page.backdrops.title")), add)
        _shot(page, f"{tag}_2_ready")
        add.click()
        editor = _heading(page, translate(lang, "backdrops.edit.heading", name=name))
        expect(editor).to_be_visible(timeout=60_000)
        _settled(page)
        # The confirmation is still there once the page has settled (the editor's canvas is drawn).
        expect(page.get_by_text(translate_plural(lang, "backdrops.add.done", 1))).to_be_visible()
        _to_top(page, _heading(page, translate(lang, "page.backdrops.title")))
        _shot(page, f"{tag}_3_added")
        save = page.get_by_role("button", name=translate(lang, "backdrops.edit.save"))
        _action(page, editor, save)
        _shot(page, f"{tag}_4_editor")
        # The way on: where a product goes onto it.
        use = page.get_by_role("link", name=translate(lang, "first_hour_c.backdrops.use_scene"))
        expect(use).to_be_visible()
        expect(
            page.get_by_role("link", name=translate(lang, "first_hour_c.backdrops.use_prompt", tag="marble"))
        ).to_be_visible()
        # In the library: its card with its name and tags.
        card = page.locator('[class*="st-key-backdrop-card-"]').filter(has_text=name)
        expect(card).to_have_count(1)
        expect(
            card.get_by_text(translate(lang, "backdrops.gallery.tags", tags="marble, 大理石"))
        ).to_be_visible()
        _to_top(page, card)
        _fits_across(page)
        _shot(page, f"{tag}_5_library")


# ------------------------------------------------------------------ Settings
@_sizes()
@pytest.mark.parametrize("lang", LANGUAGES)
def test_settings_cards_checks_hosting_and_a_connection_test(
    app_url: str, emulator: AidgeEmulator, lang: str, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    tag = f"settings_{width}x{height}_{lang}"
    with browser_page(width, height) as page:
        _open(page, f"{app_url}/settings?lang={lang}", translate(lang, "page.settings.title"))
        _fits_across(page)
        expect(page.get_by_text(translate(lang, "settings.checks"), exact=True)).to_be_visible()
        _shot(page, f"{tag}_1_engine")
        card = page.locator(".st-key-provider-card-aidge")
        expect(card).to_contain_text("Aidge")
        test = card.get_by_role("button", name=translate(lang, "settings.test_connection"))
        _action(page, _heading(page, translate(lang, "settings.providers_title")), test)
        _shot(page, f"{tag}_2_providers")
        calls = len(emulator.requests)
        test.click()
        result = card.locator('[data-testid="stAlertContentSuccess"]')
        expect(result).to_be_visible(timeout=30_000)
        assert len(emulator.requests) == calls + 1
        connected = re.split(r"[(（]", translate(lang, "settings.test_ok", ms="", message=""))[0].strip()
        expect(result).to_contain_text(connected)
        if lang == "zh":  # the vendor's "signed in" sentence in the interface language too
            expect(result).not_to_contain_text("Signed in")
        _settled(page)
        _to_top(page, card)
        _shot(page, f"{tag}_3_connected")
        hosting = page.locator(".st-key-hosting-card")
        expect(hosting.get_by_text(translate(lang, "settings.hosting_none"))).to_be_visible()
        _to_top(page, _heading(page, translate(lang, "settings.hosting_title")))
        _fits_across(page)
        _shot(page, f"{tag}_4_hosting")


# ------------------------------------------------------------------ Virtual model
@_sizes()
@pytest.mark.parametrize("lang", LANGUAGES)
def test_virtual_model_upload_choose_generate_and_see_it_large(
    app_url: str, lang: str, viewport: tuple[int, int], tmp_path: Path
) -> None:
    width, height = viewport
    tag = f"model_{width}x{height}_{lang}"
    with browser_page(width, height) as page:
        _open(page, f"{app_url}/virtual_model?lang={lang}", translate(lang, "page.model.title"))
        _fits_across(page)
        _shot(page, f"{tag}_1_start")
        photo = tmp_path / "garment.png"
        photo.write_bytes(product_photo((640, 960)))
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))
        expect(page.get_by_text("640 × 960").first).to_be_visible(timeout=60_000)
        _settled(page)
        model = translate(lang, "opt.model.universal_model_2")
        page.locator('[data-testid="stRadio"] label').filter(has_text=model).click()
        _settled(page)
        expect(page.get_by_role("radio", name=model, exact=True)).to_be_checked()
        generate = page.get_by_role("button", name=translate(lang, "generate.button"))
        step = _heading(
            page, translate(lang, "step.heading", number=2, title=translate(lang, "step.model_options"))
        )
        _action(page, step, generate)
        _shot(page, f"{tag}_2_ready")
        generate.click()
        expect(page.get_by_text(translate(lang, "first_hour.viewer.title"), exact=True)).to_be_visible(
            timeout=JOB_TIMEOUT_MS
        )
        _settled(page)
        viewer = page.locator('[class*="st-key-"][class*="-viewer-"]').first
        _to_top(page, viewer)
        _fits_across(page)
        # The result is shown large, and whole: the portrait picture (768x1152) as tall as the
        # viewer allows (600 px), within the window's height, so no part is off screen.
        sizes = page.evaluate(
            """() => Array.from(document.querySelectorAll('[class*="-viewer-"] [data-testid="stImage"] img'))
                 .map(img => [img.getBoundingClientRect().width, img.getBoundingClientRect().height])"""
        )
        assert sizes, "no result image in the viewer"
        shown_w, shown_h = max(sizes, key=lambda size: size[1])
        assert shown_h >= 0.55 * height and shown_h <= height and shown_w >= 300, sizes
        _shot(page, f"{tag}_3_result")


@_sizes()
def test_virtual_model_without_a_provider_says_what_to_do_and_links_to_settings(
    bare_app_url: str, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    with browser_page(width, height) as page:
        for lang in LANGUAGES:
            _open(page, f"{bare_app_url}/virtual_model?lang={lang}", translate(lang, "page.model.title"))
            expect(page.get_by_text(translate(lang, "model.needs_provider"))).to_be_visible()
            link = page.get_by_role("link", name=translate(lang, "model.to_settings"))
            _action(page, _heading(page, translate(lang, "page.model.title")), link)
            _shot(page, f"model_none_{width}x{height}_{lang}")
            link.click()
            expect(page.get_by_role("heading", name=translate(lang, "page.settings.title"))).to_be_visible(
                timeout=30_000
            )
