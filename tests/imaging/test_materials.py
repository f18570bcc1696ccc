"""Materials look like photographs of what they are called, at physical scale, reproducibly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.materials import (
    MATERIAL_KINDS,
    MaterialError,
    MaterialLook,
    material_look,
    render_material,
)

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _grey(image: np.ndarray) -> np.ndarray:
    return np.asarray(image @ LUMA, dtype=np.float32)


def _correlation_length(image: np.ndarray) -> int:
    """Radius in px at which the grey image's autocorrelation falls to one half (feature size)."""
    grey = cv2.GaussianBlur(_grey(image), (0, 0), 1.5)
    grey -= grey.mean()
    spectrum = np.fft.fft2(grey)
    correlation = np.real(np.fft.ifft2(np.abs(spectrum) ** 2))
    correlation /= correlation[0, 0]
    height, width = grey.shape
    yy, xx = np.meshgrid(np.fft.fftfreq(height) * height, np.fft.fftfreq(width) * width, indexing="ij")
    radius = np.hypot(xx, yy).astype(int).ravel()
    profile = np.bincount(radius, correlation.ravel()) / np.bincount(radius)
    return int(np.flatnonzero(profile < 0.5)[0])


@pytest.mark.parametrize("kind", MATERIAL_KINDS)
def test_every_kind_renders_at_an_odd_size_as_float_rgb_in_range(kind: str) -> None:
    image = render_material(kind, (161, 97), seed=3)  # type: ignore[arg-type]
    assert image.shape == (97, 161, 3)
    assert image.dtype == np.float32
    assert image.flags["C_CONTIGUOUS"]
    assert np.isfinite(image).all()
    assert image.min() >= 0.0 and image.max() <= 1.0


@pytest.mark.parametrize("kind", MATERIAL_KINDS)
def test_tiny_and_extreme_scales_render(kind: str) -> None:
    for size, px_per_cm in (((1, 1), 10.0), ((64, 48), 0.5), ((64, 48), 500.0)):
        image = render_material(kind, size, seed=1, px_per_cm=px_per_cm)  # type: ignore[arg-type]
        assert image.shape == (size[1], size[0], 3)
        assert np.isfinite(image).all()


@pytest.mark.parametrize("kind", MATERIAL_KINDS)
def test_same_seed_same_bytes_and_another_seed_another_surface(kind: str) -> None:
    first = render_material(kind, (200, 150), seed=42)  # type: ignore[arg-type]
    again = render_material(kind, (200, 150), seed=42)  # type: ignore[arg-type]
    other = render_material(kind, (200, 150), seed=43)  # type: ignore[arg-type]
    assert first.tobytes() == again.tobytes()
    assert np.abs(first - other).mean() > 0.001, f"{kind}: seeds 42 and 43 look the same"


@pytest.mark.parametrize("kind", MATERIAL_KINDS)
def test_no_colours_means_the_default_palette(kind: str) -> None:
    look = material_look(kind)  # type: ignore[arg-type]
    implicit = render_material(kind, (96, 96), seed=5)  # type: ignore[arg-type]
    explicit = render_material(kind, (96, 96), seed=5, colors=look.default_colors)  # type: ignore[arg-type]
    assert implicit.tobytes() == explicit.tobytes()


@pytest.mark.parametrize("kind", [k for k in MATERIAL_KINDS if k != "wood"])
def test_the_base_colour_is_the_surface_colour(kind: str) -> None:
    base = (90, 140, 200)
    image = render_material(kind, (256, 256), seed=3, colors=(base,))  # type: ignore[arg-type]
    # The median, not the mean: terrazzo chips and marble veins are accents, the base dominates.
    median = np.median(image.reshape(-1, 3), axis=0) * 255.0
    assert np.abs(median - np.array(base)).max() < 8.0, f"{kind}: median {median} is not {base}"


def test_wood_lies_between_its_early_and_late_wood_colours() -> None:
    light, late = (220, 180, 120), (120, 70, 40)
    image = render_material("wood", (300, 300), seed=3, colors=(light, late)) * 255.0
    mean = image.reshape(-1, 3).mean(axis=0)
    assert (mean < np.array(light) + 2).all() and (mean > np.array(late)).all()
    # Hue follows the palette: red > green > blue, as in both colours.
    assert mean[0] > mean[1] > mean[2]


def test_marble_accent_colour_appears_in_the_veins() -> None:
    gold = (200, 160, 60)
    plain = render_material("marble", (300, 300), seed=2, colors=((240, 238, 235), (110, 110, 115)))
    accented = render_material("marble", (300, 300), seed=2, colors=((240, 238, 235), (110, 110, 115), gold))
    yellowness = (accented[..., 0] + accented[..., 1]) / 2 - accented[..., 2]
    before = (plain[..., 0] + plain[..., 1]) / 2 - plain[..., 2]
    assert (yellowness > 0.12).mean() > 0.002
    assert (before > 0.12).mean() == 0.0


