"""`python -m studio batch` killed with SIGKILL in the middle of a batch, then `batch --resume`.

The batch runs in a real subprocess against the loopback DashScope emulator
(1 task in flight, 2 submits a second, each task done 0.5 s after it was
created). The test waits, reading the SQLite store read-only, for a moment when
no submit can be half done: some jobs succeeded and exactly one is RUNNING with
its remote task id stored (DashScope takes one task at a time, so the next submit
cannot start before that task ends). To make that check exact it freezes the
process (SIGSTOP), reads the store and the emulator, and then SIGKILLs it (or
lets it go on with SIGCONT and looks again). It also waits until the worker does
not hold the job's lease (a poll call in progress), since a lease left by a dead
process is only taken over when it expires.

A second process resumes the batch. Checked: nothing is submitted twice (the
emulator created exactly one task per item), the task in flight at the kill was
polled to completion by the second process, and the exit code and JSON summary;
with a budget (0.08 CNY an image, 0.24 CNY) the resumed batch still stops after
three items, so the job in flight at the kill counts against the budget.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import create_engine, select

from studio.jobs import BatchStatus, JobStatus, JobView
from studio.migrations import jobs_table
from studio.store import Store
from tests.emulators.dashscope import DashScopeEmulator

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-crash-0123456789abcdef"
ITEMS = 8
LATENCY_S = 0.5  # each task is in flight this long, so there is time to kill the process beside it
KILL_DEADLINE_S = 40.0
RESUME_TIMEOUT_S = 45.0
HEADER = "sku,image,mask,workflow,provider,scene,prompt,negative_prompt,size,count"
# Variables that would configure a vendor or the studio from the developer's shell: never inherited.
_STRIP = ("DASHSCOPE_", "STUDIO_", "DATABASE_URL")


@dataclass
class Bench:
    workdir: Path
    emulator: DashScopeEmulator

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(_STRIP)}
        return {
            **inherited,
            "PYTHONPATH": str(ROOT),
            "STUDIO_DATA_DIR": str(self.data_dir),
            "DASHSCOPE_API_KEY": KEY,
            "DASHSCOPE_BASE_URL": self.emulator.api_url,
            "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
            "DASHSCOPE_POLL_INTERVAL_S": "0.1",
        }


@dataclass(frozen=True)
class KillPoint:
    batch_id: str
    job_id: str  # the job RUNNING at the vendor when the process died
    remote_id: str
    succeeded: int
    task_queries: int  # status calls the emulator had answered for that task
    task_state: str  # what the last of them reported


def write_batch(folder: Path) -> None:
    """Eight product photos, already cut out (RGBA, transparent background), and a manifest.

    Opaque photos would work too (the studio cuts them out before the batch starts), but
    the cutout model adds seconds of start-up that say nothing about crashes."""
    rows = [HEADER]
    for number in range(ITEMS):
        pixels = np.zeros((240, 320, 4), np.uint8)
        pixels[60:190, 90 + 8 * number : 200 + 8 * number] = (180, 40 + 25 * number, 40, 255)
        Image.fromarray(pixels, "RGBA").save(folder / f"sku{number}.png")
        rows.append(f"SKU-{number:03d},sku{number}.png,,prompt,dashscope,,white marble table,,,1")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture()
def bench(tmp_path: Path) -> Iterator[Bench]:
    write_batch(tmp_path)
    # queries_to_finish=1: a task ends on the emulator's clock, like the real service.
    with DashScopeEmulator(KEY, queries_to_finish=1, seconds_to_finish=LATENCY_S) as emulator:
        yield Bench(tmp_path, emulator)


def read_only_store(data_dir: Path) -> Store:
    """The CLI's store opened read-only: the test looks, never writes."""
    path = data_dir / "studio.db"
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    )
    return Store(engine, files_root=data_dir)


def start_batch(bench: Bench, *args: str) -> subprocess.Popen[bytes]:
    # Output goes to files: a pipe nobody reads could fill and stall the process.
    out = (bench.workdir / "first.out").open("wb")
    err = (bench.workdir / "first.err").open("wb")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "studio", "batch", "manifest.csv", *args],
            cwd=bench.workdir,
            env=bench.env,
            stdout=out,
            stderr=err,
        )
    finally:
        out.close()
        err.close()


def resume_batch(bench: Bench, batch_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", "batch", "--resume", batch_id],
        cwd=bench.workdir,
        env=bench.env,
        capture_output=True,
        text=True,
        timeout=RESUME_TIMEOUT_S,
    )


def _lease_owner(store: Store, job_id: str) -> str | None:
    with store.engine.connect() as conn:
        owner = conn.execute(select(jobs_table.c.lease_owner).where(jobs_table.c.id == job_id)).scalar()
    return None if owner is None else str(owner)


def _safe_point(
    store: Store, emulator: DashScopeEmulator, succeeded_range: range
) -> tuple[str, JobView, int] | None:
    """(batch id, the one RUNNING job, succeeded) when a kill now cannot cut a submit in half."""
    if not (store.files_root / "studio.db").exists():
        return None
    try:
        batches = store.list_batches(2)
    except Exception:  # the schema is being created by the process under test
        return None
    if len(batches) != 1:
        return None
    jobs = store.batch_jobs(batches[0].batch_id)
    by_status = [job.status for job in jobs]
    running = [job for job in jobs if job.status is JobStatus.RUNNING]
    succeeded = by_status.count(JobStatus.SUCCEEDED)
    if (
        len(jobs) != ITEMS
        or succeeded not in succeeded_range
        or len(running) != 1
        or JobStatus.SUBMITTING in by_status
        or not running[0].remote_id
    ):
        return None
    job = running[0]
    task = emulator.tasks.get(job.remote_id or "")
    if task is None or task.state in ("SUCCEEDED", "FAILED", "CANCELED"):
        return None  # the process already heard that this task ended: not the moment we want
    if _lease_owner(store, job.job_id) is not None:
        return None  # a status call is in progress; its lease would outlive the process by 60 s
    return batches[0].batch_id, job, succeeded


