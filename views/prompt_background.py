"""Prompt background: upload a product photo, describe a background, get variants.

A picture frame: widgets in, one studio call per action, the job card out.
"""

from __future__ import annotations

import streamlit as st

from providers.base import Operation
from studio.service import JobRequest, StudioInputError
from ui.controls import PROMPT_SIZES, finish_picker, placement_picker, shadow_picker, size_picker
from ui.formatting import word_list
from ui.i18n import current_language, error_text, t, tkey
from ui.job_views import job_panel
from ui.layout import generate_button, page_header, provider_picker, step_heading
from ui.services import get_studio
from ui.uploads import file_input, mask_step, prepared_image, product_photo_step

PREFIX = "prompt"
JOB_STATE = "prompt.job_id"

studio = get_studio()
page_header(tkey("page.prompt.title"), tkey("page.prompt.intro"))

left, right = st.columns(2, gap="large")
with left:
    step_heading(1, tkey("step.photo"))
    image = product_photo_step(studio, PREFIX)
    step_heading(2, tkey("step.mask"))
    mask = mask_step(studio, PREFIX, image) if image is not None else None
    if image is None:
        st.caption(t("mask.after_photo"))

with right:
    step_heading(3, tkey("step.describe"))
    provider = provider_picker(studio, Operation.PROMPT_BACKGROUND, PREFIX)
    prompt = st.text_area(
        t("prompt.label"),
        key="prompt.text",
        persist_state="session",
        placeholder=t("prompt.placeholder"),
        height=90,
        max_chars=500,
    )
    negative = st.text_input(
        t("prompt.negative"),
        key="prompt.negative",
        persist_state="session",
        placeholder=t("prompt.negative_placeholder"),
    )
    if prompt.strip():
        reading = studio.read_prompt(prompt, current_language())
        st.caption(t("prompt.reading", used=word_list(reading.used), ignored=word_list(reading.unknown)))
        st.caption(t("prompt.summary", summary=reading.summary))

    step_heading(4, tkey("step.output"))
    size = size_picker(PREFIX, PROMPT_SIZES, "keep")
    params = placement_picker(PREFIX)
    params |= shadow_picker(PREFIX, tkey("shadow.auto_prompt"))
    count = st.slider(
        t("variants.label"), min_value=1, max_value=4, value=2, key="prompt.count", persist_state="session"
    )
    with st.expander(t("reference.title"), icon=":material/photo_library:"):
        st.caption(t("reference.intro"))
        reference_upload = file_input(tkey("reference.upload"), "prompt.reference")
        reference = prepared_image(studio, reference_upload, "prompt.reference.prepared")
        if reference is not None:
            st.image(reference.png, width=200)
            blur = st.slider(
                t("reference.blur"),
                min_value=0,
                max_value=50,
                value=8,
                key="prompt.reference.blur",
                persist_state="session",
            )
            params["reference_blur"] = float(blur)
    with st.expander(t("finish.title"), icon=":material/tune:"):
        params |= finish_picker(PREFIX)

    reason = None
    if provider is None:
        reason = tkey("reason.no_provider")
    elif image is None:
        reason = tkey("reason.no_photo")
    elif mask is not None and not mask.ready:
        reason = mask.problem_key or tkey("reason.no_mask")
    if generate_button(PREFIX, reason) and image is not None and provider is not None:
        request = JobRequest(
            workflow=Operation.PROMPT_BACKGROUND,
            provider=provider,
            image=image,
            mask_png=mask.mask_png if mask else None,
            prompt=prompt.strip(),
            negative_prompt=negative.strip(),
            count=int(count),
            size=size,
            params=params,
            reference_png=reference.png if reference is not None else None,
        )
        try:
            st.session_state[JOB_STATE] = studio.submit_job(request)
        except StudioInputError as exc:
            st.error(error_text(exc), icon=":material/error:")

    # Right under the button, where the user is looking when the result arrives.
    job_panel(studio, st.session_state.get(JOB_STATE), key_prefix=PREFIX, per_row=2)
