"""The stored mask (L, white = product, soft edge) in each vendor's documented form, at the photo's size."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from imaging.images import ImageInputError
from imaging.masks import vendor_mask_png


def png(pixels: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, "PNG")
    return buffer.getvalue()


def soft_mask() -> np.ndarray:
    mask = np.zeros((60, 80), np.uint8)
    mask[15:45, 20:60] = 255
    mask[15:45, 19] = 100  # a soft edge column
    return mask


PHOTO = np.dstack(
    [np.full((60, 80), 200, np.uint8), np.full((60, 80), 30, np.uint8), np.full((60, 80), 90, np.uint8)]
)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_single_channel_is_black_and_white_255_0() -> None:
    out = decode(vendor_mask_png(png(soft_mask()), png(PHOTO), "L"))
    pixels = np.asarray(out)
    assert out.mode == "L" and out.size == (80, 60)
    assert set(np.unique(pixels)) == {0, 255} and pixels[30, 19] == 0 and pixels[30, 30] == 255


def test_three_channel_repeats_the_black_and_white_mask() -> None:
    out = decode(vendor_mask_png(png(soft_mask()), png(PHOTO), "RGB"))
    pixels = np.asarray(out)
    assert out.mode == "RGB" and (pixels[..., 0] == pixels[..., 2]).all()
    assert pixels[30, 30].tolist() == [255, 255, 255] and pixels[5, 5].tolist() == [0, 0, 0]


def test_rgba_is_the_photo_with_the_product_in_alpha_and_the_soft_edge_kept() -> None:
    out = decode(vendor_mask_png(png(soft_mask()), png(PHOTO), "RGBA"))
    pixels = np.asarray(out)
    assert out.mode == "RGBA" and out.size == (80, 60)
    assert pixels[30, 30].tolist() == [200, 30, 90, 255]
    assert pixels[5, 5, 3] == 0 and pixels[30, 19, 3] == 100


def test_a_mask_of_another_size_is_refused() -> None:
    with pytest.raises(ImageInputError):
        vendor_mask_png(png(np.zeros((10, 10), np.uint8) + 255), png(PHOTO), "L")
