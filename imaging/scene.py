"""Photographic scenes for the local engine: a set seen by a camera, lit by a light, with the product in it.

This module owns `render_scene` (the empty set: a wall and a table in perspective, or a flat lay,
or the user's own plate photo; lit, tinted and with depth of field) and `place_product` (the
product standing on the table with its cast shadow, contact occlusion, reflection, and its
colour, grain and sharpness matched to the set). The value types live in `imaging.scene_model`,
the camera in `imaging.scene_geometry`, the light in `imaging.scene_light`, the product's marks
in `imaging.scene_shadow`, the product's colour in `imaging.harmonize`; this module puts them
together and re-exports what a caller needs.

Order of work on the set: textures -> light (ambient + key x falloff x gobo, in the light's
colour) -> corner occlusion where the wall meets the table -> depth of field. On the product:
cast shadow and contact occlusion on the set -> the product's own light (side gradient, gobo)
and harmonisation -> reflection -> alpha-over -> light wrap (part of harmonisation).

Every random choice comes from the seed: the same spec, size and seed give identical bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from imaging.harmonize import HarmonizeSpec, harmonize
from imaging.scene_geometry import SceneGeometry, build_geometry
from imaging.scene_light import LightRig, gobo_factor, key_map, light_rig, pattern_on_product
from imaging.scene_model import (
    RGB,
    Box,
    Camera,
    Light,
    SceneError,
    SceneSpec,
    TextureMaker,
    Viewpoint,
    check_rgba,
    check_size,
    check_spec,
    check_texture,
)
from imaging.scene_ops import Rect, blur, channels, clip_rect, inverse_warp, luma_of, resize_rgba, to_uint8
from imaging.scene_shadow import reflection, shadow_maps
from imaging.scene_view import infer_viewpoint

__all__ = [
    "Box",
    "Camera",
    "HarmonizeSpec",
    "Light",
    "SceneCanvas",
    "SceneError",
    "SceneResult",
    "SceneSpec",
    "TextureMaker",
    "Viewpoint",
    "infer_viewpoint",
    "place_product",
    "render_scene",
]

# A perspective table texture may be this many times the frame's pixels; beyond, it is mirrored.
_TEXTURE_BUDGET = 1.6
# Depth of field: blur sigma (fraction of the shorter side) at focus_blur 1 for a point twice as far.
_DOF = 0.045
_SWEEP_BAND = 0.07
# Share of the frame's width kept free beside a product placed off centre.
_SIDE_AIR = 0.04


@dataclass(frozen=True, eq=False)
class SceneCanvas:
    """The empty set and what `place_product` needs to know about it.

    `rgb` is float32 (H, W, 3) in 0..1. `depth` gives each row's distance from the camera (the
    product's base is at 1; the wall rows all at the wall's depth). `key` is the key light's
    irradiance per pixel (gobo included, 1 at the base), `rig` the light's colours.
    """

    rgb: np.ndarray
    geometry: SceneGeometry
    depth: np.ndarray
    key: np.ndarray
    rig: LightRig
    plate: bool

    @property
    def horizon_y(self) -> float | None:
        return self.geometry.horizon_y

    @property
    def base(self) -> tuple[float, float]:
        """Where the product's base goes: (x of its centre, row of its lowest point)."""
        return self.geometry.base_x, self.geometry.base_y

    @property
    def px_per_unit(self) -> float:
        """Pixels per world unit at the product's depth (its height in px over its height in units)."""
        return self.geometry.focal


@dataclass(frozen=True, eq=False)
class SceneResult:
    """The finished photo (uint8 RGB), where the product landed (x, y, w, h), and its placed alpha."""

    rgb: np.ndarray
    product_box: Box
    alpha: np.ndarray


# --------------------------------------------------------------------------- the set


