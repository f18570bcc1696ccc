"""A failed job's vendor error reads in the chosen language, on the job card and in History.

Jobs store the vendor's code and the adapter's English sentence; the page finds
the Chinese for it. DashScope's `InvalidParameter` means two things, and the
page must tell "Model not exist." apart from a wrong parameter in Chinese too.
"""

from __future__ import annotations

from providers.base import Operation, ProviderContext
from providers.dashscope import DashScope
from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import Studio
from studio.store import NewJob
from tests.views.conftest import open_app, texts
from ui.plain import shown


def _failed_job(studio: Studio, job_id: str, code: str, message: str) -> None:
    studio.store.create_job(
        NewJob(
            job_id=job_id,
            workflow=Operation.PROMPT_BACKGROUND,
            provider="dashscope",
            input_path="jobs/x/input.png",
        )
    )
    moved = studio.store.transition(
        job_id, [JobStatus.QUEUED], JobStatus.FAILED, error_code=code, error_message=message
    )
    assert moved


def _errors() -> tuple[str, str]:
    """What the DashScope adapter says for the two meanings of InvalidParameter, in English."""
    adapter = DashScope(ProviderContext(credentials={"api_key": "sk-test"}))
    model = adapter._error("InvalidParameter", "Model not exist.", None, 400).user_message
    other = adapter._error("InvalidParameter", "n must be between 1 and 4", None, 400).user_message
    return model, other


def test_a_failed_dashscope_job_reads_in_chinese_and_model_not_exist_is_its_own_text(studio: Studio) -> None:
    studio.worker.stop()  # nothing may pick the seeded jobs up: they are failed as stored
    model, other = _errors()
    _failed_job(studio, "a" * 32, "InvalidParameter", model)
    _failed_job(studio, "b" * 32, "InvalidParameter", other + " (gave up after 3 attempts)")
    model_zh = translate("zh", "vendor.dashscope.InvalidParameter#model_not_exist", detail="Model not exist.")
    other_zh = translate("zh", "vendor.dashscope.InvalidParameter", detail="n must be between 1 and 4")
    assert model_zh != other_zh and "wanx-background-generation-v2" in model_zh

    at = open_app(lang="zh")
    at.session_state["prompt.job_id"] = "a" * 32
    at.run()
    assert not at.exception
    assert [shown(error.value) for error in at.error] == [model_zh]  # vendor text is escaped (ui.plain)

    at.switch_page("views/history.py").run()
    assert not at.exception
    table = at.dataframe(key="history.table").value
    gave_up = translate("zh", "error.gave_up", message=other_zh, attempts=3)
    assert sorted(table["error"]) == sorted([model_zh, gave_up])
    assert model not in list(table["error"])  # no English left in the Chinese page

    row = list(table["job_id"]).index("a" * 32)
    at.session_state["history.table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert model_zh in shown(texts(at))


def test_in_english_the_stored_sentence_is_shown_and_unknown_text_falls_back(studio: Studio) -> None:
    studio.worker.stop()
    model, _ = _errors()
    _failed_job(studio, "c" * 32, "InvalidParameter", model)
    _failed_job(studio, "d" * 32, "SomeNewCode", "DashScope said something new.")
    at = open_app(lang="en")
    at.session_state["prompt.job_id"] = "c" * 32
    at.run()
    assert [shown(error.value) for error in at.error] == [model]

    zh = open_app(lang="zh")
    zh.session_state["prompt.job_id"] = "d" * 32
    zh.run()
    assert [shown(error.value) for error in zh.error] == ["DashScope said something new."]
