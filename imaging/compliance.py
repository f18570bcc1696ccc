"""Marketplace compliance checks: does this file, as it is, pass a preset's rules?

This module owns `check_compliance` and its report types. It looks at the FILE (not at
what `marketplace.render_detailed` would make of it) and says, per problem, whether the
preset's export fixes it. The rules, with their sources (see /work/shared/landscape.md 3d
and the comments on `marketplace.PRESETS`):

- Amazon main image: background exactly RGB 255,255,255, product fills >= 85 % of the
  frame, >= 1,000 px (our preset: 1,600), no added text, logos or watermarks
  (mercatuslab.com/blog/amazon-product-image-requirements, zonflip.com/amazon-images-requirements).
- Taobao white-background image: 800x800 white, JPG 38-300 KB, no logo, text, watermark
  or shadow (djres.cn/article/20171109191734.htm, a low-authority summary).
- Taobao / Tmall scene slots: exact size (800x800, 750x1000), byte cap where set.
- Vendor marks: Tencent aiart stamps an "AI生成" logo in a corner unless `LogoAdd=0`
  (landscape.md section 0), which a marketplace reads as an added watermark.

How each check works:

- Sizes and bytes come from the header and `len(data)`.
- The product: `product_mask` (HxW uint8 of this image), else the file's alpha, else
  `segmenter`; without either, on a solid-background preset, the product is what clearly
  differs from the background colour (closed, holes filled, small islands dropped, so a
  corner logo never counts as product); on a kept-background preset, `cutout.classical_alpha`.
  All of this runs on a copy at most `WORK_SIDE` px long.
- Background: every pixel outside the product must be exactly the preset's colour. Lossless
  files get no tolerance; a JPEG may be 1 level off (IDCT rounding in flat blocks). JPEG
  ringing right at the product edge is tolerated: pixels within `EDGE_BAND_PX` (one 8x8
  DCT block, plus the work-resolution slack of the product mask) of the product are not
  judged, and nowhere else is. More than `MAX_OFF_BACKGROUND` of the judged pixels off the
  colour is `background_not_white` (a shadow, a tint, marks).
- Fill: the product's bounding box (pixels more than `HAZE_LEVEL` off the background)
  on its limiting side, as `Preset.fill` defines it, at least `preset.fill` - 1 point.
- Text and marks: on the background only (the product, grown by a margin, is excluded, so
  the product's own printed label never counts). Cheap first: at work resolution a
  morphological gradient keeps local contrast and a closing joins glyphs into line-shaped
  candidates of text height. Each candidate is then judged on its full-resolution crop:
  Otsu's split must explain most of its variance (ink on a ground is two tones; a texture or
  a shadow edge is one broad mode, about 64 %), rows across it must cross several strokes
  (an edge crosses one), and the ink must cover a small share of the box (a texture split
  in two covers half). With `read_text` (e.g. tesseract), a candidate counts only when
  letters or digits are read in it, and the text is reported.

`fixable`: solid-background presets re-composite the cut-out product on the colour at the
preset's fill, size and byte limit, so background, fill, text, size and bytes problems are
fixed (unless no product can be found, or the file is too small to reach an exact size
within `marketplace.MAX_UPSCALE`). Kept-background presets only fit and re-encode: text in
the background stays (it may happen to be cropped away; we do not promise it).
For "original" only file-level checks apply, and it sets no limits, so it reports measures only.

Our own AI label: a visible label that our export drew (its text and box are recorded in
the file's provenance packet, see imaging/provenance.py) is a required disclosure, not an
added mark, so it is left out of the text and background checks; `measures` says whether
the file carries a visible label ("ai_label_visible") and a provenance packet ("ai_provenance").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import cv2
import numpy as np

from imaging.cutout import Segmenter, classical_alpha
from imaging.images import LoadedImage, flatten_on, load_image
from imaging.marketplace import MAX_UPSCALE, Preset
from imaging.provenance import read as read_provenance
from imaging.provenance import read_visible_label

COMPLIANCE_FLAGS = (
    "background_not_white",
    "fill_too_small",
    "too_small",
    "wrong_size",
    "file_too_large",
    "text_or_watermark",
)
TextReader = Callable[[np.ndarray], str]

WORK_SIDE = 640
# One 8x8 JPEG block: ringing from a sharp product edge stays inside the blocks the edge crosses.
EDGE_BAND_PX = 8
# A shadow or tint covers far more than this; stray specks from resampling cover less.
MAX_OFF_BACKGROUND = 0.002
# Below this difference from the background a pixel is haze (the soft matte edge), not product.
HAZE_LEVEL = 16
# A pixel this far from the background colour is clearly something (product, shadow core, mark).
_PRODUCT_LEVEL = 24
_FILL_SLACK = 0.01
# Local contrast of a thin stroke against what surrounds it: glyphs, even pale ones; soft mottling stays below.
_STROKE_CONTRAST = 24
_MIN_BIMODALITY = 0.72
_MIN_CROSSINGS = 3.0
# Glyphs cover a small part of their padded box; a texture split by Otsu covers about half.
_MIN_INK, _MAX_INK = 0.03, 0.35
_MAX_CANDIDATES = 8
_CLASSICAL_SIDE = 320


@dataclass(frozen=True)
class ComplianceIssue:
    """One broken rule: `key` and `params` make the message (studio/locales/compliance.*.json)."""

    flag: str
    key: str
    params: Mapping[str, float | int | str]
    fixable: bool


@dataclass(frozen=True)
class ComplianceReport:
    """Every broken rule of one file against one preset, and what was measured."""

    preset: str
    flags: tuple[str, ...]
    issues: tuple[ComplianceIssue, ...]
    measures: Mapping[str, float | int | str | None] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.issues

    def as_json(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "flags": list(self.flags),
            "issues": [
                {"flag": i.flag, "key": i.key, "params": dict(i.params), "fixable": i.fixable}
                for i in self.issues
            ],
            **self.measures,
        }


def _issue(
    flag: str, params: Mapping[str, float | int | str], fixable: bool, key: str = ""
) -> ComplianceIssue:
    return ComplianceIssue(flag, key or f"compliance.issue.{flag}", MappingProxyType(dict(params)), fixable)


def check_compliance(
    data: bytes,
    preset: Preset,
    *,
    product_mask: np.ndarray | None = None,
    segmenter: Segmenter | None = None,
    read_text: TextReader | None = None,
) -> ComplianceReport:
    """Check `data` (the file as it would be uploaded) against `preset`; see the module doc.

    Raises `ImageInputError` for an unreadable file and ValueError for a mask of another size."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"check_compliance needs the file's bytes, got {type(data).__name__}")
    loaded = load_image(bytes(data))
    width, height = loaded.width, loaded.height
    if product_mask is not None and (product_mask.shape != (height, width) or product_mask.dtype != np.uint8):
        raise ValueError(
            f"product_mask must be an HxW uint8 mask of this {width}x{height} image, "
            f"got shape {product_mask.shape} {product_mask.dtype}"
        )
    measures: dict[str, float | int | str | None] = {
        "width": width,
        "height": height,
        "bytes": len(data),
        "format": loaded.source_format,
        "fill": None,
        "background_white_share": None,
        "text_regions": None,
        "ai_label_visible": None,
        "ai_provenance": None,
    }
    own_label = read_visible_label(bytes(data))
    provenance = read_provenance(bytes(data))
    measures["ai_label_visible"] = own_label.text if own_label else None
    measures["ai_provenance"] = provenance.source_type if provenance else None
    issues: list[ComplianceIssue] = []
    if preset.passthrough:
        return _report(preset, issues, measures)

    solid = preset.background_rgb
    rgb = flatten_on(np.asarray(loaded.rgba), solid or (255, 255, 255)) if loaded.has_alpha else loaded.rgb
    scale = min(1.0, WORK_SIDE / max(width, height))
    small = _shrink(rgb, scale)
    product_small = _product_region(small, loaded, solid, product_mask, segmenter)
    box = None
    if solid is not None:
        off = _difference(rgb, solid)
        # The product's extent is measured against the backdrop it is on (grey, cream or the slot's colour).
        found_on = _border_colour(small)
        backdrop_off = off if found_on == solid else _difference(rgb, found_on)
        box = _product_box(backdrop_off, product_small, product_mask, loaded)
        if own_label is not None:
            x, y, w, h = own_label.box
            off[y : y + h, x : x + w] = 0  # our own disclosure is not a stain on the background
        issues += _solid_issues(preset, off, product_small, box, loaded, measures)
    issues += _size_issues(preset, width, height, box)
    if preset.max_bytes is not None and len(data) > preset.max_bytes:
        issues.append(
            _issue(
                "file_too_large",
                {"kb": round(len(data) / 1000), "max_kb": round(preset.max_bytes / 1000)},
                fixable=True,
            )
        )
    texts = _text_regions(small, product_small, rgb, scale, read_text, own_label.box if own_label else None)
    measures["text_regions"] = len(texts)
    if texts:
        read = next((t for t in texts if t), "")
        key = "compliance.issue.text_or_watermark_read" if read else ""
        params: dict[str, float | int | str] = {"count": len(texts)}
        if read:
            params["text"] = read[:40]
        issues.append(
            _issue("text_or_watermark", params, fixable=solid is not None and box is not None, key=key)
        )
    return _report(preset, issues, measures)


