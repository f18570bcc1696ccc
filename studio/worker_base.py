"""What every part of the worker shares: its limits, the state of one run, and the worker's fields.

`WorkerBase` holds the store, artifacts, adapters, clock and pool state that
`studio.worker.Worker` is built from, plus the two steps every phase ends
with: releasing hosted inputs and recording a failure (`_fail`).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import statistics
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from providers.base import BackdropPlate, Money, Operation, ProviderAdapter
from providers.errors import ProviderError
from providers.fetch import FetchPolicy, ResultFetcher
from studio import pricing
from studio.artifacts import Artifacts
from studio.errors import StudioError
from studio.input_links import InputLinks, hosted_handles
from studio.jobs import JobStatus, JobView
from studio.storage_faults import StorageFault
from studio.store import ClaimedJob, Store

# One logger for every worker module: log handlers and filters name "studio.worker".
logger = logging.getLogger("studio.worker")

MAX_ATTEMPTS = 5
# Status calls that fail in a row before a task is given up: with backoff capped at 5 minutes,
# 20 failures span about an hour, so a vendor outage does not orphan tasks we are paying for.
MAX_POLL_FAILURES = 20
# How long a result link is tried when the vendor does not say how long its links live.
DEFAULT_RESULT_TTL_S = 3600.0
# Task durations remembered per provider, and how many make a "usual duration" worth acting on.
DURATIONS_KEPT = 25
DURATIONS_NEEDED = 3
# The lead a submit claim reserves its send moment ahead by: the longest recent claim-to-send
# time (inputs read, hosted, checked), a little more, at most this.
MAX_SUBMIT_LEAD_S = 0.5
SUBMIT_LEAD_SLACK_S = 0.002


def is_synchronous(adapter: ProviderAdapter) -> bool:
    """An adapter that does not implement `poll` answers every submit with the final result."""
    return type(adapter).poll is ProviderAdapter.poll


@dataclass
class Run:
    """One claimed job being worked on; `status` follows what we have written to the store."""

    claim: ClaimedJob
    adapter: ProviderAdapter
    status: JobStatus
    attempts: int
    # Inputs published for this run (object keys), removed when the job ends or the submit fails.
    hosted: list[str] = field(default_factory=list)
    # Notes this run added (where inputs were hosted), merged into the job's notes when it ends.
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def job(self) -> JobView:
        return self.claim.job


class JobProblem(StudioError):
    """A failure we can explain to the user, raised inside a run and recorded on the job."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code)
        self.message = message


