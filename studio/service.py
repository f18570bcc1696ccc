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
import hashlib
import io
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from imaging.cutout import Cutout, Segmenter, cut_out
from imaging.edges import edge_element
from imaging.images import ImageInputError, LoadedImage, encode_png, load_image, thumbnail
from imaging.masks import load_mask, overlay
from imaging.segmenters import FixedMap, cutout_record, model_for
from providers import http
from providers.base import (
    ConnectionCheck,
    EdgeGuide,
    Limits,
    Money,
    Operation,
    OptionSpec,
    Price,
    ProviderAdapter,
    ProviderContext,
    SceneInfo,
)
from providers.errors import ProviderError
from providers.fetch import FetchPolicy, ResultFetcher
from providers.local import LocalEngine
from providers.local_scenes import SCENES as LOCAL_SCENES
from providers.payload import Fix, check_payload
from studio import pricing
from studio.artifacts import Artifacts
from studio.backdrop_library import BackdropLibrary
from studio.backdrop_match import USER_SCENE_PREFIX, BackdropError, BackdropMatch
from studio.batches import Batches
from studio.cutout_models import CutoutModels, ModelState
from studio.hosting import HostingError, InputHost, build_host
from studio.input_links import InputLinks
from studio.jobs import DayStat, JobFilter, JobPage, JobRow, JobView, ProviderTotal
from studio.prompt_budget import PromptOverflow, prompt_overflows
from studio.settings import Settings, SettingsError, load_settings, price_setting_name
from studio.store import NewJob, Store
from studio.worker import Worker

logger = logging.getLogger(__name__)

MIN_OUTPUT_SIDE = 64
# Long side of the automatic cutout's preview images: what a page shows, and quick to make.
PREVIEW_SIDE = 1024
MAX_OUTPUT_SIDE = 8000
MAX_PROMPT_CHARS = 2000
WAIT_POLL_S = 0.2
# Vendor scene catalogues change rarely; asking again on every page run would cost time and quota.
SCENE_CACHE_S = 30 * 60
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
    # The environment variable names of the missing settings, for "set AIDGE_... " hints.
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


