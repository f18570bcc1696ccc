"""The job store: every job, its outputs and the user's preferences, through SQLAlchemy Core.

The database is the source of truth for a job's state. `Store` is the one
class callers use; it is composed of sections over one Engine:

- `studio.store_core`: the engine factory, transactions, value types, row mapping
- `studio.store_claims`: create/read jobs, compare-and-set transitions, leases, `claim_next`
- `studio.store_history`: History pages, row walks, totals and daily stats in SQL
- `studio.store_batches`: batches, budgets, progress, notes and review
- `studio.store_preferences`: the user's key/value preferences (some per person)
- `studio.store_activity`: the activity list (audit): who exported, paused, tested what
- `studio.store_checks`: what each output's fidelity check found (issue 17)

SQLite (the default) runs in WAL mode with a busy timeout; write transactions
start with BEGIN IMMEDIATE so a writer waits for the lock instead of failing
half way. PostgreSQL (`DATABASE_URL=postgresql://...`, psycopg 3) is the store a
team shares between processes and machines: claims lock rows (FOR UPDATE SKIP
LOCKED, and the vendor's `vendor_pacing` row FOR UPDATE), migrations take an
advisory lock. Only portable SQL is used; the store, worker and batch tests run
on both databases.
"""

from __future__ import annotations

from studio.store_activity import ActivityEntry, ActivityFilter, ActivityStore
from studio.store_batches import BatchStore
from studio.store_checks import OutputCheckStore
from studio.store_claims import JobStateStore
from studio.store_core import (
    MAX_PAGE_SIZE,
    ClaimedJob,
    ClaimKind,
    InvalidTransition,
    NewBatch,
    NewJob,
    NewOutput,
    StoreCore,
    StoreError,
    create_store_engine,
    dumps_notes,
)
from studio.store_history import HistoryQueries
from studio.store_preferences import PreferenceStore

__all__ = [
    "MAX_PAGE_SIZE",
    "ActivityEntry",
    "ActivityFilter",
    "ClaimKind",
    "ClaimedJob",
    "InvalidTransition",
    "NewBatch",
    "NewJob",
    "NewOutput",
    "Store",
    "StoreCore",
    "StoreError",
    "create_store_engine",
    "dumps_notes",
]


class Store(JobStateStore, HistoryQueries, BatchStore, PreferenceStore, ActivityStore, OutputCheckStore):
    """Jobs, outputs, preferences and the activity list. Thread-safe: it holds only the Engine."""
