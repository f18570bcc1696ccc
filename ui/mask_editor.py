"""The mask editor: fix the product mask in a few strokes and see the effect at once.

The canvas shows the photo with the part that will be replaced tinted (opacity
adjustable) in the photo's own contrasting tint (`photo_tint`, the same one the
cutout preview uses), scaled to fit the width the browser gives it (measured on the page, see
`mask_canvas.measured_width`; zoom for large photos). Strokes and shapes are read
back at canvas size and applied at the photo's full resolution. Every finished
edit is a step in an undo/redo history; strokes not yet applied show in the
preview already and are applied by the next tool or by "Apply strokes".
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st
from PIL import Image

from imaging import mask_edit
from imaging.masks import overlay
from imaging.tint import contrasting_tint
from studio.service import PreparedImage
from ui.i18n import choice_key, labeller, t
from ui.mask_canvas import CanvasUnavailable, CanvasView, Tool, canvas_available, draw, measured_width
from ui.uploads import checkerboard_image

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

# At 100% zoom the canvas fits the width the browser measured for it (the prompt page gives the
# editor the page's full width: about 980 px at 1440 px, 820 px at 1280 px); larger zooms scroll.
# Until the browser has answered (the first draw, AppTest) it fits FIT_WIDTH, a half column.
FIT_WIDTH = 440
MIN_FIT_WIDTH = 320
MAX_FIT_WIDTH = 1600
# Nor taller than this (the canvas's own scroll box), so a portrait photo is seen whole at 100%.
FIT_HEIGHT = 720
# The dialog has a known width: no measuring there.
LARGE_FIT_WIDTH = 880
LARGE_DIALOG_WIDTH = 940
ZOOMS = (1.0, 1.5, 2.0, 3.0)
TOOLS: tuple[str, ...] = (
    "brush_add",
    "brush_erase",
    "rect_add",
    "rect_erase",
    "polygon_add",
    "polygon_erase",
)
_TOOL_SHAPE: dict[str, Tool] = {"brush": "freedraw", "rect": "rect", "polygon": "polygon"}
# The mask as it stands for the photo in the editor, and the one finished on the photo before it,
# offered for the next product of the same size (a batch shot on one set-up).
CURRENT_MASK = "mask.editor.current"
LAST_MASK = "mask.editor.last"
PREVIEW_SIDE = 720
_TINT_STATE = "mask.tint"  # (photo digest, RGB): the tint chosen for the photo last shown


@dataclass
class EditorState:
    """One photo's edit history (PNG masks), where we are in it, and the canvas generation."""

    photo: str
    automatic: bytes
    history: list[bytes] = field(default_factory=list)
    position: int = 0
    canvas_round: int = 0

    @property
    def current(self) -> bytes:
        return self.history[self.position]

    def push(self, mask_png: bytes) -> None:
        if mask_png == self.current:
            return
        del self.history[self.position + 1 :]
        self.history.append(mask_png)
        self.position = len(self.history) - 1
        self.canvas_round += 1  # the strokes are in the mask now: start a clean canvas


@dataclass(frozen=True)
class EditorResult:
    mask_png: bytes
    canvas_ok: bool


def editor_state(
    prefix: str, image: PreparedImage, automatic_png: bytes, start_png: bytes | None
) -> EditorState:
    """The editor's state for this photo, created at its first sight (from `start_png` or automatic)."""
    key = f"{prefix}.editor"
    digest = hashlib.sha1(image.png, usedforsecurity=False).hexdigest()
    state = st.session_state.get(key)
    if not isinstance(state, EditorState) or state.photo != digest:
        previous = st.session_state.get(CURRENT_MASK)
        if isinstance(previous, tuple) and previous and previous[0] != digest:
            st.session_state[LAST_MASK] = previous
        state = EditorState(digest, automatic_png, [start_png or automatic_png])
        st.session_state[key] = state
    return state


