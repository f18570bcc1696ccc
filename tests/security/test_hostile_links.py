"""Hostile links: every link a user or a vendor supplies goes through the one guarded fetch, which
refuses it before any connection to an internal address is attempted (issue 15).

Each corpus case is fetched with a socket-level recorder in place and a loopback listener whose
port the links name: a refusal must leave both empty, so no error text can tell an open port from
a closed one. Names resolve through an injected resolver (no DNS, no internet); a "public" origin
is a loopback server on 127.0.0.2 that the policy trusts, to test what its redirects may do.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests  # type: ignore[import-untyped, unused-ignore]

from providers.errors import ProviderUnavailableError
from providers.fetch import (
    AddressRefused,
    FetchPolicy,
    HostNotFound,
    LinkDeadline,
    LinkRedirected,
    LinkRefused,
    LinkRejected,
    LinkTooLarge,
    LinkTooManyRedirects,
    ResultFetcher,
    fetch_link,
    guarded_session,
)
from providers.fetch_guard import address_refusal, check_link_text, parse_address
from studio.manifest import DownloadError, download_local_url, download_public_url, download_url
from studio.manifest_files import Files
from tests.emulators.static_files import StaticFiles

ROOT = Path(__file__).resolve().parents[2]
IMAGE = b"\x89PNG\r\n\x1a\n" + b"x" * 2000
ORIGIN_ADDRESS = "127.0.0.2"  # the tests' "public" origin: trusted by address, nothing else is

# What the injected resolver answers; any other name is "not found".
NAMES: dict[str, list[str]] = {
    "evil.test": ["127.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": ["8.8.8.8", "10.0.0.1"],  # one internal answer refuses the name
    "mapped.test": ["::ffff:127.0.0.1"],
    "nat64.test": ["64:ff9b::a9fe:a9fe"],
    "sixtofour.test": ["2002:7f00:1::1"],
    "compatible.test": ["::127.0.0.1"],
    "lan.test": ["192.168.1.20"],
    "zero.test": ["0.0.0.0"],
    "internal.test": ["127.0.0.1"],
    "public.test": ["8.8.8.8"],
}


# ---------------------------------------------------------------------------- fixtures
class Recorder:
    """Every address a socket tried to connect to, and every name the resolver was asked."""

    def __init__(self) -> None:
        self.connects: list[str] = []
        self.lookups: list[str] = []

    def resolver(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in NAMES:
            return NAMES[host]
        if parse_address(host) is not None:
            return [host]
        raise OSError(f"no such host {host}")


@pytest.fixture()
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    record = Recorder()
    original_connect = socket.socket.connect
    original_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        record.connects.append(str(address[0]) if isinstance(address, tuple) else str(address))
        original_connect(sock, address)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        # The studio's system resolver, kept off real DNS: test names answer from NAMES.
        if isinstance(host, str) and host in NAMES:
            record.lookups.append(host)
            family = socket.AF_INET6 if ":" in NAMES[host][0] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port or 0)) for address in NAMES[host]]
        return original_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return record


class Listener:
    """A loopback port the hostile links name; it must never see a connection."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    port = Listener()
    yield port
    port.close()


class Origin(ThreadingHTTPServer):
    """A "public" server on 127.0.0.2: `/to?<location>` redirects there, `/loop` to itself."""

    daemon_threads = True
    seen: list[tuple[str, str]]  # (path, Host header)


class _OriginHandler(BaseHTTPRequestHandler):
    server: Origin

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Host", "")))
        if self.path.startswith("/to?"):
            self._redirect(requests.utils.unquote(self.path[len("/to?") :]))
        elif self.path.startswith("/loop"):
            self._redirect("/loop")
        elif self.path.startswith("/image"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(IMAGE)))
            self.end_headers()
            self.wfile.write(IMAGE)
        elif self.path.startswith("/endless"):
            self.send_response(200)  # no Content-Length: the body only ends when the server stops
            self.end_headers()
            for _ in range(400):
                self.wfile.write(b"y" * 4096)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture()
