"""Quality measures for cut-outs and composites, used by tests, benchmarks and output checks.

- `iou`: overlap of two masks (cutout accuracy against a ground truth);
- `boundary_halo`: how far the few pixels just outside the product's edge are
  from the new backdrop after compositing, i.e. how much old-background fringe
  or dark rim is left around the product;
- `is_pure_white`: whether a region is exactly RGB 255 (marketplace rule).
"""

from __future__ import annotations

import cv2
import numpy as np

_HALO_BAND_PX = 3


def iou(a: np.ndarray, b: np.ndarray, threshold: int = 128) -> float:
    """Intersection over union of two masks binarised at `threshold` (uint8 0..255, or bool).

    Float masks are read as 0..1 and binarised at threshold / 255. Two empty
    masks agree perfectly (1.0).
    """
    if a.shape != b.shape:
        raise ValueError(f"iou needs masks of the same shape, got {a.shape} and {b.shape}")
    first, second = _binary(a, threshold), _binary(b, threshold)
    union = int(np.count_nonzero(first | second))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(first & second)) / union


def boundary_halo(rgb_out: np.ndarray, alpha: np.ndarray, backdrop_rgb: np.ndarray) -> float:
    """Mean colour difference (0..255, averaged over channels) between the composite and the backdrop
    in the 3-pixel band just outside the product's edge.

    Where alpha is 0 the composite should be the backdrop exactly; in the
    partly transparent rim it legitimately carries some product colour, so
    compare results against each other (e.g. with and without a fix), not
    against zero. 0.0 when the product has no outside edge.
    """
    if rgb_out.shape != backdrop_rgb.shape or rgb_out.shape[:2] != alpha.shape:
        raise ValueError(
            f"boundary_halo needs a composite, alpha and backdrop of one size, got "
            f"{rgb_out.shape}, {alpha.shape} and {backdrop_rgb.shape}"
        )
    product = _binary(alpha, 128).astype(np.uint8)
    size = 2 * _HALO_BAND_PX + 1
    ring = cv2.dilate(product, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))).astype(bool)
    band = ring & ~product.astype(bool)
    if not band.any():
        return 0.0
    difference = np.abs(rgb_out[band].astype(np.int16) - backdrop_rgb[band].astype(np.int16))
    return float(difference.mean())


def is_pure_white(rgb: np.ndarray, region_mask: np.ndarray) -> bool:
    """True when every pixel of `region_mask` (nonzero / True) in `rgb` is exactly (255, 255, 255).

    An empty region holds no non-white pixel, so it counts as white.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[:2] != region_mask.shape:
        raise ValueError(
            f"is_pure_white needs HxWx3 and HxW of one size, got {rgb.shape} and {region_mask.shape}"
        )
    region = region_mask.astype(bool)
    return bool(np.all(rgb[region] == 255))


def _binary(mask: np.ndarray, threshold: int) -> np.ndarray:
    if mask.dtype == np.bool_:
        return mask
    if mask.dtype.kind == "f":
        return np.asarray(mask >= threshold / 255.0)
    return np.asarray(mask >= threshold)
