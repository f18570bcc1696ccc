"""The scene catalogue: a category filter and a thumbnail grid with one selectable card per scene.

The chosen scene id lives in session_state (`scene.selected`); the chosen card
gets an outline through its container key, so it stays visible while scrolling.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from providers.base import SceneInfo
from ui.i18n import choice_key, labeller, t, t_or
from ui.plain import plain

SELECTED_SCENE = "scene.selected"
_CATEGORY_WIDGET = "scene.category"
PER_ROW = 4


def scene_name(scene: SceneInfo) -> str:
    # The catalogue is asked for names in the session's language (`local_scenes(language)`).
    return scene.name


def category_label(category: str) -> str:
    return t("scene.category.all") if category == "" else t_or(f"scene.category.{category}", category.title())


def scene_catalogue(scenes: Sequence[SceneInfo], *, show_categories: bool = True) -> SceneInfo | None:
    """Draw the grid; returns the selected scene (None until the user picks one).

    `show_categories=False` when the caller filters already (a vendor catalogue's own filters).
    """
    if not scenes:
        st.info(t("scene.none"), icon=":material/info:")
        return None
    category = None
    if show_categories:
        categories = [""] + sorted({scene.category for scene in scenes if scene.category})
        category = st.segmented_control(
            t("scene.category.label"),
            options=categories,
            format_func=labeller(categories, lambda category: plain(category_label(category))),
            key=choice_key(_CATEGORY_WIDGET, categories, ""),
            persist_state="session",
        )
    shown = [scene for scene in scenes if not category or scene.category == category]
    selected_id = st.session_state.get(SELECTED_SCENE)
    _outline(selected_id)
    for start in range(0, len(shown), PER_ROW):
        for column, scene in zip(st.columns(PER_ROW), shown[start : start + PER_ROW], strict=False):
            with column:
                _card(scene, selected=scene.scene_id == selected_id)
    return next((scene for scene in scenes if scene.scene_id == selected_id), None)


def _select(scene_id: str) -> None:
    st.session_state[SELECTED_SCENE] = scene_id


def _card(scene: SceneInfo, *, selected: bool) -> None:
    with st.container(border=True, key=f"scene-card-{scene.scene_id}"):
        if scene.thumbnail:
            st.image(scene.thumbnail, width="stretch")
        elif scene.thumbnail_url:
            st.image(scene.thumbnail_url, width="stretch")
        st.markdown(t("scene.card_title", name=plain(scene_name(scene))))
        if scene.category:
            st.caption(plain(category_label(scene.category)))
        st.button(
            t("scene.selected") if selected else t("scene.select"),
            key=f"scene.pick.{scene.scene_id}",
            type="primary" if selected else "secondary",
            icon=":material/check_circle:" if selected else None,
            on_click=_select,
            args=(scene.scene_id,),
            width="stretch",
        )


def _outline(scene_id: object) -> None:
    if not isinstance(scene_id, str) or not scene_id:
        return
    # Containers with a key carry the class st-key-<key>; outline the chosen card in the theme colour.
    css = (
        f"<style>.st-key-scene-card-{_css_ident(scene_id)}"
        "{outline:2px solid var(--primary-color, #2F5D8A);outline-offset:-1px;"
        "background:rgba(47,93,138,0.06)}</style>"
    )
    # A style-only st.html block is applied without taking space on the page.
    st.html(css)


def _css_ident(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "\\" + ch for ch in text)
