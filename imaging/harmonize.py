"""Making a cut-out product look shot in the scene it is put into: colour, exposure, edges, grain, focus.

This module owns `HarmonizeSpec` and `harmonize`. A product photo brings its own white balance,
exposure, noise and sharpness; pasted as is, a warm cup on cool marble looks stuck on. Every
correction here is partial and bounded, because we never know how much of the product's colour
is its own paint and how much is the light it was shot in:

- White balance: the product's cast is read from its near-neutral pixels (a white cup shows the
  light it was shot in; a red one says little), trusted only as far as there are such pixels,
  and limited to +-12 %. The gains move it part of the way to the scene's light colour and stay
  within 0.86-1.16 per channel, so a red product stays red on a blue set.
- Exposure follows the scene's light level at the product and pulls a very dark or very bright
  product a little towards mid-grey; never more than 0.85-1.2 in all.
- Light wrap lets the blurred background bleed a few pixels into the product's edge band.
- Grain: monochrome noise is added until the product's noise matches the scene's (never removed).
- Sharpness: a product much crisper than the scene at its depth is softened by at most
  `MAX_SOFTEN_PX`; a soft product is never sharpened.

All colour here is float32 0..1, straight (not premultiplied) RGB.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imaging.scene_ops import blur, channels, luma, luma_of, scale_channels

MAX_SOFTEN_PX = 1.0
_CAST_LIMIT = 0.12
_GAIN_RANGE = (0.86, 1.16)
_EXPOSURE_RANGE = (0.85, 1.2)
_MAX_GRAIN = 0.015


@dataclass(frozen=True)
class HarmonizeSpec:
    """How much of each correction to apply, all 0..1 (0 = leave the product as it is)."""

    white_balance: float = 0.6
    exposure: float = 0.5
    light_wrap: float = 0.35
    grain: float = 1.0
    sharpness: float = 1.0


@dataclass(frozen=True, eq=False)
class Harmonized:
    """The adjusted product colour and what was done to it (for tests and debugging)."""

    rgb: np.ndarray
    gains: np.ndarray
    soften_px: float
    grain_sigma: float


def harmonize(
    product: np.ndarray,
    alpha: np.ndarray,
    background: np.ndarray,
    scene_light: np.ndarray,
    spec: HarmonizeSpec,
    seed: int,
    *,
    reference: np.ndarray | None = None,
    light_level: float = 1.0,
) -> Harmonized:
    """Adjust `product` (h, w, 3) with coverage `alpha` (h, w) to sit in the scene.

    `background` is the scene under the same rectangle (for the light wrap). `scene_light` is the
    scene's light colour at the product (three values, any scale), `light_level` its brightness
    relative to a normally lit set. `reference` is a patch of the scene at the product's depth
    (the surface around its base) whose noise and sharpness the product should match; None skips
    grain and sharpness matching.
    """
    solid = alpha > 0.9
    gains = colour_gains(product, solid, scene_light, spec, light_level=light_level)
    rgb = scale_channels(product, gains)
    soften = 0.0
    grain_sigma = 0.0
    if reference is not None and solid.sum() >= 64:
        if spec.sharpness > 0:
            soften = softening_for(rgb, solid, reference) * spec.sharpness
            if soften >= 0.25:
                # Only the colour is softened: the alpha edge comes from the cutout and stays.
                rgb = blur(rgb, soften)
        if spec.grain > 0:
            wanted = noise_sigma(luma(reference))
            have = noise_sigma(luma(rgb), solid)
            grain_sigma = min(_MAX_GRAIN, float(np.sqrt(max(0.0, wanted**2 - have**2)))) * spec.grain
            if grain_sigma > 0.002:
                rng = np.random.default_rng(seed % (2**63))
                noise = rng.standard_normal(alpha.shape, dtype=np.float32) * np.float32(grain_sigma)
                rgb = rgb + channels(noise)
    if spec.light_wrap > 0:
        light_wrap(rgb, alpha, background, spec.light_wrap)
    np.clip(rgb, 0.0, 1.0, out=rgb)
    return Harmonized(rgb=rgb, gains=gains, soften_px=soften, grain_sigma=grain_sigma)


# --------------------------------------------------------------------------- colour and exposure


def product_cast(product: np.ndarray, solid: np.ndarray) -> np.ndarray:
    """The colour of the light the product seems to have been shot in, luma-normalised, within +-12 %.

    Near-neutral pixels (whites, greys, metal) carry the light's colour; their weighted mean is
    trusted in proportion to how many there are. Without them the product's mean colour says
    almost nothing (a red product is red paint, not red light): only a tenth of it is taken, so a
    saturated product is assumed shot in neutral light and simply takes the scene's light.
    """
    # Every other pixel each way: the means are the same to a fraction of a percent, 4x cheaper.
    pixels = product[::2, ::2][solid[::2, ::2]]
    if pixels.shape[0] < 16:
        return np.ones(3, np.float32)
    y = np.maximum(pixels @ np.array([0.299, 0.587, 0.114], np.float32), 1e-3)
    chroma = np.abs(pixels / y[:, None] - 1.0).max(axis=1)
    usable = (y > 0.12) & (y < 0.98)
    weight = np.exp(-((chroma / 0.22) ** 2)) * usable
    neutral_share = float(weight.sum()) / pixels.shape[0]
    confidence = min(1.0, neutral_share / 0.25)
    grey_world = _normalised(pixels.mean(axis=0))
    weak_guess = 1.0 + 0.1 * (grey_world - 1.0)
    if weight.sum() > 1e-3:
        neutral = _normalised((pixels * weight[:, None]).sum(axis=0) / weight.sum())
    else:
        neutral = weak_guess
    cast = confidence * neutral + (1.0 - confidence) * weak_guess
    return _normalised(np.clip(cast, 1.0 - _CAST_LIMIT, 1.0 + _CAST_LIMIT))


def colour_gains(
    product: np.ndarray,
    solid: np.ndarray,
    scene_light: np.ndarray,
    spec: HarmonizeSpec,
    *,
    light_level: float = 1.0,
) -> np.ndarray:
    """Per-channel gains: white balance part-way from the product's cast to the scene's light, and exposure."""
    light = _normalised(np.clip(_normalised(np.asarray(scene_light, np.float64)), 0.8, 1.25))
    cast = product_cast(product, solid)
    wb = (light / cast) ** spec.white_balance
    wb = np.clip(_normalised(wb), *_GAIN_RANGE)
    exposure = float(np.clip(light_level, 0.5, 1.5)) ** spec.exposure
    sampled = product[::2, ::2][solid[::2, ::2]]
    if sampled.size:
        mean_y = float(luma_of(sampled.mean(axis=0)))
        # Only a clearly dark or bright product is pulled, and only a little: its paint may be dark.
        target = min(max(mean_y, 0.3), 0.75)
        if mean_y > 1e-3:
            exposure *= (target / mean_y) ** (0.25 * spec.exposure)
    exposure = float(np.clip(exposure, *_EXPOSURE_RANGE))
    return (wb * exposure).astype(np.float32)


def _normalised(colour: np.ndarray) -> np.ndarray:
    colour = np.asarray(colour, np.float64)
    level = luma_of(colour)
    return colour / level if level > 1e-6 else np.ones(3)


# --------------------------------------------------------------------------- noise and sharpness


# Immerkaer's operator: the difference of two Laplacians, blind to flat areas, ramps and (mostly)
# curved shading, so what it sees is noise; sigma = sqrt(pi / 2) / 6 * mean |response|.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(plane: np.ndarray, where: np.ndarray | None = None) -> float:
    """Sensor-like noise (standard deviation, 0..1 units) of a luma plane, robust to texture.

    Immerkaer's estimator, measured in 8x8 blocks of which the quietest tenth is taken, so edges
    and texture (which make most blocks of a wood grain busy) do not count as noise.
    """
    if plane.shape[0] < 8 or plane.shape[1] < 8:
        return 0.0
    response = np.abs(cv2.filter2D(plane, cv2.CV_32F, _NOISE_KERNEL, borderType=cv2.BORDER_REFLECT))
    if where is not None:
        inner = cv2.erode(where.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        response = np.where(inner, response, np.nan)
    bh, bw = plane.shape[0] // 8, plane.shape[1] // 8
    blocks = response[: bh * 8, : bw * 8].reshape(bh, 8, bw, 8).mean(axis=(1, 3))
    blocks = blocks[np.isfinite(blocks)]
    if blocks.size == 0:
        return 0.0
    return float(np.percentile(blocks, 10) * np.sqrt(np.pi / 2.0) / 6.0)


def detail_ratio(plane: np.ndarray, where: np.ndarray | None = None) -> float | None:
    """Share of fine detail in the image's detail: |I - blur1(I)| over |I - blur2.5(I)|.

    A sharp image keeps much of its contrast in the finest scale; a soft one almost none. None
    when there is too little detail to judge (a plain wall).
    """
    fine = np.abs(plane - cv2.GaussianBlur(plane, (0, 0), 1.0))
    coarse = np.abs(plane - cv2.GaussianBlur(plane, (0, 0), 2.5))
    if where is not None:
        inner = cv2.erode(where.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        if inner.sum() < 64:
            return None
        fine, coarse = fine[inner], coarse[inner]
    coarse_mean = float(coarse.mean())
    if coarse_mean < 0.006:
        return None
    return float(fine.mean()) / coarse_mean


def softening_for(product: np.ndarray, solid: np.ndarray, reference: np.ndarray) -> float:
    """The blur (px) that brings the product's fine detail down to the scene's, 0 if it is not crisper."""
    scene = detail_ratio(luma(reference))
    plane = luma(product)
    own = detail_ratio(plane, solid)
    if scene is None or own is None or own <= scene * 1.15:
        return 0.0
    best, best_gap = 0.0, abs(own - scene)
    for sigma in (0.4, 0.6, 0.8, MAX_SOFTEN_PX):
        softened = detail_ratio(np.asarray(cv2.GaussianBlur(plane, (0, 0), sigma)), solid)
        if softened is None:
            break
        gap = abs(softened - scene)
        if gap < best_gap:
            best, best_gap = sigma, gap
    return best


# --------------------------------------------------------------------------- light wrap


def wrap_band(alpha: np.ndarray) -> int:
    """Width in px of the edge band light wrap may touch, from the product's size."""
    rows = np.flatnonzero((alpha > 0.5).any(axis=1))
    cols = np.flatnonzero((alpha > 0.5).any(axis=0))
    if rows.size == 0:
        return 2
    return max(2, int(round(0.02 * min(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))))


def light_wrap(rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray, amount: float) -> None:
    """Let blurred background light spill over the product's edge band, in place.

    Light from the set reaches round the product's edge in a real photo; without it a cutout's
    rim looks drawn on. The weight falls to 0 `band` px inside the outermost solid pixel.
    """
    band = wrap_band(alpha)
    inside = (alpha > 0.5).astype(np.uint8)
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    # The outermost solid pixel (distance 1) takes the full weight, `band` px further in none.
    reach = np.clip(np.float32(1.0) - (distance - np.float32(1.0)) / np.float32(band), 0.0, 1.0)
    weight = reach * reach * alpha * np.float32(amount * 0.6)
    if not weight.any():
        return
    light = blur(background, band * 2.0)
    rgb += channels(weight) * (light - rgb)
