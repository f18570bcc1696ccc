"""End to end "compare providers": the real app under `streamlit run` with DashScope and Tencent configured.

The vendors are the loopback emulators, configured through the environment the
way a deployment is; Tencent reads the photo from a link, so input hosting is a
published folder (a temporary directory served by `StaticFolder`). In Chromium a
user uploads a photo on the prompt page, describes the background, opens
"Compare providers", picks the local engine, DashScope and Tencent, and compares:
three cards side by side, each with its images, its time and its cost.
Screenshots go to tests/e2e/screenshots/compare_*.png for a human to look at.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SHOTS,
    _free_port,
    _wait_healthy,
    _wait_idle,
)
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator
from tests.views.photos import product_photo

pytestmark = pytest.mark.e2e

DS_KEY = "sk-browser-dashscope-0123456789"
TC_ID, TC_KEY = "AKIDbrowsertencent0123456", "browser-tencent-secret-1357"
JOBS_TIMEOUT_MS = 45_000
LABELS = {
    "local": "Local engine (offline, free)",
    "dashscope": "DashScope wanx background generation (Alibaba Cloud)",
    "tencent_aiart": "Tencent Cloud AI Art (ReplaceBackground)",
}
# What each card's facts line ends with: the local engine is free, DashScope 0.08 CNY x 2, Tencent unpriced.
COSTS = {"local": "free", "dashscope": "0.16 CNY", "tencent_aiart": "price not set"}
VARIANTS = {"local": 2, "dashscope": 2, "tencent_aiart": 1}


@dataclass
class Vendors:
    dashscope: DashScopeEmulator
    tencent: TencentAiartEmulator
    publish_dir: Path
    public: StaticFolder


@pytest.fixture(scope="module")
def vendors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vendors]:
    publish_dir = tmp_path_factory.mktemp("compare-public")
    public = StaticFolder(publish_dir)
    with (
        DashScopeEmulator(DS_KEY, queries_to_finish=2) as dashscope,
        TencentAiartEmulator(TC_ID, TC_KEY) as tencent,
        public,
    ):
        yield Vendors(dashscope, tencent, publish_dir, public)


@pytest.fixture(scope="module")
def compare_app_url(tmp_path_factory: pytest.TempPathFactory, vendors: Vendors) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Chromium is not installed at /usr/bin/chromium (apt-get install chromium; .ci/run does it)"
        )
    data_dir = tmp_path_factory.mktemp("compare-studio-data")
    log = tmp_path_factory.mktemp("compare-logs") / "streamlit.log"
    port = _free_port()
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DASHSCOPE_", "TENCENT", "AIDGE_", "ALIYUN_", "STUDIO_"))
    }
    env = {
        **inherited,
        "STUDIO_DATA_DIR": str(data_dir),
        "STUDIO_LANG": "en",
        "DASHSCOPE_API_KEY": DS_KEY,
        "DASHSCOPE_BASE_URL": vendors.dashscope.api_url,
        "DASHSCOPE_POLL_INTERVAL_S": "0.2",
        "TENCENTCLOUD_SECRET_ID": TC_ID,
        "TENCENTCLOUD_SECRET_KEY": TC_KEY,
        "TENCENT_AIART_ENDPOINT": vendors.tencent.endpoint,
        "TENCENT_AIART_PROTOCOL": "http",
        "STUDIO_PUBLISH_DIR": str(vendors.publish_dir),
        "STUDIO_PUBLIC_BASE_URL": vendors.public.base_url,
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        for secret in (DS_KEY, TC_ID, TC_KEY):
            assert secret not in log.read_text(errors="replace"), "a key reached the app log"


@pytest.fixture(scope="module")
def compare_page(compare_app_url: str) -> Iterator[Page]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1300}, locale="en-US")
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def _card(page: Page, key: str) -> Locator:
    """The comparison column of one provider: the column whose card names it and has a facts line."""
    return (
        page.locator('[data-testid="stColumn"]')
        .filter(has_text=LABELS[key])
        .filter(has_text=re.compile(r"took \d"))
    )


def _choose(page: Page, picker: Locator, key: str, count: int) -> None:
    """Pick one provider in the multiselect, close the list, and wait until the app counts it."""
    option = page.get_by_role("option", name=LABELS[key], exact=True)
    for _attempt in range(5):
        # A rerun that redraws the box closes a list opened meanwhile: open it again until it stays.
        picker.evaluate("(el) => el.scrollIntoView({block: 'center'})")
        picker.locator("input").first.focus()
        page.keyboard.press("ArrowDown")
        try:
            option.wait_for(state="visible", timeout=3_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            _wait_idle(page)
    option.click()
    # While the list is open the rest of the page is hidden from the accessibility tree.
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Compare on {count} providers")).to_be_visible(timeout=15_000)
    _wait_idle(page)


def test_compare_local_dashscope_and_tencent_in_the_browser(
    compare_app_url: str, compare_page: Page, vendors: Vendors, tmp_path: Path
) -> None:
    page = compare_page
    page.goto(f"{compare_app_url}/?lang=en")
    expect(page.get_by_role("heading", name="Prompt background")).to_be_visible(timeout=60_000)
    _wait_idle(page)

    photo = tmp_path / "red-mug.png"
    photo.write_bytes(product_photo((640, 520)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))
    expect(page.get_by_text("Cutout by:")).to_be_visible(timeout=60_000)
    prompt = page.get_by_label("Describe the background (English or 中文)")
    prompt.fill("white marble, soft light")
    prompt.press("Control+Enter")
    expect(page.get_by_text("Words used:")).to_be_visible()
    _wait_idle(page)

    # Open "Compare providers" and choose the three providers, one by one.
    page.get_by_text("Compare providers", exact=True).click()
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Providers to compare")
    expect(picker).to_be_visible()
    # All configured providers are preselected: start from none, as a user choosing would.
    picker.get_by_role("button", name="Clear all").click()
    expect(page.get_by_role("button", name="Compare on 0 providers")).to_be_disabled()
    _wait_idle(page)
    for count, key in enumerate(("local", "dashscope", "tencent_aiart"), 1):
        _choose(page, picker, key, count)
    for key in ("local", "dashscope", "tencent_aiart"):
        expect(picker.get_by_text(LABELS[key])).to_be_visible()
    button = page.get_by_role("button", name="Compare on 3 providers")
    expect(button).to_be_enabled()
    # Hosting is configured: no "needs hosting" warning for Tencent.
    expect(page.get_by_text("no input hosting is set up")).to_have_count(0)
    _wait_idle(page)
    picker.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "compare_before.png"))

    button.click()
    expect(page.get_by_role("heading", name="Comparison")).to_be_visible(timeout=30_000)
    for key in ("local", "dashscope", "tencent_aiart"):
        card = _card(page, key)
        expect(card).to_have_count(1, timeout=JOBS_TIMEOUT_MS)
        expect(card.get_by_text(re.compile(r"^Variant \d · "))).to_have_count(
            VARIANTS[key], timeout=JOBS_TIMEOUT_MS
        )
    _wait_idle(page)

    for key in ("local", "dashscope", "tencent_aiart"):
        card = _card(page, key)
        # Each card's results decoded in the browser.
        card.locator('[data-testid="stImage"] img').first.wait_for()
        loaded = card.evaluate(
            """(column) => Array.from(column.querySelectorAll('[data-testid="stImage"] img'))
                 .filter(img => img.complete && img.naturalWidth > 0).length"""
        )
        assert loaded == VARIANTS[key], (key, loaded)
        facts = card.get_by_text(re.compile(r"· took [\d.]+ s · ")).inner_text()
        assert COSTS[key] in facts.split(" · "), (key, facts)
        # The card's heading is not cut off in its narrow column.
        heading = card.get_by_text(LABELS[key]).first
        clipped = heading.evaluate(
            """(el) => [el, ...el.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1).length"""
        )
        assert clipped == 0, f"the card heading of {key} is cut off"

    # Three columns side by side, none empty and none overlapping.
    boxes = [_card(page, key).bounding_box() for key in ("local", "dashscope", "tencent_aiart")]
    assert all(box is not None and box["width"] > 200 and box["height"] > 200 for box in boxes), boxes
    lefts = [box["x"] for box in boxes if box is not None]
    assert lefts == sorted(lefts)
    for left, right in zip(boxes, boxes[1:], strict=False):
        assert left is not None and right is not None
        assert left["x"] + left["width"] <= right["x"] + 1, (left, right)
        assert abs(left["y"] - right["y"]) < 2

    # The page scrolls inside Streamlit's main container, so a full-page shot is no taller than the
    # window: a taller window shows the three whole cards from the "Comparison" heading down.
    page.set_viewport_size({"width": 1440, "height": 2000})
    page.get_by_role("heading", name="Comparison").evaluate("(el) => el.scrollIntoView({block: 'start'})")
    _wait_idle(page)
    page.screenshot(path=str(SHOTS / "compare_after.png"))

    # What reached the vendors, and the published photo is gone again.
    assert [call.outcome for call in vendors.dashscope.calls("submit")] == ["ok"]
    assert [call.outcome for call in vendors.tencent.requests] == ["ok"]
    assert vendors.public.gets  # Tencent fetched the photo from the published folder
    assert list(vendors.publish_dir.iterdir()) == []