def render_scene(spec: SceneSpec, size: tuple[int, int], seed: int) -> SceneCanvas:
    """Render the empty set of `spec` at `size` = (width, height), deterministic in `seed`."""
    width, height = check_size(size)
    check_spec(spec)
    geometry = build_geometry(
        spec.camera, (width, height), product_x=spec.product_x, plate_surface=spec.plate_surface
    )
    rig = light_rig(spec.light)
    gobo = gobo_factor(geometry, spec.light)
    if spec.plate is not None:
        rgb = _plate(spec.plate, width, height)
        # The plate brings its own light; only a gobo is added, and the shadows' key share.
        key = np.ones((height, width), np.float32)
        if gobo is not None:
            key *= gobo
            rgb *= channels(_relative_light(rig, key))
        return SceneCanvas(rgb, geometry, geometry.depth_rows(), key, _neutral(rig), plate=True)

    albedo = _albedo(spec, geometry, seed)
    key = key_map(geometry, spec.light)
    if spec.surface is None and not geometry.flat:
        # A paper sweep curves from wall to floor: no corner, so no step in the light either.
        key = blur(key, 0.5, _SWEEP_BAND * height * 0.6)
    if gobo is not None:
        key *= gobo
    # One pass per pixel: light_c = key_c * key + ambient_c as an affine colour transform.
    mixing = np.array([[rig.key[c], rig.ambient[c]] for c in range(3)], np.float32)
    light = cv2.transform(key.reshape(height, width, 1), mixing)
    rgb = np.asarray(cv2.multiply(albedo, light), np.float32)
    del albedo, light
    if not geometry.flat and spec.surface is not None:
        _corner_occlusion(rgb, geometry)
    depth = geometry.depth_rows()
    if not geometry.flat and spec.camera.focus_blur > 0:
        rgb = _depth_of_field(rgb, depth, spec.camera.focus_blur)
    return SceneCanvas(rgb, geometry, depth, key, rig, plate=False)


def _plate(plate: np.ndarray, width: int, height: int) -> np.ndarray:
    """The plate photo cover-fitted to the frame (scaled to cover, centre cropped), float 0..1."""
    src_h, src_w = plate.shape[:2]
    factor = max(width / src_w, height / src_h)
    new_w = max(width, int(math.ceil(src_w * factor - 1e-6)))
    new_h = max(height, int(math.ceil(src_h * factor - 1e-6)))
    interpolation = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_CUBIC
    resized = cv2.resize(plate, (new_w, new_h), interpolation=interpolation)
    x0, y0 = (new_w - width) // 2, (new_h - height) // 2
    crop = np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])
    return crop.astype(np.float32) / np.float32(255.0)


def _neutral(rig: LightRig) -> LightRig:
    """The rig's shares without its colours: a plate's own colours stay as photographed."""
    key = float(luma_of(rig.key))
    ambient = float(luma_of(rig.ambient))
    return LightRig(key=np.full(3, key, np.float32), ambient=np.full(3, ambient, np.float32))


def _relative_light(rig: LightRig, key: np.ndarray) -> np.ndarray:
    """Light brightness relative to the fully lit set, (H, W)."""
    k, a = float(luma_of(rig.key)), float(luma_of(rig.ambient))
    return (np.float32(a) + np.float32(k) * key) / np.float32(a + k)


def _solid(colour: RGB, width: int, height: int) -> np.ndarray:
    return np.full((height, width, 3), np.asarray(colour, np.float32) / np.float32(255.0), np.float32)


def _make(maker: TextureMaker, size: tuple[int, int], seed: int, name: str) -> np.ndarray:
    return check_texture(maker(size, seed), size, name)


