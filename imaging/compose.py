"""Putting a cut-out product onto a backdrop: layout, shadows, reflection, light wrap.

This module owns the composition step of the local engine and its value types
(`Layout`, `ShadowSpec`, `ComposeSpec`, `ComposeResult`). The order is fixed:
shadow -> reflection -> product alpha-over -> light wrap. The product's own
pixels are never redrawn: wherever the placed alpha is fully opaque and farther
than `wrap_band_px` from its edge, the output equals the placed product exactly
(with `tint == 0`).

Resizing works on premultiplied colour so half-transparent edges keep the
product's colour instead of picking up the black that transparent pixels carry.
Large blurs run on a downsampled copy and are upsampled again, which looks the
same for soft shadows and keeps a 2000 px composition fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

Box = tuple[int, int, int, int]


class ComposeError(ValueError):
    """A product, backdrop or spec that cannot be composed; the message says what to change."""


@dataclass(frozen=True)
class Layout:
    """Where the product goes.

    mode "center": the product's bounding box is scaled to `fill` of the area inside the
    `margins` (top, right, bottom, left fractions of the output) by its limiting side, centred
    horizontally, and vertically either centred or standing on the floor line at `floor_y`.
    mode "keep": the product keeps its position and scale relative to the input frame; a
    differently sized output gets the whole input frame scaled to fit (contain) and centred.
    """

    mode: Literal["keep", "center"] = "center"
    fill: float = 0.8
    margins: tuple[float, float, float, float] = (0.05, 0.05, 0.05, 0.05)
    vertical: Literal["center", "floor"] = "center"
    floor_y: float = 0.85


@dataclass(frozen=True)
class ShadowSpec:
    """The product's shadow. `direction_deg` is where the light comes from (0 = right, 90 = top);
    a drop shadow falls away from it. `distance` is the drop offset as a fraction of product height."""

    kind: Literal["none", "contact", "drop"] = "contact"
    opacity: float = 0.45
    softness: float = 0.5
    direction_deg: float = 45.0
    distance: float = 0.06
    color: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class ComposeSpec:
    """Everything `compose` needs besides the pixels; all strengths are 0..1."""

    layout: Layout = field(default_factory=Layout)
    shadow: ShadowSpec = field(default_factory=ShadowSpec)
    reflection: float = 0.0
    light_wrap: float = 0.3
    tint: float = 0.0


@dataclass(frozen=True, eq=False)
class ComposeResult:
    """The composed image, where the product landed, and the placed alpha (the mask used)."""

    rgb: np.ndarray
    product_box: Box
    alpha: np.ndarray


# --------------------------------------------------------------------------- public API


def product_bbox(alpha: np.ndarray, threshold: int = 16) -> Box | None:
    """Bounding box (x, y, w, h) of the pixels whose alpha is above `threshold`, or None if there are none.

    The threshold ignores the faint haze a soft matte leaves around a product, which
    would otherwise make the box (and so the layout) larger than the product looks.
    """
    if alpha.ndim != 2:
        raise ComposeError(f"alpha must be a 2-D (H, W) array, got shape {alpha.shape}")
    solid = alpha > threshold
    rows = np.flatnonzero(solid.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(solid.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def wrap_band_px(box: Box) -> int:
    """Width in pixels of the edge band light wrap may touch, for a product placed at `box`."""
    return max(2, int(round(0.025 * min(box[2], box[3]))))


def place(product_rgba: np.ndarray, out_size: tuple[int, int], layout: Layout) -> tuple[np.ndarray, Box]:
    """Scale and position the product on a transparent (H, W, 4) canvas of `out_size` = (width, height).

    Returns the canvas (straight, not premultiplied RGBA uint8) and the product's box there.
    """
    _check_rgba(product_rgba)
    width, height = _check_size(out_size)
    _check_layout(layout)
    bbox = product_bbox(product_rgba[..., 3])
    if bbox is None:
        raise ComposeError(
            "the product has no visible pixels (its alpha is empty); check the cutout or upload a mask"
        )
    in_h, in_w = product_rgba.shape[:2]
    bx, by, bw, bh = bbox

    if layout.mode == "keep":
        if (width, height) == (in_w, in_h):
            return product_rgba.copy(), bbox
        scale = min(width / in_w, height / in_h)
        x = (width - in_w * scale) / 2.0 + bx * scale
        y = (height - in_h * scale) / 2.0 + by * scale
    else:
        top, right, bottom, left = layout.margins
        avail_w = width * (1.0 - left - right)
        avail_h = height * (1.0 - top - bottom)
        scale = layout.fill * min(avail_w / bw, avail_h / bh)
        x = width * left + (avail_w - bw * scale) / 2.0
        if layout.vertical == "floor":
            y = layout.floor_y * height - bh * scale
        else:
            y = height * top + (avail_h - bh * scale) / 2.0

    target_w = max(1, int(round(bw * scale)))
    target_h = max(1, int(round(bh * scale)))
    # The product always stays inside the frame, even when a floor line sits too low for it.
    px = int(round(min(max(x, 0.0), width - target_w)))
    py = int(round(min(max(y, 0.0), height - target_h)))
    crop = product_rgba[by : by + bh, bx : bx + bw]
    scaled = crop if (target_w, target_h) == (bw, bh) else _resize_rgba(crop, target_w, target_h)
    canvas = np.zeros((height, width, 4), dtype=np.uint8)
    canvas[py : py + target_h, px : px + target_w] = scaled
    return canvas, (px, py, target_w, target_h)


def compose(product_rgba: np.ndarray, backdrop_rgb: np.ndarray, spec: ComposeSpec) -> ComposeResult:
    """Place the product on the backdrop: shadow, reflection, alpha-over, then light wrap."""
    _check_rgb(backdrop_rgb)
    _check_compose_spec(spec)
    height, width = backdrop_rgb.shape[:2]
    canvas, box = place(product_rgba, (width, height), spec.layout)
    alpha = canvas[..., 3].astype(np.float32) / np.float32(255.0)
    background = backdrop_rgb.astype(np.float32)

    if spec.shadow.kind != "none" and spec.shadow.opacity > 0:
        strength = _shadow_map(alpha, box, spec.shadow, spec.layout) * np.float32(spec.shadow.opacity)
        shade = np.asarray(spec.shadow.color, dtype=np.float32)
        background += strength[..., None] * (shade - background)
    if spec.reflection > 0:
        _add_reflection(background, canvas, box, spec.reflection)

    product = canvas[..., :3].astype(np.float32)
    if spec.tint > 0:
        product = _tint(product, backdrop_rgb, spec.tint)
    a = alpha[..., None]
    # Straight colour x alpha is the premultiplied product; where alpha is exactly 1 this is the
    # product's own value, bit for bit.
    out = product * a + background * (np.float32(1.0) - a)
    if spec.light_wrap > 0:
        out = _light_wrap(out, canvas[..., 3], backdrop_rgb, box, spec.light_wrap)
    rgb = np.clip(out + np.float32(0.5), 0, 255).astype(np.uint8)
    return ComposeResult(rgb=rgb, product_box=box, alpha=np.ascontiguousarray(canvas[..., 3]))


# --------------------------------------------------------------------------- validation


def _check_rgba(product: np.ndarray) -> None:
    if not isinstance(product, np.ndarray) or product.ndim != 3 or product.shape[2] != 4:
        shape = getattr(product, "shape", None)
        raise ComposeError(f"the product must be an RGBA array (H, W, 4), got shape {shape}")
    if product.dtype != np.uint8:
        raise ComposeError(f"the product must be uint8, got {product.dtype}; convert it to 8-bit RGBA first")
    if 0 in product.shape[:2]:
        raise ComposeError("the product image is empty (0 pixels)")


def _check_rgb(backdrop: np.ndarray) -> None:
    if not isinstance(backdrop, np.ndarray) or backdrop.ndim != 3 or backdrop.shape[2] != 3:
        shape = getattr(backdrop, "shape", None)
        raise ComposeError(f"the backdrop must be an RGB array (H, W, 3), got shape {shape}")
    if backdrop.dtype != np.uint8:
        raise ComposeError(f"the backdrop must be uint8, got {backdrop.dtype}")
    if 0 in backdrop.shape[:2]:
        raise ComposeError("the backdrop is empty (0 pixels)")


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = int(size[0]), int(size[1])
    except (TypeError, ValueError, IndexError):
        raise ComposeError(f"output size must be (width, height) in pixels, got {size!r}") from None
    if width < 1 or height < 1:
        raise ComposeError(f"output size {width}x{height} must be at least 1x1 pixels")
    return width, height


def _check_layout(layout: Layout) -> None:
    if layout.mode not in ("keep", "center"):
        raise ComposeError(f"layout mode must be 'keep' or 'center', got '{layout.mode}'")
    if layout.vertical not in ("center", "floor"):
        raise ComposeError(f"vertical placement must be 'center' or 'floor', got '{layout.vertical}'")
    if not 0.0 < layout.fill <= 1.0:
        raise ComposeError(
            f"fill must be above 0 and at most 1 (a fraction of the free area), got {layout.fill}"
        )
    if len(layout.margins) != 4 or any(not 0.0 <= m < 0.5 for m in layout.margins):
        raise ComposeError(
            f"margins must be four fractions (top, right, bottom, left) from 0 to below 0.5, got {layout.margins}"
        )
    if not 0.0 < layout.floor_y <= 1.0:
        raise ComposeError(f"floor_y must be above 0 and at most 1 (from the top), got {layout.floor_y}")


def _check_compose_spec(spec: ComposeSpec) -> None:
    shadow = spec.shadow
    if shadow.kind not in ("none", "contact", "drop"):
        raise ComposeError(f"shadow kind must be 'none', 'contact' or 'drop', got '{shadow.kind}'")
    for name, value in (
        ("shadow opacity", shadow.opacity),
        ("shadow softness", shadow.softness),
        ("reflection", spec.reflection),
        ("light wrap", spec.light_wrap),
        ("tint", spec.tint),
    ):
        if not 0.0 <= value <= 1.0:
            raise ComposeError(f"{name} must be between 0 and 1, got {value}")
    if shadow.distance < 0:
        raise ComposeError(f"shadow distance must be 0 or more, got {shadow.distance}")
    if len(shadow.color) != 3 or any(not 0 <= c <= 255 for c in shadow.color):
        raise ComposeError(f"shadow colour must be an (R, G, B) triple of 0-255, got {shadow.color}")


# --------------------------------------------------------------------------- resampling


def _resize_rgba(rgba: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize straight RGBA through premultiplied colour, so transparent black never bleeds into edges."""
    data = rgba.astype(np.float32)
    alpha = data[..., 3:4] / np.float32(255.0)
    premultiplied = np.concatenate([data[..., :3] * alpha, data[..., 3:4]], axis=2)
    shrinking = width < rgba.shape[1] or height < rgba.shape[0]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    resized = cv2.resize(premultiplied, (width, height), interpolation=interpolation)
    new_alpha = np.clip(resized[..., 3:4], 0.0, 255.0)
    # Cubic overshoot could leave colour brighter than its coverage allows; clamp it back.
    colour = np.clip(resized[..., :3], 0.0, new_alpha)
    coverage = new_alpha / np.float32(255.0)
    straight = np.divide(colour, coverage, out=np.zeros_like(colour), where=coverage > 1e-6)
    out = np.concatenate([straight, new_alpha], axis=2)
    return np.clip(out + np.float32(0.5), 0, 255).astype(np.uint8)


