"""Mask editing: what the mask editor's tools do to a mask, at the photo's full resolution.

The canvas shows a scaled view of the photo; the user's strokes come back as a
picture of the canvas's drawing layer (RGBA at canvas size) in which "add
product" strokes and "erase" strokes have their own colours. `strokes_from_layer`
reads that picture into two canvas-size masks; `to_source` scales them to the
photo; `apply_strokes` paints them into the mask. The other tools work on the
full-resolution mask directly. Masks are HxW uint8, 255 = product.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Stroke colours on the canvas (fully saturated, so anti-aliased edges still classify).
ADD_RGB = (0, 230, 118)
ERASE_RGB = (255, 23, 68)
# A drawn pixel counts once at least half covered.
_DRAWN_ALPHA = 128


@dataclass(frozen=True)
class Strokes:
    """What the user painted, at canvas scale: where to add product and where to erase it."""

    add: np.ndarray
    erase: np.ndarray

    @property
    def empty(self) -> bool:
        return not (self.add.any() or self.erase.any())


def strokes_from_layer(layer: np.ndarray) -> Strokes:
    """Split the canvas's drawing layer (HxWx4) into add and erase masks by stroke colour.

    The canvas composites strokes in order, so a later erase over an earlier
    add shows the erase colour there: the topmost stroke wins, as the user saw.
    """
    if layer.ndim != 3 or layer.shape[2] != 4:
        raise ValueError(f"expected an HxWx4 drawing layer, got shape {layer.shape}")
    rgb = layer[..., :3].astype(np.int32)
    drawn = layer[..., 3] >= _DRAWN_ALPHA
    to_add = _distance(rgb, ADD_RGB)
    to_erase = _distance(rgb, ERASE_RGB)
    add = drawn & (to_add < to_erase)
    erase = drawn & ~add
    return Strokes(add=_as_mask(add), erase=_as_mask(erase))


def _distance(rgb: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.abs(rgb - np.asarray(colour, np.int32)).sum(axis=2)


def _as_mask(flags: np.ndarray) -> np.ndarray:
    return np.where(flags, np.uint8(255), np.uint8(0))


def to_source(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A canvas-scale mask at the photo's `size` = (width, height), edges kept smooth then re-cut.

    Linear scaling then a 50% threshold puts the edge where the stroke's edge
    was, instead of the staircase nearest-neighbour scaling would give.
    """
    width, height = size
    if (mask.shape[1], mask.shape[0]) == (width, height):
        return mask.copy()
    scaled = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
    return _as_mask(scaled >= 128)


def apply_strokes(mask: np.ndarray, strokes: Strokes) -> np.ndarray:
    """The mask with the strokes painted in (scaled to the mask's size first)."""
    size = (mask.shape[1], mask.shape[0])
    add = to_source(strokes.add, size) > 0
    erase = to_source(strokes.erase, size) > 0
    edited = mask.copy()
    edited[add] = 255
    edited[erase] = 0
    return edited


def invert(mask: np.ndarray) -> np.ndarray:
    return np.asarray(255 - mask, np.uint8)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Background enclosed by the product becomes product (a label, a dark print misread as hole)."""
    solid = mask >= 128
    # A one-pixel background frame, so all background touching the picture's edge is one region.
    outside = np.full((mask.shape[0] + 2, mask.shape[1] + 2), 255, np.uint8)
    outside[1:-1, 1:-1] = np.where(solid, 0, 255)
    # Flood the background from the border: what it cannot reach is enclosed.
    flood = outside.copy()
    cv2.floodFill(flood, None, (0, 0), 128)
    enclosed = (flood[1:-1, 1:-1] == 255) & ~solid
    filled = mask.copy()
    filled[enclosed] = 255
    return filled


def punch_holes(mask: np.ndarray, rgb: np.ndarray, tolerance: float = 28.0, min_area: int = 16) -> np.ndarray:
    """Regions inside the product that look like the background become holes (a ring, a handle).

    The background colour is read from the photo where the mask says background;
    closed product regions whose pixels are within `tolerance` of it (in Lab) and
    are at least `min_area` pixels become background. Thin edges are left alone.
    """
    if rgb.shape[:2] != mask.shape:
        raise ValueError("photo and mask differ in size")
    background = mask < 128
    if not background.any():
        return mask.copy()
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    reference = np.median(lab[background], axis=0)
    close = np.linalg.norm(lab - reference, axis=2) < tolerance
    # Only inside the product, and away from its outline (the outline is refined elsewhere).
    inner = cv2.erode(np.where(background, 0, 255).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    candidates = (close & inner).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    punched = mask.copy()
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] >= min_area:
            region = labels == label
            # Grow back to the outline the erosion took away, but not beyond the similar colour.
            grown = cv2.dilate(region.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            punched[grown & close] = 0
    return punched


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Move the edge outwards by `pixels` (inwards when negative), with a round brush."""
    if pixels == 0:
        return mask.copy()
    radius = abs(pixels)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    operation = cv2.dilate if pixels > 0 else cv2.erode
    return np.asarray(operation(mask, kernel), np.uint8)


def feather(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Soften the edge over about `pixels`: a Gaussian whose width matches, inside stays solid."""
    if pixels <= 0:
        return mask.copy()
    sigma = pixels / 2.0
    blurred = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    return np.asarray(np.clip(np.round(blurred), 0, 255), np.uint8)


def coverage(mask: np.ndarray) -> float:
    """Share of the picture that is product (0..1): the editor shows it and warns at 0 or 1."""
    return float(np.count_nonzero(mask >= 128)) / float(mask.size or 1)
