"""Contract test: every registered provider declares what it claims and runs submit -> result -> cost."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from providers import REGISTRY, adapter_class
from providers.base import GenerationRequest, Operation, ProviderContext, TaskState


def _photo(width: int = 320, height: int = 240) -> bytes:
    image = np.full((height, width, 3), 235, np.uint8)
    image[60:200, 110:210] = (30, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


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


@pytest.mark.parametrize("key", ["local"])
def test_offline_provider_runs_a_request_end_to_end(key: str) -> None:
    adapter = adapter_class(key)(ProviderContext())
    request = GenerationRequest(
        operation=Operation.PROMPT_BACKGROUND, image=_photo(), prompt="blue gradient", count=2
    )
    submitted = adapter.submit(request)
    update = submitted.update if submitted.update is not None else adapter.poll(submitted.remote_id or "")
    assert update.state is TaskState.SUCCEEDED
    assert len(update.outputs) == 2
    for output in update.outputs:
        assert output.data is not None
        assert Image.open(io.BytesIO(output.data)).size == (320, 240)
