"""The database schema, version by version, and `migrate()` which upgrades a file in place.

`build_metadata(version)` describes the tables as they were at `version`; the
store queries the tables of `LATEST`. Each entry in `STEPS` turns version N-1
into N inside one transaction and records N in `schema_version`, so an older
file (or a fresh one) walks the same path and keeps its rows. Only portable
DDL is used (CREATE TABLE/INDEX, ALTER TABLE ... ADD COLUMN) so the same steps
run on SQLite and PostgreSQL.

History:
  v1  jobs, job_outputs, preferences, schema_version and the History indexes.
  v2  jobs.batch_id (+ index) for batches, jobs.poll_failures so a flaky
      vendor status call is retried a bounded number of times, and
      job_outputs.source_url to keep the vendor URL an output came from.
  v3  covering indexes for History totals and the per-day chart
      (bench/history_query.py: totals on 100k jobs without touching the table).
  v4  batches (status, budget, pause reason), jobs.sku, and review fields on
      job_outputs (review, favourite, note, reviewed_at) for approve/export.
  v5  backdrops: the user's own backdrop photos (studio/backdrop_library.py).
  v6  who did what (issue 15): jobs.created_by (+ index for History's person filter),
      batches.created_by and batches.shared, job_outputs.decided_by, and the
      activity table (the audit list: exports, batch actions, connection tests).
      Rows from before v6 keep NULL: made before sign-in, only admins see them.
  v7  vendor_pacing (issue 16): one row per provider, the vendor's submit-rate bucket
      (tokens, updated_at) shared by every worker process and machine; claims of new
      work lock this row (FOR UPDATE on PostgreSQL) so the in-flight count and the
      token are checked and taken atomically across processes.
  v8  output checks (issue 17): job_outputs.checks_json (the product fidelity check of
      each output against its input, `studio.output_checks`) and job_outputs.check_flags
      (NULL: not checked yet; "": checked, nothing found; else the flags, comma-separated,
      so Review can filter flagged images without reading the JSON).
  v9  jobs.send_started_at (issue 16): set just before a job's paid vendor call may start and
      cleared when it is claimed again, so a worker that dies while a job waits for its turn
      (inputs, the submit moment) leaves a job that is simply run again, and only one that
      died during the call itself is `interrupted_submit`. Jobs that were mid-submit when the
      database was upgraded get their last change time (the safe side: never sent twice).
      vendor_pacing.recent_sends: the last N submit moments reserved per provider, for the
      sliding-window rate ("at most N in any second", studio.pacing). ix_jobs_batch_finished
      for a batch's newest finished items (progress thumbnails at any batch size).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator

from studio.errors import StudioError


class SchemaError(StudioError, RuntimeError):
    """The database cannot be used by this version of the app."""

    default_code = "schema_error"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes stored as naive UTC, the one form every backend compares right."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"store times must be timezone-aware datetimes, got {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) else None


def build_metadata(version: int) -> MetaData:
    """The tables as they stand at schema `version` (1..LATEST)."""
    metadata = MetaData()
    job_columns: list[Column[Any]] = [
        Column("id", String(32), primary_key=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("created_day", String(10), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("started_at", UTCDateTime()),
        Column("finished_at", UTCDateTime()),
        Column("workflow", String(16), nullable=False),
        Column("provider", String(64), nullable=False),
        Column("status", String(16), nullable=False),
        Column("params_json", Text(), nullable=False, default="{}"),
        Column("prompt", Text(), nullable=False, default=""),
        Column("negative_prompt", Text(), nullable=False, default=""),
        Column("scene_id", String(128)),
        Column("product_title", Text(), nullable=False, default=""),
        Column("count", Integer(), nullable=False, default=1),
        Column("size_w", Integer()),
        Column("size_h", Integer()),
        Column("seed", Integer()),
        Column("input_path", Text()),
        Column("mask_path", Text()),
        Column("used_mask_path", Text()),
        Column("reference_path", Text()),
        Column("remote_id", String(256)),
        Column("attempts", Integer(), nullable=False, default=0),
        Column("next_attempt_at", UTCDateTime()),
        Column("lease_owner", String(128)),
        Column("lease_expires_at", UTCDateTime()),
        Column("images", Integer(), nullable=False, default=0),
        Column("cost_minor", Integer()),
        Column("cost_currency", String(8)),
        Column("estimate_minor", Integer()),
        Column("estimate_currency", String(8)),
        Column("error_code", String(64)),
        Column("error_message", Text()),
        Column("notes_json", Text(), nullable=False, default="{}"),
        Column("source", String(16), nullable=False, default="ui"),
    ]
    output_columns: list[Column[Any]] = [
        Column("job_id", String(32), nullable=False),
        Column("idx", Integer(), nullable=False),
        Column("path", Text(), nullable=False),
        Column("width", Integer(), nullable=False),
        Column("height", Integer(), nullable=False),
        Column("seed", Integer()),
        Column("thumbnail_path", Text()),
    ]
    if version >= 2:
        job_columns += _v2_job_columns()
        output_columns += _v2_output_columns()
    if version >= 4:
        job_columns += _v4_job_columns()
        output_columns += _v4_output_columns()
        _batches_table(metadata, version)
    if version >= 5:
        _backdrops_table(metadata)
    if version >= 6:
        job_columns += _v6_job_columns()
        output_columns += _v6_output_columns()
        _activity_table(metadata)
    if version >= 7:
        _vendor_pacing_table(metadata, version)
    if version >= 8:
        output_columns += _v8_output_columns()
    if version >= 9:
        job_columns += _v9_job_columns()
    jobs = Table("jobs", metadata, *job_columns)
    # Every History ordering is (created_at DESC, id DESC); id in the index makes it a pure index walk.
    Index("ix_jobs_created", jobs.c.created_at, jobs.c.id)
    Index("ix_jobs_status", jobs.c.status, jobs.c.created_at, jobs.c.id)
    Index("ix_jobs_provider_created", jobs.c.provider, jobs.c.created_at, jobs.c.id)
    Index("ix_jobs_workflow_created", jobs.c.workflow, jobs.c.created_at, jobs.c.id)
    Index("ix_jobs_created_day", jobs.c.created_day)
    # The worker's claim query: due jobs by status, oldest first.
    Index("ix_jobs_due", jobs.c.status, jobs.c.next_attempt_at)
    if version >= 2:
        Index("ix_jobs_batch", jobs.c.batch_id)
    if version >= 9:
        # A running batch's newest finished items (its progress thumbnails), read every refresh.
        Index("ix_jobs_batch_finished", jobs.c.batch_id, jobs.c.status, jobs.c.finished_at)
    if version >= 6:
        # History's person filter walks one person's jobs newest first.
        Index("ix_jobs_created_by", jobs.c.created_by, jobs.c.created_at, jobs.c.id)
    if version >= 3:
        # Covering indexes in GROUP BY order for the per-day chart and the provider totals:
        # index-only scans with no table lookups and no temporary sort.
        Index(
            "ix_jobs_day_totals",
            jobs.c.created_day,
            jobs.c.provider,
            jobs.c.cost_currency,
            jobs.c.status,
            jobs.c.images,
            jobs.c.cost_minor,
        )
        Index(
            "ix_jobs_provider_totals",
            jobs.c.provider,
            jobs.c.cost_currency,
            jobs.c.status,
            jobs.c.images,
            jobs.c.cost_minor,
            jobs.c.created_day,
        )
    Table("job_outputs", metadata, *output_columns, PrimaryKeyConstraint("job_id", "idx"))
    Table(
        "preferences",
        metadata,
        Column("key", String(128), primary_key=True),
        Column("value", Text(), nullable=False),
    )
    Table("schema_version", metadata, Column("version", Integer(), nullable=False))
    return metadata


def _v2_job_columns() -> list[Column[Any]]:
    """Columns added in v2 (fresh objects each call: a Column belongs to one Table)."""
    return [
        Column("batch_id", String(64)),
        Column("poll_failures", Integer(), nullable=False, default=0, server_default=text("0")),
    ]


def _v2_output_columns() -> list[Column[Any]]:
    return [Column("source_url", Text())]


def _v4_job_columns() -> list[Column[Any]]:
    return [Column("sku", String(128))]


def _v4_output_columns() -> list[Column[Any]]:
    return [
        # "approved" | "rejected" | None (not reviewed yet)
        Column("review", String(16)),
        Column("favourite", Integer(), nullable=False, default=0, server_default=text("0")),
        Column("note", Text()),
        Column("reviewed_at", UTCDateTime()),
    ]


def _v6_job_columns() -> list[Column[Any]]:
    # Who made the job: `studio.people.Person.key` (lower-case e-mail, "local") or "cli:<user>".
    return [Column("created_by", String(320))]


def _v6_output_columns() -> list[Column[Any]]:
    # Who made the last review decision (approve, reject, favourite, note) on this image.
    return [Column("decided_by", String(320))]


def _v8_output_columns() -> list[Column[Any]]:
    return [Column("checks_json", Text()), Column("check_flags", String(160))]


def _v9_job_columns() -> list[Column[Any]]:
    return [Column("send_started_at", UTCDateTime())]


def _v6_batch_columns() -> list[Column[Any]]:
    return [
        Column("created_by", String(320)),
        # 1: the team (members and viewers) sees the batch and its jobs; 0: its owner and admins only.
        Column("shared", Integer(), nullable=False, default=0, server_default=text("0")),
    ]


def _activity_table(metadata: MetaData) -> Table:
    table = Table(
        "activity",
        metadata,
        Column("id", Integer(), primary_key=True, autoincrement=True),
        Column("at", UTCDateTime(), nullable=False),
        Column("who", String(320), nullable=False),
        # "export", "batch_pause", "test_connection", ... (studio.store_activity).
        Column("action", String(64), nullable=False),
        # What it was done to: a batch id, a provider key, a file name.
        Column("subject", Text(), nullable=False, default=""),
        # Facts as JSON; never a key or a secret (studio.store_activity scrubs them).
        Column("details_json", Text(), nullable=False, default="{}"),
    )
    Index("ix_activity_at", table.c.at, table.c.id)
    Index("ix_activity_who", table.c.who, table.c.at)
    return table


def _vendor_pacing_table(metadata: MetaData, version: int) -> Table:
    return Table(
        "vendor_pacing",
        metadata,
        Column("provider", String(64), primary_key=True),
        # Unused since the strict spacing of submits (always written 0; the bucket it held is gone).
        Column("tokens", Float(), nullable=False),
        # The latest submit moment reserved, on the claiming workers' clock (may be in the future).
        Column("updated_at", UTCDateTime(), nullable=False),
        *_v9_pacing_columns(version),
    )


def _v9_pacing_columns(version: int) -> list[Column[Any]]:
    # The last N submit moments reserved (JSON list of epoch seconds): the next goes no sooner
    # than 1 s + margin after the N-th before it (studio.pacing.reserve_send).
    return [Column("recent_sends", Text())] if version >= 9 else []


def _batches_table(metadata: MetaData, version: int) -> Table:
    extra = _v6_batch_columns() if version >= 6 else []
    return Table(
        "batches",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("name", Text(), nullable=False, default=""),
        # "running" | "paused" | "canceled"; "done" is derived from the jobs, never stored.
        Column("status", String(16), nullable=False),
        # "user" | "budget" while paused.
        Column("pause_reason", String(16)),
        Column("budget_minor", Integer()),
        Column("budget_currency", String(8)),
        Column("items", Integer(), nullable=False, default=0),
        Column("source", String(16), nullable=False, default="ui"),
        Column("notes_json", Text(), nullable=False, default="{}"),
        *extra,
    )


def _backdrops_table(metadata: MetaData) -> Table:
    table = Table(
        "backdrops",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("name", Text(), nullable=False),
        # A JSON list of tags, in any language ("marble", "大理石").
        Column("tags_json", Text(), nullable=False, default="[]"),
        # Where the product stands, as fractions of the photo; a line when y0 == y1.
        Column("surface_x0", Float(), nullable=False),
        Column("surface_y0", Float(), nullable=False),
        Column("surface_x1", Float(), nullable=False),
        Column("surface_y1", Float(), nullable=False),
        Column("width", Integer(), nullable=False),
        Column("height", Integer(), nullable=False),
        # Relative to the data directory.
        Column("photo_path", Text(), nullable=False),
        Column("preview_path", Text(), nullable=False),
        Column("thumbnail_path", Text(), nullable=False),
    )
    Index("ix_backdrops_created", table.c.created_at, table.c.id)
    return table


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1(conn: Connection) -> None:
    metadata = build_metadata(1)
    metadata.create_all(conn)
    conn.execute(metadata.tables["schema_version"].insert().values(version=0))


def _v2(conn: Connection) -> None:
    for column in _v2_job_columns():
        _add_column(conn, "jobs", column)
    for column in _v2_output_columns():
        _add_column(conn, "job_outputs", column)
    _create_index(conn, 2, "ix_jobs_batch")


def _add_column(conn: Connection, table: str, column: Column[Any]) -> None:
    preparer = conn.dialect.identifier_preparer
    ddl = f"ALTER TABLE {preparer.quote(table)} ADD COLUMN {preparer.quote(column.name)} "
    ddl += column.type.compile(dialect=conn.dialect)
    if column.server_default is not None:
        default = column.server_default.arg  # type: ignore[attr-defined]
        ddl += f" DEFAULT {getattr(default, 'text', default)}"
    if not column.nullable:
        ddl += " NOT NULL"
    conn.execute(text(ddl))


def _v3(conn: Connection) -> None:
    _create_index(conn, 3, "ix_jobs_day_totals")
    _create_index(conn, 3, "ix_jobs_provider_totals")


def _create_index(conn: Connection, version: int, name: str) -> None:
    jobs = build_metadata(version).tables["jobs"]
    next(index for index in jobs.indexes if index.name == name).create(conn)


def _v4(conn: Connection) -> None:
    for column in _v4_job_columns():
        _add_column(conn, "jobs", column)
    for column in _v4_output_columns():
        _add_column(conn, "job_outputs", column)
    build_metadata(4).tables["batches"].create(conn)


def _v5(conn: Connection) -> None:
    build_metadata(5).tables["backdrops"].create(conn)


def _v6(conn: Connection) -> None:
    for column in _v6_job_columns():
        _add_column(conn, "jobs", column)
    for column in _v6_output_columns():
        _add_column(conn, "job_outputs", column)
    for column in _v6_batch_columns():
        _add_column(conn, "batches", column)
    _create_index(conn, 6, "ix_jobs_created_by")
    build_metadata(6).tables["activity"].create(conn)


def _v7(conn: Connection) -> None:
    build_metadata(7).tables["vendor_pacing"].create(conn)


def _v8(conn: Connection) -> None:
    for column in _v8_output_columns():
        _add_column(conn, "job_outputs", column)


def _v9(conn: Connection) -> None:
    for column in _v9_job_columns():
        _add_column(conn, "jobs", column)
    for column in _v9_pacing_columns(9):
        _add_column(conn, "vendor_pacing", column)
    _create_index(conn, 9, "ix_jobs_batch_finished")
    # A job mid-submit during the upgrade may be at the vendor: mark it sent, never re-run it.
    conn.execute(text("UPDATE jobs SET send_started_at = updated_at WHERE status = 'submitting'"))


STEPS: tuple[Step, ...] = (
    Step(1, "base tables and History indexes", _v1),
    Step(2, "batch_id, poll_failures, job_outputs.source_url", _v2),
    Step(3, "covering indexes for History totals and per-day stats", _v3),
    Step(4, "batches, jobs.sku, output review fields", _v4),
    Step(5, "backdrops (the user's own backdrop photos)", _v5),
    Step(6, "who did what: created_by, shared batches, decided_by, the activity list", _v6),
    Step(7, "vendor_pacing: submit rate and in-flight lock per provider, shared by all workers", _v7),
    Step(8, "output checks: job_outputs.checks_json and check_flags", _v8),
    Step(9, "jobs.send_started_at, vendor_pacing.recent_sends: sliding-window submit pacing", _v9),
)
LATEST = STEPS[-1].version
# The advisory lock key migrations take on PostgreSQL (any constant bigint; "BdStudio" in ASCII).
_MIGRATE_LOCK = 0x4264_5374_7564_696F
_SCHEMA_VERSION = build_metadata(1).tables["schema_version"]


def schema_version(conn: Connection) -> int:
    """The version a database is at; 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(select(_SCHEMA_VERSION.c.version)).scalar()
    return int(value or 0)


