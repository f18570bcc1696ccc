"""The visible AI label: "AI生成" drawn in a corner of a picture, as Chinese rules ask.

This module owns `add_visible_label` / `draw_visible_label` and `VisibleLabel`, the record of
what was drawn where (imaging/provenance.py writes it into the file's packet, so a compliance
check can tell our own disclosure from an added watermark).

Visible label: GB 45438-2025 asks for the text label on an image to sit at an edge or corner
with a text height of at least 5 % of the image's shortest side (as summarised by
agiyes.com/ainews/ai-content-labeling-regulation and news.ai7788.cn/daily/3793).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imaging.text import FontSource, TextError, load_font, missing_glyphs

# GB 45438-2025: text height >= 5 % of the shortest side. A little over, so rounding never undercuts it.
LABEL_HEIGHT_SHARE = 0.055
LABEL_MARGIN_SHARE = 0.02

Corner = Literal["bottom_right", "bottom_left", "top_right", "top_left"]


@dataclass(frozen=True)
class VisibleLabel:
    """The explicit label drawn on a picture: its text and plate box (x, y, w, h) in pixels.

    Recorded in the packet so a compliance check can tell our own disclosure from an added mark."""

    text: str
    box: tuple[int, int, int, int]


def add_visible_label(
    rgb: np.ndarray,
    text: str = "AI生成",
    *,
    font: FontSource | None = None,
    font_index: int = 0,
    corner: Corner = "bottom_right",
) -> np.ndarray:
    """`rgb` with `text` in a corner, its glyphs at least 5 % of the shortest side tall (GB 45438).

    White text on a translucent dark plate, so it reads on white and on busy scenes alike.
    `font` (path or bytes, face `font_index`) must have the text's glyphs: Chinese needs a
    CJK font (the studio passes its configured one); without one, Pillow's built-in font
    draws Latin text only, and Chinese raises `TextError` saying so."""
    return draw_visible_label(rgb, text, font=font, font_index=font_index, corner=corner)[0]


def draw_visible_label(
    rgb: np.ndarray,
    text: str = "AI生成",
    *,
    font: FontSource | None = None,
    font_index: int = 0,
    corner: Corner = "bottom_right",
) -> tuple[np.ndarray, VisibleLabel]:
    """`add_visible_label`, also returning what was drawn where (for `embed`)."""
    if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8):
        raise TextError("the picture to label must be an HxWx3 uint8 RGB array")
    text = text.strip()
    if not text:
        raise TextError("the visible label is empty; give a text such as 'AI生成'")
    if corner not in ("bottom_right", "bottom_left", "top_right", "top_left"):
        raise TextError(f"corner must be bottom_right, bottom_left, top_right or top_left, got {corner!r}")
    height, width = rgb.shape[:2]
    short = min(width, height)
    target = max(8, math.ceil(short * LABEL_HEIGHT_SHARE))
    face = _label_font(text, target, font, font_index)
    left, top, right, bottom = face.getbbox(text)
    pad = max(2, round(target * 0.35))
    margin = max(2, round(short * LABEL_MARGIN_SHARE))
    plate_w, plate_h = right - left + 2 * pad, bottom - top + 2 * pad
    if plate_w + 2 * margin > width or plate_h + 2 * margin > height:
        raise TextError(
            f"the label '{text}' does not fit a {width}x{height} picture at the required size; shorten it"
        )
    x0 = margin if corner.endswith("left") else width - margin - plate_w
    y0 = margin if corner.startswith("top") else height - margin - plate_h
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rounded_rectangle(
        (x0, y0, x0 + plate_w - 1, y0 + plate_h - 1), radius=max(2, pad // 2), fill=(0, 0, 0, 150)
    )
    draw.text((x0 + pad - left, y0 + pad - top), text, font=face, fill=(255, 255, 255, 255))
    base = Image.fromarray(np.ascontiguousarray(rgb)).convert("RGBA")
    labelled = np.asarray(Image.alpha_composite(base, overlay).convert("RGB"))
    return labelled, VisibleLabel(text, (x0, y0, plate_w, plate_h))


def _label_font(
    text: str, target: int, source: FontSource | None, index: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The font at the size whose ink for `text` is at least `target` px tall."""

    def at(size: int) -> ImageFont.FreeTypeFont:
        if source is None:
            face = ImageFont.load_default(size)
            if not isinstance(face, ImageFont.FreeTypeFont):
                raise TextError("Pillow was built without FreeType; pass a font file for the label")
            return face
        return load_font(source, size, index)

    probe = at(target)
    missing = missing_glyphs(probe, text)
    if missing:
        raise TextError(
            f"the font has no glyphs for '{missing}' in the label '{text}'; pass a font that covers "
            "them (a CJK font such as Noto Sans CJK for Chinese)"
        )
    size = target
    # Ink height is below the em size (no descender in "AI生成"); grow until the glyphs reach it.
    for _ in range(64):
        face = at(size)
        _, top, _, bottom = face.getbbox(text)
        if bottom - top >= target:
            return face
        size = max(size + 1, math.ceil(size * target / max(1, bottom - top)))
    return at(size)
