"""What the product check (issue 17) says about one image, as Review shows it: the badge, its
reasons in words, the flagged share per provider and who made an automatic decision.

The check (`studio.output_checks`) stores per output `check_flags` (None: not checked yet, ():
checked, nothing found) and `checks` with each reason as an i18n key and its params
(`fidelity.reason.colour_shift`, {"de": 9.1}). A reason is shown through that key; while the
fidelity table lacks it, through this feature's own `review_checks.reason.<flag>`, and at
worst as the flag in words, so a new flag never shows as a raw key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import streamlit as st

from studio.i18n import translate_strict
from studio.jobs import JobOutput
from studio.store_checks import CHECK_DECIDER
from ui.history_views import person_label
from ui.i18n import current_language, t, tkey
from ui.plain import plain

CheckState = Literal["checked", "flagged", "unchecked", "failed"]

# A badge's colour, icon, words and tooltip per state: quiet when the product is faithful, loud when
# it is not (a flagged badge's words are its reasons).
_LOOK: Mapping[CheckState, tuple[str, str, str, str]] = {
    "checked": ("gray", ":material/verified:", tkey("review_checks.badge.checked"), tkey("review_checks.badge.checked_help")),
    "flagged": ("orange", ":material/warning:", "", tkey("review_checks.badge.flagged_help")),
    "unchecked": ("gray", ":material/hourglass_empty:", tkey("review_checks.badge.unchecked"), tkey("review_checks.badge.unchecked_help")),
    "failed": ("violet", ":material/help:", tkey("review_checks.badge.failed"), tkey("review_checks.badge.failed_help")),
}  # fmt: skip
# Our own words per product flag: with its measures (while the fidelity table lacks the reason), and
# the flag alone (when the params do not fit).
_REASONS = {
    "colour_shift": (tkey("review_checks.reason.colour_shift"), tkey("review_checks.flag.colour_shift")),
    "shape_changed": (tkey("review_checks.reason.shape_changed"), tkey("review_checks.flag.shape_changed")),
    "detail_lost": (tkey("review_checks.reason.detail_lost"), tkey("review_checks.flag.detail_lost")),
    "text_changed": (tkey("review_checks.reason.text_changed"), tkey("review_checks.flag.text_changed")),
    "product_missing": (
        tkey("review_checks.reason.product_missing"),
        tkey("review_checks.flag.product_missing"),
    ),
}


def check_state(output: JobOutput) -> CheckState:
    """Where the output's product check stands."""
    if output.check_flags is None:
        return "unchecked"
    if output.flagged:
        return "flagged"
    if isinstance(output.checks, Mapping) and output.checks.get("error"):
        return "failed"
    return "checked"


def reason_texts(output: JobOutput) -> list[str]:
    """Each flag of the output in words with its measure ("colour shifted dE 9.1"), in flag order,
    as markdown (the values in it escaped)."""
    flags = output.check_flags or ()
    reasons = _reasons(output.checks)
    texts = []
    for flag in flags:
        reason = reasons.get(flag, {})
        params = reason.get("params") if isinstance(reason.get("params"), Mapping) else {}
        # Our templates are markdown; read label text (OCR) in the params is not.
        safe = {
            name: plain(value) if isinstance(value, str) else value for name, value in (params or {}).items()
        }
        texts.append(reason_text(flag, str(reason.get("key") or f"fidelity.reason.{flag}"), safe))
    return texts


def reason_text(flag: str, key: str, params: Mapping[str, Any]) -> str:
    language = current_language()
    ours, name = _REASONS.get(flag, ("", ""))
    for candidate in (key, ours):
        text = translate_strict(language, candidate, **params) if candidate else None
        if text is not None:
            return text
    return t(name) if name else flag.replace("_", " ")


def _reasons(checks: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """flag -> its reason record, from the stored check (a malformed record gives none)."""
    product = checks.get("product") if isinstance(checks, Mapping) else None
    found = product.get("reasons") if isinstance(product, Mapping) else None
    if not isinstance(found, list):
        return {}
    return {str(r["flag"]): r for r in found if isinstance(r, Mapping) and "flag" in r}


def badge_label(output: JobOutput) -> str:
    """The badge's words: the state, or for a flagged image its reasons."""
    state = check_state(output)
    if state == "flagged":
        return " · ".join(reason_texts(output))
    return t(_LOOK[state][2])


def check_badge(output: JobOutput) -> None:
    """The badge under an image: "Checked" (quiet), the reasons (warning), "Not checked yet", "Check failed"."""
    colour, icon, _, help_key = _LOOK[check_state(output)]
    st.badge(badge_label(output), icon=icon, color=colour, help=t(help_key))  # type: ignore[arg-type]


def share_text(counts: tuple[int, int] | None) -> str:
    """A provider's flagged share for the scoreboard: "2 of 12 flagged"."""
    if not counts or counts[1] == 0:
        return t("review_checks.share_unchecked")
    flagged, checked = counts
    return t("review_checks.share", flagged=flagged, checked=checked)


def decider_text(key: str | None) -> str:
    """Who decided: a person, or the product check for an automatic rejection."""
    if key == CHECK_DECIDER:
        return t("review_checks.decided_by_check")
    return t("people.decided_by", who=person_label(key))
