"""Batch page pieces: the checked plan (problems, estimate) and the live progress of a batch, with
thumbnails of the items as they finish and statuses in the words people use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from studio.batches import BatchError
from studio.jobs import BatchProgress, BatchStatus, BatchView
from studio.manifest import BatchPlan
from studio.service import ProviderInfo, Studio
from ui.auth import current_person
from ui.errors import error_text
from ui.formatting import provider_label, status_label, when_text
from ui.history_views import person_label
from ui.i18n import coded_text, job_error_text, t, t_or, tkey
from ui.plain import plain
from ui.stored_files import image_source

# While a batch runs its panel refreshes itself at this pace (a fragment, not the whole page).
REFRESH_SECONDS = 2.0
# Problems shown at once; a plan of 100,000 rows pages through its table.
PROBLEMS_PER_PAGE = 200
# The newest finished items shown as thumbnails, a row of THUMBS_PER_ROW at a time.
THUMBS_SHOWN = 16
THUMBS_PER_ROW = 8


def plan_summary(plan: BatchPlan, providers: Sequence[ProviderInfo]) -> None:
    """What a checked plan holds: items, problems per row, and the cost estimate per provider."""
    images = sum(plan.images_by_provider.values())
    counts = (
        t("batch.plan_items", count=len(plan.items)),
        t("batch.plan_images", count=images),
        t("batch.plan_problems", count=plan.problem_count),
    )
    st.markdown(" · ".join(counts))
    if plan.problems:
        st.error(t("batch.plan_has_problems"), icon=":material/error:")
        _problem_table(plan)
    rows = []
    for provider, count in sorted(plan.images_by_provider.items()):
        costs = plan.estimate_by_provider.get(provider, {})
        cost = ", ".join(f"{money.as_str()} {currency}" for currency, money in sorted(costs.items()))
        unpriced = plan.unpriced.get(provider, 0)
        rows.append(
            {
                t("batch.col.provider"): provider_label(provider, providers),
                t("batch.col.images"): count,
                t("batch.col.estimate"): cost or (t("cost.unknown") if unpriced else t("cost.free")),
            }
        )
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    total = ", ".join(f"{money.as_str()} {currency}" for currency, money in sorted(plan.estimate.items()))
    st.caption(t("batch.estimate_total", total=total or t("cost.free")))
    for provider, count in plan.unpriced.items():
        st.warning(
            t("batch.unpriced", provider=provider_label(provider, providers), count=count),
            icon=":material/help:",
        )


def _problem_table(plan: BatchPlan) -> None:
    """The plan's problems, a page at a time (the plan keeps the first MAX_PROBLEMS_KEPT)."""
    problems = plan.problems
    pages = max(1, -(-len(problems) // PROBLEMS_PER_PAGE))
    page = 1
    if pages > 1:
        page = int(
            st.number_input(t("scale.page", pages=pages), min_value=1, max_value=pages, value=1, step=1)
        )
    first = (page - 1) * PROBLEMS_PER_PAGE
    shown = problems[first : first + PROBLEMS_PER_PAGE]
    frame = pd.DataFrame(
        [
            {
                t("batch.col.row"): problem.row or "-",
                t("batch.col.sku"): problem.sku,
                t("batch.col.column"): problem.column,
                t("batch.col.problem"): coded_text(problem.code, problem.message, dict(problem.params)),
            }
            for problem in shown
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    if pages > 1:
        st.caption(t("scale.problems_shown", first=first + 1, last=first + len(shown), total=len(problems)))
    if plan.problem_count > len(problems):
        st.caption(t("scale.problems_more", kept=len(problems), total=plan.problem_count))


def batch_label(batch: BatchView, *, markdown: bool = False) -> str:
    """The batch as an option label; `markdown=True` for a markdown place (its name shown as text)."""
    name = (plain(batch.name) if markdown else batch.name) or t("batch.unnamed")
    return t(
        "batch.option", name=name, when=when_text(batch.created_at), status=batch_status_label(batch.status)
    )


def batch_choice_label(batch: BatchView) -> str:
    """The batch in the page's picker: name and start time. Its status is left to the live panel
    below (the picker is drawn by the page run and would show a status that has moved on)."""
    return t(
        "first_hour_b.batch_option", name=batch.name or t("batch.unnamed"), when=when_text(batch.created_at)
    )


def batch_status_label(status: BatchStatus | str) -> str:
    """A batch's state in words ("Finished", "Paused"), never its code ("done")."""
    key = _BATCH_STATUS_TEXT.get(str(status))
    return t(key) if key else t_or(f"batch.status.{status}", str(status))


def item_status_label(status: str) -> str:
    """An item's state in words ("Ready", "Waiting"), never its code ("succeeded", "queued")."""
    key = _ITEM_STATUS_TEXT.get(status)
    return t(key) if key else status_label(status)


_BATCH_STATUS_TEXT = {
    "running": tkey("first_hour_b.batch_status.running"),
    "paused": tkey("first_hour_b.batch_status.paused"),
    "canceled": tkey("first_hour_b.batch_status.canceled"),
    "done": tkey("first_hour_b.batch_status.done"),
}
_ITEM_STATUS_TEXT = {
    "queued": tkey("first_hour_b.item_status.queued"),
    "submitting": tkey("first_hour_b.item_status.submitting"),
    "running": tkey("first_hour_b.item_status.running"),
    "downloading": tkey("first_hour_b.item_status.downloading"),
    "succeeded": tkey("first_hour_b.item_status.succeeded"),
    "failed": tkey("first_hour_b.item_status.failed"),
    "canceled": tkey("first_hour_b.item_status.canceled"),
    "paused": tkey("first_hour_b.item_status.paused"),
}


@st.fragment(run_every=REFRESH_SECONDS)
def progress_panel(studio: Studio, batch_id: str, providers: Sequence[ProviderInfo]) -> None:
    """Bars overall and per provider, pace, ETA, spend, failures and the batch's buttons."""
    try:
        progress = studio.batches.progress(batch_id)
    except BatchError as exc:
        st.error(error_text(exc))
        return
    batch = progress.batch
    st.markdown(f"**{batch_label(batch, markdown=True)}**")
    _sharing(studio, batch)
    if batch.status is BatchStatus.PAUSED:
        reason = t("batch.paused_budget") if batch.pause_reason == "budget" else t("batch.paused_user")
        st.warning(reason, icon=":material/pause_circle:")
    total = max(1, progress.total)
    st.progress(
        progress.finished / total, text=t("batch.overall", done=progress.finished, total=progress.total)
    )
    for provider, counts in sorted(progress.by_provider.items()):
        count = sum(counts.values())
        finished = sum(counts.get(status, 0) for status in ("succeeded", "failed", "canceled"))
        st.progress(
            finished / max(1, count),
            text=t(
                "batch.per_provider", provider=provider_label(provider, providers), done=finished, total=count
            ),
        )
    # What finished, in words and pictures, before the numbers: it is what people look for first.
    st.caption(
        " · ".join(
            t("first_hour_b.status_count", status=item_status_label(key), count=n)
            for key, n in sorted(progress.by_status.items())
        )
    )
    finished_thumbnails(studio, progress)
    columns = st.columns(4)
    pace, eta = _pace(progress)
    columns[0].metric(t("batch.metric.succeeded"), progress.by_status.get("succeeded", 0))
    columns[1].metric(t("batch.metric.failed"), progress.by_status.get("failed", 0))
    columns[2].metric(t("batch.metric.pace"), pace)
    columns[3].metric(t("batch.metric.eta"), eta)
    spent = ", ".join(f"{money.as_str()} {currency}" for currency, money in sorted(progress.spent.items()))
    budget = f"{batch.budget.as_str()} {batch.budget.currency}" if batch.budget else t("batch.no_budget")
    st.caption(t("batch.spend", spent=spent or t("cost.free_or_none"), budget=budget))
    _actions(studio, progress)
    if progress.failures:
        with st.expander(t("batch.failures", count=len(progress.failures)), icon=":material/error:"):
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            t("batch.col.sku"): failure.sku or "",
                            t("batch.col.provider"): provider_label(failure.provider, providers),
                            t("batch.col.problem"): job_error_text(
                                failure.provider, failure.code or "unknown", failure.message or ""
                            ),
                            t("batch.col.job"): failure.job_id[:8],
                        }
                        for failure in progress.failures
                    ]
                ),
                hide_index=True,
                width="stretch",
            )


