"""Cutting the product out of its photo: segmentation, alpha refinement and edge colour cleanup.

This module owns the cutout pipeline of the local engine:

1. where the alpha comes from, in this order: the photo's own transparency, a
   user mask, a segmentation model (`Segmenter`, e.g. `U2NetpSegmenter`), or
   `classical_alpha` (a border colour model seeding GrabCut) when there is no model;
2. `refine_alpha`: holes the model filled are opened again, then
   `imaging.matting.matte` turns the map into a trimap and mattes the unknown
   band at full resolution with local colour models of product and background;
3. `decontaminate`: foreground colour estimation at semi-transparent edge
   pixels (blur-fusion, Forte & Pitie 2020), so the old background does not
   show as a coloured halo on the new one.

The expensive steps run at reduced resolution and only the final linear
coefficients and edge-band colours are evaluated at full size, so the whole
pass costs little next to the model and stays light on memory at 3000x3000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import cv2
import numpy as np

from imaging.array_ops import box, channels, disk, nonzero
from imaging.images import LoadedImage
from imaging.matting import matte
from imaging.onnx_session import open_model

MODEL_SIDE = 320
# Long side of the working resolution for everything expensive. The model sees
# 320 px, so finer than this adds time, not information; the photo's own
# detail comes back in the matting, which reads the edge band at full resolution.
WORK_SIDE = 384
# Hole finding and colour decontamination only need broad colour statistics.
COARSE_SIDE = 256
_REMAP_ROW = 4096
# The classical path runs GrabCut, whose cost grows fast with pixels.
CLASSICAL_SIDE = 400
_MIN_COVERAGE = 0.001
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


# The name of the edge refinement `cut_out` applies to a model's (or the classical) map.
REFINEMENT = "matting"


class Segmenter(Protocol):
    # Which model this is ("u2netp", "isnet"): recorded with every cutout it makes.
    name: str

    def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        """Float32 HxW foreground probability in [0, 1] at the size of `rgb` (HxWx3 uint8),
        or at `size` = (width, height) when given."""
        ...


class U2NetpSegmenter:
    """u2netp salient-object segmentation through onnxruntime.

    One session is shared by all threads: `InferenceSession.run` is thread-safe,
    and a second session would only double the memory.
    """

    name = "u2netp"
    # u2netp's coarse 320 px map fills holes (a mug's handle) with confident product: they are
    # carved out again by colour, however sure the map is there.
    fills_holes = True

    def __init__(self, model_bytes: bytes, *, threads: int = 2) -> None:
        model = open_model(
            model_bytes,
            side=MODEL_SIDE,
            threads=threads,
            load_failed=(
                "The segmentation model could not be loaded ({error}). "
                "Download models/u2netp.onnx again as DEVELOPERS.md describes."
            ),
            wrong_shape=(
                "The segmentation model takes {shapes}, not one 1x3x320x320 image; "
                "use the u2netp ONNX model described in DEVELOPERS.md."
            ),
        )
        # u2netp has seven side outputs; the first is the fused map rembg uses.
        self._session, self._input, self._output = model.session, model.input_name, model.output_name

    def infer(self, rgb: np.ndarray) -> np.ndarray:
        """Bare model inference: the 320x320 float32 map in [0, 1], rembg's pre- and post-processing."""
        rgb = _as_rgb(rgb)
        small = cv2.resize(rgb, (MODEL_SIDE, MODEL_SIDE), interpolation=_shrink_interpolation(rgb.shape))
        x = small.astype(np.float32)
        x *= 1.0 / max(1.0, float(x.max()))
        x -= _MEAN
        x /= _STD
        tensor = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        output = self._session.run([self._output], {self._input: tensor})[0]
        pred = np.asarray(output, np.float32)[0, 0]
        low, high = float(pred.min()), float(pred.max())
        if high - low < 1e-6:
            return np.zeros_like(pred)
        return (pred - low) / (high - low)

    def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        """`infer`, resized to the input's size (or to `size` = (width, height))."""
        height, width = rgb.shape[:2]
        return cv2.resize(self.infer(rgb), size or (width, height), interpolation=cv2.INTER_LINEAR)


