"""Money safety in the worker: a vendor call that succeeded is never made again for the same job.

Driven inline (threads=0) with a fake clock: result downloads that fail and
then work, links that expire, status calls that answer nonsense, and a crash
between the vendor's answer and the stored result.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

import pytest

from providers.base import (
    GenerationRequest,
    Money,
    OutputImage,
    Submitted,
    TaskState,
    TaskUpdate,
)
from providers.errors import (
    InputRejectedError,
    ProviderError,
    ProviderUnavailableError,
    UnexpectedResponseError,
)
from studio.artifacts import Artifacts
from studio.jobs import RESULT_NOTE, JobStatus, JobView
from studio.store import Store
from studio.worker import Worker
from tests.studio.conftest import queue_job
from tests.studio.fakes import AsyncFake, FakeClock, SyncFake, png_bytes

RESULT_URL = "https://results.vendor.example/out.jpg?sign=abc"


class SyncLinkVendor(SyncFake):
    """Like Tencent with RspImgType=url: one synchronous, billed call whose answer is a 1-hour link."""

    key: ClassVar[str] = "sync_link"
    label: ClassVar[str] = "Sync link vendor"
    result_ttl_s: ClassVar[float | None] = 3600.0

    def submit(self, request: GenerationRequest) -> Submitted:
        self.submits.append(request)
        update = TaskUpdate(TaskState.SUCCEEDED, outputs=(OutputImage(url=RESULT_URL),), billed_images=1)
        return Submitted(remote_id=f"req-{len(self.submits)}", update=update)


class FlakyLink:
    """A result link that fails `failures` times, then serves an image; records every fetch."""

    def __init__(self, failures: int, *, retryable: bool = True) -> None:
        self.failures = failures
        self.retryable = retryable
        self.fetched: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        if len(self.fetched) <= self.failures:
            raise ProviderUnavailableError(
                "download", "download_failed", "The result link answered HTTP 503.", retryable=self.retryable
            )
        return png_bytes(64, 48)


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in the worker catches it."""


def make_worker(
    store: Store,
    artifacts: Artifacts,
    clock: FakeClock,
    adapter: object,
    downloader: object,
    owner: str = "w1",
) -> Worker:
    return Worker(
        store,
        artifacts,
        {adapter.key: adapter},  # type: ignore[attr-defined,dict-item]
        clock=clock,
        owner=owner,
        threads=0,
        rng=random.Random(3),
        downloader=downloader,  # type: ignore[arg-type]
    )


def view_of(store: Store, job_id: str) -> JobView:
    view = store.get_job(job_id)
    assert view is not None
    return view


def run_for(worker: Worker, clock: FakeClock, seconds: float, step: float = 1.0) -> None:
    elapsed = 0.0
    while elapsed < seconds:
        worker.run_once()
        clock.advance(step)
        elapsed += step


