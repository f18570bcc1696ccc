"""providers.payload: every vendor limit measured on the bytes actually sent, with inputs just over it.

Each limit is tested at its boundary with the adapters' own `Limits` (so a limit
that drifts from the vendor's document fails here), and every fix is checked
the way the send checks it: the fixed files, checked again, give the same
payload and no problem.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from providers.aidge import Aidge
from providers.aliyun_market import AliyunMarket
from providers.base import Limits, Operation
from providers.dashscope import DashScope
from providers.errors import InputRejectedError
from providers.payload import build_payload, check_payload, payload_or_refuse
from providers.tencent_aiart import TencentAiart

TENCENT = TencentAiart.limits[Operation.PROMPT_BACKGROUND]
AIDGE = Aidge.limits[Operation.SCENE_BACKGROUND]
AIDGE_MODEL = Aidge.limits[Operation.MODEL_SWAP]
MARKET = AliyunMarket.limits[Operation.PROMPT_BACKGROUND]
DASHSCOPE = DashScope.limits[Operation.PROMPT_BACKGROUND]
MIB = 1024 * 1024


def flat(width: int, height: int, mode: str = "RGB") -> bytes:
    colour = (200, 120, 40, 255)[: len(mode)]
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def noisy(width: int, height: int, *, alpha: bool = False, seed: int = 5) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 4 if alpha else 3), dtype=np.uint8)
    if alpha:
        pixels[..., 3] = 255
        pixels[: height // 4, :, 3] = 0  # a transparent band: real transparency
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def padded_png(total: int, width: int = 600, height: int = 600) -> bytes:
    """A valid PNG of exactly `total` bytes: a flat picture plus a private ancillary chunk of padding
    (decoders skip it), so a byte limit can be tested to the byte."""
    small = flat(width, height)
    pad = total - len(small) - 12
    assert pad >= 0
    chunk = struct.pack(">I", pad) + b"prVt" + bytes(pad)
    chunk += struct.pack(">I", zlib.crc32(b"prVt" + bytes(pad)) & 0xFFFFFFFF)
    data = small[:-12] + chunk + small[-12:]  # before IEND
    assert len(data) == total
    return data


def mask_for(width: int, height: int) -> bytes:
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = 255
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, "PNG")
    return buffer.getvalue()


def codes(check: object) -> list[str]:
    return [problem.code for problem in check.problems]  # type: ignore[attr-defined]


def assert_fix_holds(limits: Limits, image: bytes, mask: bytes | None = None) -> None:
    """The fix fits, and its files checked again (as the send does) give exactly its payload."""
    check = check_payload(limits, image, mask)
    assert check.fixable and check.fixed is not None, codes(check)
    again = check_payload(limits, check.fixed.image, check.fixed.mask, fix=False)
    assert again.ok, codes(again)
    assert again.payload == check.fixed.payload


# ------------------------------------------------------------------ Tencent
def test_tencent_limits_say_what_its_document_says() -> None:
    assert TENCENT.max_side == 3999 and TENCENT.bytes_as_base64 and TENCENT.max_bytes == 6 * MIB - 1
    assert TENCENT.aspect_range == ((2, 5), (5, 2))


def test_tencent_counts_the_photo_as_base64_to_the_byte() -> None:
    # 4718589 bytes are 6291452 characters of base64, the most under 6 MB; one byte more is 6 MB.
    fits, over = padded_png(4_718_589), padded_png(4_718_590)
    assert check_payload(TENCENT, fits).ok
    check = check_payload(TENCENT, over, vendor="Tencent")
    assert codes(check) == ["image_too_many_bytes_base64"] and len(over) < 6 * MIB  # raw it would pass
    assert "once base64-encoded" in check.problems[0].message
    # The padding is not pixels: a lossless re-compression fixes it without touching a pixel.
    assert check.fixed is not None and check.fixed.kinds == ("optimise",)
    assert len(base64.b64encode(check.fixed.image)) < 6 * MIB
    assert_fix_holds(TENCENT, over)


def test_tencent_sides_must_be_under_4000() -> None:
    assert check_payload(TENCENT, flat(3999, 2000)).ok
    check = check_payload(TENCENT, flat(4000, 2000))
    assert codes(check) == ["provider_too_large"] and check.fixed is not None
    assert check.fixed.size == (3999, 2000) and check.fixed.kinds == ("downscale",)
    assert_fix_holds(TENCENT, flat(4000, 2000))


@pytest.mark.parametrize(
    ("size", "fits"),
    [((1000, 2500), True), ((1000, 2501), False), ((2500, 1000), True), ((2501, 1000), False)],
)
def test_tencent_aspect_from_2_5_to_5_2_cannot_be_fixed_by_resizing(
    size: tuple[int, int], fits: bool
) -> None:
    check = check_payload(TENCENT, flat(*size))
    if fits:
        assert check.ok
        return
    assert codes(check) == ["provider_bad_aspect"] and not check.fixable and check.fixed is None
    with pytest.raises(InputRejectedError) as caught:
        payload_or_refuse(TENCENT, flat(*size), None, provider="tencent_aiart", vendor="Tencent")
    assert caught.value.code == "provider_bad_aspect" and "2:5 to 5:2" in caught.value.user_message


def test_tencent_mask_is_checked_in_its_sent_form_and_fixed_with_the_photo() -> None:
    # The mask Tencent gets is the photo with the product in alpha: as big as the photo, PNG only.
    photo, mask = noisy(1600, 1200), mask_for(1600, 1200)
    check = check_payload(TENCENT, photo, mask)
    assert "mask_too_many_bytes_base64" in codes(check)
    assert check.payload is not None and check.payload.mask is not None
    assert check.payload.mask.data[:8] == b"\x89PNG\r\n\x1a\n"
    fixed = check.fixed
    assert fixed is not None and "downscale" in fixed.kinds and fixed.mask is not None
    assert Image.open(io.BytesIO(fixed.mask)).size == fixed.size  # the mask follows the photo
    assert fixed.payload.mask is not None and len(base64.b64encode(fixed.payload.mask.data)) < 6 * MIB
    assert_fix_holds(TENCENT, photo, mask)


def test_a_14_mb_png_for_tencent_is_fitted_under_the_limit() -> None:
    photo = noisy(2600, 1900)
    assert len(photo) > 14_000_000
    check = check_payload(TENCENT, photo)
    assert codes(check) == ["image_too_many_bytes_base64"]
    fixed = check.fixed
    assert fixed is not None and fixed.payload.image.format == "JPEG" and fixed.jpeg_quality is not None
    assert len(base64.b64encode(fixed.image)) < 6 * MIB
    assert_fix_holds(TENCENT, photo)


# ------------------------------------------------------------------ Aidge
@pytest.mark.parametrize("limits", [AIDGE, AIDGE_MODEL])
@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((512, 800), ["provider_too_small"]),
        ((800, 512), ["provider_too_small"]),
        ((513, 800), []),
        ((2999, 800), []),
        ((3000, 800), ["provider_too_large"]),
        ((800, 3000), ["provider_too_large"]),
    ],
)
def test_aidge_sides_are_strictly_between_512_and_3000(
    limits: Limits, size: tuple[int, int], expected: list[str]
) -> None:
    check = check_payload(limits, flat(*size))
    assert codes(check) == expected
    if expected == ["provider_too_large"]:
        assert check.fixed is not None and max(check.fixed.size) == 2999
    if expected == ["provider_too_small"]:
        assert check.fixed is None


def test_aidge_takes_4_mb_counted_as_the_file() -> None:
    assert check_payload(AIDGE, padded_png(4 * MIB)).ok
    check = check_payload(AIDGE, padded_png(4 * MIB + 1))
    assert codes(check) == ["image_too_many_bytes"]
    assert_fix_holds(AIDGE, padded_png(4 * MIB + 1))


def test_an_opaque_photo_over_the_byte_limit_becomes_a_high_quality_jpeg() -> None:
    photo = noisy(1700, 1200)
    assert len(photo) > 4 * MIB
    check = check_payload(AIDGE, photo)
    assert check.fixed is not None and check.fixed.image[:2] == b"\xff\xd8"
    assert (check.fixed.jpeg_quality or 0) >= 80 and len(check.fixed.image) <= 4 * MIB
    assert_fix_holds(AIDGE, photo)


# ------------------------------------------------------------------ Marketplace
@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((399, 600), ["provider_too_small"]),
        ((400, 600), []),
        ((4096, 600), []),
        ((4097, 600), ["provider_too_large"]),
    ],
)
def test_marketplace_sides_from_400_to_4096(size: tuple[int, int], expected: list[str]) -> None:
    check = check_payload(MARKET, flat(*size), mask_for(*size))
    assert codes(check) == expected
    if expected == ["provider_too_large"]:
        assert check.fixed is not None and check.fixed.size == (4096, 600)
        assert_fix_holds(MARKET, flat(*size), mask_for(*size))


def test_marketplace_mask_is_sent_black_and_white_single_channel() -> None:
    payload = build_payload(MARKET, flat(600, 500), mask_for(600, 500))
    assert payload.mask is not None
    assert Image.open(io.BytesIO(payload.mask.data)).mode == "L"


# ------------------------------------------------------------------ DashScope
def test_dashscope_long_side_at_most_2048() -> None:
    cutout = flat(2048, 600, "RGBA")
    assert check_payload(DASHSCOPE, cutout).ok
    check = check_payload(DASHSCOPE, flat(2049, 600, "RGBA"))
    assert codes(check) == ["provider_too_large"]
    assert check.fixed is not None and check.fixed.size == (2048, 600)
    assert_fix_holds(DASHSCOPE, flat(2049, 600, "RGBA"))


def test_dashscope_gets_one_rgba_png_carrying_the_mask() -> None:
    payload = build_payload(DASHSCOPE, flat(600, 400), mask_for(600, 400))
    assert payload.mask is None and payload.image.format == "PNG"
    sent = Image.open(io.BytesIO(payload.image.data))
    assert sent.mode == "RGBA"
    alpha = np.asarray(sent.getchannel("A"))
    assert alpha[200, 300] == 255 and alpha[0, 0] == 0


# ------------------------------------------------------------------ choosing the fix
def test_transparency_a_vendor_reads_is_never_flattened_into_a_jpeg() -> None:
    photo = noisy(900, 700, alpha=True)
    keeps = Limits(formats=frozenset({"PNG", "JPEG"}), max_bytes=len(photo) // 2, keeps_alpha=True)
    check = check_payload(keeps, photo)
    assert (
        check.fixed is not None and check.fixed.image[:4] == b"\x89PNG" and "downscale" in check.fixed.kinds
    )
    flattens = Limits(formats=frozenset({"PNG", "JPEG"}), max_bytes=len(photo) // 2)
    check = check_payload(flattens, photo)
    assert check.fixed is not None and check.fixed.kinds == ("reencode",)


def test_what_cannot_fit_even_at_the_smallest_side_has_no_fix() -> None:
    photo = noisy(700, 700)
    tiny = Limits(formats=frozenset({"PNG"}), min_side=600, max_bytes=10_000)
    check = check_payload(tiny, photo)
    assert codes(check) == ["image_too_many_bytes"] and check.fixed is None and not check.fixable
    assert check.problems[0].params["fixable"] is False
