"""Marketplace export presets and the one function that turns a generated image into a listing file.

This module owns:

- `Preset`, a frozen description of what a marketplace slot accepts (exact size or a
  minimum square side, background, how much of the frame the product fills, how the
  picture is fitted, JPEG quality, byte limits, format), validated on construction;
- `PRESETS` (Amazon main image, Taobao, Taobao white-background, Tmall, original) and
  `custom_preset`;
- `render` / `render_detailed`: the exported bytes, and `Rendered` with what was done;
- the errors a user can act on: `ExportError` and its `SourceTooSmall`,
  `ProductNotFound` and `ExportTooLarge`.

AI labels (imaging/provenance.py says what they hold and why): `render_detailed` takes a
`Provenance` to write as the file's XMP packet (the implicit label), and a `visible_label`
text to draw in a corner (the explicit label). `Preset.ai_label_visible_default` says whether
a slot shows the visible label unless the user turns it off.

Sizes and enlargement. A marketplace user needs a file the marketplace accepts and that
still looks sharp when zoomed. So:

- exact-size presets (Taobao 800x800, Tmall 750x1000, custom) never enlarge the picture
  (or, on a solid background, the product) more than `MAX_UPSCALE` (2x): beyond that an
  interpolated image looks soft on the listing, and the user is better told
  (`SourceTooSmall`) than handed a blurry file;
- minimum-side presets (Amazon) are square. They aim at their `default_side` (2000 px),
  step down towards `min_side` (1600 px) when that keeps the product's enlargement
  within 2x, and enlarge further only to reach `min_side`, because the marketplace's
  own rule (zoom needs 1600 px) wins over sharpness; such a file carries a note saying
  how much it was enlarged, so the export's CSV shows it.

Colour: pixels are converted to sRGB when the file carries another RGB ICC profile, and
the output is written without a profile (untagged means sRGB) and with no alpha channel;
its only metadata is the provenance packet, when one is given.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageCms

from imaging.ai_label import VisibleLabel, draw_visible_label
from imaging.compose import Layout, place, product_bbox
from imaging.cutout import Segmenter, cut_out
from imaging.images import LoadedImage, encode_png, flatten_on, load_image
from imaging.provenance import Provenance, embed, xmp_packet
from imaging.text import FontSource

Fit = Literal["pad", "crop", "cover"]
FITS: tuple[str, ...] = ("pad", "crop", "cover")
FORMATS: tuple[str, ...] = ("JPEG", "PNG")
EXTENSIONS: Mapping[str, str] = MappingProxyType({"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp"})

# Beyond twice its size an interpolated photo looks soft on a listing page.
MAX_UPSCALE = 2.0
# Below 70 JPEG blocks show on product texture and text; a smaller size is the better fix.
MIN_JPEG_QUALITY = 70
QUALITY_STEP = 5
MIN_SIDE = 64
MAX_SIDE = 10_000  # Amazon's upper limit; no marketplace we serve takes more
MIN_MAX_BYTES = 10_000
# Alpha at or below this is the haze a soft matte leaves around a product (compose.product_bbox
# ignores it too); on a pure-white slot it would show as grey specks, so it becomes background.
_HAZE_ALPHA = 16
_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class ExportError(ValueError):
    """This image cannot be exported with this preset; the message says why and what to do."""


class SourceTooSmall(ExportError):
    """Reaching the preset's size would enlarge the picture (or product) more than `MAX_UPSCALE`."""

    def __init__(self, message: str, *, needed_scale: float) -> None:
        super().__init__(message)
        self.needed_scale = needed_scale


class ProductNotFound(ExportError):
    """A solid-background preset needs the product, and none could be separated from the image."""


class ExportTooLarge(ExportError):
    """Even the lowest acceptable JPEG quality (or the lossless PNG) is over the preset's byte limit."""

    def __init__(self, preset: Preset, smallest_bytes: int, quality: int | None) -> None:
        max_bytes = preset.max_bytes or 0
        how = f"at JPEG quality {quality}" if quality is not None else "as PNG"
        super().__init__(
            f"The {preset.label} file is {_kb(smallest_bytes)} even {how}, over the {_kb(max_bytes)} limit. "
            "Export a simpler picture, choose a smaller custom size, or raise the byte limit."
        )
        self.smallest_bytes = smallest_bytes
        self.max_bytes = max_bytes
        self.quality = quality