def _report(
    preset: Preset, issues: list[ComplianceIssue], measures: dict[str, float | int | str | None]
) -> ComplianceReport:
    ordered = sorted(issues, key=lambda issue: COMPLIANCE_FLAGS.index(issue.flag))
    return ComplianceReport(
        preset=preset.key,
        flags=tuple(dict.fromkeys(issue.flag for issue in ordered)),
        issues=tuple(ordered),
        measures=MappingProxyType(measures),
    )


# ------------------------------------------------------------------------- product
def _shrink(rgb: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))


def _difference(rgb: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """HxW uint8: the largest per-channel difference from `colour`."""
    # OpenCV's per-channel min/max runs several times faster than a NumPy reduction over the last axis.
    if colour == (255, 255, 255):
        red, green, blue = cv2.split(rgb)
        return np.asarray(255 - cv2.min(cv2.min(red, green), blue))
    red, green, blue = cv2.split(cv2.absdiff(rgb, np.full_like(rgb, colour)))
    return np.asarray(cv2.max(cv2.max(red, green), blue))


def _product_region(
    small: np.ndarray,
    loaded: LoadedImage,
    solid: tuple[int, int, int] | None,
    mask: np.ndarray | None,
    segmenter: Segmenter | None,
) -> np.ndarray:
    """Bool mask of the product at work resolution."""
    size = (small.shape[1], small.shape[0])
    if mask is not None:
        return np.asarray(cv2.resize(mask, size, interpolation=cv2.INTER_AREA)) > 127
    if loaded.has_alpha:
        alpha = np.ascontiguousarray(loaded.rgba[..., 3])
        return np.asarray(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)) > HAZE_LEVEL
    if segmenter is not None:
        return np.asarray(segmenter.predict(small)) > 0.5
    if solid is None:
        # GrabCut's cost grows with pixels; the mask only has to keep text search off the product.
        coarse = _shrink(small, min(1.0, _CLASSICAL_SIDE / max(size)))
        probability = cv2.resize(classical_alpha(coarse), size, interpolation=cv2.INTER_LINEAR)
        return np.asarray(probability) > 0.5
    # Measured against the colour the frame's border actually has, so a grey or cream backdrop is
    # background (and then judged against `solid`), not one big product.
    clear = (_difference(small, _border_colour(small)) > _PRODUCT_LEVEL).astype(np.uint8)
    return _main_objects(clear)


