"""Backdrop Studio's entry point: page config, navigation and the sidebar. No logic lives here.

`streamlit run app.py`. The Studio (store, worker, engines) is created once per
process by `ui.services.get_studio`, which also starts the shared worker.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import init_language, t
from ui.layout import render_sidebar
from ui.services import get_studio

st.set_page_config(page_title="Backdrop Studio", page_icon=":material/photo_filter:", layout="wide")

studio = get_studio()
init_language(studio)

pages = {
    t("nav.create"): [
        st.Page(
            "views/prompt_background.py",
            title=t("page.prompt.title"),
            icon=":material/wallpaper:",
            default=True,
        ),
        st.Page("views/scene_background.py", title=t("page.scene.title"), icon=":material/landscape:"),
        st.Page("views/virtual_model.py", title=t("page.model.title"), icon=":material/checkroom:"),
        st.Page("views/backdrops.py", title=t("page.backdrops.title"), icon=":material/photo_library:"),
    ],
    t("nav.catalogue"): [
        st.Page("views/batches.py", title=t("page.batch.title"), icon=":material/dynamic_feed:"),
        st.Page("views/review.py", title=t("page.review.title"), icon=":material/rate_review:"),
    ],
    t("nav.manage"): [
        st.Page("views/history.py", title=t("page.history.title"), icon=":material/history:"),
        st.Page("views/settings.py", title=t("page.settings.title"), icon=":material/settings:"),
    ],
}
navigation = st.navigation(pages, expanded=True)
render_sidebar(studio)
navigation.run()
