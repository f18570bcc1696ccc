"""Local engine benchmark: whole pipeline per image next to bare model inference, and peak memory.

Run: `.venv/bin/python bench/local_engine.py [--model u2netp isnet]` (default: both models whose
file is in models/; writes bench/results/local_engine.json). Each model and size runs in a fresh
child process so its peak RSS (ru_maxrss, taken after the single-image runs) belongs to it alone.
ISNet's memory of recent maps is off here, so every job really runs the model. "Per image of 4" is a 4-variant job's time
divided by 4: the cutout is done once per job, backdrop, compose and encode per variant. Times are medians of several runs after a warm-up; the figure that
matters is the ratio pipeline / inference measured in the same process.
Targets (issue 2): pipeline <= 1.5x inference at 1000x1000; peak < 1.5 GB at 3000x3000.
Targets (issue 12): pipeline <= 1.3x the chosen model's inference at 1000x1000; with ISNet,
peak < 2 GB at 3000x3000.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = (1000, 3000)
REPEATS = {1000: 7, 3000: 3}


def product_photo(side: int) -> bytes:
    """A studio-like product photo: a shaded bottle with a handle hole on a light gradient."""
    import cv2
    import numpy as np

    from imaging.images import encode_png

    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    background = (225 + 20 * yy)[..., None] * np.array([1.0, 0.99, 0.97], np.float32)
    image = np.clip(background, 0, 255).astype(np.uint8)
    body = np.zeros((side, side), np.uint8)
    cv2.ellipse(body, (side // 2, side // 2), (side // 5, side // 3), 0, 0, 360, 255, -1)
    cv2.circle(body, (side // 2 + side // 4, side // 2), side // 10, 255, -1)
    cv2.circle(body, (side // 2 + side // 4, side // 2), side // 18, 0, -1)
    shade = (0.55 + 0.45 * (1 - xx))[..., None] * np.array([200, 60, 40], np.float32)
    image[body > 0] = shade[body > 0].astype(np.uint8)
    return encode_png(image)


MODELS = {"u2netp": ROOT / "models" / "u2netp.onnx", "isnet": ROOT / "models" / "isnet.onnx"}


def measure(side: int, model: str = "u2netp") -> dict[str, float | str]:
    import numpy as np

    from imaging.cutout import U2NetpSegmenter
    from imaging.images import load_image
    from imaging.segmenters import ISNetSegmenter
    from providers.base import GenerationRequest, Operation, ProviderContext
    from providers.local import LocalEngine

    model_bytes = MODELS[model].read_bytes()
    segmenter = ISNetSegmenter(model_bytes, memo=0) if model == "isnet" else U2NetpSegmenter(model_bytes)
    del model_bytes
    engine = LocalEngine(ProviderContext(resources={"segmenter": segmenter}))
    photo = product_photo(side)
    rgb = np.ascontiguousarray(load_image(photo).rgba[..., :3])
    request = GenerationRequest(
        operation=Operation.PROMPT_BACKGROUND,
        image=photo,
        # The marketplace main image: product on pure white, the path where the cutout is the job
        # (a photographic set adds its own time, measured by bench/scene_speed.py).
        prompt="pure white background",
        count=1,
        params={"layout": "center", "fill": 0.8, "margin": 0.05, "shadow": "contact"},
    )
    baseline_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    four = replace(request, count=4)
    segmenter.infer(rgb)  # warm-up every path
    engine.submit(request)
    inference, pipeline, per_image_of_four = [], [], []
    for _ in range(REPEATS[side]):
        start = time.perf_counter()
        segmenter.infer(rgb)
        inference.append(time.perf_counter() - start)
        start = time.perf_counter()
        engine.submit(request)
        pipeline.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for _ in range(max(2, REPEATS[side] // 2)):
        start = time.perf_counter()
        engine.submit(four)
        per_image_of_four.append((time.perf_counter() - start) / 4)
    infer_s = statistics.median(inference)
    return {
        "model": model,
        "side": side,
        "inference_s": infer_s,
        "pipeline_s": statistics.median(pipeline),
        "ratio": statistics.median(pipeline) / infer_s,
        "per_image_of_4_s": statistics.median(per_image_of_four),
        "ratio_per_image_of_4": statistics.median(per_image_of_four) / infer_s,
        "rss_after_setup_mb": baseline_rss_mb,
        "peak_rss_mb": peak_mb,
    }


def main() -> int:
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        print(__doc__)
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure(int(sys.argv[2]), sys.argv[3])))
        return 0
    models = sys.argv[2:] if len(sys.argv) > 2 and sys.argv[1] == "--model" else list(MODELS)
    results = []
    for model in models:
        if not MODELS[model].is_file():
            print(f"skipping {model}: {MODELS[model]} is missing", file=sys.stderr)
            continue
        for side in SIZES:
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(side), model],
                capture_output=True,
                text=True,
                check=True,
            )
            results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "local_engine.json").write_text(json.dumps(results, indent=2))
    print(
        f"{'model':>7} {'size':>10} {'inference':>10} {'1-image job':>12} {'ratio':>6} {'per image of 4':>15} {'ratio':>6} {'peak RSS':>9}"
    )
    for row in results:
        print(
            f"{row['model']:>7} {row['side']:>5}x{row['side']:<4} {row['inference_s'] * 1000:>8.0f}ms {row['pipeline_s'] * 1000:>10.0f}ms"
            f" {row['ratio']:>6.2f} {row['per_image_of_4_s'] * 1000:>13.0f}ms {row['ratio_per_image_of_4']:>6.2f}"
            f" {row['peak_rss_mb']:>7.0f}MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
