"""The light of a scene: its colours, how it falls across the set, and a gobo pattern on the planes.

This module owns the light model the renderer and the shadows share. The set is lit by an
ambient fill (sky, room) and a key light; at every pixel the light is

    light_rgb = ambient_rgb + key_rgb * key

where `key` (an (H, W) map, 1 at the product's base) is the key's irradiance there: distance
falloff from a lamp placed along the light's azimuth and elevation, how squarely it hits the
table or the wall, and the gobo pattern. A cast shadow removes the key and keeps the ambient, so
shadows take the surface's colour and the fill's temperature, never a flat grey.

`key_share` (0.25-0.75 of the light) comes from `Light.strength`; the colours from
`Light.temperature_k` relative to 5500 K, only partly, as a camera's white balance would leave.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from imaging.scene_geometry import SceneGeometry
from imaging.scene_model import Light
from imaging.scene_ops import Rect, blur, inverse_warp

_NEUTRAL_K = 5500.0
# How much of the black body's colour survives the camera's white balance.
_KEY_TINT = 0.6
_AMBIENT_TINT = 0.45


def kelvin_rgb(kelvin: float) -> np.ndarray:
    """A black body's colour at `kelvin` (Tanner Helland's fit to the CIE data), 0..1 per channel."""
    t = max(1000.0, min(40000.0, kelvin)) / 100.0
    if t <= 66:
        r = 255.0
        g = 99.4708025861 * math.log(t) - 161.1195681661
        b = 0.0 if t <= 19 else 138.5177312231 * math.log(t - 10) - 305.0447927307
    else:
        r = 329.698727446 * (t - 60) ** -0.1332047592
        g = 288.1221695283 * (t - 60) ** -0.0755148492
        b = 255.0
    return np.clip(np.array([r, g, b], np.float64), 1.0, 255.0) / 255.0


def tint(kelvin: float, amount: float) -> np.ndarray:
    """Colour gains of light at `kelvin` relative to 5500 K, `amount` of the way, luma 1."""
    ratio = kelvin_rgb(kelvin) / kelvin_rgb(_NEUTRAL_K)
    ratio /= 0.299 * ratio[0] + 0.587 * ratio[1] + 0.114 * ratio[2]
    gains = 1.0 + amount * (ratio - 1.0)
    return gains / (0.299 * gains[0] + 0.587 * gains[1] + 0.114 * gains[2])


@dataclass(frozen=True, eq=False)
class LightRig:
    """The light's two colours: light = ambient + key * (key map value)."""

    key: np.ndarray  # (3,) key colour times its share
    ambient: np.ndarray  # (3,)

    def colour_at(self, key: float) -> np.ndarray:
        return np.asarray(self.ambient + self.key * key, np.float32)


def light_rig(light: Light) -> LightRig:
    share = 0.25 + 0.5 * light.strength
    # Daylight's fill is the bluer sky; a candle's is the warm room. Both sit above the key.
    ambient_k = min(max(light.temperature_k * 1.45, light.temperature_k), 9500.0)
    key = tint(light.temperature_k, _KEY_TINT) * share
    ambient = tint(ambient_k, _AMBIENT_TINT) * (1.0 - share)
    return LightRig(key=key.astype(np.float32), ambient=ambient.astype(np.float32))


def light_direction(light: Light) -> np.ndarray:
    """Unit vector towards the light in world (X right, Y up, D away from the camera)."""
    az, el = math.radians(light.azimuth_deg), math.radians(light.elevation_deg)
    return np.array([math.cos(el) * math.cos(az), math.sin(el), math.cos(el) * math.sin(az)])


# --------------------------------------------------------------------------- key irradiance


