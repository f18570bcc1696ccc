"""Tests of the Aidge gateway emulator itself, spoken to with plain `requests` (not the app's client)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests  # type: ignore[import-untyped, unused-ignore]
from PIL import Image

from tests.emulators.aidge import (
    API_MODEL_QUERY,
    API_MODEL_SUBMIT,
    API_SCENE_CATALOGUE,
    API_SCENE_QUERY,
    API_SCENE_SUBMIT,
    AidgeEmulator,
)

KEY, SECRET = "test-key", "test-secret"
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ helpers
def sign(secret: str, timestamp: str) -> str:
    """The "v2" signature, written out here so the test does not trust the emulator's own helper."""
    return hmac.new(secret.encode(), (secret + timestamp).encode(), hashlib.sha256).hexdigest().upper()


def signed_query(key: str = KEY, secret: str = SECRET, timestamp_ms: int | None = None) -> dict[str, str]:
    ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    return {
        "partner_id": "aidge",
        "sign_method": "sha256",
        "sign_ver": "v2",
        "app_key": key,
        "timestamp": ts,
        "sign": sign(secret, ts),
    }


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # never route loopback calls through an environment proxy
        yield session


@pytest.fixture
def emu() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(KEY, SECRET) as emulator:
        yield emulator


def call(
    http: requests.Session,
    emu: AidgeEmulator,
    api: str,
    body: dict[str, Any] | None = None,
    *,
    method: str = "POST",
    params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    url = f"{emu.base_url}/rest{api}"
    all_params = {**(query if query is not None else signed_query()), **(params or {})}
    if method == "GET":
        return http.get(url, params=all_params, headers=headers, timeout=10)
    return http.post(url, params=all_params, json=body, headers=headers, timeout=10)


def image_b64(width: int = 600, height: int = 600, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


IMAGE = image_b64()


def scene_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "imgBase64": IMAGE,
        "modelNum": "mod001",
        "needLayout": "true",
        "width": "800",
        "height": "800",
        "imageNum": "2",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def model_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"imageBase64": IMAGE, "imageStyle": "realPhoto", "model": "universal_model_1"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def submit_scene(http: requests.Session, emu: AidgeEmulator, **overrides: Any) -> dict[str, Any]:
    answer = call(http, emu, API_SCENE_SUBMIT, {"requestParams": json.dumps([scene_params(**overrides)])})
    assert answer.status_code == 200
    return dict(answer.json())


def task_id_of(envelope: dict[str, Any]) -> str:
    data = envelope["data"]
    result = data.get("result")
    if isinstance(result, str):
        result = json.loads(result)
    return str(result["taskId"] if result else data["taskId"])


def query(http: requests.Session, emu: AidgeEmulator, api: str, task_id: str, method: str = "GET") -> Any:
    if method == "GET":
        answer = call(http, emu, api, method="GET", params={"taskId": task_id})
    else:
        answer = call(http, emu, api, {"taskId": task_id})
    return answer.json()


# ------------------------------------------------------------------ signing and envelope
def test_signature_test_vector() -> None:
    expected = "908156D6ECBFCA358E3E4EFF49D836BDF00B5ABFF67714D0B8706CDED773F754"
    assert sign("S4etzZ73nF08vOXVhk3wZjIaLSHw0123", "1719303485000") == expected
    emulator = AidgeEmulator("k", "S4etzZ73nF08vOXVhk3wZjIaLSHw0123", clock=lambda: 1719303485.0)
    good = {**signed_query("k", "S4etzZ73nF08vOXVhk3wZjIaLSHw0123", 1719303485000)}
    assert good["sign"] == expected
    assert emulator._signature_ok(good)
    assert not emulator._signature_ok({**good, "sign": expected.lower()})


def test_good_signed_call_has_the_full_envelope(http: requests.Session, emu: AidgeEmulator) -> None:
    answer = call(http, emu, API_SCENE_CATALOGUE, {"count": "2"}, headers={"x-iop-trial": "true"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["success"] is True and body["resCode"] == 200 and body["resMessage"] == "success"
    assert body["code"] == "0" and body["request_id"] and body["_trace_id_"] == body["requestId"]
    assert len(body["data"]["result"]) == 2
    [recorded] = emu.requests
    assert recorded.api == API_SCENE_CATALOGUE and recorded.method == "POST"
    assert recorded.signature_ok and recorded.outcome == "ok"
    assert recorded.body == {"count": "2"}
    assert recorded.headers["x-iop-trial"] == "true"
    assert recorded.query["app_key"] == KEY


# ------------------------------------------------------------------ gateway errors
def _gateway(answer: requests.Response) -> tuple[int, str, str]:
    body = answer.json()
    assert body["request_id"]
    return answer.status_code, body["type"], body["code"]


def test_unknown_api_path(http: requests.Session, emu: AidgeEmulator) -> None:
    # The path is checked before the signature, so even an unsigned call learns the path is wrong.
    answer = call(http, emu, "/ai/image/nothing/here", {}, query={})
    assert _gateway(answer) == (200, "ISP", "InvalidApiPath")
    assert answer.json()["message"] == "The specified API path is invalid"


@pytest.mark.parametrize(
    "change",
    [
        {"sign": "0" * 64},
        {"sign": ""},
        {"app_key": "someone-else"},
        {"sign_ver": "v1"},
        {"partner_id": "other"},
    ],
)
def test_bad_signature(http: requests.Session, emu: AidgeEmulator, change: dict[str, str]) -> None:
    answer = call(http, emu, API_SCENE_CATALOGUE, {}, query={**signed_query(), **change})
    assert _gateway(answer) == (200, "ISV", "IncompleteSignature")
    assert not emu.requests[-1].signature_ok


def test_wrong_secret_and_missing_sign(http: requests.Session, emu: AidgeEmulator) -> None:
    answer = call(http, emu, API_SCENE_CATALOGUE, {}, query=signed_query(secret="not-the-secret"))
    assert _gateway(answer)[2] == "IncompleteSignature"
    unsigned = {k: v for k, v in signed_query().items() if k != "sign"}
    assert _gateway(call(http, emu, API_SCENE_CATALOGUE, {}, query=unsigned))[2] == "IncompleteSignature"


def test_timestamp_out_of_range() -> None:
    now = [1_800_000_000.0]
    with (
        AidgeEmulator(KEY, SECRET, max_skew_s=60, clock=lambda: now[0]) as emulator,
        requests.Session() as http,
    ):
        http.trust_env = False
        stamp = int(now[0] * 1000)
        ok = call(http, emulator, API_SCENE_CATALOGUE, {}, query=signed_query(timestamp_ms=stamp - 59_000))
        assert ok.json()["success"] is True
        late = call(http, emulator, API_SCENE_CATALOGUE, {}, query=signed_query(timestamp_ms=stamp + 61_000))
        assert _gateway(late) == (200, "ISV", "InvalidTimestamp")
        assert emulator.requests[-1].signature_ok  # the signature was right; only the clock was off


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("bad_signature", 200, "IncompleteSignature"),
        ("unknown_api", 200, "InvalidApiPath"),
        ("timestamp", 200, "InvalidTimestamp"),
        ("quota", 200, "AccessDenied"),
        ("rate_limit", 429, "ApiCallLimit"),
    ],
)
def test_injected_gateway_errors(
    http: requests.Session, emu: AidgeEmulator, kind: Any, status: int, code: str
) -> None:
    emu.gateway_error_next(kind, times=2)
    for _ in range(2):
        answer = call(http, emu, API_SCENE_CATALOGUE, {})
        assert answer.status_code == status
        assert answer.json()["code"] == code
    assert call(http, emu, API_SCENE_CATALOGUE, {}).json()["success"] is True
    if kind == "quota":
        assert answer.json()["message"].startswith("Sorry, your calling resources have been exhausted")
    if kind == "rate_limit":
        assert answer.headers["Retry-After"] == "1"


def test_rate_limit_retry_after_and_server_error(http: requests.Session, emu: AidgeEmulator) -> None:
    emu.gateway_error_next("rate_limit", retry_after_s=7)
    emu.gateway_error_next("server_error")
    limited = call(http, emu, API_SCENE_SUBMIT, {"requestParams": [scene_params()]})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    down = call(http, emu, API_SCENE_SUBMIT, {"requestParams": [scene_params()]})
    assert down.status_code == 503
    assert down.headers["Content-Type"].startswith("text/html") and down.text == "Service Unavailable"
    assert emu.submits() == 0
    assert [r.status for r in emu.requests] == [429, 503]


# ------------------------------------------------------------------ business errors
@pytest.mark.parametrize(
    ("code", "text"),
    [
        (500, "system error"),
        (501, "rate limit exceed"),
        (700, "invalid input"),
        (801, "model failed"),
        (1000, "content has sensitive data, please try other input"),
        (1001, "content control failed, please retry"),
        (1002, "content risk filter failed, please contact us"),
    ],
)
def test_fail_next_business_codes(http: requests.Session, emu: AidgeEmulator, code: int, text: str) -> None:
    emu.fail_next(API_SCENE_SUBMIT, code)
    body = submit_scene(http, emu)
    assert body["success"] is False and body["resCode"] == code and body["resMessage"] == text
    assert body["data"] is None and body["code"] == "0"
    assert emu.submits() == 0
    assert task_id_of(submit_scene(http, emu))  # consumed: the next call goes through
    assert emu.submits(API_SCENE_SUBMIT) == 1


def test_fail_next_message_times_and_api(http: requests.Session, emu: AidgeEmulator) -> None:
    emu.fail_next("/rest" + API_MODEL_SUBMIT, 1000, "nope", times=2)
    # Another API is not affected.
    assert submit_scene(http, emu)["success"] is True
    for _ in range(2):
        body = call(http, emu, API_MODEL_SUBMIT, {"requestParams": [model_params()]}).json()
        assert (body["resCode"], body["resMessage"]) == (1000, "nope")
    assert call(http, emu, API_MODEL_SUBMIT, {"requestParams": [model_params()]}).json()["success"] is True
    assert emu.submits(API_MODEL_SUBMIT) == 1 and emu.submits() == 2
    with pytest.raises(ValueError):
        emu.fail_next("/ai/typo", 500)


# ------------------------------------------------------------------ validation
def _message(body: dict[str, Any]) -> str:
    assert body["success"] is False and body["resCode"] == 700, body
    return str(body["resMessage"])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"imageNum": 1}, "imageNum must be 2-10"),
        ({"imageNum": "11"}, "imageNum must be 2-10"),
        ({"width": 640, "height": 640}, "width/height must be 800x800 or 750x1000"),
        ({"width": None}, "width is required"),
        ({"imgBase64": image_b64(500, 500)}, "more than 512 and less than 3000"),
        ({"imgBase64": image_b64(3001, 600)}, "more than 512 and less than 3000"),
        ({"modelNum": "mod999"}, "modelNum mod999 is not a known scene"),
        ({"modelNum": None}, "modelNum is required"),
        ({"needLayout": "maybe"}, "needLayout must be true or false"),
        ({"productTitle": "x" * 201}, "productTitle must be a string of at most 200"),
        ({"imgBase64": "not base64!"}, "imgBase64 is not valid base64"),
        ({"imgBase64": base64.b64encode(b"plain text").decode()}, "imgBase64 is not a readable image"),
        ({"imgBase64": image_b64(600, 600, "GIF")}, "must be JPEG, PNG, BMP or WEBP"),
        ({"imgBase64": None}, "imgBase64 or imageFileUrl is required"),
    ],
)
def test_scene_validation(
    http: requests.Session, emu: AidgeEmulator, overrides: dict[str, Any], field: str
) -> None:
    message = _message(submit_scene(http, emu, **overrides))
    assert message.startswith("invalid input: ") and field in message
    assert emu.submits() == 0


