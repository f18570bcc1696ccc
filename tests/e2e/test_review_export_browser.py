"""End to end Review and export gate: a batch of three approved images, one of them with a sale
banner on its background that no Taobao export can take away. In Chromium the check before
export lists it, the export without the override leaves it out (and says why), the export with
the override includes it. Along the way: the check badges, a grid decision and its Undo.
Screenshots at 1440x900 in English and Chinese go to /tmp/shots_review/."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from studio.jobs import ReviewState
from studio.service import open_studio
from tests.e2e.harness import browser_page, running_app, wait_idle
from tests.views.review_helpers import colour_shift, finished_batch, outputs, stamp_sale_text

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots_review")
SKUS = ("MUG-BIG", "MUG-SALE", "MUG-MID")
SIZES = ((1024, 1024), (1024, 1024), (512, 512))
# The check runs in this test, not in the app: the badges show exactly what it wrote.
APP_ENV = {"STUDIO_CHECKS": "off"}


@pytest.fixture(scope="module")
def review_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory, "review", env=APP_ENV) as app:
        _make_batch(app.data_dir)
        yield app.url


def _make_batch(data_dir: Path) -> None:
    """The batch, made by a studio of this process on the app's data folder, run to the end."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STUDIO_DATA_DIR", str(data_dir))
        env.setenv("STUDIO_CUTOUT_MODEL", "fast")
        env.setenv("STUDIO_CHECKS", "off")
        studio = open_studio()
        try:
            studio.start_worker()
            batch_id = finished_batch(studio, SKUS, count=1, side=(320, 260), sizes=SIZES)
            for job, index in outputs(studio, batch_id):
                path = job.outputs[0].path
                if job.sku == "MUG-SALE":
                    stamp_sale_text(path)
                    studio.store.set_output_checks(job.job_id, index, colour_shift(9.1), ("colour_shift",))
                else:
                    faithful = {"version": 1, "product": {"flags": [], "reasons": []}}
                    studio.store.set_output_checks(job.job_id, index, faithful, ())
                if job.sku != "MUG-MID":  # MUG-MID is approved in the browser
                    studio.batches.review(job.job_id, index, decision=ReviewState.APPROVED)
        finally:
            studio.close()


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with browser_page(1440, 900) as tab:
        yield tab


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.scroll_into_view_if_needed()
    choice = page.get_by_role("option", name=option, exact=True)
    # A selectbox that still has the focus from the last choice opens on the second click.
    for _ in range(3):
        box.click()
        try:
            choice.wait_for(state="visible", timeout=3_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    choice.click()
    wait_idle(page)


def _download(page: Page, tmp_path: Path, name: str) -> list[str]:
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the ZIP").click()
    archive_path = tmp_path / name
    download_info.value.save_as(archive_path)
    with zipfile.ZipFile(archive_path) as archive:
        return sorted(n.split("_")[0] for n in archive.namelist() if n != "export.csv")


def test_the_gate_lists_the_noncompliant_image_and_only_the_override_exports_it(
    review_app: str, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{review_app}/review?lang=en")
    expect(page.get_by_role("heading", name="One by one")).to_be_visible(timeout=60_000)
    wait_idle(page)
    # The one image not reviewed yet is the focus view's; its badge says it was checked.
    expect(page.get_by_text("1 / 1", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Checked$")).first).to_be_visible()
    _shot(page, "review_en_1_top")

    _choose(page, "Show", "All images")
    expect(page.get_by_text("dE 9.1").first).to_be_visible()
    page.get_by_role("heading", name="Products").scroll_into_view_if_needed()
    wait_idle(page)
    _shot(page, "review_en_2_grid")
    _choose(page, "Show", "Not reviewed")

    # A decision in the grid says where the image went and offers Undo; Undo puts it back.
    page.get_by_role("heading", name="Products").scroll_into_view_if_needed()
    page.locator('[data-testid="stMain"]').get_by_role("button", name="Approve", exact=True).last.click()
    expect(page.get_by_text("It is no longer under “Not reviewed”.")).to_be_visible(timeout=30_000)
    wait_idle(page)
    page.get_by_role("button", name="Undo").scroll_into_view_if_needed()
    _shot(page, "review_en_3_undo")
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("is back to “Not reviewed”")).to_be_visible(timeout=30_000)
    wait_idle(page)
    page.get_by_role("button", name="Approve Shortcut A").click()  # the focus view's Approve
    expect(page.get_by_text("No image matches the filters.")).to_be_visible(timeout=30_000)
    wait_idle(page)

    _choose(page, "Marketplace preset", "Taobao 800×800")
    page.get_by_role("button", name="Check before export").click()
    expect(page.get_by_text("1 image still breaks the Taobao 800×800 rules")).to_be_visible(timeout=120_000)
    wait_idle(page)
    page.get_by_text("Check before export", exact=True).first.scroll_into_view_if_needed()
    _shot(page, "review_en_4_gate")

    # The visible AI label needs a CJK font the studio does not pass yet (see the report); this
    # test is about the rules, so it exports without it.
    page.get_by_text("Add the visible AI label (AI生成)").click()
    wait_idle(page)
    page.get_by_role("button", name="Build the ZIP").click()
    expect(page.get_by_text("1 image left out:")).to_be_visible(timeout=120_000)
    wait_idle(page)
    page.get_by_text("1 image left out:").scroll_into_view_if_needed()
    _shot(page, "review_en_5_left_out")
    assert _download(page, tmp_path, "without.zip") == ["MUG-BIG", "MUG-MID"]

    page.get_by_text("Export images that still break the rules anyway").click()
    wait_idle(page)
    page.get_by_role("button", name="Build the ZIP").click()
    expect(page.get_by_text("3 images ready, with export.csv")).to_be_visible(timeout=120_000)
    wait_idle(page)
    assert _download(page, tmp_path, "with.zip") == sorted(SKUS)
    _shot(page, "review_en_6_override")


def test_the_chinese_review_page_and_gate(review_app: str, page: Page) -> None:
    page.goto(f"{review_app}/review?lang=zh")
    expect(page.get_by_role("heading", name="逐张审核")).to_be_visible(timeout=60_000)
    wait_idle(page)
    _choose(page, "显示", "全部图片")
    _shot(page, "review_zh_1_top")
    page.get_by_role("heading", name="商品").scroll_into_view_if_needed()
    wait_idle(page)
    _shot(page, "review_zh_2_grid")
    _choose(page, "平台规格", "淘宝 800×800")
    page.get_by_role("button", name="导出前检查").click()
    expect(page.get_by_text("有 1 张图在导出修正后仍不符合")).to_be_visible(timeout=120_000)
    wait_idle(page)
    page.get_by_text("有 1 张图在导出修正后仍不符合").scroll_into_view_if_needed()
    _shot(page, "review_zh_3_gate")
