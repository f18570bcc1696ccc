"""Batches through the studio with fake providers and a fake clock: creation in one piece, the
budget stop, pause/resume/cancel, retrying failures, progress and review."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import Money, Operation
from providers.errors import QuotaExhaustedError
from studio.batches import BatchError
from studio.jobs import BatchStatus, JobStatus, ReviewState
from studio.service import CheckedJob, JobRequest, Studio
from tests.studio.fakes import AsyncFake, SyncFake
from tests.studio.test_service import make_studio, photo


@dataclasses.dataclass(frozen=True)
class Item:
    sku: str
    request: JobRequest
    checked: CheckedJob


def items(studio: Studio, count: int, provider: str = "fake_sync", images: int = 1) -> list[Item]:
    made = []
    for number in range(1, count + 1):
        request = JobRequest(
            workflow=Operation.PROMPT_BACKGROUND,
            provider=provider,
            image=studio.prepare_image(photo(), f"sku{number}.jpg"),
            prompt="white marble",
            count=images,
            source="batch",
        )
        made.append(Item(f"SKU-{number:03d}", request, studio.check_job(request)))
    return made


@pytest.fixture()
def studio(tmp_path: Path, store_url: str) -> Iterator[Studio]:
    studio = make_studio(tmp_path, {"DATABASE_URL": store_url})
    yield studio
    studio.close()


def run_all(studio: Studio, rounds: int = 50) -> None:
    for _ in range(rounds):
        studio.run_pending()
        studio.store._clock.advance(1.0)  # type: ignore[attr-defined]


def statuses(studio: Studio, batch_id: str) -> list[JobStatus]:
    return [job.status for job in studio.batches.jobs(batch_id)]


def test_a_batch_is_created_with_all_its_jobs_and_runs_to_done(studio: Studio) -> None:
    batch_id = studio.batches.start(items(studio, 5), name="Spring shoes")
    batch = studio.batches.get(batch_id)
    assert batch is not None and batch.status is BatchStatus.RUNNING and batch.items == 5
    assert [job.sku for job in studio.batches.jobs(batch_id)] == [f"SKU-{n:03d}" for n in range(1, 6)]
    run_all(studio)
    progress = studio.batches.progress(batch_id)
    assert progress.batch.status is BatchStatus.DONE
    assert progress.by_status == {"succeeded": 5} and progress.finished == 5 and progress.remaining == 0
    assert progress.spent == {"CNY": Money(40, "CNY")}  # 0.08 CNY x 5 images
    assert progress.by_provider == {"fake_sync": {"succeeded": 5}}


def test_the_batch_pauses_before_the_job_that_would_exceed_its_budget(studio: Studio) -> None:
    # 0.08 CNY per image, 2 images per job = 0.16 per job; 0.40 covers two jobs, not three.
    batch_id = studio.batches.start(items(studio, 5, images=2), budget=Money(40, "CNY"))
    run_all(studio)
    progress = studio.batches.progress(batch_id)
    assert progress.batch.status is BatchStatus.PAUSED and progress.batch.pause_reason == "budget"
    assert progress.by_status == {"succeeded": 2, "paused": 3}
    assert progress.spent == {"CNY": Money(32, "CNY")}
    fake = studio.adapters["fake_sync"]
    assert isinstance(fake, SyncFake) and len(fake.submits) == 2
    # A bigger budget resumes it.
    studio.batches.raise_budget(batch_id, Money(100, "CNY"))
    run_all(studio)
    assert studio.batches.progress(batch_id).by_status == {"succeeded": 5}
    assert len(fake.submits) == 5


def test_jobs_in_flight_count_against_the_budget(studio: Studio) -> None:
    fake = studio.adapters["fake_async"]
    assert isinstance(fake, AsyncFake)
    batch_id = studio.batches.start(items(studio, 4, provider="fake_async"), budget=Money(16, "CNY"))
    for _ in range(3):  # two slots: the first two are sent and run remotely, the rest wait
        studio.run_pending()
        studio.store._clock.advance(0.05)  # type: ignore[attr-defined]
    assert statuses(studio, batch_id).count(JobStatus.RUNNING) == 2
    run_all(studio)
    # Two jobs of 0.08 fit in 0.16; the third would not, even while the first two were still running.
    assert len(fake.submits) == 2
    assert studio.batches.progress(batch_id).by_status == {"succeeded": 2, "paused": 2}


def test_pause_resume_and_cancel(studio: Studio) -> None:
    batch_id = studio.batches.start(items(studio, 4))
    studio.batches.pause(batch_id)
    assert statuses(studio, batch_id) == [JobStatus.PAUSED] * 4
    run_all(studio, 5)
    assert studio.batches.progress(batch_id).by_status == {"paused": 4}
    with pytest.raises(BatchError, match="you cannot pause"):
        studio.batches.pause(batch_id)
    studio.batches.resume(batch_id)
    assert statuses(studio, batch_id) == [JobStatus.QUEUED] * 4
    studio.batches.cancel(batch_id)
    run_all(studio, 5)
    progress = studio.batches.progress(batch_id)
    assert progress.batch.status is BatchStatus.CANCELED
    assert progress.by_status == {"canceled": 4} and progress.remaining == 0
    fake = studio.adapters["fake_sync"]
    assert isinstance(fake, SyncFake) and fake.submits == []
    with pytest.raises(BatchError, match="you cannot resume"):
        studio.batches.resume(batch_id)


def test_a_job_claimed_while_its_batch_is_paused_goes_back_unsent(studio: Studio) -> None:
    batch_id = studio.batches.start(items(studio, 1))
    job_id = studio.batches.jobs(batch_id)[0].job_id
    claim = studio.store.claim_next(studio.worker.owner, studio.store.now(), 30, {"fake_sync": 2})
    assert claim is not None and claim.job.job_id == job_id
    studio.batches.pause(batch_id)  # the job was already taken, so it is not moved by the pause
    studio.worker.execute(claim)
    fake = studio.adapters["fake_sync"]
    assert isinstance(fake, SyncFake) and fake.submits == []
    assert statuses(studio, batch_id) == [JobStatus.PAUSED]


def test_failed_items_are_listed_and_retried_as_new_jobs(studio: Studio) -> None:
    fake = studio.adapters["fake_sync"]
    assert isinstance(fake, SyncFake)
    fake.script = [QuotaExhaustedError("fake_sync", "quota_exhausted", "Top up the account.")]
    batch_id = studio.batches.start(items(studio, 3))
    run_all(studio)
    progress = studio.batches.progress(batch_id)
    assert progress.by_status == {"failed": 1, "succeeded": 2}
    (failure,) = progress.failures
    assert failure.code == "quota_exhausted" and failure.sku == "SKU-001"
    assert studio.batches.retry_failed(batch_id) == 1
    assert studio.batches.retry_failed(batch_id) == 0  # the failed one was already retried
    run_all(studio)
    progress = studio.batches.progress(batch_id)
    assert progress.by_status == {"failed": 1, "succeeded": 3} and progress.batch.items == 4
    retried = [job for job in studio.batches.jobs(batch_id) if job.sku == "SKU-001"]
    assert [job.status for job in retried] == [JobStatus.FAILED, JobStatus.SUCCEEDED]
    assert retried[0].notes["retried_by"] == retried[1].job_id


def test_review_decisions_favourites_and_notes_are_kept_per_image(studio: Studio) -> None:
    batch_id = studio.batches.start(items(studio, 2, images=2))
    run_all(studio)
    first, second = studio.batches.jobs(batch_id)
    studio.batches.review(first.job_id, 1, decision=ReviewState.APPROVED, favourite=True, note="hero shot")
    studio.batches.review(first.job_id, 2, decision=ReviewState.REJECTED)
    studio.batches.review(second.job_id, 2, decision="approved")
    studio.batches.review(second.job_id, 2, note="crop tighter")  # the decision stays
    approved = studio.batches.approved(batch_id)
    assert [(item.job.sku, item.output.index) for item in approved] == [("SKU-001", 1), ("SKU-002", 2)]
    assert approved[0].output.favourite and approved[0].output.note == "hero shot"
    assert approved[1].output.note == "crop tighter" and approved[1].output.review == "approved"
    studio.batches.review(first.job_id, 1, decision=None)
    assert [item.output.index for item in studio.batches.approved(batch_id)] == [2]
    with pytest.raises(BatchError, match="has no image 9"):
        studio.batches.review(first.job_id, 9, decision="approved")


def test_an_empty_batch_or_a_zero_budget_is_refused(studio: Studio) -> None:
    with pytest.raises(BatchError, match="no items"):
        studio.batches.start([])
    with pytest.raises(BatchError, match="more than zero"):
        studio.batches.start(items(studio, 1), budget=Money(0, "CNY"))
    assert studio.batches.recent() == []


def test_a_jobs_cost_is_shared_over_its_images_to_the_cent() -> None:
    from studio.batches import _split

    shares = _split(Money(10, "CNY"), 3)
    assert [share.amount_minor for share in shares if share] == [4, 3, 3]
    assert _split(None, 2) == [None, None] and _split(Money(5, "USD"), 0) == []
