"""imaging.tint: the mask tint stands out on the photo (never red-on-wood), and is stable per photo."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.tint import CANDIDATES, contrasting_tint, hue_clashes


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (80, 120)) -> np.ndarray:
    return np.full((size[0], size[1], 3), rgb, np.uint8)


def wood(size: tuple[int, int] = (200, 300)) -> np.ndarray:
    """Brown wood grain: browns and oranges in stripes, the case a red tint cannot be read on."""
    rows = np.linspace(0.0, 12.0 * np.pi, size[1])
    grain = (np.sin(rows)[None, :] * 0.5 + 0.5) * np.ones((size[0], 1))
    dark, light = np.array([92, 56, 30], np.float32), np.array([168, 112, 62], np.float32)
    return np.asarray(dark + (light - dark) * grain[..., None], np.uint8)


def test_brown_wood_gets_a_cool_tint_far_from_its_hue() -> None:
    tint = contrasting_tint(wood())
    assert tint.name == "cyan"
    red_hue = 0.0
    distance = min(abs(tint.hue_deg - red_hue), 360 - abs(tint.hue_deg - red_hue))
    assert distance > 120


@pytest.mark.parametrize(
    ("photo", "not_expected"),
    [
        ((230, 20, 200), "magenta"),  # a pink set
        ((20, 190, 230), "cyan"),  # a turquoise sky
        ((40, 200, 60), "green"),  # grass
    ],
)
def test_a_photo_in_a_candidates_own_hue_gets_another(photo: tuple[int, int, int], not_expected: str) -> None:
    assert contrasting_tint(solid(photo)).name != not_expected


def test_a_grey_or_white_photo_gets_the_first_candidate_and_no_hue_counts() -> None:
    for grey in ((255, 255, 255), (128, 128, 128), (0, 0, 0)):
        assert hue_clashes(solid(grey)) == [0.0] * len(CANDIDATES)
        assert contrasting_tint(solid(grey)) == CANDIDATES[0]


def test_the_choice_is_the_same_for_the_same_photo_at_any_size() -> None:
    big = wood((900, 1200))
    small = big[::4, ::4]
    assert contrasting_tint(big) == contrasting_tint(small)


def test_rgba_input_is_read_by_its_colour_channels() -> None:
    rgba = np.dstack([wood(), np.full(wood().shape[:2], 255, np.uint8)])
    assert contrasting_tint(rgba).name == "cyan"


def test_a_non_image_array_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="HxWx3"):
        contrasting_tint(np.zeros((10, 10), np.uint8))
