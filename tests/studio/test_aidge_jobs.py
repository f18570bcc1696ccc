"""Aidge jobs through the whole studio (settings from the environment, store, worker) against the emulator."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from providers.base import Money, Operation
from studio.jobs import JobFilter, JobStatus, JobView
from studio.service import JobRequest, Studio, StudioInputError
from studio.settings import SettingsError, load_settings
from tests.emulators.aidge import API_SCENE_QUERY, API_SCENE_SUBMIT, AidgeEmulator
from tests.studio.fakes import FakeClock

KEY, SECRET = "studio-key", "studio-secret-0123456789"


def photo(width: int = 700, height: int = 600) -> bytes:
    pixels = np.full((height, width, 3), 236, np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (40, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(KEY, SECRET, queries_to_finish=3) as running:
        yield running


def environment(emulator: AidgeEmulator, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "STUDIO_DATA_DIR": str(data_dir),
        "AIDGE_ACCESS_KEY_NAME": KEY,
        "AIDGE_ACCESS_KEY_SECRET": SECRET,
        "AIDGE_API_BASE": emulator.base_url,
        "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
        "AIDGE_POLL_INTERVAL_S": "0.1",
        **extra,
    }


def open_studio(env: dict[str, str], tmp_path: Path, clock: FakeClock) -> Studio:
    settings = load_settings(env, secrets_path=tmp_path / "none.toml")
    return Studio(settings, clock=clock, worker_threads=0)


def run_until_done(studio: Studio, clock: FakeClock, job_id: str, steps: int = 40) -> JobView:
    for _ in range(steps):
        studio.run_pending()
        view = studio.get_job(job_id)
        assert view is not None
        if not view.is_pending:
            return view
        clock.advance(0.5)
    raise AssertionError(f"job {job_id} did not finish: {view}")


def scene_request(studio: Studio, **changes: object) -> JobRequest:
    fields: dict[str, object] = {
        "workflow": Operation.SCENE_BACKGROUND,
        "provider": "aidge",
        "image": studio.prepare_image(photo(), "bottle.png"),
        "scene_id": "mod002",
        "size": (800, 800),
    }
    fields.update(changes)
    return JobRequest(**fields)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    # Real time: the emulator checks the signature's timestamp against its own clock.
    return FakeClock(time.time())


def test_a_scene_job_runs_to_stored_outputs_with_the_users_price(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    env = environment(emulator, tmp_path / "data", AIDGE_PRICE_SCENE="0.12 USD")
    studio = open_studio(env, tmp_path, clock)
    try:
        job_id = studio.submit_job(scene_request(studio))  # count: Aidge's default of 4
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED, view.error
        assert view.images == 4 and len(view.outputs) == 4
        assert view.cost == Money(48, "USD") and view.cost_estimate == Money(48, "USD")
        for output in view.outputs:
            assert (tmp_path / "data" / output.path).is_file()
            assert (output.width, output.height) == (800, 800)
            assert output.source_url and output.source_url.startswith(emulator.base_url)
        assert view.remote_id and view.remote_id.endswith(view.notes["aidge_task_id"])
        assert emulator.submits(API_SCENE_SUBMIT) == 1
    finally:
        studio.close()


def test_without_a_price_the_cost_is_not_made_up(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data"), tmp_path, clock)
    try:
        job_id = studio.submit_job(scene_request(studio, count=2))
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED and view.cost is None and view.cost_estimate is None
        info = next(item for item in studio.providers() if item.key == "aidge")
        assert info.prices[Operation.SCENE_BACKGROUND].per_image is None
    finally:
        studio.close()


def test_a_malformed_price_setting_says_how_to_write_it(emulator: AidgeEmulator, tmp_path: Path) -> None:
    env = environment(emulator, tmp_path / "data", AIDGE_PRICE_MODEL="twelve cents")
    with pytest.raises(SettingsError, match="AIDGE_PRICE_MODEL .* like 0.12 USD"):
        open_studio(env, tmp_path, FakeClock(time.time()))


def test_after_a_crash_the_job_resumes_polling_the_same_task_and_is_never_resubmitted(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    env = environment(emulator, tmp_path / "data")
    first = open_studio(env, tmp_path, clock)
    job_id = first.submit_job(scene_request(first, count=2))
    first.run_pending()  # submitted; the task id is stored at once
    submitted = first.get_job(job_id)
    assert submitted is not None and submitted.status is JobStatus.RUNNING and submitted.remote_id
    clock.advance(1)
    # The first process takes the job for a poll and dies before asking.
    owner = first.worker.owner
    assert first.store.claim_next(owner, first.store.now(), 30, {}) is not None
    first.store.close()

    second = open_studio(env, tmp_path, clock)
    try:
        assert second.run_pending() == 0  # the dead process's lease still holds
        clock.advance(31)
        view = run_until_done(second, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED and view.images == 2
        assert view.remote_id == submitted.remote_id
        assert emulator.submits(API_SCENE_SUBMIT) == 1
        task_id = submitted.remote_id.split(":", 1)[1]
        queried = {call.query.get("taskId") for call in emulator.requests if call.api == API_SCENE_QUERY}
        assert queried == {task_id}
    finally:
        second.close()


def test_a_job_that_died_while_being_sent_is_failed_not_sent_again(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    env = environment(emulator, tmp_path / "data")
    first = open_studio(env, tmp_path, clock)
    job_id = first.submit_job(scene_request(first, count=2))
    assert first.store.claim_next(first.worker.owner, first.store.now(), 30, {"aidge": 4}) is not None
    # Died inside the submit call: its start was recorded, no task id was.
    first.store.update_leased(
        job_id, first.worker.owner, JobStatus.SUBMITTING, send_started_at=first.store.now()
    )
    first.store.close()
    second = open_studio(env, tmp_path, clock)
    try:
        clock.advance(31)
        view = run_until_done(second, clock, job_id)
        assert view.status is JobStatus.FAILED and view.error is not None
        assert view.error.code == "interrupted_submit" and "Aidge console" in view.error.message
        assert emulator.submits() == 0
    finally:
        second.close()


def test_a_job_whose_worker_died_before_sending_it_is_sent_once_by_another(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    # Killed while the job waited for its turn (inputs, its submit moment): nothing reached Aidge,
    # so the next worker sends it, once, instead of failing it as interrupted.
    env = environment(emulator, tmp_path / "data")
    first = open_studio(env, tmp_path, clock)
    job_id = first.submit_job(scene_request(first, count=2))
    assert first.store.claim_next(first.worker.owner, first.store.now(), 30, {"aidge": 4}) is not None
    first.store.close()
    second = open_studio(env, tmp_path, clock)
    try:
        clock.advance(31)
        view = run_until_done(second, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED and view.attempts == 2
        assert emulator.submits() == 1
    finally:
        second.close()


def test_throttling_is_retried_no_sooner_than_the_servers_hint(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data"), tmp_path, clock)
    try:
        emulator.gateway_error_next("rate_limit", retry_after_s=40)
        job_id = studio.submit_job(scene_request(studio, count=2))
        studio.run_pending()
        view = studio.get_job(job_id)
        assert view is not None and view.status is JobStatus.QUEUED and view.error is not None
        assert view.error.code == "ApiCallLimit"  # the gateway's own code from the 429's body
        clock.advance(30)
        studio.run_pending()
        assert emulator.submits() == 0  # still waiting out the hint
        clock.advance(15)
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED and emulator.submits() == 1
    finally:
        studio.close()


@pytest.mark.parametrize(
    ("res_code", "code", "words"),
    [
        (700, "700", "Aidge rejected the input"),
        (1000, "1000", "sensitive content"),
        (1002, "1002", "content filter"),
    ],
)
def test_a_non_retryable_vendor_error_fails_the_job_with_the_vendor_code(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock, res_code: int, code: str, words: str
) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data"), tmp_path, clock)
    try:
        emulator.fail_next(API_SCENE_SUBMIT, res_code)
        job_id = studio.submit_job(scene_request(studio, count=2))
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.FAILED and view.error is not None
        assert view.error.code == code and words in view.error.message
        assert view.attempts <= 1
    finally:
        studio.close()


def test_a_retryable_vendor_error_is_retried_then_succeeds(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data"), tmp_path, clock)
    try:
        emulator.fail_next(API_SCENE_SUBMIT, 500)
        job_id = studio.submit_job(scene_request(studio, count=2))
        for _ in range(20):
            studio.run_pending()
            clock.advance(5)
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED and emulator.submits() == 1
    finally:
        studio.close()


def test_model_swap_params_use_the_vendors_names_and_ranges(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data"), tmp_path, clock)
    try:
        image = studio.prepare_image(photo(600, 900), "dress.png")
        request = JobRequest(
            workflow=Operation.MODEL_SWAP,
            provider="aidge",
            image=image,
            params={"model": "universal_model_3", "bgStyle": "room", "count": "3", "age": "YOUTH"},
        )
        job_id = studio.submit_job(request)
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED and view.count == 3 and view.images == 3
        body = json.loads((emulator.requests[0].body or {})["requestParams"])[0]
        assert (body["model"], body["bgStyle"], body["maskKeepbg"], body["age"]) == (
            "universal_model_3",
            "room",
            "false",
            "YOUTH",
        )
        for bad, message in (
            ({"count": "5"}, "1 to 4 images"),
            ({"dimension": "100"}, "dimension: 100 is below the minimum 512"),
            ({"bgStyle": "mars"}, "bgStyle: 'mars' is not one of"),
            ({"hair": "red"}, "unknown option"),
        ):
            with pytest.raises(StudioInputError, match=message):
                studio.submit_job(JobRequest(Operation.MODEL_SWAP, "aidge", image, params=bad))
    finally:
        studio.close()


def test_inputs_are_checked_before_any_money_is_spent(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data"), tmp_path, clock)
    try:
        small = studio.prepare_image(photo(400, 600), "small.png")
        with pytest.raises(StudioInputError, match="400x600 px; Aidge needs 513-2999 px per side") as caught:
            studio.submit_job(scene_request(studio, image=small))
        assert caught.value.code == "provider_too_small"
        fit = studio.check_image_fit(small, "aidge", Operation.SCENE_BACKGROUND)
        assert not fit.ok and not fit.fixable

        big = studio.prepare_image(photo(3600, 2400), "big.png")
        fit = studio.check_image_fit(big, "aidge", Operation.SCENE_BACKGROUND)
        assert not fit.ok and fit.fixable and fit.downscale_to == (2999, 1999)
        with pytest.raises(StudioInputError) as caught:
            studio.submit_job(scene_request(studio, image=big))
        assert caught.value.code == "provider_too_large"
        fixed = studio.fit_image(big, "aidge", Operation.SCENE_BACKGROUND)
        assert (fixed.width, fixed.height) == (2999, 1999) and "downscaled from 3600x2400" in fixed.notes[-1]
        assert studio.check_image_fit(fixed, "aidge", Operation.SCENE_BACKGROUND).ok

        for size in ((1000, 1000), (640, 640)):
            with pytest.raises(StudioInputError, match="800x800, 750x1000"):
                studio.submit_job(scene_request(studio, size=size))
        with pytest.raises(StudioInputError, match="2 to 10 images"):
            studio.submit_job(scene_request(studio, count=11))
        with pytest.raises(StudioInputError, match="imageNum=3 contradicts --count 5"):
            studio.submit_job(scene_request(studio, count=5, params={"imageNum": "3"}))
        assert emulator.submits() == 0 and studio.list_jobs(JobFilter()).total == 0
    finally:
        studio.close()


def test_settings_report_configuration_and_test_the_connection(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data", AIDGE_TRIAL="true"), tmp_path, clock)
    try:
        info = next(item for item in studio.providers() if item.key == "aidge")
        assert info.configured and info.endpoint == emulator.base_url and info.options["trial"] == "true"
        report = studio.test_connection("aidge")
        assert report.ok and report.elapsed_ms >= 0
        assert emulator.requests[-1].headers.get("x-iop-trial") == "true"
        assert SECRET not in repr(studio.settings) and SECRET not in repr(info)
    finally:
        studio.close()
    wrong = environment(emulator, tmp_path / "data2", AIDGE_ACCESS_KEY_SECRET="not-the-secret")
    studio = open_studio(wrong, tmp_path, clock)
    try:
        report = studio.test_connection("aidge")
        assert not report.ok and "AIDGE_ACCESS_KEY_SECRET" in report.message
        assert "not-the-secret" not in report.message
    finally:
        studio.close()
    unconfigured = open_studio({"STUDIO_DATA_DIR": str(tmp_path / "data3")}, tmp_path, clock)
    try:
        report = unconfigured.test_connection("aidge")
        assert not report.ok and "AIDGE_ACCESS_KEY_NAME" in report.message
        info = next(item for item in unconfigured.providers() if item.key == "aidge")
        assert not info.configured and info.missing_env == (
            "AIDGE_ACCESS_KEY_NAME",
            "AIDGE_ACCESS_KEY_SECRET",
        )
        assert info.endpoint == "https://api.aidc-ai.com"
    finally:
        unconfigured.close()


def test_the_scene_catalogue_is_cached(emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data"), tmp_path, clock)
    try:
        first = studio.list_scenes("aidge", {"categoryType": "7"})
        again = studio.list_scenes("aidge", {"categoryType": "7", "sceneType": ""})
        assert first == again and len(emulator.requests) == 1
        studio.forget_scenes()
        studio.list_scenes("aidge", {"categoryType": "7"})
        assert len(emulator.requests) == 2
    finally:
        studio.close()


def test_a_mask_is_refused_for_a_provider_that_cuts_out_itself(
    emulator: AidgeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(environment(emulator, tmp_path / "data"), tmp_path, clock)
    try:
        mask = io.BytesIO()
        Image.new("L", (700, 600), 255).save(mask, "PNG")
        with pytest.raises(StudioInputError, match="takes no mask") as caught:
            studio.submit_job(scene_request(studio, mask_png=mask.getvalue()))
        assert caught.value.code == "mask_not_taken" and emulator.submits() == 0
    finally:
        studio.close()
