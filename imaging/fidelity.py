"""The product fidelity check (issue 17): did an output image keep the product of the input?

`check_product(original, result, ...)` finds the original product in the result (it may be
moved, scaled or slightly rotated on purpose: `imaging.fidelity_align`), resamples both into a
common frame at the coarser scale (`imaging.fidelity_frame`) and compares them inside the
product. Each comparison raises one flag of `PRODUCT_FLAGS` above its threshold:

- colour_shift: mean CIEDE2000 over the eroded product (edges excluded), after forgiving the
  lighting the local engine's harmonisation applies (an exposure gain and a bounded tint,
  `imaging.fidelity_colour.lighting_gains`), both images slightly blurred so misregistration
  and changed detail do not count as colour;
- shape_changed: the original's mask carried into the result vs the product segmented there
  (`segment`): area grown (added parts connected to the product) or cut, as fractions of the
  product's area, outside a tolerance band along the outline;
- detail_lost: the fine structure (luminance minus its blur) that is gone, as a fraction of the
  original's;
- text_changed: the printed text read (`read_text`, e.g. studio.ocr) before and after,
  compared by difflib's ratio, when the original has at least a few readable characters;
- product_missing: no alignment, a poor match of the aligned structure, or a result whose
  segmented product barely covers where the product should be. It replaces the other flags.

Pure: arrays in, a `ProductCheck` out; the segmenter and the text reader are injected callables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2
import numpy as np

from imaging.fidelity_align import Alignment, align_product
from imaging.fidelity_colour import ciede2000, lighting_gains, to_lab
from imaging.fidelity_frame import Frame
from imaging.fidelity_text import compare_text

PRODUCT_FLAGS = ("colour_shift", "shape_changed", "detail_lost", "text_changed", "product_missing")

TextReader = Callable[[np.ndarray], str]
ProductSegmenter = Callable[[np.ndarray], np.ndarray]


class _Predicts(Protocol):
    def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray: ...


def model_segmenter(model: _Predicts) -> ProductSegmenter:
    """A `ProductSegmenter` from a cutout model (`imaging.cutout.Segmenter`, e.g. u2netp): its
    probability map as a uint8 mask."""

    def segment(rgb: np.ndarray) -> np.ndarray:
        return np.asarray(np.clip(model.predict(rgb) * 255.0 + 0.5, 0, 255), np.uint8)

    return segment


_MIN_PRODUCT_PX = 64
_MAX_COLOUR_SAMPLES = 40_000
_GROWTH_ROOM = 0.2
_COLOUR_REGIONS = 4


@dataclass(frozen=True)
class FidelityThresholds:
    """When a measure becomes a flag. The defaults are calibrated on tests/imaging/fidelity_set.py
    (BENCHMARKS.md, "Product fidelity check")."""

    colour_de: float = 3.5  # mean CIEDE2000 over the product above this -> colour_shift
    colour_de_region: float = 6.5  # ... or over one of its main colours (a tenth of it or more)
    shape_change: float = 0.05  # grown or cut fraction of the product area above this -> shape_changed
    detail_loss: float = 0.3  # fraction of fine structure lost above this -> detail_lost
    # OCR similarity below this (original has text) -> text_changed. 0.5: redrawn labels read
    # 0.0-0.32 alike on the labelled set, faithful ones 0.62 and up (tesseract misreads some CJK).
    text_similarity: float = 0.5
    min_text_chars: int = 4  # readable characters the original needs for the text check
    min_match_score: float = 0.3  # aligned structure correlation below this -> product_missing
    min_coverage: float = 0.4  # segmented result covers less of the aligned product -> product_missing
    # The lighting a faithful output may carry (imaging.harmonize): an exposure gain in this range
    # and per-channel tints within 1 +- lighting_tint are not a colour shift.
    lighting_exposure: tuple[float, float] = (0.85, 1.2)
    lighting_tint: float = 0.06
    # Fine structure below this (grey levels, mean |luma - blur|) is treated as this much, so a
    # plain product's few levels of noise cannot make a large "loss".
    detail_floor: float = 1.5


DEFAULT_THRESHOLDS = FidelityThresholds()


@dataclass(frozen=True)
class Reason:
    flag: str  # one of PRODUCT_FLAGS
    key: str  # i18n key in studio/locales/fidelity.*.json
    params: Mapping[str, float | int | str]


@dataclass(frozen=True)
class ProductCheck:
    """The verdict and what it rests on.

    measures (all JSON-safe; None when not measured):
    - status: "checked", "product_missing" or "no_product" (the original's mask is empty)
    - aligned (1/0), align_method ("features", "template", "mask" or None), align_support
      (RANSAC inliers, or template correlation x 100)
    - scale, rotation_deg: result size / original size of the product, and its turn
    - offset_x, offset_y: where the product's box centre moved, in result pixels (result position
      minus original position)
    - match_score: correlation (-1..1) of the aligned product's gradient magnitude with the result's
    - coverage: share of the aligned product the result's segmentation covers (None: no segmenter)
    - colour_de, colour_de_p90: CIEDE2000 mean and 90th percentile after the lighting allowance;
      colour_de_region: the highest mean over one of the product's main colours;
      colour_de_raw: the mean before it; gain_r, gain_g, gain_b: the lighting gains forgiven
    - shape_grown, shape_cut: fractions of the product's area added / removed (None: no segmenter)
    - detail_loss: fraction of the original's fine structure gone (0..1); detail_before,
      detail_after: the two structure energies (grey levels)
    - text_check: "done", "skipped" (no reader), "no_text" (original has too few characters),
      "too_small" (the product is shrunk so far that even the original's text, shrunk alike, is
      not readable), "failed" (the reader raised) or "not_run" (product missing); text_before,
      text_after, text_similarity (0..1); text_at_scale: the original's text read at the result's
      scale (only read when a shrunk product's text differed)
    - compare_side: long side in px of the frame the comparison ran in
    """

    flags: tuple[str, ...]
    reasons: tuple[Reason, ...]
    measures: Mapping[str, float | int | str | None]
    seconds: float

    @property
    def faithful(self) -> bool:
        return not self.flags

    def as_json(self) -> dict[str, Any]:
        return {
            "flags": list(self.flags),
            **dict(self.measures),
            "reasons": [{"flag": r.flag, "key": r.key, "params": dict(r.params)} for r in self.reasons],
        }


@dataclass
class _Findings:
    measures: dict[str, float | int | str | None] = field(default_factory=dict)
    params: dict[str, dict[str, float | int | str]] = field(default_factory=dict)

    def flag(self, name: str, **params: float | int | str) -> None:
        self.params[name] = params


def check_product(
    original: np.ndarray,
    result: np.ndarray,
    *,
    original_mask: np.ndarray | None = None,
    segment: ProductSegmenter | None = None,
    read_text: TextReader | None = None,
    thresholds: FidelityThresholds = DEFAULT_THRESHOLDS,
) -> ProductCheck:
    """Compare the product of `original` (HxW grey, HxWx3 RGB or HxWx4 RGBA uint8) with `result`
    (any size; grey, RGB or RGBA uint8, alpha ignored). See the module docstring for the flags
    and `ProductCheck` for the measures. Raises ValueError only for invalid arguments."""
    started = time.perf_counter()
    original_rgb, original_alpha = _split(original, "original")
    result_rgb, _ = _split(result, "result")
    if not isinstance(thresholds, FidelityThresholds):
        raise ValueError(f"thresholds must be a FidelityThresholds, got {type(thresholds).__name__}")
    found = _Findings()
    mask = _original_mask(original_mask, original_alpha, original_rgb, segment)
    if int((mask >= 128).sum()) < _MIN_PRODUCT_PX:
        found.measures.update(status="no_product", aligned=0)
        return _verdict(found, started)
    result_mask = _segmented(segment, result_rgb, found)
    alignment = align_product(original_rgb, mask, result_rgb, result_mask)
    if alignment is None:
        found.measures.update(status="product_missing", aligned=0, align_method=None, match_score=0.0)
        found.flag("product_missing", score=0)
        return _verdict(found, started)
    _compare(original_rgb, mask, result_rgb, result_mask, alignment, thresholds, found)
    if "product_missing" in found.params:
        found.measures.update(status="product_missing", text_check="not_run")
    else:
        found.measures["status"] = "checked"
        _check_text(original_rgb, mask, result_rgb, alignment, read_text, thresholds, found)
    return _verdict(found, started)


# ---------------------------------------------------------------------------- inputs


def _split(image: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB, alpha or None) of a grey, RGB or RGBA uint8 array."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 (0..255), got {image.dtype}; convert it with imaging.images")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ValueError(f"{name} must be HxW, HxWx3 or HxWx4, got shape {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"{name} is {image.shape[1]}x{image.shape[0]} px; it must be at least 2x2")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2), None
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2), None
    rgb = np.ascontiguousarray(image[..., :3])
    return rgb, (np.ascontiguousarray(image[..., 3]) if image.shape[2] == 4 else None)


def _as_mask(mask: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if mask.shape != tuple(shape[:2]):
        raise ValueError(f"{what} must be HxW {shape[1]}x{shape[0]} like its image, got shape {mask.shape}")
    if mask.dtype == np.bool_:
        return mask.astype(np.uint8) * 255
    if np.issubdtype(mask.dtype, np.floating):
        # A probability map (imaging.cutout.Segmenter.predict): 0..1.
        return np.asarray(np.clip(np.nan_to_num(mask) * 255.0 + 0.5, 0, 255), np.uint8)
    if mask.dtype != np.uint8:
        raise ValueError(f"{what} must be uint8 0..255 (or bool / float 0..1), got {mask.dtype}")
    return mask


def _original_mask(
    given: np.ndarray | None, alpha: np.ndarray | None, rgb: np.ndarray, segment: ProductSegmenter | None
) -> np.ndarray:
    if given is not None:
        return _as_mask(given, rgb.shape, "original_mask")
    if alpha is not None and int((alpha < 250).sum()) > 0:
        return alpha
    if segment is not None:
        try:
            return _as_mask(segment(rgb), rgb.shape, "the segmenter's mask of the original")
        except Exception:  # an injected model: fall back to keying out the studio sweep
            return border_key_mask(rgb)
    return border_key_mask(rgb)


def border_key_mask(rgb: np.ndarray) -> np.ndarray:
    """The product of a photo without a mask or segmenter: what differs from the border colour
    (a studio shot on a plain sweep), its largest connected part."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.float32)
    key = np.median(border, axis=0)
    spread = float(np.percentile(np.abs(border - key).max(axis=1), 90))
    distance = np.abs(rgb.astype(np.float32) - key).max(axis=2)
    mask = (distance > max(18.0, 2.5 * spread)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return np.zeros(rgb.shape[:2], np.uint8)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return np.asarray((labels == largest).astype(np.uint8) * 255)


def _segmented(segment: ProductSegmenter | None, rgb: np.ndarray, found: _Findings) -> np.ndarray | None:
    if segment is None:
        return None
    try:
        return _as_mask(segment(rgb), rgb.shape, "the segmenter's mask of the result")
    except Exception as exc:  # an injected model: its failure must not fail the job's check
        found.measures["segment_error"] = f"{type(exc).__name__}: {exc}"[:200]
        return None


# ---------------------------------------------------------------------------- comparison


def _disk(radius: int) -> np.ndarray:
    return np.asarray(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask >= 128)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _compare(
    original: np.ndarray,
    mask: np.ndarray,
    result: np.ndarray,
    result_mask: np.ndarray | None,
    alignment: Alignment,
    limits: FidelityThresholds,
    found: _Findings,
) -> None:
    x0, y0, x1, y1 = _box(mask)
    # Room around the product for parts an output grew (a handle, a blob) to be seen.
    margin = max(4, round(_GROWTH_ROOM * max(x1 - x0, y1 - y0)))
    box = (x0 - margin, y0 - margin, x1 + margin, y1 + margin)
    frame = Frame.of(box, alignment.matrix)
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2, 1.0])
    moved = alignment.matrix @ centre - centre[:2]
    found.measures.update(
        aligned=1,
        align_method=alignment.method,
        align_support=alignment.support,
        scale=round(alignment.scale, 4),
        rotation_deg=round(alignment.rotation_deg, 2),
        offset_x=round(float(moved[0]), 1),
        offset_y=round(float(moved[1]), 1),
        compare_side=max(frame.width, frame.height),
    )
    ref = frame.warp(original, frame.to_original)
    test = frame.warp(result, frame.to_result)
    inside = frame.inside_result(result.shape)
    ref_mask = (frame.warp(mask, frame.to_original) >= 128) & inside
    product_px = int(ref_mask.sum())
    product_px_all = int((frame.warp(mask, frame.to_original) >= 128).sum())
    if product_px < max(16, 0.3 * product_px_all):
        found.measures.update(match_score=0.0, coverage=0.0)
        found.flag("product_missing", score=0)
        return
    side = max(frame.width, frame.height)
    test_mask = None
    if result_mask is not None:
        test_mask = _connected_to(frame.warp(result_mask, frame.to_result) >= 128, ref_mask)
    score = _structure_match(ref, test, ref_mask)
    coverage = None if test_mask is None else float((test_mask & ref_mask).sum()) / product_px
    found.measures.update(
        match_score=round(score, 3), coverage=None if coverage is None else round(coverage, 3)
    )
    if score < limits.min_match_score or (coverage is not None and coverage < limits.min_coverage):
        found.flag("product_missing", score=round(100 * max(0.0, score)))
        return
    _shape(ref_mask, test_mask, side, limits, found)
    inner = cv2.erode(ref_mask.astype(np.uint8), _disk(max(2, round(0.03 * side)))) > 0
    if test_mask is not None:
        inner &= cv2.erode(test_mask.astype(np.uint8), _disk(max(1, round(0.015 * side)))) > 0
    if int(inner.sum()) < 16:
        inner = ref_mask & (test_mask if test_mask is not None else True)
    gains = _colour(ref, test, inner, side, limits, found)
    _detail(ref, test, inner, gains, limits, found)


