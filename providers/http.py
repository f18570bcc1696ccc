"""The shared HTTP plumbing for vendor adapters: one session factory, timeouts, and the retry policy.

Retries are the worker's job, not the transport's: a POST retried by urllib3
after the vendor already created a task would be a second, billed submit. So
sessions are built with `max_retries=0`, and `send` turns transport trouble
into the error tree, saying whether trying again is safe:

- the connection could not be made: nothing reached the vendor, retryable;
- the request was sent but no answer came (read timeout, reset): retryable
  only for idempotent calls (status queries), never for a submit;
- HTTP 429: `RateLimitedError` honouring `Retry-After`;
- HTTP 5xx: `ProviderUnavailableError`, retryable.

Other statuses are returned to the adapter, whose vendor has its own error
bodies. Messages never include the URL: query strings carry signatures.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests  # type: ignore[import-untyped, unused-ignore]
from requests.adapters import HTTPAdapter  # type: ignore[import-untyped, unused-ignore]

from providers.errors import (
    ProviderUnavailableError,
    RateLimitedError,
    UnexpectedResponseError,
)

# (connect, read) seconds: connecting is quick or broken; generation endpoints may think a while.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
USER_AGENT = "BackdropStudio/1.0 (+python-requests)"
MAX_RETRY_AFTER_S = 600.0


def new_session(pool_size: int = 8) -> requests.Session:
    """A session with connection pooling and no transport-level retries (see the module docstring)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # Vendor calls must not pick up a proxy or .netrc credentials from the user's environment by surprise.
    session.trust_env = False
    return session


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self, provider: str) -> Any:
        """The body as JSON; an HTML error page or junk becomes `UnexpectedResponseError`."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise UnexpectedResponseError(
                provider,
                "not_json",
                f"The provider answered HTTP {self.status} with something that is not JSON. "
                "Try again later; if it keeps happening, check the endpoint setting.",
            ) from None


def send(
    session: requests.Session,
    provider: str,
    method: str,
    url: str,
    *,
    idempotent: bool,
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    now: float | None = None,
) -> HttpAnswer:
    """One HTTP call. Raises for transport trouble, 429 and 5xx; returns every other answer."""
    try:
        response = session.request(
            method,
            url,
            params=params,
            json=json_body,
            data=data,
            headers=dict(headers or {}),
            timeout=timeout,
        )
    except requests.exceptions.ConnectTimeout:
        raise ProviderUnavailableError(
            provider, "connect_timeout", "The provider could not be reached in time; it will be tried again."
        ) from None
    except requests.exceptions.ConnectionError as exc:
        # A refused or failed connection sent nothing; a reset mid-answer may have.
        if _never_connected(exc) or idempotent:
            raise ProviderUnavailableError(
                provider,
                "connection_error",
                "The provider could not be reached (network error); it will be tried again.",
            ) from None
        raise _ambiguous(provider, "connection_lost") from None
    except requests.exceptions.Timeout:
        if idempotent:
            raise ProviderUnavailableError(
                provider, "read_timeout", "The provider did not answer in time; it will be tried again."
            ) from None
        raise _ambiguous(provider, "read_timeout") from None
    except requests.exceptions.RequestException as exc:
        raise ProviderUnavailableError(
            provider,
            "request_failed",
            f"The request to the provider failed ({type(exc).__name__}); it will be tried again.",
        ) from None
    answer = HttpAnswer(response.status_code, response.headers, response.content)
    if answer.status == 429:
        raise RateLimitedError(
            provider,
            "http_429",
            "The provider is throttling requests; the job waits and tries again.",
            request_id=_request_id(answer.headers),
            retry_after_s=retry_after_seconds(answer.headers.get("Retry-After"), now),
        )
    if answer.status >= 500:
        raise ProviderUnavailableError(
            provider,
            f"http_{answer.status}",
            f"The provider had a server error (HTTP {answer.status}); it will be tried again.",
            request_id=_request_id(answer.headers),
            retry_after_s=retry_after_seconds(answer.headers.get("Retry-After"), now),
        )
    return answer


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: either a number of seconds or an HTTP date; capped, never negative."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    return min(MAX_RETRY_AFTER_S, max(0.0, seconds))


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    text = repr(exc)
    return any(
        marker in text
        for marker in (
            "NewConnectionError",
            "Connection refused",
            "Name or service not known",
            "NameResolution",
        )
    )


def _ambiguous(provider: str, code: str) -> ProviderUnavailableError:
    return ProviderUnavailableError(
        provider,
        code,
        "The job was sent but no answer came back, so it is unknown whether the provider started it. "
        "It was not sent again, so you are not charged twice: check the provider's console, then retry "
        "the job if nothing was made.",
        retryable=False,
    )


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in ("x-request-id", "X-Request-Id", "x-acs-request-id", "EagleEye-TraceId"):
        if headers.get(name):
            return headers[name]
    return None
