"""A team on one PostgreSQL: two app-like `Studio` instances submit 20 jobs, two worker processes
(`python -m studio worker`) run them against the loopback DashScope emulator, which takes one
task at a time and two submits a second and refuses anything beyond. Checked: every job ran
exactly once (one task per job, no submit refused), all succeeded.

(The submit rate across processes is checked with fake clocks in test_shared_limits: the
emulator counts submits in a sliding second, which a token bucket with a burst of
max(1, rate) does not promise when the vendor finishes tasks faster than the rate.)"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from providers.base import Operation
from studio.jobs import JobStatus
from studio.service import JobRequest, Studio
from studio.settings import load_settings
from tests.emulators.dashscope import DashScopeEmulator
from tests.pg import PostgresServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-team-0123456789abcdef"
JOBS = 20
_STRIP = ("DASHSCOPE_", "STUDIO_", "DATABASE_URL")


def cut_out_photo(shade: int) -> bytes:
    """A product already cut out (transparent background): no cutout model needed."""
    pixels = np.zeros((240, 320, 4), np.uint8)
    pixels[60:190, 90:200] = (180, shade, 40, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture()
def database(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.new_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def test_two_apps_and_two_worker_processes_run_every_job_exactly_once(database: str, tmp_path: Path) -> None:
    # Each task takes 0.6 s, so one task at a time also keeps the submits within 2 a second: a
    # refused submit can then only mean that two processes broke the one-task limit together.
    with DashScopeEmulator(KEY, queries_to_finish=1, seconds_to_finish=0.6) as emulator:
        env = {
            "STUDIO_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database,
            "DASHSCOPE_API_KEY": KEY,
            "DASHSCOPE_BASE_URL": emulator.api_url,
            "DASHSCOPE_POLL_INTERVAL_S": "0.1",
            "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
            "STUDIO_APP_WORKER": "false",
            "STUDIO_POLL_TICK_S": "0.05",
        }
        apps = [Studio(load_settings(env, tmp_path / "none.toml"), worker_threads=0) for _ in range(2)]
        job_ids: list[str] = []
        try:
            for n in range(JOBS):
                app = apps[n % 2]
                image = app.prepare_image(cut_out_photo(40 + 10 * n), f"sku{n}.png")
                request = JobRequest(
                    workflow=Operation.PROMPT_BACKGROUND,
                    provider="dashscope",
                    image=image,
                    prompt="white marble table",
                )
                job_ids.append(app.submit_job(request))
        finally:
            for app in apps:
                app.close()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(_STRIP)}
        workers = []
        for n in range(2):
            log = (tmp_path / f"worker{n}.log").open("wb")
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "studio", "worker", "--processes", "1"],
                    cwd=tmp_path,
                    env={**inherited, **env, "PYTHONPATH": str(ROOT)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
        watcher = Studio(load_settings(env, tmp_path / "none.toml"), worker_threads=0)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                jobs = [watcher.store.get_job(job_id) for job_id in job_ids]
                if all(
                    job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) for job in jobs
                ):
                    break
                if any(worker.poll() is not None for worker in workers):
                    break
                time.sleep(0.25)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            statuses = [watcher.store.get_job(job_id) for job_id in job_ids]
            watcher.close()
        logs = "\n".join((tmp_path / f"worker{n}.log").read_text(errors="replace")[-3000:] for n in range(2))
        assert all(job is not None and job.status is JobStatus.SUCCEEDED for job in statuses), logs
        submits = emulator.calls("submit")
        assert emulator.submits() == JOBS, logs  # one task per job: nothing ran twice
        assert [call for call in submits if call.outcome != "ok"] == [], logs  # no limit was broken
        assert [worker.returncode for worker in workers] == [0, 0], logs
        remote_ids = [job.remote_id for job in statuses if job is not None]
        assert len(set(remote_ids)) == JOBS and None not in remote_ids
