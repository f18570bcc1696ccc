"""The drawing canvas: the only module that imports streamlit-drawable-canvas.

It shows a picture (the photo with the mask overlay) at display size and
returns what the user drew as an RGBA layer at that size, or None while
nothing is drawn. If the component is missing or fails to render, callers get
`CanvasUnavailable` and fall back to uploading a mask.

The component (0.13, Components v2) renders inline, not in an iframe. Under
AppTest it is an inert placeholder: tests set `st.session_state[key]` to
`{"drawing": {"raw": {...}, "data": "data:image/png;base64,..."}}`, which is
what the browser would have sent.

Python cannot know how wide the browser draws the page (`st.context` has no viewport in
Streamlit 1.67), so `measured_width` mounts a tiny inline component (Components v2) that
measures the space it is drawn in and reports it back; the editor sizes its canvas from that.
Under AppTest it is a placeholder too: tests set `st.session_state[key] = {"width": ...}`.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import streamlit as st
from PIL import Image

from imaging.mask_edit import ADD_RGB, ERASE_RGB

logger = logging.getLogger(__name__)

Tool = Literal["freedraw", "rect", "polygon"]


class CanvasUnavailable(Exception):
    """The canvas component cannot be used here; the message says why (for the log)."""


@dataclass(frozen=True)
class CanvasView:
    """What the canvas shows: a background picture at display size, and the active tool."""

    background_png: bytes
    width: int
    height: int
    tool: Tool
    erase: bool
    brush_px: int


def canvas_available() -> bool:
    """Whether the component can be imported here (checked before any editor control is drawn)."""
    try:
        import streamlit_drawable_canvas  # noqa: F401 - imported to see that it loads
    except Exception as exc:
        logger.warning("the mask canvas is unavailable: %s", exc)
        return False
    return True


# Reports the width of the space it is drawn in (CSS px), again when it changes by more than a
# few pixels (a resized window, the sidebar folded); never the same width twice, so no rerun loop.
_PROBE_JS = """
export default function ({ parentElement, data, setStateValue }) {
  const box = parentElement.querySelector(".width-probe");
  let sent = Number(data && data.known) || 0;
  let timer = 0;
  const report = () => {
    const width = Math.floor(box.getBoundingClientRect().width);
    if (width > 0 && Math.abs(width - sent) >= 8) {
      sent = width;
      setStateValue("width", width);
    }
  };
  const observer = new ResizeObserver(() => {
    clearTimeout(timer);
    timer = setTimeout(report, 250);
  });
  observer.observe(box);
  report();
  return () => {
    observer.disconnect();
    clearTimeout(timer);
  };
}
"""
_width_probe = st.components.v2.component(
    "backdrop_studio.width_probe",
    html='<div class="width-probe"></div>',
    css=".width-probe { width: 100%; height: 0; }",
    js=_PROBE_JS,
)


def measured_width(key: str) -> int | None:
    """The width (CSS px) of the space this is drawn in, as the browser measured it; None until it
    has. The last answer is kept in the session under `key`, so a page that draws the editor again
    starts at the right size instead of waiting for the browser."""
    memory = f"{key}.last"
    known = st.session_state.get(memory)
    result = _width_probe(
        key=key,
        data={"known": known if isinstance(known, int) else 0},
        default={"width": None},
        on_width_change=lambda: None,
        width="stretch",
        height="content",
    )
    width = result.get("width") if result is not None else None
    if isinstance(width, int | float) and width > 0:
        st.session_state[memory] = int(width)
        return int(width)
    return known if isinstance(known, int) else None


def _hex(rgb: tuple[int, int, int], alpha: float | None = None) -> str:
    if alpha is None:
        return "#{:02x}{:02x}{:02x}".format(*rgb)
    return f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {alpha})"


def draw(view: CanvasView, key: str) -> np.ndarray | None:
    """Render the canvas; returns the drawing layer (HxWx4 uint8 at display size) or None."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as exc:  # a broken or missing install must not take the page down
        raise CanvasUnavailable(f"streamlit-drawable-canvas cannot be imported: {exc}") from None
    colour = ERASE_RGB if view.erase else ADD_RGB
    try:
        result = st_canvas(
            # Shapes are filled solid so a rectangle or polygon paints its whole inside.
            fill_color=_hex(colour, 1.0),
            stroke_width=view.brush_px if view.tool == "freedraw" else 1,
            stroke_color=_hex(colour),
            background_image=view.background_png,
            background_image_fit="stretch",
            height=view.height,
            width=view.width,
            drawing_mode=view.tool,
            return_image_data=True,
            update_streamlit=True,
            key=key,
            max_display_height=720,
        )
    except Exception as exc:
        raise CanvasUnavailable(f"the canvas failed to render: {exc}") from None
    return layer_from_result(result.json_data, _data_url(result))


def _data_url(result: Any) -> str | None:
    try:
        return result._require_image_data_url()  # noqa: SLF001 - the public properties decode twice
    except Exception:
        return None


def layer_from_result(json_data: Any, data_url: str | None) -> np.ndarray | None:
    """The drawing layer from the component's answer; None when nothing is drawn yet."""
    objects = json_data.get("objects") if isinstance(json_data, dict) else None
    if not objects or not data_url or ";base64," not in data_url:
        return None
    try:
        encoded = data_url.split(";base64,", 1)[1]
        with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
            return np.asarray(image.convert("RGBA"))
    except Exception as exc:
        logger.warning("the canvas sent a drawing that cannot be read: %s", exc)
        return None