def _connected_to(mask: np.ndarray, product: np.ndarray) -> np.ndarray:
    """The parts of `mask` that touch `product`: other objects in a new scene are not the product."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    touching = np.unique(labels[product & mask])
    return np.isin(labels, touching[touching > 0])


def _gradient(rgb: np.ndarray) -> np.ndarray:
    grey = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.5)
    return np.asarray(cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)))


def _structure_match(ref: np.ndarray, test: np.ndarray, ref_mask: np.ndarray) -> float:
    """Correlation of gradient magnitudes over the product and a thin ring around it: the outline
    and the inner structure are where they should be, whatever the colours and background."""
    where = cv2.dilate(ref_mask.astype(np.uint8), _disk(2)) > 0
    a, b = _gradient(ref)[where], _gradient(test)[where]
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator > 1e-6 else 0.0


def _shape(
    ref_mask: np.ndarray,
    test_mask: np.ndarray | None,
    side: int,
    limits: FidelityThresholds,
    found: _Findings,
) -> None:
    if test_mask is None:
        found.measures.update(shape_grown=None, shape_cut=None)
        return
    band = _disk(max(2, round(0.02 * side)))
    area = float(ref_mask.sum())
    grown = float((test_mask & ~(cv2.dilate(ref_mask.astype(np.uint8), band) > 0)).sum()) / area
    cut = float(((cv2.erode(ref_mask.astype(np.uint8), band) > 0) & ~test_mask).sum()) / area
    found.measures.update(shape_grown=round(grown, 4), shape_cut=round(cut, 4))
    if max(grown, cut) > limits.shape_change:
        found.flag("shape_changed", grown=round(100 * grown), cut=round(100 * cut))


def _colour(
    ref: np.ndarray,
    test: np.ndarray,
    inner: np.ndarray,
    side: int,
    limits: FidelityThresholds,
    found: _Findings,
) -> np.ndarray:
    """Colour is compared smoothed over a few percent of the product, inside the product only (a
    blur normalised by the mask: no background bleeds in), so a changed word or a smeared
    detail is not a colour change; the AI recolourings users complain of cover whole parts."""
    sigma = max(2.0, side / 80)
    weight = cv2.GaussianBlur(inner.astype(np.float32), (0, 0), sigma)
    keep = inner & (weight > 0.2)
    if int(keep.sum()) < 16:
        keep = inner

    def smooth(rgb: np.ndarray) -> np.ndarray:
        colour = cv2.GaussianBlur(rgb.astype(np.float32) * inner[..., None], (0, 0), sigma)
        return np.asarray(colour[keep] / np.maximum(weight[keep], 1e-3)[:, None] / 255.0, np.float32)

    a, b = np.clip(smooth(ref), 0, 1), np.clip(smooth(test), 0, 1)
    if a.shape[0] > _MAX_COLOUR_SAMPLES:
        step = a.shape[0] // _MAX_COLOUR_SAMPLES + 1
        a, b = a[::step], b[::step]
    gains = lighting_gains(a, b, limits.lighting_exposure, limits.lighting_tint)
    lab_b = to_lab(b)
    raw = ciede2000(to_lab(a), lab_b)
    relit = ciede2000(to_lab(np.clip(a * gains, 0.0, 1.0)), lab_b)
    # The lighting allowance may only help: each measure keeps whichever reading is lower.
    lab_a = to_lab(a)
    region = min(_worst_region(lab_a, raw), _worst_region(lab_a, relit))
    de, gains = (relit, gains) if relit.mean() < raw.mean() else (raw, np.ones(3, np.float32))
    mean = float(de.mean())
    found.measures.update(
        colour_de=round(mean, 2),
        colour_de_region=round(region, 2),
        colour_de_p90=round(float(np.percentile(de, 90)), 2),
        colour_de_raw=round(float(raw.mean()), 2),
        gain_r=round(float(gains[0]), 3),
        gain_g=round(float(gains[1]), 3),
        gain_b=round(float(gains[2]), 3),
    )
    if mean > limits.colour_de or region > limits.colour_de_region:
        found.flag("colour_shift", de=round(max(mean, region), 1))
    return gains


def _worst_region(lab: np.ndarray, de: np.ndarray) -> float:
    """The highest mean dE over the product's main colours (k-means on CIELAB, parts of at least
    a tenth of the product): a recoloured band or cap on a product whose dominant colour the
    lighting allowance explains."""
    if lab.shape[0] < 64:
        return float(de.mean())
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(17)
    _, labels, _ = cv2.kmeans(
        np.ascontiguousarray(lab, np.float32),
        _COLOUR_REGIONS,
        np.zeros((lab.shape[0], 1), np.int32),
        criteria,
        1,
        cv2.KMEANS_PP_CENTERS,
    )
    labels = labels.ravel()
    worst = 0.0
    for region in range(_COLOUR_REGIONS):
        inside = labels == region
        if inside.mean() >= 0.1:
            worst = max(worst, float(de[inside].mean()))
    return worst


def _detail(
    ref: np.ndarray,
    test: np.ndarray,
    inner: np.ndarray,
    gains: np.ndarray,
    limits: FidelityThresholds,
    found: _Findings,
) -> None:
    # The local mean comes from product pixels only (a blur normalised by the mask), so the
    # outline against the old or new background is not counted as the product's detail.
    where = inner.astype(np.float32)
    weight = np.maximum(cv2.GaussianBlur(where, (0, 0), 2.5), 1e-3)

    def structure(rgb: np.ndarray) -> float:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        local = cv2.GaussianBlur(grey * where, (0, 0), 2.5) / weight
        return float(np.abs(grey - local)[inner].mean())

    lit = np.clip(ref.astype(np.float32) * gains, 0, 255).astype(np.uint8)
    before, after = structure(lit), structure(test)
    loss = max(0.0, before - after) / max(before, limits.detail_floor)
    found.measures.update(
        detail_loss=round(loss, 3), detail_before=round(before, 2), detail_after=round(after, 2)
    )
    if loss > limits.detail_loss:
        found.flag("detail_lost", percent=round(100 * loss))


# ---------------------------------------------------------------------------- text


def _check_text(
    original: np.ndarray,
    mask: np.ndarray,
    result: np.ndarray,
    alignment: Alignment,
    read_text: TextReader | None,
    limits: FidelityThresholds,
    found: _Findings,
) -> None:
    if read_text is None:
        found.measures.update(text_check="skipped", text_before=None, text_after=None, text_similarity=None)
        return
    text = compare_text(
        original,
        mask,
        result,
        alignment.matrix,
        read_text,
        min_chars=limits.min_text_chars,
        min_similarity=limits.text_similarity,
    )
    found.measures.update(text.measures)
    if text.params is not None:
        found.flag("text_changed", **text.params)


# ---------------------------------------------------------------------------- verdict


def _verdict(found: _Findings, started: float) -> ProductCheck:
    flags = tuple(flag for flag in PRODUCT_FLAGS if flag in found.params)
    if "product_missing" in flags:
        flags = ("product_missing",)
    reasons = tuple(Reason(flag, f"fidelity.reason.{flag}", found.params[flag]) for flag in flags)
    return ProductCheck(flags, reasons, dict(found.measures), time.perf_counter() - started)
