"""imaging.images: every way an upload can be wrong, every mode we convert, and the encoders."""

from __future__ import annotations

import io
import pickle
import struct
import tracemalloc
import warnings
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from imaging.images import (
    DEFAULT_MAX_PIXELS,
    ImageInputError,
    LoadedImage,
    encode_jpeg,
    encode_png,
    flatten_on,
    image_size,
    load_image,
    thumbnail,
)


# ------------------------------------------------------------------ helpers
def save(img: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def quadrants(width: int = 120, height: int = 80) -> np.ndarray:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    arr = np.zeros((height, width, 3), np.uint8)
    arr[: height // 2, : width // 2] = (255, 0, 0)
    arr[: height // 2, width // 2 :] = (0, 255, 0)
    arr[height // 2 :, : width // 2] = (0, 0, 255)
    arr[height // 2 :, width // 2 :] = (255, 255, 255)
    return arr


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but which carries no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def error_of(data: bytes, **limits: int) -> ImageInputError:
    with pytest.raises(ImageInputError) as caught:
        load_image(data, **limits)
    return caught.value


# ------------------------------------------------------------ error codes
def test_empty_file() -> None:
    error = error_of(b"")
    assert error.code == "empty"
    assert "empty" in str(error)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            save(Image.fromarray(quadrants(400, 300)), "JPEG", quality=90)[:1500], id="truncated-jpeg"
        ),
        pytest.param(save(Image.fromarray(quadrants(400, 300)), "PNG")[:200], id="truncated-png"),
        pytest.param(b"this is a text file, not a photo" * 10, id="text"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 200, id="jpeg-magic-then-zeros"),
    ],
)
def test_corrupt_or_truncated_files(data: bytes) -> None:
    error = error_of(data)
    assert error.code == "corrupt"
    assert "damaged or incomplete" in str(error)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        pytest.param(save(Image.fromarray(quadrants()), "GIF"), "GIF", id="gif"),
        pytest.param(save(Image.fromarray(quadrants()), "TIFF"), "TIFF", id="tiff"),
        pytest.param(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100, "HEIC", id="heic"),
        pytest.param(b"%PDF-1.7\n" + b"0" * 100, "PDF", id="pdf"),
    ],
)
def test_unsupported_formats_name_the_format(data: bytes, fmt: str) -> None:
    error = error_of(data)
    assert error.code == "unsupported_format"
    assert error.params == {"format": fmt}
    assert str(error).startswith(f"{fmt} images are not supported")
    assert "JPEG, PNG, WEBP or BMP" in str(error)


@pytest.mark.parametrize(
    ("width", "height"),
    [(50_000, 50_000), (10_000, 10_000), (8_000, 6_000)],
    ids=["beyond-pillow-error", "in-pillow-warning-range", "only-our-limit"],
)
def test_decompression_bomb_is_refused_from_the_header_without_allocating(width: int, height: int) -> None:
    data = png_header_only(width, height)
    tracemalloc.start()
    try:
        error = error_of(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.code == "too_many_pixels"
    assert error.params == {"pixels": width * height, "max_pixels": DEFAULT_MAX_PIXELS}
    assert f"{width * height:,}" in str(error)
    assert peak < 20 * 2**20  # decoding even one of these would need gigabytes


def test_pixel_limit_is_configurable() -> None:
    data = save(Image.fromarray(quadrants(200, 100)), "PNG")
    assert error_of(data, max_pixels=10_000).params == {"pixels": 20_000, "max_pixels": 10_000}
    assert load_image(data, max_pixels=20_000).width == 200


def test_too_small() -> None:
    error = error_of(save(Image.fromarray(quadrants(100, 40)), "PNG"))
    assert error.code == "too_small"
    assert error.params == {"width": 100, "height": 40, "min_side": 64}
    assert "100x40" in str(error) and "at least 64" in str(error)


def test_too_large_side() -> None:
    error = error_of(png_header_only(13_000, 100))
    assert error.code == "too_large"
    assert error.params == {"width": 13_000, "height": 100, "max_side": 12_000}
    assert "13000x100" in str(error)


def test_every_message_is_a_sentence_that_says_what_to_do() -> None:
    samples = [
        ImageInputError("empty"),
        ImageInputError("corrupt"),
        ImageInputError("unsupported_format", {"format": "GIF"}),
        ImageInputError("too_many_pixels", {"pixels": 50_000_000, "max_pixels": 40_000_000}),
        ImageInputError("too_small", {"width": 10, "height": 10, "min_side": 64}),
        ImageInputError("too_large", {"width": 20_000, "height": 10, "max_side": 12_000}),
        ImageInputError("mask_size_mismatch", {"mask_w": 1, "mask_h": 2, "image_w": 3, "image_h": 4}),
        ImageInputError("mask_empty"),
        ImageInputError("mask_full"),
        ImageInputError("mask_corrupt"),
    ]
    for error in samples:
        message = str(error)
        assert message[0].isupper() and message.endswith("."), message
        assert "{" not in message, message  # every placeholder was filled
        assert any(
            verb in message
            for verb in ("Upload", "upload", "Use", "Paint", "Resize", "Save", "Choose", "Export")
        )


def test_error_survives_pickling_with_code_and_params() -> None:
    error = ImageInputError("too_small", {"width": 10, "height": 20, "min_side": 64})
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.params, str(copy)) == (error.code, error.params, str(error))


