"""The activity list (audit) for admins: who exported, paused, canceled, tested what, and when.

Filters by days, person, action and text; the table shows the newest entries first and the
whole filtered list downloads as CSV (the download itself is recorded too).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from studio.people import Person
from studio.service import Studio
from studio.store import ActivityEntry, ActivityFilter
from studio.store_activity import ACTIONS
from ui.formatting import local_time
from ui.history_views import person_label
from ui.i18n import choice_key, labeller, t, tkey

SHOWN = 500  # entries in the table; the CSV has every matching one
_EVERYONE = "*"
# Each action's words (literal keys, so tests/test_i18n.py sees them used).
_ACTION_KEYS = {
    "export": tkey("people.action.export"),
    "history_export": tkey("people.action.history_export"),
    "audit_export": tkey("people.action.audit_export"),
    "batch_start": tkey("people.action.batch_start"),
    "batch_pause": tkey("people.action.batch_pause"),
    "batch_resume": tkey("people.action.batch_resume"),
    "batch_cancel": tkey("people.action.batch_cancel"),
    "batch_retry": tkey("people.action.batch_retry"),
    "batch_budget": tkey("people.action.batch_budget"),
    "batch_share": tkey("people.action.batch_share"),
    "batch_reject_flagged": tkey("people.action.batch_reject_flagged"),
    "test_connection": tkey("people.action.test_connection"),
    "test_hosting": tkey("people.action.test_hosting"),
    "settings_change": tkey("people.action.settings_change"),
}


def audit_panel(studio: Studio, person: Person) -> None:
    """The audit list with its filters and CSV export; only for people who see everyone."""
    if not person.can("see_everyone"):
        st.info(t("people.audit_admins_only"), icon=":material/lock:")
        return
    st.caption(t("people.audit_intro"))
    today = date.today()
    with st.container(border=True):
        first, second, third, fourth = st.columns([3, 2, 3, 3])
        dates = first.date_input(
            t("history.dates"),
            value=(today - timedelta(days=30), today),
            max_value=today,
            key="audit.dates",
        )
        people = [_EVERYONE, *studio.activity_people()]
        who = second.selectbox(
            t("people.filter"),
            options=people,
            format_func=labeller(
                people, lambda key: t("people.filter.everyone") if key == _EVERYONE else person_label(key)
            ),
            key=choice_key("audit.who", people, _EVERYONE),
        )
        actions = third.multiselect(
            t("people.col.action"),
            options=list(ACTIONS),
            format_func=labeller(ACTIONS, action_label),
            key=choice_key("audit.actions", list(ACTIONS), []),
            placeholder=t("history.any"),
        )
        text = fourth.text_input(t("history.search"), key="audit.text")
    picked = tuple(dates) if isinstance(dates, tuple | list) else (dates,)
    filters = ActivityFilter(
        date_from=picked[0] if picked else None,
        date_to=picked[1] if len(picked) > 1 else None,
        who=None if who in (None, _EVERYONE) else str(who),
        actions=tuple(actions),
        text=text.strip(),
    )
    entries = studio.activity(filters, SHOWN)
    if not entries:
        st.caption(t("people.audit_empty"))
        return
    st.dataframe(activity_frame(entries), column_config=activity_column_config(), hide_index=True)
    st.download_button(
        t("people.audit_export"),
        data=lambda: b"".join(studio.export_activity_csv(filters, by=person.key)),
        file_name=f"backdrop-audit-{today.isoformat()}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="audit.csv",
    )


def action_label(action: str) -> str:
    key = _ACTION_KEYS.get(action)
    return t(key) if key is not None else action


def activity_frame(entries: Sequence[ActivityEntry]) -> pd.DataFrame:
    records: list[dict[str, Any]] = [
        {
            "at": local_time(entry.at).replace(tzinfo=None),
            "who": person_label(entry.who),
            "action": action_label(entry.action),
            "subject": entry.subject,
            "details": json.dumps(entry.details, ensure_ascii=False, sort_keys=True) if entry.details else "",
        }
        for entry in entries
    ]
    return pd.DataFrame.from_records(records, columns=["at", "who", "action", "subject", "details"])


def activity_column_config() -> dict[str, Any]:
    config = st.column_config
    return {
        "at": config.DatetimeColumn(t("people.col.at"), format="YYYY-MM-DD HH:mm:ss"),
        "who": config.TextColumn(t("people.col.who")),
        "action": config.TextColumn(t("people.col.action")),
        "subject": config.TextColumn(t("people.col.subject")),
        "details": config.TextColumn(t("people.col.details"), width="large"),
    }
