"""Deterministic synthetic product photos with ground-truth masks, for cutout tests and benchmarks.

Each sample is a shaded product (bottle, box, ball, mug with a handle hole,
donut ring, vase, shoe, lamp, jar and tube, headphones, a bottle with a white
label that must not become a hole) on a plain, gradient
or textured (noise, linen) background, most with a soft cast shadow that is
background, not product. Shapes are drawn at 4x and area-downsampled, so the
ground truth has real anti-aliased edges and the photo mixes product and
background colour at its edge the way a camera does.

`holes` marks pixels well inside a product's hole (handle, ring): they must end
up background in any cutout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

SS = 4  # supersampling factor for anti-aliased edges


@dataclass(frozen=True)
class Sample:
    name: str
    rgb: np.ndarray  # HxWx3 uint8
    alpha: np.ndarray  # HxW uint8 ground truth, soft at the edge
    holes: np.ndarray  # HxW bool: well inside a hole of the product (must be background)
    shadow: np.ndarray  # HxW bool: background darkened by the cast shadow by more than 10%

    @property
    def mask(self) -> np.ndarray:
        """The ground truth binarised at 128, as 0/255."""
        return np.where(self.alpha >= 128, np.uint8(255), np.uint8(0))


# ----------------------------------------------------------------- backgrounds
def plain(h: int, w: int, colour: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = colour
    return bg + rng.normal(0, 1.5, (h, w, 3)).astype(np.float32)  # sensor noise


def gradient(
    h: int, w: int, top: tuple[int, int, int], bottom: tuple[int, int, int], rng: np.random.Generator
) -> np.ndarray:
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :, None]
    bg = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    bg = bg - 10 * x**2  # studio light falls off towards the sides
    return bg + rng.normal(0, 1.5, (h, w, 3)).astype(np.float32)


def linen(h: int, w: int, colour: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    weave = 6 * np.sin(xx * 1.9) * np.sin(yy * 0.35) + 6 * np.sin(yy * 1.7) * np.sin(xx * 0.3)
    slub = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3) * 25
    noise = rng.normal(0, 4, (h, w)).astype(np.float32)
    lum = (weave + slub + noise)[..., None]
    return np.asarray(colour, np.float32) + lum * np.array([1.0, 0.97, 0.9], np.float32)


def noise_texture(h: int, w: int, colour: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    coarse = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 8) * 60
    fine = rng.normal(0, 7, (h, w)).astype(np.float32)
    return np.asarray(colour, np.float32) + (coarse + fine)[..., None]


# -------------------------------------------------------------------- drawing
class Canvas:
    """A supersampled coverage canvas: draw at 4x, read back area-averaged coverage."""

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.big = np.zeros((h * SS, w * SS), np.uint8)

    def _pts(self, points: list[tuple[float, float]]) -> np.ndarray:
        return (np.asarray(points, np.float32) * SS).astype(np.int32)

    def poly(self, points: list[tuple[float, float]], value: int = 255) -> Canvas:
        cv2.fillPoly(self.big, [self._pts(points)], value, cv2.LINE_8)
        return self

    def ellipse(
        self, cx: float, cy: float, rx: float, ry: float, value: int = 255, angle: float = 0
    ) -> Canvas:
        cv2.ellipse(
            self.big, (int(cx * SS), int(cy * SS)), (int(rx * SS), int(ry * SS)), angle, 0, 360, value, -1
        )
        return self

    def rect(self, x0: float, y0: float, x1: float, y1: float, value: int = 255, radius: float = 0) -> Canvas:
        x0s, y0s, x1s, y1s, r = (int(v * SS) for v in (x0, y0, x1, y1, radius))
        if r <= 0:
            cv2.rectangle(self.big, (x0s, y0s), (x1s, y1s), value, -1)
            return self
        cv2.rectangle(self.big, (x0s + r, y0s), (x1s - r, y1s), value, -1)
        cv2.rectangle(self.big, (x0s, y0s + r), (x1s, y1s - r), value, -1)
        for cx, cy in ((x0s + r, y0s + r), (x1s - r, y0s + r), (x0s + r, y1s - r), (x1s - r, y1s - r)):
            cv2.circle(self.big, (cx, cy), r, value, -1)
        return self

    def coverage(self) -> np.ndarray:
        """Float32 HxW in [0, 1]."""
        small = cv2.resize(self.big, (self.w, self.h), interpolation=cv2.INTER_AREA)
        return small.astype(np.float32) / 255.0


def cylinder_shade(
    h: int, w: int, x0: float, x1: float, base: tuple[int, int, int], spec_at: float = 0.3
) -> np.ndarray:
    """Horizontal cylinder lighting: dark edges, a bright stripe (specular) at `spec_at` across."""
    x = np.clip((np.arange(w, dtype=np.float32) - x0) / max(1.0, x1 - x0), 0, 1)
    lambert = 0.45 + 0.55 * np.clip(np.sin(np.pi * x), 0, 1) ** 0.7
    spec = np.exp(-(((x - spec_at) / 0.05) ** 2)) * 0.6
    colour = np.asarray(base, np.float32)[None, :] * lambert[:, None] + 255 * spec[:, None]
    return np.broadcast_to(colour[None, :, :], (h, w, 3)).copy()


def sphere_shade(h: int, w: int, cx: float, cy: float, r: float, base: tuple[int, int, int]) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = (xx - cx) / r, (yy - cy) / r
    z = np.sqrt(np.clip(1 - dx**2 - dy**2, 0, 1))
    light = np.array([-0.5, -0.6, 0.62], np.float32)
    light /= np.linalg.norm(light)
    lambert = np.clip(dx * light[0] + dy * light[1] + z * light[2], 0, 1)
    spec = np.clip(dx * light[0] + dy * light[1] + z * light[2], 0, 1) ** 40 * 200
    return np.asarray(base, np.float32) * (0.3 + 0.7 * lambert)[..., None] + spec[..., None]


def flat_shade(
    h: int, w: int, base: tuple[int, int, int], rng: np.random.Generator, grain: float = 3.0
) -> np.ndarray:
    yy = np.linspace(1.08, 0.85, h, dtype=np.float32)[:, None, None]
    return np.asarray(base, np.float32) * yy + rng.normal(0, grain, (h, w, 3)).astype(np.float32)


def cast_shadow(
    product: np.ndarray,
    offset: tuple[float, float],
    blur: float,
    strength: float,
    squash: float = 1.0,
) -> np.ndarray:
    """How much the background darkens (0..strength) under the product's offset, squashed, blurred silhouette."""
    h, w = product.shape
    dx, dy = offset
    base_y = float(np.nonzero(product.max(axis=1) > 0.5)[0].max()) if product.max() > 0.5 else h / 2
    # Squash towards the product's base line, then shift: a shadow lying on the floor.
    matrix = np.array([[1, 0, dx], [0, squash, (1 - squash) * base_y + dy]], np.float32)
    shadow = cv2.warpAffine(product, matrix, (w, h))
    return cv2.GaussianBlur(shadow, (0, 0), blur) * strength


