"""The worker, driven with a fake clock and inline execution (threads=0), plus one real-thread run."""

from __future__ import annotations

import io
import logging
import random
import time
from datetime import timedelta

import pytest
from PIL import Image

from providers.base import Money, Operation, TaskState
from providers.errors import (
    ContentRejectedError,
    ProviderUnavailableError,
    RateLimitedError,
    TaskNotFoundError,
)
from studio.artifacts import ArtifactError, Artifacts
from studio.jobs import JobStatus, JobView
from studio.pacing import poll_delay, retry_delay
from studio.store import Store
from studio.worker import MAX_ATTEMPTS, Worker
from tests.studio.conftest import queue_job
from tests.studio.fakes import AsyncFake, FakeClock, FreeSyncFake, SyncFake, png_bytes


def make_worker(
    store: Store, artifacts: Artifacts, clock: FakeClock, *adapters: object, owner: str = "w1", **kw: object
) -> Worker:
    return Worker(
        store,
        artifacts,
        {a.key: a for a in adapters},  # type: ignore[attr-defined,misc]
        clock=clock,
        owner=owner,
        threads=0,
        rng=random.Random(7),
        **kw,  # type: ignore[arg-type]
    )


def job(store: Store, job_id: str) -> JobView:
    view = store.get_job(job_id)
    assert view is not None
    return view


