"""What a photographic set adds to the cutout (issue 13): whole local-engine job vs the cutout alone.

Run: `.venv/bin/python bench/scene_speed.py [--model u2netp|isnet] [--side 1000]`. For each prompt,
a one-image job at side x side (`LocalEngine.submit`: decode, cutout, set, product placement,
harmonisation, PNG encode) is timed next to `cut_out` on the same photo in the same process
(medians after a warm-up); "added" is the difference, the scene's cost on top of the cutout.
Target (issue 13): at most 0.5 s at 1000x1000. Writes bench/results/scene_speed.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPTS = (
    "pink background, soft light, minimal",
    "white marble counter, soft morning light",
    "oak table by a window, warm afternoon sun, leaf shadows",
    "黑色大理石台面，金色逆光，高级感",
    "linen tablecloth, overcast daylight, flat lay",
    "terrazzo, pastel colors, spotlight",
)
REPEATS = 5


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=("u2netp", "isnet"), default="u2netp")
    parser.add_argument("--side", type=int, default=1000)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from local_engine import MODELS, product_photo

    from imaging.cutout import U2NetpSegmenter, cut_out
    from imaging.images import load_image
    from imaging.segmenters import ISNetSegmenter
    from providers.base import GenerationRequest, Operation, ProviderContext
    from providers.local import LocalEngine

    model_bytes = MODELS[args.model].read_bytes()
    segmenter = ISNetSegmenter(model_bytes, memo=0) if args.model == "isnet" else U2NetpSegmenter(model_bytes)
    engine = LocalEngine(ProviderContext(resources={"segmenter": segmenter}))
    photo = product_photo(args.side)
    image = load_image(photo)
    rows = []
    for prompt in PROMPTS:
        request = GenerationRequest(
            operation=Operation.PROMPT_BACKGROUND, image=photo, prompt=prompt, count=1, seed=3
        )
        engine.submit(request)  # warm-up
        cutout, job = [], []
        for _ in range(REPEATS):
            start = time.perf_counter()
            cut_out(image, segmenter=segmenter)
            cutout.append(time.perf_counter() - start)
            start = time.perf_counter()
            update = engine.submit(request).update
            job.append(time.perf_counter() - start)
        assert update is not None
        camera = (update.notes.get("scene_plan") or {}).get("camera")
        cutout_s, job_s = statistics.median(cutout), statistics.median(job)
        rows.append(
            {
                "prompt": prompt,
                "camera": camera,
                "cutout_s": cutout_s,
                "job_s": job_s,
                "added_s": job_s - cutout_s,
            }
        )
        print(
            f"{prompt[:48]:48} {camera or '-':13} cutout {cutout_s * 1000:6.0f} ms"
            f"  job {job_s * 1000:6.0f} ms  added {(job_s - cutout_s) * 1000:5.0f} ms",
            flush=True,
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scene_speed.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
