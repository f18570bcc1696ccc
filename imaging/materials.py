"""Photographic material textures for the scene renderer: marble, wood, concrete, terrazzo, fabrics ...

This module owns `render_material` (a flat, top-down texture of a surface) and `MaterialLook` (how
that surface answers light: gloss and sheen, for the renderer that lights it). Feature sizes are
physical: `px_per_cm` says how many output pixels one centimetre of surface covers, so a plank is
always ~12 cm wide and a linen thread ~1 mm, whatever the output size. Detail finer than a pixel is
never drawn as a pattern (it would alias into moire); it becomes fine noise of the right strength.

Every random choice comes from the seed, in a fixed order, so the same arguments give the same bytes.
Fields come from `imaging.texture_noise` (fractal value noise on small grids upsampled by OpenCV,
rotated, stretched and domain-warped by `cv2.remap`); fields that are smooth at the pixel scale are
computed at a reduced working resolution. Colour work happens on three float32 planes (NumPy is
slow at broadcasting over a length-3 channel axis), merged once at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import cv2
import numpy as np

from imaging.texture_noise import (
    fractal_field,
    gradient,
    line_profile,
    pixel_grain,
    relief,
    smoothstep,
    streaks,
    upsample,
)

MaterialKind = Literal[
    "plain", "marble", "wood", "concrete", "terrazzo", "stone", "linen", "cotton", "paper", "sand"
]
MATERIAL_KINDS: tuple[str, ...] = get_args(MaterialKind)

RGB = tuple[int, int, int]
FloatArray = np.ndarray
Planes = list[FloatArray]

# Rendering keeps ~15 float32 frames alive: 16 Mpx is ~1 GB at the peak. Larger requests are
# typos, or surfaces the caller should render once and resize.
MAX_SIDE = 8192
MAX_PIXELS = 4096 * 4096
# Below 0.5 px/cm a 1000 px frame covers 20 m of floor; above 500 a frame is a few millimetres.
PX_PER_CM_RANGE = (0.5, 500.0)
MAX_COLOURS = 6


class MaterialError(ValueError):
    """Arguments that cannot be rendered as a material; the message says what to change."""


@dataclass(frozen=True)
class MaterialLook:
    """How a surface behaves under light, for the scene renderer.

    gloss: 0 matte .. 1 mirror-like (how sharp and strong reflections are).
    sheen: 0..1 strength of the broad specular highlight of the key light.
    default_colors: the palette `render_material` uses when given none (base colour first).
    """

    gloss: float
    sheen: float
    default_colors: tuple[RGB, ...]


_LOOKS: dict[str, MaterialLook] = {
    "plain": MaterialLook(0.05, 0.10, ((236, 234, 229),)),
    # Polished Carrara: warm white, grey veins.
    "marble": MaterialLook(0.35, 0.50, ((236, 233, 228), (118, 118, 124))),
    # Lacquered white oak: early wood, late wood.
    "wood": MaterialLook(0.20, 0.35, ((199, 160, 118), (146, 102, 66))),
    "concrete": MaterialLook(0.05, 0.15, ((176, 174, 169),)),
    # Polished cement base with charcoal, rust, grey and sand chips.
    "terrazzo": MaterialLook(
        0.25, 0.40, ((228, 224, 216), (62, 62, 64), (184, 110, 84), (150, 150, 146), (212, 190, 150))
    ),
    # Honed limestone: base, colour drift, fossil flecks.
    "stone": MaterialLook(0.10, 0.20, ((204, 194, 176), (182, 171, 150), (150, 140, 122))),
    "linen": MaterialLook(0.00, 0.05, ((222, 212, 193),)),
    "cotton": MaterialLook(0.00, 0.08, ((240, 238, 233),)),
    "paper": MaterialLook(0.02, 0.08, ((242, 239, 232),)),
    "sand": MaterialLook(0.00, 0.03, ((218, 194, 156),)),
}


def material_look(kind: MaterialKind) -> MaterialLook:
    """Gloss, sheen and default colours of `kind`."""
    _check_kind(kind)
    return _LOOKS[kind]


def render_material(
    kind: MaterialKind,
    size: tuple[int, int],
    seed: int,
    colors: tuple[RGB, ...] = (),
    px_per_cm: float = 10.0,
) -> np.ndarray:
    """A flat, top-down texture of `kind`: float32 (H, W, 3), sRGB-encoded values in 0..1.

    `size` is (width, height). `colors` is the base colour first, then the vein / grain / fleck /
    chip colours of the kind (see `MaterialLook.default_colors`); missing accents are derived from
    the base. Wood planks and fabric weft run along x.
    """
    _check_kind(kind)
    width, height = _check_size(size)
    palette = _palette(kind, colors)
    try:
        scale = float(px_per_cm)
    except (TypeError, ValueError):
        raise MaterialError(f"px_per_cm must be a number, got {px_per_cm!r}") from None
    low, high = PX_PER_CM_RANGE
    if not (math.isfinite(scale) and low <= scale <= high):
        raise MaterialError(f"px_per_cm must be between {low:g} and {high:g}, got {px_per_cm!r}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise MaterialError(f"seed must be an integer, got {seed!r}")
    canvas = _Canvas(width, height, scale, np.random.default_rng(int(seed) % (2**63)), palette)
    planes = _RENDERERS[kind](canvas)
    image = np.asarray(cv2.merge(planes), dtype=np.float32)
    return np.clip(image, 0.0, 1.0, out=image)


# --------------------------------------------------------------------------- validation


def _check_kind(kind: object) -> None:
    if kind not in MATERIAL_KINDS:
        raise MaterialError(f"unknown material kind {kind!r}; use one of {', '.join(MATERIAL_KINDS)}")


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = int(size[0]), int(size[1])
        if len(size) != 2:
            raise ValueError
    except (TypeError, ValueError, IndexError):
        raise MaterialError(f"size must be (width, height) in pixels, got {size!r}") from None
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise MaterialError(
            f"size {width}x{height} is out of range; each side must be 1 to {MAX_SIDE} px"
            f" and the area at most {MAX_PIXELS // 1_000_000} Mpx"
        )
    return width, height


def _palette(kind: str, colors: tuple[RGB, ...]) -> tuple[FloatArray, ...]:
    """The colours to paint with, 0..1: the given ones, then defaults or shades derived from the base."""
    if len(colors) > MAX_COLOURS:
        raise MaterialError(f"give at most {MAX_COLOURS} colours, got {len(colors)}")
    for colour in colors:
        if (
            not isinstance(colour, tuple | list)
            or len(colour) != 3
            or not all(
                isinstance(c, int | np.integer) and not isinstance(c, bool) and 0 <= c <= 255 for c in colour
            )
        ):
            raise MaterialError(f"colour {colour!r} is not an (R, G, B) triple of integers 0-255")
    defaults = _LOOKS[kind].default_colors
    if not colors:
        return tuple(np.asarray(c, np.float32) / 255.0 for c in defaults)
    given = [np.asarray(c, np.float32) / 255.0 for c in colors]
    base = given[0]
    dark_base = float(base @ np.array([0.299, 0.587, 0.114], np.float32)) < 0.4
    if kind in ("marble", "wood") and len(given) < 2:
        # Veins and late wood: a darker shade of the base (lighter on a dark base, like Nero Marquina).
        given.append(base + (1.0 - base) * 0.6 if dark_base and kind == "marble" else base * 0.66)
    if kind == "stone":
        # Stone drifts towards a slightly deeper, warmer shade of itself; flecks are darker still.
        given += [base * np.array([0.93, 0.9, 0.86], np.float32), base * 0.72][len(given) - 1 :]
    if kind == "terrazzo" and len(given) < 2:
        given += [np.asarray(c, np.float32) / 255.0 for c in defaults[1:]]
    return tuple(given)


# --------------------------------------------------------------------------- canvas


@dataclass
class _Canvas:
    """One render: its size, physical scale, random generator and palette (0..1 RGB)."""

    width: int
    height: int
    px_per_cm: float
    rng: np.random.Generator
    colours: tuple[FloatArray, ...]

    def cm(self, value: float) -> float:
        return value * self.px_per_cm


def _work(canvas: _Canvas, feature_cm: float) -> tuple[int, int, float]:
    """A reduced working size for fields smooth at `feature_cm`: (width, height, px per cm there)."""
    factor = max(1, min(8, int(canvas.cm(feature_cm) / 3.0)))
    width, height = -(-canvas.width // factor), -(-canvas.height // factor)
    return width, height, canvas.px_per_cm / factor


# --------------------------------------------------------------------------- colour planes


def _flat(colour: FloatArray, width: int, height: int) -> Planes:
    return [np.full((height, width), colour[c], np.float32) for c in range(3)]


def _tint(planes: Planes, colour: FloatArray, weight: FloatArray) -> None:
    """Mix towards `colour` by `weight` (H, W) in 0..1, like a translucent layer, in place."""
    for c in range(3):
        plane = planes[c]
        plane += weight * (np.float32(colour[c]) - plane)


def _scale(planes: Planes, factor: FloatArray) -> None:
    for plane in planes:
        plane *= factor


def _combine(*weights: FloatArray) -> FloatArray:
    """Coverage of stacked translucent layers: 1 - prod(1 - w)."""
    clear = np.float32(1.0) - weights[0]
    for weight in weights[1:]:
        clear *= np.float32(1.0) - weight
    return np.float32(1.0) - clear


# --------------------------------------------------------------------------- plain and marble


def _plain(canvas: _Canvas) -> Planes:
    w, h = canvas.width, canvas.height
    ww, wh, wppc = _work(canvas, 5.0)
    tone = upsample(fractal_field(canvas.rng, ww, wh, 40.0 * wppc, octaves=4, gain=0.55), w, h)
    factor = np.float32(1.0) + np.float32(0.012) * tone
    factor += np.float32(0.004) * pixel_grain(canvas.rng, w, h, canvas.cm(0.02))
    planes = _flat(canvas.colours[0], w, h)
    _scale(planes, factor)
    return planes


def _vein_distance(field: FloatArray, scale: float) -> tuple[FloatArray, FloatArray]:
    """Signed distance (px, times `scale`) to the zero line of a smooth field, n / |grad n|, and where
    that line is a real vein: near a shallow extremum the zero line is a tiny closed loop (a bubble,
    never seen in stone), recognisable by a gradient far below the field's typical one."""
    gx, gy = gradient(field)
    magnitude = np.asarray(cv2.magnitude(gx, gy), np.float32)
    typical = float(
        np.median(magnitude[:: max(1, magnitude.shape[0] // 64), :: max(1, magnitude.shape[1] // 64)])
    )
    typical = max(typical, 1e-6)
    valid = smoothstep(0.3 * typical, 0.7 * typical, magnitude)
    magnitude += np.float32(1e-6 + 1e-3 * typical)
    return np.asarray(field * np.float32(scale) / magnitude, np.float32), valid


def _marble(canvas: _Canvas) -> Planes:
    rng, w, h = canvas.rng, canvas.width, canvas.height
    base, vein = canvas.colours[0], canvas.colours[1]
    accent = canvas.colours[2] if len(canvas.colours) > 2 else None
    flow = float(rng.uniform(0.0, 180.0))
    ww, wh, wppc = _work(canvas, 1.0)
    to_px = w / ww
    # Two-level domain warp: the veins were liquid once, folded and sheared; a warped warp reads as
    # flow. Amplitudes stay below the fold limit (a fold would pinch the field into jagged steps).
    warp: tuple[FloatArray, FloatArray] = (
        fractal_field(rng, ww, wh, 45.0 * wppc, octaves=4) * np.float32(4.0 * wppc),
        fractal_field(rng, ww, wh, 45.0 * wppc, octaves=4) * np.float32(4.0 * wppc),
    )
    warp = (
        warp[0] + fractal_field(rng, ww, wh, 14.0 * wppc, octaves=3, warp=warp) * np.float32(0.9 * wppc),
        warp[1] + fractal_field(rng, ww, wh, 14.0 * wppc, octaves=3, warp=warp) * np.float32(0.9 * wppc),
    )
    main = fractal_field(rng, ww, wh, 60.0 * wppc, octaves=5, stretch=2.4, angle=flow, warp=warp)
    strands = fractal_field(rng, ww, wh, 9.0 * wppc, octaves=3, stretch=5.0, angle=flow, warp=warp)
    secondary = fractal_field(
        rng, ww, wh, 20.0 * wppc, octaves=4, stretch=3.0, angle=flow + float(rng.uniform(-35, 35)), warp=warp
    )
    cloud = fractal_field(rng, ww, wh, 30.0 * wppc, octaves=5, gain=0.6, stretch=2.0, angle=flow, warp=warp)
    show_main = smoothstep(-1.0, 0.6, fractal_field(rng, ww, wh, 35.0 * wppc, octaves=3))
    width_noise = smoothstep(-1.4, 1.8, fractal_field(rng, ww, wh, 20.0 * wppc, octaves=3))
    show_secondary = smoothstep(0.0, 1.2, fractal_field(rng, ww, wh, 25.0 * wppc, octaves=3))

    d_main, valid_main = _vein_distance(main, to_px)
    d_strands, valid_strands = _vein_distance(strands, to_px)
    d_secondary, valid_secondary = _vein_distance(secondary, to_px)
    # Soft parts at working resolution: a vein's zone of influence, where strands run in parallel,
    # and the diffuse grey clouds that give Carrara its depth.
    zone = line_profile(d_main, canvas.cm(4.0))
    halo = line_profile(d_main, canvas.cm(1.2)) * show_main
    wash = smoothstep(0.2, 2.2, cloud) * np.float32(0.16) + zone * np.float32(0.1)
    strand_show = np.maximum(zone * np.float32(0.7), show_secondary * np.float32(0.25)) * valid_strands
    soft = _combine(halo * np.float32(0.22), wash)

    # Veins thicken and thin, and their pigment is denser in places.
    density = np.float32(0.8) + np.float32(0.2) * fractal_field(rng, ww, wh, 2.0 * wppc, octaves=2)
    # Thin veins are paler: less pigment across them.
    show_core = upsample(
        show_main * valid_main * density * (np.float32(0.6) + np.float32(0.4) * width_noise), w, h
    )
    core_width = width_noise * width_noise * np.float32(canvas.cm(1.1)) + np.float32(
        max(canvas.cm(0.11), 0.8)
    )
    # Mottling at a few millimetres: the grey wash is grainy, not airbrushed.
    mottle = np.float32(1.0) + np.float32(0.25) * fractal_field(rng, ww, wh, 1.5 * wppc, octaves=2)

    # Millimetre wobble of every vein edge: real veins are crystal boundaries, never ruled lines.
    ragged = fractal_field(rng, w, h, max(canvas.cm(1.4), 2.0), octaves=2) * np.float32(canvas.cm(0.1))
    core = line_profile(upsample(d_main, w, h) + ragged, upsample(core_width, w, h)) * show_core
    thin = line_profile(upsample(d_strands, w, h) + ragged, max(canvas.cm(0.05), 0.6)) * upsample(
        strand_show, w, h
    )
    second = line_profile(upsample(d_secondary, w, h) - ragged, max(canvas.cm(0.08), 0.7))
    second *= upsample(show_secondary * valid_secondary, w, h)
    weight = _combine(
        core * np.float32(0.85), thin * np.float32(0.35), second * np.float32(0.3), upsample(soft, w, h)
    )
    weight *= upsample(mottle, w, h)

    planes = _flat(base, w, h)
    _tint(planes, vein, weight)
    if accent is not None:
        _tint(planes, accent, np.float32(0.9) * core * upsample(width_noise, w, h))
    # Crystalline grain and a faint cloudy tone in the stone itself.
    tone = upsample(np.float32(1.0) + np.float32(0.015) * cloud, w, h)
    tone += np.float32(0.006) * pixel_grain(rng, w, h, canvas.cm(0.05))
    _scale(planes, tone)
    return planes


# --------------------------------------------------------------------------- wood


def _ring_profile() -> FloatArray:
    """Lateness across one growth ring (256 steps): early wood fades slowly into the dark late wood,
    which ends abruptly where the next year's early wood starts."""
    t = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    return smoothstep(0.45, 0.92, t) * (np.float32(1.0) - smoothstep(0.92, 1.0, t))


_RING = _ring_profile()
_RING_MEAN = float(_RING.mean())


def _wood(canvas: _Canvas) -> Planes:
    """Boards along x, each a flat-sawn cut through its own log: growth rings are the intersection
    of concentric cylinders (around a pith slightly tilted to the board) with the board's face,
    which draws the arches ("cathedrals") and straight grain of real boards."""
    rng, w, h = canvas.rng, canvas.width, canvas.height
    light, late_colour = canvas.colours[0], canvas.colours[1]
    plank = max(4.0, canvas.cm(float(rng.uniform(10.0, 15.0))))
    top = -float(rng.uniform(0.0, plank))
    rows: list[FloatArray] = []
    while top + len(rows) * plank < h:
        # Butt joints are staggered: each row starts at its own offset with boards of random length.
        x = -float(rng.uniform(0.0, canvas.cm(150.0)))
        joints = []
        while x < w:
            joints.append(x)
            x += canvas.cm(float(rng.uniform(70.0, 220.0)))
        joints.append(x)
        rows.append(np.asarray(joints))
    # Fibre-scale fields are drawn once for the whole floor: each board's own ring geometry, tone
    # and pith already make it a different board, and one call per field keeps the cost flat.
    wobble = fractal_field(rng, w, h, canvas.cm(4.0), octaves=3, stretch=12.0) * np.float32(0.16)
    wobble += fractal_field(rng, w, h, canvas.cm(0.8), octaves=2, stretch=10.0) * np.float32(0.025)
    texture = fractal_field(rng, w, h, canvas.cm(3.0), octaves=3, stretch=8.0) * np.float32(0.08)
    texture += streaks(rng, w, h, max(canvas.cm(0.06), 1.0), canvas.cm(3.0)) * np.float32(0.06)
    pores = streaks(rng, w, h, max(canvas.cm(0.04), 1.0), canvas.cm(0.5))
    # Pores are ~0.5 mm: seen from afar, a pixel holds a fraction of one, so they fade out.
    shade = np.float32(1.0) - np.float32(0.14 * min(1.0, canvas.cm(0.1))) * smoothstep(1.35, 1.75, pores)
    ww, wh, wppc = _work(canvas, 2.0)
    shade *= upsample(
        np.float32(1.0) + np.float32(0.025) * fractal_field(rng, ww, wh, 20.0 * wppc, octaves=2), w, h
    )

    lateness = texture
    for index, starts in enumerate(rows):
        _board_row(canvas, (top + index * plank, top + (index + 1) * plank), starts, wobble, lateness, shade)
    np.clip(lateness, 0.0, 1.0, out=lateness)
    planes = _flat(light, w, h)
    _tint(planes, late_colour, lateness)
    _scale(planes, shade)
    return planes


def _board_row(
    canvas: _Canvas,
    span: tuple[float, float],
    starts: FloatArray,
    wobble: FloatArray,
    lateness: FloatArray,
    shade: FloatArray,
) -> None:
    """Add one row of boards (rows `span`, boards between consecutive `starts` in px) to `lateness`
    (0 early .. 1 late wood) and their tone and seams to `shade`. Every board's log is its own:
    its parameters are per-column arrays, so a whole row is one vectorised pass."""
    rng, ppc, w = canvas.rng, canvas.px_per_cm, canvas.width
    top, bottom = span
    count = len(starts) - 1
    depth = rng.uniform(3.0, 22.0, count).astype(np.float32)
    slope = rng.uniform(-0.05, 0.05, count).astype(np.float32)
    pith = (rng.uniform(-0.9, 0.9, count) * (bottom - top) / ppc).astype(np.float32)
    spacing = rng.uniform(0.22, 0.5, count).astype(np.float32)
    tone = rng.uniform(-0.07, 0.07, count).astype(np.float32)
    warmth = rng.uniform(-0.08, 0.1, count).astype(np.float32)
    y0, y1 = max(0, math.floor(top)), min(canvas.height, math.ceil(bottom))
    if y1 <= y0:
        return
    columns = np.arange(w, dtype=np.float64)
    board = np.clip(np.searchsorted(starts, columns, side="right") - 1, 0, count - 1)
    left, right = starts[board], starts[board + 1]
    xs = ((columns - left) / ppc).astype(np.float32)[None, :]
    ys = ((np.arange(y0, y1) - (top + bottom) / 2) / ppc).astype(np.float32)[:, None]
    dy = ys - pith[board][None, :]
    tilt = slope[board][None, :]
    dz = np.maximum(depth[board][None, :] + tilt * xs, np.float32(0.5))
    radius = np.sqrt(dy * dy + dz * dz)
    phase = radius + wobble[y0:y1]
    phase *= (np.float32(1.0) / spacing[board])[None, :]
    phase -= np.floor(phase)
    late = np.asarray(cv2.LUT(cv2.convertScaleAbs(phase, alpha=255.0), _RING), np.float32)
    # Rings closer than ~3 px would alias into moire: fade them to their mean where they crowd.
    crowding = np.sqrt(dy * dy + (dz * tilt) ** 2) / radius
    period_px = (spacing[board] * np.float32(ppc))[None, :] / (crowding + np.float32(1e-3))
    late -= np.float32(_RING_MEAN)
    late *= smoothstep(1.5, 4.0, period_px)
    late += np.float32(_RING_MEAN)
    late *= np.float32(0.55)
    late += (np.float32(0.12) + warmth[board])[None, :]
    lateness[y0:y1] += late
    # Seams: a thin dark gap between boards, and a slight bevel darkening the last millimetres.
    gap, bevel = max(canvas.cm(0.07), 0.55), max(canvas.cm(0.3), 1.0)
    ex = np.minimum(columns - left, right - columns).astype(np.float32)
    ey = np.minimum(np.arange(y0, y1) - top, bottom - np.arange(y0, y1)).astype(np.float32)
    seam_x = (
        (1.0 - 0.6 * line_profile(ex, gap)) * (1.0 - 0.08 * line_profile(ex, bevel)) * (1.0 + tone[board])
    )
    seam_y = (1.0 - 0.6 * line_profile(ey, gap)) * (1.0 - 0.08 * line_profile(ey, bevel))
    shade[y0:y1] *= seam_y[:, None] * seam_x[None, :]


# --------------------------------------------------------------------------- mineral surfaces


def _pores(
    canvas: _Canvas, factor: FloatArray, per_m2: float, sizes_cm: tuple[float, float], depth: float
) -> None:
    """Darken small round air holes into `factor`: diameters log-uniform in `sizes_cm`.

    Each hole is a soft dark pit of its own size, splatted as an impulse with its darkness times
    its area and blurred with a Gaussian of its radius (a few size classes, one blur each). A hole
    smaller than a pixel thus darkens its pixel by its share of it, never a full dark dot.
    """
    rng, h, w = canvas.rng, canvas.height, canvas.width
    area_m2 = (w / canvas.px_per_cm) * (h / canvas.px_per_cm) / 10_000.0
    count = min(int(rng.poisson(per_m2 * area_m2)), 500_000)
    xs = rng.random(count) * w
    ys = rng.random(count) * h
    radii = np.exp(rng.uniform(math.log(sizes_cm[0]), math.log(sizes_cm[1]), count)) * canvas.px_per_cm / 2
    # A pit is a Gaussian of sigma r/2 with peak `depth`; below a pixel only its blur is wider.
    sigmas = np.maximum(radii / 2.0, 0.5)
    classes = np.round(np.log2(sigmas) * 2.0) / 2.0
    mask = np.zeros((h, w), np.float32)
    for level in np.unique(classes):
        chosen = classes == level
        impulses = np.zeros((h, w), np.float32)
        weight = depth * 2.0 * math.pi * (radii[chosen] / 2.0) ** 2
        np.add.at(impulses, (ys[chosen].astype(np.intp), xs[chosen].astype(np.intp)), weight)
        mask += cv2.GaussianBlur(impulses, (0, 0), float(2.0**level))
    np.minimum(mask, np.float32(0.85), out=mask)
    factor *= np.float32(1.0) - mask


def _trowel(canvas: _Canvas) -> FloatArray:
    """Faint trowel marks at output size: overlapping arc-shaped swipes, each a little lighter or
    darker, with streaks along the arc. They are soft, so they are drawn on a coarse grid (at most
    2 px/cm and 256 px a side), each swipe only inside its own bounding box."""
    rng, w, h = canvas.rng, canvas.width, canvas.height
    ppc = min(2.0, canvas.px_per_cm, 256.0 * canvas.px_per_cm / max(w, h))
    width, height = (
        max(1, math.ceil(w * ppc / canvas.px_per_cm)),
        max(1, math.ceil(h * ppc / canvas.px_per_cm)),
    )
    marks = np.zeros((height, width), np.float32)
    area_m2 = (w / canvas.px_per_cm) * (h / canvas.px_per_cm) / 10_000.0
    for _ in range(min(300, max(2, int(12 * area_m2)))):
        radius = float(rng.uniform(40.0, 110.0)) * ppc
        swipe = float(rng.uniform(10.0, 20.0)) * ppc
        cx, cy = rng.uniform(-0.1, 1.1) * width, rng.uniform(-0.1, 1.1) * height
        direction = float(rng.uniform(0.0, 2.0 * math.pi))
        span = float(rng.uniform(0.3, 0.8))
        strength = float(rng.uniform(-1.0, 1.0))
        lines = rng.random(24).astype(np.float32)
        # The swipe is an arc of `radius` about (ox, oy), centred on (cx, cy); its box bounds it.
        ox, oy = cx - radius * math.cos(direction), cy - radius * math.sin(direction)
        reach = radius * span + swipe
        x0, x1 = max(0, int(cx - reach)), min(width, int(cx + reach) + 1)
        y0, y1 = max(0, int(cy - reach)), min(height, int(cy + reach) + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        xs = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(ox)
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(oy)
        r = np.sqrt(xs * xs + ys * ys)
        across = (r - np.float32(radius)) / np.float32(swipe)
        theta = np.arctan2(ys, xs) - np.float32(direction)
        theta = (theta + np.float32(math.pi)) % np.float32(2 * math.pi) - np.float32(math.pi)
        inside = (np.float32(1.0) - smoothstep(0.3, 0.5, np.abs(across))) * (
            np.float32(1.0) - smoothstep(span * 0.6, span, np.abs(theta))
        )
        streak = np.interp((across + 0.5) * 23, np.arange(24), lines).astype(np.float32)
        marks[y0:y1, x0:x1] += np.float32(strength) * inside * (np.float32(0.6) + np.float32(0.8) * streak)
    return upsample(marks, w, h)


def _concrete(canvas: _Canvas) -> Planes:
    rng, w, h = canvas.rng, canvas.width, canvas.height
    ww, wh, wppc = _work(canvas, 1.5)
    # Cloudy tone: cement hydrates unevenly; big soft blotches dominate, as in photographs.
    clouds = fractal_field(rng, ww, wh, 45.0 * wppc, octaves=6, gain=0.62)
    blotch = fractal_field(rng, ww, wh, 12.0 * wppc, octaves=3)
    tint = fractal_field(rng, ww, wh, 35.0 * wppc, octaves=3)
    soft = np.float32(1.0) + np.float32(0.055) * clouds + np.float32(0.018) * blotch
    factor = upsample(soft, w, h)
    factor += np.float32(0.02) * _trowel(canvas)
    # Sand and fines: a fine, slightly soft grain, much weaker than granite's speckle.
    grain = pixel_grain(rng, w, h, canvas.cm(0.08))
    grain = cv2.GaussianBlur(grain, (0, 0), 0.5)
    factor += np.float32(0.022) * grain
    factor += np.float32(0.012) * fractal_field(rng, w, h, max(canvas.cm(0.6), 2.0), octaves=2)
    _pores(canvas, factor, 500.0, (0.04, 0.45), 0.5)
    planes = _flat(canvas.colours[0], w, h)
    # A warmer or cooler cast in places (different batches, curing).
    cast = upsample(smoothstep(0.4, 1.6, tint), w, h) * np.float32(0.25)
    _tint(planes, canvas.colours[0] * np.array([1.04, 1.0, 0.94], np.float32), cast)
    _scale(planes, factor)
    return planes


def _chips(canvas: _Canvas, per_cm2: float, sizes_cm: tuple[float, float], palette: FloatArray) -> Planes:
    """Scatter irregular polygonal stone chips over `canvas` and return (R, G, B, coverage) planes.

    Sizes are log-uniform (many small chips, a few big ones); each chip takes a random colour from
    `palette` (n, 3) with its own shade. Chips are drawn as ids into one label map (later chips on
    top), coloured by table lookup, and anti-aliased by a half-pixel blur of the coverage with the
    chip colours spread one pixel outwards under it.
    """
    rng, w, h, ppc = canvas.rng, canvas.width, canvas.height, canvas.px_per_cm
    count = min(int(rng.poisson(per_cm2 * (w / ppc) * (h / ppc))), 400_000)
    size = np.exp(rng.uniform(math.log(sizes_cm[0]), math.log(sizes_cm[1]), count)) * ppc
    which = rng.integers(0, len(palette), count)
    shade = rng.uniform(0.9, 1.1, count)
    corners = 7
    # Crushed stone: angular, a little elongated, corners at uneven angles and distances.
    angles = np.sort(rng.uniform(0.0, 2 * math.pi, (count, corners)), axis=1)
    reach = rng.uniform(0.6, 1.0, (count, corners)) * size[:, None] / 2
    elongation = rng.uniform(1.0, 1.7, count)[:, None]
    turn = rng.uniform(0.0, math.pi, count)[:, None]
    px = np.cos(angles) * reach * elongation
    py = np.sin(angles) * reach
    centre_x, centre_y = rng.random(count)[:, None] * w, rng.random(count)[:, None] * h
    xs = centre_x + px * np.cos(turn) - py * np.sin(turn)
    ys = centre_y + px * np.sin(turn) + py * np.cos(turn)
    shift = 3
    points = (np.stack([xs, ys], axis=2) * 2**shift).astype(np.int32)
    # Chips finer than a pixel belong to the cement's grain, not to the chip layer.
    visible = np.flatnonzero(size >= 0.8)
    labels = np.zeros((h, w), np.float32)
    for label, chip in enumerate(points[visible], start=1):
        cv2.fillConvexPoly(labels, chip, label, cv2.LINE_8, shift)
    table = np.zeros((len(visible) + 1, 3), np.float32)
    table[1:] = palette[which[visible]] * shade[visible, None]
    spread = cv2.dilate(labels, np.ones((3, 3), np.uint8)).astype(np.intp)
    coverage = cv2.GaussianBlur((labels > 0).astype(np.float32), (0, 0), 0.5)
    return [table[:, c][spread] for c in range(3)] + [np.asarray(coverage, np.float32)]


def _terrazzo(canvas: _Canvas) -> Planes:
    rng, w, h = canvas.rng, canvas.width, canvas.height
    base = canvas.colours[0]
    palette = np.asarray(canvas.colours[1:] or (base * 0.6,), np.float32)
    ww, wh, wppc = _work(canvas, 1.5)
    cement = upsample(
        np.float32(1.0) + np.float32(0.02) * fractal_field(rng, ww, wh, 30.0 * wppc, octaves=5, gain=0.6),
        w,
        h,
    )
    cement += np.float32(0.015) * pixel_grain(rng, w, h, canvas.cm(0.06))
    # A few pinholes where the grout did not fill.
    _pores(canvas, cement, 150.0, (0.03, 0.15), 0.4)
    planes = _flat(base, w, h)
    _scale(planes, cement)
    # Bigger chips are rarer per area; ~30 % of the floor is chips, as in classic terrazzo.
    *chip, coverage = _chips(canvas, 0.4, (0.25, 2.2), palette)
    # Each mineral has its own mottling; the polish leaves chips flush with the cement.
    mottle = np.float32(1.0) + np.float32(0.04) * fractal_field(
        rng, w, h, max(canvas.cm(0.25), 2.0), octaves=2
    )
    for c in range(3):
        planes[c] += coverage * (chip[c] * mottle - planes[c])
    return planes


def _stone(canvas: _Canvas) -> Planes:
    """Honed limestone or slate: bedding layers, a drifting colour, fine grain, a few fossil flecks."""
    rng, w, h = canvas.rng, canvas.width, canvas.height
    base, drift, fleck = canvas.colours[0], canvas.colours[1], canvas.colours[2]
    ww, wh, wppc = _work(canvas, 1.0)
    bedding = float(rng.uniform(0.0, 180.0))
    bend = (
        fractal_field(rng, ww, wh, 60.0 * wppc, octaves=3) * np.float32(5.0 * wppc),
        fractal_field(rng, ww, wh, 60.0 * wppc, octaves=3) * np.float32(5.0 * wppc),
    )
    layers = fractal_field(
        rng, ww, wh, 30.0 * wppc, octaves=5, gain=0.55, stretch=5.0, angle=bedding, warp=bend
    )
    colour_drift = smoothstep(
        -0.6, 1.4, fractal_field(rng, ww, wh, 45.0 * wppc, octaves=4, stretch=2.0, angle=bedding)
    )
    mottle = fractal_field(rng, ww, wh, 6.0 * wppc, octaves=3, stretch=1.5, angle=bedding)
    soft = np.float32(1.0) + np.float32(0.03) * layers + np.float32(0.018) * mottle
    factor = upsample(soft, w, h)
    factor += np.float32(0.03) * pixel_grain(rng, w, h, canvas.cm(0.04))
    factor += np.float32(0.016) * fractal_field(rng, w, h, max(canvas.cm(0.5), 2.0), octaves=3)
    _pores(canvas, factor, 300.0, (0.03, 0.2), 0.3)
    planes = _flat(base, w, h)
    _tint(planes, drift, upsample(colour_drift * np.float32(0.7), w, h))
    # Fossil fragments and iron specks: sparse small flecks of the third colour.
    flecks = smoothstep(1.9, 2.6, fractal_field(rng, w, h, max(canvas.cm(0.15), 2.0), octaves=2))
    _tint(planes, fleck, flecks * np.float32(0.6))
    _scale(planes, factor)
    return planes


# --------------------------------------------------------------------------- fabrics, paper, sand


def _drape(canvas: _Canvas, crease: float, strength: float) -> FloatArray:
    """Shading of soft folds (and, with `crease` > 0, small sharp creases) in cloth: a smooth height
    field lit from the upper left, so the lit side of a fold is lighter and its valley darker."""
    rng, w, h = canvas.rng, canvas.width, canvas.height
    ww, wh, wppc = _work(canvas, 1.5)
    hang = float(rng.uniform(0.0, 180.0))
    folds = fractal_field(rng, ww, wh, 35.0 * wppc, octaves=3, gain=0.4, stretch=2.5, angle=hang)
    height = folds * np.float32(1.0 * wppc)
    if crease > 0:
        # Creases: V-shaped valleys along the zero lines of a finer field.
        ridges = fractal_field(
            rng, ww, wh, 9.0 * wppc, octaves=3, stretch=2.0, angle=hang + float(rng.uniform(-40, 40))
        )
        height -= np.abs(ridges) * np.float32(crease * 0.25 * wppc)
    light = relief(height)
    # Valleys also see less of the sky: ambient occlusion from the local depth below the surroundings.
    around = cv2.GaussianBlur(height, (0, 0), max(1.0, 3.0 * wppc))
    occlusion = smoothstep(0.0, 0.5 * wppc, around - height)
    shade = np.float32(1.0) + np.float32(strength) * light - np.float32(0.05 * strength / 0.3) * occlusion
    return upsample(shade, w, h)


def _fabric(canvas: _Canvas, thread_cm: float, slubs: float, crease: float) -> Planes:
    """Plain weave: warp threads along y and weft along x, over and under in a checkerboard, each
    thread with its own thickness along its length (slubs); under soft folds. Threads closer than
    ~2 px are not drawn (they would alias into moire): their irregularity remains as fine streaks."""
    rng, w, h = canvas.rng, canvas.width, canvas.height
    period = canvas.cm(thread_cm)
    warp_var = streaks(rng, w, h, period, canvas.cm(0.6), vertical=True)
    weft_var = streaks(rng, w, h, period, canvas.cm(0.6))
    factor = np.float32(1.0) + np.float32(0.03 * slubs) * (warp_var + weft_var)
    visible = float(np.clip((period - 1.8) / 2.0, 0.0, 1.0))
    if visible > 0:
        # Threads are never ruled straight: they wander by a fraction of their width.
        fx = np.arange(w, dtype=np.float32)[None, :] / np.float32(period)
        fy = np.arange(h, dtype=np.float32)[:, None] / np.float32(period)
        fx = fx + np.float32(0.18) * fractal_field(
            rng, w, h, 12.0 * period, octaves=2, stretch=3.0, angle=90.0
        )
        fy = fy + np.float32(0.18) * fractal_field(rng, w, h, 12.0 * period, octaves=2, stretch=3.0)
        warp_top = ((np.floor(fx).astype(np.int32) + np.floor(fy).astype(np.int32)) & 1) == 0
        hx = np.sin((fx - np.floor(fx)) * np.float32(math.pi))
        hy = np.sin((fy - np.floor(fy)) * np.float32(math.pi))
        # A thread on top is lit across its round back and dips where it goes under.
        warp_h = hx * (np.float32(0.55) + np.float32(0.45) * hy)
        weft_h = hy * (np.float32(0.55) + np.float32(0.45) * hx)
        # Slubs: a thick stretch of thread stands proud and catches more light.
        warp_h *= np.float32(1.0) + np.float32(0.3 * slubs) * warp_var
        weft_h *= np.float32(1.0) + np.float32(0.3 * slubs) * weft_var
        weave = np.where(warp_top, warp_h, weft_h) - np.float32(0.45)
        factor += np.float32(0.18 * visible) * weave
    factor += np.float32(0.012) * pixel_grain(rng, w, h, period)
    factor *= _drape(canvas, crease, 0.5)
    planes = _flat(canvas.colours[0], w, h)
    _scale(planes, factor)
    return planes


def _linen(canvas: _Canvas) -> Planes:
    return _fabric(canvas, 0.1, slubs=1.0, crease=1.0)


def _cotton(canvas: _Canvas) -> Planes:
    return _fabric(canvas, 0.04, slubs=0.35, crease=0.3)


def _paper(canvas: _Canvas) -> Planes:
    """Uncoated paper: a faint cloudy formation and short fibres in every direction, all very subtle."""
    rng, w, h = canvas.rng, canvas.width, canvas.height
    ww, wh, wppc = _work(canvas, 0.5)
    formation = upsample(fractal_field(rng, ww, wh, 1.5 * wppc, octaves=3), w, h)
    factor = np.float32(1.0) + np.float32(0.005) * formation
    fibre = canvas.cm(0.03)
    if fibre >= 1.5:
        # Fibres ~0.3 mm wide and a few mm long, in every direction; thinner ones are grain below.
        for angle in (0.0, 60.0, 120.0):
            turn = angle + float(rng.uniform(0, 60))
            factor += np.float32(0.006) * smoothstep(
                1.0, 2.2, fractal_field(rng, w, h, fibre, stretch=6.0, angle=turn)
            )
    factor += np.float32(0.008) * pixel_grain(rng, w, h, canvas.cm(0.02))
    factor *= upsample(
        np.float32(1.0) + np.float32(0.006) * fractal_field(rng, ww, wh, 30.0 * wppc, octaves=3), w, h
    )
    planes = _flat(canvas.colours[0], w, h)
    _scale(planes, factor)
    return planes


def _sand(canvas: _Canvas) -> Planes:
    """Dry sand: grains far below a pixel at table-top scale (their mix is a fine colour noise, with
    darker mineral grains), raked by the wind into ripples a few centimetres apart."""
    rng, w, h = canvas.rng, canvas.width, canvas.height
    grain_px = canvas.cm(0.03)
    ww, wh, wppc = _work(canvas, 0.6)
    wavelength = float(rng.uniform(6.0, 11.0)) * wppc
    wind = float(rng.uniform(0.0, 180.0))
    # Crests wander and fork, but stay roughly parallel: the wander bends them far less than a fold.
    wander = fractal_field(rng, ww, wh, 50.0 * wppc, octaves=3) * np.float32(0.45 * wavelength)
    wander += fractal_field(rng, ww, wh, 14.0 * wppc, octaves=2) * np.float32(0.07 * wavelength)
    xs = np.arange(ww, dtype=np.float32)[None, :]
    ys = np.arange(wh, dtype=np.float32)[:, None]
    across = xs * np.float32(math.cos(math.radians(wind))) + ys * np.float32(math.sin(math.radians(wind)))
    phase = (across + wander) * np.float32(2.0 * math.pi / wavelength)
    # Ripples are asymmetric: a gentle windward slope and a steeper lee face.
    ripple = np.sin(phase) + np.float32(0.3) * np.sin(phase * np.float32(2.0) + np.float32(0.8))
    amplitude = np.float32(0.6) + np.float32(0.4) * np.tanh(
        fractal_field(rng, ww, wh, 35.0 * wppc, octaves=2)
    )
    height = ripple * amplitude * np.float32(0.06 * wavelength)
    light = relief(height)
    trough = smoothstep(0.3, 1.0, -ripple * amplitude)
    soft = np.float32(1.0) + np.float32(0.45) * light - np.float32(0.03) * trough
    soft += np.float32(0.02) * fractal_field(rng, ww, wh, 25.0 * wppc, octaves=3)
    factor = upsample(soft, w, h)
    grains = pixel_grain(rng, w, h, grain_px)
    factor += np.float32(0.11) * grains
    planes = _flat(canvas.colours[0], w, h)
    # Each pixel's mix of quartz and dark minerals differs a little in hue too.
    dark = smoothstep(1.2, 1.7, pixel_grain(rng, w, h, grain_px)) * np.float32(0.35)
    _tint(planes, canvas.colours[0] * np.array([0.55, 0.5, 0.45], np.float32), dark)
    _scale(planes, factor)
    return planes


_RENDERERS: dict[str, Callable[[_Canvas], Planes]] = {
    "plain": _plain,
    "marble": _marble,
    "wood": _wood,
    "concrete": _concrete,
    "terrazzo": _terrazzo,
    "stone": _stone,
    "linen": _linen,
    "cotton": _cotton,
    "paper": _paper,
    "sand": _sand,
}
