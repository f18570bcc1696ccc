"""Edge quality of the cutout (issue 12): halo, fringe, body and IoU on photos with exact truths.

Run: `.venv/bin/python bench/edge_quality.py [--model u2netp isnet] [--split tune|held_out|all]
[--sheet] [--before REV]`. Writes bench/results/edge_quality.json and, with --sheet, the contact
sheet bench/edge_quality_sheet.png (edge crops at 100 %: photo, before, after on white).
`--make` (re)writes the set in bench/edge_set/ from tests/imaging/edge_photos.py (JPEG photos, PNG
truths, manifest.json with each image's split); the measures read the files, so anyone reruns them.

Each image is cut out by the model's map and a refinement, composed on pure white in place, and
scored with `imaging.quality.edge_scores` (halo 2..5 px outside the true edge vs white, fringe
2..4 px inside vs the photo, body beyond 4 px inside vs the photo; mean absolute difference per
channel, 0..255) and the IoU of alpha >= 128. "before" is `imaging/cutout.py` as it was at
--before (default: the commit the work started from), loaded from git; "after" is the working tree.
A model whose file is missing under models/ is skipped. Targets (issue 12): mean IoU >= 0.975 with
none under 0.92, halo <= 4, fringe <= 8, body <= 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imaging import cutout as after_module  # noqa: E402
from imaging.images import load_image  # noqa: E402
from imaging.quality import edge_scores, iou, on_white  # noqa: E402

SET_DIR = ROOT / "bench" / "edge_set"
BEFORE_REV = "5d7af4bc5a30fef3dcd07488ca72690640c742bb"
MODEL_FILES = {"u2netp": ROOT / "models" / "u2netp.onnx", "isnet": ROOT / "models" / "isnet.onnx"}
CROP = 160  # contact-sheet crop side, at 100 %


def make_set() -> None:
    from tests.imaging import edge_photos

    SET_DIR.mkdir(parents=True, exist_ok=True)
    manifest = []
    for index in range(edge_photos.case_count()):
        photo = edge_photos.make(index)
        cv2.imwrite(
            str(SET_DIR / f"{photo.name}.jpg"),
            cv2.cvtColor(photo.rgb, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 95],
        )
        cv2.imwrite(str(SET_DIR / f"{photo.name}.png"), photo.alpha)
        manifest.append({"name": photo.name, "split": photo.split, "size": list(photo.rgb.shape[1::-1])})
        print(f"wrote {photo.name} {photo.rgb.shape[1]}x{photo.rgb.shape[0]} ({photo.split})")
    (SET_DIR / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def load_set(split: str) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    manifest = json.loads((SET_DIR / "manifest.json").read_text())
    out = []
    for item in manifest:
        if split != "all" and item["split"] != split:
            continue
        rgb = load_image((SET_DIR / f"{item['name']}.jpg").read_bytes()).rgb
        truth = cv2.imread(str(SET_DIR / f"{item['name']}.png"), cv2.IMREAD_GRAYSCALE)
        assert truth is not None, f"{item['name']}.png is missing from {SET_DIR}"
        out.append((item["name"], item["split"], np.ascontiguousarray(rgb), truth))
    return out


def before_module(rev: str) -> ModuleType:
    """imaging/cutout.py as it was at `rev`, loaded from git under another module name."""
    source = subprocess.run(
        ["git", "show", f"{rev}:imaging/cutout.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    spec = importlib.util.spec_from_loader("cutout_before", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cutout_before"] = module  # dataclasses look their module up
    exec(compile(source, f"{rev[:7]}:imaging/cutout.py", "exec"), module.__dict__)
    return module


def load_segmenter(name: str) -> Any | None:
    path = MODEL_FILES[name]
    if not path.exists():
        print(f"skipping {name}: {path.relative_to(ROOT)} is missing", file=sys.stderr)
        return None
    if name == "u2netp":
        return after_module.U2NetpSegmenter(path.read_bytes())
    segmenters = importlib.import_module("imaging.segmenters")
    for attribute in ("ISNetSegmenter", "IsNetSegmenter", "ISNet"):
        if hasattr(segmenters, attribute):
            return getattr(segmenters, attribute)(path.read_bytes())
    print(f"skipping {name}: no ISNet segmenter class in imaging.segmenters", file=sys.stderr)
    return None


class CachedMap:
    """The model's map for one photo, computed once and shared by before and after."""

    def __init__(self, segmenter: Any, rgb: np.ndarray) -> None:
        self.name = segmenter.name
        # Whether the model fills holes it should see (u2netp) or keeps them (ISNet): cut_out asks.
        self.fills_holes = getattr(segmenter, "fills_holes", True)
        start = time.perf_counter()
        self._raw = np.asarray(segmenter.predict(rgb), np.float32)
        self.seconds = time.perf_counter() - start

    def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        if size is None or size == (self._raw.shape[1], self._raw.shape[0]):
            return self._raw
        return np.asarray(cv2.resize(self._raw, size, interpolation=cv2.INTER_AREA), np.float32)


