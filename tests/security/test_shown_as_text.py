"""Text that is not ours is shown as text: a SKU, a batch name or a vendor's error message that
looks like markdown, HTML, LaTeX, a Streamlit directive or a link renders literally (AppTest).

AppTest hands back the markdown source an element renders. `ui.plain.plain` escapes every
markdown character with a backslash and breaks Streamlit's text-level patterns (emoji
shortcodes, `:material/`, bare links, e-mail addresses) with an invisible word joiner, so the
checks are: what the source reads as (`shown`) is the user's text to the letter, and no
markdown character of it is left unescaped.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from providers.base import Operation
from providers.errors import InputRejectedError
from studio.jobs import JobStatus
from studio.service import JobRequest, Studio
from studio.store import NewBatch, NewJob
from tests.views.conftest import RUN_TIMEOUT_S, open_app
from tests.views.conftest import data_dir as data_dir  # noqa: F401  (the page tests' fixture)
from tests.views.photos import product_photo
from ui.plain import JOINER, plain, shown

SKU = "[click](http://evil.example)"
BATCH_NAME = "**bold** <b>x</b> :red[x] $x$"
VENDOR_MESSAGE = (
    "Rejected: read [the rules](http://evil.example/rules) or www.evil.example, ask a@evil.example"
)
FILE_NAME = "_photo_ `v2` ~old~ :material/home: :smile:.png"
HOSTILE = (SKU, BATCH_NAME, VENDOR_MESSAGE, FILE_NAME)

# Markdown characters `plain` escapes wherever they are.
_SPECIAL = set("\\`*_[]<>|~$&:")


def assert_literal(markdown: str, text: str) -> None:
    """`markdown` holds `text` so that it renders as exactly those characters."""
    assert text in shown(markdown), (markdown, text)
    escaped = plain(text)
    assert escaped in markdown, (markdown, escaped)
    # In the escaped value every special character is preceded by a backslash...
    for index, char in enumerate(escaped):
        if char in _SPECIAL and char != "\\":
            backslashes = len(escaped[:index]) - len(escaped[:index].rstrip("\\"))
            assert backslashes % 2 == 1, (escaped, index)
    # ...and no link, directive, shortcode or mail address is left whole.
    assert "](" not in escaped.replace("\\](", "")
    assert not re.search(r"https?://", escaped.replace(JOINER, "").replace("\\:", "\x00"))
    assert not re.search(r"(?<![\w\u2060])www\.", escaped)
    assert not re.search(r":[\w+-]+:", escaped.replace("\\:", "\x00"))


# ------------------------------------------------------------------ the helper itself
@pytest.mark.parametrize("text", HOSTILE)
def test_plain_escapes_so_the_text_reads_back_exactly(text: str) -> None:
    assert shown(plain(text)) == text
    assert_literal(plain(text), text)


def test_plain_starts_no_block_and_keeps_ordinary_text() -> None:
    assert plain("# title") == "\\# title"
    assert plain("- item") == "\\- item"
    assert plain("1. first") == "1\\. first"
    assert plain("line one\nline two") == "line one line two"
    assert plain("连衣裙 red 2024-05") == "连衣裙 red 2024-05"
    assert plain(None) == ""


# ------------------------------------------------------------------ pages
@pytest.fixture
def seeded(data_dir: Path) -> Iterator[dict[str, str]]:  # noqa: F811
    """A finished batch named BATCH_NAME holding a product with SKU (one image), and a failed job
    whose vendor message carries a link, written before the app starts."""
    seeder = Studio(worker_threads=0)
    try:
        image = seeder.prepare_image(product_photo((320, 260)), "mug.png")
        request = JobRequest(
            Operation.PROMPT_BACKGROUND, "local", image, prompt="white marble", count=1, size=(256, 256)
        )
        batch_id = uuid.uuid4().hex
        new = seeder.persist_checked(request, seeder.check_job(request), batch_id=batch_id, sku=SKU)
        seeder.store.create_batch(NewBatch(batch_id=batch_id, name=BATCH_NAME), [new])
        seeder.run_pending()
        failed_id = uuid.uuid4().hex
        seeder.store.create_job(
            NewJob(
                job_id=failed_id,
                workflow=Operation.SCENE_BACKGROUND,
                provider="local",
                input_path="jobs/gone/input.png",
                scene_id="studio",
                created_at=seeder.store.now(),
            )
        )
        seeder.store.transition(
            failed_id,
            [JobStatus.QUEUED],
            JobStatus.FAILED,
            error_code="vendor_said_no",
            error_message=VENDOR_MESSAGE,
        )
        yield {"batch_id": batch_id, "failed_id": failed_id}
    finally:
        seeder.close()


def _markdown_sources(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "error", "warning", "info", "success", "subheader", "header", "title")
    return [str(element.value) for kind in kinds for element in getattr(at, kind)]


def _holding(at: AppTest, text: str) -> list[str]:
    return [source for source in _markdown_sources(at) if text in shown(source)]


def test_review_page_shows_a_hostile_sku_as_text(seeded: dict[str, str]) -> None:
    at = open_app("views/review.py")
    assert not at.exception, at.exception
    found = _holding(at, SKU)
    assert found, _markdown_sources(at)
    for source in found:
        assert_literal(source, SKU)


def test_batches_page_shows_a_hostile_batch_name_as_text(seeded: dict[str, str]) -> None:
    at = open_app("views/batches.py")
    assert not at.exception, at.exception
    found = _holding(at, BATCH_NAME)
    assert found, _markdown_sources(at)
    for source in found:
        assert_literal(source, BATCH_NAME)
        assert "<b>" not in source and "**bold**" not in source


def test_history_details_show_a_vendor_message_with_a_link_as_text(seeded: dict[str, str]) -> None:
    at = open_app("views/history.py")
    at.session_state["history.table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    found = _holding(at, VENDOR_MESSAGE)
    assert found, _markdown_sources(at)
    for source in found:
        assert_literal(source, VENDOR_MESSAGE)


def _card_script() -> None:
    import streamlit as st

    from ui.job_views import finished_card
    from ui.services import get_studio

    studio = get_studio()
    job = studio.get_job(st.session_state["job_id"])
    assert job is not None
    finished_card(studio, job, key_prefix="card")


def test_a_failed_jobs_card_shows_the_vendor_message_as_text(seeded: dict[str, str]) -> None:
    at = AppTest.from_function(_card_script, default_timeout=RUN_TIMEOUT_S)
    at.session_state["job_id"] = seeded["failed_id"]
    at.run()
    assert not at.exception, at.exception
    assert len(at.error) == 1
    assert_literal(str(at.error[0].value), VENDOR_MESSAGE)


def test_a_vendor_error_and_a_file_name_in_an_error_are_escaped() -> None:
    from studio.service import StudioInputError
    from ui.errors import error_text

    vendor = InputRejectedError("local", "bad", VENDOR_MESSAGE)
    assert_literal(error_text(vendor), vendor.user_message)
    coded = StudioInputError("no_such_code_here", f"cannot read {FILE_NAME}", {"name": FILE_NAME})
    assert_literal(error_text(coded), f"cannot read {FILE_NAME}")
