"""Guessing from which angle a product photo was taken, so the scene's camera can match it.

This module owns `infer_viewpoint`. A product pasted into a set shot from another angle looks
stuck on a wall: a mug photographed from the side on a table seen from above. The silhouette
tells a lot about the angle, because the product's base is a flat shape seen in perspective:

- Seen from the side (eye level), a round base is a straight line: the lowest outline of the
  product is flat across its middle.
- Seen from above at an angle (three-quarter), the same base is an ellipse: the lowest outline
  sags, lowest in the middle and rising towards the sides (a box shows a V: its front corner).
- Seen from straight above (flat lay) there is no base at all: the outline is a round top-down
  shape (a plate, a watch face, a bowl from above), or a garment laid out, whose upper part
  (sleeves, shoulders) is much wider than a straight-sided body with a straight hem.

The measure of the sag is the rise of the lowest outline at 60 % of the way from the base's
centre to its sides, relative to the base's width: a flat base rises about 0-2 %, an ellipse
seen from 30 degrees about 5 %. An ellipse already rises at 30 % of the way (about a quarter of
its rise at 60 %); a flat base with big rounded corners (a cosmetic tube) does not, so such a base
counts as flat. The
heuristic cannot tell a ball from a plate, nor a straight-sided box seen from the side from one
seen from the front; the user can override the guess.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imaging.scene_model import SceneError, Viewpoint, check_rgba

_SAG_THREE_QUARTER = 0.022
_ROUND_CIRCULARITY = 0.93


def infer_viewpoint(product_rgba: np.ndarray) -> Viewpoint:
    """The likeliest camera angle of a cut-out product photo (RGBA uint8); see the module notes."""
    check_rgba(product_rgba)
    solid = product_rgba[..., 3] > 127
    rows = np.flatnonzero(solid.any(axis=1))
    cols = np.flatnonzero(solid.any(axis=0))
    if rows.size < 4 or cols.size < 4:
        raise SceneError("the product has (almost) no visible pixels; check its alpha channel")
    crop = solid[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if _looks_round(crop) or _looks_laid_out(crop):
        return "flat_lay"
    return "three_quarter" if base_sag(crop) > _SAG_THREE_QUARTER else "eye_level"


def base_sag(solid: np.ndarray) -> float:
    """How much the lowest outline rises from its middle to 60 % of the way to its sides, per base width.

    Only columns whose lowest pixel lies in the bottom quarter count as the base, so a handle, a
    spout or a lip overhanging the base does not.
    """
    h, w = solid.shape
    present = solid.any(axis=0)
    lowest = np.where(present, h - 1 - np.argmax(solid[::-1], axis=0), -1)
    base_cols = np.flatnonzero(lowest >= 0.75 * h)
    if base_cols.size < 5:
        return 0.0
    left, right = int(base_cols[0]), int(base_cols[-1])
    width = right - left + 1
    centre = (left + right) / 2.0
    middle = lowest[int(round(centre - 0.05 * width)) : int(round(centre + 0.05 * width)) + 1]
    bottom = float(np.median(middle))

    def rise(share: float) -> float:
        reach = share * width / 2.0
        sides = [lowest[int(round(centre - reach))], lowest[int(round(centre + reach))]]
        return max(0.0, bottom - float(np.mean(sides))) / max(width, 1)

    far, near = rise(0.6), rise(0.3)
    # An ellipse (or a box's V) already rises half way out; a flat base with rounded corners
    # (a bottle, a jar seen from the side) stays flat there and only curls up at its ends.
    if near < 0.12 * far:
        return near
    return far


def _outline(solid: np.ndarray) -> tuple[float, float, float]:
    """(area, perimeter, convex hull area) of the largest outer contour."""
    contours, _ = cv2.findContours(solid.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return 0.0, 0.0, 0.0
    contour = max(contours, key=cv2.contourArea)
    # Smooth the staircase of pixel edges, which inflates the perimeter of small shapes.
    epsilon = 0.002 * cv2.arcLength(contour, True)
    contour = cv2.approxPolyDP(contour, epsilon, True)
    hull = cv2.convexHull(contour)
    return float(cv2.contourArea(contour)), float(cv2.arcLength(contour, True)), float(cv2.contourArea(hull))


def _looks_round(solid: np.ndarray) -> bool:
    """A top-down round object: nearly circular outline, nearly square bounding box."""
    h, w = solid.shape
    if not 0.85 <= w / h <= 1.18:
        return False
    area, perimeter, _ = _outline(solid)
    if perimeter <= 0:
        return False
    return 4.0 * math.pi * area / perimeter**2 >= _ROUND_CIRCULARITY


def _looks_laid_out(solid: np.ndarray) -> bool:
    """A garment laid flat: wide shoulders or sleeves above a straight-sided body with a straight hem."""
    h, w = solid.shape
    widths = solid.sum(axis=1).astype(np.float64)
    upper = float(widths[: int(0.4 * h)].max()) if h >= 5 else 0.0
    body = float(np.median(widths[int(0.6 * h) : int(0.9 * h)])) if h >= 10 else 0.0
    hem = float(widths[int(0.97 * h)])
    if body <= 0 or upper < 1.35 * body or abs(hem - body) > 0.15 * body:
        return False
    # Sleeves leave deep notches beside the body: the outline is far from convex.
    area, _, hull_area = _outline(solid)
    if hull_area <= 0 or area / hull_area > 0.9:
        return False
    # And the hem is straight: the lowest outline of the body is flat.
    return base_sag(solid) < _SAG_THREE_QUARTER
