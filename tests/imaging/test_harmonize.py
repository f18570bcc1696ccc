"""Harmonisation: the product moves part-way towards the scene's light and stays itself."""

from __future__ import annotations

import colorsys

import cv2
import numpy as np
import pytest

from imaging.harmonize import (
    MAX_SOFTEN_PX,
    HarmonizeSpec,
    harmonize,
    noise_sigma,
    product_cast,
    wrap_band,
)
from imaging.scene_light import tint

COLOUR_ONLY = HarmonizeSpec(light_wrap=0.0, grain=0.0, sharpness=0.0)


def _product(
    colour: tuple[float, float, float], size: int = 120, *, texture: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """A rounded box of `colour` (0..1) with soft edges; optional mild texture."""
    rng = np.random.default_rng(3)
    alpha = np.zeros((size, size), np.float32)
    cv2.rectangle(alpha, (15, 10), (size - 16, size - 11), 1.0, -1)
    alpha = np.asarray(cv2.GaussianBlur(alpha, (0, 0), 1.0), np.float32)
    rgb = np.empty((size, size, 3), np.float32)
    rgb[:] = colour
    if texture:
        shade = cv2.GaussianBlur(rng.random((size, size), dtype=np.float32), (0, 0), 3.0)
        rgb *= (1.0 + texture * (shade - shade.mean()) * 8)[..., None]
    return np.clip(rgb, 0, 1).astype(np.float32), alpha


def _background(colour: tuple[float, float, float], size: int = 120) -> np.ndarray:
    return np.full((size, size, 3), colour, np.float32)


def _hue(rgb: np.ndarray) -> float:
    return colorsys.rgb_to_hsv(*(float(v) for v in rgb))[0]


def _interior(alpha: np.ndarray, margin: int = 8) -> np.ndarray:
    solid = (alpha > 0.99).astype(np.uint8)
    return cv2.erode(solid, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) > 0


def test_a_red_product_stays_red_on_a_blue_scene() -> None:
    rgb, alpha = _product((0.8, 0.12, 0.1))
    blue_light = tint(12000, 1.0)
    out = harmonize(
        rgb, alpha, _background((0.2, 0.3, 0.8)), blue_light, HarmonizeSpec(white_balance=1.0), seed=1
    )
    before = rgb[_interior(alpha)].mean(axis=0)
    after = out.rgb[_interior(alpha)].mean(axis=0)
    assert after[0] > 2.5 * max(after[1], after[2])
    assert abs(_hue(after) - _hue(before)) < 0.03
    # It did move towards the blue light, only a little.
    assert after[2] / after[0] > before[2] / before[0]
    assert np.all(out.gains <= 1.2) and np.all(out.gains >= 0.8)


def test_a_warm_cup_on_cool_marble_moves_towards_neutral_by_a_bounded_amount() -> None:
    warm = (0.92, 0.84, 0.70)
    rgb, alpha = _product(warm, texture=0.05)
    cool_light = tint(7000, 0.6)
    out = harmonize(rgb, alpha, _background((0.86, 0.88, 0.92)), cool_light, COLOUR_ONLY, seed=2)
    inside = _interior(alpha)
    before = rgb[inside].mean(axis=0)
    after = out.rgb[inside].mean(axis=0)
    assert after[2] / after[0] > before[2] / before[0] * 1.05  # cooler
    assert after[2] / after[0] < 1.0  # still a warm white, not blue
    change = np.abs(after / before - 1.0)
    assert change.max() < 0.16


def test_white_balance_reads_the_neutral_parts_of_the_product() -> None:
    warm_white, alpha = _product((0.95, 0.85, 0.7))
    saturated, _ = _product((0.85, 0.2, 0.1))
    solid = alpha > 0.9
    # A white cup shows its warm cast; a saturated red says little about the light.
    assert product_cast(warm_white, solid)[0] / product_cast(warm_white, solid)[2] > 1.15
    red_cast = product_cast(saturated, solid)
    assert red_cast[0] / red_cast[2] < 1.3


def test_interior_pixels_stay_close_to_the_original() -> None:
    rgb, alpha = _product((0.55, 0.5, 0.45), texture=0.1)
    scene = _background((0.7, 0.72, 0.75))
    out = harmonize(rgb, alpha, scene, tint(6500, 0.6), HarmonizeSpec(), seed=3, reference=scene)
    inside = _interior(alpha, margin=wrap_band(alpha) + 2)
    assert float(np.abs(out.rgb[inside] - rgb[inside]).mean()) < 0.04


def test_exposure_is_pulled_only_a_little() -> None:
    dark, alpha = _product((0.08, 0.08, 0.08))
    out = harmonize(dark, alpha, _background((0.8, 0.8, 0.8)), np.ones(3), COLOUR_ONLY, seed=4)
    ratio = float(out.rgb[_interior(alpha)].mean() / dark[_interior(alpha)].mean())
    assert 1.02 < ratio <= 1.2 + 1e-6


def test_light_wrap_bleeds_background_into_the_edge_only() -> None:
    rgb, alpha = _product((0.1, 0.1, 0.1))
    bright = _background((1.0, 1.0, 1.0))
    out = harmonize(
        rgb,
        alpha,
        bright,
        np.ones(3),
        HarmonizeSpec(white_balance=0, exposure=0, grain=0, sharpness=0),
        seed=5,
    )
    edge_row = 60
    edge_col = int(np.flatnonzero(alpha[edge_row] > 0.5)[0])
    edge = out.rgb[edge_row, edge_col]
    centre = out.rgb[edge_row, 60]
    assert edge.mean() > rgb[edge_row, edge_col].mean() + 0.05
    assert np.allclose(centre, rgb[edge_row, 60], atol=1e-6)


def test_grain_matches_a_noisy_scene_and_stays_off_a_clean_one() -> None:
    rng = np.random.default_rng(9)
    rgb, alpha = _product((0.5, 0.5, 0.5), size=160)
    noisy = np.clip(0.5 + rng.normal(0, 0.01, (160, 160, 1)).astype(np.float32), 0, 1).repeat(3, axis=2)
    clean = _background((0.5, 0.5, 0.5), 160)
    spec = HarmonizeSpec(white_balance=0, exposure=0, light_wrap=0, sharpness=0)
    with_grain = harmonize(rgb, alpha, clean, np.ones(3), spec, seed=6, reference=noisy)
    without = harmonize(rgb, alpha, clean, np.ones(3), spec, seed=6, reference=clean)
    inside = _interior(alpha)
    measured = noise_sigma(with_grain.rgb[..., 1], inside)
    assert measured == pytest.approx(0.01, rel=0.4)
    assert without.grain_sigma == 0.0
    assert np.array_equal(without.rgb[inside], rgb[inside])


def test_a_crisp_product_is_softened_a_little_in_a_soft_scene() -> None:
    rng = np.random.default_rng(10)
    rgb, alpha = _product((0.5, 0.5, 0.5), size=160)
    detail = rng.random((160, 160), dtype=np.float32)
    rgb = np.clip(rgb * (0.6 + 0.8 * detail)[..., None], 0, 1).astype(np.float32)
    scene_detail = rng.random((160, 160), dtype=np.float32)
    sharp_scene = np.repeat((0.3 + 0.4 * scene_detail)[..., None], 3, axis=2)
    soft_scene = cv2.GaussianBlur(sharp_scene, (0, 0), 1.6)
    spec = HarmonizeSpec(white_balance=0, exposure=0, light_wrap=0, grain=0)
    softened = harmonize(rgb, alpha, soft_scene, np.ones(3), spec, seed=7, reference=soft_scene)
    kept = harmonize(rgb, alpha, sharp_scene, np.ones(3), spec, seed=7, reference=sharp_scene)
    assert 0.25 <= softened.soften_px <= MAX_SOFTEN_PX
    assert kept.soften_px == 0.0
