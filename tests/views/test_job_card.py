"""The job card while a job is pending, and how it changes once the store says it finished."""

from __future__ import annotations

import json
from pathlib import Path

from providers.base import Operation
from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import Studio
from studio.store import NewJob
from tests.views.conftest import open_app, texts

# No adapter is registered under this key, so no worker ever picks the job up: it stays pending.
UNSERVED = "unserved"


def _pending_job(studio: Studio) -> str:
    job_id = "b" * 32
    studio.store.create_job(
        NewJob(
            job_id=job_id,
            workflow=Operation.PROMPT_BACKGROUND,
            provider=UNSERVED,
            input_path="jobs/x/input.png",
        )
    )
    return job_id


def test_a_pending_job_shows_progress_then_its_failure(studio: Studio) -> None:
    job_id = _pending_job(studio)
    at = open_app(lang="zh")
    at.session_state["prompt.job_id"] = job_id
    at.run()
    assert not at.exception
    assert [status.label for status in at.status] == [translate("zh", "job.pending.queued")]
    assert translate("zh", "sidebar.pending", count=1) in [c.value for c in at.sidebar.caption]

    studio.store.transition(
        job_id,
        [JobStatus.QUEUED],
        JobStatus.FAILED,
        error_code="internal_error",
        error_message="Something broke.",
    )
    at.run()
    assert not at.status
    assert [error.value for error in at.error] == [translate("zh", "error.internal_error")]
    assert translate("zh", "sidebar.no_pending") in [c.value for c in at.sidebar.caption]


def test_history_says_it_refreshes_while_a_listed_job_is_pending(studio: Studio, data_dir: Path) -> None:
    _pending_job(studio)
    at = open_app("views/history.py")
    assert not at.exception
    assert translate("en", "history.refreshing", count=1) in texts(at)
    table = at.dataframe(key="history.table").value
    assert list(table["status"]) == ["Queued"] and list(table["cost"]) == ["price not set"]


def test_a_billed_job_whose_result_link_failed_says_so_and_until_when(studio: Studio) -> None:
    job_id = _pending_job(studio)
    assert studio.store.claim_next("w", studio.store.now(), 60, {UNSERVED: 1}) is not None
    expires = studio.store.now().timestamp() + 3600
    pending = {"outputs": [{"index": 1, "url": "https://x/y.jpg"}], "expires_at": expires}
    notes = json.dumps({"result_pending": pending})
    assert studio.store.transition(
        job_id,
        [JobStatus.SUBMITTING],
        JobStatus.DOWNLOADING,
        owner="w",
        cost_minor=50,
        cost_currency="CNY",
        error_code="download_pending",
        error_message="The result link answered HTTP 503; it will be tried again.",
        notes_json=notes,
    )
    for lang in ("en", "zh"):
        at = open_app(lang=lang)
        at.session_state["prompt.job_id"] = job_id
        at.run()
        assert not at.exception
        assert [status.label for status in at.status] == [translate(lang, "job.pending.downloading")]
        shown = " ".join(caption.value for caption in at.caption)
        assert "HTTP 503" in shown
        assert ("expires at" if lang == "en" else "过期") in shown

    history = open_app("views/history.py")
    table = history.dataframe(key="history.table").value
    assert list(table["status"]) == ["Result download pending"]
