"""Guarded downloads of links a vendor or a user hands us: result images, manifest and ZIP links.

Whoever writes a link the server fetches chooses where the server connects, so every such
link goes through `fetch_link`, hop by hop:

1. the link as written is checked (`fetch_guard.check_link_text`): no user info, backslashes,
   odd numeric hosts, zone ids, only http(s);
2. the host the HTTP library will connect to is resolved once and every answer checked
   (`fetch_guard.resolve_checked`): loopback, private, link-local (169.254.169.254, the cloud
   metadata service), multicast, reserved and IPv6 forms carrying such an IPv4 are refused
   before any connection (so an error text cannot tell whether an internal port is open);
3. the connection is pinned to the checked address (the Host header, SNI and the certificate
   check still use the name), so DNS cannot answer differently for the connect;
4. redirects are followed by `fetch_link` itself, each hop checked again from step 1, at most
   `policy.max_redirects` of them;
5. an overall deadline (a watchdog closes the sockets of a fetch that outlives it, even while
   headers drip in) and a size cap bound every fetch; proxies and .netrc are ignored.

`FetchPolicy.allow_private` allows loopback and private addresses (a trusted local network: the
CLI's `--allow-local-network`, the tests' loopback emulators); link-local, multicast and
reserved addresses stay refused. `fetch_link` raises `AddressRefused`, a `LinkRejected`
(refused link, unknown host, status, redirect, size, deadline) or the transport's `requests`
exception; each caller words those (`ResultFetcher` here, `studio.manifest` for manifests).
"""

from __future__ import annotations

import contextvars
import math
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests  # type: ignore[import-untyped, unused-ignore]
from requests.adapters import HTTPAdapter  # type: ignore[import-untyped, unused-ignore]
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.poolmanager import SSL_KEYWORDS
from urllib3.util import connection as urllib3_connection

from providers.errors import ProviderUnavailableError
from providers.fetch_guard import (
    AddressRefused,
    HostNotFound,
    LinkRefused,
    LinkRejected,
    Resolver,
    check_link_text,
    is_public_address,
    resolve_checked,
    system_resolver,
)
from providers.http import USER_AGENT

__all__ = [
    "AddressRefused",
    "FetchPolicy",
    "HostNotFound",
    "LinkDeadline",
    "LinkRedirected",
    "LinkRefused",
    "LinkRejected",
    "LinkStatus",
    "LinkTooLarge",
    "LinkTooManyRedirects",
    "ResultFetcher",
    "check_link_text",
    "fetch_link",
    "guarded_session",
    "is_public_address",
]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_DEADLINE_S = 120.0
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchPolicy:
    allow_private: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    deadline_s: float = DEFAULT_DEADLINE_S
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_redirects: int = MAX_REDIRECTS
    # Injectable for tests (a name that resolves to a loopback test server) and nothing else.
    resolver: Resolver = field(default=system_resolver, compare=False)
    # Addresses allowed whatever they are: the tests' stand-in for a "public" origin.
    trusted_addresses: frozenset[str] = frozenset()


class LinkStatus(LinkRejected):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.reason = reason


