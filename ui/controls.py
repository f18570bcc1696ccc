"""Option widgets shared by the generate pages: output size, placement, shadow, fine-tuning.

Each returns values already in the local engine's option names and units
(`providers/local.py` `options`): fractions 0..1 for percentages, degrees for
direction. An option the user leaves to the engine is simply not returned, so
the prompt's or scene's own suggestion applies. Every widget keeps its value
for the whole session (`persist_state="session"`), so visiting History and
coming back does not reset the user's choices.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.i18n import choice_key, labeller, t, t_or

MIN_SIDE = 64
MAX_SIDE = 8000

PROMPT_SIZES = ("keep", "800x800", "750x1000", "1000x1000", "2000x2000", "custom")
LAYOUTS = ["keep", "center"]
# The photographic set's camera (local engine): guessed from the product photo unless chosen.
CAMERAS = ["auto", "eye_level", "three_quarter", "flat_lay"]
SCENE_SIZES = ("800x800", "750x1000", "1000x1000", "2000x2000", "custom")


def clamp_choice(key: str, low: int, high: int) -> None:
    """Keep a remembered number inside the range a newly chosen provider allows (2-10 vs 1-4)."""
    value = st.session_state.get(key)
    if isinstance(value, int | float) and not low <= value <= high:
        st.session_state[key] = min(max(int(value), low), high)


def parse_size(code: str) -> tuple[int, int]:
    width, height = code.split("x")
    return int(width), int(height)


def size_label(code: str) -> str:
    if code in ("keep", "custom"):
        return t(f"size.{code}")
    width, height = parse_size(code)
    label = t("size.preset", width=width, height=height)
    return t_or(f"size.hint.{code}", label, size=label)


def size_picker(prefix: str, options: tuple[str, ...], default: str) -> tuple[int, int] | None:
    """The output size; None keeps the input photo's size."""
    choice = st.selectbox(
        t("size.label"),
        options=list(options),
        format_func=labeller(options, size_label),
        key=choice_key(f"{prefix}.size", options, default),
        persist_state="session",
    )
    if choice == "keep":
        return None
    if choice == "custom":
        left, right = st.columns(2)
        width = left.number_input(
            t("size.width"),
            min_value=MIN_SIDE,
            max_value=MAX_SIDE,
            value=1000,
            step=10,
            key=f"{prefix}.size.w",
            persist_state="session",
        )
        height = right.number_input(
            t("size.height"),
            min_value=MIN_SIDE,
            max_value=MAX_SIDE,
            value=1000,
            step=10,
            key=f"{prefix}.size.h",
            persist_state="session",
        )
        return int(width), int(height)
    return parse_size(str(choice))


def percent_slider(
    column: Any,
    label: str,
    key: str,
    *,
    low: int,
    high: int,
    default: int,
    step: int,
    help: str | None = None,
) -> float:
    """A 0-100 % slider kept for the session; returns the chosen fraction (0.0-1.0)."""
    value = column.slider(
        label, min_value=low, max_value=high, value=default, step=step, format="%d%%",
        key=key, persist_state="session", help=help,
    )  # fmt: skip
    return float(value) / 100


def placement_picker(prefix: str) -> dict[str, Any]:
    """Keep the product where it is in the photo, or centre it at a chosen fill and margin."""
    layout = st.radio(
        t("layout.label"),
        options=LAYOUTS,
        format_func=labeller(LAYOUTS, lambda value: t(f"layout.{value}")),
        key=choice_key(f"{prefix}.layout", LAYOUTS, "center"),
        persist_state="session",
        horizontal=True,
    )
    if layout == "keep":
        return {"layout": "keep"}
    left, right = st.columns(2)
    fill = percent_slider(
        left,
        t("layout.fill"),
        f"{prefix}.fill",
        low=30,
        high=100,
        default=80,
        step=1,
        help=t("layout.fill_help"),
    )
    margin = percent_slider(
        right,
        t("layout.margin"),
        f"{prefix}.margin",
        low=0,
        high=30,
        default=5,
        step=1,
        help=t("layout.margin_help"),
    )
    chosen: dict[str, Any] = {"layout": "center", "fill": fill, "margin": margin}
    camera = st.radio(
        t("camera.label"),
        options=CAMERAS,
        format_func=labeller(CAMERAS, lambda value: t(f"camera.{value}")),
        key=choice_key(f"{prefix}.camera", CAMERAS, "auto"),
        persist_state="session",
        horizontal=True,
        help=t("camera.help"),
    )
    if camera and camera != "auto":
        chosen["camera"] = camera
    return chosen


SHADOW_KINDS = ("auto", "none", "contact", "drop")


def shadow_picker(prefix: str, auto_key: str) -> dict[str, Any]:
    """Shadow kind and, when one is chosen, its opacity, softness and light direction."""
    kind = st.radio(
        t("shadow.label"),
        options=list(SHADOW_KINDS),
        format_func=labeller(
            SHADOW_KINDS, lambda value: t(auto_key) if value == "auto" else t(f"shadow.{value}")
        ),
        key=choice_key(f"{prefix}.shadow", SHADOW_KINDS, "auto"),
        persist_state="session",
        horizontal=True,
    )
    if kind == "auto":
        return {}
    if kind == "none":
        return {"shadow": "none"}
    first, second, third = st.columns(3)
    opacity = percent_slider(
        first, t("shadow.opacity"), f"{prefix}.shadow.opacity", low=0, high=100, default=45, step=5
    )
    softness = percent_slider(
        second, t("shadow.softness"), f"{prefix}.shadow.soft", low=0, high=100, default=50, step=5
    )
    direction = third.slider(
        t("shadow.direction"), min_value=0, max_value=360, value=45, step=5, format="%d°",
        key=f"{prefix}.shadow.dir", persist_state="session", help=t("shadow.direction_help"),
    )  # fmt: skip
    return {
        "shadow": kind,
        "shadow_opacity": opacity,
        "shadow_softness": softness,
        "shadow_direction": float(direction),
    }


def finish_picker(prefix: str) -> dict[str, Any]:
    """Reflection and light wrap: left to the prompt or scene unless the user takes over."""
    custom = st.toggle(
        t("finish.custom"), key=f"{prefix}.finish", persist_state="session", help=t("finish.custom_help")
    )
    if not custom:
        return {}
    left, right = st.columns(2)
    reflection = percent_slider(
        left, t("finish.reflection"), f"{prefix}.reflection", low=0, high=100, default=0, step=5
    )
    wrap = percent_slider(
        right, t("finish.light_wrap"), f"{prefix}.light_wrap", low=0, high=100, default=30, step=5,
        help=t("finish.light_wrap_help"),
    )  # fmt: skip
    return {"reflection": reflection, "light_wrap": wrap}
