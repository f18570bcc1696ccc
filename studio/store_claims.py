"""Job state in the store: create and read jobs, compare-and-set transitions, leases and claims.

Status changes are compare-and-set updates (`transition`) that follow
`studio.jobs.ALLOWED_TRANSITIONS`, and workers take work with `claim_next`, a
guarded single-row UPDATE, so two threads or processes can never both run the
same job.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from studio.jobs import TERMINAL_STATUSES, JobStatus, JobView, can_transition
from studio.migrations import jobs_table as jobs
from studio.migrations import outputs_table
from studio.store_core import (
    _HELD,
    _PENDING,
    _TIMED,
    ClaimedJob,
    ClaimKind,
    InvalidTransition,
    NewJob,
    NewOutput,
    StoreCore,
    _output_row,
)


class JobStateStore(StoreCore):
    """Creating jobs, moving them between states, and the leases workers hold on them."""

    # ------------------------------------------------------------ create/read
    def create_job(self, new: NewJob) -> None:
        self.create_jobs([new])

    def create_jobs(self, news: Sequence[NewJob]) -> None:
        if not news:
            return
        now = self.now()
        rows = [self._new_row(new, now) for new in news]
        with self._write() as conn:
            conn.execute(insert(jobs), rows)

    def get_job(self, job_id: str) -> JobView | None:
        with self._read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
            if row is None:
                return None
            outputs = conn.execute(
                select(outputs_table).where(outputs_table.c.job_id == job_id).order_by(outputs_table.c.idx)
            ).mappings()
            return self._view(row, tuple(self._output(o) for o in outputs))

    def status_counts(self) -> dict[str, int]:
        with self._read() as conn:
            query = select(jobs.c.status.label("key"), func.count().label("n")).group_by(jobs.c.status)
            return {str(r["key"]): int(r["n"]) for r in conn.execute(query).mappings()}

    def in_flight_counts(self) -> dict[str, int]:
        """Jobs per provider that hold a vendor slot (being submitted or running remotely)."""
        busy = (str(JobStatus.SUBMITTING), str(JobStatus.RUNNING))
        with self._read() as conn:
            query = (
                select(jobs.c.provider.label("key"), func.count().label("n"))
                .where(jobs.c.status.in_(busy))
                .group_by(jobs.c.provider)
            )
            return {str(r["key"]): int(r["n"]) for r in conn.execute(query).mappings()}

    # ------------------------------------------------------------ state changes
    def transition(
        self,
        job_id: str,
        from_statuses: Collection[JobStatus],
        to_status: JobStatus,
        *,
        owner: str | None = None,
        **fields: Any,
    ) -> bool:
        """Compare-and-set: move the job to `to_status` only if it is in one of `from_statuses`.

        Returns False when the job is not (or no longer) in those states, or
        `owner` is given and does not hold the lease. Raises InvalidTransition
        for a move `ALLOWED_TRANSITIONS` forbids.
        """
        with self._write() as conn:
            return self._transition(conn, job_id, from_statuses, to_status, owner, fields)

    def finish(
        self,
        job_id: str,
        from_statuses: Collection[JobStatus],
        to_status: JobStatus,
        outputs: Sequence[NewOutput],
        *,
        owner: str | None = None,
        **fields: Any,
    ) -> bool:
        """`transition` plus the job's output rows in one transaction: both happen or neither."""
        with self._write() as conn:
            if not self._transition(conn, job_id, from_statuses, to_status, owner, fields):
                return False
            if outputs:
                conn.execute(insert(outputs_table), [_output_row(job_id, o) for o in outputs])
            return True

    def _transition(
        self,
        conn: Connection,
        job_id: str,
        from_statuses: Collection[JobStatus],
        to_status: JobStatus,
        owner: str | None,
        fields: Mapping[str, Any],
    ) -> bool:
        froms = [JobStatus(s) for s in from_statuses]
        forbidden = [str(s) for s in froms if not can_transition(s, to_status)]
        if not froms or forbidden:
            raise InvalidTransition(
                f"a job cannot move from {', '.join(forbidden) or 'nothing'} to {to_status}"
            )
        values = self._checked_fields(fields)
        now = self.now()
        values["status"] = str(to_status)
        values.setdefault("updated_at", now)
        if to_status in TERMINAL_STATUSES:
            values.setdefault("finished_at", now)
        if to_status is not JobStatus.SUBMITTING:
            # Leaving SUBMITTING (or finishing) hands the job back: nobody holds it until the next claim.
            values.setdefault("lease_owner", None)
            values.setdefault("lease_expires_at", None)
        where = [jobs.c.id == job_id, jobs.c.status.in_([str(s) for s in froms])]
        if owner is not None:
            where.append(jobs.c.lease_owner == owner)
        result = conn.execute(update(jobs).where(*where).values(values))
        return result.rowcount == 1

    def update_leased(self, job_id: str, owner: str, status: JobStatus, **fields: Any) -> bool:
        """Change fields of a job we hold the lease on, keeping its status (e.g. schedule the next poll)."""
        values = self._checked_fields(fields)
        values.setdefault("updated_at", self.now())
        with self._write() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == str(status), jobs.c.lease_owner == owner)
                .values(values)
            )
            return result.rowcount == 1

    def next_due_at(self, now: datetime) -> datetime | None:
        """When the dispatcher next has timed work: the earliest status call of a task no one holds,
        or the earliest retry of a queued job that is not due yet. Queued jobs that are due but wait
        for a vendor slot are not timed work: a finishing job wakes the dispatcher itself."""
        with self._read() as conn:
            value = conn.execute(
                select(func.min(jobs.c.next_attempt_at)).where(
                    or_(
                        and_(jobs.c.status.in_(_TIMED), jobs.c.lease_owner.is_(None)),
                        and_(jobs.c.status == str(JobStatus.QUEUED), jobs.c.next_attempt_at > now),
                    )
                )
            ).scalar_one_or_none()
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def lease_owner(self, job_id: str) -> str | None:
        with self._read() as conn:
            value = conn.execute(select(jobs.c.lease_owner).where(jobs.c.id == job_id)).scalar_one_or_none()
        return None if value is None else str(value)

    def held_leases(self) -> list[tuple[str, str]]:
        """(job id, owner) of every pending job that holds a lease."""
        held = _HELD
        with self._read() as conn:
            rows = conn.execute(
                select(jobs.c.id, jobs.c.lease_owner).where(
                    jobs.c.status.in_(held), jobs.c.lease_owner.is_not(None)
                )
            ).all()
        return [(str(job_id), str(owner)) for job_id, owner in rows]

    def release_lease(self, job_id: str, owner: str) -> bool:
        """Free a lease, only if `owner` still holds it."""
        with self._write() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None, updated_at=self.now())
            )
            return result.rowcount == 1

    def renew_lease(self, job_id: str, owner: str, expires_at: datetime) -> bool:
        """Extend our lease; False means we lost it (another worker took the job over)."""
        with self._write() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status.in_(_PENDING))
                .values(lease_expires_at=expires_at)
            )
            return result.rowcount == 1

    def claim_next(
        self,
        owner: str,
        now: datetime,
        lease_s: float,
        providers_with_free_slots: Mapping[str, int],
        recover_providers: Collection[str] | None = None,
    ) -> ClaimedJob | None:
        """Atomically take the oldest job that is due, or None.

        Due means: QUEUED with next_attempt_at <= now, for a provider in
        `providers_with_free_slots` (provider -> max in flight; the UPDATE
        re-counts in-flight jobs so the limit holds across processes); or
        SUBMITTING/RUNNING whose lease expired or was released, with
        next_attempt_at <= now (a due poll, or recovery after a crash), for a
        provider in `recover_providers` (None: any).
        """
        expires = now + timedelta(seconds=lease_s)
        lease_free = or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at <= now)
        due = or_(jobs.c.next_attempt_at.is_(None), jobs.c.next_attempt_at <= now)
        conditions: list[ColumnElement[bool]] = []
        if providers_with_free_slots:
            conditions.append(
                and_(
                    jobs.c.status == str(JobStatus.QUEUED),
                    jobs.c.provider.in_(list(providers_with_free_slots)),
                )
            )
        held = jobs.c.status.in_(_HELD)
        if recover_providers is None:
            conditions.append(and_(held, lease_free))
        elif recover_providers:
            conditions.append(and_(held, lease_free, jobs.c.provider.in_(list(recover_providers))))
        if not conditions:
            return None
        candidates_query = (
            select(jobs.c.id, jobs.c.status, jobs.c.provider)
            .where(due, or_(*conditions))
            .order_by(jobs.c.next_attempt_at, jobs.c.created_at, jobs.c.id)
            .limit(32)
        )
        with self._read() as conn:
            candidates = [
                (str(r["id"]), str(r["status"]), str(r["provider"]))
                for r in conn.execute(candidates_query).mappings()
            ]
        full: set[str] = set()
        for job_id, status, provider in candidates:
            if status == JobStatus.QUEUED and provider in full:
                continue
            with self._write() as conn:
                if status == JobStatus.QUEUED:
                    claimed = self._claim_queued(
                        conn, job_id, provider, owner, now, expires, providers_with_free_slots
                    )
                    if not claimed:
                        full.add(provider)
                else:
                    claimed = self._claim_held(conn, job_id, status, owner, now, expires)
                if not claimed:
                    continue
                row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
            kind = {
                JobStatus.QUEUED: ClaimKind.SUBMIT,
                JobStatus.SUBMITTING: ClaimKind.RECOVER_SUBMIT,
                JobStatus.RUNNING: ClaimKind.POLL,
                JobStatus.DOWNLOADING: ClaimKind.DOWNLOAD,
            }[JobStatus(status)]
            return ClaimedJob(self._view(row, ()), kind, expires, int(row["poll_failures"] or 0))
        return None

    def _claim_queued(
        self,
        conn: Connection,
        job_id: str,
        provider: str,
        owner: str,
        now: datetime,
        expires: datetime,
        limits: Mapping[str, int],
    ) -> bool:
        inflight = jobs.alias("inflight")
        busy = (
            select(func.count())
            .select_from(inflight)
            .where(
                inflight.c.provider == provider,
                inflight.c.status.in_([str(JobStatus.SUBMITTING), str(JobStatus.RUNNING)]),
            )
            .scalar_subquery()
        )
        result = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == str(JobStatus.QUEUED), busy < limits[provider])
            .values(
                status=str(JobStatus.SUBMITTING),
                lease_owner=owner,
                lease_expires_at=expires,
                attempts=jobs.c.attempts + 1,
                started_at=func.coalesce(jobs.c.started_at, now),
                updated_at=now,
            )
        )
        return result.rowcount == 1

    def _claim_held(
        self, conn: Connection, job_id: str, status: str, owner: str, now: datetime, expires: datetime
    ) -> bool:
        result = conn.execute(
            update(jobs)
            .where(
                jobs.c.id == job_id,
                jobs.c.status == status,
                or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at <= now),
            )
            .values(lease_owner=owner, lease_expires_at=expires, updated_at=now)
        )
        return result.rowcount == 1
