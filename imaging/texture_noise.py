"""Procedural noise for textures: fractal value noise, pixel grain, thread streaks, and the small
field operations built on them (smoothstep, gradients, relief shading, soft line profiles).

Everything is NumPy/OpenCV on float32 maps, drawn from a caller's `np.random.Generator` in a fixed
order (so callers stay deterministic in their seed). Noise is built on small random grids and
upsampled by OpenCV, never per pixel in Python: a fractal field costs about one output-size resize.
Sizes are in output pixels; callers convert from physical units.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

FloatArray = np.ndarray


def fractal_grid(rng: np.random.Generator, width: int, height: int, octaves: int, gain: float) -> FloatArray:
    """Fractal noise on a (height, width) grid, zero mean and unit deviation.

    Octave k is drawn on a grid 2**k times coarser and upsampled level by level (a noise pyramid),
    so all octaves cost about as much as the finest one.
    """
    levels = [(max(2, -(-width // 2**k)), max(2, -(-height // 2**k))) for k in range(octaves - 1, -1, -1)]
    total = rng.random(levels[0][::-1], dtype=np.float32)
    amplitude = 1.0
    for w, h in levels[1:]:
        total = np.asarray(cv2.resize(total, (w, h), interpolation=cv2.INTER_CUBIC), np.float32)
        amplitude *= gain
        total += np.float32(amplitude) * rng.random((h, w), dtype=np.float32)
    total -= np.float32(total.mean())
    total /= np.float32(max(float(total.std()), 1e-6))
    return total


def fractal_field(
    rng: np.random.Generator,
    width: int,
    height: int,
    cell: float,
    *,
    octaves: int = 1,
    gain: float = 0.5,
    stretch: float = 1.0,
    angle: float = 0.0,
    warp: tuple[FloatArray, FloatArray] | None = None,
) -> FloatArray:
    """Fractal value noise (height, width), about zero mean and unit deviation.

    `cell` is the size in px of the largest features across `angle` (degrees, 0 = along x); they are
    `stretch` times longer along it. Octaves that would be finer than 2 px are dropped (callers add
    pixel grain themselves). `warp` = (dx, dy) px maps samples the noise at (x + dx, y + dy).
    """
    finest = cell / 2 ** (octaves - 1)
    while octaves > 1 and finest < 2.0:
        octaves -= 1
        finest *= 2.0
    finest = max(finest, 1.0)
    along, across = finest * stretch, finest
    turn = angle % 180.0
    if warp is None and turn in (0.0, 90.0):
        cells_x, cells_y = (along, across) if turn == 0.0 else (across, along)
        grid = fractal_grid(rng, int(width / cells_x) + 3, int(height / cells_y) + 3, octaves, gain)
        return np.asarray(cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC), np.float32)
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    if warp is not None:
        xs, ys = xs + warp[0], ys + warp[1]
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    u = xs * np.float32(c / along) + ys * np.float32(s / along)
    v = ys * np.float32(c / across) - xs * np.float32(s / across)
    u, v = np.broadcast_to(u, (height, width)), np.broadcast_to(v, (height, width))
    u0, v0 = float(u.min()) - 2.0, float(v.min()) - 2.0
    grid = fractal_grid(rng, int(float(u.max()) - u0) + 3, int(float(v.max()) - v0) + 3, octaves, gain)
    # Linear remap of a grid upsampled to ~1.5 px per cell: as smooth as cubic, five times faster.
    fu, fv = max(1, math.ceil(along / 1.5)), max(1, math.ceil(across / 1.5))
    fine = cv2.resize(grid, (grid.shape[1] * fu, grid.shape[0] * fv), interpolation=cv2.INTER_CUBIC)
    map_x = (u - np.float32(u0)) * np.float32(fu)
    map_y = (v - np.float32(v0)) * np.float32(fv)
    return np.asarray(cv2.remap(fine, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))


def pixel_grain(rng: np.random.Generator, width: int, height: int, size: float) -> FloatArray:
    """Pixel-scale grain of features `size` px wide, unit deviation for features of 1 px or more.

    Smaller features average out inside a pixel, so their grain is weaker (sqrt of the count per px).
    """
    if size >= 1.5:
        return fractal_field(rng, width, height, size)
    noise = rng.random((height, width), dtype=np.float32)
    noise -= np.float32(0.5)
    noise *= np.float32(math.sqrt(12.0) * min(1.0, size))
    return noise


def streaks(
    rng: np.random.Generator, width: int, height: int, across: float, along: float, *, vertical: bool = False
) -> FloatArray:
    """Noise of long thin streaks (threads, wood fibres): one value per `across` px, smooth over `along` px.

    Streaks run along x (or y when `vertical`); `across` may be below 2 px, unlike `fractal_field`.
    """
    length, breadth = (height, width) if vertical else (width, height)
    count = max(2, int(breadth / max(across, 1.0)) + 1)
    grid = rng.random((count, int(length / max(along, 2.0)) + 3), dtype=np.float32)
    grid -= np.float32(0.5)
    grid *= np.float32(math.sqrt(12.0) * min(1.0, math.sqrt(max(across, 0.05))))
    smooth = cv2.resize(grid, (length, count), interpolation=cv2.INTER_CUBIC)
    # Nearest across: a thread is one value over its width, with a crisp edge to the next.
    out = cv2.resize(smooth, (length, breadth), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(out.T) if vertical else np.asarray(out)


def smoothstep(edge0: float, edge1: float, x: FloatArray) -> FloatArray:
    """0 below `edge0`, 1 above `edge1`, a smooth cubic between (a new float32 array)."""
    t = (x - np.float32(edge0)) * np.float32(1.0 / (edge1 - edge0))
    np.clip(t, 0.0, 1.0, out=t)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


def upsample(field: FloatArray, width: int, height: int) -> FloatArray:
    """A working-resolution field at output size. Linear: working fields are already smooth over
    several of their pixels, so its kinks are invisible, and it is four times faster than cubic."""
    if field.shape == (height, width):
        return field
    return np.asarray(cv2.resize(field, (width, height), interpolation=cv2.INTER_LINEAR), np.float32)


def gradient(field: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(d/dx, d/dy) by central differences, per pixel, edges reflected."""
    gx = cv2.Sobel(field, cv2.CV_32F, 1, 0, ksize=1, scale=0.5, borderType=cv2.BORDER_REFLECT)
    gy = cv2.Sobel(field, cv2.CV_32F, 0, 1, ksize=1, scale=0.5, borderType=cv2.BORDER_REFLECT)
    return np.asarray(gx), np.asarray(gy)


def relief(height_map: FloatArray, light: tuple[float, float] = (-0.6, -0.8)) -> FloatArray:
    """Shading of a height map (px units) lit from `light` (x, y; default upper left): 0 on the flat."""
    gx, gy = gradient(height_map)
    return gx * np.float32(-light[0]) + gy * np.float32(-light[1])


def line_profile(distance: FloatArray, width: FloatArray | float) -> FloatArray:
    """A soft line profile exp(-(d / width)^2), 1 on the centre line."""
    t = distance / width
    t *= t
    # Far tails would be denormal floats, which make exp crawl.
    np.minimum(t, np.float32(40.0), out=t)
    np.negative(t, out=t)
    return np.asarray(cv2.exp(t), np.float32)
