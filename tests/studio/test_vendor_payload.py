"""What is checked is what is sent: the CLI's `--fit`, the job's stored inputs and what the vendor got.

The Tencent emulator downloads the published links like the service does and
keeps what it read (`downloads`), refusing an image over 6 MB as base64 with
`ImageSizeExceed`; these tests compare it byte for byte with the job's stored
files, and check that an input that does not fit never reaches any vendor.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from providers.base import GenerationRequest, Limits, Operation
from providers.payload import build_payload
from providers.tencent_aiart import TencentAiart
from studio.hosting import HostedFile
from studio.input_links import SENT_NOTE, InputLinkError, InputLinks
from tests.studio import test_cli_vendors
from tests.studio.test_cli_vendors import PROMPT, Vendors, run_cli_env

TENCENT = TencentAiart.limits[Operation.PROMPT_BACKGROUND]
SIX_MB = 6 * 1024 * 1024
# The emulators (Tencent, input hosting on a served folder) the CLI tests use.
vendors = test_cli_vendors.vendors


def noisy_png(path: Path, size: tuple[int, int]) -> bytes:
    rng = np.random.default_rng(11)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, "PNG", compress_level=1)
    return path.read_bytes()


def mask_png(path: Path, size: tuple[int, int]) -> None:
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[size[1] // 4 : 3 * size[1] // 4, size[0] // 4 : 3 * size[0] // 4] = 255
    Image.fromarray(mask).save(path, "PNG")


def tencent(v: Vendors, *args: str) -> Any:
    env = {**v.tencent_env, **v.hosting_env}
    base = ["generate", "--workflow", "prompt", "--provider", "tencent_aiart", "--prompt", PROMPT]
    return run_cli_env(v.workdir, env, *base, *args)


def job(v: Vendors, job_id: str) -> dict[str, Any]:
    shown = run_cli_env(v.workdir, {}, "jobs", "show", job_id, "--json")
    assert shown.returncode == 0, shown.stderr
    result: dict[str, Any] = json.loads(shown.stdout)
    return result


def test_a_14_mb_png_is_refused_before_any_call_without_fit(vendors: Vendors) -> None:
    v = vendors
    assert len(noisy_png(v.workdir / "big.png", (2600, 1900))) > 14_000_000
    done = tencent(v, "--image", "big.png")
    assert done.returncode == 2, done.stderr
    assert "once base64-encoded" in done.stderr and "--fit" in done.stderr and "Traceback" not in done.stderr
    assert v.tencent.requests == [] and v.tencent.downloads == []
    assert list(v.publish_dir.iterdir()) == []


def test_a_14_mb_png_with_fit_sends_exactly_the_fitted_file(vendors: Vendors) -> None:
    v = vendors
    noisy_png(v.workdir / "big.png", (2600, 1900))
    done = tencent(v, "--image", "big.png", "--fit")
    assert done.returncode == 0, done.stderr
    assert "re-encoded as JPEG" in done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded", result["error"]
    assert [call.outcome for call in v.tencent.requests] == ["ok"]  # one paid call, never refused

    stored = job(v, result["job_id"])
    sent = Path(stored["input_path"]).read_bytes()
    assert Path(stored["input_path"]).name == "input.jpg" and sent[:2] == b"\xff\xd8"
    (downloaded,) = v.tencent.downloads
    assert downloaded == ("ProductUrl", sent)  # what Tencent read is what was checked and stored
    assert len(base64.b64encode(sent)) < SIX_MB


def test_fit_fits_the_photo_and_its_mask_together(vendors: Vendors) -> None:
    v = vendors
    noisy_png(v.workdir / "photo.png", (1600, 1200))
    mask_png(v.workdir / "mask.png", (1600, 1200))
    refused = tencent(v, "--image", "photo.png", "--mask", "mask.png")
    assert refused.returncode == 2 and "--fit" in refused.stderr and v.tencent.requests == []

    done = tencent(v, "--image", "photo.png", "--mask", "mask.png", "--fit")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded", result["error"]
    stored = job(v, result["job_id"])
    photo, mask = Path(stored["input_path"]).read_bytes(), Path(stored["mask_path"]).read_bytes()
    with Image.open(io.BytesIO(photo)) as fitted, Image.open(io.BytesIO(mask)) as stored_mask:
        assert fitted.size == stored_mask.size and max(fitted.size) < 1600
    expected = build_payload(TENCENT, photo, mask)
    assert expected.mask is not None
    assert v.tencent.downloads == [("ProductUrl", photo), ("MaskUrl", expected.mask.data)]
    assert all(len(base64.b64encode(data)) < SIX_MB for _, data in v.tencent.downloads)


# ------------------------------------------------------------------ send time
@dataclass
class RecordingHost:
    """An input host that only records what it was asked to publish."""

    published: list[tuple[bytes, str, str]]
    label: str = "recording"

    def publish(self, data: bytes, *, suffix: str, content_type: str) -> HostedFile:
        self.published.append((data, suffix, content_type))
        number = len(self.published)
        return HostedFile(url=f"https://example.test/{number}", handle=f"h{number}", expires_at=None)

    def remove(self, handle: str) -> None:
        pass

    def check(self) -> None:
        pass


def _request(image: bytes, mask: bytes | None = None) -> GenerationRequest:
    return GenerationRequest(Operation.PROMPT_BACKGROUND, image, mask=mask, prompt="beach")


def test_a_stored_input_that_does_not_fit_is_never_published(tmp_path: Path) -> None:
    # A job created before these checks, or a file changed on disk: refused before any link or call.
    big = noisy_png(tmp_path / "big.png", (2600, 1900))
    host = RecordingHost([])
    with pytest.raises(InputLinkError) as caught:
        InputLinks(host).publish(_request(big), TENCENT, "Tencent Cloud aiart")
    assert caught.value.code == "input_does_not_fit" and "Nothing was sent" in caught.value.message
    assert host.published == []


def test_published_files_are_the_checked_payload(tmp_path: Path) -> None:
    photo = noisy_png(tmp_path / "photo.png", (500, 400))
    mask_png(tmp_path / "mask.png", (500, 400))
    mask = (tmp_path / "mask.png").read_bytes()
    host = RecordingHost([])
    published = InputLinks(host).publish(_request(photo, mask), TENCENT, "Tencent")
    payload = build_payload(TENCENT, photo, mask)
    assert payload.mask is not None
    assert host.published == [(photo, "png", "image/png"), (payload.mask.data, "png", "image/png")]
    assert published.sent_mask == payload.mask.data
    assert published.notes[SENT_NOTE] == {
        "format": "PNG",
        "size": [500, 400],
        "bytes": len(photo),
        "mask_bytes": len(payload.mask.data),
    }
    jpeg_limits = Limits(formats=frozenset({"JPEG"}), needs_urls=True)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo)).save(buffer, "JPEG", quality=90)
    InputLinks(host).publish(_request(buffer.getvalue()), jpeg_limits, "X")
    assert host.published[-1] == (buffer.getvalue(), "jpg", "image/jpeg")