def key_map(geometry: SceneGeometry, light: Light) -> np.ndarray:
    """The key light's irradiance per pixel, 1 at the product's base (without the gobo).

    Worked on a coarse grid and upsampled: the falloff is smooth, and this keeps it a few ms.
    """
    width, height = geometry.width, geometry.height
    gw, gh = max(8, width // 8), max(8, height // 8)
    xs = (np.arange(gw, dtype=np.float64) + 0.5) * width / gw
    ys = (np.arange(gh, dtype=np.float64) + 0.5) * height / gh
    gx, gy = np.meshgrid(xs, ys)
    focal, cx = geometry.focal, geometry.cx
    base_x = (geometry.base_x - cx) / focal
    # A softbox stands close (strong falloff), a sun far away (almost none).
    distance = 1.5 + 2.5 * (1.0 - light.softness)
    direction = light_direction(light)
    wrap = 0.3 + 0.4 * light.softness
    if geometry.flat:
        base_d = -(geometry.base_y - height / 2.0) / focal
        points = np.stack([(gx - cx) / focal, np.zeros_like(gx), -(gy - height / 2.0) / focal], axis=-1)
        normals = np.broadcast_to(np.array([0.0, 1.0, 0.0]), points.shape)
    else:
        assert geometry.vanish_y is not None and geometry.horizon_y is not None
        base_d = 1.0
        on_table = gy >= geometry.horizon_y
        depth = np.where(
            on_table,
            focal * geometry.camera_height / np.maximum(gy - geometry.vanish_y, 1e-6),
            geometry.wall_depth,
        )
        depth = np.minimum(depth, geometry.wall_depth)
        lateral = (gx - cx) * depth / focal
        # A wall point's height above the table: its row above the horizon, at the wall's scale.
        rise = np.where(on_table, 0.0, (geometry.horizon_y - gy) * geometry.wall_depth / focal)
        points = np.stack([lateral, rise, depth], axis=-1)
        normals = np.where(on_table[..., None], np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0]))
    lamp = np.array([base_x, 0.0, base_d]) + distance * direction
    if not geometry.flat:
        # A back light stands inside the set, between the product and the wall, not behind the wall.
        lamp[2] = min(lamp[2], geometry.wall_depth - 0.15)

    def irradiance(at: np.ndarray, normal: np.ndarray) -> np.ndarray:
        towards = lamp - at
        reach = np.sqrt((towards * towards).sum(axis=-1))
        cosine = (towards * normal).sum(axis=-1) / np.maximum(reach, 1e-6)
        return np.maximum(0.0, (cosine + wrap) / (1.0 + wrap)) / np.maximum(reach, 1e-3) ** 2

    at_base = irradiance(np.array([base_x, 0.0, base_d]), np.array([0.0, 1.0, 0.0]))
    relative = irradiance(points, normals) / max(float(at_base), 1e-9)
    # A camera's tone curve compresses the falloff; keep it a visible gradient, not a spotlight.
    key = np.clip(relative, 1e-6, None) ** 0.6
    if not geometry.flat:
        # Light bounced off the table and the room reaches the wall even when the key grazes it.
        key = np.where(on_table, key, 0.65 + 0.35 * key)
    key = np.clip(key, 0.3, 1.5).astype(np.float32)
    return np.asarray(cv2.resize(key, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


# --------------------------------------------------------------------------- gobo pattern
#
# A gobo (a window, blinds, leaves) is a pattern in the light's own view: each point of the set is
# lit or not according to where it falls when projected along the light's direction onto a plane
# facing the light. Projected that way the pattern runs unbroken from the wall onto the table,
# stretched along the light's path on the table the way window light is. Every plane of the set
# maps to that light plane affinely from world coordinates, and to the image projectively, so a
# plane's pattern is one `warpPerspective`.


def _light_basis(light: Light) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors spanning the plane facing the light: across (roughly image right), down."""
    towards = light_direction(light)
    across = np.array([-towards[2], 0.0, towards[0]])
    if np.linalg.norm(across) < 1e-6:
        across = np.array([1.0, 0.0, 0.0])
    across /= np.linalg.norm(across)
    if across[0] < 0 or (abs(across[0]) < 1e-9 and across[2] < 0):
        across = -across
    down = np.cross(towards, across)
    down /= np.linalg.norm(down)
    # Pattern rows run down the wall and towards the camera on the table.
    if down @ np.array([0.0, -1.0, -0.5]) < 0:
        down = -down
    return across, down


def _plane_to_world(geometry: SceneGeometry, plane: str) -> np.ndarray:
    """4x3 matrix: frame (x, y, 1) -> homogeneous world (X, Y, D, w) on `plane`."""
    f, cx = geometry.focal, geometry.cx
    if plane == "flat":
        cy = geometry.height / 2.0
        return np.array([[1 / f, 0, -cx / f], [0, 0, 0], [0, -1 / f, cy / f], [0, 0, 1.0]])
    if plane == "table":
        to_ground = geometry.image_to_ground()  # (x, y, 1) -> (X, D, w)
        return np.array([to_ground[0], np.zeros(3), to_ground[1], to_ground[2]])
    assert geometry.horizon_y is not None
    if plane == "wall":
        r = geometry.wall_depth
        return np.array(
            [[r / f, 0, -cx * r / f], [0, -r / f, geometry.horizon_y * r / f], [0, 0, r], [0, 0, 1.0]]
        )
    # The product: a card standing upright on its base row at depth 1.
    return np.array([[1 / f, 0, -cx / f], [0, -1 / f, geometry.base_y / f], [0, 0, 1.0], [0, 0, 1.0]])


def _frame_to_pattern(
    geometry: SceneGeometry, light: Light, shape: tuple[int, ...], plane: str
) -> np.ndarray:
    """3x3 homography: frame px on `plane` -> pattern px.

    The pattern is fitted (kept in proportion) over everything of the set the camera sees, as
    seen from the light, so it never runs out and never repeats.
    """
    across, down = _light_basis(light)
    world_to_light = np.array([[*across, 0.0], [*down, 0.0], [0.0, 0.0, 0.0, 1.0]])
    corners = []
    planes = ["flat"] if geometry.flat else ["wall", "table"]
    for name in planes:
        top, bottom = 0.0, float(geometry.height)
        if name == "wall":
            bottom = float(geometry.horizon_y or 0.0)
        elif name == "table":
            top = float(geometry.horizon_y or 0.0)
        if bottom - top < 1.0:
            continue
        points = np.array(
            [[0, top, 1], [geometry.width, top, 1], [0, bottom, 1], [geometry.width, bottom, 1]]
        )
        mapped = world_to_light @ _plane_to_world(geometry, name) @ points.T
        corners.append(mapped[:2] / mapped[2])
    spread = np.hstack(corners)
    low, high = spread.min(axis=1), spread.max(axis=1)
    extent = np.maximum(high - low, 1e-6)
    height_p, width_p = shape[0], shape[1]
    scale = min(width_p / extent[0], height_p / extent[1])
    offset = np.array([width_p, height_p]) / 2.0 - scale * (low + high) / 2.0
    light_to_pattern = np.array([[scale, 0.0, offset[0]], [0.0, scale, offset[1]], [0.0, 0.0, 1.0]])
    return light_to_pattern @ world_to_light @ _plane_to_world(geometry, plane)


def _gobo(light: Light) -> np.ndarray | None:
    if light.pattern is None or light.pattern_strength <= 0:
        return None
    return np.clip(np.asarray(light.pattern, np.float32), 0.0, 1.0)


def pattern_map(geometry: SceneGeometry, light: Light) -> np.ndarray | None:
    """The gobo on the set, (H, W) 0..1 with 1 = lit, softened by the light's softness."""
    pattern = _gobo(light)
    if pattern is None:
        return None
    width, height = geometry.width, geometry.height
    out = np.empty((height, width), np.float32)
    if geometry.flat:
        out[:] = inverse_warp(
            pattern, _frame_to_pattern(geometry, light, pattern.shape, "flat"), (0, 0, width, height)
        )
    else:
        assert geometry.horizon_y is not None
        split = min(height, int(math.ceil(geometry.horizon_y)))
        if split > 0:
            matrix = _frame_to_pattern(geometry, light, pattern.shape, "wall")
            out[:split] = inverse_warp(pattern, matrix, (0, 0, width, split))
        if split < height:
            matrix = _frame_to_pattern(geometry, light, pattern.shape, "table")
            out[split:] = inverse_warp(pattern, matrix, (0, split, width, height))
    sigma = (0.0015 + 0.02 * light.softness) * min(width, height)
    return np.clip(blur(out, sigma), 0.0, 1.0)


def gobo_factor(geometry: SceneGeometry, light: Light) -> np.ndarray | None:
    """What the gobo leaves of the key light per pixel, (H, W): 1 - strength x (1 - pattern).

    A wall facing away from the light gets no direct key to cut, only light bounced off the
    room, so on the wall the gobo is weaker the more the light comes from behind the set.
    """
    pattern = pattern_map(geometry, light)
    if pattern is None:
        return None
    depth = np.full(geometry.height, light.pattern_strength, np.float32)
    if not geometry.flat and geometry.horizon_y is not None:
        facing = max(0.0, -math.sin(math.radians(light.azimuth_deg)))
        split = min(geometry.height, int(math.ceil(geometry.horizon_y)))
        depth[:split] *= np.float32(0.25 + 0.75 * facing)
    return np.float32(1.0) - depth[:, None] * (np.float32(1.0) - pattern)


def pattern_on_product(geometry: SceneGeometry, light: Light, rect: Rect) -> np.ndarray | None:
    """The gobo where it falls on the product (a card standing at the base), over `rect` of the frame."""
    pattern = _gobo(light)
    if pattern is None:
        return None
    plane = "flat" if geometry.flat else "card"
    sampled = inverse_warp(pattern, _frame_to_pattern(geometry, light, pattern.shape, plane), rect)
    sigma = (0.002 + 0.02 * light.softness) * min(geometry.width, geometry.height)
    return np.clip(blur(sampled, sigma), 0.0, 1.0)
