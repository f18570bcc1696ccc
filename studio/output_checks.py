"""Every output checked against its input product as it arrives (issue 17).

`OutputChecker.check_job` runs `imaging.fidelity.check_product` on each stored output of a
finished job: the input photo (or cut-out) and the mask the job used against the result,
with the fast segmentation model finding the product in the result and tesseract reading
printed text when it is installed. What it finds is stored per output
(`Store.set_output_checks`): Review shows it as badges, `jobs show --json` prints it. When
the job's batch asks for it (`notes["reject_flagged"]`), a flagged image nobody reviewed
yet is rejected, with `decided_by` naming the check.

`CheckQueue` runs the checks on a background thread of the worker's process, so a check
(0.2-1 s of CPU) never delays a vendor call; `sweep` picks up outputs a stopped process
left unchecked. A check that fails (an unreadable file, a bug) is logged and recorded as
`{"error": ...}` with no flags: it never fails the job or loses its images.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from imaging.cutout import Segmenter
from imaging.fidelity import FidelityThresholds, ProductCheck, ProductSegmenter, TextReader, check_product
from studio.artifacts import Artifacts
from studio.background import BackgroundLoop
from studio.check_settings import THRESHOLDS, CheckSettings
from studio.jobs import JobOutput, JobStatus, JobView
from studio.store import Store
from studio.store_checks import CHECK_DECIDER

logger = logging.getLogger("studio.checks")

CHECK_VERSION = 1
# The queue entry that asks for a sweep (no job id has this form), and how much one sweep takes.
_SWEEP = "<sweep>"
_SWEEP_LIMIT = 200


def thresholds_of(settings: CheckSettings) -> FidelityThresholds:
    """The defaults with the thresholds the settings set."""
    overrides: dict[str, Any] = dict(settings.thresholds)
    return dataclasses.replace(FidelityThresholds(), **overrides)


def describe_settings(settings: CheckSettings) -> dict[str, Any]:
    """What the settings page and `python -m studio inspect --json` show."""
    thresholds = thresholds_of(settings)
    return {
        "enabled": settings.enabled,
        "ocr": settings.ocr,
        **{name: getattr(thresholds, name) for name in THRESHOLDS},
    }


def product_segmenter(segmenter: Segmenter) -> ProductSegmenter:
    """A cutout model as the check's segmenter: RGB -> product alpha (uint8, same size)."""

    def segment(rgb: np.ndarray) -> np.ndarray:
        probability = segmenter.predict(np.ascontiguousarray(rgb[..., :3]))
        return np.clip(probability * 255.0 + 0.5, 0, 255).astype(np.uint8)

    return segment


def read_rgb(data: bytes, *, keep_alpha: bool = False) -> np.ndarray:
    """Decoded pixels, EXIF orientation applied: RGB, or RGBA when `keep_alpha` and the file has alpha."""
    from PIL import ImageOps  # noqa: PLC0415 (Pillow's submodule, only needed here)

    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        mode = "RGBA" if keep_alpha and has_alpha else "RGB"
        return np.asarray(image.convert(mode))


