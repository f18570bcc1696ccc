"""The worker's timing around a vendor's tasks: status calls come faster while a task nears its
provider's usual duration, and a vendor slot freed by a finished task is offered to the next job
before that task's results are downloaded. Fake clock, inline worker."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from providers.base import TaskState
from studio.artifacts import Artifacts
from studio.jobs import JobStatus
from studio.pacing import NEAR_DUE_MIN_S, poll_delay, poll_delay_near_due, slot_bound
from studio.store import Store
from studio.worker import Worker
from tests.studio.conftest import queue_job
from tests.studio.fakes import AsyncFake, FakeClock, png_bytes


def test_polls_come_faster_only_near_the_usual_duration() -> None:
    # Unknown duration: the vendor's cadence as before.
    assert poll_delay_near_due(1.0, 5.0, None) == poll_delay(1.0, 5.0) == 1.0
    # Far from the usual 20 s: the normal cadence; a poll that would overshoot 15 s lands on it.
    assert poll_delay_near_due(1.0, 2.0, 20.0) == 1.0
    assert poll_delay_near_due(1.0, 14.6, 20.0) == pytest.approx(0.4)
    assert poll_delay_near_due(1.0, 14.9, 20.0) == pytest.approx(0.25)  # never closer than the fast one
    # From 0.75x to 1.5x of it: a quarter of the cadence (not below the floor), then normal again.
    assert poll_delay_near_due(1.0, 15.0, 20.0) == 0.25
    assert poll_delay_near_due(1.0, 29.0, 20.0) == 0.25
    assert poll_delay_near_due(1.0, 30.0, 20.0) == 1.0
    assert poll_delay_near_due(0.05, 1.2, 1.5) == NEAR_DUE_MIN_S


def test_only_a_provider_whose_slots_set_its_pace_is_polled_faster() -> None:
    # DashScope: 1 task at a time of 1.5 s, 2 submits a second: a freed slot is what waits.
    assert slot_bound(1, 1.5, 2.0)
    # 4 at a time of 1.8 s allow 2.2 a second, just above 2 a second: slots still fill at times.
    assert slot_bound(4, 1.8, 2.0)
    # 4 at a time of 1 s allow 4 a second, twice the rate: the rate waits, never a slot.
    assert not slot_bound(4, 1.0, 2.0)
    assert slot_bound(4, 1.8, None)  # no rate: only slots can hold it back
    assert not slot_bound(1, None, 2.0)  # nothing learned yet


class RateBoundFake(AsyncFake):
    """Eight tasks at a time of ~6 s (1.3 a second), but one submit a second: the rate waits."""

    key = "rate_bound"
    max_in_flight = 8
    submit_qps = 1.0


def worker_for(store: Store, artifacts: Artifacts, clock: FakeClock, fake: AsyncFake) -> Worker:
    return Worker(
        store,
        artifacts,
        {fake.key: fake},
        clock=clock,
        owner="w1",
        threads=0,
        rng=random.Random(3),
        downloader=lambda url: png_bytes(64, 64),
        sleep=clock.advance,
    )


def next_poll_in(store: Store, job_id: str, clock: FakeClock) -> float:
    from sqlalchemy import select

    from studio.migrations import jobs_table

    with store.engine.connect() as conn:
        due: datetime = conn.execute(
            select(jobs_table.c.next_attempt_at).where(jobs_table.c.id == job_id)
        ).scalar_one()
    return float(due.timestamp() - clock())


def test_the_worker_learns_how_long_tasks_take_and_polls_faster_near_the_end(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()  # hint 2 s; a task is done at its third status call: 6 s after its submit
    worker = worker_for(store, artifacts, clock, fake)
    learned = [queue_job(store, artifacts, provider="fake_async") for _ in range(4)]
    for _ in range(20):
        worker.run_once()
        clock.advance(2.0)
    assert all(store.get_job(i).status is JobStatus.SUCCEEDED for i in learned)  # type: ignore[union-attr]
    # Learned: about 6 s. A new task is polled at the normal cadence until 4.5 s, then every 0.5 s.
    job_id = queue_job(store, artifacts, provider="fake_async")
    fake.plan = [*[TaskState.RUNNING] * 6, TaskState.SUCCEEDED]
    worker.run_once()
    assert next_poll_in(store, job_id, clock) == pytest.approx(2.0)
    clock.advance(2.0)
    worker.run_once()
    assert next_poll_in(store, job_id, clock) == pytest.approx(2.0)
    clock.advance(2.0)
    worker.run_once()
    # (The learned 6 s include the few ms the fake clock moved while submits waited their turn.)
    assert next_poll_in(store, job_id, clock) == pytest.approx(0.5, abs=0.02)  # lands on the window start
    clock.advance(next_poll_in(store, job_id, clock))
    worker.run_once()
    assert next_poll_in(store, job_id, clock) == pytest.approx(0.5)  # inside it: a quarter of 2 s


def test_a_task_seen_done_frees_its_vendor_slot_for_the_next_job_before_its_downloads(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    fake.output_url = "https://vendor.example/result.png"
    seen_when_downloading: list[tuple[bool, dict[str, int]]] = []
    worker = worker_for(store, artifacts, clock, fake)

    def downloader(url: str) -> bytes:
        # By now the dispatcher has been woken and the slot no longer counts as in flight.
        seen_when_downloading.append((worker._wake.is_set(), store.in_flight_counts()))
        return png_bytes(64, 64)

    worker._download = downloader
    job_id = queue_job(store, artifacts, provider="fake_async")
    for _ in range(5):
        worker._wake.clear()
        worker.run_once()
        clock.advance(2.0)
    assert store.get_job(job_id).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]
    assert seen_when_downloading == [(True, {})]


def test_a_provider_held_back_by_its_submit_rate_keeps_its_normal_cadence(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    # Finding its tasks done sooner would not let its next submit go sooner: no extra status calls.
    fake = RateBoundFake()
    worker = worker_for(store, artifacts, clock, fake)
    learned = [queue_job(store, artifacts, provider=fake.key) for _ in range(4)]
    for _ in range(30):
        worker.run_once()
        clock.advance(2.0)
    assert all(store.get_job(i).status is JobStatus.SUCCEEDED for i in learned)  # type: ignore[union-attr]
    assert worker._typical_duration(fake.key) is not None
    job_id = queue_job(store, artifacts, provider=fake.key)
    fake.plan = [*[TaskState.RUNNING] * 6, TaskState.SUCCEEDED]
    worker.run_once()
    for _ in range(3):
        assert next_poll_in(store, job_id, clock) == pytest.approx(2.0)
        clock.advance(2.0)
        worker.run_once()
