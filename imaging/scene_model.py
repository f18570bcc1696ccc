"""The scene model as data: camera, light, what the set is made of, and the checks on them.

This module owns the value types of the local engine's photographic scenes (`Camera`, `Light`,
`SceneSpec`), the error they raise (`SceneError`) and the validation of every input, so each
rendering module can trust what it is given. It draws nothing; `imaging.scene` renders.

Angles follow the image plane: a light's azimuth 0 is from the right, 90 from behind the set
(a back light), 180 from the left, 270 from the front (towards the camera).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from imaging.harmonize import HarmonizeSpec

Viewpoint = Literal["eye_level", "three_quarter", "flat_lay"]
VIEWPOINTS: tuple[str, ...] = get_args(Viewpoint)
RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]  # x, y, width, height
# A flat, top-down texture maker: (width, height), seed -> float32 (H, W, 3) in 0..1.
TextureMaker = Callable[[tuple[int, int], int], np.ndarray]

MIN_SIDE = 32
# Larger frames are refused so a typo in a size cannot eat the machine's memory.
MAX_SIDE = 8000


class SceneError(ValueError):
    """A scene spec, size or product that cannot be rendered; the message says what to change."""


@dataclass(frozen=True)
class Camera:
    """Where the camera looks from.

    `horizon` is where the table's far edge meets the wall, as a fraction of the frame height
    from the top (None: eye_level 0.55, three_quarter 0.38; a flat lay has no wall). Verticals
    stay vertical (a shift lens, as product photographers use), so walls are always upright.
    `focus_blur` 0..1 is the depth of field: the product is in focus, the far surface and the
    wall get softer the farther they are from it.
    """

    viewpoint: Viewpoint = "three_quarter"
    horizon: float | None = None
    focus_blur: float = 0.5


@dataclass(frozen=True, eq=False)
class Light:
    """The key light and its colour.

    `elevation_deg`: low sun 10-25 gives long shadows, noon about 70. `softness` 0 is a hard sun,
    1 an overcast sky or a big softbox (wide penumbra, weaker cast shadow). `temperature_k`:
    candle 1900, golden hour 3000-3500, daylight 5500, overcast 6500-7500. `strength` 0..1 is
    the contrast between lit and shadowed parts. `pattern` is an optional (H, W) float 0..1 gobo
    (window, blinds, leaves; 1 = lit) cast across the wall, the surface and softly the product.
    Compared by identity (`eq=False`) because it may hold an array.
    """

    azimuth_deg: float = 135.0
    elevation_deg: float = 45.0
    softness: float = 0.5
    temperature_k: float = 5500.0
    strength: float = 0.6
    pattern: np.ndarray | None = field(default=None, repr=False)
    pattern_strength: float = 0.0


@dataclass(frozen=True, eq=False)
class SceneSpec:
    """What the set looks like and where the product stands.

    `surface` / `wall` make flat textures (None: a seamless paper sweep in `surface_colour` and
    `wall_colour`, or a studio gradient wall). `plate` is a user's own photo of an empty set used
    instead of wall and surface; `plate_surface` marks where the product may stand on it, as a
    box (x0, y0, x1, y1) of fractions or a line when y0 == y1. `product_fill` is the product's
    height relative to the frame height it may use; `product_x` its centre, as a fraction of the
    width (of the plate box's width with a plate). Compared by identity (it may hold arrays).
    """

    camera: Camera = field(default_factory=Camera)
    light: Light = field(default_factory=Light)
    surface: TextureMaker | None = None
    wall: TextureMaker | None = None
    wall_colour: RGB = (232, 228, 222)
    surface_colour: RGB = (214, 208, 198)
    surface_gloss: float = 0.0
    plate: np.ndarray | None = field(default=None, repr=False)
    plate_surface: tuple[float, float, float, float] | None = None
    product_fill: float = 0.6
    product_x: float = 0.5
    harmony: HarmonizeSpec = field(default_factory=HarmonizeSpec)


# --------------------------------------------------------------------------- validation


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = int(size[0]), int(size[1])
    except (TypeError, ValueError, IndexError):
        raise SceneError(f"scene size must be (width, height) in pixels, got {size!r}") from None
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise SceneError(
            f"scene size {width}x{height} is out of range; each side must be {MIN_SIDE} to {MAX_SIDE} px"
        )
    return width, height


def _unit(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0.0 <= value <= 1.0):
        raise SceneError(f"{name} must be a number from 0 to 1, got {value!r}")


def _colour(name: str, colour: RGB) -> None:
    if len(colour) != 3 or not all(isinstance(c, int | np.integer) and 0 <= c <= 255 for c in colour):
        raise SceneError(f"{name} {colour!r} is not an (R, G, B) triple of integers 0-255")


def check_spec(spec: SceneSpec) -> None:
    """Raise SceneError naming the first field of `spec` that cannot be rendered."""
    camera, light = spec.camera, spec.light
    if camera.viewpoint not in VIEWPOINTS:
        raise SceneError(f"unknown viewpoint '{camera.viewpoint}'; use one of {', '.join(VIEWPOINTS)}")
    if camera.horizon is not None and not (
        isinstance(camera.horizon, int | float) and 0.05 <= camera.horizon <= 0.85
    ):
        raise SceneError(
            f"camera horizon must be from 0.05 to 0.85 of the height (or None for the default), "
            f"got {camera.horizon!r}"
        )
    _unit("camera focus_blur", camera.focus_blur)
    for name, value in (
        ("light azimuth_deg", light.azimuth_deg),
        ("light elevation_deg", light.elevation_deg),
    ):
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise SceneError(f"{name} must be a finite number of degrees, got {value!r}")
    if not 3.0 <= light.elevation_deg <= 90.0:
        raise SceneError(
            f"light elevation_deg must be from 3 (grazing) to 90 (overhead), got {light.elevation_deg}"
        )
    _unit("light softness", light.softness)
    _unit("light strength", light.strength)
    _unit("light pattern_strength", light.pattern_strength)
    if not 1000.0 <= light.temperature_k <= 12000.0:
        raise SceneError(f"light temperature_k must be from 1000 to 12000 K, got {light.temperature_k}")
    if light.pattern is not None:
        pattern = light.pattern
        if not isinstance(pattern, np.ndarray) or pattern.ndim != 2 or 0 in pattern.shape:
            raise SceneError(
                f"light pattern must be a 2-D (H, W) array, got shape {getattr(pattern, 'shape', None)}"
            )
        if pattern.dtype.kind != "f":
            raise SceneError(
                f"light pattern must be float 0..1 (1 = lit), got {pattern.dtype}; divide 8-bit masks by 255"
            )
    _colour("wall_colour", spec.wall_colour)
    _colour("surface_colour", spec.surface_colour)
    _unit("surface_gloss", spec.surface_gloss)
    if not (isinstance(spec.product_fill, int | float) and 0.05 <= spec.product_fill <= 1.0):
        raise SceneError(f"product_fill must be from 0.05 to 1, got {spec.product_fill!r}")
    _unit("product_x", spec.product_x)
    for name, maker in (("surface", spec.surface), ("wall", spec.wall)):
        if maker is not None and not callable(maker):
            raise SceneError(f"{name} must be a texture maker (size, seed) -> array, or None")
    if spec.plate is not None:
        check_plate(spec.plate)
    if spec.plate_surface is not None:
        if spec.plate is None:
            raise SceneError(
                "plate_surface marks a place on a plate photo; pass the photo as SceneSpec.plate"
            )
        check_plate_surface(spec.plate_surface)


def check_plate(plate: np.ndarray) -> None:
    if not isinstance(plate, np.ndarray) or plate.ndim != 3 or plate.shape[2] != 3:
        raise SceneError(
            f"the plate must be an RGB photo (H, W, 3), got shape {getattr(plate, 'shape', None)}"
        )
    if plate.dtype != np.uint8:
        raise SceneError(f"the plate must be uint8 RGB, got {plate.dtype}; convert the photo to 8-bit first")
    if min(plate.shape[:2]) < 16:
        raise SceneError(
            f"the plate photo is too small ({plate.shape[1]}x{plate.shape[0]}); use at least 16 px"
        )


def check_plate_surface(box: tuple[float, float, float, float]) -> None:
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise SceneError(f"plate_surface must be four fractions (x0, y0, x1, y1), got {box!r}") from None
    if not all(0.0 <= v <= 1.0 for v in (x0, y0, x1, y1)):
        raise SceneError(
            f"plate_surface {box!r} is outside the photo; every value must be a fraction from 0 to 1"
        )
    if x1 - x0 < 0.02 or y1 < y0:
        raise SceneError(
            f"plate_surface {box!r} must have x1 > x0 (at least 2% wide) and y1 >= y0 (y0 == y1 for a line)"
        )
    if y1 < 0.15:
        raise SceneError(f"plate_surface {box!r} is too close to the top to stand a product on; mark lower")


def check_rgba(product: np.ndarray) -> None:
    if not isinstance(product, np.ndarray) or product.ndim != 3 or product.shape[2] != 4:
        raise SceneError(
            f"the product must be an RGBA array (H, W, 4), got shape {getattr(product, 'shape', None)}"
        )
    if product.dtype != np.uint8:
        raise SceneError(f"the product must be uint8 RGBA, got {product.dtype}; convert it to 8-bit first")
    if 0 in product.shape[:2]:
        raise SceneError("the product image is empty (0 pixels)")


def check_texture(texture: object, size: tuple[int, int], name: str) -> np.ndarray:
    """The texture a maker returned, as float32 (H, W, 3) 0..1, or SceneError saying what is wrong."""
    width, height = size
    if not isinstance(texture, np.ndarray):
        raise SceneError(f"the {name} texture maker returned {type(texture).__name__}, not a numpy array")
    if texture.shape != (height, width, 3):
        raise SceneError(
            f"the {name} texture maker returned shape {texture.shape} for size {width}x{height}; "
            f"it must return (height, width, 3) = ({height}, {width}, 3)"
        )
    if texture.dtype.kind != "f":
        raise SceneError(
            f"the {name} texture maker returned {texture.dtype}; it must return float 0..1 "
            "(divide 8-bit colour by 255)"
        )
    return np.clip(texture, 0.0, 1.0).astype(np.float32, copy=False)
