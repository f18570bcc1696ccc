"""The emulator base (tests/emulators/loopback.py): every vendor emulator builds on it."""

from __future__ import annotations

import importlib

import pytest

from providers import REGISTRY
from tests.emulators.loopback import VendorEmulator, is_loopback_url, loopback_fetch
from tests.emulators.static_files import StaticFiles

CLOUD = sorted(key for key in REGISTRY if key != "local")


@pytest.mark.parametrize("key", CLOUD)
def test_each_vendor_emulator_builds_on_the_base(key: str) -> None:
    module = importlib.import_module(f"tests.emulators.{key}")
    emulators = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, VendorEmulator)
        and value.__module__ == module.__name__
    ]
    assert len(emulators) == 1 and emulators[0].provider_key == key
    cls = emulators[0]
    assert cls.announce.endswith("URL") and cls.description
    with cls() as emulator:
        assert emulator.requests == [] and emulator.base_url.startswith("http://127.0.0.1:")


def test_failure_switches_answer_in_order_then_run_dry() -> None:
    emulator = VendorEmulator[str]()
    emulator._queue_switch("submit", "first", times=2)
    emulator._queue_switch("submit", "second")
    taken = [emulator._take_switch("submit") for _ in range(4)]
    assert taken == ["first", "first", "second", None]
    assert emulator._take_switch("other") is None


def test_recording_is_a_snapshot_and_can_be_cleared() -> None:
    emulator = VendorEmulator[str]()
    emulator._record_request("one")
    snapshot = emulator.requests
    emulator._record_request("two")
    assert snapshot == ["one"] and emulator.requests == ["one", "two"]
    emulator.clear_requests()
    assert emulator.requests == []


def test_loopback_fetch_reads_only_from_this_machine() -> None:
    assert not is_loopback_url("http://example.com/a.png")
    assert not is_loopback_url("file://localhost/etc/passwd")
    assert loopback_fetch("http://example.com/a.png", 100) is None
    with StaticFiles() as files:
        url = files.host("a.bin", b"0123456789")
        assert loopback_fetch(url, 4) == b"0123"
        assert loopback_fetch(url.replace("127.0.0.1", "localhost"), 100) == b"0123456789"
        assert loopback_fetch(files.base_url + "/missing", 100) is None
