"""Batches in the store: a batch row with its jobs, budget, pause/resume/cancel, progress and review."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import RowMapping

from providers.base import Money
from studio.jobs import (
    TERMINAL_STATUSES,
    BatchFailure,
    BatchProgress,
    BatchStatus,
    BatchView,
    JobOutput,
    JobStatus,
    JobView,
)
from studio.migrations import batches_table as batches
from studio.migrations import jobs_table as jobs
from studio.migrations import outputs_table
from studio.people import Person
from studio.store_core import NewBatch, NewJob, StoreCore, Unset, dumps, dumps_notes, loads_notes, money_of
from studio.store_history import visible_batches


class BatchStore(StoreCore):
    """Batches and their jobs, spend, progress, notes and the review of outputs."""

    # ------------------------------------------------------------ batches
    def create_batch(self, new: NewBatch, jobs_: Sequence[NewJob]) -> None:
        """The batch row and all its jobs in one transaction: a batch is never half created."""
        now = self.now()
        created = new.created_at or now
        with self._write() as conn:
            conn.execute(
                insert(batches).values(
                    id=new.batch_id,
                    created_at=created,
                    updated_at=created,
                    name=new.name,
                    status=str(BatchStatus.RUNNING),
                    pause_reason=None,
                    budget_minor=new.budget.amount_minor if new.budget else None,
                    budget_currency=new.budget.currency if new.budget else None,
                    items=len(jobs_),
                    source=new.source,
                    notes_json=dumps(dict(new.notes)),
                    created_by=new.created_by,
                    shared=1 if new.shared else 0,
                )
            )
            if jobs_:
                conn.execute(insert(jobs), [self._new_row(job, now) for job in jobs_])

    def add_batch_jobs(self, batch_id: str, jobs_: Sequence[NewJob]) -> None:
        """More jobs for an existing batch (retries), counted in its items, in one transaction."""
        now = self.now()
        with self._write() as conn:
            conn.execute(insert(jobs), [self._new_row(job, now) for job in jobs_])
            conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(items=batches.c["items"] + len(jobs_), updated_at=now)
            )

    def set_batch_shared(self, batch_id: str, shared: bool) -> bool:
        """Share a batch with the team (or take it back); False when there is no such batch."""
        with self._write() as conn:
            result = conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(shared=1 if shared else 0, updated_at=self.now())
            )
            return result.rowcount == 1

    def set_batch_note(self, batch_id: str, key: str, value: Any) -> bool:
        """Set (or, with None, remove) one of the batch's options in its notes."""
        with self._write() as conn:
            raw = conn.execute(
                select(batches.c.notes_json).where(batches.c.id == batch_id)
            ).scalar_one_or_none()
            if raw is None:
                return False
            notes = loads_notes(raw)
            if value is None:
                notes.pop(key, None)
            else:
                notes[key] = value
            conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(notes_json=dumps_notes(notes), updated_at=self.now())
            )
            return True

    def set_batch_budget(self, batch_id: str, budget: Money | None) -> None:
        with self._write() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(
                    budget_minor=budget.amount_minor if budget else None,
                    budget_currency=budget.currency if budget else None,
                    updated_at=self.now(),
                )
            )

    def add_note(self, job_id: str, key: str, value: Any) -> None:
        """One fact added to a job's notes (read and written in one transaction)."""
        with self._write() as conn:
            raw = conn.execute(select(jobs.c.notes_json).where(jobs.c.id == job_id)).scalar_one_or_none()
            notes = json.loads(raw or "{}")
            notes[key] = value
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(notes_json=dumps_notes(notes)))

    def get_batch(self, batch_id: str) -> BatchView | None:
        with self._read() as conn:
            row = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().first()
            if row is None:
                return None
            open_jobs = conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.batch_id == batch_id, jobs.c.status.notin_([str(s) for s in TERMINAL_STATUSES]))
            ).scalar_one()
        return self._batch_view(row, int(open_jobs))

    def list_batches(self, limit: int = 50, viewer: Person | None = None) -> list[BatchView]:
        """The newest batches; with `viewer`, only those that person sees (`visible_batches`)."""
        query = select(batches).order_by(batches.c.created_at.desc(), batches.c.id.desc()).limit(limit)
        if viewer is not None and not viewer.can("see_everyone"):
            query = query.where(visible_batches(viewer))
        with self._read() as conn:
            rows = list(conn.execute(query).mappings())
            open_counts = {
                str(r["batch_id"]): int(r["n"])
                for r in conn.execute(
                    select(jobs.c.batch_id, func.count().label("n"))
                    .where(
                        jobs.c.batch_id.in_([row["id"] for row in rows]),
                        jobs.c.status.notin_([str(s) for s in TERMINAL_STATUSES]),
                    )
                    .group_by(jobs.c.batch_id)
                ).mappings()
            }
        return [self._batch_view(row, open_counts.get(str(row["id"]), 0)) for row in rows]

    def _batch_view(self, row: RowMapping, open_jobs: int) -> BatchView:
        status = BatchStatus(row["status"])
        if status is BatchStatus.RUNNING and open_jobs == 0:
            status = BatchStatus.DONE
        return BatchView(
            batch_id=row["id"],
            created_at=row["created_at"],
            name=row["name"] or "",
            status=status,
            pause_reason=row["pause_reason"],
            budget=money_of(row["budget_minor"], row["budget_currency"]),
            items=int(row["items"]),
            source=row["source"],
            created_by=row["created_by"],
            shared=bool(row["shared"]),
            notes=loads_notes(row["notes_json"]),
        )

    def set_batch_status(self, batch_id: str, status: BatchStatus, reason: str | None = None) -> None:
        """Pause (QUEUED jobs -> PAUSED), resume (PAUSED -> QUEUED, due now) or cancel (QUEUED and
        PAUSED -> CANCELED; jobs already at the vendor finish, they are paid for) in one transaction."""
        now = self.now()
        with self._write() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(status=str(status), pause_reason=reason, updated_at=now)
            )
            mine = jobs.c.batch_id == batch_id
            if status is BatchStatus.PAUSED:
                conn.execute(
                    update(jobs)
                    .where(mine, jobs.c.status == str(JobStatus.QUEUED))
                    .values(status=str(JobStatus.PAUSED), updated_at=now)
                )
            elif status is BatchStatus.RUNNING:
                conn.execute(
                    update(jobs)
                    .where(mine, jobs.c.status == str(JobStatus.PAUSED))
                    .values(status=str(JobStatus.QUEUED), next_attempt_at=now, updated_at=now)
                )
            elif status is BatchStatus.CANCELED:
                conn.execute(
                    update(jobs)
                    .where(mine, jobs.c.status.in_([str(JobStatus.QUEUED), str(JobStatus.PAUSED)]))
                    .values(
                        status=str(JobStatus.CANCELED),
                        finished_at=now,
                        updated_at=now,
                        error_code="canceled",
                        error_message="Canceled with its batch before it was sent.",
                    )
                )

    def batch_spend(self, batch_id: str, currency: str, exclude_job: str | None = None) -> int:
        """Minor units committed in `currency`: costs of finished jobs plus estimates of jobs in flight."""
        busy = [str(JobStatus.SUBMITTING), str(JobStatus.RUNNING)]
        with self._read() as conn:
            spent: Any = conn.execute(
                select(func.coalesce(func.sum(jobs.c.cost_minor), 0)).where(
                    jobs.c.batch_id == batch_id, jobs.c.cost_currency == currency
                )
            ).scalar_one()
            flying = select(func.coalesce(func.sum(jobs.c.estimate_minor), 0)).where(
                jobs.c.batch_id == batch_id,
                jobs.c.estimate_currency == currency,
                jobs.c.status.in_(busy),
                # A job whose cost the vendor already reported counts once, by that cost.
                jobs.c.cost_minor.is_(None),
            )
            if exclude_job is not None:
                flying = flying.where(jobs.c.id != exclude_job)
            return int(spent) + int(conn.execute(flying).scalar_one())

    def batch_progress(self, batch_id: str) -> BatchProgress | None:
        batch = self.get_batch(batch_id)
        if batch is None:
            return None
        mine = jobs.c.batch_id == batch_id
        busy = [str(JobStatus.SUBMITTING), str(JobStatus.RUNNING)]
        with self._read() as conn:
            by_provider: dict[str, dict[str, int]] = {}
            by_status: dict[str, int] = {}
            for r in conn.execute(
                select(jobs.c.provider, jobs.c.status, func.count().label("n"))
                .where(mine)
                .group_by(jobs.c.provider, jobs.c.status)
            ).mappings():
                by_provider.setdefault(str(r["provider"]), {})[str(r["status"])] = int(r["n"])
                by_status[str(r["status"])] = by_status.get(str(r["status"]), 0) + int(r["n"])
            spent = {
                str(r["cur"]): Money(int(r["n"]), str(r["cur"]))
                for r in conn.execute(
                    select(jobs.c.cost_currency.label("cur"), func.sum(jobs.c.cost_minor).label("n"))
                    .where(mine, jobs.c.cost_currency.is_not(None))
                    .group_by(jobs.c.cost_currency)
                ).mappings()
            }
            committed = dict(spent)
            for r in conn.execute(
                select(jobs.c.estimate_currency.label("cur"), func.sum(jobs.c.estimate_minor).label("n"))
                .where(
                    mine,
                    jobs.c.status.in_(busy),
                    jobs.c.estimate_currency.is_not(None),
                    jobs.c.cost_minor.is_(None),
                )
                .group_by(jobs.c.estimate_currency)
            ).mappings():
                currency = str(r["cur"])
                before = committed.get(currency, Money(0, currency))
                committed[currency] = Money(before.amount_minor + int(r["n"]), currency)
            times = conn.execute(
                select(func.min(jobs.c.started_at), func.max(jobs.c.finished_at)).where(mine)
            ).one()
            failures = tuple(
                BatchFailure(r["id"], r["sku"], r["provider"], r["error_code"], r["error_message"])
                for r in conn.execute(
                    select(jobs.c.id, jobs.c.sku, jobs.c.provider, jobs.c.error_code, jobs.c.error_message)
                    .where(mine, jobs.c.status == str(JobStatus.FAILED))
                    .order_by(jobs.c.finished_at)
                ).mappings()
            )
        return BatchProgress(
            batch=batch,
            by_status=by_status,
            by_provider=by_provider,
            spent=spent,
            committed=committed,
            started_at=times[0],
            last_finished_at=times[1],
            failures=failures,
        )

    def batch_jobs(self, batch_id: str) -> list[JobView]:
        """Every job of a batch with its outputs, in the order the batch listed them (two queries)."""
        with self._read() as conn:
            rows = list(
                conn.execute(
                    select(jobs).where(jobs.c.batch_id == batch_id).order_by(jobs.c.created_at, jobs.c.id)
                ).mappings()
            )
            outputs: dict[str, list[JobOutput]] = {}
            for o in conn.execute(
                select(outputs_table)
                .where(outputs_table.c.job_id.in_(select(jobs.c.id).where(jobs.c.batch_id == batch_id)))
                .order_by(outputs_table.c.job_id, outputs_table.c.idx)
            ).mappings():
                outputs.setdefault(str(o["job_id"]), []).append(self._output(o))
        return [self._view(row, tuple(outputs.get(str(row["id"]), ()))) for row in rows]

    def newest_finished(self, batch_id: str, limit: int) -> tuple[int, list[JobView]]:
        """How many of a batch's jobs succeeded with images, and the newest `limit` of them with
        their outputs (an index walk: cheap at every refresh of a 100,000-item batch)."""
        done = and_(jobs.c.batch_id == batch_id, jobs.c.status == str(JobStatus.SUCCEEDED), jobs.c.images > 0)
        with self._read() as conn:
            count = int(conn.execute(select(func.count()).select_from(jobs).where(done)).scalar_one())
            rows = list(
                conn.execute(
                    select(jobs)
                    .where(done)
                    .order_by(jobs.c.finished_at.desc(), jobs.c.id.desc())
                    .limit(limit)
                ).mappings()
            )
            ids = [str(row["id"]) for row in rows]
            outputs: dict[str, list[JobOutput]] = {}
            if ids:
                for o in conn.execute(
                    select(outputs_table)
                    .where(outputs_table.c.job_id.in_(ids))
                    .order_by(outputs_table.c.job_id, outputs_table.c.idx)
                ).mappings():
                    outputs.setdefault(str(o["job_id"]), []).append(self._output(o))
        return count, [self._view(row, tuple(outputs.get(str(row["id"]), ()))) for row in rows]

    def set_review(
        self,
        job_id: str,
        index: int,
        *,
        review: str | None | type[Unset] = Unset,
        favourite: bool | None = None,
        note: str | None = None,
        by: str | None = None,
    ) -> bool:
        """Record a reviewer's decision on one output, and who made it; only the fields given change."""
        values: dict[str, Any] = {"reviewed_at": self.now()}
        if by is not None:
            values["decided_by"] = by
        if review is not Unset:
            values["review"] = review
        if favourite is not None:
            values["favourite"] = 1 if favourite else 0
        if note is not None:
            values["note"] = note
        with self._write() as conn:
            result = conn.execute(
                update(outputs_table)
                .where(outputs_table.c.job_id == job_id, outputs_table.c.idx == index)
                .values(values)
            )
            return result.rowcount == 1
