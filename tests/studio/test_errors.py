"""One error root for studio: every studio exception is a StudioError with a code and params, and
the error table translates every code the studio raises with params in both languages."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from studio.backdrop_match import BackdropError
from studio.batches import BatchError
from studio.cli import UsageError
from studio.cli_batch import BatchUsageError
from studio.errors import StudioError, StudioInputError
from studio.service import StudioInputError as ReExported

LOCALES = Path(__file__).resolve().parents[2] / "studio" / "locales"


def test_the_constructor_takes_message_code_and_params() -> None:
    error = StudioError("Something is wrong.", code="oops", params={"n": 1})
    assert (str(error), error.code, error.params) == ("Something is wrong.", "oops", {"n": 1})
    assert StudioError("plain").code == "studio_error" and StudioError("plain").params == {}


@pytest.mark.parametrize("cls", [BatchError, UsageError, BatchUsageError])
def test_message_only_subclasses_get_their_default_code(cls: type[StudioError]) -> None:
    error = cls("what went wrong")
    assert isinstance(error, StudioError)
    assert str(error) == "what went wrong" and error.code == cls.default_code and error.params == {}


def test_coded_subclasses_keep_their_signature_and_stay_value_errors() -> None:
    for cls in (StudioInputError, BackdropError):
        error = cls("bad_size", "The size is wrong.", {"width": 1})
        assert isinstance(error, StudioError) and isinstance(error, ValueError)
        assert (error.code, str(error), error.params) == ("bad_size", "The size is wrong.", {"width": 1})
    assert ReExported is StudioInputError
    assert issubclass(BatchError, ValueError)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_error_tables_have_the_same_keys_and_params_in_both_languages() -> None:
    en = json.loads((LOCALES / "errors.en.json").read_text(encoding="utf-8"))
    zh = json.loads((LOCALES / "errors.zh.json").read_text(encoding="utf-8"))
    assert en.keys() == zh.keys() and all(key.startswith("error.") for key in en)
    for key, template in en.items():
        assert _fields(template) == _fields(zh[key]), key


def test_the_english_template_is_the_english_sentence() -> None:
    en = json.loads((LOCALES / "errors.en.json").read_text(encoding="utf-8"))
    error = BatchError(
        "The budget is in USD; give the new one in the same currency.",
        "batch_budget_currency",
        {"currency": "USD"},
    )
    assert en[f"error.{error.code}"].format(**error.params) == str(error)


def test_batches_do_not_import_the_facade() -> None:
    """Batches see the studio through `BatchStudio`; no import of studio.service, not even for typing."""
    import ast

    source = (LOCALES.parent / "batches.py").read_text(encoding="utf-8")
    modules = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "studio.service" not in modules


def _studio_error_classes() -> set[type[StudioError]]:
    import importlib
    import pkgutil

    import studio

    for module in pkgutil.iter_modules(studio.__path__):
        if module.name != "__main__":
            importlib.import_module(f"studio.{module.name}")
    found: set[type[StudioError]] = set()
    todo: list[type[StudioError]] = [StudioError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_default_code_has_a_text_in_every_language() -> None:
    """An error raised with only a message still reads in the user's language: its class's code has
    an `error.<code>` text (quoting the English sentence as {detail} where nothing better fits)."""
    from studio.i18n import LANGUAGES, translate_strict

    codes = {cls.default_code for cls in _studio_error_classes()}
    assert {"store_error", "studio_error", "bad_setting"} <= codes
    for language in LANGUAGES:
        missing = sorted(
            code for code in codes if translate_strict(language, f"error.{code}", detail="x") is None
        )
        assert missing == [], language
    assert translate_strict("zh", "error.store_error", detail="disk full") == "数据存储出错：disk full"
