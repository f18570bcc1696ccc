"""A vendor's scene catalogue: filters, name search, "recommend for this product", the grid.

The catalogue comes from `Studio.list_scenes`, which caches each query for half
an hour, so moving around the page does not ask the vendor again. A vendor
failure is shown with its explanation and a retry, never a traceback.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import streamlit as st

from providers.base import SceneInfo
from providers.errors import ProviderError
from studio.service import ProviderInfo, Studio, StudioInputError
from ui.i18n import choice_key, error_text, labeller, t, t_or
from ui.plain import plain
from ui.scenes import chosen_scene_bar, folded_choice, scene_catalogue

RECOMMEND_STATE = "scene.vendor.recommend_for"  # the product title the list was recommended for
_SEARCH = "scene.vendor.search"
CHOSEN_FROM = "scene.vendor.chosen_from"  # which provider's catalogue the chosen scene came from


def vendor_scene_browser(studio: Studio, info: ProviderInfo, title: str) -> SceneInfo | None:
    """Draw the filters and the grid for `info`'s catalogue; returns the selected scene.

    Once a scene of this catalogue is chosen, filters and grid fold into its one line.
    """
    folded = folded_choice()
    if folded is not None and st.session_state.get(CHOSEN_FROM) == info.key:
        chosen_scene_bar(folded)
        return folded
    query: dict[str, str] = {}
    filters = list(info.scene_filters.items())
    columns = st.columns([2] * len(filters) + [3, 3], vertical_alignment="bottom")
    for column, (field, values) in zip(columns, filters, strict=False):
        options = ["", *values]
        label_of = functools.partial(_value_label, field, values=values)
        with column:
            chosen = st.selectbox(
                t_or(f"scene.filter.{field}", field),
                options=options,
                format_func=labeller(options, label_of),
                key=choice_key(f"scene.vendor.{info.key}.{field}", options, ""),
                persist_state="session",
            )
        if chosen:
            query[field] = str(chosen)
    with columns[len(filters)]:
        search = st.text_input(
            t("scene.search"), key=_SEARCH, persist_state="session", placeholder=t("scene.search_placeholder")
        )
    with columns[len(filters) + 1]:
        recommended_for = st.session_state.get(RECOMMEND_STATE)
        if recommended_for:
            st.button(
                t("scene.recommend_clear"), key="scene.vendor.recommend_clear", on_click=_clear_recommend
            )
        else:
            st.button(
                t("scene.recommend"),
                key="scene.vendor.recommend",
                icon=":material/recommend:",
                disabled=not title.strip(),
                help=t("scene.recommend_help"),
                on_click=_recommend,
                args=(title.strip(),),
            )
    if recommended_for:
        query["productTitle"] = str(recommended_for)
        st.caption(t("scene.recommended_for", title=plain(recommended_for)))
    try:
        scenes = studio.list_scenes(info.key, query)
    except ProviderError as exc:
        st.error(
            t("scene.catalogue_failed", provider=info.label, reason=plain(exc.user_message)),
            icon=":material/error:",
        )
        if st.button(t("scene.catalogue_retry"), key="scene.vendor.retry", icon=":material/refresh:"):
            studio.forget_scenes()
            st.rerun()
        return None
    except StudioInputError as exc:
        st.error(error_text(exc), icon=":material/error:")
        return None
    shown = [_translated(scene, info) for scene in _matching(scenes, search)]
    st.caption(t("scene.count", shown=len(shown), total=len(scenes)))
    if scenes and not shown:
        st.info(t("scene.no_match", search=plain(search)), icon=":material/search_off:")
        return None
    picked = scene_catalogue(shown, show_categories=False)
    if picked is not None:
        st.session_state[CHOSEN_FROM] = info.key
    return picked


def _value_label(field: str, value: str, values: dict[str, str] | object) -> str:
    if value == "":
        return t("scene.category.all")
    fallback = values.get(value, value) if isinstance(values, dict) else value
    return t_or(f"scene.filter.{field}.{value}", str(fallback))


def _translated(scene: SceneInfo, info: ProviderInfo) -> SceneInfo:
    """The vendor's category names in the page's language, through the filter vocabulary."""
    names = info.scene_filters.get("categoryType", {})
    by_label = {label: value for value, label in names.items()}
    parts = [part.strip() for part in scene.category.split(",") if part.strip()]
    translated = [
        t_or(f"scene.filter.categoryType.{by_label[part]}", part) if part in by_label else part
        for part in parts
    ]
    return dataclasses.replace(scene, category=t("list.join").join(translated))


def _matching(scenes: Sequence[SceneInfo], search: str) -> list[SceneInfo]:
    words = [word for word in search.lower().split() if word]
    if not words:
        return list(scenes)
    return [
        scene
        for scene in scenes
        if all(
            word in f"{scene.name} {scene.category} {scene.description} {scene.scene_id}".lower()
            for word in words
        )
    ]


def _recommend(title: str) -> None:
    st.session_state[RECOMMEND_STATE] = title


def _clear_recommend() -> None:
    st.session_state.pop(RECOMMEND_STATE, None)
