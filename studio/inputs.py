"""Input preparation: uploads opened and normalised, masks, the automatic cutout, edge guides, and
how a photo fits a provider's limits (with the fix: downscale, lossless PNG, JPEG)."""

from __future__ import annotations

import hashlib
import io
import threading

import numpy as np
from PIL import Image

from imaging.cutout import Cutout, Segmenter, cut_out
from imaging.edges import edge_element
from imaging.images import (
    DEFAULT_MAX_SIDE,
    DEFAULT_MIN_SIDE,
    ImageInputError,
    LoadedImage,
    encode_png,
    image_size,
    load_image,
    thumbnail,
)
from imaging.masks import load_mask, overlay
from imaging.segmenters import FixedMap, cutout_record, model_for
from imaging.tint import contrasting_tint
from providers.base import Limits, Operation
from providers.payload import Fix, check_payload, scaled_size
from studio.catalogue import Catalogue
from studio.cutout_models import CutoutModels
from studio.errors import StudioInputError
from studio.values import PREVIEW_SIDE, AutoMask, CutoutPreview, ImageFit, PreparedImage
from studio.wiring import LazyResources


class Inputs:
    """Turns what the user gave into the files a job stores and sends."""

    def __init__(
        self,
        catalogue: Catalogue,
        cutout_models: CutoutModels,
        resources: LazyResources,
        *,
        max_pixels: int,
    ) -> None:
        self._catalogue = catalogue
        self._models = cutout_models
        self._resources = resources
        self._max_pixels = max_pixels
        # The last photo decoded for a cutout (digest of its PNG, pixels): one photo, ~36 MB at 3000 px.
        self._decoded: tuple[bytes, LoadedImage] | None = None
        self._decoded_lock = threading.Lock()

    # ------------------------------------------------------------ cutout models
    def segmenter(self, quality: str | None = None) -> Segmenter | None:
        """The shared segmentation model for `quality` ("best", "fast"; None: the default).
        None: that model is missing or broken and the classical cutout is used."""
        model = model_for(self.cutout_quality(quality))
        value: Segmenter | None = self._resources[f"segmenter.{model}"]
        return value

    def cutout_problem(self, quality: str | None = None) -> str | None:
        """Why cutouts of `quality` (None: the default) cannot use their model, with the fix; else None."""
        return self._models.problem(self.cutout_quality(quality))

    def cutout_quality(self, quality: object) -> str:
        try:
            return self._models.quality(quality)
        except ValueError as exc:
            raise StudioInputError("bad_cutout_quality", f"{exc}.", {"quality": str(quality)}) from None

    # ------------------------------------------------------------ photos and masks
    def prepare_image(self, data: bytes, name: str) -> PreparedImage:
        loaded = self.load(data)
        pixels = loaded.rgba if loaded.has_alpha else loaded.rgb
        png = encode_png(pixels)
        small = (
            pixels if max(loaded.width, loaded.height) <= PREVIEW_SIDE else thumbnail(pixels, PREVIEW_SIDE)
        )
        # The automatic cutout usually comes next: keep the decoded pixels for it.
        self._remember_decoded(png, loaded)
        return PreparedImage(
            png=png,
            width=loaded.width,
            height=loaded.height,
            has_alpha=loaded.has_alpha,
            original_format=loaded.source_format,
            original_name=name,
            notes=tuple(loaded.notes),
            preview_png=png if small is pixels else encode_png(small),
        )

    def describe_image(self, head: bytes, name: str) -> PreparedImage:
        """A photo checked from its header only (format, displayed size, pixels, transparency), not
        decoded: a batch plan's stand-in (`png` is b"", see `is_described`). The worker prepares the
        real file just before the job's turn (`studio.worker_prepare`). Raises StudioInputError."""
        try:
            width, height = image_size(head)
            with Image.open(io.BytesIO(head)) as img:
                mode, source_format = img.mode, img.format or "unknown"
                transparent = "transparency" in img.info
        except ImageInputError as exc:
            raise StudioInputError(exc.code, str(exc), dict(exc.params)) from None
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
            raise StudioInputError("corrupt", "The file is not a readable image.", {}) from None
        for code, broken, params in (
            ("too_many_pixels", width * height > self._max_pixels, {"max_pixels": self._max_pixels}),
            ("too_small", min(width, height) < DEFAULT_MIN_SIDE, {"min_side": DEFAULT_MIN_SIDE}),
            ("too_large", max(width, height) > DEFAULT_MAX_SIDE, {"max_side": DEFAULT_MAX_SIDE}),
        ):
            if broken:
                refused = ImageInputError(
                    code, {"width": width, "height": height, "pixels": width * height, **params}
                )
                raise StudioInputError(refused.code, str(refused), dict(refused.params))
        return PreparedImage(
            png=b"",
            width=width,
            height=height,
            has_alpha=transparent or mode in ("RGBA", "LA", "PA", "RGBa", "La"),
            original_format=source_format,
            original_name=name,
        )

    def _remember_decoded(self, png: bytes, loaded: LoadedImage) -> None:
        with self._decoded_lock:
            self._decoded = (_digest(png), loaded)

    def _load_prepared(self, image: PreparedImage) -> LoadedImage:
        """`image` decoded, without decoding it again when it is the photo just prepared."""
        digest = _digest(image.png)
        with self._decoded_lock:
            if self._decoded is not None and self._decoded[0] == digest:
                return self._decoded[1]
        loaded = self.load(image.png)
        self._remember_decoded(image.png, loaded)
        return loaded

    def prepare_mask(self, data: bytes, image: PreparedImage) -> bytes:
        """The mask as a single-channel PNG (white = product) at the image's exact size."""
        try:
            mask = load_mask(data, (image.width, image.height))
        except ImageInputError as exc:
            raise StudioInputError(exc.code, str(exc), dict(exc.params)) from None
        if mask.dtype != np.uint8:
            mask = np.where(mask, np.uint8(255), np.uint8(0))
        return encode_png(mask)

    def reference_png(self, data: bytes) -> bytes:
        """The reference as a PNG; transparent areas stay transparent (some vendors: alpha 0 does not guide)."""
        loaded = self.load(data)
        return encode_png(loaded.rgba if loaded.has_alpha else loaded.rgb)

    def load(self, data: bytes) -> LoadedImage:
        try:
            return load_image(data, max_pixels=self._max_pixels)
        except ImageInputError as exc:
            raise StudioInputError(exc.code, str(exc), dict(exc.params)) from None

    # ------------------------------------------------------------ the automatic cutout
    def auto_cutout(self, image: PreparedImage, quality: str | None = None) -> CutoutPreview:
        """The automatic cutout to show before a job, at display size.

        The model runs on the full photo (as the job's will: ISNet remembers its map, so the job
        does not run it again); refinement, overlay and PNGs are made at PREVIEW_SIDE, which is
        what a page can show anyway and keeps a 3000x3000 photo's preview quick.
        """
        chosen = self.cutout_quality(quality)
        model = model_for(chosen)
        loaded = self._load_prepared(image)
        display = _display_copy(loaded, PREVIEW_SIDE)
        segmenter = self.segmenter(chosen)
        on_display: Segmenter | None = None
        if segmenter is not None and not loaded.has_alpha:
            size = (display.width, display.height)
            on_display = FixedMap(
                segmenter.name,
                segmenter.predict(loaded.rgb, size),
                fills_holes=getattr(segmenter, "fills_holes", True),
            )
        cutout = cut_out(display, segmenter=on_display)
        notes = cutout_record(cutout, wanted=model, ran=segmenter is not None)
        alpha = np.ascontiguousarray(cutout.alpha)
        return CutoutPreview(
            # The same tint as the mask editor: the hue the photo has least of (imaging.tint).
            overlay_png=encode_png(overlay(display.rgb, alpha, contrasting_tint(display.rgb).rgb)),
            cutout_png=encode_png(cutout.rgba),
            method=str(cutout.method),
            quality=chosen,
            method_text=str(notes["cutout_method"]),
            model=cutout.model,
            refinement=cutout.refinement,
            problem=self.cutout_problem(chosen) if "cutout_model_missing" in notes else None,
            size=(display.width, display.height),
        )

    def auto_mask(self, image: PreparedImage, quality: str | None = None) -> AutoMask:
        """The automatic cutout's mask at full size (the mask editor's start, a vendor's mask)."""
        chosen = self.cutout_quality(quality)
        segmenter = self.segmenter(chosen)
        cutout: Cutout = cut_out(self._load_prepared(image), segmenter=segmenter)
        notes = cutout_record(cutout, wanted=model_for(chosen), ran=segmenter is not None)
        return AutoMask(mask_png=encode_png(np.ascontiguousarray(cutout.alpha)), notes=notes)

    def make_edge_guide(self, element: PreparedImage, product: PreparedImage) -> bytes:
        """An element picture turned into an edge guide at the product photo's size: cut out (its own
        transparency, else the automatic cutout), then its soft outline, as the vendor documents."""
        loaded = self.load(element.png)
        rgba = cut_out(loaded, segmenter=self.segmenter()).rgba
        return encode_png(edge_element(np.ascontiguousarray(rgba), (product.width, product.height)))

    # ------------------------------------------------------------ fitting a provider
    def check_image_fit(
        self, image: PreparedImage, provider: str, workflow: Operation, mask_png: bytes | None = None
    ) -> ImageFit:
        """How `image` (and its single-channel mask) fits `provider` for `workflow`, before any money
        is spent: every limit measured on the exact files the vendor would get (`providers.payload`,
        which input hosting and the adapters run again at send time), and the fix when one exists
        (downscale, lossless PNG, high-quality JPEG). Too small or too narrow cannot be fixed."""
        limits = self._catalogue.limits_for(provider, workflow)
        label = type(self._catalogue.adapter(provider)).label
        if is_described(image):
            return _described_fit(image, limits, label)
        check = check_payload(limits, image.png, mask_png, vendor=label)
        fixed = check.fixed
        return ImageFit(
            tuple(StudioInputError(p.code, p.message, dict(p.params)) for p in check.problems),
            check.fixable,
            label,
            downscale_to=fixed.size if fixed is not None and "downscale" in fixed.kinds else None,
            jpeg_quality=fixed.jpeg_quality if fixed is not None else None,
            max_bytes=limits.max_bytes,
            fixed_image=_fixed_image(image, fixed) if fixed is not None else None,
            fixed_mask=fixed.mask if fixed is not None else None,
            fix_kinds=fixed.kinds if fixed is not None else (),
        )

    def fit_inputs(
        self, image: PreparedImage, mask: bytes | None, provider: str, workflow: Operation
    ) -> tuple[PreparedImage, bytes | None]:
        """The photo and its mask (any mask file the user gave; it is normalised first) made to fit
        `provider` together; both as they are when they fit or cannot be fixed (`check_job` says why)."""
        mask_png = self.prepare_mask(mask, image) if mask is not None else None
        fit = self.check_image_fit(image, provider, workflow, mask_png)
        if fit.fixed_image is None:
            return image, mask_png
        return fit.fixed_image, fit.fixed_mask


