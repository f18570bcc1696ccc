"""What a vendor receives for a job, and whether it fits: the one place that decides, for every vendor.

Given an adapter's `Limits` for an operation and a job's stored photo (and
optional mask), `build_payload` makes the exact files the vendor will get: the
photo as stored (a job's input is the file that is sent), the mask in the
vendor's form (`imaging.masks.vendor_mask_png`), or for vendors whose mask
rides in the photo's alpha the one RGBA PNG that carries both.
`check_payload` measures every limit on those files (format, sides, aspect,
bytes, counted as base64 where the vendor counts so) and, when something is
wrong but can be mended, finds the mildest fix: downscale as far as the sides
need, then a losslessly re-compressed PNG, then a high-quality JPEG (only where
the vendor takes JPEG and needs no transparency), then downscale further.

Studio runs it before a job is created (`Studio.check_image_fit`, the page's fix
offer, the CLI's `--fit`, manifests) and stores the fixed files as the job's
inputs; input hosting and the adapters that encode themselves run it again at
send time (`payload_or_refuse`) on the stored files, so what was checked is
what is sent, and a job whose files no longer fit is refused before any call.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from imaging.images import ImageInputError
from imaging.masks import vendor_mask_png
from imaging.upload import (
    JPEG_QUALITIES,
    base64_length,
    file_facts,
    has_transparency,
    jpeg_of,
    optimise_png,
    resize_to,
    scaled_size,
)
from providers.base import Limits
from providers.errors import InputRejectedError

_MIB = 1_048_576
# Lossless re-compression rarely saves more than this; beyond it the slow level-9 pass is skipped.
_OPTIMISE_WITHIN = 1.3
# Each further downscale aims a little under the byte limit (JPEG and PNG sizes follow the area
# only roughly); a few rounds always end, on a fit or on the vendor's smallest side.
_SHRINK_MARGIN = 0.95
_MAX_SHRINKS = 8
_MIME = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
_SUFFIX = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif"}

FixKind = Literal["downscale", "optimise", "reencode"]

# Each broken limit's English sentence by its code (pages translate a `Problem` by its code and params,
# `error.<code>`). `{size}` is "<width>x<height>".
PROBLEM_TEXTS: Mapping[str, str] = {
    "provider_format": "{provider} does not take {format} files; it takes {accepted}.",
    "provider_too_small": (
        "The image is {size} px; {provider} needs {min_side}-{max_side} px per side. Use a larger photo of "
        "the product."
    ),
    "provider_bad_aspect": (
        "The image is {size} px, too narrow for {provider}, which takes width:height from {low} to {high}. "
        "Crop it closer to square and try again."
    ),
    "provider_too_large": (
        "The image is {size} px; {provider} needs {min_side}-{max_side} px per side. Let Backdrop Studio "
        "downscale it, or resize it yourself."
    ),
    "image_too_many_bytes": "The photo as sent to {provider} is {mb} MB; {provider} takes at most {max_mb} MB.",
    "image_too_many_bytes_base64": (
        "The photo as sent to {provider} is {mb} MB once base64-encoded; {provider} takes at most {max_mb} MB "
        "once base64-encoded."
    ),
    "mask_too_many_bytes": "The mask as sent to {provider} is {mb} MB; {provider} takes at most {max_mb} MB.",
    "mask_too_many_bytes_base64": (
        "The mask as sent to {provider} is {mb} MB once base64-encoded; {provider} takes at most {max_mb} MB "
        "once base64-encoded."
    ),
}
_NOT_SENT = (
    " Nothing was sent to {provider}. Submit the job again with a photo that fits (the page offers to fit "
    "it; in the CLI add --fit)."
)
# What a job stores when its files no longer fit at send time (`payload_or_refuse`), for studio's
# translations (studio/vendor_texts.py): `refused:<code>`, any adapter's job may carry one.
# `_refused` carries a file that cannot be read at all, `{detail}` being imaging's own sentence.
ERROR_TEXTS: Mapping[str, str] = {
    **{f"refused:{code}": text + _NOT_SENT for code, text in PROBLEM_TEXTS.items()},
    "_refused": "{detail}" + _NOT_SENT,
}


@dataclass(frozen=True)
class SentFile:
    """One file exactly as the vendor gets it."""

    data: bytes
    format: str
    width: int
    height: int

    @property
    def mime(self) -> str:
        return _MIME.get(self.format, "application/octet-stream")

    @property
    def suffix(self) -> str:
        return _SUFFIX.get(self.format, "bin")

    def counted(self, limits: Limits) -> int:
        """The size the vendor's byte limit is measured on."""
        return base64_length(len(self.data)) if limits.bytes_as_base64 else len(self.data)


