""" "Compare providers": the same input on several providers at once, results side by side.

Each column is one provider's job card (status while it runs; then its images,
time and cost), so "which vendor wins on this product" is one look. The job
ids live in the session; every job is also an ordinary job in History.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from providers.base import Operation
from studio.service import ComparisonEntry, JobRequest, ProviderInfo, Studio
from ui.auth import allowed, current_person
from ui.formatting import provider_label
from ui.i18n import choice_key, error_text, labeller, t, tkey
from ui.job_views import job_panel
from ui.next_steps import to_settings

# At most this many columns side by side; more would make each image too small to judge.
MAX_COMPARED = 4


def compare_section(
    studio: Studio,
    request: JobRequest | None,
    params_by_provider: Mapping[str, Mapping[str, Any]],
    workflow: Operation,
    prefix: str,
) -> None:
    """The expander with the provider choice and the button, then the comparison itself.

    `request` is the page's job as it stands (None until a photo is ready);
    `params_by_provider` carries the options the user set for the provider
    chosen above; the others run with their documented defaults.
    """
    state = f"{prefix}.compare.entries"
    providers = studio.providers()
    usable = [info for info in providers if workflow in info.operations and info.configured]
    with st.expander(
        t("compare.title"), icon=":material/compare:", expanded=bool(st.session_state.get(state))
    ):
        st.caption(t("compare.intro"))
        if len(usable) < 2:
            # Nothing to choose between: say what would make it work and where, not a disabled button.
            only = provider_label(usable[0].key, providers) if usable else "—"
            to_settings(
                tkey("first_hour.compare.only_one"),
                tkey("first_hour.compare.only_one_ask"),
                tkey("first_hour.compare.to_settings"),
                provider=only,
            )
        else:
            _picker(studio, request, params_by_provider, workflow, prefix, usable)
    saved = st.session_state.get(state) or []
    if saved:
        _comparison(studio, [ComparisonEntry(*item) for item in saved], providers, prefix)
        if st.button(t("compare.clear"), key=f"{prefix}.compare.clear", icon=":material/clear_all:"):
            st.session_state[state] = []
            st.rerun()


def _picker(
    studio: Studio,
    request: JobRequest | None,
    params_by_provider: Mapping[str, Mapping[str, Any]],
    workflow: Operation,
    prefix: str,
    usable: Sequence[ProviderInfo],
) -> None:
    """The provider choice and the Compare button (at least two providers are usable)."""
    state = f"{prefix}.compare.entries"
    providers = studio.providers()
    keys = [info.key for info in usable]
    chosen = st.multiselect(
        t("compare.pick"),
        options=keys,
        format_func=labeller(keys, lambda key: _option_label(key, usable)),
        key=choice_key(f"{prefix}.compare.providers", keys, keys[:MAX_COMPARED]),
        persist_state="session",
        max_selections=MAX_COMPARED,
    )
    blocked = [key for key in chosen if studio.needs_hosting(key, workflow)]
    for key in blocked:
        st.warning(t("hosting.needed", provider=provider_label(key, providers)), icon=":material/link_off:")
    if len(chosen) < 2:
        st.caption(t("compare.need_two"))
    elif request is None:
        st.caption(t("reason.no_photo"))
    clicked = st.button(
        t("compare.button", count=len(chosen)),
        icon=":material/compare:",
        disabled=request is None or len(chosen) < 2 or not allowed("create"),
        key=f"{prefix}.compare.run",
    )
    if clicked and request is not None and allowed("create"):
        entries = studio.submit_comparison(request, chosen, params_by_provider, by=current_person().key)
        st.session_state[state] = [(entry.provider, entry.job_id, entry.error) for entry in entries]


def _option_label(key: str, usable: Sequence[ProviderInfo]) -> str:
    return provider_label(key, usable)


def _comparison(
    studio: Studio, entries: list[ComparisonEntry], providers: Sequence[ProviderInfo], prefix: str
) -> None:
    st.subheader(t("compare.results"))
    columns = st.columns(len(entries), gap="small")
    for column, entry in zip(columns, entries, strict=True):
        with column:
            if entry.job_id is not None:
                job_panel(studio, entry.job_id, key_prefix=f"{prefix}.compare.{entry.provider}", per_row=1)
                continue
            with st.container(border=True):
                st.markdown(f"**{provider_label(entry.provider, providers)}**")
                message = error_text(entry.error) if entry.error else ""
                st.error(t("compare.refused", message=message), icon=":material/block:")
