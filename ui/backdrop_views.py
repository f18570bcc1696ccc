"""The user's backdrops on the page: the photo with its surface drawn on it, the upload form,
the gallery, and the prompt page's backdrop choice.

The surface is drawn by the browser over the photo (an outlined box, or a line where the
product's base goes), so moving a slider redraws it without any pixel work here. Uploads live
in session_state (`backdrops.upload`: a list of `{"name", "data"}`), like every other upload,
so tests seed them without a browser.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

import streamlit as st

from studio.backdrop_library import MAX_FILE_BYTES, MIN_SIDE
from studio.backdrop_match import Backdrop, BackdropError, Surface
from studio.scene_labels import PAINTING_PROVIDER_NAMES, scene_label
from studio.service import Studio
from ui.errors import error_text
from ui.i18n import choice_key, current_language, labeller, t
from ui.plain import plain
from ui.uploads import files_input

UPLOADS = "backdrops.upload"  # session_state: the photos waiting to be added
SELECTED = "backdrops.selected"  # session_state: the id being edited
FLASH = "backdrops.flash"  # session_state: [(kind, text)] shown after the rerun an action makes
_FLASH_SINCE = "backdrops.flash.since"  # session_state: when they were first shown (None: not yet)
# How long they stay: the editor's canvas reruns the page as it mounts, which used to wipe
# "Added 1 backdrop" before anyone could read it.
FLASH_SECONDS = 6.0
_UPLOAD_ROUND = "backdrops.upload.round"
_TAG_FILTER = "backdrops.tag_filter"
PER_ROW = 4
_SURFACE_RGB = "255,45,85"
SCENE_PAGE = "views/scene_background.py"
PROMPT_PAGE = "views/prompt_background.py"


# ------------------------------------------------------------------ the surface, drawn
def surface_figure_html(
    image: bytes, surface: Surface, caption: str = "", *, max_height: tuple[int, float] | None = None
) -> str:
    """The photo with its surface outlined over it (percentages of the picture, drawn by CSS).
    `max_height` = (pixels, the photo's width / height): a tall photo is shown no taller than that."""
    x0, y0, x1, y1 = (value * 100 for value in surface)
    mime = "image/png" if image[:4] == b"\x89PNG" else "image/jpeg"
    encoded = base64.b64encode(image).decode("ascii")
    box = f"left:{x0:.2f}%;width:{x1 - x0:.2f}%;top:{y0:.2f}%;"
    if y1 == y0:
        # A line: the product's base goes on it; ends marked so a short line is still seen.
        mark = (
            f'<div style="position:absolute;{box}height:0;border-top:4px solid rgb({_SURFACE_RGB});'
            'box-shadow:0 0 0 1px rgba(255,255,255,0.9);transform:translateY(-2px)"></div>'
            + "".join(
                f'<div style="position:absolute;left:{x:.2f}%;top:{y0:.2f}%;width:12px;height:12px;'
                f"margin:-6px 0 0 -6px;border-radius:50%;background:rgb({_SURFACE_RGB});"
                'border:2px solid #fff"></div>'
                for x in (x0, x1)
            )
        )
    else:
        mark = (
            f'<div style="position:absolute;{box}height:{y1 - y0:.2f}%;'
            f"border:3px solid rgb({_SURFACE_RGB});background:rgba({_SURFACE_RGB},0.22);"
            'box-sizing:border-box;box-shadow:0 0 0 1px rgba(255,255,255,0.9)"></div>'
        )
    limit = f"max-width:{max_height[0] * max_height[1]:.0f}px;" if max_height else ""
    figcaption = (
        '<figcaption style="font-size:0.875rem;opacity:0.65;text-align:center;padding-top:0.3rem">'
        f"{_escape(caption)}</figcaption>"
        if caption
        else ""
    )
    return (
        f'<figure style="margin:0 auto;{limit}"><div style="position:relative;line-height:0">'
        f'<img src="data:{mime};base64,{encoded}" style="width:100%;height:auto;display:block;'
        'border-radius:6px" alt=""/>'
        f"{mark}</div>{figcaption}</figure>"
    )


def show_surface(
    image: bytes, surface: Surface, caption: str = "", *, max_height: tuple[int, float] | None = None
) -> None:
    html = surface_figure_html(image, surface, caption, max_height=max_height)
    st.markdown(html, unsafe_allow_html=True)


def surface_text(surface: Surface) -> str:
    x0, y0, x1, y1 = (round(value * 100) for value in surface)
    if surface[1] == surface[3]:
        return t("backdrops.surface.line", y=y0, x0=x0, x1=x1)
    return t("backdrops.surface.box", x0=x0, x1=x1, y0=y0, y1=y1)


def flash() -> None:
    """The messages a previous action left for this run (added, saved, deleted, what failed)."""
    since = st.session_state.get(_FLASH_SINCE)
    now = time.monotonic()
    if isinstance(since, float) and now - since > FLASH_SECONDS:
        st.session_state.pop(FLASH, None)
        st.session_state.pop(_FLASH_SINCE, None)
        return
    messages = st.session_state.get(FLASH) or []
    if messages and since is None:
        st.session_state[_FLASH_SINCE] = now
    for kind, text in messages:
        if kind == "error":
            st.error(text, icon=":material/error:")
        else:
            st.success(text, icon=":material/check_circle:")


def say_later(text: str, kind: str = "success") -> None:
    # Messages already on screen make way for the news of the next action.
    shown = st.session_state.pop(_FLASH_SINCE, None) is not None
    earlier = [] if shown else list(st.session_state.get(FLASH) or [])
    st.session_state[FLASH] = [*earlier, (kind, text)]


def error_message(exc: BackdropError) -> str:
    return error_text(exc)


# ------------------------------------------------------------------ adding
def add_form(studio: Studio) -> None:
    """Upload one or more photos, a name and tags; adds them with the default surface to edit next."""
    round_ = int(st.session_state.get(_UPLOAD_ROUND, 0))
    files_input(
        t("backdrops.add.upload"),
        f"backdrops.upload.widget.{round_}",
        UPLOADS,
        help=t("backdrops.add.upload_help", min_side=MIN_SIDE, max_mb=MAX_FILE_BYTES // (1024 * 1024)),
    )
    uploads = pending_uploads()
    if uploads:
        st.caption(
            t("backdrops.add.ready", count=len(uploads), names=plain(", ".join(name for name, _ in uploads)))
        )
    name_column, tags_column = st.columns(2)
    # Keyed by the round too: after an add the fields start empty (a new widget), like the uploader.
    name = name_column.text_input(
        t("backdrops.add.name"),
        key=f"backdrops.add.name.{round_}",
        placeholder=t("backdrops.add.name_placeholder"),
        help=t("backdrops.add.name_help"),
    )
    tags = tags_column.text_input(
        t("backdrops.add.tags"),
        key=f"backdrops.add.tags.{round_}",
        placeholder=t("backdrops.add.tags_placeholder"),
        help=t("backdrops.add.tags_help"),
    )
    if st.button(
        t("backdrops.add.button"),
        type="primary",
        icon=":material/add_photo_alternate:",
        disabled=not uploads,
        key="backdrops.add.button",
    ):
        _add(studio, uploads, name.strip(), tags)
    if not uploads:
        st.caption(t("backdrops.add.no_file"))


def pending_uploads() -> list[tuple[str, bytes]]:
    raw = st.session_state.get(UPLOADS)
    if not isinstance(raw, list):
        return []
    return [
        (str(item.get("name") or "backdrop"), item["data"])
        for item in raw
        if isinstance(item, dict) and isinstance(item.get("data"), bytes)
    ]


def _add(studio: Studio, uploads: Sequence[tuple[str, bytes]], name: str, tags: str) -> None:
    added: list[Backdrop] = []
    problems: list[str] = []
    for number, (file_name, data) in enumerate(uploads, 1):
        title = (
            name if name and len(uploads) == 1 else f"{name} {number}" if name else PurePath(file_name).stem
        )
        try:
            added.append(studio.backdrops.add(data, name=title, tags=tags))
        except BackdropError as exc:
            problems.append(t("backdrops.add.failed", name=plain(file_name), message=error_message(exc)))
    for problem in problems:
        st.error(problem, icon=":material/error:")
    if not added:
        return
    st.session_state[SELECTED] = added[0].backdrop_id
    st.session_state.pop(UPLOADS, None)
    st.session_state[_UPLOAD_ROUND] = int(st.session_state.get(_UPLOAD_ROUND, 0)) + 1
    say_later(t("backdrops.add.done", count=len(added)))
    for problem in problems:
        say_later(problem, "error")
    st.rerun()


# ------------------------------------------------------------------ the gallery
def gallery(studio: Studio, entries: Sequence[Backdrop], selected: str | None) -> None:
    """Every backdrop as a card (photo with its surface, name, tags, Edit), filterable by tag."""
    if not entries:
        st.info(t("backdrops.empty"), icon=":material/photo_library:")
        return
    st.subheader(t("backdrops.gallery.heading", count=len(entries)))
    tags = sorted({tag for entry in entries for tag in entry.tags}, key=str.casefold)
    shown = list(entries)
    if tags:
        options = ["", *tags]
        wanted = st.selectbox(
            t("backdrops.gallery.filter"),
            options=options,
            format_func=labeller(options, lambda tag: tag or t("backdrops.gallery.all_tags")),
            key=choice_key(_TAG_FILTER, options, ""),
        )
        if wanted:
            shown = studio.backdrops.list(str(wanted))
    for start in range(0, len(shown), PER_ROW):
        for column, entry in zip(st.columns(PER_ROW), shown[start : start + PER_ROW], strict=False):
            with column, st.container(border=True, key=f"backdrop-card-{entry.backdrop_id}"):
                _card(studio, entry, selected=entry.backdrop_id == selected)


def _card(studio: Studio, entry: Backdrop, *, selected: bool) -> None:
    try:
        show_surface(studio.backdrops.thumbnail(entry), entry.surface)
    except BackdropError as exc:
        st.warning(error_message(exc), icon=":material/broken_image:")
    st.markdown(t("backdrops.gallery.name", name=plain(entry.name)))
    st.caption(
        t("backdrops.gallery.tags", tags=plain(", ".join(entry.tags)))
        if entry.tags
        else t("backdrops.gallery.no_tags")
    )
    st.button(
        t("backdrops.gallery.editing") if selected else t("backdrops.gallery.edit"),
        key=f"backdrops.pick.{entry.backdrop_id}",
        type="primary" if selected else "secondary",
        icon=":material/edit:",
        on_click=_select,
        args=(entry.backdrop_id,),
        width="stretch",
    )


def _select(backdrop_id: str) -> None:
    st.session_state[SELECTED] = backdrop_id


def use_links(entry: Backdrop) -> None:
    """Where the backdrop is used, as links: added is not the end of the way, a product goes on it."""
    st.markdown(t("first_hour_c.backdrops.use_title"))
    st.page_link(SCENE_PAGE, label=t("first_hour_c.backdrops.use_scene"), icon=":material/landscape:")
    prompt = (
        t("first_hour_c.backdrops.use_prompt", tag=plain(entry.tags[0]))
        if entry.tags
        else t("first_hour_c.backdrops.use_prompt_untagged")
    )
    st.page_link(PROMPT_PAGE, label=prompt, icon=":material/wallpaper:")


# ------------------------------------------------------------------ the prompt page
def backdrop_choice(studio: Studio, prefix: str, prompt: str) -> tuple[dict[str, Any], bool]:
    """The prompt page's "Backdrop: auto / none / <each>" and a line naming the one in use.

    Returns the job's option ({} for auto, the default: by tags; else {"backdrop_id": ...}) and
    whether one of the user's backdrops will be used."""
    entries = studio.backdrops.list()
    if not entries:
        st.caption(t("backdrops.prompt.empty"))
        return {}, False
    names = {entry.backdrop_id: entry.name for entry in entries}
    options = ["auto", "none", *names]
    chosen = st.selectbox(
        t("backdrops.prompt.label"),
        options=options,
        format_func=labeller(
            options,
            lambda value: t("backdrops.prompt.auto")
            if value == "auto"
            else t("backdrops.prompt.none")
            if value == "none"
            else names[value],
        ),
        key=choice_key(f"{prefix}.backdrop", options, "auto"),
        help=t("backdrops.prompt.help"),
    )
    if chosen == "none":
        st.caption(t("backdrops.prompt.off"))
        return {"backdrop_id": "none"}, False
    if chosen != "auto":
        st.caption(t("backdrops.prompt.chosen", name=plain(names.get(str(chosen), ""))))
        return {"backdrop_id": str(chosen)}, True
    match = studio.backdrops.match(prompt) if prompt.strip() else None
    if match is not None:
        st.caption(
            t(
                "backdrops.prompt.matched",
                name=plain(match.backdrop.name),
                tags=plain(", ".join(match.matched_tags)),
            )
        )
    else:
        tags = sorted({tag for entry in entries for tag in entry.tags}, key=str.casefold)
        st.caption(
            t("backdrops.prompt.no_match", tags=plain(", ".join(tags[:12])))
            if tags
            else t("backdrops.prompt.no_tags")
        )
    return {}, match is not None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def place_hint(place: str | None, backdrop_in_use: bool) -> None:
    """When the prompt names a place the local engine can only approximate (a kitchen, a beach)
    and none of the user's backdrops stands in for it, say so before they generate."""
    if place is None or backdrop_in_use:
        return
    st.info(
        t(
            "prompt.approximation",
            place=scene_label("place", place, current_language()),
            providers=" / ".join(PAINTING_PROVIDER_NAMES),
        ),
        icon=":material/home_work:",
    )
