"""The product's marks on the set: cast shadow, contact occlusion and reflection.

This module owns the maps `imaging.scene` multiplies and mixes into the set. The product is
treated as a flat card standing upright on its base row at depth 1, facing the camera:

- Cast shadow: each card point at height t above the base is carried along the table away from
  the light by t / tan(elevation) and seen through the camera. The whole chain is projective, so
  the silhouette goes through one `warpPerspective`. Where the shadow would run past the wall's
  foot it climbs the wall instead (an affine copy of the silhouette). The penumbra widens with
  the distance from the base and with `Light.softness`, by blending a few blur levels.
- Contact occlusion: a tight, dark ambient occlusion right under the base, from the footprint
  (the columns that touch the ground), squashed by the view's foreshortening.
- Reflection: the product mirrored about its base (exact for a card and a level camera), fading
  and blurring with distance, stronger at grazing views (Fresnel).

A flat lay has no card: the product lies on the surface, so its shadow is the silhouette offset
away from the light by a small thickness, plus an occlusion hugging its outline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from imaging.scene_geometry import SceneGeometry
from imaging.scene_model import Light
from imaging.scene_ops import Rect, blur, clip_rect, warp_region

Box = tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class ShadowMaps:
    """Over `rect` (x0, y0, x1, y1) of the frame: `cast` removes that share of the key light,
    `occlusion` that share of all light (both 0..1)."""

    rect: Rect
    cast: np.ndarray
    occlusion: np.ndarray


@dataclass(frozen=True, eq=False)
class Reflection:
    """The mirrored product below its base: mix `colour` in by `strength`, over `rect`."""

    rect: Rect
    strength: np.ndarray
    colour: np.ndarray


def shadow_maps(
    geometry: SceneGeometry, light: Light, alpha: np.ndarray, origin: tuple[int, int], box: Box
) -> ShadowMaps | None:
    """The product's shadows; `alpha` (0..1) is the placed product's coverage with its top-left at
    `origin` in the frame, `box` its bounding box (x, y, w, h) in the frame."""
    if not alpha.any():
        return None
    if geometry.flat:
        parts = [_flat_cast(geometry, light, alpha, origin, box)]
    else:
        parts = [
            _ground_cast(geometry, light, alpha, origin, box),
            _wall_cast(geometry, light, alpha, origin, box),
        ]
    occlusion = _contact(geometry, light, alpha, origin, box)
    found = [p for p in [*parts, occlusion] if p is not None]
    if not found:
        return None
    x0 = min(r[0] for _, r in found)
    y0 = min(r[1] for _, r in found)
    x1 = max(r[2] for _, r in found)
    y1 = max(r[3] for _, r in found)
    cast = np.zeros((y1 - y0, x1 - x0), np.float32)
    for part in parts:
        if part is not None:
            values, (px0, py0, px1, py1) = part
            view = cast[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0]
            np.maximum(view, values, out=view)
    if not geometry.flat and all(part is not None for part in parts):
        _soften_fold(cast, (x0, y0, x1, y1), geometry)
    occ = np.zeros_like(cast)
    if occlusion is not None:
        values, (px0, py0, px1, py1) = occlusion
        occ[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0] = values
    return ShadowMaps(rect=(x0, y0, x1, y1), cast=cast, occlusion=occ)


_Part = tuple[np.ndarray, Rect]


def _soften_fold(cast: np.ndarray, rect: Rect, geometry: SceneGeometry) -> None:
    """Blur the shadow across the wall's foot, where its table and wall parts meet, in place.

    The two parts are made separately and their penumbras differ slightly; a real shadow folds
    over the corner without a seam.
    """
    assert geometry.horizon_y is not None
    sigma = max(1.5, 0.008 * geometry.height)
    reach = int(4 * sigma)
    fold = int(round(geometry.horizon_y)) - rect[1]
    r0, r1 = max(0, fold - reach), min(cast.shape[0], fold + reach)
    if r1 - r0 < 3:
        return
    cast[r0:r1] = cv2.GaussianBlur(cast[r0:r1], (1, 0), 0.1, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)


def _cast_peak(light: Light) -> float:
    # A softbox or a cloud fills the shadow from all sides; a hard sun leaves it nearly key-free.
    return 1.0 - 0.5 * light.softness


def _spread(light: Light) -> float:
    """Angular size of the light (radians): how fast the penumbra widens with distance."""
    return 0.02 + 0.35 * light.softness


def _ground_cast(
    geometry: SceneGeometry, light: Light, alpha: np.ndarray, origin: tuple[int, int], box: Box
) -> _Part | None:
    assert geometry.vanish_y is not None and geometry.horizon_y is not None
    f, cx = geometry.focal, geometry.cx
    _, _, w, h = box
    base = float(box[1] + box[3])
    az, el = math.radians(light.azimuth_deg), math.radians(light.elevation_deg)
    length = min(1.0 / math.tan(el), 6.0)
    top = h / f  # the product's height in world units
    # The shadow must stay on the camera's side of infinity: a back light throws it towards the
    # camera, and the tip may come at most half way.
    if math.sin(az) > 0:
        length = min(length, 0.45 / (top * math.sin(az)))
    dx, dd = -math.cos(az) * length, -math.sin(az) * length
    # The product is two crossed cards (the billboard trick): its silhouette facing the camera, and
    # the same silhouette turned to run along the depth axis, as deep as the product is wide (but
    # never deeper than it is tall). A light from the side then throws a shadow as wide as the
    # product is deep instead of a line. The base row is the front of the footprint (the lowest
    # point of a base seen from above), so the turned card runs from there backwards.
    centre = box[0] + w / 2.0
    depth_share = min(1.0, 0.9 * h / max(w, 1))
    card_to_ground = np.array(
        [
            [1.0 / f, -dx / f, -cx / f + base * dx / f],
            [0.0, -dd / f, 1.0 + base * dd / f],
            [0.0, 0.0, 1.0],
        ]
    )
    side_to_ground = np.array(
        [
            [0.0, -dx / f, (centre - cx) / f + base * dx / f],
            [depth_share / f, -dd / f, 1.0 - depth_share * box[0] / f + base * dd / f],
            [0.0, 0.0, 1.0],
        ]
    )
    ox, oy = origin
    to_local = np.array([[1.0, 0.0, ox], [0.0, 1.0, oy], [0.0, 0.0, 1.0]])
    matrices = [geometry.ground_to_image() @ card @ to_local for card in (card_to_ground, side_to_ground)]
    ah, aw = alpha.shape
    corners = np.array([[0, 0, 1], [aw, 0, 1], [0, ah, 1], [aw, ah, 1]], np.float64).T
    mapped = np.hstack([m @ corners for m in matrices])
    mapped = mapped[:2] / mapped[2]
    depth_top = 1.0 + top * dd
    far_sigma = min(0.45 * h, h * _spread(light) / (math.sin(el) * max(depth_top, 0.3)) + 1.0)
    squash = max(0.3, math.sin(geometry.view_elevation(base)))
    pad = 3.0 * far_sigma + 2.0
    rect = clip_rect(
        (mapped[0].min() - pad, mapped[1].min() - pad * squash, mapped[0].max() + pad, mapped[1].max() + pad),
        geometry.width,
        geometry.height,
    )
    # Only the table: past the wall's foot the shadow is on the wall (`_wall_cast`).
    rect = (rect[0], max(rect[1], int(math.floor(geometry.horizon_y))), rect[2], rect[3])
    if rect[2] <= rect[0] or rect[3] <= rect[1]:
        return None
    rows = np.arange(ah, dtype=np.float32)[:, None]
    height_share = np.clip((base - oy - rows) / np.float32(max(h, 1)), 0.0, 1.0)
    source = cv2.merge([alpha, alpha * height_share])
    warped = np.maximum(warp_region(source, matrices[0], rect), warp_region(source, matrices[1], rect))
    if not warped.any():
        return None
    strength = _penumbra(warped, far_sigma, squash, light)
    y_rows = np.arange(rect[1], rect[3], dtype=np.float32)[:, None] + 0.5
    # Anti-aliased cut at the wall's foot.
    strength *= np.clip(y_rows - np.float32(geometry.horizon_y), 0.0, 1.0)
    return strength, rect


def _wall_cast(
    geometry: SceneGeometry, light: Light, alpha: np.ndarray, origin: tuple[int, int], box: Box
) -> _Part | None:
    """Where a front light throws the shadow past the wall's foot, it climbs the wall."""
    assert geometry.vanish_y is not None and geometry.horizon_y is not None
    az, el = math.radians(light.azimuth_deg), math.radians(light.elevation_deg)
    towards_wall = -math.cos(el) * math.sin(az)
    if towards_wall <= 1e-3:
        return None
    f, cx, r = geometry.focal, geometry.cx, geometry.wall_depth
    _, _, w, h = box
    base = float(box[1] + box[3])
    travel = (r - 1.0) / towards_wall  # along the ray, from the card to the wall
    rise = travel * math.sin(el)
    if rise * f >= h:
        return None  # the whole shadow lies on the table
    side = -travel * math.cos(el) * math.cos(az)
    ox, oy = origin
    matrix = np.array(
        [
            [1.0 / r, 0.0, cx - cx / r + f * side / r + ox / r],
            [0.0, 1.0 / r, geometry.horizon_y - base / r + f * rise / r + oy / r],
            [0.0, 0.0, 1.0],
        ]
    )
    ah, aw = alpha.shape
    corners = matrix @ np.array([[0, 0, 1], [aw, 0, 1], [0, ah, 1], [aw, ah, 1]], np.float64).T
    sigma = min(0.45 * h, f / r * travel * _spread(light) + 1.0)
    pad = 3.0 * sigma + 2.0
    rect = clip_rect(
        (corners[0].min() - pad, corners[1].min() - pad, corners[0].max() + pad, geometry.horizon_y + 1),
        geometry.width,
        geometry.height,
    )
    if rect[2] <= rect[0] or rect[3] <= rect[1]:
        return None
    warped = warp_region(np.ascontiguousarray(alpha), matrix, rect)
    if not warped.any():
        return None
    strength = blur(warped, sigma) * np.float32(_cast_peak(light) * 0.85)
    y_rows = np.arange(rect[1], rect[3], dtype=np.float32)[:, None] + 0.5
    strength *= np.clip(np.float32(geometry.horizon_y) - y_rows + 1.0, 0.0, 1.0)
    return np.clip(strength, 0.0, 1.0), rect


