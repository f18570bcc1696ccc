"""Vendors answer throttling and server errors as HTTP 429/5xx with their own code in the body.

`http.send` used to raise `http_429`/`http_5xx` before an adapter saw that body,
so DashScope's `Throttling.RateQuota` or Aidge's `ApiCallLimit` became generic
codes and a quota code on a 429 was retried. These tests drive each adapter
against its loopback emulator told to fail that way, and check the vendor's
own code, its class, whether it is retried and the `Retry-After` it came with.
(Tencent answers every business error with HTTP 200, so it has no row here.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from providers.aidge import Aidge
from providers.aliyun_market import AliyunMarket
from providers.base import ProviderContext, TaskState
from providers.dashscope import DashScope
from providers.errors import (
    ContentRejectedError,
    ProviderError,
    ProviderUnavailableError,
    QuotaExhaustedError,
    RateLimitedError,
)
from providers.http import new_session, send, status_error, with_status_facts
from tests.emulators.aidge import API_SCENE_CATALOGUE, AidgeEmulator
from tests.emulators.aliyun_market import AliyunMarketEmulator
from tests.emulators.dashscope import DashScopeEmulator

RESULT_KEY = "0123456789abcdef0123456789abcdef"


# ------------------------------------------------------------------ http.send itself
class _Vendor(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        status = int(self.path.split("?", 1)[0].strip("/"))
        body = b'{"code": "Busy", "message": "slow down"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "9")
        self.send_header("X-Request-Id", "req-9")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def vendor() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Vendor)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("status", "error"), [(429, RateLimitedError), (500, ProviderUnavailableError)])
def test_send_hands_429_and_5xx_bodies_to_the_adapter_when_asked(
    vendor: str, status: int, error: type[ProviderError]
) -> None:
    url = f"{vendor}/{status}?sign=SECRET-SIGNATURE"
    with pytest.raises(error) as raised:
        send(new_session(), "v", "POST", url, idempotent=True)
    assert raised.value.retryable and raised.value.retry_after_s == 9
    assert "SECRET-SIGNATURE" not in str(raised.value)  # query strings carry signatures

    answer = send(new_session(), "v", "POST", url, idempotent=True, vendor_bodies=True)
    assert answer.status == status and answer.json("v")["code"] == "Busy"
    generic = status_error("v", answer)
    assert type(generic) is error and generic.retry_after_s == 9 and generic.request_id == "req-9"
    # A vendor code that says "do not retry" keeps saying so; a retried one gets the server's hint.
    quota = with_status_facts(QuotaExhaustedError("v", "Arrearage", "pay"), answer)
    assert not quota.retryable and quota.retry_after_s is None and quota.request_id == "req-9"
    busy = with_status_facts(RateLimitedError("v", "Busy", "wait"), answer)
    assert busy.retryable and busy.retry_after_s == 9


def test_send_still_returns_other_statuses_and_status_error_ignores_them(vendor: str) -> None:
    answer = send(new_session(), "v", "POST", f"{vendor}/400", idempotent=False)
    assert answer.status == 400 and status_error("v", answer) is None


# ------------------------------------------------------------------ DashScope
@pytest.fixture
def dashscope() -> Iterator[DashScopeEmulator]:
    with DashScopeEmulator("sk-test-key") as running:
        yield running


def _dashscope(emulator: DashScopeEmulator) -> DashScope:
    return DashScope(
        ProviderContext(
            credentials={"api_key": "sk-test-key"}, endpoint=emulator.api_url, session=new_session()
        )
    )


DASHSCOPE_ROWS = [
    # code, HTTP status (None: the emulator's), class, retryable
    ("Throttling", None, RateLimitedError, True),
    ("Throttling.RateQuota", None, RateLimitedError, True),
    ("Throttling.AllocationQuota", None, RateLimitedError, True),
    ("InternalError", None, ProviderUnavailableError, True),
    ("ServiceUnavailable", None, ProviderUnavailableError, True),
    ("GatewayTimeout", None, ProviderUnavailableError, True),  # a status query may be repeated
    ("Arrearage", 429, QuotaExhaustedError, False),  # the vendor's code wins over the status
    ("DataInspectionFailed", 500, ContentRejectedError, False),
]


@pytest.mark.parametrize(("code", "status", "error", "retryable"), DASHSCOPE_ROWS)
@pytest.mark.parametrize("route", ["query", "policy"])
def test_dashscope_429_and_5xx_keep_the_vendor_code(
    dashscope: DashScopeEmulator,
    route: str,
    code: str,
    status: int | None,
    error: type[ProviderError],
    retryable: bool,
) -> None:
    dashscope.fail_next(code, route=route, status=status, retry_after_s=6)  # type: ignore[arg-type]
    adapter = _dashscope(dashscope)
    call: Callable[[], object] = (
        (lambda: adapter.poll("some-task")) if route == "query" else adapter.check_connection
    )
    with pytest.raises(error) as raised:
        call()
    assert type(raised.value) is error and raised.value.code == code
    assert raised.value.retryable is retryable and raised.value.request_id
    assert raised.value.retry_after_s == (6 if retryable else None)


def test_a_dashscope_5xx_without_a_body_code_is_still_a_retryable_server_error(
    dashscope: DashScopeEmulator,
) -> None:
    dashscope.fail_next("", route="query", status=502, message="bad gateway")
    with pytest.raises(ProviderUnavailableError) as raised:
        _dashscope(dashscope).poll("some-task")
    assert raised.value.retryable


# ------------------------------------------------------------------ Aidge
@pytest.fixture
def aidge() -> Iterator[AidgeEmulator]:
    with AidgeEmulator("key", "secret-0123456789") as running:
        yield running


def _aidge(emulator: AidgeEmulator) -> Aidge:
    return Aidge(
        ProviderContext(
            credentials={"access_key_name": "key", "access_key_secret": "secret-0123456789"},
            endpoint=emulator.base_url,
            session=new_session(),
        )
    )


AIDGE_BUSINESS_ROWS = [
    # resCode, HTTP status, class, retryable
    (501, 429, RateLimitedError, True),
    (500, 500, ProviderUnavailableError, True),
    (801, 502, ProviderUnavailableError, True),
    (1000, 500, ContentRejectedError, False),
]


@pytest.mark.parametrize(("res_code", "status", "error", "retryable"), AIDGE_BUSINESS_ROWS)
def test_aidge_res_codes_on_429_and_5xx_keep_their_code(
    aidge: AidgeEmulator, res_code: int, status: int, error: type[ProviderError], retryable: bool
) -> None:
    aidge.fail_next(API_SCENE_CATALOGUE, res_code, status=status, retry_after_s=5)
    with pytest.raises(error) as raised:
        _aidge(aidge).list_scenes({})
    assert type(raised.value) is error and raised.value.code == str(res_code)
    assert raised.value.retryable is retryable and raised.value.request_id
    assert raised.value.retry_after_s == (5 if retryable else None)


@pytest.mark.parametrize(
    ("kind", "status", "code", "error", "retryable"),
    [
        ("rate_limit", None, "ApiCallLimit", RateLimitedError, True),
        ("quota", 429, "AccessDenied", QuotaExhaustedError, False),  # quota on a 429: never retried
        ("server_error", None, "http_503", ProviderUnavailableError, True),  # an HTML page: no code to read
    ],
)
def test_aidge_gateway_answers_on_429_and_5xx(
    aidge: AidgeEmulator,
    kind: str,
    status: int | None,
    code: str,
    error: type[ProviderError],
    retryable: bool,
) -> None:
    aidge.gateway_error_next(kind, retry_after_s=8, status=status)  # type: ignore[arg-type]
    with pytest.raises(error) as raised:
        _aidge(aidge).list_scenes({})
    assert type(raised.value) is error and raised.value.code == code
    assert raised.value.retryable is retryable


def test_aidge_throttling_keeps_the_servers_hint(aidge: AidgeEmulator) -> None:
    aidge.gateway_error_next("rate_limit", retry_after_s=8)
    with pytest.raises(RateLimitedError) as raised:
        _aidge(aidge).list_scenes({})
    assert raised.value.retry_after_s == 8 and "throttling" in raised.value.user_message


# ------------------------------------------------------------------ Alibaba Cloud Marketplace
@pytest.fixture
def market() -> Iterator[AliyunMarketEmulator]:
    with AliyunMarketEmulator("appcode-0123456789") as running:
        yield running


def _market(emulator: AliyunMarketEmulator) -> AliyunMarket:
    return AliyunMarket(
        ProviderContext(
            credentials={"appcode": "appcode-0123456789"}, endpoint=emulator.base_url, session=new_session()
        )
    )


def test_market_codes_answered_with_500_keep_their_code(market: AliyunMarketEmulator) -> None:
    market.fail_next("23500000", route="query")
    with pytest.raises(ProviderUnavailableError) as raised:
        _market(market).poll(RESULT_KEY)
    assert raised.value.code == "23500000" and raised.value.retryable and raised.value.request_id
    # On a query, 23500011 (HTTP 500) is the task's end, not an outage.
    market.fail_next("23500011", route="query")
    update = _market(market).poll(RESULT_KEY)
    assert update.state is TaskState.FAILED and update.failure is not None
    assert update.failure.code == "23500011"


@pytest.mark.parametrize(
    ("status", "message", "error", "retryable"),
    [
        (429, "Throttled by API Flow Control", RateLimitedError, True),
        (503, "Quota Exhausted", QuotaExhaustedError, False),
        (502, "Backend service failed", ProviderUnavailableError, True),
    ],
)
def test_market_gateway_messages_on_429_and_5xx_are_read(
    market: AliyunMarketEmulator, status: int, message: str, error: type[ProviderError], retryable: bool
) -> None:
    market.gateway_error_next(status, message, route="query")
    with pytest.raises(error) as raised:
        _market(market).poll(RESULT_KEY)
    assert type(raised.value) is error and raised.value.retryable is retryable
    assert message in raised.value.user_message or error is ProviderUnavailableError
