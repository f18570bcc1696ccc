"""Leases across machines: a crashed worker's jobs are taken over by any worker once its lease
passed; a lease that is renewed is never taken. Runs on SQLite and PostgreSQL (`store_url`).

Each worker has its own `Store` (its own engine), as separate processes would; one fake clock
stands for the time every machine agrees on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from providers.base import TaskState
from studio.artifacts import Artifacts
from studio.jobs import JobStatus
from studio.settings import load_settings
from studio.store import ClaimKind, Store
from studio.worker import Worker
from tests.studio.conftest import queue_job
from tests.studio.fakes import AsyncFake, FakeClock

HOST_A = "host-a:4242:aaaa1111"
HOST_B = "host-b:4242:bbbb2222"
LEASE_S = 60.0


@pytest.fixture()
def second_store(store_url: str, data_dir: Path, clock: FakeClock) -> Iterator[Store]:
    """Another process's view of the same database."""
    other = Store(store_url, files_root=data_dir, clock=clock)
    yield other
    other.close()


def worker(store: Store, artifacts: Artifacts, clock: FakeClock, fake: AsyncFake, owner: str) -> Worker:
    adapters = {fake.key: fake}
    return Worker(store, artifacts, adapters, clock=clock, owner=owner, threads=0, lease_s=LEASE_S)


def test_a_crashed_workers_poll_is_taken_over_by_a_worker_on_another_host_after_the_lease(
    store: Store, second_store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    job_id = queue_job(store, artifacts, provider="fake_async")
    a = worker(store, artifacts, clock, fake, HOST_A)
    b = worker(second_store, artifacts, clock, fake, HOST_B)
    assert a.run_once() == 1  # submitted: task-1 is stored, RUNNING
    clock.advance(2)
    claim = a._claim(new_work=False)  # A takes the status call ... and its machine dies (no renewals)
    assert claim is not None and claim.kind is ClaimKind.POLL
    b._release_dead_leases()  # what B's start() does: another host's pid is not B's to judge
    assert store.lease_owner(job_id) == HOST_A
    clock.advance(LEASE_S - 1)
    assert b.run_once() == 0  # the lease still runs
    assert store.lease_owner(job_id) == HOST_A and fake.polls == []
    clock.advance(1.5)
    for _ in range(6):
        b.run_once()
        clock.advance(2.5)
    view = store.get_job(job_id)
    assert view is not None and view.status is JobStatus.SUCCEEDED
    assert len(fake.submits) == 1 and set(fake.polls) == {"task-1"}  # resumed, never resubmitted
    assert view.outputs and store.lease_owner(job_id) is None


def test_a_live_lease_is_renewed_and_never_taken(
    store: Store, second_store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    fake = AsyncFake()
    fake.plan = [TaskState.RUNNING]  # the task keeps running
    job_id = queue_job(store, artifacts, provider="fake_async")
    a = worker(store, artifacts, clock, fake, HOST_A)
    b = worker(second_store, artifacts, clock, fake, HOST_B)
    a.run_once()
    clock.advance(2)
    claim = a._claim(new_work=False)
    assert claim is not None
    a._active[job_id] = claim  # A is busy with it (a long download, say) and alive
    for _ in range(5):  # 5 x 40 s: far past the first lease, renewed every 40 s
        clock.advance(40)
        a._renew_leases()
        assert b.run_once() == 0
        assert store.lease_owner(job_id) == HOST_A
    a._active.clear()  # A stops renewing: the lease runs out and B takes over
    clock.advance(LEASE_S + 1)
    assert b.run_once() == 1 and fake.polls == ["task-1"]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (JobStatus.SUBMITTING, ClaimKind.RECOVER_SUBMIT),
        (JobStatus.RUNNING, ClaimKind.POLL),
        (JobStatus.DOWNLOADING, ClaimKind.DOWNLOAD),
    ],
)
def test_every_held_kind_is_claimable_only_after_its_lease_expired(
    store: Store,
    second_store: Store,
    artifacts: Artifacts,
    clock: FakeClock,
    status: JobStatus,
    kind: ClaimKind,
) -> None:
    job_id = queue_job(store, artifacts, provider="fake_async")
    claimed = store.claim_next(HOST_A, store.now(), LEASE_S, {"fake_async": 2})
    assert claimed is not None
    expires = store.now() + timedelta(seconds=LEASE_S)
    lease = {"lease_owner": HOST_A, "lease_expires_at": expires}
    if status is not JobStatus.SUBMITTING:
        assert store.transition(
            job_id, {JobStatus.SUBMITTING}, JobStatus.RUNNING, owner=HOST_A, remote_id="r-1", **lease
        )
    if status is JobStatus.DOWNLOADING:
        assert store.transition(job_id, {JobStatus.RUNNING}, JobStatus.DOWNLOADING, owner=HOST_A, **lease)
    clock.advance(LEASE_S - 0.5)
    assert second_store.claim_next(HOST_B, second_store.now(), LEASE_S, {}) is None
    clock.advance(0.5)  # expiry reached: the lease is free at its expiry time
    taken = second_store.claim_next(HOST_B, second_store.now(), LEASE_S, {})
    assert taken is not None and taken.kind is kind and taken.job.job_id == job_id
    assert store.lease_owner(job_id) == HOST_B
    assert not store.renew_lease(job_id, HOST_A, store.now() + timedelta(seconds=LEASE_S))  # A lost it


def test_the_lease_length_is_a_setting(tmp_path: Path) -> None:
    none = tmp_path / "none.toml"
    assert load_settings({}, none).lease_s == 60.0
    assert load_settings({"STUDIO_LEASE_S": "90"}, none).lease_s == 90.0
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[studio]\nlease_s = 120\n", encoding="utf-8")
    settings = load_settings({}, secrets)
    assert settings.lease_s == 120.0 and settings.sources["lease_s"] == "secrets"
    with pytest.raises(Exception, match="STUDIO_LEASE_S"):
        load_settings({"STUDIO_LEASE_S": "1"}, none)


def test_the_studio_gives_its_worker_the_lease_setting(tmp_path: Path) -> None:
    from tests.studio.test_service import make_studio

    studio = make_studio(tmp_path, {"STUDIO_LEASE_S": "45"})
    try:
        assert studio.worker.lease_s == 45.0
    finally:
        studio.close()
