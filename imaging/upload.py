"""Fitting a stored input to what a vendor accepts: byte limits (re-encode) and side limits (downscale).

Jobs keep their input as a lossless PNG. Vendors cap the upload (Aidge: 4 MB),
and a 3000 px photo as PNG is often larger than that, so the bytes actually sent
may be a high-quality JPEG instead. The same function runs in the pre-check
(before a job is created, so nothing is spent on an image that cannot be sent)
and in the adapter (when the job is sent), so both always agree.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

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
