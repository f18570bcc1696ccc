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

This module claims and dispatches jobs and runs the submit and poll phases;
`worker_results` records answers and downloads results, `worker_failures`
turns provider errors into retries or failures, and `worker_base` holds the
shared state (`Worker` inherits all three).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from imaging.masks import vendor_mask_png
from providers.base import EdgeGuide, GenerationRequest, ProviderAdapter, Submitted, TaskState
from providers.errors import ProviderError
from studio.artifacts import ArtifactError
from studio.input_links import InputLinkError, hosted_handles
from studio.jobs import BatchStatus, JobStatus, JobView
from studio.pacing import poll_delay_near_due, send_is_late, slot_bound
from studio.storage_faults import StorageFault
from studio.store import ClaimedJob, ClaimKind, dumps_notes
from studio.store_claims import PacedClaim
from studio.worker_base import (
    DEFAULT_RESULT_TTL_S,
    MAX_ATTEMPTS,
    MAX_POLL_FAILURES,
    JobProblem,
    Run,
    costs_nothing,
    in_flight_limit,
    is_synchronous,
    logger,
    process_alive,
    stored_plate,
    utc_at,
)
from studio.worker_failures import WorkerFailures
from studio.worker_prepare import Preparer, needs_preparing

# The send mark (`Worker._mark_send_started`, a database write) is made this long before the
# submit moment when the job waits for one, so the write never delays the arrival the vendor
# counts; a worker killed in these last ms leaves a job that fails as interrupted, not re-sent.
MARK_AHEAD_S = 0.03
# Fresh submit moments a job takes when it keeps missing them, before it is sent anyway.
MAX_SEND_TRIES = 4

__all__ = ["DEFAULT_RESULT_TTL_S", "MAX_ATTEMPTS", "MAX_POLL_FAILURES", "Worker", "is_synchronous"]


