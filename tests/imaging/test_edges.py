"""Edge-guide elements: soft outlines in colour, the element in alpha, black outside, at the asked size."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.edges import edge_element, soft_edges


def leaf(width: int = 200, height: int = 160) -> np.ndarray:
    """A green disc with a darker vein on transparency."""
    rgba = np.zeros((height, width, 4), np.uint8)
    yy, xx = np.mgrid[:height, :width]
    inside = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 3) ** 2
    rgba[inside] = (60, 170, 60, 255)
    rgba[inside & (np.abs(xx - width / 2) < 2)] = (20, 80, 20, 255)
    return rgba


def test_soft_edges_are_bright_on_outlines_and_dark_on_flat_areas() -> None:
    image = np.full((100, 100, 3), 200, np.uint8)
    image[30:70, 30:70] = 40
    edges = soft_edges(image)
    assert edges[30, 50] > 150 and edges[50, 30] > 150  # the square's sides
    assert edges[50, 50] < 20 and edges[5, 5] < 20  # inside and outside are flat


def test_an_element_becomes_edges_in_colour_and_its_cutout_in_alpha() -> None:
    element = leaf()
    guide = edge_element(element, (200, 160))
    assert guide.shape == (160, 200, 4) and guide.dtype == np.uint8
    np.testing.assert_array_equal(guide[..., 3], element[..., 3])
    # Grey edges (R = G = B), bright on the vein, black where the element is not.
    assert (guide[..., 0] == guide[..., 1]).all() and (guide[..., 1] == guide[..., 2]).all()
    assert guide[80, 94:107, 0].max() > 100 and guide[80, 70, 0] < guide[80, 94:107, 0].max() / 2
    assert (guide[element[..., 3] <= 50][:, :3] == 0).all()


def test_the_guide_is_scaled_to_the_product_photo() -> None:
    guide = edge_element(leaf(100, 80), (400, 320))
    assert guide.shape == (320, 400, 4)
    assert guide[..., 3].max() == 255 and guide[0, 0, 3] == 0


def test_a_non_rgba_input_is_refused() -> None:
    with pytest.raises(ValueError, match="HxWx4"):
        edge_element(np.zeros((10, 10, 3), np.uint8), (10, 10))