def finished_thumbnails(studio: Studio, progress: BatchProgress) -> None:
    """The newest finished items as thumbnails (first image of each), refreshed with the panel."""
    finished, newest = studio.batches.newest_finished(progress.batch.batch_id, THUMBS_SHOWN)
    newest = [job for job in newest if job.outputs]
    st.markdown(t("first_hour_b.thumbs_title", count=finished))
    if not newest:
        st.caption(t("first_hour_b.thumbs_waiting"))
        return
    with st.container(key="batch-thumbs"):
        for start in range(0, len(newest), THUMBS_PER_ROW):
            row = newest[start : start + THUMBS_PER_ROW]
            for column, job in zip(st.columns(THUMBS_PER_ROW), row, strict=False):
                output = job.outputs[0]
                source = image_source(output.thumbnail_path) or image_source(output.path)
                if source is not None:
                    column.image(source, caption=job.sku or job.job_id[:8], width="stretch")
    if finished > len(newest):
        st.caption(t("first_hour_b.thumbs_more", shown=len(newest), count=finished))


def _actions(studio: Studio, progress: BatchProgress) -> None:
    batch = progress.batch
    status = batch.status
    # Pause, resume, cancel and retry need "manage_batches": disabled without it, and checked again.
    managing = may_manage(batch)
    row = st.columns(4)
    try:
        if row[0].button(
            t("batch.pause"), key=f"batch.pause.{batch.batch_id}", icon=":material/pause:",
            disabled=status is not BatchStatus.RUNNING or not managing, width="stretch",
        ) and may_manage(batch):  # fmt: skip
            studio.batches.pause(batch.batch_id, by=current_person().key)
            st.rerun()
        if row[1].button(
            t("batch.resume"), key=f"batch.resume.{batch.batch_id}", icon=":material/play_arrow:",
            disabled=status is not BatchStatus.PAUSED or not managing, width="stretch",
        ) and may_manage(batch):  # fmt: skip
            studio.batches.resume(batch.batch_id, by=current_person().key)
            st.rerun()
        if row[2].button(
            t("batch.cancel"), key=f"batch.cancel.{batch.batch_id}", icon=":material/cancel:",
            disabled=status not in (BatchStatus.RUNNING, BatchStatus.PAUSED) or not managing, width="stretch",
        ) and may_manage(batch):  # fmt: skip
            studio.batches.cancel(batch.batch_id, by=current_person().key)
            st.rerun()
        if row[3].button(
            t("batch.retry", count=len(progress.failures)), key=f"batch.retry.{batch.batch_id}",
            icon=":material/replay:",
            disabled=not progress.failures or status is BatchStatus.CANCELED or not managing,
            width="stretch",
        ) and may_manage(batch):  # fmt: skip
            studio.batches.retry_failed(batch.batch_id, by=current_person().key)
            st.rerun()
    except BatchError as exc:
        st.error(error_text(exc), icon=":material/error:")