def origin() -> Iterator[Origin]:
    server = Origin((ORIGIN_ADDRESS, 0), _OriginHandler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def policy(recorder: Recorder, **overrides: Any) -> FetchPolicy:
    values: dict[str, Any] = {
        "resolver": recorder.resolver,
        "trusted_addresses": frozenset({ORIGIN_ADDRESS}),
        "deadline_s": 10.0,
        **overrides,
    }
    return FetchPolicy(**values)


def fetch(url: str, fetch_policy: FetchPolicy, **kwargs: Any) -> bytes:
    with guarded_session(fetch_policy) as session:
        return fetch_link(session, url, fetch_policy, **kwargs)


# ---------------------------------------------------------------------------- the corpus
# (id, link with {port} for the listener, what refuses it). "link": the link as written
# (LinkRefused); "address": the address it leads to (AddressRefused); "invalid": the HTTP library
# cannot even parse it (still refused, still no connection).
LINK, ADDRESS, INVALID = "link", "address", "invalid"
CORPUS: list[tuple[str, str, str]] = [
    # the issue's own cases
    ("backslash-userinfo", "http://127.0.0.1:{port}\\@8.8.8.8/../img.png", LINK),
    ("ipv4-compatible", "http://[::127.0.0.1]:{port}/", ADDRESS),
    # user info and parser confusion
    ("userinfo", "http://8.8.8.8@127.0.0.1:{port}/", LINK),
    ("userinfo-password", "http://user:pass@public.test/img.png", LINK),
    ("userinfo-empty", "http://@127.0.0.1:{port}/", LINK),
    ("encoded-backslash-then-at", "http://127.0.0.1:{port}%5C@8.8.8.8/", LINK),
    ("encoded-at-in-host", "http://public.test%40127.0.0.1:{port}/", LINK),
    ("slash-backslash", "http:/\\127.0.0.1:{port}/", LINK),
    ("backslash-in-path", "http://public.test\\..\\127.0.0.1/", LINK),
    ("space-before-at", "http://8.8.8.8 @127.0.0.1:{port}/", LINK),
    ("tab-in-host", "http://127.0.0.1\t:{port}/", LINK),
    ("crlf-injection", "http://public.test/a\r\nHost: 127.0.0.1", LINK),
    ("nul-in-host", "http://public.test\x00.127.0.0.1/", LINK),
    ("fragment-at", "http://127.0.0.1:{port}#@8.8.8.8/", ADDRESS),
    ("query-at", "http://127.0.0.1:{port}?@8.8.8.8/", ADDRESS),
    # other schemes and broken authorities
    ("file-scheme", "file:///etc/passwd", LINK),
    ("gopher-scheme", "gopher://127.0.0.1:{port}/_GET", LINK),
    ("dict-scheme", "dict://127.0.0.1:{port}/", LINK),
    ("no-scheme-slashes", "http:127.0.0.1:{port}/", LINK),
    ("empty-host", "http://:{port}/", LINK),
    ("bad-port", "http://127.0.0.1:99999/", LINK),
    ("hex-port", "http://127.0.0.1:0x50/", LINK),
    ("double-port", "http://public.test:80:{port}/", LINK),
    ("unclosed-bracket", "http://[::1:{port}/", LINK),
    # loopback, private, link-local, multicast, reserved, unspecified
    ("loopback", "http://127.0.0.1:{port}/", ADDRESS),
    ("loopback-upper-scheme", "HTTP://127.0.0.1:{port}/", ADDRESS),
    ("loopback-other", "http://127.9.8.7:{port}/", ADDRESS),
    ("loopback-trailing-dot", "http://127.0.0.1.:{port}/", ADDRESS),
    ("loopback-ipv6", "http://[::1]:{port}/", ADDRESS),
    ("localhost", "http://localhost:{port}/", ADDRESS),
    ("localhost-upper", "http://LOCALHOST:{port}/", ADDRESS),
    ("unspecified", "http://0.0.0.0:{port}/", ADDRESS),
    ("unspecified-ipv6", "http://[::]:{port}/", ADDRESS),
    ("metadata", "http://169.254.169.254/latest/meta-data/", ADDRESS),
    ("metadata-ipv6-ec2", "http://[fd00:ec2::254]/latest/meta-data/", ADDRESS),
    ("link-local-ipv6", "http://[fe80::1]/", ADDRESS),
    ("private-10", "http://10.0.0.1/", ADDRESS),
    ("private-172", "http://172.16.0.1/", ADDRESS),
    ("private-192", "http://192.168.1.1/", ADDRESS),
    ("shared-cgnat", "http://100.64.0.1/", ADDRESS),
    ("unique-local", "http://[fd12:3456::1]/", ADDRESS),
    ("site-local", "http://[fec0::1]/", ADDRESS),
    ("multicast", "http://224.0.0.1/", ADDRESS),
    ("multicast-ipv6", "http://[ff02::1]/", ADDRESS),
    ("broadcast", "http://255.255.255.255/", ADDRESS),
    ("reserved-240", "http://240.0.0.1/", ADDRESS),
    ("benchmark", "http://198.18.0.1/", ADDRESS),
    ("documentation", "http://192.0.2.1/", ADDRESS),
    # mapped and embedded forms
    ("mapped", "http://[::ffff:127.0.0.1]:{port}/", ADDRESS),
    ("mapped-hex", "http://[::ffff:7f00:1]:{port}/", ADDRESS),
    ("mapped-long", "http://[0:0:0:0:0:ffff:169.254.169.254]/", ADDRESS),
    ("translated", "http://[::ffff:0:127.0.0.1]:{port}/", ADDRESS),
    ("compatible-metadata", "http://[::169.254.169.254]/", ADDRESS),
    ("sixtofour-loopback", "http://[2002:7f00:1::]:{port}/", ADDRESS),
    ("sixtofour-metadata", "http://[2002:a9fe:a9fe::1]/", ADDRESS),
    ("nat64-loopback", "http://[64:ff9b::7f00:1]:{port}/", ADDRESS),
    ("nat64-metadata", "http://[64:ff9b::169.254.169.254]/", ADDRESS),
    ("nat64-local-use", "http://[64:ff9b:1::808:808]/", ADDRESS),
    ("teredo", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", ADDRESS),
    # zone ids
    ("zone-id", "http://[fe80::1%25eth0]/", LINK),
    ("zone-id-loopback", "http://[::1%251]:{port}/", LINK),
    ("zone-id-raw", "http://[fe80::1%eth0]/", LINK),
    # decimal, octal and hex spellings of IPv4
    ("decimal", "http://2130706433:{port}/", LINK),
    ("hex-dotted", "http://0x7f.1:{port}/", LINK),
    ("octal", "http://017700000001:{port}/", LINK),
    ("octal-dotted", "http://0177.0.0.1:{port}/", LINK),
    ("hex-whole", "http://0x7f000001:{port}/", LINK),
    ("short-form", "http://127.1:{port}/", LINK),
    ("short-form-zero", "http://0:{port}/", LINK),
    ("leading-zero", "http://127.000.000.001:{port}/", LINK),
    ("metadata-decimal", "http://2852039166/latest/meta-data/", LINK),
    ("metadata-hex", "http://0xa9.0xfe.0xa9.0xfe/", LINK),
    ("numeric-trailing-dot", "http://2130706433.:{port}/", LINK),
    ("name-then-number", "http://public.test.2130706433/", LINK),
    # unicode digits (no parser may fold them into 127.0.0.1 behind the check's back)
    ("fullwidth-digits", "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/", INVALID),
    # names resolving inside
    ("name-loopback", "http://evil.test:{port}/", ADDRESS),
    ("name-loopback-upper", "http://EVIL.test:{port}/", ADDRESS),
    ("name-metadata", "http://metadata.test/latest/meta-data/", ADDRESS),
    ("name-mixed-answers", "http://mixed.test/img.png", ADDRESS),
    ("name-mapped", "http://mapped.test:{port}/", ADDRESS),
    ("name-nat64", "http://nat64.test/", ADDRESS),
    ("name-sixtofour", "http://sixtofour.test:{port}/", ADDRESS),
    ("name-compatible", "http://compatible.test:{port}/", ADDRESS),
    ("name-lan", "http://lan.test/", ADDRESS),
    ("name-zero", "http://zero.test:{port}/", ADDRESS),
    ("name-unknown", "http://nowhere.test/", "not_found"),
]


def _expect(kind: str) -> type[BaseException] | tuple[type[BaseException], ...]:
    expected: dict[str, type[BaseException] | tuple[type[BaseException], ...]] = {
        LINK: LinkRefused,
        ADDRESS: AddressRefused,
        INVALID: (LinkRejected, AddressRefused, requests.exceptions.InvalidURL),
        "not_found": HostNotFound,
    }
    return expected[kind]


@pytest.mark.parametrize(("link", "kind"), [pytest.param(url, kind, id=name) for name, url, kind in CORPUS])
def test_every_hostile_link_is_refused_before_any_connection(
    link: str, kind: str, recorder: Recorder, listener: Listener
) -> None:
    url = link.replace("{port}", str(listener.port))
    with pytest.raises(_expect(kind)):
        fetch(url, policy(recorder))
    assert recorder.connects == [] and listener.accepted == 0


@pytest.mark.parametrize(
    ("link", "kind"),
    [pytest.param(url, kind, id=name) for name, url, kind in CORPUS if kind != INVALID],
)
def test_vendor_result_links_refuse_the_corpus_for_good(
    link: str, kind: str, recorder: Recorder, listener: Listener
) -> None:
    url = link.replace("{port}", str(listener.port))
    with pytest.raises(ProviderUnavailableError) as caught:
        ResultFetcher(policy(recorder, trusted_addresses=frozenset())).fetch(url)
    if kind in (LINK, ADDRESS) and url.lower().startswith(("http://", "https://")):
        assert caught.value.code == "result_link_refused" and caught.value.retryable is False
    assert recorder.connects == [] and listener.accepted == 0


@pytest.mark.parametrize(
    "link", [pytest.param(url, id=name) for name, url, kind in CORPUS if kind in (LINK, ADDRESS)]
)
def test_manifest_links_from_the_page_and_the_cli_refuse_the_corpus(
    link: str, recorder: Recorder, listener: Listener
) -> None:
    url = link.replace("{port}", str(listener.port))
    for download in (download_public_url, download_url):
        with pytest.raises(DownloadError):
            download(url)
    assert recorder.connects == [] and listener.accepted == 0


# ---------------------------------------------------------------------------- the address rules
@pytest.mark.parametrize(
    ("address", "default", "local_network"),
    [
        ("8.8.8.8", None, None),
        ("2001:4860:4860::8888", None, None),
        ("::ffff:8.8.8.8", None, None),  # mapped public: judged as 8.8.8.8
        ("64:ff9b::808:808", None, None),  # DNS64 on an IPv6-only host: judged as 8.8.8.8
        ("2002:808:808::1", None, None),  # 6to4 of a public address
        ("127.0.0.1", "loopback", None),
        ("::1", "loopback", None),
        ("::ffff:127.0.0.1", "loopback", None),
        ("10.1.2.3", "private", None),
        ("fd00::1", "private", None),
        ("100.64.0.1", "private", None),
        ("169.254.169.254", "link-local", "link-local"),  # the metadata service, even on a trusted LAN
        ("::ffff:169.254.169.254", "link-local", "link-local"),
        ("2002:a9fe:a9fe::", "link-local", "link-local"),
        ("fe80::1", "link-local", "link-local"),
        ("0.0.0.0", "unspecified", "unspecified"),
        ("::", "unspecified", "unspecified"),
        ("224.0.0.251", "multicast", "multicast"),
        ("ff02::fb", "multicast", "multicast"),
        ("255.255.255.255", "broadcast", "broadcast"),
        ("240.1.2.3", "reserved", "reserved"),
        ("::127.0.0.1", "ipv4-compatible", "ipv4-compatible"),
        ("::8.8.8.8", "ipv4-compatible", "ipv4-compatible"),
        ("64:ff9b:1::1", "reserved", "reserved"),
        ("2001::1", "reserved", "reserved"),  # Teredo
        ("2001:db8::1", "reserved", "reserved"),
    ],
)
def test_address_rules(address: str, default: str | None, local_network: str | None) -> None:
    ip = parse_address(address)
    assert ip is not None
    assert address_refusal(ip) == default
    assert address_refusal(ip, allow_private=True) == local_network


@pytest.mark.parametrize(
    "link",
    [
        "https://cdn.example.com/a/shoe.jpg?x-oss-signature=abc",
        "https://example.com:8443/path/with@at/and%20space.png",
        "http://cafe.be/menu.png",  # hex letters are a name, not a number
        "https://img.alicdn.com/imgextra/i1/0x7f/1.jpg",
        "https://1.2.3.4/photo.png",
        "https://[2001:4860:4860::8888]:443/a.png",
        "https://例子.中国/图片.png",
        "https://example.com./a.png",
    ],
)
def test_ordinary_links_pass_the_written_check(link: str) -> None:
    check_link_text(link)


def test_a_name_is_resolved_once_and_the_connection_pinned_to_the_checked_address(
    recorder: Recorder, origin: Origin, listener: Listener
) -> None:
    answers = iter([[ORIGIN_ADDRESS], ["127.0.0.1"]])  # a rebinding name: public first, then inside

    def rebinding(host: str, port: int) -> Sequence[str]:
        recorder.lookups.append(host)
        return next(answers)

    url = f"http://images.test:{origin.server_port}/image.png"
    assert fetch(url, policy(recorder, resolver=rebinding)) == IMAGE
    assert recorder.lookups == ["images.test"]
    assert recorder.connects == [ORIGIN_ADDRESS]
    # The name stays the name: Host header (and for https SNI and the certificate check).
    assert origin.seen == [("/image.png", f"images.test:{origin.server_port}")]


# ---------------------------------------------------------------------------- redirects
REDIRECT_TARGETS = [
    pytest.param("http://127.0.0.1:{port}/", AddressRefused, id="loopback"),
    pytest.param("http://169.254.169.254/latest/meta-data/iam/", AddressRefused, id="metadata"),
    pytest.param("http://internal.test:{port}/", AddressRefused, id="name-inside"),
    pytest.param("http://metadata.test/", AddressRefused, id="name-metadata"),
    pytest.param("http://[::ffff:127.0.0.1]:{port}/", AddressRefused, id="mapped"),
    pytest.param("http://[::127.0.0.1]:{port}/", AddressRefused, id="ipv4-compatible"),
    pytest.param("http://[64:ff9b::7f00:1]:{port}/", AddressRefused, id="nat64"),
    pytest.param("http://0.0.0.0:{port}/", AddressRefused, id="unspecified"),
    pytest.param("http://2130706433:{port}/", LinkRefused, id="decimal"),
    pytest.param("http://0x7f.1:{port}/", LinkRefused, id="hex"),
    pytest.param("http://127.0.0.1:{port}\\@8.8.8.8/", LinkRefused, id="backslash"),
    pytest.param("http://x@127.0.0.1:{port}/", LinkRefused, id="userinfo"),
    pytest.param("file:///etc/passwd", LinkRefused, id="file"),
    pytest.param("gopher://127.0.0.1:{port}/", LinkRefused, id="gopher"),
    pytest.param("//127.0.0.1:{port}/", AddressRefused, id="scheme-relative"),
]


@pytest.mark.parametrize(("target", "refusal"), REDIRECT_TARGETS)
def test_every_redirect_hop_is_checked_again(
    target: str,
    refusal: type[Exception],
    recorder: Recorder,
    origin: Origin,
    listener: Listener,
) -> None:
    location = requests.utils.quote(target.replace("{port}", str(listener.port)), safe="")
    url = f"http://{ORIGIN_ADDRESS}:{origin.server_port}/to?{location}"
    with pytest.raises(refusal):
        fetch(url, policy(recorder))
    assert len(origin.seen) == 1
    assert set(recorder.connects) == {ORIGIN_ADDRESS} and listener.accepted == 0


def test_a_redirect_through_two_hops_is_checked_at_each(
    recorder: Recorder, origin: Origin, listener: Listener
) -> None:
    inner = requests.utils.quote(f"http://evil.test:{listener.port}/", safe="")
    hop = requests.utils.quote(f"http://{ORIGIN_ADDRESS}:{origin.server_port}/to?{inner}", safe="")
    with pytest.raises(AddressRefused):
        fetch(f"http://{ORIGIN_ADDRESS}:{origin.server_port}/to?{hop}", policy(recorder))
    assert len(origin.seen) == 2 and listener.accepted == 0 and "evil.test" in recorder.lookups


def test_a_redirect_on_the_same_public_origin_is_followed(recorder: Recorder, origin: Origin) -> None:
    url = f"http://{ORIGIN_ADDRESS}:{origin.server_port}/to?/image.png"
    assert fetch(url, policy(recorder)) == IMAGE
    assert [path for path, _ in origin.seen] == ["/to?/image.png", "/image.png"]


def test_redirects_are_capped_and_can_be_refused(recorder: Recorder, origin: Origin) -> None:
    url = f"http://{ORIGIN_ADDRESS}:{origin.server_port}/loop"
    with pytest.raises(LinkTooManyRedirects):
        fetch(url, policy(recorder, max_redirects=2))
    assert len(origin.seen) == 3  # the first answer and two redirects, then it stops
    with pytest.raises(LinkRedirected):
        fetch(url, policy(recorder), follow_redirects=False)


def test_cli_manifests_no_longer_follow_a_loopback_redirect_to_the_metadata_service(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The issue's CLI case: a loopback link (allowed on a trusted network) redirecting to 169.254.x.
    with StaticFiles() as files:
        hop = Origin(("127.0.0.1", 0), _OriginHandler)
        hop.seen = []
        threading.Thread(target=hop.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        try:
            link = f"http://127.0.0.1:{hop.server_port}/to?http://169.254.169.254/latest/meta-data/"
            with pytest.raises(DownloadError, match="inside this network"):
                download_local_url(link)
            with pytest.raises(DownloadError, match="inside this network"):
                download_url(link)
            assert "169.254.169.254" not in recorder.connects
            assert download_local_url(files.host("ok.png", IMAGE)) == IMAGE
        finally:
            hop.shutdown()
            hop.server_close()


# ---------------------------------------------------------------------------- time and bytes
class _Drip:
    """A loopback server that answers one header byte at a time, forever."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not self._stop.is_set():
                try:
                    conn.sendall(b"X")
                except OSError:
                    return
                time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


def test_an_overall_deadline_stops_a_server_that_drips_its_headers() -> None:
    drip = _Drip()
    try:
        slow = FetchPolicy(allow_private=True, deadline_s=0.6, read_timeout_s=30.0)
        started = time.monotonic()
        with pytest.raises(LinkDeadline):
            fetch(f"http://127.0.0.1:{drip.port}/slow.png", slow)
        assert time.monotonic() - started < 5.0
    finally:
        drip.close()


def test_a_body_without_a_length_is_cut_at_the_size_cap(recorder: Recorder, origin: Origin) -> None:
    url = f"http://{ORIGIN_ADDRESS}:{origin.server_port}/endless"
    with pytest.raises(LinkTooLarge):
        fetch(url, policy(recorder, max_bytes=100_000))


# ---------------------------------------------------------------------------- every caller
def test_a_manifest_row_refuses_the_link_before_any_download_function_sees_it(tmp_path: Path) -> None:
    asked: list[str] = []

    def download(url: str) -> bytes:
        asked.append(url)
        return IMAGE

    files = Files((tmp_path,), None, download, "next to the manifest")
    for link in (
        "http://127.0.0.1:80\\@8.8.8.8/a.png",
        "http://user@example.com/a.png",
        "http://0x7f.1/a.png",
    ):
        issues: list[Any] = []
        assert files.load(link, "mask", issues) is None
        assert [issue.code for issue in issues] == ["download_failed"]
        assert "refused" in issues[0].message
    assert files.load("https://example.com/ok.png", "image", []) is not None
    assert asked == ["https://example.com/ok.png"]


def test_local_network_results_still_refuse_the_metadata_service(recorder: Recorder) -> None:
    fetcher = ResultFetcher(policy(recorder, allow_private=True))
    for link in ("http://169.254.169.254/latest/meta-data/", "http://metadata.test/", "http://[fe80::1]/"):
        with pytest.raises(ProviderUnavailableError) as caught:
            fetcher.fetch(link)
        assert caught.value.code == "result_link_refused"
    assert recorder.connects == []


def _run_cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "STUDIO_DATA_DIR": str(workdir / "data"), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_batch_check_refuses_a_loopback_row_unless_the_local_network_is_allowed(tmp_path: Path) -> None:
    from tests.views.photos import product_photo

    with StaticFiles() as files:
        link = files.host("mug.png", product_photo((640, 520)))
        manifest = tmp_path / "season.csv"
        manifest.write_text(
            f"sku,image,workflow,provider,prompt\nMUG-1,{link},prompt,local,white marble\n", encoding="utf-8"
        )
        refused = _run_cli(tmp_path, "batch", str(manifest), "--check")
        assert "0 items ready, 1 problem" in refused.stderr, refused.stderr
        assert "inside this network" in refused.stderr and "--allow-local-network" in refused.stderr
        assert files.gets == []
        allowed = _run_cli(tmp_path, "batch", str(manifest), "--check", "--allow-local-network")
        assert "1 item ready, 0 problems" in allowed.stderr, allowed.stderr
        assert files.gets == ["/mug.png"]


def test_the_recorder_and_the_listener_do_see_a_connection_when_one_is_made(
    recorder: Recorder, listener: Listener
) -> None:
    # The control for every "no connection" above: a trusted local network reaches the listener.
    with pytest.raises((requests.ConnectionError, LinkRejected)):
        fetch(f"http://127.0.0.1:{listener.port}/", policy(recorder, allow_private=True, deadline_s=2.0))
    deadline = time.monotonic() + 2
    while listener.accepted == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder.connects == ["127.0.0.1"] and listener.accepted == 1


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    crypto = pytest.importorskip("cryptography")
    del crypto
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_to_the_pinned_address_keeps_sni_and_the_certificate_check_on_the_name(
    tmp_path: Path, recorder: Recorder
) -> None:
    import ssl

    cert, key = _self_signed(tmp_path, "images.test")
    server = Origin((ORIGIN_ADDRESS, 0), _OriginHandler)
    server.seen = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment, unused-ignore]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        pinned = policy(recorder, resolver=lambda host, port: [ORIGIN_ADDRESS])
        with guarded_session(pinned) as session:
            session.verify = str(cert)
            url = f"https://images.test:{server.server_port}/image.png"
            assert fetch_link(session, url, pinned) == IMAGE
            # Same address, another name: the certificate is checked against the name, and fails.
            with pytest.raises(requests.exceptions.SSLError):
                fetch_link(session, f"https://other.test:{server.server_port}/image.png", pinned)
        assert names[0] == "images.test" and set(recorder.connects) == {ORIGIN_ADDRESS}
    finally:
        server.shutdown()
        server.server_close()
