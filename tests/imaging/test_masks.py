"""imaging.masks: reading user masks in every format, their errors, and the previews a user sees."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from imaging.images import ImageInputError
from imaging.masks import check_mask, checkerboard, load_mask, overlay, to_mode

W, H = 120, 90


def save(img: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def product_mask() -> np.ndarray:
    """White rectangle (the product) on black, 120x90."""
    mask = np.zeros((H, W), np.uint8)
    mask[20:70, 30:90] = 255
    return mask


def mask_error(data: bytes, size: tuple[int, int] = (W, H)) -> ImageInputError:
    with pytest.raises(ImageInputError) as caught:
        load_mask(data, size)
    return caught.value


# ------------------------------------------------------------------ formats
def _grey_png() -> bytes:
    return save(Image.fromarray(product_mask(), mode="L"))


def _one_bit_png() -> bytes:
    return save(Image.fromarray(product_mask() > 0))


def _palette_png() -> bytes:
    img = Image.fromarray((product_mask() > 0).astype(np.uint8), mode="P")
    img.putpalette([0, 0, 0, 255, 255, 255] + [0, 0, 0] * 254)
    return save(img)


def _rgb_png() -> bytes:
    return save(Image.fromarray(np.repeat(product_mask()[..., None], 3, axis=2)))


def _rgba_alpha_png() -> bytes:
    # Painted on transparency (a canvas export): colour is meaningless, alpha is the mask.
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., :3] = (255, 0, 0)
    rgba[..., 3] = product_mask()
    return save(Image.fromarray(rgba))


def _rgba_opaque_png() -> bytes:
    rgba = np.full((H, W, 4), 255, np.uint8)
    rgba[..., :3] = product_mask()[..., None]
    return save(Image.fromarray(rgba))


def _jpeg() -> bytes:
    return save(Image.fromarray(product_mask(), mode="L"), "JPEG", quality=90)


def _sixteen_bit_png() -> bytes:
    ok, data = cv2.imencode(".png", product_mask().astype(np.uint16) * 257)
    assert ok
    return data.tobytes()


@pytest.mark.parametrize(
    "make",
    [
        _grey_png,
        _one_bit_png,
        _palette_png,
        _rgb_png,
        _rgba_alpha_png,
        _rgba_opaque_png,
        _jpeg,
        _sixteen_bit_png,
    ],
    ids=lambda make: make.__name__.strip("_"),
)
def test_every_mask_format_reads_as_white_product(make: object) -> None:
    assert callable(make)
    mask = load_mask(make(), (W, H))
    assert mask.shape == (H, W) and mask.dtype == np.uint8
    expected = product_mask() >= 128
    agreement = np.mean((mask >= 128) == expected)
    assert agreement > 0.995
    assert mask[45, 60] >= 250 and mask[5, 5] <= 5


def test_soft_mask_values_are_kept() -> None:
    soft = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    assert np.array_equal(load_mask(save(Image.fromarray(soft, mode="L")), (W, H)), soft)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "data", [b"", b"garbage, not a png" * 20, _grey_png()[:60]], ids=["empty", "text", "truncated"]
)
def test_unreadable_mask(data: bytes) -> None:
    error = mask_error(data)
    assert error.code == "mask_corrupt"
    assert "white on black" in str(error)


def test_mask_of_the_wrong_size_names_both_sizes() -> None:
    error = mask_error(_grey_png(), size=(240, 180))
    assert error.code == "mask_size_mismatch"
    assert error.params == {"mask_w": W, "mask_h": H, "image_w": 240, "image_h": 180}
    assert "120x90" in str(error) and "240x180" in str(error)


def test_mask_size_is_checked_before_decoding() -> None:
    # A huge mask for a small photo is refused from its header alone.
    big = Image.new("L", (6000, 6000), 0)
    data = save(big, compress_level=9)
    assert mask_error(data).code == "mask_size_mismatch"


def test_black_mask_is_empty_and_white_mask_is_full() -> None:
    black = np.zeros((H, W), np.uint8)
    assert mask_error(save(Image.fromarray(black))).code == "mask_empty"
    assert mask_error(save(Image.fromarray(black + 255))).code == "mask_full"
    speck = black.copy()
    speck[0, 0] = 255  # 1 of 10,800 pixels: below 0.1%
    assert mask_error(save(Image.fromarray(speck))).code == "mask_empty"
    nearly_full = black + 255
    nearly_full[0, :5] = 0  # 5 of 10,800 pixels of background: below 0.1%
    assert mask_error(save(Image.fromarray(nearly_full))).code == "mask_full"


def test_check_mask_in_memory() -> None:
    check_mask(product_mask(), (W, H))
    check_mask(product_mask() > 0, (W, H))
    with pytest.raises(ImageInputError) as caught:
        check_mask(np.zeros((H, W, 3), np.uint8), (W, H))
    assert caught.value.code == "mask_corrupt"
    with pytest.raises(ImageInputError) as caught:
        check_mask(product_mask(), (H, W))
    assert caught.value.code == "mask_size_mismatch"
    with pytest.raises(ImageInputError) as caught:
        check_mask(np.zeros((H, W), np.uint8), (W, H))
    assert caught.value.code == "mask_empty"


# ----------------------------------------------------------------- previews
def test_overlay_tints_the_background_and_leaves_the_product_natural() -> None:
    rgb = np.full((H, W, 3), 120, np.uint8)
    mask = product_mask()
    mask[40:50, 55:65] = 0  # a hole inside the product
    out = overlay(rgb, mask, colour=(255, 0, 0), opacity=0.5)
    assert tuple(out[45, 40]) == (120, 120, 120)  # inside the product, away from the edge: untouched
    assert tuple(out[5, 5]) == (188, 60, 60)  # background: halfway to red
    assert tuple(out[45, 60]) == (188, 60, 60)  # the hole is background too
    # The outline: pixels on the product's edge (and the hole's) are drawn in the colour.
    assert out[20, 60, 0] > 200 and out[20, 60, 1] < 80
    assert out[40, 60, 0] > 200 and out[40, 60, 1] < 80


def test_overlay_refuses_mismatched_sizes() -> None:
    with pytest.raises(ValueError, match="differ"):
        overlay(np.zeros((H, W, 3), np.uint8), np.zeros((H + 1, W), np.uint8))


def test_checkerboard_shows_transparency_as_grey_and_white_cells() -> None:
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[16:48, 16:48] = (10, 200, 30, 255)
    out = checkerboard(rgba, cell=16)
    assert tuple(out[30, 30]) == (10, 200, 30)
    assert tuple(out[0, 0]) == (255, 255, 255)
    assert tuple(out[0, 16]) == (204, 204, 204)
    assert tuple(out[16, 0]) == (204, 204, 204)


def test_to_mode_outputs() -> None:
    soft = product_mask()
    soft[20:70, 30] = 100  # a soft left edge
    as_l = to_mode(soft, "L")
    assert as_l.shape == (H, W) and set(np.unique(as_l)) == {0, 255}
    assert as_l[40, 30] == 0  # 100 < 128
    assert to_mode(soft, "L", binary=False)[40, 30] == 100
    as_rgb = to_mode(soft, "RGB")
    assert as_rgb.shape == (H, W, 3) and np.array_equal(as_rgb[..., 1], as_l)
    photo = np.full((H, W, 3), 77, np.uint8)
    as_rgba = to_mode(soft, "RGBA", photo)
    assert as_rgba.shape == (H, W, 4)
    assert np.array_equal(as_rgba[..., 3], soft)  # alpha keeps the soft edge
    assert np.array_equal(as_rgba[..., :3], photo)
    with pytest.raises(ValueError, match="needs the photo"):
        to_mode(soft, "RGBA")
