"""Settings page content: the engine status rows and the providers table.

`Studio.engine_status()` is a plain dict; this module turns the keys it knows
into labelled rows, so a key the page does not know yet is simply not shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from studio.service import ProviderInfo
from ui.formatting import provider_label, workflow_label
from ui.i18n import t


def status_mark(ok: bool) -> str:
    """A coloured Material icon (bundled with Streamlit, so it never renders as an empty box)."""
    return ":green[:material/check_circle:]" if ok else ":orange[:material/warning:]"


def engine_rows(status: Mapping[str, Any]) -> list[tuple[bool, str, str]]:
    """(ok, label, value) per fact: model, CJK font, data folder, database, worker."""
    model_path = str(status.get("model_path") or "")
    model_error = status.get("model_error")
    if model_error:
        # The file is there but would not load: the cutout quietly fell back, so say why.
        model = (
            False,
            t("settings.model"),
            t("settings.model_error", path=model_path, error=str(model_error)),
        )
    elif status.get("model_found"):
        model = (True, t("settings.model"), t("settings.model_found", path=model_path))
    else:
        model = (False, t("settings.model"), t("settings.model_missing", path=model_path))
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
    rows = [model, font]
    if status.get("data_dir"):
        rows.append((True, t("settings.data_dir"), t("settings.code", value=str(status["data_dir"]))))
    if status.get("database"):
        rows.append((True, t("settings.database"), t("settings.code", value=str(status["database"]))))
    rows.append(worker)
    return rows


def providers_frame(providers: Sequence[ProviderInfo]) -> pd.DataFrame:
    records = [
        {
            "provider": provider_label(info.key, providers),
            "key": info.key,
            "workflows": t("list.join").join(workflow_label(op) for op in sorted(info.operations)),
            "configured": info.configured,
            "missing": ", ".join(info.missing),
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
        "missing": config.TextColumn(t("settings.col.missing")),
    }
