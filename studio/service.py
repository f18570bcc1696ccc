"""The application facade: one object pages and the CLI call, one method per user action.

Pages do `studio = get_studio()` (cached with st.cache_resource in ui/) and then
call exactly one method per action. The work is done by focused parts, which
`Studio` builds and delegates to:

```
studio.values      request and answer types (JobRequest, PreparedImage, CheckedJob, ...)
studio.wiring      adapter contexts, lazily loaded engine resources, the user's prices
studio.catalogue   providers, limits, connection checks, scene catalogues, input hosting
studio.inputs      uploads, masks, the automatic cutout, fitting a provider's limits
studio.validation  every check of a job against its provider, without writing anything
studio.submission  persisting and queueing jobs, comparisons, waiting for a job
studio.history     the history and the activity list as CSV
studio.status      engine facts for the settings page
```

Input problems raise `StudioInputError` (a `studio.errors.StudioError`): `code`
is a stable key (the UI translates `error.<code>` through the string table),
`params` fills the message, and `str(exc)` is a complete English sentence for
the CLI saying what is wrong and what to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from imaging.cutout import Segmenter
from imaging.fidelity import TextReader
from providers.base import Limits, Operation, OptionSpec, ProviderAdapter, ProviderContext, SceneInfo
from providers.fetch import FetchPolicy, ResultFetcher
from studio import history, status, wiring
from studio.artifacts import Artifacts
from studio.backdrop_library import BackdropLibrary
from studio.batches import Batches
from studio.catalogue import Catalogue
from studio.cutout_models import CutoutModels, ModelState
from studio.errors import StudioError, StudioInputError
from studio.export_checks import ExportGate
from studio.hosting import InputHost, build_host
from studio.input_links import InputLinks
from studio.inputs import Inputs
from studio.jobs import DayStat, JobFilter, JobPage, JobView, ProviderTotal
from studio.ocr import make_text_reader
from studio.output_checks import CheckQueue, OutputChecker
from studio.people import LOCAL_KEY, Person
from studio.prompt_budget import PromptOverflow
from studio.settings import Settings, load_settings
from studio.store import ActivityEntry, ActivityFilter, NewJob, Store
from studio.submission import JobSubmitter
from studio.validation import JobChecker, apply_aliases
from studio.values import (
    AutoMask,
    CheckedJob,
    ComparisonEntry,
    ConnectionReport,
    CutoutPreview,
    ImageFit,
    JobRequest,
    PreparedImage,
    PromptReading,
    ProviderInfo,
)
from studio.worker import Worker
from studio.worker_prepare import Preparer

__all__ = [
    "AutoMask",
    "CheckedJob",
    "ComparisonEntry",
    "ConnectionReport",
    "CutoutPreview",
    "ImageFit",
    "JobRequest",
    "PreparedImage",
    "PromptReading",
    "ProviderInfo",
    "Studio",
    "StudioError",
    "StudioInputError",
    "open_studio",
]


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
        self.artifacts = Artifacts(self.settings.data_dir, wiring.file_store(self.settings))
        self.cutout_models = CutoutModels(self.settings)
        self._resources = wiring.engine_resources(self.settings, self.cutout_models)
        self._clock = clock
        self.price_overrides = wiring.price_overrides(self.settings)
        self.input_host: InputHost | None = (
            build_host(self.settings.hosting) if self.settings.hosting else None
        )
        self.adapters: dict[str, ProviderAdapter] = (
            dict(adapters)
            if adapters is not None
            else wiring.build_adapters(self.settings, self._resources, clock)
        )
        threads = self.settings.worker_threads if worker_threads is None else worker_threads
        self.worker = Worker(
            self.store,
            self.artifacts,
            self.adapters,
            clock=clock,
            threads=threads,
            poll_tick_s=self.settings.poll_tick_s,
            lease_s=self.settings.lease_s,
            prices=self.price_overrides,
            links=InputLinks(self.input_host),
            downloader=ResultFetcher(FetchPolicy(allow_private=self.settings.allow_private_links)),
        )
        self._worker_lock = threading.Lock()
        self.backdrops = BackdropLibrary(
            self.store, self.settings.data_dir, max_pixels=self.settings.max_pixels
        )
        self.catalogue = Catalogue(
            self.settings,
            self.adapters,
            price_overrides=self.price_overrides,
            input_host=self.input_host,
            backdrops=self.backdrops,
        )
        self.inputs = Inputs(
            self.catalogue, self.cutout_models, self._resources, max_pixels=self.settings.max_pixels
        )
        self.checker = JobChecker(
            self.catalogue, self.inputs, self.backdrops, price_overrides=self.price_overrides
        )
        self.submitter = JobSubmitter(
            store=self.store,
            artifacts=self.artifacts,
            worker=self.worker,
            catalogue=self.catalogue,
            inputs=self.inputs,
            checker=self.checker,
            backdrops=self.backdrops,
        )
        self.batches = Batches(self)
        # Batch items are prepared (decode, fit, cutout) by the worker at their turn, a few ahead.
        self.worker.preparer = Preparer(
            self.store, self.artifacts, self.inputs, self.catalogue, background=threads > 0
        )
        # Every output is checked against its input product as it arrives (issue 17), on a
        # background thread so a check never delays a vendor call.
        self._tools_lock = threading.Lock()
        self._check_segmenter: Segmenter | None = None
        self._check_segmenter_loaded = False
        self._text_reader: TextReader | None = None
        self._text_reader_loaded = False
        self.output_checks = OutputChecker(
            self.store,
            self.artifacts,
            self.settings.checks,
            segmenter=self.check_segmenter,
            text_reader=self.text_reader,
        )
        self.check_queue = CheckQueue(self.output_checks)
        # Inline mode (worker_threads=0: scripts and tests) checks only when asked (`check_outputs`).
        if threads > 0:
            self.worker.on_succeeded = self.check_queue.enqueue

    # ------------------------------------------------------------ wiring
    def provider_context(self, cls: type[ProviderAdapter]) -> ProviderContext:
        """What an adapter gets from us: its credentials, settings, endpoint, a session, resources."""
        return wiring.provider_context(self.settings, cls, self._resources, self._clock)

    def segmenter(self, quality: str | None = None) -> Segmenter | None:
        """The shared segmentation model for `quality` ("best", "fast"; None: the default).
        None: that model is missing or broken and the classical cutout is used."""
        return self.inputs.segmenter(quality)

    def check_segmenter(self) -> Segmenter | None:
        """The fast model (u2netp), loaded once: the output checks and the export gate find the
        product with it (ISNet would take seconds per image). One thread: the checks run in the
        background and must not take the second core from the work people wait for (a vendor
        hand-off, a cutout); u2netp is ~0.1 s a picture on one core."""
        with self._tools_lock:
            if not self._check_segmenter_loaded:
                self._check_segmenter = self.cutout_models.load("u2netp", threads=1)
                self._check_segmenter_loaded = True
            return self._check_segmenter

    def text_reader(self) -> TextReader | None:
        """tesseract (English and Chinese) when installed and the settings allow OCR; else None."""
        with self._tools_lock:
            if not self._text_reader_loaded:
                self._text_reader = make_text_reader() if self.settings.checks.ocr else None
                self._text_reader_loaded = True
            return self._text_reader

    def export_gate(
        self,
        *,
        allow_noncompliant: bool = False,
        max_upscale: float | None = None,
        visible_label: str | None = None,
    ) -> ExportGate:
        """What an export checks and adds to each file (studio.export_checks)."""
        return ExportGate(
            read_text=self.text_reader(),
            segmenter=self.check_segmenter(),
            allow_noncompliant=allow_noncompliant,
            max_upscale=max_upscale,
            visible_label=visible_label,
            provider_labels={key: type(adapter).label for key, adapter in self.adapters.items()},
            label_font=self._resources.get("cjk_font") if visible_label else None,
        )

    def check_outputs(self, job_id: str) -> int:
        """Check a finished job's outputs now (the CLI, before it prints a job); returns how many."""
        return self.output_checks.check_job(job_id) if self.output_checks.enabled else 0

    def default_cutout_quality(self) -> str:
        """The quality ("best" or "fast") a cutout uses when the job does not choose (STUDIO_CUTOUT_MODEL)."""
        return self.cutout_models.default_quality()

    def cutout_models_state(self) -> list[ModelState]:
        """Each model (best first): its file, found or not, load error, and which is the default."""
        return self.cutout_models.states()

    def cutout_problem(self, quality: str | None = None) -> str | None:
        """Why cutouts of `quality` (None: the default) cannot use their model, with the fix; else None."""
        return self.inputs.cutout_problem(quality)

    # ------------------------------------------------------------ providers
    def providers(self) -> list[ProviderInfo]:
        return self.catalogue.providers()

    def option_specs(self, provider: str, workflow: Operation) -> tuple[OptionSpec, ...]:
        """The request fields `provider` honours for `workflow`, with ranges and documented defaults."""
        return self.catalogue.option_specs(provider, workflow)

    def test_connection(self, provider: str, *, by: str = LOCAL_KEY) -> ConnectionReport:
        """One cheap authenticated call to `provider`; never raises for a provider failure.
        The test goes to the activity list as done by `by`."""
        report = self.catalogue.test_connection(provider)
        self.record_activity(by, "test_connection", provider, {"ok": report.ok, "ms": report.elapsed_ms})
        return report

    def list_scenes(self, provider: str, query: Mapping[str, Any] | None = None) -> list[SceneInfo]:
        """A vendor's scene catalogue (cached for half an hour per query); ProviderError when it fails."""
        return self.catalogue.list_scenes(provider, query)

    def forget_scenes(self) -> None:
        """Drop cached catalogues, so the next `list_scenes` asks the vendor again."""
        self.catalogue.forget_scenes()

    def needs_hosting(self, provider: str, workflow: Operation) -> bool:
        """True when `provider` reads inputs only from links and no input hosting is set up."""
        return self.catalogue.needs_hosting(provider, workflow)

    def providers_needing_links(self) -> list[str]:
        """Keys of the providers that read inputs only from URLs, for any of their operations."""
        return self.catalogue.providers_needing_links()

    def test_hosting(self, *, by: str = LOCAL_KEY) -> ConnectionReport:
        """One round trip to the input host (put/get/delete or head bucket); never raises. Recorded."""
        report = self.catalogue.test_hosting()
        self.record_activity(by, "test_hosting", report.provider, {"ok": report.ok, "ms": report.elapsed_ms})
        return report

    def limits_for(self, provider: str, workflow: Operation) -> Limits:
        """What `provider` accepts for `workflow` (counts, sizes); raises StudioInputError if it cannot do it."""
        return self.catalogue.limits_for(provider, workflow)

    def local_scenes(self, language: str | None = None) -> list[SceneInfo]:
        """The local engine's scenes: the user's own backdrops (`user:<id>`) first, then its recipes."""
        return self.catalogue.local_scenes(language)

    def read_prompt(self, prompt: str, language: str = "en") -> PromptReading:
        return self.catalogue.read_prompt(prompt, language)

    # ------------------------------------------------------------ inputs
    def prepare_image(self, data: bytes, name: str) -> PreparedImage:
        return self.inputs.prepare_image(data, name)

    def prepare_mask(self, data: bytes, image: PreparedImage) -> bytes:
        """The mask as a single-channel PNG (white = product) at the image's exact size."""
        return self.inputs.prepare_mask(data, image)

    def auto_cutout(self, image: PreparedImage, quality: str | None = None) -> CutoutPreview:
        """The automatic cutout to show before a job, at display size (`Inputs.auto_cutout`)."""
        return self.inputs.auto_cutout(image, quality)

    def auto_mask(self, image: PreparedImage, quality: str | None = None) -> AutoMask:
        """The automatic cutout's mask at full size (the mask editor's start, a vendor's mask)."""
        return self.inputs.auto_mask(image, quality)

    def make_edge_guide(self, element: PreparedImage, product: PreparedImage) -> bytes:
        """An element picture turned into an edge guide at the product photo's size."""
        return self.inputs.make_edge_guide(element, product)

    def check_image_fit(
        self, image: PreparedImage, provider: str, workflow: Operation, mask_png: bytes | None = None
    ) -> ImageFit:
        """How `image` (and its single-channel mask) fits `provider` for `workflow`, and the fix."""
        return self.inputs.check_image_fit(image, provider, workflow, mask_png)

    def fit_image(self, image: PreparedImage, provider: str, workflow: Operation) -> PreparedImage:
        """The photo made to fit what `provider` accepts (the file then stored and sent), with a note
        saying what was done; the photo itself when it fits or cannot be fixed."""
        return self.inputs.fit_inputs(image, None, provider, workflow)[0]

    def fit_inputs(
        self, image: PreparedImage, mask: bytes | None, provider: str, workflow: Operation
    ) -> tuple[PreparedImage, bytes | None]:
        """The photo and its mask made to fit `provider` together (`Inputs.fit_inputs`)."""
        return self.inputs.fit_inputs(image, mask, provider, workflow)

    # ------------------------------------------------------------ jobs
    def check_job(self, request: JobRequest) -> CheckedJob:
        """Every check `submit_job` makes, without writing anything: for batches, which validate
        all their rows before a single job is created. Raises StudioInputError."""
        return self.checker.check_job(request)

    def _apply_aliases(
        self, cls: type[ProviderAdapter], workflow: Operation, request: JobRequest
    ) -> tuple[dict[str, Any], int | None, str]:
        """Vendor field names that are canonical fields become those fields (`validation.apply_aliases`)."""
        return apply_aliases(cls, workflow, request)

    def prompt_overflows(
        self, provider: str, workflow: Operation, prompt: str, negative_prompt: str = ""
    ) -> tuple[PromptOverflow, ...]:
        """Prompts longer than the vendor reads (it ignores the rest): for a warning, not a refusal."""
        return self.checker.prompt_overflows(provider, workflow, prompt, negative_prompt)

    def submit_job(self, request: JobRequest, *, by: str = LOCAL_KEY) -> str:
        """Check everything, persist the inputs and a QUEUED row made by `by` (a person key), wake the
        worker; returns the job id."""
        return self.submitter.submit_job(request, by=by)

    def persist_checked(
        self,
        request: JobRequest,
        checked: CheckedJob,
        *,
        batch_id: str | None = None,
        sku: str | None = None,
        created: datetime | None = None,
        by: str | None = None,
    ) -> NewJob:
        """Write a checked job's inputs to its folder and describe its row (not yet in the store)."""
        return self.submitter.persist_checked(
            request, checked, batch_id=batch_id, sku=sku, created=created, by=by
        )

    def persist_source(
        self,
        request: JobRequest,
        checked: CheckedJob,
        image: tuple[str, bytes],
        mask: tuple[str, bytes] | None = None,
        *,
        fit: bool = False,
        batch_id: str | None = None,
        sku: str | None = None,
        created: datetime | None = None,
        by: str | None = None,
    ) -> NewJob:
        """A batch item's source files copied to its folder, to be prepared by the worker at its turn."""
        return self.submitter.persist_source(
            request, checked, image, mask, fit=fit, batch_id=batch_id, sku=sku, created=created, by=by
        )

    def prepare_ahead(self, batch_id: str, job_ids: Sequence[str]) -> None:
        """Let the worker prepare these batch items a few ahead of their turn."""
        if self.worker.preparer is not None:
            self.worker.preparer.enqueue(batch_id, job_ids)

    def submit_comparison(
        self,
        request: JobRequest,
        providers: Sequence[str],
        params_by_provider: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        by: str = LOCAL_KEY,
    ) -> list[ComparisonEntry]:
        """The same photo, mask and prompt on several providers at once, one job each, made by `by`."""
        return self.submitter.submit_comparison(request, providers, params_by_provider, by=by)

    def get_job(self, job_id: str) -> JobView | None:
        return self.store.get_job(job_id)

    def wait_for_job(self, job_id: str, timeout_s: float | None = None) -> JobView:
        """Block until the job is finished (or `timeout_s` passes; then the pending view is returned)."""
        return self.submitter.wait_for_job(job_id, timeout_s)

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

    def export_csv(self, filters: JobFilter, *, by: str | None = None) -> Iterator[bytes]:
        """History as UTF-8 CSV, streamed in chunks; the BOM makes Excel read Chinese text right.
        With `by`, the download goes to the activity list when it starts."""
        return history.export_csv(self.store, filters, by=by)

    def job_people(self, viewer: Person | None = None) -> list[str]:
        """Who made the jobs `viewer` sees (None: everyone's), for History's person filter."""
        return self.store.job_people(viewer)

    # ------------------------------------------------------------ activity (audit)
    def record_activity(
        self, by: str, action: str, subject: str = "", details: Mapping[str, Any] | None = None
    ) -> None:
        """One entry in the activity list (`studio.store_activity.ACTIONS`); secrets are scrubbed."""
        self.store.record_activity(by, action, subject, details)

    def activity(self, filters: ActivityFilter, limit: int = 500) -> list[ActivityEntry]:
        """The activity list, newest first (for admins: check `Person.can("see_everyone")`)."""
        return self.store.list_activity(filters, limit)

    def activity_people(self) -> list[str]:
        return self.store.activity_people()

    def export_activity_csv(self, filters: ActivityFilter, *, by: str | None = None) -> Iterator[bytes]:
        """The activity list as UTF-8 CSV, streamed; with `by`, the download itself is recorded."""
        return history.activity_csv(self.store, filters, by=by)

    # ------------------------------------------------------------ preferences
    def get_preference(self, key: str) -> str | None:
        return self.store.get_preference(key)

    def set_preference(self, key: str, value: str) -> None:
        self.store.set_preference(key, value)

    # ------------------------------------------------------------ status
    def engine_status(self) -> dict[str, Any]:
        """Facts for the settings page: model, font, storage, worker. No secrets."""
        return status.engine_status(self.settings, self.cutout_models, self.store, self.worker)

    # ------------------------------------------------------------ lifecycle
    def start_worker(self) -> None:
        with self._worker_lock:
            self.worker.start()
        self.check_queue.sweep_soon()

    def close(self) -> None:
        """Stop the worker (letting jobs in progress finish their current step) and release the database."""
        with self._worker_lock:
            self.worker.stop()
        self.check_queue.stop()
        self.store.close()


def open_studio(settings: Settings | None = None) -> Studio:
    """The usual way in: settings from the environment and secrets.toml, database migrated, worker not started."""
    return Studio(settings)
