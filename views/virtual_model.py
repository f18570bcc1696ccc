"""Virtual model: keep the garment, change the model wearing it. Needs a cloud provider that offers it.

Without one configured, the page explains what to configure and links to
Settings; it never shows a button that cannot work. With one, the options are
exactly the vendor's documented ones, with its documented defaults.
"""

from __future__ import annotations

import streamlit as st

from providers.base import Operation
from studio.service import JobRequest, StudioInputError
from ui.auth import current_person, require
from ui.formatting import provider_label
from ui.i18n import error_text, t, tkey
from ui.image_fit import fitted_image
from ui.job_views import job_panel
from ui.layout import generate_button, page_header, step_heading
from ui.model_options import model_swap_options
from ui.next_steps import settings_link
from ui.services import get_studio
from ui.uploads import product_photo_step

PREFIX = "model"
JOB_STATE = "model.job_id"
WORKFLOW = Operation.MODEL_SWAP

require("create")  # spends money: members and admins (app.py hides the page from others)
studio = get_studio()
page_header(tkey("page.model.title"), tkey("page.model.intro"))

providers = studio.providers()
offering = [info for info in providers if WORKFLOW in info.operations]
ready = [info for info in offering if info.configured]

with st.container(border=True):
    # What it needs first: a photo of a person wearing the garment (not a flat-lay, not a product).
    st.markdown(t("first_hour_c.model.what"))
    st.markdown(t("model.keeps_clothing"))

if not ready:
    st.markdown(t("model.how"))
    st.info(t("model.needs_provider"), icon=":material/cloud_off:")
    st.markdown(t("model.configure"))
    # The settings the providers that offer it still miss, as each declares them.
    to_set = [f"{name}=..." for info in offering for name in info.missing_env]
    if to_set:
        st.code("\n".join(to_set), language="bash")
    st.caption(t("model.secrets_file"))
    # Settings is in the navigation for admins only: anyone else is told to ask one.
    settings_link(tkey("model.to_settings"), tkey("first_hour.provider.none_ask"))
    st.stop()

if len(ready) == 1:
    provider = ready[0].key
    st.caption(t("model.provider", provider=provider_label(provider, providers)))
else:
    provider = st.selectbox(
        t("provider.label"),
        options=[info.key for info in ready],
        format_func=lambda key: provider_label(key, providers),
        key="model.provider",
        persist_state="session",
    )

photo_column, options_column = st.columns(2, gap="large")
with photo_column:
    step_heading(1, tkey("step.model_photo"))
    # The project's samples are products (a mug, a serum bottle): none is a person in clothing.
    image = product_photo_step(
        studio,
        PREFIX,
        samples=False,
        label_key=tkey("first_hour_c.model.upload"),
        help_key=tkey("first_hour_c.model.upload_help"),
    )
    to_send = fitted_image(studio, image, provider, WORKFLOW, PREFIX) if image is not None else None
with options_column:
    step_heading(2, tkey("step.model_options"))
    limits = studio.limits_for(provider, WORKFLOW)
    params = model_swap_options(studio.option_specs(provider, WORKFLOW), PREFIX)
    count = st.slider(
        t("variants.label"),
        min_value=limits.min_count,
        max_value=limits.max_count,
        value=limits.default_count,
        key="model.count",
        persist_state="session",
    )
    reason = None
    if image is None:
        reason = tkey("reason.no_photo")
    elif to_send is None:
        reason = tkey("reason.photo_does_not_fit")
    # Right under the options, not under the taller photo column: at 1440x900 it stays on screen.
    if generate_button(PREFIX, reason) and to_send is not None:
        request = JobRequest(
            workflow=WORKFLOW, provider=provider, image=to_send, count=int(count), params=params
        )
        try:
            st.session_state[JOB_STATE] = studio.submit_job(request, by=current_person().key)
        except StudioInputError as exc:
            st.error(error_text(exc), icon=":material/error:")

job_panel(studio, st.session_state.get(JOB_STATE), key_prefix=PREFIX, viewer=True)
