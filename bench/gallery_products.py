"""The product photos of the by-eye gallery (`bench/gallery.py`), drawn by code so they are reproducible.

Each one is a product as a seller would shoot it: on a plain white or grey sweep,
on a textured surface (wood, fabric, marble), or in front of a busy room (a shelf,
a kitchen). Three come straight from `tests/imaging/edge_photos.py` (the bottle on
wood, the cup on fabric, the perfume on a studio sweep); the others (a running shoe,
headphones on a shelf, a T-shirt on a hanger, a serum and a cream jar, a mug in a
kitchen, a lotion on marble) are drawn here with the same tools: supersampled
coverage, shading with highlights, a cast shadow, lens blur, sensor noise and a
JPEG round trip (`edge_photos.photograph`). The same index always gives the same
pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from tests.imaging import edge_photos
from tests.imaging.edge_photos import Shapes, cylinder, photograph, rim_reflection, shadow, studio


@dataclass(frozen=True)
class ProductPhoto:
    name: str
    product: str  # what it is, for the sheet's label
    setting: str  # "plain", "textured" or "busy"
    rgb: np.ndarray  # HxWx3 uint8, after the JPEG round trip


def _frame(size: int, aspect: float) -> tuple[int, int, float]:
    """(h, w, pixels per design unit) for a long side of `size` and width / height `aspect`."""
    if aspect >= 1:
        w, h = size, round(size / aspect)
    else:
        h, w = size, round(size * aspect)
    return h, w, size / 1000


def _smooth(h: int, w: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise of unit spread and feature size about `sigma` pixels."""
    step = max(1, int(sigma / 3))
    raw = rng.normal(0, 1, (h // step + 2, w // step + 2)).astype(np.float32)
    small = cv2.GaussianBlur(raw, (0, 0), max(0.5, sigma / step))
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return big / max(1e-6, float(big.std()))


def relief(
    cover: np.ndarray,
    radius: float,
    *,
    light: tuple[float, float, float] = (-0.45, -0.65, 0.6),
    shininess: float = 30.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(diffuse 0..1, specular 0..1) of a shape whose edges round over within `radius` pixels.

    The height is a quarter circle of the distance to the outline, so any silhouette reads
    as a padded, rounded object lit from the upper left (a cushion, a shoe's upper, a cup).
    """
    inside = (cover > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    t = np.clip(dist / max(1.0, radius), 0, 1)
    height = np.sqrt(1 - (1 - t) ** 2) * radius
    height = cv2.GaussianBlur(height, (0, 0), max(1.0, radius / 8))
    gy, gx = np.gradient(height)
    normal = np.dstack([-gx, -gy, np.ones_like(gx)])
    normal /= np.linalg.norm(normal, axis=2, keepdims=True)
    lvec = np.asarray(light, np.float32)
    lvec /= np.linalg.norm(lvec)
    lambert = np.clip(normal @ lvec, 0, 1)
    half = lvec + np.array([0, 0, 1], np.float32)
    half /= np.linalg.norm(half)
    spec = np.clip(normal @ half, 0, 1) ** shininess
    return lambert.astype(np.float32), spec.astype(np.float32)


def _paint(layers: list[tuple[np.ndarray, np.ndarray]], shape: tuple[int, int]) -> np.ndarray:
    """Stack (coverage, colour) layers front-to-back order last: each later layer covers the ones before."""
    out = np.zeros((*shape, 3), np.float32)
    for cover, colour in layers:
        a = cover[..., None]
        out = out * (1 - a) + colour * a
    return out


def _shaded(
    cover: np.ndarray,
    base: tuple[int, int, int],
    radius: float,
    *,
    ambient: float = 0.45,
    gloss: float = 0.3,
    shininess: float = 30.0,
) -> np.ndarray:
    diffuse, spec = relief(cover, radius, shininess=shininess)
    colour = np.asarray(base, np.float32) * (ambient + (1 - ambient) * diffuse)[..., None]
    return colour + 255 * gloss * spec[..., None]


def _blurred_room(canvas: np.ndarray, k: float, depth: float) -> np.ndarray:
    """The background out of focus, as behind a product shot at a wide aperture."""
    return cv2.GaussianBlur(canvas, (0, 0), depth * k)


# ------------------------------------------------------------------ re-used cases
def bottle_wood(size: int, rng: np.random.Generator) -> np.ndarray:
    return edge_photos.glossy_bottle_wood(size, rng).rgb


def cup_fabric(size: int, rng: np.random.Generator) -> np.ndarray:
    return edge_photos.saucer_fabric(size, rng).rgb


def perfume_studio(size: int, rng: np.random.Generator) -> np.ndarray:
    return edge_photos.perfume_glass(size, rng).rgb


def lotion_marble(size: int, rng: np.random.Generator) -> np.ndarray:
    return edge_photos.cosmetic_marble(size, rng).rgb


# ---------------------------------------------------------------------- new cases
def sneaker_grey(size: int, rng: np.random.Generator) -> np.ndarray:
    """A navy running shoe in side view on a light grey sweep: white midsole, laces, a heel tab."""
    h, w, k = _frame(size, 1.4)
    upper = (
        Shapes(h, w, k)
        .poly(
            [
                (150, 470),
                (158, 340),
                (190, 280),
                (280, 255),
                (350, 300),
                (470, 330),
                (600, 360),
                (720, 395),
                (820, 425),
                (872, 470),
            ]
        )
        .ellipse(815, 452, 62, 26, angle=12)
        .cover()
    )
    collar = Shapes(h, w, k).ellipse(262, 284, 72, 14, angle=-10).cover()
    midsole = (
        Shapes(h, w, k)
        .poly(
            [(132, 455), (300, 468), (600, 476), (830, 462), (884, 488), (876, 528), (150, 532), (128, 498)]
        )
        .cover()
    )
    outsole = Shapes(h, w, k).rect(140, 515, 880, 552, radius=16).cover()
    panel = Shapes(h, w, k).poly([(300, 448), (480, 390), (700, 410), (780, 440), (560, 440)]).cover()
    heel_tab = Shapes(h, w, k).rect(146, 268, 182, 345, radius=10).cover()
    laces = Shapes(h, w, k)
    for i in range(6):
        x = 360 + 38 * i
        laces.line(x, 285 + 11 * i, x + 34, 330 + 11 * i, 9)
    lace = laces.cover()
    c = np.clip(upper + midsole + outsole + heel_tab, 0, 1)

    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    weave = (
        0.06
        * np.sin(np.arange(w, dtype=np.float32)[None, :] / (2.2 * k))
        * np.sin(np.arange(h, dtype=np.float32)[:, None] / (2.2 * k))
    )
    navy = _shaded(upper, (44, 64, 118), 60 * k, gloss=0.12, shininess=12) * (1 + weave)[..., None]
    white = _shaded(midsole, (240, 238, 233), 14 * k, ambient=0.7, gloss=0.15)
    white *= (1.05 - 0.35 * np.clip((yy * h / k - 470) / 60, 0, 1))[..., None]
    rubber = _shaded(outsole, (52, 52, 56), 8 * k, gloss=0.1)
    tread = (np.sin(np.arange(w, dtype=np.float32) / (5 * k)) > 0.3).astype(np.float32)[None, :]
    rubber *= (1 - 0.25 * tread * (yy * h / k > 540))[..., None]
    fg = _paint(
        [
            (outsole, rubber),
            (midsole, white),
            (upper, navy),
            (panel, _shaded(panel, (226, 228, 232), 10 * k, gloss=0.2)),
            (heel_tab, _shaded(heel_tab, (226, 110, 50), 8 * k)),
            (collar, np.full((h, w, 3), 24, np.float32)),
            (lace, _shaded(lace, (236, 236, 236), 3 * k, ambient=0.6)),
        ],
        (h, w),
    )
    bg = studio(h, w, (214, 215, 218), (188, 189, 192))
    dark = np.clip(shadow(c, k, 0, 12, 6, 0.55) + shadow(c, k, 40, 30, 40, 0.2), 0, 0.8)
    return photograph("sneaker_grey", "gallery", fg, bg, c, rng, blur=0.8, dark=dark).rgb


def headphones_shelf(size: int, rng: np.random.Generator) -> np.ndarray:
    """Matte black over-ear headphones standing on a wooden shelf between books, a plant and a frame."""
    h, w, k = _frame(size, 1.2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # The room: a warm wall, books standing on the shelf, a framed print, a plant; out of focus.
    wall = np.asarray((206, 196, 182), np.float32) * (1.05 - 0.25 * xx / w)[..., None]
    wall += (_smooth(h, w, 40 * k, rng) * 3)[..., None]
    room = np.broadcast_to(wall, (h, w, 3)).copy()
    frame = Shapes(h, w, k).rect(520, 40, 760, 300).cover()
    art = Shapes(h, w, k).rect(545, 65, 735, 275).cover()
    room = room * (1 - frame[..., None]) + np.float32(38) * frame[..., None]
    art_rgb = np.dstack([150 + 60 * np.sin(xx / (30 * k)), 170 + 40 * np.cos(yy / (25 * k)), 190 - 0 * xx])
    room = room * (1 - art[..., None]) + art_rgb * art[..., None]
    books = [
        (20, 70, 360, (150, 40, 40)),
        (70, 110, 330, (40, 70, 110)),
        (110, 165, 380, (210, 180, 120)),
        (165, 200, 300, (60, 100, 70)),
        (205, 250, 350, (230, 226, 214)),
    ]
    for x0, x1, top, colour in books:
        book = Shapes(h, w, k).rect(x0, top, x1, 745).cover()
        spine = _shaded(book, colour, 10 * k, ambient=0.6, gloss=0.05)
        band = Shapes(h, w, k).rect(x0, top + 40, x1, top + 60).cover()[..., None]
        spine = spine * (1 - band * 0.5) + 200 * band * 0.5
        room = room * (1 - book[..., None]) + spine * book[..., None]
    pot = Shapes(h, w, k).poly([(845, 600), (965, 600), (950, 745), (860, 745)]).cover()
    room = room * (1 - pot[..., None]) + _shaded(pot, (190, 110, 80), 20 * k)[...] * pot[..., None]
    for _ in range(60):
        cx, cy = rng.uniform(800, 1000), rng.uniform(380, 610)
        leaf = (
            Shapes(h, w, k)
            .ellipse(cx, cy, rng.uniform(25, 45), rng.uniform(9, 14), rng.uniform(0, 180))
            .cover()
        )
        green = np.array([50, 110 + rng.uniform(-25, 35), 45], np.float32) * rng.uniform(0.6, 1.1)
        room = room * (1 - leaf[..., None]) + green * leaf[..., None]
    room = _blurred_room(room, k, 3.5)
    # The shelf: its top seen slightly from above (wood), then its front edge in shade.
    top_y, edge_y = 745 * k, 900 * k
    plank = edge_photos.wood(h, w, k * 0.6, rng) * 0.9
    on_top = ((yy >= top_y) & (yy < edge_y)).astype(np.float32)
    front = (yy >= edge_y).astype(np.float32)
    bg = room * (1 - on_top - front)[..., None] + plank * on_top[..., None] + plank * 0.55 * front[..., None]
    bg *= (1 - 0.25 * np.clip((top_y + 30 * k - yy) / (30 * k), 0, 1) * on_top)[..., None]

    band = Shapes(h, w, k).arc(500, 470, 235, 270, 180, 360, 46).cover()
    cushion = Shapes(h, w, k).arc(500, 478, 212, 248, 200, 340, 26).cover()
    sliders = Shapes(h, w, k).rect(257, 430, 275, 560, radius=4).rect(725, 430, 743, 560, radius=4).cover()
    cups = Shapes(h, w, k).ellipse(275, 635, 78, 118).ellipse(725, 635, 78, 118).cover()
    pads = Shapes(h, w, k).ellipse(318, 640, 32, 106).ellipse(682, 640, 32, 106).cover()
    c = np.clip(band + cushion + sliders + cups + pads, 0, 1)
    shell = _shaded(cups, (36, 36, 40), 70 * k, ambient=0.55, gloss=0.35, shininess=40)
    logo = Shapes(h, w, k).ellipse(275, 635, 24, 24).ellipse(725, 635, 24, 24).cover()[..., None]
    shell = shell * (1 - 0.5 * logo) + 150 * logo * 0.5
    fg = _paint(
        [
            (band, _shaded(band, (40, 40, 44), 20 * k, ambient=0.5, gloss=0.45, shininess=50)),
            (cushion, _shaded(cushion, (28, 28, 30), 12 * k, ambient=0.5, gloss=0.1)),
            (sliders, cylinder(h, w, 255 * k, 277 * k, (185, 188, 195), spec_at=0.35, gloss=0.6)),
            (cups, shell),
            (pads, _shaded(pads, (24, 24, 26), 20 * k, ambient=0.5, gloss=0.08)),
        ],
        (h, w),
    )
    fg = rim_reflection(fg, c, bg, k, 0.25)
    dark = np.clip(shadow(cups, k, 12, 8, 8, 0.6) + shadow(c, k, 60, 20, 30, 0.15), 0, 0.8)
    return photograph("headphones_shelf", "gallery", fg, bg, c, rng, blur=0.9, dark=dark).rgb


def tshirt_hanger(size: int, rng: np.random.Generator) -> np.ndarray:
    """A dusty blue T-shirt on a wooden hanger, hung on a wall hook in soft window light."""
    h, w, k = _frame(size, 1.0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wall = np.asarray((234, 230, 222), np.float32) * (1.04 - 0.12 * (xx / w) - 0.06 * (yy / h))[..., None]
    wall = wall + (_smooth(h, w, 3 * k, rng) * 2.0 + _smooth(h, w, 60 * k, rng) * 3)[..., None]
    knob = Shapes(h, w, k).ellipse(500, 118, 14, 14).cover()
    bg = wall * (1 - knob[..., None]) + _shaded(knob, (170, 130, 60), 10 * k, gloss=0.6) * knob[..., None]

    shirt = (
        Shapes(h, w, k)
        .poly(
            [
                (430, 232),
                (300, 262),
                (170, 330),
                (105, 480),
                (200, 520),
                (258, 430),
                (265, 600),
                (258, 930),
                (500, 950),
                (742, 930),
                (735, 600),
                (742, 430),
                (800, 520),
                (895, 480),
                (830, 330),
                (700, 262),
                (570, 232),
            ]
        )
        .cover()
    )
    inner = Shapes(h, w, k).ellipse(500, 238, 72, 30).cover()
    rib = np.clip(
        Shapes(h, w, k).ellipse(500, 246, 84, 44).cover() - Shapes(h, w, k).ellipse(500, 240, 70, 30).cover(),
        0,
        1,
    )
    rib *= (yy > 238 * k).astype(np.float32)
    bar = Shapes(h, w, k).poly([(488, 222), (512, 222), (520, 240), (480, 240)]).cover()
    hook = Shapes(h, w, k).line(500, 224, 500, 150, 6).arc(500, 128, 22, 22, 0, 200, 6).cover()
    c = np.clip(shirt + hook + bar, 0, 1)

    # Cloth: vertical drape folds that fade towards the shoulders, a soft rounded body, fine knit.
    folds = np.sin(xx / (38 * k) + 1.5 * _smooth(h, w, 80 * k, rng)) * np.clip(
        (yy / k - 420) / 400, 0, 1
    ) + 0.5 * np.sin(xx / (17 * k) + 2.0 * _smooth(h, w, 50 * k, rng)) * np.clip((yy / k - 600) / 300, 0, 1)
    diffuse, spec = relief(shirt, 70 * k, shininess=8)
    knit = 0.03 * np.sin(xx / (1.6 * k)) + 0.02 * rng.normal(0, 1, (h, w)).astype(np.float32)
    lum = (0.55 + 0.45 * diffuse) * (1 + 0.09 * folds + knit) + 0.06 * spec
    # The sleeves cast a little shade on the body below the armpits.
    pit = np.exp(-(((xx / k - 265) / 20) ** 2) - ((yy / k - 470) / 60) ** 2) + np.exp(
        -(((xx / k - 735) / 20) ** 2) - ((yy / k - 470) / 60) ** 2
    )
    lum *= 1 - 0.25 * pit
    cloth = np.asarray((98, 128, 160), np.float32) * lum[..., None]
    fg = _paint(
        [
            (shirt, cloth),
            (inner, np.asarray((60, 78, 98), np.float32) * (0.8 + 0.2 * (yy / h))[..., None]),
            (rib, np.asarray((104, 134, 166), np.float32) * (1 + 0.06 * np.sin(xx / (2 * k)))[..., None]),
            (bar, _shaded(bar, (170, 120, 75), 6 * k, gloss=0.2)),
            (hook, cylinder(h, w, 494 * k, 506 * k, (190, 190, 196), spec_at=0.4, gloss=0.7)),
        ],
        (h, w),
    )
    dark = np.clip(shadow(c, k, 28, 22, 22, 0.3), 0, 0.6)
    return photograph("tshirt_hanger", "gallery", fg, bg, c, rng, blur=0.9, dark=dark).rgb


def serum_white(size: int, rng: np.random.Generator) -> np.ndarray:
    """An amber dropper bottle and a frosted cream jar with a rose-gold lid on a white sweep."""
    h, w, k = _frame(size, 1.25)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    body = Shapes(h, w, k).rect(285, 400, 455, 790, radius=28).cover()
    neck = Shapes(h, w, k).rect(335, 360, 405, 405, radius=6).cover()
    collar = Shapes(h, w, k).rect(322, 300, 418, 365, radius=8).cover()
    bulb = Shapes(h, w, k).ellipse(370, 230, 36, 62).rect(345, 240, 395, 305).cover()
    label = Shapes(h, w, k).rect(285, 520, 455, 690).cover()
    jar = Shapes(h, w, k).rect(520, 600, 790, 790, radius=18).cover()
    lid = Shapes(h, w, k).rect(512, 520, 798, 608, radius=14).cover()
    c = np.clip(body + neck + collar + bulb + jar + lid, 0, 1)

    amber = cylinder(h, w, 285 * k, 455 * k, (150, 78, 24), spec_at=0.25, gloss=0.75)
    amber *= (0.85 + 0.25 * np.clip((yy / k - 400) / 390, 0, 1))[..., None]  # liquid: lighter below
    paper = cylinder(h, w, 285 * k, 455 * k, (244, 240, 232), spec_at=0.25, gloss=0.25) * 0.3 + 0.7 * 240
    text = Shapes(h, w, k).rect(315, 560, 425, 585).rect(330, 610, 410, 620).rect(330, 635, 410, 645).cover()
    paper = paper * (1 - text[..., None]) + 40 * text[..., None]
    frost = cylinder(h, w, 520 * k, 790 * k, (236, 232, 230), spec_at=0.3, gloss=0.2)
    frost += (_smooth(h, w, 1.5 * k, rng) * 2)[..., None]
    rose = cylinder(h, w, 512 * k, 798 * k, (212, 160, 140), spec_at=0.3, gloss=0.65)
    rose *= (1 + 0.05 * np.sin(yy / (2.5 * k)))[..., None]
    fg = _paint(
        [
            (body, amber),
            (label, paper),
            (neck, cylinder(h, w, 335 * k, 405 * k, (120, 60, 20), spec_at=0.3, gloss=0.6)),
            (collar, cylinder(h, w, 322 * k, 418 * k, (30, 30, 32), spec_at=0.3, gloss=0.4)),
            (bulb, _shaded(bulb, (28, 28, 30), 30 * k, gloss=0.35, shininess=25)),
            (jar, frost),
            (lid, rose),
        ],
        (h, w),
    )
    bg = studio(h, w, (252, 252, 251), (238, 238, 237))
    dark = np.clip(shadow(c, k, 10, 6, 6, 0.4) + shadow(c, k, 45, 12, 30, 0.18), 0, 0.7)
    return photograph("serum_white", "gallery", fg, bg, c, rng, blur=0.8, dark=dark).rgb


def mug_kitchen(size: int, rng: np.random.Generator) -> np.ndarray:
    """A speckled cream mug on a butcher-block counter, tiles, jars and a lemon bowl behind it."""
    h, w, k = _frame(size, 1.3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    counter_y = 560 * k
    # Subway tiles with grout, a little uneven, lit from the left.
    tile_w, tile_h = 90 * k, 45 * k
    row = np.floor(yy / tile_h)
    shifted = xx + (row % 2) * tile_w / 2
    grout = ((shifted % tile_w) < 3 * k) | ((yy % tile_h) < 3 * k)
    tiles = np.where(grout[..., None], np.float32(178), np.float32(236)) * np.array(
        [1.0, 0.99, 0.95], np.float32
    )
    tiles = tiles * (1.06 - 0.2 * xx / w)[..., None] + (_smooth(h, w, 30 * k, rng) * 4)[..., None]
    room = tiles
    # Things on the counter at the back: a utensil crock, a lemon bowl, a board, a bottle of oil.
    crock = Shapes(h, w, k).rect(40, 360, 170, 575, radius=12).cover()
    room = (
        room * (1 - crock[..., None])
        + cylinder(h, w, 40 * k, 170 * k, (70, 90, 110), gloss=0.4) * crock[..., None]
    )
    for i, (x0, y0, x1) in enumerate(((70, 150, 82), (100, 180, 110), (130, 140, 142))):
        tool = Shapes(h, w, k).line(x0, y0, x1 + 10 * i, 380, 12).cover()
        room = room * (1 - tool[..., None]) + np.float32(60 + 60 * i) * tool[..., None]
    board = Shapes(h, w, k).rect(760, 180, 930, 575, radius=40).cover()
    hole = Shapes(h, w, k).ellipse(845, 225, 18, 18).cover()
    board = np.clip(board - hole, 0, 1)
    room = room * (1 - board[..., None]) + _shaded(board, (190, 140, 90), 25 * k) * board[..., None]
    bowl = Shapes(h, w, k).ellipse(620, 520, 120, 60).rect(500, 470, 740, 520).cover()
    for cx, cy in ((570, 455), (640, 445), (700, 462), (605, 425)):
        lemon = Shapes(h, w, k).ellipse(cx, cy, 38, 30).cover()
        room = (
            room * (1 - lemon[..., None])
            + _shaded(lemon, (240, 200, 40), 25 * k, gloss=0.3) * lemon[..., None]
        )
    room = room * (1 - bowl[..., None]) + _shaded(bowl, (230, 230, 228), 40 * k, gloss=0.4) * bowl[..., None]
    room = _blurred_room(room, k, 4.0)
    counter = edge_photos.wood(h, w, k * 0.5, rng)
    counter = cv2.resize(counter[:, : w // 2], (w, h))  # long boards, seen low
    counter *= (0.8 + 0.3 * np.clip((yy - counter_y) / (h - counter_y), 0, 1))[..., None]
    bg = np.where((yy < counter_y)[..., None], room, counter)

    body = Shapes(h, w, k).rect(400, 330, 640, 740, radius=22).cover()
    rim = Shapes(h, w, k).ellipse(520, 332, 120, 24).cover()
    inside = Shapes(h, w, k).ellipse(520, 334, 108, 18).cover()
    handle = np.clip(
        Shapes(h, w, k).ellipse(655, 520, 110, 130).cover()
        - Shapes(h, w, k).ellipse(655, 520, 68, 88).cover(),
        0,
        1,
    )
    handle *= (xx > 600 * k).astype(np.float32)
    c = np.clip(body + rim + handle, 0, 1)
    glaze = cylinder(h, w, 400 * k, 640 * k, (238, 228, 210), spec_at=0.28, gloss=0.55)
    dots = (rng.random((h, w)) > 0.996).astype(np.float32)
    specks = cv2.GaussianBlur(dots, (0, 0), 1.2 * k) * 6
    glaze = glaze * (1 - np.clip(specks, 0, 0.6))[..., None]
    foot = np.clip((yy / k - 700) / 40, 0, 1)[..., None]
    glaze = glaze * (1 - foot) + np.asarray((170, 130, 100), np.float32) * foot  # an unglazed foot
    fg = _paint(
        [
            (handle, _shaded(handle, (232, 222, 204), 16 * k, gloss=0.45)),
            (body, glaze),
            (rim, glaze),
            (inside, np.asarray((120, 112, 100), np.float32) * (0.6 + 0.4 * (xx / w))[..., None]),
        ],
        (h, w),
    )
    fg = rim_reflection(fg, c, bg, k, 0.2)
    dark = np.clip(shadow(c, k, 35, 6, 14, 0.45), 0, 0.7) * (yy >= counter_y - 20 * k)
    return photograph("mug_kitchen", "gallery", fg, bg, c, rng, blur=0.9, dark=dark).rgb


@dataclass(frozen=True)
class Case:
    name: str
    product: str
    setting: str
    size: int
    draw: Callable[[int, np.random.Generator], np.ndarray]


CASES: tuple[Case, ...] = (
    Case("bottle_wood", "bottle", "textured", 1100, bottle_wood),
    Case("cup_fabric", "cup and saucer", "textured", 1100, cup_fabric),
    Case("mug_kitchen", "mug", "busy", 1200, mug_kitchen),
    Case("sneaker_grey", "shoe", "plain", 1150, sneaker_grey),
    Case("headphones_shelf", "headphones", "busy", 1150, headphones_shelf),
    Case("serum_white", "cosmetics", "plain", 1000, serum_white),
    Case("perfume_studio", "perfume", "plain", 1000, perfume_studio),
    Case("lotion_marble", "cosmetics", "textured", 1000, lotion_marble),
    Case("tshirt_hanger", "T-shirt", "plain wall", 1100, tshirt_hanger),
)


def make(index: int, size: int | None = None) -> ProductPhoto:
    """Case `index` at its own size (or `size`, for quick tests); deterministic."""
    case = CASES[index]
    rgb = case.draw(size or case.size, np.random.default_rng(1300 + index))
    return ProductPhoto(name=case.name, product=case.product, setting=case.setting, rgb=rgb)
