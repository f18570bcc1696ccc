"""The product fidelity check (issue 17): the labelled set meets its targets at the default
thresholds, each flag fires on its change and only there, and bad input never crashes it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from imaging.fidelity import (
    DEFAULT_THRESHOLDS,
    PRODUCT_FLAGS,
    FidelityThresholds,
    ProductCheck,
    TextReader,
    check_product,
    model_segmenter,
)
from imaging.fidelity_colour import ciede2000
from imaging.fidelity_text import normalise_text
from tests.imaging.fidelity_set import (
    Case,
    ExactSegmenter,
    background,
    blur,
    bottle,
    fidelity_set,
    place,
    score,
    wrong,
)

ROOT = Path(__file__).resolve().parents[2]
SIZE = 400


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return fidelity_set(SIZE, quick=True)


@pytest.fixture(scope="module")
def checks(cases: list[Case]) -> list[ProductCheck]:
    segment = ExactSegmenter(cases)
    return [
        check_product(c.original, c.result, original_mask=c.original_mask, segment=segment) for c in cases
    ]


def _case(cases: list[Case], name: str) -> Case:
    return next(case for case in cases if case.name == name)


def _check(
    case: Case, read_text: TextReader | None = None, thresholds: FidelityThresholds = DEFAULT_THRESHOLDS
) -> ProductCheck:
    return check_product(
        case.original,
        case.result,
        original_mask=case.original_mask,
        segment=ExactSegmenter([case]),
        read_text=read_text,
        thresholds=thresholds,
    )


# ------------------------------------------------------------------ the labelled set


def test_labelled_subset_meets_the_targets(cases: list[Case], checks: list[ProductCheck]) -> None:
    # Text changes need OCR (tested below); every other case is judged here.
    judged = [(case, check) for case, check in zip(cases, checks, strict=True) if case.change != "text"]
    faithful = [(c, r) for c, r in judged if c.change in ("faithful", "relit", "moved")]
    assert len(faithful) >= 15
    assert [c.name for c, r in faithful if r.flags] == []
    scores = score([c for c, _ in judged], [r.flags for _, r in judged])
    for flag in ("colour_shift", "shape_changed", "detail_lost", "product_missing"):
        assert scores[flag].recall >= 0.9, (flag, scores[flag])
        assert scores[flag].precision >= 0.9, (flag, scores[flag])
    assert [c.name for c, r in judged if wrong(c, r.flags)] == []


def test_faithful_products_are_found_where_they_moved(cases: list[Case], checks: list[ProductCheck]) -> None:
    for case, check in zip(cases, checks, strict=True):
        if case.change == "moved":
            assert check.measures["aligned"] == 1
            assert check.measures["scale"] == pytest.approx(case.amount, rel=0.03), case.name


# ------------------------------------------------------------------ one test per flag


def test_colour_shift_is_flagged_with_its_de(cases: list[Case]) -> None:
    strong = _check(_case(cases, "mug/colour_8"))
    assert strong.flags == ("colour_shift",)
    assert strong.reasons[0].key == "fidelity.reason.colour_shift"
    assert float(strong.reasons[0].params["de"]) > 6
    assert _check(_case(cases, "mug/colour_2")).flags == ()


def test_relighting_within_the_harmonisation_range_is_not_a_colour_shift(cases: list[Case]) -> None:
    relit = _check(_case(cases, "tea_box/relit"))
    assert relit.flags == ()
    assert float(relit.measures["colour_de_raw"] or 0) > float(relit.measures["colour_de"] or 0)


def test_grown_and_cut_parts_change_the_shape(cases: list[Case]) -> None:
    grown = _check(_case(cases, "mug/grown_handle"))
    assert grown.flags == ("shape_changed",)
    assert float(grown.measures["shape_grown"] or 0) > 0.04
    cut = _check(_case(cases, "bottle/cut_corner"))
    assert cut.flags == ("shape_changed",)
    assert float(cut.measures["shape_cut"] or 0) > 0.05
    assert int(cut.reasons[0].params["cut"]) >= 5


def test_without_a_segmenter_the_shape_is_not_judged(cases: list[Case]) -> None:
    case = _case(cases, "bottle/cut_corner")
    check = check_product(case.original, case.result, original_mask=case.original_mask)
    assert check.measures["shape_grown"] is None and "shape_changed" not in check.flags


def test_smeared_detail_is_lost_but_a_light_blur_is_not(cases: list[Case]) -> None:
    smeared = _check(_case(cases, "shoe/blur_3"))
    assert smeared.flags == ("detail_lost",)
    assert float(smeared.measures["detail_loss"] or 0) > 0.4


def test_changed_label_text_is_flagged_with_a_reader(cases: list[Case]) -> None:
    case = _case(cases, "tea_box/text")
    original_height = int(np.ptp(np.nonzero(case.original_mask)[0]))

    def reader(crop: np.ndarray) -> str:
        # The original's crop is the one of the original product's height.
        return "GREEN TEA 20 BAGS" if abs(crop.shape[0] - original_height) <= 2 else "HERBAL MIX BERRY"

    check = _check(case, read_text=reader)
    assert "text_changed" in check.flags
    assert check.measures["text_check"] == "done"
    assert float(check.measures["text_similarity"] or 1) < 0.7
    same = _check(case, read_text=lambda crop: "GREEN TEA 20 BAGS")
    assert "text_changed" not in same.flags and same.measures["text_similarity"] == 1.0


def test_text_too_small_to_read_in_the_result_is_not_called_changed(cases: list[Case]) -> None:
    case = _case(cases, "tea_box/moved_0.55")
    original_height = int(np.ptp(np.nonzero(case.original_mask)[0]))

    def reader(crop: np.ndarray) -> str:
        # Like OCR: reads the label at full size, nothing once it is shrunk.
        return "GREEN TEA 20 BAGS" if crop.shape[0] >= 0.9 * original_height else ""

    check = _check(case, read_text=reader)
    assert check.flags == () and check.measures["text_check"] == "too_small"


def test_text_check_is_skipped_without_text_or_reader(cases: list[Case]) -> None:
    case = _case(cases, "mug/faithful")
    assert _check(case).measures["text_check"] == "skipped"
    assert _check(case, read_text=lambda crop: "a 1").measures["text_check"] == "no_text"
    # No text on the original: the result is not read at all (OCR is most of a check's time).
    crops: list[np.ndarray] = []

    def reader(crop: np.ndarray) -> str:
        crops.append(crop)
        return ""

    _check(case, read_text=reader)
    assert len(crops) == 1


def test_a_failing_reader_or_segmenter_never_fails_the_check(cases: list[Case]) -> None:
    case = _case(cases, "bottle/faithful")

    def broken(_: np.ndarray) -> str:
        raise RuntimeError("tesseract crashed")

    check = _check(case, read_text=broken)
    assert check.measures["text_check"] == "failed" and "crashed" in str(check.measures["text_error"])

    def broken_segmenter(_: np.ndarray) -> np.ndarray:
        raise RuntimeError("model missing")

    check = check_product(
        case.original, case.result, original_mask=case.original_mask, segment=broken_segmenter
    )
    assert check.flags == () and "model missing" in str(check.measures["segment_error"])


def test_background_only_is_product_missing(cases: list[Case]) -> None:
    check = _check(_case(cases, "jar/gone"))
    assert check.flags == ("product_missing",)
    assert [reason.flag for reason in check.reasons] == ["product_missing"]


def test_another_object_in_place_of_the_product_is_product_missing(cases: list[Case]) -> None:
    bottle = _case(cases, "bottle/faithful")
    mug = _case(cases, "mug/faithful")
    check = check_product(
        bottle.original, mug.result, original_mask=bottle.original_mask, segment=ExactSegmenter([mug])
    )
    assert check.flags == ("product_missing",)


# ------------------------------------------------------------------ inputs and outputs


def test_rgba_original_uses_its_alpha_and_grey_works(cases: list[Case]) -> None:
    case = _case(cases, "shoe/moved_0.55")
    rgba = np.dstack([case.original, case.original_mask])
    assert check_product(rgba, case.result, segment=ExactSegmenter([case])).flags == ()
    grey_original = cv2.cvtColor(case.original, cv2.COLOR_RGB2GRAY)
    grey_result = cv2.cvtColor(case.result, cv2.COLOR_RGB2GRAY)
    check = check_product(grey_original, grey_result, original_mask=case.original_mask)
    assert check.measures["aligned"] == 1


def test_without_mask_or_segmenter_the_studio_sweep_is_keyed_out(cases: list[Case]) -> None:
    case = _case(cases, "tea_box/faithful")
    check = check_product(case.original, case.result)
    assert check.flags == () and check.measures["aligned"] == 1


def test_empty_and_tiny_inputs_do_not_raise(cases: list[Case]) -> None:
    case = _case(cases, "mug/faithful")
    empty = check_product(
        case.original, case.result, original_mask=np.zeros(case.original.shape[:2], np.uint8)
    )
    assert empty.flags == () and empty.measures["status"] == "no_product"
    tiny = check_product(case.original, np.zeros((3, 3, 3), np.uint8), original_mask=case.original_mask)
    assert tiny.flags == ("product_missing",)
    dot = np.zeros(case.original.shape[:2], np.uint8)
    dot[200:203, 200:203] = 255
    assert check_product(case.original, case.result, original_mask=dot).measures["status"] == "no_product"
    flat = np.full((50, 60, 3), 128, np.uint8)
    assert check_product(flat, flat).measures["status"] == "no_product"


def test_random_images_of_any_size_never_raise() -> None:
    rng = np.random.default_rng(11)
    for _ in range(12):
        h1, w1, h2, w2 = (int(v) for v in rng.integers(2, 300, 4))
        original = rng.integers(0, 256, (h1, w1, int(rng.choice([3, 4]))), dtype=np.uint8)
        result = rng.integers(0, 256, (h2, w2, 3), dtype=np.uint8)
        mask = (rng.random((h1, w1)) > rng.random()).astype(np.uint8) * 255
        check = check_product(original, result, original_mask=mask, segment=lambda rgb: rgb[..., 0])
        assert set(check.flags) <= set(PRODUCT_FLAGS)
        json.dumps(check.as_json())


@pytest.mark.parametrize(
    ("original", "result", "kwargs", "message"),
    [
        (np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 3), np.uint8), {}, "original must be uint8"),
        (np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10, 5), np.uint8), {}, "result must be HxW"),
        (np.zeros((10, 10, 3), np.uint8), [[0]], {}, "result must be a numpy array"),
        (
            np.zeros((10, 10, 3), np.uint8),
            np.zeros((10, 10, 3), np.uint8),
            {"original_mask": np.zeros((5, 5), np.uint8)},
            "original_mask must be HxW 10x10",
        ),
        (np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10, 3), np.uint8), {"thresholds": {}}, "thresholds"),
    ],
)
def test_invalid_arguments_raise_a_clear_value_error(
    original: np.ndarray, result: np.ndarray, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_product(original, result, **kwargs)  # type: ignore[arg-type]


def test_as_json_is_json_safe_and_ordered(cases: list[Case]) -> None:
    check = _check(_case(cases, "bottle/blur_3"), thresholds=FidelityThresholds(colour_de=0.0))
    data = json.loads(json.dumps(check.as_json()))
    assert data["flags"] == [flag for flag in PRODUCT_FLAGS if flag in data["flags"]]
    assert data["flags"][:1] == ["colour_shift"] and "detail_lost" in data["flags"]
    assert {
        "colour_de",
        "colour_de_p90",
        "shape_grown",
        "shape_cut",
        "detail_loss",
        "scale",
        "offset_x",
    } <= set(data)
    assert [r["flag"] for r in data["reasons"]] == data["flags"]
    assert all(r["key"] == f"fidelity.reason.{r['flag']}" for r in data["reasons"])


def test_reason_texts_exist_in_both_languages_with_the_params_the_check_sends() -> None:
    locales = ROOT / "studio" / "locales"
    en = json.loads((locales / "fidelity.en.json").read_text(encoding="utf-8"))
    zh = json.loads((locales / "fidelity.zh.json").read_text(encoding="utf-8"))
    assert en.keys() == zh.keys()
    for flag in PRODUCT_FLAGS:
        assert f"fidelity.reason.{flag}" in en


def test_ciede2000_matches_sharmas_reference_pairs() -> None:
    pairs = [
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, 0, 0), (50, -1, 2), 2.3669),
        ((50, 2.49, -0.001), (50, -2.49, 0.0009), 7.1792),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ]
    first = np.array([p[0] for p in pairs], np.float64)
    second = np.array([p[1] for p in pairs], np.float64)
    assert ciede2000(first, second) == pytest.approx([p[2] for p in pairs], abs=1e-3)


def test_normalise_text_keeps_letters_digits_and_cjk() -> None:
    assert normalise_text("Green Tea — 20 bags!\n蜂蜜 柚子") == "greentea20bags蜂蜜柚子"


def test_check_time_at_1000_px_stays_under_half_a_second() -> None:
    rng = np.random.default_rng(1)
    product = bottle(550, ("OLIVE OIL", "EXTRA", "VIRGIN"))
    original, mask = place(product, np.full((1000, 1000, 3), 0.93, np.float32), 1.0, (500, 500), shadow=False)
    result, result_mask = place(product, background("table", 1000, rng), 0.8, (380, 520))
    check_product(original, result, original_mask=mask, segment=lambda rgb: result_mask)
    cpu = []
    for _ in range(3):
        # CPU time, not wall time: on a machine shared with other jobs the wall clock measures them.
        started = time.process_time()
        check = check_product(original, result, original_mask=mask, segment=lambda rgb: result_mask)
        cpu.append(time.process_time() - started)
        assert check.flags == ()
    # The target is 0.5 s of wall time on two cores; OpenCV's threads may add up to twice that in CPU.
    assert min(cpu) < 1.0


# ------------------------------------------------------------------ with the real model

U2NETP = ROOT / "models" / "u2netp.onnx"


@pytest.mark.skipif(
    not U2NETP.is_file(), reason="models/u2netp.onnx is missing (scripts/fetch_model.py u2netp)"
)
def test_with_the_u2netp_segmenter_faithful_passes_and_a_cut_is_found() -> None:
    from imaging.cutout import U2NetpSegmenter

    segment = model_segmenter(U2NetpSegmenter(U2NETP.read_bytes()))
    cases = fidelity_set(SIZE, products=("tea_box",), quick=True)
    faithful = _case(cases, "tea_box/moved_0.55")
    check = check_product(
        faithful.original, faithful.result, original_mask=faithful.original_mask, segment=segment
    )
    assert check.flags == (), check.measures
    cut = _case(cases, "tea_box/cut_corner")
    check = check_product(cut.original, cut.result, original_mask=cut.original_mask, segment=segment)
    assert "shape_changed" in check.flags, check.measures


def test_a_plain_product_on_a_busy_background_is_still_found() -> None:
    rng = np.random.default_rng(3)
    product = np.zeros((120, 80, 4), np.float32)
    product[..., :3] = (0.2, 0.3, 0.8)
    matte = np.zeros((120, 80), np.float32)
    cv2.ellipse(matte, (40, 60), (36, 56), 0, 0, 360, 1.0, -1)
    product[..., 3] = matte
    studio = np.full((300, 300, 3), 0.95, np.float32)
    original, mask = place(product, studio, 1.0, (150, 150), shadow=False)
    result, result_mask = place(blur(product, 0.5), background("texture", 300, rng), 0.7, (90, 200))
    check = check_product(original, result, original_mask=mask, segment=lambda rgb: result_mask)
    assert check.flags == (), check.measures
    assert check.measures["scale"] == pytest.approx(0.7, rel=0.05)
