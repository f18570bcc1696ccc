"""Prompt background: upload a product photo, describe a background, get variants.

One page for every provider that offers it: the options shown are the chosen
provider's own (the local engine's layout and shadow controls, or a cloud
vendor's documented fields), and "compare providers" runs the same input on
several at once. A picture frame: widgets in, one studio call per action.
"""

from __future__ import annotations

import streamlit as st

from providers.base import EdgeGuide, Operation
from studio.service import JobRequest, StudioInputError
from ui.auth import current_person, require
from ui.backdrop_views import backdrop_choice, place_hint
from ui.compare_views import compare_section
from ui.controls import (
    PROMPT_SIZES,
    clamp_choice,
    finish_picker,
    placement_picker,
    shadow_picker,
    size_picker,
)
from ui.edge_guides import edge_guide_picker
from ui.formatting import provider_label, word_list
from ui.i18n import current_language, error_text, t, tkey
from ui.job_views import job_panel
from ui.layout import generate_button, page_header, provider_picker, step_heading
from ui.mask_step import mask_step
from ui.next_steps import settings_link, to_backdrops
from ui.plain import plain
from ui.prompt_examples import example_descriptions
from ui.provider_options import price_caption, provider_option_widgets
from ui.services import get_studio
from ui.uploads import file_input, prepared_image, product_photo_step

PREFIX = "prompt"
JOB_STATE = "prompt.job_id"
WORKFLOW = Operation.PROMPT_BACKGROUND

require("create")  # spends money: members and admins (app.py hides the page from others)
studio = get_studio()
page_header(tkey("page.prompt.title"), tkey("page.prompt.intro"))
providers = studio.providers()

left, right = st.columns(2, gap="large")
# The mask editor's own section, across the page under both columns: its canvas needs the width
# (about 980 px at 1440 px instead of a half column's 450); empty unless the user edits the mask.
mask_editor_area = st.container()
with left:
    step_heading(1, tkey("step.photo"))
    image = product_photo_step(studio, PREFIX)
    step_heading(2, tkey("step.mask"))
    mask = mask_step(studio, PREFIX, image, mask_editor_area) if image is not None else None
    if image is None:
        st.caption(t("mask.after_photo"))

