"""Tencent Cloud aiart ReplaceBackground's documented limits and the rules for its options: output
resolution and aspect ratio, and the logo (`LogoParam`: its box and its image as sent).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from imaging.images import ImageInputError, encode_png, load_image, thumbnail
from providers.common import is_loopback_host as is_loopback_host

ACTION = "ReplaceBackground"
API_VERSION = "2022-12-29"
DEFAULT_ENDPOINT = "aiart.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_PROTOCOL = "https"

INPUT_FORMATS = frozenset({"JPEG", "PNG", "BMP", "WEBP", "TIFF"})
# "Each side smaller than 4000 px."
MAX_INPUT_SIDE = 3999
# The vendor limits the image *as base64* to under 6 MB; base64 makes 4 bytes of every 3, and the
# 3 bytes of slack keep the encoded length strictly below the limit.
MAX_INPUT_BYTES = 6 * 1024 * 1024 // 4 * 3 - 3
# The same limit as `Limits` states it: the base64 text of the image (and of the mask) under 6 MB.
MAX_INPUT_BASE64 = 6 * 1024 * 1024 - 1
# "长宽比在2:5 ~ 5:2之间": width:height from 2:5 to 5:2.
INPUT_ASPECT_RANGE = ((2, 5), (5, 2))
# Output sides must be more than 500 and less than 4000 px.
MIN_OUTPUT_SIDE_EXCLUSIVE = 500
MAX_OUTPUT_SIDE_EXCLUSIVE = 4000
VENDOR_DEFAULT_RESOLUTION = (1280, 1280)
# Results up to this many pixels come back inline (base64); larger ones as a 1-hour link.
MAX_INLINE_RESULT_PIXELS = 2_100_000
MAX_PROMPT_CHARS = 256
MAX_PRODUCT_CHARS = 50
# `Prompt = "BackgroundTemplate"` switches the vendor to its template catalogue, which we do not offer.
RESERVED_PROMPT = "BackgroundTemplate"
# The user's own mark (`LogoParam.LogoImage`, base64; the vendor stretches it to `LogoRect`). Kept as a
# PNG of at most this many px a side: enough for any sensible box, small enough to store with the job.
LOGO_MAX_SIDE = 1024
# A logo file larger than this is refused before it is even decoded.
MAX_LOGO_FILE_BYTES = 10 * 1024 * 1024
# Images travel to Tencent under 6 MB as base64 (the rule for its inputs; none is given for the logo).
MAX_LOGO_BASE64_CHARS = 6 * 1024 * 1024 - 1
# Where a logo goes when no LogoRect is given: the bottom-right corner, where Tencent puts its own
# mark, at most a fifth of the picture's width and height, this far (share of the short side) from the edges.
LOGO_BOX_SHARE = 0.2
LOGO_MARGIN_SHARE = 0.02


def parse_resolution(text: str) -> tuple[int, int] | None:
    """`"1280:720"` (also `1280x720`) -> (1280, 720); "" -> None; ValueError naming the rule otherwise."""
    value = text.strip()
    if not value:
        return None
    match = re.fullmatch(r"(\d+)\s*[:xX*]\s*(\d+)", value)
    if not match:
        raise ValueError(f"Resolution: '{text}' is not like 1280:1280 (width:height)")
    width, height = int(match.group(1)), int(match.group(2))
    check_output_size(width, height, "Resolution")
    return width, height


def check_output_size(width: int, height: int, what: str) -> None:
    """Tencent's output rule: each side more than 500 and less than 4000 px, aspect 2:5 to 5:2."""
    if not all(MIN_OUTPUT_SIDE_EXCLUSIVE < side < MAX_OUTPUT_SIDE_EXCLUSIVE for side in (width, height)):
        raise ValueError(
            f"{what}: {width}:{height} is not possible; each side must be 501 to 3999 px "
            "(1:1, 9:16 or 16:9 work best, e.g. 1280:1280, 1080:1920, 1920:1080)"
        )
    if not aspect_ok(width, height):
        raise ValueError(
            f"{what}: {width}:{height} is too narrow; the aspect ratio must be between 2:5 and 5:2"
        )


def aspect_ok(width: int, height: int) -> bool:
    return 2 * height <= 5 * width and 2 * width <= 5 * height