def mask_editor(
    prefix: str,
    image: PreparedImage,
    state: EditorState,
    *,
    large: bool = False,
    previews: DeltaGenerator | None = None,
) -> EditorResult:
    """Tools, canvas, edit buttons and previews; returns the mask as it stands (strokes included).

    `large=True` is the wide editor in a dialog: a canvas up to LARGE_FIT_WIDTH, its own widget
    keys, reruns of the dialog only, and "Done" instead of the previews. `previews` is where the
    previews go when not under the canvas (the page's step column, beside a full-width editor)."""
    if not canvas_available():
        st.warning(t("editor.canvas_unavailable"), icon=":material/draw:")
        return EditorResult(state.current, canvas_ok=False)
    photo = _rgb(image.png)
    mask = _gray(state.current)
    tools, sizes = st.columns([3, 2], vertical_alignment="bottom")
    with tools:
        tool = st.radio(
            t("editor.tool"),
            options=list(TOOLS),
            format_func=labeller(TOOLS, lambda value: t(f"editor.tool.{value}")),
            key=choice_key(f"{prefix}.editor.tool", list(TOOLS), "brush_erase"),
            horizontal=True,
        )
    with sizes:
        brush = st.slider(t("editor.brush"), 2, 120, 24, key=f"{prefix}.editor.brush")
    view_row = st.columns(2)
    opacity = view_row[0].slider(t("editor.opacity"), 0, 100, 45, step=5, key=f"{prefix}.editor.opacity")
    zoom = view_row[1].select_slider(
        t("editor.zoom"),
        options=list(ZOOMS),
        value=1.0,
        format_func=lambda value: f"{value:.0%}",
        key=f"{prefix}.editor.zoom",
    )
    fit = LARGE_FIT_WIDTH if large else fit_width(measured_width(f"{prefix}.editor.space"))
    width, height = _display_size(image.width, image.height, float(zoom), fit)
    shape, _, action = str(tool).partition("_")
    view = CanvasView(
        background_png=_png(
            overlay(
                _resize(photo, (width, height)),
                _resize(mask, (width, height)),
                photo_tint(image, photo),
                opacity / 100,
            )
        ),
        width=width,
        height=height,
        tool=_TOOL_SHAPE[shape],
        erase=action == "erase",
        # The brush is given in photo pixels; the canvas draws at display scale.
        brush_px=max(1, round(brush * width / image.width)),
    )
    canvas_ok = True
    layer = None
    try:
        layer = draw(view, key=f"{prefix}.canvas.{state.photo[:12]}.{state.canvas_round}")
    except CanvasUnavailable:
        canvas_ok = False
        st.warning(t("editor.canvas_unavailable"), icon=":material/draw:")
    if shape == "polygon":
        st.caption(t("editor.polygon_hint"))
    strokes = mask_edit.strokes_from_layer(layer) if layer is not None else None
    live = mask_edit.apply_strokes(mask, strokes) if strokes is not None and not strokes.empty else mask

    _edit_buttons(prefix, state, photo, live, large=large)
    if large:
        if st.button(
            t("first_hour_b.large_done"), key=f"{prefix}.editor.done", type="primary", icon=":material/check:"
        ):
            state.push(_png(live))
            st.rerun()  # the whole page: the dialog closes and the page's editor shows the mask
    else:
        with previews if previews is not None else st.container():
            _previews(prefix, photo, live)
    mask_png = _png(live)
    st.session_state[CURRENT_MASK] = (state.photo, (image.width, image.height), mask_png)
    return EditorResult(mask_png, canvas_ok)


def _edit_buttons(
    prefix: str, state: EditorState, photo: np.ndarray, live: np.ndarray, *, large: bool = False
) -> None:
    """Undo/redo, reset, invert, holes, and the edge tools; each makes one history step."""

    def redraw() -> None:
        # In the dialog only the dialog reruns (a whole-page rerun would close it).
        if large:
            st.rerun(scope="fragment")
        st.rerun()

    def step(edit: Callable[[np.ndarray], np.ndarray]) -> None:
        state.push(_png(edit(live)))
        # Redraw at once: the canvas above still shows the strokes that are now in the mask.
        redraw()

    def move(by: int) -> None:
        state.position += by
        state.canvas_round += 1
        redraw()

    row = st.columns(4)
    if row[0].button(
        t("editor.apply"),
        key=f"{prefix}.editor.apply",
        help=t("editor.apply_help"),
        icon=":material/check:",
        width="stretch",
    ):
        step(lambda current: current)
    if row[1].button(
        t("editor.undo"),
        key=f"{prefix}.editor.undo",
        icon=":material/undo:",
        disabled=state.position == 0,
        width="stretch",
    ):
        move(-1)
    if row[2].button(
        t("editor.redo"),
        key=f"{prefix}.editor.redo",
        icon=":material/redo:",
        disabled=state.position >= len(state.history) - 1,
        width="stretch",
    ):
        move(+1)
    if row[3].button(
        t("editor.reset"),
        key=f"{prefix}.editor.reset",
        help=t("editor.reset_help"),
        icon=":material/restart_alt:",
        width="stretch",
    ):
        state.push(state.automatic)
        redraw()

    holes = st.columns(3)
    if holes[0].button(
        t("editor.invert"), key=f"{prefix}.editor.invert", icon=":material/invert_colors:", width="stretch"
    ):
        step(mask_edit.invert)
    if holes[1].button(
        t("editor.fill_holes"),
        key=f"{prefix}.editor.fill",
        icon=":material/format_color_fill:",
        width="stretch",
    ):
        step(mask_edit.fill_holes)
    if holes[2].button(
        t("editor.punch_holes"), key=f"{prefix}.editor.punch", icon=":material/trip_origin:", width="stretch"
    ):
        step(lambda current: mask_edit.punch_holes(current, photo))

    edge = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    amount = int(edge[0].number_input(t("editor.edge_px"), 1, 50, 2, key=f"{prefix}.editor.edge_px"))
    if edge[1].button(t("editor.grow"), key=f"{prefix}.editor.grow", width="stretch"):
        step(lambda current: mask_edit.grow(current, amount))
    if edge[2].button(t("editor.shrink"), key=f"{prefix}.editor.shrink", width="stretch"):
        step(lambda current: mask_edit.grow(current, -amount))
    if edge[3].button(t("editor.feather"), key=f"{prefix}.editor.feather", width="stretch"):
        step(lambda current: mask_edit.feather(current, amount))


