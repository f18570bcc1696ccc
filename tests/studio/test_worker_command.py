"""`python -m studio worker` in real subprocesses: `--once` runs the queue, SIGTERM stops a running
worker cleanly (leases handed back), `--processes 2` supervises two workers over one database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import Operation
from studio.jobs import JobStatus
from studio.service import JobRequest, Studio
from studio.settings import load_settings
from tests.views.photos import product_photo

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 240.0  # a busy 2-core machine loading the cutout model in each process


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The settings every process of a test shares (same data folder and database)."""
    variables = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("STUDIO_", "DATABASE_URL", "AWS_"))
    }
    variables.update(
        {
            "STUDIO_DATA_DIR": str(tmp_path / "data"),
            "STUDIO_SECRETS_FILE": str(tmp_path / "no-secrets.toml"),
            "STUDIO_CUTOUT_MODEL": "fast",
            "STUDIO_POLL_TICK_S": "0.1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return variables


@pytest.fixture
def studio(env: dict[str, str]) -> Iterator[Studio]:
    """This test's view of the shared database: it queues jobs and reads them, never runs any."""
    opened = Studio(load_settings(env), worker_threads=0)
    yield opened
    opened.close()


def queue_jobs(studio: Studio, count: int) -> list[str]:
    image = studio.prepare_image(product_photo((320, 260)), "mug.png")
    request = JobRequest(
        Operation.PROMPT_BACKGROUND, "local", image, prompt="white marble", count=2, size=(256, 256)
    )
    return [studio.submit_job(request) for _ in range(count)]


def statuses(studio: Studio, job_ids: list[str]) -> list[JobStatus]:
    jobs = [studio.get_job(job_id) for job_id in job_ids]
    return [job.status for job in jobs if job is not None]


def worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: object, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_once_runs_the_queued_jobs_and_exits(env: dict[str, str], studio: Studio) -> None:
    job_ids = queue_jobs(studio, 2)
    done = subprocess.run(
        [sys.executable, "-m", "studio", "worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 0, done.stderr
    assert statuses(studio, job_ids) == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    assert "ran 2 job step(s)" in done.stderr
    assert studio.store.held_leases() == []


def test_sigterm_stops_a_running_worker_and_hands_its_leases_back(
    env: dict[str, str], studio: Studio
) -> None:
    running = worker(env, "--processes", "1")
    try:
        job_ids = queue_jobs(studio, 4)
        # Stop it in the middle of its work: as soon as one job is taken.
        wait_until(lambda: any(status is not JobStatus.QUEUED for status in statuses(studio, job_ids)))
        running.send_signal(signal.SIGTERM)
        _, stderr = running.communicate(timeout=WAIT_S)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert running.returncode == 0, stderr
    assert "received SIGTERM" in stderr and "stopped" in stderr
    assert "Traceback" not in stderr
    assert studio.store.held_leases() == [], "every lease is handed back"
    # Nothing is left half done: each job finished, or waits for the next worker.
    assert set(statuses(studio, job_ids)) <= {JobStatus.SUCCEEDED, JobStatus.QUEUED}
    again = subprocess.run(
        [sys.executable, "-m", "studio", "worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=WAIT_S,
    )
    assert again.returncode == 0
    assert set(statuses(studio, job_ids)) == {JobStatus.SUCCEEDED}


def test_several_processes_share_one_queue(env: dict[str, str], studio: Studio) -> None:
    supervisor = worker(env, "--processes", "2")
    try:
        job_ids = queue_jobs(studio, 4)
        wait_until(lambda: set(statuses(studio, job_ids)) == {JobStatus.SUCCEEDED})
        supervisor.send_signal(signal.SIGTERM)
        _, stderr = supervisor.communicate(timeout=WAIT_S)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
    assert supervisor.returncode == 0, stderr
    assert "started 2 worker processes" in stderr
    assert stderr.count("received SIGTERM") >= 2  # the supervisor and its children
    assert studio.store.held_leases() == []


def test_bad_process_counts_are_usage_errors(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "studio", "worker", "--processes", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--processes" in done.stderr
