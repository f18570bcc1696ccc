"""The studio's value types: what pages and the CLI send in (`JobRequest`, `PreparedImage`) and
get back (`CheckedJob`, `ImageFit`, `ProviderInfo`, ...), plus the limits every job shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import EdgeGuide, Money, Operation, Price
from studio.backdrop_match import BackdropMatch
from studio.errors import StudioInputError

MIN_OUTPUT_SIDE = 64
# Long side of the automatic cutout's preview images: what a page shows, and quick to make.
PREVIEW_SIDE = 1024
MAX_OUTPUT_SIDE = 8000
MAX_PROMPT_CHARS = 2000
WORKFLOW_WORDS = {
    Operation.SCENE_BACKGROUND: "scene backgrounds",
    Operation.PROMPT_BACKGROUND: "prompt backgrounds",
    Operation.MODEL_SWAP: "model swaps",
}


@dataclass(frozen=True)
class ProviderInfo:
    key: str
    label: str
    operations: frozenset[Operation]
    configured: bool
    missing: tuple[str, ...] = ()  # names of missing settings
    # The environment variable names of the missing settings, for "set <VENDOR>_..." hints.
    missing_env: tuple[str, ...] = ()
    endpoint: str | None = None
    # operation -> the price in force (the user's, else the adapter's table), with its source.
    prices: Mapping[Operation, Price] = field(default_factory=dict)
    can_check_connection: bool = False
    can_list_scenes: bool = False
    # Non-secret settings in force, name -> value (defaults filled in), for the settings page.
    options: Mapping[str, str] = field(default_factory=dict)
    # Filters its scene catalogue understands: field -> {value: label}.
    scene_filters: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # operation -> the mask the vendor takes (None: it finds the product itself).
    mask_modes: Mapping[Operation, str | None] = field(default_factory=dict)
    # True for the built-in engine: runs offline, its own scene recipes and options.
    local: bool = False
    # The currency the vendor bills in (a price the user sets is best given in it).
    billing_currency: str = "CNY"


@dataclass(frozen=True)
class ConnectionReport:
    """What "test connection" found: ok or not, a message for the user, how long it took."""

    provider: str
    ok: bool
    message: str
    elapsed_ms: int
    request_id: str | None = None


@dataclass(frozen=True)
class ImageFit:
    """How an image fits one provider's limits: problems, whether studio can fix them, and how."""

    problems: tuple[StudioInputError, ...]
    fixable: bool
    provider_label: str
    # What `fit_image` would do: downscale to this size (None: no need).
    downscale_to: tuple[int, int] | None = None
    # ... and re-encode as a JPEG at this quality (None: it stays a PNG).
    jpeg_quality: int | None = None
    max_bytes: int | None = None
    # The fixed photo (and mask), stored as the job's inputs and sent exactly so; None: no fix.
    fixed_image: PreparedImage | None = None
    fixed_mask: bytes | None = None
    # What the fix does, in order: "downscale", "optimise" (lossless PNG), "reencode" (JPEG).
    fix_kinds: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class PreparedImage:
    """A validated upload: normalised PNG bytes (EXIF applied, RGB/RGBA 8-bit). After a fix that
    re-encodes it for a vendor's byte limit (`Studio.fit_image`), `png` holds that JPEG: the job
    stores and sends exactly the file that was checked."""

    png: bytes
    width: int
    height: int
    has_alpha: bool
    original_format: str
    original_name: str
    notes: tuple[str, ...] = ()  # e.g. "rotated by EXIF", "converted from CMYK"
    # The photo at display size (long side <= PREVIEW_SIDE), for pages; b"" when not made.
    preview_png: bytes = b""


@dataclass(frozen=True)
class CutoutPreview:
    """The automatic cutout to look at, at display size (long side <= PREVIEW_SIDE): the model
    ran on the full photo, so the job (`auto_mask`, the local engine) cuts out the same product."""

    overlay_png: bytes  # the mask drawn over the photo
    cutout_png: bytes  # RGBA product on transparency
    method: str  # "alpha" | "mask" | "model" | "classical"
    quality: str  # "best" | "fast": the quality asked for
    # What the job will record: "isnet + matting", "classical (model missing)", ...
    method_text: str = ""
    model: str | None = None  # the model that made it, None when none ran
    refinement: str | None = None  # the edge refinement that shaped it ("matting", ...)
    # The model asked for is missing or broken: one English sentence with the fix, else None.
    problem: str | None = None
    size: tuple[int, int] = (0, 0)  # of the preview images


@dataclass(frozen=True)
class AutoMask:
    """The automatic cutout's mask at the photo's full size, as a job uses it."""

    mask_png: bytes  # L, white = product
    notes: dict[str, Any]  # cutout_method, cutout_model, cutout_refinement (imaging.segmenters)


@dataclass(frozen=True)
class PromptReading:
    """How the local engine reads a prompt: the words it used and ignored."""

    used: tuple[str, ...]
    unknown: tuple[str, ...]
    summary: str
    # A place the engine cannot paint and only approximates in the studio (a kitchen, a beach).
    place: str | None = None


@dataclass(frozen=True)
class JobRequest:
    workflow: Operation
    provider: str
    image: PreparedImage
    mask_png: bytes | None = None
    prompt: str = ""
    negative_prompt: str = ""
    scene_id: str | None = None
    # None means the provider's default number of images.
    count: int | None = None
    size: tuple[int, int] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    reference_png: bytes | None = None
    product_title: str = ""
    source: str = "ui"
    batch_id: str | None = None
    # Edge guides made with `Studio.make_edge_guide` (for providers with `max_guides`).
    guides: tuple[EdgeGuide, ...] = ()
    # "best" | "fast" for the automatic cutout (None: the default); the local engine gets it as
    # its `cutout` option, a vendor that needs the product cut out gets the mask it makes.
    cutout_quality: str | None = None


@dataclass(frozen=True)
class CheckedJob:
    """A request that passed every check, with what the checks settled (count, size, options)."""

    provider: str
    workflow: Operation
    params: dict[str, Any]
    count: int
    size: tuple[int, int] | None
    title: str
    mask_png: bytes | None
    reference_png: bytes | None
    estimate: Money | None
    # The user's own backdrop the local engine places the product on (copied into the job at persist).
    backdrop: BackdropMatch | None = None


@dataclass(frozen=True)
class ComparisonEntry:
    """One provider's part of a comparison: its job, or why it was not started."""

    provider: str
    job_id: str | None = None
    error: StudioInputError | None = None
