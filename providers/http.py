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

Vendors put their own codes in those bodies too (DashScope answers
`Throttling.RateQuota` with 429 and `InternalError` with 500, Aidge's gateway
`ApiCallLimit` with 429), so an adapter passes `vendor_bodies=True` to get
every answer back, maps the vendor's code through its one table, and hands the
result to `with_status_facts` (which adds `Retry-After` and the request id);
when the body names no code it knows, `status_error` gives the generic error
above. Retryability is then the vendor code's: a quota or arrears code on a 429
is not retried.

Other statuses are returned to the adapter, whose vendor has its own error
bodies. Messages never include the URL: query strings carry signatures.
`ERROR_TEXTS` holds every message this module raises, so studio can find their
translations (studio/vendor_texts.py).
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
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    UnexpectedResponseError,
)

# (connect, read) seconds: connecting is quick or broken; generation endpoints may think a while.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
USER_AGENT = "BackdropStudio/1.0 (+python-requests)"
MAX_RETRY_AFTER_S = 600.0

# Every message `send` raises, as templates: key -> text. A `_key` is not tied to one code: a read
# timeout on a submit and a connection lost mid-answer share `_ambiguous` (not retried).
ERROR_TEXTS: Mapping[str, str] = {
    "connect_timeout": "The provider could not be reached in time; it will be tried again.",
    "connection_error": "The provider could not be reached (network error); it will be tried again.",
    "read_timeout": "The provider did not answer in time; it will be tried again.",
    "_ambiguous": (
        "The job was sent but no answer came back, so it is unknown whether the provider started it. "
        "It was not sent again, so you are not charged twice: check the provider's console, then retry "
        "the job if nothing was made."
    ),
    "request_failed": "The request to the provider failed ({kind}); it will be tried again.",
    "http_429": "The provider is throttling requests; the job waits and tries again.",
    "_http_5xx": "The provider had a server error (HTTP {status}); it will be tried again.",
    "not_json": (
        "The provider answered HTTP {status} with something that is not JSON. "
        "Try again later; if it keeps happening, check the endpoint setting."
    ),
}


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
                provider, "not_json", ERROR_TEXTS["not_json"].format(status=self.status)
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
    vendor_bodies: bool = False,
) -> HttpAnswer:
    """One HTTP call. Raises for transport trouble, and for 429 and 5xx unless `vendor_bodies` is set
    (then those answers are returned as well, for the adapter to read its vendor's code in them)."""
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
        raise ProviderUnavailableError(provider, "connect_timeout", ERROR_TEXTS["connect_timeout"]) from None
    except requests.exceptions.ConnectionError as exc:
        # A refused or failed connection sent nothing; a reset mid-answer may have.
        if _never_connected(exc) or idempotent:
            raise ProviderUnavailableError(
                provider, "connection_error", ERROR_TEXTS["connection_error"]
            ) from None
        raise _ambiguous(provider, "connection_lost") from None
    except requests.exceptions.Timeout:
        if idempotent:
            raise ProviderUnavailableError(provider, "read_timeout", ERROR_TEXTS["read_timeout"]) from None
        raise _ambiguous(provider, "read_timeout") from None
    except requests.exceptions.RequestException as exc:
        raise ProviderUnavailableError(
            provider, "request_failed", ERROR_TEXTS["request_failed"].format(kind=type(exc).__name__)
        ) from None
    answer = HttpAnswer(response.status_code, response.headers, response.content)
    error = None if vendor_bodies else status_error(provider, answer, now)
    if error is not None:
        raise error
    return answer


def is_error_status(status: int) -> bool:
    """429 and 5xx: the statuses `send` raises for unless the adapter reads the vendor's body."""
    return status == 429 or status >= 500


def status_error(provider: str, answer: HttpAnswer, now: float | None = None) -> ProviderError | None:
    """The generic error for a 429 or 5xx answer (retryable, with `Retry-After`); None for other statuses."""
    if answer.status == 429:
        return RateLimitedError(
            provider,
            "http_429",
            ERROR_TEXTS["http_429"],
            request_id=_request_id(answer.headers),
            retry_after_s=retry_after_seconds(_header(answer.headers, "Retry-After"), now),
        )
    if answer.status >= 500:
        return ProviderUnavailableError(
            provider,
            f"http_{answer.status}",
            ERROR_TEXTS["_http_5xx"].format(status=answer.status),
            request_id=_request_id(answer.headers),
            retry_after_s=retry_after_seconds(_header(answer.headers, "Retry-After"), now),
        )
    return None


def with_status_facts(error: ProviderError, answer: HttpAnswer, now: float | None = None) -> ProviderError:
    """A vendor error read from a 429/5xx body keeps what the answer's headers say: when to try again
    (for errors that are retried) and the request id, where the body gave none."""
    if error.retryable and error.retry_after_s is None:
        error.retry_after_s = retry_after_seconds(_header(answer.headers, "Retry-After"), now)
    if error.request_id is None:
        error.request_id = _request_id(answer.headers)
    return error


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
    return ProviderUnavailableError(provider, code, ERROR_TEXTS["_ambiguous"], retryable=False)


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in ("x-request-id", "x-acs-request-id", "EagleEye-TraceId"):
        value = _header(headers, name)
        if value:
            return value
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name in any case: `requests` answers are case-insensitive, plain dicts are not."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value