@dataclass(frozen=True)
class Payload:
    """Everything sent for one job's images: the photo (for DashScope the base image that carries
    the mask) and the mask in the vendor's form, when it takes one separately."""

    image: SentFile
    mask: SentFile | None = None

    def describe(self) -> dict[str, Any]:
        """Small facts for the job's notes: what went out, so History can say it."""
        facts: dict[str, Any] = {
            "format": self.image.format,
            "size": [self.image.width, self.image.height],
            "bytes": len(self.image.data),
        }
        if self.mask is not None:
            facts["mask_bytes"] = len(self.mask.data)
        return facts


@dataclass(frozen=True)
class Problem:
    """One limit the payload breaks. `message` is an English sentence; `code` and `params` translate
    it (`error.<code>`); `fixable` says whether `PayloadCheck.fixed` mends it."""

    code: str
    message: str
    params: Mapping[str, Any]
    fixable: bool


@dataclass(frozen=True)
class Fix:
    """The job's inputs after fitting them, and what those send. `image` is stored as the job's input
    (PNG, or JPEG when re-encoded) and is sent as is; `mask` is the job's single-channel mask at the
    new size (None when the job has none)."""

    image: bytes
    mask: bytes | None
    payload: Payload
    kinds: tuple[FixKind, ...]
    jpeg_quality: int | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.payload.image.width, self.payload.image.height


@dataclass(frozen=True)
class PayloadCheck:
    """The payload as the stored files would send it, what is wrong with it, and the fix if any."""

    payload: Payload | None
    problems: tuple[Problem, ...] = ()
    fixed: Fix | None = None
    size: tuple[int, int] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def fixable(self) -> bool:
        return bool(self.problems) and self.fixed is not None


def build_payload(limits: Limits, image: bytes, mask: bytes | None = None) -> Payload:
    """The files the vendor receives for this photo and mask. Raises ImageInputError when the photo
    or the mask cannot be read (or the mask does not match the photo)."""
    facts = file_facts(image)
    if limits.image_carries_mask:
        if mask is not None:
            base = _within(limits, vendor_mask_png(mask, image, "RGBA"))
        elif facts.format == "PNG":
            base = image
        else:
            base = resize_to(image, (facts.width, facts.height))
        return Payload(SentFile(base, "PNG", facts.width, facts.height))
    photo = SentFile(image, facts.format, facts.width, facts.height)
    sent_mask = None
    if mask is not None and limits.mask_mode is not None:
        data = _within(limits, vendor_mask_png(mask, image, limits.mask_mode))
        sent_mask = SentFile(data, "PNG", facts.width, facts.height)
    return Payload(photo, sent_mask)


def check_payload(
    limits: Limits, image: bytes, mask: bytes | None = None, *, vendor: str = "the provider", fix: bool = True
) -> PayloadCheck:
    """Every limit measured on the files that would be sent; with `fix`, the mildest fix that fits."""
    try:
        payload = build_payload(limits, image, mask)
    except ImageInputError as exc:
        return PayloadCheck(None, (Problem(exc.code, str(exc), dict(exc.params), False),))
    found = _problems(limits, payload, vendor)
    size = (payload.image.width, payload.image.height)
    if not found:
        return PayloadCheck(payload, size=size)
    mendable = all(kind is not None for _, kind in found)
    fixed = _find_fix(limits, image, mask) if fix and mendable else None
    mended = fixed is not None
    problems = tuple(Problem(p.code, p.message, {**p.params, "fixable": mended}, mended) for p, _ in found)
    return PayloadCheck(payload, problems, fixed, size)