def _as_rgb(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 uint8 RGB array, got shape {rgb.shape} {rgb.dtype}")
    return np.ascontiguousarray(rgb[..., :3])


def _shrink_interpolation(shape: tuple[int, ...]) -> int:
    # Area averaging when shrinking (no aliasing); bilinear when a small photo grows.
    return cv2.INTER_AREA if min(shape[:2]) >= MODEL_SIDE else cv2.INTER_LINEAR


# ------------------------------------------------------------------ the cutout
@dataclass(frozen=True)
class Cutout:
    """The product on transparency at the photo's full size: clean edge colours, refined alpha."""

    rgba: np.ndarray
    method: Literal["alpha", "mask", "model", "classical"]
    # Which segmentation model made the map (its `name`, e.g. "u2netp"); None when none ran.
    model: str | None = None
    # Which edge refinement shaped the alpha (e.g. "matting"); None for the photo's own alpha.
    refinement: str | None = None

    @property
    def alpha(self) -> np.ndarray:
        return self.rgba[..., 3]


def cut_out(
    image: LoadedImage,
    *,
    user_mask: np.ndarray | None = None,
    segmenter: Segmenter | None = None,
    on_segmented: Callable[[], object] | None = None,
) -> Cutout:
    """Cut the product out: the photo's own alpha, else the user's mask, else the model, else classical.

    `on_segmented`, if given, is called once, as soon as the segmentation model is done (at once
    when there is no model to run), before refinement. The model keeps both cores busy; the
    refinement after it does not, so a caller can start independent work there (the local
    engine renders its first backdrop) without slowing the model down.
    """
    if image.has_alpha:
        # The user (or their tool) already cut it out; redoing it could only make it worse.
        if on_segmented is not None:
            on_segmented()
        return Cutout(rgba=np.array(image.rgba), method="alpha")

    rgb = image.rgb
    work = _Work.of(rgb)
    method: Literal["alpha", "mask", "model", "classical"]
    if user_mask is not None:
        if user_mask.shape != rgb.shape[:2] or user_mask.dtype != np.uint8:
            raise ValueError(
                f"user_mask must be an HxW uint8 array of the image's size {rgb.shape[1]}x{rgb.shape[0]}, "
                f"got shape {user_mask.shape} {user_mask.dtype}; read it with imaging.masks.load_mask"
            )
        if on_segmented is not None:
            on_segmented()
        alpha = feather(user_mask)
        method = "mask"
    else:
        prob = _model_probability(rgb, segmenter, work.shape)
        if on_segmented is not None:
            on_segmented()
        method = "model"
        if prob is None:
            prob = classical_alpha(rgb)
            method = "classical"
        alpha = _refine(
            work,
            prob,
            open_holes=method == "model",
            trust_sure_map=method == "model" and not getattr(segmenter, "fills_holes", True),
        )
        if not _has_product(alpha):
            # Nothing (or everything) was found: keep the whole photo rather than
            # hand on an invisible product; a user mask fixes this case.
            alpha = np.full(rgb.shape[:2], 255, np.uint8)
    # Interleaving through OpenCV is several times faster than strided NumPy assignment.
    rgba = np.asarray(cv2.merge((*cv2.split(rgb), alpha)))
    _decontaminate(rgb, alpha, work.coarse, out=rgba[..., :3])
    model = str(getattr(segmenter, "name", "u2netp")) if method == "model" else None
    return Cutout(
        rgba=rgba, method=method, model=model, refinement=REFINEMENT if method != "mask" else "feather"
    )


def feather(mask: np.ndarray) -> np.ndarray:
    """A light, symmetric feather of a user's mask: softens stair-steps, keeps the edge where it was drawn."""
    sigma = max(0.7, max(mask.shape) / 2500)
    return cv2.GaussianBlur(mask, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)


def _model_probability(
    rgb: np.ndarray, segmenter: Segmenter | None, work_shape: tuple[int, int]
) -> np.ndarray | None:
    """The model's foreground map, at the photo's size or (u2netp) already at `work_shape`."""
    if segmenter is None:
        return None
    if isinstance(segmenter, U2NetpSegmenter):
        # Refinement reads the map at working resolution only: resize the model's 320 px map
        # straight there instead of to full size and back (a 36 MB float map at 3000x3000).
        prob = np.asarray(segmenter.predict(rgb, (work_shape[1], work_shape[0])), dtype=np.float32)
        expected = work_shape
    else:
        prob = np.asarray(segmenter.predict(rgb), dtype=np.float32)
        expected = rgb.shape[:2]
    if prob.shape != expected:
        raise ValueError(f"the segmenter returned a map of shape {prob.shape}, expected {expected}")
    coverage = float(np.count_nonzero(prob >= 0.5)) / prob.size
    if not _MIN_COVERAGE <= coverage <= 1 - _MIN_COVERAGE:
        return None  # the model saw no object (or only object): let the classical path try
    return prob


def _has_product(alpha: np.ndarray) -> bool:
    coverage = float(np.count_nonzero(alpha >= 128)) / alpha.size
    return _MIN_COVERAGE <= coverage <= 1 - _MIN_COVERAGE


# ------------------------------------------------------------- working images
class _Work:
    """The photo at working resolution (long side <= WORK_SIDE) and what is derived from it once."""

    def __init__(self, rgb: np.ndarray, side: int, source: np.ndarray | None = None) -> None:
        height, width = rgb.shape[:2]
        scale = min(1.0, side / max(height, width))
        self.rgb = rgb
        self.full_shape = (height, width)
        self.shape = (max(1, round(height * scale)), max(1, round(width * scale)))
        source = rgb if source is None else source
        if self.shape == source.shape[:2]:
            self.small = source
        else:
            self.small = cv2.resize(source, (self.shape[1], self.shape[0]), interpolation=cv2.INTER_AREA)
        self.small_f = self.small.astype(np.float32) * np.float32(1 / 255)
        self._smooth: np.ndarray | None = None
        self._coarse: _Work | None = None

    @classmethod
    def of(cls, rgb: np.ndarray) -> _Work:
        return cls(rgb, WORK_SIDE)

    @property
    def coarse(self) -> _Work:
        """The same photo at COARSE_SIDE, for the steps whose answers are smooth anyway."""
        if self._coarse is None:
            self._coarse = _Work(self.rgb, COARSE_SIDE, source=self.small)
        return self._coarse

    @property
    def smooth(self) -> np.ndarray:
        """RGB in 0..255, lightly blurred: colour statistics on it ignore sensor noise and fine texture."""
        if self._smooth is None:
            self._smooth = cv2.GaussianBlur(self.small.astype(np.float32), (0, 0), 1.2)
        return self._smooth

    def shrink(self, values: np.ndarray) -> np.ndarray:
        if values.shape[:2] == self.shape:
            return values
        return cv2.resize(values, (self.shape[1], self.shape[0]), interpolation=cv2.INTER_AREA)

    def sample(self, values: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Bilinear samples of a working-resolution map at full-resolution pixel centres."""
        height, width = self.full_shape
        count = ys.size
        # remap wants a 2-D map narrower than 32767: fold the point list into rows.
        rows = -(-count // _REMAP_ROW)
        map_x = np.zeros(rows * _REMAP_ROW, np.float32)
        map_y = np.zeros(rows * _REMAP_ROW, np.float32)
        map_x[:count] = (xs.astype(np.float32) + 0.5) * np.float32(self.shape[1] / width) - 0.5
        map_y[:count] = (ys.astype(np.float32) + 0.5) * np.float32(self.shape[0] / height) - 0.5
        out = cv2.remap(
            values,
            map_x.reshape(rows, _REMAP_ROW),
            map_y.reshape(rows, _REMAP_ROW),
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        channels = values.shape[2] if values.ndim == 3 else 1
        return out.reshape(rows * _REMAP_ROW, channels)[:count].reshape(
            (count, channels) if channels > 1 else (count,)
        )


# -------------------------------------------------------------- alpha refinement
def refine_alpha(rgb: np.ndarray, prob: np.ndarray, *, open_holes: bool = True) -> np.ndarray:
    """Matte a coarse foreground map to the photo's edges; uint8 HxW alpha at the photo's size.

    With `open_holes`, regions the map filled but that look like the background
    and are ringed by product (a mug's handle, a ring's middle) become holes.
    """
    rgb = _as_rgb(rgb)
    prob = np.asarray(prob, np.float32)
    if prob.shape != rgb.shape[:2]:
        raise ValueError(f"prob has shape {prob.shape} but the photo is {rgb.shape[:2]}")
    return _refine(_Work.of(rgb), prob, open_holes=open_holes)


def _refine(work: _Work, prob: np.ndarray, *, open_holes: bool, trust_sure_map: bool = False) -> np.ndarray:
    p = work.shrink(prob)
    if open_holes:
        coarse = work.coarse
        p_coarse = coarse.shrink(p)
        opened = _open_background_holes(coarse, p_coarse, trust_sure_map=trust_sure_map)
        if opened is not p_coarse:
            # Carve at the coarse level; the hole's real edge, which the coarse carve only roughs
            # out, is left to the matting's colour models (`loose`).
            carved = cv2.dilate(
                np.minimum(1.0, 2.0 * _upsize(np.clip(p_coarse - opened, 0.0, 1.0), p.shape)), disk(1)
            )
            p = p * (1.0 - carved)
            loose = cv2.morphologyEx((carved >= 0.5).astype(np.uint8), cv2.MORPH_GRADIENT, disk(2))
        else:
            loose = np.zeros(p.shape, np.uint8)
        small_holes = _open_small_holes(work, p)
        if small_holes is not p:
            carved_small = (small_holes < p).astype(np.uint8)
            p = small_holes
            loose = np.maximum(loose, cv2.morphologyEx(carved_small, cv2.MORPH_GRADIENT, disk(1)))
        if loose.any():
            return matte(work.rgb, work.small_f, p, loose=loose.astype(np.float32))
    return matte(work.rgb, work.small_f, p)


def _upsize(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return cv2.resize(values, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


# ------------------------------------------------------------ background model
_MIN_SPREAD = 5.0  # RGB units (0..255): differences below this are noise, not a new colour
_HOLE_D = 1.5  # "looks like the background (maybe in shadow)": within this many spreads
_RING_D = 3.0  # "clearly not background"
_MAX_ISLANDS = 0.02  # more non-background islands than this inside a region: it is printed, keep it
_GROW_D = 2.5  # a hole grows into its blurred rim while the rim still leans to the background
# A cast shadow keeps the background's hue and darkens it by a factor in this range.
_SHADOW_RANGE = (0.4, 1.05)


@dataclass(frozen=True)
class _Background:
    """The background as a smooth colour field (quadratic in x, y per channel) and its spread."""

    coef: np.ndarray  # 6x3
    spread: float

    @classmethod
    def fit(cls, colour: np.ndarray, sample: np.ndarray) -> _Background | None:
        ys, xs = np.nonzero(sample)
        if ys.size < 32:
            return None
        step = max(1, ys.size // 3000)  # a fixed stride keeps it deterministic and fast
        ys, xs = ys[::step], xs[::step]
        height, width = colour.shape[:2]
        basis = _basis(xs * (2.0 / max(1, width - 1)) - 1, ys * (2.0 / max(1, height - 1)) - 1)
        values = colour[ys, xs].astype(np.float64)
        coef = _least_squares(basis, values)
        residual = np.linalg.norm(values - basis @ coef, axis=1)
        # One robust refit: product pixels that leaked into the sample (a product
        # touching the frame) must not bend the background's colour field.
        keep = residual <= 2.5 * float(np.median(residual)) + 1.0
        if int(keep.sum()) >= 16:
            coef = _least_squares(basis[keep], values[keep])
            residual = np.linalg.norm(values[keep] - basis[keep] @ coef, axis=1)
        spread = max(_MIN_SPREAD, float(np.percentile(residual, 90)))
        return cls(coef=coef.astype(np.float32), spread=spread)

    def field(self, shape: tuple[int, ...]) -> np.ndarray:
        height, width = shape[:2]
        x = np.linspace(-1, 1, width, dtype=np.float32)[None, :, None]
        y = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
        c = self.coef
        # c0 + c1 x + c2 y + c3 x^2 + c4 xy + c5 y^2, grouped by powers of x.
        constant = (c[0] + y * c[2] + (y * y) * c[5])[:, None, :]
        linear = (c[1] + y * c[4])[:, None, :]
        return constant + x * (linear + x * c[3])

    def distances(self, colour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(plain, shadow-tolerant) distances to the background, in spreads.

        The shadow-tolerant one first dims the background by the best factor in
        `_SHADOW_RANGE` (Horprasert's brightness/chromaticity split), so a cast
        shadow, even inside a mug's handle, still reads as background.
        """
        field = np.maximum(self.field(colour.shape), 1.0)
        plain = np.linalg.norm(colour - field, axis=2)
        k = np.einsum("hwc,hwc->hw", colour, field) / np.einsum("hwc,hwc->hw", field, field)
        np.clip(k, *_SHADOW_RANGE, out=k)
        shadowed = np.linalg.norm(colour - k[..., None] * field, axis=2)
        scale = np.float32(1 / self.spread)
        return plain * scale, np.minimum(plain, shadowed) * scale


def _least_squares(basis: np.ndarray, values: np.ndarray) -> np.ndarray:
    # Normal equations: six unknowns per channel, so this is exact enough and far faster than an SVD.
    gram = basis.T @ basis + np.eye(basis.shape[1]) * 1e-9
    return np.linalg.solve(gram, basis.T @ values)


def _basis(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1).astype(np.float64)


# The median map value over a hole candidate above which a model that sees holes is believed.
_TRUSTED_P = 0.9
# Small holes, at working resolution: at least this many pixels and at most this share of the
# product; hue within _SMALL_HOLE_D spreads of the background's, and the ring around them
# beyond _SMALL_RING_D on at least _SMALL_RIM_SHARE of it. Chromaticity is r and b over the
# sum plus _CHROMA_DARK (dark pixels have no reliable hue); its spread is at least the minimum.
_SMALL_HOLE_AREA = 6
_SMALL_HOLE_SHARE = 0.002
_SMALL_HOLE_D = 3.5
_SMALL_RING_D = 6.0
_SMALL_RIM_SHARE = 0.85
_CHROMA_DARK = 30.0
_CHROMA_MIN_SPREAD = 0.01


def _open_background_holes(work: _Work, p: np.ndarray, *, trust_sure_map: bool = False) -> np.ndarray:
    """Carve out regions the map calls product that look like the background and are ringed by product.

    `trust_sure_map`: the model sees holes itself (ISNet), so a region its map is sure of
    (median >= _TRUSTED_P) is product that merely looks like the background (a pale seat on
    pale marble), and is kept; only regions the map is unsure of are carved."""
    product = p >= 0.5
    far_background = cv2.erode((p < 0.1).astype(np.uint8), disk(3)).astype(bool)
    model = _Background.fit(work.smooth, far_background)
    if model is None:
        return p
    plain, tolerant = model.distances(work.smooth)
    outside = _exterior(~product)
    candidates = cv2.morphologyEx((product & (tolerant < _HOLE_D)).astype(np.uint8), cv2.MORPH_OPEN, disk(1))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=4)
    min_area = max(12, int(0.002 * np.count_nonzero(product)))
    out = p
    for index in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[index])
        if area < min_area:
            continue
        y0, y1, x0, x1 = max(0, y - 4), min(p.shape[0], y + h + 4), max(0, x - 4), min(p.shape[1], x + w + 4)
        component = (labels[y0:y1, x0:x1] == index).astype(np.uint8)
        # A region that opens onto the outside is an outline the model drew
        # generously, or a light part of the product at its edge: leave it.
        if (cv2.dilate(component, disk(1)).astype(bool) & outside[y0:y1, x0:x1]).any():
            continue
        if trust_sure_map and float(np.median(p[y0:y1, x0:x1][component.astype(bool)])) >= _TRUSTED_P:
            continue
        # Print inside the region (text, a logo) means a label, not a view through the product.
        if _island_share(component) > _MAX_ISLANDS:
            continue
        rim = cv2.dilate(component, disk(3)).astype(bool) & ~component.astype(bool) & product[y0:y1, x0:x1]
        if not rim.any() or float(np.mean(plain[y0:y1, x0:x1][rim] > _RING_D)) < 0.5:
            continue  # not ringed by product that differs from the background
        grown = cv2.dilate(component, disk(2)).astype(bool) & (tolerant[y0:y1, x0:x1] < _GROW_D)
        if out is p:
            out = p.copy()
        out[y0:y1, x0:x1][grown | component.astype(bool)] = 0.0
    return out


