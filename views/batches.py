"""Batches: many products at once, from images, a ZIP or a CSV/XLSX manifest; checked, estimated,
run within a budget, watched live, paused, resumed, canceled or retried. A picture frame.

Starting a batch takes the user to its progress: the plan is dropped (no second
Start), the batch is selected and the Progress tab is opened on the next run."""

from __future__ import annotations

import streamlit as st

from providers.base import Money, Operation
from studio.batches import BatchError
from studio.jobs import BatchStatus
from studio.manifest import BatchDefaults, ManifestError
from ui.auth import current_person, require
from ui.batch_inputs import SOURCES, plan_from_uploads
from ui.batch_scenes import count_default, count_limits, scene_default
from ui.batch_views import batch_choice_label, plan_summary, progress_panel
from ui.errors import error_text
from ui.i18n import choice_key, current_language, labeller, t, tkey
from ui.layout import page_header, provider_picker, step_heading
from ui.provider_options import price_caption
from ui.services import get_studio

PREFIX = "batch"
PLAN_STATE = "batch.plan"
SELECTED = "batch.selected"
# Set by Start: the next run opens the Progress tab once and selects the batch.
JUST_STARTED = "batch.just_started"
# The batch started last in this session: "Started ..." shows above it while it runs.
STARTED_NOTE = "batch.started_note"
WORKFLOWS = [Operation.PROMPT_BACKGROUND, Operation.SCENE_BACKGROUND]

require("create")  # spends money: members and admins (app.py hides the page from others)
studio = get_studio()
page_header(tkey("page.batch.title"), tkey("page.batch.intro"))
providers = studio.providers()

tab_key = f"batch.section.{current_language()}"  # the tab's value is its (translated) label
just_started = st.session_state.pop(JUST_STARTED, None)
if just_started:
    st.session_state[tab_key] = t("batch.tab.runs")
new_tab, runs_tab = st.tabs([t("batch.tab.new"), t("batch.tab.runs")], key=tab_key, on_change="rerun")
with new_tab:
    left, right = st.columns(2, gap="large")
    with left:
        step_heading(1, tkey("batch.step.products"))
        source = st.radio(
            t("batch.source"),
            options=list(SOURCES),
            format_func=labeller(SOURCES, lambda value: t(f"batch.source.{value}")),
            key=choice_key("batch.source", list(SOURCES), "images"),
            horizontal=True,
        )
        st.caption(t(f"batch.source_help.{source}"))
        uploads = st.file_uploader(
            t(f"batch.upload.{source}"),
            type={
                "images": ["png", "jpg", "jpeg", "webp", "bmp"],
                "zip": ["zip"],
                "manifest": ["csv", "xlsx", "png", "jpg", "jpeg", "webp", "bmp"],
            }[source],
            accept_multiple_files=source != "zip",
            key=f"batch.upload.{source}",
        )
    with right:
        step_heading(2, tkey("batch.step.defaults"))
        workflow = st.radio(
            t("batch.workflow"),
            options=WORKFLOWS,
            format_func=labeller(WORKFLOWS, lambda value: t(f"workflow.{value}")),
            key=choice_key("batch.workflow", WORKFLOWS, Operation.PROMPT_BACKGROUND),
            horizontal=True,
        )
        provider = provider_picker(studio, Operation(workflow), PREFIX)
        info = next((item for item in providers if item.key == provider), None)
        if info is not None:
            st.caption(price_caption(info, workflow))
        prompt = st.text_input(t("batch.prompt"), key="batch.prompt", placeholder=t("prompt.placeholder"))
        scene = scene_default(studio, info)
        count = count_default(count_limits(studio, provider, Operation(workflow)))
        fit = st.toggle(t("batch.fit"), value=True, key="batch.fit", help=t("batch.fit_help"))
        budget_on = st.toggle(t("batch.budget_on"), key="batch.budget_on")
        budget = None
        if budget_on:
            amount_column, currency_column = st.columns([2, 1])
            amount = amount_column.number_input(
                t("batch.budget"), min_value=0.01, value=10.0, step=1.0, key="batch.budget"
            )
            currency = currency_column.selectbox(t("batch.currency"), ["CNY", "USD"], key="batch.currency")
            budget = Money.parse(f"{amount:.2f}", str(currency))
        name = st.text_input(t("batch.name"), key="batch.name", placeholder=t("batch.name_placeholder"))
        share = st.toggle(t("people.share"), key="batch.share", help=t("people.share_help"))

    defaults = BatchDefaults(
        workflow=Operation(workflow),
        provider=provider,
        scene=scene,
        prompt=prompt.strip(),
        count=count,
        fit=fit,
    )
    step_heading(3, tkey("batch.step.check"))
    files = uploads if isinstance(uploads, list) else ([uploads] if uploads else [])
    if st.button(
        t("batch.check"),
        key="batch.check",
        icon=":material/fact_check:",
        disabled=not files or provider is None,
    ):
        with st.spinner(t("batch.checking")):
            try:
                st.session_state[PLAN_STATE] = plan_from_uploads(studio, source, files, defaults)
            except ManifestError as exc:
                st.session_state.pop(PLAN_STATE, None)
                st.error(error_text(exc), icon=":material/error:")
    plan = st.session_state.get(PLAN_STATE)
    if plan is not None:
        plan_summary(plan, providers)
        if st.button(
            t("batch.start", count=len(plan.items)),
            type="primary",
            key="batch.start",
            icon=":material/play_arrow:",
            disabled=not plan.ok,
        ):
            try:
                batch_id = studio.batches.start(
                    plan.items, name=name, budget=budget, by=current_person().key, shared=share
                )
            except BatchError as exc:
                st.error(error_text(exc), icon=":material/error:")
            else:
                # No second start from the same plan: it is gone, and the next run shows the progress.
                st.session_state.pop(PLAN_STATE, None)
                st.session_state[SELECTED] = batch_id
                st.session_state[JUST_STARTED] = batch_id
                st.session_state[STARTED_NOTE] = batch_id
                st.rerun()

with runs_tab:
    recent = studio.batches.recent(50, viewer=current_person())
    if not recent:
        st.info(t("batch.none_yet"), icon=":material/inventory_2:")
    else:
        ids = [batch.batch_id for batch in recent]
        picked_key = choice_key("batch.pick", ids, st.session_state.get(SELECTED) or ids[0])
        if just_started in ids:
            st.session_state[picked_key] = just_started  # the batch just started, not the last one seen
        chosen = st.selectbox(
            t("batch.pick"),
            options=ids,
            format_func=labeller(
                ids, lambda batch_id: batch_choice_label(next(b for b in recent if b.batch_id == batch_id))
            ),
            key=picked_key,
        )
        started = next((b for b in recent if b.batch_id == st.session_state.get(STARTED_NOTE)), None)
        if (
            chosen
            and started is not None
            and started.batch_id == chosen
            and started.status is not BatchStatus.DONE
        ):
            st.success(t("first_hour_b.started"), icon=":material/check_circle:")
        if chosen:
            progress_panel(studio, str(chosen), providers)
            st.page_link("views/review.py", label=t("batch.to_review"), icon=":material/rate_review:")
