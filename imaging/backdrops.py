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
# Rows per block for the per-pixel colour passes: small temporaries that stay in cache.
_BLOCK_ROWS = 128


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
    if t.ndim != 2:
        return _ramp_broadcast(t, colours)
    t = np.clip(t, 0.0, 1.0)
    if len(colours) == 1:
        return np.broadcast_to(colours[0], (*t.shape, 3)).astype(np.float32)
    # Channel by channel: the same arithmetic as broadcasting (H, W, 1) against (3,), which NumPy
    # runs with a slow length-3 inner loop (several times slower than plane arithmetic).
    if len(colours) == 2:
        step = colours[1] - colours[0]
        return _merge([colours[0][c] + t * step[c] for c in range(3)])
    low, high = np.clip(t * 2.0, 0.0, 1.0), np.clip(t * 2.0 - 1.0, 0.0, 1.0)
    first, second = colours[1] - colours[0], colours[2] - colours[1]
    return _merge([(colours[0][c] + low * first[c]) + high * second[c] for c in range(3)])


def _ramp_broadcast(t: FloatArray, colours: list[FloatArray]) -> FloatArray:
    t = np.clip(t, 0.0, 1.0)[..., None]
    if len(colours) == 1:
        return np.broadcast_to(colours[0], (*t.shape[:2], 3)).astype(np.float32)
    if len(colours) == 2:
        return colours[0] + t * (colours[1] - colours[0])
    lower = colours[0] + np.clip(t * 2.0, 0.0, 1.0) * (colours[1] - colours[0])
    return lower + np.clip(t * 2.0 - 1.0, 0.0, 1.0) * (colours[2] - colours[1])


def _merge(planes: list[FloatArray]) -> FloatArray:
    return np.asarray(cv2.merge(planes))


def _per_channel(values: FloatArray) -> FloatArray:
    """An (H, W) float32 map repeated over three channels (OpenCV does this far faster than NumPy)."""
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(values), cv2.COLOR_GRAY2RGB))


def _plain_map(image: FloatArray, values: FloatArray) -> bool:
    """Whether `values` is a float32 (H, W) map matching the float32 (H, W, 3) `image`."""
    return (
        image.ndim == 3
        and values.ndim == 2
        and image.shape[:2] == values.shape
        and image.dtype == np.float32
        and values.dtype == np.float32
    )


def _times(image: FloatArray, factor: FloatArray) -> FloatArray:
    """image * factor[..., None], exactly, without NumPy's slow channel broadcasting."""
    if _plain_map(image, factor):
        return image * _per_channel(factor)
    return image * factor[..., None]


def _plus(image: FloatArray, offset: FloatArray) -> FloatArray:
    """image + offset[..., None], exactly, without NumPy's slow channel broadcasting."""
    if _plain_map(image, offset):
        return image + _per_channel(offset)
    return image + offset[..., None]


def _colour_times(colour: FloatArray, factor: FloatArray) -> FloatArray:
    """colour (3,) * factor[..., None] as an (H, W, 3) image, channel by channel."""
    if factor.ndim != 2:
        return colour * factor[..., None]
    return _merge([colour[c] * factor for c in range(3)])


def _mix(a: FloatArray, b: FloatArray, weight: FloatArray) -> FloatArray:
    """Per-pixel mix of colour images or colours `a` -> `b` by `weight` (H, W)."""
    if a.ndim == 1 and b.ndim == 1 and weight.ndim == 2:
        step = b - a
        dtype = np.result_type(a, weight, step)
        out = np.empty((*weight.shape, 3), dtype)
        for top in range(0, weight.shape[0], _BLOCK_ROWS):
            w = weight[top : top + _BLOCK_ROWS]
            out[top : top + _BLOCK_ROWS] = _merge([a[c] + w * step[c] for c in range(3)])
        return out
    if b.ndim == 1 and _plain_map(a, weight):
        # b - a with b as an OpenCV Scalar (converted to float32, exactly), then a + w * (b - a),
        # in row blocks written back over a fresh copy of `a`.
        scalar = (float(b[0]), float(b[1]), float(b[2]), 0.0)
        out = np.empty_like(a)
        for top in range(0, a.shape[0], _BLOCK_ROWS):
            part = a[top : top + _BLOCK_ROWS]
            # OpenCV's stubs lack the Scalar overload that the runtime accepts.
            difference = cv2.subtract(scalar, np.ascontiguousarray(part))  # type: ignore[call-overload]
            towards = np.asarray(difference)
            towards *= _per_channel(weight[top : top + _BLOCK_ROWS])
            towards += part
            out[top : top + _BLOCK_ROWS] = towards
        return out
    return a + weight[..., None] * (b - a)