@dataclass(frozen=True)
class Preset:
    """What one marketplace slot accepts. Construction validates every field (ValueError).

    - `size` (width, height): the exact output size; or `min_side` with `default_side`:
      a square output of at least `min_side`, normally `default_side` (see the module doc).
      Neither, with `format=None`: the file is exported as generated (`original`).
    - `background`: None keeps the generated background; "#RRGGBB" cuts the product out
      and places it on that exact colour ("#FFFFFF" = RGB 255,255,255).
    - `fill`: on a solid background, the share of the canvas the product's bounding box
      reaches on its limiting side (on a square canvas: its longest side).
    - `fit` (kept background only): "cover" scales to cover the frame and crops the excess
      around the product; "pad" scales to fit inside and pads with white; "crop" takes the
      frame from the picture's own pixels around the product, without resampling (enlarging
      only as much as covering the frame needs).
    - `jpeg_quality`: the first quality tried; lowered in steps of 5 down to 70 while the
      file is over `max_bytes`. `min_bytes` is a soft floor: quality is raised towards 100
      to reach it, and a note (not an error) says when it cannot be reached.
    """

    key: str
    label: str
    size: tuple[int, int] | None = None
    min_side: int | None = None
    default_side: int | None = None
    background: str | None = None
    fill: float | None = None
    fit: Fit = "cover"
    jpeg_quality: int = 90
    max_bytes: int | None = None
    min_bytes: int | None = None
    format: Literal["JPEG", "PNG"] | None = "JPEG"
    rules: tuple[str, ...] = field(default=(), compare=False)
    # Chinese scene slots (Taobao, Tmall): the picture goes to Chinese buyers, where AI images carry
    # a visible label (GB 45438-2025). Off for white-background slots, whose rules forbid any text.
    ai_label_visible_default: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def passthrough(self) -> bool:
        """True for "original": the generated file is exported byte for byte."""
        return self.format is None

    @property
    def background_rgb(self) -> tuple[int, int, int] | None:
        if self.background is None:
            return None
        value = self.background.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

    @property
    def extension(self) -> str | None:
        """ "jpg" or "png"; None for "original", whose extension follows each generated file."""
        return EXTENSIONS[self.format] if self.format else None


def _validate(preset: Preset) -> None:
    who = f"preset '{preset.key}'"
    if not preset.key or not preset.label:
        raise ValueError("a preset needs a key and a label")
    if preset.format is not None and preset.format not in FORMATS:
        raise ValueError(
            f"{who}: format must be JPEG or PNG (or None to keep the file), got {preset.format!r}"
        )
    if preset.fit not in FITS:
        raise ValueError(f"{who}: fit must be one of {', '.join(FITS)}, got {preset.fit!r}")
    if preset.format is None:
        if preset.size or preset.min_side or preset.background or preset.fill or preset.max_bytes:
            raise ValueError(
                f"{who}: a preset that keeps the file as generated (format None) cannot resize it"
            )
        return
    if (preset.size is None) == (preset.min_side is None):
        raise ValueError(f"{who}: give either an exact size or a minimum side, not both or neither")
    if preset.size is not None:
        if len(preset.size) != 2:
            raise ValueError(f"{who}: size must be (width, height), got {preset.size!r}")
        _check_side("width", preset.size[0], who)
        _check_side("height", preset.size[1], who)
    else:
        _check_side("min_side", preset.min_side, who)
        _check_side("default_side", preset.default_side, who)
        if (preset.default_side or 0) < (preset.min_side or 0):
            raise ValueError(f"{who}: default_side {preset.default_side} is below min_side {preset.min_side}")
        if preset.background is None:
            raise ValueError(
                f"{who}: a minimum-side preset places the product, so it needs a background colour"
            )
    if preset.background is not None and not (
        isinstance(preset.background, str) and _HEX_COLOUR.match(preset.background)
    ):
        raise ValueError(
            f"{who}: background must be None (keep the generated one) or a colour like #FFFFFF, "
            f"got {preset.background!r}"
        )
    if preset.fill is not None:
        if preset.background is None:
            raise ValueError(
                f"{who}: fill places the cut-out product on a solid background, so it needs a background "
                "colour such as #FFFFFF; with the generated background, choose a fit instead"
            )
        if (
            isinstance(preset.fill, bool)
            or not isinstance(preset.fill, int | float)
            or not 0.3 <= preset.fill <= 1
        ):
            raise ValueError(
                f"{who}: fill must be a share of the frame from 0.3 to 1 (e.g. 0.85), got {preset.fill!r}"
            )
    elif preset.background is not None:
        raise ValueError(
            f"{who}: a solid background needs fill, the product's share of the frame (e.g. 0.85)"
        )
    if not _is_int(preset.jpeg_quality) or not MIN_JPEG_QUALITY <= preset.jpeg_quality <= 100:
        raise ValueError(
            f"{who}: jpeg_quality must be a whole number from {MIN_JPEG_QUALITY} to 100, got {preset.jpeg_quality!r}"
        )
    for name, value in (("max_bytes", preset.max_bytes), ("min_bytes", preset.min_bytes)):
        if value is not None and (not _is_int(value) or value < MIN_MAX_BYTES):
            raise ValueError(
                f"{who}: {name} must be a whole number of bytes, at least {MIN_MAX_BYTES} (10 KB), got {value!r}"
            )
    if preset.max_bytes is not None and preset.min_bytes is not None and preset.min_bytes > preset.max_bytes:
        raise ValueError(f"{who}: min_bytes {preset.min_bytes} is above max_bytes {preset.max_bytes}")