def test_looks_are_physical() -> None:
    for kind in MATERIAL_KINDS:
        look = material_look(kind)  # type: ignore[arg-type]
        assert isinstance(look, MaterialLook)
        assert 0.0 <= look.gloss <= 1.0 and 0.0 <= look.sheen <= 1.0
        assert look.default_colors, kind
    assert material_look("marble").gloss > material_look("wood").gloss > material_look("linen").gloss
    assert material_look("linen").gloss == 0.0


@pytest.mark.parametrize("kind", MATERIAL_KINDS)
def test_more_pixels_per_cm_means_larger_features(kind: str) -> None:
    """The same surface seen closer: features cover more pixels. Without physical scale the
    correlation length would not change with px_per_cm (ratio ~1)."""
    near, far = [], []
    for seed in (1, 2, 3):
        far.append(_correlation_length(render_material(kind, (384, 384), seed, px_per_cm=1.5)))  # type: ignore[arg-type]
        near.append(_correlation_length(render_material(kind, (384, 384), seed, px_per_cm=6.0)))  # type: ignore[arg-type]
    assert np.mean(near) > 1.3 * np.mean(far), f"{kind}: {near} px at 6 px/cm vs {far} px at 1.5 px/cm"


def _vein_softness(grey: np.ndarray) -> float:
    """The steepest edges (99.9th percentile of the gradient) relative to the veins' depth."""
    gy, gx = np.gradient(grey)
    depth = float(np.median(grey) - np.percentile(grey, 0.1))
    return float(np.percentile(np.hypot(gx, gy), 99.9)) / depth


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_marble_veins_are_soft_not_hard_lines(seed: int) -> None:
    grey = _grey(render_material("marble", (512, 512), seed, px_per_cm=20.0))
    veins = grey < np.median(grey) - 0.1
    assert 0.003 < veins.mean() < 0.25, "marble should be veined, on a dominant light base"
    assert _vein_softness(grey) < 0.3
    # The measure bites: a ruled one-pixel line of the same darkness is far steeper.
    ruled = grey.copy()
    ruled[256, :] = np.percentile(grey, 0.1)
    ruled[:, 200] = np.percentile(grey, 0.1)
    assert _vein_softness(ruled) > 0.45


def test_marble_has_several_vein_widths() -> None:
    grey = _grey(render_material("marble", (768, 768), seed=4, px_per_cm=20.0))
    dark = (grey < np.median(grey) - 0.08).astype(np.uint8)
    # Distance to the vein's edge at its centre line = half its width.
    half_widths = cv2.distanceTransform(dark, cv2.DIST_L2, 5)[dark > 0]
    assert np.percentile(half_widths, 99) > 2.5 * max(1.0, float(np.percentile(half_widths, 50)))


def test_wood_has_plank_seams_at_plank_spacing() -> None:
    px_per_cm = 8.0
    for seed in (1, 2, 3):
        grey = _grey(render_material("wood", (600, 900), seed, px_per_cm=px_per_cm))
        rows = grey.mean(axis=1)
        # A seam is a dark gap along the whole row; straight grain darkens a row far less.
        seams = np.flatnonzero(rows < np.median(rows) - 0.2)
        groups = np.split(seams, np.flatnonzero(np.diff(seams) > 3) + 1)
        centres = np.array([g.mean() for g in groups if g.size])
        spacing_cm = np.diff(centres) / px_per_cm
        assert len(centres) >= 5, f"seed {seed}: {len(centres)} seams"
        assert (spacing_cm > 9.5).all() and (spacing_cm < 15.5).all(), spacing_cm
        # One floor, one plank width.
        assert spacing_cm.std() < 0.3


def test_wood_grain_runs_along_x() -> None:
    grey = _grey(render_material("wood", (500, 500), seed=4))
    along = np.abs(np.diff(grey, axis=1)).mean()
    across = np.abs(np.diff(grey, axis=0)).mean()
    assert across > 1.5 * along


def test_concrete_is_cloudy_not_speckled() -> None:
    grey = _grey(render_material("concrete", (512, 512), seed=5, px_per_cm=10.0))
    # Speckle: pixels far from their 5x5 neighbourhood. Granite has many; cast concrete a few pores.
    local = cv2.medianBlur(np.clip(grey * 255, 0, 255).astype(np.uint8), 5).astype(np.float32) / 255.0
    outliers = np.abs(grey - local) > 0.06
    assert outliers.mean() < 0.004
    # Cloudy: a clear low-frequency tone variation survives heavy smoothing.
    clouds = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA)
    assert clouds.std() > 0.015
    pores = (grey < local - 0.06).astype(np.uint8)
    count = cv2.connectedComponents(pores)[0] - 1
    assert 3 <= count <= 400