def _open_small_holes(work: _Work, p: np.ndarray) -> np.ndarray:
    """Carve holes too small for `_open_background_holes` (a watch strap's punched holes, a few
    working pixels across), which both models fill with confident product.

    The background's colour field cannot tell them apart on a textured background (wood's
    spread is wide enough to take in a dark strap, and a hole is in the product's shadow), so
    they are found by chromaticity, which shadow leaves alone: a compact spot whose hue is the
    background's, ringed all round by product whose hue is clearly not. Only small regions
    are looked at; a spot of the background's hue is otherwise as likely a printed detail."""
    product = p >= 0.5
    far_background = cv2.erode((p < 0.1).astype(np.uint8), disk(3))
    if cv2.countNonZero(far_background) < 64:
        return p
    # Chromaticity (r and b over the sum) and the background's mean and spread of it, through
    # OpenCV: this pass runs on every cutout, so it must cost a few milliseconds, not tens.
    r, g, b = cv2.split(work.smooth)
    total = cv2.add(cv2.add(r, g), b) + np.float32(_CHROMA_DARK)
    chroma = cv2.merge((cv2.divide(r, total), cv2.divide(b, total)))
    mean, std = cv2.meanStdDev(chroma, mask=far_background)
    spread = np.maximum(std.ravel(), _CHROMA_MIN_SPREAD).astype(np.float32)
    red_chroma, blue_chroma = cv2.split(chroma)
    distance = cv2.magnitude(
        (red_chroma - np.float32(mean[0, 0])) * np.float32(1 / spread[0]),
        (blue_chroma - np.float32(mean[1, 0])) * np.float32(1 / spread[1]),
    )
    near = distance < _SMALL_HOLE_D
    candidates = (product & near).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=4)
    if count <= 1:
        return p
    max_area = max(_SMALL_HOLE_AREA + 1, int(_SMALL_HOLE_SHARE * np.count_nonzero(product)))
    sizes = stats[1:, cv2.CC_STAT_AREA]
    if not ((sizes >= _SMALL_HOLE_AREA) & (sizes < max_area)).any():
        return p
    outside = _exterior(~product)
    out = p
    for index in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[index])
        # A punched hole is compact; a thin streak of background colour is print or a reflection.
        if not _SMALL_HOLE_AREA <= area < max_area or area < 0.45 * w * h:
            continue
        y0, y1, x0, x1 = max(0, y - 5), min(p.shape[0], y + h + 5), max(0, x - 5), min(p.shape[1], x + w + 5)
        component = (labels[y0:y1, x0:x1] == index).astype(np.uint8)
        # The ring is taken a little away from the spot: the smoothing blurs hues across its edge.
        ring = cv2.dilate(component, disk(4)).astype(bool) & ~cv2.dilate(component, disk(2)).astype(bool)
        if (ring & outside[y0:y1, x0:x1]).any() or not product[y0:y1, x0:x1][ring].all():
            continue
        if float(np.mean(distance[y0:y1, x0:x1][ring] > _SMALL_RING_D)) < _SMALL_RIM_SHARE:
            continue
        if out is p:
            out = p.copy()
        out[y0:y1, x0:x1][cv2.dilate(component, disk(1)).astype(bool)] = 0.0
    return out


