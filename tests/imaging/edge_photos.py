"""Photograph-like product shots with exact alpha truths, for edge-quality tests and `bench/edge_quality.py`.

Every case is drawn in a 1000-unit design space and rendered at any size, so the
tests use small copies and the benchmark full-size ones (1000-1800 px). What
makes them hard is what the issue lists: glossy products that reflect their
surroundings at the rim, glass whose edge is partly transparent, white
products on white, thin straps, temples and legs, inner holes (handles, a
ring, a strap loop), and strongly textured backgrounds (wood grain, foliage,
fabric, marble) touching the product. What makes them photographs: a lens
blur at the edge (the truth is the blurred coverage, so the photo is exactly
F * alpha + B * (1 - alpha)), a soft cast shadow that is background, sensor
noise, and a JPEG round trip.

`TUNE` cases are the ones the refinement was tuned on; `HELD_OUT` ones were
only measured, never tuned on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

SS = 4  # supersampling for anti-aliased coverage


@dataclass(frozen=True)
class EdgePhoto:
    name: str
    split: str  # "tune" or "held_out"
    rgb: np.ndarray  # HxWx3 uint8, after the JPEG round trip
    alpha: np.ndarray  # HxW uint8 truth

    @property
    def mask(self) -> np.ndarray:
        return np.where(self.alpha >= 128, np.uint8(255), np.uint8(0))


class Shapes:
    """Coverage drawn in design units (the long side is 1000) at `k` pixels per unit, supersampled."""

    def __init__(self, h: int, w: int, k: float) -> None:
        self.h, self.w, self.k = h, w, k
        self.big = np.zeros((h * SS, w * SS), np.uint8)

    def _p(self, v: float) -> int:
        return round(v * self.k * SS)

    def poly(self, points: list[tuple[float, float]], value: int = 255) -> Shapes:
        pts = np.array([[self._p(x), self._p(y)] for x, y in points], np.int32)
        cv2.fillPoly(self.big, [pts], value)
        return self

    def ellipse(
        self, cx: float, cy: float, rx: float, ry: float, angle: float = 0, value: int = 255
    ) -> Shapes:
        centre, axes = (self._p(cx), self._p(cy)), (self._p(rx), self._p(ry))
        cv2.ellipse(self.big, centre, axes, angle, 0, 360, value, -1)
        return self

    def arc(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        start: float,
        end: float,
        width: float,
        value: int = 255,
    ) -> Shapes:
        centre, axes = (self._p(cx), self._p(cy)), (self._p(rx), self._p(ry))
        cv2.ellipse(self.big, centre, axes, 0, start, end, value, max(1, self._p(width)))
        return self

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float, value: int = 255) -> Shapes:
        cv2.line(
            self.big, (self._p(x0), self._p(y0)), (self._p(x1), self._p(y1)), value, max(1, self._p(width))
        )
        return self

    def rect(self, x0: float, y0: float, x1: float, y1: float, radius: float = 0, value: int = 255) -> Shapes:
        a, b, c, d, r = (self._p(v) for v in (x0, y0, x1, y1, radius))
        if r <= 0:
            cv2.rectangle(self.big, (a, b), (c, d), value, -1)
            return self
        cv2.rectangle(self.big, (a + r, b), (c - r, d), value, -1)
        cv2.rectangle(self.big, (a, b + r), (c, d - r), value, -1)
        for x, y in ((a + r, b + r), (c - r, b + r), (a + r, d - r), (c - r, d - r)):
            cv2.circle(self.big, (x, y), r, value, -1)
        return self

    def cover(self) -> np.ndarray:
        small = cv2.resize(self.big, (self.w, self.h), interpolation=cv2.INTER_AREA)
        return small.astype(np.float32) / 255.0


# ---------------------------------------------------------------- backgrounds
def _noise(h: int, w: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise of unit spread, made cheaply at low resolution and enlarged."""
    step = max(1, int(sigma / 3))
    small = rng.normal(0, 1, (h // step + 2, w // step + 2)).astype(np.float32)
    small = np.asarray(cv2.GaussianBlur(small, (0, 0), max(0.5, sigma / step)), np.float32)
    big = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.float32)
    return big / max(1e-6, float(big.std()))


def wood(h: int, w: int, k: float, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    warp = _noise(h, w, 60 * k, rng) * 14 * k
    v = (yy + warp + 0.08 * xx) / (9 * k)
    rings = 0.5 + 0.5 * np.sin(v + 1.5 * np.sin(xx / (170 * k)))
    streaks = np.asarray(
        cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigmaX=9 * k, sigmaY=0.6),
        np.float32,
    )
    streaks /= max(1e-6, float(streaks.std()))
    t = np.clip(rings**2 * 0.8 + 0.12 * streaks, 0, 1)[..., None]
    dark, light = np.array([105, 62, 34], np.float32), np.array([196, 142, 92], np.float32)
    return dark * t + light * (1 - t)


def foliage(h: int, w: int, k: float, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((h, w, 3), np.float32)
    out[:] = (22, 38, 20)
    count = int(h * w / (26 * k) ** 2)
    for _ in range(count):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(10, 34) * k
        shade = rng.uniform(0.35, 1.15)
        colour = np.array([60 + rng.uniform(-20, 40), 140 + rng.uniform(-30, 50), 45], np.float32) * shade
        angle = rng.uniform(0, 180)
        cv2.ellipse(
            out, (int(cx), int(cy)), (int(r), int(r * 0.45)), angle, 0, 360, colour.tolist(), -1, cv2.LINE_AA
        )
    return cv2.GaussianBlur(out, (0, 0), 0.8 * k)


def fabric(h: int, w: int, k: float, rng: np.random.Generator, colour: tuple[int, int, int]) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = 3.2 * k
    weave = np.sin(xx / period * 2.2) * np.sin(yy / period * 0.5) + np.sin(yy / period * 2.0) * np.sin(
        xx / period * 0.4
    )
    slub = _noise(h, w, 5 * k, rng)
    lum = 18 * weave + 10 * slub + rng.normal(0, 5, (h, w)).astype(np.float32)
    return np.asarray(colour, np.float32) + lum[..., None] * np.array([0.9, 0.95, 1.0], np.float32)


def marble(h: int, w: int, k: float, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    turb = _noise(h, w, 80 * k, rng) * 1.0 + _noise(h, w, 20 * k, rng) * 0.35
    veins = np.abs(np.sin((xx * 0.7 + yy) / (60 * k) + 2.4 * turb)) ** 0.25
    base = np.array([236, 234, 230], np.float32)
    vein = np.array([120, 122, 130], np.float32)
    t = (1 - veins)[..., None]
    return base * (1 - t) + vein * t + (_noise(h, w, 4 * k, rng) * 4)[..., None]


def studio(h: int, w: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :, None]
    return np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t - 8 * x**2


# ---------------------------------------------------------------- shading
def cylinder(
    h: int, w: int, x0: float, x1: float, base: tuple[int, int, int], spec_at: float = 0.3, gloss: float = 0.6
) -> np.ndarray:
    x = np.clip((np.arange(w, dtype=np.float32) - x0) / max(1.0, x1 - x0), 0, 1)
    lambert = 0.45 + 0.55 * np.clip(np.sin(np.pi * x), 0, 1) ** 0.7
    spec = np.exp(-(((x - spec_at) / 0.05) ** 2)) * gloss
    colour = np.asarray(base, np.float32)[None, :] * lambert[:, None] + 255 * spec[:, None]
    return np.broadcast_to(colour[None], (h, w, 3)).copy()


def rim_reflection(
    fg: np.ndarray, cover: np.ndarray, bg: np.ndarray, k: float, strength: float
) -> np.ndarray:
    """A glossy rim: near its outline the product mirrors its surroundings (blurred: a curved mirror), Fresnel-like."""
    inside = (cover > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    weight = (np.exp(-dist / (4 * k)) * strength)[..., None]
    mirrored = cv2.GaussianBlur(bg, (0, 0), 25 * k)
    return fg * (1 - weight) + mirrored * weight


def shadow(cover: np.ndarray, k: float, dx: float, dy: float, blur: float, strength: float) -> np.ndarray:
    h, w = cover.shape
    matrix = np.array([[1, 0, dx * k], [0, 1, dy * k]], np.float32)
    moved = cv2.warpAffine(cover, matrix, (w, h))
    return cv2.GaussianBlur(moved, (0, 0), blur * k) * strength


def photograph(
    name: str,
    split: str,
    fg: np.ndarray,
    bg: np.ndarray,
    cover: np.ndarray,
    rng: np.random.Generator,
    *,
    blur: float,
    dark: np.ndarray | None = None,
    quality: int = 90,
) -> EdgePhoto:
    """Lens blur, the composite, sensor noise and a JPEG round trip; the truth is the blurred coverage."""
    alpha = cv2.GaussianBlur(cover, (0, 0), blur) if blur > 0 else cover
    if dark is not None:
        bg = bg * (1 - dark)[..., None]
    if blur > 0:
        fg, bg = cv2.GaussianBlur(fg, (0, 0), blur), cv2.GaussianBlur(bg, (0, 0), blur)
    a = alpha[..., None]
    rgb = np.clip(fg, 0, 255) * a + np.clip(bg, 0, 255) * (1 - a)
    rgb += rng.normal(0, 2.2, rgb.shape).astype(np.float32)
    rgb8 = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    bgr = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert bgr is not None
    decoded = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    truth = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    return EdgePhoto(name=name, split=split, rgb=decoded, alpha=truth)


def _frame(size: int, aspect: float) -> tuple[int, int, float]:
    """(h, w, pixels per design unit) for a long side of `size` and width / height `aspect`."""
    if aspect >= 1:
        w, h = size, round(size / aspect)
    else:
        h, w = size, round(size * aspect)
    return h, w, size / 1000


# ---------------------------------------------------------------- cases (tune)
def glossy_bottle_wood(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 0.75)
    c = (
        Shapes(h, w, k)
        .rect(270, 380, 480, 930, radius=45)
        .rect(345, 200, 405, 390)
        .rect(335, 150, 415, 215, radius=8)
        .cover()
    )
    bg = wood(h, w, k, rng)
    fg = cylinder(h, w, 270 * k, 480 * k, (30, 80, 40), spec_at=0.28, gloss=0.8)
    fg = rim_reflection(fg, c, bg, k, 0.55)
    return photograph(
        "glossy_bottle_wood", "tune", fg, bg, c, rng, blur=0.9, dark=shadow(c, k, 30, 10, 14, 0.45)
    )


def saucer_fabric(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 1.33)
    saucer = Shapes(h, w, k).ellipse(500, 560, 330, 90).cover()
    cup = Shapes(h, w, k).rect(350, 300, 620, 560, radius=30).cover()
    handle = np.clip(
        Shapes(h, w, k).ellipse(640, 420, 95, 80).cover() - Shapes(h, w, k).ellipse(640, 420, 58, 46).cover(),
        0,
        1,
    )
    c = np.clip(saucer + cup + handle, 0, 1)
    bg = fabric(h, w, k, rng, (60, 78, 120))
    fg = cylinder(h, w, 170 * k, 830 * k, (238, 232, 220), spec_at=0.35, gloss=0.2)
    fg = rim_reflection(fg, c, bg, k, 0.25)
    return photograph("saucer_fabric", "tune", fg, bg, c, rng, blur=0.8, dark=shadow(c, k, 10, 25, 20, 0.4))


def white_sneaker_white(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 1.4)
    body = Shapes(h, w, k).poly(
        [(140, 520), (170, 360), (330, 300), (430, 380), (690, 410), (830, 470), (840, 540), (150, 560)]
    )
    body.ellipse(260, 330, 100, 45, angle=-12)
    sole = Shapes(h, w, k).rect(130, 540, 850, 600, radius=18).cover()
    c = np.clip(body.cover() + sole, 0, 1)
    fg = cylinder(h, w, 130 * k, 850 * k, (246, 246, 244), spec_at=0.4, gloss=0.05) + 8
    laces = Shapes(h, w, k)
    for i in range(5):
        laces.line(320 + 40 * i, 330 + 12 * i, 360 + 40 * i, 400 + 10 * i, 6)
    fg = fg * (1 - 0.25 * laces.cover()[..., None])
    bg = studio(h, w, (246, 246, 245), (238, 238, 236))
    return photograph(
        "white_sneaker_white", "tune", fg, bg, c, rng, blur=1.0, dark=shadow(c, k, 0, 18, 10, 0.18)
    )


def sunglasses_marble(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 1.5)
    s = Shapes(h, w, k)
    s.ellipse(330, 360, 140, 105).ellipse(670, 360, 140, 105)
    s.line(450, 320, 550, 320, 10)  # bridge
    s.line(195, 320, 80, 250, 7).line(805, 320, 920, 250, 7)  # temples, thin
    c = s.cover()
    bg = marble(h, w, k, rng)
    fg = np.empty((h, w, 3), np.float32)
    fg[:] = (28, 26, 30)
    fg = rim_reflection(fg, c, bg, k, 0.35)
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    fg = fg + 90 * np.exp(-(((yy - 0.42) / 0.03) ** 2))  # a glint across the lenses
    return photograph(
        "sunglasses_marble", "tune", fg, bg, c, rng, blur=0.7, dark=shadow(c, k, 12, 30, 12, 0.3)
    )


def mug_foliage(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 1.2)
    body = Shapes(h, w, k).rect(250, 200, 600, 760, radius=25).cover()
    handle = np.clip(
        Shapes(h, w, k).ellipse(620, 470, 150, 170).cover()
        - Shapes(h, w, k).ellipse(620, 470, 90, 110).cover(),
        0,
        1,
    )
    c = np.clip(body + handle, 0, 1)
    fg = cylinder(h, w, 250 * k, 770 * k, (200, 70, 50), spec_at=0.25, gloss=0.45)
    bg = foliage(h, w, k, rng)
    fg = rim_reflection(fg, c, bg, k, 0.2)
    return photograph("mug_foliage", "tune", fg, bg, c, rng, blur=0.9)


def handbag_strap(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 0.85)
    bag = Shapes(h, w, k).poly([(230, 520), (770, 520), (820, 930), (180, 930)]).cover()
    strap = Shapes(h, w, k).arc(500, 520, 210, 300, 180, 360, 12).cover()
    c = np.clip(bag + strap, 0, 1)
    fg = cylinder(h, w, 180 * k, 820 * k, (150, 95, 60), spec_at=0.3, gloss=0.15)
    bg = studio(h, w, (214, 218, 224), (176, 182, 190))
    return photograph("handbag_strap", "tune", fg, bg, c, rng, blur=0.8, dark=shadow(c, k, 20, 10, 16, 0.35))


def perfume_glass(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 0.8)
    glass = Shapes(h, w, k).rect(300, 380, 700, 900, radius=60).cover()
    cap = Shapes(h, w, k).rect(420, 230, 580, 385, radius=10).cover()
    inside = cv2.distanceTransform((glass > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    # Thick glass walls read as nearly opaque; towards the rim it lets more background through.
    opacity = 0.72 + 0.25 * np.clip(inside / (20 * k), 0, 1)
    c = np.clip(glass * opacity + cap, 0, 1)
    bg = studio(h, w, (230, 222, 240), (190, 180, 205))
    amber = cylinder(h, w, 300 * k, 700 * k, (210, 150, 60), spec_at=0.3, gloss=0.5)
    gold = cylinder(h, w, 420 * k, 580 * k, (170, 140, 60), spec_at=0.35, gloss=0.7)
    fg = (amber * (glass * opacity)[..., None] + gold * cap[..., None]) / np.maximum(c, 1e-3)[..., None]
    return photograph("perfume_glass", "tune", fg, bg, c, rng, blur=0.8, dark=shadow(c, k, 25, 10, 18, 0.3))


def ring_fabric(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 1.0)
    c = np.clip(
        Shapes(h, w, k).ellipse(500, 500, 300, 240, angle=12).cover()
        - Shapes(h, w, k).ellipse(500, 500, 240, 185, angle=12).cover(),
        0,
        1,
    )
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    band = 0.55 + 0.45 * np.sin((xx + 0.7 * yy) / (45 * k))
    fg = np.array([225, 190, 110], np.float32) * band[..., None]
    bg = fabric(h, w, k, rng, (40, 34, 52))
    return photograph("ring_fabric", "tune", fg, bg, c, rng, blur=0.8)


def stool_marble(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 0.8)
    s = Shapes(h, w, k).ellipse(500, 260, 230, 55).rect(290, 260, 710, 300)
    for x0, x1 in ((320, 250), (680, 750), (440, 420), (560, 580)):
        s.line(x0, 290, x1, 930, 14)
    s.line(285, 700, 715, 700, 9)  # a rung
    c = s.cover()
    fg = np.empty((h, w, 3), np.float32)
    fg[:] = (60, 42, 32)
    bg = marble(h, w, k, rng)
    return photograph("stool_marble", "tune", fg, bg, c, rng, blur=0.7)


def watch_wood(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 0.75)
    case = Shapes(h, w, k).ellipse(500, 500, 150, 150).cover()
    strap = Shapes(h, w, k).rect(420, 80, 580, 380, radius=20).rect(420, 620, 580, 930, radius=20).cover()
    holes = Shapes(h, w, k)
    for y in (700, 760, 820, 880):
        holes.ellipse(500, y, 10, 10)
    c = np.clip(case + strap - holes.cover(), 0, 1)
    fg = cylinder(h, w, 350 * k, 650 * k, (40, 40, 44), spec_at=0.35, gloss=0.5)
    bg = wood(h, w, k, rng)
    return photograph("watch_wood", "tune", fg, bg, c, rng, blur=0.8, dark=shadow(c, k, 15, 15, 10, 0.35))


# ------------------------------------------------------------ cases (held out)
def cosmetic_marble(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 0.7)
    c = Shapes(h, w, k).rect(330, 330, 670, 950, radius=120).rect(420, 120, 580, 340, radius=15).cover()
    bg = marble(h, w, k, rng)
    fg = cylinder(h, w, 330 * k, 670 * k, (235, 225, 230), spec_at=0.3, gloss=0.4)
    fg = rim_reflection(fg, c, bg, k, 0.5)
    return photograph(
        "cosmetic_marble", "held_out", fg, bg, c, rng, blur=1.0, dark=shadow(c, k, 25, 10, 16, 0.35)
    )


def white_box_white(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 1.25)
    front = Shapes(h, w, k).poly([(250, 330), (620, 330), (620, 800), (250, 800)]).cover()
    side = Shapes(h, w, k).poly([(620, 330), (760, 260), (760, 720), (620, 800)]).cover()
    top = Shapes(h, w, k).poly([(250, 330), (390, 260), (760, 260), (620, 330)]).cover()
    c = np.clip(front + side + top, 0, 1)
    fg = (front[..., None] * 244 + side[..., None] * 226 + top[..., None] * 252) / np.maximum(c, 1e-3)[
        ..., None
    ]
    fg = np.repeat(fg, 3, axis=2) if fg.shape[2] == 1 else fg
    bg = studio(h, w, (249, 249, 249), (241, 241, 240))
    return photograph(
        "white_box_white", "held_out", fg, bg, c, rng, blur=0.9, dark=shadow(c, k, 30, 8, 20, 0.2)
    )


def sandal_fabric(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 1.4)
    sole = Shapes(h, w, k).ellipse(500, 520, 380, 120).cover()
    straps = Shapes(h, w, k)
    for x in (320, 480, 640):
        straps.arc(x, 520, 60, 190, 180, 360, 16)
    straps.line(150, 480, 850, 470, 10)
    c = np.clip(sole + straps.cover(), 0, 1)
    fg = cylinder(h, w, 120 * k, 880 * k, (180, 120, 80), spec_at=0.3, gloss=0.15)
    bg = fabric(h, w, k, rng, (200, 190, 170))
    return photograph(
        "sandal_fabric", "held_out", fg, bg, c, rng, blur=0.8, dark=shadow(c, k, 10, 20, 12, 0.35)
    )


def vase_foliage(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 0.75)
    ys = np.linspace(150, 920, 50)
    prof = [90 + 110 * np.sin((y - 150) / 770 * np.pi * 1.05) for y in ys]
    pts = [(500 - r, y) for r, y in zip(prof, ys, strict=True)] + [
        (500 + r, y) for r, y in zip(prof[::-1], ys[::-1], strict=True)
    ]
    c = Shapes(h, w, k).poly(pts).cover()
    fg = cylinder(h, w, 290 * k, 710 * k, (70, 110, 170), spec_at=0.3, gloss=0.6)
    bg = foliage(h, w, k, rng)
    fg = rim_reflection(fg, c, bg, k, 0.35)
    return photograph("vase_foliage", "held_out", fg, bg, c, rng, blur=1.0)


def kettle_wood(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 1.2)
    body = Shapes(h, w, k).ellipse(450, 600, 250, 230).cover()
    handle = np.clip(
        Shapes(h, w, k).ellipse(450, 330, 190, 150).cover()
        - Shapes(h, w, k).ellipse(450, 330, 150, 115).cover(),
        0,
        1,
    )
    handle *= (np.arange(h)[:, None] < 420 * k).astype(np.float32)
    spout = Shapes(h, w, k).poly([(660, 560), (860, 400), (880, 420), (690, 640)]).cover()
    c = np.clip(body + handle + spout, 0, 1)
    fg = cylinder(h, w, 200 * k, 880 * k, (200, 200, 205), spec_at=0.3, gloss=0.7)
    bg = wood(h, w, k, rng)
    fg = rim_reflection(fg, c, bg, k, 0.45)
    return photograph("kettle_wood", "held_out", fg, bg, c, rng, blur=0.9, dark=shadow(c, k, 25, 12, 14, 0.4))


def lamp_fabric(size: int, rng: np.random.Generator) -> EdgePhoto:
    h, w, k = _frame(size, 0.8)
    s = Shapes(h, w, k).poly([(560, 120), (760, 120), (800, 300), (520, 300)])
    s.line(650, 300, 420, 620, 11).line(420, 620, 560, 880, 11)
    s.ellipse(560, 900, 150, 35)
    c = s.cover()
    fg = np.empty((h, w, 3), np.float32)
    fg[:] = (30, 30, 34)
    fg = fg + 40 * Shapes(h, w, k).poly([(560, 120), (760, 120), (800, 300), (520, 300)]).cover()[..., None]
    bg = fabric(h, w, k, rng, (150, 60, 55))
    return photograph("lamp_fabric", "held_out", fg, bg, c, rng, blur=0.7, dark=shadow(c, k, 20, 10, 10, 0.3))


TUNE: tuple[Callable[[int, np.random.Generator], EdgePhoto], ...] = (
    glossy_bottle_wood,
    saucer_fabric,
    white_sneaker_white,
    sunglasses_marble,
    mug_foliage,
    handbag_strap,
    perfume_glass,
    ring_fabric,
    stool_marble,
    watch_wood,
)
HELD_OUT: tuple[Callable[[int, np.random.Generator], EdgePhoto], ...] = (
    cosmetic_marble,
    white_box_white,
    sandal_fabric,
    vase_foliage,
    kettle_wood,
    lamp_fabric,
)
# Full-size long sides: between 1000 and 1800 px, like real product photos.
SIZES = (1600, 1400, 1200, 1800, 1000, 1300, 1500, 1100, 1400, 1600, 1500, 1200, 1700, 1000, 1400, 1300)


def make(index: int, size: int | None = None) -> EdgePhoto:
    """Case `index` of TUNE + HELD_OUT at `size` (its benchmark size when None); deterministic."""
    cases = TUNE + HELD_OUT
    return cases[index](size or SIZES[index], np.random.default_rng(1200 + index))


def case_count() -> int:
    return len(TUNE) + len(HELD_OUT)
