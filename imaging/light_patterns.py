"""Light patterns (gobos, cookies) for the scene renderer: a window's light, blinds, dappled leaves.

This module owns `render_light_pattern`: a flat (H, W) map of how much of the key light reaches
each point, 1 = full light, as if the pattern were projected straight on. The renderer warps it onto
a surface in perspective and scales it by the light's strength; here shadows never go below
`SHADOW_FLOOR` because real shadows are filled by the room's bounce light.

Shapes are polygons in a frame rotated by `angle_deg` about the centre, drawn anti-aliased with
sub-pixel precision by OpenCV; `softness` is the penumbra (a Gaussian blur relative to the frame,
computed at reduced resolution when wide). Feature sizes are relative to the shorter side, so a
thumbnail and a full render show the same pattern.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import cv2
import numpy as np

LightPattern = Literal["none", "window", "blinds", "leaves"]
LIGHT_PATTERNS: tuple[str, ...] = get_args(LightPattern)

MAX_SIDE = 8192
# Bounce light from the room fills every shadow; a gobo never throws pitch black.
SHADOW_FLOOR = 0.4
# Penumbra (Gaussian sigma) at softness 1, as a fraction of the shorter side.
_MAX_BLUR = 0.03
_SHIFT = 4  # fractional bits of polygon coordinates


class LightPatternError(ValueError):
    """Arguments that cannot be rendered as a light pattern; the message says what to change."""


def render_light_pattern(
    kind: LightPattern, size: tuple[int, int], seed: int, softness: float = 0.5, angle_deg: float = 0.0
) -> np.ndarray:
    """The light that `kind` lets through: float32 (H, W) in `SHADOW_FLOOR`..1, 1 = full light.

    `size` is (width, height); `softness` 0 (crisp, anti-aliased edges) .. 1 (a wide penumbra);
    `angle_deg` turns the pattern counter-clockwise about the centre. Deterministic in `seed`.
    """
    if kind not in LIGHT_PATTERNS:
        raise LightPatternError(f"unknown light pattern {kind!r}; use one of {', '.join(LIGHT_PATTERNS)}")
    width, height = _check_size(size)
    try:
        soft, angle = float(softness), float(angle_deg)
    except (TypeError, ValueError):
        raise LightPatternError("softness and angle_deg must be numbers") from None
    if not (math.isfinite(soft) and 0.0 <= soft <= 1.0):
        raise LightPatternError(f"softness must be between 0 and 1, got {softness!r}")
    if not math.isfinite(angle):
        raise LightPatternError(f"angle_deg must be a finite number, got {angle_deg!r}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise LightPatternError(f"seed must be an integer, got {seed!r}")
    if kind == "none":
        return np.ones((height, width), np.float32)
    frame = _Frame(width, height, angle, np.random.default_rng(int(seed) % (2**63)))
    sigma = soft * _MAX_BLUR * frame.short
    if kind == "window":
        light = _window(frame, sigma)
    elif kind == "blinds":
        light = _blinds(frame, sigma)
    else:
        light = _leaves(frame, sigma)
    light *= np.float32(1.0 - SHADOW_FLOOR)
    light += np.float32(SHADOW_FLOOR)
    return np.clip(light, SHADOW_FLOOR, 1.0, out=light)


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = int(size[0]), int(size[1])
        if len(size) != 2:
            raise ValueError
    except (TypeError, ValueError, IndexError):
        raise LightPatternError(f"size must be (width, height) in pixels, got {size!r}") from None
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise LightPatternError(
            f"size {width}x{height} is out of range; each side must be 1 to {MAX_SIDE} px"
        )
    return width, height


@dataclass
class _Frame:
    """The output frame, and the pattern's own frame turned by `angle` about the centre.

    Pattern coordinates are in units of the shorter side, centred, x right and y down; `reach` is
    the half-diagonal in those units, so shapes drawn out to it cover the frame at any angle.
    """

    width: int
    height: int
    angle: float
    rng: np.random.Generator

    @property
    def short(self) -> int:
        return min(self.width, self.height)

    @property
    def reach(self) -> float:
        return math.hypot(self.width, self.height) / 2.0 / self.short

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """Pattern coordinates (..., 2) to fixed-point pixel coordinates for OpenCV's drawing."""
        turn = math.radians(self.angle)
        c, s = math.cos(turn), math.sin(turn)
        x, y = points[..., 0], points[..., 1]
        # Counter-clockwise on screen, where y grows downwards.
        # Pixel centres are integers to OpenCV, so the frame's centre is at (w - 1) / 2.
        px = (x * c + y * s) * self.short + (self.width - 1) / 2.0
        py = (-x * s + y * c) * self.short + (self.height - 1) / 2.0
        return np.round(np.stack([px, py], axis=-1) * 2**_SHIFT).astype(np.int32)

    def canvas(self, value: int = 0) -> np.ndarray:
        return np.full((self.height, self.width), value, np.uint8)


def _blur(mask: np.ndarray, sigma: float) -> np.ndarray:
    """uint8 coverage -> float32 0..1, blurred by `sigma` px; wide blurs run on a reduced copy."""
    light = mask.astype(np.float32) * np.float32(1.0 / 255.0)
    if sigma < 0.3:
        return light
    height, width = light.shape
    factor = max(1, int(sigma / 3.0))
    if factor == 1:
        return np.asarray(cv2.GaussianBlur(light, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))
    small = cv2.resize(
        light, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    return np.asarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC), np.float32)


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