def test_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        ImageInputError("bad_vibes")


# ----------------------------------------------------------- normalisation
def test_exif_orientation_6_is_applied() -> None:
    stored = quadrants(120, 80)  # landscape as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = save(Image.fromarray(stored), "JPEG", quality=95, exif=exif.tobytes())
    image = load_image(data)
    assert (image.width, image.height) == (80, 120)
    assert "exif_rotated" in image.notes
    # Clockwise: stored top-left (red) is now top-right, stored bottom-left (blue) top-left.
    assert np.allclose(image.rgb[10, 70], (255, 0, 0), atol=12)
    assert np.allclose(image.rgb[10, 10], (0, 0, 255), atol=12)
    assert np.allclose(image.rgb[110, 70], (0, 255, 0), atol=12)
    assert np.allclose(image.rgb[110, 10], (255, 255, 255), atol=12)
    assert image_size(data) == (80, 120)


@pytest.mark.parametrize(
    ("cmyk", "rgb"),
    [((0, 255, 255, 0), (255, 0, 0)), ((255, 0, 255, 0), (0, 255, 0)), ((0, 0, 0, 0), (255, 255, 255))],
)
def test_cmyk_jpeg_becomes_rgb(cmyk: tuple[int, int, int, int], rgb: tuple[int, int, int]) -> None:
    # Pillow writes Adobe-style inverted CMYK JPEGs, the variant Photoshop produces.
    data = save(Image.new("CMYK", (96, 96), cmyk), "JPEG", quality=95)
    image = load_image(data)
    assert image.source_format == "JPEG"
    assert "converted_from_cmyk" in image.notes
    assert np.abs(image.rgb[48, 48].astype(int) - rgb).max() <= 8
    assert not image.has_alpha


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    values = np.zeros((80, 90), np.uint16)
    values[:, 30:60] = 32896  # 128 * 257: mid grey in 16 bits
    values[:, 60:] = 65535
    ok, encoded = cv2.imencode(".png", values)
    assert ok
    image = load_image(encoded.tobytes())
    assert "reduced_from_16_bit" in image.notes
    assert tuple(image.rgb[40, 10]) == (0, 0, 0)
    assert tuple(image.rgb[40, 45]) == (128, 128, 128)  # clipping would give 255
    assert tuple(image.rgb[40, 80]) == (255, 255, 255)


def test_sixteen_bit_rgb_png_keeps_its_colours() -> None:
    rgb16 = np.zeros((70, 70, 3), np.uint16)
    rgb16[...] = (65535, 32896, 0)
    ok, encoded = cv2.imencode(".png", rgb16[..., ::-1].copy())  # OpenCV writes BGR
    assert ok
    image = load_image(encoded.tobytes())
    assert "reduced_from_16_bit" in image.notes
    assert np.abs(image.rgb[35, 35].astype(int) - (255, 128, 0)).max() <= 1


def test_palette_png_with_transparency_keeps_alpha() -> None:
    indices = np.zeros((80, 80), np.uint8)
    indices[20:60, 20:60] = 1
    img = Image.fromarray(indices, mode="P")
    img.putpalette([0, 0, 0, 200, 30, 30] + [0, 0, 0] * 254)
    data = save(img, "PNG", transparency=0)
    image = load_image(data)
    assert "palette_expanded" in image.notes
    assert image.has_alpha
    assert image.rgba[5, 5, 3] == 0
    assert tuple(image.rgba[40, 40]) == (200, 30, 30, 255)


def test_rgba_png_keeps_its_alpha_exactly() -> None:
    rgba = np.zeros((80, 100, 4), np.uint8)
    rgba[..., :3] = (10, 120, 200)
    rgba[..., 3] = np.tile(np.linspace(0, 255, 100).astype(np.uint8), (80, 1))
    image = load_image(save(Image.fromarray(rgba), "PNG"))
    assert image.has_alpha
    assert np.array_equal(image.rgba, rgba)


