"""Opening, validating, normalising and encoding images: the only door bytes come in through.

This module owns:

- `ImageInputError`, the one error for a file a user gave us that we cannot use
  (a stable `code`, `params` for translated messages, and an English sentence
  that says what is wrong and what to do);
- `load_image`, which checks the header (format, pixel count, sides) before
  any pixel is decoded, then decodes the first frame, applies EXIF
  orientation and converts every mode we accept (CMYK, 16-bit, palette,
  grey, 1-bit) into one shape: RGBA uint8, RGB channel order;
- the encoders (`encode_png`, `encode_jpeg`), `flatten_on`, `thumbnail` and
  `image_size` (header only).

Arrays everywhere are numpy uint8, HxW or HxWxC, RGB(A) channel order.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import threading
import warnings
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MIN_SIDE = 64
DEFAULT_MAX_SIDE = 12_000

ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP")

# Pillow names a camera JPEG with an embedded preview "MPO" and a headerless
# bitmap "DIB"; to a user both are simply the format they saved.
_FORMAT_ALIASES = {"MPO": "JPEG", "DIB": "BMP"}

# Alpha at or above this counts as opaque: encoders and editors often leave a
# few 254s behind, which is not transparency a user meant.
_OPAQUE_ALPHA = 250

_EXIF_ORIENTATION = 0x0112
_WARNINGS_LOCK = threading.Lock()

# Formats Pillow cannot open at all, recognised by their magic bytes so the
# user hears "unsupported format" instead of "damaged file".
_UNOPENABLE_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
    (0, b"%PDF", "PDF"),
    (0, b"<svg", "SVG"),
    (0, b"<?xml", "SVG"),
    (0, b"8BPS", "PSD"),
)

_MESSAGES: dict[str, str] = {
    "empty": "The file is empty (0 bytes). Choose the image again; the upload may not have finished.",
    "corrupt": (
        "The file could not be read as an image: it is damaged or incomplete. "
        "Open it in an image editor, save it again as JPEG or PNG, and upload that copy."
    ),
    "unsupported_format": (
        "{format} images are not supported. Save the image as JPEG, PNG, WEBP or BMP and upload it again."
    ),
    "too_many_pixels": (
        "The image has {pixels_text} pixels, more than the limit of {max_pixels_text}. "
        "Resize it to at most about {suggested_side}x{suggested_side} pixels and upload it again."
    ),
    "too_small": (
        "The image is {width}x{height} pixels, but each side must be at least {min_side} pixels. "
        "Use a larger photo of the product."
    ),
    "too_large": (
        "The image is {width}x{height} pixels, but no side may be longer than {max_side} pixels. "
        "Resize it so its longest side is at most {max_side} pixels and upload it again."
    ),
    "mask_size_mismatch": (
        "The mask is {mask_w}x{mask_h} pixels but the image is {image_w}x{image_h}. "
        "Export the mask at exactly the image's size and upload it again."
    ),
    "mask_empty": (
        "The mask marks no product: it is black (or transparent) almost everywhere. "
        "Paint the product white on a black background."
    ),
    "mask_full": (
        "The mask marks the whole picture as product, so there is no background left to replace. "
        "Paint the background black and the product white."
    ),
    "mask_corrupt": (
        "The mask could not be read as a mask picture (the file is damaged, not an image, or not one grey layer). "
        "Upload a PNG of the same size as the image with the product in white on black."
    ),
}


class ImageInputError(ValueError):
    """A user-supplied image or mask that cannot be used.

    `code` is a stable key (the UI translates `error.<code>`), `params` fills
    the translated message, and `str(exc)` is a complete English sentence.
    """

    def __init__(self, code: str, params: Mapping[str, object] | None = None) -> None:
        if code not in _MESSAGES:
            raise KeyError(f"unknown ImageInputError code {code!r}")
        self.code = code
        self.params: dict[str, object] = dict(params or {})
        super().__init__(_format_message(code, self.params))

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through their args; ours are (code, params), not the message.
        return (type(self), (self.code, self.params))


def _format_message(code: str, params: dict[str, object]) -> str:
    values: dict[str, object] = {"format": "These", **params}
    pixels, max_pixels = params.get("pixels"), params.get("max_pixels")
    values["pixels_text"] = f"{pixels:,}" if isinstance(pixels, int) else "too many"
    if isinstance(max_pixels, int):
        values["max_pixels_text"] = f"{max_pixels:,}"
        values["suggested_side"] = math.isqrt(max_pixels)
    else:
        values["max_pixels_text"] = "the allowed number"
        values["suggested_side"] = math.isqrt(DEFAULT_MAX_PIXELS)
    return _MESSAGES[code].format(**values)


@dataclass(frozen=True)
class LoadedImage:
    """A decoded, upright image. `rgba` is read-only so one instance can be shared between threads."""

    rgba: np.ndarray
    source_format: str
    has_alpha: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def width(self) -> int:
        return int(self.rgba.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgba.shape[0])

    @property
    def rgb(self) -> np.ndarray:
        """A contiguous HxWx3 copy (OpenCV and onnx want contiguous memory)."""
        rgba = self.rgba
        if rgba.dtype == np.uint8 and rgba.ndim == 3 and rgba.shape[2] == 4:
            # OpenCV drops the alpha channel several times faster than a strided NumPy copy.
            return np.asarray(cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB))
        return np.ascontiguousarray(rgba[..., :3])


# --------------------------------------------------------------------- loading
def load_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
    max_side: int = DEFAULT_MAX_SIDE,
) -> LoadedImage:
    """Decode `data` into an upright RGBA image, or raise `ImageInputError` saying why not."""
    img, source_format = _open_checked(data, max_pixels=max_pixels)
    width, height = img.size
    if min(width, height) < min_side:
        raise ImageInputError("too_small", {"width": width, "height": height, "min_side": min_side})
    if max(width, height) > max_side:
        raise ImageInputError("too_large", {"width": width, "height": height, "max_side": max_side})

    notes: list[str] = []
    if getattr(img, "n_frames", 1) > 1:
        notes.append("first_frame_only")
    sixteen_bit = _is_sixteen_bit(img)
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise ImageInputError("corrupt") from None

    img = _upright(img, notes)
    rgba = _to_rgba(img, notes, sixteen_bit=sixteen_bit)
    lowest, highest = _alpha_range(rgba)
    has_alpha = lowest < _OPAQUE_ALPHA and highest > 0
    if not has_alpha and lowest < 255:
        # Nearly-opaque or fully transparent alpha is an export accident, not a
        # cutout: treat the picture as opaque so the product is segmented.
        rgba[..., 3] = 255
        notes.append("alpha_ignored")
    rgba.flags.writeable = False
    return LoadedImage(rgba=rgba, source_format=source_format, has_alpha=has_alpha, notes=tuple(notes))


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) as the image is displayed (EXIF orientation applied), from the header only.

    Raises `ImageInputError` for empty, unreadable or unsupported files, and
    `too_many_pixels` for headers so large that Pillow refuses to open them.
    """
    img, _ = _open_checked(data, max_pixels=None)
    width, height = img.size
    if _orientation(img) in (5, 6, 7, 8):  # the four orientations that swap the axes
        width, height = height, width
    return width, height


