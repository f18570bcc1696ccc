"""Vendor limits hold across processes and machines: two workers, each with its own `Store`
(engine), on one database share a vendor's in-flight slots, its submit rate and a batch's
budget through the database. Runs on SQLite (one file) and PostgreSQL (`store_url`)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from providers.base import GenerationRequest, Money, Operation, Submitted, TaskState, TaskUpdate
from studio.artifacts import Artifacts
from studio.jobs import BatchStatus, JobStatus
from studio.pacing import refill
from studio.store import NewBatch, NewJob, Store
from studio.worker import Worker
from tests.studio.conftest import queue_job
from tests.studio.fakes import AsyncFake, FakeClock, png_bytes


class PacedVendor(AsyncFake):
    """A vendor that takes 2 tasks at a time and 1 submit per second, and records what it saw:
    when each submit came (on `clock`) and how many tasks it had at once."""

    key: ClassVar[str] = "paced"
    max_in_flight: ClassVar[int] = 2
    submit_qps: ClassVar[float] = 1.0
    poll_interval_hint: float = 0.05

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock
        self.submit_times: list[float] = []
        self.active: set[str] = set()
        self.most_active = 0
        self.lock = threading.Lock()

    def submit(self, request: GenerationRequest) -> Submitted:
        with self.lock:
            self.submit_times.append(self.clock())
            self.submits.append(request)
            remote_id = f"task-{len(self.submits)}"
            self.active.add(remote_id)
            self.most_active = max(self.most_active, len(self.active))
        return Submitted(remote_id=remote_id)

    def poll(self, remote_id: str) -> TaskUpdate:
        with self.lock:
            update = super().poll(remote_id)
            if update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
                self.active.discard(remote_id)
        return update


@pytest.fixture()
def two_stores(store: Store, store_url: str, data_dir: Path, clock: FakeClock) -> Iterator[list[Store]]:
    other = Store(store_url, files_root=data_dir, clock=clock)
    yield [store, other]
    other.close()


def make_worker(
    store: Store, artifacts: Artifacts, vendor: AsyncFake, clock: Callable[[], float], **kw: object
) -> Worker:
    options: dict[str, Any] = {"clock": clock, "rng": random.Random(5), **kw}
    return Worker(store, artifacts, {vendor.key: vendor}, **options)


def assert_paced(times: list[float], gap_s: float) -> None:
    ordered = sorted(times)
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False)]
    assert not gaps or min(gaps) >= gap_s, gaps


def test_two_workers_share_the_in_flight_slots_and_the_submit_rate(
    two_stores: list[Store], artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = PacedVendor(clock)
    ids = {queue_job(two_stores[0], artifacts, provider="paced") for _ in range(8)}
    workers = [
        make_worker(s, artifacts, vendor, clock, threads=0, owner=f"host-{n}:1:w{n}")
        for n, s in enumerate(two_stores)
    ]
    for step in range(200):
        for w in workers if step % 2 else reversed(workers):
            w.run_once()
        clock.advance(0.1)
        if all(two_stores[0].get_job(i).status is JobStatus.SUCCEEDED for i in ids):  # type: ignore[union-attr]
            break
    assert all(two_stores[0].get_job(i).status is JobStatus.SUCCEEDED for i in ids)  # type: ignore[union-attr]
    assert len(vendor.submits) == 8  # every job exactly once
    assert vendor.most_active <= 2
    assert_paced(vendor.submit_times, 1.0 - 1e-6)


def test_two_worker_threads_pools_racing_for_real_keep_the_limits(
    store_url: str, data_dir: Path, artifacts: Artifacts
) -> None:
    # Real time and real threads: two dispatchers, each with its own engine and pool of 2, race.
    stores = [Store(store_url, files_root=data_dir) for _ in range(2)]
    stores[0].migrate()
    vendor = PacedVendor(time.time)
    ids = {queue_job(stores[0], artifacts, provider="paced") for _ in range(5)}
    workers = [
        make_worker(s, artifacts, vendor, time.time, threads=2, poll_tick_s=0.02, owner=f"h{n}:1:w{n}")
        for n, s in enumerate(stores)
    ]
    for w in workers:
        w.start()
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            if all(stores[1].get_job(i).status is JobStatus.SUCCEEDED for i in ids):  # type: ignore[union-attr]
                break
            time.sleep(0.05)
    finally:
        for w in workers:
            w.stop()
        for s in stores:
            s.close()
    assert len(vendor.submits) == 5 and vendor.most_active <= 2
    # Tokens are taken at the claim; the submit follows in a pool thread a few ms later.
    assert_paced(vendor.submit_times, 0.8)


def test_a_batch_budget_holds_across_two_workers(
    two_stores: list[Store], artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = PacedVendor(clock)
    store = two_stores[0]
    batch_id = "b" * 16
    jobs = []
    for n in range(6):
        saved = artifacts.save_inputs(f"job{n}{batch_id}", store.now(), png_bytes())
        jobs.append(
            NewJob(
                job_id=f"job{n}{batch_id}",
                workflow=Operation.PROMPT_BACKGROUND,  # 8 CNY an image
                provider="paced",
                input_path=saved.input_path,
                estimate=Money(8, "CNY"),
                batch_id=batch_id,
            )
        )
    store.create_batch(NewBatch(batch_id, "two workers", budget=Money(24, "CNY")), jobs)
    workers = [
        make_worker(s, artifacts, vendor, clock, threads=0, owner=f"host-{n}:1:w{n}")
        for n, s in enumerate(two_stores)
    ]
    for _ in range(100):
        for w in workers:
            w.run_once()
        clock.advance(0.5)
    batch = store.get_batch(batch_id)
    assert batch is not None and batch.status is BatchStatus.PAUSED and batch.pause_reason == "budget"
    assert len(vendor.submits) <= 3
    assert len(vendor.submits) == 3 and store.batch_spend(batch_id, "CNY") == 24


def test_the_bucket_refills_at_its_rate_up_to_its_burst_and_never_from_a_clock_behind() -> None:
    assert refill(0.0, 100.0, 100.5, 2.0) == (1.0, 100.5)
    assert refill(0.0, 100.0, 110.0, 2.0) == (2.0, 110.0)  # burst: max(1, rate)
    assert refill(0.0, 100.0, 110.0, 0.5) == (1.0, 110.0)
    assert refill(0.3, 100.0, 99.0, 2.0) == (0.3, 100.0)  # a worker whose clock is behind


def test_a_claim_transaction_locks_at_most_one_providers_pacing_row(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    """A pass that finds its provider full ends its transaction before the next provider's row is
    locked: holding one provider's row while waiting for another's is how two workers deadlock
    (seen on PostgreSQL in bench/team_scale.py: each locked the other's provider row)."""
    from sqlalchemy import event

    full = queue_job(store, artifacts, provider="full_vendor")
    clock.advance(1.0)
    free = queue_job(store, artifacts, provider="free_vendor")
    per_transaction: list[set[str]] = [set()]

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "vendor_pacing" in statement and statement.lstrip().upper().startswith("SELECT"):
            values = parameters.values() if isinstance(parameters, dict) else parameters
            per_transaction[-1].update(v for v in values if v in ("full_vendor", "free_vendor"))

    def boundary(conn: Any) -> None:
        per_transaction.append(set())

    event.listen(store.engine, "before_cursor_execute", count)
    event.listen(store.engine, "commit", boundary)
    event.listen(store.engine, "rollback", boundary)
    try:
        claim = store.claim_next("w1", store.now(), 30, {"full_vendor": 0, "free_vendor": 1})
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
        event.remove(store.engine, "commit", boundary)
        event.remove(store.engine, "rollback", boundary)
    assert claim is not None and claim.job.job_id == free and full != free
    assert set().union(*per_transaction) == {"full_vendor", "free_vendor"}  # both rows were read ...
    assert max(len(providers) for providers in per_transaction) == 1, per_transaction  # ... apart
