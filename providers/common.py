"""What every HTTP vendor adapter shares beyond the transport (`providers.http`): the session it was
given, keeping credentials out of what users and logs see, and refusing answers of the wrong shape.

- `scrub_secrets` blanks every credential value in a piece of vendor text. Vendors
  sometimes echo a header or parameter in an error message; whatever the adapter
  puts in a `ProviderError` (and so in the log, the job row and the page) has
  passed through it. Every value of the context's credentials is blanked, in any
  letter case, when it is long enough to be a key (a one- to three-character
  value would blank ordinary words and no real key is that short).
- `vendor_detail` is the same for a message shown inline: one line, scrubbed,
  then shortened (scrubbing first, so a key cut in half at the limit never
  shows its first half).
- `VendorAdapter` gives an adapter `_session()`, `_scrub()`, `_detail()` and
  `_unexpected()` from its `vendor_name` and `unexpected_text` declarations, so
  the four vendors raise the same codes the same way.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn

from providers.base import ProviderAdapter, ProviderContext
from providers.errors import ConfigurationError, UnexpectedResponseError

BLANK = "***"
# Shorter credential values are not blanked: see the module docstring.
MIN_SECRET_CHARS = 4
# How much of a vendor's own message is shown inline.
DETAIL_CHARS = 200
NO_SESSION = "{vendor} was set up without an HTTP session."


def secret_values(credentials: Mapping[str, str] | None) -> tuple[str, ...]:
    """The credential values worth blanking, longest first (so a key containing another is blanked whole)."""
    values = {(value or "").strip() for value in (credentials or {}).values() if isinstance(value, str)}
    return tuple(sorted((v for v in values if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True))


def scrub_secrets(text: str, credentials: Mapping[str, str] | None) -> str:
    """`text` with every credential value replaced by `***`, in any letter case."""
    for secret in secret_values(credentials):
        text = re.sub(re.escape(secret), BLANK, text, flags=re.IGNORECASE)
    return text


def vendor_detail(text: str, credentials: Mapping[str, str] | None, limit: int = DETAIL_CHARS) -> str:
    """A vendor's message as shown inline: one line, credentials blanked, at most `limit` characters."""
    return scrub_secrets(" ".join(text.split()), credentials)[:limit]


def require_session(context: ProviderContext, provider: str, vendor: str) -> Any:
    """The `requests.Session` studio handed the adapter; `ConfigurationError` when there is none."""
    if context.session is None:
        raise ConfigurationError(provider, "no_session", NO_SESSION.format(vendor=vendor))
    return context.session


def unexpected_response(provider: str, template: str, why: str) -> UnexpectedResponseError:
    """The error for an answer that does not have the documented shape; `template` has `{why}`."""
    return UnexpectedResponseError(provider, "unexpected_response", template.format(why=why))


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or an IP, IPv6 in brackets or not) is this machine: plain http is only
    accepted there, for emulators."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def text(value: Any) -> str:
    """A JSON value as trimmed text; None is ""."""
    return "" if value is None else str(value).strip()


class VendorAdapter(ProviderAdapter):
    """An adapter of a vendor's web API: the shared pieces above, bound to the adapter's context."""

    # The vendor's name in messages ("Aidge", "DashScope").
    vendor_name: ClassVar[str]
    # The message for an answer of the wrong shape, with `{why}`; listed in the adapter's ERROR_TEXTS.
    unexpected_text: ClassVar[str]

    def _session(self) -> Any:
        return require_session(self.context, self.key, self.vendor_name)

    def _scrub(self, text: str) -> str:
        """Vendor text with our credentials blanked, should the vendor ever echo them."""
        return scrub_secrets(text, self.context.credentials)

    def _detail(self, text: str) -> str:
        """Vendor text as shown inline: one line, shortened, credentials blanked."""
        return vendor_detail(text, self.context.credentials)

    def _unexpected(self, why: str) -> NoReturn:
        raise unexpected_response(self.key, self.unexpected_text, why)
