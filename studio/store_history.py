"""History queries: filter, group and page jobs in SQL, never loading every row.

The History page stays fast with 100,000 jobs: pages count and fetch by index,
exports walk rows by keyset, totals and daily stats aggregate in the database.

Who sees which jobs (`JobFilter.viewer`, issue 15): an admin sees every job; anyone
else sees the jobs they made plus every job of a batch they started or one marked
shared. Jobs from before the studio recorded who made them (created_by NULL) are
seen by admins only. Viewers make no jobs, so they see the shared batches' jobs:
what review needs, read-only by their role.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from studio.jobs import DayStat, JobFilter, JobPage, JobRow, JobStatus, ProviderTotal
from studio.migrations import batches_table as batches
from studio.migrations import jobs_table as jobs
from studio.people import Person
from studio.store_core import MAX_PAGE_SIZE, ROW_COLUMNS, StoreCore, amount_text, first_thumbnail


class HistoryQueries(StoreCore):
    """The History page and exports: pages, row walks, totals per provider and per day."""

    # ------------------------------------------------------------ history
    def list_jobs(self, filters: JobFilter, page: int = 1, page_size: int = 50) -> JobPage:
        """One page of History, newest first; `total` counts every matching job."""
        if page < 1:
            raise ValueError(f"page must be 1 or more, got {page}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        where = self._where(filters)
        query = (
            select(*ROW_COLUMNS, first_thumbnail())
            .where(*self._where(filters, ordered_rows=True))
            .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        with self._read() as conn:
            total = int(conn.execute(select(func.count()).select_from(jobs).where(*where)).scalar_one())
            rows = tuple(self._row(r) for r in conn.execute(query).mappings())
        return JobPage(rows=rows, total=total, page=page, page_size=page_size)

    def iter_rows(self, filters: JobFilter, chunk: int = 2000) -> Iterator[JobRow]:
        """Every matching row, newest first, fetched `chunk` at a time by keyset (no deep OFFSET)."""
        where = self._where(filters, ordered_rows=True)
        after: tuple[datetime, str] | None = None
        while True:
            query = select(*ROW_COLUMNS, first_thumbnail()).where(*where)
            if after is not None:
                # The plain `<=` is redundant for the result but gives the planner an index range;
                # with the OR alone SQLite rescans from the newest row for every chunk.
                query = query.where(
                    jobs.c.created_at <= after[0],
                    or_(
                        jobs.c.created_at < after[0],
                        and_(jobs.c.created_at == after[0], jobs.c.id < after[1]),
                    ),
                )
            query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(chunk)
            with self._read() as conn:
                batch = [self._row(r) for r in conn.execute(query).mappings()]
            yield from batch
            if len(batch) < chunk:
                return
            after = (batch[-1].created_at, batch[-1].job_id)

    def provider_totals(self, filters: JobFilter) -> list[ProviderTotal]:
        """Jobs, images and spend per provider and currency; amounts in different currencies stay apart."""
        query = (
            select(
                jobs.c.provider,
                jobs.c.cost_currency,
                func.count().label("jobs"),
                func.coalesce(func.sum(jobs.c.images), 0).label("images"),
                func.sum(jobs.c.cost_minor).label("amount"),
                func.sum(case((jobs.c.status == str(JobStatus.SUCCEEDED), 1), else_=0)).label("succeeded"),
                func.sum(case((jobs.c.status == str(JobStatus.FAILED), 1), else_=0)).label("failed"),
            )
            .where(*self._where(filters))
            .group_by(jobs.c.provider, jobs.c.cost_currency)
            .order_by(jobs.c.provider, jobs.c.cost_currency)
        )
        with self._read() as conn:
            return [
                ProviderTotal(
                    provider=r.provider,
                    currency=r.cost_currency,
                    jobs=int(r.jobs),
                    images=int(r.images),
                    amount=amount_text(r.amount, r.cost_currency),
                    succeeded=int(r.succeeded or 0),
                    failed=int(r.failed or 0),
                )
                for r in conn.execute(query)
            ]

    def daily_stats(self, filters: JobFilter) -> list[DayStat]:
        """Images and spend per calendar day, provider and currency, oldest day first."""
        query = (
            select(
                jobs.c.created_day,
                jobs.c.provider,
                jobs.c.cost_currency,
                func.coalesce(func.sum(jobs.c.images), 0).label("images"),
                func.sum(jobs.c.cost_minor).label("amount"),
            )
            .where(*self._where(filters))
            .group_by(jobs.c.created_day, jobs.c.provider, jobs.c.cost_currency)
            .order_by(jobs.c.created_day, jobs.c.provider, jobs.c.cost_currency)
        )
        with self._read() as conn:
            return [
                DayStat(
                    day=date.fromisoformat(r.created_day),
                    provider=r.provider,
                    currency=r.cost_currency,
                    images=int(r.images),
                    amount=amount_text(r.amount, r.cost_currency),
                )
                for r in conn.execute(query)
            ]

    def job_people(self, viewer: Person | None = None) -> list[str]:
        """Every person key that made a job `viewer` may see (None: everyone's), sorted."""
        query = select(jobs.c.created_by).where(jobs.c.created_by.is_not(None)).distinct()
        if viewer is not None and not viewer.can("see_everyone"):
            query = query.where(visible_jobs(viewer))
        with self._read() as conn:
            found: list[Any] = list(conn.execute(query).scalars())
            return sorted(str(value) for value in found)

    def _where(self, filters: JobFilter, *, ordered_rows: bool = False) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if filters.person is not None:
            where.append(jobs.c.created_by == filters.person)
        if filters.viewer is not None and not filters.viewer.can("see_everyone"):
            where.append(visible_jobs(filters.viewer))
        if filters.date_from is not None:
            where.append(jobs.c.created_day >= filters.date_from.isoformat())
        if filters.date_to is not None:
            where.append(jobs.c.created_day <= filters.date_to.isoformat())
        if ordered_rows:
            # created_day is exact. For row queries walked in created_at order, a looser created_at
            # bound (a day of slack for time-zone changes) lets the scan stop at the range's edge
            # instead of reading the whole table; aggregates skip it to stay index-only.
            if filters.date_from is not None:
                where.append(jobs.c.created_at >= self._midnight(filters.date_from) - timedelta(days=1))
            if filters.date_to is not None:
                where.append(jobs.c.created_at < self._midnight(filters.date_to) + timedelta(days=2))
        if filters.workflows:
            where.append(jobs.c.workflow.in_([str(w) for w in filters.workflows]))
        if filters.providers:
            where.append(jobs.c.provider.in_(list(filters.providers)))
        if filters.statuses:
            where.append(jobs.c.status.in_([str(s) for s in filters.statuses]))
        text = filters.text.strip()
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                or_(
                    jobs.c.prompt.ilike(pattern, escape="\\"),
                    jobs.c.product_title.ilike(pattern, escape="\\"),
                    jobs.c.scene_id.ilike(pattern, escape="\\"),
                    jobs.c.id.ilike(pattern, escape="\\"),
                )
            )
        return where


def visible_batches(viewer: Person) -> ColumnElement[bool]:
    """The batches a person who cannot see everyone sees: their own and the shared ones."""
    return or_(batches.c.shared == 1, batches.c.created_by == viewer.key)


def visible_jobs(viewer: Person) -> ColumnElement[bool]:
    """The jobs a person who cannot see everyone sees: their own, and those of batches they see."""
    return or_(
        jobs.c.created_by == viewer.key,
        jobs.c.batch_id.in_(select(batches.c.id).where(visible_batches(viewer))),
    )
