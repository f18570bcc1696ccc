"""Team deployment pages: the app without its own worker (STUDIO_APP_WORKER=false), and History
showing a job whose files live in a shared S3 bucket (moto on 127.0.0.1), not on the app's disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.base import Operation
from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import JobRequest, Studio
from tests.s3_loopback import FAKE_SECRET, moto_endpoint, s3_env
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo
from ui.services import get_studio

__all__ = ["moto_endpoint", "s3_env"]  # fixtures


def test_app_worker_false_starts_no_worker_and_says_so(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_APP_WORKER", "false")
    at = open_app()
    assert not at.exception
    assert not get_studio().worker.is_alive, "jobs are left to `python -m studio worker`"
    assert translate("en", "team.separate_workers") in texts(at)
    at = open_app(lang="zh")
    assert translate("zh", "team.separate_workers") in texts(at)


def test_the_app_runs_its_worker_by_default(data_dir: Path) -> None:
    at = open_app()
    assert not at.exception
    assert get_studio().worker.is_alive
    assert translate("en", "team.separate_workers") not in texts(at)


def test_history_shows_a_job_whose_files_are_in_the_bucket(
    data_dir: Path, s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_APP_WORKER", "false")
    seeder = Studio(worker_threads=0)  # a worker elsewhere, sharing the database and the bucket
    try:
        image = seeder.prepare_image(product_photo((320, 260)), "mug.png")
        job_id = seeder.submit_job(
            JobRequest(
                Operation.PROMPT_BACKGROUND, "local", image, prompt="white marble", count=2, size=(256, 256)
            )
        )
        seeder.run_pending()
        assert seeder.get_job(job_id).status == JobStatus.SUCCEEDED  # type: ignore[union-attr]
    finally:
        seeder.close()
    assert not (data_dir / "jobs").exists(), "the job's files are only in the bucket"

    at = open_app("views/history.py")
    assert not at.exception
    table = at.dataframe(key="history.table").value
    assert table.iloc[0]["job_id"] == job_id
    assert str(table.iloc[0]["thumbnail"]).startswith("data:image/jpeg;base64,")

    at.session_state["history.table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert translate("en", "gallery.missing_file") not in texts(at)
    captions = [caption for image in at.image for caption in image.captions]
    assert {"Photo", "Mask used"} <= set(captions)
    assert [c for c in captions if c.startswith("Variant")] == [
        "Variant 1 · 256 × 256",
        "Variant 2 · 256 × 256",
    ]


def test_settings_page_names_the_bucket_and_the_separate_workers(
    data_dir: Path, s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_APP_WORKER", "false")
    at = open_app("views/settings.py")
    assert not at.exception
    page = texts(at)
    bucket = s3_env["STUDIO_STORAGE"].removeprefix("s3://")
    assert f"s3://{bucket}/" in page and translate("en", "team.file_storage") in page
    assert translate("en", "team.separate_workers") in page
    assert translate("en", "settings.worker_stopped") not in page
    assert FAKE_SECRET not in page
