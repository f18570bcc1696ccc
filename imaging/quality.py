"""Quality measures for cut-outs and composites, used by tests, benchmarks and output checks.

- `iou`: overlap of two masks (cutout accuracy against a ground truth);
- `boundary_halo`: how far the few pixels just outside the product's edge are
  from the new backdrop after compositing, i.e. how much old-background fringe
  or dark rim is left around the product;
- `is_pure_white`: whether a region is exactly RGB 255 (marketplace rule);
- `edge_scores`: halo, fringe and body of a cut-out composed on pure white in
  place, against the photo and its true alpha (issue 12's measures).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_HALO_BAND_PX = 3
# Issue 12's rings, in pixels from the true edge (binarised at 128).
_HALO_RING = (2.0, 5.0)  # outside
_FRINGE_RING = (2.0, 4.0)  # inside
_BODY_FROM = 4.0  # inside, beyond this


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


@dataclass(frozen=True)
class EdgeScores:
    """Mean absolute difference per channel (0..255) in three zones around the true edge."""

    halo: float  # the composite vs pure white, 2..5 px outside the true edge
    fringe: float  # the composite vs the photo, 2..4 px inside
    body: float  # the composite vs the photo, more than 4 px inside


def edge_scores(output_rgb: np.ndarray, photo_rgb: np.ndarray, true_alpha: np.ndarray) -> EdgeScores:
    """Score a cut-out composed on pure white at the photo's place against the photo and its true alpha.

    A perfect cutout leaves white outside (halo 0) and the photo's own pixels
    inside (fringe and body 0). The first pixel on either side of the edge is
    not scored: there the truth itself is a mix. Zones with no pixels score 0.
    """
    if output_rgb.shape != photo_rgb.shape or output_rgb.shape[:2] != true_alpha.shape:
        raise ValueError(
            f"edge_scores needs an output, a photo and an alpha of one size, got "
            f"{output_rgb.shape}, {photo_rgb.shape} and {true_alpha.shape}"
        )
    product = _binary(true_alpha, 128).astype(np.uint8)
    inside = cv2.distanceTransform(product, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform(1 - product, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    out = output_rgb.astype(np.int16)

    def mean_difference(zone: np.ndarray, reference: np.ndarray | None) -> float:
        if not zone.any():
            return 0.0
        target = 255 if reference is None else reference[zone].astype(np.int16)
        return float(np.abs(out[zone] - target).mean())

    halo = mean_difference((outside >= _HALO_RING[0]) & (outside <= _HALO_RING[1]), None)
    fringe = mean_difference((inside >= _FRINGE_RING[0]) & (inside <= _FRINGE_RING[1]), photo_rgb)
    body = mean_difference(inside > _BODY_FROM, photo_rgb)
    return EdgeScores(halo=halo, fringe=fringe, body=body)


def on_white(rgba: np.ndarray) -> np.ndarray:
    """An RGBA cut-out composed on pure white where it stands (uint8 HxWx3)."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"on_white needs an HxWx4 uint8 image, got {rgba.shape} {rgba.dtype}")
    alpha = rgba[..., 3:].astype(np.float32) * np.float32(1 / 255)
    composite = rgba[..., :3].astype(np.float32) * alpha + np.float32(255) * (1 - alpha)
    return np.clip(composite + 0.5, 0, 255).astype(np.uint8)


def _binary(mask: np.ndarray, threshold: int) -> np.ndarray:
    if mask.dtype == np.bool_:
        return mask
    if mask.dtype.kind == "f":
        return np.asarray(mask >= threshold / 255.0)
    return np.asarray(mask >= threshold)
