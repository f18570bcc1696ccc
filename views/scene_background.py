"""Scene background: put the product into one of the local engine's named scenes.

A picture frame: widgets in, one studio call per action, the job card out.
"""

from __future__ import annotations

import streamlit as st

from providers.base import Operation
from studio.service import JobRequest, StudioInputError
from ui.controls import SCENE_SIZES, shadow_picker, size_picker
from ui.i18n import current_language, error_text, t, tkey
from ui.job_views import job_panel
from ui.layout import generate_button, page_header, provider_picker, step_heading
from ui.scenes import scene_catalogue, scene_name
from ui.services import get_studio
from ui.uploads import mask_step, product_photo_step

PREFIX = "scene"
JOB_STATE = "scene.job_id"

studio = get_studio()
page_header(tkey("page.scene.title"), tkey("page.scene.intro"))

photo_column, mask_column = st.columns(2, gap="large")
with photo_column:
    step_heading(1, tkey("step.photo"))
    image = product_photo_step(studio, PREFIX)
mask = None
with mask_column:
    step_heading(2, tkey("step.mask"))
    if image is not None:
        mask = mask_step(studio, PREFIX, image)
    else:
        st.caption(t("mask.after_photo"))

step_heading(3, tkey("step.scene"))
scenes = studio.local_scenes(current_language())
scene = scene_catalogue(scenes)

step_heading(4, tkey("step.output"))
provider = provider_picker(studio, Operation.SCENE_BACKGROUND, PREFIX)
first, second, third = st.columns(3, gap="large")
with first:
    size = size_picker(PREFIX, SCENE_SIZES, "800x800")
    count = st.slider(
        t("variants.label"), min_value=2, max_value=10, value=4, key="scene.count", persist_state="session"
    )
with second:
    relayout = st.toggle(
        t("scene.relayout"),
        value=True,
        key="scene.relayout",
        persist_state="session",
        help=t("scene.relayout_help"),
    )
    title = st.text_input(
        t("scene.product_title"),
        key="scene.title",
        persist_state="session",
        placeholder=t("scene.product_title_placeholder"),
    )
    draw_title = st.toggle(
        t("scene.draw_title"),
        value=False,
        key="scene.draw_title",
        persist_state="session",
        disabled=not title.strip(),
        help=t("scene.draw_title_help"),
    )
with third:
    params = shadow_picker(PREFIX, tkey("shadow.auto_scene"))
params |= {"relayout": relayout, "draw_title": bool(draw_title and title.strip())}

if scene is not None:
    st.caption(t("scene.chosen", name=scene_name(scene)))
reason = None
if provider is None:
    reason = tkey("reason.no_provider")
elif image is None:
    reason = tkey("reason.no_photo")
elif mask is not None and not mask.ready:
    reason = mask.problem_key or tkey("reason.no_mask")
elif scene is None:
    reason = tkey("reason.no_scene")
if generate_button(PREFIX, reason) and image is not None and provider is not None and scene is not None:
    request = JobRequest(
        workflow=Operation.SCENE_BACKGROUND,
        provider=provider,
        image=image,
        mask_png=mask.mask_png if mask else None,
        scene_id=scene.scene_id,
        count=int(count),
        size=size,
        params=params,
        product_title=title.strip(),
    )
    try:
        st.session_state[JOB_STATE] = studio.submit_job(request)
    except StudioInputError as exc:
        st.error(error_text(exc), icon=":material/error:")

job_panel(studio, st.session_state.get(JOB_STATE), key_prefix=PREFIX)
