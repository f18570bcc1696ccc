"""The store's section for output checks (issue 17): what the fidelity check found per output.

`job_outputs.checks_json` holds the whole check (JSON, `studio.output_checks`), and
`job_outputs.check_flags` the flags alone, comma-separated ("" = checked, nothing found;
NULL = not checked yet), so Review filters flagged images and the scoreboard counts them
without parsing JSON. An automatic rejection goes through the review columns like a
person's, with `decided_by` naming the check, and only on an image nobody reviewed yet:
a reviewer's decision always wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, select, update

from studio.jobs import JobStatus
from studio.migrations import jobs_table, outputs_table
from studio.store_core import StoreCore

# The batch note that makes flagged images rejected automatically (`BatchView.rejects_flagged`).
REJECT_FLAGGED_NOTE = "reject_flagged"
# `decided_by` of a rejection the batch's "reject flagged images" option made.
CHECK_DECIDER = "check:fidelity"


class OutputCheckStore(StoreCore):
    def set_output_checks(
        self, job_id: str, index: int, checks: Mapping[str, Any], flags: Sequence[str]
    ) -> bool:
        """Record one output's check; True when the output exists."""
        values = {
            "checks_json": json.dumps(checks, ensure_ascii=False, sort_keys=True, allow_nan=False),
            "check_flags": ",".join(flags)[:160],
        }
        with self._write() as conn:
            result = conn.execute(
                update(outputs_table)
                .where(outputs_table.c.job_id == job_id, outputs_table.c.idx == index)
                .values(values)
            )
            return result.rowcount == 1

    def reject_unreviewed(self, job_id: str, index: int, by: str = CHECK_DECIDER) -> bool:
        """Reject one output for its check's flags, unless someone already decided on it."""
        with self._write() as conn:
            result = conn.execute(
                update(outputs_table)
                .where(
                    outputs_table.c.job_id == job_id,
                    outputs_table.c.idx == index,
                    outputs_table.c.review.is_(None),
                )
                .values(review="rejected", decided_by=by, reviewed_at=self.now())
            )
            return result.rowcount == 1

    def unchecked_outputs(self, limit: int = 100, batch_id: str | None = None) -> list[tuple[str, int]]:
        """(job id, output index) of finished outputs not checked yet, oldest job first."""
        condition = and_(
            outputs_table.c.check_flags.is_(None), jobs_table.c.status == JobStatus.SUCCEEDED.value
        )
        if batch_id is not None:
            condition = and_(condition, jobs_table.c.batch_id == batch_id)
        query = (
            select(outputs_table.c.job_id, outputs_table.c.idx)
            .join(jobs_table, jobs_table.c.id == outputs_table.c.job_id)
            .where(condition)
            .order_by(jobs_table.c.created_at, outputs_table.c.job_id, outputs_table.c.idx)
            .limit(max(1, limit))
        )
        with self._read() as conn:
            return [(str(row.job_id), int(row.idx)) for row in conn.execute(query)]

    def flagged_share_by_provider(self, batch_id: str | None = None) -> dict[str, tuple[int, int]]:
        """provider -> (flagged outputs, checked outputs), for the Review scoreboard."""
        query = (
            select(jobs_table.c.provider, outputs_table.c.check_flags)
            .join(jobs_table, jobs_table.c.id == outputs_table.c.job_id)
            .where(outputs_table.c.check_flags.is_not(None))
        )
        if batch_id is not None:
            query = query.where(jobs_table.c.batch_id == batch_id)
        counts: dict[str, tuple[int, int]] = {}
        with self._read() as conn:
            for row in conn.execute(query):
                provider = str(row.provider)
                flagged, checked = counts.get(provider, (0, 0))
                counts[provider] = (flagged + (1 if row.check_flags else 0), checked + 1)
        return counts
