"""The labelled set of the product fidelity check (issue 17): products with exact masks, and for
each a series of outputs that are faithful or changed in one known way.

Products (drawn at 2x and area-reduced, so masks have real anti-aliased edges): a glass bottle
with a printed label (English words), a printed tea box, a mug with a handle and a printed logo,
a textured shoe-like shape, and a jar with a Chinese label. Each is photographed on a plain
studio sweep (the original), then put into results on varied backgrounds (plain, gradient,
textured, wall-and-table, marble) with a small soft shadow:

- faithful: same place, new background, mild relighting, JPEG q90; relit: the strongest
  relighting the local engine's harmonisation does by default (exposure 0.88, tint +-5 %);
  moved_<s>: moved and scaled by s (0.55 .. 1.3): expected no flag;
- colour_<dE>: the product's hues turned until the mean CIEDE2000 is dE (2, 5, 8, 12, 20):
  dE 2 must pass, 8 and more must be flagged colour_shift, and 5 may be either (the local
  engine's own relighting moves a beige box by up to ~7 dE before its allowance);
- grown_handle / grown_blob: a part in the product's colour attached: shape_changed;
- cut_corner: the product's lower left corner gone (background there): shape_changed;
- blur_<r>: the product smeared by a Gaussian of r px in the result (1, 3, 6): r >= 3 is
  expected detail_lost, r = 1 passes;
- text: the label redrawn with other words: text_changed;
- gone: background only: product_missing.

`expected` are the flags a case must raise; `tolerated` flags are allowed but not required (a
6 px blur that also makes the label unreadable). Deterministic for a given seed and size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imaging.fidelity_colour import ciede2000, to_lab

FONT_LATIN = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
FONT_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
COLOUR_STEPS = (2.0, 5.0, 8.0, 12.0, 20.0)
COLOUR_REJECTED = 6.0  # dE from which users reject the colour (BENCHMARKS.md)
COLOUR_ACCEPTED = 3.0  # dE up to which a flag is wrong; in between a flag is tolerated
BLUR_STEPS = (1.0, 3.0, 6.0)
BLUR_REJECTED = 3.0
SCALES = (0.55, 0.8, 1.3)
SS = 2


@dataclass(frozen=True)
class Case:
    name: str  # "<product>/<change>"
    product: str
    change: str  # faithful, relit, moved, colour, grown, cut, blur, text, gone
    amount: float | None  # dE for colour, blur radius, scale for moved
    original: np.ndarray  # HxWx3 uint8 photo on a studio sweep
    original_mask: np.ndarray  # HxW uint8 exact product alpha
    result: np.ndarray  # HxWx3 uint8
    result_mask: np.ndarray  # HxW uint8 exact product alpha in the result (zeros when gone)
    expected: frozenset[str]
    tolerated: frozenset[str] = frozenset()


# ----------------------------------------------------------------------------- drawing


def _font(size: int, cjk: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_CJK if cjk else FONT_LATIN
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _finish(rgb: Image.Image, alpha: Image.Image, shading: bool = True) -> np.ndarray:
    """2x drawing -> float RGBA at 1x, with a cylinder's horizontal shading."""
    colour = np.asarray(rgb, np.float32) / 255.0
    matte = np.asarray(alpha, np.float32) / 255.0
    if shading:
        xs = np.nonzero(matte.max(axis=0) > 0)[0]
        x = np.arange(colour.shape[1], dtype=np.float32)
        t = np.clip((x - xs.min()) / max(1, xs.max() - xs.min()), 0, 1)
        profile = 0.78 + 0.3 * np.sin(np.pi * t) ** 0.7 + 0.08 * np.exp(-(((t - 0.3) / 0.06) ** 2))
        colour = np.clip(colour * profile[None, :, None], 0, 1)
    height, width = matte.shape
    size = (width // SS, height // SS)
    small = np.asarray(cv2.resize(colour * matte[..., None], size, interpolation=cv2.INTER_AREA))
    small_matte = np.asarray(cv2.resize(matte, size, interpolation=cv2.INTER_AREA))
    straight = small / np.maximum(small_matte[..., None], 1e-4)
    return np.dstack([np.clip(straight, 0, 1), small_matte]).astype(np.float32)


def _centred_text(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    lines: tuple[str, ...],
    fill: tuple[int, int, int],
    cjk: bool = False,
) -> None:
    x0, y0, x1, y1 = box
    size = int((y1 - y0) / (len(lines) * 1.5))
    font = _font(size, cjk)
    while size > 6 and max(draw.textlength(line, font=font) for line in lines) > 0.88 * (x1 - x0):
        size -= 2
        font = _font(size, cjk)
    total = len(lines) * size * 1.3
    y = (y0 + y1) / 2 - total / 2
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text(((x0 + x1) / 2 - width / 2, y), line, font=font, fill=fill)
        y += size * 1.3


def bottle(side: int, words: tuple[str, ...] | None) -> np.ndarray:
    w, h = int(side * 0.42) * SS, side * SS
    rgb, alpha = Image.new("RGB", (w, h), (0, 0, 0)), Image.new("L", (w, h), 0)
    d, m = ImageDraw.Draw(rgb), ImageDraw.Draw(alpha)
    body = (int(0.04 * w), int(0.33 * h), int(0.96 * w), int(0.99 * h))
    neck = (int(0.36 * w), int(0.06 * h), int(0.64 * w), int(0.36 * h))
    cap = (int(0.33 * w), int(0.01 * h), int(0.67 * w), int(0.1 * h))
    for shape, colour in ((body, (38, 92, 54)), (neck, (38, 92, 54)), (cap, (176, 140, 40))):
        d.rounded_rectangle(shape, radius=int(0.05 * w), fill=colour)
        m.rounded_rectangle(shape, radius=int(0.05 * w), fill=255)
    d.polygon(
        [
            (int(0.04 * w), int(0.42 * h)),
            (int(0.36 * w), int(0.3 * h)),
            (int(0.64 * w), int(0.3 * h)),
            (int(0.96 * w), int(0.42 * h)),
        ],
        fill=(38, 92, 54),
    )
    m.polygon(
        [
            (int(0.04 * w), int(0.42 * h)),
            (int(0.36 * w), int(0.3 * h)),
            (int(0.64 * w), int(0.3 * h)),
            (int(0.96 * w), int(0.42 * h)),
        ],
        fill=255,
    )
    label = (int(0.04 * w), int(0.5 * h), int(0.96 * w), int(0.85 * h))
    d.rectangle(label, fill=(242, 236, 220))
    d.rectangle((label[0], label[1] + 8, label[2], label[1] + 16), fill=(176, 140, 40))
    if words:
        _centred_text(d, (label[0], label[1] + 30, label[2], label[3] - 20), words, (40, 40, 40))
    return _finish(rgb, alpha)


def tea_box(side: int, words: tuple[str, ...] | None) -> np.ndarray:
    w, h = int(side * 0.7) * SS, int(side * 0.9) * SS
    rgb, alpha = Image.new("RGB", (w, h), (0, 0, 0)), Image.new("L", (w, h), 0)
    d, m = ImageDraw.Draw(rgb), ImageDraw.Draw(alpha)
    front = [(0, int(0.12 * h)), (int(0.8 * w), int(0.12 * h)), (int(0.8 * w), h - 1), (0, h - 1)]
    top = [(0, int(0.12 * h)), (int(0.2 * w), 0), (w - 1, 0), (int(0.8 * w), int(0.12 * h))]
    right = [(int(0.8 * w), int(0.12 * h)), (w - 1, 0), (w - 1, int(0.88 * h)), (int(0.8 * w), h - 1)]
    for poly, colour in ((front, (236, 222, 190)), (top, (250, 240, 214)), (right, (170, 150, 120))):
        d.polygon(poly, fill=colour)
        m.polygon(poly, fill=255)
    d.rectangle((0, int(0.16 * h), int(0.8 * w), int(0.3 * h)), fill=(30, 110, 70))
    d.ellipse((int(0.3 * w), int(0.7 * h), int(0.5 * w), int(0.85 * h)), fill=(30, 110, 70))
    if words:
        _centred_text(d, (0, int(0.34 * h), int(0.8 * w), int(0.66 * h)), words, (20, 60, 40))
    return _finish(rgb, alpha, shading=False)


def mug(side: int, words: tuple[str, ...] | None) -> np.ndarray:
    w, h = int(side * 0.95) * SS, int(side * 0.8) * SS
    rgb, alpha = Image.new("RGB", (w, h), (0, 0, 0)), Image.new("L", (w, h), 0)
    d, m = ImageDraw.Draw(rgb), ImageDraw.Draw(alpha)
    handle = (int(0.58 * w), int(0.2 * h), int(0.98 * w), int(0.75 * h))
    thick = int(0.07 * w)
    d.ellipse(handle, fill=(180, 40, 40))
    m.ellipse(handle, fill=255)
    inner = (handle[0] + thick, handle[1] + thick, handle[2] - thick, handle[3] - thick)
    d.ellipse(inner, fill=(0, 0, 0))
    m.ellipse(inner, fill=0)
    body = (int(0.02 * w), int(0.02 * h), int(0.74 * w), int(0.98 * h))
    d.rounded_rectangle(body, radius=int(0.04 * w), fill=(180, 40, 40))
    m.rounded_rectangle(body, radius=int(0.04 * w), fill=255)
    cx, cy, r = int(0.38 * w), int(0.5 * h), int(0.16 * w)
    star = [
        (
            cx + (r if k % 2 == 0 else r // 2.3) * np.sin(k * np.pi / 5),
            cy - (r if k % 2 == 0 else r // 2.3) * np.cos(k * np.pi / 5),
        )
        for k in range(10)
    ]
    d.polygon(star, fill=(245, 235, 225))
    for k in range(3):
        y = int((0.12 + 0.05 * k) * h)
        d.rectangle((body[0], y, body[2], y + int(0.015 * h)), fill=(245, 235, 225))
    return _finish(rgb, alpha)


def shoe(side: int, words: tuple[str, ...] | None) -> np.ndarray:
    w, h = side * SS, int(side * 0.55) * SS
    rgb, alpha = Image.new("RGB", (w, h), (0, 0, 0)), Image.new("L", (w, h), 0)
    d, m = ImageDraw.Draw(rgb), ImageDraw.Draw(alpha)
    upper = [
        (int(0.05 * w), int(0.5 * h)),
        (int(0.12 * w), int(0.05 * h)),
        (int(0.42 * w), int(0.05 * h)),
        (int(0.55 * w), int(0.35 * h)),
        (int(0.9 * w), int(0.5 * h)),
        (int(0.98 * w), int(0.8 * h)),
        (int(0.05 * w), int(0.8 * h)),
    ]
    d.polygon(upper, fill=(120, 80, 50))
    m.polygon(upper, fill=255)
    sole = (int(0.03 * w), int(0.78 * h), int(0.99 * w), int(0.97 * h))
    d.rounded_rectangle(sole, radius=int(0.05 * h), fill=(235, 232, 225))
    m.rounded_rectangle(sole, radius=int(0.05 * h), fill=255)
    for k in range(6):
        x = int((0.2 + 0.05 * k) * w)
        d.line(
            (x, int(0.18 * h + 0.05 * k * h), x + int(0.08 * w), int(0.22 * h + 0.05 * k * h)),
            fill=(240, 240, 240),
            width=max(2, w // 150),
        )
    for k in range(40):
        x = int((0.08 + 0.022 * k) * w)
        d.line(
            (x, int(0.74 * h), x + int(0.012 * w), int(0.74 * h)),
            fill=(230, 200, 150),
            width=max(2, w // 300),
        )
    product = _finish(rgb, alpha, shading=False)
    rng = np.random.default_rng(5)
    grain = cv2.GaussianBlur(rng.standard_normal(product.shape[:2]).astype(np.float32), (0, 0), 1.2) * 0.09
    upper_area = (product[..., 0] < 0.6)[..., None]
    product[..., :3] = np.clip(product[..., :3] + np.where(upper_area, grain[..., None], 0), 0, 1)
    return product


def jar(side: int, words: tuple[str, ...] | None) -> np.ndarray:
    w, h = int(side * 0.6) * SS, int(side * 0.8) * SS
    rgb, alpha = Image.new("RGB", (w, h), (0, 0, 0)), Image.new("L", (w, h), 0)
    d, m = ImageDraw.Draw(rgb), ImageDraw.Draw(alpha)
    lid = (int(0.1 * w), 0, int(0.9 * w), int(0.15 * h))
    body = (0, int(0.12 * h), w - 1, h - 1)
    d.rounded_rectangle(body, radius=int(0.12 * w), fill=(214, 150, 40))
    m.rounded_rectangle(body, radius=int(0.12 * w), fill=255)
    d.rounded_rectangle(lid, radius=int(0.03 * w), fill=(60, 60, 70))
    m.rounded_rectangle(lid, radius=int(0.03 * w), fill=255)
    label = (int(0.05 * w), int(0.35 * h), int(0.95 * w), int(0.85 * h))
    d.rectangle(label, fill=(250, 246, 236))
    if words:
        _centred_text(d, label, words, (150, 30, 30), cjk=True)
    return _finish(rgb, alpha)


PRODUCTS: dict[
    str,
    tuple[
        Callable[[int, tuple[str, ...] | None], np.ndarray], tuple[str, ...] | None, tuple[str, ...] | None
    ],
] = {
    # name: (drawing, label words, the words an AI "redrew")
    "bottle": (bottle, ("OLIVE OIL", "EXTRA", "VIRGIN"), ("SUN PRESS", "GOLDEN", "BLEND")),
    "tea_box": (tea_box, ("GREEN TEA", "20 BAGS"), ("HERBAL MIX", "BERRY")),
    "mug": (mug, None, None),
    "shoe": (shoe, None, None),
    "jar": (jar, ("蜂蜜柚子", "天然果酱"), ("桂花乌龙", "清香红茶")),
}


# ----------------------------------------------------------------------------- scenes


def background(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Float32 0..1 HxWx3."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(0.35, 0.9, 3).astype(np.float32)
    if kind == "plain":
        image = np.broadcast_to(base, (size, size, 3)).copy()
    elif kind == "gradient":
        other = rng.uniform(0.2, 0.9, 3).astype(np.float32)
        image = base * (1 - y[..., None]) + other * y[..., None]
    elif kind == "texture":
        noise = cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), size / 150)
        image = base * (1 + 0.6 * noise[..., None] / max(1e-6, float(noise.std())) * 0.15)
    elif kind == "table":
        wall, table = base, rng.uniform(0.25, 0.6, 3).astype(np.float32)
        image = np.where(
            (y > 0.62)[..., None], table * (0.85 + 0.3 * y[..., None]), wall * (1.05 - 0.3 * y[..., None])
        )
    else:  # marble
        veins = np.sin(12 * x + 6 * y + 3 * np.sin(9 * y) + rng.uniform(0, 6)) ** 16
        image = 0.9 - 0.35 * veins[..., None] * np.array([1.0, 1.0, 0.95], np.float32)
    grain = rng.standard_normal((size, size, 1)).astype(np.float32) * 0.01
    return np.clip(image + grain, 0, 1).astype(np.float32)


BACKGROUNDS = ("plain", "gradient", "texture", "table", "marble")


def place(
    product: np.ndarray, scene: np.ndarray, scale: float, centre: tuple[float, float], shadow: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The RGBA product composed on `scene` (float) -> (uint8 RGB, uint8 exact alpha)."""
    size = scene.shape[0]
    height, width = product.shape[:2]
    new = (max(2, round(width * scale)), max(2, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    premul = cv2.resize(product[..., :3] * product[..., 3:], new, interpolation=interpolation)
    matte = np.clip(cv2.resize(product[..., 3], new, interpolation=interpolation), 0, 1)
    colour = np.clip(premul / np.maximum(matte[..., None], 1e-4), 0, 1)
    canvas_alpha = np.zeros((size, size), np.float32)
    canvas_rgb = np.zeros((size, size, 3), np.float32)
    x0, y0 = round(centre[0] - new[0] / 2), round(centre[1] - new[1] / 2)
    sx0, sy0 = max(0, -x0), max(0, -y0)
    dx0, dy0 = max(0, x0), max(0, y0)
    dx1, dy1 = min(size, x0 + new[0]), min(size, y0 + new[1])
    canvas_alpha[dy0:dy1, dx0:dx1] = matte[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]
    canvas_rgb[dy0:dy1, dx0:dx1] = colour[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]
    out = scene.copy()
    if shadow:
        # A small soft contact shadow under and slightly behind the product.
        offset = np.array([[1, 0, 0.02 * new[0]], [0, 0.25, 0.78 * (y0 + new[1])]], np.float32)
        cast = cv2.warpAffine(canvas_alpha, offset, (size, size))
        cast = cv2.GaussianBlur(cast, (0, 0), max(2.0, 0.02 * size))
        out *= 1 - 0.35 * cast[..., None]
    out = out * (1 - canvas_alpha[..., None]) + canvas_rgb * canvas_alpha[..., None]
    return to_uint8(out), to_uint8(canvas_alpha)


def to_uint8(values: np.ndarray) -> np.ndarray:
    return np.asarray(np.clip(values * 255.0 + 0.5, 0, 255), np.uint8)


def relight(product: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    out = product.copy()
    out[..., :3] = np.clip(out[..., :3] * np.array(gains, np.float32), 0, 1)
    return out


def colour_shift(product: np.ndarray, target_de: float, turn: float) -> tuple[np.ndarray, float]:
    """The product with its hues turned (CIELAB a*b* rotated, `turn` = +-1 for the direction)
    until the mean CIEDE2000 over the solid product is `target_de`; returns it and the dE reached.
    A hue turn, as an AI recolouring does: greys stay grey, so it is not a change of light."""
    solid = product[..., 3] > 0.5
    lab = cv2.cvtColor(np.ascontiguousarray(product[..., :3]), cv2.COLOR_RGB2Lab)
    sample = lab[solid][::7]

    def turned(values: np.ndarray, degrees: float) -> np.ndarray:
        angle = np.radians(degrees * turn)
        out = values.copy()
        a, b = values[..., 1], values[..., 2]
        out[..., 1] = a * np.cos(angle) - b * np.sin(angle)
        out[..., 2] = a * np.sin(angle) + b * np.cos(angle)
        return np.clip(cv2.cvtColor(out.astype(np.float32), cv2.COLOR_Lab2RGB), 0, 1)

    def reached(degrees: float) -> float:
        return float(ciede2000(to_lab(turned(sample[None], degrees))[0], sample).mean())

    low, high = 0.0, 180.0
    for _ in range(16):
        middle = (low + high) / 2
        low, high = (middle, high) if reached(middle) < target_de else (low, middle)
    out = product.copy()
    out[..., :3] = turned(lab, high)
    return out, reached(high)


def grow(product: np.ndarray, kind: str) -> np.ndarray:
    """A part added in the product's own colour: a handle on the right or a blob on top-left."""
    out = product.copy()
    height, width = out.shape[:2]
    pad = width // 3
    out = np.pad(out, ((0, 0), (pad, pad), (0, 0)))
    solid = out[..., 3] > 0.5
    colour = np.median(out[..., :3][solid], axis=0)
    layer = np.zeros(out.shape[:2], np.uint8)
    ys, xs = np.nonzero(solid)
    if kind == "handle":
        right = int(xs.max())
        centre = (right, int(ys.mean()))
        axes = (int(0.22 * width), int(0.2 * height))
        cv2.ellipse(layer, centre, axes, 0, -90, 90, 255, thickness=max(3, width // 10), lineType=cv2.LINE_AA)
    else:
        # A round lump on the left side, a tenth of the product's area outside it.
        area = float(solid.sum())
        radius = int(np.sqrt(0.25 * area / np.pi))
        middle = int(np.median(ys))
        left = int(xs[np.abs(ys - middle) < 3].min())
        cv2.circle(layer, (left, middle), radius, 255, -1, cv2.LINE_AA)
    add = layer.astype(np.float32) / 255.0
    out[..., :3] = out[..., :3] * (1 - add[..., None] * (1 - out[..., 3:])) + colour * add[..., None] * (
        1 - out[..., 3:]
    )
    out[..., 3] = np.maximum(out[..., 3], add)
    return out


def cut_corner(product: np.ndarray) -> np.ndarray:
    out = product.copy()
    ys, xs = np.nonzero(out[..., 3] > 0.5)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
    keep = np.full(out.shape[:2], 255, np.uint8)
    reach_x, reach_y = int(0.55 * (x1 - x0)), int(0.45 * (y1 - y0))
    triangle = np.array([[x0 - 2, y1 + 2], [x0 + reach_x, y1 + 2], [x0 - 2, y1 - reach_y]], np.int32)
    cv2.fillPoly(keep, [triangle], 0, cv2.LINE_AA)
    out[..., 3] *= keep.astype(np.float32) / 255.0
    return out


def blur(product: np.ndarray, radius: float) -> np.ndarray:
    """The product's colours smeared (the outline kept, as an AI that redraws inside would)."""
    out = product.copy()
    premul = cv2.GaussianBlur(out[..., :3] * out[..., 3:], (0, 0), radius)
    weight = cv2.GaussianBlur(out[..., 3], (0, 0), radius)
    out[..., :3] = np.clip(premul / np.maximum(weight[..., None], 1e-4), 0, 1)
    return out


def jpeg(rgb: np.ndarray, quality: int = 90) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert decoded is not None
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))


# ----------------------------------------------------------------------------- the set


def fidelity_set(
    size: int = 1000, *, seed: int = 17, quick: bool = False, products: tuple[str, ...] | None = None
) -> list[Case]:
    """Every case for every product; `quick` keeps one of each kind of change (for unit tests)."""
    cases: list[Case] = []
    for index, name in enumerate(PRODUCTS):
        if products is not None and name not in products:
            continue
        cases += _cases_for(name, index, size, seed, quick)
    return cases


def _cases_for(name: str, index: int, size: int, seed: int, quick: bool) -> list[Case]:
    draw, words, other_words = PRODUCTS[name]
    cases: list[Case] = []
    rng = np.random.default_rng(seed * 100 + index)
    side = int(size * 0.55)
    product = draw(side, words)
    studio = np.full((size, size, 3), 0.93, np.float32) + rng.uniform(-0.03, 0.03, 3).astype(np.float32)
    fit = 0.9 * size / max(product.shape[:2])
    base_scale = min(1.0, fit)
    original, original_mask = place(product, studio, base_scale, (size / 2, size / 2), shadow=False)

    def result(
        change: str,
        amount: float | None,
        item: np.ndarray,
        expected: set[str],
        *,
        scale: float = 1.0,
        shift: tuple[float, float] = (0.0, 0.0),
        tolerated: set[str] | None = None,
        compress: bool = False,
        label: str | None = None,
    ) -> None:
        kind = BACKGROUNDS[(len(cases) + index) % len(BACKGROUNDS)]
        scene = background(kind, size, rng)
        centre = (size / 2 + shift[0] * size, size / 2 + shift[1] * size)
        rgb, mask = place(item, scene, base_scale * scale, centre)
        if compress:
            rgb = jpeg(rgb)
        cases.append(
            Case(
                name=f"{name}/{label or change}",
                product=name,
                change=change,
                amount=amount,
                original=original,
                original_mask=original_mask,
                result=rgb,
                result_mask=mask,
                expected=frozenset(expected),
                tolerated=frozenset(tolerated or ()),
            )
        )

    mild = relight(product, (1.04, 1.02, 0.98))
    result("faithful", None, mild, set(), compress=True)
    result("relit", None, relight(product, (0.88 * 1.05, 0.88, 0.88 * 0.95)), set(), shift=(0.05, 0.03))
    for k, scale in enumerate(SCALES[:1] if quick else SCALES):
        limit = min(scale, 0.95 * size / (base_scale * max(product.shape[:2])))
        offset = (0.5 - 0.5 * limit * base_scale * product.shape[1] / size) * (0.6 if k % 2 else -0.6)
        result("moved", limit, mild, set(), scale=limit, shift=(offset, 0.04), label=f"moved_{limit:.2f}")
    for target in COLOUR_STEPS[:3] if quick else COLOUR_STEPS:
        shifted, reached = colour_shift(product, target, 1.0 if index % 2 else -1.0)
        expected = {"colour_shift"} if reached >= COLOUR_REJECTED else set()
        tolerated = {"colour_shift"} if COLOUR_ACCEPTED < reached < COLOUR_REJECTED else set()
        result(
            "colour",
            round(reached, 1),
            shifted,
            expected,
            scale=0.85 if target > 10 else 1.0,
            tolerated=tolerated,
            label=f"colour_{target:g}",
        )
    for kind in ("handle",) if quick else ("handle", "blob"):
        result("grown", None, grow(product, kind), {"shape_changed"}, label=f"grown_{kind}")
    result("cut", None, cut_corner(product), {"shape_changed"}, shift=(-0.05, 0.0), label="cut_corner")
    for radius in BLUR_STEPS[1:2] if quick else BLUR_STEPS:
        expected = {"detail_lost"} if radius >= BLUR_REJECTED else set()
        tolerated = {"text_changed"} if words and radius >= BLUR_REJECTED else set()
        result(
            "blur",
            radius,
            blur(product, radius * side / 550),
            expected,
            tolerated=tolerated,
            label=f"blur_{radius:g}",
        )
    if words and other_words:
        result("text", None, draw(side, other_words), {"text_changed"})
    kind = BACKGROUNDS[index % len(BACKGROUNDS)]
    scene = background(kind, size, rng)
    cases.append(
        Case(
            name=f"{name}/gone",
            product=name,
            change="gone",
            amount=None,
            original=original,
            original_mask=original_mask,
            result=to_uint8(scene),
            result_mask=np.zeros((size, size), np.uint8),
            expected=frozenset({"product_missing"}),
        )
    )
    return cases


class ExactSegmenter:
    """A segmenter that knows the set's exact masks: looks the image up by its bytes."""

    def __init__(self, cases: list[Case]) -> None:
        self._masks = {_digest(case.result): case.result_mask for case in cases}
        self._masks.update({_digest(case.original): case.original_mask for case in cases})

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self._masks.get(_digest(rgb), np.zeros(rgb.shape[:2], np.uint8))


def _digest(rgb: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(rgb[..., :3]).tobytes(), digest_size=16).digest()


@dataclass
class FlagScore:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else 1.0


def score(cases: list[Case], flags: list[tuple[str, ...]]) -> dict[str, FlagScore]:
    """Per flag: a raised flag is a true positive when expected, ignored when tolerated, else a
    false positive; an expected flag not raised is a false negative."""
    from imaging.fidelity import PRODUCT_FLAGS

    scores = {flag: FlagScore() for flag in PRODUCT_FLAGS}
    for case, raised in zip(cases, flags, strict=True):
        for flag in PRODUCT_FLAGS:
            if flag in case.expected:
                if flag in raised:
                    scores[flag].true_positive += 1
                else:
                    scores[flag].false_negative += 1
            elif flag in raised and flag not in case.tolerated:
                scores[flag].false_positive += 1
    return scores


def wrong(case: Case, raised: tuple[str, ...]) -> bool:
    """Whether `raised` misses an expected flag or raises one neither expected nor tolerated."""
    return not case.expected <= set(raised) or bool(set(raised) - case.expected - case.tolerated)