# --------------------------------------------------------------------------- patterns


def _window(frame: _Frame, sigma: float) -> np.ndarray:
    """Sun through a window: panes of light between dark mullions, in the dark of the wall around."""
    rng = frame.rng
    columns, rows = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    # The window's light fills most of the frame: it is the subject of the pattern.
    width = float(rng.uniform(0.7, 0.88)) * frame.width / frame.short
    height = float(rng.uniform(0.65, 0.88)) * frame.height / frame.short
    cx = float(rng.uniform(-0.5, 0.5)) * (frame.width / frame.short - width)
    cy = float(rng.uniform(-0.5, 0.5)) * (frame.height / frame.short - height)
    bar = width * float(rng.uniform(0.025, 0.04))
    rim = bar * 1.3
    left, top = cx - width / 2 + rim, cy - height / 2 + rim
    pane_w = (width - 2 * rim - (columns - 1) * bar) / columns
    pane_h = (height - 2 * rim - (rows - 1) * bar) / rows
    mask = frame.canvas()
    for i in range(columns):
        for j in range(rows):
            x0, y0 = left + i * (pane_w + bar), top + j * (pane_h + bar)
            pane = frame.to_pixels(_box(x0, y0, x0 + pane_w, y0 + pane_h))
            cv2.fillConvexPoly(mask, pane, 255, cv2.LINE_AA, _SHIFT)
    return _blur(mask, sigma)


def _blinds(frame: _Frame, sigma: float) -> np.ndarray:
    """Venetian blinds: parallel bands of light between slats, crossed by the thin ladder cords."""
    rng = frame.rng
    period = 1.0 / float(rng.uniform(9.0, 15.0))
    opening = float(rng.uniform(0.4, 0.6))
    phase = float(rng.uniform(0.0, period))
    reach = frame.reach + period
    mask = frame.canvas()
    y = -reach + phase
    while y < reach:
        cv2.fillConvexPoly(
            mask, frame.to_pixels(_box(-reach, y, reach, y + period * opening)), 255, cv2.LINE_AA, _SHIFT
        )
        y += period
    cord = 0.004
    for x in (float(rng.uniform(-0.45, -0.2)), float(rng.uniform(0.2, 0.45))):
        cv2.fillConvexPoly(
            mask, frame.to_pixels(_box(x - cord, -reach, x + cord, reach)), 0, cv2.LINE_AA, _SHIFT
        )
    return _blur(mask, sigma)


def _leaf(length: float, breadth: float) -> np.ndarray:
    """A leaf outline along x from its stalk (0, 0): pointed tip, widest a third of the way along."""
    t = np.linspace(0.0, 1.0, 12)
    half = breadth / 2 * np.sin(np.pi * t**0.75) ** 0.9
    upper = np.stack([t * length, half], axis=1)
    lower = np.stack([t[::-1] * length, -half[::-1]], axis=1)
    return np.concatenate([upper, lower[1:-1]])


def _leaves(frame: _Frame, sigma: float) -> np.ndarray:
    """Dappled light through foliage: sprays of leaves on twigs, in two layers at different heights
    above the surface (the higher one throws a wider penumbra), with light gaps between them."""
    rng = frame.rng
    reach = frame.reach
    light = np.ones((frame.height, frame.width), np.float32)
    for layer, (count, spread, size, blur_scale, extra) in enumerate(
        ((16, 0.26, 0.11, 1.7, 0.006), (20, 0.2, 0.085, 0.8, 0.0))
    ):
        mask = frame.canvas()
        for _ in range(count + int(rng.integers(0, 3))):
            centre = rng.uniform(-reach, reach, 2)
            heading = float(rng.uniform(0.0, 2 * math.pi))
            twig_end = centre + np.array([math.cos(heading), math.sin(heading)]) * spread * 1.6
            twig = np.stack([centre, (centre + twig_end) / 2 + rng.normal(0, spread * 0.15, 2), twig_end])
            thickness = max(1, int(frame.short * 0.004 * (1.4 if layer == 0 else 1.0)))
            cv2.polylines(mask, [frame.to_pixels(twig)], False, 255, thickness * 2 - 1, cv2.LINE_AA, _SHIFT)
            for _ in range(int(rng.integers(14, 26))):
                along = float(rng.uniform(0.0, 1.0))
                stalk = centre + (twig_end - centre) * along
                side = 1.0 if rng.random() < 0.5 else -1.0
                angle = heading + side * float(rng.uniform(0.5, 1.1))
                length = size * float(rng.uniform(0.6, 1.25))
                outline = _leaf(length, length * float(rng.uniform(0.35, 0.55)))
                c, s = math.cos(angle), math.sin(angle)
                placed = outline @ np.array([[c, s], [-s, c]]) + stalk
                cv2.fillPoly(mask, [frame.to_pixels(placed)], 255, cv2.LINE_AA, _SHIFT)
        shade = _blur(mask, sigma * blur_scale + extra * frame.short)
        # Leaves let a little light through; the upper layer's shadow is paler for its penumbra.
        light *= np.float32(1.0) - shade * np.float32(0.92 if layer else 0.85)
    return light
