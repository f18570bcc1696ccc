"""Aidge reads the photo by link (`imageFileUrl`, `imageUrl`) when studio published it, else as base64,
against the loopback emulator (which fetches the link like the service). Studio's side of the choice
is in tests/studio/test_vendor_options_jobs.py."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from providers.aidge import API_MODEL_SUBMIT, API_SCENE_SUBMIT, Aidge
from providers.base import GenerationRequest, Operation, ProviderContext, TaskState
from providers.http import new_session
from tests.emulators.aidge import AidgeEmulator
from tests.emulators.static_files import StaticFiles

KEY, SECRET = "url-key", "url-secret-0123456789"


def photo(width: int = 800, height: int = 600) -> bytes:
    pixels = np.full((height, width, 3), 236, np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (40, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(KEY, SECRET, queries_to_finish=1) as running:
        yield running


@pytest.fixture
def static() -> Iterator[StaticFiles]:
    files = StaticFiles()
    yield files
    files.close()


def adapter(emulator: AidgeEmulator) -> Aidge:
    return Aidge(
        ProviderContext(
            credentials={"access_key_name": KEY, "access_key_secret": SECRET},
            endpoint=emulator.base_url,
            session=new_session(),
        )
    )


def scene(**changes: Any) -> GenerationRequest:
    fields: dict[str, Any] = {
        "operation": Operation.SCENE_BACKGROUND,
        "image": photo(),
        "scene_id": "mod003",
        "count": 2,
        "size": (800, 800),
    }
    fields.update(changes)
    return GenerationRequest(**fields)


def model(**changes: Any) -> GenerationRequest:
    fields: dict[str, Any] = {"operation": Operation.MODEL_SWAP, "image": photo(), "count": 1}
    fields.update(changes)
    return GenerationRequest(**fields)


def submitted_params(emulator: AidgeEmulator, api: str) -> dict[str, Any]:
    call = [request for request in emulator.requests if request.api == api][-1]
    assert call.body is not None and call.outcome == "ok", call.outcome
    items = json.loads(call.body["requestParams"])
    assert len(items) == 1
    return dict(items[0])


def finish(adapter: Aidge, remote_id: str) -> TaskState:
    state = TaskState.QUEUED
    for _ in range(6):
        state = adapter.poll(remote_id).state
        if state in (TaskState.SUCCEEDED, TaskState.FAILED):
            break
    return state


@pytest.mark.parametrize(
    ("make", "api", "url_field", "base64_field"),
    [
        (scene, API_SCENE_SUBMIT, "imageFileUrl", "imgBase64"),
        (model, API_MODEL_SUBMIT, "imageUrl", "imageBase64"),
    ],
)
def test_a_published_photo_goes_by_link_and_the_vendor_fetches_it(
    emulator: AidgeEmulator, static: StaticFiles, make: Any, api: str, url_field: str, base64_field: str
) -> None:
    url = static.host(f"{url_field}.png", photo())
    client = adapter(emulator)
    remote_id = client.submit(make(image_url=url)).remote_id or ""
    params = submitted_params(emulator, api)
    assert params[url_field] == url
    assert base64_field not in params, "base64 would win over the link at Aidge"
    assert static.gets == [f"/{url_field}.png"], "the emulator fetched the photo from its link"
    assert finish(client, remote_id) is TaskState.SUCCEEDED


@pytest.mark.parametrize(
    ("make", "api", "url_field", "base64_field"),
    [
        (scene, API_SCENE_SUBMIT, "imageFileUrl", "imgBase64"),
        (model, API_MODEL_SUBMIT, "imageUrl", "imageBase64"),
    ],
)
def test_without_a_link_the_photo_goes_as_base64(
    emulator: AidgeEmulator, make: Any, api: str, url_field: str, base64_field: str
) -> None:
    adapter(emulator).submit(make())
    params = submitted_params(emulator, api)
    assert params[base64_field] and url_field not in params
