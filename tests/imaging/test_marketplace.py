"""Marketplace presets: what a seller uploads must pass the marketplace's checks and still look right."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from imaging.cutout import U2NetpSegmenter
from imaging.images import ImageInputError, encode_png
from imaging.marketplace import (
    PRESETS,
    ExportTooLarge,
    ProductNotFound,
    SourceTooSmall,
    custom_preset,
    render,
    render_detailed,
)
from imaging.provenance import Provenance
from imaging.provenance import read as read_provenance

MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "u2netp.onnx"
PRODUCT = (40, 90, 160)


# --------------------------------------------------------------------------- helpers
def scene(
    width: int,
    height: int,
    box: tuple[int, int, int, int],
    *,
    background: str = "gradient",
    seed: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """A generated-looking picture: a blue product (rounded box at `box` = x, y, w, h) on a backdrop.

    Returns (RGB array, the product's mask)."""
    rng = np.random.default_rng(seed)
    if background == "plain":
        rgb = np.full((height, width, 3), 236.0, np.float32)
    else:
        t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
        warm, floor = np.array([228, 214, 196], np.float32), np.array([170, 150, 128], np.float32)
        rgb = warm * (1 - t) + floor * t + np.zeros((1, width, 1), np.float32)
        # Soft mottling, made small and enlarged (a full-size blur would make the tests slow).
        mottle = cv2.GaussianBlur(rng.normal(0, 1, (height // 8, width // 8)).astype(np.float32), (0, 0), 1)
        rgb += cv2.resize(mottle, (width, height), interpolation=cv2.INTER_CUBIC)[..., None] * 30
    rgb += rng.normal(0, 1.5, rgb.shape).astype(np.float32)
    x, y, w, h = box
    mask = np.zeros((height, width), np.uint8)
    radius = max(2, min(w, h) // 8)
    cv2.rectangle(mask, (x + radius, y), (x + w - 1 - radius, y + h - 1), 255, -1)
    cv2.rectangle(mask, (x, y + radius), (x + w - 1, y + h - 1 - radius), 255, -1)
    for cx, cy in ((x + radius, y + radius), (x + w - 1 - radius, y + radius)):
        cv2.circle(mask, (cx, cy), radius, 255, -1)
    for cx, cy in ((x + radius, y + h - 1 - radius), (x + w - 1 - radius, y + h - 1 - radius)):
        cv2.circle(mask, (cx, cy), radius, 255, -1)
    shade = np.linspace(0.85, 1.15, w, dtype=np.float32)[None, :, None]
    product = np.zeros_like(rgb)
    product[:, x : x + w] = np.asarray(PRODUCT, np.float32) * shade
    inside = mask.astype(bool)
    rgb[inside] = product[inside]
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8), mask


def png_of(rgb: np.ndarray) -> bytes:
    return encode_png(rgb)


def decoded(data: bytes) -> tuple[Image.Image, np.ndarray]:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image, np.asarray(image)


def product_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box of the clearly-product pixels in an exported picture (JPEG ringing is light)."""
    dark = rgb.min(axis=2) < 200
    rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def assert_white_outside(rgb: np.ndarray, box: tuple[int, int, int, int], margin: int = 24) -> None:
    """Exactly RGB 255 everywhere farther than `margin` px from the product's solid part: its soft
    edge (a few px, doubled by enlarging) plus JPEG's 8 px blocks stay within that."""
    x, y, w, h = box
    outside = np.ones(rgb.shape[:2], bool)
    outside[max(0, y - margin) : y + h + margin, max(0, x - margin) : x + w + margin] = False
    assert outside.any()
    assert (rgb[outside] == 255).all(), (
        f"{np.count_nonzero(rgb[outside] != 255)} background values are not 255"
    )


# ---------------------------------------------------------------------------- Amazon
def test_amazon_main_image_is_square_pure_white_jpeg_with_the_product_at_85_percent() -> None:
    rgb, mask = scene(1600, 1400, (500, 300, 1000, 700))
    result = render_detailed(png_of(rgb), PRESETS["amazon"], product_mask=mask)

    image, out = decoded(result.data)
    assert image.format == "JPEG" and image.mode == "RGB"  # no alpha channel
    assert "icc_profile" not in image.info  # untagged = sRGB
    assert image.size == (2000, 2000) == (result.width, result.height)
    assert result.notes == ()
    for corner in (out[:32, :32], out[:32, -32:], out[-32:, :32], out[-32:, -32:]):
        assert (corner == 255).all()
    box = product_box(out)
    assert_white_outside(out, box)
    assert max(box[2], box[3]) / 2000 == pytest.approx(0.85, abs=0.02)
    # Centred, and the product keeps its own colour.
    assert box[0] + box[2] / 2 == pytest.approx(1000, abs=20)
    assert box[1] + box[3] / 2 == pytest.approx(1000, abs=20)
    middle = out[box[1] + box[3] // 2 - 20 : box[1] + box[3] // 2 + 20, 980:1020].reshape(-1, 3).mean(axis=0)
    assert np.abs(middle - np.asarray(PRODUCT)).max() < 12


def test_amazon_finds_the_product_itself_on_a_plain_backdrop() -> None:
    rgb, _ = scene(1400, 1200, (300, 250, 900, 700), background="plain")
    out = decoded(render(png_of(rgb), PRESETS["amazon"]))[1]
    assert out.shape[0] == out.shape[1] >= 1600
    box = product_box(out)
    assert max(box[2], box[3]) / out.shape[1] == pytest.approx(0.85, abs=0.02)
    assert_white_outside(out, box)


def test_amazon_with_the_segmentation_model_on_a_textured_scene() -> None:
    if not MODEL_PATH.is_file():
        pytest.skip(f"u2netp model not found at {MODEL_PATH}")
    rgb, _ = scene(1500, 1300, (420, 300, 800, 640))
    out = decoded(render(png_of(rgb), PRESETS["amazon"], segmenter=U2NetpSegmenter(MODEL_PATH.read_bytes())))[
        1
    ]
    box = product_box(out)
    assert max(box[2], box[3]) / out.shape[1] == pytest.approx(0.85, abs=0.02)
    assert box[2] / box[3] == pytest.approx(800 / 640, rel=0.05)  # the product, not the scene
    assert_white_outside(out, box)


def test_amazon_reaches_its_minimum_side_from_a_small_result_and_says_how_much_it_enlarged() -> None:
    rgb, mask = scene(800, 800, (200, 250, 400, 300))  # an Aidge-sized result
    result = render_detailed(png_of(rgb), PRESETS["amazon"], product_mask=mask)
    assert (result.width, result.height) == (1600, 1600)
    assert result.scale == pytest.approx(1600 * 0.85 / 400, rel=0.01)
    assert any("enlarged 3.4x" in note for note in result.notes)


def test_amazon_steps_down_from_2000_px_to_stay_sharp() -> None:
    rgb, mask = scene(1100, 1000, (150, 150, 750, 600))
    result = render_detailed(png_of(rgb), PRESETS["amazon"], product_mask=mask)
    # A 750 px product reaches 0.85 of about 1760 px at 2x, so the square stops there.
    assert 1700 < result.width == result.height < 1800
    assert result.scale == pytest.approx(2.0, abs=0.01)
    assert result.notes == ()


def test_a_transparent_png_keeps_its_own_cut_out() -> None:
    rgb, mask = scene(1200, 1200, (100, 200, 1000, 600))
    rgba = np.dstack([rgb, mask])
    out = decoded(render(encode_png(rgba), PRESETS["amazon"]))[1]
    box = product_box(out)
    assert box[2] / out.shape[1] == pytest.approx(0.85, abs=0.02)
    assert box[2] / box[3] == pytest.approx(1000 / 600, rel=0.02)
    assert_white_outside(out, box)


def test_a_picture_without_a_product_cannot_go_on_white() -> None:
    flat = np.full((900, 900, 3), 180, np.uint8)
    with pytest.raises(ProductNotFound, match="No product"):
        render(png_of(flat), PRESETS["amazon"])


def test_a_mask_of_another_size_is_refused() -> None:
    rgb, mask = scene(1000, 800, (200, 200, 500, 400))
    with pytest.raises(ValueError, match="input photo"):
        render(png_of(rgb), PRESETS["amazon"], product_mask=mask[:400])


# ------------------------------------------------------------------- Taobao / Tmall
@pytest.mark.parametrize("source", [(1024, 1024), (1280, 720), (768, 1152), (2048, 1536)])
@pytest.mark.parametrize(("key", "size"), [("taobao", (800, 800)), ("tmall", (750, 1000))])
def test_taobao_and_tmall_sizes_are_exact(source: tuple[int, int], key: str, size: tuple[int, int]) -> None:
    width, height = source
    rgb, mask = scene(width, height, (width // 3, height // 3, width // 3, height // 3))
    result = render_detailed(png_of(rgb), PRESETS[key], product_mask=mask)
    image, _ = decoded(result.data)
    assert image.format == "JPEG" and image.mode == "RGB"
    assert image.size == size == (result.width, result.height)
    if key == "taobao":
        assert len(result.data) <= 300_000


def test_cover_crop_is_centred_on_the_product_not_the_frame() -> None:
    # A wide result with the product near its right edge: a centre crop would cut it off.
    rgb, mask = scene(1600, 800, (1150, 250, 300, 300), background="plain")
    out = decoded(render(png_of(rgb), PRESETS["taobao"], product_mask=mask))[1]
    x, y, w, h = product_box(out)
    assert (w, h) == (pytest.approx(300, abs=4), pytest.approx(300, abs=4))
    assert x > 10 and x + w < 790  # the whole product is in the frame


def test_cover_crop_finds_the_product_without_a_mask() -> None:
    rgb, _ = scene(1600, 800, (1150, 250, 300, 300), background="plain")
    out = decoded(render(png_of(rgb), PRESETS["taobao"]))[1]
    x, _, w, _ = product_box(out)
    assert x > 10 and x + w < 790


def test_a_picture_of_the_right_shape_is_only_resized_without_looking_for_the_product() -> None:
    class Refuses:
        name = "refuses"

        def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
            raise AssertionError("no crop needed, so no segmentation")

    rgb, _ = scene(1000, 1000, (300, 300, 400, 400))
    assert decoded(render(png_of(rgb), PRESETS["taobao"], segmenter=Refuses()))[0].size == (800, 800)


def test_exact_sizes_never_enlarge_more_than_twice() -> None:
    rgb, _ = scene(300, 300, (100, 100, 100, 100))
    with pytest.raises(SourceTooSmall, match=r"2\.7x") as caught:
        render(png_of(rgb), PRESETS["taobao"])
    assert caught.value.needed_scale == pytest.approx(800 / 300)
    rgb, _ = scene(400, 400, (100, 100, 200, 200))
    assert decoded(render(png_of(rgb), PRESETS["taobao"]))[0].size == (800, 800)  # exactly 2x is fine


def test_taobao_white_is_800_square_white_and_raises_quality_to_reach_38_kb() -> None:
    rgb, mask = scene(1200, 1000, (300, 200, 600, 600))
    result = render_detailed(png_of(rgb), PRESETS["taobao_white"], product_mask=mask)
    _, out = decoded(result.data)
    assert out.shape == (800, 800, 3)
    assert_white_outside(out, product_box(out))
    assert 38_000 <= len(result.data) <= 300_000
    assert result.quality is not None and result.quality > 90
    assert any("raised" in note for note in result.notes)


def test_taobao_white_says_when_a_plain_picture_stays_under_38_kb() -> None:
    flat = np.full((1000, 1000, 3), 236, np.uint8)
    flat[300:700, 300:700] = PRODUCT
    result = render_detailed(png_of(flat), PRESETS["taobao_white"])
    assert len(result.data) < 38_000 and result.quality == 100
    assert any("under the 38 KB minimum" in note for note in result.notes)


# -------------------------------------------------------------------------- custom
def test_custom_pad_letterboxes_on_white() -> None:
    rgb, _ = scene(1600, 800, (600, 200, 400, 400))
    out = decoded(render(png_of(rgb), custom_preset(800, 800, fit="pad", format="PNG")))[1]
    assert out.shape == (800, 800, 3)
    assert (out[:195] == 255).all() and (out[-195:] == 255).all()  # 800x400 picture in the middle
    assert (out[205:595].min(axis=2) < 250).mean() > 0.9


def test_custom_crop_keeps_the_pictures_own_pixels() -> None:
    rgb, mask = scene(1000, 1000, (400, 400, 200, 200))
    out = decoded(render(png_of(rgb), custom_preset(600, 600, fit="crop", format="PNG"), product_mask=mask))[
        1
    ]
    assert np.array_equal(out, rgb[200:800, 200:800])  # no resampling, centred on the product


def test_custom_solid_background_places_the_product() -> None:
    rgb, mask = scene(1200, 900, (300, 200, 600, 500))
    preset = custom_preset(1000, 1000, background="#f2f2f2", fill=0.7, format="PNG")
    assert preset.background == "#F2F2F2"
    out = decoded(render(png_of(rgb), preset, product_mask=mask))[1]
    assert (out[:40, :40] == 242).all()
    assert product_box(out)[2] == pytest.approx(700, abs=3)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"width": 0, "height": 800}, "width must be a whole number of pixels from 64 to 10000, got 0"),
        ({"width": 800.5, "height": 800}, "width must be a whole number"),
        ({"width": True, "height": 800}, "width must be a whole number"),
        ({"width": 800, "height": 20_000}, "height must be a whole number of pixels from 64 to 10000"),
        ({"width": 800, "height": 800, "background": "#FFF"}, "background must be None"),
        ({"width": 800, "height": 800, "background": "red"}, "a colour like #FFFFFF"),
        ({"width": 800, "height": 800, "fill": 0.8}, "fill places the cut-out product on a solid background"),
        ({"width": 800, "height": 800, "background": "#FFFFFF", "fill": 0}, "fill must be a share"),
        ({"width": 800, "height": 800, "background": "#FFFFFF", "fill": 1.2}, "fill must be a share"),
        ({"width": 800, "height": 800, "fit": "stretch"}, "fit must be one of pad, crop, cover"),
        (
            {"width": 800, "height": 800, "jpeg_quality": 50},
            "jpeg_quality must be a whole number from 70 to 100",
        ),
        ({"width": 800, "height": 800, "jpeg_quality": 101}, "jpeg_quality"),
        (
            {"width": 800, "height": 800, "max_bytes": 500},
            "max_bytes must be a whole number of bytes, at least",
        ),
        ({"width": 800, "height": 800, "format": "GIF"}, "format must be JPEG or PNG"),
    ],
)
def test_custom_preset_validation_says_what_is_wrong(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        custom_preset(**arguments)  # type: ignore[arg-type]


def test_custom_preset_defaults() -> None:
    assert custom_preset(800, 800, background="f2f2f2").background == "#F2F2F2"
    preset = custom_preset(1000, 1000, background="white")
    assert (preset.size, preset.background, preset.fill, preset.format) == (
        (1000, 1000),
        "#FFFFFF",
        0.85,
        "JPEG",
    )
    assert custom_preset(640, 480).background is None


# ----------------------------------------------------------------------- byte caps
def noisy(side: int, seed: int = 5) -> bytes:
    rng = np.random.default_rng(seed)
    return png_of(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))


def test_quality_is_lowered_stepwise_to_meet_the_byte_cap() -> None:
    data = noisy(800)
    unlimited = render_detailed(data, custom_preset(800, 800))
    cap = len(unlimited.data) * 3 // 4
    result = render_detailed(data, custom_preset(800, 800, max_bytes=cap))
    assert len(result.data) <= cap
    assert result.quality is not None and 70 <= result.quality < 90
    assert any(f"lowered to {result.quality}" in note for note in result.notes)


def test_export_too_large_when_quality_70_does_not_fit() -> None:
    with pytest.raises(ExportTooLarge, match="quality 70") as caught:
        render(noisy(1000), custom_preset(1000, 1000, max_bytes=50_000))
    assert caught.value.smallest_bytes > 50_000 and caught.value.quality == 70
    with pytest.raises(ExportTooLarge, match="as PNG"):
        render(noisy(1000), custom_preset(1000, 1000, max_bytes=50_000, format="PNG"))


def test_taobao_stays_under_300_kb_even_for_busy_pictures() -> None:
    result = render_detailed(noisy(1024), PRESETS["taobao"])
    assert len(result.data) <= 300_000
    assert result.quality is not None and result.quality >= 70


# ------------------------------------------------------------------ original, colour
def test_original_is_the_file_as_generated() -> None:
    rgb, _ = scene(700, 500, (200, 100, 300, 300))
    data = png_of(rgb)
    result = render_detailed(data, PRESETS["original"])
    assert result.data == data and result.format == "PNG" and result.extension == "png"


def test_a_broken_file_raises_image_input_error() -> None:
    rgb, _ = scene(700, 500, (200, 100, 300, 300))
    with pytest.raises(ImageInputError):
        render(png_of(rgb)[:300], PRESETS["taobao"])
    with pytest.raises(ImageInputError):
        render(b"not an image", PRESETS["original"])


def _linear_rgb_profile() -> bytes:
    """A minimal ICC v2 RGB profile with sRGB's primaries and a linear (gamma 1.0) curve."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    text = b"linear RGB test\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", 0x0100) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"none"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def test_pixels_in_another_colour_space_are_converted_to_srgb() -> None:
    grey = np.full((600, 600, 3), 128, np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG", icc_profile=_linear_rgb_profile())
    result = render_detailed(buffer.getvalue(), custom_preset(600, 600, format="PNG"))
    out = decoded(result.data)[1]
    # Linear 128/255 is sRGB ~188: shown as the seller saw it, not darker.
    assert abs(int(out[300, 300, 0]) - 188) <= 2
    assert "converted to sRGB" in result.notes


# ------------------------------------------------------------------- AI provenance and label
AI_PROVENANCE = Provenance(
    source_type="compositeWithTrainedAlgorithmicMedia",
    tool="Backdrop Studio",
    provider="dashscope",
    provider_label="Alibaba DashScope",
    job_id="job-7",
    created_at="2026-12-07T18:00:00Z",
)


def pillow_xmp(data: bytes) -> str:
    image, _ = decoded(data)
    raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    assert raw, f"no XMP in the {image.format} file"
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_every_preset_writes_the_provenance_packet_and_keeps_the_pixels(key: str) -> None:
    rgb, mask = scene(1200, 1200, (350, 300, 500, 650))
    plain = render_detailed(png_of(rgb), PRESETS[key], product_mask=mask)
    labelled = render_detailed(png_of(rgb), PRESETS[key], product_mask=mask, provenance=AI_PROVENANCE)
    assert read_provenance(labelled.data) == AI_PROVENANCE
    xmp = pillow_xmp(labelled.data)
    assert "digitalsourcetype/compositeWithTrainedAlgorithmicMedia" in xmp and "TC260:AIGC" in xmp
    assert np.array_equal(decoded(labelled.data)[1], decoded(plain.data)[1])
    assert read_provenance(plain.data) is None  # without provenance nothing is written, as before


def test_a_jpeg_export_keeps_the_packet_and_stays_within_the_byte_cap() -> None:
    data = noisy(800)
    unlimited = render_detailed(data, custom_preset(800, 800))
    bare = render_detailed(data, custom_preset(800, 800, max_bytes=len(unlimited.data) * 3 // 4))
    # 100 bytes to spare without the packet: the ~1 KB packet must make the encoder go one step lower.
    tight = custom_preset(800, 800, max_bytes=len(bare.data) + 100)
    rendered = render_detailed(data, tight, provenance=AI_PROVENANCE)
    assert rendered.format == "JPEG" and len(rendered.data) <= len(bare.data) + 100
    assert rendered.quality is not None and bare.quality is not None and rendered.quality < bare.quality
    assert rendered.data.count(b"http://ns.adobe.com/xap/1.0/\x00") == 1
    assert read_provenance(rendered.data) == AI_PROVENANCE
    assert read_provenance(render(noisy(1024), PRESETS["taobao"], provenance=AI_PROVENANCE)) == AI_PROVENANCE


def test_the_visible_label_is_drawn_in_the_corner_at_5_percent() -> None:
    noto_cjk = pytest.importorskip("noto_cjk")
    rgb, mask = scene(1200, 1200, (350, 300, 500, 650))
    options = {"visible_label": "AI生成", "label_font": str(noto_cjk.otc_path("sans")), "label_font_index": 2}
    for key in ("taobao", "tmall", "amazon"):
        plain = decoded(render(png_of(rgb), PRESETS[key], product_mask=mask))[1].astype(int)
        shown = decoded(render(png_of(rgb), PRESETS[key], product_mask=mask, **options))[1].astype(int)  # type: ignore[arg-type]
        changed = np.argwhere(np.abs(shown - plain).max(axis=2) > 40)
        height, width = plain.shape[:2]
        assert changed[:, 0].min() > height * 0.8 and changed[:, 1].min() > width * 0.6, key
        assert changed[:, 0].max() - changed[:, 0].min() >= 0.05 * min(height, width)
    assert PRESETS["taobao"].ai_label_visible_default and PRESETS["tmall"].ai_label_visible_default
    assert not PRESETS["amazon"].ai_label_visible_default
    assert not PRESETS["taobao_white"].ai_label_visible_default


def test_original_stays_byte_for_byte_unless_a_label_is_drawn() -> None:
    rgb, _ = scene(640, 480, (200, 120, 240, 300))
    source = png_of(rgb)
    tagged = render_detailed(source, PRESETS["original"], provenance=AI_PROVENANCE)
    assert read_provenance(tagged.data) == AI_PROVENANCE
    assert np.array_equal(decoded(tagged.data)[1], rgb)
    shown = render_detailed(source, PRESETS["original"], visible_label="AI generated")
    assert shown.format == "PNG" and shown.notes == ("re-encoded to draw the AI label",)
    assert not np.array_equal(decoded(shown.data)[1], rgb)
    bmp = io.BytesIO()
    Image.fromarray(rgb).save(bmp, "BMP")
    kept = render_detailed(bmp.getvalue(), PRESETS["original"], provenance=AI_PROVENANCE)
    assert kept.data == bmp.getvalue() and "cannot carry the AI provenance label" in kept.notes[0]