def _penumbra(warped: np.ndarray, far_sigma: float, squash: float, light: Light) -> np.ndarray:
    """Shadow strength from the warped (coverage, coverage x height) pair: sharp at the base, soft
    and lighter towards the tip, by blending three blur levels on the height."""
    coverage = np.ascontiguousarray(warped[..., 0])
    near_sigma = 0.7 + 0.02 * far_sigma
    mid_sigma = max(near_sigma, 0.4 * far_sigma)
    near = blur(coverage, near_sigma, near_sigma * squash)
    mid_pair = blur(warped, mid_sigma, mid_sigma * squash)
    mid = np.ascontiguousarray(mid_pair[..., 0])
    far = blur(coverage, far_sigma, far_sigma * squash)
    along = np.clip(mid_pair[..., 1] / np.maximum(mid, np.float32(1e-3)), 0.0, 1.0)
    to_mid = np.clip(along * 2.0, 0.0, 1.0)
    to_far = np.clip(along * 2.0 - 1.0, 0.0, 1.0)
    strength = near + (mid - near) * to_mid
    strength += (far - strength) * to_far
    # Light scattered in the air and off the set fills a long shadow towards its tip.
    strength *= np.float32(_cast_peak(light)) * (np.float32(1.0) - np.float32(0.35) * along)
    return np.clip(strength, 0.0, 1.0)


