"""The job store: every job, its outputs and the user's preferences, through SQLAlchemy Core.

The database is the source of truth for a job's state. Status changes are
compare-and-set updates (`transition`) that follow `studio.jobs.ALLOWED_TRANSITIONS`,
and workers take work with `claim_next`, a guarded single-row UPDATE, so two
threads or processes can never both run the same job.

History reads filter, group and page in SQL (never loading every row), so the
History page stays fast with 100,000 jobs.

SQLite (the default) runs in WAL mode with a busy timeout; write transactions
start with BEGIN IMMEDIATE so a writer waits for the lock instead of failing
half way. Only portable SQL is used, so `DATABASE_URL=postgresql://...` works.
Paths are stored relative to the data directory; views carry absolute paths.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as dt_time
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.pool import StaticPool

from providers.base import Money, Operation
from studio.jobs import (
    PENDING_STATUSES,
    TERMINAL_STATUSES,
    BatchFailure,
    BatchProgress,
    BatchStatus,
    BatchView,
    DayStat,
    JobError,
    JobFilter,
    JobOutput,
    JobPage,
    JobRow,
    JobStatus,
    JobView,
    ProviderTotal,
    can_transition,
)
from studio.migrations import batches_table as batches
from studio.migrations import jobs_table as jobs
from studio.migrations import migrate, outputs_table, preferences_table

MAX_PAGE_SIZE = 500
# Columns the worker and service may set through `transition`/`update_leased`.
_WRITABLE = frozenset(c.name for c in jobs.columns) - {"id", "status", "created_at", "created_day"}


class _Unset:
    """Marks a keyword left out (None is a real value: "not reviewed")."""


@dataclass(frozen=True)
class NewBatch:
    batch_id: str
    name: str = ""
    budget: Money | None = None
    source: str = "ui"
    created_at: datetime | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)


class StoreError(RuntimeError):
    """The store was asked for something it cannot do (a programming error, not user input)."""


class InvalidTransition(StoreError):
    """A status change that `ALLOWED_TRANSITIONS` forbids, e.g. re-running a succeeded job."""


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


def create_store_engine(url: str) -> Engine:
    """One Engine per process; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE for writes."""
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


class Store:
    """Jobs, outputs and preferences. Thread-safe: it holds only the Engine."""

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
        self._clock = clock
        # created_day is the user's calendar day (local time by default), what "per day" means to them.
        self._day_tz = day_tz

    # ------------------------------------------------------------ lifecycle
    def migrate(self) -> int:
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
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(studio_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def writing(self) -> AbstractContextManager[Connection]:
        """A write transaction, for a module that owns a table of its own (studio.backdrop_library)."""
        return self._write()

    def reading(self) -> AbstractContextManager[Connection]:
        """A read transaction, for a module that owns a table of its own."""
        return self._read()

    # ------------------------------------------------------------ create/read
    def create_job(self, new: NewJob) -> None:
        self.create_jobs([new])

    def create_jobs(self, news: Sequence[NewJob]) -> None:
        if not news:
            return
        now = self.now()
        rows = [self._new_row(new, now) for new in news]
        with self._write() as conn:
            conn.execute(insert(jobs), rows)

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
            "params_json": _dumps(new.params),
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
        }

    def get_job(self, job_id: str) -> JobView | None:
        with self._read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
            if row is None:
                return None
            outputs = conn.execute(
                select(outputs_table).where(outputs_table.c.job_id == job_id).order_by(outputs_table.c.idx)
            ).mappings()
            return self._view(row, tuple(self._output(o) for o in outputs))

    def status_counts(self) -> dict[str, int]:
        with self._read() as conn:
            query = select(jobs.c.status.label("key"), func.count().label("n")).group_by(jobs.c.status)
            return {str(r["key"]): int(r["n"]) for r in conn.execute(query).mappings()}

    def in_flight_counts(self) -> dict[str, int]:
        """Jobs per provider that hold a vendor slot (being submitted or running remotely)."""
        busy = (str(JobStatus.SUBMITTING), str(JobStatus.RUNNING))
        with self._read() as conn:
            query = (
                select(jobs.c.provider.label("key"), func.count().label("n"))
                .where(jobs.c.status.in_(busy))
                .group_by(jobs.c.provider)
            )
            return {str(r["key"]): int(r["n"]) for r in conn.execute(query).mappings()}

    # ------------------------------------------------------------ state changes
    def transition(
        self,
        job_id: str,
        from_statuses: Collection[JobStatus],
        to_status: JobStatus,
        *,
        owner: str | None = None,
        **fields: Any,
    ) -> bool:
        """Compare-and-set: move the job to `to_status` only if it is in one of `from_statuses`.

        Returns False when the job is not (or no longer) in those states, or
        `owner` is given and does not hold the lease. Raises InvalidTransition
        for a move `ALLOWED_TRANSITIONS` forbids.
        """
        with self._write() as conn:
            return self._transition(conn, job_id, from_statuses, to_status, owner, fields)

    def finish(
        self,
        job_id: str,
        from_statuses: Collection[JobStatus],
        to_status: JobStatus,
        outputs: Sequence[NewOutput],
        *,
        owner: str | None = None,
        **fields: Any,
    ) -> bool:
        """`transition` plus the job's output rows in one transaction: both happen or neither."""
        with self._write() as conn:
            if not self._transition(conn, job_id, from_statuses, to_status, owner, fields):
                return False
            if outputs:
                conn.execute(insert(outputs_table), [_output_row(job_id, o) for o in outputs])
            return True

    def _transition(
        self,
        conn: Connection,
        job_id: str,
        from_statuses: Collection[JobStatus],
        to_status: JobStatus,
        owner: str | None,
        fields: Mapping[str, Any],
    ) -> bool:
        froms = [JobStatus(s) for s in from_statuses]
        forbidden = [str(s) for s in froms if not can_transition(s, to_status)]
        if not froms or forbidden:
            raise InvalidTransition(
                f"a job cannot move from {', '.join(forbidden) or 'nothing'} to {to_status}"
            )
        values = self._checked_fields(fields)
        now = self.now()
        values["status"] = str(to_status)
        values.setdefault("updated_at", now)
        if to_status in TERMINAL_STATUSES:
            values.setdefault("finished_at", now)
        if to_status is not JobStatus.SUBMITTING:
            # Leaving SUBMITTING (or finishing) hands the job back: nobody holds it until the next claim.
            values.setdefault("lease_owner", None)
            values.setdefault("lease_expires_at", None)
        where = [jobs.c.id == job_id, jobs.c.status.in_([str(s) for s in froms])]
        if owner is not None:
            where.append(jobs.c.lease_owner == owner)
        result = conn.execute(update(jobs).where(*where).values(values))
        return result.rowcount == 1

    def update_leased(self, job_id: str, owner: str, status: JobStatus, **fields: Any) -> bool:
        """Change fields of a job we hold the lease on, keeping its status (e.g. schedule the next poll)."""
        values = self._checked_fields(fields)
        values.setdefault("updated_at", self.now())
        with self._write() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == str(status), jobs.c.lease_owner == owner)
                .values(values)
            )
            return result.rowcount == 1

    def next_due_at(self, now: datetime) -> datetime | None:
        """When the dispatcher next has timed work: the earliest status call of a task no one holds,
        or the earliest retry of a queued job that is not due yet. Queued jobs that are due but wait
        for a vendor slot are not timed work: a finishing job wakes the dispatcher itself."""
        with self._read() as conn:
            value = conn.execute(
                select(func.min(jobs.c.next_attempt_at)).where(
                    or_(
                        and_(jobs.c.status.in_(_TIMED), jobs.c.lease_owner.is_(None)),
                        and_(jobs.c.status == str(JobStatus.QUEUED), jobs.c.next_attempt_at > now),
                    )
                )
            ).scalar_one_or_none()
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def lease_owner(self, job_id: str) -> str | None:
        with self._read() as conn:
            value = conn.execute(select(jobs.c.lease_owner).where(jobs.c.id == job_id)).scalar_one_or_none()
        return None if value is None else str(value)

    def held_leases(self) -> list[tuple[str, str]]:
        """(job id, owner) of every pending job that holds a lease."""
        held = _HELD
        with self._read() as conn:
            rows = conn.execute(
                select(jobs.c.id, jobs.c.lease_owner).where(
                    jobs.c.status.in_(held), jobs.c.lease_owner.is_not(None)
                )
            ).all()
        return [(str(job_id), str(owner)) for job_id, owner in rows]

    def release_lease(self, job_id: str, owner: str) -> bool:
        """Free a lease, only if `owner` still holds it."""
        with self._write() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None, updated_at=self.now())
            )
            return result.rowcount == 1

    def renew_lease(self, job_id: str, owner: str, expires_at: datetime) -> bool:
        """Extend our lease; False means we lost it (another worker took the job over)."""
        with self._write() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status.in_(_PENDING))
                .values(lease_expires_at=expires_at)
            )
            return result.rowcount == 1

    def claim_next(
        self,
        owner: str,
        now: datetime,
        lease_s: float,
        providers_with_free_slots: Mapping[str, int],
        recover_providers: Collection[str] | None = None,
    ) -> ClaimedJob | None:
        """Atomically take the oldest job that is due, or None.

        Due means: QUEUED with next_attempt_at <= now, for a provider in
        `providers_with_free_slots` (provider -> max in flight; the UPDATE
        re-counts in-flight jobs so the limit holds across processes); or
        SUBMITTING/RUNNING whose lease expired or was released, with
        next_attempt_at <= now (a due poll, or recovery after a crash), for a
        provider in `recover_providers` (None: any).
        """
        expires = now + timedelta(seconds=lease_s)
        lease_free = or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at <= now)
        due = or_(jobs.c.next_attempt_at.is_(None), jobs.c.next_attempt_at <= now)
        conditions: list[ColumnElement[bool]] = []
        if providers_with_free_slots:
            conditions.append(
                and_(
                    jobs.c.status == str(JobStatus.QUEUED),
                    jobs.c.provider.in_(list(providers_with_free_slots)),
                )
            )
        held = jobs.c.status.in_(_HELD)
        if recover_providers is None:
            conditions.append(and_(held, lease_free))
        elif recover_providers:
            conditions.append(and_(held, lease_free, jobs.c.provider.in_(list(recover_providers))))
        if not conditions:
            return None
        candidates_query = (
            select(jobs.c.id, jobs.c.status, jobs.c.provider)
            .where(due, or_(*conditions))
            .order_by(jobs.c.next_attempt_at, jobs.c.created_at, jobs.c.id)
            .limit(32)
        )
        with self._read() as conn:
            candidates = [
                (str(r["id"]), str(r["status"]), str(r["provider"]))
                for r in conn.execute(candidates_query).mappings()
            ]
        full: set[str] = set()
        for job_id, status, provider in candidates:
            if status == JobStatus.QUEUED and provider in full:
                continue
            with self._write() as conn:
                if status == JobStatus.QUEUED:
                    claimed = self._claim_queued(
                        conn, job_id, provider, owner, now, expires, providers_with_free_slots
                    )
                    if not claimed:
                        full.add(provider)
                else:
                    claimed = self._claim_held(conn, job_id, status, owner, now, expires)
                if not claimed:
                    continue
                row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
            kind = {
                JobStatus.QUEUED: ClaimKind.SUBMIT,
                JobStatus.SUBMITTING: ClaimKind.RECOVER_SUBMIT,
                JobStatus.RUNNING: ClaimKind.POLL,
                JobStatus.DOWNLOADING: ClaimKind.DOWNLOAD,
            }[JobStatus(status)]
            return ClaimedJob(self._view(row, ()), kind, expires, int(row["poll_failures"] or 0))
        return None

    def _claim_queued(
        self,
        conn: Connection,
        job_id: str,
        provider: str,
        owner: str,
        now: datetime,
        expires: datetime,
        limits: Mapping[str, int],
    ) -> bool:
        inflight = jobs.alias("inflight")
        busy = (
            select(func.count())
            .select_from(inflight)
            .where(
                inflight.c.provider == provider,
                inflight.c.status.in_([str(JobStatus.SUBMITTING), str(JobStatus.RUNNING)]),
            )
            .scalar_subquery()
        )
        result = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == str(JobStatus.QUEUED), busy < limits[provider])
            .values(
                status=str(JobStatus.SUBMITTING),
                lease_owner=owner,
                lease_expires_at=expires,
                attempts=jobs.c.attempts + 1,
                started_at=func.coalesce(jobs.c.started_at, now),
                updated_at=now,
            )
        )
        return result.rowcount == 1

    def _claim_held(
        self, conn: Connection, job_id: str, status: str, owner: str, now: datetime, expires: datetime
    ) -> bool:
        result = conn.execute(
            update(jobs)
            .where(
                jobs.c.id == job_id,
                jobs.c.status == status,
                or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at <= now),
            )
            .values(lease_owner=owner, lease_expires_at=expires, updated_at=now)
        )
        return result.rowcount == 1

    def _checked_fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(fields) - _WRITABLE)
        if unknown:
            raise StoreError(f"not a writable job column: {', '.join(unknown)}")
        return dict(fields)

    # ------------------------------------------------------------ history
    def list_jobs(self, filters: JobFilter, page: int = 1, page_size: int = 50) -> JobPage:
        """One page of History, newest first; `total` counts every matching job."""
        if page < 1:
            raise ValueError(f"page must be 1 or more, got {page}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        where = self._where(filters)
        query = (
            select(*_ROW_COLUMNS, _first_thumbnail())
            .where(*self._where(filters, ordered_rows=True))
            .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        with self._read() as conn:
            total = int(conn.execute(select(func.count()).select_from(jobs).where(*where)).scalar_one())
            rows = tuple(self._row(r) for r in conn.execute(query).mappings())
        return JobPage(rows=rows, total=total, page=page, page_size=page_size)

    def iter_rows(self, filters: JobFilter, chunk: int = 2000) -> Iterator[JobRow]:
        """Every matching row, newest first, fetched `chunk` at a time by keyset (no deep OFFSET)."""
        where = self._where(filters, ordered_rows=True)
        after: tuple[datetime, str] | None = None
        while True:
            query = select(*_ROW_COLUMNS, _first_thumbnail()).where(*where)
            if after is not None:
                # The plain `<=` is redundant for the result but gives the planner an index range;
                # with the OR alone SQLite rescans from the newest row for every chunk.
                query = query.where(
                    jobs.c.created_at <= after[0],
                    or_(
                        jobs.c.created_at < after[0],
                        and_(jobs.c.created_at == after[0], jobs.c.id < after[1]),
                    ),
                )
            query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(chunk)
            with self._read() as conn:
                batch = [self._row(r) for r in conn.execute(query).mappings()]
            yield from batch
            if len(batch) < chunk:
                return
            after = (batch[-1].created_at, batch[-1].job_id)

    def provider_totals(self, filters: JobFilter) -> list[ProviderTotal]:
        """Jobs, images and spend per provider and currency; amounts in different currencies stay apart."""
        query = (
            select(
                jobs.c.provider,
                jobs.c.cost_currency,
                func.count().label("jobs"),
                func.coalesce(func.sum(jobs.c.images), 0).label("images"),
                func.sum(jobs.c.cost_minor).label("amount"),
                func.sum(case((jobs.c.status == str(JobStatus.SUCCEEDED), 1), else_=0)).label("succeeded"),
                func.sum(case((jobs.c.status == str(JobStatus.FAILED), 1), else_=0)).label("failed"),
            )
            .where(*self._where(filters))
            .group_by(jobs.c.provider, jobs.c.cost_currency)
            .order_by(jobs.c.provider, jobs.c.cost_currency)
        )
        with self._read() as conn:
            return [
                ProviderTotal(
                    provider=r.provider,
                    currency=r.cost_currency,
                    jobs=int(r.jobs),
                    images=int(r.images),
                    amount=_amount(r.amount, r.cost_currency),
                    succeeded=int(r.succeeded or 0),
                    failed=int(r.failed or 0),
                )
                for r in conn.execute(query)
            ]

    def daily_stats(self, filters: JobFilter) -> list[DayStat]:
        """Images and spend per calendar day, provider and currency, oldest day first."""
        query = (
            select(
                jobs.c.created_day,
                jobs.c.provider,
                jobs.c.cost_currency,
                func.coalesce(func.sum(jobs.c.images), 0).label("images"),
                func.sum(jobs.c.cost_minor).label("amount"),
            )
            .where(*self._where(filters))
            .group_by(jobs.c.created_day, jobs.c.provider, jobs.c.cost_currency)
            .order_by(jobs.c.created_day, jobs.c.provider, jobs.c.cost_currency)
        )
        with self._read() as conn:
            return [
                DayStat(
                    day=date.fromisoformat(r.created_day),
                    provider=r.provider,
                    currency=r.cost_currency,
                    images=int(r.images),
                    amount=_amount(r.amount, r.cost_currency),
                )
                for r in conn.execute(query)
            ]

    def _where(self, filters: JobFilter, *, ordered_rows: bool = False) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if filters.date_from is not None:
            where.append(jobs.c.created_day >= filters.date_from.isoformat())
        if filters.date_to is not None:
            where.append(jobs.c.created_day <= filters.date_to.isoformat())
        if ordered_rows:
            # created_day is exact. For row queries walked in created_at order, a looser created_at
            # bound (a day of slack for time-zone changes) lets the scan stop at the range's edge
            # instead of reading the whole table; aggregates skip it to stay index-only.
            if filters.date_from is not None:
                where.append(jobs.c.created_at >= self._midnight(filters.date_from) - timedelta(days=1))
            if filters.date_to is not None:
                where.append(jobs.c.created_at < self._midnight(filters.date_to) + timedelta(days=2))
        if filters.workflows:
            where.append(jobs.c.workflow.in_([str(w) for w in filters.workflows]))
        if filters.providers:
            where.append(jobs.c.provider.in_(list(filters.providers)))
        if filters.statuses:
            where.append(jobs.c.status.in_([str(s) for s in filters.statuses]))
        text = filters.text.strip()
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                or_(
                    jobs.c.prompt.ilike(pattern, escape="\\"),
                    jobs.c.product_title.ilike(pattern, escape="\\"),
                    jobs.c.scene_id.ilike(pattern, escape="\\"),
                    jobs.c.id.ilike(pattern, escape="\\"),
                )
            )
        return where

    # ------------------------------------------------------------ preferences
    def get_preference(self, key: str) -> str | None:
        with self._read() as conn:
            value = conn.execute(
                select(preferences_table.c.value).where(preferences_table.c.key == key)
            ).scalar()
            return None if value is None else str(value)

    def set_preference(self, key: str, value: str) -> None:
        with self._write() as conn:
            result = conn.execute(
                update(preferences_table).where(preferences_table.c.key == key).values(value=value)
            )
            if result.rowcount == 0:
                conn.execute(insert(preferences_table).values(key=key, value=value))

    def delete_preference(self, key: str) -> None:
        with self._write() as conn:
            conn.execute(delete(preferences_table).where(preferences_table.c.key == key))

    # ------------------------------------------------------------ batches
    def create_batch(self, new: NewBatch, jobs_: Sequence[NewJob]) -> None:
        """The batch row and all its jobs in one transaction: a batch is never half created."""
        now = self.now()
        created = new.created_at or now
        with self._write() as conn:
            conn.execute(
                insert(batches).values(
                    id=new.batch_id,
                    created_at=created,
                    updated_at=created,
                    name=new.name,
                    status=str(BatchStatus.RUNNING),
                    pause_reason=None,
                    budget_minor=new.budget.amount_minor if new.budget else None,
                    budget_currency=new.budget.currency if new.budget else None,
                    items=len(jobs_),
                    source=new.source,
                    notes_json=_dumps(dict(new.notes)),
                )
            )
            if jobs_:
                conn.execute(insert(jobs), [self._new_row(job, now) for job in jobs_])

    def add_batch_jobs(self, batch_id: str, jobs_: Sequence[NewJob]) -> None:
        """More jobs for an existing batch (retries), counted in its items, in one transaction."""
        now = self.now()
        with self._write() as conn:
            conn.execute(insert(jobs), [self._new_row(job, now) for job in jobs_])
            conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(items=batches.c["items"] + len(jobs_), updated_at=now)
            )

    def set_batch_budget(self, batch_id: str, budget: Money | None) -> None:
        with self._write() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(
                    budget_minor=budget.amount_minor if budget else None,
                    budget_currency=budget.currency if budget else None,
                    updated_at=self.now(),
                )
            )

    def add_note(self, job_id: str, key: str, value: Any) -> None:
        """One fact added to a job's notes (read and written in one transaction)."""
        with self._write() as conn:
            raw = conn.execute(select(jobs.c.notes_json).where(jobs.c.id == job_id)).scalar_one_or_none()
            notes = json.loads(raw or "{}")
            notes[key] = value
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(notes_json=dumps_notes(notes)))

    def get_batch(self, batch_id: str) -> BatchView | None:
        with self._read() as conn:
            row = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().first()
            if row is None:
                return None
            open_jobs = conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.batch_id == batch_id, jobs.c.status.notin_([str(s) for s in TERMINAL_STATUSES]))
            ).scalar_one()
        return self._batch_view(row, int(open_jobs))

    def list_batches(self, limit: int = 50) -> list[BatchView]:
        with self._read() as conn:
            rows = list(
                conn.execute(
                    select(batches).order_by(batches.c.created_at.desc(), batches.c.id.desc()).limit(limit)
                ).mappings()
            )
            open_counts = {
                str(r["batch_id"]): int(r["n"])
                for r in conn.execute(
                    select(jobs.c.batch_id, func.count().label("n"))
                    .where(
                        jobs.c.batch_id.in_([row["id"] for row in rows]),
                        jobs.c.status.notin_([str(s) for s in TERMINAL_STATUSES]),
                    )
                    .group_by(jobs.c.batch_id)
                ).mappings()
            }
        return [self._batch_view(row, open_counts.get(str(row["id"]), 0)) for row in rows]

    def _batch_view(self, row: RowMapping, open_jobs: int) -> BatchView:
        status = BatchStatus(row["status"])
        if status is BatchStatus.RUNNING and open_jobs == 0:
            status = BatchStatus.DONE
        return BatchView(
            batch_id=row["id"],
            created_at=row["created_at"],
            name=row["name"] or "",
            status=status,
            pause_reason=row["pause_reason"],
            budget=_money(row["budget_minor"], row["budget_currency"]),
            items=int(row["items"]),
            source=row["source"],
        )

    def set_batch_status(self, batch_id: str, status: BatchStatus, reason: str | None = None) -> None:
        """Pause (QUEUED jobs -> PAUSED), resume (PAUSED -> QUEUED, due now) or cancel (QUEUED and
        PAUSED -> CANCELED; jobs already at the vendor finish, they are paid for) in one transaction."""
        now = self.now()
        with self._write() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(status=str(status), pause_reason=reason, updated_at=now)
            )
            mine = jobs.c.batch_id == batch_id
            if status is BatchStatus.PAUSED:
                conn.execute(
                    update(jobs)
                    .where(mine, jobs.c.status == str(JobStatus.QUEUED))
                    .values(status=str(JobStatus.PAUSED), updated_at=now)
                )
            elif status is BatchStatus.RUNNING:
                conn.execute(
                    update(jobs)
                    .where(mine, jobs.c.status == str(JobStatus.PAUSED))
                    .values(status=str(JobStatus.QUEUED), next_attempt_at=now, updated_at=now)
                )
            elif status is BatchStatus.CANCELED:
                conn.execute(
                    update(jobs)
                    .where(mine, jobs.c.status.in_([str(JobStatus.QUEUED), str(JobStatus.PAUSED)]))
                    .values(
                        status=str(JobStatus.CANCELED),
                        finished_at=now,
                        updated_at=now,
                        error_code="canceled",
                        error_message="Canceled with its batch before it was sent.",
                    )
                )

    def batch_spend(self, batch_id: str, currency: str, exclude_job: str | None = None) -> int:
        """Minor units committed in `currency`: costs of finished jobs plus estimates of jobs in flight."""
        busy = [str(JobStatus.SUBMITTING), str(JobStatus.RUNNING)]
        with self._read() as conn:
            spent: Any = conn.execute(
                select(func.coalesce(func.sum(jobs.c.cost_minor), 0)).where(
                    jobs.c.batch_id == batch_id, jobs.c.cost_currency == currency
                )
            ).scalar_one()
            flying = select(func.coalesce(func.sum(jobs.c.estimate_minor), 0)).where(
                jobs.c.batch_id == batch_id,
                jobs.c.estimate_currency == currency,
                jobs.c.status.in_(busy),
                # A job whose cost the vendor already reported counts once, by that cost.
                jobs.c.cost_minor.is_(None),
            )
            if exclude_job is not None:
                flying = flying.where(jobs.c.id != exclude_job)
            return int(spent) + int(conn.execute(flying).scalar_one())

    def batch_progress(self, batch_id: str) -> BatchProgress | None:
        batch = self.get_batch(batch_id)
        if batch is None:
            return None
        mine = jobs.c.batch_id == batch_id
        busy = [str(JobStatus.SUBMITTING), str(JobStatus.RUNNING)]
        with self._read() as conn:
            by_provider: dict[str, dict[str, int]] = {}
            by_status: dict[str, int] = {}
            for r in conn.execute(
                select(jobs.c.provider, jobs.c.status, func.count().label("n"))
                .where(mine)
                .group_by(jobs.c.provider, jobs.c.status)
            ).mappings():
                by_provider.setdefault(str(r["provider"]), {})[str(r["status"])] = int(r["n"])
                by_status[str(r["status"])] = by_status.get(str(r["status"]), 0) + int(r["n"])
            spent = {
                str(r["cur"]): Money(int(r["n"]), str(r["cur"]))
                for r in conn.execute(
                    select(jobs.c.cost_currency.label("cur"), func.sum(jobs.c.cost_minor).label("n"))
                    .where(mine, jobs.c.cost_currency.is_not(None))
                    .group_by(jobs.c.cost_currency)
                ).mappings()
            }
            committed = dict(spent)
            for r in conn.execute(
                select(jobs.c.estimate_currency.label("cur"), func.sum(jobs.c.estimate_minor).label("n"))
                .where(
                    mine,
                    jobs.c.status.in_(busy),
                    jobs.c.estimate_currency.is_not(None),
                    jobs.c.cost_minor.is_(None),
                )
                .group_by(jobs.c.estimate_currency)
            ).mappings():
                currency = str(r["cur"])
                before = committed.get(currency, Money(0, currency))
                committed[currency] = Money(before.amount_minor + int(r["n"]), currency)
            times = conn.execute(
                select(func.min(jobs.c.started_at), func.max(jobs.c.finished_at)).where(mine)
            ).one()
            failures = tuple(
                BatchFailure(r["id"], r["sku"], r["provider"], r["error_code"], r["error_message"])
                for r in conn.execute(
                    select(jobs.c.id, jobs.c.sku, jobs.c.provider, jobs.c.error_code, jobs.c.error_message)
                    .where(mine, jobs.c.status == str(JobStatus.FAILED))
                    .order_by(jobs.c.finished_at)
                ).mappings()
            )
        return BatchProgress(
            batch=batch,
            by_status=by_status,
            by_provider=by_provider,
            spent=spent,
            committed=committed,
            started_at=times[0],
            last_finished_at=times[1],
            failures=failures,
        )

    def batch_jobs(self, batch_id: str) -> list[JobView]:
        """Every job of a batch with its outputs, in the order the batch listed them (two queries)."""
        with self._read() as conn:
            rows = list(
                conn.execute(
                    select(jobs).where(jobs.c.batch_id == batch_id).order_by(jobs.c.created_at, jobs.c.id)
                ).mappings()
            )
            outputs: dict[str, list[JobOutput]] = {}
            for o in conn.execute(
                select(outputs_table)
                .where(outputs_table.c.job_id.in_(select(jobs.c.id).where(jobs.c.batch_id == batch_id)))
                .order_by(outputs_table.c.job_id, outputs_table.c.idx)
            ).mappings():
                outputs.setdefault(str(o["job_id"]), []).append(self._output(o))
        return [self._view(row, tuple(outputs.get(str(row["id"]), ()))) for row in rows]

    def set_review(
        self,
        job_id: str,
        index: int,
        *,
        review: str | None | type[_Unset] = _Unset,
        favourite: bool | None = None,
        note: str | None = None,
    ) -> bool:
        """Record a reviewer's decision on one output; only the fields given change."""
        values: dict[str, Any] = {"reviewed_at": self.now()}
        if review is not _Unset:
            values["review"] = review
        if favourite is not None:
            values["favourite"] = 1 if favourite else 0
        if note is not None:
            values["note"] = note
        with self._write() as conn:
            result = conn.execute(
                update(outputs_table)
                .where(outputs_table.c.job_id == job_id, outputs_table.c.idx == index)
                .values(values)
            )
            return result.rowcount == 1

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
            cost=_money(row["cost_minor"], row["cost_currency"]),
            cost_estimate=_money(row["estimate_minor"], row["estimate_currency"]),
            error=error,
            notes=json.loads(row["notes_json"] or "{}"),
            source=row["source"],
            batch_id=row["batch_id"],
            images=int(row["images"]),
            seed=row["seed"],
            updated_at=row["updated_at"],
            sku=row["sku"],
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
            cost_amount=_amount(row["cost_minor"], row["cost_currency"]),
            cost_currency=row["cost_currency"],
            error_code=row["error_code"],
            error_message=row["error_message"],
            prompt=row["prompt"] or "",
            thumbnail_path=self._abs(row["thumbnail_path"]),
        )