def test_scene_accepts_native_types_size_3_4_and_formats(http: requests.Session, emu: AidgeEmulator) -> None:
    body = {
        "requestParams": [
            scene_params(
                width=750, height=1000, imageNum=10, needLayout=False, imgBase64=image_b64(fmt="JPEG")
            )
        ]
    }
    assert call(http, emu, API_SCENE_SUBMIT, body).json()["success"] is True
    for width, height, fmt in ((600, 600, "BMP"), (513, 2999, "WEBP"), (2999, 513, "PNG")):
        assert submit_scene(http, emu, imgBase64=image_b64(width, height, fmt))["success"] is True
    task = next(iter(emu.tasks.values()))
    assert task.params["imageNum"] == 10 and task.outputs[0] == (750, 1000)


def test_scene_image_over_4_mb(http: requests.Session, emu: AidgeEmulator) -> None:
    big = image_b64(1200, 1200, "BMP")  # uncompressed: 4.3 MB
    assert "at most 4 MB" in _message(submit_scene(http, emu, imgBase64=big))


def test_scene_default_image_num_and_several_errors(http: requests.Session, emu: AidgeEmulator) -> None:
    assert submit_scene(http, emu, imageNum=None)["success"] is True
    assert next(iter(emu.tasks.values())).params["imageNum"] == 4
    message = _message(submit_scene(http, emu, imageNum=0, width=1, modelNum="x"))
    assert "imageNum" in message and "width/height" in message and "modelNum" in message


