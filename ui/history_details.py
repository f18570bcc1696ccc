"""History's job details: the result, the inputs, and what was asked and what happened, as labelled
values in the interface language ("Size: 1024 × 1024", "Scene: Marble vanity", "Images: 2").

Empty values are left out. The request as raw JSON (what a CLI `--param` takes)
stays one click away, behind an expander, for support.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from studio.jobs import JobView
from studio.service import ProviderInfo, Studio
from ui.formatting import (
    cost_text,
    cutout_text,
    duration_text,
    free_providers,
    provider_label,
    when_text,
    word_list,
    workflow_label,
)
from ui.i18n import current_language, job_error_text, t, t_or, tkey
from ui.job_views import job_panel, scene_lines
from ui.plain import plain
from ui.stored_files import image_source, is_stored

# An option holding an image (a vendor's logo) is stored as base64 text: longer than this, it is one.
_IMAGE_TEXT_CHARS = 512
_INPUTS = (
    ("input_path", tkey("detail.input")),
    ("mask_path", tkey("detail.mask_given")),
    ("used_mask_path", tkey("detail.mask_used")),
    ("reference_path", tkey("detail.reference")),
)


def job_details(studio: Studio, job: JobView, *, key_prefix: str) -> None:
    """Everything about one job: its result (or its progress), inputs, request and facts."""
    job_panel(studio, job.job_id, key_prefix=key_prefix)
    shown = [(getattr(job, field), key) for field, key in _INPUTS if is_stored(getattr(job, field))]
    st.subheader(t("detail.inputs"))
    if not job.mask_path:
        st.caption(t("detail.no_mask_given"))
    for column, (path, key) in zip(st.columns(4), shown, strict=False):
        column.image(image_source(path) or str(path), caption=t(key), width="stretch")
    scenes = {scene.scene_id: scene.name for scene in studio.local_scenes(current_language())}
    left, right = st.columns(2)
    with left:
        st.subheader(t("detail.parameters"))
        st.markdown(labelled_markdown(request_rows(job, studio.providers(), scenes)))
        with st.expander(t("first_hour_b.raw_request"), icon=":material/data_object:"):
            st.caption(t("first_hour_b.raw_request_help"))
            st.json(raw_request(job), expanded=True)
    with right:
        st.subheader(t("detail.facts"))
        st.markdown(
            "\n".join(f"- {line}" for line in fact_lines(job, job.provider in free_providers(studio)))
        )
        for line in scene_lines(job.notes):
            st.markdown(line)


def request_rows(
    job: JobView, providers: Sequence[ProviderInfo], scene_names: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(label, value) for what the job asked, in the interface language; empty values left out."""
    rows = [
        (t("first_hour_b.field.workflow"), workflow_label(str(job.workflow))),
        (t("first_hour_b.field.provider"), provider_label(job.provider, providers)),
        (t("first_hour_b.field.sku"), job.sku or ""),
        (t("first_hour_b.field.product_title"), job.product_title),
        (t("first_hour_b.field.scene"), scene_names.get(job.scene_id or "", job.scene_id or "")),
        (t("first_hour_b.field.prompt"), job.prompt),
        (t("first_hour_b.field.negative_prompt"), job.negative_prompt),
        (t("first_hour_b.field.size"), t("first_hour_b.size", width=job.size[0], height=job.size[1]))
        if job.size
        else ("", ""),
        (t("first_hour_b.field.count"), str(job.count) if job.count else ""),
        (t("first_hour_b.field.seed"), "" if job.seed is None else str(job.seed)),
    ]
    for name, value in sorted(job.params.items()):
        rows.append((option_label(name), option_value(name, value)))
    words_used, words_ignored = job.notes.get("words_used"), job.notes.get("words_ignored")
    if isinstance(words_used, list) and words_used:
        rows.append((t("first_hour_b.field.words_used"), word_list(words_used)))
    if isinstance(words_ignored, list) and words_ignored:
        rows.append((t("first_hour_b.field.words_ignored"), word_list(words_ignored)))
    return [(label, value) for label, value in rows if label and value.strip()]


# The local engine's options are labelled by its own page controls, not under "opt.*": their names
# and choices here come from this feature's table.
_LOCAL_OPTIONS = {
    "layout": tkey("first_hour_b.opt.layout"),
    "fill": tkey("first_hour_b.opt.fill"),
    "margin": tkey("first_hour_b.opt.margin"),
    "cutout": tkey("first_hour_b.opt.cutout"),
    "shadow": tkey("first_hour_b.opt.shadow"),
    "shadow_opacity": tkey("first_hour_b.opt.shadow_opacity"),
    "shadow_softness": tkey("first_hour_b.opt.shadow_softness"),
    "shadow_direction": tkey("first_hour_b.opt.shadow_direction"),
    "reflection": tkey("first_hour_b.opt.reflection"),
    "light_wrap": tkey("first_hour_b.opt.light_wrap"),
    "reference_blur": tkey("first_hour_b.opt.reference_blur"),
    "relayout": tkey("first_hour_b.opt.relayout"),
    "draw_title": tkey("first_hour_b.opt.draw_title"),
}