def _island_share(component: np.ndarray) -> float:
    """Share of the region's filled outline taken by islands that are not background-coloured."""
    padded = cv2.copyMakeBorder(component, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 1)  # everything reachable from outside
    islands = int(np.count_nonzero(flood == 0))
    filled = islands + int(np.count_nonzero(padded))
    return islands / max(1, filled)


def _filled(region: np.ndarray) -> np.ndarray:
    """The region with everything it encloses."""
    padded = cv2.copyMakeBorder(region.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(padded, None, (0, 0), 2)
    return np.asarray(padded[1:-1, 1:-1] != 2)


def _exterior(background: np.ndarray) -> np.ndarray:
    """The part of a background mask connected to the image border."""
    count, labels = cv2.connectedComponents(background.astype(np.uint8), connectivity=4)
    if count <= 1:
        return np.zeros(background.shape, bool)
    border = np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1]))
    touching = np.unique(border[border > 0])
    return np.isin(labels, touching)


# ---------------------------------------------------------------- decontamination
def decontaminate(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The photo with foreground colours estimated where alpha is partial, so no old background shows.

    Blur-fusion foreground estimation (Forte & Pitie 2020, two passes), solved
    at working resolution and applied only to the edge band at full size.
    Fully transparent pixels next to the product get the product's colour too,
    so later resampling of the cut-out cannot pull the old background in.
    """
    rgb = _as_rgb(rgb)
    if alpha.shape != rgb.shape[:2] or alpha.dtype != np.uint8:
        raise ValueError(f"alpha must be HxW uint8 of the photo's size, got {alpha.shape} {alpha.dtype}")
    out = np.array(rgb, copy=True)
    _decontaminate(rgb, alpha, _Work.of(rgb).coarse, out=out)
    return out


def _decontaminate(rgb: np.ndarray, alpha: np.ndarray, work: _Work, *, out: np.ndarray) -> None:
    """Write estimated foreground colours into `out` (a copy of `rgb`) at the edge band only."""
    # The partial pixels plus the transparent apron around the product: (alpha > 0 & alpha < 255)
    # | (dilated visible & alpha == 0), which is dilated visible & alpha < 255, in OpenCV ops.
    visible = cv2.threshold(alpha, 0, 255, cv2.THRESH_BINARY)[1]
    below_opaque = cv2.threshold(alpha, 254, 255, cv2.THRESH_BINARY_INV)[1]
    ys, xs = nonzero(cv2.bitwise_and(cv2.dilate(visible, disk(2)), below_opaque))
    if ys.size == 0:
        return
    a_small = work.shrink(alpha).astype(np.float32) * np.float32(1 / 255)
    image = work.small_f
    side = max(work.shape)
    wide = max(3, side // 16)
    narrow = max(1, round(6 * side / max(work.full_shape)))
    f_blur, b_blur = _blur_fusion(image, image, a_small, wide)
    f_first = _fuse(image, a_small, f_blur, b_blur)
    f_blur, b_blur = _blur_fusion(f_first, b_blur, a_small, narrow)

    a = alpha[ys, xs].astype(np.float32)[:, None] * np.float32(1 / 255)
    colour = rgb[ys, xs].astype(np.float32) * np.float32(1 / 255)
    f_at = work.sample(f_blur, ys, xs).reshape(-1, 3)
    b_at = work.sample(b_blur, ys, xs).reshape(-1, 3)
    residual = colour - a * f_at - (1 - a) * b_at
    # Where alpha is a little too high (a soft, defocused edge cut firmly) the residual still holds
    # old background: drop its part that points from the product's colour towards the background's.
    towards_b = b_at - f_at
    along = np.einsum("nc,nc->n", residual, towards_b) / np.maximum(
        np.einsum("nc,nc->n", towards_b, towards_b), 1e-4
    )
    residual -= np.maximum(along, 0.0)[:, None] * towards_b
    estimate = f_at + a * residual
    # Transparent pixels have nothing to correct with; give them the colour of
    # the nearby solid product instead, which no background has leaked into.
    clear = a[:, 0] == 0
    if clear.any():
        f_second = _fuse(image, a_small, f_blur, b_blur)
        nearby = _weighted_mean(f_second, a_small * a_small, narrow + 1)
        estimate[clear] = work.sample(nearby, ys[clear], xs[clear]).reshape(-1, 3)
    out[ys, xs] = np.clip(estimate * 255 + 0.5, 0, 255).astype(np.uint8)


def _blur_fusion(
    fg: np.ndarray, bg: np.ndarray, alpha: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """Alpha-weighted local means of the foreground and background colours."""
    return _weighted_mean(fg, alpha, radius), _weighted_mean(bg, 1 - alpha, radius)


def _weighted_mean(values: np.ndarray, weight: np.ndarray, radius: int) -> np.ndarray:
    if weight.dtype != np.float32 or values.dtype != np.float32:
        return box(values * weight[..., None], radius) / (box(weight, radius)[..., None] + 1e-5)
    return box(values * channels(weight), radius) / channels(box(weight, radius) + 1e-5)


def _fuse(image: np.ndarray, alpha: np.ndarray, f_blur: np.ndarray, b_blur: np.ndarray) -> np.ndarray:
    a = channels(alpha) if alpha.dtype == np.float32 else alpha[..., None]
    return np.clip(f_blur + a * (image - a * f_blur - (1 - a) * b_blur), 0.0, 1.0)


# ---------------------------------------------------------------- classical path
_BORDER_SHARE = 0.04  # the frame strip whose colours define "background"
_PR_FG_D = 2.0  # farther than this from the background: probably product
_FG_D = 5.0  # farther than this: surely product (after erosion)
_KEEP_PART = 0.03  # separate parts smaller than this share of the largest are specks
_GRABCUT_ITERATIONS = 4
_MIX_BAND = 3  # pixels inside GrabCut's edge where alpha is re-estimated from colour mixing


def classical_alpha(rgb: np.ndarray) -> np.ndarray:
    """Foreground probability without a model: a border colour model seeds GrabCut. Float32 HxW in [0, 1].

    The background is whatever fills the frame's border strip, modelled as a
    smooth colour field (so gradients and vignettes fit) with a spread (so
    textures fit). Pixels far from it seed GrabCut as product, shadow-dark
    versions of it as probable background. Holes stay holes when they show the
    background; enclosed regions of product colour are filled.
    """
    rgb = _as_rgb(rgb)
    work = _Work(rgb, CLASSICAL_SIDE)
    small = _classical_small(work)
    height, width = rgb.shape[:2]
    if small.shape == (height, width):
        return small
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _classical_small(work: _Work) -> np.ndarray:
    colour = work.smooth
    height, width = work.shape
    strip = max(3, round(_BORDER_SHARE * min(height, width)))
    border = np.zeros((height, width), bool)
    border[:strip], border[-strip:], border[:, :strip], border[:, -strip:] = True, True, True, True
    model = _Background.fit(colour, border)
    if model is None:
        return np.zeros((height, width), np.float32)
    plain, tolerant = model.distances(colour)

    seeds = np.full((height, width), cv2.GC_PR_BGD, np.uint8)
    seeds[(plain > _PR_FG_D) & (tolerant > _HOLE_D)] = cv2.GC_PR_FGD
    sure = cv2.erode((tolerant > _FG_D).astype(np.uint8), disk(2)).astype(bool) & ~border
    seeds[sure] = cv2.GC_FGD
    # Only background-coloured border pixels are certain: a product may touch the frame.
    seeds[border & (plain <= _PR_FG_D)] = cv2.GC_BGD
    if not np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD)).any():
        return np.zeros((height, width), np.float32)
    product = np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if np.isin(seeds, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        bgd_model = np.zeros((1, 65), np.float64)
        fgd_model = np.zeros((1, 65), np.float64)
        try:
            # The rectangle is ignored when GrabCut starts from a mask.
            no_rect = (0, 0, 0, 0)
            cv2.grabCut(
                np.ascontiguousarray(work.small), seeds, no_rect, bgd_model, fgd_model,
                _GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK,
            )  # fmt: skip
            product = np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD))
        except cv2.error:
            pass  # degenerate colour statistics: the seed mask is the best answer we have
    product = _clean_product(product, tolerant)
    return _mix_alpha(work, product, model)


def _mix_alpha(work: _Work, product: np.ndarray, model: _Background) -> np.ndarray:
    """Soft alpha just inside GrabCut's hard edge, from how much each pixel mixes product and background.

    GrabCut gives every mixed edge pixel wholly to one side, which leaves a rim
    of old background on soft (defocused) edges. Projecting a pixel onto the
    line from the background's colour to the nearby product colour recovers
    how much of each it holds.
    """
    solid = product.astype(np.uint8)
    # Only GrabCut's own edge pixels are re-estimated: alpha may shrink off a
    # mixed rim but never grow into a cast shadow beside the product.
    band = (solid - cv2.erode(solid, disk(_MIX_BAND))).astype(bool)
    alpha = product.astype(np.float32)
    if not band.any():
        return alpha
    image = work.small.astype(np.float32)
    core = cv2.erode(solid, disk(_MIX_BAND)).astype(np.float32)
    weight = box(core, 2 * _MIX_BAND)
    near_product = box(image * core[..., None], 2 * _MIX_BAND) / np.maximum(weight, 1e-6)[..., None]
    background = model.field(image.shape)
    ys, xs = np.nonzero(band & (weight > 1e-3))
    towards = near_product[ys, xs] - background[ys, xs]
    length2 = np.einsum("nc,nc->n", towards, towards)
    mix = np.einsum("nc,nc->n", image[ys, xs] - background[ys, xs], towards) / np.maximum(length2, 1e-6)
    # Where product and background colours barely differ the projection is noise: keep GrabCut's answer.
    trusted = length2 > (3 * model.spread) ** 2
    alpha[ys[trusted], xs[trusted]] = np.clip(mix[trusted], 0.0, 1.0)
    return alpha


def _clean_product(product: np.ndarray, tolerant: np.ndarray) -> np.ndarray:
    """Fill enclosed gaps unless they show the background, then drop specks but keep real separate parts."""
    product = cv2.morphologyEx(product.astype(np.uint8), cv2.MORPH_OPEN, disk(1)).astype(bool)
    gaps = ~product & ~_exterior(~product)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(gaps.astype(np.uint8), connectivity=4)
    for index in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[index])
        region = labels[y : y + h, x : x + w] == index
        looks_like_background = float(np.mean(tolerant[y : y + h, x : x + w][region] < _HOLE_D)) >= 0.6
        # Product islands inside the gap (a label's text) mean it is printed, not open.
        printed = _island_share(region.astype(np.uint8)) > _MAX_ISLANDS
        if area < 9 or not looks_like_background or printed:
            product[y : y + h, x : x + w] |= _filled(region)

    count, labels, stats, _ = cv2.connectedComponentsWithStats(product.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros(product.shape, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    floor = max(_KEEP_PART * float(areas.max()), _MIN_COVERAGE * product.size)
    keep = np.zeros(count, bool)
    keep[1:] = areas >= floor
    return np.asarray(keep[labels])
