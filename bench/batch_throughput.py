"""Batch throughput benchmark: how much of a vendor's capacity the studio's worker actually uses.

Run: `.venv/bin/python bench/batch_throughput.py [--items 10] [--latency 2.0 ...] [--json PATH]`
(writes bench/results/batch_throughput.json by default; several --latency values make one
run each, with a fresh emulator).

A loopback DashScope emulator (tests/emulators/dashscope.py) plays the vendor
with its account limits, 1 task in flight and 2 submits a second (a submit over
either limit is answered 429 Throttling*). Task i is done `latency x (1 +/- jitter)`
seconds after it was created, on the emulator's clock; the same sequence of
latencies is used for both clients. The jitter (default 20 %) keeps a fixed
latency from lining up with a poll cadence, which would make the time lost
waiting for the next status call an accident of phase rather than its average.
With one task in flight the best any client can do is the sum of the latencies,
so throughput is a fraction of the vendor's limit: ideal time / achieved time
(1.0 = the vendor's slot is never idle).

Measured in the same run, one after the other:

(a) worker: the app's own path. A `Studio` (settings from a dict of environment
    variables, data in a temporary folder, the default 2 worker threads and the
    default dispatcher tick unless --tick), `Batches.start` with N items on
    provider dashscope, then the worker thread runs them while this script waits
    for the batch to be done. DashScope's poll interval is --poll (default 0.05 s).
    Time: from starting the worker to the last job's finish (its result
    downloaded and stored).
(b) naive: the DashScope adapter (built by the same Studio) called directly in a
    loop: submit one job, sleep --poll and poll until it is done, download its
    images, then the next. Same photos, prompt and poll interval.

Where the time between tasks went, from the emulator's own timestamps:
`detect` = when a status call first saw a task done minus when it was done,
`hand-off` = next task created minus that moment (store the result, claim the
next job, upload its input, submit); `poll every` = a task's time at the vendor
divided by its status calls.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.emulators.dashscope import DashScopeEmulator, Task  # noqa: E402

KEY = "sk-bench-0123456789abcdef"
PROMPT = "white marble table, soft window light"
DEFAULT_JSON = ROOT / "bench" / "results" / "batch_throughput.json"
TARGET = 0.95


class LatencyEmulator(DashScopeEmulator):
    """The DashScope emulator with a latency per task: the k-th task created takes latencies[k % n]."""

    def __init__(self, latencies: list[float], **kwargs: Any) -> None:
        super().__init__(KEY, queries_to_finish=1, submit_qps=2.0, max_running=1, **kwargs)
        self.latencies = latencies
        self._latency_of: dict[str, float] = {}
        self._offset = 0

    def restart_sequence(self) -> None:
        """The next task created takes latencies[0] again (each client gets the same sequence)."""
        with self._lock:
            self._offset = len(self._tasks)

    def latency(self, task: Task) -> float:
        with self._lock:
            return self._latency(task)

    def _latency(self, task: Task) -> float:
        if task.task_id not in self._latency_of:
            number = sum(1 for other in self._tasks.values() if other.created < task.created) - self._offset
            self._latency_of[task.task_id] = self.latencies[number % len(self.latencies)]
        return self._latency_of[task.task_id]

    def _advance(self, task: Task, *, queried: bool) -> None:
        # Called with the lock held; the base class reads seconds_to_finish there.
        self.seconds_to_finish = self._latency(task)
        super()._advance(task, queried=queried)


@dataclass(frozen=True)
class PlanItem:
    """A checked batch row (the shape `Batches.start` takes, like studio.manifest.BatchItem)."""

    sku: str
    request: Any
    checked: Any


def product_png(number: int) -> bytes:
    """A product already cut out (RGBA, transparent background), a little different per item."""
    import numpy as np
    from PIL import Image

    pixels = np.zeros((480, 640, 4), np.uint8)
    pixels[120:380, 180 + 6 * number : 420 + 6 * number] = (180, (40 + 25 * number) % 256, 40, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def _env(api_url: str, data_dir: Path, poll_s: float, tick_s: float | None) -> dict[str, str]:
    env = {
        "STUDIO_DATA_DIR": str(data_dir),
        "DASHSCOPE_API_KEY": KEY,
        "DASHSCOPE_BASE_URL": api_url,
        "DASHSCOPE_POLL_INTERVAL_S": str(poll_s),
        "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
    }
    if tick_s is not None:
        env["STUDIO_POLL_TICK_S"] = str(tick_s)
    return env


def _timeline(emulator: LatencyEmulator, first_request: int, earlier: set[str]) -> dict[str, Any]:
    """Throttled calls and where the time went, for the tasks and calls made since the phase began."""
    calls = emulator.requests[first_request:]
    tasks = sorted(
        (task for task_id, task in emulator.tasks.items() if task_id not in earlier),
        key=lambda task: task.created,
    )
    ended = [task for task in tasks if task.ended is not None]
    detect = [(task.ended or 0.0) - (task.created + emulator.latency(task)) for task in ended]
    handoff = [
        later.created - (earlier_task.ended or 0.0)
        for earlier_task, later in zip(tasks, tasks[1:], strict=False)
        if earlier_task.ended is not None
    ]
    poll_every = [((task.ended or 0.0) - task.created) / task.queries for task in ended if task.queries]
    return {
        "tasks": len(tasks),
        "submits_ok": sum(1 for call in calls if call.route == "submit" and call.outcome == "ok"),
        "throttled": sum(1 for call in calls if call.outcome.startswith("Throttling")),
        "status_calls": sum(1 for call in calls if call.route == "query"),
        "poll_every_s": statistics.mean(poll_every) if poll_every else 0.0,
        "detect_s_mean": statistics.mean(detect) if detect else 0.0,
        "handoff_s_mean": statistics.mean(handoff) if handoff else 0.0,
        "detect_s": [round(value, 4) for value in detect],
        "handoff_s": [round(value, 4) for value in handoff],
        "ideal_s": sum(emulator.latency(task) for task in tasks),
        "first_created": tasks[0].created if tasks else 0.0,
        "last_ended": ended[-1].ended if ended else 0.0,
    }


def _result(started: float, finished: float, succeeded: int, timeline: dict[str, Any]) -> dict[str, Any]:
    achieved = finished - started
    first, last = timeline.pop("first_created"), timeline.pop("last_ended")
    return {
        "succeeded": succeeded,
        "achieved_s": achieved,
        "fraction": timeline["ideal_s"] / achieved,
        "first_submit_after_s": first - started,
        "tail_s": finished - last,
        **timeline,
    }


class _LeaseWarnings(logging.Handler):
    """Counts the worker's "lost the lease" warnings (with one worker there is nobody to lose it to)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "lost the lease" in record.getMessage():
            self.count += 1


