"""Contract test: every registered provider declares what it claims and runs submit -> result -> cost."""

from __future__ import annotations

import contextlib
import importlib
import io
from collections.abc import Callable, Iterator
from typing import cast

import pytest
import requests  # type: ignore[import-untyped, unused-ignore]
from PIL import Image

from providers import REGISTRY, adapter_class
from providers.base import GenerationRequest, Operation, ProviderContext, TaskState
from studio import pricing
from tests.emulators.contract import ContractCase
from tests.emulators.contract import photo as _photo
from tests.emulators.loopback import VendorEmulator


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_provider_declares_limits_options_and_prices_for_every_operation(key: str) -> None:
    cls = REGISTRY[key]
    assert cls.key == key
    assert cls.label
    assert cls.operations, "a provider must offer at least one operation"
    for operation in cls.operations:
        assert operation in cls.limits, f"{key} lacks limits for {operation}"
        assert operation in cls.prices, f"{key} lacks a price entry for {operation}"
        assert operation in cls.options, f"{key} lacks an options list for {operation}"
        limits = cls.limits[operation]
        assert 1 <= limits.min_count <= limits.default_count <= limits.max_count
        price = cls.prices[operation]
        assert price.free or price.per_image is None or price.per_image.amount_minor > 0
        assert price.source and price.as_of
    assert cls.max_in_flight >= 1
    assert cls.submit_qps > 0


def test_registry_lookup_names_known_keys() -> None:
    with pytest.raises(KeyError, match="known: .*local"):
        adapter_class("nope")


@contextlib.contextmanager
def _harness(key: str) -> Iterator[ContractCase]:
    """A context that reaches the provider (its loopback emulator for a cloud vendor) and one
    request per operation it claims. A cloud vendor's case comes from `contract_case()` in its
    emulator module, `tests/emulators/<key>.py` (see tests/emulators/contract.py); a registered
    provider without one fails the contract."""
    if key == "local":
        yield ContractCase(
            ProviderContext(),
            [
                GenerationRequest(Operation.PROMPT_BACKGROUND, _photo(), prompt="blue gradient", count=2),
                GenerationRequest(
                    Operation.SCENE_BACKGROUND, _photo(), scene_id="pure-white", count=2, size=(400, 300)
                ),
            ],
            (320, 240),
        )
        return
    case = _emulator_case(key)
    with case() as found:
        yield found


def _emulator_case(key: str) -> Callable[[], contextlib.AbstractContextManager[ContractCase]]:
    """`contract_case` of `tests.emulators.<key>`, whose emulator declares it emulates `key`."""
    try:
        module = importlib.import_module(f"tests.emulators.{key}")
    except ModuleNotFoundError:
        pytest.fail(f"provider {key} has no emulator: add tests/emulators/{key}.py with contract_case()")
    case = getattr(module, "contract_case", None)
    if case is None:
        pytest.fail(f"tests/emulators/{key}.py has no contract_case(): see tests/emulators/contract.py")
    emulators = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, VendorEmulator)
        and value.__module__ == module.__name__
    ]
    assert [emulator.provider_key for emulator in emulators] == [key], (
        f"tests/emulators/{key}.py must declare one emulator with provider_key = {key!r}"
    )
    return cast(Callable[[], contextlib.AbstractContextManager[ContractCase]], case)


def test_every_cloud_provider_has_an_emulator_named_by_its_key() -> None:
    for key in sorted(REGISTRY):
        if key != "local":
            _emulator_case(key)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_provider_runs_submit_poll_download_and_cost(key: str) -> None:
    cls = REGISTRY[key]
    with _harness(key) as case:
        context, requests_, expected_size = case.context, case.requests, case.expected_size
        adapter = cls(context)
        assert {request.operation for request in requests_} == set(cls.operations)
        for request in requests_:
            submitted = adapter.submit(request)
            update = submitted.update
            for _ in range(10):
                if update is not None and update.state in (TaskState.SUCCEEDED, TaskState.FAILED):
                    break
                assert submitted.remote_id, "an asynchronous submit must return a task id"
                update = adapter.poll(submitted.remote_id)
            assert update is not None and update.state is TaskState.SUCCEEDED, update
            assert len(update.outputs) == request.count
            for output in update.outputs:
                data = output.data if output.data is not None else _download(output.url or "")
                size = Image.open(io.BytesIO(data)).size
                # The asked-for size, else the input's (a vendor may choose its own: checked per adapter).
                wanted = request.size or expected_size
                if wanted is not None:
                    assert size == wanted
            billed = update.billed_images if update.billed_images is not None else len(update.outputs)
            cost = pricing.cost_of(cls, request.operation, billed)
            price = cls.prices[request.operation]
            if price.free or price.per_image is None:
                assert cost is None
            else:
                assert cost == price.per_image.times(billed)
            override = pricing.parse_price("0.25 USD", "test")
            assert pricing.cost_of(cls, request.operation, billed, {(key, request.operation): override}) == (
                override.per_image.times(billed) if override.per_image else None
            )


def _download(url: str) -> bytes:
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    return answer.content