def test_terrazzo_has_chips_of_several_colours_and_sizes() -> None:
    px_per_cm = 10.0
    base = (228, 224, 216)
    chips = ((60, 60, 62), (185, 110, 85), (150, 150, 146))
    image = (
        render_material("terrazzo", (500, 500), seed=6, colors=(base, *chips), px_per_cm=px_per_cm) * 255.0
    )
    distance = np.linalg.norm(image - np.array(base), axis=2)
    chip_mask = (distance > 40).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(chip_mask)
    areas = stats[1:, cv2.CC_STAT_AREA]
    diameters_cm = 2 * np.sqrt(areas / np.pi) / px_per_cm
    assert count > 200
    assert 0.25 < np.median(diameters_cm) < 1.5
    assert diameters_cm.max() > 1.2  # a few big chips among the small ones
    assert 0.1 < chip_mask.mean() < 0.55
    # Every chip colour is there.
    for colour in chips:
        near = np.linalg.norm(image - np.array(colour), axis=2) < 30
        assert near.mean() > 0.01, colour


def test_linen_shows_its_weave_up_close_and_no_moire_from_afar() -> None:
    close = _grey(render_material("linen", (256, 256), seed=2, px_per_cm=40.0))
    # Threads 1 mm apart = 4 px: a strong spectral peak near 1/4 cycles per px along both axes.
    for axis in (0, 1):
        profile = close.mean(axis=1 - axis)
        spectrum = np.abs(np.fft.rfft(profile - profile.mean()))
        peak = int(np.argmax(spectrum[20:])) + 20
        assert 3.0 < 256 / peak < 5.0
        assert spectrum[peak] > 6 * np.median(spectrum[1:])
    # At 10 px/cm threads are 1 px apart: drawing them would alias; no narrow high peak may appear.
    far = _grey(render_material("linen", (256, 256), seed=2, px_per_cm=10.0))
    for axis in (0, 1):
        profile = far.mean(axis=1 - axis)
        spectrum = np.abs(np.fft.rfft(profile - profile.mean()))[20:]
        assert spectrum.max() < 6 * np.median(spectrum)


@pytest.mark.parametrize("kind", ["linen", "cotton"])
def test_fabric_has_soft_folds(kind: str) -> None:
    grey = _grey(render_material(kind, (512, 512), seed=3, px_per_cm=10.0))  # type: ignore[arg-type]
    folds = cv2.GaussianBlur(grey, (0, 0), 6.0)
    assert folds.std() > 0.008
    # Folds are smooth: the blurred shading has no steps.
    assert np.abs(np.diff(folds, axis=0)).max() < 0.02


def test_paper_and_plain_are_very_subtle() -> None:
    for kind, limit in (("paper", 0.02), ("plain", 0.012)):
        grey = _grey(render_material(kind, (300, 300), seed=1))  # type: ignore[arg-type]
        assert 0.0005 < grey.std() < limit, kind


def test_sand_has_grain_and_ripples() -> None:
    grey = _grey(render_material("sand", (512, 512), seed=2, px_per_cm=10.0))
    grain = grey - cv2.GaussianBlur(grey, (0, 0), 1.0)
    ripples = cv2.GaussianBlur(grey, (0, 0), 3.0)
    assert grain.std() > 0.01
    assert ripples.std() > 0.02


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kind": "velvet"}, "unknown material kind"),
        ({"size": (0, 10)}, "out of range"),
        ({"size": (10, 9000)}, "out of range"),
        ({"size": (5000, 5000)}, "Mpx"),
        ({"size": ("wide", 10)}, "width, height"),
        ({"size": (10,)}, "width, height"),
        ({"colors": ((300, 0, 0),)}, "0-255"),
        ({"colors": ((1, 2),)}, "0-255"),
        ({"colors": ((1.5, 2, 3),)}, "0-255"),
        ({"colors": ((1, 2, 3),) * 7}, "at most"),
        ({"px_per_cm": 0.0}, "px_per_cm"),
        ({"px_per_cm": float("nan")}, "px_per_cm"),
        ({"px_per_cm": 1e6}, "px_per_cm"),
        ({"px_per_cm": "ten"}, "px_per_cm"),
        ({"seed": "7"}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(kwargs: dict[str, object], needle: str) -> None:
    arguments: dict[str, object] = {"kind": "marble", "size": (32, 32), "seed": 1, **kwargs}
    with pytest.raises(MaterialError, match=needle) as caught:
        render_material(**arguments)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)


def test_material_look_rejects_unknown_kinds() -> None:
    with pytest.raises(MaterialError, match="unknown material kind"):
        material_look("velvet")  # type: ignore[arg-type]
