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

import csv
import io
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from imaging.cutout import U2NetpSegmenter, cut_out
from imaging.images import ImageInputError, LoadedImage, encode_png, load_image
from imaging.masks import load_mask, overlay
from providers.base import Limits, Operation, ProviderAdapter, ProviderContext, SceneInfo
from providers.local import LocalEngine
from providers.local_scenes import SCENES as LOCAL_SCENES
from studio import pricing
from studio.artifacts import Artifacts
from studio.jobs import DayStat, JobFilter, JobPage, JobRow, JobView, ProviderTotal
from studio.settings import Settings, env_name, load_settings
from studio.store import NewJob, Store
from studio.worker import Worker

logger = logging.getLogger(__name__)

MIN_OUTPUT_SIDE = 64
MAX_OUTPUT_SIDE = 8000
MAX_PROMPT_CHARS = 2000
WAIT_POLL_S = 0.2
CSV_COLUMNS = (
    "job_id",
    "created_at",
    "workflow",
    "provider",
    "status",
    "images",
    "duration_s",
    "cost",
    "currency",
    "error_code",
    "error_message",
    "prompt",
)
_WORKFLOW_WORDS = {
    Operation.SCENE_BACKGROUND: "scene backgrounds",
    Operation.PROMPT_BACKGROUND: "prompt backgrounds",
    Operation.MODEL_SWAP: "model swaps",
}


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
    batch_id: str | None = None


class _LazyResources(Mapping[str, Any]):
    """Adapter resources loaded on first use (the model and the font), once, thread-safely.

    `jobs list` and the History page never pay for loading the segmentation model.
    """

    def __init__(self, loaders: Mapping[str, Callable[[], Any]]) -> None:
        self._loaders = dict(loaders)
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> Any:
        if key not in self._loaders:
            raise KeyError(key)
        with self._lock:
            if key not in self._values:
                self._values[key] = self._loaders[key]()
            return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)

    def loaded(self, key: str) -> bool:
        return key in self._values


