"""Scene background: put the product into a named scene, the local engine's recipes or a vendor's catalogue.

A picture frame: widgets in, one studio call per action, the job card out. The
provider is chosen first because it decides the catalogue, the sizes, the
number of images and the options.
"""

from __future__ import annotations

import streamlit as st

from providers.base import Operation
from studio.service import JobRequest, StudioInputError
from ui.auth import current_person, require
from ui.controls import SCENE_SIZES, clamp_choice, shadow_picker, size_picker
from ui.i18n import current_language, error_text, t, tkey
from ui.image_fit import fitted_image
from ui.job_views import job_panel
from ui.layout import generate_button, page_header, provider_picker, step_heading
from ui.mask_step import mask_step
from ui.next_steps import settings_link
from ui.plain import plain
from ui.scenes import scene_catalogue, scene_name
from ui.services import get_studio
from ui.uploads import product_photo_step
from ui.vendor_scenes import vendor_scene_browser

PREFIX = "scene"
JOB_STATE = "scene.job_id"
WORKFLOW = Operation.SCENE_BACKGROUND

require("create")  # spends money: members and admins (app.py hides the page from others)
studio = get_studio()
page_header(tkey("page.scene.title"), tkey("page.scene.intro"))

provider = provider_picker(studio, WORKFLOW, PREFIX)
if provider is None:
    settings_link(tkey("first_hour.provider.to_settings"), tkey("first_hour.provider.none_ask"))
info = next((item for item in studio.providers() if item.key == provider), None)
is_local = info is not None and info.local
takes_mask = info is not None and info.mask_modes.get(WORKFLOW) is not None

photo_column, mask_column = st.columns(2, gap="large")
with photo_column:
    step_heading(1, tkey("step.photo"))
    image = product_photo_step(studio, PREFIX)
mask = None
with mask_column:
    step_heading(2, tkey("step.mask"))
    if info is not None and not takes_mask:
        st.info(t("mask.vendor_cuts", provider=info.label), icon=":material/content_cut:")
    elif image is not None:
        mask = mask_step(studio, PREFIX, image)
    else:
        st.caption(t("mask.after_photo"))
to_send = image
if image is not None and provider is not None:
    to_send = fitted_image(studio, image, provider, WORKFLOW, PREFIX)

step_heading(3, tkey("step.scene"))
title = st.text_input(
    t("scene.product_title"),
    key="scene.title",
    persist_state="session",
    placeholder=t("scene.product_title_placeholder"),
    help=t("scene.product_title_help"),
)
scene = None
if info is not None and info.can_list_scenes and not is_local:
    scene = vendor_scene_browser(studio, info, title)
else:
    scene = scene_catalogue(studio.local_scenes(current_language()))

step_heading(4, tkey("step.output"))
limits = studio.limits_for(provider, WORKFLOW) if provider is not None else None
sizes = (
    tuple(f"{w}x{h}" for w, h in limits.output_sizes)
    if limits is not None and limits.output_sizes is not None
    else SCENE_SIZES
)
params: dict[str, object] = {}
# Two rows: the size's labels ("800 × 800 · square, marketplace main image") need the width (issue 18).
first, count_column = st.columns([3, 2], gap="large")
second, third = st.columns(2, gap="large")
low, high, default = (limits.min_count, limits.max_count, limits.default_count) if limits else (2, 10, 4)
clamp_choice("scene.count", low, high)
with first:
    size = size_picker(PREFIX, sizes, sizes[0])
with count_column:
    count = st.slider(
        t("variants.label"),
        min_value=low,
        max_value=high,
        value=default,
        key="scene.count",
        persist_state="session",
    )
with second:
    if is_local or info is None:
        relayout = st.toggle(
            t("scene.relayout"),
            value=True,
            key="scene.relayout",
            persist_state="session",
            help=t("scene.relayout_help"),
        )
        draw_title = st.toggle(
            t("scene.draw_title"),
            value=False,
            key="scene.draw_title",
            persist_state="session",
            disabled=not title.strip(),
            help=t("scene.draw_title_help"),
        )
        params |= {"relayout": relayout, "draw_title": bool(draw_title and title.strip())}
    else:
        need_layout = st.toggle(
            t("scene.relayout"),
            value=False,
            key=f"scene.needLayout.{provider}",
            persist_state="session",
            help=t("scene.vendor_relayout_help", provider=info.label),
        )
        params["needLayout"] = need_layout
with third:
    if is_local or info is None:
        params |= shadow_picker(PREFIX, tkey("shadow.auto_scene"))
    else:
        st.caption(t("scene.vendor_renders", provider=info.label))

if scene is not None:
    st.caption(t("scene.chosen", name=plain(scene_name(scene))))
reason = None
if provider is None:
    reason = tkey("reason.no_provider")
elif image is None:
    reason = tkey("reason.no_photo")
elif to_send is None:
    reason = tkey("reason.photo_does_not_fit")
elif mask is not None and not mask.ready:
    reason = mask.problem_key or tkey("reason.no_mask")
elif scene is None:
    reason = tkey("reason.no_scene")
if generate_button(PREFIX, reason) and to_send is not None and provider is not None and scene is not None:
    request = JobRequest(
        workflow=WORKFLOW,
        provider=provider,
        image=to_send,
        mask_png=mask.mask_png if mask else None,
        scene_id=scene.scene_id,
        count=int(count),
        size=size,
        params=params,
        product_title=title.strip(),
        cutout_quality=mask.cutout_quality if mask else None,
    )
    try:
        st.session_state[JOB_STATE] = studio.submit_job(request, by=current_person().key)
    except StudioInputError as exc:
        st.error(error_text(exc), icon=":material/error:")

job_panel(studio, st.session_state.get(JOB_STATE), key_prefix=PREFIX, viewer=True)
