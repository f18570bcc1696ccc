"""The string table is complete in both languages and the pages use nothing but it.

An `ast` scan of app.py, views/ and ui/ checks that every key the code names
exists, and that no bare English sentence reaches a Streamlit display call; a
scan of all our code checks the other way round, that every key is used.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import studio.i18n
from providers.base import Operation
from studio.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    PLURAL_CATEGORIES,
    PLURALS,
    STRINGS,
    feature_tables,
    has_key,
    normalise_language,
    sources,
    template_params,
    translate,
    translate_plural,
    translate_strict,
)
from studio.jobs import PENDING_STATUSES, JobStatus
from ui.controls import PROMPT_SIZES, SCENE_SIZES, SHADOW_KINDS

ROOT = Path(__file__).resolve().parents[1]
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]

# Streamlit calls (also on columns, containers and st.sidebar) whose text a user reads.
DISPLAY_CALLS = {
    "title", "header", "subheader", "markdown", "caption", "button", "info", "warning", "error",
    "success", "selectbox", "radio", "slider", "text_input", "file_uploader", "expander", "tabs",
    "download_button", "checkbox", "number_input", "toggle", "select_slider", "multiselect",
    "date_input", "text_area", "page_link", "status", "spinner", "toast", "badge", "segmented_control",
    "pills", "metric", "write", "text", "Page", "TextColumn", "NumberColumn", "DatetimeColumn",
    "ImageColumn", "CheckboxColumn", "bar_chart",
}  # fmt: skip
TEXT_KEYWORDS = {"label", "body", "help", "placeholder", "caption", "text", "title", "x_label", "y_label"}
KEY_FUNCTIONS = {"t", "t_or", "tkey", "tn"}
ERROR_CODES = (
    "empty", "corrupt", "unsupported_format", "too_many_pixels", "too_small", "too_large",
    "mask_size_mismatch", "mask_empty", "mask_full", "mask_corrupt", "bad_size", "bad_count",
    "bad_param", "unsupported_workflow", "unknown_provider", "scene_not_found",
)  # fmt: skip
_LETTERS = re.compile(r"[A-Za-z\u4e00-\u9fff]")
_PAGE_FILE = re.compile(r"^[\w/.-]+\.py$")  # st.Page / st.page_link targets are paths, not text


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _is_log_call(node: ast.Call) -> bool:
    """`logger.warning(...)` writes to the operator's log, in English, not to the page."""
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in {"logger", "logging"}
    )


def key_uses(source: str) -> tuple[set[str], set[str]]:
    """Literal keys, and the constant prefixes of f-string keys, passed to t / t_or / tkey."""
    literal: set[str] = set()
    prefixes: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _call_name(node) in KEY_FUNCTIONS and node.args):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            literal.add(first.value)
        elif isinstance(first, ast.JoinedStr) and first.values:
            head = first.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                prefixes.add(head.value)
    return literal, prefixes