with right:
    step_heading(3, tkey("step.describe"))
    provider = provider_picker(studio, WORKFLOW, PREFIX)
    if provider is None:
        settings_link(tkey("first_hour.provider.to_settings"), tkey("first_hour.provider.none_ask"))
    info = next((item for item in providers if item.key == provider), None)
    limits = studio.limits_for(provider, WORKFLOW) if provider else None
    if info is not None:
        st.caption(price_caption(info, WORKFLOW))
    hosting_missing = provider is not None and studio.needs_hosting(provider, WORKFLOW)
    if hosting_missing:
        st.warning(
            t("hosting.needed", provider=provider_label(provider or "", providers)),
            icon=":material/link_off:",
        )
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
    local = info is not None and info.local
    if provider is not None and not local:
        # A vendor with a prompt budget silently drops what is past it: warn, the job still runs.
        for overflow in studio.prompt_overflows(provider, WORKFLOW, prompt, negative):
            field = (
                t("prompt.field.prompt") if overflow.field == "prompt" else t("prompt.field.negative_prompt")
            )
            st.warning(
                t(
                    "prompt.overflow",
                    provider=provider_label(provider, providers),
                    field=field,
                    max_words=overflow.max_words,
                    max_cjk=overflow.max_cjk_chars,
                    words=overflow.words,
                    cjk=overflow.cjk_chars,
                ),
                icon=":material/short_text:",
            )
    if local and not prompt.strip():
        # Never a silent grey backdrop: say what an empty description makes, and offer examples.
        example_descriptions(PREFIX, "prompt.text")
    if local and prompt.strip():
        reading = studio.read_prompt(prompt, current_language())
        st.caption(
            t(
                "prompt.reading",
                used=plain(word_list(reading.used)),
                ignored=plain(word_list(reading.unknown)),
            )
        )
        st.caption(t("prompt.summary", summary=plain(reading.summary)))
    # The user's own backdrops (My backdrops): which one this prompt puts the product on.
    backdrop, backdrop_in_use = backdrop_choice(studio, PREFIX, prompt) if local else ({}, False)
    if local and prompt.strip():
        place_hint(reading.place, backdrop_in_use)
    if local and not backdrop_in_use and (not studio.backdrops.list() or (prompt.strip() and reading.place)):
        to_backdrops(tkey("first_hour.prompt.backdrops_link"))

    step_heading(4, tkey("step.output"))
    size = None
    params: dict[str, object] = {}
    if local or limits is None:
        size = size_picker(PREFIX, PROMPT_SIZES, "keep")
        params = placement_picker(PREFIX)
        params |= shadow_picker(PREFIX, tkey("shadow.auto_prompt"))
    low, high = (limits.min_count, limits.max_count) if limits else (1, 4)
    default_count = limits.default_count if limits else 2
    if high > low:
        clamp_choice("prompt.count", low, high)
        count = st.slider(
            t("variants.label"),
            min_value=low,
            max_value=high,
            value=min(max(default_count, low), high),
            key="prompt.count",
            persist_state="session",
        )
    else:
        count = low
    if provider is not None and not local:
        st.caption(t("output.vendor_size"))
        with st.expander(
            t("opt.vendor_title", provider=provider_label(provider, providers)), icon=":material/tune:"
        ):
            st.caption(t("opt.vendor_caption"))
            params = provider_option_widgets(studio.option_specs(provider, WORKFLOW), f"{PREFIX}.{provider}")
    reference = None
    if limits is None or limits.takes_reference:
        with st.expander(t("reference.title"), icon=":material/photo_library:"):
            st.caption(t("reference.intro") if local or limits is None else t("reference.intro_vendor"))
            reference_upload = file_input(tkey("reference.upload"), "prompt.reference")
            reference = prepared_image(studio, reference_upload, "prompt.reference.prepared")
            if reference is not None:
                st.image(reference.png, width=200)
                if local:
                    blur = st.slider(
                        t("reference.blur"),
                        min_value=0,
                        max_value=50,
                        value=8,
                        key="prompt.reference.blur",
                        persist_state="session",
                    )
                    params["reference_blur"] = float(blur)
    guides: tuple[EdgeGuide, ...] = ()
    if limits is not None and limits.max_guides > 0:
        with st.expander(t("guides.title"), icon=":material/gesture:"):
            guides = edge_guide_picker(studio, PREFIX, image, limits.max_guides)
    if local:
        with st.expander(t("finish.title"), icon=":material/tune:"):
            params |= finish_picker(PREFIX)
        params |= backdrop

    reason = None
    if provider is None:
        reason = tkey("reason.no_provider")
    elif image is None:
        reason = tkey("reason.no_photo")
    elif mask is not None and not mask.ready:
        reason = mask.problem_key or tkey("reason.no_mask")
    elif hosting_missing:
        reason = tkey("reason.needs_hosting")
    elif limits is not None and limits.needs_prompt and not prompt.strip() and reference is None:
        reason = tkey("reason.needs_prompt")
    request = None
    if image is not None and provider is not None:
        request = JobRequest(
            workflow=WORKFLOW,
            provider=provider,
            image=image,
            mask_png=mask.mask_png if mask else None,
            prompt=prompt.strip(),
            negative_prompt=negative.strip(),
            count=int(count),
            size=size,
            params=params,
            reference_png=reference.png if reference is not None else None,
            guides=guides,
            cutout_quality=mask.cutout_quality if mask else None,
        )
    if generate_button(PREFIX, reason) and request is not None:
        try:
            st.session_state[JOB_STATE] = studio.submit_job(request, by=current_person().key)
        except StudioInputError as exc:
            st.error(error_text(exc), icon=":material/error:")


# Full width under both columns, so the result opens large (before/after, 100 % zoom).
job_panel(studio, st.session_state.get(JOB_STATE), key_prefix=PREFIX, viewer=True)
inputs_ready = image is not None and (mask is None or mask.ready)
compare_section(studio, request if inputs_ready else None, {provider or "": params}, WORKFLOW, PREFIX)
