"""The batch form's defaults people choose by sight: the scene (by name, with thumbnails) and the
number of images per product (a plain "Provider's default" choice instead of a magic 0).

The local engine's scenes are picked by name from its catalogue, the chosen one
shown as a thumbnail and the whole catalogue a click away. A vendor's scene ids
can still be typed (a manifest author copies them from the vendor's site); when
the user asks, the vendor's catalogue is loaded once and offers its names too.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from providers.base import Limits, Operation, SceneInfo
from providers.errors import ProviderError
from studio.service import ProviderInfo, Studio, StudioInputError
from ui.i18n import choice_key, current_language, error_text, labeller, t
from ui.plain import plain

NO_SCENE = ""  # rows without a scene keep the provider's default set
SCENE_PICK = "batch.scene_pick"  # the local engine's scene, chosen by name
SCENE_TYPED = "batch.scene"  # a vendor's scene id, typed or picked from its catalogue
VENDOR_LOOKUP = "batch.scene_lookup"
COUNT = "batch.count"
DEFAULT_COUNT = 0  # 0 stands for "the provider's default" inside the form only
ANY_COUNT = range(1, 11)  # when the provider's range is unknown (no provider chosen yet)
BROWSE_PER_ROW = 5
THUMB_PX = 140


def scene_default(studio: Studio, info: ProviderInfo | None) -> str | None:
    """The scene for rows that do not name one: picked by name (local engine) or typed/looked up (a
    vendor); None when the user leaves it to the provider."""
    if info is None or info.local:
        return _local_scene(studio.local_scenes(current_language()))
    return _vendor_scene(studio, info)


def count_default(limits: Limits | None = None) -> int | None:
    """Images per product for rows without a count, within what the provider makes per job (`limits`);
    None: the provider's default."""
    counts = [DEFAULT_COUNT, *(range(limits.min_count, limits.max_count + 1) if limits else ANY_COUNT)]
    count = st.selectbox(
        t("first_hour_b.count"),
        options=counts,
        format_func=labeller(counts, count_label),
        key=choice_key(COUNT, counts, DEFAULT_COUNT),
        help=t("first_hour_b.count_help"),
    )
    return int(count) if count else None


def count_limits(studio: Studio, provider: str | None, workflow: Operation) -> Limits | None:
    """What `provider` accepts for `workflow` (its images per job), None when it cannot say."""
    if provider is None:
        return None
    try:
        return studio.limits_for(provider, workflow)
    except StudioInputError:
        return None


def count_label(count: int) -> str:
    return t("first_hour_b.count_default") if count == DEFAULT_COUNT else str(count)


def _local_scene(scenes: Sequence[SceneInfo]) -> str | None:
    ids = [NO_SCENE, *(scene.scene_id for scene in scenes)]
    by_id = {scene.scene_id: scene for scene in scenes}
    key = choice_key(SCENE_PICK, ids, NO_SCENE)
    picker, thumb = st.columns([3, 1], vertical_alignment="center")
    with picker:
        chosen = st.selectbox(
            t("first_hour_b.scene"),
            options=ids,
            format_func=labeller(ids, lambda scene_id: _scene_name(by_id.get(scene_id))),
            key=key,
            help=t("first_hour_b.scene_help"),
        )
    scene = by_id.get(str(chosen or ""))
    with thumb:
        if scene is not None and scene.thumbnail:
            st.image(scene.thumbnail, width=THUMB_PX)
    if scenes:
        with st.expander(t("first_hour_b.scene_browse"), icon=":material/photo_library:"):
            _browse(scenes, key)
    return scene.scene_id if scene is not None else None


def _scene_name(scene: SceneInfo | None) -> str:
    return t("first_hour_b.scene_none") if scene is None else scene.name


def _browse(scenes: Sequence[SceneInfo], key: str) -> None:
    """Every scene as a thumbnail with its name and a "Use" button that sets the picker above."""
    for start in range(0, len(scenes), BROWSE_PER_ROW):
        row = scenes[start : start + BROWSE_PER_ROW]
        for column, scene in zip(st.columns(BROWSE_PER_ROW), row, strict=False):
            with column:
                if scene.thumbnail:
                    st.image(scene.thumbnail, width="stretch")
                elif scene.thumbnail_url:
                    st.image(scene.thumbnail_url, width="stretch")
                st.caption(plain(scene.name))
                st.button(
                    t("first_hour_b.scene_use"),
                    key=f"batch.scene_use.{scene.scene_id}",
                    on_click=_set,
                    args=(key, scene.scene_id),
                    width="stretch",
                )


def _set(key: str, value: str) -> None:
    st.session_state[key] = value


def _vendor_scene(studio: Studio, info: ProviderInfo) -> str | None:
    typed = st.text_input(
        t("first_hour_b.scene_id", provider=info.label),
        key=SCENE_TYPED,
        help=t("first_hour_b.scene_id_help"),
    )
    scene_id = typed.strip()
    if info.can_list_scenes and st.toggle(t("first_hour_b.scene_lookup"), key=VENDOR_LOOKUP):
        scenes = _vendor_catalogue(studio, info)
        by_id = {scene.scene_id: scene for scene in scenes}
        if scenes:
            ids = [NO_SCENE, *by_id]
            st.selectbox(
                t("first_hour_b.scene"),
                options=ids,
                format_func=labeller(ids, lambda value: _scene_name(by_id.get(value))),
                index=ids.index(scene_id) if scene_id in by_id else 0,
                key=f"batch.scene_vendor.{info.key}",
                on_change=_copy_vendor_choice,
                args=(f"batch.scene_vendor.{info.key}",),
            )
        known = by_id.get(scene_id)
        if known is not None:
            st.caption(t("first_hour_b.scene_known", name=plain(known.name)))
            picture = known.thumbnail or known.thumbnail_url
            if picture:
                st.image(picture, width=THUMB_PX)
    return scene_id or None


def _copy_vendor_choice(widget: str) -> None:
    st.session_state[SCENE_TYPED] = str(st.session_state.get(widget) or "")


def _vendor_catalogue(studio: Studio, info: ProviderInfo) -> list[SceneInfo]:
    """The vendor's scenes (cached by the studio half an hour); a clear message instead when it fails."""
    try:
        return studio.list_scenes(info.key)
    except ProviderError as exc:
        reason = plain(exc.user_message)
        st.warning(
            t("scene.catalogue_failed", provider=info.label, reason=reason), icon=":material/cloud_off:"
        )
    except StudioInputError as exc:
        st.warning(error_text(exc), icon=":material/cloud_off:")
    return []
