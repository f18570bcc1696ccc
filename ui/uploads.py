"""Uploads and the first two steps every workflow shares: the product photo and its mask.

A file uploader writes what it receives into a plain session_state entry
(`{"name": str, "data": bytes}`) and the pages read only that entry. That keeps
the photo across page switches (widgets forget their value when their page is
not shown) and lets tests seed an upload without a browser.

Validation results are cached per file digest in session_state so a rerun (a
slider moved) does not decode the photo again or recompute its cutout.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import streamlit as st

from studio.service import CutoutPreview, PreparedImage, Studio, StudioInputError
from ui.i18n import error_text, t, t_or, tkey
from ui.plain import plain
from ui.samples import is_sample, sample_picker

IMAGE_TYPES = ("jpg", "jpeg", "png", "webp", "bmp")


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.data, usedforsecurity=False).hexdigest()


def store_upload(state_key: str, name: str, data: bytes) -> None:
    """What the uploader does on change; tests call it (or set the entry) to seed a file."""
    st.session_state[state_key] = {"name": name, "data": data}


def read_upload(state_key: str) -> Upload | None:
    raw = st.session_state.get(state_key)
    if isinstance(raw, dict) and isinstance(raw.get("data"), bytes):
        return Upload(name=str(raw.get("name") or "upload"), data=raw["data"])
    return None


def files_input(label: str, widget_key: str, state_key: str, *, help: str | None = None) -> None:
    """A several-files uploader whose files are copied to `state_key` as {"name", "data"} dicts
    when they change, so they outlive the widget (which forgets them on another page)."""

    def _changed() -> None:
        chosen = st.session_state.get(widget_key) or []
        st.session_state[state_key] = [{"name": item.name, "data": item.getvalue()} for item in chosen]

    st.file_uploader(
        label,
        type=list(IMAGE_TYPES),
        accept_multiple_files=True,
        key=widget_key,
        on_change=_changed,
        help=help,
    )


def file_input(
    label_key: str,
    state_key: str,
    *,
    help_key: str | None = None,
    types: tuple[str, ...] = IMAGE_TYPES,
) -> Upload | None:
    """A file uploader whose file lives in `state_key`; returns the current file or None."""
    widget_key = f"{state_key}.widget"

    def _changed() -> None:
        uploaded = st.session_state.get(widget_key)
        if uploaded is None:
            st.session_state.pop(state_key, None)
        else:
            store_upload(state_key, uploaded.name, uploaded.getvalue())

    st.file_uploader(
        t(label_key),
        type=list(types),
        key=widget_key,
        on_change=_changed,
        help=t(help_key) if help_key else None,
    )
    upload = read_upload(state_key)
    if upload is not None and st.session_state.get(widget_key) is None:
        # The uploader forgets its file on another page; the photo is still in use, so say which.
        left, right = st.columns([4, 1], vertical_alignment="center")
        kept = tkey("first_hour.sample.kept") if is_sample(upload.name, upload.data) else tkey("upload.kept")
        left.caption(t(kept, name=plain(upload.name)))
        if right.button(t("upload.remove"), key=f"{state_key}.remove"):
            st.session_state.pop(state_key, None)
            st.rerun()
    return upload


def prepared_image(studio: Studio, upload: Upload | None, cache_key: str) -> PreparedImage | None:
    """Validate an upload once per file; a problem is shown as a translated error, never raised."""
    if upload is None:
        return None
    cached = st.session_state.get(cache_key)
    result: PreparedImage | StudioInputError
    if isinstance(cached, tuple) and cached[0] == upload.digest:
        result = cached[1]
    else:
        try:
            result = studio.prepare_image(upload.data, upload.name)
        except StudioInputError as exc:
            result = exc
        st.session_state[cache_key] = (upload.digest, result)
    if isinstance(result, StudioInputError):
        st.error(error_text(result), icon=":material/error:")
        return None
    return result


def image_facts(image: PreparedImage) -> None:
    """Size, format and what was normalised (EXIF rotation, CMYK ...), in the user's language."""
    facts = t(
        "photo.facts",
        name=plain(image.original_name),
        width=image.width,
        height=image.height,
        format=image.original_format,
    )
    if image.has_alpha:
        facts = t("photo.facts_alpha", facts=facts)
    st.caption(facts)
    for note in image.notes:
        st.caption(t_or(f"note.{note}", t("note.other", note=note)))


