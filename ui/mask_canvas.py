"""The drawing canvas: the only module that imports streamlit-drawable-canvas.

It shows a picture (the photo with the mask overlay) at display size and
returns what the user drew as an RGBA layer at that size, or None while
nothing is drawn. If the component is missing or fails to render, callers get
`CanvasUnavailable` and fall back to uploading a mask.

The component (0.13, Components v2) renders inline, not in an iframe. Under
AppTest it is an inert placeholder: tests set `st.session_state[key]` to
`{"drawing": {"raw": {...}, "data": "data:image/png;base64,..."}}`, which is
what the browser would have sent.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
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