def _previews(prefix: str, photo: np.ndarray, mask: np.ndarray) -> None:
    """The cutout on a checkerboard and on a backdrop colour, and how much of the photo it keeps."""
    size = _preview_size(photo.shape[1], photo.shape[0])
    small_photo, small_mask = _resize(photo, size), _resize(mask, size)
    rgba = np.dstack([small_photo, small_mask])
    colour = st.color_picker(t("editor.backdrop"), "#E9ECF1", key=f"{prefix}.editor.backdrop")
    backdrop = np.asarray([int(colour[i : i + 2], 16) for i in (1, 3, 5)], np.float32)
    alpha = small_mask.astype(np.float32)[..., None] / 255.0
    composed = small_photo.astype(np.float32) * alpha + backdrop * (1.0 - alpha)
    left, right = st.columns(2)
    with left:
        checkerboard_image(_png(rgba), t("editor.preview_checker"))
    with right:
        st.image(
            _png(np.asarray(np.round(composed), np.uint8)),
            caption=t("editor.preview_backdrop"),
            width="stretch",
        )
    share = mask_edit.coverage(mask)
    st.caption(t("editor.coverage", percent=f"{share:.0%}"))
    st.download_button(
        t("editor.download"),
        data=_png(mask),
        file_name="mask.png",
        mime="image/png",
        key=f"{prefix}.editor.download",
        icon=":material/download:",
        on_click="ignore",
    )


def photo_tint(image: PreparedImage, pixels: np.ndarray | None = None) -> tuple[int, int, int]:
    """The mask tint for this photo (chosen once per photo and kept in the session), so the cutout
    preview and the editor show "will be replaced" in the same colour, one that stands out on it."""
    digest = hashlib.sha1(image.png, usedforsecurity=False).hexdigest()
    cached = st.session_state.get(_TINT_STATE)
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == digest:
        red, green, blue = cached[1]
        return (int(red), int(green), int(blue))
    rgb = _rgb(image.png) if pixels is None else pixels
    chosen = contrasting_tint(rgb).rgb
    st.session_state[_TINT_STATE] = (digest, chosen)
    return chosen


def tinted_preview(image: PreparedImage, cutout_png: bytes) -> bytes:
    """The automatic cutout (an RGBA PNG at preview size) drawn over the photo in the photo's tint."""
    with Image.open(io.BytesIO(cutout_png)) as cutout:
        alpha = np.asarray(cutout.convert("RGBA"))[..., 3]
    photo = _rgb(image.png)
    size = (alpha.shape[1], alpha.shape[0])
    return _png(overlay(_resize(photo, size), alpha, photo_tint(image, photo)))


def last_mask_for(image: PreparedImage, photo: str) -> bytes | None:
    """The mask finished on the previous product (another photo), when it has this photo's size."""
    saved = st.session_state.get(LAST_MASK)
    if not isinstance(saved, tuple) or len(saved) != 3:
        return None
    digest, size, mask_png = saved
    if digest == photo or size != (image.width, image.height) or not isinstance(mask_png, bytes):
        return None
    return mask_png


def large_editor(prefix: str, image: PreparedImage, state: EditorState) -> None:
    """The editor in a wide dialog (the same edit history as the page's editor)."""
    st.dialog(t("first_hour_b.large_editor"), width=LARGE_DIALOG_WIDTH)(_large_editor_body)(
        prefix, image, state
    )


def _large_editor_body(prefix: str, image: PreparedImage, state: EditorState) -> None:
    st.caption(t("first_hour_b.large_editor_help"))
    mask_editor(f"{prefix}.large", image, state, large=True)


def fit_width(measured: int | None) -> int:
    """The canvas width at 100% zoom for the space the browser measured (FIT_WIDTH until it has)."""
    if measured is None:
        return FIT_WIDTH
    return max(MIN_FIT_WIDTH, min(MAX_FIT_WIDTH, measured))


def _display_size(width: int, height: int, zoom: float, fit: int = FIT_WIDTH) -> tuple[int, int]:
    # Fit the width and FIT_HEIGHT, never enlarge at 100%; a zoom scales from there.
    scale = min(1.0, fit / width, FIT_HEIGHT / height) * zoom
    scale = min(scale, 1.0) if zoom == 1.0 else scale
    return max(1, round(width * scale)), max(1, round(height * scale))


def _preview_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, PREVIEW_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))


def _rgb(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def _gray(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("L"))


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()