def payload_or_refuse(
    limits: Limits, image: bytes, mask: bytes | None, *, provider: str, vendor: str
) -> Payload:
    """The payload to send now, re-checked; raises InputRejectedError (before any vendor call) when the
    stored files do not fit: a job made before these checks, or a file changed on disk."""
    check = check_payload(limits, image, mask, vendor=vendor, fix=False)
    if check.payload is None or check.problems:
        problem = check.problems[0]
        template = ERROR_TEXTS.get(f"refused:{problem.code}", ERROR_TEXTS["_refused"])
        fields = {**_fields(problem.params), "provider": vendor, "detail": problem.message}
        raise InputRejectedError(provider, problem.code, template.format(**fields))
    return check.payload


# ------------------------------------------------------------------ checks
def _fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """A problem's params as its sentence's fields: width and height read as one `{size}`."""
    fields = dict(params)
    if "width" in fields and "height" in fields:
        fields["size"] = f"{fields['width']}x{fields['height']}"
    return fields


def _problem(code: str, params: Mapping[str, Any]) -> Problem:
    return Problem(code, PROBLEM_TEXTS[code].format(**_fields(params)), params, False)


def _problems(limits: Limits, payload: Payload, vendor: str) -> list[tuple[Problem, FixKind | None]]:
    """Each broken limit with the kind of fix that mends it (None: nothing here can)."""
    image = payload.image
    width, height = image.width, image.height
    sides = {"width": width, "height": height, "provider": vendor}
    sides |= {"min_side": limits.min_side, "max_side": limits.max_side}
    found: list[tuple[Problem, FixKind | None]] = []
    if not limits.image_carries_mask and image.format not in limits.formats:
        accepted = ", ".join(sorted(limits.formats))
        found.append(
            (
                _problem(
                    "provider_format", {"provider": vendor, "format": image.format, "accepted": accepted}
                ),
                "reencode",
            )
        )
    if min(width, height) < limits.min_side:
        found.append(
            (
                _problem("provider_too_small", sides),
                None,
            )
        )
    if not aspect_ok(limits, width, height):
        assert limits.aspect_range is not None
        (low_w, low_h), (high_w, high_h) = limits.aspect_range
        found.append(
            (
                _problem(
                    "provider_bad_aspect", {**sides, "low": f"{low_w}:{low_h}", "high": f"{high_w}:{high_h}"}
                ),
                None,
            )
        )
    if max(width, height) > limits.max_side:
        fitted = scaled_size(width, height, limits.max_side)
        found.append(
            (
                _problem("provider_too_large", sides),
                "downscale" if min(fitted) >= limits.min_side else None,
            )
        )
    for role, sent in (("image", image), ("mask", payload.mask)):
        if sent is None or limits.max_bytes is None or sent.counted(limits) <= limits.max_bytes:
            continue
        code = f"{role}_too_many_bytes" + ("_base64" if limits.bytes_as_base64 else "")
        mb, max_mb = _mb(sent.counted(limits)), _mb(limits.max_bytes)
        found.append(
            (
                _problem(code, {"provider": vendor, "mb": mb, "max_mb": max_mb}),
                "reencode",
            )
        )
    return found


def aspect_ok(limits: Limits, width: int, height: int) -> bool:
    if limits.aspect_range is None:
        return True
    (low_w, low_h), (high_w, high_h) = limits.aspect_range
    # width/height >= low_w/low_h and <= high_w/high_h, in integers so 2:5 is exactly 2:5.
    return width * low_h >= height * low_w and width * high_h <= height * high_w


def _mb(size: int) -> str:
    return f"{size / _MIB:.1f}".removesuffix(".0")


