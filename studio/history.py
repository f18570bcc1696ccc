"""History export: the job history as a UTF-8 CSV, streamed, safe to open in Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from studio.jobs import JobFilter, JobRow
from studio.store import Store

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
)


def export_csv(store: Store, filters: JobFilter) -> Iterator[bytes]:
    """History as UTF-8 CSV, streamed in chunks; the BOM makes Excel read Chinese text right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    rows: list[JobRow] = []
    for row in store.iter_rows(filters):
        rows.append(row)
        if len(rows) >= 500:
            yield _csv_chunk(rows)
            rows = []
    if rows:
        yield _csv_chunk(rows)


def _csv_chunk(rows: list[JobRow]) -> bytes:
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
                _cell(row.error_message or ""),
                _cell(row.prompt),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _cell(text: str) -> str:
    # A cell starting with = + - @ is a formula to Excel; a leading apostrophe keeps it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
