"""The guarded result fetcher: public addresses only (checked on the connected socket), size cap,
overall deadline, no proxy from the environment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from providers.errors import ProviderUnavailableError
from providers.fetch import (
    AddressRefused,
    FetchPolicy,
    LinkRedirected,
    LinkStatus,
    ResultFetcher,
    fetch_link,
    guarded_session,
    is_public_address,
)

IMAGE = b"\x89PNG\r\n\x1a\n" + b"x" * 5000


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/redirect")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/missing"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(IMAGE)))
        self.end_headers()
        self.wfile.write(IMAGE)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[str]


@pytest.fixture()
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server: _Server, path: str = "/result.png") -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.10", False),
        ("172.16.5.4", False),
        ("169.254.169.254", False),  # the cloud metadata service
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("not an address", False),
    ],
)
def test_only_public_addresses_count_as_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_a_loopback_link_is_refused_by_default_without_a_request_reaching_it(server: _Server) -> None:
    with pytest.raises(ProviderUnavailableError) as caught:
        ResultFetcher().fetch(url(server))
    assert caught.value.code == "result_link_refused" and caught.value.retryable is False
    assert "127.0.0.1" in caught.value.user_message
    assert server.seen == []


def test_a_link_that_hides_loopback_behind_a_public_looking_host_is_refused(server: _Server) -> None:
    # Read by one URL parser as host 8.8.8.8, connected by another to 127.0.0.1.
    tricky = f"http://127.0.0.1:{server.server_port}\\@8.8.8.8/../result.png"
    with pytest.raises(ProviderUnavailableError) as caught:
        ResultFetcher().fetch(tricky)
    assert caught.value.code in {"result_link_refused", "download_failed"}
    assert server.seen == []


def test_a_link_that_is_not_http_is_refused() -> None:
    with pytest.raises(ProviderUnavailableError) as caught:
        ResultFetcher().fetch("file:///etc/passwd")
    assert caught.value.code == "not_a_link" and caught.value.retryable is False


def test_with_private_links_allowed_the_image_is_fetched(server: _Server) -> None:
    assert ResultFetcher(FetchPolicy(allow_private=True)).fetch(url(server)) == IMAGE


def test_proxy_variables_in_the_environment_are_ignored(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert ResultFetcher(FetchPolicy(allow_private=True)).fetch(url(server)) == IMAGE


def test_a_result_over_the_size_cap_is_refused_for_good(server: _Server) -> None:
    with pytest.raises(ProviderUnavailableError) as caught:
        ResultFetcher(FetchPolicy(allow_private=True, max_bytes=1000)).fetch(url(server))
    assert caught.value.code == "too_large" and caught.value.retryable is False


def test_a_download_past_its_deadline_stops_and_is_retryable(server: _Server) -> None:
    ticks = iter(range(0, 1000, 50))
    fetcher = ResultFetcher(FetchPolicy(allow_private=True, deadline_s=30), clock=lambda: float(next(ticks)))
    with pytest.raises(ProviderUnavailableError) as caught:
        fetcher.fetch(url(server))
    assert caught.value.code == "download_timeout" and caught.value.retryable is True


def test_an_error_answer_and_endless_redirects_are_retryable_failures(server: _Server) -> None:
    fetcher = ResultFetcher(FetchPolicy(allow_private=True))
    for path in ("/missing.png", "/redirect"):
        with pytest.raises(ProviderUnavailableError) as caught:
            fetcher.fetch(url(server, path))
        assert caught.value.code == "download_failed" and caught.value.retryable is True
    assert server.seen.count("/redirect") == 4  # the first answer and three redirects, then it stops


# ------------------------------------------------------------------ the shared helper
def test_fetch_link_refuses_a_loopback_peer_unless_the_policy_allows_it(server: _Server) -> None:
    with guarded_session(FetchPolicy()) as session, pytest.raises(AddressRefused) as caught:
        fetch_link(session, url(server), FetchPolicy())
    assert caught.value.address == "127.0.0.1" and server.seen == []
    allowed = FetchPolicy(allow_private=True)
    with guarded_session(allowed) as session:
        assert fetch_link(session, url(server), allowed) == IMAGE


def test_fetch_link_reports_a_redirect_it_was_told_not_to_follow_and_an_error_status(server: _Server) -> None:
    policy = FetchPolicy(allow_private=True)
    with guarded_session(policy) as session:
        with pytest.raises(LinkRedirected) as redirected:
            fetch_link(session, url(server, "/redirect"), policy, follow_redirects=False)
        assert redirected.value.status == 302
        with pytest.raises(LinkStatus) as status:
            fetch_link(session, url(server, "/missing.png"), policy)
        assert status.value.status == 404
    assert server.seen == ["/redirect", "/missing.png"]
