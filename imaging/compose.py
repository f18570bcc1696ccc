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

`compose` is `compose_placed(prepare(...), backdrop)`: `prepare` does everything
the backdrop does not change (placement, shadow strength, the blurred reflection,
the light wrap's edge weights), so a caller can run it while the backdrop renders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from imaging.array_ops import resize_rgba

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
    height, width = backdrop_rgb.shape[:2]
    return compose_placed(prepare(product_rgba, (width, height), spec), backdrop_rgb)


@dataclass(frozen=True, eq=False)
class Prepared:
    """The half of `compose` that does not look at the backdrop, from `prepare`.

    Placement, the shadow's strength, the blurred reflection and the light wrap's edge weights
    depend only on the product, the output size and the spec, so a caller can work them out
    while the backdrop is still being rendered, then finish with `compose_placed`.
    """

    size: tuple[int, int]
    spec: ComposeSpec
    canvas: np.ndarray
    box: Box
    alpha: np.ndarray
    shadow: tuple[np.ndarray, _Rect] | None  # strength x opacity over its rectangle
    reflection: tuple[np.ndarray, np.ndarray] | None  # strength (h, w) and colour (h, w, 3)
    wrap: _WrapWeights | None


def prepare(product_rgba: np.ndarray, out_size: tuple[int, int], spec: ComposeSpec) -> Prepared:
    """Everything of `compose` that the backdrop does not change, for an output of `out_size`."""
    _check_compose_spec(spec)
    width, height = _check_size(out_size)
    canvas, box = place(product_rgba, (width, height), spec.layout)
    alpha8 = np.asarray(cv2.extractChannel(canvas, 3))
    shadow: tuple[np.ndarray, _Rect] | None = None
    if spec.shadow.kind != "none" and spec.shadow.opacity > 0:
        found = _shadow_map(alpha8, box, spec.shadow, spec.layout)
        if found is not None:
            strength, rect = found
            shadow = (strength * np.float32(spec.shadow.opacity), rect)
    reflection = _reflection(canvas, box, spec.reflection) if spec.reflection > 0 else None
    wrap = _wrap_weights(alpha8, box, spec.light_wrap) if spec.light_wrap > 0 else None
    return Prepared((width, height), spec, canvas, box, alpha8, shadow, reflection, wrap)


def compose_placed(prepared: Prepared, backdrop_rgb: np.ndarray) -> ComposeResult:
    """Finish `compose` on `backdrop_rgb` (of the prepared size): shadow, reflection, alpha-over, wrap."""
    _check_rgb(backdrop_rgb)
    height, width = backdrop_rgb.shape[:2]
    if (width, height) != prepared.size:
        raise ComposeError(
            f"the backdrop is {width}x{height} but the product was prepared for "
            f"{prepared.size[0]}x{prepared.size[1]}"
        )
    spec, canvas, box, alpha8 = prepared.spec, prepared.canvas, prepared.box, prepared.alpha
    # Only a few rectangles can differ from the backdrop: the shadow's, the product's (with its
    # reflection below it) and the light-wrap band inside the product. Float work is confined to
    # them and every other pixel is the backdrop's own byte, which is what the full-frame
    # arithmetic gave too (x * 1 + 0, rounded back), so the output is unchanged, only cheaper.
    rgb = backdrop_rgb.copy()
    shadow = prepared.shadow
    if shadow is not None:
        # The shadow outside the product's rectangle is final once rounded.
        sx0, sy0, sx1, sy1 = shadow[1]
        shaded = backdrop_rgb[sy0:sy1, sx0:sx1].astype(np.float32)
        _apply_shadow(shaded, shadow[0], spec.shadow.color)
        rgb[sy0:sy1, sx0:sx1] = _to_uint8(shaded)
        del shaded

    # The product's rectangle: where its alpha may be non-zero, extended down over the reflection.
    px0, py0, px1, py1 = _product_rect(alpha8, box)
    x, y, w, h = box
    base = y + h
    reflection_rows = min(height - base, int(h * 0.45)) if spec.reflection > 0 else 0
    qx0, qy0 = min(px0, x), min(py0, y)
    qx1, qy1 = max(px1, x + w), max(py1, base + max(0, reflection_rows))
    if qx1 <= qx0 or qy1 <= qy0:
        return ComposeResult(rgb=rgb, product_box=box, alpha=alpha8)
    background = backdrop_rgb[qy0:qy1, qx0:qx1].astype(np.float32)
    if shadow is not None:
        strength, (sx0, sy0, sx1, sy1) = shadow
        ix0, iy0, ix1, iy1 = max(sx0, qx0), max(sy0, qy0), min(sx1, qx1), min(sy1, qy1)
        if ix1 > ix0 and iy1 > iy0:
            _apply_shadow(
                background[iy0 - qy0 : iy1 - qy0, ix0 - qx0 : ix1 - qx0],
                strength[iy0 - sy0 : iy1 - sy0, ix0 - sx0 : ix1 - sx0],
                spec.shadow.color,
            )
    if prepared.reflection is not None:
        _add_reflection(background, prepared.reflection, box, (qx0, qy0))

    # Alpha-over inside the product's own rectangle; outside it alpha is 0 and `out` is the background.
    out = background
    region = (slice(py0 - qy0, py1 - qy0), slice(px0 - qx0, px1 - qx0))
    product = canvas[py0:py1, px0:px1, :3].astype(np.float32)
    if spec.tint > 0:
        product = _tint(product, backdrop_rgb, spec.tint)
    a = _per_channel(alpha8[py0:py1, px0:px1].astype(np.float32) / np.float32(255.0))
    # Straight colour x alpha is the premultiplied product; where alpha is exactly 1 this is the
    # product's own value, bit for bit.
    under = out[region]
    under *= np.float32(1.0) - a
    product *= a
    under += product
    del product, a
    if prepared.wrap is not None:
        _light_wrap(out, prepared.wrap, backdrop_rgb, (qx0, qy0, qx1, qy1))
    rgb[qy0:qy1, qx0:qx1] = _to_uint8(out)
    return ComposeResult(rgb=rgb, product_box=box, alpha=alpha8)


_Rect = tuple[int, int, int, int]


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Round float colour to uint8 exactly as np.clip(values + 0.5, 0, 255).astype(np.uint8), in place."""
    values += np.float32(0.5)
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)


def _per_channel(values: np.ndarray) -> np.ndarray:
    """An (H, W) map repeated over three channels.

    NumPy's broadcasting of (H, W, 1) or (3,) against (H, W, 3) runs a slow inner loop of
    length 3 (five times slower than same-shape arithmetic here), so per-pixel weights are
    expanded once by OpenCV and per-channel constants go through cv2 with a Scalar.
    """
    return np.asarray(cv2.cvtColor(values, cv2.COLOR_GRAY2RGB))


def _apply_shadow(background: np.ndarray, strength: np.ndarray, colour: tuple[int, int, int]) -> None:
    shade = (float(colour[0]), float(colour[1]), float(colour[2]), 0.0)
    # shade - background, exactly (a float32 Scalar, subtracted per channel). OpenCV's stubs
    # lack the Scalar overload that the runtime accepts.
    delta = np.asarray(cv2.subtract(shade, background))  # type: ignore[call-overload]
    delta *= _per_channel(np.ascontiguousarray(strength))
    background += delta


def _product_rect(alpha: np.ndarray, box: Box) -> _Rect:
    """The rectangle outside which the placed alpha is 0 (x0, y0, x1, y1)."""
    x, y, w, h = box
    # A scaled product is pasted at its box only; a product kept at its own size may carry faint
    # haze outside the box, so look for it in the four strips around the box.
    band = alpha[y : y + h]
    if not (alpha[:y].any() or alpha[y + h :].any() or band[:, :x].any() or band[:, x + w :].any()):
        return x, y, x + w, y + h
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


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
    return resize_rgba(rgba, width, height)


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
#
# A shadow map is (strength, rect): strength 0..1 (before opacity) over the rectangle
# rect = (x0, y0, x1, y1) of the frame, trimmed to where it is non-zero; 0 everywhere else.
# `alpha` is the placed uint8 alpha; each helper converts only the region it reads.

_ShadowMap = tuple[np.ndarray, _Rect]


def _alpha_f(alpha: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """A region of the uint8 alpha as float 0..1 (the same values a full-frame conversion gives)."""
    return alpha[y0:y1, x0:x1].astype(np.float32) / np.float32(255.0)


def _trimmed(strength: np.ndarray, rect: _Rect) -> _ShadowMap | None:
    """Cut a region's map down to its non-zero rows and columns: the rest changes nothing."""
    nonzero = strength != 0
    rows = np.flatnonzero(nonzero.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(nonzero.any(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    x0, y0 = rect[0], rect[1]
    return strength[r0:r1, c0:c1], (x0 + c0, y0 + r0, x0 + c1, y0 + r1)


def _shadow_map(alpha: np.ndarray, box: Box, shadow: ShadowSpec, layout: Layout) -> _ShadowMap | None:
    """Shadow strength 0..1 per pixel, before opacity, or None when there is none."""
    on_floor = layout.mode == "center" and layout.vertical == "floor"
    if shadow.kind == "contact":
        return _contact_shadow(alpha, box, shadow)
    if on_floor:
        cast = _floor_drop_shadow(alpha, box, shadow)
        contact = _contact_shadow(alpha, box, shadow)
        if contact is None:
            return cast
        # Something standing on a floor always darkens the floor where it touches it.
        touch = contact[0] * np.float32(0.8)
        if cast is None:
            return touch, contact[1]
        (cx0, cy0, cx1, cy1), (tx0, ty0, tx1, ty1) = cast[1], contact[1]
        x0, y0, x1, y1 = min(cx0, tx0), min(cy0, ty0), max(cx1, tx1), max(cy1, ty1)
        merged = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
        merged[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] = cast[0]
        spot = merged[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0]
        np.maximum(spot, touch, out=spot)
        return merged, (x0, y0, x1, y1)
    return _offset_drop_shadow(alpha, box, shadow)


def _footprint(alpha: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Columns (x) and their lowest opaque row (y) where the product touches the ground.

    A column counts when its lowest opaque pixel is close to the product's overall base,
    so a vase's foot counts and the overhang of its lip does not.
    """
    x, y, w, h = box
    # alpha / 255 > 0.5 on uint8 is alpha > 127.
    solid = alpha[y : y + h, x : x + w] > 127
    present = solid.any(axis=0)
    lowest = h - 1 - np.argmax(solid[::-1], axis=0)
    if not present.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    base = int(lowest[present].max())
    touching = present & (lowest >= base - max(2, int(0.04 * h)))
    cols = np.flatnonzero(touching)
    return cols + x, lowest[touching] + y


def _contact_shadow(alpha: np.ndarray, box: Box, shadow: ShadowSpec) -> _ShadowMap | None:
    height, width = alpha.shape
    _, _, w, h = box
    xs, ys = _footprint(alpha, box)
    if xs.size == 0:
        return None
    # Flattened ellipse: wide and short, because we see the floor at a grazing angle.
    sigma_x = max(1.0, (0.05 + 0.1 * shadow.softness) * w)
    sigma_y = max(0.8, (0.012 + 0.03 * shadow.softness) * max(w, h))
    x0, y0, x1, y1 = _roi(box, 4 * sigma_x, 4 * sigma_y, width, height)
    # Light pulls the occlusion slightly to the side away from it.
    shift = int(round(-math.cos(math.radians(shadow.direction_deg)) * sigma_x * 0.3))
    seed_x = np.clip(xs + shift, x0, x1 - 1) - x0
    seed_y = np.clip(ys + int(round(sigma_y * 0.3)), y0, y1 - 1)
    # The seeds lie in a thin band at the product's base; the blur reaches 4 sigma (and a cell of
    # its downsampled grid) beyond it. Only those rows are worked, not the product's whole height.
    reach = int(math.ceil(4.0 * sigma_y + 2.0 * max(1.0, sigma_y / 2.5))) + 1
    y0, y1 = max(y0, int(seed_y.min()) - reach), min(y1, int(seed_y.max()) + 1 + reach)
    seeds = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
    seeds[seed_y - y0, seed_x] = 1.0
    core = _blur(seeds, sigma_x * 0.2, sigma_y * 0.2)
    soft = _blur(seeds, sigma_x, sigma_y)
    core_peak, soft_peak = float(core.max()), float(soft.max())
    # core / peak * 0.8 + soft / peak * 0.5, clipped, worked in place.
    if core_peak > 0:
        strength = core
        strength /= np.float32(core_peak)
        strength *= np.float32(0.8)
    else:
        strength = np.zeros_like(seeds)
    if soft_peak > 0:
        soft /= np.float32(soft_peak)
        soft *= np.float32(0.5)
        strength += soft
    np.clip(strength, 0.0, 1.0, out=strength)
    return _trimmed(strength, (x0, y0, x1, y1))


def _offset_drop_shadow(alpha: np.ndarray, box: Box, shadow: ShadowSpec) -> _ShadowMap | None:
    """Silhouette shifted away from the light and blurred: a product floating above the backdrop."""
    height, width = alpha.shape
    _, _, w, h = box
    angle = math.radians(shadow.direction_deg)
    offset = shadow.distance * h
    dx, dy = -math.cos(angle) * offset, math.sin(angle) * offset
    sigma = max(0.8, (0.008 + 0.05 * shadow.softness) * max(w, h))
    pad = abs(dx) + abs(dy) + 4 * sigma
    x0, y0, x1, y1 = _roi(box, pad, pad, width, height)
    region = _alpha_f(alpha, x0, y0, x1, y1)
    moved = cv2.warpAffine(
        region,
        np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32),
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    strength = np.clip(_blur(np.asarray(moved, dtype=np.float32), sigma, sigma), 0.0, 1.0)
    return _trimmed(strength, (x0, y0, x1, y1))


def _floor_drop_shadow(alpha: np.ndarray, box: Box, shadow: ShadowSpec) -> _ShadowMap | None:
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
    region = _alpha_f(alpha, x0, y0, x1, y1)
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
    return _trimmed(np.clip(strength, 0.0, 1.0), (x0, y0, x1, y1))


# --------------------------------------------------------------------------- reflection, tint, wrap


def _reflection(canvas: np.ndarray, box: Box, opacity: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The product mirrored below its base, fading out with distance: (strength, colour), both blurred."""
    height = canvas.shape[0]
    x, y, w, h = box
    base = y + h
    rows = min(height - base, int(h * 0.45))
    if rows <= 0:
        return None
    mirrored = canvas[y:base, x : x + w][::-1][:rows].astype(np.float32)
    fade = (1.0 - np.linspace(0.0, 1.0, mirrored.shape[0], dtype=np.float32)) ** 1.6
    strength = mirrored[..., 3] / np.float32(255.0) * fade[:, None] * np.float32(opacity * 0.85)
    sigma = max(0.5, 0.006 * h)
    strength = _blur(np.ascontiguousarray(strength), sigma, sigma)
    colour = _blur(np.ascontiguousarray(mirrored[..., :3]), sigma, sigma)
    return strength, colour


def _add_reflection(
    background: np.ndarray, reflection: tuple[np.ndarray, np.ndarray], box: Box, origin: tuple[int, int]
) -> None:
    """Blend the `_reflection` below the product's base onto `background` in place.

    `background` covers the frame from `origin` (x, y) to the frame's right and bottom reach it needs;
    `box` is in frame coordinates.
    """
    strength, colour = reflection
    x, y, w, h = box
    base = y + h
    ox, oy = origin
    target = background[base - oy : base - oy + strength.shape[0], x - ox : x - ox + w]
    target += strength[..., None] * (colour - target)


def _tint(product: np.ndarray, backdrop: np.ndarray, amount: float) -> np.ndarray:
    """Nudge the product's white balance towards the backdrop's average colour (a few percent at most)."""
    mean = backdrop.reshape(-1, 3).mean(axis=0).astype(np.float32)
    grey = float(mean.mean()) or 1.0
    gains = np.float32(1.0) + np.float32(amount * 0.12) * (mean / np.float32(grey) - np.float32(1.0))
    return np.clip(product * gains, 0.0, 255.0)


@dataclass(frozen=True, eq=False)
class _WrapWeights:
    """Where light wrap acts: the frame region (x0, y0, x1, y1) it reads, the blur band, and the
    region-relative pixels (xs, ys) with their strengths."""

    region: _Rect
    band: int
    xs: np.ndarray
    ys: np.ndarray
    strength: np.ndarray


def _wrap_weights(alpha: np.ndarray, box: Box, amount: float) -> _WrapWeights | None:
    """The light wrap's per-pixel strengths in the product's edge band (they depend on alpha only)."""
    band = wrap_band_px(box)
    height, width = alpha.shape
    x0, y0, x1, y1 = _roi(box, 3 * band, 3 * band, width, height)
    region_alpha = alpha[y0:y1, x0:x1]
    inside = (region_alpha > 127).astype(np.uint8)
    # Distance to the nearest outside pixel: the weight is exactly 0 from `band` inwards.
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    # Only pixels nearer the edge than `band` with some alpha can get a non-zero weight; the weight
    # is evaluated at those alone (the same float32 arithmetic, on far fewer pixels).
    near = (distance < np.float32(band)) & (region_alpha > 0)
    points = cv2.findNonZero(near.view(np.uint8))
    if points is None:
        return None
    points = points.reshape(-1, 2)
    xs, ys = points[:, 0].astype(np.intp), points[:, 1].astype(np.intp)
    weight = np.clip(np.float32(1.0) - distance[ys, xs] / np.float32(band), 0.0, 1.0) ** 2
    weight *= region_alpha[ys, xs].astype(np.float32) / np.float32(255.0)
    strength = weight * np.float32(amount * 0.6)
    return _WrapWeights((x0, y0, x1, y1), band, xs, ys, strength)


def _light_wrap(out: np.ndarray, wrap: _WrapWeights, backdrop: np.ndarray, rect: _Rect) -> None:
    """Let blurred backdrop light spill over the product's edge band so it sits in the scene.

    `out` is the composed rectangle `rect` (x0, y0, x1, y1) of the frame, updated in place; it
    holds every pixel with non-zero alpha, the only ones the wrap changes.
    """
    x0, y0, x1, y1 = wrap.region
    xs, ys, band = wrap.xs, wrap.ys, wrap.band
    light = _blur(backdrop[y0:y1, x0:x1].astype(np.float32), band * 2.0, band * 2.0)
    # Flat pixel indices: a single-axis take/put is much cheaper than two-array fancy indexing.
    at_out = (ys + (y0 - rect[1])) * out.shape[1] + (xs + (x0 - rect[0]))
    flat_out = out.reshape(-1, 3)
    values = flat_out.take(at_out, axis=0)
    values += wrap.strength[:, None] * (light.reshape(-1, 3).take(ys * light.shape[1] + xs, axis=0) - values)
    flat_out[at_out] = values
