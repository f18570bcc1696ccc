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

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.harness import SHOTS, browser_page, running_app, wait_idle
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
    env = {
        "DASHSCOPE_API_KEY": DS_KEY,
        "DASHSCOPE_BASE_URL": vendors.dashscope.api_url,
        "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
        "DASHSCOPE_POLL_INTERVAL_S": "0.2",
        "TENCENTCLOUD_SECRET_ID": TC_ID,
        "TENCENTCLOUD_SECRET_KEY": TC_KEY,
        "TENCENT_AIART_ENDPOINT": vendors.tencent.endpoint,
        "TENCENT_AIART_PROTOCOL": "http",
        "STUDIO_PUBLISH_DIR": str(vendors.publish_dir),
        "STUDIO_PUBLIC_BASE_URL": vendors.public.base_url,
    }
    with running_app(tmp_path_factory, "compare", env) as app:
        yield app.url
    for secret in (DS_KEY, TC_ID, TC_KEY):
        assert secret not in app.log.read_text(errors="replace"), "a key reached the app log"


@pytest.fixture(scope="module")
def compare_page(compare_app_url: str) -> Iterator[Page]:
    with browser_page(1440, 1300) as tab:
        yield tab


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
            wait_idle(page)
    option.click()
    # While the list is open the rest of the page is hidden from the accessibility tree.
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(
        page.get_by_role("button", name=f"Compare on {count} provider{'' if count == 1 else 's'}")
    ).to_be_visible(timeout=15_000)
    wait_idle(page)


def test_compare_local_dashscope_and_tencent_in_the_browser(
    compare_app_url: str, compare_page: Page, vendors: Vendors, tmp_path: Path
) -> None:
    page = compare_page
    page.goto(f"{compare_app_url}/?lang=en")
    expect(page.get_by_role("heading", name="Prompt background")).to_be_visible(timeout=60_000)
    wait_idle(page)

    photo = tmp_path / "red-mug.png"
    photo.write_bytes(product_photo((640, 520)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(photo))
    expect(page.get_by_text("Cutout by:")).to_be_visible(timeout=60_000)
    prompt = page.get_by_label("Describe the background (English or 中文)")
    prompt.fill("white marble, soft light")
    prompt.press("Control+Enter")
    expect(page.get_by_text("Words used:")).to_be_visible()
    wait_idle(page)

    # Open "Compare providers" and choose the three providers, one by one.
    page.get_by_text("Compare providers", exact=True).click()
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Providers to compare")
    expect(picker).to_be_visible()
    # All configured providers are preselected: start from none, as a user choosing would.
    picker.get_by_role("button", name="Clear all").click()
    expect(page.get_by_role("button", name="Compare on 0 providers")).to_be_disabled()
    wait_idle(page)
    for count, key in enumerate(("local", "dashscope", "tencent_aiart"), 1):
        _choose(page, picker, key, count)
    for key in ("local", "dashscope", "tencent_aiart"):
        expect(picker.get_by_text(LABELS[key])).to_be_visible()
    button = page.get_by_role("button", name="Compare on 3 providers")
    expect(button).to_be_enabled()
    # Hosting is configured: no "needs hosting" warning for Tencent.
    expect(page.get_by_text("no input hosting is set up")).to_have_count(0)
    wait_idle(page)
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
    wait_idle(page)

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
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "compare_after.png"))

    # What reached the vendors, and the published photo is gone again.
    assert [call.outcome for call in vendors.dashscope.calls("submit")] == ["ok"]
    assert [call.outcome for call in vendors.tencent.requests] == ["ok"]
    assert vendors.public.gets  # Tencent fetched the photo from the published folder
    assert list(vendors.publish_dir.iterdir()) == []
