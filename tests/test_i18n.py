"""The string table is complete in both languages and the pages use nothing but it.

An `ast` scan of app.py, views/ and ui/ checks that every key the code names
exists, and that no bare English sentence reaches a Streamlit display call.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from providers.base import Operation
from studio.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    STRINGS,
    has_key,
    normalise_language,
    template_params,
    translate,
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
KEY_FUNCTIONS = {"t", "t_or", "tkey"}
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
    assert translate("en", "sidebar.pending", count=3) == "3 job(s) running"
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