def compose(bg: np.ndarray, fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    out = fg * alpha[..., None] + bg * (1 - alpha[..., None])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _hole_core(hole_cover: np.ndarray, erode_px: int = 4) -> np.ndarray:
    inside = (hole_cover > 0.99).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode_px + 1, 2 * erode_px + 1))
    return cv2.erode(inside, kernel).astype(bool)


def _finish(
    name: str,
    bg: np.ndarray,
    fg: np.ndarray,
    alpha: np.ndarray,
    holes: np.ndarray | None = None,
    shadow: tuple[tuple[float, float], float, float, float] | None = ((14, 10), 9, 0.45, 1.0),
) -> Sample:
    darkening = np.zeros(alpha.shape, np.float32)
    if shadow is not None:
        offset, blur, strength, squash = shadow
        darkening = cast_shadow(alpha, offset, blur, strength, squash)
        bg = bg * (1 - darkening)[..., None]
    rgb = compose(bg, np.clip(fg, 0, 255), alpha)
    gt = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    return Sample(
        name=name,
        rgb=rgb,
        alpha=gt,
        holes=holes if holes is not None else np.zeros(alpha.shape, bool),
        shadow=(darkening > 0.1) & (gt == 0),
    )


# -------------------------------------------------------------------- samples
def bottle_plain(rng: np.random.Generator) -> Sample:
    h, w = 600, 480
    c = (
        Canvas(h, w)
        .rect(170, 200, 310, 540, radius=30)
        .rect(215, 110, 265, 210)
        .rect(208, 80, 272, 118, radius=6)
    )
    alpha = c.coverage()
    fg = cylinder_shade(h, w, 170, 310, (40, 130, 60))
    return _finish("bottle_plain", plain(h, w, (244, 244, 241), rng), fg, alpha)


