"""Backdrop Studio's entry point: page config, navigation and the sidebar. No logic lives here.

`streamlit run app.py`. The Studio (store, worker, engines) is created once per
process by `ui.services.get_studio`, which also starts the shared worker. With sign-in
configured, `ui.auth.gate` shows the sign-in screen until someone with a role signs in,
and the navigation holds only the pages that person's role can use.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.auth import gate, refuse_unsafe_binding
from ui.i18n import init_language, t
from ui.layout import render_sidebar
from ui.services import get_studio, storage_guard

# A file in the repository, not a `:material/...` name: those favicons are fetched from Google.
ICON = str(Path(__file__).resolve().parent / "ui" / "assets" / "icon.png")
st.set_page_config(page_title="Backdrop Studio", page_icon=ICON, layout="wide")

studio = get_studio()
init_language(studio)
refuse_unsafe_binding()
person = gate()

creating = person.can("create")
sections = {
    t("nav.create"): [
        st.Page("views/prompt_background.py", title=t("page.prompt.title"), icon=":material/wallpaper:"),
        st.Page("views/scene_background.py", title=t("page.scene.title"), icon=":material/landscape:"),
        st.Page("views/virtual_model.py", title=t("page.model.title"), icon=":material/checkroom:"),
        st.Page("views/backdrops.py", title=t("page.backdrops.title"), icon=":material/photo_library:"),
    ]
    if creating
    else [],
    t("nav.catalogue"): [
        *(
            [st.Page("views/batches.py", title=t("page.batch.title"), icon=":material/dynamic_feed:")]
            if creating
            else []
        ),
        st.Page("views/review.py", title=t("page.review.title"), icon=":material/rate_review:"),
    ],
    t("nav.manage"): [
        *(
            [st.Page("views/history.py", title=t("page.history.title"), icon=":material/history:")]
            if creating
            else []
        ),
        *(
            [st.Page("views/settings.py", title=t("page.settings.title"), icon=":material/settings:")]
            if person.can("change_settings")
            else []
        ),
    ],
}
pages = {section: entries for section, entries in sections.items() if entries}
navigation = st.navigation(pages, expanded=True)
render_sidebar(studio)
with storage_guard():  # a full or read-only data folder: our message, never a traceback
    navigation.run()
