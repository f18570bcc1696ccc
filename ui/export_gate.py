"""Review's export panel with its marketplace gate (issues 17 and 18).

The user picks a preset and file names; "Check before export" (`Batches.preview_export`) lists
per image what the preset's rules find as generated, what the export puts right by itself
(re-composited on pure white, refitted, resized) and what would still be wrong in the exported
file, plus the images the export would enlarge more than 1.5x. Images still breaking a rule are
left out of the ZIP unless the user ticks the explicit override; enlarged ones are left out when
the user chooses so; Chinese marketplace presets offer the visible "AI生成" label (on by default).
The result says how many files were exported, which images were left out and why.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from imaging.marketplace import PRESETS, Preset, custom_preset
from studio.batches import BatchError
from studio.export import DEFAULT_TEMPLATE, ExportFailure, ExportItem
from studio.export_checks import ExportPreview, summarise
from studio.i18n import translate_strict
from studio.service import ProviderInfo, Studio
from ui import auth
from ui.errors import error_text
from ui.formatting import provider_label
from ui.i18n import choice_key, current_language, labeller, t, t_or, tkey, tn
from ui.plain import plain

PRESET_KEYS = (*PRESETS, "custom")
# Presets the main string table does not name yet: this feature's names for them.
_PRESET_NAMES = {
    "taobao_white": (
        tkey("review_checks.preset.taobao_white"),
        tkey("review_checks.preset_help.taobao_white"),
    )
}
# Each marketplace rule's short name (the table), and what the export does about it.
_RULES = {
    "background_not_white": (tkey("review_checks.rule.background_not_white"), tkey("review_checks.fix.background_not_white")),
    "fill_too_small": (tkey("review_checks.rule.fill_too_small"), tkey("review_checks.fix.fill_too_small")),
    "too_small": (tkey("review_checks.rule.too_small"), tkey("review_checks.fix.too_small")),
    "wrong_size": (tkey("review_checks.rule.wrong_size"), tkey("review_checks.fix.wrong_size")),
    "file_too_large": (tkey("review_checks.rule.file_too_large"), tkey("review_checks.fix.file_too_large")),
    "text_or_watermark": (tkey("review_checks.rule.text_or_watermark"), tkey("review_checks.fix.text_or_watermark")),
}  # fmt: skip
_METRICS = {
    "images": tkey("review_checks.gate.metric.images"),
    "compliant": tkey("review_checks.gate.metric.compliant"),
    "fixed": tkey("review_checks.gate.metric.fixed"),
    "failing": tkey("review_checks.gate.metric.failing"),
    "upscaled": tkey("review_checks.gate.metric.upscaled"),
    "errors": tkey("review_checks.gate.metric.errors"),
}
_COLUMNS = (
    tkey("review_checks.gate.col.image"),
    tkey("review_checks.gate.col.found"),
    tkey("review_checks.gate.col.fixed"),
    tkey("review_checks.gate.col.remaining"),
    tkey("review_checks.gate.col.scale"),
)
# Chinese marketplaces want AI-generated pictures visibly labelled (2025 rules); offered there, on.
LABELLED_PRESETS = frozenset({"taobao", "taobao_white", "tmall"})
VISIBLE_LABEL = "AI生成"


def preset_label(key: str) -> str:
    ours = _PRESET_NAMES.get(key)
    return t_or(f"export.preset.{key}", t(ours[0]) if ours else key)


def preset_help(key: str) -> str:
    ours = _PRESET_NAMES.get(key)
    return t_or(f"export.preset_help.{key}", t(ours[1]) if ours else "")


def rule_name(flag: str) -> str:
    return t(_RULES[flag][0]) if flag in _RULES else flag.replace("_", " ")


def fix_name(flag: str) -> str:
    return t(_RULES[flag][1]) if flag in _RULES else flag.replace("_", " ")


def rule_text(flag: str, key: str, params: Mapping[str, Any]) -> str:
    """One broken marketplace rule in words: the compliance table's text with its measures, else
    this feature's name for the flag."""
    text = translate_strict(current_language(), key, **params) if key else None
    return text or rule_name(flag)


