"""What leaves the studio holds no server paths and no signed links.

An export ZIP's export.csv names each source file relative to the data folder, the history CSV
says "STUDIO_DATA_DIR" where a message named the folder, and a vendor's signed result link
(OSS `Signature`/`Expires`/`OSSAccessKeyId`, COS `q-signature`, S3 `X-Amz-*`) is stored as
scheme, host and path only, once the result is fetched or lost.
"""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from pathlib import Path
from typing import ClassVar

import pytest

from imaging.marketplace import PRESETS
from providers.base import GenerationRequest, Operation, OutputImage, Submitted, TaskState, TaskUpdate
from providers.errors import ProviderUnavailableError
from studio.artifacts import Artifacts
from studio.export import DEFAULT_TEMPLATE
from studio.jobs import RESULT_NOTE, JobFilter, JobStatus, ReviewState
from studio.service import JobRequest, Studio
from studio.signed_links import without_signature
from studio.store import NewBatch, NewJob, Store
from studio.worker import Worker
from tests.studio.conftest import artifacts as artifacts  # noqa: F401  (the studio tests' fixtures)
from tests.studio.conftest import clock as clock  # noqa: F401
from tests.studio.conftest import data_dir as data_dir  # noqa: F401
from tests.studio.conftest import queue_job
from tests.studio.conftest import store as store  # noqa: F401
from tests.studio.conftest import store_url as store_url  # noqa: F401
from tests.studio.fakes import FakeClock, SyncFake, png_bytes
from tests.views.photos import product_photo

OSS = (
    "https://bucket.oss-cn-hangzhou.aliyuncs.com/results/out.png"
    "?Expires=1760000000&OSSAccessKeyId=LTAI5tSECRET&Signature=abc%2Bdef%3D"
)
COS = (
    "https://bkt-1250000000.cos.ap-guangzhou.myqcloud.com/a/b.jpg"
    "?q-sign-algorithm=sha1&q-ak=AKIDSECRET&q-sign-time=1;2&q-key-time=1;2&q-signature=0f0f"
)
S3 = (
    "https://s3.amazonaws.com/bucket/key.webp?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIASECRET%2F20250101&X-Amz-Signature=deadbeef#frag"
)
SECRETS = ("Signature", "Expires", "OSSAccessKeyId", "q-signature", "q-ak", "X-Amz", "SECRET", "sign=")


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (OSS, "https://bucket.oss-cn-hangzhou.aliyuncs.com/results/out.png"),
        (COS, "https://bkt-1250000000.cos.ap-guangzhou.myqcloud.com/a/b.jpg"),
        (S3, "https://s3.amazonaws.com/bucket/key.webp"),
        ("https://user:pass@cdn.example/x.png?token=1", "https://cdn.example/x.png"),
        ("http://127.0.0.1:8123/r/1.png", "http://127.0.0.1:8123/r/1.png"),
        (None, None),
        ("", ""),
    ],
)
def test_a_signed_link_keeps_scheme_host_and_path_only(url: str | None, kept: str | None) -> None:
    assert without_signature(url) == kept


class SignedLinkVendor(SyncFake):
    """One billed call whose answer is a signed OSS link (like DashScope's results)."""

    key: ClassVar[str] = "signed_link"
    label: ClassVar[str] = "Signed link vendor"
    result_ttl_s: ClassVar[float | None] = 600.0

    def submit(self, request: GenerationRequest) -> Submitted:
        self.submits.append(request)
        update = TaskUpdate(TaskState.SUCCEEDED, outputs=(OutputImage(url=OSS),), billed_images=1)
        return Submitted(remote_id=f"req-{len(self.submits)}", update=update)


def _worker(store: Store, artifacts: Artifacts, clock: FakeClock, fetch: object) -> Worker:  # noqa: F811
    vendor = SignedLinkVendor()
    return Worker(
        store,
        artifacts,
        {vendor.key: vendor},
        clock=clock,
        threads=0,
        downloader=fetch,  # type: ignore[arg-type]
    )