def _check_side(name: str, value: object, who: str) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and MIN_SIDE <= value <= MAX_SIDE):
        raise ValueError(
            f"{who}: {name} must be a whole number of pixels from {MIN_SIDE} to {MAX_SIDE}, got {value!r}"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


WHITE = "#FFFFFF"

PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        "amazon": Preset(
            key="amazon",
            label="Amazon main image",
            # Amazon main image (landscape.md 3d): >= 1,000 px long side for zoom, 1,600+ recommended,
            # <= 10,000 px; we aim at 2000 and never go below 1600. Square by our choice.
            min_side=1600,
            default_side=2000,
            # Amazon main image: background exactly RGB 255,255,255 and the product fills >= 85 % of
            # the frame; no props, so the product is cut out of the generated scene.
            background=WHITE,
            fill=0.85,
            fit="pad",
            jpeg_quality=90,
            format="JPEG",
            rules=("pure white RGB 255", "product fills 85%", "square, 1600-2000 px", "JPEG, sRGB, no alpha"),
        ),
        "taobao": Preset(
            key="taobao",
            label="Taobao 800x800",
            size=(800, 800),
            fit="cover",
            jpeg_quality=90,
            # Taobao (landscape.md 3d, stated for the white-background image): JPG of 38-300 KB. The
            # same slot size takes scene pictures too, so the 300 KB cap is kept; the 38 KB floor is
            # meant for white pictures and is applied by "taobao_white" only. The source is a
            # low-authority summary page; check the seller centre before relying on the numbers.
            max_bytes=300_000,
            format="JPEG",
            rules=("800x800", "JPEG <= 300 KB"),
            ai_label_visible_default=True,
        ),
        "taobao_white": Preset(
            key="taobao_white",
            label="Taobao white background 800x800",
            size=(800, 800),
            # Taobao white-background image (landscape.md 3d): square 800x800 white, no shadow (the
            # cut-out leaves the scene's shadow behind), one centred subject of at least 300x300
            # (0.8 of 800 = 640 px; the share itself is our choice), JPG 38-300 KB.
            background=WHITE,
            fill=0.8,
            fit="pad",
            jpeg_quality=90,
            max_bytes=300_000,
            min_bytes=38_000,
            format="JPEG",
            rules=("800x800 white", "no shadow", "JPEG 38-300 KB"),
        ),
        "tmall": Preset(
            key="tmall",
            label="Tmall 750x1000 (3:4)",
            # Tmall/Aidge 3:4 (landscape.md 3d): 750x1000, one of the two sizes Aidge renders.
            size=(750, 1000),
            fit="cover",
            jpeg_quality=90,
            format="JPEG",
            rules=("750x1000",),
            ai_label_visible_default=True,
        ),
        "original": Preset(key="original", label="As generated", format=None, rules=("unchanged file",)),
    }
)