class WorkerBase:
    """The worker's state; the phases (`worker_results`, `worker_failures`, `worker`) build on it."""

    def __init__(
        self,
        store: Store,
        artifacts: Artifacts,
        adapters: Mapping[str, ProviderAdapter],
        *,
        clock: Callable[[], float] = time.time,
        owner: str | None = None,
        threads: int = 2,
        downloader: Callable[[str], bytes] | None = None,
        poll_tick_s: float = 0.25,
        lease_s: float = 60.0,
        rng: random.Random | None = None,
        prices: pricing.PriceOverrides | None = None,
        links: InputLinks | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if threads < 0:
            raise ValueError(f"threads must be 0 (inline) or more, got {threads}")
        self.store = store
        self.artifacts = artifacts
        self.adapters = dict(adapters)
        # The data folder fault last logged (a full disk is said once, not every tick).
        self._storage_fault: StorageFault | None = None
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.threads = threads
        self.poll_tick_s = poll_tick_s
        self.lease_s = lease_s
        self._clock = clock
        # Waits for a reserved submit moment (tests with a fake clock pass one that advances it).
        self._sleep = sleep
        # Recent task durations per provider (claim to seen done), for polling faster near the end.
        self._durations: dict[str, deque[float]] = {}
        # Recent claim-to-send times per provider (`_submit_lead`).
        self._leads: dict[str, deque[float]] = {}
        self._durations_lock = threading.Lock()
        # Result links are fetched through the guarded session: public addresses only by default.
        self._download = downloader or ResultFetcher(FetchPolicy())
        self._rng = rng or random.Random()
        self._prices = dict(prices or {})
        self.links = links or InputLinks(None)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._run_lock = threading.Lock()
        self._active_lock = threading.Lock()
        self._active: dict[str, ClaimedJob] = {}
        # Units of work in the pool (one job, or one batch submit carrying several jobs).
        self._units = 0
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        # Called with a job's id once it succeeded and its outputs are stored (the output checks).
        self.on_succeeded: Callable[[str], object] | None = None

    def _learn_duration(self, provider: str, seconds: float) -> None:
        with self._durations_lock:
            self._durations.setdefault(provider, deque(maxlen=DURATIONS_KEPT)).append(seconds)

    def _learn_lead(self, provider: str, seconds: float) -> None:
        with self._durations_lock:
            self._leads.setdefault(provider, deque(maxlen=DURATIONS_KEPT)).append(max(0.0, seconds))

    def _submit_lead(self, provider: str) -> float:
        """How far ahead a claim reserves its send moment, so the submit is ready by then and does
        not have to give its moment up (`Worker._wait_for_send_moment`)."""
        with self._durations_lock:
            seen = list(self._leads.get(provider, ()))
        return min(MAX_SUBMIT_LEAD_S, max(seen) + SUBMIT_LEAD_SLACK_S) if seen else 0.0

    def _typical_duration(self, provider: str) -> float | None:
        """The median of the provider's recent task durations in this process, or None while
        there are too few to go by."""
        with self._durations_lock:
            seen = list(self._durations.get(provider, ()))
        return statistics.median(seen) if len(seen) >= DURATIONS_NEEDED else None

    def _release_inputs(self, run: Run) -> None:
        handles = dict.fromkeys([*hosted_handles(run.job.notes), *run.hosted])
        if handles:
            self.links.release(handles)
            run.hosted.clear()

    def _fail(self, run: Run, code: str, message: str, **fields: Any) -> None:
        self._release_inputs(run)
        moved = self.store.transition(
            run.job.job_id,
            {run.status},
            JobStatus.FAILED,
            owner=self.owner,
            error_code=code,
            error_message=message,
            **fields,
        )
        if not moved:
            logger.warning(
                "job %s could not be marked failed (%s); it changed meanwhile", run.job.job_id, code
            )


class Lost(Exception):
    """A billed result that cannot be kept (no data, no link); the message says why."""


def in_flight_limit(adapter: ProviderAdapter) -> int:
    """Jobs of a provider that may be at the vendor at once: its concurrent calls, times the jobs one
    call carries where the vendor takes batches."""
    return adapter.max_in_flight * max(1, adapter.max_batch_submit)


def costs_nothing(adapter: ProviderAdapter, workflow: str) -> bool:
    price = type(adapter).prices.get(Operation(workflow))
    return price is not None and price.free


def lost_message(label: str, cost: Money | None, reason: str) -> str:
    charge = f" ({cost.as_str()} {cost.currency})" if cost else ""
    return (
        f"{label} made this image and billed it{charge}, but the result was lost: {reason.rstrip('.')}. "
        f"The charge is recorded with this job; ask {label} support about it before running the job again."
    )


def stored_plate(record: object, read: Callable[[str], bytes]) -> BackdropPlate | None:
    """The user backdrop a job was submitted with: its photo was copied into the job's own
    files at submit, so deleting it from the library later cannot break a queued job."""
    if not isinstance(record, Mapping) or not record.get("path"):
        return None
    x0, y0, x1, y1 = (float(v) for v in record.get("surface") or (0.0, 0.7, 1.0, 0.7))
    return BackdropPlate(
        image=read(str(record["path"])),
        surface=(x0, y0, x1, y1),
        backdrop_id=str(record.get("backdrop_id") or ""),
        name=str(record.get("name") or ""),
    )


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def gave_up(exc: ProviderError, attempts: int) -> str:
    return f"{exc.user_message} (gave up after {attempts} attempts)"


def utc_at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