class _LazyResources(Mapping[str, Any]):
    """Adapter resources loaded on first use (the model and the font), once, thread-safely.

    `jobs list` and the History page never pay for loading the segmentation model.
    """

    def __init__(self, loaders: Mapping[str, Callable[[], Any]]) -> None:
        self._loaders = dict(loaders)
        self._values: dict[str, Any] = {}
        # Re-entrant: the default segmenter's loader reads the named model's entry.
        self._lock = threading.RLock()

    def __contains__(self, key: object) -> bool:
        return key in self._loaders  # without loading it

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
        self.cutout_models = CutoutModels(self.settings)
        # The last photo decoded for a cutout (digest of its PNG, pixels): one photo, ~36 MB at 3000 px.
        self._decoded: tuple[bytes, LoadedImage] | None = None
        self._decoded_lock = threading.Lock()
        models = self.cutout_models
        self._resources = _LazyResources(
            {
                "segmenter": lambda: self._resources[f"segmenter.{model_for(models.default_quality())}"],
                "segmenter.isnet": lambda: models.load("isnet"),
                "segmenter.u2netp": lambda: models.load("u2netp"),
                "cutout.default": models.default_quality,
                "cjk_font": self._load_font,
            }
        )
        self._clock = clock
        self.price_overrides = self._price_overrides()
        self._scene_cache: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, list[SceneInfo]]] = {}
        self._scene_lock = threading.Lock()
        self.input_host: InputHost | None = (
            build_host(self.settings.hosting) if self.settings.hosting else None
        )
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
            prices=self.price_overrides,
            links=InputLinks(self.input_host),
            downloader=ResultFetcher(FetchPolicy(allow_private=self.settings.allow_private_links)),
        )
        self._worker_lock = threading.Lock()
        self.batches = Batches(self)
        self.backdrops = BackdropLibrary(
            self.store, self.settings.data_dir, max_pixels=self.settings.max_pixels
        )

    # ------------------------------------------------------------ wiring
    def _build_adapters(self) -> dict[str, ProviderAdapter]:
        # Looked up at call time so a registry entry added before opening the studio is honoured.
        from providers import REGISTRY

        adapters: dict[str, ProviderAdapter] = {}
        for key, cls in REGISTRY.items():
            adapters[key] = cls(self.provider_context(cls))
        return adapters

    def provider_context(self, cls: type[ProviderAdapter]) -> ProviderContext:
        """What an adapter gets from us: its credentials, settings, endpoint, a session, resources."""
        options = self.settings.options_for(cls.key)
        endpoint = options.get(cls.endpoint_setting) if cls.endpoint_setting else None
        if cls is LocalEngine:
            return ProviderContext(resources=self._resources, options=options, clock=self._clock)
        return ProviderContext(
            credentials=self.settings.credentials_for(cls.key),
            endpoint=endpoint or cls.default_endpoint,
            session=http.new_session(),
            options=options,
            clock=self._clock,
        )

    def _missing_settings(self, cls: type[ProviderAdapter]) -> tuple[str, ...]:
        """Credentials not set, plus the endpoint when the vendor has no public default (the
        marketplace product's own domain): without either the provider cannot be used."""
        missing = self.settings.missing_credentials(cls.key, cls.required_credentials())
        setting = cls.endpoint_setting
        if setting and cls.default_endpoint is None and not self.settings.options_for(cls.key).get(setting):
            missing = (*missing, setting)
        return missing

    def _price_overrides(self) -> dict[tuple[str, Operation], Price]:
        """Prices the user set (`AIDGE_PRICE_SCENE=0.12 USD`); a malformed one stops start-up with a fix."""
        overrides: dict[tuple[str, Operation], Price] = {}
        for provider, options in self.settings.provider_options.items():
            for operation in Operation:
                name = price_setting_name(str(operation))
                if name in options:
                    where = self.settings.env_var(provider, name)
                    try:
                        overrides[(provider, operation)] = pricing.parse_price(options[name], where)
                    except ValueError as exc:
                        raise SettingsError(str(exc)) from None
        return overrides

    def segmenter(self, quality: str | None = None) -> Segmenter | None:
        """The shared segmentation model for `quality` ("best", "fast"; None: the default).
        None: that model is missing or broken and the classical cutout is used."""
        model = model_for(self._cutout_quality(quality))
        value: Segmenter | None = self._resources[f"segmenter.{model}"]
        return value

    def default_cutout_quality(self) -> str:
        """The quality ("best" or "fast") a cutout uses when the job does not choose (STUDIO_CUTOUT_MODEL)."""
        return self.cutout_models.default_quality()

    def cutout_models_state(self) -> list[ModelState]:
        """Each model (best first): its file, found or not, load error, and which is the default."""
        return self.cutout_models.states()

    def cutout_problem(self, quality: str | None = None) -> str | None:
        """Why cutouts of `quality` (None: the default) cannot use their model, with the fix; else None."""
        return self.cutout_models.problem(self._cutout_quality(quality))

    def _cutout_quality(self, quality: object) -> str:
        try:
            return self.cutout_models.quality(quality)
        except ValueError as exc:
            raise StudioInputError("bad_cutout_quality", f"{exc}.", {"quality": str(quality)}) from None

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
            missing = self._missing_settings(cls)
            infos.append(
                ProviderInfo(
                    key,
                    cls.label,
                    cls.operations,
                    configured=not missing,
                    missing=missing,
                    missing_env=tuple(self.settings.env_var(key, name) for name in missing),
                    endpoint=adapter.endpoint,
                    prices={
                        op: pricing.price_for(cls, op, self.price_overrides) for op in sorted(cls.operations)
                    },
                    can_check_connection=cls.can_check_connection,
                    can_list_scenes=cls.can_list_scenes,
                    options={**cls.optional_settings, **self.settings.options_for(key)},
                    scene_filters=cls.scene_filters,
                    mask_modes={op: cls.limits[op].mask_mode for op in cls.operations if op in cls.limits},
                    local=isinstance(adapter, LocalEngine),
                )
            )
        return infos

    def option_specs(self, provider: str, workflow: Operation) -> tuple[OptionSpec, ...]:
        """The request fields `provider` honours for `workflow`, with ranges and documented defaults."""
        return type(self._adapter(provider)).option_specs(Operation(workflow))

    def test_connection(self, provider: str) -> ConnectionReport:
        """One cheap authenticated call to `provider`; never raises for a provider failure."""
        adapter = self._adapter(provider)
        cls = type(adapter)
        missing = self._missing_settings(cls)
        if missing:
            names = ", ".join(self.settings.env_var(cls.key, name) for name in missing)
            return ConnectionReport(cls.key, False, f"{cls.label} is not configured: set {names}.", 0)
        if not cls.can_check_connection:
            return ConnectionReport(cls.key, True, f"{cls.label} runs on this computer; nothing to test.", 0)
        started = time.monotonic()
        try:
            check: ConnectionCheck = adapter.check_connection()
        except ProviderError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            return ConnectionReport(cls.key, False, exc.user_message, elapsed, exc.request_id)
        elapsed = int((time.monotonic() - started) * 1000)
        return ConnectionReport(cls.key, check.ok, check.message, elapsed, check.request_id)

    def list_scenes(self, provider: str, query: Mapping[str, Any] | None = None) -> list[SceneInfo]:
        """A vendor's scene catalogue (cached for half an hour per query); ProviderError when it fails."""
        adapter = self._adapter(provider)
        cls = type(adapter)
        if isinstance(adapter, LocalEngine):
            return self.local_scenes(str((query or {}).get("language") or "") or None)
        if not cls.can_list_scenes:
            raise StudioInputError(
                "no_scene_catalogue", f"{cls.label} has no scene catalogue.", {"provider": cls.key}
            )
        missing = self._missing_settings(cls)
        if missing:
            names = ", ".join(self.settings.env_var(cls.key, name) for name in missing)
            raise StudioInputError(
                "provider_not_configured",
                f"{cls.label} is not configured: set {names} in the environment "
                f"or in the [{cls.key}] section of .streamlit/secrets.toml.",
                {"provider": cls.key, "missing": list(missing)},
            )
        cleaned = tuple(sorted((k, str(v)) for k, v in (query or {}).items() if v not in (None, "")))
        cache_key = (cls.key, cleaned)
        now = time.monotonic()
        with self._scene_lock:
            hit = self._scene_cache.get(cache_key)
            if hit is not None and now - hit[0] < SCENE_CACHE_S:
                return list(hit[1])
        scenes = list(adapter.list_scenes(dict(cleaned)))
        with self._scene_lock:
            self._scene_cache[cache_key] = (now, scenes)
        return scenes

    def forget_scenes(self) -> None:
        """Drop cached catalogues, so the next `list_scenes` asks the vendor again."""
        with self._scene_lock:
            self._scene_cache.clear()

    def needs_hosting(self, provider: str, workflow: Operation) -> bool:
        """True when `provider` reads inputs only from links and no input hosting is set up."""
        adapter = self.adapters.get(provider)
        limits = type(adapter).limits.get(Operation(workflow)) if adapter is not None else None
        return bool(limits and limits.needs_urls and self.input_host is None)

    def hosting_summary(self) -> str:
        """Where inputs for URL-only vendors go, in one safe line (no credentials, no signatures)."""
        if self.settings.hosting is None:
            return "Not configured: providers that take inputs only as links cannot be used"
        return self.settings.hosting.describe()

    def providers_needing_links(self) -> list[str]:
        """Keys of the providers that read inputs only from URLs, for any of their operations."""
        return [
            key
            for key, adapter in self.adapters.items()
            if any(limits.needs_urls for limits in type(adapter).limits.values())
        ]

    def test_hosting(self) -> ConnectionReport:
        """One round trip to the input host (put/get/delete or head bucket); never raises."""
        started = time.perf_counter()
        if self.input_host is None:
            return ConnectionReport("hosting", False, "Input hosting is not configured.", 0)
        try:
            self.input_host.check()
        except HostingError as exc:
            return ConnectionReport("hosting", False, str(exc), _ms_since(started))
        return ConnectionReport("hosting", True, self.input_host.label, _ms_since(started))

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
                type(a)
                for a in self.adapters.values()
                if workflow in type(a).operations and type(a) is not cls
            ]
            ready = [other.label for other in offering if not self._missing_settings(other)]
            if ready:
                hint = f"choose a provider that offers it: {', '.join(ready)}"
            elif offering:
                hint = f"configure a cloud provider that offers it ({', '.join(o.label for o in offering)})"
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

    def _remember_decoded(self, png: bytes, loaded: LoadedImage) -> None:
        with self._decoded_lock:
            self._decoded = (_digest(png), loaded)

    def _load_prepared(self, image: PreparedImage) -> LoadedImage:
        """`image` decoded, without decoding it again when it is the photo just prepared."""
        digest = _digest(image.png)
        with self._decoded_lock:
            if self._decoded is not None and self._decoded[0] == digest:
                return self._decoded[1]
        loaded = self._load(image.png)
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

    def auto_cutout(self, image: PreparedImage, quality: str | None = None) -> CutoutPreview:
        """The automatic cutout to show before a job, at display size.

        The model runs on the full photo (as the job's will: ISNet remembers its map, so the job
        does not run it again); refinement, overlay and PNGs are made at PREVIEW_SIDE, which is
        what a page can show anyway and keeps a 3000x3000 photo's preview quick.
        """
        chosen = self._cutout_quality(quality)
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
            overlay_png=encode_png(overlay(display.rgb, alpha)),
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
        chosen = self._cutout_quality(quality)
        segmenter = self.segmenter(chosen)
        cutout: Cutout = cut_out(self._load_prepared(image), segmenter=segmenter)
        notes = cutout_record(cutout, wanted=model_for(chosen), ran=segmenter is not None)
        return AutoMask(mask_png=encode_png(np.ascontiguousarray(cutout.alpha)), notes=notes)

    def make_edge_guide(self, element: PreparedImage, product: PreparedImage) -> bytes:
        """An element picture turned into an edge guide at the product photo's size: cut out (its own
        transparency, else the automatic cutout), then its soft outline, as the vendor documents."""
        loaded = self._load(element.png)
        rgba = cut_out(loaded, segmenter=self.segmenter()).rgba
        return encode_png(edge_element(np.ascontiguousarray(rgba), (product.width, product.height)))

    def check_image_fit(
        self, image: PreparedImage, provider: str, workflow: Operation, mask_png: bytes | None = None
    ) -> ImageFit:
        """How `image` (and its single-channel mask) fits `provider` for `workflow`, before any money
        is spent: every limit measured on the exact files the vendor would get (`providers.payload`,
        which input hosting and the adapters run again at send time), and the fix when one exists
        (downscale, lossless PNG, high-quality JPEG). Too small or too narrow cannot be fixed."""
        limits = self.limits_for(provider, workflow)
        label = type(self._adapter(provider)).label
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

    def fit_image(self, image: PreparedImage, provider: str, workflow: Operation) -> PreparedImage:
        """The photo made to fit what `provider` accepts (the file then stored and sent), with a note
        saying what was done; the photo itself when it fits or cannot be fixed."""
        return self.fit_inputs(image, None, provider, workflow)[0]

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

    def _load(self, data: bytes) -> LoadedImage:
        try:
            return load_image(data, max_pixels=self.settings.max_pixels)
        except ImageInputError as exc:
            raise StudioInputError(exc.code, str(exc), dict(exc.params)) from None

    def local_scenes(self, language: str | None = None) -> list[SceneInfo]:
        """The local engine's scenes: the user's own backdrops (`user:<id>`) first, then its recipes."""
        local = self._local()
        if local is None:
            return []
        recipes = local.list_scenes({"language": language or self.settings.default_language})
        return [*self.backdrops.scenes(), *recipes]

    def read_prompt(self, prompt: str, language: str = "en") -> PromptReading:
        local = self._local()
        if local is None:
            return PromptReading((), (), "")
        used, unknown, summary, place = local.describe_prompt(prompt, language)
        return PromptReading(tuple(used), tuple(unknown), summary, place)

    # ------------------------------------------------------------ jobs
    def check_job(self, request: JobRequest) -> CheckedJob:
        """Every check `submit_job` makes, without writing anything: for batches, which validate
        all their rows before a single job is created. Raises StudioInputError."""
        adapter = self._adapter(request.provider)
        cls = type(adapter)
        missing = self._missing_settings(cls)
        if missing:
            names = ", ".join(self.settings.env_var(cls.key, name) for name in missing)
            raise StudioInputError(
                "provider_not_configured",
                f"{cls.label} is not configured: set {names} in the environment "
                f"or in the [{cls.key}] section of .streamlit/secrets.toml.",
                {"provider": cls.key, "missing": list(missing)},
            )
        workflow = Operation(request.workflow)
        limits = self._operation_limits(cls, workflow)
        raw_params, count, title = self._apply_aliases(cls, workflow, request)
        # Which backdrop of the user's library: studio decides it, it is no adapter option.
        backdrop_choice = raw_params.pop("backdrop_id", None)
        if request.cutout_quality is not None:
            quality = self._cutout_quality(request.cutout_quality)
            if cls is LocalEngine and "cutout" not in raw_params:
                raw_params = {**raw_params, "cutout": quality}
        count = limits.default_count if count is None else count
        self._check_count(cls, workflow, limits, count)
        size = self._check_size(cls, limits, request.size)
        fit = self.check_image_fit(request.image, cls.key, workflow)
        if fit.problems:
            raise fit.problems[0]
        try:
            params = cls.check_params(workflow, raw_params)
            cls.check_output(workflow, params, size)
        except ValueError as exc:
            raise StudioInputError(
                "bad_param", f"{exc}. Fix the option and try again.", {"detail": str(exc)}
            ) from None
        if workflow is Operation.SCENE_BACKGROUND:
            self._check_scene(adapter, request.scene_id)
        backdrop = self._backdrop_for(adapter, workflow, request, backdrop_choice)
        if backdrop is not None and backdrop.how == "chosen":
            params = {**params, "backdrop_id": backdrop.backdrop.backdrop_id}
        elif str(backdrop_choice or "").strip().casefold() == "none" and isinstance(adapter, LocalEngine):
            params = {**params, "backdrop_id": "none"}
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
        if request.mask_png and limits.mask_mode is None:
            raise StudioInputError(
                "mask_not_taken",
                f"{cls.label} finds the product itself and takes no mask; leave the mask out "
                "(in the CLI: drop --mask).",
                {"provider": cls.label},
            )
        if limits.needs_urls and self.input_host is None:
            raise StudioInputError(
                "needs_hosting",
                f"{cls.label} reads images only from web links, and no input hosting is set up. Set "
                "STUDIO_S3_BUCKET (an S3-compatible bucket) or STUDIO_PUBLISH_DIR with "
                "STUDIO_PUBLIC_BASE_URL; the Settings page explains both.",
                {"provider": cls.label},
            )
        if request.size is not None and not limits.takes_size:
            raise StudioInputError(
                "size_not_taken",
                f"{cls.label} makes its results at the photo's own size and takes no output size; "
                "leave the size out (in the CLI: drop --size), or resize the photo first.",
                {"provider": cls.label},
            )
        has_reference = bool(request.reference_png) and limits.takes_reference
        if limits.needs_prompt and not request.prompt.strip() and not has_reference:
            raise StudioInputError(
                "prompt_required",
                f"{cls.label} needs a description of the new background"
                + (" (or a reference image)." if limits.takes_reference else ".")
                + " Write one and try again.",
                {"provider": cls.label},
            )
        if request.reference_png and not limits.takes_reference:
            raise StudioInputError(
                "reference_not_taken",
                f"{cls.label} takes no reference image; remove it (in the CLI: drop --reference) "
                "or choose a provider that uses one.",
                {"provider": cls.label},
            )
        self._check_guides(cls, limits, request)
        mask_png = self.prepare_mask(request.mask_png, request.image) if request.mask_png else None
        if mask_png is not None and limits.mask_mode is not None:
            # The mask in the vendor's form has limits of its own (Tencent: under 6 MB as base64).
            with_mask = self.check_image_fit(request.image, cls.key, workflow, mask_png)
            if with_mask.problems:
                raise with_mask.problems[0]
        reference_png = self._reference_png(request.reference_png) if request.reference_png else None
        return CheckedJob(
            provider=cls.key,
            workflow=workflow,
            params=params,
            count=count,
            size=size,
            title=title,
            mask_png=mask_png,
            reference_png=reference_png,
            estimate=pricing.estimate(cls, workflow, count, self.price_overrides),
            backdrop=backdrop,
        )

    def _backdrop_for(
        self, adapter: ProviderAdapter, workflow: Operation, request: JobRequest, choice: object
    ) -> BackdropMatch | None:
        """The user's backdrop this job is placed on (`BackdropLibrary.resolve`); local engine only."""
        try:
            return self.backdrops.resolve(
                local=isinstance(adapter, LocalEngine),
                provider_label=type(adapter).label,
                scene=workflow is Operation.SCENE_BACKGROUND,
                scene_id=request.scene_id,
                prompt=request.prompt,
                choice=choice,
            )
        except BackdropError as exc:
            raise StudioInputError(exc.code, str(exc), exc.params) from None

    def _reference_png(self, data: bytes) -> bytes:
        """The reference as a PNG; transparent areas stay transparent (DashScope: alpha 0 does not guide)."""
        loaded = self._load(data)
        return encode_png(loaded.rgba if loaded.has_alpha else loaded.rgb)

    def prompt_overflows(
        self, provider: str, workflow: Operation, prompt: str, negative_prompt: str = ""
    ) -> tuple[PromptOverflow, ...]:
        """Prompts longer than the vendor reads (it ignores the rest): for a warning, not a refusal."""
        return prompt_overflows(self.limits_for(provider, workflow), prompt, negative_prompt)

    def submit_job(self, request: JobRequest) -> str:
        """Check everything, persist the inputs and a QUEUED row, wake the worker; returns the job id.

        Every check runs before anything is written, so a rejected request
        leaves no job behind.
        """
        new = self.persist_checked(request, self.check_job(request))
        try:
            self.store.create_job(new)
        except Exception:
            self.artifacts.remove_unfinished(new.job_id, new.created_at or self.store.now())
            raise
        self.worker.notify()
        return new.job_id

    def persist_checked(
        self,
        request: JobRequest,
        checked: CheckedJob,
        *,
        batch_id: str | None = None,
        sku: str | None = None,
        created: datetime | None = None,
    ) -> NewJob:
        """Write a checked job's inputs to its folder and describe its row (not yet in the store)."""
        cls = type(self._adapter(checked.provider))
        limits = self._operation_limits(cls, checked.workflow)
        mask_png = checked.mask_png
        notes: dict[str, Any] = {}
        if mask_png is None and limits.needs_cutout and not request.image.has_alpha:
            # The vendor needs the product cut out: the automatic cutout the page previewed,
            # stored with the job so History shows exactly what was sent, and by what.
            auto = self.auto_mask(request.image, request.cutout_quality)
            mask_png, notes = auto.mask_png, dict(auto.notes)
        job_id = uuid.uuid4().hex
        created = created or self.store.now()
        if checked.backdrop is not None:
            # First: a backdrop whose photo is gone is refused before any of the job's files exist.
            notes["backdrop_plate"] = self._save_plate(job_id, created, checked.backdrop)
        saved = self.artifacts.save_inputs(
            job_id, created, request.image.png, mask_png, checked.reference_png
        )
        if request.guides:
            notes["edge_guides"] = [
                {
                    "layer": guide.layer,
                    "prompt": guide.prompt,
                    "path": self.artifacts.save_file(job_id, created, f"guide_{number:02d}.png", guide.image),
                }
                for number, guide in enumerate(request.guides, 1)
            ]
        return NewJob(
            job_id=job_id,
            workflow=checked.workflow,
            provider=cls.key,
            input_path=saved.input_path,
            params=checked.params,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            scene_id=request.scene_id,
            product_title=checked.title,
            count=checked.count,
            size=checked.size,
            seed=request.seed,
            mask_path=saved.mask_path,
            reference_path=saved.reference_path,
            estimate=checked.estimate,
            source=request.source,
            batch_id=batch_id or request.batch_id,
            created_at=created,
            notes=notes,
            sku=sku,
        )

    def _save_plate(self, job_id: str, created: datetime, chosen: BackdropMatch) -> dict[str, Any]:
        """A copy of the backdrop's photo with the job's inputs, and the record the worker reads
        (`studio.worker._plate`): deleting the library entry later cannot break this job."""
        entry = chosen.backdrop
        try:
            photo = self.backdrops.photo(entry)
        except BackdropError as exc:
            raise StudioInputError(exc.code, str(exc), exc.params) from None
        record: dict[str, Any] = {
            "path": self.artifacts.save_file(job_id, created, "backdrop.jpg", photo),
            "surface": list(entry.surface),
            "backdrop_id": entry.backdrop_id,
            "name": entry.name,
            "how": chosen.how,
        }
        if chosen.matched_tags:
            record["matched_tags"] = list(chosen.matched_tags)
        return record

    def submit_comparison(
        self,
        request: JobRequest,
        providers: Sequence[str],
        params_by_provider: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[ComparisonEntry]:
        """The same photo, mask and prompt on several providers at once, one job each.

        Each provider gets its own options (`params_by_provider`, else its documented
        defaults), the asked-for number of images within its own range, and only the
        inputs it takes: a photo too large for one vendor is downscaled for that
        vendor alone, a reference image or mask goes only where it is honoured, and
        the output size only to the local engine (vendors render their own sizes).
        A provider that refuses the request does not stop the others.
        """
        workflow = Operation(request.workflow)
        entries: list[ComparisonEntry] = []
        for key in dict.fromkeys(providers):
            try:
                limits = self.limits_for(key, workflow)
                mask = request.mask_png if limits.mask_mode is not None else None
                # Fitted for this vendor alone; the mask follows the photo, so the two still match.
                image, mask = self.fit_inputs(request.image, mask, key, workflow)
                wanted = request.count if request.count is not None else limits.default_count
                local = isinstance(self.adapters.get(key), LocalEngine)
                single = replace(
                    request,
                    provider=key,
                    image=image,
                    mask_png=mask,
                    reference_png=request.reference_png if limits.takes_reference else None,
                    guides=request.guides if limits.max_guides else (),
                    count=min(max(wanted, limits.min_count), limits.max_count),
                    size=request.size if local else None,
                    params=dict((params_by_provider or {}).get(key, {})),
                )
                entries.append(ComparisonEntry(key, job_id=self.submit_job(single)))
            except StudioInputError as exc:
                entries.append(ComparisonEntry(key, error=exc))
        return entries

    def _check_guides(self, cls: type[ProviderAdapter], limits: Limits, request: JobRequest) -> None:
        if not request.guides:
            return
        if limits.max_guides == 0:
            raise StudioInputError(
                "guides_not_taken",
                f"{cls.label} takes no edge guides; remove them (in the CLI: drop --guide).",
                {"provider": cls.label},
            )
        if len(request.guides) > limits.max_guides:
            raise StudioInputError(
                "too_many_guides",
                f"{cls.label} takes at most {limits.max_guides} edge guides (front and back together); "
                f"you gave {len(request.guides)}. Remove some.",
                {"provider": cls.label, "max": limits.max_guides, "count": len(request.guides)},
            )
        for number, guide in enumerate(request.guides, 1):
            if guide.layer not in ("foreground", "background"):
                raise StudioInputError(
                    "bad_guide",
                    f"Edge guide {number} must go in front of the product (foreground) or behind it "
                    f"(background), not '{guide.layer}'.",
                    {"number": number},
                )
            if len(guide.prompt) > MAX_PROMPT_CHARS:
                raise StudioInputError(
                    "prompt_too_long",
                    f"The prompt of edge guide {number} is longer than {MAX_PROMPT_CHARS} characters.",
                    {"max": MAX_PROMPT_CHARS},
                )
            try:
                loaded = load_image(guide.image)
            except ImageInputError:
                loaded = None
            if loaded is None or not loaded.has_alpha:
                raise StudioInputError(
                    "bad_guide",
                    f"Edge guide {number} is not a transparent PNG. Make it from an element picture "
                    "(Prompt background page, or --guide in the CLI).",
                    {"number": number},
                )

    def _apply_aliases(
        self, cls: type[ProviderAdapter], workflow: Operation, request: JobRequest
    ) -> tuple[dict[str, Any], int | None, str]:
        """Vendor field names that are canonical fields (`--param imageNum=6`) become those fields."""
        aliases = cls.param_aliases.get(workflow, {})
        params = dict(request.params)
        count, title = request.count, request.product_title
        for name in [name for name in params if name in aliases]:
            value = params.pop(name)
            if aliases[name] == "count":
                try:
                    number = int(str(value).strip())
                except ValueError:
                    raise StudioInputError(
                        "bad_param",
                        f"{name}: '{value}' is not a whole number. Fix the option and try again.",
                        {"detail": f"{name}: '{value}' is not a whole number"},
                    ) from None
                if count is not None and count != number:
                    raise StudioInputError(
                        "bad_param",
                        f"{name}={number} contradicts --count {count}; give the number of images once.",
                        {"detail": f"{name}={number} contradicts count {count}"},
                    )
                count = number
            elif aliases[name] == "product_title":
                title = str(value)
        return params, count, title

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

    def _check_scene(self, adapter: ProviderAdapter, scene_id: str | None) -> None:
        if not scene_id:
            raise StudioInputError(
                "missing_scene", "Choose a scene for a scene background (in the CLI: --scene ID).", {}
            )
        if isinstance(adapter, LocalEngine) and not scene_id.startswith(USER_SCENE_PREFIX):
            # The recipe ids, not list_scenes(): that renders every thumbnail just to check a name.
            # A `user:<id>` scene is one of the user's backdrops, found by `_backdrop_for`.
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
        font = self.settings.cjk_font_path
        models = self.cutout_models.states()
        default = next(state for state in models if state.default)
        return {
            # The default quality's model: what a cutout uses when the job does not choose.
            "cutout_method": "model" if default.usable else "classical",
            "cutout_quality": default.quality,
            "cutout_model": default.model,
            "model_path": str(default.path),
            "model_found": default.found,
            "model_error": default.error,
            "models": [
                {
                    "model": state.model,
                    "label": state.label,
                    "quality": state.quality,
                    "path": str(state.path),
                    "env": state.env,
                    "found": state.found,
                    "error": state.error,
                    "default": state.default,
                }
                for state in models
            ],
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


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _display_copy(image: LoadedImage, side: int) -> LoadedImage:
    """The photo with its long side at most `side` (itself when it is that small already)."""
    if max(image.width, image.height) <= side:
        return image
    small = thumbnail(image.rgba, side)
    small.setflags(write=False)
    return LoadedImage(rgba=small, source_format=image.source_format, has_alpha=image.has_alpha)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()