def _open_checked(data: bytes, *, max_pixels: int | None) -> tuple[Image.Image, str]:
    """Open the header lazily and apply the checks that need no pixel data.

    `max_pixels=None` is a header-only read: only Pillow's own hard refusal applies.
    """
    if not data:
        raise ImageInputError("empty")
    pillow_limit = Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS
    limit = max_pixels if max_pixels is not None else 2 * pillow_limit
    try:
        # Pillow warns between its two bomb limits. When our limit is below its
        # warning point, make that warning an error so the user gets our message
        # and nothing is printed; otherwise the caller allowed the size. Because
        # catch_warnings swaps process-wide state, our calls take turns (the
        # window is one header read).
        action: Literal["error", "ignore"] = "error" if limit <= pillow_limit else "ignore"
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter(action, Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombWarning as exc:
        raise ImageInputError(
            "too_many_pixels", {"pixels": _pixels_from_message(str(exc)), "max_pixels": limit}
        ) from None
    except Image.DecompressionBombError as exc:
        # Beyond twice its limit Pillow refuses outright, whatever we would allow.
        params = {"pixels": _pixels_from_message(str(exc)), "max_pixels": min(limit, 2 * pillow_limit)}
        raise ImageInputError("too_many_pixels", params) from None
    except UnidentifiedImageError:
        raise ImageInputError(*_unopenable(data)) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageInputError("corrupt") from None

    source_format = _FORMAT_ALIASES.get(img.format or "", img.format or "unknown")
    if source_format not in ACCEPTED_FORMATS:
        raise ImageInputError("unsupported_format", {"format": source_format})
    pixels = img.size[0] * img.size[1]
    if max_pixels is not None and pixels > max_pixels:
        raise ImageInputError("too_many_pixels", {"pixels": pixels, "max_pixels": max_pixels})
    return img, source_format


def _unopenable(data: bytes) -> tuple[str, dict[str, object]]:
    head = data[:64].lstrip()
    for offset, signature, name in _UNOPENABLE_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return "unsupported_format", {"format": name}
    return "corrupt", {}


def _pixels_from_message(message: str) -> int | None:
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match.group(1)) if match else None


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_EXIF_ORIENTATION, 1)
        return int(value) if isinstance(value, int) else 1
    except Exception:  # broken EXIF must never stop a photo from loading
        return 1


