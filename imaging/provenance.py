"""AI-content provenance: the XMP label inside an exported file, and the visible "AI生成" corner label.

This module owns:

- `Provenance` (what made a picture) and `SOURCE_TYPES` (IPTC digital source types);
- `embed` / `read`: one XMP packet in PNG, JPEG or WebP, written and read by walking the
  container, so the pixel data stays byte for byte what it was;
- `add_visible_label`: the explicit label drawn in a corner of the picture (drawn by
  imaging/ai_label.py, re-exported here so callers find the whole labelling API in one place).

What the packet holds, and why:

- `Iptc4xmpExt:DigitalSourceType`, a URI of the IPTC NewsCodes "digital source type"
  vocabulary (http://cv.iptc.org/newscodes/digitalsourcetype/<term>; the terms are mirrored
  by schema.org/IPTCDigitalSourceEnumeration and the base URI by the C2PA ruby gem's
  C2PA::DigitalSourceTypes, rubydoc.info/gems/ruby-c2pa): a vendor-generated background around the real
  product is "compositeWithTrainedAlgorithmicMedia"; the local engine (cut-out photo on a
  procedurally made backdrop, no trained generator) is "compositeSynthetic".
- `xmp:CreatorTool` and `xmp:CreateDate` (XMP Basic, http://ns.adobe.com/xap/1.0/).
- The implicit label of GB 45438-2025 (网络安全技术 人工智能生成合成内容标识方法, in force
  with 《人工智能生成合成内容标识办法》 since 1 Sept 2025): a metadata field named "AIGC"
  holding JSON with Label ("1" = generated/synthesised, "2" possibly, "3" suspected, as
  the cnTC260 implementation reads the standard),
  ContentProducer (the generating service's name or code), ProduceID (its content number),
  ReservedCode1, ContentPropagator, PropagateID, ReservedCode2. In XMP it is the property
  `TC260:AIGC` in namespace http://www.tc260.org.cn/ns/AIGC/1.0/, as TC260's practice guide
  TC260-PG-20258A writes it (sources: the cnTC260 reference implementation,
  github.com/OPN48/cnTC260; Tencent Cloud CI "添加 AIGC 图片元数据标识",
  cloud.tencent.com/document/product/460/122024; Doubao's output as decoded by
  remove-ai-watermarks). A vendor's own AIGC label found in the file is kept (the Measures
  forbid removing one); we only fill fields it left empty.
- Our own fields (`bds:` namespace) so `read` can give back provider and job.

Containers: PNG iTXt chunk with keyword "XML:com.adobe.xmp" before IDAT; JPEG APP1 segment
starting "http://ns.adobe.com/xap/1.0/\\0" after SOI/APP0/Exif (XMP Specification Part 3);
WebP "XMP " chunk with the XMP bit of the VP8X header set (a simple WebP is promoted to the
extended layout; Google's WebP container specification). A file carries one XMP packet, so
an earlier packet (ours or another's) is replaced.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from PIL import Image

from imaging.ai_label import VisibleLabel, add_visible_label, draw_visible_label

__all__ = [
    "AIGC_FIELDS",
    "SOURCE_TYPES",
    "Provenance",
    "ProvenanceError",
    "VisibleLabel",
    "add_visible_label",
    "draw_visible_label",
    "embed",
    "read",
    "read_aigc_label",
    "read_visible_label",
    "xmp_packet",
]

_IPTC_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SOURCE_TYPES: Mapping[str, str] = MappingProxyType(
    {
        name: _IPTC_BASE + name
        for name in (
            "trainedAlgorithmicMedia",
            "compositeWithTrainedAlgorithmicMedia",
            "compositeSynthetic",
            "algorithmicMedia",
            "algorithmicallyEnhanced",
            "digitalCapture",
            "compositeCapture",
            "digitalCreation",
            "humanEdits",
        )
    }
)

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_TC260 = "http://www.tc260.org.cn/ns/AIGC/1.0/"
NS_OURS = "urn:backdrop-studio:ns:provenance:1.0/"
AIGC_FIELDS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_MAX_JPEG_SEGMENT = 65_533  # a segment's length field counts itself (2 bytes) and holds at most 65,535


class ProvenanceError(ValueError):
    """A file or value provenance cannot be written into; the message says what to do."""


@dataclass(frozen=True)
class Provenance:
    """What made a picture, as written into its XMP packet (see the module doc)."""

    source_type: str
    tool: str
    provider: str
    provider_label: str = ""
    job_id: str | None = None
    created_at: str | None = None  # ISO 8601 UTC
    ai_generated: bool = True

    def __post_init__(self) -> None:
        if self.source_type not in SOURCE_TYPES:
            raise ProvenanceError(
                f"unknown source type {self.source_type!r}; use one of {', '.join(SOURCE_TYPES)}"
            )
        if not self.tool:
            raise ProvenanceError("provenance needs the tool's name, e.g. 'Backdrop Studio'")

    @property
    def source_type_uri(self) -> str:
        return SOURCE_TYPES[self.source_type]

    @property
    def content_producer(self) -> str:
        """GB 45438's ContentProducer: the service that generated the picture."""
        return self.provider_label or self.provider or self.tool