class LinkRedirected(LinkRejected):
    """A redirect where the caller asked for none."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status} redirect")
        self.status = status


class LinkTooManyRedirects(LinkRejected):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} redirects")
        self.limit = limit


class LinkTooLarge(LinkRejected):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class LinkDeadline(LinkRejected):
    def __init__(self, deadline_s: float) -> None:
        super().__init__(f"took longer than {deadline_s:g} s")
        self.deadline_s = deadline_s


# ---------------------------------------------------------------------------- one fetch's sockets
class _Fetch:
    """The sockets and pools of one `fetch_link` call, so its watchdog can close them at the
    deadline and the call can release them at the end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.pools: list[HTTPConnectionPool] = []
        self.expired = False

    def add_socket(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                sock.close()
                raise _Expired()
            self._sockets.append(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                # Wakes a recv blocked in this fetch's thread; close() alone would not.
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        for pool in self.pools:
            pool.close()


class _Expired(Exception):
    """The fetch's deadline passed before a new connection was made (not an OSError: not retried)."""


_CURRENT: contextvars.ContextVar[_Fetch | None] = contextvars.ContextVar("studio_fetch", default=None)


# ---------------------------------------------------------------------------- pinned connections
def _pinned_conn(self: HTTPConnection, address: str, fetch: _Fetch | None) -> socket.socket:
    """urllib3's `_new_conn`, connecting to the checked `address` instead of resolving the name
    again; `self.host` stays the name for the Host header, SNI and the certificate check."""
    try:
        sock = urllib3_connection.create_connection(
            (address, self.port),
            self.timeout,
            source_address=self.source_address,
            socket_options=self.socket_options,
        )
    except TimeoutError as exc:
        raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
    except OSError as exc:
        raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
    sys.audit("http.client.connect", self, self.host, self.port)
    if fetch is not None:
        fetch.add_socket(sock)
    return sock


class _PinnedHTTPConnection(HTTPConnection):
    def __init__(self, *args: Any, pinned: str, fetch: _Fetch | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pinned = pinned
        self._fetch = fetch

    def _new_conn(self) -> socket.socket:
        return _pinned_conn(self, self._pinned, self._fetch)


class _PinnedHTTPSConnection(HTTPSConnection):
    def __init__(self, *args: Any, pinned: str, fetch: _Fetch | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pinned = pinned
        self._fetch = fetch

    def _new_conn(self) -> socket.socket:
        return _pinned_conn(self, self._pinned, self._fetch)


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):  # type: ignore[misc, unused-ignore]
    """Each request's host is checked and resolved once (`resolve_checked`), and the request
    goes through a fresh pool pinned to that address: no pool is shared between names, addresses
    or fetches, so no connection outlives the check that allowed it."""

    def __init__(self, policy: FetchPolicy) -> None:
        super().__init__(max_retries=0)
        self._policy = policy

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> HTTPConnectionPool:
        url = str(request.url)
        check_link_text(url)  # the prepared URL, as the checks saw the written one
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        scheme = str(host_params["scheme"])
        host = str(host_params["host"] or "")
        port = int(host_params["port"] or (443 if scheme == "https" else 80))
        policy = self._policy
        pinned = resolve_checked(
            host,
            port,
            allow_private=policy.allow_private,
            resolver=policy.resolver,
            trusted=policy.trusted_addresses,
        )
        fetch = _CURRENT.get()
        kwargs: dict[str, Any] = {**self.poolmanager.connection_pool_kw, **pool_kwargs}
        kwargs.update(maxsize=1, block=False)
        if scheme == "https":
            pool: HTTPConnectionPool = _PinnedHTTPSPool(host, port, pinned=pinned, fetch=fetch, **kwargs)
        else:
            for key in SSL_KEYWORDS:
                kwargs.pop(key, None)
            pool = _PinnedHTTPPool(host, port, pinned=pinned, fetch=fetch, **kwargs)
        if fetch is not None:
            fetch.pools.append(pool)
        return pool


def guarded_session(policy: FetchPolicy) -> requests.Session:
    """A session whose every request is checked and pinned (see the module docstring). Redirects
    are left to `fetch_link`, which checks each hop; the session itself follows none."""
    session = requests.Session()
    adapter = _GuardedAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # No proxy or .netrc from the environment: a proxy would connect for us, unchecked.
    session.trust_env = False
    # Only read when requests prepares the unfollowed `response.next`; fetch_link counts the hops.
    session.max_redirects = max(policy.max_redirects, 1)
    return session


# ---------------------------------------------------------------------------- fetching
def _is_2xx(status: int) -> bool:
    return 200 <= status < 300


@contextmanager
def _watched(policy: FetchPolicy) -> Iterator[_Fetch]:
    fetch = _Fetch()
    token = _CURRENT.set(fetch)
    timer = None
    if math.isfinite(policy.deadline_s):
        timer = threading.Timer(max(policy.deadline_s, 0.0), fetch.expire)
        timer.daemon = True
        timer.start()
    try:
        yield fetch
    finally:
        if timer is not None:
            timer.cancel()
        _CURRENT.reset(token)
        fetch.close()


def fetch_link(
    session: requests.Session,
    url: str,
    policy: FetchPolicy,
    *,
    follow_redirects: bool = True,
    accept: Callable[[int], bool] = _is_2xx,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """GET `url` through `session` (a `guarded_session(policy)`) within `policy`'s timeouts, size cap,
    redirect cap and overall deadline (`math.inf` for none). Raises `AddressRefused`, a
    `LinkRejected` or the `requests` exception of the transport failure; the caller words them."""
    deadline = clock() + policy.deadline_s
    with _watched(policy) as fetch:
        try:
            data = _fetch_hops(session, url, policy, follow_redirects, accept, clock, deadline)
        except (requests.RequestException, _Expired) as exc:
            if fetch.expired or isinstance(exc, _Expired) or _caused_by_expiry(exc):
                raise LinkDeadline(policy.deadline_s) from None
            raise
        if fetch.expired:  # a body without a length just ends when the watchdog closes its socket
            raise LinkDeadline(policy.deadline_s)
        return data


def _caused_by_expiry(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _Expired):
            return True
        seen = seen.__context__ or seen.__cause__
    return False


def _fetch_hops(
    session: requests.Session,
    url: str,
    policy: FetchPolicy,
    follow_redirects: bool,
    accept: Callable[[int], bool],
    clock: Callable[[], float],
    deadline: float,
) -> bytes:
    for _hop in range(policy.max_redirects + 1):
        check_link_text(url)
        remaining = deadline - clock()
        if remaining <= 0:
            raise LinkDeadline(policy.deadline_s)
        timeout = (min(policy.connect_timeout_s, remaining), min(policy.read_timeout_s, remaining))
        with session.get(url, timeout=timeout, stream=True, allow_redirects=False) as response:
            status = response.status_code
            if status in _REDIRECTS and response.headers.get("Location") is not None:
                if not follow_redirects:
                    raise LinkRedirected(status)
                # Joined against this hop; the next turn checks it as written before anything else.
                url = urljoin(url, session.get_redirect_target(response) or "")
                continue
            if not follow_redirects and 300 <= status < 400:
                raise LinkRedirected(status)
            if not accept(status):
                raise LinkStatus(status, response.reason or "")
            return _read_body(response, policy, clock, deadline)
    raise LinkTooManyRedirects(policy.max_redirects)


def _read_body(
    response: requests.Response, policy: FetchPolicy, clock: Callable[[], float], deadline: float
) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise LinkTooLarge(policy.max_bytes)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=256 * 1024):
        size += len(chunk)
        if size > policy.max_bytes:
            raise LinkTooLarge(policy.max_bytes)
        if clock() > deadline:
            raise LinkDeadline(policy.deadline_s)
        chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------- vendor results
# Every message a failed result download stores, for studio's translations (studio/vendor_texts.py):
# `code#variant` where one code has several sentences; `{detail}` is the link check's own sentence.
ERROR_TEXTS: Mapping[str, str] = {
    "not_a_link": "The provider's result is not a web link; it cannot be downloaded.",
    "download_failed#status": "The result link answered HTTP {status}; it will be tried again.",
    "download_timeout": "The result download took longer than {seconds} s; it will be tried again.",
    "result_link_refused#inside": (
        "The provider's result link points inside this network ({address}), which is never downloaded "
        "from: a real provider's links are public. Check the provider's endpoint setting."
    ),
    "result_link_refused": (
        "The provider's result link is not one that is downloaded: {detail}. Check the provider's endpoint "
        "setting."
    ),
    "download_failed#host": "The result link's host '{host}' could not be found; it will be tried again.",
    "download_failed#redirects": "The result link redirected too many times; it will be tried again.",
    "download_failed#http": "Could not download a result image ({kind}, HTTP {status}); it will be tried again.",
    "download_failed": "Could not download a result image ({kind}); it will be tried again.",
    "too_large": "A result image was larger than {mb} MB; it was not stored.",
}


class ResultFetcher:
    """`fetch(url) -> bytes` for result images; failures are ProviderUnavailableError (provider
    "download"), retryable unless retrying cannot help (refused address, too large, not a link)."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._clock = clock
        self._session = guarded_session(self.policy)

    def __call__(self, url: str) -> bytes:
        return self.fetch(url)

    def close(self) -> None:
        self._session.close()

    def fetch(self, url: str) -> bytes:
        policy = self.policy
        if not url.lower().startswith(("https://", "http://")):
            raise _failure("not_a_link", False)
        try:
            return fetch_link(self._session, url, policy, accept=_is_200, clock=self._clock)
        except LinkStatus as exc:
            raise _failure("download_failed#status", True, status=exc.status) from None
        except LinkTooLarge:
            raise _too_large(policy.max_bytes) from None
        except LinkDeadline:
            raise _failure("download_timeout", True, seconds=f"{policy.deadline_s:g}") from None
        except AddressRefused as exc:
            raise _failure("result_link_refused#inside", False, address=exc.address) from None
        except LinkRefused as exc:
            raise _failure("result_link_refused", False, detail=exc) from None
        except HostNotFound as exc:
            raise _failure("download_failed#host", True, host=exc.host) from None
        except (LinkTooManyRedirects, LinkRedirected):
            raise _failure("download_failed#redirects", True) from None
        except requests.RequestException as exc:
            status = exc.response.status_code if getattr(exc, "response", None) is not None else None
            if status:
                raise _failure("download_failed#http", True, kind=type(exc).__name__, status=status) from None
            raise _failure("download_failed", True, kind=type(exc).__name__) from None


def _is_200(status: int) -> bool:
    return status == 200


def _too_large(limit: int) -> ProviderUnavailableError:
    return _failure("too_large", False, mb=limit // 1_048_576)


def _failure(entry: str, retryable: bool, **fields: object) -> ProviderUnavailableError:
    """The error of a failed result download: its code is the entry's (`download_failed#host` ->
    `download_failed`), its words the entry's sentence."""
    code = entry.split("#", 1)[0]
    return ProviderUnavailableError(
        "download", code, ERROR_TEXTS[entry].format(**fields), retryable=retryable
    )
