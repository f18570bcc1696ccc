"""The scene model: perspective, standing on the table, shadows that follow the light, reflection,
light across the set, seeds, errors and the viewpoint guess, each measured on the pixels."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from imaging.scene import (
    Camera,
    Light,
    SceneError,
    SceneSpec,
    infer_viewpoint,
    place_product,
    render_scene,
)
from imaging.scene_shadow import reflection, shadow_maps

SIZE = (400, 400)


# --------------------------------------------------------------------------- textures and products


def stripes(period: int = 12, axis: int = 1) -> object:
    """Stripes across x (axis 1: vertical stripes) or y (axis 0), shifted by the seed."""

    def make(size: tuple[int, int], seed: int) -> np.ndarray:
        width, height = size
        coords = np.arange(width if axis == 1 else height, dtype=np.float32) + seed * 3.7
        wave = (0.5 + 0.4 * np.sin(coords * np.float32(2 * np.pi / period))).astype(np.float32)
        plane = np.broadcast_to(wave[None, :] if axis == 1 else wave[:, None], (height, width))
        return np.ascontiguousarray(np.repeat(plane[..., None], 3, axis=2))

    return make


def noise_texture(size: tuple[int, int], seed: int) -> np.ndarray:
    width, height = size
    rng = np.random.default_rng(seed)
    plane = rng.random((height, width), dtype=np.float32) * np.float32(0.6) + np.float32(0.2)
    return np.repeat(plane[..., None], 3, axis=2)


def solid(colour: tuple[float, float, float]) -> object:
    def make(size: tuple[int, int], seed: int) -> np.ndarray:
        return np.full((size[1], size[0], 3), colour, np.float32)

    return make


def bottle(colour: tuple[int, int, int] = (90, 140, 90), width: int = 120, height: int = 300) -> np.ndarray:
    """A side-on bottle with a flat base, transparent margin around it."""
    alpha = np.zeros((height + 40, width + 40), np.uint8)
    cv2.rectangle(alpha, (20, 20 + height // 3), (20 + width - 1, 20 + height - 1), 255, -1)
    cv2.rectangle(alpha, (20 + width // 3, 20), (20 + 2 * width // 3, 20 + height // 3), 255, -1)
    rgb = np.zeros((*alpha.shape, 3), np.uint8)
    rgb[alpha > 0] = colour
    return np.dstack([rgb, alpha])


def cup_three_quarter() -> np.ndarray:
    """A cup seen from above at an angle: straight sides and an elliptical base (and rim)."""
    alpha = np.zeros((300, 260), np.uint8)
    cv2.rectangle(alpha, (30, 60), (230, 230), 255, -1)
    cv2.ellipse(alpha, (130, 230), (100, 45), 0, 0, 360, 255, -1)
    cv2.ellipse(alpha, (130, 60), (100, 45), 0, 0, 360, 255, -1)
    rgb = np.zeros((*alpha.shape, 3), np.uint8)
    rgb[alpha > 0] = (230, 220, 200)
    return np.dstack([rgb, alpha])


def box_three_quarter() -> np.ndarray:
    alpha = np.zeros((300, 300), np.uint8)
    points = np.array([[60, 80], [150, 40], [260, 80], [260, 210], [150, 260], [60, 210]], np.int32)
    cv2.fillPoly(alpha, [points], 255)
    rgb = np.zeros((*alpha.shape, 3), np.uint8)
    rgb[alpha > 0] = (200, 200, 200)
    return np.dstack([rgb, alpha])


def round_plate() -> np.ndarray:
    alpha = np.zeros((300, 300), np.uint8)
    cv2.circle(alpha, (150, 150), 120, 255, -1)
    rgb = np.zeros((*alpha.shape, 3), np.uint8)
    rgb[alpha > 0] = (240, 240, 236)
    return np.dstack([rgb, alpha])


def t_shirt() -> np.ndarray:
    alpha = np.zeros((320, 360), np.uint8)
    body = np.array([[110, 40], [250, 40], [250, 300], [110, 300]], np.int32)
    sleeves = np.array(
        [[110, 40], [20, 90], [50, 150], [110, 120], [250, 120], [310, 150], [340, 90], [250, 40]], np.int32
    )
    cv2.fillPoly(alpha, [body, sleeves], 255)
    rgb = np.zeros((*alpha.shape, 3), np.uint8)
    rgb[alpha > 0] = (40, 60, 140)
    return np.dstack([rgb, alpha])


def rounded_tube() -> np.ndarray:
    """A cosmetic tube from the side: flat base with big rounded corners."""
    alpha = np.zeros((360, 200), np.uint8)
    cv2.rectangle(alpha, (20, 20), (180, 340), 255, -1)
    corner = np.zeros_like(alpha)
    cv2.rectangle(corner, (20, 280), (180, 340), 255, -1)
    alpha[corner > 0] = 0
    cv2.rectangle(alpha, (70, 280), (130, 340), 255, -1)
    cv2.circle(alpha, (70, 290), 50, 255, -1)
    cv2.circle(alpha, (130, 290), 50, 255, -1)
    rgb = np.zeros((*alpha.shape, 3), np.uint8)
    rgb[alpha > 0] = (220, 200, 210)
    return np.dstack([rgb, alpha])


def luma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def row_frequency(values: np.ndarray) -> float:
    """Zero crossings per pixel of a 1-D signal around its mean (a local frequency)."""
    centred = values - values.mean()
    crossings = np.count_nonzero(np.diff(np.sign(centred)) != 0)
    return crossings / len(values)


def plain_spec(**changes: object) -> SceneSpec:
    base: dict[str, object] = {
        "camera": Camera("three_quarter", focus_blur=0.0),
        "light": Light(azimuth_deg=135, elevation_deg=45, softness=0.3),
        "surface": solid((0.8, 0.8, 0.8)),
    }
    base.update(changes)
    return SceneSpec(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- 1. perspective


def test_table_texture_shrinks_towards_the_horizon() -> None:
    spec = plain_spec(surface=stripes(10, axis=1))
    canvas = render_scene(spec, SIZE, seed=1)
    horizon = canvas.horizon_y
    assert horizon is not None
    plane = luma(canvas.rgb)
    near = row_frequency(plane[SIZE[1] - 6, 50:350])
    far = row_frequency(plane[int(horizon) + 6, 50:350])
    assert far > 1.4 * near, (near, far)
    # Depth grows towards the horizon and the wall sits behind it all.
    depth = canvas.depth
    assert depth[int(horizon) + 2] > depth[-1]
    assert np.allclose(depth[: int(horizon) - 1], depth[0])


def test_the_wall_stays_upright() -> None:
    spec = plain_spec(surface=noise_texture, wall=stripes(14, axis=1))
    canvas = render_scene(spec, SIZE, seed=2)
    horizon = int(canvas.horizon_y or 0)
    plane = luma(canvas.rgb)
    top, low = plane[5, 20:380], plane[horizon - 8, 20:380]
    assert np.corrcoef(top, low)[0, 1] > 0.95


def test_flat_lay_sees_the_texture_straight_on() -> None:
    spec = plain_spec(camera=Camera("flat_lay"), surface=stripes(10, axis=1))
    canvas = render_scene(spec, SIZE, seed=3)
    assert canvas.horizon_y is None
    texture = stripes(10, axis=1)(SIZE, 3)[..., 0]  # type: ignore[operator]
    plane = luma(canvas.rgb)
    # The seed may lay the texture either way round, but never in perspective.
    for row in (10, 200, 390):
        same = max(
            np.corrcoef(plane[row], texture[row])[0, 1], np.corrcoef(plane[row], texture[row, ::-1])[0, 1]
        )
        assert same > 0.98
    assert row_frequency(plane[10]) == pytest.approx(row_frequency(plane[390]), rel=0.05)


def test_eye_level_is_a_low_grazing_view_of_a_narrow_strip() -> None:
    rows = stripes(8, axis=0)
    eye = render_scene(plain_spec(camera=Camera("eye_level", focus_blur=0.0), surface=rows), SIZE, seed=4)
    quarter = render_scene(plain_spec(surface=rows), SIZE, seed=4)
    assert eye.horizon_y == pytest.approx(0.55 * SIZE[1])
    assert quarter.horizon_y == pytest.approx(0.38 * SIZE[1])
    assert math.degrees(eye.geometry.view_elevation(eye.base[1])) < 15
    assert 20 < math.degrees(quarter.geometry.view_elevation(quarter.base[1])) < 40

    def squeeze(canvas: object) -> float:
        # Texture rows per image row around the base: how strongly the table is foreshortened.
        y = int(canvas.base[1])  # type: ignore[attr-defined]
        column = luma(canvas.rgb)[y - 20 : y + 20, 200]  # type: ignore[attr-defined]
        return row_frequency(column)

    assert squeeze(eye) > 1.5 * squeeze(quarter)


def _detail(plane: np.ndarray) -> float:
    return float(np.abs(cv2.Laplacian(plane, cv2.CV_32F)).mean())


def test_depth_of_field_softens_the_far_table_and_the_wall_more_than_near_the_product() -> None:
    sharp_spec = plain_spec(surface=noise_texture, wall=noise_texture)
    soft_spec = plain_spec(
        camera=Camera("three_quarter", focus_blur=1.0), surface=noise_texture, wall=noise_texture
    )
    sharp = luma(render_scene(sharp_spec, SIZE, seed=5).rgb)
    soft_canvas = render_scene(soft_spec, SIZE, seed=5)
    soft = luma(soft_canvas.rgb)
    horizon, base = int(soft_canvas.horizon_y or 0), int(soft_canvas.base[1])

    def kept(r0: int, r1: int) -> float:
        return _detail(soft[r0:r1]) / _detail(sharp[r0:r1])

    at_product = kept(base - 6, base + 6)
    far_table = kept(horizon + 2, horizon + 14)
    wall = kept(20, horizon - 20)
    assert at_product > 0.9
    assert far_table < 0.6 * at_product
    assert wall < 0.6 * at_product


# --------------------------------------------------------------------------- 2. standing on the table


def _lowest_row(alpha: np.ndarray) -> int:
    return int(np.flatnonzero((alpha > 127).any(axis=1))[-1])


@pytest.mark.parametrize("viewpoint", ["three_quarter", "eye_level"])
def test_product_stands_on_the_table_in_front_of_the_horizon(viewpoint: str) -> None:
    spec = plain_spec(camera=Camera(viewpoint, focus_blur=0.0), product_fill=0.5)  # type: ignore[arg-type]
    canvas = render_scene(spec, SIZE, seed=6)
    result = place_product(canvas, bottle(), spec, seed=6)
    base_x, base_y = canvas.base
    assert canvas.horizon_y is not None and base_y > canvas.horizon_y + 0.1 * SIZE[1]
    assert _lowest_row(result.alpha) == pytest.approx(base_y - 1, abs=1)
    x, y, w, h = result.product_box
    assert x + w / 2 == pytest.approx(base_x, abs=1)
    assert h == pytest.approx(0.5 * canvas.geometry.max_product_h, abs=1)


def test_product_fill_scales_the_product() -> None:
    small, large = plain_spec(product_fill=0.3), plain_spec(product_fill=0.6)
    canvas = render_scene(small, SIZE, seed=7)
    h_small = place_product(canvas, bottle(), small, seed=7).product_box[3]
    h_large = place_product(canvas, bottle(), large, seed=7).product_box[3]
    assert h_large == pytest.approx(2 * h_small, abs=2)


def _plate_photo() -> np.ndarray:
    photo = np.zeros((300, 400, 3), np.uint8)
    photo[:180] = (200, 190, 180)
    photo[180:] = (150, 110, 80)
    return photo


def test_plate_line_sets_the_base_row() -> None:
    spec = plain_spec(plate=_plate_photo(), plate_surface=(0.25, 0.8, 0.75, 0.8), product_fill=0.5)
    canvas = render_scene(spec, SIZE, seed=8)
    result = place_product(canvas, bottle(), spec, seed=8)
    assert _lowest_row(result.alpha) == pytest.approx(0.8 * SIZE[1] - 1, abs=1)
    x, _, w, _ = result.product_box
    assert x + w / 2 == pytest.approx(0.5 * SIZE[0], abs=1)


def test_plate_box_holds_the_product_and_fits_its_width() -> None:
    box = (0.4, 0.6, 0.6, 0.9)
    spec = plain_spec(plate=_plate_photo(), plate_surface=box, product_fill=1.0)
    canvas = render_scene(spec, SIZE, seed=9)
    wide = bottle(width=300, height=200)
    result = place_product(canvas, wide, spec, seed=9)
    x, y, w, h = result.product_box
    assert w <= (box[2] - box[0]) * SIZE[0] + 1
    assert box[0] * SIZE[0] - 1 <= x and x + w <= box[2] * SIZE[0] + 1
    assert box[1] * SIZE[1] <= _lowest_row(result.alpha) <= box[3] * SIZE[1]
    # The plate's own pixels stay the plate's away from the product and its shadow.
    assert np.array_equal(result.rgb[:20], (canvas.rgb[:20] * 255 + 0.5).astype(np.uint8))


# --------------------------------------------------------------------------- 3. shadows


def _darkening(spec: SceneSpec, product: np.ndarray, seed: int = 10) -> tuple[np.ndarray, object, object]:
    canvas = render_scene(spec, SIZE, seed=seed)
    result = place_product(canvas, product, spec, seed=seed)
    before = luma(canvas.rgb * 255.0)
    after = luma(result.rgb)
    dark = np.clip(1.0 - after / np.maximum(before, 1.0), 0.0, 1.0)
    dark[result.alpha > 0] = 0.0
    return dark, canvas, result


@pytest.mark.parametrize("azimuth", [0, 45, 90, 135, 180, 225, 315])
def test_shadow_falls_away_from_the_light(azimuth: float) -> None:
    spec = plain_spec(light=Light(azimuth_deg=azimuth, elevation_deg=35, softness=0.2), product_fill=0.45)
    dark, canvas, result = _darkening(spec, bottle())
    x, y, w, h = result.product_box  # type: ignore[attr-defined]
    centre_x, base_y = x + w / 2.0, y + h
    # Leave out the contact occlusion, which sits under the base whatever the light.
    ys, xs = np.mgrid[0 : SIZE[1], 0 : SIZE[0]]
    near_base = (np.abs(ys - base_y) < 0.06 * h) & (np.abs(xs - centre_x) < 0.7 * w)
    weights = np.where(near_base, 0.0, dark)
    weights[weights < 0.05] = 0
    assert weights.sum() > 20
    dx = float((weights * (xs - centre_x)).sum() / weights.sum())
    dy = float((weights * (ys - base_y)).sum() / weights.sum())
    # The light's direction in the image: right is +x, behind the set is up (-y).
    light_x, light_y = math.cos(math.radians(azimuth)), -math.sin(math.radians(azimuth))
    assert dx * light_x + dy * light_y < 0, (dx, dy)
    if abs(light_x) > 0.5:
        assert np.sign(dx) == -np.sign(light_x)


def test_low_sun_throws_a_longer_shadow() -> None:
    def reach(elevation: float) -> float:
        spec = plain_spec(
            light=Light(azimuth_deg=180, elevation_deg=elevation, softness=0.1), product_fill=0.4
        )
        dark, _, result = _darkening(spec, bottle())
        x, _, w, _ = result.product_box  # type: ignore[attr-defined]
        cols = np.flatnonzero((dark > 0.1).any(axis=0))
        return float(cols.max() - (x + w))

    assert reach(15) > 1.8 * reach(50)


def test_hard_light_shadow_near_the_base_is_dense_and_soft_light_is_lighter() -> None:
    def density(softness: float) -> float:
        spec = plain_spec(
            light=Light(azimuth_deg=180, elevation_deg=45, softness=softness, strength=0.6), product_fill=0.45
        )
        dark, _, result = _darkening(spec, bottle(width=60))
        x, y, w, h = result.product_box  # type: ignore[attr-defined]
        # In the cast shadow beside the base, away from the contact occlusion's core.
        probe = dark[y + h - 8 : y + h - 2, x + w + int(0.15 * h) : x + w + int(0.2 * h)]
        return float(probe.mean())

    hard = density(0.0)
    assert 0.4 <= hard <= 0.65
    assert density(1.0) < 0.75 * hard


def test_shadow_takes_the_surface_colour() -> None:
    blue = (0.25, 0.4, 0.85)
    spec = plain_spec(
        surface=solid(blue), light=Light(azimuth_deg=180, elevation_deg=40, softness=0.0), product_fill=0.45
    )
    canvas = render_scene(spec, SIZE, seed=11)
    result = place_product(canvas, bottle(width=60), spec, seed=11)
    x, y, w, h = result.product_box
    before = canvas.rgb[y + h - 6, x + w + int(0.2 * h)] * 255
    after = result.rgb[y + h - 6, x + w + int(0.2 * h)].astype(np.float32)
    assert luma(after[None, None])[0, 0] < 0.7 * luma(before[None, None])[0, 0]
    # Still the surface's blue, only darker: not a grey patch.
    assert after[2] > 1.6 * after[0]
    assert after[2] / after[0] > 0.85 * before[2] / before[0]


def test_contact_occlusion_is_tight_and_dark_under_the_base() -> None:
    # Overhead soft light: no cast shadow to speak of, only the occlusion where it touches.
    spec = plain_spec(light=Light(azimuth_deg=90, elevation_deg=90, softness=1.0), product_fill=0.45)
    dark, _, result = _darkening(spec, bottle())
    x, y, w, h = result.product_box  # type: ignore[attr-defined]
    centre = x + w // 2
    under = float(dark[y + h : y + h + 2, centre - 5 : centre + 5].mean())
    away = float(dark[y + h + int(0.15 * h), centre - 5 : centre + 5].mean())
    assert under > 0.3
    assert away < 0.4 * under


def test_front_light_shadow_climbs_the_wall() -> None:
    spec = plain_spec(
        camera=Camera("three_quarter", horizon=0.6, focus_blur=0.0),
        light=Light(azimuth_deg=235, elevation_deg=25, softness=0.1),
        product_fill=0.8,
    )
    dark, canvas, result = _darkening(spec, bottle())
    horizon = int(canvas.horizon_y)  # type: ignore[attr-defined]
    x, _, w, _ = result.product_box  # type: ignore[attr-defined]
    # From the front left, the shadow goes back and to the right, up the wall beside the product.
    wall = dark[: horizon - 3, x + w :]
    assert wall.max() > 0.3
    assert dark[: horizon - 3, :x].max() < 0.05


# --------------------------------------------------------------------------- 4. reflection


def _redness(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return rgb[..., 0] - (rgb[..., 1] + rgb[..., 2]) / 2


def test_glossy_surface_reflects_the_product_fading_with_distance() -> None:
    red = bottle(colour=(220, 30, 30))
    matte = plain_spec(surface=solid((0.85, 0.85, 0.85)), light=Light(azimuth_deg=90, elevation_deg=80))
    glossy = plain_spec(
        surface=solid((0.85, 0.85, 0.85)), light=Light(azimuth_deg=90, elevation_deg=80), surface_gloss=0.8
    )
    canvas = render_scene(matte, SIZE, seed=12)
    dull = place_product(canvas, red, matte, seed=12)
    shiny = place_product(canvas, red, glossy, seed=12)
    x, y, w, h = shiny.product_box
    cols = slice(x + w // 4, x + 3 * w // 4)
    base = y + h
    near = float(_redness(shiny.rgb[base + 3 : base + 8, cols]).mean())
    far = float(_redness(shiny.rgb[base + int(0.35 * h) : base + int(0.35 * h) + 5, cols]).mean())
    assert near > 20
    assert far < 0.6 * near

    # Without gloss the table only gets darker there (shadow), never redder.
    def red_share(rgb: np.ndarray) -> np.ndarray:
        rgb = rgb.astype(np.float32)
        return rgb[..., 0] / np.maximum((rgb[..., 1] + rgb[..., 2]) / 2, 1)

    empty = red_share(canvas.rgb[base + 3 : base + 40, cols] * 255)
    assert float(np.abs(red_share(dull.rgb[base + 3 : base + 40, cols]) - empty).max()) < 0.03


def test_reflection_is_blurred_and_none_without_gloss() -> None:
    spec = plain_spec()
    canvas = render_scene(spec, SIZE, seed=13)
    rgb = np.zeros((100, 40, 3), np.float32)
    rgb[:, :20] = 1.0  # a hard vertical edge
    alpha = np.ones((100, 40), np.float32)
    box = (180, 200, 40, 100)
    assert reflection(canvas.geometry, rgb, alpha, (180, 200), box, 0.0) is None
    mirrored = reflection(canvas.geometry, rgb, alpha, (180, 200), box, 0.7)
    assert mirrored is not None
    edge = mirrored.colour[30, 14:26, 0]
    # The product's edge is one step; its reflection ramps over several pixels.
    steps = np.abs(np.diff(edge))
    assert steps.max() < 0.6


def test_reflection_is_stronger_at_a_grazing_view() -> None:
    def strength(viewpoint: str) -> float:
        spec = plain_spec(camera=Camera(viewpoint, focus_blur=0.0))  # type: ignore[arg-type]
        canvas = render_scene(spec, SIZE, seed=14)
        rgb = np.ones((100, 40, 3), np.float32)
        alpha = np.ones((100, 40), np.float32)
        base = int(canvas.base[1])
        mirrored = reflection(canvas.geometry, rgb, alpha, (180, base - 100), (180, base - 100, 40, 100), 0.5)
        assert mirrored is not None
        return float(mirrored.strength[2].mean())

    assert strength("eye_level") > 1.3 * strength("three_quarter")


# --------------------------------------------------------------------------- 5. light across the set


def test_set_is_brighter_towards_the_light() -> None:
    def sides(azimuth: float) -> tuple[float, float]:
        spec = plain_spec(light=Light(azimuth_deg=azimuth, elevation_deg=30, softness=0.5))
        plane = luma(render_scene(spec, SIZE, seed=15).rgb)
        table = plane[int(0.6 * SIZE[1]) :]
        return float(table[:, :100].mean()), float(table[:, -100:].mean())

    left, right = sides(180)
    assert left > 1.05 * right
    left, right = sides(0)
    assert right > 1.05 * left


def test_colour_temperature_tints_the_set() -> None:
    def warmth(kelvin: float) -> float:
        spec = plain_spec(light=Light(temperature_k=kelvin))
        rgb = render_scene(spec, SIZE, seed=16).rgb
        return float(rgb[..., 0].mean() / rgb[..., 2].mean())

    candle, day, overcast = warmth(2000), warmth(5500), warmth(7500)
    assert candle > 1.15 * day
    assert day > 1.02 * overcast


def _vertical_bars(period: int = 40) -> np.ndarray:
    xs = np.arange(400)
    bars = ((xs // (period // 2)) % 2).astype(np.float32)
    return np.ascontiguousarray(np.broadcast_to(bars[None, :], (400, 400)))


def test_gobo_is_upright_on_the_wall_and_in_perspective_on_the_table() -> None:
    light = Light(
        azimuth_deg=270, elevation_deg=40, softness=0.0, pattern=_vertical_bars(), pattern_strength=1.0
    )
    spec = plain_spec(light=light)
    canvas = render_scene(spec, SIZE, seed=17)
    plane = luma(canvas.rgb)
    horizon = int(canvas.horizon_y or 0)
    top, low = plane[10, 20:380], plane[horizon - 10, 20:380]
    assert np.corrcoef(top, low)[0, 1] > 0.9
    # Strong where lit: the dark bars take most of the key light away.
    assert top.min() < 0.7 * top.max()
    near = row_frequency(plane[SIZE[1] - 4, 20:380])
    far = row_frequency(plane[horizon + 4, 20:380])
    assert far > 1.3 * near


def test_gobo_falls_softly_on_the_product() -> None:
    light = Light(
        azimuth_deg=270, elevation_deg=40, softness=0.0, pattern=_vertical_bars(24), pattern_strength=1.0
    )
    spec = plain_spec(light=light, harmony=_no_harmony(), product_fill=0.7)
    grey = bottle(colour=(160, 160, 160), width=200, height=260)
    canvas = render_scene(spec, SIZE, seed=18)
    result = place_product(canvas, grey, spec, seed=18)
    x, y, w, h = result.product_box
    inside = luma(result.rgb[y + h // 2 : y + h // 2 + 4, x + 10 : x + w - 10]).mean(axis=0)
    set_row = luma(canvas.rgb * 255)[y + h // 2, x + 10 : x + w - 10]
    set_depth = 1 - set_row.min() / set_row.max()
    product_depth = 1 - inside.min() / inside.max()
    assert product_depth > 0.02
    assert product_depth <= 0.32 * set_depth + 0.02


def _no_harmony() -> object:
    from imaging.harmonize import HarmonizeSpec

    return HarmonizeSpec(white_balance=0.0, exposure=0.0, light_wrap=0.0, grain=0.0, sharpness=0.0)


# --------------------------------------------------------------------------- 7. seeds


def test_same_seed_same_bytes_and_other_seeds_vary_the_texture() -> None:
    spec = plain_spec(surface=noise_texture, surface_gloss=0.4)
    first = place_product(render_scene(spec, SIZE, seed=21), bottle(), spec, seed=21)
    again = place_product(render_scene(spec, SIZE, seed=21), bottle(), spec, seed=21)
    other = place_product(render_scene(spec, SIZE, seed=22), bottle(), spec, seed=22)
    assert first.rgb.tobytes() == again.rgb.tobytes()
    assert np.abs(first.rgb[-40:].astype(int) - other.rgb[-40:].astype(int)).mean() > 5


@pytest.mark.parametrize("viewpoint", ["three_quarter", "flat_lay"])
def test_seed_moves_a_seed_blind_texture_too(viewpoint: str) -> None:
    def fixed(size: tuple[int, int], seed: int) -> np.ndarray:
        return noise_texture(size, 0)

    spec = plain_spec(camera=Camera(viewpoint, focus_blur=0.0), surface=fixed)  # type: ignore[arg-type]
    frames = [render_scene(spec, SIZE, seed=seed).rgb[-50:] for seed in range(1, 5)]
    assert any(not np.array_equal(frames[0], other) for other in frames[1:])


def test_product_x_moves_the_product_along_the_table() -> None:
    left, right = plain_spec(product_x=0.3), plain_spec(product_x=0.7)
    canvas = render_scene(left, SIZE, seed=23)
    a = place_product(canvas, bottle(), left, seed=23).product_box
    b = place_product(canvas, bottle(), right, seed=23).product_box
    assert a[0] + a[2] / 2 == pytest.approx(0.3 * SIZE[0], abs=1)
    assert b[0] + b[2] / 2 == pytest.approx(0.7 * SIZE[0], abs=1)
    assert a[1] + a[3] == b[1] + b[3]


# --------------------------------------------------------------------------- 9. bad inputs


@pytest.mark.parametrize(
    ("size", "words"),
    [
        ((10, 400), "out of range"),
        ((400, 9000), "out of range"),
        (("a", 4), "width, height"),
        ((400,), "width"),
    ],
)
def test_bad_sizes_say_what_to_do(size: object, words: str) -> None:
    with pytest.raises(SceneError, match=words):
        render_scene(plain_spec(), size, seed=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"plate": _plate_photo(), "plate_surface": (0.2, 0.8, 1.3, 0.8)}, "fraction from 0 to 1"),
        ({"plate": _plate_photo(), "plate_surface": (0.6, 0.8, 0.4, 0.8)}, "x1 > x0"),
        ({"plate_surface": (0.2, 0.8, 0.6, 0.8)}, "pass the photo"),
        ({"plate": _plate_photo().astype(np.float32)}, "uint8"),
        ({"camera": Camera(horizon=0.99)}, "horizon"),
        ({"camera": Camera(viewpoint="bird")}, "viewpoint"),  # type: ignore[arg-type]
        ({"light": Light(softness=2.0)}, "softness"),
        ({"light": Light(elevation_deg=0.0)}, "elevation"),
        ({"light": Light(pattern=np.ones((10, 10), np.uint8), pattern_strength=0.5)}, "divide 8-bit"),
        ({"product_fill": 0.0}, "product_fill"),
        ({"surface_colour": (300, 0, 0)}, "surface_colour"),
    ],
)
def test_bad_specs_say_what_is_wrong(changes: dict[str, object], words: str) -> None:
    with pytest.raises(SceneError, match=words):
        render_scene(plain_spec(**changes), SIZE, seed=0)


def test_bad_texture_makers_are_named() -> None:
    def wrong_shape(size: tuple[int, int], seed: int) -> np.ndarray:
        return np.zeros((size[1], size[0]), np.float32)

    def eight_bit(size: tuple[int, int], seed: int) -> np.ndarray:
        return np.zeros((size[1], size[0], 3), np.uint8)

    with pytest.raises(SceneError, match="surface texture maker returned shape"):
        render_scene(plain_spec(surface=wrong_shape), SIZE, seed=0)
    with pytest.raises(SceneError, match="wall texture maker.*divide 8-bit"):
        render_scene(plain_spec(wall=eight_bit), SIZE, seed=0)


@pytest.mark.parametrize(
    ("product", "words"),
    [
        (np.zeros((50, 50, 3), np.uint8), "RGBA"),
        (np.zeros((50, 50, 4), np.float32), "uint8"),
        (np.zeros((50, 50, 4), np.uint8), "no visible pixels"),
    ],
)
def test_bad_products_say_what_to_do(product: np.ndarray, words: str) -> None:
    spec = plain_spec()
    canvas = render_scene(spec, SIZE, seed=0)
    with pytest.raises(SceneError, match=words):
        place_product(canvas, product, spec, seed=0)


# --------------------------------------------------------------------------- viewpoint guess


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        (bottle(), "eye_level"),
        (rounded_tube(), "eye_level"),
        (cup_three_quarter(), "three_quarter"),
        (box_three_quarter(), "three_quarter"),
        (round_plate(), "flat_lay"),
        (t_shirt(), "flat_lay"),
    ],
)
def test_infer_viewpoint_reads_the_base(product: np.ndarray, expected: str) -> None:
    assert infer_viewpoint(product) == expected


# --------------------------------------------------------------------------- shadow maps directly


def test_shadow_maps_cover_only_the_set_near_the_product() -> None:
    spec = plain_spec()
    canvas = render_scene(spec, SIZE, seed=30)
    alpha = np.ones((120, 40), np.float32)
    found = shadow_maps(canvas.geometry, spec.light, alpha, (180, 200), (180, 200, 40, 120))
    assert found is not None
    x0, y0, x1, y1 = found.rect
    assert 0 <= x0 < x1 <= SIZE[0] and 0 <= y0 < y1 <= SIZE[1]
    assert found.cast.max() <= 1.0 and found.occlusion.max() <= 1.0
    assert found.cast.shape == found.occlusion.shape == (y1 - y0, x1 - x0)
