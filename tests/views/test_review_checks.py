"""Review (AppTest) with the product check's results: a badge per image in the focus view and the
grid, the "flagged" show filter, the flagged share per provider on the scoreboard, the batch's
"reject flagged images automatically" switch, labelled grid buttons and Undo of a decision."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from studio.i18n import translate, translate_strict
from studio.jobs import ReviewState
from studio.service import Studio
from studio.store_checks import CHECK_DECIDER
from tests.views.conftest import open_app, texts
from tests.views.review_helpers import FAITHFUL, colour_shift, finished_batch, outputs, text_changed
from ui.services import get_studio


@pytest.fixture
def studio(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    # The tests write the check results themselves; the background check must not race them.
    monkeypatch.setenv("STUDIO_CHECKS", "off")
    st.cache_resource.clear()
    yield get_studio()


def reason(flag: str, **params: object) -> str:
    """What the badge says for a flag: the fidelity table's text, or this feature's own."""
    return translate_strict("en", f"fidelity.reason.{flag}", **params) or translate(
        "en", f"review_checks.reason.{flag}", **params
    )


def open_review(batch_id: str, show: str = "all", lang: str = "en") -> AppTest:
    at = open_app("views/review.py", lang=lang)
    assert not at.exception, at.exception
    at.session_state[f"review.batch.{lang}"] = batch_id
    at.session_state[f"review.show.{lang}"] = show
    at.run()
    assert not at.exception, at.exception
    return at


def checked_batch(studio: Studio) -> tuple[str, list[tuple[str, int]]]:
    """Four images: faithful, colour shifted, check failed, not checked yet (in that order)."""
    batch_id = finished_batch(studio)
    images = [(job.job_id, index) for job, index in outputs(studio, batch_id)]
    assert len(images) == 4
    studio.store.set_output_checks(*images[0], FAITHFUL, ())
    studio.store.set_output_checks(*images[1], colour_shift(9.1), ("colour_shift",))
    studio.store.set_output_checks(*images[2], {"version": 1, "error": "OSError: truncated"}, ())
    return batch_id, images


def test_every_image_shows_its_check_badge_in_the_grid_and_the_focus_view(studio: Studio) -> None:
    batch_id, _ = checked_batch(studio)
    at = open_review(batch_id)
    page = texts(at)
    for text in ("Checked", reason("colour_shift", de=9.1), "Check failed", "Not checked yet"):
        assert text in page, text
    assert reason("colour_shift", de=9.1) == "colour shifted dE 9.1" or "9.1" in reason(
        "colour_shift", de=9.1
    )
    # The focus view's first image is the faithful one: its badge is the quiet "Checked".
    badges = [str(m.value) for m in at.markdown if "badge[" in str(m.value)]
    assert len(badges) == 5, badges  # the focus view's image, then the grid's four
    assert "gray-badge" in badges[0] and "Checked" in badges[0]
    assert any("orange-badge" in badge and "dE 9.1" in badge for badge in badges)


def test_badges_speak_chinese(studio: Studio) -> None:
    batch_id, _ = checked_batch(studio)
    at = open_review(batch_id, lang="zh")
    page = texts(at)
    for key in ("review_checks.badge.checked", "review_checks.badge.failed", "review_checks.badge.unchecked"):
        assert translate("zh", key) in page
    assert "Checked" not in page and "Not checked yet" not in page


def test_the_flagged_filter_lists_only_flagged_images(studio: Studio) -> None:
    batch_id, images = checked_batch(studio)
    studio.store.set_output_checks(*images[3], text_changed(), ("text_changed",))
    at = open_review(batch_id, show="flagged")
    show = at.selectbox(key="review.show.en")
    assert "Flagged by the check" in show.options
    page = texts(at)
    assert "**1 / 2**" in page
    assert reason("colour_shift", de=9.1) in page and "Checked" not in page and "Check failed" not in page
    # The grid lists the two flagged images only: two approve buttons.
    grid = [b for b in at.button if ".grid." in str(b.key) and str(b.key).endswith(".ok")]
    assert sorted(str(b.key).split(".")[-2] for b in grid) == sorted(str(i[1]) for i in images[1::2])


def test_the_scoreboard_shows_each_providers_flagged_share(studio: Studio) -> None:
    batch_id, _ = checked_batch(studio)
    at = open_review(batch_id)
    board = at.dataframe[0].value
    assert int(board.iloc[0, 1]) == 4  # images: the column other tests read stays in place
    # Three images were checked (the failed check counts as checked, with nothing found), one flagged.
    assert list(board["Flagged by the check"]) == ["1 of 3 flagged"]


def test_the_owner_turns_on_auto_reject_and_is_told_how_many_were_rejected(studio: Studio) -> None:
    batch_id, images = checked_batch(studio)
    studio.store.set_output_checks(*images[3], text_changed(), ("text_changed",))
    # Someone approved the text-changed image already: the switch never overrides a person.
    studio.batches.review(images[3][0], images[3][1], decision=ReviewState.APPROVED)
    at = open_review(batch_id)
    switch = at.toggle(key=f"review.reject_flagged.{batch_id}")
    assert switch.label == "Reject flagged images automatically" and not switch.value
    switch.set_value(True).run()
    assert not at.exception, at.exception
    batch = studio.batches.get(batch_id)
    assert batch is not None and batch.rejects_flagged
    decided = {(job.job_id, o.index): o for job in studio.batches.jobs(batch_id) for o in job.outputs}
    assert decided[images[1]].review == "rejected" and decided[images[1]].decided_by == CHECK_DECIDER
    assert decided[images[3]].review == "approved"
    assert decided[images[0]].review is None
    page = texts(at)
    assert "Rejected 1 flagged image that nobody had reviewed." in page
    captions = [caption for image in at.get("image") for caption in image.captions]  # type: ignore[union-attr]
    assert any("rejected by the product check" in caption for caption in captions), captions
    at.toggle(key=f"review.reject_flagged.{batch_id}").set_value(False).run()
    batch = studio.batches.get(batch_id)
    assert batch is not None and not batch.rejects_flagged
    assert translate("en", "review_checks.auto_reject_off") in texts(at)


def test_approving_shows_where_the_image_went_and_undo_puts_it_back(studio: Studio) -> None:
    batch_id = finished_batch(studio)
    at = open_review(batch_id, show="unreviewed")
    assert "**1 / 4**" in texts(at)
    at.button(key=f"review.{batch_id}.unreviewed.next").click().run()
    at.button(key=f"review.{batch_id}.unreviewed.approve").click().run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "**2 / 3**" in page
    assert "Approved MUG-A · " in page and "It is no longer under “Not reviewed”." in page
    undo = at.button(key=f"review.{batch_id}.undo")
    assert undo.label == "Undo"
    undo.click().run()
    assert not at.exception, at.exception
    assert all(o.review is None for job in studio.batches.jobs(batch_id) for o in job.outputs)
    page = texts(at)
    assert "**2 / 4**" in page  # the undone image is back in view where it was
    assert "is back to “Not reviewed”" in page
    assert not any(b.key == f"review.{batch_id}.undo" for b in at.button)


def test_grid_buttons_are_labelled_and_a_second_click_clears_the_decision(studio: Studio) -> None:
    batch_id = finished_batch(studio)
    at = open_review(batch_id)
    job, index = outputs(studio, batch_id)[0]
    base = f"review.{batch_id}.grid.{job.job_id}.{index}"
    assert at.button(key=f"{base}.ok").label == "Approve"
    assert at.button(key=f"{base}.no").label == "Reject"
    assert at.button(key=f"{base}.fav").label == "Favourite"
    at.button(key=f"{base}.no").click().run()
    assert studio.batches.jobs(batch_id)[0].outputs[0].review == "rejected"
    assert at.button(key=f"{base}.no").proto.type == "primary"  # the current decision stands out
    assert "Rejected MUG-A" in texts(at)
    at.button(key=f"{base}.no").click().run()
    assert studio.batches.jobs(batch_id)[0].outputs[0].review is None
    at.button(key=f"{base}.ok").click().run()
    at.button(key=f"review.{batch_id}.undo").click().run()
    assert studio.batches.jobs(batch_id)[0].outputs[0].review is None