def run_worker(
    emulator: LatencyEmulator, items: int, poll_s: float, tick_s: float | None, root: Path
) -> dict[str, Any]:
    from providers.base import Operation
    from studio.jobs import BatchStatus, JobStatus
    from studio.service import JobRequest, Studio
    from studio.settings import load_settings

    env = _env(emulator.api_url, root / "worker-data", poll_s, tick_s)
    studio = Studio(load_settings(env, secrets_path=root / "none.toml"))
    warnings = _LeaseWarnings()
    logging.getLogger("studio.worker").addHandler(warnings)
    try:
        plan = []
        for number in range(items):
            request = JobRequest(
                workflow=Operation.PROMPT_BACKGROUND,
                provider="dashscope",
                image=studio.prepare_image(product_png(number), f"sku{number}.png"),
                prompt=PROMPT,
                source="batch",
            )
            plan.append(PlanItem(f"SKU-{number:03d}", request, studio.check_job(request)))
        batch_id = studio.batches.start(plan, name="throughput bench")
        emulator.restart_sequence()
        first_request, earlier = len(emulator.requests), set(emulator.tasks)
        started = time.time()
        studio.start_worker()
        deadline = started + 4 * sum(emulator.latencies) * items / len(emulator.latencies) + 60
        while studio.batches.progress(batch_id).batch.status is not BatchStatus.DONE:
            if time.time() > deadline:
                break
            time.sleep(0.01)
        jobs = studio.batches.jobs(batch_id)
        finished = max((job.finished_at.timestamp() for job in jobs if job.finished_at), default=time.time())
        succeeded = sum(1 for job in jobs if job.status is JobStatus.SUCCEEDED)
        used = {"poll_tick_s": studio.worker.poll_tick_s, "worker_threads": studio.worker.threads}
    finally:
        studio.close()
        logging.getLogger("studio.worker").removeHandler(warnings)
    timeline = _timeline(emulator, first_request, earlier)
    return {**_result(started, finished, succeeded, timeline), **used, "lease_warnings": warnings.count}


def run_naive(emulator: LatencyEmulator, items: int, poll_s: float, root: Path) -> dict[str, Any]:
    from providers.base import GenerationRequest, Operation, TaskState
    from providers.dashscope import DashScope
    from providers.fetch import FetchPolicy, ResultFetcher
    from studio.service import Studio
    from studio.settings import load_settings

    http_download = ResultFetcher(FetchPolicy(allow_private=True))  # the emulator is on 127.0.0.1

    env = _env(emulator.api_url, root / "naive-data", poll_s, None)
    studio = Studio(load_settings(env, secrets_path=root / "none.toml"))  # its worker never starts
    try:
        adapter = studio.adapters["dashscope"]
        assert isinstance(adapter, DashScope)
        requests = [
            GenerationRequest(Operation.PROMPT_BACKGROUND, image=product_png(number), prompt=PROMPT)
            for number in range(items)
        ]
        emulator.restart_sequence()
        first_request, earlier = len(emulator.requests), set(emulator.tasks)
        started = time.time()
        succeeded = 0
        for request in requests:
            remote_id = adapter.submit(request).remote_id or ""
            while True:
                time.sleep(poll_s)
                update = adapter.poll(remote_id)
                if update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
                    break
            if update.state is TaskState.SUCCEEDED:
                for output in update.outputs:
                    if output.data is None and output.url:
                        http_download(output.url)
                succeeded += 1
        finished = time.time()
    finally:
        studio.close()
    return _result(started, finished, succeeded, _timeline(emulator, first_request, earlier))


