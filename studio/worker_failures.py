"""The worker's failure handling: a provider error becomes a retry, another poll, or a failed job.

A failed status call is retried by polling again (never by resubmitting); a
retryable submit error re-queues the job with backoff; anything else, or too
many tries, fails the job with the vendor's message for the user.
"""

from __future__ import annotations

from providers.errors import ProviderError, UnexpectedResponseError
from studio.jobs import JobStatus
from studio.pacing import poll_delay, retry_delay
from studio.worker_base import MAX_ATTEMPTS, MAX_POLL_FAILURES, Run, gave_up, logger, utc_at
from studio.worker_results import WorkerResults


class WorkerFailures(WorkerResults):
    """What a `ProviderError` does to the job it was raised for."""

    def _provider_error(self, run: Run, exc: ProviderError) -> None:
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
                    next_attempt_at=utc_at(now_s + delay),
                    lease_owner=None,
                    lease_expires_at=None,
                )
                return
            self._fail(run, exc.code, gave_up(exc, failures) if retryable else exc.user_message)
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
                next_attempt_at=utc_at(now_s + delay),
                error_code=exc.code,
                error_message=exc.user_message,
            )
            return
        self._fail(run, exc.code, gave_up(exc, attempts) if exc.retryable else exc.user_message)
