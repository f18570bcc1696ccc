"""Small OpenCV-backed array operations the cutout, its matting and composition share (faster than NumPy's)."""

from __future__ import annotations

import cv2
import numpy as np


def nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.nonzero` of a 2-D uint8 mask, in the same row-major order, through OpenCV (much faster)."""
    points = cv2.findNonZero(mask)
    if points is None:
        empty = np.zeros(0, np.intp)
        return empty, empty
    points = points.reshape(-1, 2)
    return points[:, 1].astype(np.intp), points[:, 0].astype(np.intp)


def box(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)-square window, edges reflected."""
    size = 2 * radius + 1
    return cv2.boxFilter(values, -1, (size, size), normalize=True, borderType=cv2.BORDER_REFLECT)


def channels(values: np.ndarray) -> np.ndarray:
    """An (H, W) float32 map repeated over three channels, for same-shape arithmetic with colour."""
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(values, dtype=np.float32), cv2.COLOR_GRAY2RGB))


def disk(radius: int) -> np.ndarray:
    """A round structuring element of the given radius."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def resize_rgba(rgba: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize straight uint8 RGBA through premultiplied colour, so the black that transparent
    pixels of a cutout carry never bleeds into its edges; straight uint8 RGBA out.

    All in 8-bit OpenCV arithmetic (2.5x faster than float at 3000 px): opaque pixels come out
    as a plain resize would make them, half-transparent ones within a level or two, weighted
    by their coverage.
    """
    alpha = cv2.extractChannel(rgba, 3)
    alpha3 = cv2.merge((alpha, alpha, alpha))
    premultiplied = cv2.multiply(cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB), alpha3, scale=1 / 255.0)
    shrinking = width < rgba.shape[1] or height < rgba.shape[0]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    resized = cv2.resize(
        cv2.merge((*cv2.split(premultiplied), alpha)), (width, height), interpolation=interpolation
    )
    new_alpha = cv2.extractChannel(resized, 3)
    coverage = cv2.merge((new_alpha, new_alpha, new_alpha))
    # Cubic overshoot could leave colour brighter than its coverage allows; clamp it back.
    colour = cv2.min(cv2.cvtColor(resized, cv2.COLOR_RGBA2RGB), coverage)
    straight = cv2.divide(colour, coverage, scale=255.0)  # 0 where coverage is 0
    return np.asarray(cv2.merge((*cv2.split(straight), new_alpha)))
