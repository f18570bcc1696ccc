"""No adapter writes a message for people inline: every one comes from a table studio can translate.

Jobs store the English sentence an adapter raised; studio finds the template that made it
(studio/vendor_texts.py) and shows the Chinese of the same key. A sentence written at the
`raise` (a literal or an f-string) has no key, so it reaches the Chinese page in English.
This scans providers/*.py with `ast` for the places a sentence for people is handed over:
a ProviderError-family constructor's `user_message`, a `TaskFailure`'s message and a
`ConnectionCheck`'s message (the Settings page shows it).
"""

from __future__ import annotations

import ast
import inspect
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers import REGISTRY, errors

ROOT = Path(__file__).resolve().parents[2] / "providers"
FAMILY = frozenset(
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.ProviderError)
)
# Where each kind of call takes its sentence: (positional index, keyword).
MESSAGE_ARGUMENT: dict[str, tuple[int | None, str]] = {
    **dict.fromkeys(FAMILY, (2, "user_message")),
    "TaskFailure": (1, "message"),
    "ConnectionCheck": (None, "message"),
}
# Sentences that may stay inline, with the reason. Empty: keep it so, or say why here.
ALLOWED: dict[tuple[str, int], str] = {}


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _written_inline(node: ast.expr) -> bool:
    """A sentence made here: a string literal, an f-string, `"...".format()`, or one glued from them."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp):
        return _written_inline(node.left) or _written_inline(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _written_inline(node.func.value)
    return False


def _messages(call: ast.Call) -> Iterator[ast.expr]:
    name = _name(call)
    if name not in MESSAGE_ARGUMENT:
        return
    index, keyword = MESSAGE_ARGUMENT[name]
    if index is not None and len(call.args) > index:
        yield call.args[index]
    yield from (given.value for given in call.keywords if given.arg == keyword)


def inline_messages(source: str) -> list[tuple[int, str]]:
    """(line, sentence) of every message for people written inline in `source`."""
    return [
        (call.lineno, ast.unparse(message))
        for call in ast.walk(ast.parse(source))
        if isinstance(call, ast.Call)
        for message in _messages(call)
        if _written_inline(message)
    ]


def _modules() -> list[Path]:
    return sorted(ROOT.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda path: path.name)
def test_no_adapter_writes_a_message_inline(path: Path) -> None:
    found = [
        f"{path.name}:{line}: {text[:90]}"
        for line, text in inline_messages(path.read_text(encoding="utf-8"))
        if (path.name, line) not in ALLOWED
    ]
    assert found == [], "move these into the module's error table (see studio/vendor_texts.py)"


def test_the_scan_finds_literals_f_strings_and_formatted_literals() -> None:
    source = (
        "raise InputRejectedError(self.key, 'a', 'Plain words.')\n"
        "raise ConfigurationError(self.key, 'b', f'Set {name}.')\n"
        "raise TaskNotFoundError(self.key, 'c', user_message='Gone ' + hint)\n"
        "TaskFailure('d', 'It failed ({}).'.format(why))\n"
        "ConnectionCheck(ok=True, message=f'Signed in to {host}.')\n"
        "raise InputRejectedError(self.key, 'e', self._says('e'))\n"
        "raise ProviderUnavailableError(provider, 'f', ERROR_TEXTS['f'].format(status=s))\n"
    )
    assert [line for line, _ in inline_messages(source)] == [1, 2, 3, 4, 5]


def test_the_allow_list_names_only_lines_that_still_need_it() -> None:
    still = {
        (path.name, line)
        for path in _modules()
        for line, _ in inline_messages(path.read_text(encoding="utf-8"))
    }
    assert [place for place in ALLOWED if place not in still] == []


# ------------------------------------------------------------------ `_says` names a real entry
def _says_calls(source: str) -> Iterator[tuple[int, str, frozenset[str] | None]]:
    """(line, entry, keyword names or None when `**fields` is passed) of each `_says("entry", ...)`."""
    for call in ast.walk(ast.parse(source)):
        if not (isinstance(call, ast.Call) and _name(call) == "_says" and call.args):
            continue
        entry = call.args[0]
        if isinstance(entry, ast.Constant) and isinstance(entry.value, str):
            names = [given.arg for given in call.keywords]
            yield call.lineno, entry.value, None if None in names else frozenset(n for n in names if n)


def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_entry_an_adapter_says_is_in_its_table_with_its_fields(key: str) -> None:
    adapter = REGISTRY[key]
    source = Path(inspect.getfile(adapter)).read_text(encoding="utf-8")
    calls = list(_says_calls(source))
    problems = [
        f"line {line}: {entry}"
        for line, entry, given in calls
        if entry not in adapter.error_texts
        or (given is not None and given != _fields(adapter.error_texts[entry]))
    ]
    assert problems == []
