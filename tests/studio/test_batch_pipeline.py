"""Batch items prepared by the worker just before their turn (issue 16): `Batches.start` copies each
item's source files with a "to prepare" note, the worker (or its prepare-ahead thread) decodes,
fits, cuts out and re-encodes them, and a photo that cannot be prepared fails its own job only."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from providers.base import Operation, ProviderContext
from providers.local import LocalEngine
from studio.jobs import BatchStatus, JobStatus, JobView
from studio.manifest import BatchDefaults, plan_from_manifest
from studio.service import Studio
from studio.settings import load_settings
from studio.worker_prepare import PREPARE_NOTE, PREPARED_NOTE, Preparer
from tests.studio.fakes import FakeClock, SyncFake

DEFAULTS = BatchDefaults(workflow=Operation.PROMPT_BACKGROUND, provider="fake_sync")


def photo(width: int = 320, height: int = 240, fmt: str = "JPEG") -> bytes:
    rng = np.random.default_rng(width * height)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    image[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (30, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, fmt)
    return buffer.getvalue()


def mask(width: int = 320, height: int = 240) -> bytes:
    pixels = np.zeros((height, width), np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture()
def fake() -> SyncFake:
    return SyncFake()


@pytest.fixture()
def studio(tmp_path: Path, fake: SyncFake) -> Iterator[Studio]:
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "data")}, tmp_path / "none.toml")
    adapters = {"fake_sync": fake, "local": LocalEngine(ProviderContext())}
    studio = Studio(settings, adapters=adapters, clock=FakeClock(), worker_threads=0)
    yield studio
    studio.close()


def run_all(studio: Studio, rounds: int = 20) -> None:
    for _ in range(rounds):
        studio.run_pending()
        studio.store._clock.advance(1.0)  # type: ignore[attr-defined]


def error_of(job: JobView) -> tuple[str, str]:
    assert job.error is not None
    return job.error.code, job.error.message


def manifest(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    """rows: (sku, image, mask) relative to `folder`."""
    path = folder / "m.csv"
    path.write_text("sku,image,mask\n" + "".join(f"{sku},{image},{mask_}\n" for sku, image, mask_ in rows))
    return path


def test_start_copies_the_sources_and_the_worker_prepares_them_at_the_turn(
    studio: Studio, fake: SyncFake, tmp_path: Path
) -> None:
    (tmp_path / "shoe.jpg").write_bytes(photo())
    (tmp_path / "shoe_mask.png").write_bytes(mask())
    plan = plan_from_manifest(studio, manifest(tmp_path, [("S1", "shoe.jpg", "shoe_mask.png")]), DEFAULTS)
    assert plan.ok, plan.problems
    (item,) = plan.items
    assert item.request.image.png == b""  # the plan holds the header's facts, not the pixels
    assert (item.request.image.width, item.request.image.height) == (320, 240)

    batch_id = studio.batches.start(plan.items)
    (queued,) = studio.batches.jobs(batch_id)
    assert queued.status is JobStatus.QUEUED and queued.mask_path is None
    spec = queued.notes[PREPARE_NOTE]
    assert spec["name"] == "shoe.jpg" and spec["mask"] and not spec["fit"]
    assert queued.input_path is not None and Path(queued.input_path).name == "source.jpg"
    assert Path(queued.input_path).read_bytes() == (tmp_path / "shoe.jpg").read_bytes()

    run_all(studio)
    (job,) = studio.batches.jobs(batch_id)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert PREPARE_NOTE not in job.notes and PREPARED_NOTE not in job.notes
    assert job.input_path is not None and Path(job.input_path).name == "input.png"
    assert job.mask_path is not None and Image.open(job.mask_path).mode == "L"
    (sent,) = fake.submits
    assert sent.image == Path(job.input_path).read_bytes() and sent.image[:4] == b"\x89PNG"
    assert sent.mask == Path(job.mask_path).read_bytes()


def test_a_photo_that_cannot_be_prepared_fails_its_own_job_with_the_reason(
    studio: Studio, tmp_path: Path
) -> None:
    # The header is a readable 1200x900 JPEG; the pixels after it are missing.
    (tmp_path / "cut.jpg").write_bytes(photo(1200, 900)[:3000])
    (tmp_path / "good.jpg").write_bytes(photo())
    plan = plan_from_manifest(
        studio, manifest(tmp_path, [("CUT", "cut.jpg", ""), ("OK", "good.jpg", "")]), DEFAULTS
    )
    assert plan.ok, plan.problems  # the plan reads headers only
    batch_id = studio.batches.start(plan.items)
    run_all(studio)
    by_sku = {job.sku: job for job in studio.batches.jobs(batch_id)}
    assert by_sku["OK"].status is JobStatus.SUCCEEDED
    failed = by_sku["CUT"]
    assert failed.status is JobStatus.FAILED
    code, message = error_of(failed)
    assert code == "input_unprepared" and "cut.jpg" in message
    progress = studio.batches.progress(batch_id)
    assert progress.batch.status is BatchStatus.DONE
    assert [failure.code for failure in progress.failures] == ["input_unprepared"]

    # Fixed in the job's copy, "retry failed" prepares the same source again.
    assert isinstance(failed.notes.get(PREPARE_NOTE), dict)
    studio.artifacts.absolute(failed.notes[PREPARE_NOTE]["image"]).write_bytes(photo(1200, 900))
    assert studio.batches.retry_failed(batch_id) == 1
    run_all(studio)
    retried = [
        job for job in studio.batches.jobs(batch_id) if job.sku == "CUT" and job.job_id != failed.job_id
    ]
    assert [job.status for job in retried] == [JobStatus.SUCCEEDED]


def test_a_photo_too_heavy_for_the_provider_fails_at_its_turn_unless_fitted(
    studio: Studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    limits = SyncFake.limits[Operation.PROMPT_BACKGROUND]
    monkeypatch.setattr(
        SyncFake,
        "limits",
        {**SyncFake.limits, Operation.PROMPT_BACKGROUND: replace(limits, max_bytes=60_000)},
    )
    (tmp_path / "noisy.jpg").write_bytes(photo(640, 480))  # noise: a PNG of it is far over 60 KB
    path = manifest(tmp_path, [("N", "noisy.jpg", "")])
    as_is = studio.batches.start(plan_from_manifest(studio, path, DEFAULTS).items)
    fitted_plan = plan_from_manifest(
        studio, path, BatchDefaults(Operation.PROMPT_BACKGROUND, "fake_sync", fit=True)
    )
    fitted = studio.batches.start(fitted_plan.items)
    run_all(studio)
    (refused,) = studio.batches.jobs(as_is)
    assert refused.status is JobStatus.FAILED and error_of(refused)[0] == "input_unprepared"
    (made,) = studio.batches.jobs(fitted)
    assert made.status is JobStatus.SUCCEEDED, made.error
    assert made.input_path is not None and Path(made.input_path).stat().st_size <= 60_000


def test_jobs_are_prepared_a_few_ahead_of_their_claim(studio: Studio, tmp_path: Path) -> None:
    rows = []
    for number in range(5):
        (tmp_path / f"p{number}.jpg").write_bytes(photo(200 + number, 200))
        rows.append((f"S{number}", f"p{number}.jpg", ""))
    plan = plan_from_manifest(studio, manifest(tmp_path, rows), DEFAULTS)
    batch_id = studio.batches.start(plan.items)
    ids = [job.job_id for job in studio.batches.jobs(batch_id)]
    preparer = Preparer(studio.store, studio.artifacts, studio.inputs, studio.catalogue, ahead=2)
    try:
        preparer.enqueue(batch_id, ids)

        def prepared() -> list[bool]:
            return [PREPARED_NOTE in job.notes for job in studio.batches.jobs(batch_id)]

        deadline = time.monotonic() + 30
        while sum(prepared()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        # Two ahead, in batch order; the rest wait until the worker takes those.
        assert prepared() == [True, True, False, False, False]
        studio.worker.preparer = preparer
        run_all(studio)
    finally:
        preparer.stop()
    jobs = studio.batches.jobs(batch_id)
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 5
    assert all(Path(job.input_path or "").name == "input.png" for job in jobs)


def test_with_worker_threads_the_first_item_is_sent_at_once(tmp_path: Path, fake: SyncFake) -> None:
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "data")}, tmp_path / "none.toml")
    studio = Studio(settings, adapters={"fake_sync": fake}, worker_threads=2)
    try:
        for number in range(4):
            (tmp_path / f"p{number}.jpg").write_bytes(photo(300, 200 + number))
        rows = [(f"S{number}", f"p{number}.jpg", "") for number in range(4)]
        plan = plan_from_manifest(studio, manifest(tmp_path, rows), DEFAULTS)
        studio.start_worker()
        batch_id = studio.batches.start(plan.items)
        deadline = time.monotonic() + 60
        while studio.batches.progress(batch_id).batch.status is not BatchStatus.DONE:
            assert time.monotonic() < deadline, studio.batches.progress(batch_id)
            time.sleep(0.02)
        assert [job.status for job in studio.batches.jobs(batch_id)] == [JobStatus.SUCCEEDED] * 4
        assert len(fake.submits) == 4 and all(sent.image[:4] == b"\x89PNG" for sent in fake.submits)
    finally:
        studio.close()


def test_a_job_that_stopped_while_being_prepared_runs_again(tmp_path: Path) -> None:
    from tests.studio.fakes import AsyncFake

    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "data")}, tmp_path / "none.toml")
    clock = FakeClock()
    studio = Studio(settings, adapters={"fake_async": AsyncFake()}, clock=clock, worker_threads=0)
    try:
        (tmp_path / "p.jpg").write_bytes(photo())
        plan = plan_from_manifest(
            studio,
            manifest(tmp_path, [("S", "p.jpg", "")]),
            BatchDefaults(workflow=Operation.PROMPT_BACKGROUND, provider="fake_async"),
        )
        batch_id = studio.batches.start(plan.items)
        # Another process claimed it and died while preparing it (the note is still "to prepare").
        claim = studio.store.claim_next("gone:1:x", studio.store.now(), 60.0, {"fake_async": 2}, [])
        assert claim is not None and claim.job.status is JobStatus.SUBMITTING
        clock.advance(120.0)
        run_all(studio, rounds=40)
        (job,) = studio.batches.jobs(batch_id)
        assert job.status is JobStatus.SUCCEEDED, job.error  # not "interrupted_submit": nothing was sent
    finally:
        studio.close()
