"""The worker: runs queued jobs through their provider adapters, one small thread pool per process.

A dispatcher thread calls `run_once()` every poll tick (or as soon as
`notify()` says a job was created). `run_once()` claims every job that is due
right now, within each provider's in-flight limit and submit rate, and hands
each to the pool (or runs it inline when `threads=0`, which tests use with a
fake clock).

Per job: submit once; a synchronous vendor answers with the result, an
asynchronous one with a task id that is stored at once (status RUNNING) and
polled on the vendor's cadence with gentle backoff.

Money first: the moment a vendor answers with a result, the job records the
vendor's task or request id and the cost, keeps any result bytes it was given
on disk, and moves to DOWNLOADING in one write. From then on the vendor is
never called again for that job: only the download of its result links is
retried, with backoff, for as long as the vendor says the links live
(`ProviderAdapter.result_ttl_s`). When a link dies first, the job fails as
"billed, result lost" with its cost kept. A status call that fails or answers
nonsense is retried too: the task at the vendor is not lost because one answer was.

Nothing lives only in memory: the schedule is `next_attempt_at` in the store
and a claim is a lease there. If the process dies, another worker (or the
restarted one) takes over when the lease expires: a RUNNING job resumes
polling the same remote id, a DOWNLOADING job resumes its downloads; a job that
died while being submitted is re-run only when that costs nothing (the local
engine), otherwise it fails with `interrupted_submit` so it is never paid twice.
"""

from __future__ import annotations

import dataclasses
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
    BackdropPlate,
    EdgeGuide,
    GenerationRequest,
    Money,
    Operation,
    ProviderAdapter,
    Submitted,
    TaskFailure,
    TaskState,
    TaskUpdate,
)
from providers.errors import ProviderError, UnexpectedResponseError
from providers.fetch import FetchPolicy, ResultFetcher
from studio import pricing
from studio.artifacts import ArtifactError, Artifacts
from studio.input_links import InputLinkError, InputLinks, hosted_handles
from studio.jobs import RESULT_NOTE, BatchStatus, JobStatus, JobView
from studio.pacing import TokenBucket, poll_delay, retry_delay
from studio.store import ClaimedJob, ClaimKind, NewOutput, Store, dumps_notes

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Status calls that fail in a row before a task is given up: with backoff capped at 5 minutes,
# 20 failures span about an hour, so a vendor outage does not orphan tasks we are paying for.
MAX_POLL_FAILURES = 20
# How long a result link is tried when the vendor does not say how long its links live.
DEFAULT_RESULT_TTL_S = 3600.0


