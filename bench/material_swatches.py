"""Contact sheet of every material and light pattern, to judge them by eye at 100 %, plus timings.

Run: `.venv/bin/python bench/material_swatches.py [--size 512] [--px-per-cm 10] [--seed 1]
[--only marble wood ...] [--out bench/material_swatches.jpg] [--time]`. Each material is rendered at
`--size` px square (at 10 px/cm a 512 px swatch is 51 cm of surface), each light pattern likewise,
labelled, and written as one JPEG sheet. `--time` also prints the median render time of every
material and pattern at 1024x1024 (five runs after one warm-up).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imaging.light_patterns import LIGHT_PATTERNS, render_light_pattern  # noqa: E402
from imaging.materials import MATERIAL_KINDS, render_material  # noqa: E402

LABEL_HEIGHT = 26
COLUMNS = 4


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    band = np.full((LABEL_HEIGHT, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (30, 30, 30), 1, cv2.LINE_AA)
    return np.vstack([band, tile])


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def sheet(kinds: list[str], patterns: list[str], size: int, px_per_cm: float, seed: int) -> np.ndarray:
    tiles = []
    for kind in kinds:
        tile = _to_uint8(render_material(kind, (size, size), seed, px_per_cm=px_per_cm))  # type: ignore[arg-type]
        tiles.append(_label(tile, f"{kind}  ({size / px_per_cm:.0f} cm wide)"))
    for pattern in patterns:
        light = render_light_pattern(pattern, (size, size), seed)  # type: ignore[arg-type]
        tile = _to_uint8(np.repeat(light[..., None], 3, axis=2))
        tiles.append(_label(tile, f"light: {pattern}"))
    blank = np.full_like(tiles[0], 255)
    rows = []
    for start in range(0, len(tiles), COLUMNS):
        row = tiles[start : start + COLUMNS]
        row += [blank] * (COLUMNS - len(row)) if len(tiles) > COLUMNS else []
        rows.append(np.hstack([np.pad(t, ((4, 4), (4, 4), (0, 0)), constant_values=255) for t in row]))
    return np.vstack(rows)


def timings(kinds: list[str], patterns: list[str]) -> None:
    """Median and best of five renders at 1024x1024 after a warm-up (the best is the least
    disturbed by other work on a shared machine)."""

    def measure(render: Callable[[], object]) -> tuple[float, float]:
        render()
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            render()
            runs.append((time.perf_counter() - start) * 1000.0)
        return statistics.median(runs), min(runs)

    for kind in kinds:
        median, best = measure(partial(render_material, kind, (1024, 1024), 7))  # type: ignore[arg-type]
        print(f"material {kind:9s} 1024x1024: median {median:6.1f} ms, best {best:6.1f} ms")
    for pattern in patterns:
        median, best = measure(partial(render_light_pattern, pattern, (1024, 1024), 7))  # type: ignore[arg-type]
        print(f"light    {pattern:9s} 1024x1024: median {median:6.1f} ms, best {best:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--px-per-cm", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="materials or patterns to show (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "material_swatches.jpg")
    parser.add_argument("--time", action="store_true", help="print render times at 1024x1024")
    args = parser.parse_args()
    kinds = [k for k in MATERIAL_KINDS if not args.only or k in args.only]
    patterns = [p for p in LIGHT_PATTERNS if p != "none" and (not args.only or p in args.only)]
    if not kinds and not patterns:
        parser.error(f"nothing matches --only {' '.join(args.only)}")
    image = sheet(kinds, patterns, args.size, args.px_per_cm, args.seed)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    # JPEG keeps the sheet well under 1.5 MB; a PNG of photographic textures is ~10x larger.
    jpeg = args.out.suffix.lower() in (".jpg", ".jpeg")
    cv2.imwrite(str(args.out), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90] if jpeg else [])
    print(f"wrote {args.out} ({image.shape[1]}x{image.shape[0]})")
    if args.time:
        timings(kinds, patterns)


if __name__ == "__main__":
    main()
