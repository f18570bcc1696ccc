"""Settings: how the local engine runs on this machine, which providers are configured, language.

Configuration comes from environment variables and .streamlit/secrets.toml
(see secrets.example.toml); secrets are never shown. Each cloud provider has a
"test connection" button that makes one cheap authenticated call.
"""

from __future__ import annotations

import streamlit as st

from studio.i18n import LANGUAGES
from ui.auth import current_person, require
from ui.i18n import current_language, stored_language, t, tkey
from ui.layout import page_header
from ui.services import get_studio
from ui.settings_views import (
    engine_rows,
    hosting_card,
    provider_card,
    providers_column_config,
    providers_frame,
    status_mark,
)

require("change_settings")  # admins only (app.py hides the page from others)
studio = get_studio()
page_header(tkey("page.settings.title"), tkey("page.settings.intro"))

st.subheader(t("settings.engine_title"))
with st.container(border=True):
    for ok, label, value in engine_rows(studio.engine_status()):
        left, right = st.columns([1, 3])
        left.markdown(t("settings.row_label", label=label, mark=status_mark(ok)))
        right.markdown(value)

st.subheader(t("settings.providers_title"))
st.caption(t("settings.providers_intro"))
providers = studio.providers()
st.dataframe(providers_frame(providers), column_config=providers_column_config(), hide_index=True)
for column, info in zip(st.columns(2, gap="medium") * len(providers), providers, strict=False):
    with column:
        provider_card(studio, info, providers)

st.subheader(t("settings.hosting_title"))
st.caption(t("settings.hosting_intro"))
hosting_card(studio, providers)

st.subheader(t("settings.language_title"))
stored = stored_language(studio, current_person())
st.markdown(
    t(
        "settings.language_current",
        current=LANGUAGES[current_language()],
        default=LANGUAGES.get(stored or "", LANGUAGES["en"]),
    )
)
st.caption(t("settings.language_hint"))
