"""Widgets for a cloud provider's own options, drawn from its `OptionSpec`s.

Only the fields the chosen provider honours are shown, each with its
documented range and default, under the vendor's field name (the same name
`--param` and a manifest's `param.<field>` column take), so what a user sets
here is what a script would set. Values come back in those names; the
provider's `check_params` checks them again when the job is submitted.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import streamlit as st

from providers.base import OptionSpec
from studio.i18n import has_key
from studio.service import ProviderInfo
from ui.i18n import choice_key, labeller, t, t_or
from ui.plain import plain
from ui.uploads import IMAGE_TYPES, read_upload, store_upload

# A slider is easier than typing for short ranges; a wide one (seed, noise 0-999) gets a number box.
_SLIDER_STEPS = 200


def provider_option_widgets(specs: Sequence[OptionSpec], prefix: str) -> dict[str, Any]:
    """One widget per option; returns only the options the user set, in the vendor's field names."""
    params: dict[str, Any] = {}
    for spec in specs:
        key = f"{prefix}.opt.{spec.name}"
        label = f"{t_or(spec.label_key, spec.name)} · `{spec.name}`"
        help_text = _help(spec)
        value = _widget(spec, key, label, help_text)
        if spec.kind == "bool" and not value and has_key(f"{spec.label_key}_off"):
            # What switching this off means for the user (a vendor's AI mark: who labels the images).
            st.warning(t(f"{spec.label_key}_off"), icon=":material/warning:")
        if value is not None and value != "" and value != spec.default:
            params[spec.name] = value
    return params


def _image_file(key: str, label: str, help_text: str) -> str:
    """An image file for an option that takes one (a vendor's logo), as the base64 text the option holds.
    The file lives in session state like the photo, so it survives page switches."""
    widget_key = f"{key}.widget"

    def _changed() -> None:
        uploaded = st.session_state.get(widget_key)
        if uploaded is None:
            st.session_state.pop(key, None)
        else:
            store_upload(key, uploaded.name, uploaded.getvalue())

    st.file_uploader(label, type=list(IMAGE_TYPES), key=widget_key, on_change=_changed, help=help_text)
    upload = read_upload(key)
    if upload is None:
        return ""
    st.caption(t("opt.image_set", name=plain(upload.name)))
    return base64.b64encode(upload.data).decode("ascii")


def _widget(spec: OptionSpec, key: str, label: str, help_text: str) -> Any:
    if spec.kind == "bool":
        return st.toggle(label, value=bool(spec.default), key=key, persist_state="session", help=help_text)
    if spec.kind == "choice":
        options = list(spec.choices)
        return st.radio(
            label,
            options=options,
            format_func=labeller(options, lambda choice: t_or(f"{spec.label_key}.{choice}", choice)),
            key=choice_key(key, options, spec.default),
            persist_state="session",
            horizontal=True,
            help=help_text,
        )
    if spec.kind in ("int", "float"):
        return _number(spec, key, label, help_text)
    if spec.kind == "image":
        return _image_file(key, label, help_text)
    return st.text_input(
        label,
        value=str(spec.default or ""),
        key=key,
        persist_state="session",
        help=help_text,
        placeholder=t_or(f"{spec.label_key}_placeholder", ""),
    ).strip()


def _number(spec: OptionSpec, key: str, label: str, help_text: str) -> Any:
    integer = spec.kind == "int"
    cast = int if integer else float
    low, high = spec.minimum, spec.maximum
    step = spec.step or (1 if integer else 0.05)
    default = None if spec.default is None else cast(spec.default)
    if low is not None and high is not None and (high - low) / step <= _SLIDER_STEPS and default is not None:
        return st.slider(
            label,
            min_value=cast(low),
            max_value=cast(high),
            value=default,
            step=cast(step),
            key=key,
            persist_state="session",
            help=help_text,
        )
    # No default (a seed): empty means "let the vendor choose".
    return st.number_input(
        label,
        min_value=None if low is None else cast(low),
        max_value=None if high is None else cast(high),
        value=default,
        step=cast(step),
        key=key,
        persist_state="session",
        help=help_text,
        placeholder=t("opt.empty_placeholder"),
    )


def _help(spec: OptionSpec) -> str:
    parts = [t_or(f"{spec.label_key}_help", "")]
    if spec.kind in ("int", "float") and spec.minimum is not None and spec.maximum is not None:
        parts.append(t("opt.range", min=f"{spec.minimum:g}", max=f"{spec.maximum:g}"))
    if spec.default not in (None, ""):
        shown = t_or(f"{spec.label_key}.{spec.default}", str(spec.default))
        parts.append(t("opt.default", default=shown))
    return " ".join(part for part in parts if part)


def price_caption(info: ProviderInfo, operation: Any) -> str:
    """ "0.08 CNY per image (source)", "free, runs on this computer" or "price not set"."""
    price = info.prices.get(operation)
    if info.local or (price is not None and price.free):
        return t("price.free_local")
    if price is None or price.per_image is None:
        return t("price.not_set", env=f"{info.key}_price_{operation}".upper())
    return t("price.per_image", amount=price.per_image.as_str(), currency=price.per_image.currency)
