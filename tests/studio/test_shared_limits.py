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
from studio import pacing
from studio.artifacts import Artifacts
from studio.jobs import BatchStatus, JobStatus
from studio.pacing import reserve_send, send_window
from studio.store import ClaimedJob, NewBatch, NewJob, Store
from studio.store_claims import PacedClaim
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


def most_in_any_second(times: list[float]) -> int:
    """The most submits a vendor counting a sliding second at arrival sees in one second."""
    ordered = sorted(times)
    return max((sum(1 for t in ordered if start <= t < start + 1.0) for start in ordered), default=0)


def test_two_workers_share_the_in_flight_slots_and_the_submit_rate(
    two_stores: list[Store], artifacts: Artifacts, clock: FakeClock
) -> None:
    vendor = PacedVendor(clock)
    ids = {queue_job(two_stores[0], artifacts, provider="paced") for _ in range(8)}
    workers = [  # waiting for a reserved moment moves the fake clock
        make_worker(s, artifacts, vendor, clock, threads=0, owner=f"host-{n}:1:w{n}", sleep=clock.advance)
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
    assert_paced(vendor.submit_times, send_window(1.0)[1] - 1e-6)
    assert most_in_any_second(vendor.submit_times) == 1


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
    # The claim reserves a moment; the pool thread waits for it and sends then, so the vendor's
    # clock sees the spacing (1.01 s) give or take the thread's wake-up, a few ms on a quiet
    # machine (before, tokens were taken at the claim and submits came up to 0.2 s early). The
    # strict arithmetic is pinned on a fake clock above; real threads on a machine shared with
    # other test runs are allowed 40 ms of scheduling delay here.
    assert_paced(vendor.submit_times, 0.97)


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


def test_at_most_n_submits_in_any_window_and_a_clock_behind_cannot_move_moments_back() -> None:
    assert send_window(2.0) == (2, pytest.approx(1.01))  # 2 in any second, plus 1 % for arrival jitter
    assert send_window(0.5) == (1, pytest.approx(2.02))  # 1 in any 2 s
    assert send_window(100.0) == (4, pytest.approx(0.0404))  # fast rates: 4 moments kept, not 100
    assert reserve_send([], 100.0, 2.0) == (100.0, 100.0, [100.0])  # idle: send now
    assert reserve_send([100.0], 100.0, 2.0) == (100.0, 100.0, [100.0, 100.0])  # the second of the second
    assert reserve_send([100.0, 100.0], 100.0, 2.0) is None  # a third must wait 1.01 s: not yet
    assert reserve_send([100.0, 100.0], 101.0, 2.0, lookahead_s=0.05) == (
        pytest.approx(101.01),
        pytest.approx(101.01),
        [100.0, pytest.approx(101.01)],
    )
    # A submit that had to wait (slots busy) may be followed at once, as the window allows.
    assert reserve_send([100.0, 101.2], 101.2, 2.0)[0] == pytest.approx(101.2)  # type: ignore[index]
    # A clock behind never moves a moment back; a lead delays the moment, not the earliest.
    assert reserve_send([100.0, 100.2], 99.0, 2.0, lookahead_s=5.0)[:2] == (  # type: ignore[index]
        pytest.approx(101.01),
        pytest.approx(101.01),
    )
    assert reserve_send([], 100.0, 2.0, lead_s=0.3) == (pytest.approx(100.3), 100.0, [pytest.approx(100.3)])
    with pytest.raises(ValueError, match="positive"):
        send_window(0.0)


def test_claims_reserve_moments_within_the_window_across_two_stores_on_a_fake_clock(
    two_stores: list[Store], artifacts: Artifacts, clock: FakeClock
) -> None:
    """Two workers' stores claiming as fast as they can, a tick ahead at most, for 10 fake
    seconds: the moments reserved never put more than 2 submits in any sliding second (the
    vendor's strict rule), yet use ~0.99 of the rate."""
    for _ in range(40):
        queue_job(two_stores[0], artifacts, provider="paced")
    moments: list[float] = []
    start = clock()
    while clock() < start + 10.0:
        for n, s in enumerate(two_stores):
            claim = s.claim_next(
                f"w{n}", s.now(), 60, {"paced": 99}, submit_rates={"paced": 2.0}, submit_lookahead_s=0.05
            )
            if claim is not None:
                assert isinstance(claim, PacedClaim) and claim.send_at is not None
                assert 0 <= claim.send_at.timestamp() - clock() <= 0.05 + 1e-6  # never in the past
                moments.append(claim.send_at.timestamp())
        clock.advance(0.01)
    windows = [later - earlier for earlier, later in zip(moments, moments[2:], strict=False)]
    assert min(windows) >= 1.0 + pacing.WINDOW_MARGIN_S - 1e-6, windows
    assert most_in_any_second(moments) == 2
    assert len(moments) >= int(10.0 * 2.0 / (1.0 + pacing.WINDOW_MARGIN_S))  # 19 of the 20 possible


def test_a_late_submit_takes_a_fresh_moment_and_keeps_the_spacing(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    queue_job(store, artifacts, provider="paced")
    queue_job(store, artifacts, provider="paced")
    first = store.claim_next("w", store.now(), 60, {"paced": 9}, submit_rates={"paced": 1.0})
    second = store.claim_next(
        "w", store.now(), 60, {"paced": 9}, submit_rates={"paced": 1.0}, submit_lookahead_s=2
    )
    assert isinstance(first, PacedClaim) and isinstance(second, PacedClaim)
    assert first.send_at is not None and second.send_at is not None
    assert second.send_at.timestamp() - first.send_at.timestamp() == pytest.approx(1.01)
    clock.advance(0.3)  # the first one's inputs were slow: its moment is gone
    fresh = store.reserve_late_send("paced", 1.0, store.now(), missed=first.send_at)
    assert fresh.timestamp() == pytest.approx(first.send_at.timestamp() + 2 * 1.01)  # after the second
    # The last moment given, missed: nobody comes after it, so the late submit goes now.
    clock.advance(2.0)
    moved = store.reserve_late_send("paced", 1.0, store.now(), missed=fresh)
    assert moved == store.now()
    queue_job(store, artifacts, provider="paced")
    third = store.claim_next(
        "w", store.now(), 60, {"paced": 9}, submit_rates={"paced": 1.0}, submit_lookahead_s=2
    )
    assert isinstance(third, PacedClaim) and third.send_at is not None
    assert third.send_at.timestamp() == pytest.approx(moved.timestamp() + 1.01)


def test_a_claim_reserves_its_moment_after_the_usual_time_its_inputs_take(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    queue_job(store, artifacts, provider="paced")
    claim = store.claim_next(
        "w", store.now(), 60, {"paced": 9}, submit_rates={"paced": 2.0}, submit_leads={"paced": 0.08}
    )
    assert isinstance(claim, PacedClaim) and claim.send_at is not None and claim.claimed_at == store.now()
    assert claim.send_at.timestamp() - clock() == pytest.approx(0.08)


def test_a_job_ready_before_its_leads_moment_goes_at_the_earliest_the_spacing_allows(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    # The lead keeps a slow job from being late; it must not hold back a job that is ready.
    vendor = PacedVendor(clock)
    queue_job(store, artifacts, provider="paced")
    queue_job(store, artifacts, provider="paced")
    worker = make_worker(store, artifacts, vendor, clock, threads=0, sleep=clock.advance, owner="w")
    leads = {"paced": 0.3}
    first = store.claim_next(
        "w", store.now(), 60, {"paced": 9}, submit_rates={"paced": 1.0}, submit_leads=leads
    )
    assert isinstance(first, PacedClaim) and first.send_at is not None and first.not_before is not None
    assert first.send_at.timestamp() - clock() == pytest.approx(0.3)
    assert first.not_before == store.now()  # the provider was idle
    started = clock()
    worker.execute(first)
    assert vendor.submit_times == [pytest.approx(started)]  # did not wait for the lead
    # The next claim's earliest moment is a full spacing after the first one's planned moment.
    second = store.claim_next(
        "w",
        store.now(),
        60,
        {"paced": 9},
        submit_rates={"paced": 1.0},
        submit_leads=leads,
        submit_lookahead_s=5,
    )
    assert isinstance(second, PacedClaim) and second.not_before is not None and second.send_at is not None
    assert second.not_before.timestamp() == pytest.approx(first.send_at.timestamp() + 1.01)
    worker.execute(second)
    assert vendor.submit_times[1] - vendor.submit_times[0] >= 1.01


def test_a_job_waiting_for_its_moment_is_not_yet_marked_as_sent(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    # A worker killed while a job waits for its send moment leaves a job another worker may send:
    # the "call may have started" mark is written after the wait, just before the call.
    vendor = PacedVendor(clock)
    ids = [queue_job(store, artifacts, provider="paced") for _ in range(2)]
    seen_while_waiting: list[object] = []
    waiting: list[str] = []  # the job whose thread sleeps: the second claimed

    def sleep(seconds: float) -> None:
        seen_while_waiting.append(store.get_job(waiting[0]).send_started_at)  # type: ignore[union-attr]
        clock.advance(seconds)

    worker = make_worker(store, artifacts, vendor, clock, threads=0, sleep=sleep, owner="w")
    claims = [
        store.claim_next(
            "w", store.now(), 60, {"paced": 9}, submit_rates={"paced": 1.0}, submit_lookahead_s=9
        )
        for _ in range(2)
    ]
    first, second = claims
    assert first is not None and second is not None
    waiting.append(second.job.job_id)
    worker.execute(first)
    worker.execute(second)
    # The second job slept 1.01 s unmarked, except the last MARK_AHEAD_S (its mark's write, made
    # then so it cannot delay the arrival).
    assert (
        len(seen_while_waiting) == 2 and seen_while_waiting[0] is None and seen_while_waiting[1] is not None
    )
    assert all(store.get_job(i).send_started_at is not None for i in ids)  # type: ignore[union-attr]


def test_a_job_taken_over_while_its_worker_waited_is_sent_once_by_the_new_holder(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    # A starved worker sleeps past its lease while waiting for the send moment; another worker
    # takes the job over. The first must not send it too (that would pay twice).
    vendor = PacedVendor(clock)
    queue_job(store, artifacts, provider="paced")
    queue_job(store, artifacts, provider="paced")
    rescued: list[object] = []

    def starved_sleep(seconds: float) -> None:
        clock.advance(seconds + 10.0)  # woken 10 s late: the 5 s lease is gone
        rescued.append(store.claim_next("rescuer", store.now(), 5, {}, recover_providers=["paced"]))

    slow = make_worker(store, artifacts, vendor, clock, threads=0, sleep=starved_sleep, owner="slow")
    claims = [
        store.claim_next(
            "slow", store.now(), 5, {"paced": 9}, submit_rates={"paced": 1.0}, submit_lookahead_s=9
        )
        for _ in range(2)
    ]
    first, second = claims
    assert first is not None and second is not None
    slow.execute(first)  # sent at once
    slow.execute(second)  # waits 1.01 s, woken late, taken over meanwhile: not sent
    assert len(vendor.submits) == 1
    (takeover,) = rescued
    assert isinstance(takeover, ClaimedJob) and takeover.job.job_id == second.job.job_id
    rescuer = make_worker(store, artifacts, vendor, clock, threads=0, sleep=clock.advance, owner="rescuer")
    rescuer.execute(takeover)
    assert len(vendor.submits) == 2  # sent once, by the worker that holds it
    view = store.get_job(second.job.job_id)
    assert view is not None and view.status is JobStatus.RUNNING and view.error is None


def test_a_worker_thread_waits_for_its_reserved_moment_before_calling_the_vendor(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    """Inputs prepared, the thread sleeps (here: the fake clock moves) to the moment the claim
    reserved, so the vendor sees the spacing at arrival, not at the claim."""
    vendor = PacedVendor(clock)
    for _ in range(3):
        queue_job(store, artifacts, provider="paced")
    worker = make_worker(store, artifacts, vendor, clock, threads=0, sleep=clock.advance, owner="other")
    claims = [
        store.claim_next(
            "other", store.now(), 60, {"paced": 9}, submit_rates={"paced": 1.0}, submit_lookahead_s=9
        )
        for _ in range(2)
    ]
    assert all(isinstance(c, PacedClaim) for c in claims)
    for claim in claims:
        assert claim is not None
        worker.execute(claim)
    assert vendor.submit_times == pytest.approx([clock.now - 1.01, clock.now])  # the 2nd slept 1.01 s


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
