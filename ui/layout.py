"""The frame every page shares: headers, step headings, the provider picker, the generate
button and the sidebar (language, engine status, pending jobs).
"""

from __future__ import annotations

import streamlit as st

from providers.base import Operation
from studio.jobs import PENDING_STATUSES
from studio.service import Studio
from ui.auth import allowed, current_person, person_card, role_label
from ui.formatting import provider_label
from ui.i18n import choice_key, labeller, language_switch, t, t_or, tkey


def page_header(title_key: str, intro_key: str) -> None:
    """The page title and its one-line explanation."""
    st.title(t(title_key))
    st.caption(t(intro_key))


def step_heading(number: int, key: str) -> None:
    st.subheader(t("step.heading", number=number, title=t(key)))


def provider_picker(studio: Studio, operation: Operation, prefix: str) -> str | None:
    """Configured providers that offer `operation`; None (with a note) when there is none."""
    providers = studio.providers()
    usable = [info for info in providers if operation in info.operations and info.configured]
    if not usable:
        st.warning(t("provider.none_configured"), icon=":material/cloud_off:")
        return None
    chosen = st.selectbox(
        t("provider.label"),
        options=[info.key for info in usable],
        format_func=labeller([info.key for info in usable], lambda key: provider_label(key, providers)),
        key=choice_key(f"{prefix}.provider", [info.key for info in usable], usable[0].key),
        persist_state="session",
        help=t("provider.help"),
    )
    return str(chosen) if chosen else None


def generate_button(prefix: str, reason_key: str | None) -> bool:
    """The primary action; disabled with the reason shown when the inputs are not ready.

    It spends money, so it is disabled for a role without "create", and a click counts only
    when the role allows it (checked here, on the server, not only by the disabled button)."""
    if not allowed("create"):
        reason_key = tkey("auth.not_for_role")
    clicked = st.button(
        t("generate.button"),
        type="primary",
        icon=":material/auto_awesome:",
        disabled=reason_key is not None,
        key=f"{prefix}.generate",
        width="stretch",
    )
    if reason_key == "auth.not_for_role":
        st.caption(t(reason_key, role=role_label(current_person().role)))
    elif reason_key is not None:
        st.caption(t(reason_key))
    return clicked and reason_key is None and allowed("create")


def render_sidebar(studio: Studio) -> None:
    """Who is signed in (or how far the studio is open), language switch, how the local engine cuts
    out products here, and how many jobs are pending."""
    with st.sidebar:
        person_card()
        st.divider()
        language_switch(studio)
        st.divider()
        status = studio.engine_status()
        if status.get("cutout_method") == "model":
            model = str(status.get("cutout_model") or "u2netp")
            st.caption(t("sidebar.engine_model", model=t_or(f"cutmodel.{model}", model)))
        else:
            st.caption(t("sidebar.engine_classical"))
        counts = status.get("jobs_by_status") or {}
        pending = sum(int(counts.get(str(state), 0)) for state in PENDING_STATUSES)
        st.caption(t("sidebar.pending", count=pending) if pending else t("sidebar.no_pending"))
        if not studio.settings.app_worker:
            st.caption(t("team.separate_workers"), help=t("team.separate_workers_help"))
