"""The Aidge adapter against the loopback emulator: signing, every operation, every documented error."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests  # type: ignore[import-untyped, unused-ignore]
from PIL import Image

from providers.aidge import (
    API_MODEL_QUERY,
    API_MODEL_SUBMIT,
    API_SCENE_CATALOGUE,
    API_SCENE_QUERY,
    API_SCENE_SUBMIT,
    Aidge,
    sign_v2,
)
from providers.base import GenerationRequest, Operation, ProviderContext, TaskState
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
from providers.payload import check_payload
from tests.emulators.aidge import AidgeEmulator, RecordedRequest

KEY, SECRET = "studio-key", "studio-secret-0123456789"


def _body(call: RecordedRequest) -> dict[str, Any]:
    """The JSON body a recorded call carried (every call these tests read has one)."""
    assert call.body is not None, call
    return call.body


def photo(width: int = 800, height: int = 600, *, noisy: bool = False) -> bytes:
    rng = np.random.default_rng(7)
    if noisy:
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        pixels = np.full((height, width, 3), 236, np.uint8)
        pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (40, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(KEY, SECRET, queries_to_finish=3) as running:
        yield running


def make_adapter(emulator: AidgeEmulator, *, secret: str = SECRET, **options: str) -> Aidge:
    context = ProviderContext(
        credentials={"access_key_name": KEY, "access_key_secret": secret},
        endpoint=emulator.base_url,
        session=new_session(),
        options=options,
    )
    return Aidge(context)


def scene_request(**changes: object) -> GenerationRequest:
    fields: dict[str, object] = {
        "operation": Operation.SCENE_BACKGROUND,
        "image": photo(),
        "scene_id": "mod003",
        "count": 3,
        "size": (750, 1000),
        "product_title": "Red lipstick 口红",
        "params": {"needLayout": True},
    }
    fields.update(changes)
    return GenerationRequest(**fields)  # type: ignore[arg-type]


def model_request(**params: object) -> GenerationRequest:
    checked = Aidge.check_params(Operation.MODEL_SWAP, params)
    return GenerationRequest(operation=Operation.MODEL_SWAP, image=photo(600, 900), count=2, params=checked)


def run_to_end(adapter: Aidge, remote_id: str, max_polls: int = 10) -> list[TaskState]:
    states = []
    for _ in range(max_polls):
        update = adapter.poll(remote_id)
        states.append(update.state)
        if update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            return states
    raise AssertionError(f"task did not finish: {states}")


def test_signature_matches_the_documented_test_vector() -> None:
    assert (
        sign_v2("S4etzZ73nF08vOXVhk3wZjIaLSHw0123", "1719303485000")
        == "908156D6ECBFCA358E3E4EFF49D836BDF00B5ABFF67714D0B8706CDED773F754"
    )


def test_scene_background_submits_once_walks_states_and_returns_downloadable_images(
    emulator: AidgeEmulator,
) -> None:
    adapter = make_adapter(emulator, trial="true")
    submitted = adapter.submit(scene_request())
    assert submitted.remote_id and submitted.remote_id.startswith("scene:")
    assert submitted.update is None
    call = emulator.requests[-1]
    assert call.api == API_SCENE_SUBMIT and call.signature_ok and call.method == "POST"
    assert call.headers.get("x-iop-trial") == "true"
    assert set(call.query) >= {"partner_id", "sign_method", "sign_ver", "app_key", "timestamp", "sign"}
    sent = json.loads(_body(call)["requestParams"])[0]
    assert sent["modelNum"] == "mod003" and sent["imageNum"] == "3"
    assert (sent["width"], sent["height"]) == ("750", "1000")
    assert sent["needLayout"] == "true" and sent["productTitle"] == "Red lipstick 口红"

    states = []
    for _ in range(10):
        update = adapter.poll(submitted.remote_id)
        states.append(update.state)
        if update.state is TaskState.SUCCEEDED:
            break
    assert states[0] is TaskState.QUEUED and TaskState.RUNNING in states and states[-1] is TaskState.SUCCEEDED
    assert len(update.outputs) == 3 and update.billed_images == 3
    assert emulator.requests[-1].api == API_SCENE_QUERY
    for output in update.outputs:
        assert output.url and output.data is None
        image = Image.open(io.BytesIO(requests.get(output.url, timeout=5).content))
        assert image.size == (750, 1000)
    assert emulator.submits() == 1


@pytest.mark.parametrize("shape", ["result", "flat", "string"])
@pytest.mark.parametrize("items", ["string", "object"])
def test_every_documented_answer_shape_is_understood(shape: str, items: str) -> None:
    with AidgeEmulator(KEY, SECRET, task_id_shape=shape, image_url_items=items) as emulator:  # type: ignore[arg-type]
        adapter = make_adapter(emulator)
        remote_id = adapter.submit(scene_request(count=2)).remote_id or ""
        assert run_to_end(adapter, remote_id)[-1] is TaskState.SUCCEEDED
        assert len(adapter.poll(remote_id).outputs) == 2


def test_model_swap_sends_the_documented_fields_and_returns_images(emulator: AidgeEmulator) -> None:
    adapter = make_adapter(emulator)
    request = model_request(model="universal_model_2", bgStyle="beach", gender="FEMALE", dimension="1024")
    remote_id = adapter.submit(request).remote_id or ""
    assert remote_id.startswith("model:")
    sent = json.loads(_body(emulator.requests[-1])["requestParams"])[0]
    assert emulator.requests[-1].api == API_MODEL_SUBMIT
    assert sent["model"] == "universal_model_2" and sent["imageStyle"] == "realPhoto"
    assert sent["maskKeepbg"] == "false" and sent["bgStyle"] == "beach"
    assert sent["gender"] == "FEMALE" and "age" not in sent  # "auto" is left to the vendor
    assert sent["count"] == "2" and sent["dimension"] == "1024"
    assert run_to_end(adapter, remote_id)[-1] is TaskState.SUCCEEDED
    assert emulator.requests[-1].api == API_MODEL_QUERY
    outputs = adapter.poll(remote_id).outputs
    assert len(outputs) == 2
    size = Image.open(io.BytesIO(requests.get(outputs[0].url or "", timeout=5).content)).size
    assert min(size) == 1024 and size == (1024, 1536)  # short side = dimension, aspect kept


def test_model_swap_defaults_keep_the_background(emulator: AidgeEmulator) -> None:
    adapter = make_adapter(emulator)
    adapter.submit(model_request())
    sent = json.loads(_body(emulator.requests[-1])["requestParams"])[0]
    assert sent["model"] == "universal_model_1" and sent["maskKeepbg"] == "true" and "bgStyle" not in sent
    assert sent["dimension"] == "768"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "universal_model_9"}, "model: 'universal_model_9' is not one of"),
        ({"dimension": "300"}, "dimension: 300 is below the minimum 512"),
        ({"dimension": "4096"}, "dimension: 4096 is above the maximum 2048"),
        ({"maskKeepbg": "false"}, "bgStyle must say with what"),
        ({"maskKeepbg": "true", "bgStyle": "beach"}, "drop one of them"),
        ({"bgStyle": "moon"}, "bgStyle: 'moon' is not one of"),
        ({"age": "TEEN"}, "age: 'TEEN' is not one of"),
    ],
)
def test_model_params_are_checked_against_the_documented_ranges(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Aidge.check_params(Operation.MODEL_SWAP, params)


def test_scene_catalogue_lists_filters_and_recommends(emulator: AidgeEmulator) -> None:
    adapter = make_adapter(emulator)
    everything = adapter.list_scenes({})
    assert len(everything) == 24 and all(scene.scene_id and scene.name for scene in everything)
    assert all(
        scene.thumbnail_url and scene.thumbnail_url.startswith(emulator.base_url) for scene in everything
    )
    clothing = adapter.list_scenes({"categoryType": 7})
    assert clothing and len(clothing) < 24 and all("Clothing" in scene.category for scene in clothing)
    assert len(adapter.list_scenes({"count": 5})) == 5
    recommended = adapter.list_scenes({"productTitle": "口红", "count": 3})
    assert emulator.requests[-1].api == API_SCENE_CATALOGUE
    assert _body(emulator.requests[-1])["productTitle"] == "口红"
    assert recommended[0].scene_id != everything[0].scene_id or "Beauty" in recommended[0].category
    check = adapter.check_connection()
    assert check.ok and emulator.base_url in check.message


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("code", "error", "retryable", "words"),
    [
        (500, ProviderUnavailableError, True, "system error"),
        (501, RateLimitedError, True, "rate limit"),
        (700, InputRejectedError, False, "512-3000 px per side"),
        (801, ProviderUnavailableError, True, "model failed"),
        (1000, ContentRejectedError, False, "sensitive content"),
        (1001, ProviderUnavailableError, True, "content check"),
        (1002, ContentRejectedError, False, "content filter"),
    ],
)
def test_every_business_code_maps_to_its_error(
    emulator: AidgeEmulator, code: int, error: type[ProviderError], retryable: bool, words: str
) -> None:
    emulator.fail_next(API_SCENE_SUBMIT, code)
    with pytest.raises(error) as caught:
        make_adapter(emulator).submit(scene_request())
    assert type(caught.value) is error
    assert caught.value.code == str(code) and caught.value.retryable is retryable
    assert words in caught.value.user_message
    assert caught.value.request_id
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "error", "words"),
    [
        ("bad_signature", AuthenticationError, "AIDGE_ACCESS_KEY_SECRET"),
        ("timestamp", AuthenticationError, "clock"),
        ("unknown_api", ConfigurationError, "AIDGE_API_BASE"),
        ("quota", QuotaExhaustedError, "AIDGE_TRIAL"),
        ("rate_limit", RateLimitedError, "tries again"),
        ("server_error", ProviderUnavailableError, "tried again"),
    ],
)
def test_gateway_errors_map_to_their_class(
    emulator: AidgeEmulator, kind: str, error: type[ProviderError], words: str
) -> None:
    emulator.gateway_error_next(kind, retry_after_s=7)  # type: ignore[arg-type]
    with pytest.raises(error) as caught:
        make_adapter(emulator).submit(scene_request())
    assert words in caught.value.user_message
    assert SECRET not in caught.value.user_message
    if kind == "rate_limit":
        assert caught.value.retryable and caught.value.retry_after_s == 7


def test_a_wrong_secret_is_an_authentication_error_that_never_shows_the_secret(
    emulator: AidgeEmulator,
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        make_adapter(emulator, secret="wrong-secret-value").list_scenes({})
    assert "wrong-secret-value" not in str(caught.value)
    assert not emulator.requests[-1].signature_ok


def test_a_clock_far_off_is_refused_with_a_clock_hint() -> None:
    with AidgeEmulator(KEY, SECRET, max_skew_s=60) as emulator:
        context = ProviderContext(
            credentials={"access_key_name": KEY, "access_key_secret": SECRET},
            endpoint=emulator.base_url,
            session=new_session(),
            clock=lambda: 1_000_000.0,
        )
        with pytest.raises(AuthenticationError, match="clock"):
            Aidge(context).list_scenes({})


def test_a_failed_task_is_an_update_not_an_exception(emulator: AidgeEmulator) -> None:
    emulator.fail_task_next("no product found")
    adapter = make_adapter(emulator)
    remote_id = adapter.submit(scene_request()).remote_id or ""
    update = None
    for _ in range(10):
        update = adapter.poll(remote_id)
        if update.state is TaskState.FAILED:
            break
    assert update is not None and update.state is TaskState.FAILED
    assert update.failure is not None and "no product found" in update.failure.message


def test_an_unknown_task_is_task_not_found(emulator: AidgeEmulator) -> None:
    with pytest.raises(TaskNotFoundError):
        make_adapter(emulator).poll("scene:does-not-exist")
    with pytest.raises(TaskNotFoundError):
        make_adapter(emulator).poll("garbage")


def test_validation_failures_at_the_vendor_name_the_field(emulator: AidgeEmulator) -> None:
    with pytest.raises(InputRejectedError) as caught:
        make_adapter(emulator).submit(scene_request(scene_id="nope"))
    assert "modelNum" in caught.value.user_message


def test_the_stored_file_is_sent_byte_for_byte_once_it_fits(emulator: AidgeEmulator) -> None:
    # What studio fitted and stored (here a JPEG made to fit the 4 MB limit) is exactly what Aidge gets.
    big = photo(2000, 1500, noisy=True)
    fixed = check_payload(Aidge.limits[Operation.SCENE_BACKGROUND], big).fixed
    assert fixed is not None and fixed.image[:2] == b"\xff\xd8"
    make_adapter(emulator).submit(scene_request(image=fixed.image))
    sent = json.loads(_body(emulator.requests[-1])["requestParams"])[0]
    assert base64.b64decode(sent["imgBase64"]) == fixed.image


def test_a_file_over_the_limit_is_refused_before_any_call(emulator: AidgeEmulator) -> None:
    # A job stored before the checks (or a file changed on disk): never re-encoded silently, never sent.
    big = photo(2000, 1500, noisy=True)
    assert len(big) > 4 * 1024 * 1024
    with pytest.raises(InputRejectedError, match="takes at most 4 MB") as caught:
        make_adapter(emulator).submit(scene_request(image=big))
    assert caught.value.code == "image_too_many_bytes" and "Nothing was sent" in caught.value.user_message
    assert emulator.submits() == 0


@pytest.mark.parametrize(
    ("size", "fits"), [((512, 800), False), ((513, 800), True), ((2999, 800), True), ((3000, 800), False)]
)
def test_sides_must_be_strictly_inside_512_and_3000(
    emulator: AidgeEmulator, size: tuple[int, int], fits: bool
) -> None:
    image = photo(*size)
    if fits:
        make_adapter(emulator).submit(scene_request(image=image))
        assert emulator.submits() == 1
        return
    with pytest.raises(InputRejectedError, match="513-2999 px per side"):
        make_adapter(emulator).submit(scene_request(image=image))
    assert emulator.submits() == 0


def test_unreachable_endpoint_is_retryable_and_junk_is_unexpected() -> None:
    context = ProviderContext(
        credentials={"access_key_name": KEY, "access_key_secret": SECRET},
        endpoint="http://127.0.0.1:9",  # discard port: nothing listens
        session=new_session(),
    )
    with pytest.raises(ProviderUnavailableError) as caught:
        Aidge(context).submit(scene_request())
    assert caught.value.retryable


def test_missing_credentials_are_a_configuration_error_before_any_call(emulator: AidgeEmulator) -> None:
    context = ProviderContext(endpoint=emulator.base_url, session=new_session())
    with pytest.raises(ConfigurationError, match="AIDGE_ACCESS_KEY_NAME"):
        Aidge(context).list_scenes({})
    assert emulator.requests == []


def test_an_answer_without_the_documented_shape_is_unexpected() -> None:
    adapter = Aidge(ProviderContext())
    with pytest.raises(UnexpectedResponseError):
        adapter._unwrap({"hello": "world"}, 200)
    with pytest.raises(UnexpectedResponseError):
        adapter._unwrap({"resCode": "abc", "success": False}, 200)
    with pytest.raises(UnexpectedResponseError):
        adapter._unwrap({"code": "SomethingNew", "message": "odd"}, 200)
