"""The printed-text part of the product fidelity check: crop the product before and after (its
background whitened, so OCR reads only the product), read both with the injected reader, and
compare the letters, digits and CJK characters with difflib's ratio.

A product shrunk in the result may just be too small for OCR: then the original's crop, shrunk
the same way, is read too, and only text that stays readable at that size can count as changed.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

_MIN_TEXT_PX = 64
# Below this scale a failed comparison is re-read at the result's size.
_TEXT_RESCALE_BELOW = 0.95


@dataclass
class TextFindings:
    measures: dict[str, float | int | str | None]
    # The text_changed reason's params; None while the text is unchanged or was not compared.
    params: dict[str, float | int | str] | None = field(default=None)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask >= 128)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def normalise_text(text: str) -> str:
    """Letters, digits and CJK characters only, case-folded: what OCR reads reliably."""
    kept = []
    for char in unicodedata.normalize("NFKC", text).casefold():
        if char.isalnum():
            kept.append(char)
    return "".join(kept)


def _product_crop(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The product's box, everything outside the product white (OCR reads no background)."""
    if int((mask >= 128).sum()) < _MIN_TEXT_PX:
        return np.full((8, 8, 3), 255, np.uint8)
    x0, y0, x1, y1 = _box(mask)
    crop = rgb[y0:y1, x0:x1].copy()
    crop[mask[y0:y1, x0:x1] < 128] = 255
    return crop


def compare_text(
    original: np.ndarray,
    mask: np.ndarray,
    result: np.ndarray,
    matrix: np.ndarray,
    read_text: Callable[[np.ndarray], str],
    *,
    min_chars: int,
    min_similarity: float,
) -> TextFindings:
    """Read the product's text in `original` (inside `mask`) and where `matrix` puts it in
    `result`; measures and, when the text changed, the reason's params."""
    found = TextFindings({"text_before": None, "text_after": None, "text_similarity": None})
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    height, width = result.shape[:2]
    placed = cv2.warpAffine(mask, matrix, (width, height), flags=cv2.INTER_LINEAR)
    placed = cv2.dilate(placed, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    crops = (_product_crop(original, mask), _product_crop(result, placed))
    # The original first, alone: most products carry no text, and then the result (OCR's larger
    # half of the check's time) need not be read at all.
    try:
        before = normalise_text(read_text(crops[0]))
    except Exception as exc:  # an injected reader (a subprocess): never fail the check for it
        found.measures.update(text_check="failed", text_error=f"{type(exc).__name__}: {exc}"[:200])
        return found
    found.measures["text_before"] = before[:80]
    if len(before) < min_chars:
        found.measures["text_check"] = "no_text"
        return found
    try:
        after = normalise_text(read_text(crops[1]))
    except Exception as exc:  # the injected reader again
        found.measures.update(text_check="failed", text_error=f"{type(exc).__name__}: {exc}"[:200])
        return found
    found.measures["text_after"] = after[:80]
    similarity = _similarity(before, after)
    if similarity < min_similarity and scale < _TEXT_RESCALE_BELOW:
        # Shrunk in the result: OCR may simply fail at that size. Read the original's own crop
        # shrunk the same way: if that is unreadable too, the size is to blame, not the output.
        height, width = crops[0].shape[:2]
        size = (max(2, round(width * scale)), max(2, round(height * scale)))
        try:
            at_scale = normalise_text(read_text(cv2.resize(crops[0], size, interpolation=cv2.INTER_AREA)))
        except Exception as exc:  # the injected reader again
            found.measures.update(text_check="failed", text_error=f"{type(exc).__name__}: {exc}"[:200])
            return found
        found.measures["text_at_scale"] = at_scale[:80]
        if _similarity(before, at_scale) < min_similarity:
            found.measures.update(text_check="too_small", text_similarity=round(similarity, 3))
            return found
        similarity = max(similarity, _similarity(at_scale, after))
    found.measures.update(text_check="done", text_similarity=round(similarity, 3))
    if similarity < min_similarity:
        found.params = {"before": before[:40], "after": after[:40], "similarity": round(100 * similarity)}
    return found


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