def custom_preset(
    width: int,
    height: int,
    *,
    background: str | None = None,
    fill: float | None = None,
    fit: Fit = "cover",
    jpeg_quality: int = 90,
    max_bytes: int | None = None,
    format: Literal["JPEG", "PNG"] = "JPEG",
) -> Preset:
    """A preset of exactly `width` x `height`; ValueError says which value is wrong and what is allowed.

    With a `background` colour the product is cut out and placed on it at `fill` (0.85 when
    not given); without one the generated picture is fitted (`fit`).
    """
    if isinstance(background, str):
        background = background.strip().upper()
        if background == "WHITE":
            background = WHITE
        elif re.fullmatch(r"[0-9A-F]{6}", background):
            background = "#" + background
    if background is not None and fill is None:
        fill = 0.85
    return Preset(
        key="custom",
        label=f"Custom {width}x{height}",
        size=(width, height),
        background=background,
        fill=fill,
        fit=fit,
        jpeg_quality=jpeg_quality,
        max_bytes=max_bytes,
        format=format,
    )


# ---------------------------------------------------------------------- rendering
@dataclass(frozen=True)
class Rendered:
    """The exported file and what was done to make it (for the export's CSV)."""

    data: bytes
    format: str
    width: int
    height: int
    quality: int | None = None
    scale: float = 1.0  # how much the picture (or, on a solid background, the product) was resized
    notes: tuple[str, ...] = ()

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.format, self.format.lower())


def render(
    image_bytes: bytes,
    preset: Preset,
    *,
    product_mask: np.ndarray | None = None,
    segmenter: Segmenter | None = None,
    provenance: Provenance | None = None,
    visible_label: str | None = None,
    label_font: FontSource | None = None,
    label_font_index: int = 0,
) -> bytes:
    """The file to upload for `preset`: see `render_detailed`."""
    return render_detailed(
        image_bytes,
        preset,
        product_mask=product_mask,
        segmenter=segmenter,
        provenance=provenance,
        visible_label=visible_label,
        label_font=label_font,
        label_font_index=label_font_index,
    ).data


def render_detailed(
    image_bytes: bytes,
    preset: Preset,
    *,
    product_mask: np.ndarray | None = None,
    segmenter: Segmenter | None = None,
    provenance: Provenance | None = None,
    visible_label: str | None = None,
    label_font: FontSource | None = None,
    label_font_index: int = 0,
) -> Rendered:
    """Render a generated image for `preset`.

    The product is needed for solid-background presets and to centre a crop: `product_mask`
    (HxW uint8 of THIS image, white = product) when given, else `cut_out` on the image with
    `segmenter` (None = the classical fallback, good on plain backgrounds only). A job's
    input mask belongs to the input photo, not to a generated output, so usually pass None.

    `provenance` is written into the file as XMP (the byte limit leaves room for it);
    `visible_label` (e.g. "AI生成") is drawn in the bottom-right corner with `label_font`
    (path or bytes, face `label_font_index`; Chinese needs a CJK font, else `TextError`).
    "original" keeps the file byte for byte unless a visible label must be drawn on it.

    Raises `ImageInputError` for an unreadable file, `SourceTooSmall`, `ProductNotFound`
    or `ExportTooLarge` (all `ExportError`) when the preset cannot be met.
    """
    loaded = load_image(image_bytes)
    label = _LabelRequest(visible_label, label_font, label_font_index) if visible_label else None
    if preset.passthrough:
        return _passthrough(image_bytes, loaded, provenance, label)
    if product_mask is not None and product_mask.shape != (loaded.height, loaded.width):
        raise ValueError(
            f"product_mask is {product_mask.shape[1::-1]} but the image is {loaded.width}x{loaded.height}; "
            "it must be a mask of this image (the job's input mask belongs to the input photo)"
        )
    notes: list[str] = []
    rgba = _in_srgb(image_bytes, loaded, notes)
    colour = preset.background_rgb
    if colour is not None:
        rgb, scale = _on_solid(rgba, loaded, preset, colour, product_mask, segmenter, notes)
    else:
        rgb, scale = _fitted(rgba, loaded, preset, product_mask, segmenter, notes)
    rgb, drawn = _labelled(rgb, label)
    data, quality = _encode_labelled(rgb, preset, notes, provenance, drawn)
    height, width = rgb.shape[:2]
    assert preset.format is not None  # passthrough returned above
    return Rendered(data, preset.format, width, height, quality, round(scale, 3), tuple(notes))


