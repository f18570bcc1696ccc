"""Tencent's marks: `LogoAdd` (the document's default 1, the visible AI mark) and `LogoParam` (the
user's own logo as base64 in a box), checked before any call, against the loopback emulator."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests  # type: ignore[import-untyped, unused-ignore]
from PIL import Image

from providers.base import GenerationRequest, Operation, ProviderContext
from providers.errors import InputRejectedError
from providers.http import new_session
from providers.tencent_aiart import LOGO_MAX_SIDE, TencentAiart, default_logo_rect
from tests.emulators.static_files import StaticFiles
from tests.emulators.tencent_aiart import TencentAiartEmulator

SECRET_ID, SECRET_KEY = "AKIDlogoTest0123", "logo-secret-key-0123456789"
RED = (230, 20, 20)


def png(width: int, height: int, colour: tuple[int, ...] = (236, 236, 236), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def logo_b64(width: int = 200, height: int = 80) -> str:
    """A red logo on a transparent margin."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((*RED, 255), (width // 10, height // 10, width - width // 10, height - height // 10))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def inputs() -> Iterator[StaticFiles]:
    files = StaticFiles()
    yield files
    files.close()


@pytest.fixture
def emulator() -> Iterator[TencentAiartEmulator]:
    with TencentAiartEmulator(SECRET_ID, SECRET_KEY) as running:
        yield running


def adapter(emulator: TencentAiartEmulator) -> TencentAiart:
    context = ProviderContext(
        credentials={"secret_id": SECRET_ID, "secret_key": SECRET_KEY},
        endpoint=emulator.endpoint,
        session=new_session(),
        options={"protocol": "http"},
    )
    return TencentAiart(context)


def request(inputs: StaticFiles, params: dict[str, Any], **changes: Any) -> GenerationRequest:
    image = png(800, 600)
    fields: dict[str, Any] = {
        "operation": Operation.PROMPT_BACKGROUND,
        "image": image,
        "prompt": "white marble table",
        "image_url": inputs.host(f"logo-product-{len(inputs.files)}.png", image),
        "params": TencentAiart.check_params(Operation.PROMPT_BACKGROUND, params),
    }
    fields.update(changes)
    return GenerationRequest(**fields)


def result_image(update: Any) -> Image.Image:
    output = update.outputs[0]
    data = output.data
    if data is None:
        answer = requests.get(output.url, timeout=5)
        answer.raise_for_status()
        data = answer.content
    return Image.open(io.BytesIO(data)).convert("RGB")