def _albedo(spec: SceneSpec, geometry: SceneGeometry, seed: int) -> np.ndarray:
    """The set's own colours before light: wall above the horizon, table below, or a flat lay."""
    width, height = geometry.width, geometry.height
    if geometry.flat:
        if spec.surface is None:
            return _solid(spec.surface_colour, width, height)
        texture = _make(spec.surface, (width, height), seed, "surface")
        # Seen from straight above the texture may lie either way round: the seed turns it, so
        # even a texture maker that ignores the seed gives variants.
        flips = int(np.random.default_rng(seed % (2**63)).integers(4))
        if flips & 1:
            texture = texture[:, ::-1]
        if flips & 2:
            texture = texture[::-1]
        return np.ascontiguousarray(texture)
    assert geometry.horizon_y is not None
    horizon = geometry.horizon_y
    out = np.empty((height, width, 3), np.float32)
    if spec.surface is None:
        # A seamless paper sweep: wall colour curving into floor colour through a soft cove.
        rows = np.arange(height, dtype=np.float32) + np.float32(0.5)
        band = _SWEEP_BAND * height
        ramp = ((rows - (horizon - band)) / np.float32(2 * band)).clip(0, 1)
        t = np.ascontiguousarray(np.broadcast_to(ramp[:, None], (height, width)))
        t = t * t * (np.float32(3.0) - np.float32(2.0) * t)
        wall = np.asarray(spec.wall_colour, np.float32) / np.float32(255.0)
        floor = np.asarray(spec.surface_colour, np.float32) / np.float32(255.0)
        return np.asarray(cv2.merge([wall[c] + (floor[c] - wall[c]) * t for c in range(3)]))
    split = min(height, int(math.ceil(horizon)) + 1)
    if spec.wall is not None:
        # The wall's own seed stream, so changing the table never changes the wall.
        out[:split] = _make(spec.wall, (width, split), seed * 7919 + 17, "wall")
    else:
        out[:split] = _studio_wall(spec.wall_colour, width, split)
    ground_top = max(0, int(math.floor(horizon)))
    ground = _table(spec.surface, geometry, seed, ground_top)
    # The row the horizon crosses is mixed by how much of it is table.
    share = np.float32(min(1.0, max(0.0, ground_top + 1 - horizon)))
    out[ground_top + 1 :] = ground[1:]
    out[ground_top] = out[ground_top] * (np.float32(1.0) - share) + ground[0] * share
    return out


def _studio_wall(colour: RGB, width: int, rows: int) -> np.ndarray:
    """A plain painted wall: its colour, a touch darker towards the top (further from the light)."""
    base = np.asarray(colour, np.float32) / np.float32(255.0)
    shade = np.linspace(0.94, 1.0, rows, dtype=np.float32)[:, None]
    shade = np.ascontiguousarray(np.broadcast_to(shade, (rows, width)))
    return np.asarray(cv2.merge([base[c] * shade for c in range(3)]))


