"""The scene catalogue: a category filter and a thumbnail grid with one selectable card per scene.

The chosen scene id lives in session_state (`scene.selected`); the chosen card
gets an outline through its container key, so it stays visible while scrolling.
Once a scene is chosen the grid folds away into one line (its thumbnail, its
name and "Change scene"), so the page's Generate button and the results come
into view instead of sitting below twenty cards (issue 18).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from providers.base import SceneInfo
from ui.i18n import choice_key, labeller, t, t_or
from ui.plain import plain

SELECTED_SCENE = "scene.selected"
SELECTED_INFO = "scene.selected_info"  # the chosen SceneInfo itself, for a vendor list that is not re-queried
PICKING = "scene.picking"  # True while the grid is open again after "Change scene"
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
    With a scene chosen from `scenes`, only its folded line is drawn.
    """
    if not scenes:
        st.info(t("scene.none"), icon=":material/info:")
        return None
    chosen = next((scene for scene in scenes if scene.scene_id == st.session_state.get(SELECTED_SCENE)), None)
    if chosen is not None and not st.session_state.get(PICKING):
        chosen_scene_bar(chosen)
        return chosen
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
    if selected_id is None:
        st.caption(t("first_hour.scene.pick_hint"))
    else:
        _keep_button(scenes, selected_id)
    _outline(selected_id)
    for start in range(0, len(shown), PER_ROW):
        for column, scene in zip(st.columns(PER_ROW), shown[start : start + PER_ROW], strict=False):
            with column:
                _card(scene, selected=scene.scene_id == selected_id)
    return next((scene for scene in scenes if scene.scene_id == selected_id), None)


def folded_choice() -> SceneInfo | None:
    """The chosen scene while the grid is folded (None while nothing is chosen or the grid is open)."""
    info = st.session_state.get(SELECTED_INFO)
    if st.session_state.get(PICKING) or not isinstance(info, SceneInfo):
        return None
    return info if info.scene_id == st.session_state.get(SELECTED_SCENE) else None


def chosen_scene_bar(scene: SceneInfo) -> None:
    """The folded catalogue: the chosen scene's thumbnail and name, and "Change scene"."""
    with st.container(border=True, key="scene-chosen"):
        picture, words, action = st.columns([1, 5, 2], vertical_alignment="center")
        with picture:
            if scene.thumbnail:
                st.image(scene.thumbnail, width="stretch")
            elif scene.thumbnail_url:
                st.image(scene.thumbnail_url, width="stretch")
        with words:
            st.markdown(t("scene.chosen", name=plain(scene_name(scene))))
            if scene.category:
                st.caption(plain(category_label(scene.category)))
            st.caption(t("first_hour.scene.chosen_caption"))
        with action:
            st.button(
                t("first_hour.scene.change"),
                key="scene.change",
                icon=":material/swap_horiz:",
                on_click=_open_grid,
                width="stretch",
            )


def _open_grid() -> None:
    st.session_state[PICKING] = True


def _fold() -> None:
    st.session_state[PICKING] = False


def _keep_button(scenes: Sequence[SceneInfo], selected_id: object) -> None:
    chosen = next((scene for scene in scenes if scene.scene_id == selected_id), None)
    if chosen is not None:
        st.button(
            t("first_hour.scene.done_picking", name=plain(scene_name(chosen))),
            key="scene.keep",
            icon=":material/unfold_less:",
            on_click=_fold,
        )


def _select(scene: SceneInfo) -> None:
    st.session_state[SELECTED_SCENE] = scene.scene_id
    st.session_state[SELECTED_INFO] = scene
    st.session_state[PICKING] = False


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
            args=(scene,),
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