def _blur(image: np.ndarray, sigma_x: float, sigma_y: float) -> np.ndarray:
    """Gaussian blur; wide blurs run on a downsampled copy (same look, a fraction of the cost)."""
    sigma_x, sigma_y = max(sigma_x, 0.3), max(sigma_y, 0.3)
    height, width = image.shape[:2]
    fx = max(1.0, sigma_x / 2.5)
    fy = max(1.0, sigma_y / 2.5)
    if fx <= 1.5 and fy <= 1.5:
        return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma_x, sigmaY=sigma_y), dtype=np.float32)
    small_w = max(1, int(math.ceil(width / fx)))
    small_h = max(1, int(math.ceil(height / fy)))
    small = cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma_x * small_w / width, sigmaY=sigma_y * small_h / height)
    return np.asarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


def _roi(box: Box, pad_x: float, pad_y: float, width: int, height: int) -> tuple[int, int, int, int]:
    """A padded region (x0, y0, x1, y1) around `box`, clipped to the frame."""
    x, y, w, h = box
    x0 = max(0, int(x - pad_x))
    y0 = max(0, int(y - pad_y))
    x1 = min(width, int(math.ceil(x + w + pad_x)))
    y1 = min(height, int(math.ceil(y + h + pad_y)))
    return x0, y0, x1, y1