@dataclass(frozen=True)
class _LabelRequest:
    text: str
    font: FontSource | None
    font_index: int


def _labelled(rgb: np.ndarray, label: _LabelRequest | None) -> tuple[np.ndarray, VisibleLabel | None]:
    if label is None:
        return rgb, None
    return draw_visible_label(rgb, label.text, font=label.font, font_index=label.font_index)


def _encode_labelled(
    rgb: np.ndarray,
    preset: Preset,
    notes: list[str],
    provenance: Provenance | None,
    drawn: VisibleLabel | None,
) -> tuple[bytes, int | None]:
    """`_encode`, then the provenance packet, keeping the whole file within the byte limit."""
    if provenance is None:
        return _encode(rgb, preset, notes)
    # Segment or chunk headers around the packet take well under 64 bytes in every container.
    reserve = len(xmp_packet(provenance, None, drawn)) + 64
    limited = preset
    if preset.max_bytes is not None:
        limited = replace(preset, max_bytes=max(MIN_MAX_BYTES, preset.max_bytes - reserve))
    try:
        data, quality = _encode(rgb, limited, notes)
    except ExportTooLarge as exc:
        raise ExportTooLarge(preset, exc.smallest_bytes + reserve, exc.quality) from None
    return embed(data, provenance, visible_label=drawn), quality


def _passthrough(
    data: bytes, loaded: LoadedImage, provenance: Provenance | None, label: _LabelRequest | None
) -> Rendered:
    """The generated file as it is; re-encoded (PNG stays PNG, else JPEG 95) only to draw a label."""
    notes: list[str] = []
    source_format = loaded.source_format
    drawn = None
    if label is not None:
        rgb = flatten_on(np.asarray(loaded.rgba), (255, 255, 255)) if loaded.has_alpha else loaded.rgb
        rgb, drawn = _labelled(rgb, label)
        source_format = "PNG" if source_format == "PNG" else "JPEG"
        data = encode_png(rgb, compress_level=9) if source_format == "PNG" else _jpeg(rgb, 95, True)
        notes.append("re-encoded to draw the AI label")
    if provenance is not None:
        if source_format in ("PNG", "JPEG", "WEBP"):
            data = embed(data, provenance, visible_label=drawn)
        else:
            notes.append(f"a {source_format} file cannot carry the AI provenance label; choose a JPEG preset")
    return Rendered(data, source_format, loaded.width, loaded.height, notes=tuple(notes))


def _in_srgb(data: bytes, loaded: LoadedImage, notes: list[str]) -> np.ndarray:
    """The pixels converted to sRGB when the file carries another RGB profile (e.g. Display P3)."""
    rgba = np.array(loaded.rgba)
    try:
        with Image.open(io.BytesIO(data)) as header:
            icc = header.info.get("icc_profile")
    except Exception:  # load_image already read this file; a header quirk only costs the conversion
        return rgba
    if not icc:
        return rgba
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space.strip() != "RGB":
            return rgba  # CMYK or grey profiles describe the file before load_image converted it
        description = (source.profile.profile_description or "").lower()
        if "srgb" in description:
            return rgba
        transform = ImageCms.buildTransform(source, ImageCms.createProfile("sRGB"), "RGB", "RGB")
        converted = ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(rgba[..., :3])), transform)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        notes.append("colour profile unreadable; pixels taken as sRGB")
        return rgba
    if converted is None:
        return rgba
    rgba[..., :3] = np.asarray(converted)
    notes.append("converted to sRGB")
    return rgba


def _product_alpha(
    rgba: np.ndarray, loaded: LoadedImage, mask: np.ndarray | None, segmenter: Segmenter | None
) -> np.ndarray:
    if mask is not None:
        if mask.dtype != np.uint8:
            raise ValueError(f"product_mask must be uint8 (0 background, 255 product), got {mask.dtype}")
        if loaded.has_alpha:
            return np.minimum(mask, loaded.rgba[..., 3])
        return mask
    image = LoadedImage(rgba=rgba, source_format=loaded.source_format, has_alpha=loaded.has_alpha)
    return cut_out(image, segmenter=segmenter).alpha