def may_manage(batch: BatchView) -> bool:
    """Pause, resume, cancel, retry and share: the role allows it and the batch is the person's own
    (an admin: any batch). A member reviews a teammate's shared batch but does not stop it."""
    person = current_person()
    return person.can("manage_batches") and (person.can("see_everyone") or batch.created_by == person.key)


def _sharing(studio: Studio, batch: BatchView) -> None:
    """Who started the batch, whether the team sees it, and the switch for its owner."""
    seen = t("people.shared") if batch.shared else t("people.private")
    st.caption(t("people.started_by", who=plain(person_label(batch.created_by)), seen=seen))
    if not may_manage(batch):
        return
    shared = st.toggle(
        t("people.share"),
        value=batch.shared,
        key=f"batch.share.{batch.batch_id}",
        help=t("people.share_help"),
    )
    if shared != batch.shared:
        try:
            studio.batches.share(batch.batch_id, shared, by=current_person().key)
        except BatchError as exc:
            st.error(error_text(exc), icon=":material/error:")
        else:
            st.rerun()


def _pace(progress: BatchProgress) -> tuple[str, str]:
    """Items finished per minute since the first started, and the time left at that pace."""
    started, last = progress.started_at, progress.last_finished_at
    if started is None or last is None or progress.finished == 0:
        return "-", "-"
    now = datetime.now(UTC)
    elapsed = max(1.0, ((now if progress.remaining else last) - started).total_seconds())
    per_minute = progress.finished / elapsed * 60
    if progress.remaining == 0 or progress.batch.status is not BatchStatus.RUNNING:
        eta = "-"
    else:
        seconds = progress.remaining / max(per_minute / 60, 1e-6)
        eta = t("duration.minutes", minutes=int(seconds // 60), seconds=int(seconds % 60))
    return t_or("batch.pace_value", "{pace}/min", pace=f"{per_minute:.1f}"), eta