def ball_gradient(rng: np.random.Generator) -> Sample:
    h, w = 520, 560
    alpha = Canvas(h, w).ellipse(280, 270, 150, 150).coverage()
    fg = sphere_shade(h, w, 280, 270, 150, (235, 120, 30))
    bg = gradient(h, w, (200, 210, 225), (150, 160, 180), rng)
    return _finish("ball_gradient", bg, fg, alpha, shadow=((10, 8), 12, 0.5, 0.35))


def mug_handle(rng: np.random.Generator) -> Sample:
    h, w = 520, 620
    body = Canvas(h, w).rect(150, 140, 390, 440, radius=18)
    handle = Canvas(h, w).ellipse(400, 285, 95, 100)
    hole = Canvas(h, w).ellipse(400, 285, 52, 60)
    alpha = np.clip(body.coverage() + np.clip(handle.coverage() - hole.coverage(), 0, 1), 0, 1)
    fg = cylinder_shade(h, w, 150, 500, (45, 80, 170), spec_at=0.25)
    holes = _hole_core(hole.coverage()) & (body.coverage() < 0.01)
    return _finish("mug_handle", plain(h, w, (236, 233, 226), rng), fg, alpha, holes)


def donut_linen(rng: np.random.Generator) -> Sample:
    h, w = 560, 560
    outer = Canvas(h, w).ellipse(280, 280, 170, 150)
    inner = Canvas(h, w).ellipse(280, 280, 75, 62)
    alpha = np.clip(outer.coverage() - inner.coverage(), 0, 1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = np.arctan2(yy - 280, xx - 280)
    fg = np.asarray((205, 160, 60), np.float32) * (0.65 + 0.35 * np.cos(angle + 2.3))[..., None]
    fg = fg + 90 * np.exp(-(((np.hypot(xx - 230, yy - 200) - 20) / 12) ** 2))[..., None]
    holes = _hole_core(inner.coverage())
    return _finish("donut_linen", linen(h, w, (222, 214, 198), rng), fg, alpha, holes)


def box_noise(rng: np.random.Generator) -> Sample:
    h, w = 500, 600
    front = Canvas(h, w).poly([(160, 200), (360, 220), (360, 430), (160, 410)])
    side = Canvas(h, w).poly([(360, 220), (450, 170), (450, 370), (360, 430)])
    top = Canvas(h, w).poly([(160, 200), (250, 150), (450, 170), (360, 220)])
    f, s, t = front.coverage(), side.coverage(), top.coverage()
    alpha = np.clip(f + s + t, 0, 1)
    fg = (
        f[..., None] * np.array([150, 95, 50], np.float32)
        + s[..., None] * np.array([105, 65, 35], np.float32)
        + t[..., None] * np.array([190, 135, 85], np.float32)
    ) / np.maximum(alpha, 1e-3)[..., None]
    fg = fg + rng.normal(0, 3, (h, w, 3)).astype(np.float32)
    return _finish("box_noise", noise_texture(h, w, (170, 180, 190), rng), fg, alpha)


def vase_gradient(rng: np.random.Generator) -> Sample:
    h, w = 640, 480
    ys = np.linspace(120, 560, 40)
    profile = [60 + 55 * np.sin((y - 120) / 440 * np.pi * 1.1) + 25 * (y > 500) for y in ys]
    left = [(240 - r, y) for r, y in zip(profile, ys, strict=True)]
    right = [(240 + r, y) for r, y in zip(profile[::-1], ys[::-1], strict=True)]
    alpha = Canvas(h, w).poly(left + right).coverage()
    fg = cylinder_shade(h, w, 120, 360, (120, 60, 150))
    bg = gradient(h, w, (245, 225, 200), (215, 185, 150), rng)
    return _finish("vase_gradient", bg, fg, alpha, shadow=((-30, 6), 14, 0.4, 0.3))


def shoe_beige(rng: np.random.Generator) -> Sample:
    h, w = 460, 640
    c = Canvas(h, w).poly(
        [(90, 330), (110, 220), (230, 190), (300, 240), (470, 270), (550, 320), (555, 360), (95, 365)]
    )
    c.ellipse(175, 200, 70, 30, angle=-10)
    sole = Canvas(h, w).rect(88, 350, 558, 375, radius=10)
    alpha = np.clip(c.coverage() + sole.coverage(), 0, 1)
    upper = flat_shade(h, w, (45, 40, 42), rng)
    fg = (
        upper * (1 - sole.coverage()[..., None])
        + np.array([235, 235, 230], np.float32) * sole.coverage()[..., None]
    )
    return _finish("shoe_beige", plain(h, w, (226, 210, 185), rng), fg, alpha, shadow=((8, 6), 6, 0.5, 0.25))


def lamp_linen(rng: np.random.Generator) -> Sample:
    h, w = 640, 500
    shade = Canvas(h, w).poly([(170, 90), (330, 90), (390, 250), (110, 250)])
    stem = Canvas(h, w).rect(242, 250, 258, 520)
    base = Canvas(h, w).ellipse(250, 530, 90, 22)
    s, st, b = shade.coverage(), stem.coverage(), base.coverage()
    alpha = np.clip(s + st + b, 0, 1)
    fg = (
        s[..., None] * np.array([240, 215, 160], np.float32)
        + st[..., None] * np.array([60, 60, 65], np.float32)
        + b[..., None] * np.array([50, 50, 55], np.float32)
    ) / np.maximum(alpha, 1e-3)[..., None]
    fg = fg * np.linspace(1.05, 0.9, w, dtype=np.float32)[None, :, None]
    return _finish(
        "lamp_linen", linen(h, w, (200, 205, 212), rng), fg, alpha, shadow=((25, 5), 10, 0.35, 0.2)
    )


def jar_and_tube(rng: np.random.Generator) -> Sample:
    h, w = 480, 640
    jar = Canvas(h, w).rect(110, 210, 300, 400, radius=20).rect(120, 170, 290, 215, radius=8)
    tube = (
        Canvas(h, w).poly([(380, 120), (470, 120), (480, 400), (370, 400)]).rect(395, 400, 455, 440, radius=5)
    )
    j, t = jar.coverage(), tube.coverage()
    alpha = np.clip(j + t, 0, 1)
    fg = (
        j[..., None]
        * cylinder_shade(h, w, 110, 300, (250, 250, 250), spec_at=0.4)
        * np.array([1.0, 0.82, 0.85])
        + t[..., None] * cylinder_shade(h, w, 370, 480, (30, 150, 160))
    ) / np.maximum(alpha, 1e-3)[..., None]
    return _finish("jar_and_tube", plain(h, w, (248, 248, 248), rng), fg, alpha)


def ring_gradient(rng: np.random.Generator) -> Sample:
    h, w = 500, 500
    outer = Canvas(h, w).ellipse(250, 250, 160, 120, angle=15)
    inner = Canvas(h, w).ellipse(250, 250, 128, 92, angle=15)
    alpha = np.clip(outer.coverage() - inner.coverage(), 0, 1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    band = 0.6 + 0.4 * np.sin((xx + yy) / 40)
    fg = np.asarray((190, 190, 200), np.float32) * band[..., None]
    bg = gradient(h, w, (40, 45, 60), (20, 22, 30), rng)
    holes = _hole_core(inner.coverage(), erode_px=6)
    return _finish("ring_gradient", bg, fg, alpha, holes, shadow=None)


def headphones(rng: np.random.Generator) -> Sample:
    h, w = 560, 560
    band = Canvas(h, w).ellipse(280, 260, 170, 180)
    gap = Canvas(h, w).ellipse(280, 260, 145, 155).rect(90, 260, 470, 470)
    cups = Canvas(h, w).rect(85, 250, 160, 400, radius=25).rect(400, 250, 475, 400, radius=25)
    b, g, cu = band.coverage(), gap.coverage(), cups.coverage()
    alpha = np.clip(np.clip(b - g, 0, 1) + cu, 0, 1)
    fg = flat_shade(h, w, (200, 40, 50), rng, grain=2.0)
    inside = Canvas(h, w).ellipse(280, 260, 145, 155).coverage()
    holes = _hole_core(np.clip(inside - cu, 0, 1), erode_px=6)
    return _finish("headphones", plain(h, w, (232, 234, 238), rng), fg, alpha, holes)


def labelled_bottle(rng: np.random.Generator) -> Sample:
    """A dark bottle with an off-white printed label on a white background: the label is product, not a hole."""
    h, w = 620, 480
    bottle = (
        Canvas(h, w)
        .rect(165, 230, 315, 570, radius=28)
        .rect(218, 90, 262, 240)
        .rect(212, 70, 268, 100, radius=5)
    )
    alpha = bottle.coverage()
    fg = cylinder_shade(h, w, 165, 315, (60, 25, 30), spec_at=0.22)
    label = Canvas(h, w).rect(180, 320, 300, 470).coverage()[..., None]
    paper = cylinder_shade(h, w, 165, 315, (246, 244, 238), spec_at=0.22) * 0.15 + 0.85 * np.float32(244)
    fg = fg * (1 - label) + paper * label
    for row, (x0, x1) in enumerate(((200, 280), (190, 290), (210, 270), (195, 285))):
        text = Canvas(h, w).rect(x0, 350 + 28 * row, x1, 362 + 28 * row).coverage()[..., None]
        fg = fg * (1 - text) + np.float32(30) * text
    return _finish("labelled_bottle", plain(h, w, (245, 245, 245), rng), fg, alpha)


SAMPLES: tuple[Callable[[np.random.Generator], Sample], ...] = (
    bottle_plain,
    ball_gradient,
    mug_handle,
    donut_linen,
    box_noise,
    vase_gradient,
    shoe_beige,
    lamp_linen,
    jar_and_tube,
    ring_gradient,
    headphones,
    labelled_bottle,
)


def make_set(seed: int = 7) -> list[Sample]:
    """The whole set; the same seed always gives the same pixels."""
    return [make(np.random.default_rng(seed + index)) for index, make in enumerate(SAMPLES)]


def product_on_green(size: int = 400) -> Sample:
    """A warm-grey product with a wide soft edge on saturated green: the colour-halo test case."""
    rng = np.random.default_rng(3)
    c = Canvas(size, size).ellipse(size / 2, size / 2, size * 0.3, size * 0.34)
    # A wide (about 6 px) natural falloff, like a defocused edge, so the edge band mixes in a lot of green.
    alpha = cv2.GaussianBlur(c.coverage(), (0, 0), 2.5)
    fg = flat_shade(size, size, (200, 185, 170), rng, grain=1.0)
    bg = plain(size, size, (20, 200, 40), rng)
    return _finish("product_on_green", bg, fg, alpha, shadow=None)
