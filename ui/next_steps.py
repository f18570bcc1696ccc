"""Ways out of the create pages' dead ends: say what to do next and link to the page where it is done.

Settings is in the navigation for admins only, so a member or viewer is told to ask
an admin instead of being given a link that would lead nowhere.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.auth import allowed
from ui.i18n import t

SETTINGS_PAGE = "views/settings.py"
BACKDROPS_PAGE = "views/backdrops.py"


def to_settings(admin_key: str, ask_key: str, link_key: str, **params: Any) -> None:
    """An info box with `admin_key`'s text and a link to Settings, or `ask_key`'s text for a non-admin."""
    if allowed("change_settings"):
        st.info(t(admin_key, **params), icon=":material/settings:")
        st.page_link(SETTINGS_PAGE, label=t(link_key), icon=":material/arrow_forward:")
    else:
        st.info(t(ask_key, **params), icon=":material/support_agent:")


def to_backdrops(label_key: str) -> None:
    """A link to My backdrops (the user's own background photos)."""
    st.page_link(BACKDROPS_PAGE, label=t(label_key), icon=":material/photo_library:")


def settings_link(link_key: str, ask_key: str) -> None:
    """Under a message that already says what is missing: the link to Settings, or "ask an admin"."""
    if allowed("change_settings"):
        st.page_link(SETTINGS_PAGE, label=t(link_key), icon=":material/arrow_forward:")
    else:
        st.caption(t(ask_key))
