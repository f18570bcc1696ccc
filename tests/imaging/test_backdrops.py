"""Backdrops look like what they are called, at any size, reproducibly from the seed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.backdrops import BACKDROP_KINDS, BackdropError, BackdropSpec, render_backdrop

ODD_SIZE = (801, 599)
TEXTURES = ("marble", "wood", "linen", "concrete", "paper")


def _photo() -> np.ndarray:
    """A 400x200 photo with a filled circle in the middle, to see stretching."""
    photo = np.full((200, 400, 3), 40, dtype=np.uint8)
    cv2.circle(photo, (200, 100), 60, (250, 250, 250), -1)
    return photo


SPECS: dict[str, BackdropSpec] = {
    "white": BackdropSpec("white"),
    "solid": BackdropSpec("solid", ((200, 60, 70),)),
    "linear": BackdropSpec("linear", ((250, 180, 120), (110, 80, 160))),
    "radial": BackdropSpec("radial", ((200, 225, 255), (20, 50, 120))),
    "sweep": BackdropSpec("sweep", ((238, 238, 238), (210, 210, 214))),
    "marble": BackdropSpec("marble", ((240, 238, 234), (130, 130, 135))),
    "wood": BackdropSpec("wood", ((200, 150, 100), (130, 80, 45)), angle_deg=0),
    "linen": BackdropSpec("linen", ((225, 215, 195),)),
    "concrete": BackdropSpec("concrete", ((175, 175, 172),)),
    "paper": BackdropSpec("paper", ((190, 150, 105),)),
    "photo": BackdropSpec("photo", photo=_photo()),
}


def _grey(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def test_every_kind_has_a_spec_here() -> None:
    assert set(SPECS) == set(BACKDROP_KINDS)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_every_kind_renders_at_an_odd_size(kind: str) -> None:
    image = render_backdrop(SPECS[kind], ODD_SIZE, seed=3)
    assert image.shape == (599, 801, 3)
    assert image.dtype == np.uint8
    assert image.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_same_seed_gives_identical_bytes(kind: str) -> None:
    first = render_backdrop(SPECS[kind], (300, 200), seed=42)
    second = render_backdrop(SPECS[kind], (300, 200), seed=42)
    assert first.tobytes() == second.tobytes()


def test_white_is_exactly_255_everywhere_even_with_effects_requested() -> None:
    spec = BackdropSpec("white", ((10, 20, 30),), vignette=1.0, grain=1.0)
    image = render_backdrop(spec, ODD_SIZE, seed=9)
    assert (image == 255).all()


def test_solid_without_grain_is_the_exact_colour() -> None:
    image = render_backdrop(BackdropSpec("solid", ((12, 200, 99),)), (64, 48), seed=1)
    assert (image == np.array([12, 200, 99], dtype=np.uint8)).all()


@pytest.mark.parametrize("kind", TEXTURES)
def test_textures_are_not_flat_and_change_with_the_seed(kind: str) -> None:
    a = render_backdrop(SPECS[kind], (400, 400), seed=1)
    b = render_backdrop(SPECS[kind], (400, 400), seed=2)
    assert _grey(a).std() > 4.0, f"{kind} looks flat"
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 3.0, f"{kind} variants look the same"


def test_textures_differ_from_each_other_with_the_same_colour() -> None:
    base = ((200, 190, 170), (120, 110, 100))
    images = {kind: _grey(render_backdrop(BackdropSpec(kind, base), (300, 300), seed=5)) for kind in TEXTURES}  # type: ignore[arg-type]
    kinds = list(images)
    for i, first in enumerate(kinds):
        for second in kinds[i + 1 :]:
            difference = np.abs(images[first] - images[second]).mean()
            assert difference > 3.0, f"{first} and {second} look alike"


def test_wood_grain_runs_along_its_axis() -> None:
    horizontal = _grey(render_backdrop(SPECS["wood"], (500, 500), seed=4))
    along = np.abs(np.diff(horizontal, axis=1)).mean()
    across = np.abs(np.diff(horizontal, axis=0)).mean()
    assert across > 1.8 * along
    vertical = _grey(render_backdrop(BackdropSpec("wood", SPECS["wood"].colors, angle_deg=90), (500, 500), 4))
    assert np.abs(np.diff(vertical, axis=1)).mean() > 1.8 * np.abs(np.diff(vertical, axis=0)).mean()


def test_linen_has_a_regular_thread_period_in_both_directions() -> None:
    image = _grey(render_backdrop(SPECS["linen"], (480, 480), seed=2))
    for axis in (0, 1):
        profile = image.mean(axis=1 - axis)
        spectrum = np.abs(np.fft.rfft(profile - profile.mean()))
        # Threads every ~2.2 px at 480 px: a strong peak at high frequency, far above the median.
        peak = int(np.argmax(spectrum[20:])) + 20
        assert spectrum[peak] > 8 * np.median(spectrum[1:])
        assert 480 / peak < 4.0


def test_marble_has_thin_dark_veins_on_a_light_base() -> None:
    image = _grey(render_backdrop(SPECS["marble"], (600, 600), seed=8))
    median = np.median(image)
    vein_fraction = (image < median - 40).mean()
    assert median > 200
    assert 0.002 < vein_fraction < 0.12


def test_concrete_has_small_dark_pores() -> None:
    image = _grey(render_backdrop(SPECS["concrete"], (600, 600), seed=8))
    dark = (image < np.median(image) * 0.75).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(dark)
    areas = stats[1:, cv2.CC_STAT_AREA]
    assert count > 20
    assert np.median(areas) < 60


def test_linear_gradient_goes_from_first_colour_at_the_angle_side() -> None:
    spec = BackdropSpec("linear", ((250, 20, 20), (20, 20, 250)), angle_deg=90)
    image = render_backdrop(spec, (200, 300), seed=1).astype(int)
    assert image[:3].mean(axis=(0, 1))[0] > 235  # top is red
    assert image[-3:].mean(axis=(0, 1))[2] > 235  # bottom is blue
    sideways = render_backdrop(BackdropSpec("linear", spec.colors, angle_deg=0), (300, 200), 1).astype(int)
    assert sideways[:, -3:].mean(axis=(0, 1))[0] > 235  # 0 degrees points right


def test_radial_is_first_colour_at_the_light_and_last_at_the_far_corner() -> None:
    spec = BackdropSpec("radial", ((250, 250, 250), (10, 10, 10)), light=(0.25, 0.25))
    image = render_backdrop(spec, (400, 400), seed=1).astype(int)
    assert image[100, 100].min() > 240
    assert image[-1, -1].max() < 25


def test_sweep_has_wall_above_floor_below_and_a_soft_horizon() -> None:
    spec = BackdropSpec("sweep", ((240, 240, 240), (150, 150, 150)), horizon=0.5)
    image = _grey(render_backdrop(spec, (300, 400), seed=1))
    rows = image.mean(axis=1)
    assert rows[40] > 220 and rows[-40] < 160
    # Soft: no single row-to-row step carries the transition.
    assert np.abs(np.diff(rows)).max() < 6


def test_gradients_are_dithered_so_no_wide_flat_bands_appear() -> None:
    spec = BackdropSpec("linear", ((100, 100, 100), (110, 110, 110)), angle_deg=0)
    row = render_backdrop(spec, (1000, 8), seed=1)[4, :, 0].astype(int)
    changes = np.flatnonzero(np.diff(row))
    longest_run = np.diff(np.concatenate(([0], changes, [row.size]))).max()
    # Without dither each of the 10 levels would be a flat band ~100 px wide.
    assert longest_run < 40


def test_photo_is_cover_fitted_without_stretching() -> None:
    image = _grey(render_backdrop(SPECS["photo"], (300, 300), seed=1))
    circle = image > 150
    ys, xs = np.nonzero(circle)
    height = ys.max() - ys.min() + 1
    width = xs.max() - xs.min() + 1
    # Cover scale is 1.5 (200 -> 300): the 121 px circle becomes ~181 px, round, centred.
    assert abs(width - height) <= 2
    assert abs(height - 181) <= 3
    assert abs((xs.max() + xs.min()) / 2 - 149.5) <= 1.5


def test_photo_blur_softens_edges() -> None:
    sharp = _grey(render_backdrop(SPECS["photo"], (300, 300), seed=1))
    blurred_spec = BackdropSpec("photo", photo=_photo(), photo_blur=8.0)
    blurred = _grey(render_backdrop(blurred_spec, (300, 300), seed=1))
    assert np.abs(np.diff(blurred, axis=1)).max() < 0.5 * np.abs(np.diff(sharp, axis=1)).max()


def test_vignette_darkens_far_from_the_light() -> None:
    spec = BackdropSpec("solid", ((200, 200, 200),), vignette=1.0, light=(0.5, 0.5))
    image = _grey(render_backdrop(spec, (300, 300), seed=1))
    assert image[150, 150] > image[0, 0] + 40


@pytest.mark.parametrize(
    ("spec", "size", "needle"),
    [
        (BackdropSpec("photo"), (10, 10), "reference photo"),
        (BackdropSpec("solid", ()), (10, 10), "1 to 3 colours"),
        (BackdropSpec("solid", ((1, 2, 3),) * 4), (10, 10), "1 to 3 colours"),
        (BackdropSpec("solid", ((300, 0, 0),)), (10, 10), "0-255"),
        (BackdropSpec("marble", ((1, 2, 3),), scale=0), (10, 10), "scale"),
        (BackdropSpec("solid", ((1, 2, 3),)), (0, 10), "out of range"),
        (BackdropSpec("solid", ((1, 2, 3),)), (20_000, 10), "out of range"),
        (BackdropSpec("bogus", ((1, 2, 3),)), (10, 10), "unknown backdrop kind"),  # type: ignore[arg-type]
    ],
)
def test_bad_specs_raise_clear_errors(spec: BackdropSpec, size: tuple[int, int], needle: str) -> None:
    with pytest.raises(BackdropError, match=needle):
        render_backdrop(spec, size, seed=0)
