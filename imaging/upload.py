"""The image work behind fitting an input to what a vendor accepts: header facts, byte counts,
downscaling, lossless PNG re-compression and high-quality JPEG re-encoding.

Which of these a job needs, and whether the result fits, is decided in one
place, `providers.payload`, for the pre-check and for the send alike; this
module only does the pixel work it asks for.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from imaging.images import ImageInputError

# Pillow names a camera JPEG "MPO" and a headerless bitmap "DIB"; vendors know them as JPEG and BMP.
_FORMAT_ALIASES = {"MPO": "JPEG", "DIB": "BMP"}

# Tried in order; below 80 product texture starts to block, so we stop there and ask for a smaller image.
JPEG_QUALITIES = (95, 92, 88, 84, 80)


class UploadTooLargeError(ValueError):
    """Even the lowest acceptable JPEG quality is over the vendor's byte limit."""

    def __init__(self, smallest_bytes: int, max_bytes: int) -> None:
        super().__init__(
            f"the image needs {smallest_bytes / 1_048_576:.1f} MB even as a JPEG, more than the "
            f"{max_bytes / 1_048_576:.0f} MB allowed"
        )
        self.smallest_bytes = smallest_bytes
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class UploadPayload:
    """The bytes to send, their format, and (when re-encoded) what was done, for the job's notes."""

    data: bytes
    format: str
    reencoded: bool = False
    quality: int | None = None


def encode_within(png: bytes, max_bytes: int | None, formats: Collection[str]) -> UploadPayload:
    """The PNG itself when it fits, else the best JPEG quality that fits.

    Raises UploadTooLargeError when even quality 80 is too large (the caller
    offers to downscale), ValueError when the vendor takes neither PNG nor JPEG.
    """
    if "PNG" in formats and (max_bytes is None or len(png) <= max_bytes):
        return UploadPayload(png, "PNG")
    if "JPEG" not in formats:
        raise ValueError(
            f"cannot fit the image: the vendor takes {', '.join(sorted(formats))}, not PNG or JPEG"
        )
    rgb = _flattened_rgb(png)
    smallest = 0
    for quality in JPEG_QUALITIES:
        data = _jpeg(rgb, quality)
        smallest = len(data)
        if max_bytes is None or smallest <= max_bytes:
            return UploadPayload(data, "JPEG", reencoded=True, quality=quality)
    raise UploadTooLargeError(smallest, max_bytes or 0)


@dataclass(frozen=True)
class FileFacts:
    """What a vendor sees of a file before decoding it: its format and its size in pixels."""

    format: str
    width: int
    height: int


def file_facts(data: bytes) -> FileFacts:
    """Format and size from the header; raises ImageInputError("corrupt") for what is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            fmt = _FORMAT_ALIASES.get(img.format or "", img.format or "unknown")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise ImageInputError("corrupt") from None
    return FileFacts(fmt, width, height)


def has_transparency(data: bytes) -> bool:
    """True when the file has an alpha channel (or colour key) that is not opaque everywhere."""
    with Image.open(io.BytesIO(data)) as img:
        if "A" not in img.getbands() and "transparency" not in img.info:
            return False
        img.load()
        extrema = img.convert("RGBA").getchannel("A").getextrema()
    return isinstance(extrema[0], int) and extrema[0] < 255


def base64_length(size: int) -> int:
    """The length of `size` bytes once base64-encoded (padding included)."""
    return 4 * ((size + 2) // 3)


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled so the longest side is `max_side` (never enlarged), as `downscale_png` does."""
    scale = max_side / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_to(data: bytes, size: tuple[int, int]) -> bytes:
    """A PNG of the image at exactly `size` (area-averaged), keeping its mode: a single-channel mask
    stays single-channel, a cut-out keeps its alpha."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        if img.size == size and img.format == "PNG":
            return data
        bands = img.getbands()
        mode = "L" if bands == ("L",) else ("RGBA" if "A" in bands or "transparency" in img.info else "RGB")
        arr = np.asarray(img.convert(mode))
    resized = arr if arr.shape[1::-1] == size else cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
    buffer = io.BytesIO()
    Image.fromarray(resized).save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def optimise_png(data: bytes) -> bytes:
    """The same pixels as a PNG compressed as hard as zlib goes (lossless; slow on big photos)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        buffer = io.BytesIO()
        img.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def jpeg_of(data: bytes, quality: int) -> bytes:
    """The image as a JPEG at `quality`; transparent areas become white."""
    return _jpeg(_flattened_rgb(data), quality)


def downscale_png(png: bytes, max_side: int) -> tuple[bytes, tuple[int, int]]:
    """A PNG whose longest side is at most `max_side` (area-averaged), and its new size."""
    with Image.open(io.BytesIO(png)) as img:
        img.load()
        width, height = img.size
        scale = max_side / max(width, height)
        if scale >= 1:
            return png, (width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        arr = np.asarray(img.convert("RGBA" if "A" in img.getbands() else "RGB"))
    resized = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
    buffer = io.BytesIO()
    Image.fromarray(resized).save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue(), size


def _flattened_rgb(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        img.load()
        if "A" in img.getbands():
            # Transparent areas become white, which is what a marketplace background expects anyway.
            base = Image.new("RGB", img.size, (255, 255, 255))
            base.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
            return np.asarray(base)
        return np.asarray(img.convert("RGB"))


def _jpeg(rgb: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality, subsampling=0 if quality >= 90 else 2)
    return buffer.getvalue()
