"""Manifest scale benchmark: `python -m studio batch M --check` on 1k / 10k / 100k rows.

Run: `.venv/bin/python bench/manifest_scale.py [--rows 1000 10000 100000] [--photos 2000] [--json PATH]`
(writes bench/results/manifest_scale.json by default).

Each size is a CSV manifest (sku, image, prompt) whose rows name product photos next to it: a
pool of `--photos` distinct 800x600 JPEG files (about 25 KB each) used in turn, every row its
own SKU. The command runs as a subprocess with its own data folder, provider dashscope (a key
set, never called: checking makes no vendor call) and the prompt workflow, so every row goes
through the whole check: the header, the row's fields, provider options and limits, that the
photo exists and that its header says an image of a readable size (the photo is not decoded).

Measured per size: wall time of the command (start to exit, interpreter start included), its
peak resident memory (`ru_maxrss` of that process alone, from `os.wait4`), the rows per second,
and that it exited 0 with every row ready. Targets (issue 16): 10,000 rows under 30 s and 1 GB.
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
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "bench" / "results" / "manifest_scale.json"
PROMPT = "white marble table, soft window light"


def photo(number: int) -> bytes:
    import numpy as np
    from PIL import Image

    pixels = np.full((600, 800, 3), 235, np.uint8)
    pixels[150:450, 200 + number % 200 : 500 + number % 200] = (180, number % 256, 40)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def write_photos(folder: Path, count: int) -> list[str]:
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    names = []
    for number in range(count):
        name = f"photos/p{number:05d}.jpg"
        (folder / name).write_bytes(photo(number))
        names.append(name)
    return names


def write_manifest(path: Path, rows: int, photos: list[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "image", "prompt"])
        for number in range(rows):
            writer.writerow([f"SKU-{number:06d}", photos[number % len(photos)], f"{PROMPT} {number % 7}"])


def check(manifest: Path, data_dir: Path) -> dict[str, Any]:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("STUDIO_", "DASHSCOPE_"))},
        "STUDIO_DATA_DIR": str(data_dir),
        "STUDIO_SECRETS_FILE": str(data_dir / "none.toml"),
        "DASHSCOPE_API_KEY": "sk-bench-never-called",
        "DASHSCOPE_BASE_URL": "http://127.0.0.1:9/api/v1",  # loopback; --check makes no call
    }
    command = [
        sys.executable, "-m", "studio", "batch", str(manifest), "--check",
        "--provider", "dashscope", "--workflow", "prompt",
    ]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    stderr = process.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit_code": process.returncode,
        "seconds": elapsed,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "first_line": stderr.splitlines()[0] if stderr else "",
    }


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"{platform.system()}; load average {load:.2f} at start"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--photos", type=int, default=2000, help="distinct photo files the rows name")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    where = machine()
    with tempfile.TemporaryDirectory(prefix="manifest-bench-") as folder:
        root = Path(folder)
        photos = write_photos(root, args.photos)
        for rows in args.rows:
            manifest = root / f"m{rows}.csv"
            write_manifest(manifest, rows, photos)
            data_dir = root / f"data{rows}"
            data_dir.mkdir()
            run = check(manifest, data_dir)
            run |= {
                "rows": rows,
                "manifest_mb": manifest.stat().st_size / 1_048_576,
                "rows_per_s": rows / run["seconds"],
            }
            results.append(run)
            print(json.dumps(run), flush=True)
    document = {"machine": where, "photos": args.photos, "runs": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if all(run["exit_code"] == 0 for run in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
