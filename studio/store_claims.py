"""Job state in the store: create and read jobs, compare-and-set transitions, leases and claims.

Status changes are compare-and-set updates (`transition`) that follow
`studio.jobs.ALLOWED_TRANSITIONS`, and workers take work with `claim_next`:
one write transaction that picks a row (FOR UPDATE SKIP LOCKED on PostgreSQL;
SQLite's BEGIN IMMEDIATE holds the whole file) and moves it with a guarded
single-row UPDATE, so two threads, processes or machines never both run the
same job. Vendor limits are kept there too: the provider's `vendor_pacing` row
is locked while its in-flight count is checked and its next submit moment is
reserved (`studio.pacing.reserve_send`: at most N submits in any sliding second,
kept at arrival; a claim may reserve a moment a little ahead, and the worker
sends at it, see `PacedClaim`).
Leases expire: a held job whose lease time passed is claimable by any worker.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from studio import pacing
from studio.jobs import TERMINAL_STATUSES, JobStatus, JobView, can_transition
from studio.migrations import jobs_table as jobs
from studio.migrations import outputs_table
from studio.migrations import vendor_pacing_table as vendor_pacing
from studio.store_core import (
    HELD,
    PENDING,
    TIMED,
    ClaimedJob,
    ClaimKind,
    InvalidTransition,
    NewJob,
    NewOutput,
    StoreCore,
    output_row,
)

# Jobs that hold a vendor slot: being submitted, or running at the vendor.
_BUSY = [str(JobStatus.SUBMITTING), str(JobStatus.RUNNING)]


@dataclass(frozen=True)
class PacedClaim(ClaimedJob):
    """A submit claim of a provider with a submit rate: the moment reserved for its vendor call.
    Sending earlier would break the vendor's rate; sending later than `pacing.LATE_SEND_S` after
    it needs a fresh moment (`JobStateStore.reserve_late_send`)."""

    send_at: datetime | None = None
    # When the claim was made (the claim's clock): send_at minus this is the lead it was given.
    claimed_at: datetime | None = None
    # The earliest moment the spacing allows (the previous moment reserved + the spacing, or the
    # claim itself): `send_at` lies a lead after it, so a job whose inputs are ready sooner may
    # go from here on; it never puts two submits closer than the spacing (the next claim's moment
    # is `send_at` + spacing, later than any send before `send_at`).
    not_before: datetime | None = None


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
                conn.execute(insert(outputs_table), [output_row(job_id, o) for o in outputs])
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
                        and_(jobs.c.status.in_(TIMED), jobs.c.lease_owner.is_(None)),
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
        held = HELD
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
                .where(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status.in_(PENDING))
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
        submit_rates: Mapping[str, float] | None = None,
        submit_lookahead_s: float = 0.0,
        submit_leads: Mapping[str, float] | None = None,
    ) -> ClaimedJob | None:
        """Atomically take the oldest job that is due, or None.

        Due means: QUEUED with next_attempt_at <= now, for a provider in
        `providers_with_free_slots` (provider -> max in flight) that has a free
        slot; or SUBMITTING/RUNNING/DOWNLOADING whose lease expired (its owner
        died, on any machine) or was released, with next_attempt_at <= now (a
        due poll, or recovery after a crash), for a provider in
        `recover_providers` (None: any). A provider in `submit_rates`
        (provider -> submits per second) must also have its next submit moment
        within `submit_lookahead_s` of when the job can be sent (now plus the
        provider's `submit_leads`, the time its inputs take to get ready): a
        QUEUED claim reserves it and comes back as a `PacedClaim` that says when
        to send.

        One write transaction: the job row is picked with FOR UPDATE SKIP
        LOCKED on PostgreSQL (workers skip each other's rows, never wait on
        them) and, for new work, the provider's `vendor_pacing` row is locked
        FOR UPDATE while the in-flight count and the token are checked and
        taken; SQLite's BEGIN IMMEDIATE serialises the same steps.
        """
        expires = now + timedelta(seconds=lease_s)
        free = dict(providers_with_free_slots)
        rates = dict(submit_rates or {})
        lease_free = or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at <= now)
        due = or_(jobs.c.next_attempt_at.is_(None), jobs.c.next_attempt_at <= now)
        held = and_(jobs.c.status.in_(HELD), lease_free)
        recover: ColumnElement[bool] | None = None
        if recover_providers is None:
            recover = held
        elif recover_providers:
            recover = and_(held, jobs.c.provider.in_(list(recover_providers)))
        wanted = _claimable(recover, free)
        if wanted is None:
            return None
        with self._read() as conn:  # the common idle case: no write lock, no row locks
            if conn.execute(select(jobs.c.id).where(due, wanted).limit(1)).first() is None:
                return None
        self._ensure_pacing_rows(free, rates, now)
        # Each pass claims a job or drops a provider that is full (or out of tokens). A pass is its own
        # transaction, so it holds at most one provider's pacing row: two workers locking two providers'
        # rows in opposite orders would deadlock (PostgreSQL aborts one after its deadlock timeout).
        for _ in range(len(free) + 2):
            wanted = _claimable(recover, free)
            if wanted is None:
                return None
            with self._write() as conn:
                picked = (
                    conn.execute(
                        select(jobs.c.id, jobs.c.status, jobs.c.provider)
                        .where(due, wanted)
                        .order_by(jobs.c.next_attempt_at.nulls_first(), jobs.c.created_at, jobs.c.id)
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    )
                    .mappings()
                    .first()
                )
                if picked is None:
                    return None
                job_id, status, provider = str(picked["id"]), str(picked["status"]), str(picked["provider"])
                send_at: datetime | None = None
                not_before: datetime | None = None
                if status == JobStatus.QUEUED:
                    lead = (submit_leads or {}).get(provider, 0.0)
                    slot = self._take_vendor_slot(
                        conn, provider, free[provider], rates.get(provider), now, submit_lookahead_s, lead
                    )
                    if slot is None:
                        free.pop(provider)
                        continue
                    if rates.get(provider):
                        send_at, not_before = slot
                    claimed = self._claim_queued(conn, job_id, owner, now, expires)
                else:
                    claimed = self._claim_held(conn, job_id, status, owner, now, expires)
                if not claimed:  # cannot happen under the row lock; be safe anyway
                    return None
                row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one()
                kind = {
                    JobStatus.QUEUED: ClaimKind.SUBMIT,
                    JobStatus.SUBMITTING: ClaimKind.RECOVER_SUBMIT,
                    JobStatus.RUNNING: ClaimKind.POLL,
                    JobStatus.DOWNLOADING: ClaimKind.DOWNLOAD,
                }[JobStatus(status)]
                view = self._view(row, ())
                failures = int(row["poll_failures"] or 0)
                if send_at is not None:
                    return PacedClaim(
                        view, kind, expires, failures, send_at=send_at, claimed_at=now, not_before=not_before
                    )
                return ClaimedJob(view, kind, expires, failures)
        return None

    def reserve_late_send(
        self, provider: str, rate: float, now: datetime, missed: datetime | None = None
    ) -> datetime:
        """A fresh send moment for a submit that `missed` the one its claim reserved (its inputs
        took longer than usual), or that reserved none (a re-run after a crash). When nobody
        reserved after the missed moment it is simply given back first; else it stays counted
        (a little rate lost, never broken) and the submit takes the next moment the window
        allows, however far away."""
        self._ensure_pacing_rows([provider], {provider: rate}, now)
        with self._write() as conn:
            recent = self._pacing_row(conn, provider, now)
            if (
                missed is not None
                and recent
                and abs(max(recent) - missed.timestamp()) < 1e-3
                and missed <= now
            ):
                recent.remove(max(recent))  # ours was the last moment given: take it back
            reserved = pacing.reserve_send(recent, now.timestamp(), rate, float("inf"))
            assert reserved is not None  # an unlimited lookahead always reserves
            send_s, _, kept = reserved
            self._set_recent_sends(conn, provider, kept)
            return datetime.fromtimestamp(send_s, UTC)

    def _take_vendor_slot(
        self,
        conn: Connection,
        provider: str,
        limit: int,
        rate: float | None,
        now: datetime,
        lookahead_s: float,
        lead_s: float = 0.0,
    ) -> tuple[datetime, datetime] | None:
        """Under the provider's row lock: a free in-flight slot and (with `rate`) a submit moment
        within `lookahead_s`; the moment to send and the earliest the rate allows, or None when
        either is missing."""
        recent = self._pacing_row(conn, provider, now)
        busy = conn.execute(
            select(func.count())
            .select_from(jobs)
            .where(jobs.c.provider == provider, jobs.c.status.in_(_BUSY))
        ).scalar_one()
        if int(busy) >= limit:
            return None
        if rate is None:
            return now, now
        reserved = pacing.reserve_send(recent, now.timestamp(), rate, lookahead_s, lead_s)
        if reserved is None:
            return None
        send_s, earliest_s, kept = reserved
        self._set_recent_sends(conn, provider, kept)
        return datetime.fromtimestamp(send_s, UTC), datetime.fromtimestamp(earliest_s, UTC)

    def _ensure_pacing_rows(
        self, providers: Collection[str], rates: Mapping[str, float], now: datetime
    ) -> None:
        """Create missing `vendor_pacing` rows, each in a short transaction of its own: inserting
        one inside a claim, with a job row already locked, let two workers starting together
        deadlock on PostgreSQL (each waiting for the other's insert)."""
        made: set[str] = vars(self).setdefault("_pacing_rows_made", set())
        for provider in providers:
            if provider in made:
                continue
            with self._write() as conn:  # one provider per transaction, like the claims
                exists = conn.execute(
                    select(vendor_pacing.c.provider).where(vendor_pacing.c.provider == provider)
                ).first()
                if exists is None:
                    self._insert_pacing_row(conn, provider, now)
            made.add(provider)

    @staticmethod
    def _insert_pacing_row(conn: Connection, provider: str, now: datetime) -> None:
        # No moments reserved yet: the next submit may go at once (`tokens` is unused).
        values = {"provider": provider, "tokens": 0.0, "updated_at": now}
        dialect = conn.dialect.name
        if dialect in ("postgresql", "sqlite"):
            ins = postgresql_insert if dialect == "postgresql" else sqlite_insert
            conn.execute(ins(vendor_pacing).values(values).on_conflict_do_nothing())
        else:
            conn.execute(insert(vendor_pacing).values(values))

    def _pacing_row(self, conn: Connection, provider: str, now: datetime) -> list[float]:
        """The provider's last submit moments reserved (epoch seconds), its row locked for this
        transaction."""
        locked = (
            select(vendor_pacing.c.recent_sends).where(vendor_pacing.c.provider == provider).with_for_update()
        )
        row = conn.execute(locked).first()
        if row is None:  # removed since `_ensure_pacing_rows` saw it: make it again
            self._insert_pacing_row(conn, provider, now)
            row = conn.execute(locked).one()
        try:
            moments = json.loads(row[0] or "[]")
            return [float(moment) for moment in moments]
        except (TypeError, ValueError):
            return []  # unreadable: start afresh (at worst one window's submits early)

    def _set_recent_sends(self, conn: Connection, provider: str, moments: list[float]) -> None:
        conn.execute(
            update(vendor_pacing)
            .where(vendor_pacing.c.provider == provider)
            .values(
                tokens=0.0,
                updated_at=datetime.fromtimestamp(max(moments), UTC),
                recent_sends=json.dumps([round(moment, 6) for moment in moments]),
            )
        )

    def _claim_queued(
        self, conn: Connection, job_id: str, owner: str, now: datetime, expires: datetime
    ) -> bool:
        result = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == str(JobStatus.QUEUED))
            .values(
                status=str(JobStatus.SUBMITTING),
                lease_owner=owner,
                lease_expires_at=expires,
                attempts=jobs.c.attempts + 1,
                started_at=func.coalesce(jobs.c.started_at, now),
                send_started_at=None,  # this attempt has not called the vendor yet
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


def _claimable(recover: ColumnElement[bool] | None, free: Mapping[str, int]) -> ColumnElement[bool] | None:
    """Jobs a claim may take: held ones free to recover, or queued ones of a provider with room."""
    conditions = [] if recover is None else [recover]
    if free:
        conditions.append(and_(jobs.c.status == str(JobStatus.QUEUED), jobs.c.provider.in_(list(free))))
    return or_(*conditions) if conditions else None
