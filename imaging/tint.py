"""The mask tint: one colour per photo for "this part will be replaced", chosen to stand out on it.

A fixed red is unreadable over brown wood and a fixed blue over a blue sky, so
the cutout preview and the mask editor both ask `contrasting_tint(photo)` and
get the candidate hue farthest from the photo's dominant (saturated) hues. The
choice depends on the photo alone, never on the mask, so it does not flip while
the user edits. Pure array work: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Tint:
    """A tint candidate: a stable name (for tests and logs), its RGB and its hue in degrees."""

    name: str
    rgb: tuple[int, int, int]
    hue_deg: float


# Vivid hues rarely found in product photos' sets. Magenta first: it wins ties (a grey photo).
# Red and blue are left out on purpose: they are the eraser's stroke colour and a common sky.
CANDIDATES: tuple[Tint, ...] = (
    Tint("magenta", (236, 0, 220), 304.0),
    Tint("cyan", (0, 200, 235), 189.0),
    Tint("green", (40, 220, 60), 126.0),
)
# Pixels are sampled on a grid of about this many per side: the choice needs colours, not detail.
_SAMPLE_SIDE = 96
# A hue counts against a candidate in proportion to its closeness (opposite hues: 0), so the
# least clashing candidate is the one farthest, on average, from the photo's colours.
_REACH_DEG = 180.0
# Greys (low saturation) and near-black pixels say nothing about hue.
_MIN_SATURATION = 0.12
_MIN_VALUE = 0.12


def contrasting_tint(rgb: np.ndarray) -> Tint:
    """The candidate whose hue is least present in `rgb` (HxWx3 uint8), weighted by saturation."""
    if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.size == 0:
        raise ValueError(f"expected an HxWx3 image, got shape {rgb.shape}")
    clashes = hue_clashes(rgb)
    best = min(range(len(CANDIDATES)), key=lambda index: (clashes[index], index))
    return CANDIDATES[best]


def hue_clashes(rgb: np.ndarray) -> list[float]:
    """For each candidate, how much of the photo's colour lies near its hue (0 = none)."""
    sample = _sample(np.ascontiguousarray(rgb[..., :3], dtype=np.uint8))
    hsv = cv2.cvtColor(sample, cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3).astype(np.float32)
    hue = hsv[:, 0] * (360.0 / 256.0)
    saturation = hsv[:, 1] / 255.0
    value = hsv[:, 2] / 255.0
    weight = np.where((saturation >= _MIN_SATURATION) & (value >= _MIN_VALUE), saturation * value, 0.0)
    total = float(len(weight)) or 1.0
    clashes = []
    for candidate in CANDIDATES:
        distance = np.abs(hue - candidate.hue_deg) % 360.0
        distance = np.minimum(distance, 360.0 - distance)
        closeness = np.clip(1.0 - distance / _REACH_DEG, 0.0, 1.0)
        clashes.append(float(np.sum(weight * closeness)) / total)
    return clashes


def _sample(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    step = max(1, max(height, width) // _SAMPLE_SIDE)
    return np.ascontiguousarray(rgb[::step, ::step])
