"""The worker's result phase: a vendor's final answer recorded, its results stored or downloaded.

Money first: the answer's cost and ids are written with the move to
DOWNLOADING; from then on only the result links are retried, for as long as
the vendor says they live, and a job whose links die first fails as
"billed, result lost" with its cost kept.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from providers.base import Money, TaskFailure, TaskState, TaskUpdate
from providers.errors import ProviderError, UnexpectedResponseError
from studio import pricing
from studio.ai_labels import provenance_for
from studio.artifacts import ArtifactError
from studio.jobs import RESULT_NOTE, JobStatus, JobView
from studio.pacing import retry_delay
from studio.signed_links import without_signature
from studio.store import NewOutput, dumps_notes
from studio.worker_base import (
    DEFAULT_RESULT_TTL_S,
    Lost,
    Run,
    WorkerBase,
    costs_nothing,
    logger,
    lost_message,
    utc_at,
)


class WorkerResults(WorkerBase):
    """Recording a vendor's answer and fetching its results (through the injected guarded downloader)."""

    def _answered(self, run: Run, update: TaskUpdate, remote_id: str | None) -> None:
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
                    raise Lost("The provider sent a result with neither image data nor a link")
                entries.append(entry)
        except (ArtifactError, Lost) as exc:
            if costs_nothing(run.adapter, job.workflow):
                self._fail(run, "output_not_stored", f"The result could not be stored: {exc}.", **recorded)
            else:
                self._fail(run, "billed_result_lost", lost_message(label, cost, str(exc)), **recorded)
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
            next_attempt_at=utc_at(now_s),
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
        # The vendor slot is free from this write on: let the dispatcher give it to the next job
        # now rather than after this job's downloads.
        self._wake.set()
        self._download_results(run, notes)

    def _download_results(self, run: Run, notes: dict[str, Any]) -> None:
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

    def _complete(self, run: Run, notes: dict[str, Any]) -> None:
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
                source_url=without_signature(entry.get("url")),  # a signed link is kept unsigned
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
            self._succeeded(job.job_id)
        else:
            logger.warning("job %s was changed by someone else; its results were not recorded", job.job_id)

    def _succeeded(self, job_id: str) -> None:
        if self.on_succeeded is None:
            return
        try:
            self.on_succeeded(job_id)
        except Exception:  # a listener's fault never touches a finished job
            logger.exception("after job %s succeeded, its listener failed", job_id)

    def _download_failed(self, run: Run, notes: dict[str, Any], exc: ProviderError) -> None:
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
                next_attempt_at=utc_at(min(next_s, max(now_s, expires - 1.0))),
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
            reason += f"; the link expired at {utc_at(expires):%Y-%m-%d %H:%M} UTC"
        for entry in pending["outputs"]:
            if entry.get("url"):
                entry["url"] = without_signature(str(entry["url"]))  # dead now; keep no signature
        self._fail(
            run, "billed_result_lost", lost_message(label, cost, reason), notes_json=dumps_notes(notes)
        )

    def _saved(self, job: JobView, index: int, data: bytes) -> dict[str, Any]:
        adapter = self.adapters.get(job.provider)
        label = type(adapter).label if adapter is not None else job.provider
        provenance = provenance_for(job.provider, label, job.job_id, job.created_at)
        saved = self.artifacts.save_output(job.job_id, job.created_at, index, data, provenance)
        return {
            "path": saved.path,
            "width": saved.width,
            "height": saved.height,
            "thumbnail_path": saved.thumbnail_path,
        }
