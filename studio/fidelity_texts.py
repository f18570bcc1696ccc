"""The words of the product fidelity badge: a `ProductCheck` (imaging.fidelity) turned into the
badge's title, its one-word flags and its reason sentences, in the user's language.

The check itself is pure imaging and speaks in keys and params (`Reason.key`, `Reason.params`);
this module owns looking them up in studio/locales/fidelity.<language>.json, so a page only
draws what it gets here.
"""

from __future__ import annotations

from dataclasses import dataclass

from imaging.fidelity import ProductCheck
from studio.i18n import translate

# Spelled out (not built from the flag) so every key is findable in the code.
FLAG_KEYS = {
    "colour_shift": "fidelity.flag.colour_shift",
    "shape_changed": "fidelity.flag.shape_changed",
    "detail_lost": "fidelity.flag.detail_lost",
    "text_changed": "fidelity.flag.text_changed",
    "product_missing": "fidelity.flag.product_missing",
}
REASON_KEYS = {
    "colour_shift": "fidelity.reason.colour_shift",
    "shape_changed": "fidelity.reason.shape_changed",
    "detail_lost": "fidelity.reason.detail_lost",
    "text_changed": "fidelity.reason.text_changed",
    "product_missing": "fidelity.reason.product_missing",
}


@dataclass(frozen=True)
class BadgeText:
    title: str  # "Product unchanged" / "Product changed"
    help: str  # what was compared
    flags: tuple[str, ...]  # one short label per flag, in PRODUCT_FLAGS order
    reasons: tuple[str, ...]  # one sentence per flag, with its numbers
    note: str | None  # e.g. the text check was skipped (no tesseract)


def badge_text(check: ProductCheck, language: str) -> BadgeText:
    """The badge's words for `check` in `language` (English for an unknown language)."""
    title = translate(language, "fidelity.badge.changed" if check.flags else "fidelity.badge.faithful")
    reasons = tuple(
        translate(language, REASON_KEYS.get(reason.flag, reason.key), **dict(reason.params))
        for reason in check.reasons
    )
    note = None
    if check.measures.get("text_check") == "skipped" and "product_missing" not in check.flags:
        note = translate(language, "fidelity.text.skipped")
    return BadgeText(
        title=title,
        help=translate(language, "fidelity.badge.help"),
        flags=tuple(translate(language, FLAG_KEYS[flag]) for flag in check.flags if flag in FLAG_KEYS),
        reasons=reasons,
        note=note,
    )
