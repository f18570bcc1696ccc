"""Editing one backdrop: its name, tags and the surface products stand on, and deleting it.

The surface is a line (the product's base goes on it) or a box (the product stands inside),
set with sliders in percent of the photo or drawn on the canvas (a stroke along the table
edge, or a box), and shown over the photo as it is being set. Nothing is stored until "Save
changes"; deleting asks first.
"""

from __future__ import annotations

from typing import cast

import streamlit as st

from studio.backdrop_match import Backdrop, BackdropError, Surface, surface_from_layer
from studio.service import Studio
from ui.backdrop_views import (
    SELECTED,
    error_message,
    say_later,
    show_surface,
    surface_text,
    use_links,
)
from ui.formatting import when_text
from ui.i18n import choice_key, labeller, t
from ui.mask_canvas import CanvasUnavailable, CanvasView, canvas_available, draw
from ui.plain import plain

KINDS = ("line", "box")
CONFIRM = "backdrops.confirm_delete"  # session_state: the id whose deletion waits for a yes
# The canvas's width on the page; the photo is drawn at this width (tall photos at this height).
CANVAS_SIDE = 560
# A tall photo's preview is shown no taller than this, so the controls beside it stay in view.
PREVIEW_MAX_HEIGHT = 560
_STROKE_PX = 6


def _key(entry: Backdrop, name: str) -> str:
    return f"backdrops.edit.{entry.backdrop_id}.{name}"


def _percent(value: float) -> float:
    return round(value * 100, 1)


def _start(entry: Backdrop) -> None:
    """The widgets start from the stored entry (once; later runs keep what the user moved)."""
    x0, y0, x1, y1 = entry.surface
    defaults: dict[str, object] = {
        "name": entry.name,
        "tags": ", ".join(entry.tags),
        "line": _percent(y0),
        "top_bottom": (_percent(y0), _percent(y1) if y1 > y0 else min(100.0, _percent(y0) + 15)),
        "left_right": (_percent(x0), _percent(x1)),
    }
    for name, value in defaults.items():
        st.session_state.setdefault(_key(entry, name), value)


def backdrop_editor(studio: Studio, entry: Backdrop) -> None:
    """The editor for `entry`: preview with the surface, the controls, save / delete / close."""
    _start(entry)
    st.subheader(t("backdrops.edit.heading", name=plain(entry.name)))
    st.caption(
        t("backdrops.edit.facts", width=entry.width, height=entry.height, when=when_text(entry.created_at))
    )
    picture, controls = st.columns([3, 2], gap="large")
    with controls:
        kind = st.radio(
            t("backdrops.edit.kind"),
            options=list(KINDS),
            format_func=labeller(KINDS, lambda value: t(f"backdrops.edit.kind.{value}")),
            key=choice_key(_key(entry, "kind"), list(KINDS), "line" if entry.is_line else "box"),
            horizontal=True,
        )
    try:
        preview = studio.backdrops.preview(entry)
    except BackdropError as exc:
        st.error(error_message(exc), icon=":material/broken_image:")
        preview = b""
    with picture:
        slot = st.container()
        if preview:
            _canvas(entry, preview, line=kind == "line")
        use_links(entry)
    with controls:
        surface = _surface_sliders(entry, line=kind == "line")
        name = st.text_input(t("backdrops.add.name"), key=_key(entry, "name"))
        tags = st.text_input(
            t("backdrops.add.tags"),
            key=_key(entry, "tags"),
            placeholder=t("backdrops.add.tags_placeholder"),
            help=t("backdrops.add.tags_help"),
        )
        _actions(studio, entry, name, tags, surface)
    with slot:
        if preview:
            show_surface(
                preview,
                surface,
                t("backdrops.edit.preview_caption"),
                max_height=(PREVIEW_MAX_HEIGHT, entry.width / entry.height),
            )
        st.caption(surface_text(surface))


def _surface_sliders(entry: Backdrop, *, line: bool) -> Surface:
    # Range sliders start from session state (`_start`), so their values are pairs.
    if line:
        y = st.slider(
            t("backdrops.edit.line"), 0.0, 100.0, step=0.1, key=_key(entry, "line"), format="%.1f%%"
        )
        top = bottom = float(y)
    else:
        top, bottom = _pair(
            st.slider(
                t("backdrops.edit.top_bottom"),
                0.0,
                100.0,
                step=0.1,
                key=_key(entry, "top_bottom"),
                format="%.1f%%",
            )
        )
    left, right = _pair(
        st.slider(
            t("backdrops.edit.left_right"),
            0.0,
            100.0,
            step=0.1,
            key=_key(entry, "left_right"),
            format="%.1f%%",
        )
    )
    return (left / 100, top / 100, right / 100, bottom / 100)