def test_a_fetched_result_is_stored_without_its_signature(
    store: Store,  # noqa: F811
    artifacts: Artifacts,  # noqa: F811
    clock: FakeClock,  # noqa: F811
) -> None:
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return png_bytes(64, 48)

    job_id = queue_job(store, artifacts, provider=SignedLinkVendor.key)
    _worker(store, artifacts, clock, fetch).run_once()
    view = store.get_job(job_id)
    assert view is not None and view.status is JobStatus.SUCCEEDED
    assert fetched == [OSS]  # the whole signed link is used to fetch...
    assert [output.source_url for output in view.outputs] == [without_signature(OSS)]  # ...not kept
    assert RESULT_NOTE not in view.notes
    assert not any(secret in str(view.notes) for secret in SECRETS)


def test_a_lost_result_keeps_no_signature_in_the_jobs_notes(
    store: Store,  # noqa: F811
    artifacts: Artifacts,  # noqa: F811
    clock: FakeClock,  # noqa: F811
) -> None:
    def refuse(url: str) -> bytes:
        raise ProviderUnavailableError(
            "download", "gone", "The result link answered HTTP 404.", retryable=False
        )

    job_id = queue_job(store, artifacts, provider=SignedLinkVendor.key)
    _worker(store, artifacts, clock, refuse).run_once()
    view = store.get_job(job_id)
    assert view is not None and view.status is JobStatus.FAILED
    assert view.error is not None and view.error.code == "billed_result_lost"
    stored = str(view.notes)
    assert "https://bucket.oss-cn-hangzhou.aliyuncs.com/results/out.png" in stored
    assert not any(secret in stored for secret in SECRETS), stored


# ------------------------------------------------------------------ downloads
@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Studio:
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_CUTOUT_MODEL", "fast")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return Studio(worker_threads=0)


def test_the_export_csv_names_sources_relative_to_the_data_folder(studio: Studio) -> None:
    try:
        image = studio.prepare_image(product_photo((320, 260)), "mug.png")
        request = JobRequest(
            Operation.PROMPT_BACKGROUND, "local", image, prompt="white marble", count=1, size=(256, 256)
        )
        batch_id = uuid.uuid4().hex
        new = studio.persist_checked(request, studio.check_job(request), batch_id=batch_id, sku="MUG-1")
        studio.store.create_batch(NewBatch(batch_id=batch_id, name="mugs"), [new])
        studio.run_pending()
        studio.batches.review(new.job_id, 1, decision=ReviewState.APPROVED)
        buffer = io.BytesIO()
        report = studio.batches.export(batch_id, PRESETS["amazon"], DEFAULT_TEMPLATE, buffer)
        assert len(report.files) == 1
        with zipfile.ZipFile(buffer) as archive:
            text = archive.read(report.csv_name).decode("utf-8-sig")
        data_dir = str(studio.settings.data_dir)
    finally:
        studio.close()
    assert data_dir not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    source = rows[0]["source_file"]
    assert not Path(source).is_absolute()
    assert source.startswith("jobs/") and source.endswith(f"/{new.job_id}/out_01.png")


def test_the_history_csv_holds_no_server_path(studio: Studio) -> None:
    try:
        data_dir = str(studio.settings.data_dir)
        job_id = uuid.uuid4().hex
        studio.store.create_job(
            NewJob(
                job_id=job_id,
                workflow=Operation.PROMPT_BACKGROUND,
                provider="local",
                input_path="jobs/gone/input.png",
                created_at=studio.store.now(),
            )
        )
        studio.store.transition(
            job_id,
            [JobStatus.QUEUED],
            JobStatus.FAILED,
            error_code="output_not_stored",
            error_message=f"The result could not be stored: cannot write jobs/x/out_01.png in {data_dir}.",
        )
        text = b"".join(studio.export_csv(JobFilter())).decode("utf-8-sig")
    finally:
        studio.close()
    assert data_dir not in text
    assert "in STUDIO_DATA_DIR" in text
