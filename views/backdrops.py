"""My backdrops: photos of the user's own empty sets, with the surface products stand on and tags.

A picture frame: the upload form, the editor of the chosen backdrop, the gallery. They are
used by the local engine as scenes (Scene background), by tag in prompts, and in batches.
"""

from __future__ import annotations

import streamlit as st

from ui.auth import require
from ui.backdrop_editor import backdrop_editor
from ui.backdrop_views import SELECTED, add_form, flash, gallery
from ui.i18n import t, tkey
from ui.layout import page_header
from ui.services import get_studio

require("create")  # spends money: members and admins (app.py hides the page from others)
studio = get_studio()
page_header(tkey("page.backdrops.title"), tkey("page.backdrops.intro"))
flash()

with st.expander(t("backdrops.add.heading"), expanded=True, icon=":material/add_photo_alternate:"):
    add_form(studio)

entries = studio.backdrops.list()
selected_id = st.session_state.get(SELECTED)
selected = next((entry for entry in entries if entry.backdrop_id == selected_id), None)
if selected is not None:
    with st.container(border=True, key="backdrop-editor"):
        backdrop_editor(studio, selected)
gallery(studio, entries, selected.backdrop_id if selected else None)