def item_words(item: ExportItem, providers: Sequence[ProviderInfo], *, markdown: bool = False) -> str:
    """An image in words: "SKU · provider · variant n"; the SKU escaped when it goes into markdown."""
    sku = plain(item.sku) if markdown else item.sku
    return t("review_checks.what", sku=sku, provider=provider_label(item.provider, providers), variant=item.n)


def export_panel(studio: Studio, batch_id: str, prefix: str) -> None:
    """Preset, file names, the check before export with its choices, then the ZIP and what it holds."""
    providers = studio.providers()
    preset_key = str(
        st.selectbox(
            t("export.preset"),
            options=list(PRESET_KEYS),
            format_func=labeller(PRESET_KEYS, preset_label),
            key=choice_key(f"{prefix}.preset", list(PRESET_KEYS), "amazon"),
        )
    )
    preset = _preset(preset_key, prefix)
    st.caption(preset_help(preset_key))
    template = st.text_input(
        t("export.template"), value=DEFAULT_TEMPLATE, key=f"{prefix}.template", help=t("export.template_help")
    )
    everything = st.toggle(t("export.everything"), key=f"{prefix}.everything")
    if preset is None:
        return
    previews = _gate(studio, batch_id, preset, preset_key, not everything, prefix, providers)
    skip_upscaled = st.checkbox(
        t("review_checks.skip_upscaled"),
        key=f"{prefix}.skip_upscaled",
        help=t("review_checks.skip_upscaled_help"),
    )
    override = st.checkbox(
        t("review_checks.override"), key=f"{prefix}.override", help=t("review_checks.override_help")
    )
    label = False
    if preset_key in LABELLED_PRESETS:
        label = st.checkbox(
            t("review_checks.visible_label"), value=True, key=f"{prefix}.label.{preset_key}",
            help=t("review_checks.visible_label_help"),
        )  # fmt: skip
    state = f"{prefix}.zip"
    if st.button(
        t("export.build"), key=f"{prefix}.build", icon=":material/folder_zip:", type="primary",
        disabled=not auth.allowed("export"),
    ) and auth.allowed("export"):  # fmt: skip
        buffer = io.BytesIO()
        bar = st.progress(0.0, text=t("export.working"))
        try:
            report = studio.batches.export(
                batch_id, preset, template, buffer, approved_only=not everything,
                by=auth.current_person().key, allow_noncompliant=override, skip_upscaled=skip_upscaled,
                visible_label=VISIBLE_LABEL if label else None,
                progress=lambda done, total: bar.progress(done / max(1, total), text=t("export.progress", done=done, total=total)),
            )  # fmt: skip
        except (BatchError, ValueError) as exc:
            st.session_state.pop(state, None)
            st.session_state.pop(f"{prefix}.result", None)
            st.error(error_text(exc), icon=":material/error:")
        else:
            why = [(item_words(f.item, providers), _why(f, previews)) for f in report.failures]
            st.session_state[state] = (
                buffer.getvalue(),
                len(report.files),
                [
                    f"{plain(f.item.sku)}: {plain(reason)}"
                    for f, (_, reason) in zip(report.failures, why, strict=True)
                ],
            )
            st.session_state[f"{prefix}.result"] = why
        bar.empty()
    _result(state, prefix, batch_id, preset_key)


def _preset(preset_key: str, prefix: str) -> Preset | None:
    """The chosen preset; for "custom", built from the user's numbers (None, with a message, when invalid)."""
    if preset_key != "custom":
        return PRESETS[preset_key]
    columns = st.columns(4)
    width = int(columns[0].number_input(t("export.width"), 64, 10000, 1000, key=f"{prefix}.w"))
    height = int(columns[1].number_input(t("export.height"), 64, 10000, 1000, key=f"{prefix}.h"))
    quality = int(columns[2].slider(t("export.quality"), 70, 100, 90, key=f"{prefix}.q"))
    max_kb = int(columns[3].number_input(t("export.max_kb"), 0, 50_000, 0, key=f"{prefix}.kb"))
    white = st.toggle(t("export.white"), key=f"{prefix}.white")
    try:
        return custom_preset(
            width, height, background="#FFFFFF" if white else None, jpeg_quality=quality,
            max_bytes=max_kb * 1024 if max_kb else None,
        )  # fmt: skip
    except ValueError as exc:
        st.error(error_text(exc), icon=":material/error:")
        return None


