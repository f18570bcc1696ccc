"""Vendor error texts in every language, and finding the one a stored job error was made from.

Each adapter writes its vendor errors for people in English from one table
(`ProviderAdapter.error_texts`), and so do the modules whose messages any
adapter's job may carry (`SHARED`: transport trouble in `providers.http`, a
stored photo that no longer fits in `providers.payload`, a failed result
download in `providers.fetch`). No adapter writes a message inline
(tests/providers/test_inline_messages.py), and a failed job stores the vendor's
code with that English text. The other languages are data: `locales/vendor_errors.<lang>.json`
holds the same keys per group (adapter key, or a shared group), with the same `{fields}`.
The string table takes them all as `vendor.<group>.<key>` (studio/i18n.py).

To show a stored error in another language, `match` finds the template that
made its English text. The stored code picks the candidates to try first:
`<code>#<variant>` entries before `<code>`, because one code can carry several
meanings that only the vendor's message tells apart (DashScope's
`InvalidParameter` with "Model not exist."). The English text then decides and
gives back the template's fields (`{detail}` is the vendor's own words, shown
as sent). Text that no template made (an older wording, a message from studio
itself) matches nothing, and the page shows it as stored.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from providers import REGISTRY, fetch, http, payload

TRANSPORT = "http"  # the group of providers.http's messages, which any adapter may raise
# Groups any provider's job may store, tried after the provider's own, in this order.
SHARED: Mapping[str, Mapping[str, str]] = {
    TRANSPORT: http.ERROR_TEXTS,
    "payload": payload.ERROR_TEXTS,
    "download": fetch.ERROR_TEXTS,
}
LOCALES = Path(__file__).resolve().parent / "locales"
_GAVE_UP = re.compile(r"(?P<message>.+) \(gave up after (?P<attempts>\d+) attempts\)", re.DOTALL)
_FORMATTER = string.Formatter()
# What a field can hold where the templates put two fields side by side (`{code}{said}`): a vendor
# code and an HTTP status have no spaces; anything else is the vendor's words.
_FIELDS: Mapping[str, str] = {"code": r"\S+", "status": r"\d{3}", "attempts": r"\d+"}


@dataclass(frozen=True)
class Match:
    key: str  # the string-table key, `vendor.<group>.<entry>`
    params: Mapping[str, str]
    attempts: int | None = None  # "(gave up after N attempts)" that the worker appended


@cache
def english_texts() -> Mapping[str, Mapping[str, str]]:
    """group -> entry -> English template, from the adapters' tables."""
    groups: dict[str, Mapping[str, str]] = {
        key: adapter.error_texts for key, adapter in REGISTRY.items() if adapter.error_texts
    }
    groups.update(SHARED)
    return groups


@cache
def locale_texts(language: str) -> Mapping[str, Mapping[str, str]]:
    """group -> entry -> template in `language` ({} for a language with no file)."""
    if language == "en":
        return english_texts()
    path = LOCALES / f"vendor_errors.{language}.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(group): {str(k): str(v) for k, v in entries.items()} for group, entries in data.items()}


def strings(language: str) -> dict[str, str]:
    """The entries of `language` as string-table keys, `vendor.<group>.<entry>`."""
    return {
        f"vendor.{group}.{entry}": text
        for group, entries in locale_texts(language).items()
        for entry, text in entries.items()
    }


def match(provider: str, code: str, message: str) -> Match | None:
    """The template (and its fields) that made this stored error text, or None."""
    attempts: int | None = None
    gave_up = _GAVE_UP.fullmatch(message)
    if gave_up:
        message, attempts = gave_up["message"], int(gave_up["attempts"])
    for group in (provider, *SHARED):
        for entry in _candidates(group, code):
            found = _pattern(english_texts()[group][entry]).fullmatch(message)
            if found:
                return Match(f"vendor.{group}.{entry}", found.groupdict(), attempts)
    return None


def code_of(entry: str) -> str:
    """The vendor code an entry is for: `oss:AccessDenied#x` -> `AccessDenied`; "" for `_texts`."""
    code = entry.split("#", 1)[0].rsplit(":", 1)[-1]
    return "" if code.startswith("_") else code


def _candidates(group: str, code: str) -> list[str]:
    """The group's entries, those for `code` first (its variants before it), then all others."""
    entries = english_texts().get(group, {})
    own = [entry for entry in entries if code_of(entry) == code]
    own.sort(key=lambda entry: "#" not in entry)
    return own + [entry for entry in entries if entry not in own]


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """A template as a regular expression: its text literally, each `{field}` as a named group."""
    parts: list[str] = []
    seen: set[str] = set()
    for literal, field, _, _ in _FORMATTER.parse(template):
        parts.append(re.escape(literal))
        if field is None:
            continue
        name = field.split(".", 1)[0].split("[", 1)[0]
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{_FIELDS.get(name, '.*?')})")
        seen.add(name)
    return re.compile("".join(parts), re.DOTALL)
