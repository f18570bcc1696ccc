"""Product titles drawn onto a finished image, in Chinese or English.

This module owns font loading (from a path or bytes that the caller found;
font discovery lives in `studio`) and `draw_title`: line wrapping (CJK by
character, Latin by word, with closing punctuation kept off the start of a
line), shrinking the size until the title fits, and choosing a readable colour
or a subtle band from the pixels the title will cover.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FontSource = bytes | str | os.PathLike[str]


class TextError(ValueError):
    """A font or title that cannot be drawn; the message says what to change."""


# Ideographs, kana, hangul, CJK punctuation and full-width forms: each may start a new line.
_CJK_RANGES = (
    "\u2e80-\u2fff\u3000-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
# One CJK character, or one run of anything else that is not a space (a Latin word).
_UNIT = re.compile(f"[{_CJK_RANGES}]|[^\\s{_CJK_RANGES}]+")
# Kinsoku: these never start a line (closing) or end one (opening).
_CLOSING = set("，。、．！？；：,.!?;:)]}）》〉】」』”’…%％")
_OPENING = set("（《〈【「『“‘([{")
# A code point no font maps (a Unicode noncharacter): it renders as the font's .notdef glyph.
_NOTDEF_PROBE = "\uffff"
_MAX_LINES = 2


def load_font(source: FontSource, size_px: int, index: int = 0) -> ImageFont.FreeTypeFont:
    """Load a TrueType/OpenType font (or face `index` of a .ttc collection) at `size_px` pixels."""
    if size_px < 1:
        raise TextError(f"font size must be at least 1 px, got {size_px}")
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, bytes | str):
        raise TextError(
            f"font source must be a file path or the font file's bytes, got {type(source).__name__}"
        )
    return _load_cached(source, int(size_px), int(index))


@lru_cache(maxsize=48)
def _load_cached(source: bytes | str, size_px: int, index: int) -> ImageFont.FreeTypeFont:
    what = "the font bytes" if isinstance(source, bytes) else f"font file '{source}'"
    try:
        if isinstance(source, bytes):
            return ImageFont.truetype(io.BytesIO(source), size_px, index=index)
        return ImageFont.truetype(source, size_px, index=index)
    except OSError as exc:
        raise TextError(
            f"could not load {what} (face {index}): {exc}; pass a .ttf, .otf or .ttc font file"
        ) from None


def missing_glyphs(font: ImageFont.FreeTypeFont, text: str) -> str:
    """The characters of `text` the font draws as its .notdef box ("tofu"), in order, without repeats."""
    notdef = font.getmask(_NOTDEF_PROBE)
    notdef_key = (notdef.size, bytes(notdef))
    missing: list[str] = []
    for char in dict.fromkeys(text):
        if char.isspace():
            continue
        mask = font.getmask(char)
        if (mask.size, bytes(mask)) == notdef_key:
            missing.append(char)
    return "".join(missing)


def draw_title(
    rgb: np.ndarray,
    text: str,
    font_source: FontSource,
    *,
    position: Literal["top", "bottom"] = "top",
    colour: tuple[int, int, int] | None = None,
    max_width_frac: float = 0.9,
    font_index: int = 2,
) -> np.ndarray:
    """Return a copy of `rgb` with `text` drawn as a title at the top or bottom.

    The title is wrapped to at most two lines within `max_width_frac` of the width and
    shrunk until it fits. With `colour=None` the colour is white or near-black, whichever
    reads better on those pixels; a translucent band goes behind the text when the
    background is busy or the contrast is low. `font_index` picks the face in a .ttc
    collection (2 = Simplified Chinese in Noto Sans CJK); plain .ttf/.otf files use face 0.
    """
    _check_inputs(rgb, text, position, max_width_frac)
    title = " ".join(text.split())
    if not title:
        return rgb.copy()
    height, width = rgb.shape[:2]
    max_width = max(1, int(width * max_width_frac))
    layout = _fit(title, font_source, font_index, max_width, height)

    margin = max(2, int(round(height * 0.03)))
    pad = max(2, int(round(layout.size * 0.45)))
    block_h = layout.line_height * len(layout.lines)
    top = margin + pad if position == "top" else height - margin - pad - block_h
    top = max(0, top)
    band_box = (0, max(0, top - pad), width, min(height, top + block_h + pad))

    region = rgb[band_box[1] : band_box[3]]
    text_colour, band = _choose_colours(region, colour)
    image = Image.fromarray(rgb).convert("RGBA")
    if band is not None:
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        ImageDraw.Draw(overlay).rectangle(band_box, fill=band)
        image = Image.alpha_composite(image, overlay)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(layout.lines):
        y = top + number * layout.line_height
        draw.text((width / 2, y), line, font=layout.font, fill=(*text_colour, 255), anchor="ma")
    return np.asarray(image.convert("RGB"))


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    font: ImageFont.FreeTypeFont
    size: int
    lines: tuple[str, ...]
    line_height: int


def _check_inputs(rgb: np.ndarray, text: str, position: str, max_width_frac: float) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        shape = getattr(rgb, "shape", None)
        raise TextError(f"the image must be an RGB uint8 array (H, W, 3), got shape {shape}")
    if not isinstance(text, str):
        raise TextError(f"the title must be text, got {type(text).__name__}")
    if position not in ("top", "bottom"):
        raise TextError(f"title position must be 'top' or 'bottom', got '{position}'")
    if not 0.0 < max_width_frac <= 1.0:
        raise TextError(f"max_width_frac must be above 0 and at most 1, got {max_width_frac}")


def _open_font(source: FontSource, size: int, index: int) -> ImageFont.FreeTypeFont:
    try:
        return load_font(source, size, index)
    except TextError:
        if index == 0:
            raise
        # A single-face .ttf/.otf has only face 0; the CJK collection index must not break it.
        return load_font(source, size, 0)


def _fit(title: str, source: FontSource, index: int, max_width: int, height: int) -> _Layout:
    largest = max(10, int(round(height * 0.065)))
    smallest = max(8, int(round(height * 0.025)))
    size = largest
    while True:
        font = _open_font(source, size, index)
        lines = wrap_title(title, font, max_width)
        if len(lines) <= _MAX_LINES or size <= smallest:
            break
        size = max(smallest, int(size * 0.88))
    if len(lines) > _MAX_LINES:
        lines = [*lines[: _MAX_LINES - 1], _ellipsize("".join(lines[_MAX_LINES - 1 :]), font, max_width)]
    return _Layout(font=font, size=size, lines=tuple(lines), line_height=int(round(size * 1.3)))


def _tokens(text: str) -> list[tuple[str, str]]:
    """Split into (leading space, unit) pairs: one CJK character or one Latin word per unit.

    Closing punctuation is glued to the unit before it and opening punctuation to the
    unit after it, so neither can end up alone at the wrong end of a line.
    """
    raw: list[tuple[str, str]] = []
    for space, word in re.findall(r"(\s*)(\S+)", text):
        lead = " " if space else ""
        for part in _UNIT.findall(word):
            raw.append((lead, part))
            lead = ""
    merged: list[tuple[str, str]] = []
    carry_lead, carry = "", ""
    for lead, unit in raw:
        if carry:
            lead, unit, carry = carry_lead, carry + unit, ""
        elif unit in _OPENING:
            carry_lead, carry = lead, unit
            continue
        if unit[0] in _CLOSING and merged and not lead:
            merged[-1] = (merged[-1][0], merged[-1][1] + unit)
            continue
        merged.append((lead, unit))
    if carry:
        merged.append((carry_lead, carry))
    return merged


def wrap_title(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Break `text` into lines no wider than `max_width` px: CJK by character, Latin by word."""
    lines: list[str] = []
    current = ""
    for lead, unit in _tokens(text):
        candidate = current + lead + unit if current else unit
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = unit
        # A single word wider than the line is broken by character as a last resort.
        while font.getlength(current) > max_width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and font.getlength(current[:cut]) > max_width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def _ellipsize(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> str:
    while text and font.getlength(text + "…") > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


# --------------------------------------------------------------------------- colour


def _luminance(rgb: np.ndarray) -> np.ndarray:
    linear = (rgb.astype(np.float32) / 255.0) ** 2.2
    return np.asarray(linear @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32))


def _contrast(l1: float, l2: float) -> float:
    high, low = max(l1, l2), min(l1, l2)
    return (high + 0.05) / (low + 0.05)


def _choose_colours(
    region: np.ndarray, colour: tuple[int, int, int] | None
) -> tuple[tuple[int, int, int], tuple[int, int, int, int] | None]:
    """Text colour and, when needed, a translucent band colour (RGBA) for the pixels under the title."""
    lum = _luminance(region)
    mean = float(lum.mean())
    busy = float(lum.std()) > 0.12
    if colour is None:
        white, dark = (255, 255, 255), (28, 28, 28)
        light_text = _contrast(1.0, mean) >= _contrast(float(_luminance(np.array([dark], np.uint8))[0]), mean)
        colour = white if light_text else dark
    text_lum = float(_luminance(np.array([colour], dtype=np.uint8))[0])
    if not busy and _contrast(text_lum, mean) >= 4.5:
        return colour, None
    # A band of the opposite lightness restores contrast without hiding the backdrop.
    band = (0, 0, 0, 110) if text_lum > 0.35 else (255, 255, 255, 150)
    return colour, band