def is_described(image: PreparedImage) -> bool:
    """True for a photo known from its header only (`Inputs.describe_image`), not yet prepared."""
    return not image.png


def fit_described(image: PreparedImage, provider_max_side: int, min_side: int) -> PreparedImage:
    """A described photo as the worker's fit will make it: downscaled to the provider's largest side
    (when that leaves it large enough; else as it is, for the check to report)."""
    if max(image.width, image.height) <= provider_max_side:
        return image
    width, height = scaled_size(image.width, image.height, provider_max_side)
    if min(width, height) < min_side:
        return image
    return PreparedImage(
        png=b"",
        width=width,
        height=height,
        has_alpha=image.has_alpha,
        original_format=image.original_format,
        original_name=image.original_name,
    )


def _described_fit(image: PreparedImage, limits: Limits, label: str) -> ImageFit:
    """The limits a header can tell (sides and shape). Bytes are measured on the prepared file by the
    worker, which fails the item with the reason when they do not fit."""
    width, height = image.width, image.height
    problems: list[StudioInputError] = []
    sides = {"width": width, "height": height, "provider": label}
    sides |= {"min_side": limits.min_side, "max_side": limits.max_side}
    if min(width, height) < limits.min_side:
        problems.append(
            StudioInputError(
                "provider_too_small",
                f"The image is {width}x{height} px; {label} needs {limits.min_side}-{limits.max_side} px "
                "per side. Use a larger photo of the product.",
                sides,
            )
        )
    if limits.aspect_range is not None:
        (low_w, low_h), (high_w, high_h) = limits.aspect_range
        if not (width * low_h >= height * low_w and width * high_h <= height * high_w):
            problems.append(
                StudioInputError(
                    "provider_bad_aspect",
                    f"The image is {width}x{height} px, too narrow for {label}, which takes width:height "
                    f"from {low_w}:{low_h} to {high_w}:{high_h}. Crop it closer to square and try again.",
                    {**sides, "low": f"{low_w}:{low_h}", "high": f"{high_w}:{high_h}"},
                )
            )
    if max(width, height) > limits.max_side:
        problems.append(
            StudioInputError(
                "provider_too_large",
                f"The image is {width}x{height} px; {label} needs {limits.min_side}-{limits.max_side} px "
                "per side. Let Backdrop Studio downscale it (--fit), or resize it yourself.",
                sides,
            )
        )
    return ImageFit(tuple(problems), False, label, max_bytes=limits.max_bytes)


