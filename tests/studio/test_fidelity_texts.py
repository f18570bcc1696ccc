"""The fidelity badge's words: every flag has its label and reason in both languages, with the
numbers the check measured."""

from __future__ import annotations

from imaging.fidelity import PRODUCT_FLAGS, ProductCheck, Reason
from studio.fidelity_texts import FLAG_KEYS, REASON_KEYS, badge_text


def _check(*reasons: Reason, text_check: str = "done") -> ProductCheck:
    return ProductCheck(
        flags=tuple(r.flag for r in reasons),
        reasons=reasons,
        measures={"text_check": text_check},
        seconds=0.1,
    )


def test_a_faithful_product_reads_unchanged_in_both_languages() -> None:
    assert badge_text(_check(), "en").title == "Product unchanged"
    assert badge_text(_check(), "zh").title == "商品未改变"
    assert badge_text(_check(), "en").reasons == ()


def test_every_flag_has_a_filled_reason_in_both_languages() -> None:
    params: dict[str, dict[str, float | int | str]] = {
        "colour_shift": {"de": 9.1},
        "shape_changed": {"grown": 12, "cut": 0},
        "detail_lost": {"percent": 64},
        "text_changed": {"before": "greentea", "after": "herbalmix", "similarity": 21},
        "product_missing": {"score": 8},
    }
    for flag in PRODUCT_FLAGS:
        check = _check(Reason(flag, f"fidelity.reason.{flag}", params[flag]))
        for language in ("en", "zh"):
            text = badge_text(check, language)
            assert text.title in ("Product changed", "商品有变化")
            assert len(text.flags) == 1 and "fidelity." not in text.flags[0]
            assert "{" not in text.reasons[0] and "fidelity." not in text.reasons[0]
            assert str(next(iter(params[flag].values()))) in text.reasons[0]
    assert "dE 9.1" in badge_text(_check(Reason("colour_shift", "k", {"de": 9.1})), "en").reasons[0]


def test_a_skipped_text_check_is_noted() -> None:
    assert badge_text(_check(text_check="skipped"), "zh").note is not None
    assert badge_text(_check(), "en").note is None


def test_every_flag_has_its_keys() -> None:
    assert set(FLAG_KEYS) == set(REASON_KEYS) == set(PRODUCT_FLAGS)
    assert all(REASON_KEYS[flag] == f"fidelity.reason.{flag}" for flag in PRODUCT_FLAGS)
