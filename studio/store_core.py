"""The store's foundation: the engine, its transactions, the value types and the row mapping.

`studio.store.Store` is composed of sections (job state and claims, history,
batches, preferences) that all stand on `StoreCore`; this module owns what
they share: the SQLite/PostgreSQL engine factory, write/read transactions,
the values callers hand in (`NewJob`, `NewOutput`, `NewBatch`) and the mapping
of rows to `JobView`/`JobRow`. Paths are stored relative to the data
directory; views carry absolute paths.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from datetime import time as dt_time
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from providers.base import Money, Operation
from studio.errors import StudioError
from studio.jobs import PENDING_STATUSES, JobError, JobOutput, JobRow, JobStatus, JobView
from studio.migrations import jobs_table as jobs
from studio.migrations import migrate, outputs_table
from studio.storage_faults import StorageFault, storage_fault

MAX_PAGE_SIZE = 500
# Columns the worker and service may set through `transition`/`update_leased`.
_WRITABLE = frozenset(c.name for c in jobs.columns) - {"id", "status", "created_at", "created_day"}


class Unset:
    """Marks a keyword left out (None is a real value: "not reviewed")."""


@dataclass(frozen=True)
class NewBatch:
    batch_id: str
    name: str = ""
    budget: Money | None = None
    source: str = "ui"
    created_at: datetime | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)
    created_by: str | None = None  # a person key (studio.people.Person.key) or "cli:<user>"
    shared: bool = False  # the team sees it


class StoreError(StudioError, RuntimeError):
    """The store was asked for something it cannot do (a programming error, not user input)."""

    default_code = "store_error"


class InvalidTransition(StoreError):
    """A status change that `ALLOWED_TRANSITIONS` forbids, e.g. re-running a succeeded job."""

    default_code = "invalid_transition"


class ClaimKind(StrEnum):
    SUBMIT = "submit"  # a queued job, now SUBMITTING with our lease
    RECOVER_SUBMIT = "recover_submit"  # SUBMITTING whose owner's lease expired (crash)
    POLL = "poll"  # RUNNING with a remote id, due for a status call
    DOWNLOAD = "download"  # DOWNLOADING: the vendor billed a result that is still to be fetched


@dataclass(frozen=True)
class NewJob:
    """A job as the service persists it: always created QUEUED."""

    job_id: str
    workflow: Operation
    provider: str
    input_path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    prompt: str = ""
    negative_prompt: str = ""
    scene_id: str | None = None
    product_title: str = ""
    count: int = 1
    size: tuple[int, int] | None = None
    seed: int | None = None
    mask_path: str | None = None
    reference_path: str | None = None
    estimate: Money | None = None
    source: str = "ui"
    batch_id: str | None = None
    created_at: datetime | None = None  # None: the store's clock
    # Facts known at creation (e.g. the edge-guide files and their prompts).
    notes: Mapping[str, Any] = field(default_factory=dict)
    # The product's SKU in a batch (export file names, review grouping).
    sku: str | None = None
    # Who made it: a person key (studio.people.Person.key) or "cli:<user>".
    created_by: str | None = None


@dataclass(frozen=True)
class NewOutput:
    index: int
    path: str  # relative to the data directory
    width: int
    height: int
    seed: int | None = None
    thumbnail_path: str | None = None
    source_url: str | None = None


@dataclass(frozen=True)
class ClaimedJob:
    """What `claim_next` hands a worker: the job, why it was claimed, and lease facts."""

    job: JobView
    kind: ClaimKind
    lease_expires_at: datetime
    poll_failures: int = 0


def database_url(url: str) -> str:
    """`postgresql://` and `postgres://` without a driver mean psycopg 3 (the driver in
    requirements.txt); SQLAlchemy alone would pick psycopg2, which is not installed."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare) :]
    return url


