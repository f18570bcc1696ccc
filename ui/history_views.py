"""History's tables and charts: one page of jobs as a DataFrame, totals, per-day charts.

Only the rows of the current page are turned into a DataFrame (the store pages
in SQL), so History stays quick with any number of jobs. Thumbnails travel as
small JPEG data URLs. Amounts in different currencies are never added: totals
and spend charts keep one row or series per currency.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from studio.jobs import DayStat, JobFilter, JobPage, ProviderTotal
from studio.people import LOCAL_KEY, Person
from studio.service import ProviderInfo
from ui.formatting import cost_text, local_time, provider_label, status_label, workflow_label
from ui.i18n import job_error_text, t
from ui.stored_files import file_bytes

# History's person filter: everyone (an admin) or everything the person sees, or "me".
EVERYONE = "*"
ME = "@me"

_THUMB_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def thumbnail_url(path: str | None) -> str | None:
    data = file_bytes(path)
    if path is None or data is None:
        return None
    mime = _THUMB_MIME.get(Path(path).suffix.lower(), "image/jpeg")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def pager_key(filters: JobFilter) -> str:
    """The pager widget's key for these filters: changing a filter gives a fresh pager at page 1."""
    digest = hashlib.sha1(repr(filters).encode("utf-8"), usedforsecurity=False).hexdigest()[:12]
    return f"history.page.{digest}"


def person_label(key: str | None) -> str:
    """Who did something, for people: an e-mail as it is; the local person, the CLI and rows from
    before the studio recorded anyone in words."""
    if key is None:
        return t("people.unknown")
    if key == LOCAL_KEY:
        return t("people.local")
    if key == "cli" or key.startswith("cli:"):
        return t("people.cli", user=key.partition(":")[2] or "-")
    return key


def person_options(person: Person, people: Sequence[str]) -> list[str]:
    """The person filter's choices: an admin picks anyone who made a job; others only themselves."""
    options = [EVERYONE, ME]
    if person.can("see_everyone"):
        options += [key for key in people if key != person.key]
    return options


def person_option_label(option: str, person: Person) -> str:
    if option == EVERYONE:
        return t("people.filter.everyone") if person.can("see_everyone") else t("people.filter.visible")
    if option == ME:
        return t("people.filter.me", who=person_label(person.key))
    return person_label(option)


def person_filter(option: str | None, person: Person) -> str | None:
    """The person key a chosen option filters on (None: no person filter)."""
    if option in (None, EVERYONE):
        return None
    if option == ME:
        return person.key
    return option if person.can("see_everyone") else person.key


def jobs_frame(page: JobPage, providers: Sequence[ProviderInfo], free: frozenset[str]) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for row in page.rows:
        error = (
            job_error_text(row.provider, row.error_code, row.error_message or "") if row.error_code else ""
        )
        records.append(
            {
                "thumbnail": thumbnail_url(row.thumbnail_path),
                "created": local_time(row.created_at).replace(tzinfo=None),
                "workflow": workflow_label(row.workflow),
                "provider": provider_label(row.provider, providers),
                "status": status_label(row.status),
                "images": row.images,
                "duration": row.duration_s,
                "cost": cost_text(row.cost_amount, row.cost_currency, free=row.provider in free),
                "prompt": row.prompt,
                "by": person_label(row.created_by),
                "error": error,
                "job_id": row.job_id,
            }
        )
    columns = [
        "thumbnail",
        "created",
        "workflow",
        "provider",
        "status",
        "images",
        "duration",
        "cost",
        "prompt",
        "by",
        "error",
        "job_id",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def jobs_column_config() -> dict[str, Any]:
    config = st.column_config
    return {
        "thumbnail": config.ImageColumn(t("history.col.thumbnail"), width="small"),
        "created": config.DatetimeColumn(t("history.col.created"), format="YYYY-MM-DD HH:mm"),
        "workflow": config.TextColumn(t("history.col.workflow")),
        "provider": config.TextColumn(t("history.col.provider")),
        "status": config.TextColumn(t("history.col.status")),
        "images": config.NumberColumn(t("history.col.images"), format="%d"),
        "duration": config.NumberColumn(t("history.col.duration"), format=t("history.duration_format")),
        "cost": config.TextColumn(t("history.col.cost")),
        "prompt": config.TextColumn(t("history.col.prompt"), width="medium"),
        "by": config.TextColumn(t("people.col.by"), width="small"),
        "error": config.TextColumn(t("history.col.error"), width="medium"),
        "job_id": config.TextColumn(t("history.col.job_id"), width="small"),
    }


def totals_frame(
    totals: Sequence[ProviderTotal], providers: Sequence[ProviderInfo], free: frozenset[str]
) -> pd.DataFrame:
    records = [
        {
            "provider": provider_label(total.provider, providers),
            "jobs": total.jobs,
            "images": total.images,
            "succeeded": total.succeeded,
            "failed": total.failed,
            "spend": cost_text(total.amount, total.currency, free=total.provider in free),
        }
        for total in totals
    ]
    return pd.DataFrame.from_records(
        records, columns=["provider", "jobs", "images", "succeeded", "failed", "spend"]
    )


def totals_column_config() -> dict[str, Any]:
    config = st.column_config
    return {
        "provider": config.TextColumn(t("history.col.provider")),
        "jobs": config.NumberColumn(t("history.col.jobs"), format="%d"),
        "images": config.NumberColumn(t("history.col.images"), format="%d"),
        "succeeded": config.NumberColumn(t("history.col.succeeded"), format="%d"),
        "failed": config.NumberColumn(t("history.col.failed"), format="%d"),
        "spend": config.TextColumn(t("history.col.spend")),
    }


@dataclass(frozen=True)
class Chart:
    """A bar chart's data with the column names the reader sees (axis titles, legend title)."""

    frame: pd.DataFrame
    x: str
    y: str
    colour: str


def images_per_day(stats: Sequence[DayStat], providers: Sequence[ProviderInfo]) -> Chart:
    """Images per day and provider, ready for a stacked bar chart."""
    return _per_day([(stat, float(stat.images)) for stat in stats], providers, t("history.col.images"))


def spend_per_day(stats: Sequence[DayStat], providers: Sequence[ProviderInfo]) -> dict[str, Chart]:
    """One chart per currency (amounts as numbers), so no chart mixes currencies."""
    by_currency: dict[str, list[tuple[DayStat, float]]] = {}
    for stat in stats:
        if stat.currency and stat.amount is not None:
            by_currency.setdefault(stat.currency, []).append((stat, float(Decimal(stat.amount))))
    return {
        currency: _per_day(values, providers, t("history.chart_amount", currency=currency))
        for currency, values in sorted(by_currency.items())
    }


def _per_day(values: Sequence[tuple[DayStat, float]], providers: Sequence[ProviderInfo], y: str) -> Chart:
    x, colour = t("history.chart_day"), t("history.col.provider")
    # ISO day strings, not timestamps: one bar per day and no English month names on the axis.
    frame = pd.DataFrame.from_records(
        [(stat.day.isoformat(), provider_label(stat.provider, providers), value) for stat, value in values],
        columns=[x, colour, y],
    )
    return Chart(frame.groupby([x, colour], as_index=False)[y].sum(), x, y, colour)