def _border_colour(rgb: np.ndarray) -> tuple[int, int, int]:
    strip = max(1, min(rgb.shape[:2]) // 50)
    border = np.concatenate(
        [
            rgb[:strip].reshape(-1, 3),
            rgb[-strip:].reshape(-1, 3),
            rgb[:, :strip].reshape(-1, 3),
            rgb[:, -strip:].reshape(-1, 3),
        ]
    )
    red, green, blue = (int(v) for v in np.median(border, axis=0))
    return red, green, blue


def _main_objects(clear: np.ndarray) -> np.ndarray:
    """The large objects of a "clearly not background" mask: closed, holes filled, islands dropped."""
    side = max(clear.shape)
    k = max(3, side // 80) | 1
    closed = cv2.morphologyEx(clear, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    if count <= 1:
        return np.zeros(clear.shape, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    # A second product (jar and tube) is kept; a corner logo is a few percent of the product at most.
    keep = np.flatnonzero(areas >= max(0.2 * areas.max(), 0.001 * clear.size)) + 1
    objects = np.isin(labels, keep).astype(np.uint8)
    # Fill holes: whatever the border cannot reach through non-object pixels is inside the product.
    outside = np.pad(1 - objects, 1, constant_values=1)
    flood = np.zeros((outside.shape[0] + 2, outside.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 2)
    return np.asarray(outside[1:-1, 1:-1] != 2)


def _grow_to_full(region: np.ndarray, shape: tuple[int, int], grow_px: int) -> np.ndarray:
    """A work-resolution mask at full size, grown by `grow_px` full-size pixels (plus resampling slack)."""
    full = cv2.resize(region.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    slack = int(np.ceil(shape[1] / region.shape[1]))
    radius = grow_px + slack
    if radius > 0:
        full = cv2.dilate(full, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * radius + 1, 2 * radius + 1)))
    return np.asarray(full, bool)


def _product_box(
    off: np.ndarray, product_small: np.ndarray, mask: np.ndarray | None, loaded: LoadedImage
) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) at full size of the product's visible pixels, or None without a product."""
    if mask is not None:
        solid = mask > HAZE_LEVEL
    elif loaded.has_alpha:
        solid = np.asarray(loaded.rgba[..., 3]) > HAZE_LEVEL
    else:
        if not product_small.any():
            return None
        near = _grow_to_full(product_small, off.shape[:2], EDGE_BAND_PX)
        solid = near & (off > HAZE_LEVEL)
    rows = np.flatnonzero(solid.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(solid.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


# ---------------------------------------------------------------- solid background
def _solid_issues(
    preset: Preset,
    off: np.ndarray,
    product_small: np.ndarray,
    box: tuple[int, int, int, int] | None,
    loaded: LoadedImage,
    measures: dict[str, float | int | str | None],
) -> list[ComplianceIssue]:
    issues: list[ComplianceIssue] = []
    height, width = off.shape
    lossy = loaded.source_format in ("JPEG", "WEBP")
    tolerance = 1 if lossy else 0
    band = EDGE_BAND_PX if lossy else 2
    judged = ~_grow_to_full(product_small, (height, width), band) if product_small.any() else None
    if judged is None or np.count_nonzero(judged) < 0.01 * off.size:
        # Nothing (or everything) looks like product: judge the outer frame, where a slot's background is.
        strip = max(2, min(width, height) // 50)
        judged = np.ones(off.shape, bool)
        judged[strip:-strip, strip:-strip] = False
    considered = int(np.count_nonzero(judged))
    off_count = int(np.count_nonzero((off > tolerance) & judged))
    white_share = 1.0 - off_count / max(1, considered)
    measures["background_white_share"] = round(white_share, 4)
    found = box is not None and bool(np.count_nonzero(product_small) < 0.98 * product_small.size)
    if off_count > MAX_OFF_BACKGROUND * considered:
        share = round(100 * (1 - white_share), 1)
        if preset.background_rgb == (255, 255, 255):
            issues.append(_issue("background_not_white", {"share": share}, fixable=found))
        else:  # a custom colour: the message names it
            params: dict[str, float | int | str] = {"share": share, "colour": str(preset.background)}
            key = "compliance.issue.background_not_colour"
            issues.append(_issue("background_not_white", params, fixable=found, key=key))
    if preset.fill is not None:
        if box is None:
            measures["fill"] = 0.0
            issues.append(
                _issue(
                    "fill_too_small",
                    {"needed": round(preset.fill * 100)},
                    False,
                    "compliance.issue.no_product",
                )
            )
        else:
            fill = max(box[2] / width, box[3] / height)
            measures["fill"] = round(fill, 3)
            if fill < preset.fill - _FILL_SLACK:
                issues.append(
                    _issue(
                        "fill_too_small",
                        {"fill": round(fill * 100), "needed": round(preset.fill * 100)},
                        fixable=found,
                    )
                )
    return issues


# ------------------------------------------------------------------------- sizes
def _size_issues(
    preset: Preset, width: int, height: int, box: tuple[int, int, int, int] | None
) -> list[ComplianceIssue]:
    issues: list[ComplianceIssue] = []
    if preset.min_side is not None and min(width, height) < preset.min_side:
        # The export enlarges to the minimum (with a note); the marketplace's rule wins over sharpness.
        issues.append(
            _issue("too_small", {"width": width, "height": height, "needed": preset.min_side}, fixable=True)
        )
    if preset.size is not None and (width, height) != preset.size:
        target_w, target_h = preset.size
        needed = _needed_scale(preset, width, height, box)
        reachable = needed <= MAX_UPSCALE + 1e-9
        if not reachable:
            issues.append(
                _issue(
                    "too_small",
                    {
                        "width": width,
                        "height": height,
                        "needed": round(min(target_w, target_h) / MAX_UPSCALE),
                    },
                    fixable=False,
                )
            )
        issues.append(
            _issue(
                "wrong_size",
                {"width": width, "height": height, "needed_width": target_w, "needed_height": target_h},
                fixable=reachable,
            )
        )
    return issues


def _needed_scale(preset: Preset, width: int, height: int, box: tuple[int, int, int, int] | None) -> float:
    """How much `render_detailed` would enlarge the picture (or the product) for an exact-size preset."""
    assert preset.size is not None
    target_w, target_h = preset.size
    if preset.background is not None:
        if box is None:
            return 1.0  # no product: reported as such; the size itself is not the problem
        return (preset.fill or 1.0) * min(target_w / box[2], target_h / box[3])
    if preset.fit == "pad":
        return min(target_w / width, target_h / height)
    scale = max(target_w / width, target_h / height)
    return max(scale, 1.0) if preset.fit == "crop" else scale


# -------------------------------------------------------------------------- text
def _text_regions(
    small: np.ndarray,
    product_small: np.ndarray,
    rgb: np.ndarray,
    scale: float,
    read_text: TextReader | None,
    own_label: tuple[int, int, int, int] | None,
) -> list[str]:
    """One entry per text-like mark outside the product and our own label: the text read in it
    ("" without OCR)."""
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    side = min(grey.shape)
    gradient = cv2.morphologyEx(
        grey, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    )
    strokes = (gradient >= _STROKE_CONTRAST).astype(np.uint8)
    if product_small.any():
        # Grown by a margin: the product's own edge and its printed label never count.
        grow = max(3, side // 60) | 1
        near = cv2.dilate(product_small.astype(np.uint8), np.ones((grow, grow), np.uint8))
        strokes[near > 0] = 0
    join = max(3, side // 90) | 1
    lines = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (join, 3)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    min_h, max_h = max(5, side // 100), max(8, side // 5)
    candidates = [
        (int(x), int(y), int(w), int(h))
        for x, y, w, h, area in stats[1:]
        if min_h <= h <= max_h and 0.6 * h <= w <= 0.9 * side and area >= 0.2 * w * h
    ]
    candidates.sort(key=lambda b: b[2] * b[3], reverse=True)
    grey_full = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found: list[str] = []
    for x, y, w, h in candidates[:_MAX_CANDIDATES]:
        pad = max(2, h // 4)
        left, top = max(0, int((x - pad) / scale)), max(0, int((y - pad) / scale))
        right = min(rgb.shape[1], int((x + w + pad) / scale) + 1)
        bottom = min(rgb.shape[0], int((y + h + pad) / scale) + 1)
        if own_label is not None and _mostly_inside((left, top, right, bottom), own_label):
            continue
        if not _looks_like_text(grey_full[top:bottom, left:right]):
            continue
        if read_text is None:
            found.append("")
            continue
        text = " ".join(read_text(np.ascontiguousarray(rgb[top:bottom, left:right])).split())
        if any(ch.isalnum() for ch in text):
            found.append(text)
    return found


def _mostly_inside(edges: tuple[int, int, int, int], box: tuple[int, int, int, int]) -> bool:
    left, top, right, bottom = edges
    x, y, w, h = box
    overlap_w = max(0, min(right, x + w) - max(left, x))
    overlap_h = max(0, min(bottom, y + h) - max(top, y))
    return overlap_w * overlap_h >= 0.5 * (right - left) * (bottom - top)


def text_measures(crop: np.ndarray) -> tuple[float, float, float]:
    """(bimodality, stroke crossings per row, ink share) of a grey crop, at full resolution.

    Bimodality is Otsu's between-class share of the variance: ink on a ground is close to 1,
    a texture or gradient (one broad mode) stays near 2/pi = 0.64."""
    values = crop.astype(np.float32)
    total = float(values.var())
    if total < 4.0:
        return 0.0, 0.0, 0.0
    threshold, binary = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    high = binary.astype(bool)
    share_high = float(high.mean())
    if share_high in (0.0, 1.0):
        return 0.0, 0.0, 0.0
    between = share_high * (1 - share_high) * (float(values[high].mean()) - float(values[~high].mean())) ** 2
    ink = high if share_high < 0.5 else ~high
    h = ink.shape[0]
    rows = ink[h // 4 : max(h // 4 + 1, h - h // 4)].astype(np.int8)
    starts = np.count_nonzero(np.diff(rows, axis=1) == 1, axis=1)
    return between / total, float(np.mean(starts)), float(ink.mean())


def _looks_like_text(crop: np.ndarray) -> bool:
    bimodality, crossings, ink = text_measures(crop)
    return bimodality >= _MIN_BIMODALITY and crossings >= _MIN_CROSSINGS and _MIN_INK <= ink <= _MAX_INK
