"""One error tree for every provider adapter.

```
ProviderError(provider, code, request_id, retryable, user_message)
├── ConfigurationError       credentials or endpoint missing/invalid (before any call)
├── AuthenticationError      bad key/signature, permission, service not activated
├── InputRejectedError       size, format, decode, parameter out of range
│   └── ContentRejectedError moderation / compliance refusals (never retried)
├── QuotaExhaustedError      credits, balance, arrears (never retried)
├── RateLimitedError         throttling, too many jobs in flight (retry after a delay)
├── ProviderUnavailableError 5xx, timeouts, connection errors, internal errors
├── TaskNotFoundError        unknown or expired remote task id
└── UnexpectedResponseError  the answer does not match the documented shape
```

Pages and the CLI catch `ProviderError` and show `user_message`, which says
what happened and what to do. It never contains credentials.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every provider failure; `retryable` tells the worker whether to try again."""

    retryable_default = False

    def __init__(
        self,
        provider: str,
        code: str,
        user_message: str,
        *,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"[{provider}] {code}: {user_message}")
        self.provider = provider
        self.code = code
        self.user_message = user_message
        self.request_id = request_id
        self.retryable = self.retryable_default if retryable is None else retryable
        self.retry_after_s = retry_after_s


class ConfigurationError(ProviderError):
    """Credentials or endpoint missing or invalid, detected before any call."""


class AuthenticationError(ProviderError):
    """The vendor refused our identity: bad key, signature, permission, not activated."""


class InputRejectedError(ProviderError):
    """The input does not fit: size, format, decoding, a parameter out of range."""


class ContentRejectedError(InputRejectedError):
    """Moderation or compliance refusal; retrying the same input cannot help."""


class QuotaExhaustedError(ProviderError):
    """Credits, balance or arrears; never retried."""


class RateLimitedError(ProviderError):
    """Throttled or too many tasks in flight; retried after a delay."""

    retryable_default = True


class ProviderUnavailableError(ProviderError):
    """5xx, timeouts, connection errors, internal errors; retried with backoff."""

    retryable_default = True


class TaskNotFoundError(ProviderError):
    """Unknown or expired remote task id."""


class UnexpectedResponseError(ProviderError):
    """The answer does not match the documented shape."""
