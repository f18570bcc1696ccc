"""The store's output-check records (issue 17): flags per output, automatic rejection, the scoreboard."""

from __future__ import annotations

from typing import Any

from studio.artifacts import Artifacts
from studio.jobs import JobStatus
from studio.store import NewBatch, NewOutput, Store
from studio.store_checks import CHECK_DECIDER
from tests.studio.conftest import queue_job

SLOTS = {"fake_sync": 10, "local": 10, "dashscope": 10}


def _finished(store: Store, artifacts: Artifacts, outputs: int = 2, **fields: Any) -> str:
    job_id = queue_job(store, artifacts, **fields)
    claimed = store.claim_next("w1", store.now(), 30.0, SLOTS)
    assert claimed is not None and claimed.job.job_id == job_id
    made = [NewOutput(i, f"jobs/x/out_{i:02d}.png", 10, 10) for i in range(1, outputs + 1)]
    assert store.finish(job_id, {JobStatus.SUBMITTING}, JobStatus.SUCCEEDED, made, owner="w1", images=outputs)
    return job_id


def test_an_output_reads_back_unchecked_then_with_its_check(store: Store, artifacts: Artifacts) -> None:
    job_id = _finished(store, artifacts)
    view = store.get_job(job_id)
    assert view is not None
    assert [o.check_flags for o in view.outputs] == [None, None]
    assert not view.outputs[0].flagged
    assert store.unchecked_outputs() == [(job_id, 1), (job_id, 2)]

    check = {"version": 1, "product": {"flags": ["colour_shift"], "colour_de": 9.1}}
    assert store.set_output_checks(job_id, 1, check, ["colour_shift"])
    assert store.set_output_checks(job_id, 2, {"version": 1, "product": {"flags": []}}, [])
    assert not store.set_output_checks(job_id, 3, check, [])  # no such output

    first, second = store.get_job(job_id).outputs  # type: ignore[union-attr]
    assert first.check_flags == ("colour_shift",) and first.flagged
    assert first.checks == check
    assert second.check_flags == () and not second.flagged
    assert store.unchecked_outputs() == []


def test_unfinished_jobs_are_not_offered_for_checking(store: Store, artifacts: Artifacts) -> None:
    queue_job(store, artifacts)
    assert store.unchecked_outputs() == []


def test_an_automatic_rejection_never_overrides_a_person(store: Store, artifacts: Artifacts) -> None:
    job_id = _finished(store, artifacts)
    assert store.set_review(job_id, 2, review="approved", by="ana@example.com")
    assert store.reject_unreviewed(job_id, 1)
    assert not store.reject_unreviewed(job_id, 2)
    first, second = store.get_job(job_id).outputs  # type: ignore[union-attr]
    assert (first.review, first.decided_by) == ("rejected", CHECK_DECIDER)
    assert (second.review, second.decided_by) == ("approved", "ana@example.com")


def test_flagged_share_per_provider(store: Store, artifacts: Artifacts) -> None:
    a = _finished(store, artifacts, outputs=2, provider="fake_sync")
    b = _finished(store, artifacts, outputs=1, provider="local")
    store.set_output_checks(a, 1, {}, ["shape_changed", "detail_lost"])
    store.set_output_checks(a, 2, {}, [])
    store.set_output_checks(b, 1, {}, [])
    assert store.flagged_share_by_provider() == {"fake_sync": (1, 2), "local": (0, 1)}


def test_batch_options_live_in_its_notes(store: Store) -> None:
    store.create_batch(NewBatch("b1", name="Spring"), [])
    batch = store.get_batch("b1")
    assert batch is not None and not batch.rejects_flagged
    assert store.set_batch_note("b1", "reject_flagged", True)
    assert store.get_batch("b1").rejects_flagged  # type: ignore[union-attr]
    assert store.set_batch_note("b1", "reject_flagged", None)
    assert not store.get_batch("b1").rejects_flagged  # type: ignore[union-attr]
    assert not store.set_batch_note("nope", "reject_flagged", True)
