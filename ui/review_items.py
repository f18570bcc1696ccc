"""Which images Review lists: the show filters (decision, favourites, flagged by the product
check) and the providers chosen, over a batch's finished jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from studio.jobs import JobOutput, JobStatus, JobView
from ui.i18n import t

FILTERS = ("all", "unreviewed", "approved", "rejected", "favourites", "flagged")


@dataclass(frozen=True)
class Variant:
    job: JobView
    output: JobOutput


def passes(show: str, review: str | None, *, favourite: bool = False, flagged: bool = False) -> bool:
    """Whether an image with this decision, favourite mark and check result is listed under `show`."""
    return (
        show == "all"
        or (show == "unreviewed" and review is None)
        or (show == "favourites" and favourite)
        or (show == "flagged" and flagged)
        or review == show
    )


def variants(jobs: Sequence[JobView], show: str, chosen_providers: Sequence[str]) -> list[Variant]:
    """Every image of the batch's finished jobs that passes the filters, in batch order."""
    found = []
    for job in jobs:
        if job.status is not JobStatus.SUCCEEDED or (
            chosen_providers and job.provider not in chosen_providers
        ):
            continue
        for output in job.outputs:
            if passes(show, output.review, favourite=output.favourite, flagged=output.flagged):
                found.append(Variant(job, output))
    return found


def filter_label(show: str) -> str:
    """A show filter in words."""
    return t("review_checks.filter.flagged") if show == "flagged" else t(f"review.filter.{show}")