def _upright(img: Image.Image, notes: list[str]) -> Image.Image:
    orientation = _orientation(img)
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        try:
            rotated = ImageOps.exif_transpose(img)
        except Exception:  # a malformed EXIF block: keep the stored pixels as they are
            notes.append("exif_unreadable")
            return img
        if rotated is not None:
            notes.append("exif_rotated")
            return rotated
    return img


def _is_sixteen_bit(img: Image.Image) -> bool:
    if img.mode.startswith("I;16") or img.mode == "I":
        return True
    # Pillow decodes 48/64-bit PNGs straight to 8-bit ("RGB;16B" keeps the high
    # byte, i.e. scales by 1/257 with truncation); the raw mode tells us it did.
    tile = getattr(img, "tile", None) or []
    args = tile[0].args if tile else None
    rawmode = args if isinstance(args, str) else (args[0] if isinstance(args, tuple) and args else "")
    return isinstance(rawmode, str) and ";16" in rawmode


def _to_rgba(img: Image.Image, notes: list[str], *, sixteen_bit: bool) -> np.ndarray:
    mode = img.mode
    if sixteen_bit:
        notes.append("reduced_from_16_bit")
    if mode.startswith("I") or mode == "F":
        grey = _scale_to_uint8(np.asarray(img))
        return _grey_to_rgba(grey)
    if mode == "CMYK":
        # Pillow already undid Adobe's inverted CMYK while decoding (raw mode "CMYK;I").
        notes.append("converted_from_cmyk")
        img = img.convert("RGB")
    elif mode in ("P", "PA"):
        notes.append("palette_expanded")
        img = img.convert("RGBA")
    elif mode in ("1", "L"):
        if "transparency" in img.info:
            img = img.convert("RGBA")
        else:
            return _grey_to_rgba(np.asarray(img.convert("L")))
    elif mode == "RGB" and "transparency" in img.info:
        img = img.convert("RGBA")  # a PNG colour key (tRNS) is real transparency
    elif mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA")  # LA, La, RGBa, RGBX, YCbCr, LAB, HSV

    if img.mode == "RGBA":
        return np.array(img, dtype=np.uint8)
    rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
    # Opaque alpha added by OpenCV: a fraction of the cost of filling the channel through NumPy.
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA))