def _gate(
    studio: Studio,
    batch_id: str,
    preset: Preset,
    preset_key: str,
    approved_only: bool,
    prefix: str,
    providers: Sequence[ProviderInfo],
) -> Mapping[tuple[str, int], ExportPreview]:
    """ "Check before export" and what it found; returns the current check's previews by (job, n)."""
    with st.container(border=True):
        st.markdown(f"**{t('review_checks.gate.title')}**")
        if preset.passthrough:
            st.caption(t("review_checks.gate.original"))
            return {}
        st.caption(t("review_checks.gate.intro", preset=preset_label(preset_key)))
        items = studio.batches.export_items(batch_id, approved_only=approved_only)
        # What the check was made for: a later check of other images or another preset is stale.
        signature = (preset, approved_only, tuple((item.job_id, item.n) for item in items))
        gate_key = f"{prefix}.gate"
        if st.button(
            t("review_checks.gate.run"),
            key=f"{prefix}.check",
            icon=":material/fact_check:",
            disabled=not items,
        ):
            bar = st.progress(0.0, text=t("export.working"))
            try:
                previews = studio.batches.preview_export(
                    batch_id, preset, approved_only=approved_only,
                    progress=lambda done, total: bar.progress(done / max(1, total), text=t("review_checks.gate.working", done=done, total=total)),
                )  # fmt: skip
            except (BatchError, ValueError) as exc:
                st.error(error_text(exc), icon=":material/error:")
            else:
                st.session_state[gate_key] = (signature, previews)
            bar.empty()
        if not items:
            st.caption(t("review_checks.gate.none"))
            return {}
        stored = st.session_state.get(gate_key)
        if not isinstance(stored, tuple):
            return {}
        checked_for, previews = stored
        if checked_for != signature:
            st.warning(t("review_checks.gate.stale"), icon=":material/update:")
            return {}
        _show_previews(previews, preset_label(preset_key), providers)
        return {(p.item.job_id, p.item.n): p for p in previews}


def sentences(texts: Sequence[str]) -> str:
    """Rule texts as one paragraph: each ends as a sentence (the compliance table's do; a flag name
    does not), joined the way the language joins sentences."""
    chinese = current_language() == "zh"
    ended = [
        text if text.endswith((".", "。", "!", "?")) else text + ("。" if chinese else ".") for text in texts
    ]
    return ("" if chinese else " ").join(ended)


def _flag_names(flags: Sequence[str]) -> str:
    return t("review_checks.list_separator").join(rule_name(flag) for flag in flags)


# Up to this many images the check's table is shown whole, cells wrapped; more scroll in a grid.
WHOLE_TABLE_ROWS = 30


