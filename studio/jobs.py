"""Job states, their pure transitions, and the value types pages and the CLI read.

A job is a row in the store plus files in the data directory. Its status only
moves along `ALLOWED_TRANSITIONS`; the store refuses anything else, so a job
that succeeded can never be run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from providers.base import Money, Operation
from studio.people import Person


class JobStatus(StrEnum):
    QUEUED = "queued"  # persisted, inputs on disk, waiting for a worker slot
    SUBMITTING = "submitting"  # a worker holds the lease and is calling submit
    RUNNING = "running"  # submitted; remote_id stored (async vendors) and being polled
    # The vendor answered with a result and billed it (remote id and cost recorded): only the result
    # download is left, retried for as long as the vendor's link lives. Never sent to the vendor again.
    DOWNLOADING = "downloading"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    # A batch job held back: its batch was paused by the user or stopped at its budget.
    PAUSED = "paused"


# The job-notes key holding a billed answer's results until they are all stored (see studio.worker).
RESULT_NOTE = "result_pending"

TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})
PENDING_STATUSES = frozenset(
    {JobStatus.QUEUED, JobStatus.SUBMITTING, JobStatus.RUNNING, JobStatus.DOWNLOADING}
)

ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset(
        {JobStatus.SUBMITTING, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.PAUSED}
    ),
    # SUBMITTING -> QUEUED: a retryable error before the vendor accepted the task;
    # SUBMITTING -> PAUSED: the batch's budget would be exceeded, checked before the call.
    # SUBMITTING -> DOWNLOADING: a synchronous vendor answered with its (billed) result.
    JobStatus.SUBMITTING: frozenset(
        {
            JobStatus.QUEUED,
            JobStatus.RUNNING,
            JobStatus.DOWNLOADING,
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
            JobStatus.CANCELED,
            JobStatus.PAUSED,
        }
    ),
    JobStatus.PAUSED: frozenset({JobStatus.QUEUED, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.DOWNLOADING, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}
    ),
    # No way back to the vendor from here: the result is billed, it is downloaded or lost.
    JobStatus.DOWNLOADING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


@dataclass(frozen=True)
class JobError:
    code: str
    message: str


@dataclass(frozen=True)
class JobOutput:
    index: int  # 1-based, matching the file name out_01.png
    path: str  # absolute path of the stored image file
    width: int
    height: int
    seed: int | None = None
    thumbnail_path: str | None = None
    source_url: str | None = None  # the vendor URL, kept for reference only
    review: str | None = None  # "approved" | "rejected" | None
    favourite: bool = False
    note: str = ""
    decided_by: str | None = None  # who made the last review decision (a person key)
    # The output's check against its input product (studio.output_checks): None until checked.
    checks: dict[str, Any] | None = None
    # What the check found: None = not checked yet, () = nothing, else flags like "colour_shift".
    check_flags: tuple[str, ...] | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.check_flags)


@dataclass(frozen=True)
class JobView:
    """Everything a page or the CLI shows about one job."""

    job_id: str
    created_at: datetime
    workflow: Operation
    provider: str
    status: JobStatus
    params: dict[str, Any]
    prompt: str = ""
    negative_prompt: str = ""
    scene_id: str | None = None
    count: int = 1
    size: tuple[int, int] | None = None
    input_path: str | None = None
    mask_path: str | None = None  # the mask the user gave (or drew)
    used_mask_path: str | None = None  # the mask actually sent / used
    reference_path: str | None = None
    product_title: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    remote_id: str | None = None
    attempts: int = 0
    outputs: tuple[JobOutput, ...] = ()
    cost: Money | None = None
    cost_estimate: Money | None = None
    error: JobError | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    source: str = "ui"
    batch_id: str | None = None
    images: int = 0  # output images stored (0 until the job succeeds)
    seed: int | None = None
    updated_at: datetime | None = None
    sku: str | None = None
    # Who made the job (`Person.key`, "cli:<user>"); None: made before the studio recorded it.
    created_by: str | None = None
    # When this attempt's paid vendor call may have started (None: not yet; see the worker's
    # recovery: a job that died before it is run again, one that died after is not).
    send_started_at: datetime | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES

    @property
    def result_expires_at(self) -> datetime | None:
        """When the vendor's result links of a DOWNLOADING job stop working; None otherwise."""
        pending = self.notes.get(RESULT_NOTE)
        if self.status is not JobStatus.DOWNLOADING or not isinstance(pending, dict):
            return None
        try:
            return datetime.fromtimestamp(float(pending["expires_at"]), UTC)
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class JobFilter:
    """History filters; every field None means no restriction."""

    date_from: date | None = None
    date_to: date | None = None  # inclusive
    workflows: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    text: str = ""  # matches prompt, product title, scene id or job id
    person: str | None = None  # only jobs made by this person key
    # Only what this person may see (`studio.store_history` has the rule); None: everything.
    viewer: Person | None = None


@dataclass(frozen=True)
class JobRow:
    """One line of the History table (no outputs loaded)."""

    job_id: str
    created_at: datetime
    workflow: str
    provider: str
    status: str
    images: int
    duration_s: float | None
    cost_amount: str | None  # decimal string, e.g. "0.16"
    cost_currency: str | None
    error_code: str | None
    error_message: str | None
    prompt: str
    thumbnail_path: str | None
    created_by: str | None = None


@dataclass(frozen=True)
class JobPage:
    rows: tuple[JobRow, ...]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class ProviderTotal:
    provider: str
    currency: str | None  # None for jobs with no cost (local engine, price not set)
    jobs: int
    images: int
    amount: str | None  # decimal string in `currency`
    succeeded: int
    failed: int


@dataclass(frozen=True)
class DayStat:
    day: date
    provider: str
    currency: str | None
    images: int
    amount: str | None


class BatchStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    CANCELED = "canceled"
    DONE = "done"  # derived: every job has ended


class ReviewState(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class BatchView:
    batch_id: str
    created_at: datetime
    name: str
    status: BatchStatus
    pause_reason: str | None  # "user" | "budget" while paused
    budget: Money | None
    items: int
    source: str = "ui"
    created_by: str | None = None  # who started it; None: before the studio recorded it
    shared: bool = False  # the team sees it (members review it, viewers too)
    # The batch's options kept with it, e.g. {"reject_flagged": true} (studio.output_checks).
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def rejects_flagged(self) -> bool:
        """Images the output check flags are rejected automatically (unless someone reviewed them)."""
        return bool(self.notes.get("reject_flagged"))


@dataclass(frozen=True)
class BatchFailure:
    job_id: str
    sku: str | None
    provider: str
    code: str | None
    message: str | None


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands: counts per status and provider, spend, pace and failures."""

    batch: BatchView
    by_status: dict[str, int]
    by_provider: dict[str, dict[str, int]]
    spent: dict[str, Money]  # currency -> cost of finished jobs
    committed: dict[str, Money]  # currency -> spent plus the estimates of jobs in flight
    started_at: datetime | None
    last_finished_at: datetime | None
    failures: tuple[BatchFailure, ...]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def finished(self) -> int:
        return sum(self.by_status.get(str(status), 0) for status in TERMINAL_STATUSES)

    @property
    def remaining(self) -> int:
        return self.total - self.finished
