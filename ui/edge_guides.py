"""Edge guides: pictures of extra elements (a leaf, a stone, a splash) whose outlines the vendor
draws new elements along, in front of or behind the product, each with its own short prompt.

The user uploads element pictures; each becomes an edge guide at the product's
size (cutout, then soft outline) and is previewed exactly as it will be sent.
"""

from __future__ import annotations

import hashlib
from typing import get_args

import streamlit as st

from providers.base import EdgeGuide, GuideLayer
from studio.service import PreparedImage, Studio, StudioInputError
from ui.i18n import choice_key, error_text, labeller, t
from ui.plain import plain
from ui.uploads import Upload, files_input

LAYERS: tuple[GuideLayer, ...] = get_args(GuideLayer)


def edge_guide_picker(
    studio: Studio, prefix: str, product: PreparedImage | None, limit: int
) -> tuple[EdgeGuide, ...]:
    """The uploader and one row per element: preview, front/behind, prompt. Returns the guides."""
    st.caption(t("guides.intro", max=limit))
    files = _uploads(prefix)
    if not files:
        return ()
    if product is None:
        st.info(t("guides.after_photo"), icon=":material/info:")
        return ()
    if len(files) > limit:
        st.warning(t("guides.too_many", max=limit, count=len(files)), icon=":material/warning:")
        files = files[:limit]
    guides: list[EdgeGuide] = []
    digests = [hashlib.sha1(upload.data + product.png, usedforsecurity=False).hexdigest() for upload in files]
    _forget_others(prefix, set(digests))
    for number, (upload, digest) in enumerate(zip(files, digests, strict=True), 1):
        data = upload.data
        result = _guide_png(studio, prefix, digest, data, upload.name, product)
        with st.container(border=True):
            picture, controls = st.columns([1, 2], vertical_alignment="center")
            if isinstance(result, StudioInputError):
                controls.error(
                    t("guides.bad_file", name=plain(upload.name), message=error_text(result)),
                    icon=":material/error:",
                )
                continue
            picture.image(result, caption=t("guides.preview", number=number), width="stretch")
            with controls:
                layer = st.radio(
                    t("guides.layer"),
                    options=list(LAYERS),
                    format_func=labeller(LAYERS, lambda value: t(f"guides.layer.{value}")),
                    key=choice_key(
                        f"{prefix}.guides.layer.{number}.{digest[:12]}", list(LAYERS), "background"
                    ),
                    horizontal=True,
                )
                prompt = st.text_input(
                    t("guides.prompt"),
                    key=f"{prefix}.guides.prompt.{number}.{digest[:12]}",
                    placeholder=t("guides.prompt_placeholder"),
                    max_chars=500,
                )
            guides.append(
                EdgeGuide("foreground" if layer == "foreground" else "background", result, prompt.strip())
            )
    return tuple(guides)


def _guide_png(
    studio: Studio, prefix: str, digest: str, data: bytes, name: str, product: PreparedImage
) -> bytes | StudioInputError:
    """The guide for one upload, computed once per element and product (a cutout takes a moment)."""
    cache_key = f"{prefix}.guides.cache"
    cache = st.session_state.setdefault(cache_key, {})
    if digest not in cache:
        with st.spinner(t("guides.working")):
            try:
                cache[digest] = studio.make_edge_guide(studio.prepare_image(data, name), product)
            except StudioInputError as exc:
                cache[digest] = exc
    value = cache[digest]
    return value if isinstance(value, bytes | StudioInputError) else StudioInputError("corrupt", "unreadable")


def uploads_key(prefix: str) -> str:
    """Where the element pictures live in the session: a list of {"name", "data"} (tests seed it)."""
    return f"{prefix}.guides.uploads"


def _uploads(prefix: str) -> list[Upload]:
    state_key = uploads_key(prefix)
    files_input(t("guides.upload"), f"{state_key}.widget", state_key)
    stored = st.session_state.get(state_key)
    if not isinstance(stored, list):
        return []
    return [
        Upload(str(item.get("name") or "element"), item["data"])
        for item in stored
        if isinstance(item, dict) and isinstance(item.get("data"), bytes)
    ]


def _forget_others(prefix: str, keep: set[str]) -> None:
    """Drop guides of elements no longer uploaded, so the session does not grow with every try."""
    cache = st.session_state.get(f"{prefix}.guides.cache")
    if isinstance(cache, dict):
        for digest in [digest for digest in cache if digest not in keep]:
            del cache[digest]