@pytest.mark.parametrize(
    "request_params",
    [[], [scene_params(), scene_params()], "not json", {"modelNum": "mod001"}, ["a string"]],
)
def test_request_params_must_be_one_object(
    http: requests.Session, emu: AidgeEmulator, request_params: Any
) -> None:
    body = call(http, emu, API_SCENE_SUBMIT, {"requestParams": request_params}).json()
    assert "requestParams" in _message(body)


def test_body_must_be_json_and_post(http: requests.Session, emu: AidgeEmulator) -> None:
    url = f"{emu.base_url}/rest{API_SCENE_SUBMIT}"
    answer = http.post(
        url,
        params=signed_query(),
        data="requestParams=[]",
        timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "must be JSON" in _message(answer.json())
    answer = call(
        http, emu, API_SCENE_SUBMIT, method="GET", params={"requestParams": json.dumps([scene_params()])}
    )
    assert "takes POST" in _message(answer.json())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"model": "universal_model_9"}, "model must be one of"),
        ({"model": None}, "model is required"),
        ({"imageStyle": "mannequin"}, "imageStyle must be realPhoto"),
        ({"imageStyle": None}, "imageStyle is required"),
        ({"maskKeepbg": "false"}, "bgStyle is required"),
        ({"maskKeepBg": False}, "bgStyle is required"),
        ({"maskKeepbg": "false", "bgStyle": "moon"}, "bgStyle must be one of"),
        ({"dimension": 300}, "dimension must be 512-2048"),
        ({"dimension": "2049"}, "dimension must be 512-2048"),
        ({"count": 5}, "count must be 1-4"),
        ({"gender": "OTHER"}, "gender must be one of"),
        ({"age": "CHILD"}, "age must be one of"),
        ({"imageBase64": image_b64(500, 500)}, "more than 512 and less than 3000"),
        ({"imageBase64": None}, "imageBase64 or imageUrl is required"),
    ],
)
def test_model_validation(
    http: requests.Session, emu: AidgeEmulator, overrides: dict[str, Any], field: str
) -> None:
    body = call(
        http, emu, API_MODEL_SUBMIT, {"requestParams": json.dumps([model_params(**overrides)])}
    ).json()
    assert field in _message(body)


