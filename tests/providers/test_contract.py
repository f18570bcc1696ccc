"""Contract test: every registered provider declares what it claims and runs submit -> result -> cost."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import numpy as np
import pytest
import requests
from PIL import Image

from providers import REGISTRY, adapter_class
from providers.base import GenerationRequest, Operation, ProviderContext, TaskState
from providers.http import new_session
from studio import pricing
from tests.emulators.aidge import AidgeEmulator
from tests.emulators.aliyun_market import AliyunMarketEmulator
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFiles
from tests.emulators.tencent_aiart import TencentAiartEmulator


def _photo(width: int = 320, height: int = 240) -> bytes:
    image = np.full((height, width, 3), 235, np.uint8)
    image[height // 4 : 5 * height // 6, width // 3 : 2 * width // 3] = (30, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def _mask(width: int = 320, height: int = 240) -> bytes:
    """The product rectangle of `_photo` as a single-channel mask, white = product."""
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4 : 5 * height // 6, width // 3 : 2 * width // 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(mask, "L").save(buffer, "PNG")
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


@contextlib.contextmanager
def _harness(key: str) -> Iterator[tuple[ProviderContext, list[GenerationRequest], tuple[int, int] | None]]:
    """A context that reaches the provider (its loopback emulator for a cloud vendor) and one
    request per operation it claims. A registered provider without a harness fails the contract."""
    if key == "local":
        yield (
            ProviderContext(),
            [
                GenerationRequest(Operation.PROMPT_BACKGROUND, _photo(), prompt="blue gradient", count=2),
                GenerationRequest(
                    Operation.SCENE_BACKGROUND, _photo(), scene_id="pure-white", count=2, size=(400, 300)
                ),
            ],
            (320, 240),
        )
    elif key == "aidge":
        with AidgeEmulator("k", "s", queries_to_finish=2) as emulator:
            context = ProviderContext(
                credentials={"access_key_name": "k", "access_key_secret": "s"},
                endpoint=emulator.base_url,
                session=new_session(),
            )
            yield (
                context,
                [
                    GenerationRequest(
                        Operation.SCENE_BACKGROUND,
                        _photo(640, 640),
                        scene_id="mod001",
                        count=2,
                        size=(800, 800),
                    ),
                    GenerationRequest(
                        Operation.MODEL_SWAP,
                        _photo(640, 640),
                        count=2,
                        params=REGISTRY[key].check_params(Operation.MODEL_SWAP, {}),
                    ),
                ],
                None,
            )
    elif key == "dashscope":
        with DashScopeEmulator("sk-contract", queries_to_finish=2) as emulator:
            context = ProviderContext(
                credentials={"api_key": "sk-contract"}, endpoint=emulator.api_url, session=new_session()
            )
            request = GenerationRequest(
                Operation.PROMPT_BACKGROUND, _photo(640, 480), mask=_mask(640, 480), prompt="marble", count=2
            )
            # The result has the base image's size (the vendor has no size field).
            yield context, [request], (640, 480)
    elif key == "tencent_aiart":
        with TencentAiartEmulator("AKIDcontract", "contract-key") as emulator, StaticFiles() as files:
            context = ProviderContext(
                credentials={"secret_id": "AKIDcontract", "secret_key": "contract-key"},
                endpoint=emulator.endpoint,
                session=new_session(),
                options={"protocol": "http"},
            )
            request = GenerationRequest(
                Operation.PROMPT_BACKGROUND,
                _photo(800, 600),
                prompt="marble",
                size=(800, 600),
                # What studio's input hosting hands a URL-only vendor.
                image_url=files.host("photo.png", _photo(800, 600)),
            )
            yield context, [request], None
    elif key == "aliyun_market":
        with (
            AliyunMarketEmulator("contract-appcode", queries_to_finish=2) as emulator,
            StaticFiles() as files,
        ):
            context = ProviderContext(
                credentials={"appcode": "contract-appcode"}, endpoint=emulator.base_url, session=new_session()
            )
            request = GenerationRequest(
                Operation.PROMPT_BACKGROUND,
                _photo(640, 480),
                prompt="marble",
                count=2,
                image_url=files.host("photo.png", _photo(640, 480)),
                mask_url=files.host("mask.png", _mask(640, 480)),
            )
            # The result has the input's size.
            yield context, [request], (640, 480)
    else:
        pytest.fail(f"provider {key} has no contract harness: add its emulator here")


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_provider_runs_submit_poll_download_and_cost(key: str) -> None:
    cls = REGISTRY[key]
    with _harness(key) as (context, requests_, expected_size):
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
