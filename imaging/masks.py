"""Product masks: reading a user's mask file, checking it, and the previews a user looks at.

A mask is an HxW uint8 array, 0..255, white = product. This module owns the
rules for turning an uploaded mask (grey, 1-bit, palette, RGB or RGBA) into
that array, the checks that make a mask usable (size, not empty, not full),
the mask-over-photo and checkerboard previews, and the conversions to the
mask formats vendors ask for (`to_mode`).
"""

from __future__ import annotations

import io
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from imaging.images import ImageInputError, encode_png

# A mask covering less than this fraction is "nothing painted"; more than
# 1 - this is "everything painted". 0.1% tolerates stray brush dots.
_MIN_COVERAGE = 0.001

_CHECKER_LIGHT = 255
_CHECKER_DARK = 204
_CONTOUR_PX = 2


def load_mask(data: bytes, size: tuple[int, int]) -> np.ndarray:
    """Read a mask file for an image of `size` = (width, height); white (or opaque) = product."""
    if not data:
        raise ImageInputError("mask_corrupt")
    try:
        img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageInputError("mask_corrupt") from None

    # Compare sizes from the header first: a wrong-size (or gigantic) mask is
    # refused before a single pixel is decoded.
    width, height = img.size
    try:
        orientation = int(img.getexif().get(0x0112, 1))
    except Exception:  # broken EXIF in a mask: use the pixels as stored
        orientation = 1
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    _check_size(width, height, size)

    try:
        img.load()
        upright: Image.Image = img
        if orientation != 1:
            upright = ImageOps.exif_transpose(img) or img
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageInputError("mask_corrupt") from None
    mask = _mask_from_image(upright)
    check_mask(mask, size)
    return mask


def check_mask(mask: np.ndarray, size: tuple[int, int]) -> None:
    """Raise `ImageInputError` unless `mask` is an HxW uint8 mask of `size` that leaves some of both."""
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype not in (np.uint8, np.bool_):
        shape = getattr(mask, "shape", None)
        raise ImageInputError("mask_corrupt", {"shape": str(shape)})
    _check_size(mask.shape[1], mask.shape[0], size)
    product = (mask >= 128) if mask.dtype == np.uint8 else mask
    coverage = float(np.count_nonzero(product)) / product.size
    if coverage < _MIN_COVERAGE:
        raise ImageInputError("mask_empty", {"coverage": coverage})
    if coverage > 1.0 - _MIN_COVERAGE:
        raise ImageInputError("mask_full", {"coverage": coverage})


def _check_size(width: int, height: int, size: tuple[int, int]) -> None:
    image_w, image_h = size
    if (width, height) != (image_w, image_h):
        raise ImageInputError(
            "mask_size_mismatch", {"mask_w": width, "mask_h": height, "image_w": image_w, "image_h": image_h}
        )


