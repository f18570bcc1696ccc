"""Step 2 of every workflow that uses a mask: automatic cutout, edit it on a canvas, or upload one.

The editor starts from the uploaded mask when there is one, else from the
automatic cutout, and can take over the mask finished on the previous product
of the same size (a batch of shots from one set-up). Whatever mask comes out
is checked (empty, full, wrong size) before it can be used for a job.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import streamlit as st

from imaging.segmenters import QUALITIES
from studio.service import CutoutPreview, PreparedImage, Studio, StudioInputError
from ui.formatting import cutout_text
from ui.i18n import choice_key, error_text, labeller, t, tkey
from ui.mask_editor import editor_state, large_editor, last_mask_for, mask_editor, tinted_preview
from ui.plain import plain
from ui.uploads import MaskChoice, checkerboard_image, cutout_preview, file_input

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

MASK_MODES = ["auto", "edit", "upload"]
EDITOR_ANCHOR = "mask-editor"


def mask_step(
    studio: Studio, prefix: str, image: PreparedImage, editor_area: DeltaGenerator | None = None
) -> MaskChoice:
    """Step 2: an automatic cutout preview, the mask editor, or the user's own mask (white = product).

    `editor_area` is a full-width place on the page for the editor's canvas and tools, when the step
    itself sits in a narrow column; the step's choices and the previews stay in the column."""
    mode = st.radio(
        t("mask.label"),
        options=MASK_MODES,
        format_func=labeller(MASK_MODES, lambda value: t(f"mask.mode.{value}")),
        key=choice_key(f"{prefix}.mask_mode", MASK_MODES, "auto"),
        persist_state="session",
        horizontal=True,
    )
    if mode == "auto":
        quality = cutout_quality_picker(studio, prefix)
        preview = cutout_preview(studio, prefix, image, quality)
        if preview is not None:
            show_cutout(image, preview)
        return MaskChoice(
            mask_png=None,
            ready=preview is not None,
            problem_key=None if preview else tkey("reason.cutout"),
            cutout_quality=quality,
        )
    if mode == "edit":
        choice = _edit(studio, prefix, image, editor_area)
        if choice is not None:
            return choice
        # The canvas could not load: the upload below is the way to give a mask.
    return _uploaded(studio, prefix, image)


def show_cutout(image: PreparedImage, preview: CutoutPreview) -> None:
    """The mask over the photo, in the photo's tint (the editor's too), next to the product on a
    checkerboard, and how it was found."""
    left, right = st.columns(2)
    with left:
        st.image(
            tinted_preview(image, preview.cutout_png), caption=t("mask.overlay_caption"), width="stretch"
        )
    with right:
        checkerboard_image(preview.cutout_png, t("mask.cutout_caption"))
    method = cutout_text(preview.method_text or preview.method, preview.model, preview.refinement)
    st.caption(t("mask.method", method=method))


def cutout_quality_picker(studio: Studio, prefix: str) -> str:
    """The "Cutout quality: Best (ISNet) / Fast (u2netp)" choice and, above the cutout, a warning with the
    fix when the chosen model is missing or broken (its cutouts fall back to the classical method)."""
    options = list(QUALITIES)
    quality = st.radio(
        t("cutout.quality"),
        options=options,
        format_func=labeller(options, lambda value: t(f"cutout.quality.{value}")),
        key=choice_key(f"{prefix}.cutout_quality", options, studio.default_cutout_quality()),
        persist_state="session",
        horizontal=True,
        help=t("cutout.quality_help"),
    )
    chosen = str(quality or studio.default_cutout_quality())
    state = next((item for item in studio.cutout_models_state() if item.quality == chosen), None)
    if state is not None and not state.usable:
        key = "cutout.model_broken" if state.found else "cutout.model_missing"
        model = t(f"cutmodel.{state.model}")
        facts = {"path": str(state.path), "model_key": state.model, "env": state.env}  # in `code`
        st.warning(t(key, model=model, error=plain(state.error or ""), **facts), icon=":material/warning:")
    return chosen


