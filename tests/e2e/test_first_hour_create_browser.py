"""End to end, issue 18's first hour on the create pages, at 1440x900 and 1280x720 in English and Chinese.

The real app under `streamlit run` with only the local engine: on the scene page
a user loads a sample photo, picks a scene (the catalogue folds away and
Generate comes into view), generates and opens the result large, side by side
and at 100 %; on the prompt page they load a sample, are told what an empty
description makes, take an example description, generate and drag the
before/after slider. Screenshots of every step go to /tmp/shots_first_a/ (or
$FIRST_HOUR_SHOTS) for a human to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from studio.i18n import translate
from tests.e2e.harness import JOB_TIMEOUT_MS, browser_page, running_app, wait_idle

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("FIRST_HOUR_SHOTS", "/tmp/shots_first_a"))
VIEWPORTS = ((1440, 900), (1280, 720))
LANGUAGES = ("en", "zh")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory, "first-hour-create") as app:
        yield app.url


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    _settled(page)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _to_top(page: Page, text: str) -> None:
    """Scroll so `text` is at the top of the window: what the user sees after scrolling to it."""
    page.get_by_text(text, exact=True).first.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)


def _viewer_to_top(page: Page) -> None:
    """Scroll the result viewer's image to the top of the window."""
    view = page.locator('[class*="st-key-"][class*="-viewer-"]').first
    view.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)


def _in_view(page: Page, name: str) -> bool:
    """Whether the (first) button called `name` is inside the window as it is scrolled now."""
    box = page.get_by_role("button", name=name).first.bounding_box()
    size = page.viewport_size
    return (
        box is not None and size is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
    )


def _settled(page: Page) -> None:
    """Wait for the run to end and for Streamlit to stop fading what the run has not redrawn."""
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)


def _generate_and_wait(page: Page, lang: str) -> None:
    _settled(page)
    page.get_by_role("button", name=translate(lang, "generate.button")).click()
    expect(page.get_by_text(translate(lang, "first_hour.viewer.title"), exact=True)).to_be_visible(
        timeout=JOB_TIMEOUT_MS
    )
    wait_idle(page)


# What each view draws once it is there, so a screenshot never catches the previous view.
_MODE_MARKERS = {
    "side_by_side": "gallery.before",
    "slider": "first_hour.viewer.slider",
    "zoom": "first_hour.viewer.zoom_where",
}


def _mode(page: Page, lang: str, mode: str) -> None:
    page.get_by_role("radio", name=translate(lang, f"first_hour.viewer.mode.{mode}"), exact=True).click()
    expect(page.get_by_text(translate(lang, _MODE_MARKERS[mode]), exact=True).first).to_be_visible(
        timeout=60_000
    )
    wait_idle(page)
    page.wait_for_timeout(500)  # images decode after the run ends


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda size: f"{size[0]}x{size[1]}")
def test_scene_page_sample_pick_generate_and_zoom(app_url: str, lang: str, viewport: tuple[int, int]) -> None:
    width, height = viewport
    tag = f"scene_{width}x{height}_{lang}"
    with browser_page(width, height) as page:
        page.goto(f"{app_url}/scene_background?lang={lang}")
        expect(page.get_by_role("heading", name=translate(lang, "page.scene.title"))).to_be_visible(
            timeout=60_000
        )
        wait_idle(page)
        expect(page.get_by_text(translate(lang, "first_hour.sample.title"))).to_be_visible()
        _shot(page, f"{tag}_1_start")
        page.get_by_role("button", name=translate(lang, "first_hour.sample.use")).nth(1).click()  # the mug
        expect(page.get_by_text("ceramic-mug.jpg").first).to_be_visible(timeout=60_000)
        wait_idle(page)
        page.get_by_role("button", name=translate(lang, "scene.select"), exact=True).nth(1).click()
        change = page.get_by_role("button", name=translate(lang, "first_hour.scene.change"))
        expect(change).to_be_visible(timeout=60_000)
        wait_idle(page)
        # The catalogue folded: no card is left, and Generate is reachable right below the choice.
        expect(page.get_by_role("button", name=translate(lang, "scene.select"), exact=True)).to_have_count(0)
        _to_top(page, translate(lang, "step.heading", number=3, title=translate(lang, "step.scene")))
        # With the catalogue folded, the chosen scene and the Generate button share one screen.
        assert _in_view(page, translate(lang, "first_hour.scene.change"))
        assert _in_view(page, translate(lang, "generate.button"))
        _shot(page, f"{tag}_2_scene_chosen")
        _generate_and_wait(page, lang)
        _viewer_to_top(page)
        _shot(page, f"{tag}_3_result_large")
        _mode(page, lang, "side_by_side")
        _viewer_to_top(page)
        _shot(page, f"{tag}_4_before_after")
        _mode(page, lang, "zoom")
        _viewer_to_top(page)
        _shot(page, f"{tag}_5_zoom")
        # The 100 % crop is drawn at its own size: one screen pixel per image pixel.
        sizes = page.evaluate(
            """() => Array.from(document.querySelectorAll('[data-testid="stImage"] img'))
                 .map(img => [img.naturalWidth, Math.round(img.getBoundingClientRect().width)])"""
        )
        assert [440, 440] in sizes, sizes


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda size: f"{size[0]}x{size[1]}")
def test_prompt_page_sample_example_generate_and_slider(
    app_url: str, lang: str, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    tag = f"prompt_{width}x{height}_{lang}"
    with browser_page(width, height) as page:
        page.goto(f"{app_url}/?lang={lang}")
        expect(page.get_by_role("heading", name=translate(lang, "page.prompt.title"))).to_be_visible(
            timeout=60_000
        )
        wait_idle(page)
        _shot(page, f"{tag}_1_start")
        page.get_by_role("button", name=translate(lang, "first_hour.sample.use")).first.click()  # the serum
        expect(page.get_by_text("serum-bottle.jpg").first).to_be_visible(timeout=60_000)
        wait_idle(page)
        notice = page.get_by_text(translate(lang, "first_hour.prompt.empty_local"))
        expect(notice).to_be_visible()
        notice.scroll_into_view_if_needed()
        _shot(page, f"{tag}_2_empty_description")
        example = translate(lang, "first_hour.prompt.example.marble")
        page.get_by_role("radio", name=example).click()
        wait_idle(page)
        expect(page.get_by_label(translate(lang, "prompt.label"))).to_have_value(example, timeout=60_000)
        expect(notice).to_have_count(0)
        _generate_and_wait(page, lang)
        _viewer_to_top(page)
        _shot(page, f"{tag}_3_result_large")
        _mode(page, lang, "slider")
        _viewer_to_top(page)
        _shot(page, f"{tag}_4_slider")
        _mode(page, lang, "zoom")
        _viewer_to_top(page)
        _shot(page, f"{tag}_5_zoom")