def _scale_to_uint8(values: np.ndarray) -> np.ndarray:
    """Map 16-bit (or wider) intensities to 0..255 by scaling, so highlights are not clipped."""
    if values.dtype.kind == "f":
        top = 1.0 if float(values.max(initial=0.0)) <= 1.0 else 65535.0
        return np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8)
    wide = values.astype(np.int64)
    # Pillow's "I" mode carries 16-bit PNG samples in 0..65535; anything above
    # that is a wider source we squeeze by its own maximum.
    top = max(65535, int(wide.max(initial=0)))
    return np.clip((wide * 255 + top // 2) // top, 0, 255).astype(np.uint8)


def _grey_to_rgba(grey: np.ndarray) -> np.ndarray:
    rgba = np.empty((grey.shape[0], grey.shape[1], 4), np.uint8)
    rgba[..., :3] = grey[..., None]
    rgba[..., 3] = 255
    return rgba


def _alpha_range(rgba: np.ndarray) -> tuple[int, int]:
    """(min, max) of the alpha channel, read once (OpenCV: no strided NumPy passes)."""
    alpha = cv2.extractChannel(np.ascontiguousarray(rgba), 3)
    lowest, highest, _, _ = cv2.minMaxLoc(alpha)
    return int(lowest), int(highest)


# -------------------------------------------------------------------- encoding
def encode_png(arr: np.ndarray, *, compress_level: int = 3) -> bytes:
    """PNG bytes of an L (HxW), RGB or RGBA uint8 array. Level 3 trades a little size for speed."""
    arr = _check_array(arr, "encode_png", channels=(1, 3, 4))
    if not 0 <= compress_level <= 9:
        raise ValueError(f"compress_level must be 0..9, got {compress_level}")
    if compress_level <= 3:
        if arr.nbytes >= _PNG_STRIPS_FROM_BYTES:
            return _png_in_strips(arr)
        # OpenCV's encoder with the RLE strategy is about twice as fast as Pillow at level 3 for
        # photos and backdrops, at a few percent more bytes: outputs are written on the hot path.
        if arr.ndim == 3:
            code = cv2.COLOR_RGB2BGR if arr.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
            arr = cv2.cvtColor(arr, code)
        # One fixed row filter instead of libpng's adaptive choice, which tries all five on every
        # row: about 1.5-2x faster. SUB keeps composed results within a few percent of adaptive
        # (smaller on wood grain, ~15% larger on linen); UP suits masks, whose rows mostly repeat.
        row_filter = cv2.IMWRITE_PNG_FILTER_UP if arr.ndim == 2 else cv2.IMWRITE_PNG_FILTER_SUB
        params = [
            cv2.IMWRITE_PNG_COMPRESSION,
            max(compress_level, 1),
            cv2.IMWRITE_PNG_STRATEGY,
            cv2.IMWRITE_PNG_STRATEGY_RLE,
            cv2.IMWRITE_PNG_FILTER,
            row_filter,
        ]
        ok, encoded = cv2.imencode(".png", arr, params)
        if ok:
            return bytes(encoded.tobytes())
    buffer = io.BytesIO()
    Image.fromarray(arr).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


# From this size up, `encode_png` (levels 0-3) deflates the rows in two strips at once: one in
# the caller's thread, one in a worker thread. zlib releases the GIL, so a 1000x1000 result takes
# about 13 ms instead of 24 on two cores. The strip count is fixed (not taken from the CPU count)
# so the same pixels always give the same bytes, on any machine.
_PNG_STRIPS_FROM_BYTES = 1 << 20
_PNG_STRIPS = 2
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> grey, RGB, RGBA
_png_pool: ThreadPoolExecutor | None = None
_png_pool_lock = threading.Lock()


def _png_in_strips(arr: np.ndarray) -> bytes:
    """PNG bytes of a uint8 L/RGB/RGBA array, deflated in `_PNG_STRIPS` row strips in parallel.

    The same settings as the OpenCV path (zlib's fastest RLE deflate, one fixed row filter: SUB
    for colour, UP for masks), written directly. Each strip is an independent raw deflate stream
    ending on a byte boundary (sync flush), so their concatenation is one valid zlib stream; the
    Adler-32 of the whole is combined from the strips' own.
    """
    height, width = arr.shape[:2]
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    rows = arr.reshape(height, width * channels)
    bounds = [height * index // _PNG_STRIPS for index in range(_PNG_STRIPS + 1)]
    spans = [(bounds[i], bounds[i + 1]) for i in range(_PNG_STRIPS) if bounds[i + 1] > bounds[i]]
    last = len(spans) - 1
    pool = _strip_pool()
    futures = [
        pool.submit(_png_strip, rows, channels, top, bottom, index == last)
        for index, (top, bottom) in enumerate(spans[1:], 1)
    ]
    parts = [_png_strip(rows, channels, *spans[0], last == 0)]
    parts += [future.result() for future in futures]

    adler = 1
    for _, strip_adler, length, _ in parts:
        adler = _adler32_combine(adler, strip_adler, length)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[channels], 0, 0, 0)
    out = [_PNG_SIGNATURE, _png_chunk(b"IHDR", ihdr)]
    # One IDAT chunk per strip (decoders read them as one stream), each CRC taken in its strip's
    # thread; the last one is extended by the stream's Adler-32 trailer.
    trailer = struct.pack(">I", adler)
    for index, (data, _, _, crc) in enumerate(parts):
        if index == last:
            data, crc = data + trailer, zlib.crc32(trailer, crc)
        out += [struct.pack(">I", len(data)), b"IDAT", data, struct.pack(">I", crc & 0xFFFFFFFF)]
    out.append(_png_chunk(b"IEND", b""))
    return b"".join(out)


def _png_strip(
    rows: np.ndarray, channels: int, top: int, bottom: int, final: bool
) -> tuple[bytes, int, int, int]:
    """Filter and deflate rows[top:bottom]: (its part of the zlib stream, Adler-32 and length of
    the filtered bytes, CRC-32 of b"IDAT" + that part)."""
    part = rows[top:bottom]
    filtered = np.empty((part.shape[0], part.shape[1] + 1), np.uint8)
    if channels == 1:
        # UP: each byte minus the one above it (the image's first row has zeros above it).
        filtered[:, 0] = 2
        if top == 0:
            filtered[0, 1:] = part[0]
            np.subtract(part[1:], part[:-1], out=filtered[1:, 1:])
        else:
            np.subtract(part, rows[top - 1 : bottom - 1], out=filtered[:, 1:])
    else:
        # SUB: each byte minus the same channel of the pixel to its left.
        filtered[:, 0] = 1
        filtered[:, 1 : channels + 1] = part[:, :channels]
        np.subtract(part[:, channels:], part[:, :-channels], out=filtered[:, channels + 1 :])
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
    # The zlib header (deflate, 32 KB window, fastest level; 0x7801 % 31 == 0) opens the stream.
    data = b"\x78\x01" if top == 0 else b""
    data += compressor.compress(filtered.data) + compressor.flush(
        zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH
    )
    return data, zlib.adler32(filtered.data), filtered.size, zlib.crc32(data, zlib.crc32(b"IDAT"))


def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """Adler-32 of A + B from Adler-32(A), Adler-32(B) and len(B) (zlib's adler32_combine)."""
    base = 65521
    a1, b1 = first & 0xFFFF, first >> 16
    a2, b2 = second & 0xFFFF, second >> 16
    a = (a1 + a2 - 1) % base
    b = (b1 + b2 + second_length * (a1 - 1)) % base
    return (b << 16) | a


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _strip_pool() -> ThreadPoolExecutor:
    global _png_pool
    with _png_pool_lock:
        if _png_pool is None:
            _png_pool = ThreadPoolExecutor(_PNG_STRIPS - 1, thread_name_prefix="png-strip")
        return _png_pool


def _forget_png_pool() -> None:
    # A forked child has the pool object but not its thread: start a fresh one there when needed.
    global _png_pool, _png_pool_lock
    _png_pool, _png_pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_png_pool)


def encode_jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    """JPEG bytes of an RGB (or grey) uint8 array. RGBA is refused: JPEG has no alpha."""
    if rgb.ndim == 3 and rgb.shape[2] == 4:
        raise ValueError(
            "encode_jpeg got an RGBA array, but JPEG cannot store transparency; "
            "flatten it first with flatten_on(rgba, colour)."
        )
    rgb = _check_array(rgb, "encode_jpeg", channels=(1, 3))
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be 1..100, got {quality}")
    buffer = io.BytesIO()
    # 4:4:4 at high quality: chroma subsampling smears coloured product edges.
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality, subsampling=0 if quality >= 90 else 2)
    return buffer.getvalue()