def _edit(
    studio: Studio, prefix: str, image: PreparedImage, editor_area: DeltaGenerator | None
) -> MaskChoice | None:
    quality = cutout_quality_picker(studio, prefix)
    start = _auto_mask(studio, prefix, image, quality)
    if start is None:
        return MaskChoice(mask_png=None, ready=False, problem_key=tkey("reason.cutout"))
    uploaded = _uploaded_mask(studio, prefix, image)
    state = editor_state(prefix, image, start, uploaded if isinstance(uploaded, bytes) else None)
    last = last_mask_for(image, state.photo)
    if (
        last is not None
        and last not in state.history
        and st.button(t("editor.use_last"), key=f"{prefix}.editor.use_last", icon=":material/history:")
    ):
        state.push(last)
        st.rerun()
    if st.button(t("first_hour_b.large_open"), key=f"{prefix}.editor.large", icon=":material/open_in_full:"):
        large_editor(prefix, image, state)
    if editor_area is None:
        result = mask_editor(prefix, image, state)
    else:
        # The editor below, across the page; a link takes the user there from the step.
        st.markdown(t("editor.below_link", text=t("editor.below"), anchor=EDITOR_ANCHOR))
        previews = st.container()
        with editor_area:
            st.subheader(t("mask.mode.edit"), anchor=EDITOR_ANCHOR, divider="gray")
            result = mask_editor(prefix, image, state, previews=previews)
    if not result.canvas_ok:
        return None
    try:
        mask_png = studio.prepare_mask(result.mask_png, image)
    except StudioInputError as exc:
        st.error(error_text(exc), icon=":material/error:")
        return MaskChoice(mask_png=None, ready=False, problem_key=tkey("reason.bad_mask"))
    return MaskChoice(mask_png=mask_png, ready=True, cutout_quality=quality)


def _auto_mask(studio: Studio, prefix: str, image: PreparedImage, quality: str) -> bytes | None:
    """The automatic cutout's full-size mask, the editor's start (once per photo and quality)."""
    cache_key = f"{prefix}.auto_mask"
    digest = hashlib.sha1(image.png, usedforsecurity=False).hexdigest() + f".{quality}"
    cached = st.session_state.get(cache_key)
    if isinstance(cached, tuple) and cached[0] == digest:
        value: bytes | StudioInputError = cached[1]
    else:
        with st.spinner(t("mask.working")):
            try:
                value = studio.auto_mask(image, quality).mask_png
            except StudioInputError as exc:
                value = exc
        st.session_state[cache_key] = (digest, value)
    if isinstance(value, StudioInputError):
        st.error(error_text(value), icon=":material/error:")
        return None
    return value


def _uploaded(studio: Studio, prefix: str, image: PreparedImage) -> MaskChoice:
    upload = file_input(tkey("mask.upload"), f"{prefix}.mask", help_key=tkey("mask.upload_help"))
    if upload is None:
        st.info(t("mask.upload_hint"), icon=":material/info:")
        return MaskChoice(mask_png=None, ready=False, problem_key=tkey("reason.no_mask"))
    result = _uploaded_mask(studio, prefix, image)
    if isinstance(result, StudioInputError):
        st.error(error_text(result), icon=":material/error:")
        return MaskChoice(mask_png=None, ready=False, problem_key=tkey("reason.bad_mask"))
    if result is None:
        return MaskChoice(mask_png=None, ready=False, problem_key=tkey("reason.no_mask"))
    st.image(result, caption=t("mask.preview_caption"), width=240)
    return MaskChoice(mask_png=result, ready=True)


def _uploaded_mask(studio: Studio, prefix: str, image: PreparedImage) -> bytes | StudioInputError | None:
    """The uploaded mask checked against this photo (cached per photo and file), or None."""
    raw = st.session_state.get(f"{prefix}.mask")
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), bytes):
        return None
    data: bytes = raw["data"]
    digests = (
        hashlib.sha1(image.png, usedforsecurity=False).hexdigest(),
        hashlib.sha1(data, usedforsecurity=False).hexdigest(),
    )
    cache_key = f"{prefix}.mask.prepared"
    cached = st.session_state.get(cache_key)
    if isinstance(cached, tuple) and cached[0] == digests:
        value: bytes | StudioInputError = cached[1]
        return value
    try:
        value = studio.prepare_mask(data, image)
    except StudioInputError as exc:
        value = exc
    st.session_state[cache_key] = (digests, value)
    return value