def migrate(engine: Engine, target: int = LATEST) -> int:
    """Upgrade the database to `target` step by step; each step commits on its own.

    Safe to call on every start and from several processes: the version is
    re-read inside each write transaction, after SQLite's write lock (BEGIN
    IMMEDIATE) or PostgreSQL's transaction advisory lock is taken, so two
    processes starting at once on an empty database apply each step once.
    """
    if target > LATEST or target < 1:
        raise ValueError(f"target schema version must be 1..{LATEST}, got {target}")
    for step in STEPS:
        if step.version > target:
            break
        with engine.connect() as conn:
            conn.execution_options(studio_write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    # Held until this step commits; the other process then sees the new version.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK})
                current = schema_version(conn)
                if current > LATEST:
                    raise SchemaError(
                        f"the database is at schema v{current}, newer than this app (v{LATEST}); "
                        "update Backdrop Studio or point STUDIO_DATA_DIR at another folder"
                    )
                if current >= step.version:
                    continue
                if current != step.version - 1:
                    raise SchemaError(f"cannot apply schema step v{step.version} to a v{current} database")
                step.apply(conn)
                conn.execute(update(_SCHEMA_VERSION).values(version=step.version))
    with engine.connect() as conn:
        return schema_version(conn)


TABLES = build_metadata(LATEST)
jobs_table = TABLES.tables["jobs"]
outputs_table = TABLES.tables["job_outputs"]
preferences_table = TABLES.tables["preferences"]
batches_table = TABLES.tables["batches"]
backdrops_table = TABLES.tables["backdrops"]
activity_table = TABLES.tables["activity"]
vendor_pacing_table = TABLES.tables["vendor_pacing"]
