"""Virtual model: keep the garment, change the model. Needs a cloud provider that offers it.

No provider offering it is configured in this version, so the page explains what
to configure and links to Settings; it never shows a button that cannot work.
"""

from __future__ import annotations

import streamlit as st

from providers.base import Operation
from ui.formatting import provider_label
from ui.i18n import t, tkey
from ui.layout import page_header
from ui.services import get_studio

studio = get_studio()
page_header(tkey("page.model.title"), tkey("page.model.intro"))

providers = studio.providers()
offering = [info for info in providers if Operation.MODEL_SWAP in info.operations]
ready = [info for info in offering if info.configured]

with st.container(border=True):
    st.markdown(t("model.what"))
    st.markdown(t("model.how"))

if ready:
    # A configured cloud provider arrives with the cloud issues; until then this branch only informs.
    names = ", ".join(provider_label(info.key, providers) for info in ready)
    st.success(t("model.ready", providers=names), icon=":material/check_circle:")
else:
    st.info(t("model.needs_provider"), icon=":material/cloud_off:")
    st.markdown(t("model.configure"))
    st.code("AIDGE_ACCESS_KEY_NAME=...\nAIDGE_ACCESS_KEY_SECRET=...", language="bash")
    st.caption(t("model.secrets_file"))
st.page_link("views/settings.py", label=t("model.to_settings"), icon=":material/settings:")
