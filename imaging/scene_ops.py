"""Small float32 array helpers the scene modules share: blurs, channel maps, resizing, rounding.

Everything here works on float32 colour in 0..1. Wide blurs run on a downsampled copy and are
upsampled again (the house trick from `compose.py`): for shadows, depth of field and light maps
the result looks the same and a 1000 px frame stays within a few milliseconds per blur.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imaging.array_ops import resize_rgba as shared_resize_rgba

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive ends)


def blur(image: np.ndarray, sigma_x: float, sigma_y: float | None = None) -> np.ndarray:
    """Gaussian blur; wide blurs run on a downsampled copy (same look, a fraction of the cost)."""
    sigma_y = sigma_x if sigma_y is None else sigma_y
    if sigma_x < 0.25 and sigma_y < 0.25:
        return np.asarray(image, dtype=np.float32)
    sigma_x, sigma_y = max(sigma_x, 0.3), max(sigma_y, 0.3)
    height, width = image.shape[:2]
    fx = max(1.0, sigma_x / 2.5)
    fy = max(1.0, sigma_y / 2.5)
    if fx <= 1.5 and fy <= 1.5:
        return np.asarray(
            cv2.GaussianBlur(image, (0, 0), sigma_x, sigmaY=sigma_y, borderType=cv2.BORDER_REFLECT),
            dtype=np.float32,
        )
    small_w = max(1, int(math.ceil(width / fx)))
    small_h = max(1, int(math.ceil(height / fy)))
    small = cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(
        small,
        (0, 0),
        sigma_x * small_w / width,
        sigmaY=sigma_y * small_h / height,
        borderType=cv2.BORDER_REFLECT,
    )
    return np.asarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


def channels(values: np.ndarray) -> np.ndarray:
    """An (H, W) float32 map repeated over three channels.

    NumPy's (H, W, 1) broadcasting against (H, W, 3) runs a slow length-3 inner loop; OpenCV
    expands the map once and the arithmetic that follows is same-shape and fast.
    """
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(values, dtype=np.float32), cv2.COLOR_GRAY2RGB))


def scale_channels(image: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """image * gains for an (H, W, 3) float32 image and three per-channel gains."""
    planes = cv2.split(image)
    return np.asarray(cv2.merge([planes[c] * np.float32(gains[c]) for c in range(3)]))


def luma(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an (H, W, 3) float image, as (H, W) float32."""
    r, g, b = cv2.split(np.asarray(image, dtype=np.float32))
    return np.asarray(0.299 * r + 0.587 * g + 0.114 * b, dtype=np.float32)


def luma_of(colour: np.ndarray) -> float:
    return float(0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2])


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - np.float32(edge0)) / np.float32(edge1 - edge0), 0.0, 1.0).astype(np.float32)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """0..1 float colour to uint8, rounded and saturated, in one OpenCV pass.

    Values are never below 0 here (light and colour are products of non-negative terms), so
    `convertScaleAbs`'s absolute value changes nothing.
    """
    return np.asarray(cv2.convertScaleAbs(values, alpha=255.0))


def resize_rgba(rgba: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Resize uint8 straight RGBA through premultiplied colour; returns (straight rgb 0..1, alpha 0..1).

    Premultiplying keeps a half-transparent edge's own colour instead of the black that
    transparent pixels of a cutout usually carry.
    """
    if (width, height) != (rgba.shape[1], rgba.shape[0]):
        rgba = shared_resize_rgba(rgba, width, height)
    pixels = rgba.astype(np.float32) * np.float32(1 / 255.0)
    return np.ascontiguousarray(pixels[..., :3]), np.ascontiguousarray(pixels[..., 3])


def clip_rect(rect: tuple[float, float, float, float], width: int, height: int) -> Rect:
    """A float rectangle (x0, y0, x1, y1) rounded outwards and clipped to the frame."""
    x0, y0, x1, y1 = rect
    return (
        max(0, int(math.floor(x0))),
        max(0, int(math.floor(y0))),
        min(width, int(math.ceil(x1))),
        min(height, int(math.ceil(y1))),
    )


def warp_region(
    source: np.ndarray, matrix: np.ndarray, rect: Rect, *, border: int = cv2.BORDER_CONSTANT
) -> np.ndarray:
    """Warp `source` by the 3x3 `matrix` (source px -> frame px) into the frame rectangle `rect`."""
    x0, y0, x1, y1 = rect
    shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])
    local = shift @ matrix
    return np.asarray(
        cv2.warpPerspective(
            source,
            local,
            (x1 - x0, y1 - y0),
            flags=cv2.INTER_LINEAR,
            borderMode=border,
            borderValue=0,
        ),
        dtype=np.float32,
    )


def inverse_warp(
    source: np.ndarray,
    frame_to_source: np.ndarray,
    rect: Rect,
    *,
    border: int = cv2.BORDER_REFLECT,
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """Sample `source` at `frame_to_source` (frame px -> source px) for every pixel of `rect`."""
    x0, y0, x1, y1 = rect
    shift = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0], [0.0, 0.0, 1.0]])
    local = frame_to_source @ shift
    return np.asarray(
        cv2.warpPerspective(
            source,
            local,
            (x1 - x0, y1 - y0),
            flags=interpolation | cv2.WARP_INVERSE_MAP,
            borderMode=border,
        ),
        dtype=np.float32,
    )
