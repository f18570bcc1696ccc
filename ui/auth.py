"""The person using this browser session (see studio.people), sign-in and the role checks.

Without sign-in configured every session is the one local person (an admin) and the server
listens on this computer only. With `[auth]` in secrets.toml, `gate()` (called by app.py
before the navigation) shows the sign-in screen to a session that has not signed in, and a
"not allowed" screen to an e-mail no `[access]` rule lets in; nothing else is drawn for them.

Pages hide what a role cannot use, and the code that acts checks again with `allowed()` or
`require()`: a hidden or disabled button is not the only guard.
"""

from __future__ import annotations

import streamlit as st

from studio.access_settings import AccessSettings
from studio.i18n import LANGUAGES
from studio.people import LOCAL_PERSON, Action, Person, Role
from ui.i18n import LANG_STATE, current_language, t, tkey
from ui.plain import plain
from ui.services import get_studio

_ROLE_KEYS: dict[Role, str] = {
    "admin": tkey("auth.role.admin"),
    "member": tkey("auth.role.member"),
    "viewer": tkey("auth.role.viewer"),
}


def role_label(role: Role) -> str:
    return t(_ROLE_KEYS[role])


def access_settings() -> AccessSettings:
    return get_studio().settings.access


def _signed_in_person() -> Person | None:
    """The signed-in person with their role; None when not signed in or matched by no rule."""
    user = st.user
    if not user.get("is_logged_in"):
        return None
    email = str(user.get("email") or "")
    if user.get("email_verified") is False:
        return None  # the provider says this address is not proven to be theirs
    name = str(user.get("name") or "")
    return access_settings().rules.person(email, name)


def current_person() -> Person:
    """Who is using this session; pages record `current_person().key` as who did something.

    With sign-in configured and nobody (allowed) signed in, the run stops here: nothing
    that asks who is acting can go on for an unknown visitor.
    """
    if not access_settings().sign_in:
        return LOCAL_PERSON
    person = _signed_in_person()
    if person is None:
        st.stop()
    return person


def allowed(action: Action) -> bool:
    """Whether this session's person may do `action` (the check the acting code makes)."""
    return current_person().can(action)


def require(action: Action) -> None:
    """Stop the page for a person whose role does not include `action` (e.g. a deep link)."""
    if not allowed(action):
        st.warning(t("auth.not_for_role", role=role_label(current_person().role)), icon=":material/lock:")
        st.stop()


def refuse_unsafe_binding() -> None:
    """Serve nothing when bound beyond this computer without sign-in or the open setting."""
    address = st.get_option("server.address")
    if access_settings().may_listen_on(address):
        return
    st.error(t("auth.unsafe_binding", address=address or "0.0.0.0"), icon=":material/block:")  # noqa: S104
    st.markdown(t("auth.unsafe_binding_fix"))
    st.stop()


def gate() -> Person:
    """The signed-in (or local) person; otherwise the sign-in or not-allowed screen, then stop."""
    settings = access_settings()
    if not settings.sign_in:
        return LOCAL_PERSON
    person = _signed_in_person()
    if person is not None:
        return person
    _language_choice()
    if not st.user.get("is_logged_in"):
        st.title(t("auth.sign_in_title"))
        st.markdown(t("auth.sign_in_intro"))
        if st.button(t("auth.sign_in"), type="primary", icon=":material/login:", key="auth.sign_in"):
            if settings.provider:
                st.login(settings.provider)
            else:
                st.login()
    else:
        st.title(t("auth.not_allowed_title"))
        email = plain(str(st.user.get("email") or "-"))
        st.error(t("auth.not_allowed", email=email), icon=":material/block:")
        if st.button(t("auth.sign_out"), icon=":material/logout:", key="auth.sign_out"):
            st.logout()
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def _language_choice() -> None:
    """English / 中文 for the sign-in screen (only this session; nothing is stored)."""

    def _changed() -> None:
        chosen = st.session_state.get("auth.lang")
        if chosen in LANGUAGES:
            st.session_state[LANG_STATE] = chosen
            st.query_params["lang"] = chosen

    st.session_state["auth.lang"] = current_language()
    st.segmented_control(
        t("sidebar.language"),
        options=list(LANGUAGES),
        format_func=lambda code: LANGUAGES[code],
        key="auth.lang",
        on_change=_changed,
        label_visibility="collapsed",
    )


def person_card() -> None:
    """The sidebar: who is signed in, their role and sign-out; or how far the studio is open."""
    settings = access_settings()
    if settings.sign_in:
        person = current_person()
        name, email = plain(person.name or person.email), plain(person.email)
        st.markdown(t("auth.signed_in_as", name=name, email=email))
        st.caption(t("auth.role_line", role=role_label(person.role)))
        if st.button(t("auth.sign_out"), icon=":material/logout:", key="auth.sidebar.sign_out"):
            st.logout()
    elif settings.open_to_network:
        st.warning(t("auth.open_to_network"), icon=":material/public:")
    else:
        st.caption(t("auth.local_only"))
