"""Prompts in English and Chinese map to the right backdrop; the doc is the code's own table."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from imaging.backdrops import BackdropKind, render_backdrop
from providers import local_vocabulary
from providers.local_vocabulary import (
    STOP_WORDS_EN,
    STOP_WORDS_ZH,
    VOCABULARY,
    PromptStyle,
    VocabEntry,
    interpret_prompt,
    vocabulary_table_markdown,
)

DOCUMENTED = (ast.Module, ast.FunctionDef, ast.ClassDef)
DOC = Path(__file__).resolve().parents[2] / "docs" / "local-vocabulary.md"
# Clearly distinct colours only: near neighbours (gold/caramel) may swap under variant jitter.
DISTINCT = (
    "white",
    "black",
    "red",
    "pink",
    "gold",
    "green",
    "mint",
    "blue",
    "navy",
    "lavender",
    "beige",
    "brown",
)
COLOURS = {entry.key: entry.effect.colors[0] for entry in VOCABULARY if entry.key in DISTINCT}


def _nearest_colour(rgb: tuple[int, int, int]) -> str:
    return min(COLOURS, key=lambda key: sum((a - b) ** 2 for a, b in zip(COLOURS[key], rgb, strict=True)))


def _read(prompt: str, seed: int = 1) -> PromptStyle:
    return interpret_prompt(prompt, seed)


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [
        ("marble", "marble"),
        ("大理石台面", "marble"),
        ("wooden table", "wood"),
        ("木纹", "wood"),
        ("walnut desk", "wood"),
        ("linen fabric", "linen"),
        ("亚麻布艺", "linen"),
        ("concrete wall", "concrete"),
        ("水泥", "concrete"),
        ("kraft paper", "paper"),
        ("牛皮纸", "paper"),
        ("studio", "sweep"),
        ("摄影棚", "sweep"),
        ("blue gradient", "linear"),
        ("渐变", "linear"),
        ("plain red", "solid"),
        ("纯色", "solid"),
        ("white background", "white"),
        ("白底", "white"),
        ("纯白背景", "white"),
        ("pure white marble", "white"),
        ("luxury", "marble"),
        ("spotlight", "radial"),
        ("red", "sweep"),
        ("red and gold", "linear"),
    ],
)
def test_prompts_choose_the_expected_backdrop(prompt: str, kind: str) -> None:
    assert _read(prompt).backdrop.kind == kind


@pytest.mark.parametrize(
    ("prompt", "colour"),
    [
        ("red studio", "red"),
        ("红色影棚", "red"),
        ("navy blue studio", "navy"),
        ("藏青", "navy"),
        ("mint", "mint"),
        ("薄荷绿", "mint"),
        ("lavender", "lavender"),
        ("薰衣草", "lavender"),
        ("beige", "beige"),
        ("米色", "beige"),
        ("black marble", "black"),
        ("黑色大理石", "black"),
        ("gold", "gold"),
        ("金色", "gold"),
    ],
)
def test_colour_words_set_the_palette_in_both_languages(prompt: str, colour: str) -> None:
    for seed in range(4):
        assert _nearest_colour(_read(prompt, seed).backdrop.colors[0]) == colour


def test_mixed_chinese_and_english_prompt() -> None:
    style = _read("白色大理石 luxury")
    assert style.backdrop.kind == "marble"
    assert style.used == ("白色", "大理石", "luxury")
    assert min(style.backdrop.colors[0]) > 215  # a white marble base
    assert style.compose.reflection > 0  # luxury suggests a polished surface
    assert style.unknown == ()
    assert "marble" in style.summary and "luxury" in style.summary


def test_used_words_are_reported_as_written() -> None:
    style = _read("Warm MARBLE, Soft Light")
    assert style.used == ("Warm", "MARBLE", "Soft Light")


def test_unknown_words_are_reported_and_stop_words_are_not() -> None:
    assert _read("a marble background with unicorns").unknown == ("unicorns",)
    assert _read("大理石 独角兽").unknown == ("独角兽",)
    chinese = _read("新品上市 夏季连衣裙 在海边的背景")
    assert "夏季" in chinese.used and "海边" in chinese.used
    assert chinese.unknown == ("新品上市", "连衣裙")


@pytest.mark.parametrize("prompt", ["", "   ", "qwerty asdf", "独角兽"])
def test_unknown_or_empty_prompts_fall_back_to_a_neutral_sweep(prompt: str) -> None:
    style = _read(prompt)
    assert style.backdrop.kind == "sweep"
    assert style.used == ()
    assert "neutral" in style.summary
    r, g, b = style.backdrop.colors[0]
    assert min(r, g, b) > 200 and max(r, g, b) - min(r, g, b) < 16


@pytest.mark.parametrize(
    "prompt",
    ["marble no shadow", "without shadows, wood", "不要阴影 大理石", "无阴影", "dramatic, shadowless"],
)
def test_negatives_switch_the_shadow_off(prompt: str) -> None:
    assert _read(prompt).compose.shadow.kind == "none"
    assert "no shadow" in _read(prompt).summary


@pytest.mark.parametrize("prompt", ["glossy without reflection", "镜面 无倒影", "tech matte", "大理石 哑光"])
def test_negatives_switch_the_reflection_off(prompt: str) -> None:
    assert _read(prompt).compose.reflection == 0.0


def test_positive_words_turn_effects_on() -> None:
    assert _read("glossy").compose.reflection > 0
    assert _read("倒影").compose.reflection > 0
    assert _read("drop shadow").compose.shadow.kind == "drop"
    assert _read("on a podium").compose.layout.vertical == "floor"
    assert _read("flat lay").compose.layout.vertical == "center"
    assert _read("hard light").compose.shadow.softness < _read("soft light").compose.shadow.softness


def test_moods_shift_the_palette() -> None:
    warm = np.array(_read("warm beige", 0).backdrop.colors[0], dtype=float)
    cool = np.array(_read("cool beige", 0).backdrop.colors[0], dtype=float)
    assert warm[0] - warm[2] > cool[0] - cool[2] + 10
    dark = np.mean(_read("dark red", 0).backdrop.colors)
    assert dark < np.mean(_read("red", 0).backdrop.colors) - 15


def test_same_prompt_and_seed_give_the_same_style() -> None:
    first, second = _read("pink gradient, soft light", 5), _read("pink gradient, soft light", 5)
    assert first.backdrop.colors == second.backdrop.colors
    assert first.backdrop.angle_deg == second.backdrop.angle_deg
    assert first.compose == second.compose
    a = render_backdrop(first.backdrop, (200, 200), 5)
    assert a.tobytes() == render_backdrop(second.backdrop, (200, 200), 5).tobytes()


@pytest.mark.parametrize("prompt", ["pink gradient", "beige studio", "marble", "新年喜庆", "ocean blue"])
def test_variants_differ_visibly_but_stay_in_the_palette(prompt: str) -> None:
    images = []
    for seed in (11, 12, 13):
        style = _read(prompt, seed)
        images.append(render_backdrop(style.backdrop, (240, 240), seed).astype(int))
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert np.abs(images[i] - images[j]).mean() > 4.0
    base = _read(prompt, 0).backdrop.colors
    for seed in range(1, 8):
        for original, varied in zip(base, _read(prompt, seed).backdrop.colors, strict=True):
            assert max(abs(a - b) for a, b in zip(original, varied, strict=True)) < 48


def test_white_background_stays_exactly_white_for_every_variant() -> None:
    for seed in range(5):
        style = _read("白底 产品图", seed)
        assert (render_backdrop(style.backdrop, (64, 64), seed) == 255).all()


# ----------------------------------------------------------------------------- the data itself


def _forms(entry: VocabEntry) -> list[str]:
    return [*entry.en, *entry.zh]


def test_every_entry_has_english_and_chinese_forms() -> None:
    for entry in VOCABULARY:
        assert entry.en and entry.zh, entry.key
        assert all(re.search(r"[\u4e00-\u9fff]", form) for form in entry.zh), entry.key


def test_vocabulary_covers_the_required_groups() -> None:
    counts: dict[str, int] = {}
    for entry in VOCABULARY:
        counts[entry.category] = counts.get(entry.category, 0) + 1
    assert counts["colour"] >= 20
    assert counts["material"] >= 5
    assert counts["mood"] >= 12
    assert counts["lighting"] >= 6
    assert counts["negative"] >= 2


def test_no_form_belongs_to_two_entries_or_is_a_stop_word() -> None:
    seen: dict[str, str] = {}
    for entry in VOCABULARY:
        for form in _forms(entry):
            key = form.lower()
            assert key not in seen, f"'{form}' is in both {seen.get(key)} and {entry.key}"
            seen[key] = entry.key
            assert key not in STOP_WORDS_EN and form not in STOP_WORDS_ZH


@pytest.mark.parametrize("entry", VOCABULARY, ids=lambda entry: entry.key)
def test_every_form_alone_is_read_as_its_entry(entry: VocabEntry) -> None:
    for form in _forms(entry):
        style = _read(form)
        assert style.used == (form,), f"'{form}' read as {style.used}"
        assert style.unknown == ()


def test_the_doc_matches_the_vocabulary() -> None:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        r"<!-- BEGIN GENERATED VOCABULARY -->\n(.*)<!-- END GENERATED VOCABULARY -->", text, re.S
    )
    assert match, "docs/local-vocabulary.md lost its generated-section markers"
    assert match.group(1) == vocabulary_table_markdown(), (
        "docs/local-vocabulary.md is out of date; regenerate the table as the doc describes"
    )
    for entry in VOCABULARY:
        assert f"| {entry.key} |" in text


def test_the_reading_is_offered_in_chinese_too() -> None:
    style = interpret_prompt("白色大理石 柔光", 0)
    assert "大理石背景" in style.summary_zh
    assert "marble backdrop" in style.summary
    assert not any("a" <= ch <= "z" for ch in style.summary_zh.lower()), style.summary_zh
    assert "没有识别到的词" in interpret_prompt("zzzz", 0).summary_zh


# --------------------------------------------------------------------------- the words are data
def test_the_words_live_in_data_not_in_the_module() -> None:
    # Every Chinese word the module shows comes from providers/data/; only the docs table header is code.
    tree = ast.parse(Path(local_vocabulary.__file__).read_text(encoding="utf-8"))
    chinese = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.search(r"[\u4e00-\u9fff]", node.value)
    }
    docstrings = {
        ast.get_docstring(node, clean=False) for node in ast.walk(tree) if isinstance(node, DOCUMENTED)
    }
    assert chinese - docstrings == {"| Entry | English | 中文 | Effect |", local_vocabulary._CJK_CHAR}


def test_every_backdrop_and_shadow_kind_is_named_in_both_languages() -> None:
    labels = local_vocabulary._LABELS
    for language in ("en", "zh"):
        assert set(labels["kind"][language]) == set(get_args(BackdropKind)), language
        assert set(labels["shadow"][language]) == set(get_args(local_vocabulary.ShadowKind)), language
    for group in ("pattern", "surface", "viewpoint"):
        tables = [set(table) for table in labels[group].values()]
        assert all(table == tables[-1] for table in tables), group


def template_params(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_phrases_match_between_languages() -> None:
    phrases = local_vocabulary._PHRASES
    assert set(phrases["en"]) == set(phrases["zh"])
    for key, english in phrases["en"].items():
        # A language may leave a detail out ("from the left"), never ask for one English does not give.
        assert template_params(phrases["zh"][key]) <= template_params(english), key


def test_stop_words_are_data_too() -> None:
    assert {"the", "background"} <= STOP_WORDS_EN and {"背景图", "的"} <= STOP_WORDS_ZH