def _on_solid(
    rgba: np.ndarray,
    loaded: LoadedImage,
    preset: Preset,
    colour: tuple[int, int, int],
    mask: np.ndarray | None,
    segmenter: Segmenter | None,
    notes: list[str],
) -> tuple[np.ndarray, float]:
    """The product cut out of the image and placed at `fill` on exactly `colour`."""
    # A transparent PNG keeps its own alpha; otherwise the given mask, else the segmenter.
    image = LoadedImage(rgba=rgba, source_format=loaded.source_format, has_alpha=loaded.has_alpha)
    product = cut_out(image, user_mask=mask, segmenter=segmenter).rgba
    alpha = product[..., 3]
    alpha[alpha <= _HAZE_ALPHA] = 0
    box = product_bbox(alpha)
    opaque_share = float(np.count_nonzero(alpha >= 128)) / alpha.size
    if box is None or opaque_share >= 0.995:
        raise ProductNotFound(
            f"No product could be separated from the background of this {loaded.width}x{loaded.height} image, "
            f"so it cannot be placed on {preset.background} for {preset.label}. Load the segmentation model "
            "(models/u2netp.onnx) or export this image with a preset that keeps its background."
        )
    fill = preset.fill or 1.0
    _, _, box_w, box_h = box
    if preset.size is not None:
        width, height = preset.size
        scale = fill * min(width / box_w, height / box_h)
        _check_upscale(scale, f"the product ({box_w}x{box_h} px)", preset)
    else:
        width = height = _square_side(preset, max(box_w, box_h), fill)
        scale = fill * width / max(box_w, box_h)
        if scale > MAX_UPSCALE:
            notes.append(
                f"product enlarged {scale:.1f}x to reach the {preset.min_side} px minimum; "
                "a larger source keeps it sharper"
            )
    canvas, _ = place(
        product, (width, height), Layout(mode="center", fill=fill, margins=(0.0, 0.0, 0.0, 0.0))
    )
    return flatten_on(canvas, colour), scale


def _square_side(preset: Preset, longest: int, fill: float) -> int:
    """The square side for a minimum-side preset: its default, smaller if that keeps the product within
    MAX_UPSCALE, never below its minimum (the marketplace's rule wins over sharpness)."""
    minimum = preset.min_side or MIN_SIDE
    default = preset.default_side or minimum
    sharp_limit = math.floor(MAX_UPSCALE * longest / fill)
    return max(minimum, min(default, sharp_limit - sharp_limit % 2))


def _check_upscale(scale: float, what: str, preset: Preset) -> None:
    if scale > MAX_UPSCALE + 1e-9:
        assert preset.size is not None
        size = f"{preset.size[0]}x{preset.size[1]}"
        target = preset.label if size in preset.label else f"{preset.label} ({size})"
        raise SourceTooSmall(
            f"{what[0].upper()}{what[1:]} would have to be enlarged {scale:.1f}x to make the {target} image; "
            f"at most {MAX_UPSCALE:g}x keeps it sharp. "
            "Export a larger result, or choose a smaller custom size.",
            needed_scale=scale,
        )


def _fitted(
    rgba: np.ndarray,
    loaded: LoadedImage,
    preset: Preset,
    mask: np.ndarray | None,
    segmenter: Segmenter | None,
    notes: list[str],
) -> tuple[np.ndarray, float]:
    """The generated picture, background kept, fitted to the preset's exact size."""
    assert preset.size is not None  # validation: a kept background always has an exact size
    width, height = preset.size
    src_h, src_w = rgba.shape[:2]
    rgb = flatten_on(rgba, (255, 255, 255)) if loaded.has_alpha else np.ascontiguousarray(rgba[..., :3])
    if preset.fit == "pad":
        scale = min(width / src_w, height / src_h)
        _check_upscale(scale, f"the image ({src_w}x{src_h} px)", preset)
        inner_w, inner_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
        canvas = np.full((height, width, 3), 255, np.uint8)
        x, y = (width - inner_w) // 2, (height - inner_h) // 2
        canvas[y : y + inner_h, x : x + inner_w] = _resize(rgb, inner_w, inner_h)
        return canvas, scale

    scale = max(width / src_w, height / src_h)
    if preset.fit == "crop":
        scale = max(scale, 1.0)  # the picture's own pixels, unless it is smaller than the frame
    _check_upscale(scale, f"the image ({src_w}x{src_h} px)", preset)
    # The frame in source pixels; exact-size output comes from resizing this window.
    win_w, win_h = min(src_w, width / scale), min(src_h, height / scale)
    if win_w >= src_w - 0.5 and win_h >= src_h - 0.5:
        x0, y0 = 0.0, 0.0
    else:
        alpha = _product_alpha(rgba, loaded, mask, segmenter)
        box = product_bbox(alpha)
        if box is None or float(np.count_nonzero(alpha >= 128)) / alpha.size >= 0.995:
            centre_x, centre_y = src_w / 2, src_h / 2
            notes.append("product not found; cropped around the centre")
        else:
            bx, by, bw, bh = box
            centre_x, centre_y = bx + bw / 2, by + bh / 2
            if bw > win_w + 1 or bh > win_h + 1:
                notes.append(f"the product does not fit the {width}x{height} crop and is cut; use fit=pad")
        x0 = min(max(centre_x - win_w / 2, 0.0), src_w - win_w)
        y0 = min(max(centre_y - win_h / 2, 0.0), src_h - win_h)
    left, top = int(round(x0)), int(round(y0))
    right, bottom = min(src_w, left + max(1, int(round(win_w)))), min(src_h, top + max(1, int(round(win_h))))
    return _resize(rgb[top:bottom, left:right], width, height), scale


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return np.ascontiguousarray(rgb)
    shrinking = width < rgb.shape[1] or height < rgb.shape[0]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(np.ascontiguousarray(rgb), (width, height), interpolation=interpolation))


