"""The string table: every user-facing text in English and 简体中文, and `translate()`.

The words are data, this module only reads them. `STRINGS[language][key]` is a
`str.format` template, merged from these files in studio/locales/:

- `strings.<language>.toml`: the pages' texts, grouped. TOML because the
  standard library reads it (`tomllib`, no new dependency), it takes comments,
  and its `[group]` tables mirror the key prefixes: `"prompt.title"` under
  `[page]` is `page.prompt.title`, so a new text goes in one obvious place per
  language. (gettext .po files would need Babel and would key texts by their
  English sentence; JSON takes no comments.)
- `<feature>.<language>.json`: a feature's strings, key -> template, picked up
  by name, so adding a feature table needs no code change (`backdrops`: My
  backdrops; `scenes`: the local engine's photographic sets; ...).
- `vendor.<provider>.<code>`: the vendors' error texts, English from each
  adapter's table and the other languages from `vendor_errors.<language>.json`
  (studio/vendor_texts.py reads those).

Keys are grouped by where they appear: `page.*` titles and intros, `step.*`, one
group per widget family, `error.<code>` for `StudioInputError.code` and job error
codes, `status.*`, `workflow.*`, `method.*` (how the product was cut out) and
`note.*` (what was normalised in an upload). Every language has exactly the same
keys and the same `{params}` (tests/test_i18n.py checks it).

Plural forms: a TOML value `{ one = "...", other = "..." }` is a text that counts
something; `translate(..., count=n)` picks the form for `n` (CLDR plural
categories). `STRINGS` holds the `other` form, `PLURALS` all of them. Chinese
has one form, so its entries are plain strings.
"""

from __future__ import annotations

import json
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studio import vendor_texts

DEFAULT_LANGUAGE = "en"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
LOCALES = Path(__file__).resolve().parent / "locales"
# Feature files with a shape of their own, read by their own module.
_NOT_FEATURE_TABLES = frozenset({"vendor_errors"})
PLURAL_CATEGORIES = ("one", "other")


def _table(path: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """strings.<language>.toml -> (key -> template, key -> plural forms)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    strings: dict[str, str] = {}
    plurals: dict[str, dict[str, str]] = {}
    for group, entries in data.items():
        for rest, value in entries.items():
            _add_entry(f"{group}.{rest}", value, strings, plurals)
    return strings, plurals


def _add_entry(key: str, value: object, strings: dict[str, str], plurals: dict[str, dict[str, str]]) -> None:
    """A plain template, or plural forms ({"one": ..., "other": ...}) whose `other` is the template."""
    if isinstance(value, dict):
        plurals[key] = {str(form): str(text) for form, text in value.items()}
        strings[key] = plurals[key]["other"]
    else:
        strings[key] = str(value)


def _feature_files(language: str) -> list[tuple[str, dict[str, object]]]:
    suffix = f".{language}.json"
    found = []
    for path in sorted(LOCALES.glob(f"*{suffix}")):
        feature = path.name[: -len(suffix)]
        if feature not in _NOT_FEATURE_TABLES:
            found.append((feature, json.loads(path.read_text(encoding="utf-8"))))
    return found


def feature_tables(language: str) -> dict[str, dict[str, str]]:
    """feature -> key -> template, from every studio/locales/<feature>.<language>.json (plural forms
    are written as in the TOML table: {"one": ..., "other": ...})."""
    tables: dict[str, dict[str, str]] = {}
    for feature, raw in _feature_files(language):
        strings: dict[str, str] = {}
        for key, value in raw.items():
            _add_entry(str(key), value, strings, {})
        tables[feature] = strings
    return tables


def _plurals(language: str) -> dict[str, dict[str, str]]:
    """Every key with plural forms in `language`, from the TOML table and the feature tables."""
    plurals = dict(_table(LOCALES / f"strings.{language}.toml")[1])
    for _, raw in _feature_files(language):
        for key, value in raw.items():
            _add_entry(str(key), value, {}, plurals)
    return plurals


def sources(language: str) -> dict[str, Mapping[str, str]]:
    """Where `language`'s strings come from, in merge order: source name -> key -> template."""
    found: dict[str, Mapping[str, str]] = {"strings": _table(LOCALES / f"strings.{language}.toml")[0]}
    # Later sources win a key defined twice; tests/test_i18n.py makes sure none is.
    found["vendor_errors"] = vendor_texts.strings(language)
    found.update(feature_tables(language))
    return found


def _load(language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for table in sources(language).values():
        merged.update(table)
    return merged


STRINGS: dict[str, dict[str, str]] = {language: _load(language) for language in LANGUAGES}
PLURALS: dict[str, dict[str, dict[str, str]]] = {language: _plurals(language) for language in LANGUAGES}

_FORMATTER = string.Formatter()


def template_params(text: str) -> frozenset[str]:
    """The `{names}` a template uses (format specs like `{n:,}` count as `n`)."""
    return frozenset(name for _, name, _, _ in _FORMATTER.parse(text) if name)


def plural_category(language: str, count: object) -> str:
    """The CLDR plural category of `count`: English says "1 job" but "0 jobs", "2 jobs"."""
    if language == "en" and isinstance(count, int) and not isinstance(count, bool) and count == 1:
        return "one"
    return "other"


def normalise_language(value: object) -> str | None:
    """ "zh", "zh-CN", "zh_Hans", "EN" ... -> a key of LANGUAGES; None when not one we have."""
    if not isinstance(value, str) or not value.strip():
        return None
    primary = value.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def has_key(key: str) -> bool:
    return key in STRINGS[DEFAULT_LANGUAGE]


def _template(language: str, key: str, params: Mapping[str, Any]) -> str | None:
    """The template for `key` in `language`: its plural form for `count` when it has forms."""
    template = STRINGS.get(language, {}).get(key)
    forms = PLURALS.get(language, {}).get(key)
    if template is not None and forms and "count" in params:
        return forms.get(plural_category(language, params["count"]), forms["other"])
    return template


def translate_strict(language: str, key: str, **params: Any) -> str | None:
    """The filled template, or None when the key is unknown or `params` do not fill it."""
    for candidate in (language, DEFAULT_LANGUAGE):
        template = _template(candidate, key, params)
        if template is None:
            continue
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            continue
    return None


def translate(language: str, key: str, **params: Any) -> str:
    """The text for `key` in `language`, falling back to English, then to the key itself.

    A template whose params are missing is returned unfilled rather than raising:
    a page must never crash on a string.
    """
    filled = translate_strict(language, key, **params)
    if filled is not None:
        return filled
    return STRINGS.get(language, {}).get(key) or STRINGS[DEFAULT_LANGUAGE].get(key) or key


def translate_plural(language: str, key: str, count: int, **params: Any) -> str:
    """`translate` for a text that counts: the form for `count`, with `count` filled in."""
    return translate(language, key, count=count, **params)
