"""imaging.quality: the metrics the cutout tests and benchmarks rely on."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.quality import boundary_halo, iou, is_pure_white


def square(offset: int = 0) -> np.ndarray:
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10 + offset : 30 + offset] = 255
    return mask


def test_iou() -> None:
    assert iou(square(), square()) == 1.0
    assert iou(square(), square(10)) == pytest.approx(200 / 600)
    assert iou(square(), np.zeros((40, 40), np.uint8)) == 0.0
    assert iou(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8)) == 1.0
    soft = square().astype(np.float32) / 255 * 0.6  # 0.6 >= 128/255: still product
    assert iou(soft, square()) == 1.0
    assert iou(square() > 0, square()) == 1.0
    with pytest.raises(ValueError, match="same shape"):
        iou(square(), np.zeros((10, 10), np.uint8))


def test_boundary_halo_sees_a_fringe() -> None:
    alpha = square()
    backdrop = np.full((40, 40, 3), 255, np.uint8)
    clean = backdrop.copy()
    clean[alpha > 0] = (100, 50, 20)
    assert boundary_halo(clean, alpha, backdrop) == 0.0
    fringed = clean.copy()
    fringed[8:32, 8:10] = (30, 200, 40)  # two columns of old green just left of the product
    assert boundary_halo(fringed, alpha, backdrop) > 10.0
    with pytest.raises(ValueError, match="one size"):
        boundary_halo(clean, alpha[:10], backdrop)


def test_is_pure_white() -> None:
    rgb = np.full((10, 10, 3), 255, np.uint8)
    region = np.zeros((10, 10), bool)
    region[:, :5] = True
    assert is_pure_white(rgb, region)
    rgb[5, 7] = (254, 255, 255)  # outside the region: does not matter
    assert is_pure_white(rgb, region)
    rgb[5, 2] = (255, 255, 254)  # one step off white inside the region
    assert not is_pure_white(rgb, region)
    assert is_pure_white(rgb, np.zeros((10, 10), bool))
