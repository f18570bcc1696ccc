"""The activity list (audit): who did what and when, for admins (issue 15).

Each entry is one action a person took that matters on a shared server: an
export, a batch started, paused, resumed, canceled, retried, shared or given a
new budget, a connection or hosting test, a settings change. Jobs and review
decisions carry who made them in their own rows (`jobs.created_by`,
`job_outputs.decided_by`); this list is for the rest.

Keys and secrets never go in: `scrub` drops any detail whose name looks like a
credential and strips query strings (signatures) from links before a row is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select

from studio.migrations import activity_table as activity
from studio.store_core import StoreCore

# The actions the studio records (the audit list's filter offers these).
ACTIONS = (
    "export",  # a batch's images exported (ZIP or folder)
    "history_export",  # the job history downloaded as CSV
    "audit_export",  # this list downloaded as CSV
    "batch_start",
    "batch_pause",
    "batch_resume",
    "batch_cancel",
    "batch_retry",
    "batch_budget",
    "batch_share",
    "batch_reject_flagged",  # the batch's "reject flagged images" option turned on or off
    "test_connection",
    "test_hosting",
    "settings_change",  # providers, prices, budgets defaults, hosting
)
_SECRET_NAME = re.compile(
    r"secret|token|password|passwd|api[_-]?key|access[_-]?key|private[_-]?key|credential|signature"
    r"|authori[sz]ation|cookie|bearer",
    re.IGNORECASE,
)
_LINK_QUERY = re.compile(r"(https?://[^\s?#]+)[?#]\S*", re.IGNORECASE)
MAX_DETAIL_CHARS = 4000


@dataclass(frozen=True)
class ActivityEntry:
    entry_id: int
    at: datetime
    who: str
    action: str
    subject: str
    details: dict[str, Any]


@dataclass(frozen=True)
class ActivityFilter:
    """The audit list's filters; empty fields restrict nothing. Days are the user's calendar days."""

    date_from: date | None = None
    date_to: date | None = None  # inclusive
    who: str | None = None
    actions: tuple[str, ...] = ()
    text: str = ""  # matches the subject or the details


def scrub(value: Any) -> Any:
    """`value` without anything secret: credential-like names dropped, links without query strings."""
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items() if not _SECRET_NAME.search(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return _LINK_QUERY.sub(r"\1", value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))


class ActivityStore(StoreCore):
    """Writing and reading the activity list."""

    def record_activity(
        self, who: str, action: str, subject: str = "", details: Mapping[str, Any] | None = None
    ) -> None:
        """One entry, at the store's clock; details are scrubbed of secrets first."""
        text = json.dumps(scrub(dict(details or {})), ensure_ascii=False, sort_keys=True, default=str)
        if len(text) > MAX_DETAIL_CHARS:
            text = json.dumps({"truncated": text[:MAX_DETAIL_CHARS]}, ensure_ascii=False)
        with self._write() as conn:
            conn.execute(
                insert(activity).values(
                    at=self.now(),
                    who=who or "local",
                    action=action,
                    subject=scrub(subject or ""),
                    details_json=text,
                )
            )

    def list_activity(self, filters: ActivityFilter, limit: int = 500) -> list[ActivityEntry]:
        """The newest matching entries first, at most `limit`."""
        query = (
            select(activity)
            .where(*self._activity_where(filters))
            .order_by(activity.c.at.desc(), activity.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [_entry(row) for row in conn.execute(query).mappings()]

    def iter_activity(self, filters: ActivityFilter, chunk: int = 2000) -> Iterator[ActivityEntry]:
        """Every matching entry, newest first, `chunk` at a time by keyset (for the CSV)."""
        where = self._activity_where(filters)
        after: tuple[datetime, int] | None = None
        while True:
            query = select(activity).where(*where)
            if after is not None:
                query = query.where(
                    or_(activity.c.at < after[0], and_(activity.c.at == after[0], activity.c.id < after[1]))
                )
            query = query.order_by(activity.c.at.desc(), activity.c.id.desc()).limit(chunk)
            with self._read() as conn:
                batch = [_entry(row) for row in conn.execute(query).mappings()]
            yield from batch
            if len(batch) < chunk:
                return
            after = (batch[-1].at, batch[-1].entry_id)

    def activity_people(self) -> list[str]:
        """Everyone who has an entry, sorted (the audit list's person filter)."""
        with self._read() as conn:
            found: list[Any] = list(conn.execute(select(activity.c.who).distinct()).scalars())
            return sorted(str(v) for v in found)

    def _activity_where(self, filters: ActivityFilter) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if filters.date_from is not None:
            where.append(activity.c.at >= self._midnight(filters.date_from))
        if filters.date_to is not None:
            where.append(activity.c.at < self._midnight(filters.date_to + timedelta(days=1)))
        if filters.who:
            where.append(activity.c.who == filters.who)
        if filters.actions:
            where.append(activity.c.action.in_(list(filters.actions)))
        text = filters.text.strip()
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                or_(
                    activity.c.subject.ilike(pattern, escape="\\"),
                    activity.c.details_json.ilike(pattern, escape="\\"),
                    activity.c.who.ilike(pattern, escape="\\"),
                )
            )
        return where


def _entry(row: Any) -> ActivityEntry:
    try:
        details = json.loads(row["details_json"] or "{}")
    except ValueError:
        details = {}
    return ActivityEntry(
        entry_id=int(row["id"]),
        at=row["at"],
        who=str(row["who"]),
        action=str(row["action"]),
        subject=str(row["subject"] or ""),
        details=details if isinstance(details, dict) else {"value": details},
    )
