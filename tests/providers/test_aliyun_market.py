"""The Alibaba Cloud Marketplace bg-rep adapter against its loopback emulator, and the emulator's own checks.

Inputs are URLs, as with the real service: a tiny loopback static server plays
studio's input hosting, and the emulator downloads from it. Covers the
declared data and option ranges, the happy paths with and without a mask, the
nonce and AppCode handling, every service code and every documented gateway
message (table-driven), failed sub-tasks, configuration errors and the
connection check. No error text may ever contain the AppCode.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import requests  # type: ignore[import-untyped, unused-ignore]
from PIL import Image

from providers.aliyun_market import (
    EXAMPLE_BASE_URL,
    MAX_SEED,
    PRODUCT_ID,
    QUERY_PATH,
    SUBMIT_PATH,
    AliyunMarket,
)
from providers.base import GenerationRequest, Operation, ProviderContext, TaskState, TaskUpdate
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
from studio.service import JobRequest, PreparedImage, Studio, StudioInputError
from tests.emulators.aliyun_market import (
    ERRORS,
    GATEWAY_ERRORS,
    INVALID_APPCODE,
    INVALID_URL,
    NONCE_REQUIRED,
    NONCE_USED,
    AliyunMarketEmulator,
)

APPCODE = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ROOT = Path(__file__).resolve().parents[2]
OP = Operation.PROMPT_BACKGROUND


# ------------------------------------------------------------------ images
def _encode(pixels: np.ndarray, fmt: str = "PNG", mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, fmt)
    return buffer.getvalue()


def photo(width: int = 640, height: int = 480, fmt: str = "PNG") -> bytes:
    """An opaque product shot: light grey background, a blue box in the middle."""
    pixels = np.full((height, width, 3), 236, np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (40, 90, 200)
    return _encode(pixels, fmt)


def mask(width: int = 640, height: int = 480) -> bytes:
    """Studio's mask form for this provider: single channel, product 255, background 0."""
    pixels = np.zeros((height, width), np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = 255
    return _encode(pixels)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# ------------------------------------------------------------------ fixtures
class StaticFiles:
    """A loopback web server for input bytes: what studio's input hosting gives the vendor."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: list[str] = []
        files, hits = self.files, self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                hits.append(path)
                data = files.get(path)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    def host(self, name: str, data: bytes) -> str:
        self.files[f"/{name}"] = data
        return f"http://127.0.0.1:{self.server.server_port}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def inputs() -> Iterator[StaticFiles]:
    files = StaticFiles()
    yield files
    files.close()


@pytest.fixture
def emulator() -> Iterator[AliyunMarketEmulator]:
    with AliyunMarketEmulator(APPCODE, queries_to_finish=3) as running:
        yield running


def make_adapter(
    emulator: AliyunMarketEmulator | None,
    *,
    appcode: str = APPCODE,
    endpoint: str | None = None,
    **options: str,
) -> AliyunMarket:
    context = ProviderContext(
        credentials={"appcode": appcode},
        endpoint=endpoint if endpoint is not None else (emulator.base_url if emulator else None),
        session=new_session(),
        options=options,
    )
    return AliyunMarket(context)


def prompt_request(inputs: StaticFiles, *, with_mask: bool = True, **changes: Any) -> GenerationRequest:
    image = changes.pop("image", None) or photo()
    params = AliyunMarket.check_params(OP, changes.pop("params", {}))
    name = uuid.uuid4().hex
    fields: dict[str, Any] = {
        "operation": OP,
        "image": image,
        "prompt": "a sunny beach with soft sand 海滩",
        "count": 1,
        "image_url": inputs.host(f"{name}.png", image),
        "params": params,
    }
    if with_mask:
        fields["mask"] = mask()
        fields["mask_url"] = inputs.host(f"{name}-mask.png", fields["mask"])
    fields.update(changes)
    return GenerationRequest(**fields)


def run_to_end(
    adapter: AliyunMarket, remote_id: str, max_polls: int = 10
) -> tuple[list[TaskState], TaskUpdate]:
    states = []
    for _ in range(max_polls):
        update = adapter.poll(remote_id)
        states.append(update.state)
        if update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            return states, update
    raise AssertionError(f"task did not finish: {states}")


def sent_item(emulator: AliyunMarketEmulator) -> dict[str, Any]:
    body = emulator.calls("submit")[-1].body
    assert isinstance(body, dict) and set(body) == {"data"} and len(body["data"]["task_list"]) == 1
    return cast(dict[str, Any], body["data"]["task_list"][0])


def assert_no_appcode(exc: ProviderError) -> None:
    for text in (str(exc), exc.user_message, repr(exc.args)):
        assert APPCODE not in text and APPCODE.upper() not in text


# ------------------------------------------------------------------ declared data
def test_declares_the_documented_capabilities() -> None:
    assert AliyunMarket.key == "aliyun_market"
    assert AliyunMarket.label == "Alibaba Cloud Marketplace (DAMO bg-rep)"
    assert AliyunMarket.operations == frozenset({OP})
    limits = AliyunMarket.limits[OP]
    assert (limits.min_side, limits.max_side, limits.max_bytes) == (400, 4096, None)
    assert limits.formats == frozenset({"JPEG", "PNG", "WEBP", "BMP"})
    assert (limits.mask_mode, limits.needs_urls) == ("L", True)
    assert (limits.min_count, limits.default_count, limits.max_count) == (1, 1, 4)
    assert limits.output_sizes is None and limits.default_size is None
    price = AliyunMarket.prices[OP]
    assert price.per_image is None and PRODUCT_ID in price.source and price.as_of == "2026-11"
    assert "buyer's console" in price.source
    assert (AliyunMarket.max_in_flight, AliyunMarket.submit_qps) == (2, 1.0)
    assert AliyunMarket.required_credentials() == ("appcode",)
    assert AliyunMarket.optional_settings == {"base_url": "", "poll_interval_s": "3"}
    assert AliyunMarket.endpoint_setting == "base_url" and AliyunMarket.default_endpoint is None
    assert AliyunMarket.env_names == {
        "appcode": "ALIYUN_MARKET_APPCODE",
        "base_url": "ALIYUN_BGREP_BASE_URL",
        "poll_interval_s": "ALIYUN_BGREP_POLL_INTERVAL_S",
    }
    assert AliyunMarket.param_aliases == {OP: {"num_output": "count"}}
    assert AliyunMarket.can_check_connection
    specs = {spec.name: spec for spec in AliyunMarket.option_specs(OP)}
    assert set(specs) == {"guidance_scale", "strength", "steps", "seed"}
    assert all(spec.label_key == f"opt.{name}" for name, spec in specs.items())
    assert (specs["guidance_scale"].minimum, specs["guidance_scale"].maximum) == (1, 20)
    assert (specs["strength"].minimum, specs["strength"].maximum) == (0.01, 1)
    assert (specs["steps"].kind, specs["steps"].minimum, specs["steps"].maximum) == ("int", 15, 50)
    # Defaults are the seller's sample request.
    assert AliyunMarket.check_params(OP, {}) == {
        "guidance_scale": 7.5,
        "strength": 0.5,
        "steps": 50,
        "seed": None,
    }
    assert AliyunMarket(ProviderContext(options={"poll_interval_s": "7.5"})).poll_interval_hint == 7.5
    assert AliyunMarket(ProviderContext(options={"poll_interval_s": "junk"})).poll_interval_hint == 3.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"guidance_scale": "0.5"}, "guidance_scale: 0.5 is below the minimum 1"),
        ({"guidance_scale": "21"}, "guidance_scale: 21.0 is above the maximum 20"),
        ({"strength": "0"}, "strength: 0.0 is below the minimum 0.01"),
        ({"strength": "1.5"}, "strength: 1.5 is above the maximum 1"),
        ({"steps": "14"}, "steps: 14 is below the minimum 15"),
        ({"steps": "51"}, "steps: 51 is above the maximum 50"),
        ({"steps": "20.5"}, "steps: '20.5' is not a valid int"),
        ({"seed": "-1"}, "seed: -1 is below the minimum 0"),
        ({"seed": "abc"}, "seed: 'abc' is not a valid int"),
        # num_output is the job's count: studio moves it there before options are checked.
        ({"num_output": "3"}, "unknown option"),
    ],
)
def test_options_are_range_checked(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AliyunMarket.check_params(OP, params)


def test_options_accept_their_edges() -> None:
    checked = AliyunMarket.check_params(
        OP, {"guidance_scale": "1", "strength": "1", "steps": "15", "seed": str(MAX_SEED)}
    )
    assert checked == {"guidance_scale": 1.0, "strength": 1.0, "steps": 15, "seed": MAX_SEED}
    assert AliyunMarket.check_params(OP, {"guidance_scale": "20", "steps": "50"})["steps"] == 50


def test_num_output_param_becomes_the_job_count() -> None:
    image = PreparedImage(
        png=photo(), width=640, height=480, has_alpha=False, original_format="PNG", original_name="p"
    )
    job = JobRequest(
        workflow=OP, provider=AliyunMarket.key, image=image, params={"num_output": "3", "steps": "20"}
    )
    # The alias logic reads only its arguments; no studio needs to be open for it.
    apply_aliases = Studio._apply_aliases
    params, count, _ = apply_aliases(cast(Studio, None), AliyunMarket, OP, job)
    assert count == 3 and params == {"steps": "20"}
    assert AliyunMarket.check_params(OP, params)["steps"] == 20
    contradicting = JobRequest(
        workflow=OP, provider=AliyunMarket.key, image=image, count=2, params={"num_output": "3"}
    )
    with pytest.raises(StudioInputError, match="num_output=3 contradicts --count 2"):
        apply_aliases(cast(Studio, None), AliyunMarket, OP, contradicting)


# ------------------------------------------------------------------ the happy paths
def test_submit_with_a_mask_walks_to_results_at_the_input_size(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    job = prompt_request(
        inputs,
        count=3,
        negative_prompt="blurry, text",
        params={"guidance_scale": "9", "strength": "0.8", "steps": "30", "seed": "1234"},
    )
    submitted = adapter.submit(job)
    assert submitted.remote_id and submitted.update is None
    assert emulator.submits == 1

    call = emulator.calls("submit")[0]
    assert call.path == SUBMIT_PATH and call.method == "POST" and call.status == 200
    assert call.headers["authorization"] == f"APPCODE {APPCODE}"
    assert call.headers["content-type"].startswith("application/json")
    assert sent_item(emulator) == {
        "image": job.image_url,
        "mask": job.mask_url,
        "positive_prompt": "a sunny beach with soft sand 海滩",
        "negative_prompt": "blurry, text",
        "guidance_scale": 9.0,
        "strength": 0.8,
        "steps": 30,
        "seed": 1234,
        "num_output": 3,
    }
    # The service fetched both inputs from their links, as the real one does.
    assert f"/{Path(job.image_url or '').name}" in inputs.hits
    assert f"/{Path(job.mask_url or '').name}" in inputs.hits

    states, update = run_to_end(adapter, submitted.remote_id)
    assert states == [TaskState.QUEUED, TaskState.RUNNING, TaskState.SUCCEEDED]
    queries = emulator.calls("query")
    assert all(
        q.path == QUERY_PATH and q.body == {"data": {"result_key": submitted.remote_id}} for q in queries
    )
    assert update.notes["aliyun_result_key"] == submitted.remote_id
    assert len(update.outputs) == 3 and all(o.mime == "image/png" and o.seed == 1234 for o in update.outputs)

    source = np.asarray(decode(job.image).convert("RGB"))
    corners = set()
    for output in update.outputs:
        assert output.url and output.data is None
        result = decode(requests.get(output.url, timeout=5).content)
        assert result.size == (640, 480)
        pixels = np.asarray(result.convert("RGB"))
        # The product (under the mask) is kept; the background is new.
        assert tuple(pixels[240, 320]) == tuple(source[240, 320])
        assert np.abs(pixels[10, 10].astype(int) - source[10, 10].astype(int)).sum() > 60
        corners.add(tuple(pixels[10, 10]))
    assert len(corners) == 3  # each output has its own background
    assert emulator.submits == 1


def test_submit_without_a_mask_sends_no_mask_and_the_defaults(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    job = prompt_request(inputs, with_mask=False, image=photo(500, 700, "JPEG"))
    remote_id = adapter.submit(job).remote_id or ""
    item = sent_item(emulator)
    assert "mask" not in item and "negative_prompt" not in item and "seed" not in item
    assert (item["guidance_scale"], item["strength"], item["steps"], item["num_output"]) == (7.5, 0.5, 50, 1)
    states, update = run_to_end(adapter, remote_id)
    assert states[-1] is TaskState.SUCCEEDED and len(update.outputs) == 1
    assert decode(requests.get(update.outputs[0].url or "", timeout=5).content).size == (500, 700)


def test_the_request_seed_wins_over_the_option_and_zero_is_sent(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    adapter.submit(prompt_request(inputs, seed=0, params={"seed": "99"}))
    assert sent_item(emulator)["seed"] == 0
    adapter.submit(prompt_request(inputs, params={"seed": "99"}))
    assert sent_item(emulator)["seed"] == 99


def test_default_walk_and_a_nonce_per_request(emulator: AliyunMarketEmulator, inputs: StaticFiles) -> None:
    adapter = make_adapter(emulator)
    emulator.queries_to_finish = 2  # the emulator's default: RUNNING, then SUCCESS
    remote_id = adapter.submit(prompt_request(inputs)).remote_id or ""
    states, _ = run_to_end(adapter, remote_id)
    assert states == [TaskState.RUNNING, TaskState.SUCCEEDED]
    adapter.check_connection()
    nonces = [call.headers["x-ca-nonce"] for call in emulator.requests]
    assert len(nonces) == 4 and len(set(nonces)) == 4
    assert all(uuid.UUID(nonce).version == 4 for nonce in nonces)


def test_a_reused_nonce_is_refused_by_the_gateway(emulator: AliyunMarketEmulator) -> None:
    headers = {"Authorization": f"APPCODE {APPCODE}", "X-Ca-Nonce": "same-nonce"}
    body = {"data": {"result_key": "abc"}}
    with requests.Session() as raw:
        raw.trust_env = False
        first = raw.post(emulator.base_url + QUERY_PATH, json=body, headers=headers, timeout=5)
        again = raw.post(emulator.base_url + QUERY_PATH, json=body, headers=headers, timeout=5)
        missing = raw.post(
            emulator.base_url + QUERY_PATH,
            json=body,
            headers={"Authorization": f"APPCODE {APPCODE}"},
            timeout=5,
        )
    assert first.status_code == 400 and first.json()["code"] == "23500008"
    assert again.status_code == 400 and again.headers["X-Ca-Error-Message"] == NONCE_USED
    assert again.content == b"" and again.headers["X-Ca-Request-Id"]
    assert missing.status_code == 400 and missing.headers["X-Ca-Error-Message"] == NONCE_REQUIRED
    # After the 15-minute window the same nonce is accepted again.
    emulator.nonce_window_s = 0
    with requests.Session() as raw:
        raw.trust_env = False
        later = raw.post(emulator.base_url + QUERY_PATH, json=body, headers=headers, timeout=5)
    assert later.json()["code"] == "23500008"


# ------------------------------------------------------------------ service codes
SUBMIT_CODES: list[tuple[str, type[ProviderError], bool, str]] = [
    ("23500000", ProviderUnavailableError, True, "tried again automatically"),
    ("23500001", AuthenticationError, False, "ALIYUN_MARKET_APPCODE"),
    ("23500002", ConfigurationError, False, "ALIYUN_BGREP_BASE_URL"),
    ("23500003", QuotaExhaustedError, False, "Top it up"),
    ("23500004", RateLimitedError, True, "waits and tries again"),
    ("23500005", ContentRejectedError, False, "content compliance"),
    ("23500006", InputRejectedError, False, "input hosting"),
    ("23500007", InputRejectedError, False, "400 to 4096 px"),
    ("23500008", TaskNotFoundError, False, "Submit the job again"),
    ("23500009", InputRejectedError, False, "required field is empty"),
    ("23500011", ProviderUnavailableError, True, "failed to run the job"),
    ("23500012", InputRejectedError, False, "without its content"),
    ("23500013", InputRejectedError, False, "guidance_scale 1-20"),
    ("23500014", ConfigurationError, False, "ALIYUN_BGREP_BASE_URL"),
]


def test_every_documented_code_is_in_the_table() -> None:
    assert {code for code, *_ in SUBMIT_CODES} == set(ERRORS)


@pytest.mark.parametrize("as_string", [True, False], ids=["string-code", "numeric-code"])
@pytest.mark.parametrize(
    ("code", "cls", "retryable", "words"), SUBMIT_CODES, ids=[c[0] for c in SUBMIT_CODES]
)
def test_service_codes_on_submit_map_to_the_error_tree(
    emulator: AliyunMarketEmulator,
    inputs: StaticFiles,
    code: str,
    cls: type[ProviderError],
    retryable: bool,
    words: str,
    as_string: bool,
) -> None:
    emulator.code_as_string = as_string
    emulator.fail_next(code, route="submit")
    with pytest.raises(ProviderError) as caught:
        make_adapter(emulator).submit(prompt_request(inputs))
    exc = caught.value
    assert type(exc) is cls, exc
    assert exc.code == code and exc.retryable is retryable
    assert words in exc.user_message and exc.request_id
    assert_no_appcode(exc)
    assert emulator.calls("submit")[-1].status == ERRORS[code][0]
    assert emulator.submits == 0


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("23500000", ProviderUnavailableError),
        ("23500001", AuthenticationError),
        ("23500003", QuotaExhaustedError),
        ("23500004", RateLimitedError),
        ("23500008", TaskNotFoundError),
        ("23500013", InputRejectedError),
    ],
)
def test_service_codes_on_query_raise(
    emulator: AliyunMarketEmulator, inputs: StaticFiles, code: str, cls: type[ProviderError]
) -> None:
    adapter = make_adapter(emulator)
    remote_id = adapter.submit(prompt_request(inputs)).remote_id or ""
    emulator.fail_next(code, route="query")
    with pytest.raises(cls) as caught:
        adapter.poll(remote_id)
    assert type(caught.value) is cls and caught.value.code == code
    assert_no_appcode(caught.value)
    # The task is still there: the next poll goes on.
    assert adapter.poll(remote_id).state is TaskState.QUEUED


def test_job_execution_failed_on_a_query_is_a_failed_task(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    remote_id = adapter.submit(prompt_request(inputs)).remote_id or ""
    emulator.fail_next(23500011, route="query")
    update = adapter.poll(remote_id)
    assert update.state is TaskState.FAILED and update.failure is not None
    assert update.failure.code == "23500011"
    assert "Run the job again" in update.failure.message and "job execution failed" in update.failure.message


def test_an_unknown_result_key_is_task_not_found(emulator: AliyunMarketEmulator) -> None:
    adapter = make_adapter(emulator)
    with pytest.raises(TaskNotFoundError, match="Submit the job again"):
        adapter.poll("0123456789abcdef0123456789abcdef")
    with pytest.raises(TaskNotFoundError, match="no valid Marketplace result_key"):
        adapter.poll("../etc/passwd")
    assert len(emulator.calls("query")) == 1  # the junk id was never sent


def test_a_vendor_message_echoing_the_appcode_is_scrubbed(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    emulator.fail_next("23500013", message=f"bad header APPCODE {APPCODE}")
    with pytest.raises(InputRejectedError) as caught:
        make_adapter(emulator).submit(prompt_request(inputs))
    assert "bad header APPCODE ***" in caught.value.user_message
    assert_no_appcode(caught.value)


# ------------------------------------------------------------------ gateway errors
GATEWAY_CASES: list[tuple[int, str, type[ProviderError], bool, str]] = [
    (400, INVALID_APPCODE, AuthenticationError, False, "ALIYUN_MARKET_APPCODE"),
    (400, INVALID_URL, ConfigurationError, False, "ALIYUN_BGREP_BASE_URL"),
    (400, "Invalid Param Location", ConfigurationError, False, "ALIYUN_BGREP_BASE_URL"),
    (403, "Unauthorized", AuthenticationError, False, PRODUCT_ID),
    (403, "Quota Exhausted", QuotaExhaustedError, False, "Buy more"),
    (403, "Api Market Subscription quota exhausted", QuotaExhaustedError, False, "Buy more"),
    (403, "Quota Expired", QuotaExhaustedError, False, "Renew it"),
    (403, "User Arrears", QuotaExhaustedError, False, "Top up the account"),
    (403, "Throttled by USER Flow Control", RateLimitedError, True, "waits and tries again"),
    (403, "Throttled by APP Flow Control", RateLimitedError, True, "waits and tries again"),
    (403, "Throttled by API Flow Control", RateLimitedError, True, "waits and tries again"),
    (400, "Timestamp Expired", AuthenticationError, False, "clock"),
    (400, NONCE_REQUIRED, ConfigurationError, False, "proxy"),
]


def test_every_documented_gateway_message_is_covered() -> None:
    covered = {message for _, message, *_ in GATEWAY_CASES} | {NONCE_USED}
    assert set(GATEWAY_ERRORS) <= covered


@pytest.mark.parametrize("route", ["submit", "query"])
@pytest.mark.parametrize(
    ("status", "message", "cls", "retryable", "words"), GATEWAY_CASES, ids=[c[1] for c in GATEWAY_CASES]
)
def test_gateway_messages_map_to_the_error_tree(
    emulator: AliyunMarketEmulator,
    inputs: StaticFiles,
    route: str,
    status: int,
    message: str,
    cls: type[ProviderError],
    retryable: bool,
    words: str,
) -> None:
    adapter = make_adapter(emulator)
    emulator.gateway_error_next(status, message)
    with pytest.raises(ProviderError) as caught:
        if route == "submit":
            adapter.submit(prompt_request(inputs))
        else:
            adapter.poll("0123456789abcdef0123456789abcdef")
    exc = caught.value
    assert type(exc) is cls, exc
    assert exc.retryable is retryable and words in exc.user_message
    assert exc.request_id  # the gateway's X-Ca-Request-Id
    assert_no_appcode(exc)
    assert emulator.submits == 0


def test_a_reused_nonce_is_retried_only_for_a_query(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    emulator.gateway_error_next(400, NONCE_USED, route="query")
    with pytest.raises(ProviderUnavailableError) as on_query:
        adapter.poll("0123456789abcdef0123456789abcdef")
    assert on_query.value.retryable
    emulator.gateway_error_next(400, NONCE_USED, route="submit")
    with pytest.raises(UnexpectedResponseError) as on_submit:
        adapter.submit(prompt_request(inputs))
    assert not on_submit.value.retryable and "not charged twice" in on_submit.value.user_message


@pytest.mark.parametrize(
    ("status", "idempotent_retryable", "submit_retryable"),
    [(502, True, True), (503, True, True), (504, True, False)],
)
def test_gateway_server_errors(
    emulator: AliyunMarketEmulator,
    inputs: StaticFiles,
    status: int,
    idempotent_retryable: bool,
    submit_retryable: bool,
) -> None:
    adapter = make_adapter(emulator)
    emulator.gateway_error_next(status, "Backend service failed", route="query")
    with pytest.raises(ProviderUnavailableError) as on_query:
        adapter.poll("0123456789abcdef0123456789abcdef")
    assert on_query.value.retryable is idempotent_retryable
    emulator.gateway_error_next(status, "Backend service failed", route="submit")
    with pytest.raises(ProviderUnavailableError) as on_submit:
        adapter.submit(prompt_request(inputs))
    assert on_submit.value.retryable is submit_retryable
    if not submit_retryable:
        assert "not charged twice" in on_submit.value.user_message


def test_a_wrong_appcode_is_refused_without_echoing_it(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    wrong = "ffffffffeeeeeeeeddddddddcccccccc"
    with pytest.raises(AuthenticationError) as caught:
        make_adapter(emulator, appcode=wrong).submit(prompt_request(inputs))
    assert wrong not in str(caught.value) and "ALIYUN_MARKET_APPCODE" in caught.value.user_message
    assert emulator.calls("submit")[-1].outcome == f"gateway: {INVALID_APPCODE}"


# ------------------------------------------------------------------ inputs the service refuses
def test_an_unreachable_image_link_is_23500006(emulator: AliyunMarketEmulator, inputs: StaticFiles) -> None:
    job = prompt_request(inputs, with_mask=False)
    inputs.files.pop(f"/{Path(job.image_url or '').name}")  # the link expired before the service fetched it
    with pytest.raises(InputRejectedError) as caught:
        make_adapter(emulator).submit(job)
    assert caught.value.code == "23500006" and "input hosting" in caught.value.user_message
    assert emulator.submits == 0


def test_a_mask_of_another_size_is_23500007(emulator: AliyunMarketEmulator, inputs: StaticFiles) -> None:
    job = prompt_request(inputs, with_mask=False, mask_url=inputs.host("small-mask.png", mask(320, 240)))
    with pytest.raises(InputRejectedError) as caught:
        make_adapter(emulator).submit(job)
    assert caught.value.code == "23500007" and "320x240" in caught.value.user_message


def test_a_hosted_image_outside_the_sides_is_23500007(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    # The job's own bytes fit; the hosted copy (what the service sees) does not.
    job = prompt_request(inputs, with_mask=False, image_url=inputs.host("tiny.png", photo(300, 300)))
    with pytest.raises(InputRejectedError) as caught:
        make_adapter(emulator).submit(job)
    assert caught.value.code == "23500007" and "400 to 4096" in caught.value.user_message


def test_a_failed_sub_task_is_a_failed_update_a_user_understands(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    adapter = make_adapter(emulator)
    emulator.fail_task_next("The image did not pass the content compliance check")
    remote_id = adapter.submit(prompt_request(inputs)).remote_id or ""
    states, update = run_to_end(adapter, remote_id)
    assert states[-1] is TaskState.FAILED and update.failure is not None
    assert update.failure.code == "FAILED"
    assert "content compliance" in update.failure.message and "another photo" in update.failure.message

    emulator.fail_task_next("model crashed")
    remote_id = adapter.submit(prompt_request(inputs)).remote_id or ""
    _, update = run_to_end(adapter, remote_id)
    assert update.failure is not None
    assert update.failure.message.startswith("Alibaba Cloud could not make these images (model crashed).")


# ------------------------------------------------------------------ checks before any call
@pytest.mark.parametrize(
    ("changes", "cls", "code"),
    [
        ({"image_url": None}, ConfigurationError, "needs_hosting"),
        ({"mask_url": None}, ConfigurationError, "needs_hosting"),
        ({"image_url": "file:///tmp/p.png"}, ConfigurationError, "needs_hosting"),
        ({"prompt": "  "}, InputRejectedError, "prompt_required"),
        ({"prompt": "x" * 501}, InputRejectedError, "prompt_too_long"),
        ({"negative_prompt": "x" * 501}, InputRejectedError, "prompt_too_long"),
        ({"count": 5}, InputRejectedError, "bad_count"),
        ({"count": 0}, InputRejectedError, "bad_count"),
        ({"image": photo(399, 600)}, InputRejectedError, "bad_size"),
        ({"image": photo(4097, 400)}, InputRejectedError, "bad_size"),
        ({"image": b"not an image"}, InputRejectedError, "unreadable_image"),
        ({"params": {"steps": 70}}, InputRejectedError, "bad_option"),
        ({"seed": -5}, InputRejectedError, "bad_seed"),
    ],
)
def test_inputs_are_checked_before_any_call(
    emulator: AliyunMarketEmulator,
    inputs: StaticFiles,
    changes: dict[str, Any],
    cls: type[ProviderError],
    code: str,
) -> None:
    params = changes.pop("params", None)
    job = prompt_request(inputs, **changes)
    if params is not None:
        job = GenerationRequest(**{**job.__dict__, "params": params})
    with pytest.raises(cls) as caught:
        make_adapter(emulator).submit(job)
    assert caught.value.code == code
    assert emulator.requests == []


def test_a_missing_image_url_says_to_set_up_hosting(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    with pytest.raises(ConfigurationError, match="input hosting is not configured"):
        make_adapter(emulator).submit(prompt_request(inputs, image_url=None))


def test_a_missing_base_url_names_the_setting(inputs: StaticFiles) -> None:
    adapter = make_adapter(None)
    for call in (lambda: adapter.submit(prompt_request(inputs)), adapter.check_connection):
        with pytest.raises(ConfigurationError) as caught:
            call()
        assert caught.value.code == "no_base_url"
        assert "ALIYUN_BGREP_BASE_URL" in caught.value.user_message
        assert EXAMPLE_BASE_URL in caught.value.user_message


def test_a_missing_appcode_names_the_setting(emulator: AliyunMarketEmulator, inputs: StaticFiles) -> None:
    with pytest.raises(ConfigurationError, match="ALIYUN_MARKET_APPCODE") as caught:
        make_adapter(emulator, appcode=" ").submit(prompt_request(inputs))
    assert caught.value.code == "not_configured"
    with pytest.raises(ConfigurationError) as junk:
        make_adapter(emulator, appcode="abc def").check_connection()
    assert junk.value.code == "bad_appcode" and "abc def" not in str(junk.value)
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("endpoint", "base"),
    [
        ("abcd.market.alicloudapi.com", "https://abcd.market.alicloudapi.com"),
        ("https://abcd.market.alicloudapi.com/", "https://abcd.market.alicloudapi.com"),
        ("https://abcd.market.alicloudapi.com/api/v1/bg-rep/submit", "https://abcd.market.alicloudapi.com"),
        ("HTTPS://abcd.market.alicloudapi.com/api/v1", "https://abcd.market.alicloudapi.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080/gw", "http://localhost:8080/gw"),
    ],
)
def test_base_urls_are_normalised(endpoint: str, base: str) -> None:
    assert make_adapter(None, endpoint=endpoint)._base() == base


@pytest.mark.parametrize(
    ("endpoint", "code"),
    [
        ("http://abcd.market.alicloudapi.com", "insecure_base_url"),
        ("ftp://abcd.market.alicloudapi.com", "bad_base_url"),
        ("https://abcd.market.alicloudapi.com/?x=1", "bad_base_url"),
        ("https://user:pw@abcd.market.alicloudapi.com", "bad_base_url"),
        ("https://abcd.market.alicloudapi.com:notaport", "bad_base_url"),
    ],
)
def test_bad_base_urls_are_configuration_errors(endpoint: str, code: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_adapter(None, endpoint=endpoint).check_connection()
    assert caught.value.code == code and "pw" not in caught.value.user_message


# ------------------------------------------------------------------ connection check
def test_check_connection_is_one_query_that_finds_no_task(emulator: AliyunMarketEmulator) -> None:
    result = make_adapter(emulator).check_connection()
    assert result.ok and "AppCode accepted" in result.message and result.request_id
    (call,) = emulator.requests
    assert call.route == "query" and call.outcome == "23500008"
    assert call.body["data"]["result_key"].startswith("backdrop-connection-check-")
    assert emulator.submits == 0


@pytest.mark.parametrize(
    ("setup", "appcode", "cls"),
    [
        (lambda e: None, "wrong-appcode-1234", AuthenticationError),  # the gateway does not know it
        (lambda e: e.gateway_error_next(403, "Quota Exhausted"), APPCODE, QuotaExhaustedError),
        (lambda e: e.gateway_error_next(403, "Unauthorized"), APPCODE, AuthenticationError),
        (lambda e: e.gateway_error_next(400, INVALID_URL), APPCODE, ConfigurationError),
        (lambda e: e.fail_next("23500003"), APPCODE, QuotaExhaustedError),
        (lambda e: e.fail_next("23500000"), APPCODE, ProviderUnavailableError),
    ],
)
def test_check_connection_raises_what_is_wrong(
    emulator: AliyunMarketEmulator, setup: Any, appcode: str, cls: type[ProviderError]
) -> None:
    setup(emulator)
    with pytest.raises(cls) as caught:
        make_adapter(emulator, appcode=appcode).check_connection()
    assert type(caught.value) is cls
    assert_no_appcode(caught.value)
    assert "wrong-appcode-1234" not in str(caught.value)


def test_a_closed_port_is_retryable_even_for_submit(inputs: StaticFiles) -> None:
    with AliyunMarketEmulator(APPCODE) as gone:
        url = gone.base_url
    with pytest.raises(ProviderUnavailableError) as caught:
        make_adapter(None, endpoint=url).submit(prompt_request(inputs))
    assert caught.value.retryable  # nothing reached the vendor


# ------------------------------------------------------------------ answer shapes the emulator never produces
class _FakeResponse:
    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status_code, self.content, self.headers = status, body, headers or {}


class _FakeSession:
    def __init__(self, *responses: _FakeResponse) -> None:
        self.responses = list(responses)

    def request(self, *args: Any, **kwargs: Any) -> _FakeResponse:
        return self.responses.pop(0)


def _fake_adapter(*responses: _FakeResponse) -> AliyunMarket:
    context = ProviderContext(
        credentials={"appcode": APPCODE}, endpoint=EXAMPLE_BASE_URL, session=_FakeSession(*responses)
    )
    return AliyunMarket(context)


def _doc(**fields: Any) -> bytes:
    return json.dumps({"code": 0, "success": True, "message": "success", "requestId": "R", **fields}).encode()


def test_odd_answers(inputs: StaticFiles) -> None:
    job = prompt_request(inputs)
    with pytest.raises(UnexpectedResponseError, match="not charged twice"):
        _fake_adapter(_FakeResponse(200, _doc(data={"task_list": []}))).submit(job)
    with pytest.raises(UnexpectedResponseError):
        _fake_adapter(_FakeResponse(200, b"<html>")).poll("k")
    with pytest.raises(UnexpectedResponseError):
        _fake_adapter(_FakeResponse(200, _doc(data={}))).poll("k")
    failed_ok = json.dumps({"code": 0, "success": False}).encode()
    with pytest.raises(UnexpectedResponseError):
        _fake_adapter(_FakeResponse(200, failed_ok)).poll("k")
    # An error code with HTTP 200 is an error all the same; the header names are case-insensitive.
    coded = json.dumps({"code": "23500003", "success": False, "message": "m"}).encode()
    with pytest.raises(QuotaExhaustedError):
        _fake_adapter(_FakeResponse(200, coded)).poll("k")
    throttled = _FakeResponse(
        403, b"", {"x-ca-error-message": "Throttled by GROUP Flow Control", "Retry-After": "7"}
    )
    with pytest.raises(RateLimitedError) as caught:
        _fake_adapter(throttled).poll("k")
    assert caught.value.retry_after_s == 7.0
    undocumented = json.dumps({"code": "23500099", "success": False, "message": "new"}).encode()
    with pytest.raises(InputRejectedError, match="23500099"):
        _fake_adapter(_FakeResponse(400, undocumented)).poll("k")
    with pytest.raises(UnexpectedResponseError):
        _fake_adapter(_FakeResponse(418, b"")).poll("k")
    with pytest.raises(ConfigurationError):
        _fake_adapter(_FakeResponse(404, b"")).poll("k")


@pytest.mark.parametrize(
    ("items", "state", "outputs"),
    [
        ([{"status": "WAITING"}], TaskState.QUEUED, 0),
        ([{"status": "RUNNING"}], TaskState.RUNNING, 0),
        ([{"status": "SOMETHING_NEW"}], TaskState.RUNNING, 0),
        ([{"status": "SUCCESS", "results": ["https://a/1.jpg", "https://a/2.png"]}], TaskState.SUCCEEDED, 2),
        ([{"status": "SUCCESS", "results": [{"url": "https://a/1.webp"}]}], TaskState.SUCCEEDED, 1),
        ([{"status": "SUCCESS", "results": []}], TaskState.FAILED, 0),
        ([{"status": "FAILED", "code": 23500005, "message": "x"}], TaskState.FAILED, 0),
        (
            [{"status": "SUCCESS", "results": ["https://a/1.png"]}, {"status": "WAITING"}],
            TaskState.RUNNING,
            0,
        ),
        (
            [{"status": "SUCCESS", "results": ["https://a/1.png"]}, {"status": "FAILED"}],
            TaskState.SUCCEEDED,
            1,
        ),
    ],
)
def test_task_answers_are_read_tolerantly(
    items: list[dict[str, Any]], state: TaskState, outputs: int
) -> None:
    update = AliyunMarket(ProviderContext())._task_update({"data": {"task_list": items}}, "k")
    assert update.state is state and len(update.outputs) == outputs
    if state is TaskState.FAILED:
        assert update.failure is not None and update.failure.message
    if outputs:
        assert {o.mime for o in update.outputs} <= {"image/png", "image/jpeg", "image/webp"}


def test_a_failed_sub_task_with_a_documented_code_uses_its_message() -> None:
    items = [{"status": "FAILED", "code": "23500005", "message": "x"}]
    update = AliyunMarket(ProviderContext())._task_update({"data": {"task_list": items}}, "k")
    assert update.failure is not None and update.failure.code == "23500005"
    assert "content compliance" in update.failure.message


# ------------------------------------------------------------------ the emulator's own checks
def _item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "image": "http://127.0.0.1:9/none.png",
        "positive_prompt": "a beach",
        "guidance_scale": 7.5,
        "strength": 0.5,
        "steps": 30,
        "num_output": 1,
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not None}


def _raw_submit(emulator: AliyunMarketEmulator, body: Any, **headers: str) -> requests.Response:
    sent = {"Authorization": f"APPCODE {APPCODE}", "X-Ca-Nonce": uuid.uuid4().hex, **headers}
    with requests.Session() as raw:
        raw.trust_env = False
        if isinstance(body, bytes):
            return raw.post(emulator.base_url + SUBMIT_PATH, data=body, headers=sent, timeout=5)
        return raw.post(emulator.base_url + SUBMIT_PATH, json=body, headers=sent, timeout=5)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "23500012"),
        (b"not json", "23500013"),
        ({"task_list": []}, "23500012"),
        ({"data": {}}, "23500009"),
        ({"data": {"task_list": [_item()] * 11}}, "23500013"),
        ({"data": {"task_list": [_item(image=None)]}}, "23500009"),
        ({"data": {"task_list": [_item(positive_prompt="")]}}, "23500009"),
        ({"data": {"task_list": [_item(steps=None)]}}, "23500009"),
        ({"data": {"task_list": [_item(image="ftp://x/a.png")]}}, "23500006"),
        ({"data": {"task_list": [_item(positive_prompt="x" * 501)]}}, "23500013"),
        ({"data": {"task_list": [_item(negative_prompt="x" * 501)]}}, "23500013"),
        ({"data": {"task_list": [_item(guidance_scale=0.5)]}}, "23500013"),
        ({"data": {"task_list": [_item(guidance_scale="7")]}}, "23500013"),
        ({"data": {"task_list": [_item(strength=0)]}}, "23500013"),
        ({"data": {"task_list": [_item(strength=1.01)]}}, "23500013"),
        ({"data": {"task_list": [_item(steps=14)]}}, "23500013"),
        ({"data": {"task_list": [_item(steps=30.5)]}}, "23500013"),
        ({"data": {"task_list": [_item(num_output=5)]}}, "23500013"),
        ({"data": {"task_list": [_item(num_output=True)]}}, "23500013"),
        ({"data": {"task_list": [_item(seed=2**31)]}}, "23500013"),
        ({"data": {"task_list": [_item()]}}, "23500006"),  # all fields fine, the link is dead
        (
            {"data": {"task_list": [_item(image="https://example.com/a.png")]}},
            "23500006",
        ),  # never leaves loopback
    ],
)
def test_emulator_validates_fields_and_ranges(emulator: AliyunMarketEmulator, body: Any, code: str) -> None:
    answer = _raw_submit(emulator, body)
    assert answer.status_code == ERRORS[code][0] and answer.json()["code"] == code
    assert answer.json()["success"] is False and answer.json()["requestId"]
    assert emulator.submits == 0


def test_emulator_gateway_checks_path_and_appcode(emulator: AliyunMarketEmulator) -> None:
    with requests.Session() as raw:
        raw.trust_env = False
        wrong_path = raw.post(
            emulator.base_url + "/api/v1/bg-rep/nowhere",
            json={},
            headers={"Authorization": f"APPCODE {APPCODE}", "X-Ca-Nonce": "n1"},
            timeout=5,
        )
        wrong_method = raw.get(emulator.base_url + QUERY_PATH, timeout=5)
    assert wrong_path.status_code == 400 and wrong_path.headers["X-Ca-Error-Message"] == INVALID_URL
    assert wrong_method.headers["X-Ca-Error-Message"] == INVALID_URL
    for auth in (APPCODE, f"APPCODE{APPCODE}", f"Bearer {APPCODE}", "APPCODE wrong"):
        answer = _raw_submit(emulator, {"data": {}}, Authorization=auth)
        assert answer.status_code == 400 and answer.headers["X-Ca-Error-Message"] == INVALID_APPCODE
        assert answer.content == b""


def test_emulator_batches_walk_each_sub_task_and_serve_only_finished_results(
    emulator: AliyunMarketEmulator, inputs: StaticFiles
) -> None:
    url = inputs.host("batch.png", photo())
    body = {"data": {"task_list": [_item(image=url, num_output=2), _item(image=url, positive_prompt="snow")]}}
    submitted = _raw_submit(emulator, body).json()
    assert submitted["code"] == 0 and submitted["success"] is True
    key = submitted["data"]["result_key"]
    assert [t["status"] for t in submitted["data"]["task_list"]] == ["WAITING", "WAITING"]
    with requests.Session() as raw:
        raw.trust_env = False
        assert raw.get(f"{emulator.base_url}/results/{key}/0/0.png", timeout=5).status_code == 404
        walk = []
        for _ in range(4):
            answer = raw.post(
                emulator.base_url + QUERY_PATH,
                json={"data": {"result_key": key}},
                headers={"Authorization": f"APPCODE {APPCODE}", "X-Ca-Nonce": uuid.uuid4().hex},
                timeout=5,
            ).json()
            walk.append([t["status"] for t in answer["data"]["task_list"]])
        assert walk == [
            ["WAITING", "WAITING"],
            ["RUNNING", "WAITING"],
            ["SUCCESS", "RUNNING"],
            ["SUCCESS", "SUCCESS"],
        ]
        results = [t["results"] for t in answer["data"]["task_list"]]
        assert [len(r) for r in results] == [2, 1]
        assert all(raw.get(u, timeout=5).status_code == 200 for r in results for u in r)
        assert raw.get(f"{emulator.base_url}/results/{key}/1/1.png", timeout=5).status_code == 404


def test_emulator_accepts_the_three_mask_forms(emulator: AliyunMarketEmulator, inputs: StaticFiles) -> None:
    url = inputs.host("forms.png", photo())
    grey = np.zeros((480, 640), np.uint8)
    grey[120:360, 213:426] = 255
    forms = {
        "L": _encode(grey),
        "RGB": _encode(np.dstack([grey] * 3)),
        "RGBA": _encode(np.dstack([np.full_like(grey, 255)] * 3 + [grey]), mode="RGBA"),
    }
    for name, data in forms.items():
        body = {"data": {"task_list": [_item(image=url, mask=inputs.host(f"mask-{name}.png", data))]}}
        assert _raw_submit(emulator, body).status_code == 200, name
    assert emulator.submits == 3


def test_emulator_refuses_unknown_injections() -> None:
    emulator = AliyunMarketEmulator()
    with pytest.raises(ValueError, match="unknown service code"):
        emulator.fail_next("23500010")
    with pytest.raises(ValueError, match="unknown route"):
        emulator.fail_next("23500000", route="nowhere")  # type: ignore[arg-type]


def test_emulator_runs_standalone_and_prints_its_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.aliyun_market", "--port", "0", "--appcode", "cli-code"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("ALIYUN_BGREP_EMULATOR_URL=http://127.0.0.1:")
        adapter = make_adapter(None, appcode="cli-code", endpoint=line.split("=", 1)[1])
        assert adapter.check_connection().ok
    finally:
        process.terminate()
        process.wait(timeout=10)