def _show_previews(previews: Sequence[ExportPreview], preset: str, providers: Sequence[ProviderInfo]) -> None:
    """Counts, a table with a row per image (short names; the full reasons of failing images below)."""
    counts = summarise(previews)
    # Two rows of three: six in one row cut their labels off at 1280 px ("Put right by the e...").
    named = list(_METRICS.items())
    for start in range(0, len(named), 3):
        for column, (name, key) in zip(st.columns(3), named[start : start + 3], strict=False):
            column.metric(t(key), counts[name])
    passes, nothing = t("review_checks.gate.passes"), t("review_checks.gate.nothing")
    columns = [t(key) for key in _COLUMNS]
    rows = []
    for preview in previews:
        if preview.error is not None:
            remaining = t("review_checks.gate.cannot")
        else:
            remaining = _flag_names([issue.flag for issue in preview.remaining]) or passes
        fixed = dict.fromkeys(fix_name(flag) for flag in preview.fixed)
        found = _flag_names(preview.before.flags) if preview.before else ""
        scale = t("review_checks.gate.scale", scale=f"{preview.scale:.1f}")
        rows.append(dict(zip(columns, (item_words(preview.item, providers), found or passes,
                                       t("review_checks.list_separator").join(fixed) or nothing, remaining, scale), strict=True)))  # fmt: skip
    config = {
        columns[0]: st.column_config.TextColumn(width="medium"),
        columns[1]: st.column_config.TextColumn(width="medium"),
        columns[2]: st.column_config.TextColumn(width="medium"),
        columns[3]: st.column_config.TextColumn(width="medium"),
        columns[4]: st.column_config.TextColumn(width="small"),
    }
    if len(rows) <= WHOLE_TABLE_ROWS:
        # A short list reads whole: a static table wraps its cells where the grid cuts them off.
        st.table(pd.DataFrame(rows).set_index(columns[0]))
    else:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config=config)
    failing = [p for p in previews if p.error is None and not p.compliant]
    if failing:
        lines = [
            "- "
            + t(
                "review_checks.gate.row",
                what=item_words(p.item, providers, markdown=True),
                why=plain(sentences([rule_text(i.flag, i.key, i.params) for i in p.remaining])),
            )
            for p in failing
        ]
        st.warning(
            tn("review_checks.gate.failing", len(failing), preset=preset) + "\n\n" + "\n".join(lines),
            icon=":material/gpp_maybe:",
        )
    elif not counts["errors"]:
        st.success(t("review_checks.gate.all_pass", preset=preset), icon=":material/verified:")
    broken = [p for p in previews if p.error is not None]
    if broken:
        lines = [
            "- "
            + t(
                "review_checks.gate.row",
                what=item_words(p.item, providers, markdown=True),
                why=plain(p.error or ""),
            )
            for p in broken
        ]
        st.error(
            tn("review_checks.gate.errors", len(broken)) + "\n\n" + "\n".join(lines), icon=":material/block:"
        )
    enlarged = [preview for preview in previews if preview.upscaled]
    if enlarged:
        lines = [
            "- " + t("review_checks.gate.upscaled_row", what=item_words(p.item, providers, markdown=True),
                     scale=f"{p.scale:.1f}")
            for p in enlarged
        ]  # fmt: skip
        st.warning(
            tn("review_checks.gate.upscaled", len(enlarged)) + "\n\n" + "\n".join(lines),
            icon=":material/zoom_in:",
        )


def _why(failure: ExportFailure, previews: Mapping[tuple[str, int], ExportPreview]) -> str:
    """Why an image was left out, in the user's language (plain text)."""
    if failure.code == "not_compliant":
        preview = previews.get((failure.item.job_id, failure.item.n))
        if preview is not None and preview.remaining:
            rules = sentences([rule_text(i.flag, i.key, i.params) for i in preview.remaining])
            return t("review_checks.result.code.not_compliant", rules=rules)
        return t("review_checks.result.code.not_compliant_plain")
    if failure.code == "upscaled":
        return t("review_checks.result.code.upscaled")
    return failure.message


def _result(state: str, prefix: str, batch_id: str, preset_key: str) -> None:
    """Files exported, the images left out and why, and the download."""
    built = st.session_state.get(state)
    if not isinstance(built, tuple):
        return
    data, files, _ = built
    why = st.session_state.get(f"{prefix}.result") or []
    st.markdown(f"**{t('review_checks.result.title')}**")
    if files:
        st.success(t("export.ready", count=files), icon=":material/check_circle:")
    else:
        st.warning(t("review_checks.result.nothing"), icon=":material/block:")
    if why:
        st.warning(tn("review_checks.result.left_out", len(why)), icon=":material/warning:")
        st.dataframe(
            pd.DataFrame(why, columns=[t(_COLUMNS[0]), t("review_checks.result.col.why")]),
            hide_index=True,
            width="stretch",
        )
    st.download_button(
        t("export.download"), data=data, file_name=f"backdrop-batch-{batch_id[:8]}-{preset_key}.zip",
        mime="application/zip", key=f"{prefix}.download", icon=":material/download:", on_click="ignore",
    )  # fmt: skip