def is_synchronous(adapter: ProviderAdapter) -> bool:
    """An adapter that does not implement `poll` answers every submit with the final result."""
    return type(adapter).poll is ProviderAdapter.poll


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
        # Result links are fetched through the guarded session: public addresses only by default.
        self._download = downloader or ResultFetcher(FetchPolicy())
        self._rng = rng or random.Random()
        self._prices = dict(prices or {})
        self.links = links or InputLinks(None)
        self._buckets = {key: TokenBucket(adapter.submit_qps) for key, adapter in self.adapters.items()}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._run_lock = threading.Lock()
        self._active_lock = threading.Lock()
        self._active: dict[str, ClaimedJob] = {}
        # Units of work in the pool (one job, or one batch submit carrying several jobs).
        self._units = 0
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
            # Work on tasks already at the vendor first (status calls, downloads, recovery), then new
            # submits: a slot a finished task frees is then seen by this round's submits, which lets a
            # vendor that takes batches get full calls instead of one job per freed slot.
            for new_work in (False, True):
                while not self._stopping.is_set():
                    if self.threads > 0 and self._units >= self.threads:
                        break
                    claim = self._claim(new_work)
                    if claim is None:
                        break
                    taken.add(claim.job.job_id)
                    adapter = self.adapters[claim.job.provider]
                    if claim.kind is ClaimKind.SUBMIT and adapter.max_batch_submit > 1:
                        # The vendor takes several jobs per call: fill this call with what else is
                        # due, so a batch spends one submit (of its QPS) per call, not per job.
                        group = [claim, *self._claim_companions(claim, adapter, self._clock())]
                        taken.update(member.job.job_id for member in group)
                        self._dispatch(group)
                    else:
                        self._dispatch([claim])
            return len(taken)

    def _claim(self, new_work: bool) -> ClaimedJob | None:
        """The next due job: a queued one within its vendor's limits (`new_work`), else a task the
        vendor already has (poll, download) or one a dead worker left (recovery)."""
        now_s = self._clock()
        if new_work:
            limits = {
                key: _in_flight_limit(adapter)
                for key, adapter in self.adapters.items()
                if self._buckets[key].available(now_s)
            }
            if not limits:
                return None
            claim = self.store.claim_next(self.owner, _at(now_s), self.lease_s, limits, recover_providers=[])
        else:
            claim = self.store.claim_next(
                self.owner, _at(now_s), self.lease_s, {}, recover_providers=list(self.adapters)
            )
        if claim is not None and (
            claim.kind is ClaimKind.SUBMIT
            or (claim.kind is ClaimKind.RECOVER_SUBMIT and is_synchronous(self.adapters[claim.job.provider]))
        ):
            self._buckets[claim.job.provider].take(now_s)
        return claim

    def _claim_companions(
        self, first: ClaimedJob, adapter: ProviderAdapter, now_s: float
    ) -> list[ClaimedJob]:
        """More queued jobs of `first`'s provider and workflow for the same submit call."""
        companions: list[ClaimedJob] = []
        key = first.job.provider
        while len(companions) + 1 < adapter.max_batch_submit:
            extra = self.store.claim_next(
                self.owner, _at(now_s), self.lease_s, {key: _in_flight_limit(adapter)}, recover_providers=[]
            )
            if extra is None:
                break
            if extra.job.workflow != first.job.workflow:
                self._dispatch([extra])  # another operation goes in a call of its own
                continue
            companions.append(extra)
        return companions

    def _dispatch(self, claims: list[ClaimedJob]) -> None:
        with self._active_lock:
            for claim in claims:
                self._active[claim.job.job_id] = claim
            self._units += 1
        if self._pool is None:
            self._execute_and_release(claims)
            return
        self._pool.submit(self._execute_and_release, claims)

    def _execute_and_release(self, claims: list[ClaimedJob]) -> None:
        try:
            if len(claims) == 1:
                self.execute(claims[0])
            else:
                self.execute_batch(claims)
        finally:
            with self._active_lock:
                for claim in claims:
                    self._active.pop(claim.job.job_id, None)
                self._units -= 1
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
            elif claim.kind is ClaimKind.DOWNLOAD:
                self._download_results(run, dict(run.job.notes))
            elif claim.kind is ClaimKind.RECOVER_SUBMIT:
                self._recover(run)
            else:
                self._submit(run)
        except Exception as exc:
            self._handle(run, exc)

    def execute_batch(self, claims: list[ClaimedJob]) -> None:
        """Submit several queued jobs of one provider in one vendor call (`submit_batch`). Each job
        keeps its own remote id, state, cost and failures. Never raises, like `execute`."""
        adapter = self.adapters[claims[0].job.provider]
        runs: list[_Run] = []
        requests: list[GenerationRequest] = []
        for claim in claims:
            run = _Run(claim, adapter, claim.job.status, claim.job.attempts)
            try:
                if claim.job.batch_id and self._held_by_batch(run):
                    continue
                requests.append(self._linked(run, self._request(run.job)))
                runs.append(run)
            except Exception as exc:
                self._handle(run, exc)
        if not runs:
            return
        try:
            answers = adapter.submit_batch(requests)
        except BaseException as exc:
            for run in runs:
                self.links.release(run.hosted)
                run.hosted.clear()
            if not isinstance(exc, Exception):
                raise
            for run in runs:
                self._handle(run, exc)
            return
        for run, answer in zip(runs, answers, strict=True):
            try:
                if isinstance(answer, ProviderError):
                    self.links.release(run.hosted)
                    run.hosted.clear()
                    raise answer
                self._submitted(run, answer)
            except Exception as exc:
                self._handle(run, exc)

    def _handle(self, run: _Run, exc: Exception) -> None:
        """Record what stopped a job's step: retry it, or fail it with a message a user can act on."""
        job = run.claim.job
        if isinstance(exc, ProviderError):
            self._provider_error(run, exc)
        elif isinstance(exc, _JobProblem | InputLinkError):
            self._fail(run, exc.code, exc.message)
        elif isinstance(exc, ArtifactError):
            # A result we cannot decode or a disk we cannot write: the message says which.
            logger.warning("job %s: %s", job.job_id, exc)
            self._fail(run, "output_not_stored", f"The result could not be stored: {exc}.")
        else:
            logger.error("job %s (%s) failed with an internal error", job.job_id, job.provider, exc_info=exc)
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
        elif is_synchronous(run.adapter) and _costs_nothing(run.adapter, job.workflow):
            # A free synchronous call (the local engine) that died with us: running it again is safe.
            logger.info("re-running job %s after an interrupted synchronous submit", job.job_id)
            run.attempts += 1
            self.store.update_leased(job.job_id, self.owner, JobStatus.SUBMITTING, attempts=run.attempts)
            self._submit(run)
        else:
            # The process died during a paid call: the vendor may have made (and billed) the result.
            # Calling again could pay twice, so the user decides, with the facts to decide on.
            label = type(run.adapter).label
            started = job.started_at or job.created_at
            self._fail(
                run,
                "interrupted_submit",
                f"The app stopped while this job was being sent to {label}, so it cannot tell whether "
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
        self._submitted(run, submitted)

    def _submitted(self, run: _Run, submitted: Submitted) -> None:
        """What a submit call answered for this job: a final result (synchronous), or a task id."""
        job = run.job
        update = submitted.update
        if update is not None and update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            # A synchronous vendor's answer: recorded before anything else can go wrong.
            self._answered(run, update, submitted.remote_id)
            return
        if not submitted.remote_id:
            raise _JobProblem(
                "unexpected_response",
                f"{type(run.adapter).label} accepted the job but returned neither a result nor a task id. "
                "Try again; if it keeps happening, check the provider's status page.",
            )
        now_s = self._clock()
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
        )
        if not moved:
            logger.warning(
                "job %s changed while submitting; remote task %s left to it", job.job_id, submitted.remote_id
            )
            return
        run.status = JobStatus.RUNNING

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
        if not self.links.wants_links(limits):
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
            self._answered(run, update, None)
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

    def _answered(self, run: _Run, update: TaskUpdate, remote_id: str | None) -> None:
        """The vendor's final answer: record what it billed, then store or fetch its results.

        Everything the answer carries that cannot be fetched again (inline result
        bytes, the vendor's mask, the request id, the cost) is written before any
        download is tried, and the job leaves SUBMITTING/RUNNING in that same write,
        so no later failure or crash can make the worker call the vendor again.
        """
        job = run.job
        self._release_inputs(run)
        notes = {**job.notes, **run.notes, **dict(update.notes)}
        billed = update.billed_images
        if billed is None:
            billed = len(update.outputs) if update.state is TaskState.SUCCEEDED else 0
        cost = pricing.cost_of(type(run.adapter), job.workflow, billed, self._prices) if billed else None
        recorded: dict[str, Any] = {"notes_json": dumps_notes(notes)}
        if remote_id:
            recorded["remote_id"] = remote_id
        if cost is not None:
            recorded.update(cost_minor=cost.amount_minor, cost_currency=cost.currency)
        if update.state is TaskState.FAILED:
            failure = update.failure or TaskFailure(
                "provider_failed", "The provider reported the task as failed without a reason. Try again."
            )
            self._fail(run, failure.code, failure.message, **recorded)
            return
        label = type(run.adapter).label
        if not update.outputs:
            self._fail(
                run,
                "no_outputs",
                f"{label} reported success but sent no images. Try again; if it keeps happening, check "
                "the provider's console.",
                **recorded,
            )
            return
        used_mask = update.artifacts.get("mask")
        entries: list[dict[str, Any]] = []
        try:
            if used_mask:
                recorded["used_mask_path"] = self.artifacts.save_file(
                    job.job_id, job.created_at, "used_mask.png", used_mask
                )
            for index, output in enumerate(update.outputs, 1):
                entry: dict[str, Any] = {"index": index, "seed": output.seed}
                if output.data is not None:
                    # Bytes in the answer exist nowhere else: stored now, before the answer is recorded.
                    entry["stored"] = self._saved(job, index, output.data)
                elif output.url:
                    entry["url"] = output.url
                else:
                    raise _Lost("The provider sent a result with neither image data nor a link")
                entries.append(entry)
        except (ArtifactError, _Lost) as exc:
            if _costs_nothing(run.adapter, job.workflow):
                self._fail(run, "output_not_stored", f"The result could not be stored: {exc}.", **recorded)
            else:
                self._fail(run, "billed_result_lost", _lost_message(label, cost, str(exc)), **recorded)
            return
        now_s = self._clock()
        ttl = run.adapter.result_ttl_s or DEFAULT_RESULT_TTL_S
        notes[RESULT_NOTE] = {
            "outputs": entries,
            "expires_at": now_s + ttl,
            "billed": billed,
            "cost": [cost.amount_minor, cost.currency] if cost else None,
        }
        recorded["notes_json"] = dumps_notes(notes)
        moved = self.store.transition(
            job.job_id,
            {run.status},
            JobStatus.DOWNLOADING,
            owner=self.owner,
            lease_owner=self.owner,
            lease_expires_at=run.claim.lease_expires_at,
            next_attempt_at=_at(now_s),
            poll_failures=0,
            error_code=None,
            error_message=None,
            **recorded,
        )
        if not moved:
            logger.warning("job %s was changed by someone else; its results were not recorded", job.job_id)
            return
        run.status = JobStatus.DOWNLOADING
        run.claim = dataclasses.replace(run.claim, poll_failures=0)
        self._download_results(run, notes)

    def _download_results(self, run: _Run, notes: dict[str, Any]) -> None:
        """Fetch every result not stored yet; finish the job when all are, else try again later."""
        job = run.job
        pending = notes.get(RESULT_NOTE)
        if not isinstance(pending, dict):
            self._fail(
                run,
                "billed_result_lost",
                "This job's result links were not recorded, so its results cannot be fetched. "
                "Check the provider's console for the images.",
            )
            return
        for entry in pending["outputs"]:
            if entry.get("stored"):
                continue
            try:
                entry["stored"] = self._saved(job, int(entry["index"]), self._download(str(entry["url"])))
            except ProviderError as exc:
                self._download_failed(run, notes, exc)
                return
            except ArtifactError as exc:
                # A link that answered with something that is not an image (an error page) may
                # answer properly on a later try, as long as it lives.
                self._download_failed(
                    run,
                    notes,
                    UnexpectedResponseError(
                        "download",
                        "not_an_image",
                        f"The result link did not give an image ({exc}).",
                        retryable=True,
                    ),
                )
                return
            # Progress survives a crash: a restart fetches only what is still missing.
            self.store.update_leased(
                job.job_id, self.owner, JobStatus.DOWNLOADING, notes_json=dumps_notes(notes)
            )
        self._complete(run, notes)

    def _complete(self, run: _Run, notes: dict[str, Any]) -> None:
        job = run.job
        pending = notes.pop(RESULT_NOTE)
        stored = [entry for entry in pending["outputs"] if entry.get("stored")]
        lost = len(pending["outputs"]) - len(stored)
        if lost:
            notes["results_lost"] = lost
        outputs = [
            NewOutput(
                index=int(entry["index"]),
                path=entry["stored"]["path"],
                width=int(entry["stored"]["width"]),
                height=int(entry["stored"]["height"]),
                seed=entry.get("seed"),
                thumbnail_path=entry["stored"].get("thumbnail_path"),
                source_url=entry.get("url"),
            )
            for entry in stored
        ]
        done = self.store.finish(
            job.job_id,
            {run.status},
            JobStatus.SUCCEEDED,
            outputs,
            owner=self.owner,
            images=len(outputs),
            notes_json=dumps_notes(notes),
            error_code=None,
            error_message=None,
        )
        if done:
            self.artifacts.seal(job.job_id, job.created_at)
        else:
            logger.warning("job %s was changed by someone else; its results were not recorded", job.job_id)

    def _download_failed(self, run: _Run, notes: dict[str, Any], exc: ProviderError) -> None:
        """Another try later while the link lives; else the job ends billed with what it has."""
        job = run.job
        pending = notes[RESULT_NOTE]
        now_s = self._clock()
        expires = float(pending["expires_at"])
        failures = run.claim.poll_failures + 1
        next_s = now_s + retry_delay(failures, exc.retry_after_s, self._rng)
        if exc.retryable and now_s < expires:
            logger.info(
                "job %s: result download failed (%s); try %d at %.0f",
                job.job_id,
                exc.code,
                failures + 1,
                next_s,
            )
            self.store.update_leased(
                job.job_id,
                self.owner,
                JobStatus.DOWNLOADING,
                poll_failures=failures,
                # The last try is made as the link is about to expire, not after.
                next_attempt_at=_at(min(next_s, max(now_s, expires - 1.0))),
                error_code="download_pending",
                error_message=exc.user_message,
                notes_json=dumps_notes(notes),
                lease_owner=None,
                lease_expires_at=None,
            )
            return
        if any(entry.get("stored") for entry in pending["outputs"]):
            # Some results are safe: keep them; the job says how many were lost.
            logger.warning("job %s: %s; keeping the results already stored", job.job_id, exc.code)
            self._complete(run, notes)
            return
        label = type(run.adapter).label
        recorded = pending.get("cost")
        cost = Money(int(recorded[0]), str(recorded[1])) if recorded else None
        reason = exc.user_message.rstrip(".")
        if exc.retryable:
            reason += f"; the link expired at {_at(expires):%Y-%m-%d %H:%M} UTC"
        self._fail(
            run, "billed_result_lost", _lost_message(label, cost, reason), notes_json=dumps_notes(notes)
        )

    def _saved(self, job: JobView, index: int, data: bytes) -> dict[str, Any]:
        saved = self.artifacts.save_output(job.job_id, job.created_at, index, data)
        return {
            "path": saved.path,
            "width": saved.width,
            "height": saved.height,
            "thumbnail_path": saved.thumbnail_path,
        }

    def _request(self, job: JobView) -> GenerationRequest:
        try:
            image = self.artifacts.read(job.input_path or "")
            mask = self.artifacts.read(job.mask_path) if job.mask_path else None
            reference = self.artifacts.read(job.reference_path) if job.reference_path else None
            guides = tuple(
                EdgeGuide(item["layer"], self.artifacts.read(item["path"]), str(item.get("prompt") or ""))
                for item in job.notes.get("edge_guides") or []
            )
            plate = _plate(job.notes.get("backdrop_plate"), self.artifacts.read)
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
            plate=plate,
        )

    # ------------------------------------------------------------ failures
    def _provider_error(self, run: _Run, exc: ProviderError) -> None:
        job = run.job
        now_s = self._clock()
        if run.status is JobStatus.DOWNLOADING:
            self._download_failed(run, dict(job.notes), exc)
            return
        if run.status is JobStatus.RUNNING:
            # The vendor has the task: a failed status call is retried by polling again, never by
            # resubmitting. An answer we cannot read is one bad answer, not a failed (billed) task.
            failures = run.claim.poll_failures + 1
            retryable = exc.retryable or isinstance(exc, UnexpectedResponseError)
            if retryable and failures < MAX_POLL_FAILURES:
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
            self._fail(run, exc.code, _gave_up(exc, failures) if retryable else exc.user_message)
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


