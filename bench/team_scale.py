"""Team-scale benchmark: 4 worker processes on PostgreSQL, two vendor accounts, one `kill -9`.

Run: `.venv/bin/python bench/team_scale.py [--items 2000] [--json PATH]` (quick: `--items 200`;
writes bench/results/team_scale.json by default; `--help` lists the knobs).

Setup, all on this machine and loopback only:

- a throwaway PostgreSQL server (tests/pg.py) and one database: DATABASE_URL for everyone;
- two vendor accounts, each a loopback emulator with a set latency per task (+/- jitter, a
  fixed function of the task id, so it does not line up with a poll cadence):
  DashScope (prompt background; tests/emulators/dashscope.py, which enforces the account's
  limits, 1 task in flight and 2 submits in any second, and answers 429 Throttling beyond
  them) and Aidge (scene background; tests/emulators/aidge.py, which enforces no limit: its
  calls are timed here and checked afterwards against the limits studio's Aidge adapter
  declares, 4 in flight and 2 submits a second);
- the items split between the accounts in proportion to their capacity, so both would finish
  together: capacity = min(max_in_flight / latency, submit_qps) items a second;
- every job created up front (`Studio.submit_job`, small product images already cut out), then
  4 `python -m studio worker --processes 1` subprocesses over the same database and data folder
  (STUDIO_LEASE_S=5, fast poll intervals); when 30 % of the items are done, the first worker
  seen holding a lease (a job mid-step; worker 0 if none does within 30 s) is killed with
  SIGKILL and not restarted.

Measured: achieved time (first vendor submit to the last job finished: its result downloaded
and stored) against the ideal (per account: the sum of its task latencies / max_in_flight, or
items / submit_qps if that is longer; the longer account); throttling answers (must be 0);
every job succeeded; vendor tasks per item (exactly 1: a job resumed after the kill polls its
existing task instead of submitting again); what the killed worker held and how long until
another worker took it over. Where time went, per account, from the emulators' clocks:
`detect` (a task first seen done minus when it was done), `hand-off` (DashScope: the next task
created minus the previous one seen done), vendor utilisation.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from tests.emulators.aidge import API_SCENE_SUBMIT, AidgeEmulator  # noqa: E402
from tests.emulators.aidge import RecordedRequest as AidgeRequest  # noqa: E402
from tests.emulators.dashscope import DashScopeEmulator  # noqa: E402
from tests.emulators.dashscope import RecordedRequest as DashScopeRequest  # noqa: E402
from tests.emulators.dashscope import Task as DashScopeTask  # noqa: E402
from tests.pg import PostgresServer, why_not_available  # noqa: E402

DEFAULT_JSON = ROOT / "bench" / "results" / "team_scale.json"
TARGET = 0.95
DS_KEY = "sk-team-bench-0123456789abcdef"
AIDGE_KEY, AIDGE_SECRET = "team-bench-key", "team-bench-secret-0123456789"
DS_LIMITS = {"max_in_flight": 1, "submit_qps": 2.0}
AIDGE_LIMITS = {"max_in_flight": 4, "submit_qps": 2.0}  # what providers/aidge.py declares
WORKERS = 4
SCENE = "mod001"
_STRIP = ("DASHSCOPE_", "AIDGE_", "STUDIO_", "DATABASE_URL")


def jittered(task_id: str, latency_s: float, jitter: float) -> float:
    """A task's latency: `latency_s` x (1 +/- jitter), a fixed function of the task id."""
    unit = int(hashlib.sha256(task_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return latency_s * (1 + jitter * (2 * unit - 1))


class TimedDashScope(DashScopeEmulator):
    """The DashScope emulator (limits enforced) with a latency per task and a time per recorded call."""

    def __init__(self, latency_s: float, jitter: float) -> None:
        super().__init__(DS_KEY, queries_to_finish=1, submit_qps=2.0, max_running=1)
        self.latency_s, self.jitter = latency_s, jitter
        self.call_times: list[float] = []

    def latency(self, task_id: str) -> float:
        return jittered(task_id, self.latency_s, self.jitter)

    def _advance(self, task: DashScopeTask, *, queried: bool) -> None:
        # Called with the lock held; the base class reads seconds_to_finish there.
        self.seconds_to_finish = self.latency(task.task_id)
        super()._advance(task, queried=queried)

    def _record_request(self, entry: DashScopeRequest) -> None:
        with self._lock:
            self._requests.append(entry)
            self.call_times.append(self.clock())


class TimedAidge(AidgeEmulator):
    """The Aidge emulator with a latency per task, the moment each task was first seen done, and a
    time per recorded call. It enforces no account limit; `check_limits` judges afterwards."""

    def __init__(self, latency_s: float, jitter: float) -> None:
        super().__init__(AIDGE_KEY, AIDGE_SECRET, queries_to_finish=1)
        self.latency_s, self.jitter = latency_s, jitter
        self.call_times: list[float] = []
        self.seen_done: dict[str, float] = {}
        # Status calls one at a time: the base class reads seconds_to_finish under its own lock.
        self._query_lock = threading.Lock()

    def latency(self, task_id: str) -> float:
        return jittered(task_id, self.latency_s, self.jitter)

    def _query(self, api: str, params: Any) -> Any:
        task_id = str(params.get("taskId") or "").strip()
        with self._query_lock:
            self.seconds_to_finish = self.latency(task_id)
            data = super()._query(api, params)
            if data.get("taskStatus") in ("finished", "failed") and task_id not in self.seen_done:
                self.seen_done[task_id] = self.clock()
        return data

    def _record_request(self, entry: AidgeRequest) -> None:
        with self._lock:
            self._requests.append(entry)
            self.call_times.append(self.clock())


def product_png(number: int, side: int) -> bytes:
    """A product already cut out (RGBA, transparent background), a little different per item."""
    import numpy as np
    from PIL import Image

    pixels = np.zeros((side, side, 4), np.uint8)
    inset = side // 5 + number % 7
    pixels[inset : side - inset, inset + 3 : side - inset] = (180, (40 + 37 * number) % 256, 40, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def capacity(limits: dict[str, float], latency_s: float) -> float:
    return min(limits["max_in_flight"] / latency_s, limits["submit_qps"])


def split(items: int, ds_latency: float, aidge_latency: float) -> tuple[int, int]:
    ds_cap, aidge_cap = capacity(DS_LIMITS, ds_latency), capacity(AIDGE_LIMITS, aidge_latency)
    ds_items = round(items * ds_cap / (ds_cap + aidge_cap))
    return ds_items, items - ds_items


def worker_env(
    db_url: str, data_dir: Path, ds: TimedDashScope, aidge: TimedAidge, poll_s: float, checks: str = "on"
) -> dict[str, str]:
    return {
        # The output checks (issue 17) run in every worker, as in a real deployment; "off" shows
        # what they cost the vendor side on this 2-core machine.
        "STUDIO_CHECKS": checks,
        "STUDIO_DATA_DIR": str(data_dir),
        "DATABASE_URL": db_url,
        "DASHSCOPE_API_KEY": DS_KEY,
        "DASHSCOPE_BASE_URL": ds.api_url,
        "DASHSCOPE_POLL_INTERVAL_S": str(poll_s),
        "AIDGE_ACCESS_KEY_NAME": AIDGE_KEY,
        "AIDGE_ACCESS_KEY_SECRET": AIDGE_SECRET,
        "AIDGE_API_BASE": aidge.base_url,
        "AIDGE_POLL_INTERVAL_S": str(poll_s),
        "AIDGE_TRIAL": "false",
        "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulators serve result links on 127.0.0.1
        "STUDIO_APP_WORKER": "false",
        "STUDIO_POLL_TICK_S": "0.05",
        "STUDIO_LEASE_S": "5",
    }


def create_jobs(env: dict[str, str], root: Path, ds_items: int, aidge_items: int) -> dict[str, str]:
    """Every job, QUEUED, through `Studio.submit_job` (the path test_team_processes uses);
    returns job id -> item tag ("ds-0001", "ai-0001")."""
    from providers.base import Operation
    from studio.service import JobRequest, Studio
    from studio.settings import load_settings

    studio = Studio(load_settings(env, root / "none.toml"), worker_threads=0)
    tags: dict[str, str] = {}
    try:
        for number in range(ds_items):
            tag = f"ds-{number:04d}"
            request = JobRequest(
                workflow=Operation.PROMPT_BACKGROUND,
                provider="dashscope",
                image=studio.prepare_image(product_png(number, 320), f"{tag}.png"),
                prompt=f"white marble table, item {tag}",
                count=1,
                source="batch",
            )
            tags[studio.submit_job(request)] = tag
        for number in range(aidge_items):
            tag = f"ai-{number:04d}"
            request = JobRequest(
                workflow=Operation.SCENE_BACKGROUND,
                provider="aidge",
                image=studio.prepare_image(product_png(number, 600), f"{tag}.png"),
                scene_id=SCENE,
                count=2,
                size=(800, 800),
                product_title=f"lipstick {tag}",
                source="batch",
            )
            tags[studio.submit_job(request)] = tag
    finally:
        studio.close()
    return tags


@dataclass
class KillRecord:
    pid: int = 0
    at: float = 0.0
    done_at_kill: int = 0
    held: dict[str, str] = field(default_factory=dict)  # job id -> status at the kill
    taken_over_after_s: dict[str, float] = field(default_factory=dict)


def _pg(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def run_workers(
    env: dict[str, str], db_url: str, root: Path, items: int, kill_at: float, timeout_s: float
) -> tuple[KillRecord, list[dict[str, Any]], float]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(_STRIP)}
    workers: list[subprocess.Popen[bytes]] = []
    for number in range(WORKERS):
        with (root / f"worker{number}.log").open("wb") as log:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "studio", "worker", "--processes", "1"],
                    cwd=root,
                    env={**inherited, **env, "PYTHONPATH": str(ROOT)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    kill = KillRecord()
    started = time.time()
    victim: subprocess.Popen[bytes] | None = None
    by_pid = {worker.pid: worker for worker in workers}
    threshold_at = 0.0
    with _pg(db_url) as conn:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            counts = dict(conn.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall())
            done = int(counts.get("succeeded", 0)) + int(counts.get("failed", 0))
            if victim is None and done >= kill_at * items:
                # Kill a worker while it holds a lease (a job mid-step), if one does within 30 s:
                # a worker between steps holds nothing and would test nothing.
                threshold_at = threshold_at or time.monotonic()
                owners = conn.execute("SELECT lease_owner FROM jobs WHERE lease_owner IS NOT NULL").fetchall()
                pids = [int(str(owner).split(":")[1]) for (owner,) in owners if str(owner).count(":") >= 2]
                holding = [by_pid[pid] for pid in pids if pid in by_pid]
                if holding or time.monotonic() - threshold_at > 30:
                    victim = holding[0] if holding else workers[0]
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    kill.pid, kill.at, kill.done_at_kill = victim.pid, time.time(), done
                    rows = conn.execute(
                        "SELECT id, status FROM jobs WHERE lease_owner LIKE %s", (f"%:{victim.pid}:%",)
                    ).fetchall()
                    kill.held = {str(job_id): str(status) for job_id, status in rows}
                else:
                    time.sleep(0.005)
                    continue
            if victim is not None:
                waiting = [j for j in kill.held if j not in kill.taken_over_after_s]
                if waiting:
                    rows = conn.execute(
                        "SELECT id, status, lease_owner FROM jobs WHERE id = ANY(%s)", (waiting,)
                    ).fetchall()
                    for job_id, status, owner in rows:
                        dead = owner is not None and f":{victim.pid}:" in str(owner)
                        if not dead and (owner is not None or status != kill.held[str(job_id)]):
                            kill.taken_over_after_s[str(job_id)] = time.time() - kill.at
            if done >= items:
                break
            if all(worker.poll() is not None for worker in workers):
                break
            time.sleep(0.1)
        rows = conn.execute(
            "SELECT id, provider, status, remote_id, started_at, finished_at, error_code, attempts "
            "FROM jobs ORDER BY created_at"
        ).fetchall()
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(90)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    jobs = [
        {
            "id": str(r[0]),
            "provider": str(r[1]),
            "status": str(r[2]),
            "remote_id": r[3],
            "started": r[4].timestamp() if r[4] else None,
            "finished": r[5].timestamp() if r[5] else None,
            "error_code": r[6],
            "attempts": int(r[7] or 0),
        }
        for r in rows
    ]
    return kill, jobs, started


def _mean(values: list[float]) -> float:
    return statistics.mean(values) if values else 0.0


def _spread(name: str, values: list[float]) -> dict[str, float]:
    """Mean, median, 90th percentile and maximum of `values` as `<name>_mean` etc."""
    ordered = sorted(values)
    if not ordered:
        return {f"{name}_{key}": 0.0 for key in ("mean", "median", "p90", "max")}
    return {
        f"{name}_mean": statistics.mean(ordered),
        f"{name}_median": statistics.median(ordered),
        f"{name}_p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        f"{name}_max": ordered[-1],
    }


def dashscope_report(emulator: TimedDashScope, tags: dict[str, str]) -> dict[str, Any]:
    tasks = sorted(emulator.tasks.values(), key=lambda task: task.created)
    calls = emulator.requests
    per_item = Counter(_ds_tag(task) for task in tasks)
    ended = [task for task in tasks if task.ended is not None]
    detect = [(task.ended or 0.0) - (task.created + emulator.latency(task.task_id)) for task in ended]
    handoff = [
        later.created - (before.ended or 0.0)
        for before, later in zip(tasks, tasks[1:], strict=False)
        if before.ended is not None
    ]
    latencies = [emulator.latency(task.task_id) for task in tasks]
    wanted = {tag for tag in tags.values() if tag.startswith("ds-")}
    return {
        "tasks": len(tasks),
        "items": len(wanted),
        "items_with_one_task": sum(1 for tag in wanted if per_item[tag] == 1),
        "items_with_more_tasks": {tag: n for tag, n in per_item.items() if n > 1},
        "items_without_task": sorted(tag for tag in wanted if per_item[tag] == 0),
        "submits_ok": sum(1 for call in calls if call.route == "submit" and call.outcome == "ok"),
        "throttled": sum(1 for call in calls if call.outcome.startswith("Throttling")),
        "refused_calls": Counter(call.outcome for call in calls if call.outcome != "ok"),
        "status_calls": sum(1 for call in calls if call.route == "query"),
        "ideal_s": sum(latencies) / DS_LIMITS["max_in_flight"],
        "mean_latency_s": _mean(latencies),
        "first_submit": tasks[0].created if tasks else 0.0,
        "last_seen_done": max((task.ended or 0.0) for task in ended) if ended else 0.0,
        **_spread("detect_s", detect),
        "handoff_s_mean": _mean(handoff),
        "handoff_s_median": statistics.median(handoff) if handoff else 0.0,
        "handoff_s_max": max(handoff, default=0.0),
        "handoffs_over_1s": sorted(round(value, 3) for value in handoff if value > 1.0),
    }


def _ds_tag(task: DashScopeTask) -> str:
    prompt = str((task.body.get("input") or {}).get("ref_prompt") or "")
    return prompt.rpartition("item ")[2]


def aidge_report(emulator: TimedAidge, tags: dict[str, str]) -> dict[str, Any]:
    tasks = sorted(
        (task for task in emulator.tasks.values() if task.api == API_SCENE_SUBMIT), key=lambda t: t.created
    )
    calls = emulator.requests
    per_item = Counter(str(task.params.get("productTitle", "")).rpartition(" ")[2] for task in tasks)
    wanted = {tag for tag in tags.values() if tag.startswith("ai-")}
    seen = emulator.seen_done
    latencies = {task.task_id: emulator.latency(task.task_id) for task in tasks}
    detect = [seen[t.task_id] - (t.created + latencies[t.task_id]) for t in tasks if t.task_id in seen]
    created = [task.created for task in tasks]
    spacing = [b - a for a, b in zip(created, created[1:], strict=False)]
    limits = check_limits(created, [created[i] + latencies[t.task_id] for i, t in enumerate(tasks)])
    # Slots as studio counts them: from submit to the moment the task was seen done.
    studio_busy = sum(seen.get(t.task_id, t.created) - t.created for t in tasks)
    vendor_busy = sum(latencies.values())
    span = (max(seen.values(), default=0.0) - created[0]) if created else 0.0
    return {
        "tasks": len(tasks),
        "items": len(wanted),
        "items_with_one_task": sum(1 for tag in wanted if per_item[tag] == 1),
        "items_with_more_tasks": {tag: n for tag, n in per_item.items() if n > 1},
        "items_without_task": sorted(tag for tag in wanted if per_item[tag] == 0),
        "submits_ok": sum(1 for call in calls if call.api == API_SCENE_SUBMIT and call.outcome == "ok"),
        "throttled": sum(
            1 for call in calls if call.status == 429 or call.outcome in ("ApiCallLimit", "resCode 501")
        ),
        "refused_calls": Counter(call.outcome for call in calls if call.outcome != "ok"),
        "status_calls": sum(1 for call in calls if "query" in call.api),
        "ideal_s": max(vendor_busy / AIDGE_LIMITS["max_in_flight"], len(tasks) / AIDGE_LIMITS["submit_qps"]),
        "scheduled_ideal_s": scheduled_ideal(
            [latencies[t.task_id] for t in tasks],
            int(AIDGE_LIMITS["max_in_flight"]),
            int(AIDGE_LIMITS["submit_qps"]),
        ),
        "mean_latency_s": _mean(list(latencies.values())),
        "first_submit": created[0] if created else 0.0,
        "last_seen_done": max(seen.values(), default=0.0),
        **_spread("detect_s", detect),
        **_spread("submit_spacing_s", spacing),
        "submit_spacing_s_min": min(spacing, default=0.0),
        "submit_spacings_under_0_45_s": sum(1 for value in spacing if value < 0.45),
        "submits_per_s": (len(tasks) - 1) / (created[-1] - created[0]) if len(created) > 1 else 0.0,
        "vendor_slots_used_mean": vendor_busy / span if span else 0.0,
        "studio_slots_held_mean": studio_busy / span if span else 0.0,
        "limit_check": limits,
    }


def scheduled_ideal(latencies: list[float], in_flight: int, per_second: int) -> float:
    """The shortest time any client could take for these tasks, in this order, with zero overhead:
    each submitted at the earliest moment both of the vendor's rules allow (a free slot among
    `in_flight`; at most `per_second` submits in any sliding second), tasks ending exactly at their
    latency. With varying latencies and few slots, a slot is sometimes still busy when the rate
    would allow the next submit, so this is above items / rate even for a perfect scheduler."""
    import heapq

    ends: list[float] = []
    sends: list[float] = []
    last_end = 0.0
    for latency in latencies:
        moment = sends[-1] if sends else 0.0
        if len(sends) >= per_second:
            moment = max(moment, sends[-per_second] + 1.0)
        if len(ends) >= in_flight:
            moment = max(moment, heapq.heappop(ends))
        sends.append(moment)
        heapq.heappush(ends, moment + latency)
        last_end = max(last_end, moment + latency)
    return last_end


def check_limits(created: list[float], done: list[float]) -> dict[str, Any]:
    """Would a vendor with Aidge's declared limits (4 in flight, 2 submits a second) have refused
    any of these submits? Judged two ways for the rate: DashScope's rule (at most 2 submits in any
    sliding second, what tests/emulators/dashscope.py enforces) and a token bucket of 2 a second
    with a burst of 2 (what studio's pacing promises)."""
    in_flight_over = 0
    max_running = 0
    most_in_a_second = 0
    window_over = 0
    tokens, updated = 2.0, created[0] if created else 0.0
    bucket_over = 0
    bucket_over_50ms = 0
    for i, moment in enumerate(created):
        running = sum(1 for j in range(i) if done[j] > moment)
        max_running = max(max_running, running + 1)
        if running >= AIDGE_LIMITS["max_in_flight"]:
            in_flight_over += 1
        recent = sum(1 for j in range(max(0, i - 10), i) if moment - created[j] < 1.0)
        most_in_a_second = max(most_in_a_second, recent + 1)
        if recent >= AIDGE_LIMITS["submit_qps"]:
            window_over += 1
        tokens = min(2.0, tokens + (moment - updated) * AIDGE_LIMITS["submit_qps"])
        updated = moment
        if tokens < 1.0 - 1e-6:
            bucket_over += 1
        if tokens < 0.9:  # more than 50 ms early for a bucket of 2 a second
            bucket_over_50ms += 1
        tokens -= 1.0
    return {
        "max_running_at_a_submit": max_running,
        "submits_over_in_flight_limit": in_flight_over,
        "most_submits_in_any_second": most_in_a_second,
        "submits_over_2_in_any_second": window_over,
        "submits_over_token_bucket": bucket_over,
        "submits_over_token_bucket_by_50ms_or_more": bucket_over_50ms,
    }


def summarise(
    items: int,
    ds: dict[str, Any],
    aidge: dict[str, Any],
    kill: KillRecord,
    jobs: list[dict[str, Any]],
    started: float,
) -> dict[str, Any]:
    finished = [job["finished"] for job in jobs if job["finished"]]
    first = min(value for value in (ds["first_submit"], aidge["first_submit"]) if value)
    last = max(finished, default=time.time())
    achieved = last - first
    ideal = max(ds["ideal_s"], aidge["ideal_s"])
    statuses = Counter(job["status"] for job in jobs)
    by_id = {job["id"]: job for job in jobs}
    held = [
        {
            "job": job_id,
            "provider": by_id[job_id]["provider"],
            "status_at_kill": status,
            "final": by_id[job_id]["status"],
            "error_code": by_id[job_id]["error_code"],
            "taken_over_after_s": round(kill.taken_over_after_s.get(job_id, -1.0), 2),
        }
        for job_id, status in kill.held.items()
    ]
    for report, provider in ((ds, "dashscope"), (aidge, "aidge")):
        own = [job["finished"] for job in jobs if job["provider"] == provider and job["finished"]]
        report["achieved_s"] = max(own, default=first) - report["first_submit"]
        report["fraction"] = report["ideal_s"] / report["achieved_s"] if report["achieved_s"] else 0.0
    return {
        "items": items,
        "jobs": len(jobs),
        "statuses": dict(statuses),
        "failed": [
            {"job": job["id"], "provider": job["provider"], "error_code": job["error_code"]}
            for job in jobs
            if job["status"] != "succeeded"
        ],
        "ideal_s": ideal,
        "achieved_s": achieved,
        "fraction": ideal / achieved if achieved else 0.0,
        "workers_started_to_first_submit_s": first - started,
        "kill": {
            "pid": kill.pid,
            "at_s": kill.at - first if kill.pid else None,
            "done_at_kill": kill.done_at_kill,
            "held_jobs": held,
        },
    }


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"{platform.system()}; load average {load:.2f} at start"
    )


def _log_counts(root: Path) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for number in range(WORKERS):
        text = (root / f"worker{number}.log").read_text(errors="replace")
        counts[f"worker{number}"] = {
            "lost_the_lease": text.count("lost the lease"),
            "resumed_dead_holder": text.count("was held by a process that ended"),
            "error_lines": sum(1 for line in text.splitlines() if ": ERROR:" in line),
            "warning_lines": sum(1 for line in text.splitlines() if ": WARNING:" in line),
            "deadlocks": text.count("OperationalError: (psycopg.errors.DeadlockDetected)"),
        }
    return counts


def measure(args: argparse.Namespace) -> dict[str, Any]:
    ds_items, aidge_items = split(args.items, args.ds_latency, args.aidge_latency)
    server = PostgresServer().start()
    try:
        db_url = server.url(server.new_database())
        with (
            tempfile.TemporaryDirectory(prefix="team-bench-") as folder,
            TimedDashScope(args.ds_latency, args.jitter) as ds,
            TimedAidge(args.aidge_latency, args.jitter) as aidge,
        ):
            root = Path(folder)
            env = worker_env(db_url, root / "data", ds, aidge, args.poll, args.checks)
            made = time.time()
            tags = create_jobs(env, root, ds_items, aidge_items)
            made_s = time.time() - made
            print(f"created {len(tags)} jobs ({ds_items} dashscope, {aidge_items} aidge) in {made_s:.1f} s")
            ideal = max(
                ds_items / capacity(DS_LIMITS, args.ds_latency),
                aidge_items / capacity(AIDGE_LIMITS, args.aidge_latency),
            )
            kill, jobs, started = run_workers(env, db_url, root, args.items, args.kill_at, 3 * ideal + 120)
            ds_report = dashscope_report(ds, tags)
            aidge_report_ = aidge_report(aidge, tags)
            result = summarise(args.items, ds_report, aidge_report_, kill, jobs, started)
            result["create_jobs_s"] = made_s
            result["worker_logs"] = _log_counts(root)
            result["dashscope"] = ds_report
            result["aidge"] = aidge_report_
            if args.keep_logs:
                for number in range(WORKERS):
                    target = args.keep_logs / f"worker{number}.log"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes((root / f"worker{number}.log").read_bytes())
    finally:
        server.stop()
    return result


def print_result(result: dict[str, Any]) -> None:
    print(
        f"\n{result['items']} items: ideal {result['ideal_s']:.1f} s, achieved {result['achieved_s']:.1f} s, "
        f"fraction {result['fraction']:.3f} (target {TARGET})"
    )
    print(f"statuses: {result['statuses']}")
    for name in ("dashscope", "aidge"):
        row = result[name]
        print(
            f"{name:9} items {row['items']:4d} tasks {row['tasks']:4d} one-task {row['items_with_one_task']:4d} "
            f"throttled {row['throttled']} ideal {row['ideal_s']:.1f}s achieved {row['achieved_s']:.1f}s "
            f"fraction {row['fraction']:.3f} detect {row['detect_s_mean'] * 1000:.0f}ms"
        )
    print(
        f"dashscope hand-off mean {result['dashscope']['handoff_s_mean'] * 1000:.0f} ms, "
        f"max {result['dashscope']['handoff_s_max']:.2f} s"
    )
    print(f"aidge limits: {result['aidge']['limit_check']}, submits/s {result['aidge']['submits_per_s']:.3f}")
    kill = result["kill"]
    print(f"kill: pid {kill['pid']} at {kill['at_s']} s after the first submit, {kill['done_at_kill']} done")
    for held in kill["held_jobs"]:
        print(f"  held {held}")
    print(f"worker logs: {result['worker_logs']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="4 worker processes on PostgreSQL, two vendor accounts (emulators), a kill -9 "
        "mid-run. See the module docstring and BENCHMARKS.md."
    )
    parser.add_argument("--items", type=int, default=2000, metavar="N", help="items in all (default 2000)")
    parser.add_argument(
        "--ds-latency", type=float, default=1.5, metavar="S", help="DashScope task latency (default 1.5)"
    )
    parser.add_argument(
        "--aidge-latency", type=float, default=1.8, metavar="S", help="Aidge task latency (default 1.8)"
    )
    parser.add_argument("--jitter", type=float, default=0.2, metavar="F", help="latency spread (default 0.2)")
    parser.add_argument(
        "--poll", type=float, default=0.1, metavar="S", help="poll interval, both (default 0.1)"
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        default=0.3,
        metavar="F",
        help="kill a worker at this share done (default 0.3)",
    )
    parser.add_argument(
        "--checks",
        choices=("on", "off"),
        default="on",
        help="the workers' output checks (default on, as deployed)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH")
    parser.add_argument(
        "--keep-logs", type=Path, default=None, metavar="DIR", help="copy the worker logs here"
    )
    args = parser.parse_args(argv)
    problem = why_not_available()
    if problem:
        print(f"cannot run: {problem}", file=sys.stderr)
        return 2
    if args.items < 10:
        parser.error("--items must be 10 or more")
    started = machine()
    result = measure(args)
    print_result(result)
    usage_self, usage_children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    result["cpu_s"] = {
        "bench_process_with_emulators": round(usage_self.ru_utime + usage_self.ru_stime, 1),
        "worker_processes": round(usage_children.ru_utime + usage_children.ru_stime, 1),
    }
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    document = {
        "benchmark": "team_scale",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": started,
        "command": " ".join(["bench/team_scale.py", *(argv if argv is not None else sys.argv[1:])]),
        "settings": {
            "workers": WORKERS,
            "dashscope_latency_s": args.ds_latency,
            "aidge_latency_s": args.aidge_latency,
            "jitter": args.jitter,
            "poll_interval_s": args.poll,
            "poll_tick_s": 0.05,
            "lease_s": 5,
            "kill_at": args.kill_at,
            "output_checks": args.checks,
            "dashscope_limits": DS_LIMITS,
            "aidge_limits": AIDGE_LIMITS,
        },
        "target_fraction": TARGET,
        **result,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nresults in {args.json}")
    return 0 if result["statuses"].get("succeeded", 0) == args.items else 1


if __name__ == "__main__":
    raise SystemExit(main())
