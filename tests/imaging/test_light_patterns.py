"""Light patterns read as the shadows they are named after, soften and turn on request."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.light_patterns import LIGHT_PATTERNS, SHADOW_FLOOR, LightPatternError, render_light_pattern

PATTERNS = [p for p in LIGHT_PATTERNS if p != "none"]


def _max_gradient(light: np.ndarray) -> float:
    gy, gx = np.gradient(light)
    return float(np.hypot(gx, gy).max())


@pytest.mark.parametrize("kind", LIGHT_PATTERNS)
def test_every_pattern_is_a_float_map_between_the_floor_and_full_light(kind: str) -> None:
    light = render_light_pattern(kind, (301, 199), seed=4)  # type: ignore[arg-type]
    assert light.shape == (199, 301)
    assert light.dtype == np.float32
    assert light.min() >= SHADOW_FLOOR - 1e-6 and light.max() <= 1.0


def test_none_is_full_light_everywhere() -> None:
    assert (render_light_pattern("none", (40, 30), seed=1) == 1.0).all()


@pytest.mark.parametrize(
    ("kind", "mean_range"), [("window", (0.5, 0.9)), ("blinds", (0.6, 0.85)), ("leaves", (0.6, 0.9))]
)
def test_shadows_are_never_pitch_black_and_the_light_is_full(
    kind: str, mean_range: tuple[float, float]
) -> None:
    for seed in range(4):
        light = render_light_pattern(kind, (400, 300), seed, softness=0.15)  # type: ignore[arg-type]
        assert 0.35 <= light.min() <= 0.5
        assert light.max() > 0.97
        assert mean_range[0] < light.mean() < mean_range[1], (seed, light.mean())


@pytest.mark.parametrize("kind", PATTERNS)
def test_same_seed_same_bytes_and_another_seed_another_pattern(kind: str) -> None:
    first = render_light_pattern(kind, (200, 160), seed=9)  # type: ignore[arg-type]
    again = render_light_pattern(kind, (200, 160), seed=9)  # type: ignore[arg-type]
    other = render_light_pattern(kind, (200, 160), seed=10)  # type: ignore[arg-type]
    assert first.tobytes() == again.tobytes()
    assert np.abs(first - other).mean() > 0.01


@pytest.mark.parametrize("kind", PATTERNS)
def test_softer_means_gentler_edges(kind: str) -> None:
    gradients = [
        _max_gradient(render_light_pattern(kind, (320, 320), seed=2, softness=s))  # type: ignore[arg-type]
        for s in (0.0, 0.25, 0.5, 1.0)
    ]
    assert all(a > b for a, b in zip(gradients, gradients[1:], strict=False)), gradients
    # Crisp means crisp: at softness 0 most of the light-to-shadow step happens within ~2 px.
    assert gradients[0] > 0.2


@pytest.mark.parametrize("kind", PATTERNS)
def test_a_quarter_turn_turns_the_pattern(kind: str) -> None:
    straight = render_light_pattern(kind, (240, 240), seed=3, softness=0.3)  # type: ignore[arg-type]
    turned = render_light_pattern(kind, (240, 240), seed=3, softness=0.3, angle_deg=90.0)  # type: ignore[arg-type]
    # Counter-clockwise, as np.rot90 turns an array.
    assert np.abs(turned - np.rot90(straight)).mean() < 0.01
    assert np.abs(turned - straight).mean() > 0.03


def test_blinds_slats_run_across_the_angle() -> None:
    flat = render_light_pattern("blinds", (300, 300), seed=1, softness=0.2)
    assert np.abs(np.diff(flat, axis=0)).mean() > 4 * np.abs(np.diff(flat, axis=1)).mean()
    tilted = render_light_pattern("blinds", (300, 300), seed=1, softness=0.2, angle_deg=30.0)
    # At 30 degrees the stripes vary along both axes, more along y than x (cos 30 > sin 30).
    dy, dx = np.abs(np.diff(tilted, axis=0)).mean(), np.abs(np.diff(tilted, axis=1)).mean()
    assert dy > dx > 0.3 * dy


def test_window_is_bright_panes_between_dark_bars_inside_a_dark_wall() -> None:
    for seed in range(4):
        light = render_light_pattern("window", (400, 400), seed, softness=0.1)
        lit = light > 0.95
        assert 0.3 < lit.mean() < 0.8
        # Outside the window: the frame's border is in shadow.
        border = np.concatenate(
            [light[:6].ravel(), light[-6:].ravel(), light[:, :6].ravel(), light[:, -6:].ravel()]
        )
        assert (border < 0.6).mean() > 0.5
        # The panes are separate bright regions (mullions between them): at least a 2 x 2 grid.
        panes = cv2.connectedComponents(lit.astype(np.uint8))[0] - 1
        assert 4 <= panes <= 9


def test_leaves_are_dappled_with_many_light_gaps() -> None:
    for seed in range(3):
        light = render_light_pattern("leaves", (400, 400), seed, softness=0.2)
        shadow = light < 0.7
        assert 0.15 < shadow.mean() < 0.7
        gaps = cv2.connectedComponents((light > 0.9).astype(np.uint8))[0] - 1
        shadows = cv2.connectedComponents(shadow.astype(np.uint8))[0] - 1
        # Organic: many separate shadows and gaps, not one blob or stripes.
        assert shadows >= 5 and gaps >= 3


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kind": "spotlight"}, "unknown light pattern"),
        ({"size": (0, 10)}, "out of range"),
        ({"size": (10, 99_999)}, "out of range"),
        ({"size": (10,)}, "width, height"),
        ({"softness": -0.1}, "softness"),
        ({"softness": 1.5}, "softness"),
        ({"softness": float("nan")}, "softness"),
        ({"angle_deg": float("inf")}, "angle_deg"),
        ({"softness": "soft"}, "numbers"),
        ({"seed": "7"}, "seed"),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(kwargs: dict[str, object], needle: str) -> None:
    arguments: dict[str, object] = {"kind": "window", "size": (32, 32), "seed": 1, **kwargs}
    with pytest.raises(LightPatternError, match=needle) as caught:
        render_light_pattern(**arguments)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
