"""Where things are in a scene: the camera, the table plane, the wall, and where the product stands.

This module owns `SceneGeometry`, a small camera model: a level camera with a shift lens, as
product photographers use, so vertical lines stay vertical and the wall is upright. World
units are set by the product: its base stands on the table at depth 1 (distance from the camera
along the table) and 1 world unit there spans `focal` pixels. A point on the table at lateral
offset X and depth D is seen at

    x = cx + focal * X / D,    y = vanish_y + focal * camera_height / D

which is a homography (`ground_to_image`), so texture, shadows and light patterns go through
`cv2.warpPerspective` instead of per-pixel code. The table meets the wall at `horizon_y`
(depth `wall_depth`); the true horizon (`vanish_y`, where the table would vanish) lies above it.

Each viewpoint fixes how steeply the camera looks down at the product's base and how far the
wall stands behind it; the rest follows from the horizon and the base row. A flat lay looks
straight down: no wall, no perspective, the whole frame is surface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imaging.scene_model import Camera, SceneError, Viewpoint


@dataclass(frozen=True)
class _ViewDefaults:
    horizon: float  # fraction of the height where the table meets the wall
    base: float  # fraction of the height where the product's base stands
    elevation_deg: float  # how steeply the camera looks down at the base
    wall_depth: float  # the wall's distance from the camera, the product's being 1


_VIEWS = {
    # A long lens a little above the table: the table is a strongly foreshortened strip.
    "eye_level": _ViewDefaults(horizon=0.55, base=0.85, elevation_deg=9.0, wall_depth=1.8),
    # The common tabletop shot: the camera looks down about 30 degrees.
    "three_quarter": _ViewDefaults(horizon=0.38, base=0.80, elevation_deg=30.0, wall_depth=1.6),
}
# Room left above the product when the frame height it may use is worked out.
_TOP_MARGIN = 0.06


@dataclass(frozen=True)
class SceneGeometry:
    """The camera and planes of a scene at one output size; all positions in pixels."""

    width: int
    height: int
    viewpoint: Viewpoint
    horizon_y: float | None  # the table's far edge / wall foot; None for a flat lay
    vanish_y: float | None  # the table's vanishing line (above horizon_y); None for a flat lay
    focal: float  # px per world unit at depth 1 (the product's depth)
    camera_height: float  # world units above the table
    wall_depth: float  # the wall's depth (the product's is 1)
    base_x: float  # where the product's centre goes (at the spec's product_x)
    base_y: float  # the row its base stands on
    span_x: tuple[float, float]  # the columns product_x 0..1 spans (the frame, or a plate's box)
    max_product_w: float  # px the product may be wide at most
    max_product_h: float  # px of height the product may use (product_fill 1)

    @property
    def flat(self) -> bool:
        return self.viewpoint == "flat_lay"

    @property
    def cx(self) -> float:
        return self.width / 2.0

    def ground_to_image(self) -> np.ndarray:
        """3x3 homography: table point (X, D, 1) -> image (x, y, 1)."""
        if self.vanish_y is None:
            raise SceneError("a flat lay has no perspective table plane")
        return np.array(
            [
                [self.focal, self.cx, 0.0],
                [0.0, self.vanish_y, self.focal * self.camera_height],
                [0.0, 1.0, 0.0],
            ]
        )

    def image_to_ground(self) -> np.ndarray:
        return np.linalg.inv(self.ground_to_image())

    def depth_rows(self) -> np.ndarray:
        """Depth (world units) of each row's scene point: the table below the horizon, the wall above."""
        rows = np.arange(self.height, dtype=np.float64) + 0.5
        if self.vanish_y is None or self.horizon_y is None:
            return np.ones(self.height, np.float32)
        below = np.maximum(rows - self.vanish_y, 1e-6)
        depth = self.focal * self.camera_height / below
        depth[rows < self.horizon_y] = self.wall_depth
        return np.minimum(depth, self.wall_depth).astype(np.float32)

    def view_elevation(self, row: float) -> float:
        """How steeply (radians) the camera looks down at the table at image row `row`."""
        if self.vanish_y is None:
            return math.pi / 2.0
        return math.atan2(max(row - self.vanish_y, 1e-6), self.focal)

    def px_per_unit(self, depth: float) -> float:
        return self.focal / max(depth, 1e-6)

    def centre_x(self, product_x: float) -> float:
        """The column of the product's centre for a `product_x` of 0..1."""
        return self.span_x[0] + product_x * (self.span_x[1] - self.span_x[0])


def build_geometry(
    camera: Camera,
    size: tuple[int, int],
    *,
    product_x: float,
    plate_surface: tuple[float, float, float, float] | None = None,
) -> SceneGeometry:
    """The geometry for a camera at `size` = (width, height); a plate's marked surface sets the base."""
    width, height = size
    if camera.viewpoint == "flat_lay":
        x0, x1 = (plate_surface[0], plate_surface[2]) if plate_surface else (0.0, 1.0)
        span = (x1 - x0) * width
        if plate_surface is not None and plate_surface[3] > plate_surface[1]:
            centre_y = (plate_surface[1] + plate_surface[3]) / 2.0 * height
            usable_h = (plate_surface[3] - plate_surface[1]) * height
        else:
            centre_y, usable_h = height / 2.0, height * (1.0 - 2 * _TOP_MARGIN)
        return SceneGeometry(
            width=width,
            height=height,
            viewpoint="flat_lay",
            horizon_y=None,
            vanish_y=None,
            focal=float(min(width, height)),
            camera_height=1.0,
            wall_depth=1.0,
            base_x=(x0 + product_x * (x1 - x0)) * width,
            base_y=centre_y,
            span_x=(x0 * width, x1 * width),
            max_product_w=span * 0.9,
            max_product_h=usable_h,
        )

    view = _VIEWS[camera.viewpoint]
    if plate_surface is not None:
        x0, y0, x1, y1 = plate_surface
        if y1 > y0:
            # A marked area of table: the product stands in its front part, its far edge is the horizon.
            base = y0 + 0.65 * (y1 - y0)
            horizon = y0
        else:
            base = y0
            horizon = camera.horizon if camera.horizon is not None else view.horizon
        horizon = min(horizon, base - 0.04)
        horizon = max(horizon, 0.01)
        columns = (x0 * width, x1 * width)
        max_w = (x1 - x0) * width
    else:
        horizon = camera.horizon if camera.horizon is not None else view.horizon
        # Leave the table room in front of the wall even when the horizon is set low.
        base = min(0.94, max(view.base, horizon + 0.2))
        columns = (0.0, float(width))
        max_w = 0.86 * width
    horizon_y, base_y = horizon * height, base * height
    r = view.wall_depth
    # Depth goes as 1 / (y - vanish_y): the wall's row is r times closer to the vanishing line.
    vanish_y = (r * horizon_y - base_y) / (r - 1.0)
    camera_height = math.tan(math.radians(view.elevation_deg))
    focal = (base_y - vanish_y) / camera_height
    return SceneGeometry(
        width=width,
        height=height,
        viewpoint=camera.viewpoint,
        horizon_y=horizon_y,
        vanish_y=vanish_y,
        focal=focal,
        camera_height=camera_height,
        wall_depth=r,
        base_x=columns[0] + product_x * (columns[1] - columns[0]),
        base_y=base_y,
        span_x=columns,
        max_product_w=max_w,
        max_product_h=base_y - _TOP_MARGIN * height,
    )
