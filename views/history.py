"""History: every job, filtered and paged in the store, with a detail view, totals and export.

A picture frame: filters in, one studio call per view, tables and charts out. Each person
sees the jobs their role lets them see (`studio.store_history`) and can narrow them to
their own; an admin can pick anyone, and has a second tab: the activity list (audit).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import streamlit as st

from providers.base import Operation
from studio.jobs import PENDING_STATUSES, JobFilter, JobStatus
from ui.audit_views import audit_panel
from ui.auth import current_person
from ui.formatting import free_providers, provider_label, status_label, workflow_label
from ui.history_details import job_details
from ui.history_views import (
    images_per_day,
    jobs_column_config,
    jobs_frame,
    pager_key,
    person_filter,
    person_option_label,
    person_options,
    spend_per_day,
    totals_column_config,
    totals_frame,
)
from ui.i18n import choice_key, labeller, t, tkey
from ui.job_views import watch_pending
from ui.layout import page_header
from ui.services import get_studio

PAGE_SIZE = 50


def _any_of(place: Any, label: str, key: str, options: list[str], label_of: Any) -> list[str]:
    """A filter of several values (none chosen: any), remembered for the session."""
    chosen: list[str] = place.multiselect(
        t(label),
        options=options,
        format_func=labeller(options, label_of),
        key=choice_key(key, options, []),
        persist_state="session",
        placeholder=t("history.any"),
    )
    return chosen


studio = get_studio()
providers = studio.providers()
free = free_providers(studio)
page_header(tkey("page.history.title"), tkey("page.history.intro"))
person = current_person()
jobs_area: Any
audit_area: Any = None
if person.can("see_everyone"):
    jobs_area, audit_area = st.tabs([t("people.tab.jobs"), t("people.tab.audit")])
else:
    jobs_area = st.container()

with jobs_area:
    today = date.today()
    with st.container(border=True):
        first, second, third, fourth, fifth, sixth = st.columns([3, 2, 2, 2, 2, 3])
        dates = first.date_input(
            t("history.dates"),
            value=(today - timedelta(days=30), today),
            max_value=today,
            key="history.dates",
            persist_state="session",
        )
        workflows = _any_of(
            second, "history.workflow", "history.workflows", [op.value for op in Operation], workflow_label
        )
        chosen_providers = _any_of(
            third,
            "history.provider",
            "history.providers",
            [info.key for info in providers],
            lambda key: provider_label(key, providers),
        )
        statuses = _any_of(
            fourth, "history.status", "history.statuses", [status.value for status in JobStatus], status_label
        )
        who_options = person_options(person, studio.job_people(person))
        who = fifth.selectbox(
            t("people.filter"),
            options=who_options,
            format_func=labeller(who_options, lambda option: person_option_label(option, person)),
            key=choice_key("history.person", who_options, who_options[0]),
        )
        text = sixth.text_input(
            t("history.search"),
            placeholder=t("history.search_placeholder"),
            key="history.text",
            persist_state="session",
        )

    # A range still being picked has one end only; filter from that day on until the second click.
    picked = tuple(dates) if isinstance(dates, tuple | list) else (dates,)
    filters = JobFilter(
        date_from=picked[0] if picked else None,
        date_to=picked[1] if len(picked) > 1 else None,
        workflows=tuple(workflows),
        providers=tuple(chosen_providers),
        statuses=tuple(statuses),
        text=text.strip(),
        person=person_filter(str(who), person),
        viewer=person,
    )
    # The pager's key follows the filters, so new filters start again at page 1.
    page_key = pager_key(filters)
    requested = st.session_state.get(page_key, 1)
    page = studio.list_jobs(filters, page=requested if isinstance(requested, int) else 1, page_size=PAGE_SIZE)
    pages = max(1, math.ceil(page.total / PAGE_SIZE))
    if page.page > pages:
        # Jobs vanished under the pager (another tab, a script); show the last page there is.
        page = studio.list_jobs(filters, page=pages, page_size=PAGE_SIZE)

    if page.total == 0:
        unfiltered = filters == JobFilter(
            date_from=filters.date_from, date_to=filters.date_to, viewer=filters.viewer
        )
        if unfiltered:
            st.info(t("history.empty"), icon=":material/inbox:")
            st.page_link(
                "views/prompt_background.py", label=t("history.empty_link"), icon=":material/wallpaper:"
            )
        else:
            st.info(t("history.no_match"), icon=":material/filter_alt_off:")
    else:
        event = st.dataframe(
            jobs_frame(page, providers, free),
            column_config=jobs_column_config(),
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="history.table",
            row_height=56,
        )
        bottom_left, bottom_right = st.columns([3, 2], vertical_alignment="center")
        with bottom_left:
            st.pagination(pages, key=page_key)
        with bottom_right:
            st.caption(t("history.page_of", page=page.page, pages=pages, count=page.total))
            st.download_button(
                t("history.export"),
                data=lambda: b"".join(studio.export_csv(filters, by=person.key)),
                file_name=f"backdrop-history-{today.isoformat()}.csv",
                mime="text/csv",
                on_click="ignore",
                icon=":material/download:",
                key="history.csv",
            )
        watch_pending(studio, tuple(row.job_id for row in page.rows if row.status in PENDING_STATUSES))

        rows = event.selection.rows if event is not None else []
        if rows and rows[0] < len(page.rows):
            job = studio.get_job(page.rows[rows[0]].job_id)
            if job is not None:
                st.divider()
                st.subheader(t("history.detail_title"))
                job_details(studio, job, key_prefix="history")
        else:
            st.caption(t("history.select_hint"))

    st.divider()
    st.subheader(t("history.totals_title"))
    st.caption(t("history.totals_intro"))
    totals = studio.provider_totals(filters)
    if totals:
        st.dataframe(
            totals_frame(totals, providers, free), column_config=totals_column_config(), hide_index=True
        )
        stats = studio.daily_stats(filters)
        chart_left, chart_right = st.columns(2, gap="large")
        with chart_left:
            st.markdown(t("history.chart_images"))
            images = images_per_day(stats, providers)
            st.bar_chart(images.frame, x=images.x, y=images.y, color=images.colour)
        with chart_right:
            spend = spend_per_day(stats, providers)
            if not spend:
                st.markdown(t("history.chart_spend"))
                st.caption(t("history.no_spend"))
            for currency, chart in spend.items():
                st.markdown(t("history.chart_spend_currency", currency=currency))
                st.bar_chart(chart.frame, x=chart.x, y=chart.y, color=chart.colour)
    else:
        st.caption(t("history.no_totals"))

if audit_area is not None:
    with audit_area:
        audit_panel(studio, person)