# --------------------------------------------------------------------------- shadows


def _shadow_map(alpha: np.ndarray, box: Box, shadow: ShadowSpec, layout: Layout) -> np.ndarray:
    """Shadow strength 0..1 per pixel (H, W), before opacity."""
    on_floor = layout.mode == "center" and layout.vertical == "floor"
    if shadow.kind == "contact":
        return _contact_shadow(alpha, box, shadow)
    if on_floor:
        cast = _floor_drop_shadow(alpha, box, shadow)
        # Something standing on a floor always darkens the floor where it touches it.
        return np.maximum(cast, _contact_shadow(alpha, box, shadow) * np.float32(0.8))
    return _offset_drop_shadow(alpha, box, shadow)


def _footprint(alpha: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Columns (x) and their lowest opaque row (y) where the product touches the ground.

    A column counts when its lowest opaque pixel is close to the product's overall base,
    so a vase's foot counts and the overhang of its lip does not.
    """
    x, y, w, h = box
    solid = alpha[y : y + h, x : x + w] > 0.5
    present = solid.any(axis=0)
    lowest = h - 1 - np.argmax(solid[::-1], axis=0)
    if not present.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    base = int(lowest[present].max())
    touching = present & (lowest >= base - max(2, int(0.04 * h)))
    cols = np.flatnonzero(touching)
    return cols + x, lowest[touching] + y


def _contact_shadow(alpha: np.ndarray, box: Box, shadow: ShadowSpec) -> np.ndarray:
    height, width = alpha.shape
    _, _, w, h = box
    out = np.zeros((height, width), dtype=np.float32)
    xs, ys = _footprint(alpha, box)
    if xs.size == 0:
        return out
    # Flattened ellipse: wide and short, because we see the floor at a grazing angle.
    sigma_x = max(1.0, (0.05 + 0.1 * shadow.softness) * w)
    sigma_y = max(0.8, (0.012 + 0.03 * shadow.softness) * max(w, h))
    x0, y0, x1, y1 = _roi(box, 4 * sigma_x, 4 * sigma_y, width, height)
    seeds = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
    # Light pulls the occlusion slightly to the side away from it.
    shift = int(round(-math.cos(math.radians(shadow.direction_deg)) * sigma_x * 0.3))
    seed_x = np.clip(xs + shift, x0, x1 - 1) - x0
    seed_y = np.clip(ys + int(round(sigma_y * 0.3)), y0, y1 - 1) - y0
    seeds[seed_y, seed_x] = 1.0
    core = _blur(seeds, sigma_x * 0.2, sigma_y * 0.2)
    soft = _blur(seeds, sigma_x, sigma_y)
    core_peak, soft_peak = float(core.max()), float(soft.max())
    strength: np.ndarray = np.zeros_like(seeds)
    if core_peak > 0:
        strength = core / np.float32(core_peak) * np.float32(0.8)
    if soft_peak > 0:
        strength = strength + soft / np.float32(soft_peak) * np.float32(0.5)
    out[y0:y1, x0:x1] = np.clip(strength, 0.0, 1.0)
    return out


def _offset_drop_shadow(alpha: np.ndarray, box: Box, shadow: ShadowSpec) -> np.ndarray:
    """Silhouette shifted away from the light and blurred: a product floating above the backdrop."""
    height, width = alpha.shape
    _, _, w, h = box
    angle = math.radians(shadow.direction_deg)
    offset = shadow.distance * h
    dx, dy = -math.cos(angle) * offset, math.sin(angle) * offset
    sigma = max(0.8, (0.008 + 0.05 * shadow.softness) * max(w, h))
    pad = abs(dx) + abs(dy) + 4 * sigma
    x0, y0, x1, y1 = _roi(box, pad, pad, width, height)
    region = alpha[y0:y1, x0:x1]
    moved = cv2.warpAffine(
        region,
        np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32),
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    out = np.zeros((height, width), dtype=np.float32)
    out[y0:y1, x0:x1] = np.clip(_blur(np.asarray(moved, dtype=np.float32), sigma, sigma), 0.0, 1.0)
    return out


def _floor_drop_shadow(alpha: np.ndarray, box: Box, shadow: ShadowSpec) -> np.ndarray:
    """Silhouette laid down on the floor away from the light, sharper near the base, softer far away."""
    height, width = alpha.shape
    x, y, w, h = box
    base = float(y + h)
    angle = math.radians(shadow.direction_deg)
    length = 0.35 + 4.0 * shadow.distance
    shear = -math.cos(angle) * length
    # Light from above the horizon throws the shadow back (up the image); from below, towards the camera.
    depth = math.sin(angle) * length * 0.5
    if abs(depth) < 0.08:
        depth = 0.08 if depth >= 0 else -0.08
    # (x, y) at height t = base - y lands at (x + shear*t, base - depth*t).
    matrix = np.array([[1, -shear, shear * base], [0, depth, base * (1 - depth)]], dtype=np.float32)
    far_sigma = max(1.0, (0.01 + 0.08 * shadow.softness) * max(w, h))
    pad_x = abs(shear) * h + 3 * far_sigma
    pad_y = abs(depth) * h + 3 * far_sigma
    x0, y0, x1, y1 = _roi(box, pad_x, pad_y, width, height)
    shifted = matrix.copy()
    # Same mapping expressed in the region's own coordinates.
    shifted[0, 2] += matrix[0, 0] * x0 + matrix[0, 1] * y0 - x0
    shifted[1, 2] += matrix[1, 0] * x0 + matrix[1, 1] * y0 - y0
    region = np.ascontiguousarray(alpha[y0:y1, x0:x1])
    cast = np.asarray(
        cv2.warpAffine(region, shifted, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderValue=0),
        dtype=np.float32,
    )
    near = _blur(cast, far_sigma * 0.15, far_sigma * 0.15)
    far = _blur(cast, far_sigma, far_sigma)
    rows = np.arange(y0, y1, dtype=np.float32)[:, None]
    # How far along the shadow each row is, 0 at the base and 1 at the tip.
    along = np.clip(np.abs(rows - np.float32(base)) / np.float32(max(1.0, abs(depth) * h)), 0.0, 1.0)
    strength = (near + (far - near) * along) * (np.float32(1.0) - np.float32(0.55) * along)
    out = np.zeros((height, width), dtype=np.float32)
    out[y0:y1, x0:x1] = np.clip(strength, 0.0, 1.0)
    return out


# --------------------------------------------------------------------------- reflection, tint, wrap


def _add_reflection(background: np.ndarray, canvas: np.ndarray, box: Box, opacity: float) -> None:
    """Mirror the product below its base, fading out with distance, blended onto `background` in place."""
    height = background.shape[0]
    x, y, w, h = box
    base = y + h
    rows = min(height - base, int(h * 0.45))
    if rows <= 0:
        return
    mirrored = canvas[y:base, x : x + w][::-1][:rows].astype(np.float32)
    fade = (1.0 - np.linspace(0.0, 1.0, mirrored.shape[0], dtype=np.float32)) ** 1.6
    strength = mirrored[..., 3] / np.float32(255.0) * fade[:, None] * np.float32(opacity * 0.85)
    sigma = max(0.5, 0.006 * h)
    strength = _blur(np.ascontiguousarray(strength), sigma, sigma)
    colour = _blur(np.ascontiguousarray(mirrored[..., :3]), sigma, sigma)
    target = background[base : base + mirrored.shape[0], x : x + w]
    target += strength[..., None] * (colour - target)


def _tint(product: np.ndarray, backdrop: np.ndarray, amount: float) -> np.ndarray:
    """Nudge the product's white balance towards the backdrop's average colour (a few percent at most)."""
    mean = backdrop.reshape(-1, 3).mean(axis=0).astype(np.float32)
    grey = float(mean.mean()) or 1.0
    gains = np.float32(1.0) + np.float32(amount * 0.12) * (mean / np.float32(grey) - np.float32(1.0))
    return np.clip(product * gains, 0.0, 255.0)


def _light_wrap(
    out: np.ndarray, alpha: np.ndarray, backdrop: np.ndarray, box: Box, amount: float
) -> np.ndarray:
    """Let blurred backdrop light spill over the product's edge band so it sits in the scene."""
    band = wrap_band_px(box)
    height, width = alpha.shape
    x0, y0, x1, y1 = _roi(box, 3 * band, 3 * band, width, height)
    region_alpha = alpha[y0:y1, x0:x1]
    inside = (region_alpha > 127).astype(np.uint8)
    # Distance to the nearest outside pixel: the weight is exactly 0 from `band` inwards.
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    weight = np.clip(np.float32(1.0) - distance / np.float32(band), 0.0, 1.0) ** 2
    weight *= region_alpha.astype(np.float32) / np.float32(255.0)
    light = _blur(backdrop[y0:y1, x0:x1].astype(np.float32), band * 2.0, band * 2.0)
    strength = weight * np.float32(amount * 0.6)
    region = out[y0:y1, x0:x1]
    region += strength[..., None] * (light - region)
    return out
