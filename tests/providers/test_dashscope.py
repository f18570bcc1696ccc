"""The DashScope adapter against its loopback emulator, and the emulator's own checks.

Covers: temporary-storage hosting inside submit (getPolicy + OSS form upload, oss:// + resolve
header), the base image built from photo + mask, the documented fields and options, the task walk,
every documented error code (table-driven), task failures, answer-shape tolerance, and secrets.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests  # type: ignore[import-untyped, unused-ignore]
from PIL import Image

from providers.base import EdgeGuide, GenerationRequest, Operation, ProviderContext, TaskState
from providers.dashscope import DEFAULT_BASE_URL, MODEL, DashScope
from providers.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentRejectedError,
    InputRejectedError,
    ProviderError,
    ProviderUnavailableError,
    QuotaExhaustedError,
    RateLimitedError,
    TaskNotFoundError,
    UnexpectedResponseError,
)
from providers.http import new_session
from tests.emulators.dashscope import SUBMIT_PATH, SYNC_REFUSED, DashScopeEmulator
from tests.emulators.static_files import StaticFiles

API_KEY = "sk-studio-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ images
def _png(pixels: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, "PNG")
    return buffer.getvalue()


def photo(width: int = 320, height: int = 240) -> bytes:
    """An opaque RGB product shot: grey background, blue box in the middle."""
    pixels = np.full((height, width, 3), 230, np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (30, 90, 200)
    return _png(pixels)


def mask(width: int = 320, height: int = 240) -> bytes:
    pixels = np.zeros((height, width), np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = 255
    return _png(pixels)


def cutout(width: int = 320, height: int = 240) -> bytes:
    """An RGBA product on a transparent background."""
    pixels = np.zeros((height, width, 4), np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (200, 40, 40, 255)
    return _png(pixels)


def reference(width: int = 200, height: int = 150) -> bytes:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2] = (120, 170, 230)
    pixels[height // 2 :] = (90, 140, 60)
    return _png(pixels)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def emulator() -> Iterator[DashScopeEmulator]:
    with DashScopeEmulator(API_KEY, queries_to_finish=3) as running:
        yield running


@pytest.fixture
def static() -> Iterator[StaticFiles]:
    server = StaticFiles()
    yield server
    server.close()


def make_adapter(
    emulator: DashScopeEmulator, *, api_key: str = API_KEY, endpoint: str | None = None, **options: str
) -> DashScope:
    context = ProviderContext(
        credentials={"api_key": api_key},
        endpoint=endpoint if endpoint is not None else emulator.api_url,
        session=new_session(),
        options=options,
    )
    return DashScope(context)


def request(**changes: Any) -> GenerationRequest:
    params = DashScope.check_params(Operation.PROMPT_BACKGROUND, changes.pop("params", {}))
    fields: dict[str, Any] = {
        "operation": Operation.PROMPT_BACKGROUND,
        "image": photo(),
        "mask": mask(),
        "prompt": "marble table, soft window light",
        "count": 2,
        "params": params,
    }
    fields.update(changes)
    return GenerationRequest(**fields)


def run_to_end(adapter: DashScope, remote_id: str, max_polls: int = 10) -> tuple[list[TaskState], Any]:
    states = []
    for _ in range(max_polls):
        update = adapter.poll(remote_id)
        states.append(update.state)
        if update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            return states, update
    raise AssertionError(f"task did not finish: {states}")


def submitted_body(emulator: DashScopeEmulator) -> dict[str, Any]:
    body = emulator.calls("submit")[-1].body
    assert isinstance(body, dict)
    return body


# ------------------------------------------------------------------ declared data
def test_declares_the_documented_capabilities() -> None:
    limits = DashScope.limits[Operation.PROMPT_BACKGROUND]
    assert DashScope.operations == frozenset({Operation.PROMPT_BACKGROUND})
    assert (limits.min_side, limits.max_side, limits.mask_mode) == (64, 2048, "RGBA")
    assert (limits.min_count, limits.default_count, limits.max_count) == (1, 1, 4)
    assert limits.output_sizes is None and limits.default_size is None
    price = DashScope.prices[Operation.PROMPT_BACKGROUND]
    assert price.per_image is not None and price.per_image.as_str() == "0.08"
    assert price.per_image.currency == "CNY" and "wanx-background-generation-api-reference" in price.source
    assert price.as_of == "2026-11-22"
    assert (DashScope.submit_qps, DashScope.max_in_flight) == (2.0, 1)
    assert DashScope.required_credentials() == ("api_key",)
    assert DashScope.optional_settings == {
        "base_url": DEFAULT_BASE_URL,
        "workspace": "",
        "poll_interval_s": "1",
    }
    assert DashScope.endpoint_setting == "base_url" and DashScope.default_endpoint == DEFAULT_BASE_URL
    assert DashScope.param_aliases == {Operation.PROMPT_BACKGROUND: {"n": "count"}}
    specs = {spec.name: spec for spec in DashScope.option_specs(Operation.PROMPT_BACKGROUND)}
    assert set(specs) == {"model_version", "noise_level", "ref_prompt_weight"}
    assert all(spec.label_key == f"opt.{name}" for name, spec in specs.items())
    assert DashScope.check_params(Operation.PROMPT_BACKGROUND, {}) == {
        "model_version": "v2",
        "noise_level": 300,
        "ref_prompt_weight": 0.5,
    }
    assert DashScope(ProviderContext(options={"poll_interval_s": "7.5"})).poll_interval_hint == 7.5
    assert DashScope(ProviderContext(options={"poll_interval_s": "junk"})).poll_interval_hint == 1.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model_version": "v4"}, "model_version: 'v4' is not one of v2, v3"),
        ({"noise_level": "-1"}, "noise_level: -1 is below the minimum 0"),
        ({"noise_level": "1000"}, "noise_level: 1000 is above the maximum 999"),
        ({"ref_prompt_weight": "1.5"}, "ref_prompt_weight: 1.5 is above the maximum 1"),
        ({"ref_prompt_weight": "abc"}, "ref_prompt_weight: 'abc' is not a valid float"),
        ({"scene_type": "ROOM"}, "unknown option"),
    ],
)
def test_options_are_checked_against_the_documented_ranges(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DashScope.check_params(Operation.PROMPT_BACKGROUND, params)


# ------------------------------------------------------------------ the happy paths
def test_photo_and_mask_are_uploaded_as_an_rgba_png_then_submitted_once_and_walked_to_results(
    emulator: DashScopeEmulator,
) -> None:
    adapter = make_adapter(emulator)
    job = request(
        reference_image=reference(),
        negative_prompt="blurry, text",
        params={"model_version": "v3", "noise_level": "450", "ref_prompt_weight": "0.7"},
    )
    submitted = adapter.submit(job)
    assert submitted.remote_id and submitted.update is None

    routes = [call.route for call in emulator.requests]
    assert routes == ["policy", "upload", "upload", "submit"]
    policy = emulator.calls("policy")[0]
    assert policy.query == {"action": "getPolicy", "model": MODEL}
    assert policy.headers["authorization"] == f"Bearer {API_KEY}"
    uploads = emulator.calls("upload")
    for upload in uploads:
        assert upload.status == 200 and upload.form_order[-1] == "file"
        assert "authorization" not in upload.headers  # the OSS host never sees the API key
        assert API_KEY not in json.dumps(upload.body)
    keys = [upload.body["key"] for upload in uploads]
    assert len(set(keys)) == 2 and all(key.endswith(".png") for key in keys)

    call = emulator.calls("submit")[-1]
    assert call.headers["x-dashscope-async"] == "enable"
    assert call.headers["x-dashscope-ossresourceresolve"] == "enable"
    assert call.headers["authorization"] == f"Bearer {API_KEY}"
    assert "x-dashscope-workspace" not in call.headers
    body = submitted_body(emulator)
    assert body["model"] == MODEL
    assert body["input"] == {
        "base_image_url": f"oss://{keys[0]}",
        "ref_image_url": f"oss://{keys[1]}",
        "ref_prompt": "marble table, soft window light",
        "neg_ref_prompt": "blurry, text",
    }
    assert body["parameters"] == {"n": 2, "model_version": "v3", "noise_level": 450, "ref_prompt_weight": 0.7}

    # The base image the service received: RGBA PNG, the photo's size, the mask as alpha.
    stored = decode(emulator.objects[keys[0]].data)
    assert (stored.format, stored.mode, stored.size) == ("PNG", "RGBA", (320, 240))
    alpha = np.asarray(stored)[..., 3]
    assert alpha[120, 160] == 255 and alpha[5, 5] == 0

    states, update = run_to_end(adapter, submitted.remote_id)
    assert states == [TaskState.QUEUED, TaskState.RUNNING, TaskState.SUCCEEDED]
    assert emulator.calls("query")[-1].path.endswith(submitted.remote_id)
    assert len(update.outputs) == 2 and update.billed_images == 2
    assert update.notes["dashscope_task_id"] == submitted.remote_id
    for output in update.outputs:
        assert output.url and output.data is None
        assert decode(requests.get(output.url, timeout=5).content).size == (320, 240)
    assert emulator.submits() == 1


def test_prompt_only_sends_neither_reference_option(emulator: DashScopeEmulator) -> None:
    adapter = make_adapter(emulator)
    adapter.submit(request(count=1, params={"noise_level": "10", "ref_prompt_weight": "0.9"}))
    assert [call.route for call in emulator.requests] == ["policy", "upload", "submit"]
    body = submitted_body(emulator)
    assert set(body["input"]) == {"base_image_url", "ref_prompt"}
    assert body["parameters"] == {"n": 1, "model_version": "v2"}


def test_reference_only_sends_noise_level_but_no_prompt_weight(emulator: DashScopeEmulator) -> None:
    adapter = make_adapter(emulator)
    remote_id = adapter.submit(request(prompt="", reference_image=reference())).remote_id or ""
    body = submitted_body(emulator)
    assert "ref_prompt" not in body["input"] and body["input"]["ref_image_url"].startswith("oss://")
    assert body["parameters"] == {"n": 2, "model_version": "v2", "noise_level": 300}
    assert run_to_end(adapter, remote_id)[0][-1] is TaskState.SUCCEEDED


def test_a_cutout_with_alpha_needs_no_mask(emulator: DashScopeEmulator) -> None:
    adapter = make_adapter(emulator)
    remote_id = adapter.submit(request(image=cutout(400, 300), mask=None, count=1)).remote_id or ""
    _, update = run_to_end(adapter, remote_id)
    assert update.state is TaskState.SUCCEEDED
    assert decode(requests.get(update.outputs[0].url or "", timeout=5).content).size == (400, 300)


def test_a_studio_hosted_http_url_is_used_and_nothing_is_uploaded(
    emulator: DashScopeEmulator, static: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    url = static.host("product.png", cutout())
    remote_id = adapter.submit(request(image=cutout(), mask=None, image_url=url)).remote_id or ""
    assert [call.route for call in emulator.requests] == ["submit"]
    call = emulator.calls("submit")[-1]
    assert call.body["input"]["base_image_url"] == url
    assert "x-dashscope-ossresourceresolve" not in call.headers
    assert run_to_end(adapter, remote_id)[0][-1] is TaskState.SUCCEEDED


def test_a_hosted_url_with_a_reference_still_uploads_the_reference(
    emulator: DashScopeEmulator, static: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    url = static.host("product.png", cutout())
    adapter.submit(request(image=cutout(), mask=None, image_url=url, reference_image=reference()))
    assert [call.route for call in emulator.requests] == ["policy", "upload", "submit"]
    call = emulator.calls("submit")[-1]
    assert call.body["input"]["base_image_url"] == url
    assert call.headers["x-dashscope-ossresourceresolve"] == "enable"


def test_a_hosted_url_of_an_opaque_photo_is_replaced_by_the_built_cutout(
    emulator: DashScopeEmulator, static: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    url = static.host("photo.png", photo())
    adapter.submit(request(image_url=url))
    assert submitted_body(emulator)["input"]["base_image_url"].startswith("oss://")


def test_an_expired_hosting_url_makes_the_task_fail_with_a_download_message(
    emulator: DashScopeEmulator, static: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    url = static.host("gone.png", cutout())
    static.files.clear()  # the link expired before the service fetched it
    remote_id = adapter.submit(request(image=cutout(), mask=None, image_url=url)).remote_id or ""
    update = adapter.poll(remote_id)
    assert update.state is TaskState.FAILED and update.failure is not None
    assert update.failure.code == "InvalidParameter.FileDownload"
    assert "could not download" in update.failure.message and update.billed_images == 0


def test_workspace_is_sent_when_set_and_required_by_the_emulator() -> None:
    with DashScopeEmulator(API_KEY, workspace="llm-abc123") as emulator:
        with pytest.raises(AuthenticationError, match="DASHSCOPE_WORKSPACE"):
            make_adapter(emulator, workspace="").check_connection()
        check = make_adapter(emulator, workspace="llm-abc123").check_connection()
        assert check.ok and emulator.requests[-1].headers["x-dashscope-workspace"] == "llm-abc123"


@pytest.mark.parametrize("suffix", ["", "/", "/api/v1", "/api/v1/"])
def test_the_base_url_may_be_given_with_or_without_the_api_prefix(
    emulator: DashScopeEmulator, suffix: str
) -> None:
    adapter = make_adapter(emulator, endpoint=emulator.base_url + suffix)
    check = adapter.check_connection()
    assert check.ok and check.request_id and emulator.api_url in check.message
    adapter.submit(request(count=1))
    assert emulator.submits() == 1


# ------------------------------------------------------------------ refused before any call
@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"mask": None}, "no_transparency", "automatic cutout"),
        ({"prompt": "  ", "reference_image": None}, "no_guidance", "prompt"),
        ({"image": photo(2100, 1000), "mask": mask(2100, 1000)}, "image_too_large", "2048"),
        ({"image": photo(50, 50), "mask": mask(50, 50)}, "image_too_small", "64"),
        ({"mask": mask(100, 100)}, "mask_mask_size_mismatch", "size"),
        ({"count": 5}, "bad_count", "1 to 4"),
    ],
)
def test_unusable_inputs_are_refused_before_any_call(
    emulator: DashScopeEmulator, changes: dict[str, Any], code: str, words: str
) -> None:
    with pytest.raises(InputRejectedError) as caught:
        make_adapter(emulator).submit(request(**changes))
    assert caught.value.code == code and words in caught.value.user_message
    assert emulator.requests == []


def test_missing_key_and_bad_endpoint_are_configuration_errors(emulator: DashScopeEmulator) -> None:
    with pytest.raises(ConfigurationError, match="DASHSCOPE_API_KEY"):
        make_adapter(emulator, api_key="").submit(request())
    with pytest.raises(ConfigurationError, match="DASHSCOPE_BASE_URL"):
        make_adapter(emulator, endpoint="ftp://example").check_connection()
    with pytest.raises(ConfigurationError):
        DashScope(ProviderContext(credentials={"api_key": "k"}, endpoint=emulator.api_url)).check_connection()
    assert emulator.requests == []


def test_unreachable_endpoint_is_retryable() -> None:
    context = ProviderContext(
        credentials={"api_key": API_KEY}, endpoint="http://127.0.0.1:9/api/v1", session=new_session()
    )
    with pytest.raises(ProviderUnavailableError) as caught:
        DashScope(context).poll("task-1")
    assert caught.value.retryable


# ------------------------------------------------------------------ every documented error
REQUEST_ERRORS = [
    # code, class, retryable, words in the message
    ("InvalidApiKey", AuthenticationError, False, "DASHSCOPE_API_KEY"),
    ("AccessDenied", AuthenticationError, False, "DASHSCOPE_WORKSPACE"),
    ("AccessDenied.Unpurchased", AuthenticationError, False, "Activate"),
    ("InvalidParameter", InputRejectedError, False, "Check the prompt"),
    ("InvalidParameter.DataInspection", ProviderUnavailableError, True, "timed out downloading"),
    ("Model.NotExist", ConfigurationError, False, "DASHSCOPE_BASE_URL"),
    ("DataInspectionFailed", ContentRejectedError, False, "content check"),
    ("Throttling", RateLimitedError, True, "2 submits a second"),
    ("Throttling.RateQuota", RateLimitedError, True, "2 submits a second"),
    ("Throttling.AllocationQuota", RateLimitedError, True, "tries again"),
    ("InternalError", ProviderUnavailableError, True, "internal error"),
    ("ServiceUnavailable", ProviderUnavailableError, True, "unavailable"),
    ("GatewayTimeout", ProviderUnavailableError, False, "not charged twice"),
    ("Arrearage", QuotaExhaustedError, False, "overdue payment"),
]


@pytest.mark.parametrize(("code", "error", "retryable", "words"), REQUEST_ERRORS)
def test_every_documented_submit_error_maps_to_its_class(
    emulator: DashScopeEmulator, code: str, error: type[ProviderError], retryable: bool, words: str
) -> None:
    emulator.fail_next(code, route="submit")
    with pytest.raises(error) as caught:
        make_adapter(emulator).submit(request())
    assert type(caught.value) is error
    assert caught.value.retryable is retryable and words in caught.value.user_message
    assert caught.value.request_id  # from the body, or the X-Request-Id header for 429/5xx
    assert API_KEY not in str(caught.value) and API_KEY not in caught.value.user_message
    if caught.value.code.startswith("http_"):
        # http.send raises for 429/5xx before the body is read: the class is what matters.
        assert caught.value.code in ("http_429", "http_500", "http_503", "http_504")
    else:
        assert caught.value.code == code


@pytest.mark.parametrize(("code", "error", "retryable", "words"), REQUEST_ERRORS)
def test_every_documented_code_is_in_the_table_even_with_an_unusual_status(
    code: str, error: type[ProviderError], retryable: bool, words: str
) -> None:
    adapter = DashScope(ProviderContext(credentials={"api_key": API_KEY}))
    mapped = adapter._error(code, f"something about {API_KEY}", "req-1", 400)
    assert type(mapped) is error and mapped.code == code and mapped.request_id == "req-1"
    assert API_KEY not in mapped.user_message


def test_rate_limits_keep_retry_after_and_poll_errors_map_too(emulator: DashScopeEmulator) -> None:
    emulator.fail_next("Throttling.RateQuota", route="submit", retry_after_s=4)
    with pytest.raises(RateLimitedError) as caught:
        make_adapter(emulator).submit(request())
    assert caught.value.retry_after_s == 4
    emulator.fail_next("InvalidApiKey", route="query")
    with pytest.raises(AuthenticationError):
        make_adapter(emulator).poll("some-task")
    emulator.fail_next("GatewayTimeout", route="query")
    with pytest.raises(ProviderUnavailableError) as timeout:
        make_adapter(emulator).poll("some-task")
    assert timeout.value.retryable  # a status query is safe to repeat
    emulator.fail_next("Throttling.RateQuota", route="policy")
    with pytest.raises(RateLimitedError):
        make_adapter(emulator).check_connection()


def test_a_wrong_key_is_an_authentication_error_that_never_shows_the_key(emulator: DashScopeEmulator) -> None:
    with pytest.raises(AuthenticationError) as caught:
        make_adapter(emulator, api_key="sk-wrong-secret-value").check_connection()
    assert "sk-wrong-secret-value" not in str(caught.value) and caught.value.code == "InvalidApiKey"
    with pytest.raises(AuthenticationError):
        make_adapter(emulator, api_key="sk-wrong-secret-value").submit(request())
    assert emulator.submits() == 0


def test_the_missing_async_header_error_is_a_configuration_error(emulator: DashScopeEmulator) -> None:
    emulator.fail_next("AccessDenied", route="submit", message=SYNC_REFUSED, status=403)
    with pytest.raises(ConfigurationError) as caught:
        make_adapter(emulator).submit(request())
    assert "X-DashScope-Async" in caught.value.user_message


def test_an_expired_upload_policy_is_retryable_and_a_fresh_policy_works() -> None:
    with DashScopeEmulator(API_KEY, policy_ttl_s=0) as emulator:
        with pytest.raises(ProviderUnavailableError) as caught:
            make_adapter(emulator).submit(request())
        assert caught.value.retryable and caught.value.code == "AccessDenied"
        assert "expired" in caught.value.user_message and caught.value.request_id
        assert emulator.calls("upload")[-1].outcome == "AccessDenied" and emulator.submits() == 0
        emulator.policy_ttl_s = 300
        assert make_adapter(emulator).submit(request()).remote_id


@pytest.mark.parametrize(
    ("code", "message", "error", "retryable"),
    [
        ("AccessDenied", "Invalid according to Policy: Policy expired.", ProviderUnavailableError, True),
        (
            "AccessDenied",
            "Invalid according to Policy: Policy Condition failed",
            UnexpectedResponseError,
            False,
        ),
        ("SignatureDoesNotMatch", None, UnexpectedResponseError, False),
        ("InvalidAccessKeyId", None, UnexpectedResponseError, False),
        ("EntityTooLarge", None, InputRejectedError, False),
        ("FileAlreadyExists", None, ProviderUnavailableError, True),
        ("InvalidArgument", None, UnexpectedResponseError, False),
    ],
)
def test_upload_errors_map_to_their_class(
    emulator: DashScopeEmulator, code: str, message: str | None, error: type[ProviderError], retryable: bool
) -> None:
    emulator.fail_next(code, route="upload", message=message)
    with pytest.raises(error) as caught:
        make_adapter(emulator).submit(request())
    assert type(caught.value) is error and caught.value.retryable is retryable and caught.value.code == code
    assert emulator.submits() == 0


def test_a_file_over_the_policy_limit_is_refused_before_uploading() -> None:
    with DashScopeEmulator(API_KEY, max_file_size_mb=0) as emulator:
        with pytest.raises(InputRejectedError, match="Downscale"):
            make_adapter(emulator).submit(request())
        assert emulator.calls("upload") == []


def test_one_task_in_flight_and_two_submits_a_second_are_enforced() -> None:
    now = [1_800_000_000.0]
    with DashScopeEmulator(API_KEY, clock=lambda: now[0], queries_to_finish=1) as emulator:
        adapter = make_adapter(emulator)
        first = adapter.submit(request()).remote_id or ""
        with pytest.raises(RateLimitedError):
            adapter.submit(request())  # the first task is still processing
        assert emulator.calls("submit")[-1].outcome == "Throttling"
        assert adapter.poll(first).state is TaskState.SUCCEEDED
        adapter.submit(request())
        emulator.max_running = 0  # lift the concurrency limit to reach the QPS limit
        with pytest.raises(RateLimitedError):
            adapter.submit(request())  # a third submit within the same second
        assert emulator.calls("submit")[-1].outcome == "Throttling.RateQuota"
        now[0] += 1.0
        assert adapter.submit(request()).remote_id


# ------------------------------------------------------------------ task outcomes
@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("InvalidParameter.FileDownload", "could not download"),
        ("BadRequest.UnsupportedFileFormat", "transparent background"),
        ("DataInspectionFailed", "content check"),
        ("InternalError", "Run the job again"),
        ("SomethingNew", "could not make these images"),
    ],
)
def test_a_failed_task_is_an_update_with_a_friendly_message(
    emulator: DashScopeEmulator, code: str, words: str
) -> None:
    emulator.fail_task_next(code, message="detail from the service")
    adapter = make_adapter(emulator)
    states, update = run_to_end(adapter, adapter.submit(request()).remote_id or "")
    assert states[-1] is TaskState.FAILED and update.failure is not None
    assert update.failure.code == code and words in update.failure.message
    assert "tried again automatically" not in update.failure.message
    assert update.billed_images == 0


def test_an_rgb_base_image_fails_the_task_like_the_service(
    emulator: DashScopeEmulator, static: StaticFiles, raw: requests.Session
) -> None:
    # Only reachable when something else hosted an opaque PNG: the emulator checks what it downloads.
    body = {
        "model": MODEL,
        "input": {"base_image_url": static.host("rgb.png", photo()), "ref_prompt": "beach"},
    }
    answer = _submit_raw(raw, emulator, body)
    task_id = answer.json()["output"]["task_id"]
    update = make_adapter(emulator).poll(task_id)
    assert update.state is TaskState.FAILED and update.failure is not None
    assert update.failure.code == "BadRequest.UnsupportedFileFormat"
    assert "RGBA" in update.failure.message


def test_suspended_canceled_and_unknown_tasks(emulator: DashScopeEmulator) -> None:
    adapter = make_adapter(emulator)
    task_id = adapter.submit(request()).remote_id or ""
    emulator.force_state(task_id, "SUSPENDED")
    assert adapter.poll(task_id).state is TaskState.RUNNING
    emulator.force_state(task_id, "CANCELED")
    update = adapter.poll(task_id)
    assert update.state is TaskState.FAILED and update.failure is not None
    assert update.failure.code == "CANCELED" and "cancelled" in update.failure.message
    with pytest.raises(TaskNotFoundError):
        adapter.poll("0385dc79-5ff8-4d82-bcb6-000000000000")
    with pytest.raises(TaskNotFoundError):
        adapter.poll("../../uploads")


def test_tasks_expire_after_a_day() -> None:
    now = [1_800_000_000.0]
    with DashScopeEmulator(API_KEY, clock=lambda: now[0]) as emulator:
        adapter = make_adapter(emulator)
        task_id = adapter.submit(request()).remote_id or ""
        assert adapter.poll(task_id).state is TaskState.QUEUED
        now[0] += 24 * 3600
        with pytest.raises(TaskNotFoundError, match="24 hours"):
            adapter.poll(task_id)


def test_seconds_to_finish_holds_the_task_running() -> None:
    now = [1_800_000_000.0]
    with DashScopeEmulator(API_KEY, clock=lambda: now[0], queries_to_finish=1, seconds_to_finish=30) as emu:
        adapter = make_adapter(emu)
        task_id = adapter.submit(request()).remote_id or ""
        assert adapter.poll(task_id).state is TaskState.QUEUED
        assert adapter.poll(task_id).state is TaskState.RUNNING
        now[0] += 30
        assert adapter.poll(task_id).state is TaskState.SUCCEEDED


# ------------------------------------------------------------------ answer shapes
def test_partial_results_keep_the_good_images_and_bill_what_usage_says(emulator: DashScopeEmulator) -> None:
    emulator.fail_results_next(1)
    adapter = make_adapter(emulator)
    _, update = run_to_end(adapter, adapter.submit(request(count=3)).remote_id or "")
    assert update.state is TaskState.SUCCEEDED
    assert len(update.outputs) == 2 and update.billed_images == 2
    assert update.notes["dashscope_failed_images"] == "1"


def test_without_usage_billing_is_left_to_the_price_table() -> None:
    with DashScopeEmulator(API_KEY, include_usage=False, queries_to_finish=1) as emulator:
        adapter = make_adapter(emulator)
        update = adapter.poll(adapter.submit(request()).remote_id or "")
        assert update.state is TaskState.SUCCEEDED and update.billed_images is None
        assert len(update.outputs) == 2


@pytest.mark.parametrize(
    ("document", "state", "outputs", "billed"),
    [
        ({"output": {"task_status": "PENDING"}}, TaskState.QUEUED, 0, None),
        ({"output": {"task_status": "running"}}, TaskState.RUNNING, 0, None),
        ({"output": {"task_status": "SOMETHING_NEW"}}, TaskState.RUNNING, 0, None),
        (
            {
                "output": {
                    "task_status": "SUCCEEDED",
                    "results": ["http://x/1.png", {"url": "http://x/2.png"}],
                }
            },
            TaskState.SUCCEEDED,
            2,
            None,
        ),
        (
            {
                "output": {"task_status": "SUCCEEDED", "results": [{"url": "u"}]},
                "usage": {"image_count": "1"},
            },
            TaskState.SUCCEEDED,
            1,
            1,
        ),
        (
            {"output": {"task_status": "SUCCEEDED", "results": [{"code": "InternalError", "message": "x"}]}},
            TaskState.FAILED,
            0,
            None,
        ),
        ({"output": {"task_status": "SUCCEEDED"}, "usage": {"image_count": 0}}, TaskState.FAILED, 0, 0),
        ({"output": {"task_status": "FAILED"}, "usage": {"image_count": True}}, TaskState.FAILED, 0, None),
    ],
)
def test_task_answers_are_read_tolerantly(
    document: dict[str, Any], state: TaskState, outputs: int, billed: int | None
) -> None:
    update = DashScope(ProviderContext())._task_update(document, "t-1")
    assert update.state is state and len(update.outputs) == outputs and update.billed_images == billed
    if state is TaskState.FAILED:
        assert update.failure is not None and update.failure.message


def test_answers_without_the_documented_shape_are_unexpected() -> None:
    adapter = DashScope(ProviderContext())
    with pytest.raises(UnexpectedResponseError):
        adapter._task_update({"request_id": "r"}, "t-1")
    assert type(adapter._error("BrandNewCode", "odd", None, 418)) is UnexpectedResponseError
    assert type(adapter._error("InvalidParameter.SomethingElse", "odd", None, 400)) is InputRejectedError
    assert type(adapter._error("http_404", "", None, 404)) is ConfigurationError


class _FakeResponse:
    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status_code, self.content, self.headers = status, body, headers or {}


class _FakeSession:
    """Answers every call with one canned response: for shapes the emulator never produces."""

    def __init__(self, *responses: _FakeResponse) -> None:
        self.responses = list(responses)

    def request(self, *args: Any, **kwargs: Any) -> _FakeResponse:
        return self.responses.pop(0)


def _fake_adapter(*responses: _FakeResponse) -> DashScope:
    context = ProviderContext(credentials={"api_key": API_KEY}, session=_FakeSession(*responses))
    return DashScope(context)


def test_a_submit_answer_without_a_task_id_or_json_is_unexpected() -> None:
    policy = {
        "request_id": "r",
        "data": {
            "upload_host": "http://93.184.216.34/oss",
            "upload_dir": "d/x",
            "policy": "p",
            "signature": "s",
            "oss_access_key_id": "a",
        },
    }
    ok = _FakeResponse(200, json.dumps(policy).encode())
    uploaded = _FakeResponse(200, b"")
    no_task = _FakeResponse(
        200, json.dumps({"output": {"task_status": "PENDING"}, "request_id": "r"}).encode()
    )
    with pytest.raises(UnexpectedResponseError, match="not charged twice"):
        _fake_adapter(ok, uploaded, no_task).submit(request())
    with pytest.raises(UnexpectedResponseError):
        _fake_adapter(_FakeResponse(200, b"<html>")).poll("t-1")
    with pytest.raises(UnexpectedResponseError, match="upload_host"):
        _fake_adapter(_FakeResponse(200, json.dumps({"data": {"policy": "p"}}).encode())).check_connection()
    with pytest.raises(TaskNotFoundError):
        _fake_adapter(_FakeResponse(404, b"")).poll("t-1")
    # A 200 that carries an error code is an error all the same.
    coded = _FakeResponse(200, json.dumps({"code": "Arrearage", "message": "m", "request_id": "r"}).encode())
    with pytest.raises(QuotaExhaustedError):
        _fake_adapter(coded).poll("t-1")


# ------------------------------------------------------------------ the emulator's own checks
@pytest.fixture
def raw() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def _submit_raw(
    raw: requests.Session, emulator: DashScopeEmulator, body: Any, headers: dict[str, str] | None = None
) -> requests.Response:
    sent = {"Authorization": f"Bearer {API_KEY}", "X-DashScope-Async": "enable", **(headers or {})}
    return raw.post(emulator.base_url + SUBMIT_PATH, json=body, headers=sent, timeout=5)


def _body(**parameters: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "input": {"base_image_url": "http://127.0.0.1:9/none.png", "ref_prompt": "a beach"},
        "parameters": parameters,
    }


def test_emulator_checks_the_key_and_the_async_header(
    emulator: DashScopeEmulator, raw: requests.Session
) -> None:
    answer = _submit_raw(raw, emulator, _body(), {"Authorization": "Bearer nope"})
    assert answer.status_code == 401 and answer.json()["code"] == "InvalidApiKey"
    answer = raw.post(
        emulator.base_url + SUBMIT_PATH + "/",
        json=_body(),
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=5,
    )
    assert answer.status_code == 403 and answer.json()["message"] == SYNC_REFUSED
    assert _submit_raw(raw, emulator, _body()).status_code == 200  # without the trailing slash too
    query = raw.get(emulator.api_url + "/tasks/x", timeout=5)
    assert query.status_code == 401


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (_body(n=5), "parameters.n"),
        (_body(n=0), "parameters.n"),
        (_body(n="2"), "parameters.n"),
        (_body(model_version="v4"), "model_version"),
        (_body(noise_level=1000), "noise_level"),
        (_body(ref_prompt_weight=1.5), "ref_prompt_weight"),
        ({**_body(), "model": "wanx-background-generation-v3"}, "Model not exist."),
        ({"model": MODEL, "input": {"ref_prompt": "x"}}, "base_image_url"),
        ({"model": MODEL, "input": {"base_image_url": "http://127.0.0.1:9/a.png"}}, "At least one"),
        (
            {"model": MODEL, "input": {"base_image_url": "oss://dashscope-instant/a.png", "ref_prompt": "x"}},
            "URL",
        ),
        (
            {
                "model": MODEL,
                "input": {
                    "base_image_url": "http://127.0.0.1:9/a.png",
                    "ref_prompt": "x",
                    "reference_edge": {
                        "foreground_edge": ["http://127.0.0.1:9/e.png"],
                        "foreground_edge_prompt": [],
                    },
                },
            },
            "foreground_edge_prompt",
        ),
        (
            {
                "model": MODEL,
                "input": {
                    "base_image_url": "http://127.0.0.1:9/a.png",
                    "ref_prompt": "x",
                    "reference_edge": {"background_edge": ["http://127.0.0.1:9/e.png"] * 11},
                },
            },
            "at most 10",
        ),
    ],
)
def test_emulator_validates_fields_and_ranges(
    emulator: DashScopeEmulator, raw: requests.Session, body: dict[str, Any], words: str
) -> None:
    answer = _submit_raw(raw, emulator, body)
    assert answer.status_code == 400 and answer.json()["code"] == "InvalidParameter"
    assert words in answer.json()["message"]
    assert emulator.submits() == 0


def test_emulator_downloads_only_from_loopback(emulator: DashScopeEmulator, raw: requests.Session) -> None:
    body = {"model": MODEL, "input": {"base_image_url": "https://example.com/a.png", "ref_prompt": "x"}}
    task_id = _submit_raw(raw, emulator, body).json()["output"]["task_id"]
    output = raw.get(
        emulator.api_url + f"/tasks/{task_id}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5
    ).json()
    assert output["output"]["task_status"] == "FAILED"
    assert output["output"]["code"] == "InvalidParameter.FileDownload" and output["usage"]["image_count"] == 0


def test_emulator_checks_base_image_size_and_transparency(
    emulator: DashScopeEmulator, static: StaticFiles, raw: requests.Session
) -> None:
    emulator.max_running = 0
    emulator.submit_qps = 0
    cases = {
        "big.png": (cutout(2100, 300), "InvalidParameter"),
        "opaque.png": (_png(np.full((100, 100, 4), 255, np.uint8)), "BadRequest.UnsupportedFileFormat"),
        "jpeg.png": (_jpeg(), "BadRequest.UnsupportedFileFormat"),
    }
    for name, (data, code) in cases.items():
        body = {"model": MODEL, "input": {"base_image_url": static.host(name, data), "ref_prompt": "x"}}
        task_id = _submit_raw(raw, emulator, body).json()["output"]["task_id"]
        failure = emulator.tasks[task_id].failure
        assert failure is not None and failure[0] == code, name


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((100, 100, 3), 128, np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_emulator_oss_objects_resolve_only_with_the_header_and_for_the_policy_model(
    emulator: DashScopeEmulator, raw: requests.Session
) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    policy = raw.get(
        emulator.api_url + "/uploads",
        params={"action": "getPolicy", "model": "wanx-v1"},
        headers=headers,
        timeout=5,
    ).json()["data"]
    key = policy["upload_dir"] + "/p.png"
    form = {
        "OSSAccessKeyId": policy["oss_access_key_id"],
        "Signature": policy["signature"],
        "policy": policy["policy"],
        "key": key,
        "x-oss-object-acl": "private",
        "x-oss-forbid-overwrite": "true",
        "success_action_status": "200",
    }
    files = {"file": ("p.png", cutout(), "image/png")}
    assert raw.post(policy["upload_host"], data=form, files=files, timeout=5).status_code == 200
    again = raw.post(policy["upload_host"], data=form, files=files, timeout=5)
    assert again.status_code == 409 and b"<Code>FileAlreadyExists</Code>" in again.content
    forged = raw.post(policy["upload_host"], data={**form, "Signature": "AAAA"}, files=files, timeout=5)
    assert forged.status_code == 403 and b"SignatureDoesNotMatch" in forged.content
    outside = raw.post(policy["upload_host"], data={**form, "key": "elsewhere/p.png"}, files=files, timeout=5)
    assert outside.status_code == 403 and b"Policy Condition failed" in outside.content
    file_first = raw.post(
        policy["upload_host"],
        files={"file": ("p.png", cutout(), "image/png"), **{k: (None, v) for k, v in form.items()}},
        timeout=5,
    )
    assert file_first.status_code == 400 and b"last form field" in file_first.content

    body = {"model": MODEL, "input": {"base_image_url": f"oss://{key}", "ref_prompt": "x"}}
    assert _submit_raw(raw, emulator, body).status_code == 400  # no resolve header
    answer = _submit_raw(raw, emulator, body, {"X-DashScope-OssResourceResolve": "enable"})
    task = emulator.tasks[answer.json()["output"]["task_id"]]
    # Uploaded for another model (wanx-v1): the service cannot use it for this one.
    assert task.failure is not None and task.failure[0] == "InvalidParameter.FileDownload"


def test_emulator_serves_only_finished_results(emulator: DashScopeEmulator, raw: requests.Session) -> None:
    adapter = make_adapter(emulator)
    task_id = adapter.submit(request()).remote_id or ""
    assert raw.get(f"{emulator.base_url}/results/{task_id}/0.png", timeout=5).status_code == 404
    _, update = run_to_end(adapter, task_id)
    assert raw.get(update.outputs[0].url or "", timeout=5).status_code == 200
    assert raw.get(f"{emulator.base_url}/results/{task_id}/7.png", timeout=5).status_code == 404
    body = raw.get(
        emulator.api_url + f"/tasks/{task_id}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5
    ).json()
    assert body["output"]["task_metrics"] == {"TOTAL": 2, "SUCCEEDED": 2, "FAILED": 0}
    assert body["usage"] == {"image_count": 2} and body["output"]["end_time"]


def test_emulator_refuses_unknown_injections() -> None:
    emulator = DashScopeEmulator()
    with pytest.raises(ValueError, match="unknown error code"):
        emulator.fail_next("NoSuchCode")
    with pytest.raises(ValueError, match="unknown route"):
        emulator.fail_next("InternalError", route="nowhere")  # type: ignore[arg-type]


def test_emulator_runs_standalone_and_prints_its_url(raw: requests.Session) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.dashscope", "--port", "0", "--api-key", "sk-cli"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("DASHSCOPE_EMULATOR_URL=http://127.0.0.1:")
        url = line.split("=", 1)[1]
        answer = raw.get(
            url + "/api/v1/uploads",
            params={"action": "getPolicy", "model": MODEL},
            headers={"Authorization": "Bearer sk-cli"},
            timeout=5,
        )
        assert answer.status_code == 200 and answer.json()["data"]["upload_host"].startswith(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_policy_is_a_signed_document_with_an_expiry(emulator: DashScopeEmulator) -> None:
    policy = make_adapter(emulator).get_upload_policy()
    document = json.loads(base64.b64decode(dict(policy.form)["policy"]))
    assert document["expiration"].endswith("Z")
    assert ["starts-with", "$key", policy.upload_dir] in document["conditions"]
    assert policy.max_bytes == 100 * 1024 * 1024 and policy.upload_host.startswith(emulator.base_url)


# ------------------------------------------------------------------ edge guides
def guide_png(width: int = 320, height: int = 240) -> bytes:
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[20:80, 20:120] = (255, 255, 255, 255)
    return _png(rgba, "RGBA")


def test_edge_guides_are_uploaded_and_sent_per_layer_with_a_prompt_each(emulator: DashScopeEmulator) -> None:
    adapter = make_adapter(emulator)
    guides = (
        EdgeGuide("foreground", guide_png(), "a green leaf"),
        EdgeGuide("background", guide_png()),
        EdgeGuide("foreground", guide_png(), ""),
    )
    submitted = adapter.submit(request(guides=guides))
    edge = submitted_body(emulator)["input"]["reference_edge"]
    assert len(edge["foreground_edge"]) == 2 and len(edge["background_edge"]) == 1
    assert edge["foreground_edge_prompt"] == ["a green leaf", ""] and edge["background_edge_prompt"] == [""]
    assert all(url.startswith("oss://") for url in [*edge["foreground_edge"], *edge["background_edge"]])
    # Base image plus three guides went to the temporary storage.
    assert len(emulator.calls("upload")) == 4
    states, update = run_to_end(adapter, submitted.remote_id or "")
    assert update.state is TaskState.SUCCEEDED, update.failure


def test_more_than_ten_edge_guides_are_refused_before_any_call(emulator: DashScopeEmulator) -> None:
    adapter = make_adapter(emulator)
    guides = tuple(EdgeGuide("background", guide_png()) for _ in range(11))
    with pytest.raises(InputRejectedError, match="at most 10 edge guides"):
        adapter.submit(request(guides=guides))
    assert emulator.requests == []


def test_an_edge_guide_that_is_not_rgba_fails_the_task_as_the_service_does(
    emulator: DashScopeEmulator,
) -> None:
    adapter = make_adapter(emulator)
    opaque = _png(np.full((240, 320, 3), 128, np.uint8))
    submitted = adapter.submit(request(guides=(EdgeGuide("foreground", opaque),)))
    _, update = run_to_end(adapter, submitted.remote_id or "")
    assert update.state is TaskState.FAILED and update.failure is not None
    assert "RGBA" in update.failure.message or update.failure.code == "BadRequest.UnsupportedFileFormat"


def test_a_mask_given_with_a_transparent_photo_wins_over_the_photos_own_alpha(
    emulator: DashScopeEmulator,
) -> None:
    adapter = make_adapter(emulator)
    edited = np.zeros((240, 320), np.uint8)
    edited[:, :100] = 255  # the user kept only the left part
    adapter.submit(request(image=cutout(), mask=_png(edited)))
    uploaded = emulator.objects
    base = next(decode(item.data) for item in uploaded.values() if "base" in item.key)
    alpha = np.asarray(base)[..., 3]
    assert alpha[120, 50] == 255 and alpha[120, 200] == 0


def test_the_upload_host_from_the_policy_answer_must_not_lead_inside_this_network() -> None:
    """Photos are posted where DashScope's policy answer says: an answer naming an internal address
    (forged, tampered with) is refused unless the API itself is on this network (a test server)."""
    public_api = DashScope(
        ProviderContext(credentials={"api_key": API_KEY}, endpoint="https://dashscope.example.com/api/v1")
    )
    for host in ("http://127.0.0.1:9000", "https://10.1.2.3", "http://169.254.169.254", "http://u@x.com"):
        with pytest.raises(ProviderError, match="upload host"):
            public_api._check_upload_host(host)
    public_api._check_upload_host("https://93.184.216.34")  # a public address passes
    loopback_api = DashScope(
        ProviderContext(credentials={"api_key": API_KEY}, endpoint="http://127.0.0.1:8000/api/v1")
    )
    loopback_api._check_upload_host("http://127.0.0.1:9000")  # the emulator's own storage
    with pytest.raises(ProviderError, match="upload host"):
        loopback_api._check_upload_host("http://169.254.169.254")  # link-local never
