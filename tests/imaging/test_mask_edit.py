"""Mask editing tools: strokes from the canvas layer to full resolution, and each edit operation."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.mask_edit import (
    ADD_RGB,
    ERASE_RGB,
    Strokes,
    apply_strokes,
    coverage,
    feather,
    fill_holes,
    grow,
    invert,
    punch_holes,
    strokes_from_layer,
    to_source,
)


def layer(height: int = 100, width: int = 150) -> np.ndarray:
    return np.zeros((height, width, 4), np.uint8)


def paint(
    target: np.ndarray, rows: slice, cols: slice, colour: tuple[int, int, int], alpha: int = 255
) -> None:
    target[rows, cols, :3] = colour
    target[rows, cols, 3] = alpha


def ring_mask(size: int = 200) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot(yy - size / 2, xx - size / 2)
    return np.where((radius < 70) & (radius > 35), np.uint8(255), np.uint8(0))


def test_strokes_are_read_by_colour_and_only_where_drawn() -> None:
    drawing = layer()
    paint(drawing, slice(10, 20), slice(10, 60), ADD_RGB)
    paint(drawing, slice(50, 60), slice(10, 60), ERASE_RGB)
    paint(drawing, slice(80, 90), slice(10, 60), ERASE_RGB, alpha=60)  # a faint anti-aliased fringe
    strokes = strokes_from_layer(drawing)
    assert strokes.add[15, 30] == 255 and strokes.add[55, 30] == 0
    assert strokes.erase[55, 30] == 255 and strokes.erase[15, 30] == 0
    assert not strokes.erase[85, 30] and not strokes.empty
    assert strokes_from_layer(layer()).empty


def test_a_later_erase_over_an_add_wins_because_the_layer_shows_the_top_stroke() -> None:
    drawing = layer()
    paint(drawing, slice(10, 40), slice(10, 40), ADD_RGB)
    paint(drawing, slice(20, 30), slice(10, 40), ERASE_RGB)
    strokes = strokes_from_layer(drawing)
    assert strokes.erase[25, 20] == 255 and strokes.add[25, 20] == 0 and strokes.add[15, 20] == 255


def test_canvas_strokes_land_at_the_same_place_in_the_full_resolution_mask() -> None:
    canvas = np.zeros((100, 150), np.uint8)
    canvas[40:60, 30:90] = 255  # in canvas pixels; the photo is 4x larger
    full = to_source(canvas, (600, 400))
    assert full.shape == (400, 600)
    assert full[200, 240] == 255 and full[150, 240] == 0
    rows = np.nonzero(full[:, 240])[0]
    assert abs(rows.min() - 160) <= 2 and abs(rows.max() - 239) <= 2
    assert set(np.unique(full)) <= {0, 255}


def test_strokes_are_painted_into_the_mask_at_its_resolution() -> None:
    mask = np.full((400, 600), 255, np.uint8)
    add = np.zeros((100, 150), np.uint8)
    erase = np.zeros((100, 150), np.uint8)
    erase[0:100, 70:80] = 255  # a vertical erase stroke across the product
    edited = apply_strokes(mask, Strokes(add=add, erase=erase))
    assert edited.shape == (400, 600)
    assert (edited[:, 290:310] == 0).all() and (edited[:, :270] == 255).all()


def test_invert_fill_and_punch_holes() -> None:
    ring = ring_mask()
    assert invert(invert(ring)).tolist() == ring.tolist()
    filled = fill_holes(ring)
    assert filled[100, 100] == 255 and filled[5, 5] == 0
    # Punch holes: a photo whose hole shows the grey backdrop gets its hole back.
    photo = np.full((200, 200, 3), 200, np.uint8)
    photo[ring > 0] = (180, 120, 30)
    punched = punch_holes(filled, photo)
    assert punched[100, 100] == 0 and punched[100, 40] == 255 and punched[5, 5] == 0


def test_grow_shrink_and_feather_move_and_soften_the_edge() -> None:
    square = np.zeros((100, 100), np.uint8)
    square[30:70, 30:70] = 255
    assert grow(square, 5)[26, 50] == 255 and square[26, 50] == 0
    assert grow(square, -5)[33, 50] == 0 and square[33, 50] == 255
    soft = feather(square, 6)
    assert 0 < soft[30, 50] < 255 and soft[50, 50] == 255 and soft[5, 5] == 0
    assert grow(square, 0).tolist() == square.tolist() and feather(square, 0).tolist() == square.tolist()


def test_coverage_reports_the_product_share() -> None:
    square = np.zeros((100, 100), np.uint8)
    square[:50] = 255
    assert coverage(square) == pytest.approx(0.5)


def test_a_layer_without_alpha_is_refused() -> None:
    with pytest.raises(ValueError, match="HxWx4"):
        strokes_from_layer(np.zeros((10, 10, 3), np.uint8))
