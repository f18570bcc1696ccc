"""Errors as pages show them: the translated `error.<code>` text, never a raw `str(exc)`.

Every studio error (`studio.errors.StudioError`) carries a stable `code` and its
`params`; the string table's `error.<code>` template gives the text in the
user's language. Only when no translation exists (or the exception has no code)
is the exception's own English sentence shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from providers.errors import ProviderError
from ui.i18n import coded_text
from ui.plain import plain


def error_text(exc: BaseException) -> str:
    """`exc` in the user's language: `error.<code>` with its params, else its own message.

    Shown as text (`ui.plain`): params and messages carry file names, SKUs and vendors' words."""
    if isinstance(exc, ProviderError):
        return plain(exc.user_message)  # already the sentence for the user; vendor codes are no studio keys
    code = getattr(exc, "code", None)
    message = str(exc)
    if not isinstance(code, str) or not code:
        return plain(message)
    params = getattr(exc, "params", None)
    return plain(coded_text(code, message, dict(params) if isinstance(params, Mapping) else None))