def kill_mid_batch(process: subprocess.Popen[bytes], bench: Bench, succeeded_range: range) -> KillPoint:
    """SIGKILL the batch process at a safe point (see the module docstring); fails if there was none."""
    store = read_only_store(bench.data_dir)
    try:
        deadline = time.monotonic() + KILL_DEADLINE_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the batch ended (exit {process.returncode}) before it could be killed mid-way")
            if _safe_point(store, bench.emulator, succeeded_range) is not None:
                process.send_signal(signal.SIGSTOP)
                # A call already sent is answered by the emulator (in this process) meanwhile.
                time.sleep(0.1)
                point = _safe_point(store, bench.emulator, succeeded_range)
                if point is not None:
                    process.kill()
                    process.wait(timeout=10)
                    batch_id, job, succeeded = point
                    task = bench.emulator.tasks[job.remote_id or ""]
                    return KillPoint(
                        batch_id, job.job_id, job.remote_id or "", succeeded, task.queries, task.state
                    )
                process.send_signal(signal.SIGCONT)
            time.sleep(0.02)
        pytest.fail("no moment with exactly one job RUNNING at the vendor came within the deadline")
    finally:
        store.close()


def first_stderr(bench: Bench) -> str:
    return (bench.workdir / "first.err").read_text(encoding="utf-8")


def summary_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # one JSON object, nothing else on stdout
    summary: dict[str, Any] = json.loads(lines[0])
    return summary


def store_jobs(bench: Bench, batch_id: str) -> list[JobView]:
    store = read_only_store(bench.data_dir)
    try:
        return store.batch_jobs(batch_id)
    finally:
        store.close()


def assert_killed_task_finished_by_second_process(bench: Bench, point: KillPoint) -> None:
    # When the first process died, the emulator had told it only that the task was still going ...
    assert point.task_state in ("PENDING", "RUNNING")
    task = bench.emulator.tasks[point.remote_id]
    # ... so the status call that found it done came from the second one.
    assert task.state == "SUCCEEDED" and task.queries > point.task_queries
    job = next(job for job in store_jobs(bench, point.batch_id) if job.job_id == point.job_id)
    assert job.status is JobStatus.SUCCEEDED and job.remote_id == point.remote_id
    assert len(job.outputs) == 1 and Path(job.outputs[0].path).is_file()


def assert_each_task_submitted_once(bench: Bench, batch_id: str, tasks: int) -> list[JobView]:
    jobs = store_jobs(bench, batch_id)
    remote_ids = [job.remote_id for job in jobs if job.remote_id]
    assert bench.emulator.submits() == tasks
    # One task per job that was sent, and every task the emulator made belongs to one of them.
    assert len(remote_ids) == len(set(remote_ids)) == tasks
    assert set(remote_ids) == set(bench.emulator.tasks)
    # The worker stayed within the account's limits: no submit was refused either.
    assert [call.outcome for call in bench.emulator.calls("submit")] == ["ok"] * tasks
    return jobs


def test_a_batch_killed_mid_way_resumes_without_submitting_anything_twice(bench: Bench) -> None:
    process = start_batch(bench)
    try:
        point = kill_mid_batch(process, bench, range(1, ITEMS - 1))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    assert re.search(rf"^batch {point.batch_id} started \({ITEMS} items\)$", first_stderr(bench), re.M)
    submitted_before = bench.emulator.submits()
    assert submitted_before == point.succeeded + 1  # the succeeded ones and the one in flight

    done = resume_batch(bench, point.batch_id)

    assert done.returncode == 0, done.stderr
    summary = summary_of(done)
    assert summary["batch_id"] == point.batch_id and summary["status"] == "done"
    assert summary["succeeded"] == ITEMS and summary["failed"] == 0 and summary["pending"] == 0
    assert summary["cost"] == {"CNY": "0.64"}
    jobs = assert_each_task_submitted_once(bench, point.batch_id, ITEMS)
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * ITEMS
    assert all(job.attempts == 1 for job in jobs)
    assert_killed_task_finished_by_second_process(bench, point)


def test_a_budget_still_stops_a_killed_and_resumed_batch_after_three_items(bench: Bench) -> None:
    process = start_batch(bench, "--budget", "0.24", "CNY")
    try:
        # Killed while the first or the second item is being made: the budget covers three.
        point = kill_mid_batch(process, bench, range(1, 3))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    done = resume_batch(bench, point.batch_id)

    assert done.returncode == 1, done.stderr
    summary = summary_of(done)
    assert summary["status"] == "paused" and summary["pause_reason"] == "budget"
    assert summary["succeeded"] == 3 and summary["paused"] == ITEMS - 3 and summary["failed"] == 0
    assert summary["cost"] == {"CNY": "0.24"}
    assert f"the batch is paused (budget); resume with --resume {point.batch_id}" in done.stderr
    jobs = assert_each_task_submitted_once(bench, point.batch_id, 3)
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 3 + [JobStatus.PAUSED] * (ITEMS - 3)
    assert_killed_task_finished_by_second_process(bench, point)
    store = read_only_store(bench.data_dir)
    try:
        batch = store.get_batch(point.batch_id)
    finally:
        store.close()
    assert batch is not None and batch.status is BatchStatus.PAUSED