# ------------------------------------------------------------------------- packet
def xmp_packet(
    provenance: Provenance,
    keep_aigc: Mapping[str, str] | None = None,
    visible_label: VisibleLabel | None = None,
) -> bytes:
    """The XMP packet for `provenance`; `keep_aigc` is an earlier AIGC label whose fields win."""
    fields: list[tuple[str, str]] = [
        ("xmp:CreatorTool", provenance.tool),
        ("Iptc4xmpExt:DigitalSourceType", provenance.source_type_uri),
        ("bds:Provider", provenance.provider),
        ("bds:ProviderLabel", provenance.provider_label),
        ("bds:AIGenerated", "True" if provenance.ai_generated else "False"),
    ]
    if provenance.created_at:
        fields.append(("xmp:CreateDate", provenance.created_at))
    if provenance.job_id:
        fields.append(("bds:JobID", provenance.job_id))
    if visible_label is not None:
        fields.append(("bds:VisibleLabel", visible_label.text))
        fields.append(("bds:VisibleLabelBox", ",".join(str(v) for v in visible_label.box)))
    if provenance.ai_generated or keep_aigc:
        fields.append(("TC260:AIGC", json.dumps(_aigc_label(provenance, keep_aigc), ensure_ascii=False)))
    body = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields if value)
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        f'<x:xmpmeta xmlns:x="{NS_X}"><rdf:RDF xmlns:rdf="{NS_RDF}">'
        f'<rdf:Description rdf:about="" xmlns:xmp="{NS_XMP}" xmlns:Iptc4xmpExt="{NS_IPTC_EXT}" '
        f'xmlns:TC260="{NS_TC260}" xmlns:bds="{NS_OURS}">{body}</rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def _aigc_label(provenance: Provenance, keep: Mapping[str, str] | None) -> dict[str, str]:
    ours = {
        "Label": "1" if provenance.ai_generated else "",
        "ContentProducer": provenance.content_producer,
        "ProduceID": provenance.job_id or "",
    }
    label = {name: ours.get(name, "") for name in AIGC_FIELDS}
    for name, value in (keep or {}).items():
        if value:  # a vendor's label is theirs to state; we only fill what it left empty
            label[name] = str(value)
    return label


def _parse_packet(packet: bytes) -> dict[str, str]:
    """The simple properties of an XMP packet, keyed "{namespace}Name" (elements and attributes)."""
    text = packet.decode("utf-8", "replace")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return {}  # XMP never needs a DTD; refusing it keeps entity expansion out
    start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
    if start < 0 or end < 0:
        start, end = text.find("<rdf:RDF"), text.rfind("</rdf:RDF>")
        closing = len("</rdf:RDF>")
    else:
        closing = len("</x:xmpmeta>")
    if start < 0 or end < 0:
        return {}
    try:
        root = ElementTree.fromstring(text[start : end + closing])
    except ElementTree.ParseError:
        return {}
    values: dict[str, str] = {}
    for description in root.iter(f"{{{NS_RDF}}}Description"):
        values.update({k: v for k, v in description.attrib.items() if not k.startswith(f"{{{NS_RDF}}}")})
        for child in description:
            if child.text and child.text.strip():
                values[child.tag] = child.text.strip()
    return values


def _is_ours(values: Mapping[str, str]) -> bool:
    return any(key.startswith(f"{{{NS_OURS}}}") for key in values)


def _aigc_of(values: Mapping[str, str]) -> dict[str, str] | None:
    raw = values.get(f"{{{NS_TC260}}}AIGC")
    if not raw:
        return None
    try:
        decoded = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return {str(k): str(v) for k, v in decoded.items()} if isinstance(decoded, dict) else None


