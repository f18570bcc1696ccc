"""Step 2 of every workflow that uses a mask: automatic cutout, edit it on a canvas, or upload one.

The editor starts from the uploaded mask when there is one, else from the
automatic cutout, and can take over the mask finished on the previous product
of the same size (a batch of shots from one set-up). Whatever mask comes out
is checked (empty, full, wrong size) before it can be used for a job.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from studio.service import PreparedImage, Studio, StudioInputError
from ui.i18n import choice_key, error_text, labeller, t, tkey
from ui.mask_editor import editor_state, last_mask_for, mask_editor
from ui.uploads import MaskChoice, cutout_preview, file_input, show_cutout

MASK_MODES = ["auto", "edit", "upload"]


def mask_step(studio: Studio, prefix: str, image: PreparedImage) -> MaskChoice:
    """Step 2: an automatic cutout preview, the mask editor, or the user's own mask (white = product)."""
    mode = st.radio(
        t("mask.label"),
        options=MASK_MODES,
        format_func=labeller(MASK_MODES, lambda value: t(f"mask.mode.{value}")),
        key=choice_key(f"{prefix}.mask_mode", MASK_MODES, "auto"),
        persist_state="session",
        horizontal=True,
    )
    if mode == "auto":
        preview = cutout_preview(studio, prefix, image)
        if preview is not None:
            show_cutout(preview)
        return MaskChoice(
            mask_png=None, ready=preview is not None, problem_key=None if preview else tkey("reason.cutout")
        )
    if mode == "edit":
        choice = _edit(studio, prefix, image)
        if choice is not None:
            return choice
        # The canvas could not load: the upload below is the way to give a mask.
    return _uploaded(studio, prefix, image)


def _edit(studio: Studio, prefix: str, image: PreparedImage) -> MaskChoice | None:
    preview = cutout_preview(studio, prefix, image)
    if preview is None:
        return MaskChoice(mask_png=None, ready=False, problem_key=tkey("reason.cutout"))
    uploaded = _uploaded_mask(studio, prefix, image)
    state = editor_state(prefix, image, preview.mask_png, uploaded if isinstance(uploaded, bytes) else None)
    last = last_mask_for(image, state.photo)
    if (
        last is not None
        and last not in state.history
        and st.button(t("editor.use_last"), key=f"{prefix}.editor.use_last", icon=":material/history:")
    ):
        state.push(last)
        st.rerun()
    result = mask_editor(prefix, image, state)
    if not result.canvas_ok:
        return None
    try:
        mask_png = studio.prepare_mask(result.mask_png, image)
    except StudioInputError as exc:
        st.error(error_text(exc), icon=":material/error:")
        return MaskChoice(mask_png=None, ready=False, problem_key=tkey("reason.bad_mask"))
    return MaskChoice(mask_png=mask_png, ready=True)


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
