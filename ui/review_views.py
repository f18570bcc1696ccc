"""Review: one image large with the original beside it and keyboard shortcuts, a grid of products
with each provider's variants side by side, a per-provider scoreboard, and the export."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from imaging.marketplace import PRESETS, Preset, custom_preset
from studio.batches import BatchError
from studio.export import DEFAULT_TEMPLATE
from studio.jobs import JobOutput, JobStatus, JobView, ReviewState
from studio.service import ProviderInfo, Studio
from ui.auth import allowed, current_person
from ui.errors import error_text
from ui.formatting import cost_text, duration_text, provider_label
from ui.history_views import person_label
from ui.i18n import choice_key, labeller, t
from ui.plain import plain
from ui.stored_files import image_source

FILTERS = ("all", "unreviewed", "approved", "rejected", "favourites")
PRODUCTS_PER_PAGE = 8
# Columns per product row (the original plus variants); more variants make the row denser.
GRID_COLUMNS = 5
PRESET_KEYS = (*PRESETS, "custom")


@dataclass(frozen=True)
class Variant:
    job: JobView
    output: JobOutput


def variants(jobs: Sequence[JobView], show: str, chosen_providers: Sequence[str]) -> list[Variant]:
    """Every image of the batch's finished jobs that passes the filters, in batch order."""
    found = []
    for job in jobs:
        if job.status is not JobStatus.SUCCEEDED or (
            chosen_providers and job.provider not in chosen_providers
        ):
            continue
        for output in job.outputs:
            if (
                show == "all"
                or (show == "unreviewed" and output.review is None)
                or (show == "favourites" and output.favourite)
                or output.review == show
            ):
                found.append(Variant(job, output))
    return found


def scoreboard(jobs: Sequence[JobView], providers: Sequence[ProviderInfo]) -> None:
    """Which vendor wins on this catalogue: approval rate, time and cost per provider."""
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
            }
        )
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def focus_review(
    studio: Studio,
    items: Sequence[Variant],
    providers: Sequence[ProviderInfo],
    prefix: str,
    show: str = "all",
) -> None:
    """One image large, the original beside it; A approve, X reject, F favourite, arrows to move."""
    if not items:
        st.info(t("review.nothing"), icon=":material/filter_alt_off:")
        return
    key = f"{prefix}.position"
    position = min(int(st.session_state.get(key, 0)), len(items) - 1)
    item = items[position]
    job, output = item.job, item.output
    st.markdown(
        t(
            "review.focus_heading",
            number=position + 1,
            total=len(items),
            sku=plain(job.sku or job.job_id[:8]),
            provider=provider_label(job.provider, providers),
            variant=output.index,
        )
    )
    before, after = st.columns(2)
    before_image = image_source(job.input_path)
    if before_image is not None:
        before.image(before_image, caption=t("gallery.before"), width="stretch")
    after.image(image_source(output.path) or output.path, caption=_state_text(output), width="stretch")
    row = st.columns(5)
    if row[0].button(t("review.previous"), key=f"{prefix}.prev", icon=":material/chevron_left:",
                     shortcut="Left", disabled=position == 0, width="stretch"):  # fmt: skip
        st.session_state[key] = position - 1
        st.rerun()
    if row[1].button(t("review.approve"), key=f"{prefix}.approve", icon=":material/check:", shortcut="A",
                     type="primary", width="stretch"):  # fmt: skip
        _decide(studio, item, ReviewState.APPROVED, key, position, len(items), show)
    if row[2].button(t("review.reject"), key=f"{prefix}.reject", icon=":material/close:", shortcut="X",
                     width="stretch"):  # fmt: skip
        _decide(studio, item, ReviewState.REJECTED, key, position, len(items), show)
    if row[3].button(t("review.favourite"), key=f"{prefix}.fav", icon=":material/star:", shortcut="F",
                     width="stretch"):  # fmt: skip
        studio.batches.review(
            job.job_id, output.index, favourite=not output.favourite, by=current_person().key
        )
        st.rerun()
    if row[4].button(t("review.next"), key=f"{prefix}.next", icon=":material/chevron_right:", shortcut="Right",
                     disabled=position >= len(items) - 1, width="stretch"):  # fmt: skip
        st.session_state[key] = position + 1
        st.rerun()
    note_key = f"{prefix}.note.{job.job_id}.{output.index}"
    note = st.text_input(
        t("review.note"), value=output.note, key=note_key, placeholder=t("review.note_placeholder")
    )
    if note != output.note:
        studio.batches.review(job.job_id, output.index, note=note, by=current_person().key)
    st.caption(t("review.keys"))


def _decide(
    studio: Studio, item: Variant, decision: ReviewState, key: str, position: int, count: int, show: str
) -> None:
    studio.batches.review(item.job.job_id, item.output.index, decision=decision, by=current_person().key)
    # On to the next image: reviewing a catalogue is a run of single key presses. When the filter
    # drops the decided image (e.g. "not reviewed"), the next one slides into this place.
    stays = show in ("all", "favourites") or show == decision
    st.session_state[key] = min(position + 1, count - 1) if stays else min(position, max(0, count - 2))
    st.rerun()


