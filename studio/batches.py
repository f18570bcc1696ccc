"""Batches: many products run as one unit, with a budget, pause/resume/cancel, retries and review.

A batch is created in one transaction with all its jobs (every row was checked
before, see studio.manifest), so it is never half there. An item planned from a
manifest, ZIP or upload carries its source files (`BatchItem.source`): they are
copied into its job folder as they are and the worker prepares them (decode,
fit, cutout, re-encode) just before the job's turn, a few ahead of the vendor
(`studio.worker_prepare`), so a start is quick and the vendor's first call comes
at once. The worker runs its
jobs like any other, at each vendor's limits; it checks the batch before each
submit, so a pause, a cancel or a budget stop takes effect before the next call
and never interrupts a job the vendor already has. Closing the browser changes
nothing; a restarted app resumes from the store.

Every action takes `by`, the key of the person doing it (`studio.people.Person.key`;
"local" without sign-in): jobs record who made them, review decisions who made
them, and starts, pauses, resumes, cancels, retries, budgets, sharing and exports
go to the activity list (`studio.store_activity`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from imaging.cutout import Segmenter
from imaging.marketplace import Preset
from providers.base import EdgeGuide, Money
from studio.artifacts import ArtifactError, Artifacts
from studio.errors import StudioError
from studio.export import (
    ExportItem,
    ExportReport,
    NameTemplate,
    Progress,
    export_to_dir,
    export_zip,
    preview_export,
    relative_source,
    stored_sources,
)
from studio.export_checks import UPSCALE_WARNING, ExportGate, ExportPreview
from studio.jobs import BatchProgress, BatchStatus, BatchView, JobOutput, JobStatus, JobView, ReviewState
from studio.people import LOCAL_KEY, Person
from studio.safe_files import FileRefused
from studio.store import NewBatch, NewJob, Store
from studio.store_checks import REJECT_FLAGGED_NOTE
from studio.values import CheckedJob, JobRequest, PreparedImage


class _Notifiable(Protocol):
    def notify(self) -> None: ...


class BatchStudio(Protocol):
    """What batches need of the studio (`studio.service.Studio` is one): its store and files, the
    worker to wake, and the checks and persistence a single job goes through."""

    @property
    def store(self) -> Store: ...

    @property
    def artifacts(self) -> Artifacts: ...

    @property
    def worker(self) -> _Notifiable: ...

    def prepare_image(self, data: bytes, name: str) -> PreparedImage: ...

    def check_job(self, request: JobRequest) -> CheckedJob: ...

    def persist_checked(
        self,
        request: JobRequest,
        checked: CheckedJob,
        *,
        batch_id: str | None = None,
        sku: str | None = None,
        created: datetime | None = None,
        by: str | None = None,
    ) -> NewJob: ...

    def segmenter(self, quality: str | None = None) -> Segmenter | None: ...

    def export_gate(
        self,
        *,
        allow_noncompliant: bool = False,
        max_upscale: float | None = None,
        visible_label: str | None = None,
    ) -> ExportGate: ...

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
    ) -> NewJob: ...

    def prepare_ahead(self, batch_id: str, job_ids: Sequence[str]) -> None: ...


class _SourceFile(Protocol):
    @property
    def name(self) -> str: ...

    def read(self) -> bytes: ...


class ItemFiles(Protocol):
    """Where a planned item's files are (studio.manifest.ItemSource)."""

    @property
    def image(self) -> _SourceFile: ...

    @property
    def mask(self) -> _SourceFile | None: ...

    @property
    def fit(self) -> bool: ...


class PlannedItem(Protocol):
    """One checked row of a batch plan (studio.manifest.BatchItem)."""

    @property
    def sku(self) -> str: ...

    @property
    def request(self) -> JobRequest: ...

    @property
    def checked(self) -> CheckedJob: ...


class BatchError(StudioError, ValueError):
    """A batch action that cannot be done; the message says why and what to do."""

    default_code = "batch_error"


@dataclass(frozen=True)
class ReviewedOutput:
    job: JobView
    output: JobOutput


