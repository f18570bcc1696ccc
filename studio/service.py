"""The application facade: one object pages and the CLI call, one method per user action.

CONTRACT (written before the implementation; keep the names and signatures,
fill the bodies). Pages do `studio = get_studio()` (cached with
st.cache_resource in ui/) and then call exactly one method per action.

Input problems raise `StudioInputError` (from imaging.images.ImageInputError
or a parameter check): `code` is a stable key (the UI translates
`error.<code>` through the string table), `params` fills the message, and
`str(exc)` is a complete English sentence for the CLI saying what is wrong and
what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from providers.base import Operation, SceneInfo
from studio.jobs import DayStat, JobFilter, JobPage, JobView, ProviderTotal


class StudioInputError(ValueError):
    def __init__(self, code: str, message: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params = params or {}


@dataclass(frozen=True)
class ProviderInfo:
    key: str
    label: str
    operations: frozenset[Operation]
    configured: bool
    missing: tuple[str, ...] = ()  # names of missing settings


@dataclass(frozen=True)
class PreparedImage:
    """A validated upload: normalised PNG bytes (EXIF applied, RGB/RGBA 8-bit)."""

    png: bytes
    width: int
    height: int
    has_alpha: bool
    original_format: str
    original_name: str
    notes: tuple[str, ...] = ()  # e.g. "rotated by EXIF", "converted from CMYK"


@dataclass(frozen=True)
class CutoutPreview:
    mask_png: bytes  # L, white = product, at the image's size
    overlay_png: bytes  # the mask drawn over the photo
    cutout_png: bytes  # RGBA product on transparency
    method: str  # "alpha" | "mask" | "model" | "classical"


@dataclass(frozen=True)
class PromptReading:
    """How the local engine reads a prompt: the words it used and ignored."""

    used: tuple[str, ...]
    unknown: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class JobRequest:
    workflow: Operation
    provider: str
    image: PreparedImage
    mask_png: bytes | None = None
    prompt: str = ""
    negative_prompt: str = ""
    scene_id: str | None = None
    count: int = 1
    size: tuple[int, int] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    reference_png: bytes | None = None
    product_title: str = ""
    source: str = "ui"


class Studio:
    """Built from `studio.settings.Settings`; owns the store, artifacts, adapters and worker."""

    def providers(self) -> list[ProviderInfo]: ...
    def prepare_image(self, data: bytes, name: str) -> PreparedImage: ...
    def prepare_mask(self, data: bytes, image: PreparedImage) -> bytes: ...
    def auto_cutout(self, image: PreparedImage) -> CutoutPreview: ...
    def local_scenes(self) -> list[SceneInfo]: ...
    def read_prompt(self, prompt: str) -> PromptReading: ...
    def submit_job(self, request: JobRequest) -> str: ...
    def get_job(self, job_id: str) -> JobView | None: ...
    def wait_for_job(self, job_id: str, timeout_s: float | None = None) -> JobView: ...
    def list_jobs(self, filters: JobFilter, page: int = 1, page_size: int = 50) -> JobPage: ...
    def provider_totals(self, filters: JobFilter) -> list[ProviderTotal]: ...
    def daily_stats(self, filters: JobFilter) -> list[DayStat]: ...
    def export_csv(self, filters: JobFilter) -> Iterator[bytes]: ...
    def get_preference(self, key: str) -> str | None: ...
    def set_preference(self, key: str, value: str) -> None: ...
    def engine_status(self) -> dict[str, Any]: ...  # model found / method, font, data dir, worker alive
    def start_worker(self) -> None: ...
    def close(self) -> None: ...