_LOCAL_CHOICES = {
    ("layout", "keep"): tkey("first_hour_b.opt.layout.keep"),
    ("layout", "center"): tkey("first_hour_b.opt.layout.center"),
    ("cutout", "best"): tkey("first_hour_b.opt.cutout.best"),
    ("cutout", "fast"): tkey("first_hour_b.opt.cutout.fast"),
    ("shadow", "none"): tkey("first_hour_b.opt.shadow.none"),
    ("shadow", "contact"): tkey("first_hour_b.opt.shadow.contact"),
    ("shadow", "drop"): tkey("first_hour_b.opt.shadow.drop"),
}


def option_label(name: str) -> str:
    """A request option's name for people ("Camera angle"), its own name when no table has it."""
    local = _LOCAL_OPTIONS.get(name)
    return t_or(f"opt.{name}", t(local) if local else name.replace("_", " ").capitalize())


def option_value(name: str, value: Any) -> str:
    """An option's value for people: yes/no, a translated choice, an image's size; "" when empty."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return t("first_hour_b.yes") if value else t("first_hour_b.no")
    if isinstance(value, str) and len(value) > _IMAGE_TEXT_CHARS:
        return t("first_hour_b.image_value", kb=len(value) * 3 // 4 // 1024)
    if isinstance(value, list | tuple):
        return word_list([option_value(name, item) for item in value])
    if isinstance(value, dict):
        return word_list([f"{option_label(str(k))}: {option_value(str(k), v)}" for k, v in value.items()])
    if isinstance(value, float):
        return f"{value:g}"
    # Vendors' choices are "opt.<option>.<value>", the local engine's "<option>.<value>" or ours.
    local = _LOCAL_CHOICES.get((name, str(value)))
    fallback = t(local) if local else str(value)
    return t_or(f"opt.{name}.{value}", t_or(f"{name}.{value}", fallback))


def labelled_markdown(rows: Sequence[tuple[str, str]]) -> str:
    """One line per value, its label in bold; values are user data, shown as text."""
    if not rows:
        return t("first_hour_b.no_values")
    return "\n".join(
        "- " + t("first_hour_b.labelled", label=label, value=plain(value)) for label, value in rows
    )


def fact_lines(job: JobView, free: bool) -> list[str]:
    """When the job ran, how long, what it cost, how the product was cut out, what went wrong."""
    cost = job.cost
    lines = [
        t("detail.created", when=when_text(job.created_at)),
        t("detail.started", when=when_text(job.started_at)) if job.started_at else t("detail.not_started"),
        t("detail.finished", when=when_text(job.finished_at))
        if job.finished_at
        else t("detail.not_finished"),
        t("detail.duration", duration=duration_text(job.duration_s)),
        t("detail.attempts", attempts=job.attempts),
        t(
            "detail.cost",
            cost=cost_text(cost.as_str() if cost else None, cost.currency if cost else None, free=free),
        ),
    ]
    if job.cost_estimate is not None and cost is None:
        lines.append(
            t("detail.estimate", amount=job.cost_estimate.as_str(), currency=job.cost_estimate.currency)
        )
    method = job.notes.get("cutout_method")
    if isinstance(method, str):
        text = cutout_text(method, job.notes.get("cutout_model"), job.notes.get("cutout_refinement"))
        lines.append(t("detail.cutout", method=text))
    if job.error is not None:
        message = job_error_text(job.provider, job.error.code, job.error.message)
        lines.append(t("detail.error", message=plain(message)))
    return lines


def raw_request(job: JobView) -> dict[str, Any]:
    """The request as JSON data for support (a CLI --param call takes it); empty values left out."""
    summary: dict[str, Any] = {
        "job_id": job.job_id,
        "workflow": str(job.workflow),
        "provider": job.provider,
        "count": job.count,
    }
    if job.size:
        summary["size"] = list(job.size)
    for name, value in (
        ("prompt", job.prompt),
        ("negative_prompt", job.negative_prompt),
        ("scene_id", job.scene_id),
        ("product_title", job.product_title),
        ("sku", job.sku),
    ):
        if value:
            summary[name] = value
    params = {
        name: f"<image, {len(value) * 3 // 4 // 1024} KB>"
        if isinstance(value, str) and len(value) > _IMAGE_TEXT_CHARS
        else value
        for name, value in job.params.items()
        if value is not None
    }
    if params:
        summary["params"] = params
    return dict(json.loads(json.dumps(summary, default=str)))
