"""Batch pipeline benchmark: a 10-item DashScope batch run by the CLI, items prepared just ahead.

Run: `.venv/bin/python bench/batch_pipeline.py [--items 10] [--task-s 2.0] [--poll 0.05]
[--photos cut-out needs-cutout] [--json PATH]` (writes bench/results/batch_pipeline.json by default).

A loopback DashScope emulator (tests/emulators/dashscope.py, in this process) plays the vendor
with its account limits, 1 task in flight and 2 submits a second; every task takes `--task-s`
seconds (no jitter). The batch is `python -m studio batch MANIFEST --provider dashscope ...`,
a subprocess with its own data folder: a CSV manifest of `--items` 640x480 product photos, one
run per kind of photo:
- `cut-out`: PNGs already cut out (transparent background), as bench/batch_throughput.py uses:
  preparing is decoding and re-encoding; what is measured is the pipeline itself;
- `needs-cutout`: JPEGs on a light backdrop, so DashScope's automatic cutout runs for each item
  (the ISNet model when it is installed: 1.6-2.5 s of both cores per photo on the 2-core machine).
The command checks the manifest (headers only), starts the batch, and its worker prepares each
item (decode, cutout, re-encode) just before its turn, a few ahead of the vendor.

Measured, from the bench's clock:
- `first_call_after_start_s`: the first call the emulator sees (the input upload or the submit)
  minus the moment the CLI said "batch ... started" (the batch's start);
- `first_call_after_launch_s`: the same from launching the command;
- `total_s`: launching the command to its exit (CLI start, check, run, download, summary);
- `ratio`: total_s / (items x task_s): 1.0 would be a vendor slot never idle, from the very
  first moment of the command.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.emulators.dashscope import DashScopeEmulator  # noqa: E402

KEY = "sk-bench-0123456789abcdef"
PROMPT = "white marble table, soft window light"
DEFAULT_JSON = ROOT / "bench" / "results" / "batch_pipeline.json"


def product_jpeg(number: int) -> bytes:
    """A product on a light backdrop, no transparency: the cutout has to find it."""
    import numpy as np
    from PIL import Image

    pixels = np.full((480, 640, 3), 235, np.uint8)
    pixels[120:380, 180 + 6 * number : 420 + 6 * number] = (180, (40 + 25 * number) % 256, 40)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def product_png(number: int) -> bytes:
    """A product already cut out (RGBA, transparent background), a little different per item."""
    import numpy as np
    from PIL import Image

    pixels = np.zeros((480, 640, 4), np.uint8)
    pixels[120:380, 180 + 6 * number : 420 + 6 * number] = (180, (40 + 25 * number) % 256, 40, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def write_manifest(folder: Path, items: int, photos: str = "needs-cutout") -> Path:
    (folder / "photos").mkdir(parents=True)
    path = folder / "manifest.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "image"])
        for number in range(items):
            if photos == "cut-out":
                name = f"photos/sku{number:03d}.png"
                (folder / name).write_bytes(product_png(number))
            else:
                name = f"photos/sku{number:03d}.jpg"
                (folder / name).write_bytes(product_jpeg(number))
            writer.writerow([f"SKU-{number:03d}", name])
    return path


def run(
    items: int, task_s: float, poll_s: float, photos: str, checks: str = "on", cutout: str = ""
) -> dict[str, Any]:
    emulator = DashScopeEmulator(
        KEY, queries_to_finish=1, seconds_to_finish=task_s, submit_qps=2.0, max_running=1
    )
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as folder, emulator:
        root = Path(folder)
        manifest = write_manifest(root / "batch", items, photos)
        env = {
            **{
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("STUDIO_", "DASHSCOPE_"))
            },
            "STUDIO_DATA_DIR": str(root / "data"),
            "STUDIO_SECRETS_FILE": str(root / "none.toml"),
            "DASHSCOPE_API_KEY": KEY,
            "DASHSCOPE_BASE_URL": emulator.api_url,
            "DASHSCOPE_POLL_INTERVAL_S": str(poll_s),
            "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
            # The output checks (issue 17) compare each result with its product, as deployed.
            "STUDIO_CHECKS": checks,
            # The automatic cutout's model: "" picks ISNet (best) when its file is there.
            "STUDIO_CUTOUT_MODEL": cutout,
        }
        command = [
            sys.executable, "-m", "studio", "batch", str(manifest),
            "--provider", "dashscope", "--workflow", "prompt", "--prompt", PROMPT, "--name", "pipeline bench",
        ]  # fmt: skip
        started_at: list[float] = []
        lines: list[str] = []
        launched = time.time()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def read_stderr() -> None:
            assert process.stderr is not None
            for raw in process.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                lines.append(line)
                if line.startswith("batch ") and " started" in line and not started_at:
                    started_at.append(time.time())

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        first_call: float | None = None
        while process.poll() is None:
            if first_call is None and emulator.requests:
                first_call = time.time()
            time.sleep(0.005)
        ended = time.time()
        reader.join(5)
        stdout = process.stdout.read().decode() if process.stdout is not None else ""
        summary = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
        tasks = sorted(emulator.tasks.values(), key=lambda task: task.created)
    total = ended - launched
    start = started_at[0] if started_at else float("nan")
    return {
        "photos": photos,
        "items": items,
        "task_s": task_s,
        "poll_interval_s": poll_s,
        "exit_code": process.returncode,
        "succeeded": summary.get("succeeded"),
        "failed": summary.get("failed"),
        "start_after_launch_s": start - launched,
        "first_call_after_start_s": (first_call or float("nan")) - start,
        "first_call_after_launch_s": (first_call or float("nan")) - launched,
        "total_s": total,
        "ideal_s": items * task_s,
        "ratio": total / (items * task_s),
        "vendor_tasks": len(tasks),
        "vendor_busy_s": sum((task.ended or task.created) - task.created for task in tasks),
        "stderr_tail": lines[-3:],
    }


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"{platform.system()}; load average {load:.2f} at start"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--task-s", type=float, default=2.0)
    parser.add_argument("--poll", type=float, default=0.05, help="DashScope status-call interval")
    parser.add_argument(
        "--photos", nargs="+", choices=["cut-out", "needs-cutout"], default=["cut-out", "needs-cutout"]
    )
    parser.add_argument("--checks", choices=("on", "off"), default="on", help="output checks (default on)")
    parser.add_argument(
        "--cutout",
        choices=("", "best", "fast"),
        default="",
        help="cutout model (default: best when installed)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    runs = []
    where = machine()
    for photos in args.photos:
        measured = run(args.items, args.task_s, args.poll, photos, args.checks, args.cutout)
        result = {**measured, "output_checks": args.checks, "cutout_model": args.cutout or "default"}
        print(json.dumps(result, indent=2), flush=True)
        runs.append(result)
    document = {"machine": where, "runs": runs}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if all(result["exit_code"] == 0 for result in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
