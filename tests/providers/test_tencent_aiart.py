"""The Tencent Cloud aiart adapter (official SDK) against the loopback emulator, and the emulator's own checks.

Inputs are URLs, as with the real service: a tiny loopback static server in a
fixture plays studio's input hosting, and the emulator downloads from it.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests  # type: ignore[import-untyped, unused-ignore]
from PIL import Image

from providers.base import (
    GenerationRequest,
    Operation,
    OutputImage,
    ProviderAdapter,
    ProviderContext,
    TaskState,
)
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
from providers.tencent_aiart import MAX_INPUT_BYTES, TencentAiart
from tests.emulators.static_files import StaticFiles
from tests.emulators.tencent_aiart import (
    DOCUMENTED_CODES,
    TencentAiartEmulator,
    authorization_header,
    tc3_signature,
)

SECRET_ID, SECRET_KEY = "AKIDstudioTest0123", "studio-secret-key-0123456789"
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ fixtures and helpers
def photo(width: int = 800, height: int = 600) -> bytes:
    pixels = np.full((height, width, 3), 236, np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (40, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def rgba_mask(width: int = 800, height: int = 600) -> bytes:
    """Studio's hosted mask form: white product, transparent background."""
    alpha = np.zeros((height, width), np.uint8)
    alpha[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = 255
    rgba = np.dstack([np.full((height, width, 3), 255, np.uint8), alpha])
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def inputs() -> Iterator[StaticFiles]:
    files = StaticFiles()
    yield files
    files.close()


@pytest.fixture
def emulator() -> Iterator[TencentAiartEmulator]:
    with TencentAiartEmulator(SECRET_ID, SECRET_KEY) as running:
        yield running


def make_adapter(
    emulator: TencentAiartEmulator,
    *,
    secret_id: str = SECRET_ID,
    secret_key: str = SECRET_KEY,
    **options: str,
) -> TencentAiart:
    context = ProviderContext(
        credentials={"secret_id": secret_id, "secret_key": secret_key},
        endpoint=emulator.endpoint,
        session=new_session(),
        options={"protocol": "http", **options},
    )
    return TencentAiart(context)


def prompt_request(inputs: StaticFiles, **changes: Any) -> GenerationRequest:
    image = changes.pop("image", None) or photo()
    params = TencentAiart.check_params(Operation.PROMPT_BACKGROUND, changes.pop("params", {}))
    fields: dict[str, Any] = {
        "operation": Operation.PROMPT_BACKGROUND,
        "image": image,
        "prompt": "a sunny beach with soft sand 海滩",
        "image_url": inputs.host(f"product-{len(inputs.files)}.png", image),
        "params": params,
    }
    fields.update(changes)
    return GenerationRequest(**fields)


def download(url: str) -> Image.Image:
    answer = requests.get(url, timeout=5)
    answer.raise_for_status()
    return Image.open(io.BytesIO(answer.content))


def result_image(output: OutputImage) -> Image.Image:
    """The result as Tencent sent it: inline (base64) bytes, else its link."""
    if output.data is not None:
        return Image.open(io.BytesIO(output.data))
    return download(output.url or "")


def is_dark(image: Image.Image, x: int, y: int) -> bool:
    return max(image.convert("RGB").getpixel((x, y))) < 60  # type: ignore[arg-type]


# ------------------------------------------------------------------ signing
def test_tc3_signature_matches_the_documented_test_vector() -> None:
    body = b'{"ProductUrl": "https://a/b.png", "Prompt": "beach"}'
    assert (
        tc3_signature("secretkey", 1700000000, "127.0.0.1:8080", body)
        == "8f0f113c32b42c55eb6968a70a7ad9f3a2dc5e9d4a8e5a58c6bc7e6dbecc3fcc"
    )


# ------------------------------------------------------------------ the operation
def test_prompt_background_is_one_signed_call_returning_the_finished_image(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    request = prompt_request(
        inputs,
        negative_prompt="people, text",
        size=(1080, 1920),
        params={"Product": "backpack"},
    )
    submitted = adapter.submit(request)
    assert submitted.update is not None
    update = submitted.update
    assert update.state is TaskState.SUCCEEDED and update.billed_images == 1 and len(update.outputs) == 1

    call = emulator.requests[-1]
    assert call.signature_ok and call.outcome == "ok"
    assert (call.action, call.version, call.region) == ("ReplaceBackground", "2022-12-29", "ap-guangzhou")
    assert call.headers["content-type"] == "application/json"
    assert call.body == {
        "ProductUrl": request.image_url,
        "Prompt": "a sunny beach with soft sand 海滩",
        "NegativePrompt": "people, text",
        "Product": "backpack",
        "Resolution": "1080:1920",
        "LogoAdd": 1,  # the document's default: the visible "图片由 AI 生成" mark
        # About 2 MP: the image comes back inside the answer, so no link can be lost after billing.
        "RspImgType": "base64",
    }
    # The request id names the billed call: studio records it as the job's remote id at once.
    assert submitted.remote_id == call.request_id
    # The SDK sent through the studio's session (no proxy from the environment, our User-Agent).
    assert call.headers["user-agent"].startswith("BackdropStudio/")

    output = update.outputs[0]
    assert output.data is not None and output.url is None
    assert output.mime == "image/jpeg"
    image = result_image(output)
    assert image.size == (1080, 1920)
    assert is_dark(image, 1080 - 12, 1920 - 12), "the AI mark is drawn by default"
    assert update.notes["tencent_request_id"] == call.request_id
    assert update.notes["Resolution"] == "1080:1920" and update.notes["LogoAdd"] == 1
    assert len(emulator.jobs) == 1
    assert type(adapter).poll is ProviderAdapter.poll, "synchronous: nothing to poll"


def test_without_a_size_tencent_renders_its_default_1280_square(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    update = make_adapter(emulator).submit(prompt_request(inputs)).update
    assert update is not None
    assert "Resolution" not in (emulator.requests[-1].body or {})
    assert result_image(update.outputs[0]).size == (1280, 1280)
    assert update.notes["Resolution"] == "1280:1280"
    assert (emulator.requests[-1].body or {})["RspImgType"] == "base64"


def test_a_result_over_about_2_mp_comes_back_as_a_one_hour_link(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    submitted = make_adapter(emulator).submit(prompt_request(inputs, params={"Resolution": "2048:2048"}))
    assert submitted.update is not None and submitted.remote_id == emulator.requests[-1].request_id
    assert (emulator.requests[-1].body or {})["RspImgType"] == "url"
    output = submitted.update.outputs[0]
    assert output.data is None and output.url and output.url.startswith(emulator.base_url)
    assert download(output.url).size == (2048, 2048)
    assert type(make_adapter(emulator)).result_ttl_s == 3600


def test_the_resolution_option_wins_over_the_size_and_logo_add_draws_the_mark(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    request = prompt_request(inputs, size=(1280, 1280), params={"Resolution": "1920x1080", "LogoAdd": "true"})
    update = make_adapter(emulator).submit(request).update
    assert update is not None
    body = emulator.requests[-1].body or {}
    assert body["Resolution"] == "1920:1080" and body["LogoAdd"] == 1
    image = result_image(update.outputs[0])
    assert image.size == (1920, 1080) and is_dark(image, 1920 - 14, 1080 - 14)


def test_a_mask_goes_as_mask_url_and_the_vendor_then_sends_no_mask_of_its_own(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    mask_url = inputs.host("mask.png", rgba_mask())
    request = prompt_request(inputs, mask=b"single-channel mask png", mask_url=mask_url)
    update = make_adapter(emulator).submit(request).update
    assert update is not None and update.state is TaskState.SUCCEEDED
    assert emulator.requests[-1].body["MaskUrl"] == mask_url  # type: ignore[index]
    assert "tencent_mask" not in update.notes and not update.artifacts


def test_the_product_name_falls_back_to_the_product_title(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    make_adapter(emulator).submit(prompt_request(inputs, product_title="Canvas backpack " * 5))
    assert emulator.requests[-1].body["Product"] == ("Canvas backpack " * 5)[:50]  # type: ignore[index]


def test_base64_results_and_masks_are_understood() -> None:
    adapter = TencentAiart(ProviderContext())
    jpeg, mask = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (600, 600), (10, 200, 10)).save(jpeg, "JPEG")
    Image.new("RGBA", (600, 600), (255, 255, 255, 0)).save(mask, "PNG")
    for result in (
        base64.b64encode(jpeg.getvalue()).decode(),
        "data:image/jpeg;base64," + base64.b64encode(jpeg.getvalue()).decode(),
    ):
        response = {
            "ResultImage": result,
            "MaskImage": base64.b64encode(mask.getvalue()).decode(),
            "RequestId": "r",
        }
        update = adapter._task_update(response, {})
        assert update.outputs[0].data == jpeg.getvalue() and update.outputs[0].mime == "image/jpeg"
        kept = Image.open(io.BytesIO(update.artifacts["mask"]))
        assert kept.mode == "L" and kept.size == (600, 600)
    with pytest.raises(UnexpectedResponseError):
        adapter._task_update({"RequestId": "r"}, {})
    with pytest.raises(UnexpectedResponseError):
        adapter._task_update({"ResultImage": "%%% not base64 %%%"}, {})


def test_an_error_under_a_charset_content_type_is_still_an_error(inputs: StaticFiles) -> None:
    # The SDK only checks answers labelled exactly application/json; the adapter checks them all.
    with TencentAiartEmulator(
        SECRET_ID, SECRET_KEY, content_type="application/json; charset=utf-8"
    ) as emulator:
        adapter = make_adapter(emulator)
        assert adapter.submit(prompt_request(inputs)).update is not None
        emulator.fail_next("ResourceUnavailable.LowBalance")
        with pytest.raises(QuotaExhaustedError):
            adapter.submit(prompt_request(inputs))


def test_answers_without_the_documented_shape_are_unexpected() -> None:
    adapter = TencentAiart(ProviderContext())
    for raw in (b"<html>hello</html>", b"[]", b'{"hello": 1}', b'{"Response": "x"}'):
        with pytest.raises(UnexpectedResponseError):
            adapter._response(raw)
    assert adapter._response(b'{"Response": {"ResultImage": "u", "RequestId": "r"}}')["RequestId"] == "r"


# ------------------------------------------------------------------ errors, table-driven
ERROR_TABLE: dict[str, tuple[type[ProviderError], bool, str]] = {
    "AuthFailure.UnauthorizedOperation": (AuthenticationError, False, "CAM"),
    "FailedOperation.GenerateImageFailed": (ContentRejectedError, False, "content review"),
    "FailedOperation.ImageDecodeFailed": (InputRejectedError, False, "could not read"),
    "FailedOperation.ImageDownloadError": (InputRejectedError, False, "input hosting"),
    "FailedOperation.ImageResolutionExceed": (InputRejectedError, False, "Downscale"),
    "FailedOperation.ImageSizeExceed": (InputRejectedError, False, "6 MB"),
    "FailedOperation.InnerError": (ProviderUnavailableError, True, "tried again"),
    "FailedOperation.RequestEntityTooLarge": (InputRejectedError, False, "too large"),
    "FailedOperation.RequestTimeout": (ProviderUnavailableError, True, "timed out"),
    "FailedOperation.RpcFail": (ProviderUnavailableError, True, "tried again"),
    "FailedOperation.ServerError": (ProviderUnavailableError, True, "server error"),
    "FailedOperation.Unknown": (ProviderUnavailableError, True, "unknown error"),
    "InvalidParameter.InvalidParameter": (InputRejectedError, False, "Invalid parameter"),
    "InvalidParameterValue.ImageEmpty": (InputRejectedError, False, "empty"),
    "InvalidParameterValue.ParameterValueError": (InputRejectedError, False, "Resolution"),
    "InvalidParameterValue.StyleConflict": (InputRejectedError, False, "combined"),
    "InvalidParameterValue.TextLengthExceed": (InputRejectedError, False, "256"),
    "InvalidParameterValue.UrlIllegal": (InputRejectedError, False, "input hosting"),
    "OperationDenied.ImageIllegalDetected": (ContentRejectedError, False, "another photo"),
    "OperationDenied.TextIllegalDetected": (ContentRejectedError, False, "prompt"),
    "RequestLimitExceeded": (RateLimitedError, True, "throttling"),
    "RequestLimitExceeded.JobNumExceed": (RateLimitedError, True, "one at a time"),
    "ResourceUnavailable.Delivering": (ProviderUnavailableError, True, "setting up"),
    "ResourceUnavailable.InArrears": (QuotaExhaustedError, False, "arrears"),
    "ResourceUnavailable.LowBalance": (QuotaExhaustedError, False, "balance"),
    "ResourceUnavailable.NotExist": (AuthenticationError, False, "not activated"),
    "ResourceUnavailable.StopUsing": (QuotaExhaustedError, False, "suspended"),
    "ResourcesSoldOut.ChargeStatusException": (QuotaExhaustedError, False, "billing"),
    "FailedOperation.ConsoleServerError": (ProviderUnavailableError, True, "tried again"),
    "FailedOperation.JobNotExist": (TaskNotFoundError, False, "Submit it again"),
    "InvalidParameterValue.LogoParamErr": (InputRejectedError, False, "logo"),
    "AuthFailure.SignatureFailure": (AuthenticationError, False, "TENCENTCLOUD_SECRET_KEY"),
    "AuthFailure.SignatureExpire": (AuthenticationError, False, "clock"),
    "AuthFailure.SecretIdNotFound": (AuthenticationError, False, "TENCENTCLOUD_SECRET_ID"),
    "AuthFailure.InvalidAuthorization": (AuthenticationError, False, "TENCENTCLOUD_SECRET_ID"),
    "UnsupportedRegion": (ConfigurationError, False, "TENCENTCLOUD_REGION"),
    "InvalidAction": (ConfigurationError, False, "TENCENT_AIART_ENDPOINT"),
    "NoSuchVersion": (ConfigurationError, False, "TENCENT_AIART_ENDPOINT"),
    "MissingParameter": (InputRejectedError, False, "missing"),
    "UnknownParameter": (InputRejectedError, False, "does not know"),
    "InternalError": (ProviderUnavailableError, True, "internal error"),
}


def test_the_table_covers_every_documented_code() -> None:
    assert set(DOCUMENTED_CODES) <= set(ERROR_TABLE)
    assert len(DOCUMENTED_CODES) == 31


@pytest.mark.parametrize("code", sorted(ERROR_TABLE))
def test_every_documented_code_maps_to_its_error(
    emulator: TencentAiartEmulator, inputs: StaticFiles, code: str
) -> None:
    error, retryable, words = ERROR_TABLE[code]
    emulator.fail_next(code)
    with pytest.raises(ProviderError) as caught:
        make_adapter(emulator).submit(prompt_request(inputs))
    assert type(caught.value) is error
    assert caught.value.code == code and caught.value.retryable is retryable
    assert words.lower() in caught.value.user_message.lower()
    assert caught.value.request_id == emulator.requests[-1].request_id
    assert SECRET_KEY not in str(caught.value) and SECRET_ID not in str(caught.value)
    assert emulator.jobs == []


def test_job_num_exceeded_asks_to_wait_and_unknown_codes_are_classified_by_family() -> None:
    adapter = TencentAiart(ProviderContext(credentials={"secret_id": SECRET_ID, "secret_key": SECRET_KEY}))
    busy = adapter._mapped("RequestLimitExceeded.JobNumExceed", "", "r")
    assert busy.retry_after_s and busy.retry_after_s > 0
    assert type(adapter._mapped("FailedOperation.SomethingNew", "x", None)) is ProviderUnavailableError
    assert type(adapter._mapped("AuthFailure.Whatever", "x", None)) is AuthenticationError
    assert type(adapter._mapped("ResourceUnavailable.Other", "x", None)) is QuotaExhaustedError
    unknown = adapter._mapped("Brand.NewThing", f"echo {SECRET_KEY}", None)
    assert type(unknown) is UnexpectedResponseError and SECRET_KEY not in unknown.user_message


# ------------------------------------------------------------------ real refusals (not injected)
def test_a_wrong_secret_key_is_refused_without_showing_it(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        make_adapter(emulator, secret_key="wrong-secret-key-value").submit(prompt_request(inputs))
    assert caught.value.code == "AuthFailure.SignatureFailure"
    assert "wrong-secret-key-value" not in str(caught.value)
    assert not emulator.requests[-1].signature_ok and emulator.jobs == []


def test_an_unknown_secret_id_is_refused(emulator: TencentAiartEmulator, inputs: StaticFiles) -> None:
    with pytest.raises(AuthenticationError) as caught:
        make_adapter(emulator, secret_id="AKIDnobody").submit(prompt_request(inputs))
    assert caught.value.code == "AuthFailure.SecretIdNotFound"


def test_a_clock_more_than_five_minutes_off_is_refused_with_a_clock_hint(inputs: StaticFiles) -> None:
    with TencentAiartEmulator(SECRET_ID, SECRET_KEY, clock=lambda: time.time() + 400) as emulator:
        with pytest.raises(AuthenticationError, match="clock") as caught:
            make_adapter(emulator).submit(prompt_request(inputs))
        assert caught.value.code == "AuthFailure.SignatureExpire"
    with TencentAiartEmulator(SECRET_ID, SECRET_KEY, clock=lambda: time.time() + 200) as emulator:
        assert make_adapter(emulator).submit(prompt_request(inputs)).update is not None


def test_an_unsupported_region_is_a_configuration_error(inputs: StaticFiles) -> None:
    with TencentAiartEmulator(SECRET_ID, SECRET_KEY, regions=frozenset({"ap-guangzhou"})) as emulator:
        with pytest.raises(ConfigurationError, match="TENCENTCLOUD_REGION"):
            make_adapter(emulator, region="eu-frankfurt").submit(prompt_request(inputs))
        assert emulator.requests[-1].region == "eu-frankfurt"


def test_a_second_job_while_one_runs_is_rate_limited(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    emulator.job_seconds = 10.0
    results: list[Any] = []
    first = threading.Thread(
        target=lambda: results.append(make_adapter(emulator).submit(prompt_request(inputs)))
    )
    first.start()
    try:
        assert emulator.wait_for_job_start()
        with pytest.raises(RateLimitedError) as caught:
            make_adapter(emulator).submit(prompt_request(inputs))
        assert caught.value.code == "RequestLimitExceeded.JobNumExceed" and caught.value.retryable
    finally:
        emulator.release_jobs()
        first.join(5)
    assert results and results[0].update.state is TaskState.SUCCEEDED
    assert len(emulator.jobs) == 1


def test_a_call_that_times_out_is_not_retried_blindly(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    emulator.job_seconds = 10.0
    adapter = make_adapter(emulator)
    adapter.request_timeout_s = 0.3
    try:
        with pytest.raises(ProviderUnavailableError) as caught:
            adapter.submit(prompt_request(inputs))
    finally:
        emulator.release_jobs()
    # The image may have been made and billed: say so, and do not let the worker resend it.
    assert caught.value.code == "ClientNetworkError" and not caught.value.retryable
    assert "console" in caught.value.user_message


def test_an_http_error_page_is_a_retryable_server_error(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    emulator.http_error_next(502)
    with pytest.raises(ProviderUnavailableError) as caught:
        make_adapter(emulator).submit(prompt_request(inputs))
    assert caught.value.code == "ServerNetworkError" and caught.value.retryable


def test_an_unreachable_endpoint_is_retryable(inputs: StaticFiles) -> None:
    context = ProviderContext(
        credentials={"secret_id": SECRET_ID, "secret_key": SECRET_KEY},
        endpoint="127.0.0.1:9",  # discard port: nothing listens
        session=new_session(),
        options={"protocol": "http"},
    )
    with pytest.raises(ProviderUnavailableError) as caught:
        TencentAiart(context).submit(prompt_request(inputs))
    assert caught.value.code == "ClientNetworkError" and caught.value.retryable


def test_input_links_that_cannot_be_downloaded_are_refused(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    missing = f"http://127.0.0.1:{inputs.server.server_port}/expired.png"
    for url in (missing, "https://example.com/product.png"):
        with pytest.raises(InputRejectedError) as caught:
            adapter.submit(prompt_request(inputs, image_url=url))
        assert caught.value.code == "FailedOperation.ImageDownloadError"
        assert "input hosting" in caught.value.user_message
    with pytest.raises(InputRejectedError) as caught:
        adapter.submit(prompt_request(inputs, mask=b"m", mask_url=missing))
    assert caught.value.code == "FailedOperation.ImageDownloadError"
    assert emulator.jobs == []


# ------------------------------------------------------------------ refused before any call
def test_without_input_hosting_the_job_is_a_configuration_error(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    with pytest.raises(ConfigurationError) as caught:
        adapter.submit(prompt_request(inputs, image_url=None))
    assert caught.value.code == "needs_hosting" and "Settings page" in caught.value.user_message
    with pytest.raises(ConfigurationError) as caught:
        adapter.submit(prompt_request(inputs, mask=b"mask png", mask_url=None))
    assert caught.value.code == "needs_hosting"
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"prompt": "   "}, "prompt_required"),
        ({"prompt": "BackgroundTemplate"}, "reserved_prompt"),
        ({"prompt": "x" * 257}, "prompt_too_long"),
        ({"negative_prompt": "x" * 257}, "prompt_too_long"),
        ({"image": photo(1000, 300)}, "bad_aspect"),
        ({"size": (600, 2000)}, "bad_resolution"),
        ({"size": (500, 800)}, "bad_resolution"),
        ({"image": b"not an image"}, "unreadable_image"),
    ],
)
def test_inputs_tencent_would_refuse_are_refused_before_any_call(
    emulator: TencentAiartEmulator, inputs: StaticFiles, changes: dict[str, Any], code: str
) -> None:
    with pytest.raises(InputRejectedError) as caught:
        make_adapter(emulator).submit(prompt_request(inputs, **changes))
    assert caught.value.code == code
    assert emulator.requests == []


def test_a_256_character_prompt_is_fine(emulator: TencentAiartEmulator, inputs: StaticFiles) -> None:
    assert make_adapter(emulator).submit(prompt_request(inputs, prompt="海" * 256)).update is not None
    assert emulator.requests[-1].body["Prompt"] == "海" * 256  # type: ignore[index]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"Resolution": "500:800"}, "each side must be 501 to 3999"),
        ({"Resolution": "1280:4000"}, "each side must be 501 to 3999"),
        ({"Resolution": "600:2000"}, "between 2:5 and 5:2"),
        ({"Resolution": "wide"}, "not like 1280:1280"),
        ({"Product": "p" * 51}, "at most 50"),
        ({"LogoAdd": "maybe"}, "not a valid bool"),
        ({"RspImgType": "base64"}, "unknown option"),
    ],
)
def test_options_are_checked_against_the_documented_ranges(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TencentAiart.check_params(Operation.PROMPT_BACKGROUND, params)


def test_options_are_normalised_and_default_to_the_documented_ai_mark() -> None:
    checked = TencentAiart.check_params(Operation.PROMPT_BACKGROUND, {"Resolution": " 1920 x 1080 "})
    assert checked == {
        "Product": "",
        "Resolution": "1920:1080",
        "LogoAdd": True,
        "LogoImage": "",
        "LogoRect": "",
    }
    assert TencentAiart.check_params(Operation.PROMPT_BACKGROUND, {"Resolution": "1000:2500"})["Resolution"]


@pytest.mark.parametrize(
    ("endpoint", "options", "code", "words"),
    [
        (
            "aiart.tencentcloudapi.com",
            {"protocol": "http"},
            "insecure_protocol",
            "only allowed for a test server",
        ),
        ("http://aiart.tencentcloudapi.com", {}, "insecure_protocol", "could be read or changed"),
        ("aiart.tencentcloudapi.com", {"protocol": "ftp"}, "bad_protocol", "https"),
        ("https://aiart.tencentcloudapi.com/v3", {}, "bad_endpoint", "without a path"),
        ("aiart.tencentcloudapi.com", {"region": "Guangzhou!"}, "bad_region", "ap-guangzhou"),
    ],
)
def test_unsafe_or_malformed_settings_are_refused_before_any_call(
    inputs: StaticFiles, endpoint: str, options: dict[str, str], code: str, words: str
) -> None:
    context = ProviderContext(
        credentials={"secret_id": SECRET_ID, "secret_key": SECRET_KEY},
        endpoint=endpoint,
        session=new_session(),
        options=options,
    )
    with pytest.raises(ConfigurationError) as caught:
        TencentAiart(context).submit(prompt_request(inputs))
    assert caught.value.code == code and words in caught.value.user_message


def test_an_endpoint_given_as_a_loopback_url_works(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    context = ProviderContext(
        credentials={"secret_id": SECRET_ID, "secret_key": SECRET_KEY},
        endpoint=f"http://localhost:{emulator.port}/",
        session=new_session(),
    )
    assert TencentAiart(context).submit(prompt_request(inputs)).update is not None
    assert emulator.requests[-1].headers["host"] == f"localhost:{emulator.port}"


def test_missing_credentials_are_a_configuration_error(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    for credentials in ({}, {"secret_id": SECRET_ID, "secret_key": ""}):
        context = ProviderContext(
            credentials=credentials,
            endpoint=emulator.endpoint,
            session=new_session(),
            options={"protocol": "http"},
        )
        with pytest.raises(ConfigurationError, match="TENCENTCLOUD_SECRET_ID"):
            TencentAiart(context).submit(prompt_request(inputs))
    assert emulator.requests == []


def test_the_adapter_declares_its_settings_limits_and_price() -> None:
    assert TencentAiart.required_credentials() == ("secret_id", "secret_key")
    assert TencentAiart.env_names == {
        "secret_id": "TENCENTCLOUD_SECRET_ID",
        "secret_key": "TENCENTCLOUD_SECRET_KEY",
        "region": "TENCENTCLOUD_REGION",
        "endpoint": "TENCENT_AIART_ENDPOINT",
        "protocol": "TENCENT_AIART_PROTOCOL",
    }
    assert TencentAiart.optional_settings == {
        "region": "ap-guangzhou",
        "endpoint": "aiart.tencentcloudapi.com",
        "protocol": "https",
    }
    limits = TencentAiart.limits[Operation.PROMPT_BACKGROUND]
    assert limits.needs_urls and limits.mask_mode == "RGBA" and limits.max_side == 3999
    assert (limits.min_count, limits.default_count, limits.max_count) == (1, 1, 1)
    assert len(base64.b64encode(b"x" * MAX_INPUT_BYTES)) < 6 * 1024 * 1024
    price = TencentAiart.prices[Operation.PROMPT_BACKGROUND]
    assert price.per_image is None and "NOT VERIFIED" in price.source and price.as_of == "2026-11-22"
    assert (TencentAiart.max_in_flight, TencentAiart.submit_qps) == (1, 1.0)
    assert all(
        spec.label_key == f"opt.{spec.name}"
        for spec in TencentAiart.option_specs(Operation.PROMPT_BACKGROUND)
    )


def test_check_connection_signs_in_without_making_an_image(emulator: TencentAiartEmulator) -> None:
    check = make_adapter(emulator).check_connection()
    assert check.ok and emulator.endpoint in check.message
    assert check.request_id == emulator.requests[-1].request_id
    assert emulator.jobs == []
    with pytest.raises(AuthenticationError):
        make_adapter(emulator, secret_key="not-the-key").check_connection()


# ------------------------------------------------------------------ the emulator itself
def raw_call(
    emulator: TencentAiartEmulator,
    body: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    secret_key: str = SECRET_KEY,
) -> requests.Response:
    """A call signed by hand (plain requests, not the SDK)."""
    payload = json.dumps(body).encode()
    timestamp = int(time.time())
    sent = {
        "Content-Type": "application/json",
        "Host": emulator.endpoint,
        "X-TC-Action": "ReplaceBackground",
        "X-TC-Version": "2022-12-29",
        "X-TC-Region": "ap-guangzhou",
        "X-TC-Timestamp": str(timestamp),
        "Authorization": authorization_header(SECRET_ID, secret_key, timestamp, emulator.endpoint, payload),
    }
    sent.update(headers or {})
    with requests.Session() as session:
        session.trust_env = False
        return session.post(emulator.base_url + "/", data=payload, headers=sent, timeout=10)


def error_code(answer: requests.Response) -> str | None:
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    error = answer.json()["Response"].get("Error")
    return None if error is None else str(error["Code"])


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-TC-Action": ""}, "MissingParameter"),
        ({"X-TC-Action": "TextToImage"}, "InvalidAction"),
        ({"X-TC-Version": "2020-01-01"}, "NoSuchVersion"),
        ({"X-TC-Region": ""}, "MissingParameter"),
        ({"Authorization": "Bearer nope"}, "AuthFailure.InvalidAuthorization"),
        ({"X-TC-Timestamp": str(int(time.time()) - 1000)}, "AuthFailure.SignatureExpire"),
        ({"Host": "127.0.0.1:1"}, "AuthFailure.SignatureFailure"),
    ],
)
def test_emulator_checks_the_gateway_headers(
    emulator: TencentAiartEmulator, inputs: StaticFiles, headers: dict[str, str], code: str
) -> None:
    body = {"ProductUrl": inputs.host("gw.png", photo()), "Prompt": "beach"}
    assert error_code(raw_call(emulator, body, headers=headers)) == code


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"Colour": "red"}, "UnknownParameter"),
        ({"Prompt": None}, "MissingParameter"),
        ({"ProductUrl": ""}, "InvalidParameterValue.ImageEmpty"),
        ({"ProductUrl": "not a url"}, "InvalidParameterValue.UrlIllegal"),
        ({"Prompt": "p" * 257}, "InvalidParameterValue.TextLengthExceed"),
        ({"NegativePrompt": "p" * 257}, "InvalidParameterValue.TextLengthExceed"),
        ({"Product": "p" * 51}, "InvalidParameterValue.TextLengthExceed"),
        ({"Prompt": "BackgroundTemplate"}, "InvalidParameterValue.ParameterValueError"),
        ({"Resolution": "4000:4000"}, "InvalidParameterValue.ParameterValueError"),
        ({"Resolution": "600:1600"}, "InvalidParameterValue.ParameterValueError"),
        ({"Resolution": "1280*1280"}, "InvalidParameterValue.ParameterValueError"),
        ({"LogoAdd": True}, "InvalidParameter.InvalidParameter"),
        ({"LogoParam": {"LogoRect": {}}}, "InvalidParameterValue.LogoParamErr"),
        ({"RspImgType": "png"}, "InvalidParameterValue.ParameterValueError"),
    ],
)
def test_emulator_checks_the_fields(
    emulator: TencentAiartEmulator, inputs: StaticFiles, changes: dict[str, Any], code: str
) -> None:
    body: dict[str, Any] = {"ProductUrl": inputs.host("fields.png", photo()), "Prompt": "beach"}
    body.update(changes)
    body = {key: value for key, value in body.items() if value is not None}
    assert error_code(raw_call(emulator, body)) == code
    assert emulator.jobs == []


def image_png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 200, 200, 0) if mode == "RGBA" else (200, 200, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("product", "mask", "code"),
    [
        (b"garbage", None, "FailedOperation.ImageDecodeFailed"),
        (image_png((4000, 1000)), None, "FailedOperation.ImageResolutionExceed"),
        (image_png((1200, 400)), None, "InvalidParameterValue.ParameterValueError"),
        (image_png((800, 600)), image_png((400, 300), "RGBA"), "InvalidParameterValue.ParameterValueError"),
        (image_png((800, 600)), image_png((800, 600)), "InvalidParameterValue.ParameterValueError"),
        (image_png((800, 600)), image_png((800, 600), "RGBA"), "InvalidParameterValue.ParameterValueError"),
        (image_png((800, 600)), b"\xff\xd8 not a png", "FailedOperation.ImageDecodeFailed"),
    ],
)
def test_emulator_checks_the_downloaded_images(
    emulator: TencentAiartEmulator, inputs: StaticFiles, product: bytes, mask: bytes | None, code: str
) -> None:
    body = {"ProductUrl": inputs.host("img-product", product), "Prompt": "beach"}
    if mask is not None:
        body["MaskUrl"] = inputs.host("img-mask", mask)
    assert error_code(raw_call(emulator, body)) == code


def test_emulator_answers_base64_by_default_with_its_mask_and_links_expire(inputs: StaticFiles) -> None:
    now = [time.time()]
    with TencentAiartEmulator(SECRET_ID, SECRET_KEY, clock=lambda: now[0]) as emulator:
        body = {"ProductUrl": inputs.host("b64.png", photo()), "Prompt": "beach", "Resolution": "1024:768"}
        answer = raw_call(emulator, body).json()["Response"]
        result = Image.open(io.BytesIO(base64.b64decode(answer["ResultImage"])))
        assert result.format == "JPEG" and result.size == (1024, 768)
        assert is_dark(result, 1024 - 12, 768 - 12), "Tencent's default adds its mark"
        mask = Image.open(io.BytesIO(base64.b64decode(answer["MaskImage"])))
        assert mask.mode == "RGBA" and mask.size == (800, 600)

        answer = raw_call(emulator, {**body, "RspImgType": "url"}).json()["Response"]
        assert download(answer["ResultImage"]).size == (1024, 768)
        assert download(answer["MaskImage"]).size == (800, 600)
        now[0] += 3601
        assert requests.get(answer["ResultImage"], timeout=5).status_code == 403
        assert requests.get(emulator.base_url + "/results/unknown.jpg", timeout=5).status_code == 404
        assert len(emulator.jobs) == 2


def test_emulator_runs_as_a_process_and_prints_its_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.tencent_aiart", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("TENCENT_AIART_EMULATOR_URL=http://127.0.0.1:")
        answer = requests.post(line.split("=", 1)[1] + "/", data=b"{}", timeout=5)
        assert error_code(answer) == "InvalidParameter.InvalidParameter"
    finally:
        process.terminate()
        process.wait(5)