def create_store_engine(url: str) -> Engine:
    """One Engine per process; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE for writes.

    PostgreSQL (a database shared by several processes and machines) needs nothing of the kind:
    claims lock rows (`studio.store_claims`) and migrations take an advisory lock."""
    url = database_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:
        path = Path(url.split("///", 1)[1]) if "///" in url else None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (SQLAlchemy's pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads then writes can fail with "database is locked" at once
        # in WAL mode; IMMEDIATE takes the write lock up front and waits for it (busy_timeout).
        write = conn.get_execution_options().get("studio_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class StoreCore:
    """The engine, the clock and the row mapping every store section shares. Holds only the Engine."""

    def __init__(
        self,
        engine: Engine | str,
        *,
        files_root: Path,
        clock: Callable[[], float] = time.time,
        day_tz: tzinfo | None = None,
    ) -> None:
        self.engine = create_store_engine(engine) if isinstance(engine, str) else engine
        self.files_root = Path(files_root)
        self._root = str(self.files_root)
        # The last full or read-only data folder met; a successful write clears it (a waiting CLI reads it).
        self.write_fault: StorageFault | None = None
        self._clock = clock
        # created_day is the user's calendar day (local time by default), what "per day" means to them.
        self._day_tz = day_tz

    # ------------------------------------------------------------ lifecycle
    def migrate(self) -> int:
        with self._faults():
            return migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def day_of(self, moment: datetime) -> str:
        return moment.astimezone(self._day_tz).date().isoformat()

    def _midnight(self, day: date) -> datetime:
        start = datetime.combine(day, dt_time.min)
        return start.replace(tzinfo=self._day_tz) if self._day_tz is not None else start.astimezone()

    @contextmanager
    def _faults(self) -> Iterator[None]:
        """A full disk or a read-only data folder becomes a `StorageFault` saying which and where."""
        try:
            yield
        except (OSError, DBAPIError) as exc:
            fault = storage_fault(exc, self._storage_place())
            if fault is None:
                raise
            self.write_fault = fault
            raise fault from exc

    def _storage_place(self) -> str:
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return str(Path(url.database).resolve().parent)
        return url.render_as_string(hide_password=True)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._faults(), self.engine.connect() as conn:
            conn.execution_options(studio_write=True)
            with conn.begin():
                yield conn
        self.write_fault = None  # reached only after a commit

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._faults(), self.engine.connect() as conn, conn.begin():
            yield conn

    def writing(self) -> AbstractContextManager[Connection]:
        """A write transaction, for a module that owns a table of its own (studio.backdrop_library)."""
        return self._write()

    def reading(self) -> AbstractContextManager[Connection]:
        """A read transaction, for a module that owns a table of its own."""
        return self._read()

    def _new_row(self, new: NewJob, now: datetime) -> dict[str, Any]:
        created = new.created_at or now
        return {
            "id": new.job_id,
            "created_at": created,
            "created_day": self.day_of(created),
            "updated_at": created,
            "workflow": str(new.workflow),
            "provider": new.provider,
            "status": str(JobStatus.QUEUED),
            "params_json": dumps(new.params),
            "prompt": new.prompt,
            "negative_prompt": new.negative_prompt,
            "scene_id": new.scene_id,
            "product_title": new.product_title,
            "count": new.count,
            "size_w": new.size[0] if new.size else None,
            "size_h": new.size[1] if new.size else None,
            "seed": new.seed,
            "input_path": new.input_path,
            "mask_path": new.mask_path,
            "reference_path": new.reference_path,
            "attempts": 0,
            "next_attempt_at": created,
            "images": 0,
            "estimate_minor": new.estimate.amount_minor if new.estimate else None,
            "estimate_currency": new.estimate.currency if new.estimate else None,
            "notes_json": dumps_notes(new.notes),
            "source": new.source,
            "batch_id": new.batch_id,
            "poll_failures": 0,
            "sku": new.sku,
            "created_by": new.created_by,
        }

    def _checked_fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(fields) - _WRITABLE)
        if unknown:
            raise StoreError(f"not a writable job column: {', '.join(unknown)}")
        return dict(fields)

    # ------------------------------------------------------------ mapping
    def _abs(self, relative: str | None) -> str | None:
        # os.path.join, not Path: this runs for every row of a CSV export.
        return None if relative is None else os.path.join(self._root, relative)

    def _output(self, row: RowMapping) -> JobOutput:
        return JobOutput(
            index=int(row["idx"]),
            path=os.path.join(self._root, row["path"]),
            width=int(row["width"]),
            height=int(row["height"]),
            seed=row["seed"],
            thumbnail_path=self._abs(row["thumbnail_path"]),
            source_url=row["source_url"],
            review=row["review"],
            favourite=bool(row["favourite"]),
            note=row["note"] or "",
            decided_by=row["decided_by"],
            checks=_loads_checks(row["checks_json"]),
            check_flags=None
            if row["check_flags"] is None
            else tuple(f for f in row["check_flags"].split(",") if f),
        )

    def _view(self, row: RowMapping, outputs: tuple[JobOutput, ...]) -> JobView:
        size = (int(row["size_w"]), int(row["size_h"])) if row["size_w"] and row["size_h"] else None
        error = JobError(row["error_code"], row["error_message"] or "") if row["error_code"] else None
        return JobView(
            job_id=row["id"],
            created_at=row["created_at"],
            workflow=Operation(row["workflow"]),
            provider=row["provider"],
            status=JobStatus(row["status"]),
            params=json.loads(row["params_json"] or "{}"),
            prompt=row["prompt"] or "",
            negative_prompt=row["negative_prompt"] or "",
            scene_id=row["scene_id"],
            count=int(row["count"]),
            size=size,
            input_path=self._abs(row["input_path"]),
            mask_path=self._abs(row["mask_path"]),
            used_mask_path=self._abs(row["used_mask_path"]),
            reference_path=self._abs(row["reference_path"]),
            product_title=row["product_title"] or "",
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            remote_id=row["remote_id"],
            attempts=int(row["attempts"]),
            outputs=outputs,
            cost=money_of(row["cost_minor"], row["cost_currency"]),
            cost_estimate=money_of(row["estimate_minor"], row["estimate_currency"]),
            error=error,
            notes=json.loads(row["notes_json"] or "{}"),
            source=row["source"],
            batch_id=row["batch_id"],
            images=int(row["images"]),
            seed=row["seed"],
            updated_at=row["updated_at"],
            sku=row["sku"],
            created_by=row["created_by"],
            send_started_at=row["send_started_at"],
        )

    def _row(self, row: RowMapping) -> JobRow:
        started, finished = row["started_at"], row["finished_at"]
        return JobRow(
            job_id=row["id"],
            created_at=row["created_at"],
            workflow=row["workflow"],
            provider=row["provider"],
            status=row["status"],
            images=int(row["images"]),
            duration_s=(finished - started).total_seconds() if started and finished else None,
            cost_amount=amount_text(row["cost_minor"], row["cost_currency"]),
            cost_currency=row["cost_currency"],
            error_code=row["error_code"],
            error_message=row["error_message"],
            prompt=row["prompt"] or "",
            thumbnail_path=self._abs(row["thumbnail_path"]),
            created_by=row["created_by"],
        )


PENDING = [str(s) for s in PENDING_STATUSES]
# Jobs a worker holds a lease on while it works on them.
HELD = [str(JobStatus.SUBMITTING), str(JobStatus.RUNNING), str(JobStatus.DOWNLOADING)]
# Jobs whose next step is at a set time: a status call, or another try at a result download.
TIMED = [str(JobStatus.RUNNING), str(JobStatus.DOWNLOADING)]
ROW_COLUMNS = (
    jobs.c.id,
    jobs.c.created_at,
    jobs.c.workflow,
    jobs.c.provider,
    jobs.c.status,
    jobs.c.images,
    jobs.c.started_at,
    jobs.c.finished_at,
    jobs.c.cost_minor,
    jobs.c.cost_currency,
    jobs.c.error_code,
    jobs.c.error_message,
    jobs.c.prompt,
    jobs.c.created_by,
)


def first_thumbnail() -> Any:
    # Evaluated only for the rows of the page (primary-key lookup), never for skipped ones.
    return (
        select(outputs_table.c.thumbnail_path)
        .where(outputs_table.c.job_id == jobs.c.id)
        .order_by(outputs_table.c.idx)
        .limit(1)
        .scalar_subquery()
        .label("thumbnail_path")
    )


def output_row(job_id: str, output: NewOutput) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "idx": output.index,
        "path": output.path,
        "width": output.width,
        "height": output.height,
        "seed": output.seed,
        "thumbnail_path": output.thumbnail_path,
        "source_url": output.source_url,
    }


def _loads_checks(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None  # a damaged record reads as "not checked"; the next check rewrites it
    return value if isinstance(value, dict) else None


def money_of(minor: int | None, currency: str | None) -> Money | None:
    return Money(int(minor), currency) if minor is not None and currency else None


def amount_text(minor: int | None, currency: str | None) -> str | None:
    money = money_of(minor, currency)
    return money.as_str() if money else None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def loads_notes(text: str | None) -> dict[str, Any]:
    """A notes column read back; anything but a JSON object reads as no notes."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def dumps_notes(notes: Mapping[str, Any]) -> str:
    """Notes as stored: JSON, Chinese kept readable, anything odd turned into text."""
    return dumps(dict(notes))