def _fixed_image(image: PreparedImage, fixed: Fix) -> PreparedImage:
    """The fixed photo as a prepared image, its last note saying what was done."""
    width, height = fixed.size
    done = []
    if "downscale" in fixed.kinds:
        done.append(f"downscaled from {image.width}x{image.height} to {width}x{height}")
    if fixed.jpeg_quality is not None:
        done.append(f"re-encoded as JPEG (quality {fixed.jpeg_quality})")
    elif "optimise" in fixed.kinds:
        done.append("re-compressed as a smaller PNG (no pixel changed)")
    elif "reencode" in fixed.kinds:
        done.append(f"converted to {fixed.payload.image.format}")
    return PreparedImage(
        png=fixed.image,
        width=width,
        height=height,
        has_alpha=image.has_alpha and fixed.jpeg_quality is None,
        original_format=image.original_format,
        original_name=image.original_name,
        notes=(*image.notes, " and ".join(done)),
    )


def _display_copy(image: LoadedImage, side: int) -> LoadedImage:
    """The photo with its long side at most `side` (itself when it is that small already)."""
    if max(image.width, image.height) <= side:
        return image
    small = thumbnail(image.rgba, side)
    small.setflags(write=False)
    return LoadedImage(rgba=small, source_format=image.source_format, has_alpha=image.has_alpha)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()