class Studio:
    """Built from `studio.settings.Settings`; owns the store, artifacts, adapters and worker."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        adapters: Mapping[str, ProviderAdapter] | None = None,
        clock: Callable[[], float] = time.time,
        worker_threads: int | None = None,
    ) -> None:
        """`adapters` replaces the registry's (tests); `worker_threads=0` runs jobs inline in `run_pending`."""
        self.settings = settings or load_settings()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.settings.database_url, files_root=self.settings.data_dir, clock=clock)
        self.store.migrate()
        self.artifacts = Artifacts(self.settings.data_dir)
        self._model_error: str | None = None
        self._resources = _LazyResources({"segmenter": self._load_segmenter, "cjk_font": self._load_font})
        self.adapters: dict[str, ProviderAdapter] = (
            dict(adapters) if adapters is not None else self._build_adapters()
        )
        threads = self.settings.worker_threads if worker_threads is None else worker_threads
        self.worker = Worker(
            self.store,
            self.artifacts,
            self.adapters,
            clock=clock,
            threads=threads,
            poll_tick_s=self.settings.poll_tick_s,
        )
        self._worker_lock = threading.Lock()

    # ------------------------------------------------------------ wiring
    def _build_adapters(self) -> dict[str, ProviderAdapter]:
        # Looked up at call time so a registry entry added before opening the studio is honoured.
        from providers import REGISTRY

        adapters: dict[str, ProviderAdapter] = {}
        for key, cls in REGISTRY.items():
            resources: Mapping[str, Any] = self._resources if cls is LocalEngine else {}
            context = ProviderContext(credentials=self.settings.credentials_for(key), resources=resources)
            adapters[key] = cls(context)
        return adapters

    def _load_segmenter(self) -> U2NetpSegmenter | None:
        path = self.settings.model_path
        if not path.is_file():
            logger.info("no u2netp model at %s; cutouts use the classical method", path)
            return None
        try:
            return U2NetpSegmenter(path.read_bytes())
        except (OSError, ValueError) as exc:
            # A damaged model must not stop the app: fall back to the classical cutout and say so.
            self._model_error = f"{type(exc).__name__}: {exc}"
            logger.warning("cannot load the u2netp model at %s (%s); using the classical cutout", path, exc)
            return None

    def _load_font(self) -> bytes | None:
        path = self.settings.cjk_font_path
        if path is None or not path.is_file():
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            logger.warning("cannot read the CJK font at %s (%s); product titles are not drawn", path, exc)
            return None

    def _local(self) -> LocalEngine | None:
        adapter = self.adapters.get(LocalEngine.key)
        return adapter if isinstance(adapter, LocalEngine) else None

    # ------------------------------------------------------------ providers
    def providers(self) -> list[ProviderInfo]:
        infos = []
        for key, adapter in self.adapters.items():
            cls = type(adapter)
            missing = self.settings.missing_credentials(key, cls.required_credentials())
            infos.append(
                ProviderInfo(key, cls.label, cls.operations, configured=not missing, missing=missing)
            )
        return infos

    def limits_for(self, provider: str, workflow: Operation) -> Limits:
        """What `provider` accepts for `workflow` (counts, sizes); raises StudioInputError if it cannot do it."""
        adapter = self._adapter(provider)
        return self._operation_limits(type(adapter), Operation(workflow))

    def _adapter(self, provider: str) -> ProviderAdapter:
        adapter = self.adapters.get(provider)
        if adapter is None:
            known = ", ".join(sorted(self.adapters)) or "none"
            raise StudioInputError(
                "unknown_provider",
                f"There is no provider '{provider}'. Use one of: {known}.",
                {"provider": provider, "known": known},
            )
        return adapter

    def _operation_limits(self, cls: type[ProviderAdapter], workflow: Operation) -> Limits:
        if workflow not in cls.operations or workflow not in cls.limits:
            what = _WORKFLOW_WORDS[workflow]
            offering = [
                type(a).label
                for a in self.adapters.values()
                if workflow in type(a).operations and type(a) is not cls
            ]
            if offering:
                hint = f"choose a provider that offers it: {', '.join(offering)}"
            else:
                hint = "configure a cloud provider that offers it" + (
                    " (Aidge)" if workflow is Operation.MODEL_SWAP else ""
                )
            subject = "The local engine" if cls is LocalEngine else cls.label
            verb = "cannot swap models" if workflow is Operation.MODEL_SWAP else f"does not offer {what}"
            raise StudioInputError(
                "unsupported_workflow",
                f"{subject} {verb}; {hint}.",
                {"provider": cls.key, "workflow": str(workflow)},
            )
        return cls.limits[workflow]

    # ------------------------------------------------------------ inputs
    def prepare_image(self, data: bytes, name: str) -> PreparedImage:
        loaded = self._load(data)
        pixels = loaded.rgba if loaded.has_alpha else loaded.rgb
        return PreparedImage(
            png=encode_png(pixels),
            width=loaded.width,
            height=loaded.height,
            has_alpha=loaded.has_alpha,
            original_format=loaded.source_format,
            original_name=name,
            notes=tuple(loaded.notes),
        )

    def prepare_mask(self, data: bytes, image: PreparedImage) -> bytes:
        """The mask as a single-channel PNG (white = product) at the image's exact size."""
        try:
            mask = load_mask(data, (image.width, image.height))
        except ImageInputError as exc:
            raise StudioInputError(exc.code, str(exc), dict(exc.params)) from None
        if mask.dtype != np.uint8:
            mask = np.where(mask, np.uint8(255), np.uint8(0))
        return encode_png(mask)

    def auto_cutout(self, image: PreparedImage) -> CutoutPreview:
        loaded = self._load(image.png)
        cutout = cut_out(loaded, segmenter=self._resources.get("segmenter"))
        alpha = np.ascontiguousarray(cutout.rgba[..., 3])
        return CutoutPreview(
            mask_png=encode_png(alpha),
            overlay_png=encode_png(overlay(loaded.rgb, alpha)),
            cutout_png=encode_png(cutout.rgba),
            method=str(cutout.method),
        )

    def _load(self, data: bytes) -> LoadedImage:
        try:
            return load_image(data, max_pixels=self.settings.max_pixels)
        except ImageInputError as exc:
            raise StudioInputError(exc.code, str(exc), dict(exc.params)) from None

    def local_scenes(self, language: str | None = None) -> list[SceneInfo]:
        local = self._local()
        if local is None:
            return []
        return list(local.list_scenes({"language": language or self.settings.default_language}))

    def read_prompt(self, prompt: str, language: str = "en") -> PromptReading:
        local = self._local()
        if local is None:
            return PromptReading((), (), "")
        used, unknown, summary = local.describe_prompt(prompt, language)
        return PromptReading(tuple(used), tuple(unknown), summary)

    # ------------------------------------------------------------ jobs
    def submit_job(self, request: JobRequest) -> str:
        """Check everything, persist the inputs and a QUEUED row, wake the worker; returns the job id.

        Every check runs before anything is written, so a rejected request
        leaves no job behind.
        """
        adapter = self._adapter(request.provider)
        cls = type(adapter)
        missing = self.settings.missing_credentials(cls.key, cls.required_credentials())
        if missing:
            names = ", ".join(env_name(cls.key, name) for name in missing)
            raise StudioInputError(
                "provider_not_configured",
                f"{cls.label} is not configured: set {names} in the environment "
                f"or in the [{cls.key}] section of .streamlit/secrets.toml.",
                {"provider": cls.key, "missing": list(missing)},
            )
        workflow = Operation(request.workflow)
        limits = self._operation_limits(cls, workflow)
        self._check_count(cls, workflow, limits, request.count)
        size = self._check_size(cls, limits, request.size)
        self._check_image_fits(limits, request.image)
        try:
            params = cls.check_params(workflow, request.params)
        except ValueError as exc:
            raise StudioInputError(
                "bad_param", f"{exc}. Fix the option and try again.", {"detail": str(exc)}
            ) from None
        if workflow is Operation.SCENE_BACKGROUND:
            self._check_scene(adapter, request.scene_id)
        if len(request.prompt) > MAX_PROMPT_CHARS or len(request.negative_prompt) > MAX_PROMPT_CHARS:
            raise StudioInputError(
                "prompt_too_long",
                f"The prompt is longer than {MAX_PROMPT_CHARS} characters. Shorten it and try again.",
                {"max": MAX_PROMPT_CHARS},
            )
        if request.seed is not None and not 0 <= request.seed < 2**31:
            raise StudioInputError(
                "bad_seed",
                f"The seed {request.seed} must be between 0 and {2**31 - 1}.",
                {"seed": request.seed},
            )
        mask_png = self.prepare_mask(request.mask_png, request.image) if request.mask_png else None
        reference_png = None
        if request.reference_png:
            reference = self._load(request.reference_png)
            reference_png = encode_png(reference.rgb)

        job_id = uuid.uuid4().hex
        created = self.store.now()
        saved = self.artifacts.save_inputs(job_id, created, request.image.png, mask_png, reference_png)
        new = NewJob(
            job_id=job_id,
            workflow=workflow,
            provider=cls.key,
            input_path=saved.input_path,
            params=params,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            scene_id=request.scene_id,
            product_title=request.product_title,
            count=request.count,
            size=size,
            seed=request.seed,
            mask_path=saved.mask_path,
            reference_path=saved.reference_path,
            estimate=pricing.estimate(cls, workflow, request.count),
            source=request.source,
            batch_id=request.batch_id,
            created_at=created,
        )
        try:
            self.store.create_job(new)
        except Exception:
            self.artifacts.remove_unfinished(job_id, created)
            raise
        self.worker.notify()
        return job_id

    def _check_count(
        self, cls: type[ProviderAdapter], workflow: Operation, limits: Limits, count: int
    ) -> None:
        if not limits.min_count <= count <= limits.max_count:
            raise StudioInputError(
                "bad_count",
                f"{cls.label} makes {limits.min_count} to {limits.max_count} images per job for "
                f"{_WORKFLOW_WORDS[workflow]}; you asked for {count}. Choose a number in that range.",
                {"count": count, "min": limits.min_count, "max": limits.max_count},
            )

    def _check_size(
        self, cls: type[ProviderAdapter], limits: Limits, size: tuple[int, int] | None
    ) -> tuple[int, int] | None:
        if size is None:
            return limits.default_size
        width, height = size
        if not (MIN_OUTPUT_SIDE <= width <= MAX_OUTPUT_SIDE and MIN_OUTPUT_SIDE <= height <= MAX_OUTPUT_SIDE):
            raise StudioInputError(
                "bad_size",
                f"The output size {width}x{height} is not possible: each side must be "
                f"{MIN_OUTPUT_SIDE} to {MAX_OUTPUT_SIDE} pixels.",
                {"width": width, "height": height, "min": MIN_OUTPUT_SIDE, "max": MAX_OUTPUT_SIDE},
            )
        if limits.output_sizes is not None and (width, height) not in limits.output_sizes:
            allowed = ", ".join(f"{w}x{h}" for w, h in limits.output_sizes)
            raise StudioInputError(
                "bad_size",
                f"{cls.label} renders only these sizes: {allowed}; choose one of them instead of {width}x{height}.",
                {"width": width, "height": height, "allowed": allowed},
            )
        return (width, height)

    def _check_image_fits(self, limits: Limits, image: PreparedImage) -> None:
        if min(image.width, image.height) < limits.min_side:
            error = ImageInputError(
                "too_small", {"width": image.width, "height": image.height, "min_side": limits.min_side}
            )
        elif max(image.width, image.height) > limits.max_side:
            error = ImageInputError(
                "too_large", {"width": image.width, "height": image.height, "max_side": limits.max_side}
            )
        else:
            return
        raise StudioInputError(error.code, str(error), dict(error.params))

    def _check_scene(self, adapter: ProviderAdapter, scene_id: str | None) -> None:
        if not scene_id:
            raise StudioInputError(
                "missing_scene", "Choose a scene for a scene background (in the CLI: --scene ID).", {}
            )
        if isinstance(adapter, LocalEngine):
            # The recipe ids, not list_scenes(): that renders every thumbnail just to check a name.
            known = [recipe.scene_id for recipe in LOCAL_SCENES]
            if scene_id not in known:
                raise StudioInputError(
                    "scene_not_found",
                    f"There is no local scene '{scene_id}'. Pick one of: {', '.join(known)}.",
                    {"scene_id": scene_id, "known": ", ".join(known)},
                )

    def get_job(self, job_id: str) -> JobView | None:
        return self.store.get_job(job_id)

    def wait_for_job(self, job_id: str, timeout_s: float | None = None) -> JobView:
        """Block until the job is finished (or `timeout_s` passes; then the pending view is returned)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            view = self.store.get_job(job_id)
            if view is None:
                raise StudioInputError(
                    "job_not_found", f"There is no job '{job_id}'. Check the id with `jobs list`."
                )
            if not view.is_pending or (deadline is not None and time.monotonic() >= deadline):
                return view
            time.sleep(WAIT_POLL_S)

    def run_pending(self) -> int:
        """Run every due job now in this thread (for scripts and tests with `worker_threads=0`)."""
        return self.worker.run_once()

    # ------------------------------------------------------------ history
    def list_jobs(self, filters: JobFilter, page: int = 1, page_size: int = 50) -> JobPage:
        return self.store.list_jobs(filters, page, page_size)

    def provider_totals(self, filters: JobFilter) -> list[ProviderTotal]:
        return self.store.provider_totals(filters)

    def daily_stats(self, filters: JobFilter) -> list[DayStat]:
        return self.store.daily_stats(filters)

    def export_csv(self, filters: JobFilter) -> Iterator[bytes]:
        """History as UTF-8 CSV, streamed in chunks; the BOM makes Excel read Chinese text right."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
        rows: list[JobRow] = []
        for row in self.store.iter_rows(filters):
            rows.append(row)
            if len(rows) >= 500:
                yield _csv_chunk(rows)
                rows = []
        if rows:
            yield _csv_chunk(rows)

    # ------------------------------------------------------------ preferences
    def get_preference(self, key: str) -> str | None:
        return self.store.get_preference(key)

    def set_preference(self, key: str, value: str) -> None:
        self.store.set_preference(key, value)

    # ------------------------------------------------------------ status
    def engine_status(self) -> dict[str, Any]:
        """Facts for the settings page: model, font, storage, worker. No secrets."""
        model = self.settings.model_path
        font = self.settings.cjk_font_path
        segmenter_loaded = self._resources.loaded("segmenter")
        if self._model_error:
            method = "classical"
        elif segmenter_loaded:
            method = "model" if self._resources["segmenter"] is not None else "classical"
        else:
            method = "model" if model.is_file() else "classical"
        return {
            "cutout_method": method,
            "model_path": str(model),
            "model_found": model.is_file(),
            "model_error": self._model_error,
            "cjk_font_path": str(font) if font else None,
            "cjk_font_found": bool(font and font.is_file()),
            "data_dir": str(self.settings.data_dir),
            "database": self.settings.safe_database_url,
            "worker_alive": self.worker.is_alive,
            "worker_threads": self.worker.threads,
            "jobs_by_status": self.store.status_counts(),
            "language": self.settings.default_language,
        }

    # ------------------------------------------------------------ lifecycle
    def start_worker(self) -> None:
        with self._worker_lock:
            self.worker.start()

    def close(self) -> None:
        """Stop the worker (letting jobs in progress finish their current step) and release the database."""
        with self._worker_lock:
            self.worker.stop()
        self.store.close()


def open_studio(settings: Settings | None = None) -> Studio:
    """The usual way in: settings from the environment and secrets.toml, database migrated, worker not started."""
    return Studio(settings)


def _csv_chunk(rows: list[JobRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            [
                row.job_id,
                _local_time(row.created_at),
                row.workflow,
                row.provider,
                row.status,
                row.images,
                "" if row.duration_s is None else f"{row.duration_s:.1f}",
                row.cost_amount or "",
                row.cost_currency or "",
                row.error_code or "",
                _cell(row.error_message or ""),
                _cell(row.prompt),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _cell(text: str) -> str:
    # A cell starting with = + - @ is a formula to Excel; a leading apostrophe keeps it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