def test_model_image_over_4_mb(http: requests.Session, emu: AidgeEmulator) -> None:
    big = image_b64(1200, 1200, "BMP")
    body = call(http, emu, API_MODEL_SUBMIT, {"requestParams": [model_params(imageBase64=big)]}).json()
    assert "at most 4 MB" in _message(body)


# ------------------------------------------------------------------ model API wrappings
def test_model_api_accepts_both_wrappings(http: requests.Session, emu: AidgeEmulator) -> None:
    wrapped_string = {"requestParams": json.dumps([model_params(maskKeepbg="false", bgStyle="beach")])}
    wrapped_list = {"requestParams": [model_params(count=4, dimension=1024, gender="FEMALE", age="YOUTH")]}
    flat = model_params(model="WHITE", maskKeepBg="true", count="1")
    for body in (wrapped_string, wrapped_list, flat):
        assert call(http, emu, API_MODEL_SUBMIT, body).json()["success"] is True
    # GET with the flat parameters in the query string, as the official sample's query calls do.
    answer = call(http, emu, API_MODEL_SUBMIT, method="GET", params=model_params(model="BROWN"))
    assert answer.json()["success"] is True
    params = [task.params for task in emu.tasks.values()]
    assert [p["count"] for p in params] == [2, 4, 1, 2]
    assert params[0]["maskKeepbg"] is False and params[0]["bgStyle"] == "beach"
    assert params[1]["gender"] == "FEMALE" and params[1]["dimension"] == 1024
    assert params[2]["model"] == "WHITE" and params[2]["maskKeepbg"] is True
    assert emu.submits(API_MODEL_SUBMIT) == 4


