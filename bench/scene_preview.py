"""A contact sheet of photographic scenes from `imaging.scene`, to judge them by eye, and their timing.

Run: `.venv/bin/python bench/scene_preview.py [--size 600] [--time]`. Writes bench/scene_preview.jpg:
three viewpoints, hard and soft light from several azimuths, a glossy surface, a plate made from a
synthetic "photo" of an empty table, a gobo of blinds, golden hour and overcast. Products are drawn
shapes from tests/imaging/edge_photos.py (their cutout truth as alpha). Textures come from
`imaging.backdrops` (marble, wood, concrete, linen, paper) used as flat top-down texture makers.

`--time` renders a three-quarter scene at 1000x1000 with a simple surface texture maker and
prints the median time of `render_scene` + `place_product` (never asserted in tests).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imaging.backdrops import BackdropSpec, render_backdrop  # noqa: E402
from imaging.scene import Camera, Light, SceneSpec, infer_viewpoint, place_product, render_scene  # noqa: E402
from tests.imaging import edge_photos  # noqa: E402

Maker = Callable[[tuple[int, int], int], np.ndarray]


def texture(kind: str, *colours: tuple[int, int, int], scale: float = 1.0, angle: float = 0.0) -> Maker:
    """A backdrop renderer as a flat texture maker (size, seed) -> float32 0..1."""
    spec = BackdropSpec(kind=kind, colors=colours, scale=scale, angle_deg=angle)  # type: ignore[arg-type]

    def make(size: tuple[int, int], seed: int) -> np.ndarray:
        return render_backdrop(spec, size, seed).astype(np.float32) / np.float32(255.0)

    return make


def simple_texture(size: tuple[int, int], seed: int) -> np.ndarray:
    """A cheap noise texture (the speed target's 'simple surface texture callable')."""
    width, height = size
    rng = np.random.default_rng(seed)
    small = rng.random((max(2, height // 16), max(2, width // 16)), dtype=np.float32)
    plane = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(cv2.merge([0.6 + 0.2 * plane, 0.55 + 0.2 * plane, 0.5 + 0.2 * plane]), 0, 1)


def product(index: int, side: int = 700) -> np.ndarray:
    """An edge-photo case as an RGBA cutout (its exact alpha)."""
    photo = edge_photos.make(index, side)
    return np.dstack([photo.rgb, photo.alpha])


def blinds(size: int = 512) -> np.ndarray:
    """Slanted blinds: bright bands with dark slats."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    bands = 0.5 + 0.5 * np.sin((yy + 0.35 * xx) / size * 2 * np.pi * 7)
    return (bands > 0.15).astype(np.float32)


def plate_photo(width: int = 900, height: int = 700) -> np.ndarray:
    """A synthetic 'photo' of an empty set: a warm wall, a wooden table edge-on, window light."""
    wall = render_backdrop(BackdropSpec(kind="paper", colors=((205, 196, 182),)), (width, height), 3)
    table = render_backdrop(
        BackdropSpec(kind="wood", colors=((170, 120, 80),), angle_deg=0.0), (width, height), 4
    )
    out = wall.astype(np.float32)
    top = int(0.58 * height)
    rows = np.arange(height)[:, None]
    # The table's top recedes: squash the wood vertically into the lower part.
    squashed = cv2.resize(table, (width, height - top), interpolation=cv2.INTER_AREA).astype(np.float32)
    out[top:] = squashed
    out[top : top + 6] *= 0.8
    xx = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    out *= (0.85 + 0.25 * (1 - xx))[..., None] * (0.92 + 0.08 * (rows / height))[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Case:
    label: str
    spec: SceneSpec
    product: int


def cases() -> list[Case]:
    marble = texture("marble", (236, 234, 230), (120, 122, 130))
    wood = texture("wood", (180, 130, 88), angle=0.0)
    concrete = texture("concrete", (170, 168, 162))
    linen = texture("linen", (212, 200, 182))
    paper_wall = texture("paper", (226, 220, 210))
    return [
        Case(
            "3/4 marble, hard light from back-left",
            SceneSpec(
                camera=Camera("three_quarter"),
                light=Light(azimuth_deg=135, elevation_deg=35, softness=0.1, strength=0.7),
                surface=marble,
                wall=paper_wall,
                product_fill=0.62,
            ),
            0,  # glossy bottle
        ),
        Case(
            "3/4 wood, soft light from front-right",
            SceneSpec(
                camera=Camera("three_quarter"),
                light=Light(azimuth_deg=300, elevation_deg=40, softness=0.85, strength=0.6),
                surface=wood,
                wall_colour=(214, 220, 224),
                product_fill=0.5,
            ),
            10,  # cosmetic
        ),
        Case(
            "eye level concrete, low golden sun from left",
            SceneSpec(
                camera=Camera("eye_level"),
                light=Light(
                    azimuth_deg=170, elevation_deg=14, softness=0.15, temperature_k=3200, strength=0.75
                ),
                surface=concrete,
                wall_colour=(222, 214, 200),
                product_fill=0.6,
            ),
            14,  # kettle
        ),
        Case(
            "3/4 sweep, wall close, front light (shadow on the wall)",
            SceneSpec(
                camera=Camera("three_quarter", horizon=0.6),
                light=Light(azimuth_deg=225, elevation_deg=30, softness=0.2, strength=0.7),
                wall_colour=(200, 214, 226),
                surface_colour=(196, 210, 222),
                product_fill=0.7,
            ),
            6,  # perfume
        ),
        Case(
            "3/4 glossy black, right light",
            SceneSpec(
                camera=Camera("three_quarter", focus_blur=0.8),
                light=Light(azimuth_deg=20, elevation_deg=40, softness=0.4, strength=0.7),
                surface=texture("solid", (28, 28, 32)),
                wall_colour=(60, 62, 70),
                surface_gloss=0.8,
                product_fill=0.6,
            ),
            10,
        ),
        Case(
            "flat lay linen, light from top-left",
            SceneSpec(
                camera=Camera("flat_lay"),
                light=Light(azimuth_deg=120, elevation_deg=40, softness=0.3, strength=0.65),
                surface=linen,
                product_fill=0.7,
            ),
            3,  # sunglasses
        ),
        Case(
            "plate photo, line at the table, light from left",
            SceneSpec(
                camera=Camera("eye_level"),
                light=Light(azimuth_deg=160, elevation_deg=35, softness=0.4, strength=0.6),
                plate=plate_photo(),
                plate_surface=(0.2, 0.82, 0.8, 0.82),
                product_fill=0.55,
            ),
            4,  # mug
        ),
        Case(
            "3/4 paper + blinds gobo, hard back-right light",
            SceneSpec(
                camera=Camera("three_quarter"),
                light=Light(
                    azimuth_deg=60,
                    elevation_deg=30,
                    softness=0.05,
                    strength=0.75,
                    pattern=blinds(),
                    pattern_strength=0.7,
                ),
                surface=texture("paper", (232, 226, 216)),
                wall_colour=(230, 224, 214),
                product_fill=0.55,
            ),
            0,
        ),
        Case(
            "3/4 overcast 7000 K, very soft",
            SceneSpec(
                camera=Camera("three_quarter"),
                light=Light(
                    azimuth_deg=100, elevation_deg=60, softness=1.0, temperature_k=7000, strength=0.5
                ),
                surface=concrete,
                wall=texture("concrete", (190, 190, 186)),
                product_fill=0.6,
            ),
            4,
        ),
    ]


def sheet(size: int) -> np.ndarray:
    tiles = []
    for index, case in enumerate(cases()):
        rgba = product(case.product)
        canvas = render_scene(case.spec, (size, size), seed=index)
        result = place_product(canvas, rgba, case.spec, seed=index)
        tile = cv2.cvtColor(result.rgb, cv2.COLOR_RGB2BGR)
        text = f"{case.label} [{infer_viewpoint(rgba)}]"
        cv2.putText(tile, text, (8, size - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(
            tile, text, (8, size - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA
        )
        tiles.append(tile)
    rows = [np.hstack(tiles[i : i + 3]) for i in range(0, len(tiles), 3)]
    return np.vstack(rows)


def timing(repeats: int = 7) -> None:
    spec = SceneSpec(
        camera=Camera("three_quarter"),
        light=Light(azimuth_deg=135, elevation_deg=35, softness=0.4),
        surface=simple_texture,
        surface_gloss=0.3,
    )
    rgba = product(0, 1000)
    for viewpoint in ("three_quarter", "eye_level", "flat_lay"):
        spec_v = SceneSpec(
            camera=Camera(viewpoint),
            light=spec.light,
            surface=spec.surface,
            surface_gloss=spec.surface_gloss,
        )
        renders, places = [], []
        for seed in range(repeats + 1):
            t0 = time.perf_counter()
            canvas = render_scene(spec_v, (1000, 1000), seed)
            t1 = time.perf_counter()
            place_product(canvas, rgba, spec_v, seed)
            t2 = time.perf_counter()
            if seed:  # the first run warms caches
                renders.append(t1 - t0)
                places.append(t2 - t1)
        texture_times = []
        for seed in range(repeats):
            t0 = time.perf_counter()
            simple_texture((1000, 1000), seed)
            texture_times.append(time.perf_counter() - t0)
        render, place = statistics.median(renders), statistics.median(places)
        print(
            f"{viewpoint:14s} 1000x1000: render_scene {render * 1000:.0f} ms + place_product "
            f"{place * 1000:.0f} ms = {(render + place) * 1000:.0f} ms "
            f"(texture maker alone, 1 Mpx: {statistics.median(texture_times) * 1000:.0f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=600)
    parser.add_argument("--time", action="store_true")
    args = parser.parse_args()
    if args.time:
        timing()
        return
    out = ROOT / "bench" / "scene_preview.jpg"
    cv2.imwrite(str(out), sheet(args.size), [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
