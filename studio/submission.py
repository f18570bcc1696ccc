"""Job submission: a checked request's inputs written to its folder, its QUEUED row created, the
worker woken; comparisons over several providers; waiting for a job to finish. Batch items keep
their source files instead (`persist_source`), prepared by the worker at their turn."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from providers.base import Operation
from providers.local import LocalEngine
from studio.artifacts import Artifacts
from studio.backdrop_library import BackdropLibrary
from studio.backdrop_match import BackdropError, BackdropMatch
from studio.catalogue import Catalogue
from studio.errors import StudioInputError
from studio.inputs import Inputs
from studio.jobs import JobView
from studio.people import LOCAL_KEY
from studio.store import NewJob, Store
from studio.validation import JobChecker
from studio.values import CheckedJob, ComparisonEntry, JobRequest
from studio.worker import Worker

WAIT_POLL_S = 0.2


class JobSubmitter:
    def __init__(
        self,
        *,
        store: Store,
        artifacts: Artifacts,
        worker: Worker,
        catalogue: Catalogue,
        inputs: Inputs,
        checker: JobChecker,
        backdrops: BackdropLibrary,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._worker = worker
        self._catalogue = catalogue
        self._inputs = inputs
        self._checker = checker
        self._backdrops = backdrops

    def submit_job(self, request: JobRequest, *, by: str = LOCAL_KEY) -> str:
        """Check everything, persist the inputs and a QUEUED row made by `by` (a person key), wake the
        worker; returns the job id.

        Every check runs before anything is written, so a rejected request
        leaves no job behind.
        """
        new = self.persist_checked(request, self._checker.check_job(request), by=by)
        try:
            self._store.create_job(new)
        except Exception:
            self._artifacts.remove_unfinished(new.job_id, new.created_at or self._store.now())
            raise
        self._worker.notify()
        return new.job_id

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
        """Write a checked job's inputs to its folder and describe its row (not yet in the store);
        `by` is who makes it (a person key; None: "local")."""
        cls = type(self._catalogue.adapter(checked.provider))
        limits = self._catalogue.operation_limits(cls, checked.workflow)
        mask_png = checked.mask_png
        notes: dict[str, Any] = {}
        if mask_png is None and limits.needs_cutout and not request.image.has_alpha:
            # The vendor needs the product cut out: the automatic cutout the page previewed,
            # stored with the job so History shows exactly what was sent, and by what.
            auto = self._inputs.auto_mask(request.image, request.cutout_quality)
            mask_png, notes = auto.mask_png, dict(auto.notes)
        job_id = uuid.uuid4().hex
        created = created or self._store.now()
        try:
            if checked.backdrop is not None:
                # First: a backdrop whose photo is gone is refused before any of the job's files exist.
                notes["backdrop_plate"] = self._save_plate(job_id, created, checked.backdrop)
            saved = self._artifacts.save_inputs(
                job_id, created, request.image.png, mask_png, checked.reference_png
            )
            if request.guides:
                notes["edge_guides"] = [
                    {
                        "layer": guide.layer,
                        "prompt": guide.prompt,
                        "path": self._artifacts.save_file(
                            job_id, created, f"guide_{number:02d}.png", guide.image
                        ),
                    }
                    for number, guide in enumerate(request.guides, 1)
                ]
        except Exception:
            # A full disk half-way through: no job has this folder yet, so none of it is kept.
            self._artifacts.remove_unfinished(job_id, created)
            raise
        return _new_job(
            request,
            checked,
            job_id,
            created,
            notes,
            provider=cls.key,
            input_path=saved.input_path,
            mask_path=saved.mask_path,
            reference_path=saved.reference_path,
            batch_id=batch_id,
            sku=sku,
            by=by,
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
        """A checked batch item whose photo (and mask) are still as the user gave them, (name, bytes):
        copied into the job's folder and noted "to prepare" (`studio.worker_prepare`); the worker
        decodes, fits, cuts out and re-encodes them just before the job's turn."""
        cls = type(self._catalogue.adapter(checked.provider))
        job_id = uuid.uuid4().hex
        created = created or self._store.now()
        notes: dict[str, Any] = {}
        try:
            if checked.backdrop is not None:
                notes["backdrop_plate"] = self._save_plate(job_id, created, checked.backdrop)
            source = self._artifacts.save_file(job_id, created, "source" + _suffix(image[0]), image[1])
            mask_source = (
                self._artifacts.save_file(job_id, created, "source_mask" + _suffix(mask[0]), mask[1])
                if mask is not None
                else None
            )
        except Exception:
            self._artifacts.remove_unfinished(job_id, created)
            raise
        notes["prepare"] = {
            "image": source,
            "mask": mask_source,
            "name": image[0],
            "fit": fit,
            "cutout_quality": request.cutout_quality,
        }
        return _new_job(
            request,
            checked,
            job_id,
            created,
            notes,
            provider=cls.key,
            input_path=source,
            batch_id=batch_id,
            sku=sku,
            by=by,
        )

    def _save_plate(self, job_id: str, created: datetime, chosen: BackdropMatch) -> dict[str, Any]:
        """A copy of the backdrop's photo with the job's inputs, and the record the worker reads
        (`studio.worker._plate`): deleting the library entry later cannot break this job."""
        entry = chosen.backdrop
        try:
            photo = self._backdrops.photo(entry)
        except BackdropError as exc:
            raise StudioInputError(exc.code, str(exc), exc.params) from None
        record: dict[str, Any] = {
            "path": self._artifacts.save_file(job_id, created, "backdrop.jpg", photo),
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
        *,
        by: str = LOCAL_KEY,
    ) -> list[ComparisonEntry]:
        """The same photo, mask and prompt on several providers at once, one job each, made by `by`.

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
                limits = self._catalogue.limits_for(key, workflow)
                mask = request.mask_png if limits.mask_mode is not None else None
                # Fitted for this vendor alone; the mask follows the photo, so the two still match.
                image, mask = self._inputs.fit_inputs(request.image, mask, key, workflow)
                wanted = request.count if request.count is not None else limits.default_count
                local = isinstance(self._catalogue.adapters.get(key), LocalEngine)
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
                entries.append(ComparisonEntry(key, job_id=self.submit_job(single, by=by)))
            except StudioInputError as exc:
                entries.append(ComparisonEntry(key, error=exc))
        return entries

    def wait_for_job(self, job_id: str, timeout_s: float | None = None) -> JobView:
        """Block until the job is finished (or `timeout_s` passes; then the pending view is returned)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            view = self._store.get_job(job_id)
            if view is None:
                raise StudioInputError(
                    "job_not_found", f"There is no job '{job_id}'. Check the id with `jobs list`."
                )
            if not view.is_pending or (deadline is not None and time.monotonic() >= deadline):
                return view
            if self._store.write_fault is not None:
                raise self._store.write_fault  # the job waits in the queue until there is room
            time.sleep(WAIT_POLL_S)


def _suffix(name: str) -> str:
    """A source file's suffix as a plain file name part (".jpg"), or "" when it has none usable."""
    match = re.search(r"\.([A-Za-z0-9]{1,5})$", name)
    return "." + match.group(1).lower() if match else ""


def _new_job(
    request: JobRequest,
    checked: CheckedJob,
    job_id: str,
    created: datetime,
    notes: dict[str, Any],
    *,
    provider: str,
    input_path: str,
    mask_path: str | None = None,
    reference_path: str | None = None,
    batch_id: str | None,
    sku: str | None,
    by: str | None,
) -> NewJob:
    """The row of a job whose files are in its folder (prepared, or still as the user gave them)."""
    return NewJob(
        job_id=job_id,
        workflow=checked.workflow,
        provider=provider,
        input_path=input_path,
        params=checked.params,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        scene_id=request.scene_id,
        product_title=checked.title,
        count=checked.count,
        size=checked.size,
        seed=request.seed,
        mask_path=mask_path,
        reference_path=reference_path,
        estimate=checked.estimate,
        source=request.source,
        batch_id=batch_id or request.batch_id,
        created_at=created,
        notes=notes,
        sku=sku,
        created_by=by or LOCAL_KEY,
    )