def measure(
    items: int, latency_s: float, jitter: float, poll_s: float, tick_s: float | None
) -> dict[str, Any]:
    rng = random.Random(20261122)
    latencies = [latency_s * (1 + rng.uniform(-jitter, jitter)) for _ in range(items)]
    emulator = LatencyEmulator(latencies)
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as folder, emulator:
        worker = run_worker(emulator, items, poll_s, tick_s, Path(folder))
        naive = run_naive(emulator, items, poll_s, Path(folder))
    return {
        "items": items,
        "latency_s": latency_s,
        "jitter": jitter,
        "poll_interval_s": poll_s,
        "ideal_s": sum(latencies),
        "worker": worker,
        "naive": naive,
        "worker_vs_naive": worker["fraction"] / naive["fraction"],
        "worker_meets_target": worker["fraction"] >= TARGET,
    }


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"{platform.system()}; load average {load:.2f} at start"
    )


def print_run(run: dict[str, Any]) -> None:
    print(
        f"\n{run['items']} items x {run['latency_s']:g} s (+/-{run['jitter']:.0%}), 1 in flight, "
        f"2 submits/s, poll {run['poll_interval_s']:g} s: ideal {run['ideal_s']:.2f} s"
    )
    print(
        f"{'':7} {'time':>8} {'fraction':>8} {'throttled':>9} {'poll every':>10} {'detect':>7} "
        f"{'hand-off':>8} {'1st submit':>10} {'tail':>6}"
    )
    for name in ("worker", "naive"):
        row = run[name]
        print(
            f"{name:7} {row['achieved_s']:>7.2f}s {row['fraction']:>8.3f} {row['throttled']:>9d} "
            f"{row['poll_every_s'] * 1000:>8.0f}ms {row['detect_s_mean'] * 1000:>5.0f}ms "
            f"{row['handoff_s_mean'] * 1000:>6.0f}ms {row['first_submit_after_s'] * 1000:>8.0f}ms "
            f"{row['tail_s'] * 1000:>4.0f}ms"
        )
    if run["worker"]["lease_warnings"]:
        print(
            f"worker logged 'lost the lease' {run['worker']['lease_warnings']} time(s) with no other worker"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Batch throughput of the studio worker against DashScope's limits (1 in flight, "
        "2 submits/s), next to a naive submit-poll loop. See the module docstring and BENCHMARKS.md.",
    )
    parser.add_argument("--items", type=int, default=10, metavar="N", help="items in the batch (default 10)")
    parser.add_argument(
        "--latency",
        type=float,
        nargs="+",
        default=[2.0],
        metavar="S",
        help="seconds each task takes (default 2.0); several values make one run each",
    )
    parser.add_argument(
        "--jitter", type=float, default=0.2, metavar="F", help="latency spread, +/- fraction (default 0.2)"
    )
    parser.add_argument(
        "--poll", type=float, default=0.05, metavar="S", help="DashScope poll interval (default 0.05)"
    )
    parser.add_argument(
        "--tick", type=float, default=None, metavar="S", help="worker dispatcher tick (default: the app's)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        metavar="PATH",
        help=f"results file (default {DEFAULT_JSON})",
    )
    args = parser.parse_args(argv)
    if args.items < 2 or min(args.latency) <= 0 or args.poll <= 0 or not 0 <= args.jitter < 1:
        parser.error("--items must be 2 or more, --latency and --poll more than 0, --jitter in [0, 1)")

    started = machine()
    runs = []
    for latency in args.latency:
        run = measure(args.items, latency, args.jitter, args.poll, args.tick)
        print_run(run)
        runs.append(run)
    result = {
        "benchmark": "batch_throughput",
        "date": time.strftime("%Y-%m-%d"),
        "machine": started,
        "command": " ".join(["bench/batch_throughput.py", *(argv if argv is not None else sys.argv[1:])]),
        "vendor_limits": {"max_in_flight": 1, "submit_qps": 2.0},
        "target_worker_fraction": TARGET,
        "runs": runs,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nresults in {args.json}")
    complete = all(run[name]["succeeded"] == args.items for run in runs for name in ("worker", "naive"))
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