@pytest.mark.parametrize("alpha_value", [255, 252, 0])
def test_alpha_that_is_not_real_transparency_is_ignored(alpha_value: int) -> None:
    rgba = np.zeros((80, 80, 4), np.uint8)
    rgba[..., :3] = (90, 90, 90)
    rgba[..., 3] = alpha_value
    image = load_image(save(Image.fromarray(rgba), "PNG"))
    assert not image.has_alpha
    assert (image.rgba[..., 3] == 255).all()  # the photo stays visible, the cutout runs on it
    assert tuple(image.rgb[0, 0]) == (90, 90, 90)


def test_grey_and_one_bit_images_become_rgb() -> None:
    grey = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (70, 1))
    image = load_image(save(Image.fromarray(grey, mode="L"), "PNG"))
    assert image.rgba.shape == (70, 128, 4)
    assert tuple(image.rgba[3, 10]) == (20, 20, 20, 255)
    bits = Image.fromarray(np.eye(80, dtype=bool))
    image = load_image(save(bits, "BMP"))
    assert tuple(image.rgb[5, 5]) == (255, 255, 255) and tuple(image.rgb[5, 6]) == (0, 0, 0)


def test_webp_and_bmp_load() -> None:
    arr = quadrants()
    webp = load_image(save(Image.fromarray(arr), "WEBP", lossless=True))
    bmp = load_image(save(Image.fromarray(arr), "BMP"))
    assert webp.source_format == "WEBP" and bmp.source_format == "BMP"
    assert np.array_equal(webp.rgb, arr)
    assert np.array_equal(bmp.rgb, arr)


def test_animated_png_uses_the_first_frame() -> None:
    first = Image.new("RGB", (80, 80), (200, 0, 0))
    second = Image.new("RGB", (80, 80), (0, 0, 200))
    data = save(first, "PNG", save_all=True, append_images=[second])
    image = load_image(data)
    assert "first_frame_only" in image.notes
    assert tuple(image.rgb[40, 40]) == (200, 0, 0)


def test_loaded_image_is_immutable_and_describes_itself() -> None:
    image = load_image(save(Image.fromarray(quadrants()), "PNG"))
    assert isinstance(image, LoadedImage)
    assert (image.width, image.height, image.source_format) == (120, 80, "PNG")
    assert image.rgb.flags.c_contiguous and image.rgb.shape == (80, 120, 3)
    with pytest.raises(ValueError):
        image.rgba[0, 0, 0] = 1


# ---------------------------------------------------------------- encoders
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_encode_png_round_trips_exactly(channels: int) -> None:
    rng = np.random.default_rng(0)
    shape = (50, 70) if channels == 1 else (50, 70, channels)
    arr = rng.integers(0, 256, shape, dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(arr))))
    assert np.array_equal(decoded, arr)


def test_encode_jpeg_round_trips_closely() -> None:
    arr = quadrants(160, 120)
    decoded = np.asarray(Image.open(io.BytesIO(encode_jpeg(arr, quality=92))).convert("RGB"))
    assert np.abs(decoded.astype(int) - arr).mean() < 3


def test_encode_jpeg_refuses_rgba_and_points_to_flatten() -> None:
    with pytest.raises(ValueError, match="flatten_on"):
        encode_jpeg(np.zeros((10, 10, 4), np.uint8))


def test_encoders_refuse_wrong_arrays() -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        encode_png(np.zeros((10, 10, 2), np.uint8))


def test_flatten_on_white_never_leaves_black_where_alpha_was() -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)  # transparent black, the classic JPEG trap
    rgba[0, 0] = (200, 100, 50, 255)
    rgba[0, 1] = (200, 100, 50, 128)
    flat = flatten_on(rgba)
    assert tuple(flat[3, 3]) == (255, 255, 255)
    assert tuple(flat[0, 0]) == (200, 100, 50)
    assert tuple(flat[0, 1]) == (227, 177, 152)  # halfway to white
    decoded = np.asarray(Image.open(io.BytesIO(encode_jpeg(flatten_on(np.zeros((64, 64, 4), np.uint8))))))
    assert decoded.min() >= 250
    assert tuple(flatten_on(rgba, (0, 128, 0))[3, 3]) == (0, 128, 0)


def test_thumbnail_keeps_aspect_and_never_upscales() -> None:
    arr = quadrants(400, 200)
    small = thumbnail(arr, 100)
    assert small.shape == (50, 100, 3)
    assert np.allclose(small[10, 10], (255, 0, 0), atol=1)
    assert thumbnail(arr, 1000).shape == arr.shape


def test_image_size_reads_only_the_header() -> None:
    assert image_size(png_header_only(3000, 2000)) == (3000, 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and says nothing about sizes Pillow merely warns about
        assert image_size(png_header_only(10_000, 10_000)) == (10_000, 10_000)
    with pytest.raises(ImageInputError) as caught:
        image_size(b"")
    assert caught.value.code == "empty"
