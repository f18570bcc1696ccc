"""The page side of the string table: `t()`, the current language and the language switch.

Every user-facing string in app.py, views/ and ui/ goes through `t(key, **params)`
(checked by tests/test_i18n.py); `tn(key, count, ...)` says outright that a text counts. The language is chosen once per session in this
order: `?lang=` in the URL, the person's stored preference ("language:<person key>"),
the configured default (STUDIO_LANG), then English; switching it in the sidebar
writes the URL and that person's preference, so a reload, a shared link and their
next session keep it, and nobody else's default changes (issue 15).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import streamlit as st

from studio import vendor_texts
from studio.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    has_key,
    normalise_language,
    translate,
    translate_plural,
    translate_strict,
)
from studio.people import LOCAL_KEY, Person
from studio.service import Studio, StudioInputError
from studio.store_preferences import personal_key
from ui.plain import plain

T = TypeVar("T")

LANG_STATE = "ui.lang"  # session_state: the language this session shows
_LANG_WIDGET = "ui.lang.widget"
# Before issue 15 one stored choice served everyone; it stays the local person's fallback.
LANGUAGE_PREFERENCE = "ui.language"


def current_language() -> str:
    value = st.session_state.get(LANG_STATE)
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **params: Any) -> str:
    """The text for `key` in the session's language, with `params` filled in.

    A text with plural forms ("1 job running", "2 jobs running") takes the form for `count`.
    """
    return translate(current_language(), key, **params)


def tn(key: str, count: int, **params: Any) -> str:
    """`t` for a text that counts something: the plural form for `count`, with `count` filled in."""
    return translate_plural(current_language(), key, count, **params)


def tkey(key: str) -> str:
    """Marks a string-table key passed on to a helper, so tests/test_i18n.py checks it exists."""
    return key


def t_or(key: str, fallback: str, **params: Any) -> str:
    """Like `t`, but data that has no entry (a new category, a vendor's label) shows as given."""
    return t(key, **params) if has_key(key) else fallback


def labeller(options: Iterable[T], label: Callable[[T], str]) -> Callable[[T], str]:
    """A widget `format_func` with every label computed now, in this run's language.

    Streamlit may call `format_func` outside the script run (AppTest does, to
    match values to labels); a lookup table gives the same label there.
    """
    table = {option: label(option) for option in options}
    return lambda option: table.get(option, str(option))


def choice_key(base: str, options: Sequence[Any], default: Any) -> str:
    """The key for a choice widget whose option labels are translated, with its value in place.

    The browser remembers a choice by its *label*; after a language switch that
    label matches no option and the choice would show as empty. So the key
    carries the language (a fresh widget per language) and the value chosen in
    the other language is carried over. The value is set here, so callers pass
    no `index`/`default` of their own.
    """
    language = current_language()
    key = f"{base}.{language}"
    seen_key = f"{base}#language"  # the language this choice was last drawn in
    previous = st.session_state.get(seen_key)
    if previous not in (None, language) and f"{base}.{previous}" in st.session_state:
        # Widgets persist per session, so this language's key may hold an older value: take the newest.
        st.session_state[key] = st.session_state[f"{base}.{previous}"]
    elif key not in st.session_state:
        st.session_state[key] = default
    st.session_state[seen_key] = language
    value = st.session_state[key]
    if isinstance(default, list):
        kept = [item for item in value if item in options] if isinstance(value, list) else default
        if kept != value:
            st.session_state[key] = kept
    elif value not in options:
        st.session_state[key] = default
    return key


def language_preference_key(person_key: str) -> str:
    """Where one person's language is stored ("language:ana@shop.com", "language:local")."""
    return personal_key("language", person_key)


def session_person_key(studio: Studio, person: Person | None = None) -> str | None:
    """Whose language this session reads and writes: `person`'s key when given; without sign-in
    the local person's; with sign-in, the signed-in e-mail in lower case (`Person.key`), read
    from `st.user` because the language is chosen before the sign-in screen; None: nobody
    signed in yet (the choice then lives in the session and the URL only)."""
    if person is not None:
        return person.key
    access = getattr(studio.settings, "access", None)
    if access is None or not getattr(access, "sign_in", False):
        return LOCAL_KEY
    user = st.user
    if not user.get("is_logged_in") or user.get("email_verified") is False:
        return None
    return str(user.get("email") or "").strip().lower() or None


def stored_language(studio: Studio, person: Person | None = None) -> str | None:
    """The language this session's person chose before (None: no choice stored)."""
    key = session_person_key(studio, person)
    if key is None:
        return None
    stored = normalise_language(studio.get_preference(language_preference_key(key)))
    if stored is None and key == LOCAL_KEY:
        stored = normalise_language(studio.get_preference(LANGUAGE_PREFERENCE))
    return stored


def init_language(studio: Studio, person: Person | None = None) -> str:
    """Pick the session's language on its first run, then keep it in the URL on every page."""
    if LANG_STATE not in st.session_state:
        from_url = normalise_language(st.query_params.get("lang"))
        stored = stored_language(studio, person)
        configured = normalise_language(studio.settings.default_language)  # STUDIO_LANG
        st.session_state[LANG_STATE] = from_url or stored or configured or DEFAULT_LANGUAGE
    language = current_language()
    # Page switches drop query parameters; put it back so a reload keeps the language.
    if st.query_params.get("lang") != language:
        st.query_params["lang"] = language
    return language


def language_switch(studio: Studio, person: Person | None = None) -> None:
    """The sidebar selector; a change is remembered in the URL and as this person's preference."""

    def _changed() -> None:
        chosen = normalise_language(st.session_state.get(_LANG_WIDGET)) or DEFAULT_LANGUAGE
        st.session_state[LANG_STATE] = chosen
        st.query_params["lang"] = chosen
        key = session_person_key(studio, person)
        if key is not None:
            studio.set_preference(language_preference_key(key), chosen)

    # Keep the widget in step when the language came from the URL or the store.
    st.session_state[_LANG_WIDGET] = current_language()
    st.selectbox(
        t("sidebar.language"),
        options=list(LANGUAGES),
        format_func=lambda code: LANGUAGES[code],
        key=_LANG_WIDGET,
        on_change=_changed,
    )


def error_text(exc: StudioInputError) -> str:
    """A bad-input error in the user's language; the English sentence when no entry exists.
    Markdown-safe (`ui.plain`): the params carry file names and other user text."""
    return plain(coded_text(exc.code, str(exc), exc.params))


def coded_text(code: str, message: str, params: dict[str, Any] | None = None) -> str:
    """Translate `error.<code>`; `detail` carries the original sentence for entries that quote it."""
    # A template whose params the raiser did not supply gives None: the plain sentence is better.
    text = translate_strict(current_language(), f"error.{code}", detail=message, **(params or {}))
    return message if text is None else text


def job_error_text(provider: str, code: str, message: str) -> str:
    """A failed job's error in the user's language: the vendor's text found from what the job stored
    (its provider, the vendor's code and the English sentence), else `error.<code>`, else as stored."""
    found = vendor_texts.match(provider, code, message)
    if found is not None:
        language = current_language()
        text = translate_strict(language, found.key, **found.params)
        if text is not None:
            if found.attempts is None:
                return text
            return translate(language, "error.gave_up", message=text, attempts=found.attempts)
    return coded_text(code, message)