class _Lost(Exception):
    """A billed result that cannot be kept (no data, no link); the message says why."""


def _in_flight_limit(adapter: ProviderAdapter) -> int:
    """Jobs of a provider that may be at the vendor at once: its concurrent calls, times the jobs one
    call carries where the vendor takes batches."""
    return adapter.max_in_flight * max(1, adapter.max_batch_submit)


def _costs_nothing(adapter: ProviderAdapter, workflow: str) -> bool:
    price = type(adapter).prices.get(Operation(workflow))
    return price is not None and price.free


def _lost_message(label: str, cost: Money | None, reason: str) -> str:
    charge = f" ({cost.as_str()} {cost.currency})" if cost else ""
    return (
        f"{label} made this image and billed it{charge}, but the result was lost: {reason.rstrip('.')}. "
        f"The charge is recorded with this job; ask {label} support about it before running the job again."
    )


def _plate(record: object, read: Callable[[str], bytes]) -> BackdropPlate | None:
    """The user backdrop a job was submitted with: its photo was copied into the job's own
    files at submit, so deleting it from the library later cannot break a queued job."""
    if not isinstance(record, Mapping) or not record.get("path"):
        return None
    x0, y0, x1, y1 = (float(v) for v in record.get("surface") or (0.0, 0.7, 1.0, 0.7))
    return BackdropPlate(
        image=read(str(record["path"])),
        surface=(x0, y0, x1, y1),
        backdrop_id=str(record.get("backdrop_id") or ""),
        name=str(record.get("name") or ""),
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