@pytest.mark.parametrize("shape", ["result", "flat", "string"])
def test_task_id_shapes(http: requests.Session, shape: Any) -> None:
    with AidgeEmulator(KEY, SECRET, task_id_shape=shape) as emulator:
        scene = submit_scene(http, emulator)["data"]
        model = call(http, emulator, API_MODEL_SUBMIT, model_params()).json()["data"]
    for data in (scene, model):
        if shape == "result":
            assert set(data) == {"result"} and set(data["result"]) == {"taskId"}
        elif shape == "flat":
            assert set(data) == {"taskId"}
        else:
            assert isinstance(data["result"], str) and set(json.loads(data["result"])) == {"taskId"}
        assert task_id_of({"data": data}) in emulator.tasks


# ------------------------------------------------------------------ tasks and results
def test_task_walk_submitted_running_finished(http: requests.Session) -> None:
    with AidgeEmulator(KEY, SECRET, queries_to_finish=3) as emulator:
        task_id = task_id_of(submit_scene(http, emulator, imageNum=3))
        states = []
        for method in ("GET", "POST", "GET", "POST"):
            data = query(http, emulator, API_SCENE_QUERY, task_id, method)["data"]
            states.append(data["taskStatus"])
            if data["taskStatus"] != "finished":
                assert data["taskResult"] == []
        assert states == ["submitted", "running", "finished", "finished"]
        assert emulator.tasks[task_id].queries == 4
        [entry] = data["taskResult"]
        assert entry["sceneTemplate"] == "mod001" and entry["recordContent"] == ""
        assert entry["taskStatus"] == "finished" and len(entry["imageUrlList"]) == 3
        assert all(isinstance(url, str) for url in entry["imageUrlList"])


def test_task_also_waits_for_seconds_on_the_clock(http: requests.Session) -> None:
    now = [1_800_000_000.0]
    with AidgeEmulator(
        KEY, SECRET, queries_to_finish=1, seconds_to_finish=30, clock=lambda: now[0]
    ) as emulator:

        def signed() -> dict[str, str]:
            return signed_query(timestamp_ms=int(now[0] * 1000))

        answer = call(http, emulator, API_MODEL_SUBMIT, model_params(), query=signed())
        task_id = task_id_of(answer.json())
        url = f"{emulator.base_url}/rest{API_MODEL_QUERY}"
        first = http.get(url, params={**signed(), "taskId": task_id}, timeout=10).json()
        now[0] += 10
        second = http.get(url, params={**signed(), "taskId": task_id}, timeout=10).json()
        now[0] += 25
        third = http.get(url, params={**signed(), "taskId": task_id}, timeout=10).json()
    assert [d["data"]["taskStatus"] for d in (first, second, third)] == ["submitted", "running", "finished"]


def test_failed_task(http: requests.Session, emu: AidgeEmulator) -> None:
    emu.fail_task_next("the model could not find a person")
    failing = task_id_of(call(http, emu, API_MODEL_SUBMIT, model_params()).json())
    fine = task_id_of(call(http, emu, API_MODEL_SUBMIT, model_params()).json())
    assert query(http, emu, API_MODEL_QUERY, failing)["data"]["taskStatus"] == "submitted"
    data = query(http, emu, API_MODEL_QUERY, failing)["data"]
    assert data["taskStatus"] == "failed" and data["taskMessage"] == "the model could not find a person"
    assert data["taskResult"] == []
    query(http, emu, API_MODEL_QUERY, fine)
    assert query(http, emu, API_MODEL_QUERY, fine)["data"]["taskStatus"] == "finished"
    assert http.get(f"{emu.base_url}/results/{failing}/0.png", timeout=10).status_code == 404