# --------------------------------------------------------------------- public API
def embed(data: bytes, provenance: Provenance, *, visible_label: VisibleLabel | None = None) -> bytes:
    """`data` (PNG, JPEG or WebP) with `provenance` as its XMP packet; pixel data untouched.

    An earlier XMP packet is replaced (a vendor's AIGC label in it is carried over).
    `visible_label` records the label `draw_visible_label` drew, if any."""
    kind = _kind(data)
    earlier = _parse_packet(_find_packet(data, kind) or b"")
    keep = None if _is_ours(earlier) else _aigc_of(earlier)
    packet = xmp_packet(provenance, keep, visible_label)
    if kind == "PNG":
        return _png_embed(data, packet)
    if kind == "JPEG":
        return _jpeg_embed(data, packet)
    return _webp_embed(data, packet)


def read(data: bytes) -> Provenance | None:
    """The provenance in `data`'s XMP packet, or None when it has none we can read."""
    try:
        kind = _kind(data)
        packet = _find_packet(data, kind)
    except ProvenanceError:
        return None
    if packet is None:
        return None
    values = _parse_packet(packet)
    uri = values.get(f"{{{NS_IPTC_EXT}}}DigitalSourceType", "")
    source_type = next((name for name, known in SOURCE_TYPES.items() if known == uri), None)
    aigc = _aigc_of(values)
    if source_type is None:
        if aigc is None:
            return None
        source_type = "trainedAlgorithmicMedia"  # a bare AIGC label says generated, not how
    if _is_ours(values):
        return Provenance(
            source_type=source_type,
            tool=values.get(f"{{{NS_XMP}}}CreatorTool", "") or "unknown",
            provider=values.get(f"{{{NS_OURS}}}Provider", ""),
            provider_label=values.get(f"{{{NS_OURS}}}ProviderLabel", ""),
            job_id=values.get(f"{{{NS_OURS}}}JobID"),
            created_at=values.get(f"{{{NS_XMP}}}CreateDate"),
            ai_generated=values.get(f"{{{NS_OURS}}}AIGenerated") == "True",
        )
    # Another tool's packet: what it states, in our terms.
    return Provenance(
        source_type=source_type,
        tool=values.get(f"{{{NS_XMP}}}CreatorTool", "") or "unknown",
        provider="",
        provider_label=(aigc or {}).get("ContentProducer", ""),
        job_id=(aigc or {}).get("ProduceID") or None,
        created_at=values.get(f"{{{NS_XMP}}}CreateDate"),
        ai_generated=bool(aigc and aigc.get("Label") == "1") or "Algorithmic" in source_type,
    )


def read_visible_label(data: bytes) -> VisibleLabel | None:
    """The visible label recorded in `data`'s packet by our export, or None."""
    try:
        packet = _find_packet(data, _kind(data))
    except ProvenanceError:
        return None
    values = _parse_packet(packet) if packet else {}
    text, box = values.get(f"{{{NS_OURS}}}VisibleLabel"), values.get(f"{{{NS_OURS}}}VisibleLabelBox", "")
    numbers = box.split(",")
    if not text or len(numbers) != 4 or not all(n.strip().isdigit() for n in numbers):
        return None
    x, y, w, h = (int(n) for n in numbers)
    return VisibleLabel(text, (x, y, w, h))


def read_aigc_label(data: bytes) -> dict[str, str] | None:
    """The GB 45438 AIGC label (Label, ContentProducer, ...) in `data`'s XMP, or None."""
    try:
        packet = _find_packet(data, _kind(data))
    except ProvenanceError:
        return None
    return _aigc_of(_parse_packet(packet)) if packet else None