def _pair(value: object) -> tuple[float, float]:
    low, high = cast(tuple[float, float], value)
    return float(low), float(high)


def _canvas(entry: Backdrop, preview: bytes, *, line: bool) -> None:
    """Draw the surface instead of sliding it: "Use this surface" sets the sliders from the drawing,
    then the canvas clears."""
    with st.expander(t("backdrops.edit.draw"), icon=":material/draw:"):
        if not canvas_available():
            st.caption(t("backdrops.edit.canvas_unavailable"))
            return
        st.caption(t("backdrops.edit.draw_hint_line") if line else t("backdrops.edit.draw_hint_box"))
        scale = CANVAS_SIDE / max(entry.width, entry.height)
        width = max(1, round(entry.width * scale)) if entry.height > entry.width else CANVAS_SIDE
        height = CANVAS_SIDE if entry.height > entry.width else max(1, round(entry.height * scale))
        round_key = _key(entry, "canvas_round")
        canvas_round = int(st.session_state.get(round_key, 0))
        view = CanvasView(
            background_png=preview,
            width=width,
            height=height,
            # A stroke in both cases: the canvas reports a stroke once it is finished, while a
            # dragged box was reported half-drawn. A box is the frame around what was painted.
            tool="freedraw",
            erase=False,
            brush_px=_STROKE_PX,
        )
        try:
            layer = draw(view, key=canvas_key(entry, canvas_round))
        except CanvasUnavailable:
            st.caption(t("backdrops.edit.canvas_unavailable"))
            return
        drawn = surface_from_layer(layer, line=line) if layer is not None else None
        if drawn is None:
            return
        # Applied on request, not at once: the canvas reports while the user is still dragging.
        st.caption(t("backdrops.edit.drawn_surface", surface=surface_text(drawn)))
        if not st.button(t("backdrops.edit.use_drawing"), icon=":material/check:", key="backdrops.draw.use"):
            return
    x0, y0, x1, y1 = (_percent(value) for value in drawn)
    if line:
        st.session_state[_key(entry, "line")] = y0
    else:
        st.session_state[_key(entry, "top_bottom")] = (y0, y1)
    st.session_state[_key(entry, "left_right")] = (x0, x1)
    st.session_state[round_key] = canvas_round + 1  # a clean canvas: the drawing is in the sliders now
    say_later(t("backdrops.edit.drawn"))
    st.rerun()


def canvas_key(entry: Backdrop, canvas_round: int) -> str:
    return f"backdrops.canvas.{entry.backdrop_id}.{canvas_round}"


def _actions(studio: Studio, entry: Backdrop, name: str, tags: str, surface: Surface) -> None:
    if st.session_state.get(CONFIRM) == entry.backdrop_id:
        st.warning(t("backdrops.edit.confirm", name=plain(entry.name)), icon=":material/delete:")
        row = st.container(horizontal=True)
        if row.button(t("backdrops.edit.confirm_yes"), type="primary", key="backdrops.delete.yes"):
            studio.backdrops.delete(entry.backdrop_id)
            forget(entry)
            say_later(t("backdrops.edit.deleted", name=entry.name))
            st.rerun()
        if row.button(t("backdrops.edit.cancel"), key="backdrops.delete.no"):
            st.session_state.pop(CONFIRM, None)
            st.rerun()
        return
    row = st.container(horizontal=True)
    if row.button(t("backdrops.edit.save"), type="primary", icon=":material/save:", key="backdrops.save"):
        try:
            saved = studio.backdrops.update(entry.backdrop_id, name=name, tags=tags, surface=surface)
        except BackdropError as exc:
            st.error(error_message(exc), icon=":material/error:")
        else:
            # Show the stored values (tags tidied, name trimmed) in the fields.
            for field in ("name", "tags"):
                st.session_state.pop(_key(entry, field), None)
            say_later(t("backdrops.edit.saved", name=saved.name))
            st.rerun()
    if row.button(t("backdrops.edit.delete"), icon=":material/delete:", key="backdrops.delete"):
        st.session_state[CONFIRM] = entry.backdrop_id
        st.rerun()
    if row.button(t("backdrops.edit.close"), icon=":material/close:", key="backdrops.close"):
        forget(entry)
        st.rerun()


def forget(entry: Backdrop) -> None:
    """Leave the editor: the selection, the confirmation and the fields' state go."""
    if st.session_state.get(SELECTED) == entry.backdrop_id:
        st.session_state.pop(SELECTED, None)
    st.session_state.pop(CONFIRM, None)
    prefix = f"backdrops.edit.{entry.backdrop_id}."
    for key in [key for key in st.session_state if str(key).startswith(prefix)]:
        del st.session_state[key]
