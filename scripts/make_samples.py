"""Render the sample product photos behind "Try it with a sample photo" (ui/assets/samples/).

`python scripts/make_samples.py` draws four product shots procedurally (no photo,
no font licence beyond the system's DejaVu, no download): an amber serum bottle
with a label, a glazed ceramic mug, a sneaker and a cosmetics box, each on a
light studio sweep with a soft contact shadow, saved as ~1000 px JPEGs. The
output is deterministic, so rerunning it changes no committed file unless the
drawing changed. The files are CC0 (see ui/assets/samples/LICENSE.md).

Shapes are drawn at 2x and area-downsampled so edges are anti-aliased the way a
camera's are; shading is analytic (cylinders, box faces) or comes from a blurred
distance field (the shoe's volume), plus a little sensor noise.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZE = 1000  # output side in pixels
SS = 2  # supersampling factor
OUT = Path(__file__).resolve().parents[1] / "ui" / "assets" / "samples"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))

Canvas = np.ndarray  # H x W x 3 float32, 0..255


# ------------------------------------------------------------------ the studio
def studio_sweep(n: int, warm: tuple[float, float, float], rng: np.random.Generator) -> Canvas:
    """A paper sweep: lighter at the top, a soft horizon, falling off towards the sides."""
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    base = np.asarray(warm, np.float32)
    # Wall to floor: the floor catches a little less light; the bend is soft, not a line.
    bend = 1 / (1 + np.exp(-(yy - 0.62) * 14))
    light = 1.0 - 0.05 * bend - 0.10 * ((xx - 0.5) ** 2) * 4 - 0.04 * yy
    canvas = base[None, None, :] * light[..., None]
    canvas += rng.normal(0, 1.2, canvas.shape).astype(np.float32)
    return canvas


def cast_shadow(canvas: Canvas, centre_x: float, floor_y: float, half_width: float, strength: float) -> None:
    """A wide soft shadow on the floor plus a tight dark contact line right under the product."""
    n = canvas.shape[0]
    layer = np.zeros((n, n), np.float32)
    cx, fy, hw = int(centre_x), int(floor_y), int(half_width)
    cv2.ellipse(layer, (cx + hw // 6, fy), (int(hw * 1.15), max(4, hw // 5)), 0, 0, 360, 1.0, -1)
    wide = cv2.GaussianBlur(layer, (0, 0), hw * 0.22)
    line = np.zeros_like(layer)
    cv2.ellipse(line, (cx, fy), (int(hw * 0.95), max(3, hw // 18)), 0, 0, 360, 1.0, -1)
    contact = cv2.GaussianBlur(line, (0, 0), max(2.0, hw * 0.03))
    shade = np.clip(wide * strength + contact * strength * 0.9, 0, 0.75)
    canvas *= (1 - shade)[..., None]


def paint(canvas: Canvas, alpha: np.ndarray, colour: np.ndarray | tuple[float, float, float]) -> None:
    """Composite `colour` (an image or one colour) over the canvas through `alpha` (0..1)."""
    a = np.clip(alpha, 0, 1)[..., None]
    canvas[:] = canvas * (1 - a) + np.asarray(colour, np.float32) * a


def soft_mask(draw: Callable[[np.ndarray], object], n: int, blur: float = 0.8) -> np.ndarray:
    """A 0..1 mask from an OpenCV drawing function, with a hint of lens softness."""
    layer = np.zeros((n, n), np.float32)
    draw(layer)
    return cv2.GaussianBlur(layer, (0, 0), blur) if blur > 0 else layer


def line_mask(
    n: int, start: tuple[int, int], end: tuple[int, int], thickness: int, blur: float = 0.8
) -> np.ndarray:
    layer = np.zeros((n, n), np.float32)
    cv2.line(layer, start, end, 1.0, thickness, cv2.LINE_AA)
    return cv2.GaussianBlur(layer, (0, 0), blur)


def poly_mask(n: int, points: np.ndarray, blur: float = 0.8) -> np.ndarray:
    layer = np.zeros((n, n), np.float32)
    cv2.fillPoly(layer, [points.astype(np.int32)], 1.0, cv2.LINE_AA)
    return cv2.GaussianBlur(layer, (0, 0), blur)


def cylinder_light(xx: np.ndarray, left: float, right: float, key: float = -0.35) -> np.ndarray:
    """Lambert shading across a vertical cylinder lit from the upper left (`key` < 0)."""
    u = np.clip((xx - left) / max(right - left, 1) * 2 - 1, -1, 1)  # -1 .. 1 across the body
    normal_z = np.sqrt(np.clip(1 - u**2, 0, 1))
    diffuse = np.clip(normal_z * 0.85 + u * key * -1 * 0.0 + (-u * 0.25), 0, None)
    return 0.35 + 0.75 * diffuse


def highlight(xx: np.ndarray, at: float, width: float) -> np.ndarray:
    return np.exp(-(((xx - at) / width) ** 2))


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf") if bold else ("DejaVuSans.ttf",)
    for folder in FONT_DIRS:
        for name in names:
            if (folder / name).exists():
                return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size)


def text_layer(n: int, lines: list[tuple[str, int, bool, int]], box: tuple[int, int, int, int]) -> np.ndarray:
    """Centred lines of text (text, size, bold, gap after) inside `box`, as a 0..1 coverage mask."""
    image = Image.new("L", (n, n), 0)
    draw = ImageDraw.Draw(image)
    x0, y0, x1, _ = box
    y = y0
    for text, size, bold, gap in lines:
        face = font(size, bold)
        width = draw.textlength(text, font=face)
        draw.text(((x0 + x1 - width) / 2, y), text, fill=255, font=face)
        y += size + gap
    return np.asarray(image, np.float32) / 255


# ------------------------------------------------------------------ the products
def serum_bottle(rng: np.random.Generator) -> Canvas:
    n = SIZE * SS
    canvas = studio_sweep(n, (236, 233, 228), rng)
    cx, body_w, top, bottom = n * 0.5, n * 0.24, n * 0.40, n * 0.80
    left, right = cx - body_w / 2, cx + body_w / 2
    cast_shadow(canvas, cx, bottom, body_w * 0.75, 0.55)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)

    def body(layer: np.ndarray) -> None:
        r = int(body_w * 0.16)
        cv2.rectangle(layer, (int(left), int(top + r)), (int(right), int(bottom - r)), 1.0, -1)
        cv2.rectangle(layer, (int(left + r), int(top)), (int(right - r), int(bottom)), 1.0, -1)
        for x, y in (
            (left + r, top + r),
            (right - r, top + r),
            (left + r, bottom - r),
            (right - r, bottom - r),
        ):
            cv2.circle(layer, (int(x), int(y)), r, 1.0, -1)

    glass = soft_mask(body, n)
    shade = cylinder_light(xx, left, right)
    amber = np.stack([shade * 150, shade * 72, shade * 22], -1)
    # Liquid inside is darker at the bottom; light passing through glows at the edges.
    depth = np.clip((yy - top) / (bottom - top), 0, 1)[..., None]
    amber = (
        amber * (1.05 - 0.35 * depth)
        + np.asarray([40, 14, 0], np.float32) * highlight(xx, right - body_w * 0.1, body_w * 0.06)[..., None]
    )
    paint(canvas, glass * 0.96, amber)
    # White label wrapped round the cylinder: its shading follows the body.
    label_top, label_bottom = top + (bottom - top) * 0.28, top + (bottom - top) * 0.82
    label = soft_mask(
        lambda layer: cv2.rectangle(
            layer, (int(left + 2), int(label_top)), (int(right - 2), int(label_bottom)), 1.0, -1
        ),
        n,
    )
    paper = np.stack([shade * 238, shade * 235, shade * 228], -1) * 0.92 + 20
    paint(canvas, label * glass, paper)
    ink = text_layer(
        n,
        [
            ("LUMEN", int(body_w * 0.17), True, int(body_w * 0.05)),
            ("VITAMIN C", int(body_w * 0.085), False, int(body_w * 0.03)),
            ("SERUM", int(body_w * 0.085), False, int(body_w * 0.12)),
            ("30 ml · 1.0 fl oz", int(body_w * 0.06), False, 0),
        ],
        (int(left), int(label_top + (label_bottom - label_top) * 0.14), int(right), int(label_bottom)),
    )
    paint(canvas, ink * label * 0.9 * np.clip(shade / 1.1, 0, 1), (58, 46, 40))
    stripe = soft_mask(
        lambda layer: cv2.rectangle(
            layer,
            (int(left + 2), int(label_bottom - body_w * 0.08)),
            (int(right - 2), int(label_bottom - body_w * 0.06)),
            1.0,
            -1,
        ),
        n,
    )
    paint(canvas, stripe * glass, np.stack([shade * 190, shade * 120, shade * 40], -1))
    # Specular streaks of the softbox on the glass, over the label too (it is behind the glass).
    streak = (
        highlight(xx, left + body_w * 0.22, body_w * 0.035) * 0.75
        + highlight(xx, right - body_w * 0.12, body_w * 0.015) * 0.45
    )
    paint(canvas, glass * streak * (yy > top + body_w * 0.1) * (yy < bottom - body_w * 0.1), (255, 252, 246))
    # Neck, silver collar and the black rubber bulb of the dropper.
    neck_w, collar_h, bulb_h = body_w * 0.34, n * 0.075, n * 0.13
    collar_top = top - collar_h
    collar = soft_mask(
        lambda layer: cv2.rectangle(
            layer, (int(cx - neck_w), int(collar_top)), (int(cx + neck_w), int(top + 6)), 1.0, -1
        ),
        n,
    )
    metal = cylinder_light(xx, cx - neck_w, cx + neck_w)
    chrome = (
        np.stack([metal * 170, metal * 168, metal * 162], -1)
        + 70 * highlight(xx, cx - neck_w * 0.45, neck_w * 0.12)[..., None]
    )
    for ridge in range(6):
        chrome -= 14 * highlight(yy, collar_top + collar_h * (ridge + 0.5) / 6, 2.0)[..., None]
    paint(canvas, collar, chrome)
    bulb_w = neck_w * 0.72

    def bulb(layer: np.ndarray) -> None:
        cv2.rectangle(
            layer,
            (int(cx - bulb_w), int(collar_top - bulb_h * 0.55)),
            (int(cx + bulb_w), int(collar_top)),
            1.0,
            -1,
        )
        cv2.ellipse(
            layer,
            (int(cx), int(collar_top - bulb_h * 0.55)),
            (int(bulb_w), int(bulb_h * 0.45)),
            0,
            180,
            360,
            1.0,
            -1,
        )

    rubber_mask = soft_mask(bulb, n)
    rubber_light = cylinder_light(xx, cx - bulb_w, cx + bulb_w)
    rubber = (
        np.stack([rubber_light * 34, rubber_light * 32, rubber_light * 31], -1)
        + 55 * highlight(xx, cx - bulb_w * 0.45, bulb_w * 0.12)[..., None]
    )
    paint(canvas, rubber_mask, rubber)
    return canvas


def ceramic_mug(rng: np.random.Generator) -> Canvas:
    n = SIZE * SS
    canvas = studio_sweep(n, (232, 230, 226), rng)
    cx, body_w, top, bottom = n * 0.46, n * 0.36, n * 0.36, n * 0.78
    left, right = cx - body_w / 2, cx + body_w / 2
    cast_shadow(canvas, cx + body_w * 0.1, bottom, body_w * 0.72, 0.5)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    glaze = np.asarray([112, 140, 122], np.float32)  # sage green
    rim_h = body_w * 0.13
    # The handle: a thick ring on the right whose inner hole shows the backdrop.
    handle = soft_mask(
        lambda layer: cv2.ellipse(
            layer,
            (int(right), int(top + (bottom - top) * 0.45)),
            (int(body_w * 0.25), int((bottom - top) * 0.27)),
            0,
            -90,
            90,
            1.0,
            int(body_w * 0.085),
        ),
        n,
    )
    handle_shade = 0.55 + 0.45 * np.clip(1 - (xx - right) / (body_w * 0.3), 0, 1)
    paint(canvas, handle, glaze[None, None, :] * handle_shade[..., None] * 0.95)

    def body(layer: np.ndarray) -> None:
        cv2.rectangle(layer, (int(left), int(top)), (int(right), int(bottom - rim_h * 0.5)), 1.0, -1)
        cv2.ellipse(
            layer,
            (int(cx), int(bottom - rim_h * 0.5)),
            (int(body_w / 2), int(rim_h * 0.5)),
            0,
            0,
            180,
            1.0,
            -1,
        )
        cv2.ellipse(layer, (int(cx), int(top)), (int(body_w / 2), int(rim_h)), 0, 0, 360, 1.0, -1)

    mug = soft_mask(body, n)
    shade = cylinder_light(xx, left, right)
    surface = glaze[None, None, :] * shade[..., None]
    # A glossy glaze: the softbox on the left as a broad soft band, a window catchlight on the right.
    surface += (
        95 * highlight(xx, left + body_w * 0.2, body_w * 0.05)[..., None]
        + 30 * highlight(xx, right - body_w * 0.08, body_w * 0.02)[..., None]
    )
    # Unglazed foot ring at the bottom.
    foot = np.clip((yy - (bottom - rim_h * 0.9)) / 6, 0, 1)[..., None]
    surface = surface * (1 - foot) + np.asarray([196, 184, 166], np.float32) * shade[..., None] * foot
    paint(canvas, mug, surface)
    # The opening: a pale rim, then the darker inside wall, lit on the far side.
    inner = soft_mask(
        lambda layer: cv2.ellipse(
            layer,
            (int(cx), int(top)),
            (int(body_w / 2 - body_w * 0.03), int(rim_h * 0.8)),
            0,
            0,
            360,
            1.0,
            -1,
        ),
        n,
    )
    inside = (
        np.asarray([86, 108, 94], np.float32)[None, None, :]
        * (0.55 + 0.5 * np.clip((top - yy) / rim_h + 0.5, 0, 1))[..., None]
    )
    paint(canvas, inner, inside)
    rim = soft_mask(
        lambda layer: cv2.ellipse(
            layer,
            (int(cx), int(top)),
            (int(body_w / 2 - body_w * 0.015), int(rim_h * 0.9)),
            0,
            0,
            360,
            1.0,
            int(body_w * 0.02),
        ),
        n,
        1.2,
    )
    paint(canvas, rim * 0.8, (214, 222, 214))
    return canvas


def smooth(points: list[tuple[float, float]], rounds: int = 3) -> np.ndarray:
    """Chaikin corner cutting: a closed polygon becomes a smooth, drawn-by-hand curve."""
    poly = np.asarray(points, np.float32)
    for _ in range(rounds):
        following = np.roll(poly, -1, axis=0)
        poly = np.stack([poly * 0.75 + following * 0.25, poly * 0.25 + following * 0.75], 1).reshape(-1, 2)
    return poly


def sneaker(rng: np.random.Generator) -> Canvas:
    n = SIZE * SS
    canvas = studio_sweep(n, (229, 231, 234), rng)
    s = n / 1000
    cast_shadow(canvas, 470 * s, 702 * s, 330 * s, 0.55)

    def shape(points: list[tuple[float, float]], blur: float = 1.0) -> np.ndarray:
        outline = (smooth(points) * s).astype(np.int32)
        return soft_mask(lambda layer: cv2.fillPoly(layer, [outline], 1.0, cv2.LINE_AA), n, blur)

    upper = shape(
        [
            (150, 648),
            (160, 590),
            (215, 548),
            (330, 515),
            (420, 478),
            (478, 418),
            (515, 372),
            (560, 356),
            (640, 352),
            (705, 378),
            (748, 450),
            (765, 545),
            (762, 648),
        ]
    )
    # Volume from the distance to the outline: rounded like padded leather, lit from above left.
    dist = cv2.distanceTransform((upper > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    height = cv2.GaussianBlur(np.sqrt(dist / s) * 9, (0, 0), 10 * s)
    gy, gx = np.gradient(height)
    normal = np.dstack([-gx, -gy, np.full_like(gx, 0.35)])
    normal /= np.linalg.norm(normal, axis=2, keepdims=True)
    light = np.asarray([-0.5, -0.65, 0.58], np.float32)
    lambert = np.clip(normal @ (light / np.linalg.norm(light)), 0, 1)
    yy = np.mgrid[0:n, 0:n][0].astype(np.float32)
    # Ambient occlusion where the upper meets the sole.
    occlusion = 1 - 0.35 * np.clip((yy - 590 * s) / (55 * s), 0, 1)
    tone = ((0.38 + 0.8 * lambert) * occlusion)[..., None]
    navy = np.asarray([50, 64, 104], np.float32)
    paint(canvas, upper, navy * tone + rng.normal(0, 3, canvas.shape).astype(np.float32))
    suede = np.asarray([156, 154, 150], np.float32) * tone + rng.normal(0, 6, canvas.shape).astype(np.float32)
    toe = shape([(90, 720), (90, 500), (250, 500), (300, 560), (310, 720)], 3)
    paint(canvas, toe * upper, suede)
    heel = shape([(650, 720), (665, 560), (705, 450), (760, 380), (820, 380), (820, 720)], 3)
    paint(canvas, heel * upper, suede)
    stripe = shape([(330, 622), (450, 575), (590, 482), (640, 470), (600, 520), (470, 602), (360, 634)], 1.5)
    paint(canvas, stripe * upper, np.asarray([240, 239, 236], np.float32) * np.clip(tone + 0.25, 0, 1.1))
    # The collar opening and its padded lining.
    collar = soft_mask(
        lambda layer: cv2.ellipse(
            layer, (int(588 * s), int(362 * s)), (int(74 * s), int(17 * s)), -3, 0, 360, 1.0, -1
        ),
        n,
    )
    paint(canvas, collar, (36, 34, 40))
    # Laces: short white bars across the throat, each casting a small shadow.
    for i in range(5):
        x0, y0 = (430 + i * 19) * s, (474 - i * 23) * s
        a = (int(x0 - 22 * s), int(y0 + 10 * s))
        b = (int(x0 + 26 * s), int(y0 - 12 * s))
        lace_shadow = line_mask(n, (a[0] + 4, a[1] + 8), (b[0] + 4, b[1] + 8), int(9 * s), 5)
        paint(canvas, lace_shadow * 0.35, (20, 20, 30))
        lace = line_mask(n, a, b, int(8 * s))
        paint(
            canvas,
            lace,
            np.asarray([244, 242, 236], np.float32) * (0.8 + 0.2 * np.clip(lambert + 0.3, 0, 1))[..., None],
        )
    # The sole: white rubber with toe spring, a midsole groove and a gum outsole.
    sole = shape(
        [(128, 628), (150, 648), (770, 648), (792, 642), (796, 682), (772, 706), (200, 706), (150, 690)]
    )
    rubber = (
        np.asarray([238, 236, 230], np.float32)
        * (1.0 - 0.28 * np.clip((yy - 645 * s) / (60 * s), 0, 1))[..., None]
    )
    paint(canvas, sole, rubber)
    groove = soft_mask(
        lambda layer: cv2.line(
            layer, (int(150 * s), int(672 * s)), (int(790 * s), int(672 * s)), 1.0, int(3 * s), cv2.LINE_AA
        ),
        n,
        1.5,
    )
    paint(canvas, groove * sole * 0.45, (120, 116, 110))
    outsole = np.clip((yy - 694 * s) / (3 * s), 0, 1)
    paint(canvas, outsole * sole, (146, 104, 66))
    return canvas


def cosmetics_box(rng: np.random.Generator) -> Canvas:
    n = SIZE * SS
    canvas = studio_sweep(n, (238, 232, 230), rng)
    s = n / 1000
    # Two visible faces in gentle perspective and the lid seen from a little above.
    front = np.asarray([(330, 330), (560, 360), (560, 790), (330, 760)], np.float32) * s
    side = np.asarray([(560, 360), (690, 320), (690, 740), (560, 790)], np.float32) * s
    lid = np.asarray([(330, 330), (460, 295), (690, 320), (560, 360)], np.float32) * s
    cast_shadow(canvas, 520 * s, 775 * s, 230 * s, 0.5)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    blush = np.asarray([214, 170, 166], np.float32)
    for quad, light in ((side, 0.72), (lid, 1.06), (front, 0.93)):
        face = poly_mask(n, quad)
        falloff = 1 - 0.08 * np.clip((yy - 300 * s) / (500 * s), 0, 1)
        paint(canvas, face, blush[None, None, :] * (light * falloff)[..., None])
    # The front's print: brand and product name, warped onto the face with a perspective transform.
    flat_w, flat_h = int(230 * s), int(430 * s)
    art = Image.new("L", (flat_w, flat_h), 0)
    draw = ImageDraw.Draw(art)
    for text, size, y in (
        ("MAISON", int(34 * s), 0.2),
        ("rose", int(22 * s), 0.31),
        ("HYDRATING CREAM", int(14 * s), 0.66),
        ("50 ml", int(13 * s), 0.72),
    ):
        typeface = font(size, bold=text in ("MAISON",))
        width = draw.textlength(text, font=typeface)
        draw.text(((flat_w - width) / 2, flat_h * y), text, fill=255, font=typeface)
    draw.line(
        [(flat_w * 0.3, flat_h * 0.42), (flat_w * 0.7, flat_h * 0.42)], fill=200, width=max(1, int(2 * s))
    )
    warp = cv2.getPerspectiveTransform(
        np.asarray([(0, 0), (flat_w, 0), (flat_w, flat_h), (0, flat_h)], np.float32), front
    )
    ink = cv2.warpPerspective(np.asarray(art, np.float32) / 255, warp, (n, n))
    paint(canvas, ink * 0.92, (122, 66, 64))
    # Gold foil band round the box and bright edges where faces meet (edge catchlights).
    band = (
        np.asarray([(330, 690), (560, 720), (690, 672), (690, 690), (560, 740), (330, 710)], np.float32) * s
    )
    foil = soft_mask(lambda layer: cv2.fillPoly(layer, [band.astype(np.int32)], 1.0, cv2.LINE_AA), n)
    paint(
        canvas,
        foil,
        np.stack(
            [
                190 + 40 * highlight(xx, 430 * s, 40 * s),
                160 + 30 * highlight(xx, 430 * s, 40 * s),
                96 + 0 * xx,
            ],
            -1,
        ),
    )
    for a, b in (((560, 360), (560, 790)), ((330, 330), (560, 360)), ((560, 360), (690, 320))):
        edge = line_mask(n, (int(a[0] * s), int(a[1] * s)), (int(b[0] * s), int(b[1] * s)), int(2 * s), 1.2)
        paint(canvas, edge * 0.45, (250, 236, 232))
    return canvas


SAMPLES: dict[str, Callable[[np.random.Generator], Canvas]] = {
    "serum-bottle": serum_bottle,
    "ceramic-mug": ceramic_mug,
    "sneaker": sneaker,
    "cosmetics-box": cosmetics_box,
}


def render(name: str) -> Image.Image:
    rng = np.random.default_rng(sum(map(ord, name)))  # deterministic per sample
    canvas = SAMPLES[name](rng)
    small = cv2.resize(np.clip(canvas, 0, 255), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    small += rng.normal(0, 1.0, small.shape).astype(np.float32)  # sensor noise at output scale
    return Image.fromarray(np.clip(small, 0, 255).astype(np.uint8), "RGB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("names", nargs="*", help=f"which samples (default: all of {', '.join(SAMPLES)})")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in SAMPLES]
    if unknown:
        parser.error(f"unknown sample {', '.join(unknown)}; choose from {', '.join(SAMPLES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(SAMPLES):
        path = args.out / f"{name}.jpg"
        render(name).save(path, "JPEG", quality=90, optimize=True)
        print(path)


if __name__ == "__main__":
    main()
