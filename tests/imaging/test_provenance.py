"""AI provenance: the XMP label survives in every format, pixels stay untouched, the visible label reads."""

from __future__ import annotations

import io
import json
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from imaging.provenance import (
    AIGC_FIELDS,
    SOURCE_TYPES,
    Provenance,
    ProvenanceError,
    add_visible_label,
    draw_visible_label,
    embed,
    read,
    read_aigc_label,
    read_visible_label,
)
from imaging.text import TextError

noto_cjk = pytest.importorskip("noto_cjk")
CJK_FONT = str(noto_cjk.otc_path("sans"))
SIMPLIFIED_CHINESE = 2  # face index in NotoSansCJK-Regular.ttc

VENDOR = Provenance(
    source_type="compositeWithTrainedAlgorithmicMedia",
    tool="Backdrop Studio",
    provider="dashscope",
    provider_label="Alibaba DashScope",
    job_id="job-42",
    created_at="2026-12-07T18:00:00Z",
)
LOCAL = Provenance(source_type="compositeSynthetic", tool="Backdrop Studio", provider="local")


def picture(width: int = 240, height: int = 180, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def encoded(rgb: np.ndarray, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, fmt, **options)
    return buffer.getvalue()


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"))


def pillow_xmp(data: bytes) -> str:
    """The XMP packet as Pillow exposes it (getxmp() needs defusedxml, which we do not ship)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    assert raw, "Pillow sees no XMP packet"
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x0131] = "a camera app"  # Software
    return exif.tobytes()


FORMATS = {
    "png": lambda rgb: encoded(rgb, "PNG"),
    "jpeg": lambda rgb: encoded(rgb, "JPEG", quality=90),
    "jpeg_exif": lambda rgb: encoded(rgb, "JPEG", quality=90, exif=_exif()),
    "webp_lossy": lambda rgb: encoded(rgb, "WEBP", quality=80),
    "webp_lossless": lambda rgb: encoded(rgb, "WEBP", lossless=True),
    "webp_alpha": lambda rgb: encoded(
        np.dstack([rgb, np.full(rgb.shape[:2], 200, np.uint8)]), "WEBP", lossless=True
    ),
    "webp_extended": lambda rgb: encoded(rgb, "WEBP", quality=80, exif=_exif()),
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_round_trip_keeps_every_field_and_pillow_sees_the_packet(kind: str) -> None:
    original = FORMATS[kind](picture())
    labelled = embed(original, VENDOR)
    assert read(labelled) == VENDOR
    xmp = pillow_xmp(labelled)
    assert "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia" in xmp
    assert "<xmp:CreatorTool>Backdrop Studio</xmp:CreatorTool>" in xmp
    assert "TC260:AIGC" in xmp


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_embedding_leaves_the_pixels_alone_and_is_idempotent(kind: str) -> None:
    original = FORMATS[kind](picture())
    once = embed(original, VENDOR)
    assert np.array_equal(pixels(once), pixels(original))
    assert embed(once, VENDOR) == once
    relabelled = embed(once, LOCAL)
    assert read(relabelled) == LOCAL
    assert relabelled.count(b"W5M0MpCehiHzreSzNTczkc9d") == 1  # one packet, the old one replaced


def test_png_pixel_chunks_are_byte_identical() -> None:
    original = FORMATS["png"](picture())

    def idat(data: bytes) -> bytes:
        out, pos = b"", 8
        while pos < len(data):
            (length,) = struct.unpack(">I", data[pos : pos + 4])
            if data[pos + 4 : pos + 8] == b"IDAT":
                out += data[pos + 8 : pos + 8 + length]
            pos += 12 + length
        return out

    assert idat(embed(original, VENDOR)) == idat(original)


def test_jpeg_scan_data_is_byte_identical_and_exif_stays_first() -> None:
    original = FORMATS["jpeg_exif"](picture())
    labelled = embed(original, VENDOR)
    assert labelled[labelled.index(b"\xff\xda") :] == original[original.index(b"\xff\xda") :]
    assert labelled.index(b"Exif\x00") < labelled.index(b"http://ns.adobe.com/xap/1.0/\x00")


def test_a_simple_webp_becomes_extended_with_the_xmp_flag_and_correct_sizes() -> None:
    labelled = embed(FORMATS["webp_alpha"](picture(101, 77)), VENDOR)
    assert labelled[12:16] == b"VP8X"
    flags = labelled[20]
    assert flags & 0x04 and flags & 0x10  # XMP and alpha
    width = int.from_bytes(labelled[24:27], "little") + 1
    height = int.from_bytes(labelled[27:30], "little") + 1
    assert (width, height) == (101, 77)
    assert struct.unpack("<I", labelled[4:8])[0] == len(labelled) - 8
    with Image.open(io.BytesIO(labelled)) as image:
        assert image.size == (101, 77) and image.mode == "RGBA"


def test_the_chinese_implicit_label_has_the_gb_45438_fields() -> None:
    label = read_aigc_label(embed(FORMATS["png"](picture()), VENDOR))
    assert label is not None
    assert list(label) == list(AIGC_FIELDS)
    assert label["Label"] == "1"
    assert label["ContentProducer"] == "Alibaba DashScope"
    assert label["ProduceID"] == "job-42"
    local = read_aigc_label(embed(FORMATS["png"](picture()), LOCAL))
    assert local is not None and local["ContentProducer"] == "local"


def test_a_vendors_own_aigc_label_is_kept_not_overwritten() -> None:
    vendor_label = {"Label": "1", "ContentProducer": "001191110108MA01KP2T5U00000", "ProduceID": "tx-9"}
    escaped = json.dumps(vendor_label).replace('"', "&quot;")
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/">'
        f"<TC260:AIGC>{escaped}</TC260:AIGC>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()
    body = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    png = FORMATS["png"](picture())
    with_vendor = png[:33] + chunk + png[33:]  # after the 8-byte signature and the 25-byte IHDR
    assert read_aigc_label(with_vendor) == vendor_label
    label = read_aigc_label(embed(with_vendor, VENDOR))
    assert label is not None
    assert label["ContentProducer"] == "001191110108MA01KP2T5U00000"
    assert label["ProduceID"] == "tx-9"
    assert read(embed(with_vendor, VENDOR)) == VENDOR


def test_a_file_without_our_packet_reads_as_none() -> None:
    assert read(FORMATS["jpeg"](picture())) is None
    assert read(b"not an image") is None
    assert read_visible_label(FORMATS["png"](picture())) is None


def test_bad_input_says_what_to_do() -> None:
    with pytest.raises(ProvenanceError, match="PNG, JPEG or WebP"):
        embed(encoded(picture(), "BMP"), VENDOR)
    with pytest.raises(ProvenanceError, match="cut short"):
        embed(FORMATS["png"](picture())[:-40], VENDOR)
    with pytest.raises(ProvenanceError, match="unknown source type"):
        Provenance(source_type="aiMagic", tool="Backdrop Studio", provider="local")
    assert set(SOURCE_TYPES) >= {"compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"}


def test_hostile_xml_is_not_expanded() -> None:
    packet = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&a;</x:xmpmeta>'
    body = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    jpeg = FORMATS["jpeg"](picture())
    hostile = jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]
    assert read(hostile) is None


# ------------------------------------------------------------------ visible label
def ink_height(labelled: np.ndarray, plain: np.ndarray) -> int:
    """Height of the white glyph pixels the label drew."""
    glyphs = (labelled.min(axis=2) > 200) & (plain.max(axis=2) < 100)
    rows = np.flatnonzero(glyphs.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


@pytest.mark.parametrize("size", [(800, 800), (750, 1000), (2000, 2000), (1280, 720)])
def test_visible_label_glyphs_are_at_least_5_percent_of_the_shortest_side(size: tuple[int, int]) -> None:
    width, height = size
    plain = np.full((height, width, 3), 40, np.uint8)
    labelled = add_visible_label(plain, font=CJK_FONT, font_index=SIMPLIFIED_CHINESE)
    assert ink_height(labelled, plain) >= 0.05 * min(width, height)


def test_visible_label_sits_in_the_chosen_corner_and_reads_on_white() -> None:
    white = np.full((800, 800, 3), 255, np.uint8)
    labelled, drawn = draw_visible_label(white, font=CJK_FONT, font_index=SIMPLIFIED_CHINESE)
    x, y, w, h = drawn.box
    assert x + w >= 760 and y + h >= 760  # bottom-right, inside a 2 % margin
    changed = np.argwhere((labelled != 255).any(axis=2))
    assert changed[:, 0].min() >= y and changed[:, 1].min() >= x
    plate = labelled[y : y + h, x : x + w].astype(int)
    # Legible: the glyphs are white on a plate dark enough for more than 4.5:1 contrast.
    assert plate.max() >= 250 and np.percentile(plate, 10) < 120
    top_left = add_visible_label(white, font=CJK_FONT, font_index=SIMPLIFIED_CHINESE, corner="top_left")
    assert (top_left[:100, :200] != 255).any() and (top_left[-100:, -200:] == 255).all()
    Image.fromarray(labelled).save(io.BytesIO(), "PNG")


def test_visible_label_draws_real_glyphs_not_tofu_boxes() -> None:
    """生 is strokes that enclose nothing; a .notdef box (tofu) would be an outline around a hole."""
    white = np.full((600, 600, 3), 255, np.uint8)
    labelled, drawn = draw_visible_label(white, "生", font=CJK_FONT, font_index=SIMPLIFIED_CHINESE)
    x, y, w, h = drawn.box
    glyph = (labelled[y : y + h, x : x + w].min(axis=2) > 200).astype(np.uint8)
    contours, hierarchy = cv2.findContours(glyph, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    assert len(contours) >= 2  # several strokes
    assert all(entry[2] == -1 for entry in hierarchy[0])  # no stroke encloses a hole
    assert 0.05 < glyph.mean() < 0.5


def test_chinese_without_a_cjk_font_is_refused_clearly() -> None:
    white = np.full((400, 400, 3), 255, np.uint8)
    with pytest.raises(TextError, match="no glyphs for '生成'"):
        add_visible_label(white)
    latin = add_visible_label(white, "AI generated")
    assert (latin != 255).any()
    with pytest.raises(TextError, match="does not fit"):
        add_visible_label(
            np.full((64, 64, 3), 255, np.uint8), "AI generated by a long vendor name", font=CJK_FONT
        )
    with pytest.raises(TextError, match="HxWx3 uint8"):
        add_visible_label(np.zeros((10, 10), np.uint8))
