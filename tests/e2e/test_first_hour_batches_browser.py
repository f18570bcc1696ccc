"""Issue 18, part B in Chromium, at 1440x900 and 1280x720, in English and Chinese: a small local-engine
batch from a manifest lands on its progress with thumbnails (a double click starts it once), a
History job's details read as labelled values, and the mask editor opens a wide canvas.
Screenshots: /tmp/shots_first_b/ (looked at by hand, too)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from studio.i18n import translate
from tests.e2e.harness import JOB_TIMEOUT_MS, browser_page, running_app, wait_idle
from tests.views.photos import product_photo

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("FIRST_B_SHOTS", "/tmp/shots_first_b"))
SIZES = [(1440, 900), (1280, 720)]
LANGS = ["en", "zh"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_app(tmp_path_factory, "first-b") as running:
        yield running.url, running.data_dir


@pytest.fixture(params=SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def page(request: pytest.FixtureRequest) -> Iterator[Page]:
    width, height = request.param
    with browser_page(width, height) as tab:
        yield tab


def _shot(page: Page, name: str) -> None:
    size = page.viewport_size or {"width": 0, "height": 0}
    page.screenshot(path=str(SHOTS / f"{name}_{size['width']}x{size['height']}.png"))


def _manifest(folder: Path, tag: str) -> list[str]:
    names = [f"{tag}-mug-{n}.png" for n in (1, 2)]
    for name in names:
        (folder / name).write_bytes(product_photo((480, 400)))
    rows = ["sku,image,workflow,provider,scene,count"]
    rows += [f"{name[:-4].upper()},{name},scene_background,local,oak-tabletop,2" for name in names]
    manifest = folder / f"{tag}.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return [str(manifest), *(str(folder / name) for name in names)]


def _label(lang: str, key: str, **params: object) -> str:
    return translate(lang, key, **params)


@pytest.mark.parametrize("lang", LANGS)
def test_a_manifest_batch_lands_on_its_progress_with_thumbnails(
    app: tuple[str, Path], page: Page, lang: str, tmp_path: Path
) -> None:
    url, _ = app
    size = page.viewport_size or {"width": 0}
    tag = f"{lang}{size['width']}"
    page.goto(f"{url}/batches?lang={lang}")
    expect(page.get_by_role("heading", name=_label(lang, "page.batch.title"))).to_be_visible(timeout=60_000)
    wait_idle(page)
    # The form speaks plainly: a scene picker by name and "Images per product" without a magic 0.
    expect(page.get_by_text(_label(lang, "first_hour_b.count"), exact=True)).to_be_visible()
    expect(page.get_by_text(_label(lang, "first_hour_b.scene"), exact=True)).to_be_visible()
    page.get_by_text(_label(lang, "batch.source.manifest"), exact=True).click()
    wait_idle(page)
    # The manifest's own uploader (the images one it replaces may still be on the page a moment).
    uploader = page.locator('[data-testid="stFileUploader"]').filter(
        has_text=_label(lang, "batch.upload.manifest")
    )
    expect(uploader).to_be_visible(timeout=30_000)
    uploader.locator('input[type="file"]').set_input_files(_manifest(tmp_path, tag))
    wait_idle(page)
    check = page.get_by_role("button", name=_label(lang, "batch.check"))
    expect(check).to_be_enabled(timeout=60_000)  # the upload has reached the app
    _shot(page, f"batch_00_uploaded_{lang}")
    check.click()
    start = page.get_by_role("button", name=_label(lang, "batch.start", count=2))
    expect(start).to_be_visible(timeout=60_000)
    wait_idle(page)
    _shot(page, f"batch_01_checked_{lang}")
    start.dblclick()  # an impatient double click must not start two batches

    progress_tab = page.get_by_role("tab", name=_label(lang, "batch.tab.runs"))
    expect(progress_tab).to_have_attribute("aria-selected", "true", timeout=30_000)
    expect(page.get_by_text(_label(lang, "first_hour_b.started"))).to_be_visible()
    thumbs = page.locator(".st-key-batch-thumbs img")
    expect(thumbs).to_have_count(2, timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_text(_label(lang, "first_hour_b.thumbs_title", count=2).strip("*"))).to_be_visible()
    wait_idle(page)
    _shot(page, f"batch_02_progress_{lang}")
    page.get_by_role("tab", name=_label(lang, "batch.tab.new")).click()
    wait_idle(page)
    expect(page.get_by_role("button", name=_label(lang, "batch.start", count=2))).to_have_count(0)
    page.get_by_role("tab", name=_label(lang, "batch.tab.runs")).click()
    wait_idle(page)
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text=_label(lang, "batch.pick"))
    picker.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    started_here = [text for text in options if _label(lang, "first_hour_b.batch_status.done") in text]
    assert options and len(started_here) <= len(options)
    count_before = _batches_seen.setdefault("count", 0)
    _batches_seen["count"] = len(options)
    assert len(options) == count_before + 1, f"one new batch per test, not two: {options}"


_batches_seen: dict[str, int] = {}


@pytest.mark.parametrize("lang", LANGS)
def test_history_details_are_labelled_values(app: tuple[str, Path], page: Page, lang: str) -> None:
    url, _ = app
    page.goto(f"{url}/history?lang={lang}")
    expect(page.get_by_role("heading", name=_label(lang, "page.history.title"))).to_be_visible(timeout=60_000)
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible(timeout=30_000)
    wait_idle(page)
    page.wait_for_timeout(800)
    # The first row's checkbox: the row-marker column at the grid's left, below the header row
    # (the grid paints on a canvas; History's rows are 56 px high).
    grid = table.bounding_box()
    assert grid is not None
    table.scroll_into_view_if_needed()
    grid = table.bounding_box()
    assert grid is not None
    page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 28)
    wait_idle(page)
    expect(page.get_by_role("heading", name=_label(lang, "history.detail_title"))).to_be_visible(
        timeout=30_000
    )
    size_label = _label(lang, "first_hour_b.field.scene")
    details = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=f"{size_label}:")
    if lang == "zh":
        details = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=f"{size_label}：")
    expect(details.first).to_be_visible()
    expect(page.get_by_text("null")).to_have_count(0)
    raw = page.get_by_text(_label(lang, "first_hour_b.raw_request"))
    expect(raw).to_be_visible()
    details.first.scroll_into_view_if_needed()
    wait_idle(page)
    _shot(page, f"history_details_{lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_the_mask_editor_opens_a_wide_canvas(
    app: tuple[str, Path], page: Page, lang: str, tmp_path: Path
) -> None:
    url, _ = app
    page.goto(f"{url}/?lang={lang}")
    expect(page.get_by_role("heading", name=_label(lang, "page.prompt.title"))).to_be_visible(timeout=60_000)
    photo = tmp_path / "wide-mug.png"
    photo.write_bytes(product_photo((1200, 900)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))
    wait_idle(page)
    page.get_by_text(_label(lang, "mask.mode.edit"), exact=True).click()
    canvas = page.locator("canvas.upper-canvas").first
    expect(canvas).to_be_visible(timeout=60_000)
    wait_idle(page)
    # On the page the editor spans the content width once the browser has measured it (the
    # canvas lives in the component's shadow root: Playwright's locator reaches it, a query does not).
    canvas.scroll_into_view_if_needed()
    for _ in range(60):
        measured = canvas.bounding_box()
        if measured is not None and measured["width"] >= 700:
            break
        page.wait_for_timeout(500)
    inline = canvas.bounding_box()
    width = (page.viewport_size or {"width": 0})["width"]
    assert inline is not None and inline["width"] >= 700, inline
    assert inline["x"] + inline["width"] <= width, "the page's canvas fits the window"
    page.get_by_role("button", name=_label(lang, "first_hour_b.large_open")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    large_canvas = dialog.locator("canvas.upper-canvas").first
    expect(large_canvas).to_be_visible(timeout=60_000)
    wait_idle(page)
    box = large_canvas.bounding_box()
    viewport = page.viewport_size or {"width": 0}
    assert box is not None and box["width"] >= 800, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], "the canvas fits the window"
    _shot(page, f"mask_large_{lang}")
    dialog.get_by_role("button", name=_label(lang, "first_hour_b.large_done")).click()
    expect(dialog).to_have_count(0, timeout=30_000)