def test_unknown_or_missing_task_id(http: requests.Session, emu: AidgeEmulator) -> None:
    assert _message(query(http, emu, API_SCENE_QUERY, "no-such-task")) == "invalid input: taskId not found"
    assert "taskId is required" in _message(call(http, emu, API_MODEL_QUERY, {}).json())
    # A scene task is not known to the model query API.
    task_id = task_id_of(submit_scene(http, emu))
    assert "taskId not found" in _message(query(http, emu, API_MODEL_QUERY, task_id))


def _png(http: requests.Session, url: str) -> Image.Image:
    answer = http.get(url, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "PNG"
    image.load()
    return image


def test_scene_results_download(http: requests.Session) -> None:
    with AidgeEmulator(KEY, SECRET, queries_to_finish=1, image_url_items="object") as emulator:
        task_id = task_id_of(submit_scene(http, emulator, width=750, height=1000, imageNum=2))
        items = query(http, emulator, API_SCENE_QUERY, task_id)["data"]["taskResult"][0]["imageUrlList"]
        assert [set(item) for item in items] == [{"imageUrl"}, {"imageUrl"}]
        images = [_png(http, item["imageUrl"]) for item in items]
        assert all(image.size == (750, 1000) for image in images)
        assert images[0].tobytes() != images[1].tobytes()  # visibly different per index
        assert http.get(f"{emulator.base_url}/results/{task_id}/2.png", timeout=10).status_code == 404
        assert http.get(f"{emulator.base_url}/results/nope/0.png", timeout=10).status_code == 404
        assert http.get(f"{emulator.base_url}/elsewhere", timeout=10).status_code == 404
        # Downloads are not API calls and are not recorded.
        assert [r.api for r in emulator.requests] == [API_SCENE_SUBMIT, API_SCENE_QUERY]


@pytest.mark.parametrize(
    ("size", "dimension", "expected"),
    [((600, 900), 512, (512, 768)), ((900, 600), None, (1152, 768)), ((700, 700), 1000, (1000, 1000))],
)
def test_model_results_keep_aspect(
    http: requests.Session, size: tuple[int, int], dimension: int | None, expected: tuple[int, int]
) -> None:
    with AidgeEmulator(KEY, SECRET, queries_to_finish=1) as emulator:
        body = {"requestParams": [model_params(imageBase64=image_b64(*size), dimension=dimension, count=1)]}
        task_id = task_id_of(call(http, emulator, API_MODEL_SUBMIT, body).json())
        [result] = query(http, emulator, API_MODEL_QUERY, task_id)["data"]["taskResult"]
        assert (result["width"], result["height"]) == expected
        assert _png(http, result["url"]).size == expected


def test_image_file_url_is_fetched_from_loopback(http: requests.Session) -> None:
    with AidgeEmulator(KEY, SECRET, queries_to_finish=1) as emulator:
        first = task_id_of(submit_scene(http, emulator))
        url = query(http, emulator, API_SCENE_QUERY, first)["data"]["taskResult"][0]["imageUrlList"][0]
        assert submit_scene(http, emulator, imgBase64=None, imageFileUrl=url)["success"] is True
        # base64 wins over a URL that would not work.
        assert submit_scene(http, emulator, imageFileUrl="http://127.0.0.1:9/x.png")["success"] is True
        for bad in (
            f"{emulator.base_url}/results/nope/0.png",  # 404
            "http://203.0.113.7/product.png",  # not loopback: never fetched
            "ftp://127.0.0.1/x.png",
        ):
            message = _message(submit_scene(http, emulator, imgBase64=None, imageFileUrl=bad))
            assert "imageFileUrl cannot be fetched" in message
        cover = f"{emulator.base_url}/covers/mod001.png"  # a real image, but 200x200
        assert "sides must be" in _message(submit_scene(http, emulator, imgBase64=None, imageFileUrl=cover))


# ------------------------------------------------------------------ catalogue
def scenes(http: requests.Session, emu: AidgeEmulator, **params: Any) -> list[dict[str, Any]]:
    body = call(http, emu, API_SCENE_CATALOGUE, params).json()
    assert body["success"] is True, body
    return list(body["data"]["result"])


def test_catalogue_shape_and_covers(http: requests.Session, emu: AidgeEmulator) -> None:
    everything = scenes(http, emu)
    assert len(everything) == 24 and everything[0]["modelNum"] == "mod001"
    first = everything[0]
    assert set(first) >= {
        "modelNum",
        "name",
        "sceneName",
        "categoryNameList",
        "categoryType",
        "sceneType",
        "coverUrl",
    }
    assert first["coverUrl"] == f"{emu.base_url}/covers/mod001.png"
    covers = [_png(http, scene["coverUrl"]) for scene in everything[:2]]
    assert covers[0].size == (200, 200) and covers[0].tobytes() != covers[1].tobytes()
    assert http.get(f"{emu.base_url}/covers/mod999.png", timeout=10).status_code == 404


def test_catalogue_filters_and_count(http: requests.Session, emu: AidgeEmulator) -> None:
    clothing = scenes(http, emu, categoryType="7")
    assert clothing and all("Clothing" in s["categoryNameList"] and 7 in s["categoryType"] for s in clothing)
    assert len(clothing) < 24
    outdoor = scenes(http, emu, sceneType="Outdoor")
    assert outdoor == scenes(http, emu, sceneType=2)
    assert all(s["sceneName"] == "Outdoor" for s in outdoor)
    both = scenes(http, emu, categoryType=7, sceneType="outdoor")
    assert both and all(s in outdoor and s in clothing for s in both)
    assert len(scenes(http, emu, count=3)) == 3
    assert len(scenes(http, emu, count=100)) == 24
    for bad in ({"count": 0}, {"count": "101"}, {"categoryType": 12}, {"sceneType": "Underwater"}):
        field = next(iter(bad))
        assert field in _message(call(http, emu, API_SCENE_CATALOGUE, bad).json())


@pytest.mark.parametrize(
    ("title", "first"),
    [
        ("Matte lipstick, long lasting", {"mod001", "mod023"}),
        ("哑光口红", {"mod001", "mod023"}),
        ("新款手机", {"mod006"}),
        ("Men's running shoes", {"mod010"}),
        ("男士运动鞋", {"mod009", "mod010"}),
    ],
)
def test_catalogue_title_ranking(
    http: requests.Session, emu: AidgeEmulator, title: str, first: set[str]
) -> None:
    ranked = scenes(http, emu, productTitle=title, count=len(first))
    assert {s["modelNum"] for s in ranked} == first


def test_catalogue_ranking_respects_filters(http: requests.Session, emu: AidgeEmulator) -> None:
    ranked = scenes(http, emu, productTitle="lipstick", sceneType=4, count=1)
    assert [s["modelNum"] for s in ranked] == ["mod023"]
    # No overlap: catalogue order.
    assert [s["modelNum"] for s in scenes(http, emu, productTitle="zzz", count=2)] == ["mod001", "mod002"]


# ------------------------------------------------------------------ lifecycle
def test_stop_closes_the_port(http: requests.Session) -> None:
    emulator = AidgeEmulator().start()
    url = emulator.base_url
    emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        http.get(f"{url}/covers/mod001.png", timeout=2)
    with pytest.raises(RuntimeError):
        _ = emulator.base_url


def test_standalone_process(http: requests.Session) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.aidge", "--port", "0", "--key-name", "K", "--secret", "S"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("AIDGE_EMULATOR_URL=http://127.0.0.1:")
        url = line.split("=", 1)[1]
        answer = http.post(
            f"{url}/rest{API_SCENE_CATALOGUE}", params=signed_query("K", "S"), json={"count": 1}, timeout=10
        )
        assert answer.json()["success"] is True
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