def test_a_sync_result_link_that_fails_twice_is_fetched_again_never_paid_again(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor, link = SyncLinkVendor(), FlakyLink(failures=2)
    job_id = queue_job(store, artifacts, provider=vendor.key)
    worker = make_worker(store, artifacts, clock, vendor, link)
    worker.run_once()

    # Billed and recorded at once; only the download is pending.
    pending = view_of(store, job_id)
    assert pending.status is JobStatus.DOWNLOADING and pending.is_pending
    assert pending.remote_id == "req-1" and pending.cost == Money(8, "CNY")
    assert pending.error is not None and pending.error.code == "download_pending"
    assert store.in_flight_counts() == {}  # the vendor's slot is free for the next job

    run_for(worker, clock, 60)
    done = view_of(store, job_id)
    assert done.status is JobStatus.SUCCEEDED and done.error is None
    assert len(vendor.submits) == 1 and link.fetched == [RESULT_URL] * 3
    assert done.cost == Money(8, "CNY") and done.remote_id == "req-1"
    # The link is kept without its signature (studio.signed_links).
    assert [(o.width, o.height, o.source_url) for o in done.outputs] == [
        (64, 48, "https://results.vendor.example/out.jpg")
    ]
    assert RESULT_NOTE not in done.notes


def test_a_link_that_never_works_fails_billed_when_it_expires_with_the_cost_kept(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor, link = SyncLinkVendor(), FlakyLink(failures=10_000)
    job_id = queue_job(store, artifacts, provider=vendor.key)
    worker = make_worker(store, artifacts, clock, vendor, link)
    started = clock()
    run_for(worker, clock, 3700, step=20)

    view = view_of(store, job_id)
    assert view.status is JobStatus.FAILED and view.error is not None
    assert view.error.code == "billed_result_lost"
    assert "billed it (0.08 CNY)" in view.error.message and "expired" in view.error.message
    assert view.cost == Money(8, "CNY") and view.remote_id == "req-1"
    assert len(vendor.submits) == 1
    # Tried with backoff (not every tick) for as long as the link lived, and not after.
    assert 8 <= len(link.fetched) <= 40
    assert view.finished_at is not None and view.finished_at.timestamp() <= started + 3600 + 20


def test_a_link_refused_for_good_fails_billed_at_once(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor, link = SyncLinkVendor(), FlakyLink(failures=1, retryable=False)
    job_id = queue_job(store, artifacts, provider=vendor.key)
    make_worker(store, artifacts, clock, vendor, link).run_once()
    view = view_of(store, job_id)
    assert view.status is JobStatus.FAILED and view.error is not None
    assert view.error.code == "billed_result_lost" and view.cost == Money(8, "CNY")
    assert len(link.fetched) == 1 and len(vendor.submits) == 1


def test_a_crash_after_the_answer_resumes_the_download_and_never_calls_again(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = SyncLinkVendor()

    def dying(url: str) -> bytes:
        raise Crash()

    job_id = queue_job(store, artifacts, provider=vendor.key)
    with pytest.raises(Crash):
        make_worker(store, artifacts, clock, vendor, dying, owner="crashed").run_once()
    assert view_of(store, job_id).status is JobStatus.DOWNLOADING

    link = FlakyLink(failures=0)
    rescuer = make_worker(store, artifacts, clock, vendor, link, owner="rescuer")
    rescuer.run_once()
    assert view_of(store, job_id).status is JobStatus.DOWNLOADING  # the dead worker's lease still holds
    clock.advance(61)
    rescuer.run_once()
    view = view_of(store, job_id)
    assert view.status is JobStatus.SUCCEEDED and view.cost == Money(8, "CNY")
    assert len(vendor.submits) == 1 and link.fetched == [RESULT_URL]


def test_an_async_task_whose_results_fail_to_download_is_not_polled_or_submitted_again(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = AsyncFake()
    vendor.plan = [TaskState.SUCCEEDED]
    vendor.output_url = RESULT_URL
    link = FlakyLink(failures=3)
    job_id = queue_job(store, artifacts, provider=vendor.key)
    worker = make_worker(store, artifacts, clock, vendor, link)
    run_for(worker, clock, 120)
    view = view_of(store, job_id)
    assert view.status is JobStatus.SUCCEEDED
    assert len(vendor.submits) == 1 and vendor.polls == ["task-1"] and len(link.fetched) == 4


def test_a_malformed_status_answer_is_retried_not_a_failure_of_the_billed_task(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = AsyncFake()
    garbage = UnexpectedResponseError(
        "fake_async", "not_json", "The provider answered with something that is not JSON."
    )
    vendor.plan = [TaskState.RUNNING, garbage, garbage, garbage, TaskState.SUCCEEDED]
    job_id = queue_job(store, artifacts, provider=vendor.key)
    worker = make_worker(store, artifacts, clock, vendor, FlakyLink(0))
    run_for(worker, clock, 200)
    view = view_of(store, job_id)
    assert view.status is JobStatus.SUCCEEDED, view.error
    assert len(vendor.submits) == 1 and len(vendor.polls) == 5


def test_the_next_job_goes_to_the_vendor_while_a_result_is_still_downloading(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor, link = SyncLinkVendor(), FlakyLink(failures=10_000)
    vendor.max_in_flight = 1  # type: ignore[misc]
    first = queue_job(store, artifacts, provider=vendor.key)
    second = queue_job(store, artifacts, provider=vendor.key)
    worker = make_worker(store, artifacts, clock, vendor, link)
    run_for(worker, clock, 3)
    assert view_of(store, first).status is JobStatus.DOWNLOADING
    assert view_of(store, second).status is JobStatus.DOWNLOADING
    assert len(vendor.submits) == 2


def test_a_batch_counts_a_billed_job_once_by_its_cost(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    from studio.store import NewBatch

    vendor, link = SyncLinkVendor(), FlakyLink(failures=10_000)
    store.create_batch(NewBatch("b1", budget=Money(100, "CNY")), [])
    job_id = queue_job(store, artifacts, provider=vendor.key, batch_id="b1", estimate=Money(8, "CNY"))
    make_worker(store, artifacts, clock, vendor, link).run_once()
    assert view_of(store, job_id).status is JobStatus.DOWNLOADING
    assert store.batch_spend("b1", "CNY") == 8
    progress = store.batch_progress("b1")
    assert progress is not None and progress.committed["CNY"] == Money(8, "CNY")


# ------------------------------------------------------------------ batch submission
class BatchVendor(AsyncFake):
    """Takes up to three jobs per call, like the Marketplace's task_list (which takes ten)."""

    key: ClassVar[str] = "batch_vendor"
    label: ClassVar[str] = "Batch vendor"
    max_batch_submit: ClassVar[int] = 3
    max_in_flight: ClassVar[int] = 1

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []
        self.call_errors: list[BaseException] = []

    def submit(self, request: GenerationRequest) -> Submitted:
        [answer] = self.submit_batch([request])
        if isinstance(answer, ProviderError):
            raise answer
        return answer

    def submit_batch(self, requests: Sequence[GenerationRequest]) -> tuple[Submitted | ProviderError, ...]:
        if self.call_errors:
            raise self.call_errors.pop(0)
        self.calls.append([request.prompt for request in requests])
        answers: list[Submitted | ProviderError] = []
        for request in requests:
            if request.prompt == "refused":
                answers.append(InputRejectedError(self.key, "bad_prompt", "This prompt is refused."))
                continue
            self.submits.append(request)
            answers.append(Submitted(remote_id=f"call{len(self.calls)}#{len(self.submits)}"))
        return tuple(answers)


def test_jobs_due_together_share_one_call_and_each_is_tracked_and_billed_alone(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = BatchVendor()
    ids = [queue_job(store, artifacts, provider=vendor.key, prompt=f"p{n}") for n in range(7)]
    worker = make_worker(store, artifacts, clock, vendor, FlakyLink(0))
    run_for(worker, clock, 60)
    # One call per three jobs (the in-flight limit counts jobs: one call's worth at a time).
    assert [len(call) for call in vendor.calls] == [3, 3, 1]
    assert sorted(prompt for call in vendor.calls for prompt in call) == [f"p{n}" for n in range(7)]
    views = [view_of(store, job_id) for job_id in ids]
    assert all(view.status is JobStatus.SUCCEEDED for view in views)
    assert len({view.remote_id for view in views}) == 7
    assert all(view.cost == Money(8, "CNY") for view in views)
    assert set(vendor.polls) == {view.remote_id for view in views}  # each polled on its own id


def test_a_job_refused_by_its_own_checks_fails_alone_and_a_failed_call_retries_all(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = BatchVendor()
    vendor.call_errors = [ProviderUnavailableError(vendor.key, "http_503", "Busy; tried again.")]
    ids = [queue_job(store, artifacts, provider=vendor.key, prompt=p) for p in ("a", "refused", "c")]
    worker = make_worker(store, artifacts, clock, vendor, FlakyLink(0))
    worker.run_once()
    assert [view_of(store, job_id).status for job_id in ids] == [JobStatus.QUEUED] * 3
    run_for(worker, clock, 60)
    assert [sorted(call) for call in vendor.calls] == [["a", "c", "refused"]]
    statuses = [view_of(store, job_id).status for job_id in ids]
    assert statuses == [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.SUCCEEDED]
    refused = view_of(store, ids[1])
    assert refused.error is not None and refused.error.code == "bad_prompt" and refused.cost is None


def test_a_crash_during_a_batch_call_sends_none_of_its_jobs_again(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = BatchVendor()
    vendor.call_errors = [Crash()]
    ids = [queue_job(store, artifacts, provider=vendor.key, prompt=p) for p in ("a", "b")]
    with pytest.raises(Crash):
        make_worker(store, artifacts, clock, vendor, FlakyLink(0), owner="crashed").run_once()
    clock.advance(61)
    run_for(make_worker(store, artifacts, clock, vendor, FlakyLink(0), owner="rescuer"), clock, 10)
    views = [view_of(store, job_id) for job_id in ids]
    assert vendor.calls == []
    assert all(
        v.status is JobStatus.FAILED and v.error and v.error.code == "interrupted_submit" for v in views
    )
