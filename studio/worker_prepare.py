"""Batch items prepared just before their turn: decode, fit the vendor's limits, cut out, re-encode.

A batch plan reads each photo's header only (`studio.manifest`), and `Batches.start` copies
each item's source file into its job folder with a note, `notes["prepare"]`:

    {"image": <relative path of the source copy>, "mask": <relative path or None>,
     "name": <the file name it came with>, "fit": <downscale/re-encode to fit>,
     "cutout_quality": <"best" | "fast" | None>}

The worker makes the job's inputs from it when it claims the job (`Preparer.ready`, under the
job's lease), unless a background thread already did (`Preparer.enqueue`: a few jobs ahead of
the vendor work, so the vendor never waits for a cutout). A preparation done ahead is written to
the job folder and recorded as `notes["prepared"]` (input and mask paths, cutout notes, or the
reason it failed); `ready` then moves it into the job's columns. A photo that cannot be prepared
fails its job alone, with code `input_unprepared` and the reason, never the batch.

Nothing here changes the database schema: the state lives in the job's notes and its folder.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from studio.artifacts import ArtifactError, Artifacts
from studio.background import BackgroundLoop
from studio.catalogue import Catalogue
from studio.errors import StudioInputError
from studio.inputs import Inputs
from studio.jobs import JobStatus, JobView
from studio.store import Store, dumps_notes
from studio.worker_base import JobProblem

logger = logging.getLogger("studio.worker")

PREPARE_NOTE = "prepare"
PREPARED_NOTE = "prepared"
# Jobs prepared ahead of the worker and not yet claimed: enough to cover one vendor call.
DEFAULT_AHEAD = 3


def needs_preparing(job: JobView) -> bool:
    return isinstance(job.notes.get(PREPARE_NOTE), dict)


class Preparer:
    """Prepares batch items' inputs, at claim time or a few jobs ahead on a background thread."""

    def __init__(
        self,
        store: Store,
        artifacts: Artifacts,
        inputs: Inputs,
        catalogue: Catalogue,
        *,
        ahead: int = DEFAULT_AHEAD,
        background: bool = True,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._inputs = inputs
        self._catalogue = catalogue
        self._ahead = max(0, ahead)
        self._background = background and self._ahead > 0
        self._lock = threading.Lock()
        self._job_locks: dict[str, threading.Lock] = {}
        # job id -> what its preparation gave, until `ready` takes it.
        self._done: dict[str, dict[str, Any]] = {}
        self._queue: deque[str] = deque()
        self._seeded: set[str] = set()
        self._loop = BackgroundLoop("studio-prepare", self._next, self._prepare_ahead, idle=self._forget_gone)

    # ------------------------------------------------------------ the worker's side
    def ready(self, job: JobView, owner: str, status: JobStatus) -> JobView:
        """The claimed job with its prepared inputs in its row (prepared now unless done ahead).
        Raises the worker's job problem `input_unprepared` when the photo cannot be prepared."""
        if job.batch_id and job.batch_id not in self._seeded:
            self._seed(job.batch_id)
        record = self._prepared(job)
        with self._lock:
            self._done.pop(job.job_id, None)
            self._job_locks.pop(job.job_id, None)
        self._loop.nudge()  # one more may be prepared ahead now
        if "error" in record:
            raise JobProblem("input_unprepared", str(record.get("message") or record["error"]))
        notes = {k: v for k, v in job.notes.items() if k not in (PREPARE_NOTE, PREPARED_NOTE)}
        notes.update(record.get("notes") or {})
        fields: dict[str, Any] = {
            "input_path": record["input_path"],
            "mask_path": record.get("mask_path"),
            "notes_json": dumps_notes(notes),
        }
        if not self._store.update_leased(job.job_id, owner, status, **fields):
            logger.warning("job %s changed while its inputs were prepared", job.job_id)
        mask = record.get("mask_path")
        return replace(
            job,
            input_path=str(self._artifacts.absolute(record["input_path"])),
            mask_path=str(self._artifacts.absolute(mask)) if mask else None,
            notes=notes,
        )

    # ------------------------------------------------------------ ahead of the worker
    def enqueue(self, batch_id: str, job_ids: Iterable[str]) -> None:
        """Prepare these jobs of `batch_id` (in order) a few ahead of the worker, in the background."""
        self._seeded.add(batch_id)
        if not self._background:
            return
        with self._lock:
            self._queue.extend(job_ids)
        self._loop.wake()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._loop.stop(timeout_s)

    def _seed(self, batch_id: str) -> None:
        """A batch this process did not start (a resume, a restart): its unprepared queued jobs."""
        if not self._background:
            self._seeded.add(batch_id)
            return
        waiting = [
            job.job_id
            for job in self._store.batch_jobs(batch_id)
            if job.status is JobStatus.QUEUED and needs_preparing(job) and PREPARED_NOTE not in job.notes
        ]
        self.enqueue(batch_id, waiting)

    def _prepare_ahead(self, job_id: str) -> None:
        try:
            job = self._store.get_job(job_id)
            if job is not None and job.status is JobStatus.QUEUED and needs_preparing(job):
                self._prepared(job)
        except Exception:
            logger.exception("preparing job %s ahead failed; it is prepared when claimed", job_id)

    def _forget_gone(self) -> None:
        """Jobs prepared ahead that will not be claimed (canceled, deleted) stop counting as ahead."""
        with self._lock:
            waiting = list(self._done)
        for job_id in waiting:
            job = self._store.get_job(job_id)
            if job is None or job.status not in (JobStatus.QUEUED, JobStatus.SUBMITTING):
                with self._lock:
                    self._done.pop(job_id, None)
                    self._job_locks.pop(job_id, None)

    def _next(self) -> str | None:
        with self._lock:
            if len(self._done) >= self._ahead:
                return None
            while self._queue:
                job_id = self._queue.popleft()
                if job_id not in self._done:
                    return job_id
        return None

    # ------------------------------------------------------------ the work
    def _prepared(self, job: JobView) -> dict[str, Any]:
        with self._lock:
            job_lock = self._job_locks.setdefault(job.job_id, threading.Lock())
        with job_lock:
            with self._lock:
                found = self._done.get(job.job_id)
            if found is not None:
                return found
            earlier = job.notes.get(PREPARED_NOTE)
            if isinstance(earlier, dict):
                record: dict[str, Any] = earlier
            else:
                record = self._prepare(job)
                self._store.add_note(job.job_id, PREPARED_NOTE, record)
            with self._lock:
                self._done[job.job_id] = record
            return record

    def _prepare(self, job: JobView) -> dict[str, Any]:
        """The job's inputs made from its source files, as `submit_job` would have made them."""
        spec: dict[str, Any] = job.notes[PREPARE_NOTE]
        inputs = self._inputs
        try:
            image = inputs.prepare_image(self._artifacts.read(spec["image"]), str(spec.get("name") or ""))
            mask = self._artifacts.read(spec["mask"]) if spec.get("mask") else None
            limits = self._catalogue.limits_for(job.provider, job.workflow)
            if spec.get("fit"):
                image, mask_png = inputs.fit_inputs(image, mask, job.provider, job.workflow)
            else:
                mask_png = inputs.prepare_mask(mask, image) if mask is not None else None
            fit = inputs.check_image_fit(
                image, job.provider, job.workflow, mask_png if limits.mask_mode is not None else None
            )
            if fit.problems:
                raise fit.problems[0]
            notes: dict[str, Any] = {}
            if mask_png is None and limits.needs_cutout and not image.has_alpha:
                auto = inputs.auto_mask(image, spec.get("cutout_quality"))
                mask_png, notes = auto.mask_png, dict(auto.notes)
            saved = self._artifacts.save_inputs(job.job_id, job.created_at, image.png, mask_png)
        except StudioInputError as exc:
            return {"error": exc.code, "message": _reason(spec, str(exc))}
        except ArtifactError as exc:
            return {"error": "input_missing", "message": _reason(spec, f"its file is gone ({exc})")}
        return {"input_path": saved.input_path, "mask_path": saved.mask_path, "notes": notes}


def _reason(spec: dict[str, Any], detail: str) -> str:
    name = str(spec.get("name") or "the photo")
    return f"{name}: {detail.rstrip('.')}. Fix the file and retry the item."