def parse_logo_rect(text: str) -> tuple[int, int, int, int] | None:
    """`"1040,1160,220,100"` (X,Y,Width,Height; spaces or colons also separate) or the vendor's own
    `{"X": .., "Y": .., "Width": .., "Height": ..}` -> a tuple; "" -> None; ValueError otherwise."""
    value = text.strip()
    if not value:
        return None
    numbers: list[Any]
    if value.startswith("{"):
        try:
            document = json.loads(value)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ValueError(f"LogoRect: '{text}' is not like 1040,1160,220,100 (X,Y,Width,Height)")
        numbers = [document.get(name) for name in ("X", "Y", "Width", "Height")]
    else:
        numbers = [part for part in re.split(r"[\s,;:]+", value) if part]
    if len(numbers) != 4 or not all(re.fullmatch(r"-?\d+", str(number)) for number in numbers):
        raise ValueError(f"LogoRect: '{text}' is not like 1040,1160,220,100 (X,Y,Width,Height in whole px)")
    x, y, width, height = (int(str(number)) for number in numbers)
    if x < 0 or y < 0 or width < 1 or height < 1:
        raise ValueError(
            f"LogoRect: {x},{y},{width},{height} is not a box: X and Y (its top-left corner) must be 0 or "
            "more, Width and Height at least 1"
        )
    return x, y, width, height


def check_logo_rect(rect: tuple[int, int, int, int], output: tuple[int, int]) -> None:
    """The logo box must lie inside the output picture, or Tencent answers LogoParamErr."""
    x, y, width, height = rect
    out_w, out_h = output
    if x + width > out_w or y + height > out_h:
        raise ValueError(
            f"LogoRect: the box {x},{y},{width},{height} reaches {x + width}x{y + height} px, outside the "
            f"{out_w}x{out_h} picture; move or shrink it so that X+Width <= {out_w} and Y+Height <= {out_h}"
        )


def default_logo_rect(logo_size: tuple[int, int], output: tuple[int, int]) -> tuple[int, int, int, int]:
    """The bottom-right box Tencent's own mark sits in: the logo's aspect, at most a fifth of the picture."""
    logo_w, logo_h = max(1, logo_size[0]), max(1, logo_size[1])
    out_w, out_h = output
    scale = min(out_w * LOGO_BOX_SHARE / logo_w, out_h * LOGO_BOX_SHARE / logo_h)
    width, height = max(1, round(logo_w * scale)), max(1, round(logo_h * scale))
    margin = round(min(out_w, out_h) * LOGO_MARGIN_SHARE)
    return out_w - width - margin, out_h - height - margin, width, height


def normalised_logo(text: str) -> str:
    """The user's logo (base64 of an image file) as base64 of a PNG at most LOGO_MAX_SIDE a side, alpha
    kept: what travels as `LogoParam.LogoImage` and is stored with the job. ValueError says what is wrong."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("LogoImage: not an image file in base64 (use --logo PATH in the CLI)") from None
    if len(data) > MAX_LOGO_FILE_BYTES:
        raise ValueError(
            f"LogoImage: the logo file is {len(data) / 1_048_576:.1f} MB; use one under "
            f"{MAX_LOGO_FILE_BYTES // 1_048_576} MB (a PNG of a few hundred px is plenty: Tencent stretches "
            "it to the LogoRect box)"
        )
    try:
        # A logo may be small (a 120x48 mark): no photo minimum; the pixel guard still applies.
        loaded = load_image(data, min_side=1, max_side=100_000)
    except ImageInputError as exc:
        raise ValueError(f"LogoImage: the logo cannot be used ({exc})") from None
    pixels = loaded.rgba if loaded.has_alpha else loaded.rgb
    if max(loaded.width, loaded.height) > LOGO_MAX_SIDE:
        pixels = thumbnail(pixels, LOGO_MAX_SIDE)
    encoded = base64.b64encode(encode_png(pixels)).decode("ascii")
    if len(encoded) > MAX_LOGO_BASE64_CHARS:
        raise ValueError(
            "LogoImage: the logo is too detailed to send (over 6 MB as base64 even at "
            f"{LOGO_MAX_SIDE} px); use a simpler or smaller logo"
        )
    return encoded