def _pow(x: FloatArray, exponent: float | FloatArray) -> FloatArray:
    """x ** exponent for x in [0, 1]. NumPy's float32 power with a scalar exponent takes a slow
    path (about 35 ms per megapixel here); exp(log) is vectorised and 30x faster."""
    with np.errstate(divide="ignore"):
        out = np.log(x)
    if isinstance(exponent, np.ndarray) and np.result_type(out, exponent) != out.dtype:
        return np.exp(out * exponent).astype(np.float32, copy=False)
    out *= exponent
    return np.exp(out, out=out).astype(np.float32, copy=False)


def _smoothstep(edge0: float, edge1: float, x: FloatArray) -> FloatArray:
    t = x - edge0
    t /= edge1 - edge0
    np.clip(t, 0.0, 1.0, out=t)
    # t * t * (3 - 2 t), in place.
    rise = t * 2.0
    np.subtract(3.0, rise, out=rise)
    t *= t
    t *= rise
    return t


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
    total /= np.float32(norm)
    total *= np.float32(1.8)
    total += np.float32(0.5)
    return total


def _light_distance(
    width: int, height: int, light: tuple[float, float], rows: slice | None = None
) -> FloatArray:
    """Distance from the key-light point, in units of the frame's half-diagonal (aspect aware).

    `rows` selects a block of rows of the frame (the values are those of the whole-frame map).
    """
    xs, ys = _grid(width, height)
    aspect = width / height
    dx = (xs - np.float32(light[0])) * np.float32(aspect)
    dy = (ys if rows is None else ys[rows]) - np.float32(light[1])
    half_diagonal = math.hypot(aspect, 1.0) / 2.0
    distance = dx * dx + dy * dy
    np.sqrt(distance, out=distance)
    distance /= np.float32(half_diagonal)
    return distance


def _finish(image: FloatArray, spec: BackdropSpec, rng: np.random.Generator, *, dither: bool) -> np.ndarray:
    height, width = image.shape[:2]
    noise = tri = None
    vignette = np.float32(min(spec.vignette, 1.0) * 0.55)
    if spec.grain > 0:
        # Monochrome film grain: colour noise reads as sensor noise, not as a surface.
        noise = rng.standard_normal((height, width), dtype=np.float32) * np.float32(spec.grain * 9.0)
    if dither:
        # Triangular dither of +-1 level: smooth gradients stop showing 8-bit bands.
        tri = rng.random((height, width), dtype=np.float32)
        # The second draw in row blocks: the generator gives the same stream as one big draw.
        for top in range(0, height, _BLOCK_ROWS):
            rows = min(_BLOCK_ROWS, height - top)
            tri[top : top + rows] -= rng.random((rows, width), dtype=np.float32)
    # Row blocks: the same per-pixel arithmetic, without several full-size float RGB temporaries
    # (each 108 MB at 3000x3000) and with blocks that stay in cache.
    out = np.empty((height, width, 3), np.uint8)
    for top in range(0, height, _BLOCK_ROWS):
        block = slice(top, top + _BLOCK_ROWS)
        part = image[block]
        if spec.vignette > 0:
            falloff = 1.0 - vignette * _smoothstep(
                0.35, 1.6, _light_distance(width, height, spec.light, block)
            )
            part = _times(part, falloff)
        if noise is not None:
            part = _plus(part, noise[block])
        if tri is not None:
            part = _plus(part, tri[block])
        part = part + 0.5
        np.clip(part, 0, 255, out=part)
        out[block] = part.astype(np.uint8)
    return out


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
    image = _mix(wall, floor, np.broadcast_to(t, (height, width)))
    # Key light: brighter around the light point, the far wall and the near floor fall off.
    distance = _light_distance(width, height, spec.light)
    light = 1.0 + np.float32(0.07) * (1.0 - _smoothstep(0.0, 1.2, distance))
    near_floor = np.clip((ys - horizon) / max(1.0 - horizon, 1e-3), 0.0, 1.0)
    light = light * (1.0 - np.float32(0.08) * _pow(near_floor, 1.5))
    top_wall = np.clip((horizon - ys) / max(horizon, 1e-3), 0.0, 1.0)
    light = light * (1.0 - np.float32(0.05) * top_wall**2)
    return _times(image, np.ascontiguousarray(np.broadcast_to(light, (height, width))))


# --------------------------------------------------------------------------- procedural textures


def _accent_or(spec: BackdropSpec, index: int, fallback: FloatArray) -> FloatArray:
    return _colour(spec.colors[index]) if len(spec.colors) > index else fallback