_PENDING = [str(s) for s in PENDING_STATUSES]
# Jobs a worker holds a lease on while it works on them.
_HELD = [str(JobStatus.SUBMITTING), str(JobStatus.RUNNING), str(JobStatus.DOWNLOADING)]
# Jobs whose next step is at a set time: a status call, or another try at a result download.
_TIMED = [str(JobStatus.RUNNING), str(JobStatus.DOWNLOADING)]
_ROW_COLUMNS = (
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
)


def _first_thumbnail() -> Any:
    # Evaluated only for the rows of the page (primary-key lookup), never for skipped ones.
    return (
        select(outputs_table.c.thumbnail_path)
        .where(outputs_table.c.job_id == jobs.c.id)
        .order_by(outputs_table.c.idx)
        .limit(1)
        .scalar_subquery()
        .label("thumbnail_path")
    )


def _output_row(job_id: str, output: NewOutput) -> dict[str, Any]:
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


def _money(minor: int | None, currency: str | None) -> Money | None:
    return Money(int(minor), currency) if minor is not None and currency else None


def _amount(minor: int | None, currency: str | None) -> str | None:
    money = _money(minor, currency)
    return money.as_str() if money else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def dumps_notes(notes: Mapping[str, Any]) -> str:
    """Notes as stored: JSON, Chinese kept readable, anything odd turned into text."""
    return _dumps(dict(notes))
