"""Guarded downloads of links a vendor (or a user) hands us: result images above all.

A vendor's result link is fetched by the server, so whoever controls that link
controls where the server connects. The guard therefore checks the address the
socket actually connected to, after DNS and after every redirect hop, not the
host name written in the URL (`http://127.0.0.1:80\\@8.8.8.8/` reads as 8.8.8.8
to a URL parser and connects to 127.0.0.1 with requests). Loopback, private,
link-local (169.254.169.254, the cloud metadata service), multicast and
reserved addresses are refused unless the policy allows them, which only the
tests' loopback emulators need.

Every fetch has an overall deadline (a server that drips one byte a second
cannot hold a worker thread for hours) and a size cap, and uses a session that
ignores proxy variables and .netrc (`providers.http.new_session`).

`fetch_link` is the one download helper every link goes through: the worker's
result downloads (`ResultFetcher`) and the image links of batch manifests
(`studio.manifest.download_url`). It raises `AddressRefused`, a `LinkRejected`
(status, redirect, size, deadline) or the transport's `requests` exception, and
each caller turns those into its own errors and messages.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests  # type: ignore[import-untyped, unused-ignore]
from requests.adapters import HTTPAdapter  # type: ignore[import-untyped, unused-ignore]
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from providers.errors import ProviderUnavailableError
from providers.http import USER_AGENT

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_DEADLINE_S = 120.0
MAX_REDIRECTS = 3


class AddressRefused(Exception):
    """The link led to an address inside this machine's network. Deliberately not an OSError, so
    urllib3 does not wrap it as a connection failure to be retried."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address


def is_public_address(address: str) -> bool:
    """True for an address on the public internet (IPv4-mapped IPv6 judged as its IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _check_peer(sock: socket.socket) -> None:
    peer = sock.getpeername()
    address = str(peer[0]) if isinstance(peer, tuple) else str(peer)
    if not is_public_address(address):
        sock.close()
        raise AddressRefused(address)


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):  # type: ignore[misc, unused-ignore]
    """Connection pools whose sockets refuse non-public peers (checked once per new connection)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


@dataclass(frozen=True)
class FetchPolicy:
    allow_private: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    deadline_s: float = DEFAULT_DEADLINE_S
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_redirects: int = MAX_REDIRECTS


def guarded_session(policy: FetchPolicy) -> requests.Session:
    session = requests.Session()
    adapter: HTTPAdapter = (
        HTTPAdapter(max_retries=0) if policy.allow_private else _PublicOnlyAdapter(max_retries=0)
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # No proxy or .netrc from the environment: a proxy would also hide the real peer from the guard.
    session.trust_env = False
    session.max_redirects = policy.max_redirects
    return session


class LinkRejected(Exception):
    """The link answered, but not with a file we take; the subclass says why."""


class LinkStatus(LinkRejected):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.reason = reason


class LinkRedirected(LinkRejected):
    """A redirect where the caller asked for none (each hop would need its own address check)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status} redirect")
        self.status = status


class LinkTooLarge(LinkRejected):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class LinkDeadline(LinkRejected):
    def __init__(self, deadline_s: float) -> None:
        super().__init__(f"took longer than {deadline_s:g} s")
        self.deadline_s = deadline_s


def _is_2xx(status: int) -> bool:
    return 200 <= status < 300


def fetch_link(
    session: requests.Session,
    url: str,
    policy: FetchPolicy,
    *,
    follow_redirects: bool = True,
    accept: Callable[[int], bool] = _is_2xx,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """GET `url` through `session` (a `guarded_session(policy)`) within `policy`'s timeouts, size cap
    and overall deadline (`math.inf` for none). Raises `AddressRefused`, a `LinkRejected` or the
    `requests` exception of the transport failure; the caller words them."""
    deadline = clock() + policy.deadline_s
    with session.get(
        url,
        timeout=(policy.connect_timeout_s, policy.read_timeout_s),
        stream=True,
        allow_redirects=follow_redirects,
    ) as response:
        if not follow_redirects and 300 <= response.status_code < 400:
            raise LinkRedirected(response.status_code)
        if not accept(response.status_code):
            raise LinkStatus(response.status_code, response.reason or "")
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
            raise _failure(
                "not_a_link", "The provider's result is not a web link; it cannot be downloaded.", False
            )
        try:
            return fetch_link(self._session, url, policy, accept=_is_200, clock=self._clock)
        except LinkStatus as exc:
            raise _failure(
                "download_failed",
                f"The result link answered HTTP {exc.status}; it will be tried again.",
                True,
            ) from None
        except LinkTooLarge:
            raise _too_large(policy.max_bytes) from None
        except LinkDeadline:
            raise _failure(
                "download_timeout",
                f"The result download took longer than {policy.deadline_s:g} s; it will be tried again.",
                True,
            ) from None
        except AddressRefused as exc:
            raise _failure(
                "result_link_refused",
                f"The provider's result link points inside this network ({exc.address}), which is never "
                "downloaded from: a real provider's links are public. Check the provider's endpoint setting.",
                False,
            ) from None
        except requests.exceptions.TooManyRedirects:
            raise _failure(
                "download_failed", "The result link redirected too many times; it will be tried again.", True
            ) from None
        except requests.RequestException as exc:
            status = exc.response.status_code if getattr(exc, "response", None) is not None else None
            where = f", HTTP {status}" if status else ""
            raise _failure(
                "download_failed",
                f"Could not download a result image ({type(exc).__name__}{where}); it will be tried again.",
                True,
            ) from None


def _is_200(status: int) -> bool:
    return status == 200


def _too_large(limit: int) -> ProviderUnavailableError:
    return _failure(
        "too_large", f"A result image was larger than {limit // 1_048_576} MB; it was not stored.", False
    )


def _failure(code: str, message: str, retryable: bool) -> ProviderUnavailableError:
    return ProviderUnavailableError("download", code, message, retryable=retryable)
