"""Product titles: real CJK glyphs (no tofu), wrapping, fitting, readable colour, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imaging.text import TextError, draw_title, load_font, missing_glyphs, wrap_title

noto_cjk = pytest.importorskip("noto_cjk")
CJK_FONT = str(noto_cjk.otc_path("sans"))
SIMPLIFIED_CHINESE = 2  # face index in NotoSansCJK-Regular.ttc
TITLE_ZH = "新品上市 夏季连衣裙"


def _ink(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.abs(before.astype(int) - after.astype(int)).sum(axis=2) > 0


def test_cjk_font_has_real_glyphs_for_a_chinese_title() -> None:
    font = load_font(CJK_FONT, 48, SIMPLIFIED_CHINESE)
    assert missing_glyphs(font, TITLE_ZH) == ""


def test_missing_glyphs_detects_tofu() -> None:
    # Noto Sans CJK has no Thai: those characters fall back to the .notdef box.
    font = load_font(CJK_FONT, 48, SIMPLIFIED_CHINESE)
    assert missing_glyphs(font, "新品 กข") == "กข"


def test_fonts_load_from_bytes_and_paths() -> None:
    data = Path(CJK_FONT).read_bytes()
    from_bytes = load_font(data, 30, SIMPLIFIED_CHINESE)
    from_path = load_font(Path(CJK_FONT), 30, SIMPLIFIED_CHINESE)
    assert from_bytes.getbbox("夏") == from_path.getbbox("夏")


def test_bad_fonts_raise_a_clear_error() -> None:
    with pytest.raises(TextError, match="could not load"):
        load_font(b"not a font", 20)
    with pytest.raises(TextError, match="could not load"):
        load_font("/nonexistent/font.ttf", 20)
    with pytest.raises(TextError, match="at least 1 px"):
        load_font(CJK_FONT, 0)


def test_title_draws_chinese_at_the_top_only() -> None:
    image = np.full((600, 500, 3), 255, dtype=np.uint8)
    out = draw_title(image, TITLE_ZH, CJK_FONT)
    ink = _ink(image, out)
    rows = np.flatnonzero(ink.any(axis=1))
    assert ink.sum() > 500
    assert rows.max() < 600 * 0.3
    assert (image == 255).all(), "the input must not be modified"


def test_title_at_the_bottom_stays_at_the_bottom() -> None:
    image = np.full((600, 500, 3), 255, dtype=np.uint8)
    out = draw_title(image, "Summer dress", CJK_FONT, position="bottom")
    rows = np.flatnonzero(_ink(image, out).any(axis=1))
    assert rows.min() > 600 * 0.7


@pytest.mark.parametrize(
    ("background", "expect_light_text"),
    [((255, 255, 255), False), ((15, 20, 40), True), ((250, 220, 60), False)],
)
def test_colour_is_chosen_for_contrast(background: tuple[int, int, int], expect_light_text: bool) -> None:
    image = np.full((400, 400, 3), background, dtype=np.uint8)
    out = draw_title(image, TITLE_ZH, CJK_FONT)
    ink = _ink(image, out)
    strokes = out[ink].astype(float) @ np.array([0.299, 0.587, 0.114])
    if expect_light_text:
        assert np.percentile(strokes, 95) > 200
    else:
        assert np.percentile(strokes, 5) < 80


def test_busy_background_gets_a_band_behind_the_title() -> None:
    rng = np.random.default_rng(1)
    busy = rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)
    out = draw_title(busy, "Linen shirt", CJK_FONT)
    ink = _ink(busy, out)
    # A band changes whole rows edge to edge, not just the glyph strokes.
    full_rows = ink.all(axis=1)
    assert full_rows.sum() > 20


def test_long_titles_wrap_and_fit_inside_the_width() -> None:
    image = np.full((500, 400, 3), 255, dtype=np.uint8)
    long_en = "Lightweight summer linen dress with pockets, relaxed fit, natural colour"
    for text in (long_en, "轻奢大理石系列护肤套装限时特惠中，买二送一，全国包邮"):
        out = draw_title(image, text, CJK_FONT, max_width_frac=0.8)
        ink = _ink(image, out)
        cols = np.flatnonzero(ink.any(axis=0))
        assert cols.min() >= 400 * 0.1 - 2 and cols.max() <= 400 * 0.9 + 2
        rows = np.flatnonzero(ink.any(axis=1))
        gaps = np.flatnonzero(np.diff(rows) > 3)
        assert len(gaps) >= 1, "expected two lines"


def test_wrap_breaks_english_between_words_and_chinese_between_characters() -> None:
    font = load_font(CJK_FONT, 24, SIMPLIFIED_CHINESE)
    english = wrap_title("summer linen dress with pockets", font, 150)
    assert len(english) > 1
    assert " ".join(english) == "summer linen dress with pockets"
    for line in english:
        assert font.getlength(line) <= 150
    chinese = wrap_title("夏季新品连衣裙限时特惠", font, 100)
    assert "".join(chinese) == "夏季新品连衣裙限时特惠"
    assert all(font.getlength(line) <= 100 for line in chinese)


def test_closing_punctuation_never_starts_a_line() -> None:
    font = load_font(CJK_FONT, 24, SIMPLIFIED_CHINESE)
    text = "夏季新品，限时特惠。买二送一！全国包邮、七天无理由"
    for width in range(60, 200, 12):
        for line in wrap_title(text, font, width):
            assert line[0] not in "，。！、"


def test_empty_title_returns_an_unchanged_copy() -> None:
    image = np.full((50, 50, 3), 9, dtype=np.uint8)
    out = draw_title(image, "   ", CJK_FONT)
    assert np.array_equal(out, image) and out is not image


def test_bad_arguments_raise_clear_errors() -> None:
    image = np.zeros((50, 50, 3), dtype=np.uint8)
    with pytest.raises(TextError, match="RGB uint8"):
        draw_title(np.zeros((50, 50), dtype=np.uint8), "x", CJK_FONT)
    with pytest.raises(TextError, match="position"):
        draw_title(image, "x", CJK_FONT, position="middle")  # type: ignore[arg-type]
    with pytest.raises(TextError, match="max_width_frac"):
        draw_title(image, "x", CJK_FONT, max_width_frac=0)