def bare_texts(source: str) -> list[str]:
    """String literals with letters handed straight to a display call (not through t())."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _call_name(node) in DISPLAY_CALLS) or _is_log_call(node):
            continue
        candidates = list(node.args) + [kw.value for kw in node.keywords if kw.arg in TEXT_KEYWORDS]
        for arg in candidates:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if _LETTERS.search(arg.value) and not _PAGE_FILE.match(arg.value):
                    found.append(f"line {node.lineno}: {arg.value!r}")
            elif isinstance(arg, ast.JoinedStr):
                text = "".join(
                    v.value for v in arg.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
                )
                if _LETTERS.search(text):
                    found.append(f"line {node.lineno}: f-string {text!r}")
    return found


# ------------------------------------------------------------------ the table
def test_both_languages_have_exactly_the_same_keys() -> None:
    assert set(LANGUAGES) == set(STRINGS)
    english = set(STRINGS["en"])
    for language, table in STRINGS.items():
        assert sorted(english - set(table)) == [], f"{language} lacks these keys"
        assert sorted(set(table) - english) == [], f"{language} has keys English lacks"


@pytest.mark.parametrize("key", sorted(STRINGS["en"]))
def test_every_translation_uses_the_same_params(key: str) -> None:
    expected = template_params(STRINGS["en"][key])
    for language, table in STRINGS.items():
        assert template_params(table[key]) == expected, f"{language}:{key}"
        assert table[key].strip(), f"{language}:{key} is empty"


def test_chinese_entries_are_translated_not_copied() -> None:
    # An entry with English words must have Chinese in its zh version (code and placeholders aside).
    untranslated = []
    for key, english in STRINGS["en"].items():
        words = re.sub(r"`[^`]*`|\{[^}]*\}|%\.\d?f", "", english)
        if re.search(r"[A-Za-z]{2,}", words) and not re.search(r"[\u4e00-\u9fff]", STRINGS["zh"][key]):
            untranslated.append(key)
    assert untranslated == []


def test_translate_fills_params_and_falls_back() -> None:
    assert translate("zh", "sidebar.pending", count=3) == "3 个任务进行中"
    assert translate("en", "sidebar.pending", count=3) == "3 jobs running"
    # An unknown language reads English; an unknown key reads as itself rather than crashing.
    assert translate("fr", "generate.button") == STRINGS["en"]["generate.button"]
    assert translate("zh", "no.such.key") == "no.such.key"
    # Missing params leave the template as written instead of raising on the page.
    assert translate("en", "sidebar.pending") == STRINGS["en"]["sidebar.pending"]
    assert translate_strict("en", "sidebar.pending") is None
    assert translate_strict("zh", "error.too_many_pixels", pixels=50_000_000, max_pixels=40_000_000) == (
        "图片像素过多（50,000,000 像素，上限为 40,000,000）。请缩小尺寸（例如 6000 × 6000 以内）后重新上传。"
    )


def test_translate_falls_back_to_english_when_a_language_lacks_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STRINGS, "zh", {k: v for k, v in STRINGS["zh"].items() if k != "generate.button"})
    assert translate("zh", "generate.button") == "Generate"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("en", "en"),
        ("zh", "zh"),
        ("zh-CN", "zh"),
        ("zh_Hans", "zh"),
        ("EN", "en"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_language(raw: object, expected: str | None) -> None:
    assert normalise_language(raw) == expected


# ------------------------------------------------------------- key families
def test_dynamic_key_families_are_complete() -> None:
    needed = [f"status.{status.value}" for status in JobStatus]
    needed += [f"workflow.{operation.value}" for operation in Operation]
    needed += [f"job.pending.{status.value}" for status in PENDING_STATUSES]
    needed += [f"error.{code}" for code in ERROR_CODES]
    needed += [f"method.{method}" for method in ("alpha", "mask", "model", "classical")]
    needed += [f"shadow.{kind}" for kind in SHADOW_KINDS if kind != "auto"]
    needed += [f"layout.{mode}" for mode in ("keep", "center")]
    needed += [f"mask.mode.{mode}" for mode in ("auto", "upload")]
    needed += [f"size.{code}" for code in (*PROMPT_SIZES, *SCENE_SIZES) if code in ("keep", "custom")]
    needed += [f"note.{note}" for note in ("exif_rotated", "converted_from_cmyk", "reduced_from_16_bit")]
    needed += [
        f"scene.category.{c}" for c in ("all", "studio", "home", "nature", "luxury", "festive", "tech")
    ]
    assert [key for key in needed if not has_key(key)] == []


def test_error_templates_use_the_params_the_imaging_errors_carry() -> None:
    expected = {
        "error.unsupported_format": {"format"},
        "error.too_many_pixels": {"pixels", "max_pixels"},
        "error.too_small": {"width", "height", "min_side"},
        "error.too_large": {"width", "height", "max_side"},
        "error.mask_size_mismatch": {"mask_w", "mask_h", "image_w", "image_h"},
    }
    for key, params in expected.items():
        assert template_params(STRINGS["en"][key]) == params, key


# ------------------------------------------------------------- the code scan
@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_key_the_code_names_exists(path: Path) -> None:
    literal, prefixes = key_uses(path.read_text(encoding="utf-8"))
    assert sorted(key for key in literal if not has_key(key)) == []
    english = STRINGS[DEFAULT_LANGUAGE]
    assert sorted(p for p in prefixes if not any(key.startswith(p) for key in english)) == []


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_bare_text_reaches_a_display_call(path: Path) -> None:
    assert bare_texts(path.read_text(encoding="utf-8")) == []


def test_the_scanner_catches_bare_text_and_unknown_keys() -> None:
    # Guard against a checker that passes everything.
    source = (
        'st.button("Generate")\ncol.caption(f"Done in {n} s")\nst.slider(label="Fill")\nt("no.such.key")\n'
    )
    assert len(bare_texts(source)) == 3
    assert bare_texts('st.button(t("generate.button"))\nst.slider(t("layout.fill"), format="%d%%")\n') == []
    assert key_uses(source)[0] == {"no.such.key"}


def test_the_scan_covers_every_page() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in UI_FILES}
    assert {"app.py", "views/prompt_background.py", "views/history.py", "ui/job_views.py"} <= names


# ------------------------------------------------------------- plural forms
def test_plural_texts_take_the_form_for_the_count() -> None:
    assert translate("en", "sidebar.pending", count=1) == "1 job running"
    assert translate("en", "sidebar.pending", count=0) == "0 jobs running"
    assert translate_plural("en", "sidebar.pending", 2) == "2 jobs running"
    assert translate("zh", "sidebar.pending", count=1) == "1 个任务进行中"
    heading = translate("en", "job.heading", workflow="Scene", provider="Local", count=1, short_id="ab12")
    assert heading == "**Scene** · Local · 1 variant · `#ab12`"
    # Without a count (or with a count that is not a whole 1) the text reads as the `other` form.
    assert STRINGS["en"]["sidebar.pending"] == "{count} jobs running"
    assert translate("en", "sidebar.pending", count=1.5) == "1.5 jobs running"


def test_plural_forms_are_complete_and_use_the_same_params() -> None:
    assert PLURALS["en"], "English has plural texts"
    for language, plurals in PLURALS.items():
        for key, forms in plurals.items():
            assert set(forms) <= set(PLURAL_CATEGORIES) and "other" in forms, f"{language}:{key}"
            # English tells one from other; a language with a single form writes a plain string.
            if language == "en":
                assert set(forms) == {"one", "other"}, key
            assert STRINGS[language][key] == forms["other"]
            assert "count" in template_params(forms["other"]), f"{language}:{key} counts nothing"
            for form, text in forms.items():
                assert template_params(text) == template_params(STRINGS["en"][key]), (
                    f"{language}:{key}:{form}"
                )
    # A plural text in one language is a known key in every language.
    for key in {key for plurals in PLURALS.values() for key in plurals}:
        assert all(key in STRINGS[language] for language in LANGUAGES), key


# ------------------------------------------------------------ where words live
def test_no_key_is_defined_in_two_places() -> None:
    for language in LANGUAGES:
        seen: dict[str, str] = {}
        twice = []
        for source, table in sources(language).items():
            twice += [f"{key} ({seen[key]}, {source})" for key in table if key in seen]
            seen.update(dict.fromkeys(table, source))
        assert twice == [], language


def test_every_feature_table_is_picked_up_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gadgets.en.json").write_text('{"gadgets.title": "Gadgets"}', encoding="utf-8")
    (tmp_path / "gadgets.zh.json").write_text('{"gadgets.title": "小工具"}', encoding="utf-8")
    (tmp_path / "vendor_errors.zh.json").write_text('{"aidge": {"500": "x"}}', encoding="utf-8")
    monkeypatch.setattr(studio.i18n, "LOCALES", tmp_path)
    assert feature_tables("en") == {"gadgets": {"gadgets.title": "Gadgets"}}
    assert feature_tables("zh") == {"gadgets": {"gadgets.title": "小工具"}}
    # And the real ones are all there.
    monkeypatch.undo()
    assert {"backdrops", "scenes"} <= set(feature_tables("en")) == set(feature_tables("zh"))


# ------------------------------------------------------------- unused keys
# Keys the code builds at run time, `f"status.{job.status}"`: every key under these prefixes counts as
# used. Each prefix must still be built somewhere (test below), so the list cannot go stale.
DYNAMIC_PREFIXES = (
    "error.",  # StudioInputError.code and job error codes (ui/i18n.py coded_text)
    "vendor.",  # vendor error texts, vendor.<provider>.<code> (studio/vendor_texts.py)
    "status.", "workflow.", "job.pending.", "method.", "note.", "provider.", "camera.",
    "scene.direction.", "scene.category.", "scene.camera.", "scene.filter.",
    "shadow.", "layout.", "size.", "size.hint.", "mask.mode.", "refinement.", "cutmodel.", "cutout.quality.",
    "editor.tool.", "guides.layer.", "export.preset.", "export.preset_help.", "review.filter.", "review.state.",
    "batch.status.", "batch.source.", "batch.source_help.", "batch.upload.", "backdrops.edit.kind.",
    # Keys the checks put in their reports (imaging/fidelity.py reasons, imaging/compliance.py issues).
    "fidelity.reason.", "compliance.issue.",
)  # fmt: skip
# A provider option's `label_key` (providers/*.py) also names `<label_key>_help`, `_off`, `_placeholder`
# and, for a choice, `<label_key>.<choice>`.
OPTION_SUFFIXES = re.compile(r"_(help|off|placeholder)$")
CODE_FILES = [
    *UI_FILES,
    *sorted((ROOT / "studio").glob("*.py")),
    *sorted((ROOT / "providers").glob("*.py")),
    # The checks name their reasons' keys (imaging/fidelity*.py, imaging/compliance.py).
    *sorted((ROOT / "imaging").glob("*.py")),
]


def _code_strings() -> tuple[set[str], set[str]]:
    """Every string literal in our code, and the constant heads of its f-strings."""
    literals: set[str] = set()
    heads: set[str] = set()
    for path in CODE_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and isinstance(head.value, str):
                    heads.add(head.value)
    return literals, heads


def unused_keys(keys: list[str], literals: set[str]) -> list[str]:
    unused = []
    for key in keys:
        if key in literals or key.startswith(DYNAMIC_PREFIXES):
            continue
        stem = OPTION_SUFFIXES.sub("", key)
        parent = key.rsplit(".", 1)[0]
        if (stem != key and stem in literals) or (parent.startswith("opt.") and parent in literals):
            continue
        unused.append(key)
    return unused


def test_every_key_is_used_somewhere() -> None:
    literals, _ = _code_strings()
    assert unused_keys(sorted(STRINGS[DEFAULT_LANGUAGE]), literals) == []


def test_the_unused_key_scan_can_fail() -> None:
    literals = {"page.prompt.title", "opt.model"}
    keys = [
        "page.prompt.title",
        "page.prompt.never",
        "status.queued",
        "opt.model_help",
        "opt.model.v2",
        "opt.x",
    ]
    assert unused_keys(keys, literals) == ["page.prompt.never", "opt.x"]


def test_every_dynamic_prefix_is_still_built_by_the_code() -> None:
    _, heads = _code_strings()
    assert [prefix for prefix in DYNAMIC_PREFIXES if prefix not in heads] == []


def test_english_counts_use_plural_forms_not_parenthesised_s() -> None:
    """ "1 item(s)" reads as a machine: a counting text takes { one, other } forms instead."""
    clumsy = sorted(key for key, text in STRINGS["en"].items() if "(s)" in text)
    assert clumsy == []
    assert translate("en", "backdrops.add.done", count=1).startswith("Added 1 backdrop.")
    assert translate("en", "backdrops.add.done", count=3).startswith("Added 3 backdrops.")
    assert translate("en", "batch.plan_problems", count=1) == "**1** problem"
    assert translate("en", "compare.button", count=1) == "Compare on 1 provider"
