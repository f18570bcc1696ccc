"""Backdrop rendering for the local engine: plain, gradient, studio sweep, procedural textures, photo.

This module owns `BackdropSpec` (what a backdrop looks like, as data) and
`render_backdrop` (the pixels). Every random choice comes from the seed, so the
same spec, size and seed give identical bytes, and a different seed gives a
visibly different variant of the same look.

Textures are built from value noise generated on a coarse grid and upsampled
with `cv2.resize(INTER_CUBIC)`, never from per-pixel Python, and their feature
sizes are relative to the output's shorter side, so a 240 px thumbnail and a
2000 px result show the same pattern at the same relative scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

import cv2
import numpy as np

BackdropKind = Literal[
    "white", "solid", "linear", "radial", "sweep", "marble", "wood", "linen", "concrete", "paper", "photo"
]
BACKDROP_KINDS: tuple[str, ...] = get_args(BackdropKind)

RGB = tuple[int, int, int]
FloatArray = np.ndarray

# Larger outputs are refused so a typo in a size cannot eat the machine's memory.
MAX_SIDE = 12_000


class BackdropError(ValueError):
    """A backdrop spec or size that cannot be rendered; the message says what to change."""


@dataclass(frozen=True, eq=False)
class BackdropSpec:
    """What a backdrop looks like. `colors` holds 1-3 palette colours whose role depends on `kind`:

    - solid: colors[0].
    - linear: colors[0] on the side `angle_deg` points to (0 = right, 90 = top), then colors[1..].
    - radial: colors[0] at the `light` point, fading to colors[-1] at the farthest corner.
    - sweep: wall colors[0], floor colors[1] (default: a slightly darker wall colour).
    - marble: base colors[0], veins colors[1], optional accent veins colors[2] (e.g. gold).
    - wood: light wood colors[0], ring/late-wood colors[1]; grain runs along `angle_deg`.
    - linen, concrete, paper: base colors[0], optional fleck colour colors[1].
    - photo: `photo` (RGB array) cover-fitted, blurred by `photo_blur` px at output scale.
    - white: exactly RGB 255 everywhere, whatever else the spec says (marketplace main images).

    Compared by identity (`eq=False`) because it may hold a numpy array.
    """

    kind: BackdropKind
    colors: tuple[RGB, ...] = ((255, 255, 255),)
    angle_deg: float = 90.0
    horizon: float = 0.62
    light: tuple[float, float] = (0.5, 0.3)
    vignette: float = 0.0
    grain: float = 0.0
    scale: float = 1.0
    photo: np.ndarray | None = field(default=None, repr=False)
    photo_blur: float = 0.0


def render_backdrop(spec: BackdropSpec, size: tuple[int, int], seed: int) -> np.ndarray:
    """Render `spec` at `size` = (width, height) as an (H, W, 3) uint8 RGB array, deterministic in `seed`."""
    width, height = _check_size(size)
    _check_spec(spec)
    if spec.kind == "white":
        return np.full((height, width, 3), 255, dtype=np.uint8)
    if spec.kind == "photo":
        return _photo(spec, width, height)

    rng = np.random.default_rng(seed % (2**63))
    renderer = _RENDERERS[spec.kind]
    image = renderer(spec, width, height, rng)
    # Gradients need dithering against banding; flat solid colours stay exact unless grain is asked for.
    dither = spec.kind != "solid"
    return _finish(image, spec, rng, dither=dither)


# --------------------------------------------------------------------------- validation


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = (int(size[0]), int(size[1]))
    except (TypeError, ValueError, IndexError):
        raise BackdropError(f"backdrop size must be (width, height) in pixels, got {size!r}") from None
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise BackdropError(
            f"backdrop size {width}x{height} is out of range; each side must be 1 to {MAX_SIDE} px"
        )
    return width, height


def _check_spec(spec: BackdropSpec) -> None:
    if spec.kind not in BACKDROP_KINDS:
        raise BackdropError(f"unknown backdrop kind '{spec.kind}'; use one of {', '.join(BACKDROP_KINDS)}")
    if spec.kind == "photo":
        photo = spec.photo
        if photo is None:
            raise BackdropError("a 'photo' backdrop needs a reference photo; pass it as BackdropSpec.photo")
        if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8 or 0 in photo.shape[:2]:
            raise BackdropError(
                f"the reference photo must be an RGB uint8 array (H, W, 3), got {photo.dtype} {photo.shape}"
            )
        if spec.photo_blur < 0:
            raise BackdropError(f"photo_blur must be 0 or more pixels, got {spec.photo_blur}")
        return
    if spec.kind == "white":
        return
    if not 1 <= len(spec.colors) <= 3:
        raise BackdropError(f"a '{spec.kind}' backdrop needs 1 to 3 colours, got {len(spec.colors)}")
    for colour in spec.colors:
        if len(colour) != 3 or not all(isinstance(c, int | np.integer) and 0 <= c <= 255 for c in colour):
            raise BackdropError(f"colour {colour!r} is not an (R, G, B) triple of integers 0-255")
    if not 0.0 <= spec.horizon <= 1.0:
        raise BackdropError(f"horizon must be between 0 (top) and 1 (bottom), got {spec.horizon}")
    if spec.scale <= 0:
        raise BackdropError(f"texture scale must be above 0, got {spec.scale}")
    if spec.vignette < 0 or spec.grain < 0:
        raise BackdropError("vignette and grain must be 0 or more")


# --------------------------------------------------------------------------- shared helpers


def _colour(rgb: RGB) -> FloatArray:
    return np.asarray(rgb, dtype=np.float32)


def _shade(rgb: FloatArray, factor: float) -> FloatArray:
    """Darken (factor < 1) or lighten towards white (factor > 1) a colour."""
    if factor <= 1.0:
        return rgb * factor
    return rgb + (255.0 - rgb) * min(factor - 1.0, 1.0)


def _luma(rgb: FloatArray) -> float:
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def _ramp(t: FloatArray, colours: list[FloatArray]) -> FloatArray:
    """Map t in 0..1 (H, W) through a piecewise-linear ramp of 1-3 colours to (H, W, 3)."""
    t = np.clip(t, 0.0, 1.0)[..., None]
    if len(colours) == 1:
        return np.broadcast_to(colours[0], (*t.shape[:2], 3)).astype(np.float32)
    if len(colours) == 2:
        return colours[0] + t * (colours[1] - colours[0])
    lower = colours[0] + np.clip(t * 2.0, 0.0, 1.0) * (colours[1] - colours[0])
    return lower + np.clip(t * 2.0 - 1.0, 0.0, 1.0) * (colours[2] - colours[1])


def _mix(a: FloatArray, b: FloatArray, weight: FloatArray) -> FloatArray:
    """Per-pixel mix of colour images or colours `a` -> `b` by `weight` (H, W)."""
    return a + weight[..., None] * (b - a)


def _pow(x: FloatArray, exponent: float | FloatArray) -> FloatArray:
    """x ** exponent for x in [0, 1]. NumPy's float32 power with a scalar exponent takes a slow
    path (about 35 ms per megapixel here); exp(log) is vectorised and 30x faster."""
    with np.errstate(divide="ignore"):
        return np.exp(np.log(x) * exponent).astype(np.float32, copy=False)


def _smoothstep(edge0: float, edge1: float, x: FloatArray) -> FloatArray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _grid(width: int, height: int) -> tuple[FloatArray, FloatArray]:
    """Pixel-centre coordinates normalised to 0..1 along each axis, as broadcastable rows/columns."""
    xs = ((np.arange(width, dtype=np.float32) + 0.5) / width)[None, :]
    ys = ((np.arange(height, dtype=np.float32) + 0.5) / height)[:, None]
    return xs, ys


def _noise(rng: np.random.Generator, width: int, height: int, cells_x: float, cells_y: float) -> FloatArray:
    """Smooth value noise in roughly 0..1 with about `cells_x` x `cells_y` features across the frame."""
    gx = max(2, int(math.ceil(cells_x))) + 2
    gy = max(2, int(math.ceil(cells_y))) + 2
    grid = rng.random((gy, gx), dtype=np.float32)
    if gx >= width and gy >= height:
        # Finer than a pixel: plain white noise is the honest answer.
        return rng.random((height, width), dtype=np.float32)
    out = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.asarray(out, dtype=np.float32)


def _fbm(
    rng: np.random.Generator,
    width: int,
    height: int,
    cells: float,
    octaves: int,
    *,
    gain: float = 0.5,
    stretch: tuple[float, float] = (1.0, 1.0),
) -> FloatArray:
    """Fractal (multi-octave) noise in about 0..1; `cells` features across the shorter side at octave 0.

    `stretch` = (sx, sy) divides the feature count along x / y, making streaks (wood grain, fibres).
    Octaves are summed at a working resolution just fine enough for the finest octave (at least
    ~6 px per feature) and upsampled once: the result is smooth anyway and big outputs stay fast.
    """
    short = min(width, height)
    fx = cells * width / short / stretch[0]
    fy = cells * height / short / stretch[1]
    finest = 2.0 ** (octaves - 1)
    work_w = min(width, max(8, int(fx * finest * 6)))
    work_h = min(height, max(8, int(fy * finest * 6)))
    total = np.zeros((work_h, work_w), dtype=np.float32)
    amplitude, norm = 1.0, 0.0
    for _ in range(octaves):
        total += np.float32(amplitude) * (_noise(rng, work_w, work_h, fx, fy) - np.float32(0.5))
        norm += amplitude
        amplitude *= gain
        fx, fy = fx * 2.0, fy * 2.0
    if (work_w, work_h) != (width, height):
        total = np.asarray(
            cv2.resize(total, (width, height), interpolation=cv2.INTER_CUBIC), dtype=np.float32
        )
    return total / np.float32(norm) * np.float32(1.8) + np.float32(0.5)


def _light_distance(width: int, height: int, light: tuple[float, float]) -> FloatArray:
    """Distance from the key-light point, in units of the frame's half-diagonal (aspect aware)."""
    xs, ys = _grid(width, height)
    aspect = width / height
    dx = (xs - np.float32(light[0])) * np.float32(aspect)
    dy = ys - np.float32(light[1])
    half_diagonal = math.hypot(aspect, 1.0) / 2.0
    return np.sqrt(dx * dx + dy * dy) / np.float32(half_diagonal)


