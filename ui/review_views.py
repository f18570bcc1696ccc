"""Review: the per-provider scoreboard (with the share of images the product check flagged), the
batch's "reject flagged images automatically" switch, and the grid of products with each
provider's variants side by side, each with its check badge and labelled decision buttons.

The one-by-one reviewer and Undo are in `ui.review_focus`, the export with its marketplace
gate in `ui.export_gate`, the filters in `ui.review_items`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from studio.batches import BatchError
from studio.jobs import BatchView, JobOutput, JobStatus, JobView, ReviewState
from studio.service import ProviderInfo, Studio
from ui.auth import current_person
from ui.batch_views import may_manage
from ui.errors import error_text
from ui.formatting import cost_text, duration_text, provider_label
from ui.i18n import t, tn
from ui.plain import plain
from ui.review_badges import check_badge, share_text
from ui.review_focus import decide, state_text
from ui.review_items import Variant
from ui.stored_files import image_source

PRODUCTS_PER_PAGE = 8
# Columns per product row (the original plus variants); more variants make the row denser.
GRID_COLUMNS = 5


def scoreboard(
    jobs: Sequence[JobView],
    providers: Sequence[ProviderInfo],
    flagged: Mapping[str, tuple[int, int]] | None = None,
) -> None:
    """Which vendor wins on this catalogue: approval rate, time, cost and, from `flagged`
    (provider -> (flagged, checked), `Batches.flagged_share`), how often the product check
    caught a changed product."""
    rows = []
    by_provider: dict[str, list[JobView]] = defaultdict(list)
    for job in jobs:
        by_provider[job.provider].append(job)
    for provider, provider_jobs in sorted(by_provider.items()):
        outputs = [output for job in provider_jobs for output in job.outputs]
        approved = sum(1 for output in outputs if output.review == ReviewState.APPROVED)
        rejected = sum(1 for output in outputs if output.review == ReviewState.REJECTED)
        reviewed = approved + rejected
        durations = [job.duration_s for job in provider_jobs if job.duration_s is not None]
        costs = [job.cost for job in provider_jobs if job.cost is not None]
        currency = (
            costs[0].currency if costs and all(c.currency == costs[0].currency for c in costs) else None
        )
        per_image = (
            f"{sum(c.amount_minor for c in costs) / max(1, len(outputs)) / 100:.3f} {currency}"
            if currency
            else "-"
        )
        rows.append(
            {
                t("review.col.provider"): provider_label(provider, providers),
                t("review.col.images"): len(outputs),
                t("review.col.approved"): approved,
                t("review.col.rejected"): rejected,
                t("review.col.rate"): f"{approved / reviewed:.0%}" if reviewed else "-",
                t("review.col.time"): duration_text(sum(durations) / len(durations)) if durations else "-",
                t("review.col.cost"): per_image,
                t("review.col.failed"): sum(1 for job in provider_jobs if job.status is JobStatus.FAILED),
                t("review_checks.col.flagged"): share_text((flagged or {}).get(provider)),
            }
        )
    if not rows:
        return
    frame = pd.DataFrame(rows)
    failed = t("review.col.failed")
    if not frame[failed].any():
        # A column of zeros says nothing, and without it the table fits 1280 px windows uncut.
        frame = frame.drop(columns=[failed])
    st.dataframe(frame, hide_index=True, width="stretch")


def product_grid(
    studio: Studio,
    jobs: Sequence[JobView],
    shown: Sequence[Variant],
    providers: Sequence[ProviderInfo],
    prefix: str,
) -> None:
    """Per product (SKU): the original, then each provider's variants side by side with time and cost."""
    visible = {(item.job.job_id, item.output.index) for item in shown}
    products: dict[str, list[JobView]] = defaultdict(list)
    for job in jobs:
        products[job.sku or job.job_id[:8]].append(job)
    skus = [
        sku
        for sku, group in products.items()
        if any((j.job_id, o.index) in visible for j in group for o in j.outputs)
    ]
    if not skus:
        return
    pages = max(1, -(-len(skus) // PRODUCTS_PER_PAGE))
    page = (
        int(st.number_input(t("review.page", pages=pages), 1, pages, 1, key=f"{prefix}.page"))
        if pages > 1
        else 1
    )
    for sku in skus[(page - 1) * PRODUCTS_PER_PAGE : page * PRODUCTS_PER_PAGE]:
        group = products[sku]
        pairs = [
            (job, output) for job in group for output in job.outputs if (job.job_id, output.index) in visible
        ]
        with st.container(border=True):
            st.markdown(f"**{plain(sku)}**")
            # The original, then every variant at the same width: providers side by side.
            columns = st.columns(1 + max(GRID_COLUMNS - 1, len(pairs)))
            first = group[0]
            first_image = image_source(first.input_path)
            if first_image is not None:
                columns[0].image(first_image, caption=t("gallery.before"), width="stretch")
            for column, (job, output) in zip(columns[1:], pairs, strict=False):
                with column:
                    free = job.provider == "local"
                    cost = cost_text(
                        job.cost.as_str() if job.cost else None,
                        job.cost.currency if job.cost else None,
                        free=free,
                    )
                    st.caption(
                        t(
                            "review.job_caption",
                            provider=provider_label(job.provider, providers),
                            duration=duration_text(job.duration_s),
                            cost=cost,
                        )  # fmt: skip
                    )
                    _variant(studio, job, output, prefix, providers)
            failed = [job for job in group if job.status is not JobStatus.SUCCEEDED]
            for job in failed:
                st.caption(f"{provider_label(job.provider, providers)}: {t(f'status.{job.status}')}")


def _variant(
    studio: Studio, job: JobView, output: JobOutput, prefix: str, providers: Sequence[ProviderInfo]
) -> None:
    """One variant: thumbnail, decision and check badge, and labelled buttons. The button of the
    current decision is highlighted and clicking it again clears the decision (Undo works too)."""
    path = output.thumbnail_path or output.path
    st.image(image_source(path) or path, caption=state_text(output), width="stretch")
    check_badge(output)
    base = f"{prefix}.grid.{job.job_id}.{output.index}"
    item = Variant(job, output)
    row = st.columns(2)
    for column, state, icon, name in (
        (row[0], ReviewState.APPROVED, ":material/check:", "ok"),
        (row[1], ReviewState.REJECTED, ":material/close:", "no"),
    ):
        active = output.review == state
        label = t("review.approve") if name == "ok" else t("review.reject")
        clicked = column.button(
            label, key=f"{base}.{name}", icon=icon, type="primary" if active else "secondary",
            help=t("review_checks.grid.clear") if active else None, width="stretch",
        )  # fmt: skip
        if clicked and decide(studio, item, None if active else state, prefix, providers):
            st.rerun()
    favourite_help = (
        t("review_checks.grid.unfavourite") if output.favourite else t("review_checks.grid.favourite")
    )
    if st.button(
        t("review.favourite"), key=f"{base}.fav",
        icon=":material/star:" if output.favourite else ":material/star_outline:",
        type="tertiary", help=favourite_help,
    ):  # fmt: skip
        studio.batches.review(
            job.job_id, output.index, favourite=not output.favourite, by=current_person().key
        )
        st.rerun()


def auto_reject_switch(studio: Studio, batch: BatchView) -> None:
    """The batch owner's (or an admin's) "Reject flagged images automatically", saying how many
    images turning it on rejected; others read whether it is on."""
    message_key = f"review.reject_flagged.{batch.batch_id}.said"
    said = st.session_state.pop(message_key, None)
    if not may_manage(batch):
        if batch.rejects_flagged:
            st.caption(t("review_checks.auto_reject_is_on"))
        return
    on = st.toggle(
        t("review_checks.auto_reject"),
        value=batch.rejects_flagged,
        key=f"review.reject_flagged.{batch.batch_id}",
        help=t("review_checks.auto_reject_help"),
    )
    if isinstance(said, str):
        st.success(said, icon=":material/rule:")
    if on == batch.rejects_flagged:
        return
    try:
        rejected = studio.batches.set_reject_flagged(batch.batch_id, on, by=current_person().key)
    except BatchError as exc:
        st.error(error_text(exc), icon=":material/error:")
        return
    st.session_state[message_key] = (
        tn("review_checks.auto_reject_done", rejected) if on else t("review_checks.auto_reject_off")
    )
    st.rerun()
