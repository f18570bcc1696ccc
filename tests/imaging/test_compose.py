"""Layout maths, shadows, reflection and light wrap, and the promise that the product is never redrawn."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import pytest

from imaging.compose import (
    ComposeError,
    ComposeSpec,
    Layout,
    ShadowSpec,
    compose,
    place,
    product_bbox,
    wrap_band_px,
)


def _product(width: int = 200, height: int = 300, *, textured: bool = True, soft_edge: int = 0) -> np.ndarray:
    """An RGBA product: an opaque rounded box inside a transparent frame, colours random or flat.

    Transparent pixels carry black RGB, as most cutouts do, so fringe bugs show up.
    """
    rng = np.random.default_rng(7)
    alpha = np.zeros((height, width), dtype=np.uint8)
    cv2.rectangle(alpha, (40, 50), (width - 41, height - 31), 255, -1)
    if soft_edge:
        alpha = np.asarray(cv2.GaussianBlur(alpha, (0, 0), soft_edge), dtype=np.uint8)
    if textured:
        rgb = rng.integers(30, 226, (height, width, 3), dtype=np.uint8)
    else:
        rgb = np.zeros((height, width, 3), dtype=np.uint8)
        rgb[:] = (200, 60, 60)
    rgb[alpha == 0] = 0
    return np.dstack([rgb, alpha])


def _white(width: int = 400, height: int = 400) -> np.ndarray:
    return np.full((height, width, 3), 255, dtype=np.uint8)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


# ----------------------------------------------------------------------------- bbox and layout


def test_product_bbox_finds_the_visible_pixels_and_ignores_faint_haze() -> None:
    alpha = np.zeros((50, 60), dtype=np.uint8)
    alpha[10:20, 5:25] = 255
    alpha[40, 50] = 10  # matte haze below the threshold
    assert product_bbox(alpha) == (5, 10, 20, 10)
    assert product_bbox(np.zeros((5, 5), dtype=np.uint8)) is None


@pytest.mark.parametrize("size", [(800, 800), (750, 1000), (1000, 600), (333, 777)])
@pytest.mark.parametrize("fill", [0.5, 0.8, 1.0])
def test_centre_layout_fits_the_fill_fraction_within_margins(size: tuple[int, int], fill: float) -> None:
    width, height = size
    margins = (0.1, 0.05, 0.15, 0.05)
    canvas, (x, y, w, h) = place(_product(), size, Layout(fill=fill, margins=margins))
    top, right, bottom, left = margins
    avail_w, avail_h = width * (1 - left - right), height * (1 - top - bottom)
    assert x >= width * left - 1 and x + w <= width * (1 - right) + 1
    assert y >= height * top - 1 and y + h <= height * (1 - bottom) + 1
    # The limiting side is exactly `fill` of the free area; the other side fits inside it.
    if 120 / avail_w >= 220 / avail_h:  # the product box is 120x220
        assert abs(w - fill * avail_w) <= 2 and h <= fill * avail_h + 2
    else:
        assert abs(h - fill * avail_h) <= 2 and w <= fill * avail_w + 2
    # Centred in the free area.
    assert abs((x + w / 2) - (width * left + avail_w / 2)) <= 1.5
    assert abs((y + h / 2) - (height * top + avail_h / 2)) <= 1.5
    assert product_bbox(canvas[..., 3]) == pytest.approx((x, y, w, h), abs=2)


def test_floor_layout_stands_the_product_on_the_floor_line() -> None:
    canvas, (x, y, w, h) = place(_product(), (600, 800), Layout(fill=0.5, vertical="floor", floor_y=0.8))
    assert abs((y + h) - 640) <= 1
    rows = np.flatnonzero(canvas[..., 3].max(axis=1) > 16)
    assert abs(rows[-1] + 1 - 640) <= 1


def test_keep_layout_at_the_input_size_is_the_input_itself() -> None:
    product = _product()
    canvas, box = place(product, (200, 300), Layout(mode="keep"))
    assert np.array_equal(canvas, product)
    assert box == product_bbox(product[..., 3])


def test_keep_layout_at_another_size_keeps_relative_position_and_scale() -> None:
    product = _product()  # 200x300, box (40, 50, 120, 220)
    _, (x, y, w, h) = place(product, (400, 400), Layout(mode="keep"))
    scale = min(400 / 200, 400 / 300)  # contain: the whole input frame fits
    offset_x = (400 - 200 * scale) / 2
    assert abs(w - 120 * scale) <= 1 and abs(h - 220 * scale) <= 1
    assert abs(x - (offset_x + 40 * scale)) <= 1
    assert abs(y - 50 * scale) <= 1


def test_empty_product_is_a_clear_error() -> None:
    empty = np.zeros((20, 20, 4), dtype=np.uint8)
    with pytest.raises(ComposeError, match="no visible pixels"):
        place(empty, (100, 100), Layout())


@pytest.mark.parametrize(
    ("layout", "needle"),
    [
        (Layout(fill=0), "fill"),
        (Layout(fill=1.5), "fill"),
        (Layout(margins=(0.6, 0, 0, 0)), "margins"),
        (Layout(floor_y=0), "floor_y"),
        (Layout(mode="stretch"), "mode"),  # type: ignore[arg-type]
    ],
)
def test_bad_layouts_are_rejected(layout: Layout, needle: str) -> None:
    with pytest.raises(ComposeError, match=needle):
        place(_product(), (100, 100), layout)


def test_wrong_arrays_are_rejected() -> None:
    with pytest.raises(ComposeError, match="RGBA"):
        place(np.zeros((10, 10, 3), dtype=np.uint8), (10, 10), Layout())
    with pytest.raises(ComposeError, match="uint8"):
        place(np.zeros((10, 10, 4), dtype=np.float32), (10, 10), Layout())
    with pytest.raises(ComposeError, match="backdrop"):
        compose(_product(), np.zeros((10, 10), dtype=np.uint8), ComposeSpec())


# ----------------------------------------------------------------------------- resampling


def test_scaling_down_an_antialiased_product_leaves_no_dark_fringe() -> None:
    # A light disc whose transparent pixels hold black RGB (as most cutouts do), on a light backdrop:
    # a resize that is not premultiplied smears that black into the edge as a dark halo.
    big = np.zeros((1200, 1200), dtype=np.uint8)
    cv2.circle(big, (600, 600), 500, 255, -1)
    alpha = cv2.resize(big, (300, 300), interpolation=cv2.INTER_AREA)
    product = np.zeros((300, 300, 4), dtype=np.uint8)
    product[..., :3][alpha > 0] = (235, 215, 120)
    product[..., 3] = alpha
    backdrop = np.full((300, 300, 3), (215, 230, 250), dtype=np.uint8)
    spec = ComposeSpec(layout=Layout(fill=0.37), shadow=ShadowSpec(kind="none"), light_wrap=0.0)
    result = compose(product, backdrop, spec)
    edge = (result.alpha > 0) & (result.alpha < 255)
    assert edge.sum() > 50
    floor = min(_luma(np.array([[235, 215, 120]])).item(), _luma(np.array([[215, 230, 250]])).item())
    # Every edge pixel lies between product and backdrop, never darker than both.
    assert _luma(result.rgb[edge]).min() >= floor - 2


# ----------------------------------------------------------------------------- shadows


def test_no_shadow_leaves_a_white_backdrop_exactly_white_around_the_product() -> None:
    spec = ComposeSpec(layout=Layout(fill=0.6), shadow=ShadowSpec(kind="none"), light_wrap=0.5)
    result = compose(_product(), _white(), spec)
    outside = result.alpha == 0
    assert (result.rgb[outside] == 255).all()


@pytest.mark.parametrize("kind", ["contact", "drop"])
def test_shadow_darkens_below_the_product_and_not_above(kind: Literal["contact", "drop"]) -> None:
    layout = Layout(fill=0.6, vertical="floor", floor_y=0.8)
    shadow = ShadowSpec(kind=kind, opacity=0.6, direction_deg=90)
    spec = ComposeSpec(layout=layout, shadow=shadow, light_wrap=0)
    result = compose(_product(), _white(), spec)
    x, y, w, h = result.product_box
    below = result.rgb[y + h + 1 : y + h + 4, x + w // 4 : x + 3 * w // 4]
    above = result.rgb[max(0, y - 20) : y - 2, x : x + w]
    assert _luma(below).mean() < 235
    assert (above == 255).all()


def test_drop_shadow_falls_away_from_the_light() -> None:
    def side_darkness(direction: float) -> tuple[float, float]:
        spec = ComposeSpec(
            layout=Layout(fill=0.5),
            shadow=ShadowSpec(kind="drop", opacity=0.8, direction_deg=direction, distance=0.1),
            light_wrap=0,
        )
        result = compose(_product(), _white(), spec)
        x, y, w, h = result.product_box
        band = 255 - _luma(result.rgb[y : y + h])
        return float(band[:, : x - 1].sum()), float(band[:, x + w + 1 :].sum())

    left, right = side_darkness(0.0)  # light from the right
    assert left > 3 * right
    left, right = side_darkness(180.0)  # light from the left
    assert right > 3 * left


def test_floor_drop_shadow_moves_with_the_light() -> None:
    def centre_of_shadow(direction: float) -> float:
        spec = ComposeSpec(
            layout=Layout(fill=0.4, vertical="floor", floor_y=0.8),
            shadow=ShadowSpec(kind="drop", opacity=0.8, direction_deg=direction),
            light_wrap=0,
        )
        result = compose(_product(), _white(), spec)
        darkness = (255 - _luma(result.rgb)) * (result.alpha == 0)
        columns = darkness.sum(axis=0)
        return float((columns * np.arange(columns.size)).sum() / columns.sum())

    assert centre_of_shadow(30.0) < 200 - 10 < 200 + 10 < centre_of_shadow(150.0)


def test_stronger_opacity_gives_a_darker_shadow() -> None:
    def darkness(opacity: float) -> float:
        spec = ComposeSpec(
            layout=Layout(fill=0.6), shadow=ShadowSpec(kind="drop", opacity=opacity), light_wrap=0
        )
        result = compose(_product(), _white(), spec)
        return float((255 - _luma(result.rgb))[result.alpha == 0].sum())

    assert darkness(0.9) > 1.5 * darkness(0.4) > 0


# ----------------------------------------------------------------------------- the product itself


def test_product_interior_is_never_redrawn() -> None:
    product = _product()
    backdrop = np.zeros((500, 400, 3), dtype=np.uint8)
    backdrop[:] = (30, 160, 220)
    layout = Layout(fill=0.7, vertical="floor", floor_y=0.7)
    spec = ComposeSpec(
        layout=layout,
        shadow=ShadowSpec(kind="drop", opacity=1.0, softness=1.0),
        reflection=1.0,
        light_wrap=1.0,
        tint=0.0,
    )
    result = compose(product, backdrop, spec)
    placed, box = place(product, (400, 500), layout)
    assert box == result.product_box
    band = wrap_band_px(box)
    opaque = (placed[..., 3] == 255).astype(np.uint8)
    distance = cv2.distanceTransform(opaque, cv2.DIST_L2, 5)
    interior = distance > band
    assert interior.sum() > 1000
    assert np.array_equal(result.rgb[interior], placed[..., :3][interior])
    assert np.array_equal(result.alpha, placed[..., 3])


def test_light_wrap_touches_only_the_edge_band() -> None:
    product = _product(textured=False)
    backdrop = np.full((400, 400, 3), (20, 220, 40), dtype=np.uint8)
    base = ComposeSpec(layout=Layout(fill=0.6), shadow=ShadowSpec(kind="none"), light_wrap=0.0)
    wrapped = ComposeSpec(layout=Layout(fill=0.6), shadow=ShadowSpec(kind="none"), light_wrap=1.0)
    plain = compose(product, backdrop, base).rgb.astype(int)
    lit = compose(product, backdrop, wrapped).rgb.astype(int)
    changed = np.abs(plain - lit).sum(axis=2) > 3
    assert changed.sum() > 100
    x, y, w, h = compose(product, backdrop, base).product_box
    band = wrap_band_px((x, y, w, h))
    assert not changed[y + band + 1 : y + h - band - 1, x + band + 1 : x + w - band - 1].any()
    # The wrap pulls edge pixels towards the backdrop's green.
    assert (lit[changed][:, 1] >= plain[changed][:, 1]).all()


def test_tint_is_small_and_follows_the_backdrop() -> None:
    product = _product(textured=False)
    blue = np.full((300, 300, 3), (60, 90, 230), dtype=np.uint8)
    spec = ComposeSpec(layout=Layout(fill=0.6), shadow=ShadowSpec(kind="none"), light_wrap=0, tint=1.0)
    result = compose(product, blue, spec)
    x, y, w, h = result.product_box
    centre = result.rgb[y + h // 2, x + w // 2].astype(int)
    assert centre[2] > 60  # bluer than the product's (200, 60, 60)
    assert np.abs(centre - np.array([200, 60, 60])).max() < 30


def test_reflection_appears_below_the_product_and_fades() -> None:
    backdrop = np.full((400, 400, 3), 20, dtype=np.uint8)
    layout = Layout(fill=0.5, vertical="floor", floor_y=0.6)
    spec = ComposeSpec(layout=layout, shadow=ShadowSpec(kind="none"), light_wrap=0, reflection=0.8)
    product = _product(textured=False)
    result = compose(product, backdrop, spec)
    plain = compose(
        product, backdrop, ComposeSpec(layout=layout, shadow=ShadowSpec(kind="none"), light_wrap=0)
    )
    x, y, w, h = result.product_box
    gain = result.rgb.astype(int)[..., 0] - plain.rgb.astype(int)[..., 0]
    near = gain[y + h + 2 : y + h + 8, x + 5 : x + w - 5].mean()
    far = gain[y + h + int(0.35 * h) : y + h + int(0.42 * h), x + 5 : x + w - 5].mean()
    assert near > 40
    assert far < near / 3
    assert (gain[: y + h] == 0).all()


def test_compose_is_deterministic() -> None:
    spec = ComposeSpec(layout=Layout(vertical="floor"), shadow=ShadowSpec(kind="drop"), reflection=0.3)
    backdrop = np.full((300, 300, 3), 200, dtype=np.uint8)
    first = compose(_product(), backdrop, spec)
    second = compose(_product(), backdrop, spec)
    assert first.rgb.tobytes() == second.rgb.tobytes()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        (ComposeSpec(shadow=ShadowSpec(opacity=1.5)), "opacity"),
        (ComposeSpec(reflection=-0.1), "reflection"),
        (ComposeSpec(light_wrap=2), "light wrap"),
        (ComposeSpec(shadow=ShadowSpec(kind="hard")), "shadow kind"),  # type: ignore[arg-type]
        (ComposeSpec(shadow=ShadowSpec(color=(0, 0, 300))), "colour"),
    ],
)
def test_bad_compose_specs_are_rejected(spec: ComposeSpec, needle: str) -> None:
    with pytest.raises(ComposeError, match=needle):
        compose(_product(), _white(100, 100), spec)
