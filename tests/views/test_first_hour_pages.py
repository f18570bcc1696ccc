"""Issue 18's first hour on Virtual model, Settings and My backdrops, as page tests: what the browser
screenshots (tests/e2e/test_first_hour_pages_browser.py) showed wrong, each fix held in place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.i18n import translate
from studio.service import Studio
from tests.backdrop_photos import backdrop_photo
from tests.emulators.aidge import AidgeEmulator
from tests.views.conftest import open_app, texts
from tests.views.review_helpers import finished_batch
from tests.views.test_backdrops_page import add
from ui import backdrop_views
from ui.plain import shown as rendered
from ui.services import get_studio

KEY, SECRET = "first-hour-page-key", "first-hour-page-secret-0123456789"


@pytest.fixture
def emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(KEY, SECRET) as running:
        yield running


@pytest.fixture
def aidge_studio(data_dir: Path, emulator: AidgeEmulator, monkeypatch: pytest.MonkeyPatch) -> Studio:
    """The app's cached Studio, built after the AIDGE_* variables point at the emulator."""
    monkeypatch.setenv("AIDGE_ACCESS_KEY_NAME", KEY)
    monkeypatch.setenv("AIDGE_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.setenv("AIDGE_API_BASE", emulator.base_url)
    monkeypatch.setenv("STUDIO_ALLOW_PRIVATE_LINKS", "true")
    monkeypatch.setenv("AIDGE_TRIAL", "false")
    return get_studio()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_virtual_model_asks_for_a_worn_garment_and_generate_sits_under_the_options(
    aidge_studio: Studio, lang: str
) -> None:
    at = open_app("views/virtual_model.py", lang=lang)
    assert not at.exception
    page = texts(at)
    # The samples are products (a mug, a serum bottle): none can go on a virtual model.
    assert translate(lang, "first_hour.sample.title") not in page
    assert not [button for button in at.button if button.key and ".sample." in button.key]
    # What it needs is a photo of a person wearing the garment, not a flat-lay.
    assert translate(lang, "first_hour_c.model.what") in page
    uploader = at.get("file_uploader")
    assert [u.proto.label for u in uploader] == [translate(lang, "first_hour_c.model.upload")]
    # The four models side by side, so Generate (right under the options) stays in view.
    assert at.radio(key=f"model.model.{lang}").proto.horizontal
    generate = at.button(key="model.generate")
    assert generate.disabled
    assert translate(lang, "reason.no_photo") in page


def test_the_connection_test_says_connected_in_chinese(aidge_studio: Studio, emulator: AidgeEmulator) -> None:
    at = open_app("views/settings.py", lang="zh")
    at.button(key="settings.test.button.aidge").click().run()
    assert not at.exception
    (success,) = at.success
    message = rendered(success.value)
    assert message.startswith("连接成功（")
    assert translate("zh", "vendor.aidge._connected", endpoint=emulator.base_url, count=1) in message
    assert "Signed in" not in message


def test_the_providers_table_leaves_the_long_missing_names_to_the_cards(data_dir: Path) -> None:
    at = open_app("views/settings.py")
    assert not at.exception
    frame = at.dataframe[0]
    # Still in the data (and the table's tooltip-free overview), not drawn as a column.
    assert "missing" in frame.value.columns
    config = json.loads(frame.proto.columns)
    assert config["missing"] == {"hidden": True}
    assert "TENCENTCLOUD_SECRET_ID" in texts(at)  # the Tencent card names what is missing


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_added_backdrop_says_where_to_use_it(studio: Studio, lang: str) -> None:
    at = add(
        open_app("views/backdrops.py", lang=lang),
        [("marble.jpg", backdrop_photo())],
        name="White marble slab",
        tags="marble, 大理石",
    )
    # The editor opens on the new backdrop, with a link to each page that puts a product on it
    # (the prompt page is the app's default page: its link has no name of its own).
    links = {link.proto.page: link.label for link in at.page_link}
    assert links == {
        "scene_background": translate(lang, "first_hour_c.backdrops.use_scene"),
        "": translate(lang, "first_hour_c.backdrops.use_prompt", tag="marble"),
    }


def test_an_untagged_backdrop_is_offered_to_the_prompt_page_by_choice(studio: Studio) -> None:
    at = add(open_app("views/backdrops.py"), [("slab.jpg", backdrop_photo())], name="Slab")
    labels = [link.label for link in at.page_link]
    assert translate("en", "first_hour_c.backdrops.use_prompt_untagged") in labels


def test_the_review_scoreboard_leaves_out_failed_jobs_when_none_failed(studio: Studio) -> None:
    finished_batch(studio, ("MUG-A",), count=1)
    at = open_app("views/review.py")
    assert not at.exception
    board = at.dataframe[0].value
    # Eight columns fit a 1280 px window; a column of zeros would push the check's column off it.
    assert translate("en", "review.col.failed") not in board.columns
    assert list(board.columns[:2]) == [
        translate("en", "review.col.provider"),
        translate("en", "review.col.images"),
    ]
    assert translate("en", "review_checks.col.flagged") in board.columns


def test_added_stays_on_screen_through_the_reruns_that_follow(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = add(open_app("views/backdrops.py"), [("marble.jpg", backdrop_photo())], name="Slab")
    done = [translate("en", "backdrops.add.done", count=1)]
    assert [s.value for s in at.success] == done
    at.run()  # what the editor's canvas does as it mounts in the browser
    assert [s.value for s in at.success] == done
    monkeypatch.setattr(backdrop_views, "FLASH_SECONDS", -1.0)  # the seconds have passed
    at.run()
    assert not at.success
    # The next action's news replaces the message already read.
    monkeypatch.setattr(backdrop_views, "FLASH_SECONDS", 60.0)
    at.button(key="backdrops.save").click().run()
    assert [s.value for s in at.success] == [translate("en", "backdrops.edit.saved", name="Slab")]