def _within(limits: Limits, png: bytes) -> bytes:
    """A PNG we make ourselves (a vendor-form mask, a base image) is re-compressed losslessly when it
    is over the byte limit: no user choice is involved, and the send does exactly the same."""
    if limits.max_bytes is None:
        return png
    counted = base64_length(len(png)) if limits.bytes_as_base64 else len(png)
    if limits.max_bytes < counted <= limits.max_bytes * _OPTIMISE_WITHIN:
        return optimise_png(png)
    return png


# ------------------------------------------------------------------ fixes
def _find_fix(limits: Limits, image: bytes, mask: bytes | None) -> Fix | None:
    """The mildest change that makes every file fit, or None when none does.

    Sides first (downscale to the largest size allowed), then bytes at that size: the file as
    it is, a losslessly re-compressed PNG, a JPEG from quality 95 down to 80; when nothing fits,
    downscale by what the byte overshoot suggests and try again, down to the smallest side.
    """
    facts = file_facts(image)
    width, height = facts.width, facts.height
    if not aspect_ok(limits, width, height):
        return None
    jpeg_ok = (
        "JPEG" in limits.formats
        and not limits.image_carries_mask
        and not (limits.keeps_alpha and has_transparency(image))
    )
    side = min(max(width, height), limits.max_side)
    for _ in range(_MAX_SHRINKS):
        size = scaled_size(width, height, side)
        if min(size) < limits.min_side or not aspect_ok(limits, *size):
            return None
        downscaled = size != (width, height)
        photo = resize_to(image, size) if downscaled else image
        sized_mask = resize_to(mask, size) if (mask is not None and downscaled) else mask
        overshoot = 1.0
        for candidate, kinds, quality in _candidates(limits, photo, facts.format, jpeg_ok):
            payload = build_payload(limits, candidate, sized_mask)
            if not _problems(limits, payload, ""):
                scaled: tuple[FixKind, ...] = ("downscale",) if downscaled else ()
                all_kinds = scaled + kinds
                return Fix(candidate, sized_mask, payload, all_kinds, quality)
            overshoot = _overshoot(limits, payload)
            if payload.mask is not None and payload.mask.counted(limits) > (limits.max_bytes or 0):
                break  # the mask is a PNG of the photo's own pixels: only a smaller size helps
        if limits.max_bytes is None or overshoot <= 1.0:
            return None  # nothing about the bytes was wrong, yet it does not fit
        side = min(side - 1, math.floor(side * _SHRINK_MARGIN / math.sqrt(overshoot)))
    return None


def _candidates(
    limits: Limits, photo: bytes, source_format: str, jpeg_ok: bool
) -> Iterator[tuple[bytes, tuple[FixKind, ...], int | None]]:
    """The photo's encodings at one size, mildest first; lazily, since each costs an encode."""
    facts = file_facts(photo)
    takes_png = "PNG" in limits.formats or limits.image_carries_mask
    if limits.image_carries_mask or facts.format in limits.formats:
        changed: tuple[FixKind, ...] = () if facts.format == source_format else ("reencode",)
        yield photo, changed, None
    elif takes_png:
        yield resize_to(photo, (facts.width, facts.height)), ("reencode",), None
    if takes_png and limits.max_bytes is not None:
        png = photo if facts.format == "PNG" else resize_to(photo, (facts.width, facts.height))
        counted = _counted(limits, png)
        if limits.max_bytes < counted <= limits.max_bytes * _OPTIMISE_WITHIN:
            yield optimise_png(png), ("optimise",), None
    if jpeg_ok and facts.format != "JPEG":
        for quality in JPEG_QUALITIES:
            yield jpeg_of(photo, quality), ("reencode",), quality


def _counted(limits: Limits, data: bytes) -> int:
    return base64_length(len(data)) if limits.bytes_as_base64 else len(data)


def _overshoot(limits: Limits, payload: Payload) -> float:
    if limits.max_bytes is None:
        return 1.0
    files = [payload.image] + ([payload.mask] if payload.mask is not None else [])
    return max(sent.counted(limits) / limits.max_bytes for sent in files)