def read_mask(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as opened:
        return np.asarray(opened.convert("L"))


class OutputChecker:
    """Checks a job's outputs against its input and records what it found."""

    def __init__(
        self,
        store: Store,
        artifacts: Artifacts,
        settings: CheckSettings,
        *,
        segmenter: Callable[[], Segmenter | None] = lambda: None,
        text_reader: Callable[[], TextReader | None] = lambda: None,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._settings = settings
        self._thresholds = thresholds_of(settings)
        self._segmenter_source = segmenter
        self._text_reader_source = text_reader
        self._lock = threading.Lock()
        self._tools_lock = threading.Lock()
        self._job_locks: dict[str, threading.Lock] = {}
        self._loaded = False
        self._segment: ProductSegmenter | None = None
        self._read_text: TextReader | None = None

    @property
    def enabled(self) -> bool:
        return self._settings.enabled

    def _tools(self) -> tuple[ProductSegmenter | None, TextReader | None]:
        with self._tools_lock:
            if not self._loaded:
                segmenter = self._segmenter_source()
                self._segment = product_segmenter(segmenter) if segmenter is not None else None
                self._read_text = self._text_reader_source() if self._settings.ocr else None
                self._loaded = True
            return self._segment, self._read_text

    def check_job(self, job_id: str) -> int:
        """Check every unchecked output of a finished job; returns how many were checked.
        A job being checked by another thread (the queue, the CLI) is waited for, not checked twice."""
        with self._lock:
            job_lock = self._job_locks.setdefault(job_id, threading.Lock())
        try:
            with job_lock:
                return self._check_job(job_id)
        finally:
            with self._lock:
                self._job_locks.pop(job_id, None)

    def _check_job(self, job_id: str) -> int:
        job = self._store.get_job(job_id)
        if job is None or job.status is not JobStatus.SUCCEEDED or not job.input_path:
            return 0
        checked = 0
        for output in job.outputs:
            if output.check_flags is not None:
                continue
            self.check_output(job, output)
            checked += 1
        return checked

    def check_output(self, job: JobView, output: JobOutput) -> dict[str, Any]:
        """Check one output now and record it; returns what was recorded."""
        started = time.perf_counter()
        try:
            result = self._product_check(job, output)
        except Exception as exc:  # a check must never fail a job or lose its images
            logger.exception("checking output %s of job %s failed", output.index, job.job_id)
            record: dict[str, Any] = {
                "version": CHECK_VERSION,
                "error": f"{type(exc).__name__}: {exc}"[:300],
                "seconds": round(time.perf_counter() - started, 3),
            }
            self._store.set_output_checks(job.job_id, output.index, record, ())
            return record
        record = {"version": CHECK_VERSION, "product": result.as_json()}
        self._store.set_output_checks(job.job_id, output.index, record, result.flags)
        if result.flags and self._rejects_flagged(job):
            self._store.reject_unreviewed(job.job_id, output.index, CHECK_DECIDER)
        return record

    def _product_check(self, job: JobView, output: JobOutput) -> ProductCheck:
        assert job.input_path is not None
        original = read_rgb(self._artifacts.read(job.input_path), keep_alpha=True)
        mask = None
        for path in (job.mask_path, job.used_mask_path):
            if path:
                candidate = read_mask(self._artifacts.read(path))
                if candidate.shape == original.shape[:2]:
                    mask = candidate
                    break
        result = read_rgb(self._artifacts.read(output.path))
        segment, read_text = self._tools()
        return check_product(
            original,
            result,
            original_mask=mask,
            segment=segment,
            read_text=read_text,
            thresholds=self._thresholds,
        )

    def _rejects_flagged(self, job: JobView) -> bool:
        if not job.batch_id:
            return False
        batch = self._store.get_batch(job.batch_id)
        return batch is not None and batch.rejects_flagged

    def sweep(self, limit: int = 50, batch_id: str | None = None) -> int:
        """Check outputs left unchecked (a process stopped before it got to them)."""
        done = 0
        for job_id in dict.fromkeys(job for job, _ in self._store.unchecked_outputs(limit, batch_id)):
            done += self.check_job(job_id)
        return done


class CheckQueue:
    """Runs `OutputChecker.check_job` for finished jobs on one background thread, at a lower
    CPU priority than the worker's other threads."""

    def __init__(self, checker: OutputChecker) -> None:
        self._checker = checker
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._loop = BackgroundLoop("studio-checks", self._next, self._check, on_start=lower_thread_priority)

    def enqueue(self, job_id: str) -> None:
        if not self._checker.enabled:
            return
        with self._lock:
            self._queue.append(job_id)
            self._idle.clear()
        self._loop.wake()

    def sweep_soon(self) -> None:
        """Check, on the queue's thread, outputs an earlier process left unchecked."""
        self.enqueue(_SWEEP)

    def drain(self, timeout_s: float) -> bool:
        """Wait until every queued check is done (the CLI, before it prints its summary)."""
        return self._idle.wait(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._loop.stop(timeout_s)

    def _next(self) -> str | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            self._idle.set()  # the last one taken is done: `_check` returned before this call
            return None

    def _check(self, job_id: str) -> None:
        try:
            if job_id == _SWEEP:
                self._checker.sweep(limit=_SWEEP_LIMIT)
            else:
                self._checker.check_job(job_id)
        except Exception:
            logger.exception("checking job %s failed", job_id)


# How much lower than the worker's other threads the checks run (added niceness; at most 19): a check is
# never urgent, a vendor hand-off or a batch item's cutout is.
CHECK_NICENESS = 10


def lower_thread_priority() -> None:
    """Lower the calling thread's CPU priority where the system allows it (Linux: niceness is per
    thread, and tesseract started from it inherits it). Elsewhere the checks simply share."""
    try:
        thread = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, current + CHECK_NICENESS))
    except (AttributeError, OSError):
        pass
