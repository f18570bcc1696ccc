"""End to end batch: upload product images in Chromium, check and start a batch on the local engine,
watch it finish, approve variants with the keyboard on the Review page, build and download the ZIP,
and check what is in it. Screenshots: tests/e2e/screenshots/batch_*.png."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.harness import SHOTS, browser_page, running_app, wait_idle
from tests.views.photos import product_photo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def batch_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory, "batch") as app:
        yield app.url


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with browser_page(1440, 1500) as tab:
        yield tab


def test_run_a_batch_approve_with_the_keyboard_and_download_the_zip(
    batch_app: str, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{batch_app}/batches?lang=en")
    expect(page.get_by_role("heading", name="Batches")).to_be_visible(timeout=60_000)
    photos = []
    for name in ("MUG-RED", "MUG-BIG"):
        path = tmp_path / f"{name}.png"
        path.write_bytes(product_photo((640, 520)))
        photos.append(str(path))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(photos)
    page.get_by_label("Description (for rows without one)").fill("white marble, soft light")
    page.get_by_label("Description (for rows without one)").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_text("items ready")).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "batch_01_checked.png"), full_page=True)
    page.get_by_role("button", name="Start the batch (2 items)").click()
    expect(page.get_by_text("Started.")).to_be_visible(timeout=30_000)

    page.get_by_role("tab", name="Progress").click()
    expect(page.get_by_text("· Finished").first).to_be_visible(timeout=120_000)
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "batch_02_progress.png"), full_page=True)

    page.get_by_role("link", name="Review", exact=True).click()
    expect(page.get_by_role("heading", name="One by one")).to_be_visible(timeout=30_000)
    wait_idle(page)
    # Keyboard review of the not-yet-reviewed images: A approves, X rejects; each decided image
    # leaves the list and the next one takes its place.
    page.get_by_role("heading", name="One by one").click()
    expect(page.get_by_text("1 / 4", exact=True)).to_be_visible()
    for key, position in (("a", "1 / 3"), ("a", "1 / 2"), ("x", "1 / 1")):
        page.keyboard.press(key)
        expect(page.get_by_text(position, exact=True)).to_be_visible(timeout=30_000)
        wait_idle(page)
    page.screenshot(path=str(SHOTS / "batch_03_review.png"), full_page=True)

    page.get_by_role("button", name="Build the ZIP").scroll_into_view_if_needed()
    page.get_by_role("button", name="Build the ZIP").click()
    expect(page.get_by_text("images ready, with export.csv")).to_be_visible(timeout=120_000)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the ZIP").click()
    archive_path = tmp_path / "export.zip"
    download_info.value.save_as(archive_path)
    page.screenshot(path=str(SHOTS / "batch_04_export.png"), full_page=True)

    with zipfile.ZipFile(archive_path) as archive:
        names = sorted(archive.namelist())
        images = [name for name in names if name != "export.csv"]
        assert "export.csv" in names and len(images) == 2, names
        rows = list(csv.DictReader(io.StringIO(archive.read("export.csv").decode("utf-8-sig"))))
        assert sorted(row["file"] for row in rows) == images
        assert {row["preset"] for row in rows} == {"amazon"}
        for name in images:
            assert name.split("_")[0] in {"MUG-RED", "MUG-BIG"}
            picture = Image.open(io.BytesIO(archive.read(name)))
            assert picture.format == "JPEG" and picture.width == picture.height >= 1600
            assert picture.convert("RGB").getpixel((2, 2)) == (255, 255, 255)