def _footprint(alpha: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and their lowest solid row (local coordinates) where the product touches the ground.

    A column counts when its lowest solid pixel is near the product's base, so a vase's foot
    counts and the overhang of a handle or a lip does not.
    """
    solid = alpha > 0.5
    present = solid.any(axis=0)
    if not present.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lowest = solid.shape[0] - 1 - np.argmax(solid[::-1], axis=0)
    bottom = int(lowest[present].max())
    touching = present & (lowest >= bottom - max(2, int(0.04 * h)))
    cols = np.flatnonzero(touching)
    return cols, lowest[touching]


def _contact(
    geometry: SceneGeometry, light: Light, alpha: np.ndarray, origin: tuple[int, int], box: Box
) -> _Part | None:
    _, _, w, h = box
    ox, oy = origin
    if geometry.flat:
        # Lying flat, the product's whole outline is close to the surface.
        sigma = 1.0 + 0.008 * max(w, h)
        pad = int(3 * sigma) + 2
        outer = (ox - pad, oy - pad, ox + alpha.shape[1] + pad, oy + alpha.shape[0] + pad)
        rect = clip_rect(outer, geometry.width, geometry.height)
        region = np.zeros((rect[3] - rect[1], rect[2] - rect[0]), np.float32)
        region[oy - rect[1] : oy - rect[1] + alpha.shape[0], ox - rect[0] : ox - rect[0] + alpha.shape[1]] = (
            alpha
        )
        occlusion = blur(region, sigma) * np.float32(0.45 + 0.2 * light.softness)
        return np.clip(occlusion, 0.0, 1.0), rect
    cols, lows = _footprint(alpha, h)
    if cols.size == 0:
        return None
    squash = max(0.12, math.sin(geometry.view_elevation(float(box[1] + box[3]))))
    core_x = 1.0 + 0.03 * w
    soft_x = 2.0 + (0.1 + 0.1 * light.softness) * w
    core_y, soft_y = max(0.8, core_x * squash), max(1.0, soft_x * squash)
    pad_x, pad_y = 3.0 * soft_x + 2, 3.0 * soft_y + 2
    xs, ys = cols + ox, lows + oy
    rect = clip_rect(
        (xs.min() - pad_x, ys.min() - pad_y, xs.max() + 1 + pad_x, ys.max() + 1 + pad_y),
        geometry.width,
        geometry.height,
    )
    seeds = np.zeros((rect[3] - rect[1], rect[2] - rect[0]), np.float32)
    # Seeds a little below the lowest row, so the darkest line shows just under the base.
    drop = int(round(core_y * 0.4))
    seeds[np.clip(ys + drop - rect[1], 0, seeds.shape[0] - 1), xs - rect[0]] = 1.0
    core = blur(seeds, core_x, core_y)
    soft = blur(seeds, soft_x, soft_y)
    core_peak, soft_peak = float(core.max()), float(soft.max())
    occlusion = np.zeros_like(seeds)
    if core_peak > 0:
        occlusion += core * np.float32(0.9 / core_peak)
    if soft_peak > 0:
        occlusion += soft * np.float32((0.35 + 0.25 * light.softness) / soft_peak)
    occlusion *= np.float32(0.55 + 0.2 * light.softness)
    return np.clip(occlusion, 0.0, 0.85), rect


def _flat_cast(
    geometry: SceneGeometry, light: Light, alpha: np.ndarray, origin: tuple[int, int], box: Box
) -> _Part | None:
    """Lying on the surface: the silhouette offset away from the light by a small thickness."""
    _, _, w, h = box
    az, el = math.radians(light.azimuth_deg), math.radians(light.elevation_deg)
    thickness = 0.03 * max(w, h)
    offset = thickness * min(1.0 / math.tan(el), 4.0)
    dx, dy = -math.cos(az) * offset, math.sin(az) * offset
    sigma = 1.0 + (0.006 + 0.06 * light.softness) * max(w, h)
    ox, oy = origin
    matrix = np.array([[1.0, 0.0, ox + dx], [0.0, 1.0, oy + dy], [0.0, 0.0, 1.0]])
    pad = 3.0 * sigma + 2.0
    ah, aw = alpha.shape
    rect = clip_rect(
        (
            ox + min(dx, 0) - pad,
            oy + min(dy, 0) - pad,
            ox + aw + max(dx, 0) + pad,
            oy + ah + max(dy, 0) + pad,
        ),
        geometry.width,
        geometry.height,
    )
    warped = warp_region(np.ascontiguousarray(alpha), matrix, rect)
    strength = blur(warped, sigma) * np.float32(_cast_peak(light))
    return np.clip(strength, 0.0, 1.0), rect


# --------------------------------------------------------------------------- reflection


def fresnel(geometry: SceneGeometry, row: float) -> float:
    """How much a glossy table reflects at the view angle of `row` (Schlick), scaled to 0..1."""
    if geometry.flat:
        return 0.0
    grazing = 1.0 - math.sin(geometry.view_elevation(row))
    schlick = 0.04 + 0.96 * grazing**5
    return min(1.0, 0.35 + 1.4 * schlick)


def reflection(
    geometry: SceneGeometry,
    rgb: np.ndarray,
    alpha: np.ndarray,
    origin: tuple[int, int],
    box: Box,
    gloss: float,
) -> Reflection | None:
    """The product (straight `rgb` and `alpha` at `origin`) mirrored below its base on a glossy table."""
    if gloss <= 0 or geometry.flat:
        return None
    _, _, w, h = box
    ox, oy = origin
    base = box[1] + box[3]
    rows = min(geometry.height - base, int(0.6 * h), base - oy)
    if rows <= 0:
        return None
    local_base = base - oy
    mirrored_a = alpha[local_base - rows : local_base][::-1]
    mirrored_c = rgb[local_base - rows : local_base][::-1]
    t = (np.arange(rows, dtype=np.float32) + 0.5) / np.float32(0.6 * h)
    fade = np.clip(1.0 - t, 0.0, 1.0) ** 1.6
    # A real table is never a perfect mirror: the reflection blurs with distance from the base.
    sharp_sigma = 0.6 + 0.004 * h * (1.0 - gloss)
    soft_sigma = 1.0 + (0.02 + 0.03 * (1.0 - gloss)) * h
    premultiplied = np.ascontiguousarray(mirrored_c * mirrored_a[..., None])
    source = cv2.merge([*cv2.split(premultiplied), np.ascontiguousarray(mirrored_a)])
    sharp = blur(source, sharp_sigma)
    soft = blur(source, soft_sigma)
    mix = np.clip(t * 1.5, 0.0, 1.0)[:, None, None]
    merged = sharp + (soft - sharp) * mix
    cover = merged[..., 3]
    colour = merged[..., :3] / np.maximum(cover, np.float32(1e-4))[..., None]
    strength = cover * fade[:, None] * np.float32(gloss * fresnel(geometry, float(base)) * 0.8)
    rect = (ox, base, ox + alpha.shape[1], base + rows)
    return Reflection(rect=rect, strength=np.clip(strength, 0.0, 1.0), colour=np.clip(colour, 0.0, 1.0))
