"""History export: the job history and the activity list as UTF-8 CSV, streamed, safe to open in Excel.

A download with `by` (who asked for it) is recorded in the activity list when it starts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from studio.jobs import JobFilter, JobRow
from studio.safe_files import neutralise_cell
from studio.store import ActivityEntry, ActivityFilter, Store

CSV_COLUMNS = (
    "job_id",
    "created_at",
    "workflow",
    "provider",
    "status",
    "images",
    "duration_s",
    "cost",
    "currency",
    "error_code",
    "error_message",
    "prompt",
    "created_by",
)
ACTIVITY_COLUMNS = ("at", "who", "action", "subject", "details")


def export_csv(store: Store, filters: JobFilter, *, by: str | None = None) -> Iterator[bytes]:
    """History as UTF-8 CSV, streamed in chunks; the BOM makes Excel read Chinese text right."""
    if by is not None:
        store.record_activity(by, "history_export", "", _filter_facts(filters))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    rows: list[JobRow] = []
    root = str(store.files_root)
    for row in store.iter_rows(filters):
        rows.append(row)
        if len(rows) >= 500:
            yield _csv_chunk(rows, root)
            rows = []
    if rows:
        yield _csv_chunk(rows, root)


def _csv_chunk(rows: list[JobRow], root: str = "") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            [
                row.job_id,
                _local_time(row.created_at),
                row.workflow,
                row.provider,
                row.status,
                row.images,
                "" if row.duration_s is None else f"{row.duration_s:.1f}",
                row.cost_amount or "",
                row.cost_currency or "",
                row.error_code or "",
                _cell(_without_root(row.error_message or "", root)),
                _cell(row.prompt),
                _cell(row.created_by or ""),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def activity_csv(store: Store, filters: ActivityFilter, *, by: str | None = None) -> Iterator[bytes]:
    """The activity list as UTF-8 CSV (with a BOM), newest first, streamed in chunks."""
    if by is not None:
        store.record_activity(by, "audit_export", "", _filter_facts(filters))
    buffer = io.StringIO()
    csv.writer(buffer).writerow(ACTIVITY_COLUMNS)
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    entries: list[ActivityEntry] = []
    for entry in store.iter_activity(filters):
        entries.append(entry)
        if len(entries) >= 500:
            yield _activity_chunk(entries)
            entries = []
    if entries:
        yield _activity_chunk(entries)


def _activity_chunk(entries: list[ActivityEntry]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for entry in entries:
        details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
        writer.writerow(
            [_local_time(entry.at), _cell(entry.who), entry.action, _cell(entry.subject), _cell(details)]
        )
    return buffer.getvalue().encode("utf-8")


def _filter_facts(filters: JobFilter | ActivityFilter) -> dict[str, Any]:
    """The filters a download used, as plain facts for its activity entry (no viewer object)."""
    facts: dict[str, Any] = {}
    for name, value in vars(filters).items():
        if name == "viewer" or value in (None, "", ()):
            continue
        facts[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return facts


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _cell(text: str) -> str:
    # A cell starting with = + - @ (or TAB, CR, NUL) is a formula to Excel; an apostrophe keeps it text.
    return neutralise_cell(text)


def _without_root(text: str, root: str) -> str:
    """A message naming a file under the data folder names it relative to that folder (a download
    holds no server paths)."""
    if not root or root not in text:
        return text
    return text.replace(root.rstrip("/") + "/", "").replace(root, "STUDIO_DATA_DIR")