def _finish(image: FloatArray, spec: BackdropSpec, rng: np.random.Generator, *, dither: bool) -> np.ndarray:
    height, width = image.shape[:2]
    if spec.vignette > 0:
        distance = _light_distance(width, height, spec.light)
        falloff = 1.0 - np.float32(min(spec.vignette, 1.0) * 0.55) * _smoothstep(0.35, 1.6, distance)
        image = image * falloff[..., None]
    if spec.grain > 0:
        # Monochrome film grain: colour noise reads as sensor noise, not as a surface.
        noise = rng.standard_normal((height, width), dtype=np.float32) * np.float32(spec.grain * 9.0)
        image = image + noise[..., None]
    if dither:
        # Triangular dither of +-1 level: smooth gradients stop showing 8-bit bands.
        tri = rng.random((height, width), dtype=np.float32) - rng.random((height, width), dtype=np.float32)
        image = image + tri[..., None]
    return np.ascontiguousarray(np.clip(image + 0.5, 0, 255).astype(np.uint8))


# --------------------------------------------------------------------------- plain and gradients


def _solid(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    return np.full((height, width, 3), _colour(spec.colors[0]), dtype=np.float32)


def _linear(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    xs, ys = _grid(width, height)
    angle = math.radians(spec.angle_deg)
    # Image y grows downwards, so the angle's "up" component flips sign.
    ax, ay = math.cos(angle) * width, -math.sin(angle) * height
    projection = (xs - 0.5) * np.float32(ax) + (ys - 0.5) * np.float32(ay)
    extent = (abs(ax) + abs(ay)) / 2.0 or 1.0
    t = 0.5 - projection / np.float32(2.0 * extent)
    return _ramp(t, [_colour(c) for c in spec.colors])


def _radial(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    distance = _light_distance(width, height, spec.light)
    # Normalise so colors[-1] is reached exactly at the farthest corner from the light.
    corners = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    aspect = width / height
    half_diagonal = math.hypot(aspect, 1.0) / 2.0
    reach = max(math.hypot((cx - spec.light[0]) * aspect, cy - spec.light[1]) for cx, cy in corners)
    t = distance * np.float32(half_diagonal / reach)
    return _ramp(_pow(t, 0.85), [_colour(c) for c in spec.colors])


def _sweep(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    xs, ys = _grid(width, height)
    wall = _colour(spec.colors[0])
    floor = _colour(spec.colors[1]) if len(spec.colors) > 1 else _shade(wall, 0.9)
    horizon = spec.horizon
    # The cove reads as a soft band whose centre bows slightly: the paper curves towards the camera.
    bow = np.float32(0.018) * ((xs - 0.5) * 2.0) ** 2
    band = 0.09
    t = _smoothstep(horizon - band, horizon + band, ys + bow)
    image = _mix(np.broadcast_to(wall, (height, width, 3)), np.broadcast_to(floor, (height, width, 3)), t)
    # Key light: brighter around the light point, the far wall and the near floor fall off.
    distance = _light_distance(width, height, spec.light)
    light = 1.0 + np.float32(0.07) * (1.0 - _smoothstep(0.0, 1.2, distance))
    near_floor = np.clip((ys - horizon) / max(1.0 - horizon, 1e-3), 0.0, 1.0)
    light = light * (1.0 - np.float32(0.08) * _pow(near_floor, 1.5))
    top_wall = np.clip((horizon - ys) / max(horizon, 1e-3), 0.0, 1.0)
    light = light * (1.0 - np.float32(0.05) * top_wall**2)
    return image * light[..., None]


# --------------------------------------------------------------------------- procedural textures


def _accent_or(spec: BackdropSpec, index: int, fallback: FloatArray) -> FloatArray:
    return _colour(spec.colors[index]) if len(spec.colors) > index else fallback


def _marble(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    base = _colour(spec.colors[0])
    dark_base = _luma(base) < 110
    vein = _accent_or(spec, 1, _shade(base, 1.6) if dark_base else _shade(base, 0.55))
    xs, ys = _grid(width, height)
    short = min(width, height)
    s = np.float32(spec.scale)
    # Coordinates in "shorter side" units so veins keep their width whatever the aspect.
    u = xs * np.float32(width / short)
    v = ys * np.float32(height / short)

    def veins(angle_deg: float, frequency: float, warp_cells: float, warp_amount: float) -> FloatArray:
        # A few roughly parallel bands bent by fractal noise: the classic turbulence marble.
        angle = math.radians(angle_deg)
        along = u * np.float32(math.cos(angle)) + v * np.float32(math.sin(angle))
        warp = _fbm(rng, width, height, warp_cells / spec.scale, 6, gain=0.45) - np.float32(0.5)
        phase = float(rng.uniform(0, math.pi))
        wave = np.sin(
            (along * np.float32(frequency) / s + warp * np.float32(warp_amount)) * np.float32(math.pi) + phase
        )
        return np.float32(1.0) - np.abs(wave)

    main = veins(spec.angle_deg - 55.0 + float(rng.uniform(-15, 15)), 1.6, 1.2, 0.9)
    # Vein width wanders: thick in places, hair-thin in others.
    sharpness = np.float32(10.0) + np.float32(50.0) * _fbm(rng, width, height, 2.0 / spec.scale, 3)
    sharp_veins = _pow(main, np.clip(sharpness, 6.0, 80.0))
    soft_veins = _pow(main, 5.0)
    branch = veins(spec.angle_deg + 10.0 + float(rng.uniform(-20, 20)), 3.0, 2.0, 1.1)
    patches = _smoothstep(0.45, 0.75, _fbm(rng, width, height, 1.6 / spec.scale, 3))
    fine_veins = _pow(branch, 60.0) * patches

    cloud = _fbm(rng, width, height, 1.2 / spec.scale, 6, gain=0.55)
    clouding = np.clip(cloud - 0.45, 0, 1) * 0.22
    veining = np.clip(soft_veins * 0.28 + sharp_veins * 0.75 + fine_veins * 0.5, 0, 1)
    # One mix towards the vein colour: cloudy tone and veins combine like two translucent layers.
    image = _mix(base, vein, 1.0 - (1.0 - clouding) * (1.0 - veining))
    if len(spec.colors) > 2:
        image = _mix(image, _colour(spec.colors[2]), np.clip(sharp_veins * 1.2, 0, 1) * 0.9)
    return image


def _wood(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    # Render with the grain running along x; transpose afterwards for vertical grain.
    vertical = abs(math.sin(math.radians(spec.angle_deg))) > 0.7
    w, h = (height, width) if vertical else (width, height)
    light_wood = _colour(spec.colors[0])
    dark_wood = _accent_or(spec, 1, _shade(light_wood, 0.62))
    short = min(w, h)

    plank = max(6.0, short * 0.24 * spec.scale)
    offset = float(rng.uniform(0, plank))
    ys = np.arange(h, dtype=np.float32)[:, None] + np.float32(offset)
    xs = np.arange(w, dtype=np.float32)[None, :]
    index = np.floor(ys / np.float32(plank)).astype(np.int32)
    local = ys - index.astype(np.float32) * np.float32(plank)
    count = int(index.max()) + 2
    # Each plank is a different board: its own pith position, ring spacing and tone.
    pith_u = rng.uniform(-1.6, 2.6, count).astype(np.float32) * np.float32(plank)
    pith_v = rng.uniform(-0.5, 1.5, count).astype(np.float32) * np.float32(w)
    spacing = rng.uniform(0.045, 0.085, count).astype(np.float32) * np.float32(plank)
    tone = rng.uniform(-0.12, 0.12, count).astype(np.float32)
    stretch = np.float32(0.035)

    du = local - pith_u[index]
    dv = (xs - pith_v[index]) * stretch
    radius = np.sqrt(du * du + dv * dv)
    wobble = _fbm(rng, w, h, 3.0 / spec.scale, 4, stretch=(6.0, 1.0))
    rings = (radius / spacing[index] + wobble * np.float32(2.2)) % np.float32(1.0)
    # Late wood: a thin darker band at the end of each year ring.
    late = _smoothstep(0.55, 0.95, rings) * (1.0 - _smoothstep(0.95, 1.0, rings))
    streaks = _fbm(rng, w, h, short / max(3.0, 3.0 * spec.scale), 3, stretch=(40.0, 1.0))
    figure = _fbm(rng, w, h, 2.0 / spec.scale, 4, stretch=(4.0, 1.0))

    t = late * 0.55 + (streaks - 0.5) * 0.55 + (figure - 0.5) * 0.35 + 0.3 + tone[index]
    image = _ramp(t, [_shade(light_wood, 1.08), light_wood, dark_wood])
    # Seams between boards: a dark groove with a soft shadow on one side.
    edge = np.minimum(local, np.float32(plank) - local)
    groove = 1.0 - np.float32(0.45) * (1.0 - _smoothstep(0.0, max(1.2, short / 400.0), edge))
    image = image * groove[..., None]
    if vertical:
        image = np.ascontiguousarray(image.transpose(1, 0, 2))
    return image


def _linen(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    base = _colour(spec.colors[0])
    short = min(width, height)
    period = max(2.2, short / 240.0 * spec.scale)
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    threads_x = width / period
    threads_y = height / period
    # Each thread has its own thickness and slubs along its length: noise with one cell per thread
    # across it and only a few along it.
    weft_var = _noise(rng, width, height, threads_x / 30.0, threads_y)
    warp_var = _noise(rng, width, height, threads_x, threads_y / 30.0)
    weft = 0.5 + 0.5 * np.cos(ys * np.float32(2 * math.pi / period))
    warp = 0.5 + 0.5 * np.cos(xs * np.float32(2 * math.pi / period))
    weave = weft * (0.55 + 0.9 * (weft_var - 0.5)) + warp * (0.55 + 0.9 * (warp_var - 0.5))
    mottle = _fbm(rng, width, height, 3.0, 4)
    fine = rng.random((height, width), dtype=np.float32)
    t = (weave - 0.55) * 0.16 + (mottle - 0.5) * 0.07 + (fine - 0.5) * 0.04
    image = base * (1.0 + t)[..., None]
    if len(spec.colors) > 1:
        flecks = _noise(rng, width, height, threads_x / 4.0, threads_y / 4.0)
        image = _mix(image, _colour(spec.colors[1]), _smoothstep(0.86, 1.0, flecks) * 0.6)
    return image


def _concrete(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    base = _colour(spec.colors[0])
    short = min(width, height)
    s = spec.scale
    large = _fbm(rng, width, height, 2.5 / s, 6, gain=0.55)
    mid = _fbm(rng, width, height, 25.0 / s, 3)
    fine = rng.standard_normal((height, width), dtype=np.float32)
    stains = _smoothstep(0.55, 0.85, _fbm(rng, width, height, 1.8 / s, 4))
    t = (large - 0.5) * 0.22 + (mid - 0.5) * 0.09 + fine * 0.025 - stains * 0.07
    image = base * (1.0 + t)[..., None]

    # Pores: small dark air holes. Their count is relative to the frame (so a thumbnail shows the
    # same surface), but never finer than ~3 px so they stay holes, not noise.
    pore_cells = min(short / 3.0, 200.0 / s)
    pore_field = _noise(rng, width, height, pore_cells * width / short, pore_cells * height / short)
    pores = _smoothstep(0.955, 0.995, pore_field * (0.92 + 0.16 * mid))
    image = image * (1.0 - 0.4 * pores)[..., None]
    # Speckles: single-pixel aggregate grains, both darker and lighter.
    speck = rng.random((height, width), dtype=np.float32)
    dark = (speck > 0.9975).astype(np.float32) * 0.25
    bright = (speck < 0.0025).astype(np.float32) * 0.18
    image = image * (1.0 - dark + bright)[..., None]
    if len(spec.colors) > 1:
        image = _mix(image, _colour(spec.colors[1]), stains * 0.3)
    return image


def _paper(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    base = _colour(spec.colors[0])
    short = min(width, height)
    fibre_cells = min(short / 3.0, 260.0 / spec.scale)
    # Fibres lie in every direction; short streaks along x and along y read as felted pulp.
    along_x = _noise(rng, width, height, fibre_cells / 6.0 * width / short, fibre_cells * height / short)
    along_y = _noise(rng, width, height, fibre_cells * width / short, fibre_cells / 6.0 * height / short)
    fibres = _smoothstep(0.65, 0.95, along_x) + _smoothstep(0.65, 0.95, along_y)
    mottle = _fbm(rng, width, height, 4.0 / spec.scale, 5)
    cloud = _fbm(rng, width, height, 12.0 / spec.scale, 3)
    fine = rng.random((height, width), dtype=np.float32)
    t = (mottle - 0.5) * 0.1 + (cloud - 0.5) * 0.06 + (fine - 0.5) * 0.04 - fibres * 0.03
    image = base * (1.0 + t)[..., None]
    flecks_colour = _accent_or(spec, 1, _shade(base, 0.55))
    flecks = _smoothstep(0.992, 1.0, _noise(rng, width, height, fibre_cells, fibre_cells))
    return _mix(image, flecks_colour, flecks * 0.45)


# --------------------------------------------------------------------------- reference photo


def _photo(spec: BackdropSpec, width: int, height: int) -> np.ndarray:
    photo = spec.photo
    assert photo is not None  # checked in _check_spec
    src_h, src_w = photo.shape[:2]
    # Cover: scale so both sides are at least the target, then crop the centre; never stretch.
    factor = max(width / src_w, height / src_h)
    new_w = max(width, int(math.ceil(src_w * factor - 1e-6)))
    new_h = max(height, int(math.ceil(src_h * factor - 1e-6)))
    interpolation = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_CUBIC
    resized = cv2.resize(photo, (new_w, new_h), interpolation=interpolation)
    x0 = (new_w - width) // 2
    y0 = (new_h - height) // 2
    out = np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])
    if spec.photo_blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), sigmaX=float(spec.photo_blur), borderType=cv2.BORDER_REFLECT)
    return np.asarray(out, dtype=np.uint8)


_RENDERERS = {
    "solid": _solid,
    "linear": _linear,
    "radial": _radial,
    "sweep": _sweep,
    "marble": _marble,
    "wood": _wood,
    "linen": _linen,
    "concrete": _concrete,
    "paper": _paper,
}