class Batches:
    def __init__(self, studio: BatchStudio) -> None:
        self._studio = studio
        self._store = studio.store

    # ------------------------------------------------------------ lifecycle
    def start(
        self,
        items: Sequence[PlannedItem],
        *,
        name: str = "",
        budget: Money | None = None,
        source: str = "ui",
        by: str = LOCAL_KEY,
        shared: bool = False,
        reject_flagged: bool = False,
    ) -> str:
        """Persist every item's inputs (or copy its source files, to be prepared by the worker) and
        create the batch with all its jobs at once, made by `by`."""
        if not items:
            raise BatchError(
                "The batch has no items to run. Add products, or fix the rows with problems.", "batch_empty"
            )
        if budget is not None and budget.amount_minor <= 0:
            raise BatchError(
                "The budget must be more than zero; leave it empty for no budget.",
                "batch_budget_not_positive",
            )
        batch_id = uuid.uuid4().hex
        news: list[NewJob] = []
        # A microsecond apart: jobs are claimed and listed oldest first, so the batch keeps its order.
        base = self._store.now()
        try:
            for number, item in enumerate(items):
                created = base + timedelta(microseconds=number)
                news.append(self._persist(item, batch_id, created, by))
            self._store.create_batch(
                NewBatch(
                    batch_id,
                    name=name.strip(),
                    budget=budget,
                    source=source,
                    created_by=by,
                    shared=shared,
                    notes={REJECT_FLAGGED_NOTE: True} if reject_flagged else {},
                ),
                news,
            )
        except Exception:
            for new in news:
                self._studio.artifacts.remove_unfinished(new.job_id, new.created_at or self._store.now())
            raise
        self._studio.worker.notify()
        waiting = [new.job_id for new in news if "prepare" in (new.notes or {})]
        if waiting:
            self._studio.prepare_ahead(batch_id, waiting)
        details = {"name": name.strip(), "items": len(news), "source": source, "shared": shared}
        if budget is not None:
            details["budget"] = f"{budget.as_str()} {budget.currency}"
        self._store.record_activity(by, "batch_start", batch_id, details)
        return batch_id

    def _persist(self, item: PlannedItem, batch_id: str, created: datetime, by: str) -> NewJob:
        files: ItemFiles | None = getattr(item, "source", None)
        if files is None:
            return self._studio.persist_checked(
                item.request, item.checked, batch_id=batch_id, sku=item.sku, created=created, by=by
            )
        try:
            image = (files.image.name, files.image.read())
            mask = (files.mask.name, files.mask.read()) if files.mask is not None else None
        except FileRefused as exc:
            raise BatchError(
                f"The file of item {item.sku or '?'} is gone or changed since the check ({exc.reason}); "
                "check the batch again.",
                "batch_source_gone",
                {"sku": item.sku},
            ) from None
        return self._studio.persist_source(
            item.request,
            item.checked,
            image,
            mask,
            fit=files.fit,
            batch_id=batch_id,
            sku=item.sku,
            created=created,
            by=by,
        )

    def pause(self, batch_id: str, *, by: str = LOCAL_KEY) -> None:
        batch = self._require(batch_id, {BatchStatus.RUNNING}, "pause")
        self._store.set_batch_status(batch_id, BatchStatus.PAUSED, "user")
        self._record(by, "batch_pause", batch)

    def resume(self, batch_id: str, *, by: str = LOCAL_KEY) -> None:
        batch = self._require(batch_id, {BatchStatus.PAUSED}, "resume")
        self._store.set_batch_status(batch_id, BatchStatus.RUNNING)
        self._studio.worker.notify()
        self._record(by, "batch_resume", batch)

    def share(self, batch_id: str, shared: bool, *, by: str = LOCAL_KEY) -> None:
        """Let the team see the batch and its jobs (or take it back)."""
        batch = self._require(batch_id, set(BatchStatus), "share")
        self._store.set_batch_shared(batch_id, shared)
        self._record(by, "batch_share", batch, shared=shared)

    def set_reject_flagged(self, batch_id: str, on: bool, *, by: str = LOCAL_KEY) -> int:
        """Reject images the output check flags, automatically (never one a person reviewed).
        Turning it on also rejects the batch's flagged images nobody reviewed yet; returns how many."""
        batch = self._require(batch_id, set(BatchStatus), "change")
        self._store.set_batch_note(batch_id, REJECT_FLAGGED_NOTE, True if on else None)
        rejected = 0
        if on:
            for job in self._store.batch_jobs(batch_id):
                for output in job.outputs:
                    if output.flagged and output.review is None:
                        rejected += self._store.reject_unreviewed(job.job_id, output.index)
        self._record(by, "batch_reject_flagged", batch, on=on, rejected=rejected)
        return rejected

    def flagged_share(self, batch_id: str | None = None) -> dict[str, tuple[int, int]]:
        """provider -> (flagged images, checked images), for the scoreboard."""
        return self._store.flagged_share_by_provider(batch_id)

    def raise_budget(self, batch_id: str, budget: Money | None, *, by: str = LOCAL_KEY) -> None:
        """A new budget (None: no limit); a batch stopped by its budget then resumes."""
        batch = self._require(batch_id, {BatchStatus.RUNNING, BatchStatus.PAUSED}, "change the budget of")
        if budget is not None and batch.budget is not None and budget.currency != batch.budget.currency:
            raise BatchError(
                f"The budget is in {batch.budget.currency}; give the new one in the same currency.",
                "batch_budget_currency",
                {"currency": batch.budget.currency},
            )
        self._store.set_batch_budget(batch_id, budget)
        before = f"{batch.budget.as_str()} {batch.budget.currency}" if batch.budget else None
        after = f"{budget.as_str()} {budget.currency}" if budget else None
        self._record(by, "batch_budget", batch, before=before, after=after)
        if batch.status is BatchStatus.PAUSED and batch.pause_reason == "budget":
            self.resume(batch_id, by=by)

    def cancel(self, batch_id: str, *, by: str = LOCAL_KEY) -> None:
        batch = self._require(batch_id, {BatchStatus.RUNNING, BatchStatus.PAUSED}, "cancel")
        self._store.set_batch_status(batch_id, BatchStatus.CANCELED)
        self._record(by, "batch_cancel", batch)

    def retry_failed(self, batch_id: str, *, by: str = LOCAL_KEY) -> int:
        """Run every failed item again as a new job (the failed one stays in History); returns how many."""
        batch = self._require(batch_id, {BatchStatus.RUNNING, BatchStatus.PAUSED, BatchStatus.DONE}, "retry")
        failed = [job for job in self._store.batch_jobs(batch_id) if job.status is JobStatus.FAILED]
        retried = [job for job in failed if job.notes.get("retried_by")]
        news: list[NewJob] = []
        for job in [job for job in failed if job not in retried]:
            news.append(self._again_new(job, batch_id, by))
        if not news:
            return 0
        self._store.add_batch_jobs(batch_id, news)
        for job, new in zip([job for job in failed if job not in retried], news, strict=True):
            self._store.add_note(job.job_id, "retried_by", new.job_id)
        if batch.status is BatchStatus.PAUSED:
            self._store.set_batch_status(batch_id, BatchStatus.PAUSED, batch.pause_reason)
        self._studio.worker.notify()
        waiting = [new.job_id for new in news if "prepare" in (new.notes or {})]
        if waiting:
            self._studio.prepare_ahead(batch_id, waiting)
        self._record(by, "batch_retry", batch, jobs=len(news))
        return len(news)

    def _record(self, by: str, action: str, batch: BatchView, **details: object) -> None:
        self._store.record_activity(by, action, batch.batch_id, {"name": batch.name, **details})

    def _again_new(self, job: JobView, batch_id: str, by: str) -> NewJob:
        spec = job.notes.get("prepare")
        if not isinstance(spec, dict):
            request, checked = self._again(job)
            return self._studio.persist_checked(request, checked, batch_id=batch_id, sku=job.sku, by=by)
        # Its photo was never prepared (it failed there): the same source files, prepared again.
        artifacts = self._studio.artifacts
        try:
            image = (str(spec.get("name") or "input"), artifacts.read(spec["image"]))
            mask = ("mask.png", artifacts.read(spec["mask"])) if spec.get("mask") else None
        except ArtifactError:
            raise BatchError(
                f"The input of job {job.job_id[:8]} is gone, so it cannot be retried.",
                "batch_input_gone",
                {"job": job.job_id[:8]},
            ) from None
        checked = CheckedJob(
            provider=job.provider,
            workflow=job.workflow,
            params=dict(job.params),
            count=job.count,
            size=job.size,
            title=job.product_title,
            mask_png=None,
            reference_png=None,
            estimate=job.cost_estimate,
        )
        request = JobRequest(
            workflow=job.workflow,
            provider=job.provider,
            image=PreparedImage(b"", 0, 0, False, "", image[0]),
            prompt=job.prompt,
            negative_prompt=job.negative_prompt,
            scene_id=job.scene_id,
            count=job.count,
            size=job.size,
            params=dict(job.params),
            seed=job.seed,
            product_title=job.product_title,
            source="batch",
            cutout_quality=spec.get("cutout_quality"),
        )
        return self._studio.persist_source(
            request, checked, image, mask, fit=bool(spec.get("fit")), batch_id=batch_id, sku=job.sku, by=by
        )

    def _again(self, job: JobView) -> tuple[JobRequest, CheckedJob]:
        def read(path: str | None) -> bytes | None:
            # Through the file store: with S3 storage the job's files are not on this machine's disk.
            if not path:
                return None
            try:
                return self._studio.artifacts.read(path)
            except ArtifactError:
                return None

        image_bytes = read(job.input_path)
        if image_bytes is None:
            raise BatchError(
                f"The input of job {job.job_id[:8]} is gone, so it cannot be retried.",
                "batch_input_gone",
                {"job": job.job_id[:8]},
            )
        guides = tuple(
            EdgeGuide(item["layer"], self._studio.artifacts.read(item["path"]), item.get("prompt", ""))
            for item in job.notes.get("edge_guides") or []
        )
        request = JobRequest(
            workflow=job.workflow,
            provider=job.provider,
            image=self._studio.prepare_image(image_bytes, Path(job.input_path or "input.png").name),
            mask_png=read(job.mask_path),
            prompt=job.prompt,
            negative_prompt=job.negative_prompt,
            scene_id=job.scene_id,
            count=job.count,
            size=job.size,
            params=dict(job.params),
            seed=job.seed,
            reference_png=read(job.reference_path),
            product_title=job.product_title,
            source="batch",
            guides=guides,
        )
        return request, self._studio.check_job(request)

    def _require(self, batch_id: str, allowed: set[BatchStatus], action: str) -> BatchView:
        batch = self._store.get_batch(batch_id)
        if batch is None:
            raise BatchError(
                f"There is no batch '{batch_id}'. Check the id (python -m studio batches list).",
                "batch_not_found_cli",
                {"batch_id": batch_id},
            )
        if batch.status not in allowed:
            raise BatchError(
                f"The batch is {batch.status}; you cannot {action} it now.",
                "batch_wrong_state",
                {"status": str(batch.status), "action": action},
            )
        return batch

    # ------------------------------------------------------------ reading
    def get(self, batch_id: str) -> BatchView | None:
        return self._store.get_batch(batch_id)

    def recent(self, limit: int = 50, viewer: Person | None = None) -> list[BatchView]:
        """The newest batches; with `viewer`, only those that person sees (their own and shared ones;
        an admin every one)."""
        return self._store.list_batches(limit, viewer)

    def progress(self, batch_id: str) -> BatchProgress:
        progress = self._store.batch_progress(batch_id)
        if progress is None:
            raise BatchError(f"There is no batch '{batch_id}'.", "batch_not_found", {"batch_id": batch_id})
        return progress

    def jobs(self, batch_id: str) -> list[JobView]:
        return self._store.batch_jobs(batch_id)

    def newest_finished(self, batch_id: str, limit: int) -> tuple[int, list[JobView]]:
        """(items finished with images, the newest `limit` of them): the progress thumbnails."""
        return self._store.newest_finished(batch_id, limit)

    # ------------------------------------------------------------ review
    def review(
        self,
        job_id: str,
        index: int,
        *,
        decision: ReviewState | None | str = "",
        favourite: bool | None = None,
        note: str | None = None,
        by: str = LOCAL_KEY,
    ) -> None:
        """Approve/reject (None clears it), favourite and note one output; "" leaves the decision as is.
        The output records `by` as who decided."""
        kwargs: dict[str, object] = {"favourite": favourite, "note": note, "by": by}
        if decision != "":
            kwargs["review"] = None if decision is None else str(ReviewState(decision))
        if not self._store.set_review(job_id, index, **kwargs):  # type: ignore[arg-type]
            raise BatchError(
                f"Job {job_id[:8]} has no image {index}.",
                "batch_no_image",
                {"job": job_id[:8], "index": index},
            )

    def approved(self, batch_id: str) -> list[ReviewedOutput]:
        """Every approved image of the batch, in batch order (for export)."""
        return [
            ReviewedOutput(job, output)
            for job in self._store.batch_jobs(batch_id)
            for output in job.outputs
            if output.review == ReviewState.APPROVED
        ]

    # ------------------------------------------------------------ export
    def export_items(self, batch_id: str, *, approved_only: bool = True) -> list[ExportItem]:
        """The batch's images to export: approved ones (or every image of a finished job), in order."""
        chosen: list[ExportItem] = []
        for job in self._store.batch_jobs(batch_id):
            shares = _split(job.cost, len(job.outputs))
            for output, cost in zip(job.outputs, shares, strict=True):
                if approved_only and output.review != ReviewState.APPROVED:
                    continue
                chosen.append(
                    ExportItem(
                        source=Path(output.path),
                        source_name=relative_source(output.path, self._store.files_root),
                        sku=job.sku or job.job_id[:8],
                        provider=job.provider,
                        job_id=job.job_id,
                        workflow=str(job.workflow),
                        created_at=job.created_at,
                        n=output.index,
                        cost=cost,
                        prompt=job.prompt,
                        scene=job.scene_id or "",
                    )
                )
        return chosen

    def export(
        self,
        batch_id: str,
        preset: Preset,
        template: str,
        out: BinaryIO | Path,
        *,
        to_folder: bool = False,
        approved_only: bool = True,
        progress: Progress | None = None,
        by: str = LOCAL_KEY,
        allow_noncompliant: bool = False,
        skip_upscaled: bool = False,
        visible_label: str | None = None,
    ) -> ExportReport:
        """A ZIP (or a folder) of the batch's approved images in a marketplace's form, plus export.csv.

        Each file is checked against the preset's rules as written: one that still breaks a rule
        is left out unless `allow_noncompliant` (the user's explicit override); with
        `skip_upscaled`, images enlarged more than 1.5x are left out too. Every file carries its
        AI provenance label, and `visible_label` ("AI生成") when given. The export goes to the
        activity list as done by `by`."""
        batch = self._export_batch(batch_id)
        items = self._items_to_export(batch_id, approved_only)
        gate = self._studio.export_gate(
            allow_noncompliant=allow_noncompliant,
            max_upscale=UPSCALE_WARNING if skip_upscaled else None,
            visible_label=visible_label,
        )
        NameTemplate(template)  # a bad template is refused before any image is rendered
        segmenter = self._studio.segmenter()
        # Sources through the job file store: a shared bucket as well as the data folder.
        read = stored_sources(self._studio.artifacts.files, self._store.files_root)
        exporter: Callable[..., ExportReport] = export_zip
        if to_folder:
            if not isinstance(out, Path):
                raise BatchError("A folder export needs a folder path.", "batch_export_needs_folder")
            exporter = export_to_dir
        report = exporter(
            items, preset, template, out, segmenter=segmenter, progress=progress, read_source=read, gate=gate
        )
        self._record(
            by,
            "export",
            batch,
            preset=report.preset,
            files=len(report.files),
            failures=len(report.failures),
            approved_only=approved_only,
            to="folder" if to_folder else "zip",
            override=allow_noncompliant,
            skip_upscaled=skip_upscaled,
            visible_label=bool(visible_label),
        )
        return report

    def preview_export(
        self,
        batch_id: str,
        preset: Preset,
        *,
        approved_only: bool = True,
        progress: Progress | None = None,
    ) -> list[ExportPreview]:
        """Per image, before an export: what the preset's rules find in it as generated, what the
        export fixes, what would remain, and how much it would be enlarged."""
        self._export_batch(batch_id)
        items = self._items_to_export(batch_id, approved_only)
        read = stored_sources(self._studio.artifacts.files, self._store.files_root)
        return preview_export(items, preset, self._studio.export_gate(), read_source=read, progress=progress)

    def _export_batch(self, batch_id: str) -> BatchView:
        batch = self._store.get_batch(batch_id)
        if batch is None:
            raise BatchError(f"There is no batch '{batch_id}'.", "batch_not_found", {"batch_id": batch_id})
        return batch

    def _items_to_export(self, batch_id: str, approved_only: bool) -> list[ExportItem]:
        items = self.export_items(batch_id, approved_only=approved_only)
        if not items:
            raise BatchError(
                "Nothing to export: approve some images on the Review page first"
                + (" (or export every image with --all)." if approved_only else "."),
                "batch_nothing_approved" if approved_only else "batch_nothing_to_export",
            )
        return items


def _split(cost: Money | None, parts: int) -> list[Money | None]:
    """A job's cost shared over its images, to the minor unit: the shares add up to the cost."""
    if cost is None or parts == 0:
        return [None] * parts
    base, extra = divmod(cost.amount_minor, parts)
    return [Money(base + (1 if index < extra else 0), cost.currency) for index in range(parts)]
