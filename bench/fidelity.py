"""The product fidelity check (issue 17): precision and recall per flag on the labelled set, the
local engine's own faithful outputs, and the time per check at 1000x1000.

Run: `.venv/bin/python bench/fidelity.py [--size 1000] [--no-ocr] [--no-model] [--sheet PATH]`.
Writes bench/results/fidelity.json; the method and the numbers are in BENCHMARKS.md ("Product
fidelity check").

Three passes over tests/imaging/fidelity_set.py (5 products x 17-18 results, exact masks):

1. exact: the result's product found by its exact mask (what the check decides when the
   segmentation is right), with tesseract reading the labels when it is installed;
2. u2netp: the result segmented by models/u2netp.onnx, as the app calls it (no OCR: same text
   verdicts as pass 1, and the model's time is measured separately);
3. local engine: each product placed by providers.local_scenes' recipes (the real scene
   renderer, harmonisation and shadows), checked against its exact alpha and with u2netp: all
   faithful, so every flag there is a false alarm.

Time per check: `ProductCheck.seconds` at 1000x1000, median and p90, without OCR, with OCR, and
u2netp's segmentation of the result on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imaging.fidelity import (  # noqa: E402
    ProductCheck,
    TextReader,
    check_product,
    model_segmenter,
)
from studio.ocr import make_text_reader  # noqa: E402
from tests.imaging.fidelity_set import (  # noqa: E402
    PRODUCTS,
    Case,
    ExactSegmenter,
    fidelity_set,
    score,
    to_uint8,
    wrong,
)

RESULTS = ROOT / "bench" / "results" / "fidelity.json"
U2NETP = ROOT / "models" / "u2netp.onnx"


def run(
    cases: list[Case], segment: Callable[[np.ndarray], np.ndarray], reader: TextReader | None
) -> list[ProductCheck]:
    return [
        check_product(
            case.original, case.result, original_mask=case.original_mask, segment=segment, read_text=reader
        )
        for case in cases
    ]


def summary(cases: list[Case], checks: list[ProductCheck], *, with_text: bool) -> dict[str, Any]:
    judged = [(c, r) for c, r in zip(cases, checks, strict=True) if with_text or c.change != "text"]
    scores = score([c for c, _ in judged], [r.flags for _, r in judged])
    faithful = [(c, r) for c, r in judged if c.change in ("faithful", "relit", "moved")]
    return {
        "cases": len(judged),
        "faithful_or_relaid_out": len(faithful),
        "faithful_flagged": [f"{c.name}: {','.join(r.flags)}" for c, r in faithful if r.flags],
        "per_flag": {
            flag: {
                "precision": round(s.precision, 3),
                "recall": round(s.recall, 3),
                "true_positive": s.true_positive,
                "false_positive": s.false_positive,
                "false_negative": s.false_negative,
            }
            for flag, s in scores.items()
            if with_text or flag != "text_changed"
        },
        "wrong": [
            f"{c.name}: expected {sorted(c.expected)}, got {list(r.flags)}"
            for c, r in judged
            if wrong(c, r.flags)
        ],
    }


def per_case(cases: list[Case], checks: list[ProductCheck]) -> list[dict[str, Any]]:
    keep = (
        "colour_de",
        "colour_de_region",
        "shape_grown",
        "shape_cut",
        "detail_loss",
        "text_similarity",
        "match_score",
        "scale",
        "align_method",
    )
    return [
        {
            "case": c.name,
            "amount": c.amount,
            "expected": sorted(c.expected),
            "flags": list(r.flags),
            "seconds": round(r.seconds, 3),
        }
        | {key: r.measures.get(key) for key in keep}
        for c, r in zip(cases, checks, strict=True)
    ]


def timing(seconds: list[float]) -> dict[str, float]:
    return {
        "median": round(float(np.median(seconds)), 3),
        "p90": round(float(np.percentile(seconds, 90)), 3),
        "n": len(seconds),
    }


def local_engine(
    size: int, segmenters: dict[str, Callable[[np.ndarray], np.ndarray] | None]
) -> dict[str, Any]:
    """Every product in every local scene recipe, checked with its exact alpha and with u2netp."""
    from imaging.backdrops import render_backdrop
    from imaging.compose import compose
    from imaging.scene import place_product, render_scene
    from providers.local_scene_plan import scene_spec
    from providers.local_scenes import SCENES, scene_compose, scene_style

    outputs = []
    for name, (draw, words, _) in PRODUCTS.items():
        rgba = to_uint8(draw(int(size * 0.55), words))
        for seed, recipe in enumerate(SCENES):
            plan = scene_style(recipe, seed).scene
            if plan is None:
                backdrop = render_backdrop(recipe.backdrop, (size, size), seed=seed)
                placed = compose(rgba, backdrop, scene_compose(recipe))
                rgb, alpha = placed.rgb, placed.alpha
            else:
                spec = scene_spec(plan, plan.viewpoint or "three_quarter", (size, size), seed)
                result = place_product(render_scene(spec, (size, size), seed), rgba, spec, seed)
                rgb, alpha = result.rgb, result.alpha
            outputs.append((f"{name}/{recipe.scene_id}", rgba, rgb, alpha))
    report: dict[str, Any] = {"outputs": len(outputs), "scenes": len(SCENES)}
    for label, segment in segmenters.items():
        flagged, worst = [], 0.0
        for name, rgba, rgb, alpha in outputs:
            check = check_product(rgba, rgb, segment=segment if segment is not None else _fixed(alpha))
            worst = max(worst, float(check.measures.get("colour_de") or 0))
            if check.flags:
                flagged.append(f"{name}: {','.join(check.flags)}")
        report[label] = {
            "flagged": flagged,
            "false_alarm_rate": round(len(flagged) / len(outputs), 3),
            "max_colour_de": worst,
        }
    return report


def _fixed(mask: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: mask


def sheet(cases: list[Case], checks: list[ProductCheck], path: Path, tile: int = 260) -> None:
    """Original | result pairs with the flags raised (red) or none (green), for a look by eye."""
    picks = [i for i, c in enumerate(cases) if c.product in ("bottle", "mug", "jar") and c.change != "relit"]
    panels = []
    for i in picks:
        case, check = cases[i], checks[i]
        pair = np.hstack(
            [
                cv2.resize(case.original, (tile, tile), interpolation=cv2.INTER_AREA),
                cv2.resize(case.result, (tile, tile), interpolation=cv2.INTER_AREA),
            ]
        )
        bar = np.full((44, pair.shape[1], 3), 255, np.uint8)
        ok = not wrong(case, check.flags)
        colour = (0, 130, 0) if not check.flags else (200, 0, 0)
        cv2.putText(
            bar,
            case.name + ("" if ok else "  (WRONG)"),
            (6, 17),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
        cv2.putText(
            bar,
            ", ".join(check.flags) or "faithful",
            (6, 37),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            colour,
            1,
            cv2.LINE_AA,
        )
        panels.append(np.vstack([bar, pair]))
    columns = 4
    while len(panels) % columns:
        panels.append(np.full_like(panels[0], 255))
    rows = [np.hstack(panels[k : k + columns]) for k in range(0, len(panels), columns)]
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def timing_only(size: int, no_ocr: bool) -> None:
    """Wall and CPU seconds per check on the faithful and moved cases (CPU time is what a
    machine shared with other jobs cannot inflate; the wall time on an idle machine is close to
    it, as the check runs mostly on one core)."""
    cases = [c for c in fidelity_set(size) if c.change in ("faithful", "moved")]
    exact = ExactSegmenter(cases)
    reader = None if no_ocr else make_text_reader()
    runs: dict[str, dict[str, list[float]]] = {"without_ocr": {"wall": [], "cpu": []}}
    if reader is not None:
        runs["with_ocr"] = {"wall": [], "cpu": []}
    for case in cases:
        for label, use in (("without_ocr", None), ("with_ocr", reader)):
            if label not in runs:
                continue
            started = time.process_time()
            check = check_product(
                case.original, case.result, original_mask=case.original_mask, segment=exact, read_text=use
            )
            runs[label]["cpu"].append(time.process_time() - started)
            runs[label]["wall"].append(check.seconds)
    report = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {}
    report["timing"] = {
        "load_average_at_start": round(os.getloadavg()[0], 1),
        "cases": len(cases),
        # CPU time of the process, tesseract's subprocesses not included (they are in wall).
        **{label: {kind: timing(values) for kind, values in run.items()} for label, run in runs.items()},
    }
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report["timing"], indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--no-ocr", action="store_true", help="skip the text check (tesseract)")
    parser.add_argument("--no-model", action="store_true", help="skip the u2netp and local engine passes")
    parser.add_argument("--sheet", type=Path, default=Path("/tmp/fidelity_sheet.png"))
    parser.add_argument(
        "--timing-only",
        action="store_true",
        help="only time the checks (wall and CPU) and add that to an existing results file",
    )
    args = parser.parse_args()
    if args.timing_only:
        timing_only(args.size, args.no_ocr)
        return
    load = os.getloadavg()[0]
    started = time.perf_counter()
    cases = fidelity_set(args.size)
    generated = time.perf_counter() - started
    reader = None if args.no_ocr else make_text_reader()
    exact = ExactSegmenter(cases)
    no_text = run(cases, exact, None)
    checks = run(cases, exact, reader) if reader is not None else no_text
    sheet(cases, checks, args.sheet)
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}; load average {load:.1f} at start",
        "size": args.size,
        "cases": len(cases),
        "generate_seconds": round(generated, 1),
        "thresholds": "imaging.fidelity.FidelityThresholds() defaults",
        "exact": summary(cases, checks, with_text=reader is not None),
        "time_without_ocr": timing([r.seconds for r in no_text]),
        "time_with_ocr": timing([r.seconds for r in checks]) if reader is not None else None,
        "ocr": "tesseract eng+chi_sim" if reader is not None else "skipped",
    }
    if not args.no_model and U2NETP.is_file():
        from imaging.cutout import U2NetpSegmenter

        model = U2NetpSegmenter(U2NETP.read_bytes())
        segment = model_segmenter(model)
        seg_seconds = []
        for case in cases[:20]:
            t0 = time.perf_counter()
            segment(case.result)
            seg_seconds.append(time.perf_counter() - t0)
        with_model = run(cases, segment, None)
        report["u2netp"] = summary(cases, with_model, with_text=False)
        report["u2netp"]["time_check_with_segmentation"] = timing([r.seconds for r in with_model])
        report["u2netp"]["time_segmentation_alone"] = timing(seg_seconds)
        report["u2netp_cases"] = per_case(cases, with_model)
        report["local_engine"] = local_engine(min(args.size, 800), {"exact": None, "u2netp": segment})
    elif args.no_model and RESULTS.is_file():
        # Only the exact pass was rerun: keep the model passes and timing of the last full run.
        previous = json.loads(RESULTS.read_text(encoding="utf-8"))
        kept = ("u2netp", "u2netp_cases", "local_engine", "timing")
        report |= {key: previous[key] for key in kept if key in previous}
        report["model_passes_from"] = "the previous full run (--no-model)"
    report["exact_cases"] = per_case(cases, checks)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    brief = {k: v for k, v in report.items() if not k.endswith("_cases")}
    print(json.dumps(brief, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
