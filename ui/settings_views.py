"""Settings page content: the engine status rows and the providers table.

`Studio.engine_status()` is a plain dict; this module turns the keys it knows
into labelled rows, so a key the page does not know yet is simply not shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from providers.base import Price
from studio.hosting_settings import HostingSettings
from studio.service import ConnectionReport, ProviderInfo, Studio
from ui.auth import current_person
from ui.formatting import provider_label, workflow_label
from ui.i18n import current_language, job_error_text, t, t_or
from ui.plain import plain

_TEST_RESULT = "settings.test.{key}"  # session_state: the last "test connection" report per provider


def status_mark(ok: bool) -> str:
    """A coloured Material icon (bundled with Streamlit, so it never renders as an empty box)."""
    return ":green[:material/check_circle:]" if ok else ":orange[:material/warning:]"


def engine_rows(status: Mapping[str, Any]) -> list[tuple[bool, str, str]]:
    """(ok, label, value) per fact: each cutout model, CJK font, data folder, database, worker."""
    models = [_model_row(item) for item in status.get("models") or [] if isinstance(item, Mapping)]
    font_path = str(status.get("cjk_font_path") or "")
    if status.get("cjk_font_found"):
        font = (True, t("settings.font"), t("settings.font_found", path=font_path))
    else:
        font = (False, t("settings.font"), t("settings.font_missing"))
    alive = bool(status.get("worker_alive"))
    worker = (
        alive,
        t("settings.worker"),
        t("settings.worker_alive") if alive else t("settings.worker_stopped"),
    )
    if not alive and status.get("app_worker") is False:
        worker = (True, t("settings.worker"), t("team.separate_workers"))
    rows = [*models, font]
    if status.get("data_dir"):
        rows.append((True, t("settings.data_dir"), t("settings.code", value=str(status["data_dir"]))))
    if status.get("file_storage"):
        rows.append((True, t("team.file_storage"), t("settings.code", value=str(status["file_storage"]))))
    if status.get("database"):
        rows.append((True, t("settings.database"), t("settings.code", value=str(status["database"]))))
    rows.append(worker)
    checks = status.get("checks")
    if isinstance(checks, Mapping):
        rows.append(_checks_row(checks))
    return rows


def _checks_row(checks: Mapping[str, Any]) -> tuple[bool, str, str]:
    """The output checks: off, or on with their thresholds and whether printed text is read."""
    label = t("settings.checks")
    if not checks.get("enabled"):
        return True, label, t("settings.checks_off")
    languages = list(checks.get("ocr_languages") or [])
    thresholds = t(
        "settings.checks_on",
        de=checks.get("colour_de"),
        shape=round(100 * float(checks.get("shape_change") or 0)),
        detail=round(100 * float(checks.get("detail_loss") or 0)),
        text=checks.get("text_similarity"),
    )
    if not checks.get("ocr"):
        return True, label, thresholds + " " + t("settings.checks_ocr_off")
    if not {"eng", "chi_sim"} <= set(languages):
        return False, label, thresholds + " " + t("settings.checks_ocr_missing")
    return True, label, thresholds + " " + t("settings.checks_ocr_on")


def _model_row(model: Mapping[str, Any]) -> tuple[bool, str, str]:
    """One cutout model: found (and the default?), missing or broken, with the fix."""
    name = str(model.get("model") or "")
    label = t("settings.model_row", model=t_or(f"cutmodel.{name}", name))
    facts = {"path": str(model.get("path") or ""), "model_key": name, "env": str(model.get("env") or "")}
    if model.get("error"):
        # The file is there but would not load: its cutouts fall back, so say why.
        return False, label, t("settings.model_error_fix", error=str(model["error"]), **facts)
    if not model.get("found"):
        return False, label, t("settings.model_missing_fix", **facts)
    key = "settings.model_ok_default" if model.get("default") else "settings.model_ok"
    return True, label, t(key, path=facts["path"])


def providers_frame(providers: Sequence[ProviderInfo]) -> pd.DataFrame:
    records = [
        {
            "provider": provider_label(info.key, providers),
            "key": info.key,
            "workflows": t("list.join").join(workflow_label(op) for op in sorted(info.operations)),
            "configured": info.configured,
            "missing": ", ".join(info.missing_env),
        }
        for info in providers
    ]
    return pd.DataFrame.from_records(
        records, columns=["provider", "key", "workflows", "configured", "missing"]
    )


def providers_column_config() -> dict[str, Any]:
    config = st.column_config
    return {
        "provider": config.TextColumn(t("settings.col.provider")),
        "key": config.TextColumn(t("settings.col.key")),
        "workflows": config.TextColumn(t("settings.col.workflows")),
        "configured": config.CheckboxColumn(t("settings.col.configured")),
        # Not drawn: the names are long and cut the table off at 1280 px; each card lists them whole.
        "missing": None,
    }


# A plausible per-image amount to show in "set a price" hints, by currency.
_EXAMPLE_PRICE = {"USD": "0.12", "CNY": "0.50"}


def price_text(info: ProviderInfo, operation: str, price: Price) -> str:
    """One line per operation: the price in force and where it comes from, or how to set one."""
    what = workflow_label(operation)
    if price.free:
        return t("settings.price_free", workflow=what)
    if price.per_image is None:
        setting = f"{info.key}_price_{operation}".upper()
        # The example in the currency the vendor bills in, at a plausible per-image amount.
        example = f"{_EXAMPLE_PRICE.get(info.billing_currency, '0.50')} {info.billing_currency}"
        return t("settings.price_unknown", workflow=what, setting=setting, example=example)
    amount = t("cost.amount", amount=price.per_image.as_str(), currency=price.per_image.currency)
    if current_language() != "en":
        # The vendor's price note is English; the date it was checked says enough.
        if price.as_of:
            return t("settings.price_known_checked", workflow=what, amount=amount, date=price.as_of)
        return t("settings.price_known_bare", workflow=what, amount=amount)
    source = price.source
    if price.as_of and price.as_of not in source:  # the note often names its date already
        source += f", {price.as_of}"
    return t("settings.price_known", workflow=what, amount=amount, source=source)


def provider_card(studio: Studio, info: ProviderInfo, providers: Sequence[ProviderInfo]) -> None:
    """Configured or missing, the endpoint in use, prices, and a "test connection" button."""
    with st.container(border=True, key=f"provider-card-{info.key}"):
        st.markdown(
            t(
                "settings.row_label",
                label=provider_label(info.key, providers),
                mark=status_mark(info.configured),
            )
        )
        if info.local:
            st.caption(t("settings.local_runs_here"))
        elif info.configured:
            st.markdown(t("settings.configured_endpoint", endpoint=info.endpoint or "-"))
            if info.options.get("trial", "").lower() in {"1", "true", "yes", "on"}:
                st.caption(t("settings.trial_on"))
        else:
            st.markdown(t("settings.missing_env", names=", ".join(f"`{name}`" for name in info.missing_env)))
            st.caption(t("settings.endpoint_default", endpoint=info.endpoint or "-"))
        for operation, price in info.prices.items():
            st.caption(price_text(info, str(operation), price))
        if info.can_check_connection:
            state_key = _TEST_RESULT.format(key=info.key)
            if st.button(
                t("settings.test_connection"),
                key=f"settings.test.button.{info.key}",
                icon=":material/network_check:",
                disabled=not info.configured,
                help=None if info.configured else t("settings.test_needs_keys"),
            ):
                with st.spinner(t("settings.testing", provider=info.label)):
                    st.session_state[state_key] = studio.test_connection(info.key, by=current_person().key)
            report = st.session_state.get(state_key)
            if isinstance(report, ConnectionReport):
                _show_report(report)


def _show_report(report: ConnectionReport) -> None:
    reference = t("settings.test_request_id", request_id=report.request_id) if report.request_id else ""
    if report.ok:
        # The vendor's "signed in" sentence is English too: the same lookup finds its translation.
        message = job_error_text(report.provider, "", report.message)
        st.success(
            t("settings.test_ok", message=plain(message), ms=report.elapsed_ms),
            icon=":material/check_circle:",
        )
    else:
        st.error(
            # The report keeps no code: the vendor's English sentence alone finds its translation.
            t(
                "settings.test_failed",
                message=plain(job_error_text(report.provider, "", report.message)),
                ms=report.elapsed_ms,
            )
            + reference,
            icon=":material/error:",
        )


_HOSTING_RESULT = "settings.hosting.result"


def hosting_text(hosting: HostingSettings | None) -> str:
    """Where inputs for link-only vendors go, in the interface language (no credentials)."""
    facts = hosting.summary() if hosting is not None else {"mode": "none"}
    if facts["mode"] == "none":
        return t("settings.hosting_none")
    if facts["mode"] == "folder":
        return t("settings.hosting_folder", folder=facts["folder"], url=facts["url"])
    default = t("settings.hosting_sdk_default")
    return t(
        "settings.hosting_s3",
        bucket=facts["bucket"],
        where=facts["endpoint"] or t("settings.hosting_on_aws"),
        region=facts["region"] or default,
        addressing=facts["addressing"] or default,
        prefix=facts["prefix"] or t("settings.hosting_bucket_root"),
        ttl=facts["ttl"],
    )


def hosting_card(studio: Studio, providers: Sequence[ProviderInfo]) -> None:
    """Where photos go for vendors that read them from links, the choices, and a test button."""
    needing = [provider_label(key, providers) for key in studio.providers_needing_links()]
    with st.container(border=True, key="hosting-card"):
        configured = studio.input_host is not None
        st.markdown(t("settings.row_label", label=t("settings.hosting_in_use"), mark=status_mark(configured)))
        st.markdown(hosting_text(studio.settings.hosting))
        if needing:
            st.caption(t("settings.hosting_needed_by", providers=", ".join(needing)))
        with st.expander(t("settings.hosting_choices"), expanded=not configured):
            st.markdown(t("settings.hosting_help"))
        if st.button(
            t("settings.hosting_test"),
            key="settings.hosting.test",
            icon=":material/cloud_sync:",
            disabled=not configured,
        ):
            with st.spinner(t("settings.hosting_testing")):
                st.session_state[_HOSTING_RESULT] = studio.test_hosting(by=current_person().key)
        report = st.session_state.get(_HOSTING_RESULT)
        if isinstance(report, ConnectionReport):
            _show_report(report)