def _mask_from_image(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        values = np.asarray(img).astype(np.float64)
        top = 65535.0 if float(values.max(initial=0.0)) > 255 else 255.0
        return np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8)
    if mode in ("P", "PA", "LA", "La") or (mode in ("L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        rgba = np.asarray(img)
        alpha = rgba[..., 3]
        # Painted-on-transparent masks (canvas exports, editors) carry the product
        # in alpha; an RGBA whose alpha is constant is just a grey picture.
        if int(alpha.min()) != int(alpha.max()):
            return np.array(alpha, dtype=np.uint8)
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    return np.array(img.convert("L"), dtype=np.uint8)


# -------------------------------------------------------------------- previews
def overlay(
    rgb: np.ndarray,
    mask: np.ndarray,
    colour: tuple[int, int, int] = (255, 59, 48),
    opacity: float = 0.45,
) -> np.ndarray:
    """The photo with the part that will be REPLACED tinted, and the mask edge outlined.

    The product keeps its natural colours so the user judges the cut, not the tint.
    """
    _check_pair(rgb, mask)
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be between 0 and 1, got {opacity}")
    tint = np.asarray(colour, np.float32).reshape(1, 1, 3)
    # Soft masks tint their soft edge proportionally, so feathering shows up.
    weight = (255 - mask.astype(np.float32)) * (opacity / 255.0)
    weight = weight[..., None]
    out = rgb.astype(np.float32) * (1.0 - weight) + tint * weight
    result = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    binary = np.where(mask >= 128, np.uint8(255), np.uint8(0))
    # RETR_LIST: hole outlines (a mug's handle) are drawn too, so holes are visible.
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(result, contours, -1, tuple(int(c) for c in colour), _CONTOUR_PX, cv2.LINE_AA)
    return result


def checkerboard(rgba: np.ndarray, cell: int = 16) -> np.ndarray:
    """A cut-out over the familiar grey/white checkerboard, as RGB."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"checkerboard needs an HxWx4 uint8 array, got shape {rgba.shape} {rgba.dtype}")
    if cell < 1:
        raise ValueError(f"cell must be at least 1 pixel, got {cell}")
    height, width = rgba.shape[:2]
    rows = (np.arange(height) // cell)[:, None]
    cols = (np.arange(width) // cell)[None, :]
    board = np.where((rows + cols) % 2 == 0, _CHECKER_LIGHT, _CHECKER_DARK).astype(np.uint16)
    alpha = rgba[..., 3].astype(np.uint16)
    out = rgba[..., :3].astype(np.uint16) * alpha[..., None]
    out += (board * (255 - alpha))[..., None]
    out += 127
    out //= 255
    return out.astype(np.uint8)


def to_mode(
    mask: np.ndarray,
    mode: Literal["L", "RGB", "RGBA"],
    rgb: np.ndarray | None = None,
    *,
    binary: bool = True,
) -> np.ndarray:
    """The mask in the form a vendor asks for.

    "L": one channel; "RGB": the same in three channels; both 255/0 when
    `binary` (threshold 128). "RGBA": the photo `rgb` with the mask as alpha
    (kept soft, since alpha is meant to carry the edge).
    """
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"to_mode needs an HxW uint8 mask, got shape {mask.shape} {mask.dtype}")
    single = np.where(mask >= 128, np.uint8(255), np.uint8(0)) if binary else mask.copy()
    if mode == "L":
        return single
    if mode == "RGB":
        return np.repeat(single[..., None], 3, axis=2)
    if mode == "RGBA":
        if rgb is None:
            raise ValueError('to_mode(..., "RGBA") needs the photo: pass rgb= the HxWx3 image')
        _check_pair(rgb, mask)
        rgba = np.empty((*mask.shape, 4), np.uint8)
        rgba[..., :3] = rgb
        rgba[..., 3] = mask
        return rgba
    raise ValueError(f'mode must be "L", "RGB" or "RGBA", got {mode!r}')


def _check_pair(rgb: np.ndarray, mask: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 photo, got shape {rgb.shape} {rgb.dtype}")
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"expected an HxW uint8 mask, got shape {mask.shape} {mask.dtype}")
    if rgb.shape[:2] != mask.shape:
        raise ValueError(
            f"photo {rgb.shape[1]}x{rgb.shape[0]} and mask {mask.shape[1]}x{mask.shape[0]} differ in size"
        )


def vendor_mask_png(mask_png: bytes, photo_png: bytes, mode: Literal["L", "RGB", "RGBA"]) -> bytes:
    """The stored mask (single channel, white = product) as the PNG a vendor documents, at the
    photo's exact size: "L" and "RGB" black/white 255/0, "RGBA" the photo with the product in
    alpha and a transparent background (Tencent's MaskUrl, DashScope's base image)."""
    with Image.open(io.BytesIO(photo_png)) as photo:
        photo.load()
        size = photo.size
        rgb = np.asarray(photo.convert("RGB")) if mode == "RGBA" else None
    mask = load_mask(mask_png, size)
    return encode_png(to_mode(mask, mode, rgb))
