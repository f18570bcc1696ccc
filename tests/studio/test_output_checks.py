"""Every output checked against its input product (issue 17): recorded per output, batch
auto-reject, failures that never touch the job, the AI label in every stored file."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import update

from imaging import provenance
from providers.base import GenerationRequest, Operation, OutputImage, Submitted, TaskState, TaskUpdate
from studio.cli import job_to_dict
from studio.jobs import JobStatus
from studio.migrations import jobs_table
from studio.output_checks import CHECK_NICENESS, lower_thread_priority
from studio.service import JobRequest, Studio
from studio.settings import load_settings
from studio.store import NewBatch
from studio.store_checks import CHECK_DECIDER
from tests.studio.fakes import FakeClock, SyncFake

W, H = 480, 360


def _product_photo() -> np.ndarray:
    """A grey studio photo of a printed box: stripes, a ring and a dark band give it structure."""
    photo = np.full((H, W, 3), 236, np.uint8)
    box = np.zeros((200, 150, 3), np.uint8)
    box[:] = (40, 110, 190)
    box[::12] = (230, 200, 40)
    cv2.circle(box, (75, 80), 38, (250, 250, 250), 6)
    box[150:175, 15:135] = (20, 20, 30)
    photo[80:280, 165:315] = box
    return photo


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def _relaid(photo: np.ndarray, *, scale: float, shift: tuple[int, int], hue: bool = False) -> bytes:
    """The product moved and scaled onto a new warm background (what a vendor might send back)."""
    product = photo[80:280, 165:315]
    if hue:
        product = product[..., ::-1].copy()  # blue box -> orange box: a colour change
    size = (int(150 * scale), int(200 * scale))
    resized = cv2.resize(product, size, interpolation=cv2.INTER_AREA)
    out = np.zeros((H, W, 3), np.uint8)
    out[:] = np.linspace(150, 210, W, dtype=np.uint8)[None, :, None] * np.array([1.0, 0.9, 0.8])
    y, x = shift
    out[y : y + size[1], x : x + size[0]] = resized
    return _png(out)


class Scripted(SyncFake):
    key: ClassVar[str] = "scripted"
    label: ClassVar[str] = "Scripted vendor"

    def __init__(self) -> None:
        super().__init__()
        self.outputs: list[bytes] = []

    def submit(self, request: GenerationRequest) -> Submitted:
        images = tuple(OutputImage(data=data) for data in self.outputs)
        return Submitted(remote_id=None, update=TaskUpdate(TaskState.SUCCEEDED, outputs=images))


@pytest.fixture()
def made(tmp_path: Path) -> Iterator[tuple[Studio, Scripted]]:
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "data")}, tmp_path / "none.toml")
    vendor = Scripted()
    studio = Studio(settings, adapters={"scripted": vendor}, clock=FakeClock(), worker_threads=0)
    yield studio, vendor
    studio.close()


def _run(studio: Studio) -> str:
    image = studio.prepare_image(_png(_product_photo()), "box.png")
    job_id = studio.submit_job(
        JobRequest(workflow=Operation.PROMPT_BACKGROUND, provider="scripted", image=image)
    )
    studio.run_pending()
    return job_id


def test_a_faithful_relayout_passes_and_a_recoloured_product_is_flagged(
    made: tuple[Studio, Scripted],
) -> None:
    studio, vendor = made
    photo = _product_photo()
    vendor.outputs = [
        _relaid(photo, scale=1.2, shift=(60, 40)),
        _relaid(photo, scale=0.8, shift=(120, 250), hue=True),
    ]
    job_id = _run(studio)
    assert studio.get_job(job_id).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]
    assert [o.check_flags for o in studio.get_job(job_id).outputs] == [None, None]  # type: ignore[union-attr]
    assert studio.check_outputs(job_id) == 2
    assert studio.check_outputs(job_id) == 0  # each output is checked once
    faithful, recoloured = studio.get_job(job_id).outputs  # type: ignore[union-attr]
    assert faithful.check_flags == ()
    assert "colour_shift" in (recoloured.check_flags or ())
    reasons = recoloured.checks["product"]["reasons"]  # type: ignore[index]
    assert any(r["flag"] == "colour_shift" and r["key"].startswith("fidelity.") for r in reasons)
    # `jobs show --json` prints the same per output.
    shown = job_to_dict(studio.get_job(job_id))  # type: ignore[arg-type]
    assert shown["outputs"][1]["check_flags"] == list(recoloured.check_flags or ())
    assert shown["outputs"][1]["checks"]["product"]["flags"] == list(recoloured.check_flags or ())


def test_a_batch_that_rejects_flagged_images_rejects_only_unreviewed_ones(
    made: tuple[Studio, Scripted],
) -> None:
    studio, vendor = made
    photo = _product_photo()
    vendor.outputs = [
        _relaid(photo, scale=1.0, shift=(80, 160), hue=True),
        _png(np.full((H, W, 3), 200, np.uint8)),
    ]
    job_id = _run(studio)
    studio.store.create_batch(NewBatch("b1", notes={"reject_flagged": True}), [])
    with studio.store.writing() as conn:
        conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(batch_id="b1"))
    studio.store.set_review(job_id, 2, review="approved", by="ana@example.com")
    studio.check_outputs(job_id)
    first, second = studio.get_job(job_id).outputs  # type: ignore[union-attr]
    assert first.flagged and (first.review, first.decided_by) == ("rejected", CHECK_DECIDER)
    assert "product_missing" in (second.check_flags or ())  # nothing of the product in a plain grey image
    assert (second.review, second.decided_by) == ("approved", "ana@example.com")  # a person's decision wins


def test_a_check_that_fails_is_recorded_and_leaves_the_job_alone(made: tuple[Studio, Scripted]) -> None:
    studio, vendor = made
    vendor.outputs = [_relaid(_product_photo(), scale=1.0, shift=(80, 160))]
    job_id = _run(studio)
    output = studio.get_job(job_id).outputs[0]  # type: ignore[union-attr]
    Path(output.path).write_bytes(b"not an image any more")
    assert studio.check_outputs(job_id) == 1
    view = studio.get_job(job_id)
    assert view is not None and view.status is JobStatus.SUCCEEDED
    checked = view.outputs[0]
    assert checked.check_flags == () and "error" in (checked.checks or {})


def test_every_stored_output_carries_its_ai_label(made: tuple[Studio, Scripted]) -> None:
    studio, vendor = made
    vendor.outputs = [_relaid(_product_photo(), scale=1.0, shift=(80, 160))]
    job_id = _run(studio)
    stored = Path(studio.get_job(job_id).outputs[0].path).read_bytes()  # type: ignore[union-attr]
    label = provenance.read(stored)
    assert label is not None
    assert label.source_type == "compositeWithTrainedAlgorithmicMedia"
    assert (label.provider, label.provider_label, label.job_id) == ("scripted", "Scripted vendor", job_id)
    assert label.tool == "Backdrop Studio"


def test_the_queue_checks_jobs_on_its_thread_and_can_be_drained(made: tuple[Studio, Scripted]) -> None:
    studio, vendor = made
    vendor.outputs = [_relaid(_product_photo(), scale=1.0, shift=(80, 160))]
    job_id = _run(studio)
    studio.check_queue.enqueue(job_id)
    assert studio.check_queue.drain(60)
    assert studio.get_job(job_id).outputs[0].check_flags == ()  # type: ignore[union-attr]


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="thread priorities are a Linux/Unix feature")
def test_the_checks_run_at_a_lower_cpu_priority_than_the_worker() -> None:
    # A check is never urgent; a vendor hand-off is: the check thread gives way on a busy machine.
    seen: list[tuple[int, int]] = []

    def body() -> None:
        thread = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, thread)
        lower_thread_priority()
        seen.append((before, os.getpriority(os.PRIO_PROCESS, thread)))

    runner = threading.Thread(target=body)
    runner.start()
    runner.join()
    ((before, after),) = seen
    assert after == min(19, before + CHECK_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # only that thread