def pixel(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    return image.getpixel((x, y))  # type: ignore[return-value]


# ------------------------------------------------------------------ LogoAdd
def test_the_ai_mark_is_on_unless_switched_off(emulator: TencentAiartEmulator, inputs: StaticFiles) -> None:
    on = adapter(emulator).submit(request(inputs, {})).update
    assert emulator.requests[-1].body["LogoAdd"] == 1  # type: ignore[index]
    assert on is not None and max(pixel(result_image(on), 1280 - 12, 1280 - 12)) < 60, "the dark AI mark"

    off = adapter(emulator).submit(request(inputs, {"LogoAdd": "0"})).update
    body = emulator.requests[-1].body or {}
    assert body["LogoAdd"] == 0 and "LogoParam" not in body
    assert off is not None and max(pixel(result_image(off), 1280 - 12, 1280 - 12)) > 60, "no mark"
    assert off.notes["LogoAdd"] == 0


# ------------------------------------------------------------------ LogoParam
def test_the_users_logo_goes_as_base64_in_its_box_and_replaces_the_text_mark(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    logo = logo_b64()
    update = (
        adapter(emulator)
        .submit(request(inputs, {"LogoImage": logo, "LogoRect": "100, 200, 300, 120"}))
        .update
    )
    body = emulator.requests[-1].body or {}
    assert body["LogoAdd"] == 1
    # The documented shape: LogoImage (base64, so no hosting) and LogoRect {X, Y, Width, Height} integers.
    assert set(body["LogoParam"]) == {"LogoImage", "LogoRect"}
    assert body["LogoParam"]["LogoRect"] == {"X": 100, "Y": 200, "Width": 300, "Height": 120}
    sent = Image.open(io.BytesIO(base64.b64decode(body["LogoParam"]["LogoImage"])))
    assert sent.format == "PNG" and sent.size == (200, 80) and sent.mode == "RGBA"
    assert emulator.requests[-1].outcome == "ok"
    assert update is not None and update.notes["LogoRect"] == "100,200,300,120"
    image = result_image(update)
    red = pixel(image, 250, 260)
    assert red[0] > 180 and red[1] < 80, "the logo is drawn in its box"
    assert max(pixel(image, 1280 - 12, 1280 - 12)) > 60, "no text mark besides the logo"


def test_a_logo_without_a_box_goes_to_the_lower_right_corner_in_its_own_shape(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    adapter(emulator).submit(request(inputs, {"LogoImage": logo_b64(200, 80), "Resolution": "1920:1080"}))
    rect = (emulator.requests[-1].body or {})["LogoParam"]["LogoRect"]
    assert (rect["Width"], rect["Height"]) == (384, 154)  # a fifth of the width, the logo's 5:2 shape
    assert rect["X"] + rect["Width"] < 1920 and rect["Y"] + rect["Height"] < 1080
    assert default_logo_rect((200, 80), (1920, 1080)) == (rect["X"], rect["Y"], 384, 154)


def test_a_large_logo_is_stored_as_a_small_png(emulator: TencentAiartEmulator) -> None:
    photo = base64.b64encode(png(3000, 1500, (10, 120, 40))).decode("ascii")
    checked = TencentAiart.check_params(Operation.PROMPT_BACKGROUND, {"LogoImage": photo})
    stored = Image.open(io.BytesIO(base64.b64decode(checked["LogoImage"])))
    assert (
        stored.format == "PNG" and max(stored.size) == LOGO_MAX_SIDE and stored.size[0] == 2 * stored.size[1]
    )


@pytest.mark.parametrize(
    ("params", "size", "words"),
    [
        ({"LogoImage": "LOGO", "LogoRect": "1200,1200,100,100"}, None, "outside the 1280x1280 picture"),
        (
            {"LogoImage": "LOGO", "LogoRect": "0,0,800,100", "Resolution": "720:1280"},
            None,
            r"X\+Width <= 720",
        ),
        ({"LogoImage": "LOGO", "LogoRect": "0,1000,100,100"}, (1024, 1024), r"Y\+Height <= 1024"),
        ({"LogoImage": "LOGO", "LogoRect": "10,10,0,20"}, None, "Width and Height at least 1"),
        ({"LogoImage": "LOGO", "LogoRect": "-1,10,20,20"}, None, "X and Y"),
        ({"LogoImage": "LOGO", "LogoRect": "10,10,20"}, None, "X,Y,Width,Height"),
        ({"LogoRect": "10,10,20,20"}, None, "no logo was given"),
        ({"LogoImage": "LOGO", "LogoAdd": "0"}, None, "LogoAdd=0 switches every mark off"),
        ({"LogoImage": "bm90IGFuIGltYWdl"}, None, "the logo cannot be used"),
        ({"LogoImage": "%%%"}, None, "not an image file in base64"),
    ],
)
def test_bad_logo_settings_are_refused_before_any_call(
    params: dict[str, str], size: tuple[int, int] | None, words: str
) -> None:
    raw = {name: logo_b64() if value == "LOGO" else value for name, value in params.items()}
    with pytest.raises(ValueError, match=words):
        checked = TencentAiart.check_params(Operation.PROMPT_BACKGROUND, raw)
        TencentAiart.check_output(Operation.PROMPT_BACKGROUND, checked, size or (1280, 1280))


def test_the_adapter_rechecks_the_box_against_the_size_it_sends(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    # A job stored before the box was checked (or with a size given apart from Resolution).
    job = request(inputs, {"LogoImage": logo_b64(), "LogoRect": "600,600,300,100"}, size=(800, 800))
    with pytest.raises(InputRejectedError) as caught:
        adapter(emulator).submit(job)
    assert caught.value.code == "bad_logo" and "outside the 800x800 picture" in caught.value.user_message
    assert emulator.requests == []


@pytest.mark.parametrize(
    "logo_param",
    [
        {"LogoImage": "%%%", "LogoRect": {"X": 0, "Y": 0, "Width": 10, "Height": 10}},
        {"LogoImage": "LOGO", "LogoRect": {"X": 1200, "Y": 0, "Width": 100, "Height": 10}},
        {"LogoImage": "LOGO", "LogoRect": {"X": 0, "Y": 0, "Width": "10", "Height": 10}},
        {"LogoImage": "LOGO", "LogoRect": {"X": 0, "Y": 0, "Width": 0, "Height": 10}},
        {"LogoUrl": "http://203.0.113.9/logo.png"},
        {"LogoRect": {"X": 0, "Y": 0, "Width": 10, "Height": 10}},
    ],
)
def test_the_emulator_answers_logo_param_err_for_bad_logo_params(
    emulator: TencentAiartEmulator, inputs: StaticFiles, logo_param: dict[str, Any]
) -> None:
    job = request(inputs, {})
    fields = {key: logo_b64() if value == "LOGO" else value for key, value in logo_param.items()}
    with pytest.raises(InputRejectedError) as caught:
        adapter(emulator)._call({"ProductUrl": job.image_url, "Prompt": "beach", "LogoParam": fields})
    assert caught.value.code == "InvalidParameterValue.LogoParamErr"
    assert emulator.jobs == []


def test_the_emulator_takes_a_logo_url_from_loopback(
    emulator: TencentAiartEmulator, inputs: StaticFiles
) -> None:
    job = request(inputs, {})
    logo_url = inputs.host("own-logo.png", png(100, 40, (*RED, 255), "RGBA"))
    rect = {"X": 10, "Y": 10, "Width": 100, "Height": 40}
    answer = adapter(emulator)._call(
        {"ProductUrl": job.image_url, "Prompt": "beach", "LogoParam": {"LogoUrl": logo_url, "LogoRect": rect}}
    )
    assert answer.get("ResultImage")
    assert emulator.jobs[-1].fields["LogoParam"]["LogoRect"]["Width"] == 100