def product_photo_step(
    studio: Studio,
    prefix: str,
    *,
    samples: bool = True,
    label_key: str = tkey("photo.upload"),
    help_key: str = tkey("photo.upload_help"),
) -> PreparedImage | None:
    """Step 1 of a workflow: upload, validate and show the product photo.

    Until a photo is there, `samples` offers the project's sample photos ("Try it with a
    sample photo"); one is stored exactly where an upload goes, so it is "kept" like one.
    `label_key`/`help_key` name the photo the workflow wants (Virtual model: a person wearing
    the garment, not a product).
    """
    state_key = f"{prefix}.photo"
    upload = file_input(label_key, state_key, help_key=help_key)
    if upload is None and samples:
        sample_picker(prefix, lambda name, data: store_upload(state_key, name, data))
    image = prepared_image(studio, upload, f"{prefix}.photo.prepared")
    if image is not None:
        # The display-size copy: a 3000 px photo would be decoded and shrunk again on every run.
        st.image(image.preview_png or image.png, caption=t("photo.caption"), width=360)
        image_facts(image)
    return image


@dataclass(frozen=True)
class MaskChoice:
    """What step 2 decided: `mask_png` None means the engine cuts out the product itself."""

    mask_png: bytes | None
    ready: bool
    problem_key: str | None = None
    # "best" | "fast": the automatic cutout's quality (the local engine's, or the vendor's mask).
    cutout_quality: str | None = None


def cutout_preview(
    studio: Studio, prefix: str, image: PreparedImage, quality: str | None = None
) -> CutoutPreview | None:
    """The automatic cutout at display size, once per photo and quality (cached in the session)."""
    cache_key = f"{prefix}.cutout"
    digest = hashlib.sha1(image.png, usedforsecurity=False).hexdigest() + f".{quality or ''}"
    cached = st.session_state.get(cache_key)
    if isinstance(cached, tuple) and cached[0] == digest:
        result = cached[1]
    else:
        with st.spinner(t("mask.working")):
            try:
                result = studio.auto_cutout(image, quality)
            except StudioInputError as exc:
                result = exc
        st.session_state[cache_key] = (digest, result)
    if isinstance(result, StudioInputError):
        st.error(error_text(result), icon=":material/error:")
        return None
    return result if isinstance(result, CutoutPreview) else None


_CHECKER_STYLE = (
    "background-color:#fff;"
    "background-image:linear-gradient(45deg,#d9dde3 25%,transparent 25%),"
    "linear-gradient(-45deg,#d9dde3 25%,transparent 25%),"
    "linear-gradient(45deg,transparent 75%,#d9dde3 75%),"
    "linear-gradient(-45deg,transparent 75%,#d9dde3 75%);"
    "background-size:16px 16px;"
    "background-position:0 0,0 8px,8px -8px,-8px 0;"
    "border-radius:6px;line-height:0"
)


def checkerboard_html(png: bytes, caption: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<figure style="margin:0"><div style="{_CHECKER_STYLE}">'
        f'<img src="data:image/png;base64,{encoded}" style="width:100%;height:auto" alt=""/></div>'
        f'<figcaption style="font-size:0.875rem;opacity:0.6;text-align:center;padding-top:0.3rem">'
        f"{_escape(caption)}</figcaption></figure>"
    )


def checkerboard_image(png: bytes, caption: str) -> None:
    html = checkerboard_html(png, caption)
    st.markdown(html, unsafe_allow_html=True)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