def _kind(data: bytes) -> str:
    if data.startswith(_PNG_SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise ProvenanceError(
        "provenance can be written into PNG, JPEG or WebP files only; export the picture in one of those"
    )


def _find_packet(data: bytes, kind: str) -> bytes | None:
    if kind == "PNG":
        for chunk_type, body, _, _ in _png_chunks(data):
            if chunk_type == b"iTXt" and body.startswith(_PNG_XMP_KEYWORD + b"\x00"):
                return _itxt_text(body)
        return None
    if kind == "JPEG":
        for marker, body, _, _ in _jpeg_segments(data):
            if marker == 0xE1 and body.startswith(_JPEG_XMP_HEADER):
                return body[len(_JPEG_XMP_HEADER) :]
        return None
    for fourcc, body, _, _ in _webp_chunks(data):
        if fourcc == b"XMP ":
            return body
    return None


# ---------------------------------------------------------------------------- PNG
def _png_chunks(data: bytes) -> list[tuple[bytes, bytes, int, int]]:
    """(type, body, start, end) of every chunk; `end` is past its CRC."""
    chunks: list[tuple[bytes, bytes, int, int]] = []
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk_type = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ProvenanceError("the PNG file is cut short; export it again before labelling it")
        chunks.append((chunk_type, data[pos + 8 : pos + 8 + length], pos, end))
        pos = end
        if chunk_type == b"IEND":
            break
    return chunks


def _itxt_text(body: bytes) -> bytes | None:
    keyword_end = body.index(b"\x00")
    compressed, rest = body[keyword_end + 1], body[keyword_end + 3 :]
    _, _, rest = rest.partition(b"\x00")  # language tag
    _, _, text = rest.partition(b"\x00")  # translated keyword
    try:
        return zlib.decompress(text) if compressed else text
    except zlib.error:
        return None


def _png_embed(data: bytes, packet: bytes) -> bytes:
    body = _PNG_XMP_KEYWORD + b"\x00\x00\x00" + b"\x00" + b"\x00" + packet
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    out = bytearray(_PNG_SIGNATURE)
    for chunk_type, chunk_body, start, end in _png_chunks(data):
        if chunk_type == b"iTXt" and chunk_body.startswith(_PNG_XMP_KEYWORD + b"\x00"):
            continue
        out += data[start:end]
        if chunk_type == b"IHDR":
            out += chunk  # before IDAT, so readers that stop at the pixels still see it
    return bytes(out)


# --------------------------------------------------------------------------- JPEG
def _jpeg_segments(data: bytes) -> list[tuple[int, bytes, int, int]]:
    """(marker, body, start, end) of the header segments up to (not including) SOS."""
    segments: list[tuple[int, bytes, int, int]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ProvenanceError("the JPEG header is damaged; export the picture again before labelling it")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the pixels follow
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        segments.append((marker, data[pos + 4 : end], pos, end))
        pos = end
    return segments


def _jpeg_embed(data: bytes, packet: bytes) -> bytes:
    body = _JPEG_XMP_HEADER + packet
    if len(body) + 2 > _MAX_JPEG_SEGMENT:
        raise ProvenanceError("the provenance is too long for one JPEG segment; shorten the job id or labels")
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    segments = _jpeg_segments(data)
    out = bytearray(b"\xff\xd8")
    inserted = False
    scan_start = segments[-1][3] if segments else 2
    for marker, seg_body, start, end in segments:
        if marker == 0xE1 and seg_body.startswith(_JPEG_XMP_HEADER):
            continue
        # XMP goes after JFIF (APP0) and Exif (APP1), before everything else.
        if not inserted and not (marker == 0xE0 or (marker == 0xE1 and seg_body.startswith(b"Exif"))):
            out += segment
            inserted = True
        out += data[start:end]
    if not inserted:
        out += segment
    out += data[scan_start:]
    return bytes(out)


# --------------------------------------------------------------------------- WebP
def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes, int, int]]:
    chunks: list[tuple[bytes, bytes, int, int]] = []
    pos = 12
    while pos + 8 <= len(data):
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + size + (size & 1)
        if pos + 8 + size > len(data):
            raise ProvenanceError("the WebP file is cut short; export it again before labelling it")
        chunks.append((fourcc, data[pos + 8 : pos + 8 + size], pos, min(end, len(data))))
        pos = end
    return chunks


def _webp_chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _webp_embed(data: bytes, packet: bytes) -> bytes:
    chunks = _webp_chunks(data)
    kept = [(fourcc, body, start, end) for fourcc, body, start, end in chunks if fourcc != b"XMP "]
    out = bytearray()
    if kept and kept[0][0] == b"VP8X":
        flags = kept[0][1][0] | 0x04  # the XMP bit
        out += _webp_chunk(b"VP8X", bytes([flags]) + kept[0][1][1:])
        rest = kept[1:]
    else:
        # A simple WebP (one VP8 or VP8L chunk) gains the extended header that announces XMP.
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
        alpha = any(fourcc == b"VP8L" and len(body) > 4 and body[4] & 0x10 for fourcc, body, _, _ in kept)
        flags = 0x04 | (0x10 if alpha else 0)
        size = struct.pack("<I", width - 1)[:3] + struct.pack("<I", height - 1)[:3]
        out += _webp_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + size)
        rest = kept
    for _, _, start, end in rest:
        out += data[start:end]
    out += _webp_chunk(b"XMP ", packet)
    return b"RIFF" + struct.pack("<I", len(out) + 4) + b"WEBP" + bytes(out)
