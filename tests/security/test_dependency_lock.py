"""Dependencies come from a lock with hashes, covering every package down to the last transitive one.

People edit the pins in requirements.txt / requirements-dev.txt; `scripts/lock.sh` (pip-compile
--generate-hashes) turns them into requirements.lock / requirements-dev.lock, and
`scripts/install.sh` installs only from a lock, with `--require-hashes`. These tests fail when
a pin changed and the lock was not regenerated, or when a lock entry has no hash.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAIRS = (("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock"))
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}\b")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()  # PEP 503


def direct_pins(path: Path) -> dict[str, str]:
    """name -> version of every pin in a requirements file, following `-r` includes."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text.startswith(("-r ", "--requirement ")):
            pins |= direct_pins(path.parent / text.split(None, 1)[1])
            continue
        match = _PIN.match(text)
        assert match, f"{path.name}: '{line}' is not pinned as name==version"
        pins[_name(match.group(1))] = match.group(3)
    return pins


def lock_entries(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of sha256 hashes) of every entry in a pip-compile lock."""
    entries: dict[str, tuple[str, int]] = {}
    text = path.read_text(encoding="utf-8")
    # One entry: `name==version \` and its `--hash=...` continuation lines.
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = _PIN.match(block)
        if match is None:
            assert block.lstrip().startswith("#") or not block.strip(), f"{path.name}: cannot read {block!r}"
            continue
        assert match.group(2) is None, f"{path.name}: extras belong in requirements, not the lock: {block}"
        entries[_name(match.group(1))] = (match.group(3), len(_HASH.findall(block)))
    return entries


@pytest.mark.parametrize(("requirements", "lock"), PAIRS)
def test_every_pin_is_in_the_lock_at_the_same_version(requirements: str, lock: str) -> None:
    locked = lock_entries(ROOT / lock)
    for name, version in direct_pins(ROOT / requirements).items():
        assert name in locked, (
            f"{name} is pinned in {requirements} but missing from {lock}: run scripts/lock.sh"
        )
        assert locked[name][0] == version, (
            f"{name} is {version} in {requirements} but {locked[name][0]} in {lock}: run scripts/lock.sh"
        )


@pytest.mark.parametrize("lock", [lock for _, lock in PAIRS])
def test_every_lock_entry_has_a_hash(lock: str) -> None:
    entries = lock_entries(ROOT / lock)
    assert len(entries) > 20  # the transitive packages are there, not only the direct pins
    assert [name for name, (_, hashes) in entries.items() if hashes == 0] == []
    text = (ROOT / lock).read_text(encoding="utf-8")
    assert "-e " not in text and "git+" not in text and "file://" not in text  # nothing unhashable


def test_the_dev_lock_holds_the_runtime_lock_at_the_same_versions() -> None:
    runtime = lock_entries(ROOT / "requirements.lock")
    dev = lock_entries(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name, ("missing",))[0] for name in runtime} == {
        name: version for name, (version, _) in runtime.items()
    }


def test_install_sh_installs_only_from_a_lock_with_hashes() -> None:
    script = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    installs = [line for line in code if "pip install" in line]
    assert installs, script
    for line in installs:
        assert "--require-hashes" in line and '-r "$lock"' in line, line
    # start.sh and test.sh name the requirements people edit; install.sh maps each to its lock.
    assert 'lock="${requirements%.txt}.lock"' in code
    for caller, requirements in (("start.sh", "requirements.txt"), ("test.sh", "requirements-dev.txt")):
        assert f"scripts/install.sh {requirements}" in (ROOT / "scripts" / caller).read_text(encoding="utf-8")
        assert (ROOT / requirements.replace(".txt", ".lock")).is_file()
