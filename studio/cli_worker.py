"""`python -m studio worker`: run jobs in worker processes, on this machine or any other.

    python -m studio worker                  one worker process per CPU core, until SIGTERM/SIGINT
    python -m studio worker --processes 3    three worker processes
    python -m studio worker --once           take every job due now, run it, exit (scripts, tests)

Every process is a whole `studio.worker.Worker` over the same database (DATABASE_URL)
and file storage (STUDIO_STORAGE): jobs are claimed through leases in the database,
so any number of processes on any number of machines share the queue safely. The
process model: one process per core spreads the local engine's CPU work (cutouts,
composition) over the cores; inside each process the worker's threads
(STUDIO_WORKER_THREADS) wait on vendors, whose jobs are I/O-bound.

With `--processes N` above 1 this process is a supervisor: it starts N children
(`worker --processes 1`), passes SIGTERM/SIGINT on to them and waits. A worker that
is asked to stop takes no new job, lets the jobs in progress finish their current
step (a submit is never cut off half way) and hands their leases back, then exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Any

from studio.service import Studio
from studio.settings import load_settings

EXIT_OK = 0
logger = logging.getLogger("studio.worker_command")


def add_commands(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="run queued jobs in worker processes (one per core by default) until stopped",
        description=(
            "Run queued jobs until SIGTERM or Ctrl-C. Start as many as you like, on any machine with the "
            "same DATABASE_URL and STUDIO_STORAGE settings."
        ),
    )
    worker.add_argument(
        "--processes",
        type=_positive,
        default=None,
        metavar="N",
        help=f"worker processes to run (default: one per CPU core, here {os.cpu_count() or 1})",
    )
    worker.add_argument(
        "--once", action="store_true", help="run every job that is due now in this process, then exit"
    )
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    logging.getLogger("studio").setLevel(logging.INFO)
    if args.once:
        return run_once()
    processes = args.processes if args.processes is not None else (os.cpu_count() or 1)
    if processes == 1:
        return run_until_stopped()
    return supervise(processes)


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, got '{text}'")
    return number


def run_once() -> int:
    """Claim every job due now and run it here (inline), then exit."""
    studio = Studio(load_settings(), worker_threads=0)
    try:
        taken = studio.run_pending()
        logger.info("worker %s ran %d job step(s)", studio.worker.owner, taken)
    finally:
        studio.close()
    return EXIT_OK


def run_until_stopped() -> int:
    """One worker in this process until SIGTERM or SIGINT; then a graceful stop."""
    stop = threading.Event()
    _on_stop_signals(lambda signum: _asked_to_stop(stop, signum))
    settings = load_settings()
    studio = Studio(settings)
    try:
        files = studio.artifacts.files.label
        logger.info(
            "worker %s started: database %s, files in the %s, %d thread(s)",
            studio.worker.owner,
            settings.safe_database_url,
            files,
            studio.worker.threads,
        )
        studio.start_worker()
        while not stop.wait(1.0):
            if not studio.worker.is_alive:
                logger.error("worker %s: the dispatcher stopped unexpectedly; exiting", studio.worker.owner)
                return 1
    finally:
        logger.info(
            "worker %s stopping: finishing the current steps and handing leases back", studio.worker.owner
        )
        studio.close()
        logger.info("worker %s stopped", studio.worker.owner)
    return EXIT_OK


def supervise(processes: int) -> int:
    """Start `processes` single-worker children, pass stop signals on, wait for them all."""
    stop = threading.Event()
    _on_stop_signals(lambda signum: _asked_to_stop(stop, signum))
    command = [sys.executable, "-m", "studio", "worker", "--processes", "1"]
    children = [subprocess.Popen(command) for _ in range(processes)]
    logger.info("started %d worker processes: %s", processes, ", ".join(str(c.pid) for c in children))
    try:
        while not stop.is_set() and any(child.poll() is None for child in children):
            stop.wait(1.0)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            _wait(child)
    codes = [child.returncode for child in children]
    logger.info("worker processes ended with %s", codes)
    return max((code for code in codes if code and code > 0), default=EXIT_OK)


def _wait(child: subprocess.Popen[bytes]) -> None:
    # Children finish their current steps first: a vendor submit or a local render may take a while.
    deadline = time.monotonic() + 120.0
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if child.poll() is None:
        logger.warning("worker process %d did not stop in time; killing it", child.pid)
        child.kill()
        child.wait()


def _asked_to_stop(stop: threading.Event, signum: int) -> None:
    if stop.is_set():
        return
    logger.info("received %s: stopping", signal.Signals(signum).name)
    stop.set()


def _on_stop_signals(handler: Any) -> None:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        handler(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