def _state_text(output: JobOutput) -> str:
    parts = [t(f"review.state.{output.review}") if output.review else t("review.state.none")]
    if output.favourite:
        parts.append(t("review.state.favourite"))
    if output.decided_by is not None and (output.review or output.favourite):
        parts.append(t("people.decided_by", who=person_label(output.decided_by)))
    return " · ".join(parts)


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
                    _variant(studio, job, output, prefix)
            failed = [job for job in group if job.status is not JobStatus.SUCCEEDED]
            for job in failed:
                st.caption(f"{provider_label(job.provider, providers)}: {t(f'status.{job.status}')}")


def _variant(studio: Studio, job: JobView, output: JobOutput, prefix: str) -> None:
    path = output.thumbnail_path or output.path
    st.image(image_source(path) or path, caption=_state_text(output), width="stretch")
    row = st.columns(3)
    base = f"{prefix}.grid.{job.job_id}.{output.index}"
    if row[0].button(
        "", key=f"{base}.ok", icon=":material/check:", help=t("review.approve"), width="stretch"
    ):
        studio.batches.review(
            job.job_id, output.index, decision=ReviewState.APPROVED, by=current_person().key
        )
        st.rerun()
    if row[1].button("", key=f"{base}.no", icon=":material/close:", help=t("review.reject"), width="stretch"):
        studio.batches.review(
            job.job_id, output.index, decision=ReviewState.REJECTED, by=current_person().key
        )
        st.rerun()
    if row[2].button(
        "", key=f"{base}.fav", icon=":material/star:", help=t("review.favourite"), width="stretch"
    ):
        studio.batches.review(
            job.job_id, output.index, favourite=not output.favourite, by=current_person().key
        )
        st.rerun()


def export_panel(studio: Studio, batch_id: str, prefix: str) -> None:
    """Preset, file-name template and quality, then a ZIP of the approved images with export.csv."""
    preset_key = st.selectbox(
        t("export.preset"),
        options=list(PRESET_KEYS),
        format_func=labeller(PRESET_KEYS, lambda key: t(f"export.preset.{key}")),
        key=choice_key(f"{prefix}.preset", list(PRESET_KEYS), "amazon"),
    )
    preset: Preset | None = PRESETS.get(str(preset_key))
    if preset_key == "custom":
        columns = st.columns(4)
        width = int(columns[0].number_input(t("export.width"), 64, 10000, 1000, key=f"{prefix}.w"))
        height = int(columns[1].number_input(t("export.height"), 64, 10000, 1000, key=f"{prefix}.h"))
        quality = int(columns[2].slider(t("export.quality"), 70, 100, 90, key=f"{prefix}.q"))
        max_kb = int(columns[3].number_input(t("export.max_kb"), 0, 50_000, 0, key=f"{prefix}.kb"))
        white = st.toggle(t("export.white"), key=f"{prefix}.white")
        try:
            preset = custom_preset(
                width, height, background="#FFFFFF" if white else None, jpeg_quality=quality,
                max_bytes=max_kb * 1024 if max_kb else None,
            )  # fmt: skip
        except ValueError as exc:
            st.error(error_text(exc), icon=":material/error:")
            preset = None
    st.caption(t(f"export.preset_help.{preset_key}"))
    template = st.text_input(
        t("export.template"), value=DEFAULT_TEMPLATE, key=f"{prefix}.template", help=t("export.template_help")
    )
    everything = st.toggle(t("export.everything"), key=f"{prefix}.everything")
    state = f"{prefix}.zip"
    if st.button(
        t("export.build"), key=f"{prefix}.build", icon=":material/folder_zip:",
        disabled=preset is None or not allowed("export"),
    ) and allowed("export"):  # fmt: skip
        buffer = io.BytesIO()
        bar = st.progress(0.0, text=t("export.working"))
        try:
            report = studio.batches.export(
                batch_id, preset, template, buffer, approved_only=not everything, by=current_person().key,  # type: ignore[arg-type]
                progress=lambda done, total: bar.progress(done / max(1, total), text=t("export.progress", done=done, total=total)),
            )  # fmt: skip
        except (BatchError, ValueError) as exc:
            st.session_state.pop(state, None)
            st.error(error_text(exc), icon=":material/error:")
        else:
            st.session_state[state] = (
                buffer.getvalue(),
                len(report.files),
                [f"{plain(f.item.sku)}: {plain(f.message)}" for f in report.failures],
            )
        bar.empty()
    built = st.session_state.get(state)
    if isinstance(built, tuple):
        data, files, failures = built
        st.success(t("export.ready", count=files), icon=":material/check_circle:")
        for failure in failures:
            st.warning(failure, icon=":material/warning:")
        st.download_button(
            t("export.download"), data=data, file_name=f"backdrop-batch-{batch_id[:8]}-{preset_key}.zip",
            mime="application/zip", key=f"{prefix}.download", icon=":material/download:", on_click="ignore",
        )  # fmt: skip
