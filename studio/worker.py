"""The worker: runs queued jobs through their provider adapters, one small thread pool per process.

A dispatcher thread calls `run_once()` every poll tick (or as soon as
`notify()` says a job was created). `run_once()` claims every job that is due
right now, within each provider's in-flight limit and submit rate, and hands
each to the pool (or runs it inline when `threads=0`, which tests use with a
fake clock).

Per job: submit once; a synchronous vendor answers with the result, an
asynchronous one with a task id that is stored at once (status RUNNING) and
polled on the vendor's cadence with gentle backoff. Results are downloaded and
stored immediately, the cost is recorded, and the job's folder is sealed.

Nothing lives only in memory: the schedule is `next_attempt_at` in the store
and a claim is a lease there. If the process dies, another worker (or the
restarted one) takes over when the lease expires: a RUNNING job resumes
polling the same remote id; a job that died while being submitted is re-run
only when the vendor is synchronous (nothing was created remotely), otherwise
it fails with `interrupted_submit` so it is never sent twice.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from imaging.masks import vendor_mask_png
from providers.base import (
    EdgeGuide,
    GenerationRequest,
    OutputImage,
    ProviderAdapter,
    TaskFailure,
    TaskState,
    TaskUpdate,
)
from providers.errors import ProviderError, ProviderUnavailableError
from studio import pricing
from studio.artifacts import ArtifactError, Artifacts
from studio.input_links import InputLinkError, InputLinks, hosted_handles
from studio.jobs import BatchStatus, JobStatus, JobView
from studio.store import ClaimedJob, ClaimKind, NewOutput, Store, dumps_notes

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_POLL_FAILURES = 5
# The floor for a status-call interval: a configured 0.1 s is honoured, a zero cannot spin.
MIN_POLL_S = 0.05
MAX_POLL_S = 30.0
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
DOWNLOAD_LIMIT_BYTES = 64 * 1024 * 1024


def poll_delay(hint_s: float, elapsed_s: float) -> float:
    """Seconds until the next status call: the vendor's hint, stretched 1.5x per minute of waiting."""
    base = max(hint_s, MIN_POLL_S)
    stretched = base * 1.5 ** min(5, max(0, int(elapsed_s // 60)))
    return min(stretched, max(base, MAX_POLL_S))


def retry_delay(attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
    """Exponential backoff with jitter, never sooner than the vendor's Retry-After."""
    backoff = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1))
    # Jitter spreads retries from many jobs that failed together (e.g. one throttling burst).
    return max(retry_after_s or 0.0, backoff * rng.uniform(0.5, 1.0))


def is_synchronous(adapter: ProviderAdapter) -> bool:
    """An adapter that does not implement `poll` answers every submit with the final result."""
    return type(adapter).poll is ProviderAdapter.poll


class TokenBucket:
    """Submit-rate limit per provider on the injected clock: `rate` tokens per second, burst of max(1, rate)."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"submit rate must be positive, got {rate}")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self._updated: float | None = None

    def _refill(self, now: float) -> None:
        if self._updated is not None and now > self._updated:
            self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
        self._updated = now if self._updated is None else max(self._updated, now)

    def available(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= 1.0

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0


@dataclass
class _Run:
    """One claimed job being worked on; `status` follows what we have written to the store."""

    claim: ClaimedJob
    adapter: ProviderAdapter
    status: JobStatus
    attempts: int
    # Inputs published for this run (object keys), removed when the job ends or the submit fails.
    hosted: list[str] = field(default_factory=list)
    # Notes this run added (where inputs were hosted), merged into the job's notes when it ends.
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def job(self) -> JobView:
        return self.claim.job


class _JobProblem(Exception):
    """A failure we can explain to the user, raised inside a run and recorded on the job."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Worker:
    def __init__(
        self,
        store: Store,
        artifacts: Artifacts,
        adapters: Mapping[str, ProviderAdapter],
        *,
        clock: Callable[[], float] = time.time,
        owner: str | None = None,
        threads: int = 2,
        downloader: Callable[[str], bytes] | None = None,
        poll_tick_s: float = 0.25,
        lease_s: float = 60.0,
        rng: random.Random | None = None,
        prices: pricing.PriceOverrides | None = None,
        links: InputLinks | None = None,
    ) -> None:
        if threads < 0:
            raise ValueError(f"threads must be 0 (inline) or more, got {threads}")
        self.store = store
        self.artifacts = artifacts
        self.adapters = dict(adapters)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.threads = threads
        self.poll_tick_s = poll_tick_s
        self.lease_s = lease_s
        self._clock = clock
        self._download = downloader or http_download
        self._rng = rng or random.Random()
        self._prices = dict(prices or {})
        self.links = links or InputLinks(None)
        self._buckets = {key: TokenBucket(adapter.submit_qps) for key, adapter in self.adapters.items()}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._run_lock = threading.Lock()
        self._active_lock = threading.Lock()
        self._active: dict[str, ClaimedJob] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the dispatcher thread (and the pool); calling it again does nothing."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._release_dead_leases()
        self._stopping.clear()
        if self.threads > 0:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="studio-job")
        self._thread = threading.Thread(target=self._loop, name="studio-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop claiming and wait for jobs in progress, so no submit is cut off half way."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
            self._pool = None

    def _release_dead_leases(self) -> None:
        """Leases held by a process of this machine that no longer runs (killed, crashed) are
        released at once, so a restart resumes those jobs now instead of after the lease time."""
        host = socket.gethostname()
        for job_id, owner in self.store.held_leases():
            owner_host, _, rest = owner.partition(":")
            pid_text = rest.partition(":")[0]
            if owner_host != host or not pid_text.isdigit() or owner == self.owner:
                continue
            if not _process_alive(int(pid_text)):
                logger.info("job %s was held by a process that ended (%s); resuming it now", job_id, owner)
                self.store.release_lease(job_id, owner)

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def notify(self) -> None:
        """Wake the dispatcher now (a job was just created) instead of at the next tick."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
                self._renew_leases()
            except Exception:
                # The store may be briefly unavailable (disk full, locked too long): keep the loop alive.
                logger.exception("worker dispatcher iteration failed; retrying next tick")
            self._wake.wait(self._until_next_due())
            self._wake.clear()

    def _until_next_due(self) -> float:
        """Sleep until the earliest job falls due (a poll, a retry), at most one tick: a vendor slot
        that just freed up should not wait a whole tick to be noticed."""
        try:
            due = self.store.next_due_at(_at(self._clock()))
        except Exception:
            return self.poll_tick_s
        if due is None:
            return self.poll_tick_s
        return min(self.poll_tick_s, max(0.01, due.timestamp() - self._clock()))

    # ------------------------------------------------------------ dispatch
    def run_once(self) -> int:
        """Claim and start every job that is due now; returns how many were taken.

        Inline (`threads=0`) the jobs also finish before this returns. A job is
        taken at most once per call, so a fast poll cadence cannot spin here.
        """
        with self._run_lock:
            taken: set[str] = set()
            while not self._stopping.is_set():
                if self.threads > 0 and len(self._active) >= self.threads:
                    break
                now_s = self._clock()
                limits = {
                    key: adapter.max_in_flight
                    for key, adapter in self.adapters.items()
                    if self._buckets[key].available(now_s)
                }
                claim = self.store.claim_next(
                    self.owner, _at(now_s), self.lease_s, limits, recover_providers=list(self.adapters)
                )
                if claim is None:
                    break
                if claim.kind is ClaimKind.SUBMIT or (
                    claim.kind is ClaimKind.RECOVER_SUBMIT
                    and is_synchronous(self.adapters[claim.job.provider])
                ):
                    self._buckets[claim.job.provider].take(now_s)
                taken.add(claim.job.job_id)
                self._dispatch(claim)
            return len(taken)

    def _dispatch(self, claim: ClaimedJob) -> None:
        with self._active_lock:
            self._active[claim.job.job_id] = claim
        if self._pool is None:
            self._execute_and_release(claim)
            return
        self._pool.submit(self._execute_and_release, claim)

    def _execute_and_release(self, claim: ClaimedJob) -> None:
        try:
            self.execute(claim)
        finally:
            with self._active_lock:
                self._active.pop(claim.job.job_id, None)
            self._wake.set()

    def _renew_leases(self) -> None:
        now_s = self._clock()
        with self._active_lock:
            active = list(self._active.values())
        for claim in active:
            if not self.store.renew_lease(claim.job.job_id, self.owner, _at(now_s + self.lease_s)):
                # A job that ended, or handed its lease back after a status call, released it itself:
                # only another owner's name in the row means the job was taken over.
                holder = self.store.lease_owner(claim.job.job_id)
                if holder is not None and holder != self.owner:
                    logger.warning("lost the lease on job %s; another worker took it over", claim.job.job_id)

    # ------------------------------------------------------------ one job
    def execute(self, claim: ClaimedJob) -> None:
        """Do the claimed step of one job. Never raises: every outcome is written to the job."""
        adapter = self.adapters[claim.job.provider]
        run = _Run(claim, adapter, claim.job.status, claim.job.attempts)
        try:
            if claim.kind is ClaimKind.POLL:
                self._poll(run)
            elif claim.kind is ClaimKind.RECOVER_SUBMIT:
                self._recover(run)
            else:
                self._submit(run)
        except ProviderError as exc:
            self._provider_error(run, exc)
        except _JobProblem as problem:
            self._fail(run, problem.code, problem.message)
        except InputLinkError as problem:
            self._fail(run, problem.code, problem.message)
        except ArtifactError as exc:
            # A result we cannot decode or a disk we cannot write: the message says which.
            logger.warning("job %s: %s", claim.job.job_id, exc)
            self._fail(run, "output_not_stored", f"The result could not be stored: {exc}.")
        except Exception as exc:
            logger.exception(
                "job %s (%s) failed with an internal error", claim.job.job_id, claim.job.provider
            )
            self._fail(
                run,
                "internal_error",
                f"An internal error stopped this job ({type(exc).__name__}). "
                "Try again; if it keeps happening, report it with the app log.",
            )

    def _recover(self, run: _Run) -> None:
        job = run.job
        if job.remote_id:
            # The task id was stored, so the vendor has it: resume polling, never resubmit.
            lease = {"lease_owner": self.owner, "lease_expires_at": run.claim.lease_expires_at}
            if self.store.transition(
                job.job_id, {JobStatus.SUBMITTING}, JobStatus.RUNNING, owner=self.owner, **lease
            ):
                run.status = JobStatus.RUNNING
                self._poll(run)
        elif is_synchronous(run.adapter):
            # A synchronous call that died with us created nothing remotely: running it again is safe.
            logger.info("re-running job %s after an interrupted synchronous submit", job.job_id)
            run.attempts += 1
            self.store.update_leased(job.job_id, self.owner, JobStatus.SUBMITTING, attempts=run.attempts)
            self._submit(run)
        else:
            label = type(run.adapter).label
            started = job.started_at or job.created_at
            self._fail(
                run,
                "interrupted_submit",
                f"Backdrop Studio stopped while sending this job to {label}, so it cannot tell whether "
                f"{label} received it. Check the {label} console for a task created around "
                f"{started:%Y-%m-%d %H:%M} UTC before retrying, so you are not charged twice.",
            )

    def _submit(self, run: _Run) -> None:
        job = run.job
        if job.batch_id and self._held_by_batch(run):
            return
        request = self._linked(run, self._request(job))
        try:
            submitted = run.adapter.submit(request)
        except BaseException:
            # Whatever happens next (a retry publishes afresh), these links are of no more use.
            self.links.release(run.hosted)
            run.hosted.clear()
            raise
        update = submitted.update
        final = update is not None and update.state in (TaskState.SUCCEEDED, TaskState.FAILED)
        if submitted.remote_id:
            now_s = self._clock()
            keep = (
                {"lease_owner": self.owner, "lease_expires_at": run.claim.lease_expires_at} if final else {}
            )
            moved = self.store.transition(
                job.job_id,
                {JobStatus.SUBMITTING},
                JobStatus.RUNNING,
                owner=self.owner,
                remote_id=submitted.remote_id,
                next_attempt_at=_at(now_s + poll_delay(run.adapter.poll_interval_hint, 0)),
                poll_failures=0,
                error_code=None,
                error_message=None,
                **keep,
            )
            if not moved:
                logger.warning(
                    "job %s changed while submitting; remote task %s left to it",
                    job.job_id,
                    submitted.remote_id,
                )
                return
            run.status = JobStatus.RUNNING
        elif not final:
            raise _JobProblem(
                "unexpected_response",
                f"{type(run.adapter).label} accepted the job but returned neither a result nor a task id. "
                "Try again; if it keeps happening, check the provider's status page.",
            )
        if final and update is not None:
            self._finish(run, update)

    def _held_by_batch(self, run: _Run) -> bool:
        """True when the job's batch says not to send it now: paused, canceled, or its budget would
        be exceeded by this job's estimate (then the whole batch pauses, reason "budget")."""
        job = run.job
        batch = self.store.get_batch(job.batch_id or "")
        if batch is None:
            return False
        release = {"lease_owner": None, "lease_expires_at": None, "attempts": max(0, run.attempts - 1)}
        if batch.status is BatchStatus.CANCELED:
            self.store.transition(
                job.job_id,
                {JobStatus.SUBMITTING},
                JobStatus.CANCELED,
                owner=self.owner,
                error_code="canceled",
                error_message="Canceled with its batch before it was sent.",
                **release,
            )
            return True
        over_budget = False
        estimate, budget = job.cost_estimate, batch.budget
        if (
            batch.status is not BatchStatus.PAUSED
            and estimate
            and budget
            and estimate.currency == budget.currency
        ):
            committed = self.store.batch_spend(batch.batch_id, budget.currency, exclude_job=job.job_id)
            over_budget = committed + estimate.amount_minor > budget.amount_minor
        if batch.status is BatchStatus.PAUSED or over_budget:
            self.store.transition(
                job.job_id, {JobStatus.SUBMITTING}, JobStatus.PAUSED, owner=self.owner, **release
            )
            if over_budget:
                logger.info("batch %s paused: job %s would exceed its budget", batch.batch_id, job.job_id)
                self.store.set_batch_status(batch.batch_id, BatchStatus.PAUSED, "budget")
            return True
        return False

    def _linked(self, run: _Run, request: GenerationRequest) -> GenerationRequest:
        """The request with links to its inputs when the vendor reads them from URLs."""
        limits = type(run.adapter).limits.get(run.job.workflow)
        if limits is None:
            return request
        if not limits.needs_urls:
            if request.mask is not None and limits.mask_mode in ("RGB", "RGBA"):
                # The vendor gets the mask in another form (DashScope: the base image's alpha);
                # keep that form with the job so History shows what was actually sent.
                self._keep_sent_mask(run, vendor_mask_png(request.mask, request.image, limits.mask_mode))
            return request
        stale = hosted_handles(run.job.notes)
        if stale:
            # Left by an attempt that died before it could clean up: that call is over either way.
            self.links.release(stale)
        published = self.links.publish(request, limits, type(run.adapter).label)
        run.hosted = list(published.handles)
        run.notes = dict(published.notes)
        fields: dict[str, Any] = {"notes_json": dumps_notes({**run.job.notes, **run.notes})}
        if published.sent_mask is not None:
            # History shows exactly the mask the vendor was given.
            fields["used_mask_path"] = self.artifacts.save_file(
                run.job.job_id, run.job.created_at, "used_mask.png", published.sent_mask
            )
        # Recorded before the vendor call, so a restart still knows what to remove.
        self.store.update_leased(run.job.job_id, self.owner, run.status, **fields)
        return published.request

    def _keep_sent_mask(self, run: _Run, mask_png: bytes) -> None:
        path = self.artifacts.save_file(run.job.job_id, run.job.created_at, "used_mask.png", mask_png)
        self.store.update_leased(run.job.job_id, self.owner, run.status, used_mask_path=path)

    def _release_inputs(self, run: _Run) -> None:
        handles = dict.fromkeys([*hosted_handles(run.job.notes), *run.hosted])
        if handles:
            self.links.release(handles)
            run.hosted.clear()

    def _poll(self, run: _Run) -> None:
        job = run.job
        update = run.adapter.poll(job.remote_id or "")
        if update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            self._finish(run, update)
            return
        now_s = self._clock()
        started = (job.started_at or job.created_at).timestamp()
        self.store.update_leased(
            job.job_id,
            self.owner,
            run.status,
            next_attempt_at=_at(now_s + poll_delay(run.adapter.poll_interval_hint, now_s - started)),
            poll_failures=0,
            lease_owner=None,
            lease_expires_at=None,
        )

    def _finish(self, run: _Run, update: TaskUpdate) -> None:
        job = run.job
        self._release_inputs(run)
        notes = {**job.notes, **run.notes, **dict(update.notes)}
        if update.state is TaskState.FAILED:
            failure = update.failure or TaskFailure(
                "provider_failed", "The provider reported the task as failed without a reason. Try again."
            )
            self._fail(run, failure.code, failure.message, notes_json=dumps_notes(notes))
            return
        if not update.outputs:
            raise _JobProblem(
                "no_outputs",
                f"{type(run.adapter).label} reported success but sent no images. Try again; "
                "if it keeps happening, check the provider's console.",
            )
        outputs = [self._store_output(job, index, output) for index, output in enumerate(update.outputs, 1)]
        used_mask = update.artifacts.get("mask")
        fields: dict[str, Any] = {}
        if used_mask:
            fields["used_mask_path"] = self.artifacts.save_file(
                job.job_id, job.created_at, "used_mask.png", used_mask
            )
        billed = update.billed_images if update.billed_images is not None else len(outputs)
        cost = pricing.cost_of(type(run.adapter), job.workflow, billed, self._prices)
        done = self.store.finish(
            job.job_id,
            {run.status},
            JobStatus.SUCCEEDED,
            outputs,
            owner=self.owner,
            images=len(outputs),
            cost_minor=cost.amount_minor if cost else None,
            cost_currency=cost.currency if cost else None,
            notes_json=dumps_notes(notes),
            error_code=None,
            error_message=None,
            **fields,
        )
        if done:
            self.artifacts.seal(job.job_id, job.created_at)
        else:
            logger.warning("job %s was changed by someone else; its results were not recorded", job.job_id)

    def _store_output(self, job: JobView, index: int, output: OutputImage) -> NewOutput:
        data = output.data
        if data is None:
            if not output.url:
                raise _JobProblem(
                    "unexpected_response", "The provider sent a result with neither image data nor a link."
                )
            # Vendor links expire (1 h to 24 h): fetch now, keep the URL only for reference.
            data = self._download(output.url)
        saved = self.artifacts.save_output(job.job_id, job.created_at, index, data)
        return NewOutput(
            index=index,
            path=saved.path,
            width=saved.width,
            height=saved.height,
            seed=output.seed,
            thumbnail_path=saved.thumbnail_path,
            source_url=output.url,
        )

    def _request(self, job: JobView) -> GenerationRequest:
        try:
            image = self.artifacts.read(job.input_path or "")
            mask = self.artifacts.read(job.mask_path) if job.mask_path else None
            reference = self.artifacts.read(job.reference_path) if job.reference_path else None
            guides = tuple(
                EdgeGuide(item["layer"], self.artifacts.read(item["path"]), str(item.get("prompt") or ""))
                for item in job.notes.get("edge_guides") or []
            )
        except ArtifactError as exc:
            raise _JobProblem(
                "input_missing", f"This job's input files are gone ({exc}). Submit the job again."
            ) from None
        return GenerationRequest(
            operation=job.workflow,
            image=image,
            mask=mask,
            prompt=job.prompt,
            negative_prompt=job.negative_prompt,
            scene_id=job.scene_id,
            count=job.count,
            size=job.size,
            seed=job.seed,
            reference_image=reference,
            product_title=job.product_title,
            params=dict(job.params),
            guides=guides,
        )

    # ------------------------------------------------------------ failures
    def _provider_error(self, run: _Run, exc: ProviderError) -> None:
        job = run.job
        now_s = self._clock()
        if run.status is JobStatus.RUNNING:
            # The vendor has the task: a failed status call is retried by polling again, never by resubmitting.
            failures = run.claim.poll_failures + 1
            if exc.retryable and failures < MAX_POLL_FAILURES:
                delay = max(
                    poll_delay(run.adapter.poll_interval_hint, 0),
                    retry_delay(failures, exc.retry_after_s, self._rng),
                )
                self.store.update_leased(
                    job.job_id,
                    self.owner,
                    JobStatus.RUNNING,
                    poll_failures=failures,
                    next_attempt_at=_at(now_s + delay),
                    lease_owner=None,
                    lease_expires_at=None,
                )
                return
            self._fail(run, exc.code, _gave_up(exc, failures) if exc.retryable else exc.user_message)
            return
        attempts = run.attempts
        if exc.retryable and attempts < MAX_ATTEMPTS:
            delay = retry_delay(attempts, exc.retry_after_s, self._rng)
            logger.info(
                "job %s: %s is retryable; attempt %d again in %.1fs",
                job.job_id,
                exc.code,
                attempts + 1,
                delay,
            )
            self.store.transition(
                job.job_id,
                {JobStatus.SUBMITTING},
                JobStatus.QUEUED,
                owner=self.owner,
                next_attempt_at=_at(now_s + delay),
                error_code=exc.code,
                error_message=exc.user_message,
            )
            return
        self._fail(run, exc.code, _gave_up(exc, attempts) if exc.retryable else exc.user_message)

    def _fail(self, run: _Run, code: str, message: str, **fields: Any) -> None:
        self._release_inputs(run)
        moved = self.store.transition(
            run.job.job_id,
            {run.status},
            JobStatus.FAILED,
            owner=self.owner,
            error_code=code,
            error_message=message,
            **fields,
        )
        if not moved:
            logger.warning(
                "job %s could not be marked failed (%s); it changed meanwhile", run.job.job_id, code
            )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _gave_up(exc: ProviderError, attempts: int) -> str:
    return f"{exc.user_message} (gave up after {attempts} attempts)"


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def http_download(url: str) -> bytes:
    """Fetch a result image from a vendor URL; network trouble becomes a retryable ProviderError."""
    import requests  # type: ignore[import-untyped, unused-ignore]

    try:
        with requests.get(url, timeout=(10, 60), stream=True) as response:
            response.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=256 * 1024):
                size += len(chunk)
                if size > DOWNLOAD_LIMIT_BYTES:
                    raise ProviderUnavailableError(
                        "download",
                        "too_large",
                        "A result image was larger than 64 MB; it was not stored.",
                        retryable=False,
                    )
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.RequestException as exc:
        status = exc.response.status_code if exc.response is not None else None
        raise ProviderUnavailableError(
            "download",
            "download_failed",
            f"Could not download a result image ({type(exc).__name__}{f', HTTP {status}' if status else ''}); "
            "it will be tried again.",
        ) from None