def _marble(spec: BackdropSpec, width: int, height: int, rng: np.random.Generator) -> FloatArray:
    base = _colour(spec.colors[0])
    dark_base = _luma(base) < 110
    vein = _accent_or(spec, 1, _shade(base, 1.6) if dark_base else _shade(base, 0.55))
    accent = _colour(spec.colors[2]) if len(spec.colors) > 2 else None
    xs, ys = _grid(width, height)
    short = min(width, height)
    s = np.float32(spec.scale)
    # Coordinates in "shorter side" units so veins keep their width whatever the aspect.
    u = xs * np.float32(width / short)
    v = ys * np.float32(height / short)

    def vein_family(angle_deg: float, warp_cells: float) -> tuple[float, FloatArray, float]:
        # The random parts of a family of veins, drawn in a fixed order: direction, warp, phase.
        warp = _fbm(rng, width, height, warp_cells / spec.scale, 6, gain=0.45)
        return math.radians(angle_deg), warp, float(rng.uniform(0, math.pi))

    main_family = vein_family(spec.angle_deg - 55.0 + float(rng.uniform(-15, 15)), 1.2)
    # Vein width wanders: thick in places, hair-thin in others.
    sharpness_noise = _fbm(rng, width, height, 2.0 / spec.scale, 3)
    branch_family = vein_family(spec.angle_deg + 10.0 + float(rng.uniform(-20, 20)), 2.0)
    patch_noise = _fbm(rng, width, height, 1.6 / spec.scale, 3)
    cloud = _fbm(rng, width, height, 1.2 / spec.scale, 6, gain=0.55)

    def veins(
        family: tuple[float, FloatArray, float], rows: slice, frequency: float, warp_amount: float
    ) -> FloatArray:
        # A few roughly parallel bands bent by fractal noise: the classic turbulence marble.
        angle, warp_field, phase = family
        along = u * np.float32(math.cos(angle)) + v[rows] * np.float32(math.sin(angle))
        warp = warp_field[rows] - np.float32(0.5)
        # (along * frequency / s + warp * warp_amount) * pi + phase, in place.
        along *= np.float32(frequency)
        along /= s
        warp *= np.float32(warp_amount)
        along += warp
        along *= np.float32(math.pi)
        along += phase
        np.sin(along, out=along)
        np.abs(along, out=along)
        return np.subtract(np.float32(1.0), along, out=along)

    # Everything after the noise fields is per pixel: work in row blocks that stay in cache and
    # keep the temporaries small (the arithmetic is the same as on whole frames).
    image = np.empty((height, width, 3), np.float32)
    for top in range(0, height, _BLOCK_ROWS):
        rows = slice(top, top + _BLOCK_ROWS)
        main = veins(main_family, rows, 1.6, 0.9)
        sharpness = sharpness_noise[rows] * np.float32(50.0)
        sharpness += np.float32(10.0)
        np.clip(sharpness, 6.0, 80.0, out=sharpness)
        sharp_veins = _pow(main, sharpness)
        soft_veins = _pow(main, 5.0)
        branch = veins(branch_family, rows, 3.0, 1.1)
        patches = _smoothstep(0.45, 0.75, patch_noise[rows])
        fine_veins = _pow(branch, 60.0)
        fine_veins *= patches

        clouding = cloud[rows] - 0.45
        np.clip(clouding, 0, 1, out=clouding)
        clouding *= 0.22
        veining = soft_veins
        veining *= 0.28
        veining += sharp_veins * 0.75
        fine_veins *= 0.5
        veining += fine_veins
        np.clip(veining, 0, 1, out=veining)
        # One mix towards the vein colour: cloudy tone and veins combine like two translucent
        # layers. weight = 1 - (1 - clouding) * (1 - veining), in place.
        weight = np.subtract(1.0, clouding, out=clouding)
        weight *= np.subtract(1.0, veining, out=veining)
        np.subtract(1.0, weight, out=weight)
        block = _mix(base, vein, weight)
        if accent is not None:
            block = _mix(block, accent, np.clip(sharp_veins * 1.2, 0, 1) * 0.9)
        image[rows] = block
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
    image = _times(image, np.ascontiguousarray(np.broadcast_to(groove, image.shape[:2])))
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
    image = _colour_times(base, 1.0 + t)
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
    image = _colour_times(base, 1.0 + t)

    # Pores: small dark air holes. Their count is relative to the frame (so a thumbnail shows the
    # same surface), but never finer than ~3 px so they stay holes, not noise.
    pore_cells = min(short / 3.0, 200.0 / s)
    pore_field = _noise(rng, width, height, pore_cells * width / short, pore_cells * height / short)
    pores = _smoothstep(0.955, 0.995, pore_field * (0.92 + 0.16 * mid))
    image = _times(image, 1.0 - 0.4 * pores)
    # Speckles: single-pixel aggregate grains, both darker and lighter.
    speck = rng.random((height, width), dtype=np.float32)
    dark = (speck > 0.9975).astype(np.float32) * 0.25
    bright = (speck < 0.0025).astype(np.float32) * 0.18
    image = _times(image, 1.0 - dark + bright)
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
    image = _colour_times(base, 1.0 + t)
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