# ------------------------------------------------------------------ synchronous providers
def test_a_sync_job_runs_to_success_with_files_cost_and_notes(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = SyncFake()
    job_id = queue_job(
        store, artifacts, count=2, prompt="red", seed=10, params={"strength": 0.3}, size=(800, 800)
    )
    worker = make_worker(store, artifacts, clock, fake)
    assert worker.run_once() == 1

    sent = fake.submits[0]
    assert (sent.prompt, sent.count, sent.seed, sent.size, dict(sent.params)) == (
        "red",
        2,
        10,
        (800, 800),
        {"strength": 0.3},
    )
    assert sent.image == png_bytes()
    view = job(store, job_id)
    assert view.status is JobStatus.SUCCEEDED and view.error is None
    assert view.images == 2 and [o.index for o in view.outputs] == [1, 2]
    assert view.cost == Money(16, "CNY")  # 2 images x 0.08 CNY
    assert view.notes["reading"] == "红色 背景"
    for output in view.outputs:
        with Image.open(output.path) as image:
            assert image.size == (120, 100) and (output.width, output.height) == (120, 100)
        assert output.thumbnail_path is not None
        with Image.open(output.thumbnail_path) as thumb:
            assert thumb.format == "JPEG"
    assert view.used_mask_path is not None and Image.open(view.used_mask_path).mode == "L"
    assert view.started_at is not None and view.finished_at is not None and view.duration_s is not None
    # The finished job's folder is sealed: nothing may overwrite its files.
    with pytest.raises(ArtifactError, match="never overwritten"):
        artifacts.save_file(job_id, view.created_at, "out_01.png", b"x")
    assert worker.run_once() == 0 and len(fake.submits) == 1


def test_the_vendors_billed_count_sets_the_cost(store: Store, artifacts: Artifacts, clock: FakeClock) -> None:
    fake = SyncFake()
    fake.billed_images = 1
    job_id = queue_job(store, artifacts, count=3)
    make_worker(store, artifacts, clock, fake).run_once()
    assert job(store, job_id).cost == Money(8, "CNY")


def test_a_retryable_error_requeues_no_sooner_than_retry_after(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = SyncFake()
    fake.script = [
        RateLimitedError("fake_sync", "throttled", "Too many requests; slowing down.", retry_after_s=40)
    ]
    job_id = queue_job(store, artifacts)
    worker = make_worker(store, artifacts, clock, fake)
    worker.run_once()
    waiting = job(store, job_id)
    assert waiting.status is JobStatus.QUEUED and waiting.attempts == 1
    assert waiting.error is not None and waiting.error.code == "throttled"  # visible while it waits
    clock.advance(39.5)
    assert worker.run_once() == 0
    clock.advance(1)
    assert worker.run_once() == 1
    done = job(store, job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2 and done.error is None
    assert len(fake.submits) == 2


def test_backoff_grows_and_has_jitter() -> None:
    rng = random.Random(3)
    first = [retry_delay(1, None, rng) for _ in range(20)]
    fourth = [retry_delay(4, None, rng) for _ in range(20)]
    assert all(1.0 <= d <= 2.0 for d in first) and len(set(first)) > 1
    assert all(8.0 <= d <= 16.0 for d in fourth)
    assert retry_delay(1, 90, rng) == 90
    assert retry_delay(30, None, rng) <= 300


def test_retryable_errors_give_up_after_the_last_attempt(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = SyncFake()
    fake.script = [
        ProviderUnavailableError("fake_sync", "http_503", "The service is down.") for _ in range(10)
    ]
    job_id = queue_job(store, artifacts)
    worker = make_worker(store, artifacts, clock, fake)
    for _ in range(20):
        worker.run_once()
        clock.advance(400)
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and len(fake.submits) == MAX_ATTEMPTS == 5
    assert view.error is not None and view.error.code == "http_503"
    assert view.error.message == "The service is down. (gave up after 5 attempts)"


def test_a_non_retryable_error_fails_at_once_with_the_user_message(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = SyncFake()
    fake.script = [
        ContentRejectedError("fake_sync", "moderation", "The photo was refused by content review.")
    ]
    job_id = queue_job(store, artifacts)
    make_worker(store, artifacts, clock, fake).run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and len(fake.submits) == 1
    assert (view.error.code, view.error.message) == ("moderation", "The photo was refused by content review.")  # type: ignore[union-attr]


def test_a_bug_in_an_adapter_fails_the_job_plainly_and_logs_the_traceback(
    store: Store, artifacts: Artifacts, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    fake = SyncFake()
    fake.script = [ZeroDivisionError("division by zero")]
    job_id = queue_job(store, artifacts)
    with caplog.at_level(logging.ERROR, logger="studio.worker"):
        make_worker(store, artifacts, clock, fake).run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and view.error is not None
    assert view.error.code == "internal_error" and "ZeroDivisionError" in view.error.message
    assert "Traceback" not in view.error.message
    assert any(record.exc_info for record in caplog.records)


def test_a_paid_result_that_is_not_an_image_fails_billed_with_its_cost_kept(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    from providers.base import OutputImage, TaskUpdate

    fake = SyncFake()
    fake.script = [TaskUpdate(TaskState.SUCCEEDED, outputs=(OutputImage(data=b"<html>oops</html>"),))]
    job_id = queue_job(store, artifacts)
    worker = make_worker(store, artifacts, clock, fake)
    worker.run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and view.error is not None
    assert view.error.code == "billed_result_lost" and "not a readable image" in view.error.message
    assert "billed it (0.08 CNY)" in view.error.message
    assert view.cost == Money(8, "CNY")
    clock.advance(3600)
    worker.run_once()
    assert len(fake.submits) == 1


def test_missing_input_files_fail_the_job_with_a_clear_reason(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    job_id = queue_job(store, artifacts)
    path = job(store, job_id).input_path
    assert path is not None
    import os

    os.remove(path)
    make_worker(store, artifacts, clock, SyncFake()).run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and view.error is not None and view.error.code == "input_missing"


# ------------------------------------------------------------------ asynchronous providers
def test_async_job_stores_the_remote_id_at_once_then_polls_on_the_vendors_cadence(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()  # hint 2 s; plan: queued, running, succeeded
    job_id = queue_job(store, artifacts, provider="fake_async")
    worker = make_worker(store, artifacts, clock, fake)
    worker.run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.RUNNING and view.remote_id == "task-1" and fake.polls == []

    poll_times: list[float] = []
    for _ in range(40):
        clock.advance(0.5)
        before = len(fake.polls)
        worker.run_once()
        if len(fake.polls) > before:
            poll_times.append(clock.now)
        if not job(store, job_id).is_pending:
            break
    assert fake.polls == ["task-1"] * 3 and len(fake.submits) == 1
    gaps = [b - a for a, b in zip(poll_times, poll_times[1:], strict=False)]
    assert all(gap >= 2.0 for gap in gaps), gaps  # never faster than the vendor asks
    done = job(store, job_id)
    assert done.status is JobStatus.SUCCEEDED and done.cost == Money(8, "CNY") and done.images == 1


def test_poll_cadence_backs_off_gently_with_time() -> None:
    assert poll_delay(2.0, 0) == 2.0
    assert poll_delay(2.0, 61) == 3.0
    assert poll_delay(2.0, 3600) <= 30.0
    assert poll_delay(60.0, 0) == 60.0  # a slow vendor's own hint is never shortened
    assert poll_delay(0.0, 0) > 0  # a zero hint cannot make the worker spin


def test_a_failed_task_is_recorded_with_its_reason(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    fake.plan = [TaskState.FAILED]
    job_id = queue_job(store, artifacts, provider="fake_async")
    worker = make_worker(store, artifacts, clock, fake)
    worker.run_once()
    clock.advance(2)
    worker.run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and view.error is not None
    assert (view.error.code, view.error.message) == ("content_blocked", "The image was refused.")
    assert view.cost is None


def test_poll_errors_are_retried_by_polling_never_by_resubmitting(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    fake.plan = [
        ProviderUnavailableError("fake_async", "timeout", "The status call timed out."),
        TaskState.SUCCEEDED,
    ]
    job_id = queue_job(store, artifacts, provider="fake_async")
    worker = make_worker(store, artifacts, clock, fake)
    worker.run_once()
    for _ in range(10):
        clock.advance(5)
        worker.run_once()
    assert job(store, job_id).status is JobStatus.SUCCEEDED
    assert len(fake.submits) == 1 and fake.polls == ["task-1", "task-1"]


def test_an_expired_task_fails_without_resubmitting(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    fake.plan = [TaskNotFoundError("fake_async", "task_not_found", "The provider no longer knows this task.")]
    job_id = queue_job(store, artifacts, provider="fake_async")
    worker = make_worker(store, artifacts, clock, fake)
    worker.run_once()
    clock.advance(2)
    worker.run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and view.error is not None and view.error.code == "task_not_found"
    assert len(fake.submits) == 1


def test_url_results_are_downloaded_at_once_and_the_url_kept(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    fake.plan = [TaskState.SUCCEEDED]
    fake.output_url = "https://vendor.example/result.png?sig=abc"
    fetched: list[str] = []

    def downloader(url: str) -> bytes:
        fetched.append(url)
        if len(fetched) == 1:
            raise ProviderUnavailableError("download", "download_failed", "Could not download; retrying.")
        return png_bytes(64, 64)

    job_id = queue_job(store, artifacts, provider="fake_async")
    worker = make_worker(store, artifacts, clock, fake, downloader=downloader)
    for _ in range(6):
        worker.run_once()
        clock.advance(5)
    view = job(store, job_id)
    assert view.status is JobStatus.SUCCEEDED and len(fake.submits) == 1
    assert fetched == [fake.output_url, fake.output_url]
    # Kept without its signature (studio.signed_links): where it came from, not a way to fetch it.
    assert view.outputs[0].source_url == "https://vendor.example/result.png" and (
        view.outputs[0].width,
        view.outputs[0].height,
    ) == (64, 64)


# ------------------------------------------------------------------ limits
def test_max_in_flight_is_respected(store: Store, artifacts: Artifacts, clock: FakeClock) -> None:
    fake = AsyncFake()  # max_in_flight 2
    ids = [queue_job(store, artifacts, provider="fake_async") for _ in range(5)]
    worker = make_worker(store, artifacts, clock, fake)
    assert worker.run_once() == 2
    assert store.in_flight_counts() == {"fake_async": 2}
    assert [job(store, i).status for i in ids].count(JobStatus.QUEUED) == 3
    for _ in range(60):
        clock.advance(1)
        worker.run_once()
        assert store.in_flight_counts().get("fake_async", 0) <= 2
    assert all(job(store, i).status is JobStatus.SUCCEEDED for i in ids) and len(fake.submits) == 5


def test_submit_rate_is_respected(store: Store, artifacts: Artifacts, clock: FakeClock) -> None:
    fake = SyncFake()
    fake.submit_qps = 1.0  # type: ignore[misc]
    for _ in range(3):
        queue_job(store, artifacts)
    worker = make_worker(store, artifacts, clock, fake)
    assert worker.run_once() == 1
    clock.advance(0.5)
    assert worker.run_once() == 0
    clock.advance(0.5)
    assert worker.run_once() == 1
    clock.advance(5)
    assert worker.run_once() == 1  # the bucket holds one token: no burst after idling


# ------------------------------------------------------------------ crashes and restarts
def test_two_workers_on_one_database_run_each_job_once(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake_sync, fake_async = SyncFake(), AsyncFake()
    ids = [queue_job(store, artifacts, provider=p) for p in ("fake_sync", "fake_async") * 4]
    a = make_worker(store, artifacts, clock, fake_sync, fake_async, owner="A")
    b = make_worker(store, artifacts, clock, fake_sync, fake_async, owner="B")
    for step in range(40):
        (a if step % 2 else b).run_once()
        clock.advance(1)
    assert all(job(store, i).status is JobStatus.SUCCEEDED for i in ids)
    assert len(fake_sync.submits) == 4 and len(fake_async.submits) == 4


def test_after_a_crash_polling_resumes_on_the_same_remote_id(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    job_id = queue_job(store, artifacts, provider="fake_async")
    crashed = make_worker(store, artifacts, clock, fake, owner="crashed")
    crashed.run_once()  # submitted: task-1 stored
    clock.advance(2)
    # The first worker takes the job for a poll and dies before answering.
    assert store.claim_next("crashed", store.now(), 30, {}) is not None
    rescuer = make_worker(store, artifacts, clock, fake, owner="rescuer")
    clock.advance(10)
    assert rescuer.run_once() == 0  # lease still held
    for _ in range(20):
        clock.advance(3)
        rescuer.run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.SUCCEEDED
    assert len(fake.submits) == 1 and set(fake.polls) == {"task-1"}
    # The dead worker's late write is refused.
    assert not store.transition(job_id, {JobStatus.RUNNING}, JobStatus.FAILED, owner="crashed")


def test_an_async_job_interrupted_while_submitting_is_failed_not_resent(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    job_id = queue_job(store, artifacts, provider="fake_async")
    assert store.claim_next("crashed", store.now(), 30, {"fake_async": 2}) is not None
    died_inside_the_call(store, job_id, "crashed")
    clock.advance(31)
    make_worker(store, artifacts, clock, fake, owner="rescuer").run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and fake.submits == []
    assert view.error is not None and view.error.code == "interrupted_submit"
    assert "console" in view.error.message and "charged twice" in view.error.message


def died_inside_the_call(store: Store, job_id: str, owner: str) -> None:
    """What a worker writes just before its vendor call may start (then it died)."""
    assert store.update_leased(job_id, owner, JobStatus.SUBMITTING, send_started_at=store.now())


def test_an_async_job_whose_worker_died_before_sending_is_sent_once(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    # Claimed, then the worker died while preparing or waiting for its submit moment: the vendor
    # was never called, so another worker sends it (once) instead of failing it.
    fake = AsyncFake()
    job_id = queue_job(store, artifacts, provider="fake_async")
    assert store.claim_next("crashed", store.now(), 30, {"fake_async": 2}) is not None
    assert job(store, job_id).send_started_at is None
    clock.advance(31)
    rescuer = make_worker(store, artifacts, clock, fake, owner="rescuer")
    for _ in range(10):
        rescuer.run_once()
        clock.advance(3)
    view = job(store, job_id)
    assert view.status is JobStatus.SUCCEEDED and len(fake.submits) == 1 and view.attempts == 2


def test_a_requeued_job_forgets_its_previous_attempts_send_mark(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    job_id = queue_job(store, artifacts, provider="fake_async")
    assert store.claim_next("first", store.now(), 30, {"fake_async": 2}) is not None
    died_inside_the_call(store, job_id, "first")
    # The vendor refused the call (e.g. throttled): the job goes back to the queue.
    assert store.transition(job_id, {JobStatus.SUBMITTING}, JobStatus.QUEUED, owner="first", lease_owner=None)
    assert store.claim_next("second", store.now(), 30, {"fake_async": 2}) is not None
    assert job(store, job_id).send_started_at is None


def test_a_free_sync_job_interrupted_while_running_is_run_again(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = FreeSyncFake()
    job_id = queue_job(store, artifacts, provider=fake.key)
    assert store.claim_next("crashed", store.now(), 30, {fake.key: 2}) is not None
    clock.advance(31)
    make_worker(store, artifacts, clock, fake, owner="rescuer").run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.SUCCEEDED and len(fake.submits) == 1 and view.attempts == 2


def test_a_paid_sync_job_interrupted_while_running_is_not_paid_twice(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    # The process died inside a paid synchronous call: the vendor may have billed it.
    fake = SyncFake()
    job_id = queue_job(store, artifacts)
    assert store.claim_next("crashed", store.now(), 30, {"fake_sync": 2}) is not None
    died_inside_the_call(store, job_id, "crashed")
    clock.advance(31)
    make_worker(store, artifacts, clock, fake, owner="rescuer").run_once()
    view = job(store, job_id)
    assert view.status is JobStatus.FAILED and fake.submits == []
    assert view.error is not None and view.error.code == "interrupted_submit"
    assert "charged twice" in view.error.message


def test_a_running_job_whose_submit_was_recorded_is_never_resubmitted(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    # Crash right after the remote id was written, while still SUBMITTING: resume by polling.
    fake = AsyncFake()
    fake.plan = [TaskState.SUCCEEDED]
    job_id = queue_job(store, artifacts, provider="fake_async")
    store.claim_next("crashed", store.now(), 30, {"fake_async": 2})
    assert store.update_leased(job_id, "crashed", JobStatus.SUBMITTING, remote_id="task-9")
    clock.advance(31)
    make_worker(store, artifacts, clock, fake, owner="rescuer").run_once()
    assert job(store, job_id).status is JobStatus.SUCCEEDED
    assert fake.submits == [] and fake.polls == ["task-9"]


# ------------------------------------------------------------------ real threads
def test_the_started_worker_finishes_jobs_on_its_own(store: Store, artifacts: Artifacts) -> None:
    fake = SyncFake()
    store._clock = time.time  # real time for the real threads
    worker = Worker(store, artifacts, {fake.key: fake}, threads=2, poll_tick_s=0.05)
    ids = [queue_job(store, artifacts) for _ in range(3)]
    worker.start()
    worker.start()  # idempotent
    try:
        assert worker.is_alive
        worker.notify()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(job(store, i).is_pending for i in ids):
            time.sleep(0.05)
    finally:
        worker.stop()
    assert not worker.is_alive
    assert all(job(store, i).status is JobStatus.SUCCEEDED for i in ids) and len(fake.submits) == 3


def test_leases_of_jobs_in_progress_are_renewed(store: Store, artifacts: Artifacts, clock: FakeClock) -> None:
    job_id = queue_job(store, artifacts)
    worker = make_worker(store, artifacts, clock, SyncFake(), lease_s=30.0)
    claimed = store.claim_next(worker.owner, store.now(), 30, {"fake_sync": 2})
    assert claimed is not None
    worker._active[job_id] = claimed  # as if the pool were still working on it
    clock.advance(25)
    worker._renew_leases()
    clock.advance(25)
    assert store.claim_next("other", store.now(), 30, {"fake_sync": 2}) is None
    assert job(store, job_id).started_at is not None
    assert (store.now() - timedelta(seconds=50)) <= job(store, job_id).created_at


def test_operations_reach_the_adapter_unchanged(store: Store, artifacts: Artifacts, clock: FakeClock) -> None:
    fake = SyncFake()
    queue_job(store, artifacts, workflow=Operation.SCENE_BACKGROUND, scene_id="s1", product_title="保温杯")
    make_worker(store, artifacts, clock, fake).run_once()
    sent = fake.submits[0]
    assert (sent.operation, sent.scene_id, sent.product_title) == (Operation.SCENE_BACKGROUND, "s1", "保温杯")
    assert io.BytesIO(sent.image).getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_lease_held_by_a_process_of_this_machine_that_ended_is_released_at_start(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    import socket
    import subprocess
    import sys

    fake = AsyncFake()
    job_id = queue_job(store, artifacts, provider="fake_async")
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_owner = f"{socket.gethostname()}:{int(ended.stdout)}:abcd1234"
    make_worker(store, artifacts, clock, fake, owner=dead_owner).run_once()  # submitted: task-1 stored
    clock.advance(2)
    assert store.claim_next(dead_owner, store.now(), 60, {}) is not None  # ... and died mid-poll
    alive_owner = f"{socket.gethostname()}:1:still-running"  # pid 1 always exists
    other = queue_job(store, artifacts, provider="fake_async")
    make_worker(store, artifacts, clock, fake, owner=alive_owner).run_once()
    clock.advance(2)
    assert store.claim_next(alive_owner, store.now(), 60, {}) is not None
    rescuer = make_worker(store, artifacts, clock, fake, owner="rescuer")
    rescuer._release_dead_leases()  # what start() does first
    assert store.lease_owner(job_id) is None  # resumed now, not in 60 s
    assert store.lease_owner(other) == alive_owner  # a live process keeps its job
    for _ in range(10):
        clock.advance(3)
        rescuer.run_once()
    assert job(store, job_id).status is JobStatus.SUCCEEDED and len(fake.submits) == 2


def test_the_dispatcher_wakes_for_the_next_poll_not_a_whole_tick_later(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    queue_job(store, artifacts, provider="fake_async")
    worker = make_worker(store, artifacts, clock, fake)
    worker.poll_tick_s = 10.0
    assert worker._until_next_due() == 10.0  # nothing timed: sleep the tick (a new job wakes it anyway)
    worker.run_once()  # submitted; the first status call is due in 2 s (the fake's hint)
    assert worker._until_next_due() == pytest.approx(2.0, abs=0.01)
    clock.advance(1.5)
    assert worker._until_next_due() == pytest.approx(0.5, abs=0.01)