class Worker(WorkerFailures):
    """Claims due jobs and runs them: submit, poll, results; failures and results live in the base classes."""

    # Prepares batch items' inputs just before their turn (`studio.worker_prepare`); set by the Studio.
    preparer: Preparer | None = None

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
        if self.preparer is not None:
            self.preparer.stop(timeout_s)

    def _release_dead_leases(self) -> None:
        """Leases held by a process of this machine that no longer runs (killed, crashed) are
        released at once, so a restart resumes those jobs now instead of after the lease time.
        A lease of another machine's worker is not judged here: once its expiry passed, any
        worker's `claim_next` takes the job over (the lease length is `STUDIO_LEASE_S`)."""
        host = socket.gethostname()
        for job_id, owner in self.store.held_leases():
            owner_host, _, rest = owner.partition(":")
            pid_text = rest.partition(":")[0]
            if owner_host != host or not pid_text.isdigit() or owner == self.owner:
                continue
            if not process_alive(int(pid_text)):
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
            except StorageFault as exc:
                self._storage_trouble(exc)
            except Exception:
                # The store may be briefly unavailable (disk full, locked too long): keep the loop alive.
                logger.exception("worker dispatcher iteration failed; retrying next tick")
            self._wake.wait(self._until_next_due())
            self._wake.clear()

    def _until_next_due(self) -> float:
        """Sleep until the earliest job falls due (a poll, a retry), at most one tick: a vendor slot
        that just freed up should not wait a whole tick to be noticed."""
        try:
            due = self.store.next_due_at(utc_at(self._clock()))
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
            # In-flight slots and the submit rate are the vendor's, shared by every worker process
            # and machine: the store checks the slot and reserves a submit moment in the claim's
            # transaction. A moment up to one tick ahead may be reserved (the job waits for it,
            # `_wait_for_send_moment`), so the next tick never comes too late for it.
            limits = {key: in_flight_limit(adapter) for key, adapter in self.adapters.items()}
            rates = {key: adapter.submit_qps for key, adapter in self.adapters.items()}
            if not limits:
                return None
            return self.store.claim_next(
                self.owner,
                utc_at(now_s),
                self.lease_s,
                limits,
                recover_providers=[],
                submit_rates=rates,
                submit_lookahead_s=self.poll_tick_s,
                submit_leads={key: self._submit_lead(key) for key in self.adapters},
            )
        return self.store.claim_next(
            self.owner, utc_at(now_s), self.lease_s, {}, recover_providers=list(self.adapters)
        )

    def _claim_companions(
        self, first: ClaimedJob, adapter: ProviderAdapter, now_s: float
    ) -> list[ClaimedJob]:
        """More queued jobs of `first`'s provider and workflow for the same submit call."""
        companions: list[ClaimedJob] = []
        key = first.job.provider
        while len(companions) + 1 < adapter.max_batch_submit:
            extra = self.store.claim_next(
                self.owner, utc_at(now_s), self.lease_s, {key: in_flight_limit(adapter)}, recover_providers=[]
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
            if not self.store.renew_lease(claim.job.job_id, self.owner, utc_at(now_s + self.lease_s)):
                # A job that ended, or handed its lease back after a status call, released it itself:
                # only another owner's name in the row means the job was taken over.
                holder = self.store.lease_owner(claim.job.job_id)
                if holder is not None and holder != self.owner:
                    logger.warning("lost the lease on job %s; another worker took it over", claim.job.job_id)

    # ------------------------------------------------------------ one job
    def execute(self, claim: ClaimedJob) -> None:
        """Do the claimed step of one job. Never raises: every outcome is written to the job."""
        adapter = self.adapters[claim.job.provider]
        run = Run(claim, adapter, claim.job.status, claim.job.attempts)
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
        runs: list[Run] = []
        requests: list[GenerationRequest] = []
        for claim in claims:
            run = Run(claim, adapter, claim.job.status, claim.job.attempts)
            try:
                if claim.job.batch_id and self._held_by_batch(run):
                    continue
                requests.append(self._linked(run, self._request(self._ready(run))))
                runs.append(run)
            except Exception as exc:
                self._handle(run, exc)
        if not runs:
            return
        kept: list[Run] = []

        def mark() -> bool:
            kept[:] = self._mark_send_started(runs)
            return bool(kept)

        try:
            self._wait_for_send_moment(runs[0], mark)
            if len(kept) < len(runs):
                ours = {id(run) for run in kept}
                requests = [request for run, request in zip(runs, requests, strict=True) if id(run) in ours]
                for run in runs:
                    if id(run) not in ours:
                        self.links.release(run.hosted)
                        run.hosted.clear()
                runs = kept
                if not runs:
                    return
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

    def _storage_trouble(self, exc: StorageFault) -> None:
        """A full or read-only data folder: one line when it starts, not a traceback every tick."""
        if self._storage_fault is None or str(self._storage_fault) != str(exc):
            logger.error("the worker cannot write its data: %s", exc)
            logger.debug("the worker's storage fault", exc_info=exc)
        self._storage_fault = exc

    def _handle(self, run: Run, exc: Exception) -> None:
        """Record what stopped a job's step: retry it, or fail it with a message a user can act on."""
        job = run.claim.job
        if isinstance(exc, StorageFault) and not isinstance(exc, ArtifactError):
            # The store cannot record anything now; the job's lease runs out and it resumes later.
            self._storage_trouble(exc)
        elif isinstance(exc, ProviderError):
            self._provider_error(run, exc)
        elif isinstance(exc, JobProblem | InputLinkError):
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

    def _recover(self, run: Run) -> None:
        job = run.job
        if job.remote_id:
            # The task id was stored, so the vendor has it: resume polling, never resubmit.
            lease = {"lease_owner": self.owner, "lease_expires_at": run.claim.lease_expires_at}
            if self.store.transition(
                job.job_id, {JobStatus.SUBMITTING}, JobStatus.RUNNING, owner=self.owner, **lease
            ):
                run.status = JobStatus.RUNNING
                self._poll(run)
        elif job.send_started_at is None or needs_preparing(job):
            # It stopped before its vendor call could start (preparing its inputs, hosting them,
            # studio.worker_prepare): the vendor was never called, so running it again is safe.
            logger.info("re-running job %s: its worker stopped before sending it", job.job_id)
            run.attempts += 1
            self.store.update_leased(job.job_id, self.owner, JobStatus.SUBMITTING, attempts=run.attempts)
            self._submit(run)
        elif is_synchronous(run.adapter) and costs_nothing(run.adapter, job.workflow):
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

    def _submit(self, run: Run) -> None:
        job = run.job
        if job.batch_id and self._held_by_batch(run):
            return
        request = self._linked(run, self._request(self._ready(run)))
        try:
            if not self._wait_for_send_moment(run, lambda: bool(self._mark_send_started([run]))):
                self.links.release(run.hosted)
                run.hosted.clear()
                return  # another worker has the job now: it sends it, this one must not
            submitted = run.adapter.submit(request)
        except BaseException:
            # Whatever happens next (a retry publishes afresh), these links are of no more use.
            self.links.release(run.hosted)
            run.hosted.clear()
            raise
        self._submitted(run, submitted)

    def _mark_send_started(self, runs: list[Run]) -> list[Run]:
        """Record, just before the vendor call starts, that it may have: a worker that dies after
        this leaves a job nobody may send again (`_recover`); one that dies before it (preparing,
        hosting inputs, waiting for its send moment) leaves a job the next worker simply sends.
        Returns the runs still ours: a job whose lease ran out meanwhile (a starved machine) and
        that another worker took over is dropped here, never sent by both. The same write
        renews the lease, so the call has a whole lease before anyone may judge it interrupted.
        One short write; every submit pays it alike, so the spacing the vendor sees is kept."""
        now_s = self._clock()
        kept: list[Run] = []
        for run in runs:
            if self.store.update_leased(
                run.job.job_id,
                self.owner,
                run.status,
                send_started_at=utc_at(now_s),
                lease_expires_at=utc_at(now_s + self.lease_s),
            ):
                kept.append(run)
            else:
                logger.warning(
                    "job %s: another worker took it over before it was sent; left to that worker",
                    run.job.job_id,
                )
        return kept

    def _wait_for_send_moment(self, run: Run, mark: Callable[[], bool]) -> bool:
        """Hold the submit until its reserved moment, so the vendor sees submits no closer than
        the provider's spacing. A moment missed by more than a few ms (inputs slower than usual,
        or this thread woken late on a busy machine), and a submit re-run after a crash (its claim
        reserved none), take a fresh moment first: the rate is judged where the vendor counts it,
        at arrival, so being late is as bad as being early for the submit after it.

        `mark` records that the call may start (`_mark_send_started`); it runs MARK_AHEAD_S
        before the moment when there is a wait, so its database write does not delay the
        arrival, else just before returning. Returns False when `mark` did (the job is no longer
        ours): the caller must not send."""
        marked: bool | None = None
        claim = run.claim
        planned = claim.send_at if isinstance(claim, PacedClaim) else None
        # A job ready before its moment may go from the earliest moment the spacing allows: the
        # lead its claim was given is only there so it is not late.
        earliest = claim.not_before if isinstance(claim, PacedClaim) else None
        now_s = self._clock()
        if planned is None and claim.kind is not ClaimKind.RECOVER_SUBMIT:
            return mark()  # no rate to keep (companions ride on their first job's moment)
        if isinstance(claim, PacedClaim) and claim.claimed_at is not None:
            # How long this job took from its claim to here: the next claims reserve that far ahead.
            self._learn_lead(run.job.provider, now_s - claim.claimed_at.timestamp())
        for _ in range(MAX_SEND_TRIES):
            if planned is None or send_is_late(planned.timestamp(), now_s):
                planned = self.store.reserve_late_send(
                    run.job.provider, run.adapter.submit_qps, utc_at(now_s), missed=planned
                )
                now_s = self._clock()
                earliest = planned
                if send_is_late(planned.timestamp(), now_s):
                    continue  # the reservation itself took too long (a busy database): again
            start = min(planned, earliest) if earliest is not None else planned
            if start.timestamp() > now_s:
                if marked is None and start.timestamp() - now_s > MARK_AHEAD_S:
                    self._sleep(start.timestamp() - now_s - MARK_AHEAD_S)
                    marked = mark()
                    if not marked:
                        return False
                    now_s = self._clock()
                if start.timestamp() > now_s:
                    self._sleep(start.timestamp() - now_s)
                now_s = self._clock()
            if not send_is_late(planned.timestamp(), now_s):
                break
        else:
            # Woken late again and again (a starved machine): go now rather than never.
            logger.info("job %s: sent after missing %d submit moments", run.job.job_id, MAX_SEND_TRIES)
        return marked if marked is not None else mark()

    def _submitted(self, run: Run, submitted: Submitted) -> None:
        """What a submit call answered for this job: a final result (synchronous), or a task id."""
        job = run.job
        update = submitted.update
        if update is not None and update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            # A synchronous vendor's answer: recorded before anything else can go wrong.
            self._answered(run, update, submitted.remote_id)
            return
        if not submitted.remote_id:
            raise JobProblem(
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
            next_attempt_at=utc_at(now_s + self._poll_delay(run, 0.0)),
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

    def _held_by_batch(self, run: Run) -> bool:
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

    def _linked(self, run: Run, request: GenerationRequest) -> GenerationRequest:
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

    def _keep_sent_mask(self, run: Run, mask_png: bytes) -> None:
        path = self.artifacts.save_file(run.job.job_id, run.job.created_at, "used_mask.png", mask_png)
        self.store.update_leased(run.job.job_id, self.owner, run.status, used_mask_path=path)

    def _poll(self, run: Run) -> None:
        job = run.job
        update = run.adapter.poll(job.remote_id or "")
        now_s = self._clock()
        started = (job.started_at or job.created_at).timestamp()
        if update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            if update.state is TaskState.SUCCEEDED and run.attempts <= 1:
                # A first attempt's claim-to-done time: how long this vendor's tasks usually take.
                self._learn_duration(job.provider, now_s - started)
            self._answered(run, update, None)
            return
        self.store.update_leased(
            job.job_id,
            self.owner,
            run.status,
            next_attempt_at=utc_at(now_s + self._poll_delay(run, now_s - started)),
            poll_failures=0,
            lease_owner=None,
            lease_expires_at=None,
        )

    def _poll_delay(self, run: Run, elapsed_s: float) -> float:
        """The vendor's cadence, faster while the task nears its provider's usual duration, where
        finding a finished task sooner lets the next one go sooner (`slot_bound`)."""
        typical = self._typical_duration(run.job.provider)
        if not slot_bound(in_flight_limit(run.adapter), typical, run.adapter.submit_qps):
            typical = None
        return poll_delay_near_due(run.adapter.poll_interval_hint, elapsed_s, typical)

    def _ready(self, run: Run) -> JobView:
        """The job with its inputs prepared: a batch item's photo is decoded, fitted and cut out
        just before its turn, if the prepare-ahead thread has not done it already."""
        if self.preparer is not None and needs_preparing(run.job):
            run.claim = replace(run.claim, job=self.preparer.ready(run.job, self.owner, run.status))
        return run.job

    def _request(self, job: JobView) -> GenerationRequest:
        try:
            image = self.artifacts.read(job.input_path or "")
            mask = self.artifacts.read(job.mask_path) if job.mask_path else None
            reference = self.artifacts.read(job.reference_path) if job.reference_path else None
            guides = tuple(
                EdgeGuide(item["layer"], self.artifacts.read(item["path"]), str(item.get("prompt") or ""))
                for item in job.notes.get("edge_guides") or []
            )
            plate = stored_plate(job.notes.get("backdrop_plate"), self.artifacts.read)
        except ArtifactError as exc:
            raise JobProblem(
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