def _table(maker: TextureMaker, geometry: SceneGeometry, seed: int, top: int) -> np.ndarray:
    """The table texture in perspective for rows `top`.. of the frame.

    The flat texture is rendered once, about as fine as the frame at the product's depth (within
    a pixel budget), and mapped through the table's homography. Far rows squeeze the texture
    along the depth axis only, so they sample vertically pre-shrunk copies (an anisotropic
    mip-map blended per row) instead of aliasing.
    """
    assert geometry.vanish_y is not None
    width, height = geometry.width, geometry.height
    f, r = geometry.focal, geometry.wall_depth
    near = f * geometry.camera_height / (height - geometry.vanish_y)
    span_x, span_d = width * r, (r - near) * f  # texture px at scale 1 (1 px = 1 frame px at depth 1)
    budget = _TEXTURE_BUDGET * width * height
    scale = min(1.0, max(0.6, math.sqrt(budget / max(span_x * span_d, 1.0))))
    tex_w = int(math.ceil(span_x * scale * 1.06))
    tex_h = int(min(math.ceil(span_d * scale), max(16, budget // tex_w)))
    texture = _make(maker, (tex_w, tex_h), seed, "surface")
    rng = np.random.default_rng(seed % (2**63))
    shift = float(rng.uniform(-0.025, 0.025)) * tex_w
    k = f * scale
    # Table (X, D) -> texture px: X = 0 in the middle, the nearest visible row at the bottom edge.
    ground_to_texture = np.array(
        [[k, 0.0, tex_w / 2.0 + shift], [0.0, -k, tex_h + near * k], [0.0, 0.0, 1.0]]
    )
    frame_to_texture = ground_to_texture @ geometry.image_to_ground()
    rows = np.arange(top, height, dtype=np.float64) + 0.5
    # Texture rows per frame row (the depth-axis squeeze), as a mip level per row.
    squeeze = k * f * geometry.camera_height / np.maximum(rows - geometry.vanish_y, 1e-6) ** 2
    level = np.clip(np.log2(np.maximum(squeeze, 1.0)), 0.0, 4.0).astype(np.float32)
    out = np.zeros((height - top, width, 3), np.float32)
    source = texture
    for step in range(int(math.ceil(float(level.max()))) + 1):
        if step > 0:
            # Halve along the depth axis only: the across axis is not squeezed on a receding table.
            rows_even = source.shape[0] // 2 * 2
            source = np.asarray(cv2.addWeighted(source[0:rows_even:2], 0.5, source[1:rows_even:2], 0.5, 0.0))
        weight = np.clip(1.0 - np.abs(level - step), 0.0, 1.0)
        used = np.flatnonzero(weight > 0)
        if used.size == 0:
            continue
        r0, r1 = int(used[0]), int(used[-1]) + 1
        squash = np.array([[1.0, 0.0, 0.0], [0.0, source.shape[0] / tex_h, 0.0], [0.0, 0.0, 1.0]])
        band = inverse_warp(source, squash @ frame_to_texture, (0, top + r0, width, top + r1))
        _add_rows(out[r0:r1], band, weight[r0:r1])
    return out


def _corner_occlusion(rgb: np.ndarray, geometry: SceneGeometry) -> None:
    """Darken where the wall meets the table: less light reaches into a corner."""
    assert geometry.horizon_y is not None
    height = geometry.height
    band = max(1.5, 0.012 * height)
    top = max(0, int(geometry.horizon_y - 5 * band))
    bottom = min(height, int(geometry.horizon_y + 3 * band) + 1)
    rows = np.arange(top, bottom, dtype=np.float32) + np.float32(0.5)
    distance = rows - np.float32(geometry.horizon_y)
    # The table side is foreshortened: its occlusion looks thinner than the wall's.
    reach = np.where(distance < 0, np.float32(band), np.float32(band * 0.5))
    shade = np.float32(1.0) - np.float32(0.2) * np.exp(-np.abs(distance) / reach)
    rgb[top:bottom] *= shade[:, None, None]


def _depth_of_field(rgb: np.ndarray, depth: np.ndarray, strength: float) -> np.ndarray:
    """Blur growing with each row's distance from the product's depth, by blending a few blur levels.

    The circle of confusion of a point at depth D with focus at 1 is proportional to |D - 1| / D.
    Depth only changes with the row (the table recedes along rows, the wall is one depth), so the
    level weights are per row, and every level is a downsampled blur of the whole frame.
    """
    height, width = rgb.shape[:2]
    sigma = strength * _DOF * min(height, width) * np.abs(depth - 1.0) / depth
    top = float(sigma.max())
    if top < 0.4:
        return rgb
    levels = [0.0, top / 3.0, 2.0 * top / 3.0, top]
    position = np.clip(sigma / np.float32(top / 3.0), 0.0, 3.0)
    # The blurred levels all start from one half-size copy: a blur of 1.3 px or more loses
    # nothing to it, and each level then costs a quarter of the work.
    small_w, small_h = (width + 1) // 2, (height + 1) // 2
    small = np.asarray(cv2.resize(rgb, (small_w, small_h), interpolation=cv2.INTER_AREA))
    out = np.zeros_like(rgb)
    for index, level in enumerate(levels):
        weight = np.clip(1.0 - np.abs(position - index), 0.0, 1.0).astype(np.float32)
        used = np.flatnonzero(weight > 0)
        if used.size == 0:
            continue
        r0, r1 = int(used[0]), int(used[-1]) + 1
        if level <= 0:
            _add_rows(out[r0:r1], rgb[r0:r1], weight[r0:r1])
            continue
        # Blur a band a little wider than the rows that use it, so its edges see their neighbours.
        pad = int(3 * level) + 4
        s0, s1 = max(0, (r0 - pad) // 2), min(small_h, (r1 + pad + 1) // 2)
        # Halving and doubling again already blur by about half a pixel.
        blurred = blur(small[s0:s1], math.sqrt(max(level * level - 1.0, 0.1)) / 2.0)
        band = cv2.resize(blurred, (width, (s1 - s0) * 2), interpolation=cv2.INTER_LINEAR)
        _add_rows(out[r0:r1], band[r0 - 2 * s0 : r1 - 2 * s0], weight[r0:r1])
    return out


def _add_rows(out: np.ndarray, values: np.ndarray, weight: np.ndarray) -> None:
    """out += values * weight per row, in place (rows of weight 1 are a plain add).

    Viewed as (rows, W * 3) the per-row weight broadcasts along the contiguous axis, which NumPy
    runs fast (an (rows, 1, 1) weight against (rows, W, 3) takes a slow inner loop of 3).
    """
    rows = out.shape[0]
    flat_out = out.reshape(rows, -1)
    flat_values = values.reshape(rows, -1)
    if bool((weight >= 1.0).all()):
        flat_out += flat_values
        return
    flat_out += flat_values * weight[:, None].astype(np.float32)


# --------------------------------------------------------------------------- the product


def place_product(canvas: SceneCanvas, product_rgba: np.ndarray, spec: SceneSpec, seed: int) -> SceneResult:
    """Stand the product (RGBA uint8 cutout) in the set: shadows, reflection, light and colour matched."""
    check_rgba(product_rgba)
    check_spec(spec)
    geometry = canvas.geometry
    height, width = canvas.rgb.shape[:2]
    solid = product_rgba[..., 3] > 16
    rows, cols = np.flatnonzero(solid.any(axis=1)), np.flatnonzero(solid.any(axis=0))
    if rows.size == 0:
        raise SceneError("the product has no visible pixels (its alpha is empty); check the cutout")
    crop = product_rgba[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    bh, bw = crop.shape[:2]

    if geometry.flat:
        scale = spec.product_fill * min(geometry.max_product_w / bw, geometry.max_product_h / bh)
    else:
        # A wide product (a shoe, headphones) is limited by the frame's width too, by a share that
        # grows with the fill, so it never touches both edges of the frame.
        width_share = min(1.0, spec.product_fill + 0.15)
        scale = min(
            spec.product_fill * geometry.max_product_h / bh, width_share * geometry.max_product_w / bw
        )
    tw, th = max(1, int(round(bw * scale))), max(1, int(round(bh * scale)))
    tw, th = min(tw, width), min(th, height)
    colour, alpha = resize_rgba(crop, tw, th)
    # Off-centre placements keep a little air between the product and the frame's side.
    side = min(_SIDE_AIR * width, max(0.0, (width - tw) / 2.0))
    px = int(round(min(max(geometry.centre_x(spec.product_x) - tw / 2.0, side), width - tw - side)))
    # Standing, the base's lowest row sits on the base line; lying flat, the product is centred.
    py = int(round(geometry.base_y - th / 2.0)) if geometry.flat else int(round(geometry.base_y)) - th
    py = min(max(py, 0), height - th)
    box = (px, py, tw, th)

    shadows = shadow_maps(geometry, spec.light, alpha, (px, py), box)
    work = _work_rect(box, shadows.rect if shadows else None, geometry, spec)
    wx0, wy0, wx1, wy1 = work
    out = canvas.rgb[wy0:wy1, wx0:wx1].copy()
    if shadows is not None:
        _darken(out, canvas, shadows.rect, shadows.cast, shadows.occlusion, work)

    lit = _light_product(colour, canvas, spec.light, box)
    local = (px - wx0, py - wy0)
    region = (slice(local[1], local[1] + th), slice(local[0], local[0] + tw))
    reference = _reference(canvas, box)
    scene_light = _scene_light(canvas, box)
    harmony = spec.harmony
    if not canvas.plate:
        # A rendered set has no sensor noise to match; the product keeps its own.
        harmony = replace(harmony, grain=0.0)
    harmonized = harmonize(lit, alpha, out[region], scene_light, harmony, seed, reference=reference)
    mirrored = reflection(geometry, harmonized.rgb, alpha, (px, py), box, spec.surface_gloss)
    if mirrored is not None:
        rx0, ry0, rx1, ry1 = mirrored.rect
        target = out[ry0 - wy0 : ry1 - wy0, rx0 - wx0 : rx1 - wx0]
        target += channels(mirrored.strength) * (mirrored.colour - target)
    under = out[region]
    a3 = channels(alpha)
    under *= np.float32(1.0) - a3
    under += harmonized.rgb * a3

    rgb8 = to_uint8(canvas.rgb)
    rgb8[wy0:wy1, wx0:wx1] = to_uint8(out)
    placed = np.zeros((height, width), np.uint8)
    placed[py : py + th, px : px + tw] = to_uint8(alpha)
    return SceneResult(rgb=rgb8, product_box=box, alpha=placed)


def _work_rect(box: Box, shadow: Rect | None, geometry: SceneGeometry, spec: SceneSpec) -> Rect:
    """The frame rectangle that can change: product, its shadows and its reflection."""
    x, y, w, h = box
    x0, y0, x1, y1 = x, y, x + w, y + h
    if shadow is not None:
        x0, y0, x1, y1 = min(x0, shadow[0]), min(y0, shadow[1]), max(x1, shadow[2]), max(y1, shadow[3])
    if spec.surface_gloss > 0:
        y1 = max(y1, y + h + int(0.6 * h))
    return clip_rect((x0, y0, x1, y1), geometry.width, geometry.height)


def _darken(
    out: np.ndarray, canvas: SceneCanvas, rect: Rect, cast: np.ndarray, occlusion: np.ndarray, work: Rect
) -> None:
    """Take the cast shadow's share of the key light (per channel) and the occlusion's of all light."""
    x0, y0, x1, y1 = rect
    wx0, wy0 = work[0], work[1]
    key = canvas.key[y0:y1, x0:x1]
    rig = canvas.rig
    removed = cast * key
    planes = []
    for c in range(3):
        total = np.float32(rig.ambient[c]) + np.float32(rig.key[c]) * key
        keep = np.float32(1.0) - np.float32(rig.key[c]) * removed / total
        planes.append(keep * (np.float32(1.0) - occlusion))
    target = out[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0]
    target *= cv2.merge(planes)


def _light_product(colour: np.ndarray, canvas: SceneCanvas, light: Light, box: Box) -> np.ndarray:
    """The set's light on the product, softly: brighter on the side the light comes from, and the gobo.

    The product was lit in its own photo; only a gentle part of the new light is added, so its
    own shading still reads (at most 30 % of the gobo's depth, a few percent of side gradient).
    """
    x, y, w, h = box
    side = math.cos(math.radians(light.azimuth_deg)) * math.cos(math.radians(light.elevation_deg))
    amount = 0.08 * light.strength * (1.0 - 0.5 * light.softness) * side
    across = (np.arange(w, dtype=np.float32) + np.float32(0.5)) / np.float32(w) * np.float32(
        2.0
    ) - np.float32(1.0)
    factor = np.ascontiguousarray(np.broadcast_to(np.float32(1.0) + np.float32(amount) * across, (h, w)))
    pattern = pattern_on_product(canvas.geometry, light, (x, y, x + w, y + h))
    if pattern is not None:
        share = float(luma_of(canvas.rig.key)) / float(luma_of(canvas.rig.key + canvas.rig.ambient))
        depth = np.float32(0.3 * light.pattern_strength * share)
        factor = factor * (np.float32(1.0) - depth * (np.float32(1.0) - pattern))
    return np.asarray(colour * channels(factor), np.float32)


def _reference(canvas: SceneCanvas, box: Box) -> np.ndarray | None:
    """A patch of the empty set at the product's depth (around its base), for noise and sharpness."""
    x, y, w, h = box
    height, width = canvas.rgb.shape[:2]
    base = y + h if not canvas.geometry.flat else y + h // 2
    half = max(4, int(0.03 * height))
    rect = clip_rect((x - w, base - half, x + 2 * w, base + half), width, height)
    patch = canvas.rgb[rect[1] : rect[3], rect[0] : rect[2]]
    return patch if min(patch.shape[:2]) >= 16 else None


def _scene_light(canvas: SceneCanvas, box: Box) -> np.ndarray:
    """The light's colour where the product stands; for a plate, read off the photo around it."""
    if not canvas.plate:
        return canvas.rig.colour_at(1.0)
    x, y, w, h = box
    height, width = canvas.rgb.shape[:2]
    rect = clip_rect((x - w, y - h * 0.5, x + 2 * w, y + h * 1.3), width, height)
    patch = canvas.rgb[rect[1] : rect[3], rect[0] : rect[2]].reshape(-1, 3)
    mean = patch.mean(axis=0)
    level = luma_of(mean)
    if level <= 1e-3:
        return np.ones(3, np.float32)
    # A plate's surroundings are partly their own paint: trust half of their colour as the light's.
    return np.asarray(1.0 + 0.5 * (mean / level - 1.0), np.float32)