# ----------------------------------------------------------------------- encoding
def _encode(rgb: np.ndarray, preset: Preset, notes: list[str]) -> tuple[bytes, int | None]:
    if preset.format == "PNG":
        data = encode_png(rgb, compress_level=9)
        if preset.max_bytes is not None and len(data) > preset.max_bytes:
            raise ExportTooLarge(preset, len(data), None)
        return data, None
    # On a solid background the colour must stay exact right up to the product: 4:2:0 chroma
    # subsampling would tint the white next to a coloured edge, so it is kept at full resolution.
    full_chroma = preset.background is not None
    start = preset.jpeg_quality
    data = _jpeg(rgb, start, full_chroma)
    quality = start
    if preset.max_bytes is not None and len(data) > preset.max_bytes:
        for quality in _lower_qualities(start):
            data = _jpeg(rgb, quality, full_chroma)
            if len(data) <= preset.max_bytes:
                break
        else:
            raise ExportTooLarge(preset, len(data), MIN_JPEG_QUALITY)
        notes.append(f"JPEG quality lowered to {quality} to stay within {_kb(preset.max_bytes)}")
    elif preset.min_bytes is not None and len(data) < preset.min_bytes:
        for higher in range(start + QUALITY_STEP, 101, QUALITY_STEP):
            attempt = _jpeg(rgb, higher, full_chroma)
            if preset.max_bytes is not None and len(attempt) > preset.max_bytes:
                break
            data, quality = attempt, higher
            if len(data) >= preset.min_bytes:
                break
        if len(data) < preset.min_bytes:
            notes.append(
                f"{_kb(len(data))} even at quality {quality}, under the {_kb(preset.min_bytes)} minimum of "
                f"{preset.label}; the picture is very plain"
            )
        else:
            notes.append(f"JPEG quality raised to {quality} to reach {_kb(preset.min_bytes)}")
    return data, quality


def _lower_qualities(start: int) -> list[int]:
    steps = list(range(start - QUALITY_STEP, MIN_JPEG_QUALITY, -QUALITY_STEP))
    return [*steps, MIN_JPEG_QUALITY] if start > MIN_JPEG_QUALITY else []


def _jpeg(rgb: np.ndarray, quality: int, full_chroma: bool) -> bytes:
    sampling = (
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444
        if full_chroma or quality >= 90
        else cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420
    )
    # Baseline (not progressive) with optimised Huffman tables: smaller, and every uploader reads it.
    # OpenCV rather than Pillow: Pillow's optimised encoder needs the whole file to fit a buffer of
    # one byte per pixel and fails on detailed pictures at high quality.
    params = [
        cv2.IMWRITE_JPEG_QUALITY,
        quality,
        cv2.IMWRITE_JPEG_OPTIMIZE,
        1,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        sampling,
    ]
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ExportError(f"the picture could not be encoded as JPEG at quality {quality}")
    return bytes(encoded.tobytes())


def _kb(size: int) -> str:
    return f"{size / 1000:.0f} KB"