def flatten_on(rgba: np.ndarray, rgb_colour: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Composite RGBA over a solid colour. Where alpha is 0 the result is exactly that colour."""
    rgba = _check_array(rgba, "flatten_on", channels=(4,))
    colour = np.asarray(rgb_colour, dtype=np.uint16)
    if colour.shape != (3,) or int(colour.max()) > 255:
        raise ValueError(f"rgb_colour must be three values 0..255, got {rgb_colour!r}")
    alpha = rgba[..., 3:4].astype(np.uint16)
    # Integer blend with rounding: c*255 + 127 // 255 == c exactly, so pure white stays 255.
    out = rgba[..., :3].astype(np.uint16) * alpha
    out += colour * (255 - alpha)
    out += 127
    out //= 255
    return out.astype(np.uint8)


def thumbnail(arr: np.ndarray, max_side: int) -> np.ndarray:
    """A copy no longer than `max_side` on either side, same aspect, area-averaged (no aliasing)."""
    arr = _check_array(arr, "thumbnail", channels=(1, 3, 4))
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    height, width = arr.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return arr.copy()
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def _check_array(arr: np.ndarray, who: str, *, channels: tuple[int, ...]) -> np.ndarray:
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8:
        kind = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
        raise ValueError(f"{who} needs a uint8 numpy array, got {kind}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    got = 1 if arr.ndim == 2 else (arr.shape[2] if arr.ndim == 3 else 0)
    if got not in channels or min(arr.shape[:2], default=0) < 1:
        raise ValueError(f"{who} cannot take an array of shape {arr.shape}; expected {channels} channel(s)")
    return np.ascontiguousarray(arr)
