"""History page: seeded jobs listed, paged and filtered in the store, details, totals, empty state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Pagination

from providers.base import Operation
from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import JobRequest, Studio
from studio.store import NewJob
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo

FAILED_JOBS = 54


@dataclass(frozen=True)
class Seeded:
    succeeded_id: str
    failed_ids: tuple[str, ...]


@pytest.fixture
def seeded(data_dir: Path) -> Seeded:
    """One real local-engine job (2 images) and 54 older failed scene jobs, written before the app starts."""
    seeder = Studio(worker_threads=0)
    try:
        image = seeder.prepare_image(product_photo((320, 260)), "mug.png")
        request = JobRequest(
            Operation.PROMPT_BACKGROUND, "local", image, prompt="white marble", count=2, size=(256, 256)
        )
        succeeded = seeder.submit_job(request)
        seeder.run_pending()
        now = seeder.store.now()
        failed = tuple(f"{index:04d}".ljust(32, "f") for index in range(FAILED_JOBS))
        seeder.store.create_jobs(
            [
                NewJob(
                    job_id=job_id,
                    workflow=Operation.SCENE_BACKGROUND,
                    provider="local",
                    input_path="jobs/gone/input.png",
                    scene_id="no-such-scene",
                    count=4,
                    created_at=now - timedelta(hours=index + 1),
                )
                for index, job_id in enumerate(failed)
            ]
        )
        for job_id in failed:
            seeder.store.transition(
                job_id,
                [JobStatus.QUEUED],
                JobStatus.FAILED,
                error_code="scene_not_found",
                error_message="There is no local scene 'no-such-scene'.",
            )
        assert seeder.get_job(succeeded).status == JobStatus.SUCCEEDED  # type: ignore[union-attr]
    finally:
        seeder.close()
    return Seeded(succeeded, failed)


def _pager(at: AppTest) -> Pagination:
    pagers = at.pagination
    assert len(pagers) == 1
    return pagers[0]


def _table(at: AppTest) -> pd.DataFrame:
    return at.dataframe(key="history.table").value


def test_history_lists_pages_and_totals_the_seeded_jobs(seeded: Seeded) -> None:
    at = open_app("views/history.py")
    assert not at.exception
    table = _table(at)
    assert len(table) == 50
    newest = table.iloc[0]
    assert newest["job_id"] == seeded.succeeded_id
    assert newest["status"] == "Succeeded" and newest["images"] == 2 and newest["cost"] == "free"
    assert newest["workflow"] == "Prompt background"
    assert str(newest["thumbnail"]).startswith("data:image/jpeg;base64,")
    assert set(table.iloc[1:]["status"]) == {"Failed"}
    assert table.iloc[1]["error"] == translate("en", "error.scene_not_found")
    assert "Page 1 of 2 · 55 jobs" in texts(at)

    totals = at.dataframe[1].value
    assert totals.to_dict("records") == [
        {
            "provider": "Local engine (offline, free)",
            "jobs": 55,
            "images": 2,
            "succeeded": 1,
            "failed": FAILED_JOBS,
            "spend": "free",
        }
    ]
    assert at.get("vega_lite_chart"), "the images-per-day chart is drawn"

    _pager(at).set_value(2).run()
    assert list(_table(at)["job_id"]) == list(seeded.failed_ids[-5:])
    assert "Page 2 of 2 · 55 jobs" in texts(at)


def test_filtering_by_status_goes_back_to_page_one(seeded: Seeded) -> None:
    at = open_app("views/history.py", lang="zh")
    _pager(at).set_value(2).run()
    at.multiselect(key="history.statuses.zh").set_value(["succeeded"]).run()
    assert not at.exception
    table = _table(at)
    assert list(table["job_id"]) == [seeded.succeeded_id]
    assert table.iloc[0]["status"] == "已完成" and table.iloc[0]["cost"] == "免费"
    assert "第 1 / 1 页 · 共 1 个任务" in texts(at)

    at.multiselect(key="history.statuses.zh").set_value(["failed"]).run()
    table = _table(at)
    assert len(table) == 50
    assert table.iloc[0]["error"] == translate("zh", "error.scene_not_found")

    at.text_input(key="history.text").input(seeded.failed_ids[3][:6]).run()
    assert list(_table(at)["job_id"]) == [seeded.failed_ids[3]]


def test_selecting_a_row_opens_the_job_details(seeded: Seeded) -> None:
    at = open_app("views/history.py")
    at.session_state["history.table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    page = texts(at)
    assert "Job details" in page
    assert "white marble" in str([element.value for element in at.json])
    captions = [caption for image in at.image for caption in image.captions]
    assert {"Photo", "Mask used"} <= set(captions)
    assert [c for c in captions if c.startswith("Variant")] == [
        "Variant 1 · 256 × 256",
        "Variant 2 · 256 × 256",
    ]
    assert "Cutout: AI model u2netp" in page


def test_empty_history_points_to_the_prompt_page(data_dir: Path) -> None:
    at = open_app("views/history.py")
    assert not at.exception
    assert [info.value for info in at.info] == [translate("en", "history.empty")]
    assert [link.label for link in at.page_link] == [translate("en", "history.empty_link")]
    assert not at.dataframe or at.dataframe[0].value.empty or "history.table" not in at.session_state
