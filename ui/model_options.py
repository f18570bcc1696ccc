"""The virtual model options, drawn from the provider's option specs (names, choices, documented defaults).

The vendor has two fields for the background (`maskKeepbg`, `bgStyle`); users
think of one choice, "keep it or replace it with ...", so that is what is shown,
and it is turned back into the two fields here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from providers.base import OptionSpec
from ui.i18n import choice_key, labeller, t, t_or

KEEP_BACKGROUND = "keep"


def model_swap_options(specs: Sequence[OptionSpec], prefix: str) -> dict[str, Any]:
    """Widgets for every option the provider honours; returns params in the vendor's field names."""
    by_name = {spec.name: spec for spec in specs}
    params: dict[str, Any] = {}
    for name in ("model", "gender", "age"):
        spec = by_name.get(name)
        if spec is None:
            continue
        # Side by side: four short model names in a column pushed Generate below the fold.
        params[name] = _choice(spec, prefix)
    if "maskKeepbg" in by_name and "bgStyle" in by_name:
        styles = [choice for choice in by_name["bgStyle"].choices if choice]
        options = [KEEP_BACKGROUND, *styles]
        chosen = st.radio(
            t("opt.background"),
            options=options,
            format_func=labeller(options, lambda value: t_or(f"opt.bgStyle.{value}", value)),
            key=choice_key(f"{prefix}.background", options, KEEP_BACKGROUND),
            persist_state="session",
            horizontal=True,
            help=t("opt.background_help"),
        )
        if chosen == KEEP_BACKGROUND:
            params["maskKeepbg"] = True
        else:
            params |= {"maskKeepbg": False, "bgStyle": chosen}
    spec = by_name.get("dimension")
    if spec is not None:
        params["dimension"] = int(
            st.number_input(
                t("opt.dimension"),
                min_value=int(spec.minimum or 512),
                max_value=int(spec.maximum or 2048),
                value=int(spec.default),
                step=64,
                key=f"{prefix}.dimension",
                persist_state="session",
                help=t("opt.dimension_help", min=int(spec.minimum or 0), max=int(spec.maximum or 0)),
            )
        )
    return params


def _choice(spec: OptionSpec, prefix: str) -> str:
    options = list(spec.choices)
    value = st.radio(
        t_or(spec.label_key, spec.name),
        options=options,
        format_func=labeller(options, lambda choice: t_or(f"{spec.label_key}.{choice}", choice)),
        key=choice_key(f"{prefix}.{spec.name}", options, spec.default),
        persist_state="session",
        horizontal=True,
    )
    return str(value)
