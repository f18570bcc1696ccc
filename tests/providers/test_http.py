"""The shared HTTP plumbing: no transport retries, and whether a failed call is safe to try again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from providers.errors import ProviderUnavailableError, RateLimitedError
from providers.http import new_session, retry_after_seconds, send


class _Slow(BaseHTTPRequestHandler):
    calls = 0

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:
        type(self).calls += 1
        if self.path == "/slow":
            time.sleep(0.5)
        status = {"/slow": 200, "/busy": 429, "/down": 502, "/bad": 400}.get(self.path, 200)
        body = b'{"ok": true}'
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "12")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    _Slow.calls = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_read_timeout_on_a_submit_is_not_retried_and_says_to_check_the_console(server: str) -> None:
    with pytest.raises(ProviderUnavailableError) as caught:
        send(new_session(), "v", "POST", f"{server}/slow", idempotent=False, timeout=(2, 0.1))
    assert not caught.value.retryable and "not charged twice" in caught.value.user_message
    assert _Slow.calls == 1  # the transport itself never tried again


def test_a_read_timeout_on_a_status_query_is_retryable(server: str) -> None:
    with pytest.raises(ProviderUnavailableError) as caught:
        send(new_session(), "v", "POST", f"{server}/slow", idempotent=True, timeout=(2, 0.1))
    assert caught.value.retryable


def test_throttling_and_server_errors_raise_other_answers_return(server: str) -> None:
    session = new_session()
    with pytest.raises(RateLimitedError) as throttled:
        send(session, "v", "POST", f"{server}/busy", idempotent=False)
    assert throttled.value.retry_after_s == 12
    with pytest.raises(ProviderUnavailableError, match="HTTP 502"):
        send(session, "v", "POST", f"{server}/down", idempotent=False)
    answer = send(session, "v", "POST", f"{server}/bad", idempotent=False)
    assert answer.status == 400 and answer.json("v") == {"ok": True}
    assert _Slow.calls == 3


def test_a_refused_connection_is_safe_to_retry_even_for_a_submit() -> None:
    with pytest.raises(ProviderUnavailableError) as caught:
        send(new_session(), "v", "POST", "http://127.0.0.1:9/x", idempotent=False, timeout=(1, 1))
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30", 30.0), ("0", 0.0), ("-5", 0.0), ("100000", 600.0), ("soon", None), (None, None)],
)
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_as_an_http_date() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds(formatdate(now + 45, usegmt=True), now) == pytest.approx(45, abs=1)