def score(rgba: np.ndarray, rgb: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    scores = edge_scores(on_white(rgba), rgb, truth)
    return {
        "iou": iou(rgba[..., 3], truth),
        "halo": scores.halo,
        "fringe": scores.fringe,
        "body": scores.body,
    }


def edge_crops(truth: np.ndarray, count: int = 2) -> list[tuple[int, int]]:
    """Top-left corners of `count` crops centred on the true edge, far apart, most curved first."""
    mask = (truth >= 128).astype(np.uint8)
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(edge)
    h, w = truth.shape
    picks: list[tuple[int, int]] = []
    rng = np.random.default_rng(0)
    order = rng.permutation(ys.size)
    for index in order:
        y, x = int(ys[index]), int(xs[index])
        y0, x0 = min(max(0, y - CROP // 2), h - CROP), min(max(0, x - CROP // 2), w - CROP)
        if all(abs(y0 - a) + abs(x0 - b) > 2 * CROP for a, b in picks):
            picks.append((y0, x0))
        if len(picks) == count:
            break
    return picks


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--make", action="store_true", help="(re)write bench/edge_set/ and stop")
    parser.add_argument(
        "--model", nargs="+", choices=sorted(MODEL_FILES), default=sorted(MODEL_FILES, reverse=True)
    )
    parser.add_argument("--split", choices=("tune", "held_out", "all"), default="all")
    parser.add_argument("--before", default=BEFORE_REV, help="git revision of the 'before' refinement")
    parser.add_argument("--sheet", action="store_true", help="write bench/edge_quality_sheet.png")
    parser.add_argument("--only", nargs="*", default=None, help="image names to run (default: all)")
    args = parser.parse_args()
    if args.make:
        make_set()
        return 0

    before = before_module(args.before)
    images = load_set(args.split)
    if args.only:
        images = [item for item in images if item[0] in args.only]
    results: list[dict[str, Any]] = []
    sheet_rows: list[np.ndarray] = []
    for model_name in args.model:
        segmenter = load_segmenter(model_name)
        if segmenter is None:
            continue
        for name, split, rgb, truth in images:
            cached = CachedMap(segmenter, rgb)
            image = load_image(cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes())
            row: dict[str, Any] = {
                "model": model_name,
                "image": name,
                "split": split,
                "infer_s": cached.seconds,
            }
            outputs = {}
            for label, module in (("before", before), ("after", after_module)):
                start = time.perf_counter()
                cut = module.cut_out(image, segmenter=cached)
                row[f"{label}_s"] = time.perf_counter() - start
                row[label] = score(cut.rgba, rgb, truth)
                outputs[label] = on_white(cut.rgba)
            results.append(row)
            b, a = row["before"], row["after"]
            print(
                f"{model_name:7} {split:8} {name:22} IoU {b['iou']:.3f}->{a['iou']:.3f}  halo {b['halo']:5.1f}->{a['halo']:5.1f}"
                f"  fringe {b['fringe']:5.1f}->{a['fringe']:5.1f}  body {b['body']:4.1f}->{a['body']:4.1f}"
                f"  refine {row['before_s'] * 1000:4.0f}->{row['after_s'] * 1000:4.0f} ms",
                flush=True,
            )
            if args.sheet:
                for y0, x0 in edge_crops(truth, 1):
                    crop = np.s_[y0 : y0 + CROP, x0 : x0 + CROP]
                    tiles = [rgb[crop], outputs["before"][crop], outputs["after"][crop]]
                    gap = np.full((CROP, 4, 3), 128, np.uint8)
                    line = np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1)
                    caption = np.full((18, line.shape[1], 3), 255, np.uint8)
                    cv2.putText(
                        caption,
                        f"{model_name} {name} photo | before | after",
                        (2, 13),
                        cv2.FONT_HERSHEY_SIMPLEX,
                        0.4,
                        (0, 0, 0),
                        1,
                        cv2.LINE_AA,
                    )
                    sheet_rows.append(np.concatenate([caption, line], axis=0))

    print_summary(results)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "edge_quality.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.sheet and sheet_rows:
        columns = 2
        while len(sheet_rows) % columns:
            sheet_rows.append(np.full_like(sheet_rows[0], 255))
        pairs = [
            np.concatenate([sheet_rows[i + j] for j in range(columns)], axis=1)
            for i in range(0, len(sheet_rows), columns)
        ]
        sheet = np.concatenate(pairs, axis=0)
        cv2.imwrite(str(ROOT / "bench" / "edge_quality_sheet.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return 0


def print_summary(results: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'model':7} {'split':8} {'':6} {'mean IoU':>8} {'min IoU':>8} {'halo':>6} {'fringe':>7} {'body':>6} {'refine ms':>9}"
    )
    for model in sorted({r["model"] for r in results}):
        for split in ("tune", "held_out"):
            rows = [r for r in results if r["model"] == model and r["split"] == split]
            if not rows:
                continue
            for label in ("before", "after"):
                ious = [r[label]["iou"] for r in rows]
                print(
                    f"{model:7} {split:8} {label:6} {np.mean(ious):8.3f} {min(ious):8.3f}"
                    f" {np.mean([r[label]['halo'] for r in rows]):6.1f} {np.mean([r[label]['fringe'] for r in rows]):7.1f}"
                    f" {np.mean([r[label]['body'] for r in rows]):6.2f} {np.median([r[f'{label}_s'] for r in rows]) * 1000:9.0f}"
                )


if __name__ == "__main__":
    raise SystemExit(main())
