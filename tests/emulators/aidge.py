"""A loopback emulator of Aidge's `api.aidc-ai.com` gateway, for end-to-end tests of providers/aidge.py.

It serves the five calls Backdrop Studio makes (shared/providers.md section 1):

- `POST /rest/ai/image/background/generation/scenario`      scene background submit
- `GET|POST /rest/ai/image/background/generation/query`     its result query
- `POST /rest/ai/image/background/generation/scene/query`   the scene catalogue
- `GET|POST /rest/ai/virtual/model/generation/batch`        virtual model swap submit
- `GET|POST /rest/ai/virtual/model/generation/query`        its result query

and, without any signature (like signed OSS links), the images it hands out:
`/results/<taskId>/<n>.png` and the catalogue covers `/covers/<modelNum>.png`.

Every `/rest` call is checked the way the gateway does: API path, then the "v2"
simple signature (`sign = HEX_UPPER(HMAC-SHA256(secret, secret + timestamp_ms))`),
then the clock skew. Business parameters are validated like the documented
API (HTTP 200, `resCode` 700 naming the field). Tests can inject gateway
errors, business errors and failed tasks, and read back every call.

Use it as a context manager, from a pytest fixture, or as a separate process:

    python -m tests.emulators.aidge --port 0 --key-name K --secret S

prints `AIDGE_EMULATOR_URL=http://127.0.0.1:PORT` and serves until killed.

Pure stdlib plus numpy/Pillow (for checking inputs and drawing results). It
only ever connects to loopback addresses: an `imageFileUrl` elsewhere is
answered as "cannot be fetched" instead of being fetched.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import colorsys
import contextlib
import functools
import hashlib
import hmac
import io
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from providers.aidge import Aidge
from providers.base import GenerationRequest, Operation, ProviderContext
from providers.http import new_session
from tests.emulators import contract
from tests.emulators.contract import ContractCase
from tests.emulators.loopback import LoopbackHandler, VendorEmulator, loopback_fetch

API_SCENE_SUBMIT = "/ai/image/background/generation/scenario"
API_SCENE_QUERY = "/ai/image/background/generation/query"
API_SCENE_CATALOGUE = "/ai/image/background/generation/scene/query"
API_MODEL_SUBMIT = "/ai/virtual/model/generation/batch"
API_MODEL_QUERY = "/ai/virtual/model/generation/query"
APIS = frozenset({API_SCENE_SUBMIT, API_SCENE_QUERY, API_SCENE_CATALOGUE, API_MODEL_SUBMIT, API_MODEL_QUERY})
SUBMIT_APIS = frozenset({API_SCENE_SUBMIT, API_MODEL_SUBMIT})
# The documented GET/POST APIs; the others take POST with a JSON body only.
GET_APIS = frozenset({API_SCENE_QUERY, API_MODEL_QUERY, API_MODEL_SUBMIT})
# Which query API answers for tasks made by which submit API.
QUERY_FOR_SUBMIT = {API_SCENE_SUBMIT: API_SCENE_QUERY, API_MODEL_SUBMIT: API_MODEL_QUERY}

# The gateway's own query parameters; everything else in the query string is a business parameter.
SYSTEM_PARAMS = frozenset(
    {"partner_id", "sign_method", "sign_ver", "app_key", "timestamp", "sign", "access_token"}
)

MAX_INPUT_BYTES = 4 * 1024 * 1024
INPUT_FORMATS = frozenset({"JPEG", "PNG", "BMP", "WEBP"})
MIN_SIDE, MAX_SIDE = 512, 3000
SCENE_SIZES = frozenset({(800, 800), (750, 1000)})
MAX_TITLE_CHARS = 200
MODELS = frozenset(
    {"universal_model_1", "universal_model_2", "universal_model_3", "universal_model_4"}
    # The older API generation named the model by skin tone (providers.md 1.8); both are accepted.
    | {"WHITE", "BLACK", "YELLOW", "BROWN"}
)
GENDERS = frozenset({"MALE", "FEMALE"})
AGES = frozenset({"OLD_AGE", "MIDDLE_AGE", "YOUTH"})
BG_STYLES = frozenset({"studio", "room", "European_street", "beach"})

# resCode -> resMessage, as in the error table on every Aidge image API page.
RES_MESSAGES: Mapping[int, str] = {
    500: "system error",
    501: "rate limit exceed",
    700: "invalid input",
    801: "model failed",
    900: "tpp url error",
    1000: "content has sensitive data, please try other input",
    1001: "content control failed, please retry",
    1002: "content risk filter failed, please contact us",
}

GatewayKind = Literal["bad_signature", "unknown_api", "timestamp", "rate_limit", "quota", "server_error"]
# kind -> (HTTP status, type, code, message). The strings are not published by Aidge; these follow
# the IOP gateway family, whose SDKs read `type`/`code`/`message`/`request_id` (providers.md 1.4).
GATEWAY_ERRORS: Mapping[str, tuple[int, str, str, str]] = {
    "bad_signature": (
        200,
        "ISV",
        "IncompleteSignature",
        "The request signature does not conform to platform standards",
    ),
    "timestamp": (200, "ISV", "InvalidTimestamp", "The request timestamp is out of the allowed range"),
    "unknown_api": (200, "ISP", "InvalidApiPath", "The specified API path is invalid"),
    "quota": (
        200,
        "ISV",
        "AccessDenied",
        "Sorry, your calling resources have been exhausted. Please purchase more or use the trial quota.",
    ),
    "rate_limit": (429, "ISP", "ApiCallLimit", "The request frequency exceeds the limit"),
    "server_error": (503, "", "", "Service Unavailable"),
}

CATEGORY_NAMES: Mapping[int, str] = {
    1: "General Purpose",
    2: "Consumer Electronics",
    3: "Home & Garden",
    4: "Automobiles, Parts & Accessories",
    5: "Computer & Office",
    6: "Sports & Entertainment",
    7: "Clothing",
    8: "Beauty & Health",
    9: "Tools",
    10: "Toys & Hobbies",
    11: "Phones & Telecommunications",
}
SCENE_TYPE_NAMES: Mapping[int, str] = {1: "Indoor", 2: "Outdoor", 3: "Atmosphere", 4: "Promotion"}


@dataclass(frozen=True)
class Scene:
    model_num: str
    name: str
    categories: tuple[int, ...]
    scene_type: int
    keywords: tuple[str, ...]


# A fixed catalogue, so tests can name scenes; keywords drive the title ranking.
CATALOGUE: tuple[Scene, ...] = (
    Scene("mod001", "Marble Vanity", (8, 1), 1, ("lipstick", "makeup", "cosmetics", "perfume", "skincare")),
    Scene("mod002", "Bathroom Shelf", (8, 3), 1, ("soap", "shampoo", "skincare", "bottle", "towel")),
    Scene("mod003", "Desk Setup", (5, 2), 1, ("laptop", "keyboard", "mouse", "computer", "monitor")),
    Scene("mod004", "Modern Living Room", (3, 1), 1, ("sofa", "lamp", "furniture", "decor", "cushion")),
    Scene("mod005", "Kitchen Counter", (3, 1), 1, ("kitchen", "cookware", "mug", "cup", "appliance")),
    Scene(
        "mod006", "Phone on Wooden Table", (11, 2), 1, ("phone", "smartphone", "mobile", "case", "charger")
    ),
    Scene("mod007", "Tech Showcase", (2, 11, 5), 3, ("headphones", "earbuds", "speaker", "gadget", "watch")),
    Scene("mod008", "Boutique Rack", (7,), 1, ("dress", "shirt", "jacket", "fashion", "coat")),
    Scene("mod009", "City Street", (7, 1), 2, ("sneakers", "shoes", "streetwear", "bag", "jeans")),
    Scene("mod010", "Running Track", (6, 7), 2, ("running", "shoes", "sneakers", "sport", "fitness")),
    Scene("mod011", "Beach Sunset", (6, 7, 1), 2, ("swimwear", "sunglasses", "summer", "hat", "sandals")),
    Scene("mod012", "Mountain Trail", (6,), 2, ("hiking", "backpack", "tent", "camping", "boots")),
    Scene("mod013", "Garden Patio", (3,), 2, ("plant", "planter", "chair", "outdoor", "flowerpot")),
    Scene("mod014", "Garage Workbench", (9, 4), 1, ("drill", "tool", "wrench", "hardware", "screwdriver")),
    Scene("mod015", "Open Road", (4,), 2, ("car", "tire", "tyre", "automotive", "wheel")),
    Scene("mod016", "Kids Playroom", (10,), 1, ("toy", "puzzle", "doll", "blocks", "plush")),
    Scene("mod017", "Collector Shelf", (10, 1), 1, ("figure", "model", "collectible", "hobby", "miniature")),
    Scene("mod018", "Christmas Glow", (1, 10, 3), 3, ("gift", "christmas", "holiday", "ornament")),
    Scene("mod019", "Spring Blossom", (1, 8, 7), 3, ("flowers", "spring", "fresh", "floral")),
    Scene("mod020", "Neon Night", (2, 11, 6), 3, ("gaming", "neon", "headset", "controller")),
    Scene("mod021", "Big Sale Podium", (1, 2, 11, 5), 4, ("sale", "discount", "deal")),
    Scene("mod022", "Red Festival Banner", (1, 8, 7), 4, ("festival", "sale", "gift", "red")),
    Scene("mod023", "Minimal Studio Podium", (1, 8), 4, ("cosmetics", "perfume", "bottle", "lipstick")),
    Scene("mod024", "Flash Deal Stage", (1, 3, 9, 4), 4, ("deal", "tool", "home", "flash")),
)
SCENES_BY_ID: Mapping[str, Scene] = {scene.model_num: scene for scene in CATALOGUE}

# Chinese product words seen in titles -> the English keyword they stand for. Chinese has no
# spaces, so these are found by substring, longest first (运动鞋 before 鞋).
CHINESE_WORDS: Mapping[str, str] = {
    "运动鞋": "sneakers",
    "口红": "lipstick",
    "唇膏": "lipstick",
    "香水": "perfume",
    "手机": "phone",
    "耳机": "headphones",
    "电脑": "computer",
    "笔记本": "laptop",
    "连衣裙": "dress",
    "裙": "dress",
    "鞋": "shoes",
    "玩具": "toy",
    "汽车": "car",
    "沙发": "sofa",
    "工具": "tool",
}


class AidgeEmulatorError(Exception):
    """A business failure, answered with `success` false and this `resCode`: as HTTP 200, or with the
    status a test asked for (a throttle as 429, a system error as 500, as gateways in front may do)."""

    def __init__(
        self, res_code: int, message: str, status: int = 200, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message)
        self.res_code = res_code
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s


def _invalid(detail: str) -> AidgeEmulatorError:
    return AidgeEmulatorError(700, f"invalid input: {detail}")


@dataclass(frozen=True)
class RecordedRequest:
    """One `/rest` call as it arrived, with what the emulator made of it."""

    api: str  # the API path without `/rest`, e.g. "/ai/virtual/model/generation/batch"
    method: str
    query: dict[str, str]  # the query string, last value wins
    body: dict[str, Any] | None  # the parsed JSON body; None for no body (or one that is not an object)
    headers: dict[str, str]  # lower-case names, e.g. "x-iop-trial"
    signature_ok: bool
    status: int = 200  # the HTTP status answered
    outcome: str = "ok"  # "ok", a gateway code ("IncompleteSignature", ...) or "resCode <n>"


@dataclass
class Task:
    """One generation task; `state` is what the last query reported."""

    task_id: str
    api: str  # the submit API that made it
    params: dict[str, Any]  # the validated, typed business parameters
    created: float  # on the emulator's clock
    outputs: tuple[tuple[int, int], ...]  # (width, height) of each result image
    fail_message: str | None = None  # set when fail_task_next was armed at submit
    queries: int = 0
    state: str = "submitted"

    @property
    def query_api(self) -> str:
        return QUERY_FOR_SUBMIT[self.api]


def sign_v2(secret: str, timestamp: str) -> str:
    """Aidge's "v2" signature: uppercase hex HMAC-SHA256(key=secret, msg=secret + timestamp)."""
    return (
        hmac.new(secret.encode("utf-8"), (secret + timestamp).encode("utf-8"), hashlib.sha256)
        .hexdigest()
        .upper()
    )


def _new_request_id() -> str:
    # Shaped like the sample ids (30 hex-ish characters), unique per answer.
    return uuid.uuid4().hex[:30]


class AidgeEmulator(VendorEmulator["RecordedRequest"]):
    """The emulated gateway. `start()` it (or use `with`), point the client at `base_url`."""

    provider_key = "aidge"
    announce = "AIDGE_EMULATOR_URL"
    description = "Loopback emulator of Aidge's api.aidc-ai.com gateway."

    def __init__(
        self,
        access_key_name: str = "test-key",
        access_key_secret: str = "test-secret",
        *,
        max_skew_s: float = 900.0,
        clock: Callable[[], float] = time.time,
        queries_to_finish: int = 2,
        seconds_to_finish: float = 0.0,
        task_id_shape: Literal["result", "flat", "string"] = "result",
        image_url_items: Literal["string", "object"] = "string",
        port: int = 0,
    ) -> None:
        if task_id_shape not in ("result", "flat", "string"):
            raise ValueError(f"task_id_shape must be result, flat or string, not {task_id_shape!r}")
        if image_url_items not in ("string", "object"):
            raise ValueError(f"image_url_items must be string or object, not {image_url_items!r}")
        super().__init__(port)
        self.access_key_name = access_key_name
        self.access_key_secret = access_key_secret
        self.max_skew_s = max_skew_s
        self.clock = clock
        self.queries_to_finish = queries_to_finish
        self.seconds_to_finish = seconds_to_finish
        self.task_id_shape = task_id_shape
        self.image_url_items = image_url_items
        self._tasks: dict[str, Task] = {}
        self._submits: Counter[str] = Counter()

    # ------------------------------------------------------------ lifecycle
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    # ------------------------------------------------------------ inspection
    @property
    def tasks(self) -> dict[str, Task]:
        """A snapshot of task id -> Task (the Task objects are live)."""
        with self._lock:
            return dict(self._tasks)

    def submits(self, api: str | None = None) -> int:
        """How many submit calls were accepted (a task was created), for one API or all."""
        with self._lock:
            if api is None:
                return sum(self._submits.values())
            return self._submits[_api_name(api)]

    # ------------------------------------------------------------ command line
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--key-name", default="test-key")
        parser.add_argument("--secret", default="test-secret")
        parser.add_argument("--max-skew-s", type=float, default=900.0)
        parser.add_argument("--queries-to-finish", type=int, default=2)
        parser.add_argument("--seconds-to-finish", type=float, default=0.0)
        parser.add_argument("--task-id-shape", choices=("result", "flat", "string"), default="result")
        parser.add_argument("--image-url-items", choices=("string", "object"), default="string")

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> AidgeEmulator:
        return cls(
            args.key_name,
            args.secret,
            max_skew_s=args.max_skew_s,
            queries_to_finish=args.queries_to_finish,
            seconds_to_finish=args.seconds_to_finish,
            task_id_shape=args.task_id_shape,
            image_url_items=args.image_url_items,
            port=args.port,
        )

    # ------------------------------------------------------------ fault injection
    def fail_next(
        self,
        api: str,
        res_code: int,
        message: str | None = None,
        times: int = 1,
        *,
        status: int = 200,
        retry_after_s: int | None = None,
    ) -> None:
        """The next `times` calls to `api` (that pass the gateway) answer business error `res_code`,
        with HTTP `status` (200 as documented; 429 or 5xx to test a gateway that passes the body on)."""
        name = _api_name(api)
        if name not in APIS:
            raise ValueError(f"unknown Aidge API {api!r}; one of {sorted(APIS)}")
        text = message if message is not None else RES_MESSAGES.get(res_code, "error")
        self._queue_switch(f"business:{name}", (res_code, text, status, retry_after_s), times)

    def gateway_error_next(
        self,
        kind: GatewayKind,
        times: int = 1,
        retry_after_s: int | None = None,
        *,
        status: int | None = None,
    ) -> None:
        """The next `times` `/rest` calls, whatever their API, answer this gateway error (with HTTP
        `status` instead of the kind's own, e.g. the quota message on a 429)."""
        if kind not in GATEWAY_ERRORS:
            raise ValueError(f"unknown gateway error kind {kind!r}; one of {sorted(GATEWAY_ERRORS)}")
        self._queue_switch("gateway", (kind, retry_after_s, status), times)

    def fail_task_next(self, message: str = "generation failed") -> None:
        """The next accepted submit makes a task that ends `failed` with this taskMessage."""
        self._queue_switch("task", message)

    # ------------------------------------------------------------ request handling (handler threads)
    def _handle_rest(
        self, method: str, api: str, query: dict[str, str], headers: dict[str, str], raw_body: bytes
    ) -> _Reply:
        """Answers one `/rest` call. It is recorded before the answer is sent, so a test that has
        its answer can rely on `requests` already holding it."""
        signature_ok = self._signature_ok(query)
        body, body_error = _parse_body(raw_body, headers.get("content-type", ""))
        reply = self._answer(method, api, query, body, body_error, signature_ok)
        entry = RecordedRequest(api, method, query, body, headers, signature_ok, reply.status, reply.outcome)
        self._record_request(entry)
        return reply

    def _answer(
        self,
        method: str,
        api: str,
        query: dict[str, str],
        body: dict[str, Any] | None,
        body_error: str | None,
        signature_ok: bool,
    ) -> _Reply:
        # 1. Gateway: injected errors, then path, signature and clock, in the gateway's order.
        injected = self._take_switch("gateway")
        if injected is not None:
            return _gateway_reply(*injected)
        if api not in APIS:
            return _gateway_reply("unknown_api", None, None)
        if not signature_ok:
            return _gateway_reply("bad_signature", None, None)
        if not self._timestamp_ok(query.get("timestamp", "")):
            return _gateway_reply("timestamp", None, None)

        # 2. The API itself: injected business errors, then the call.
        try:
            failure = self._take_switch(f"business:{api}")
            if failure is not None:
                raise AidgeEmulatorError(*failure)
            if method == "GET" and api not in GET_APIS:
                raise _invalid(f"{api} takes POST with a JSON body")
            if body_error:
                raise _invalid(body_error)
            # GET calls carry their parameters in the query string; a POST body adds to them.
            params = {k: v for k, v in query.items() if k not in SYSTEM_PARAMS}
            params.update(body or {})
            data = self._dispatch(api, params)
        except AidgeEmulatorError as exc:
            return _envelope_reply(None, exc.res_code, exc.message, exc.status, exc.retry_after_s)
        return _envelope_reply(data, 200, "success")

    def _signature_ok(self, query: Mapping[str, str]) -> bool:
        if (
            query.get("partner_id") != "aidge"
            or query.get("sign_method") != "sha256"
            or query.get("sign_ver") != "v2"
            or query.get("app_key") != self.access_key_name
        ):
            return False
        expected = sign_v2(self.access_key_secret, query.get("timestamp", ""))
        return hmac.compare_digest(expected, query.get("sign", ""))

    def _timestamp_ok(self, timestamp: str) -> bool:
        if not timestamp.isdigit():
            return False
        return abs(self.clock() - int(timestamp) / 1000.0) <= self.max_skew_s

    def _dispatch(self, api: str, params: dict[str, Any]) -> Any:
        if api == API_SCENE_SUBMIT:
            return self._submit(api, *_validate_scene(_single_request(params)))
        if api == API_MODEL_SUBMIT:
            # The current doc wraps in requestParams; the older sample and Java SDK send it flat.
            fields = _single_request(params) if "requestParams" in params else params
            return self._submit(api, *_validate_model(fields))
        if api == API_SCENE_CATALOGUE:
            fields = _single_request(params) if "requestParams" in params else params
            return {"result": self._catalogue(fields)}
        return self._query(api, params)

    def _submit(self, api: str, params: dict[str, Any], outputs: tuple[tuple[int, int], ...]) -> Any:
        task_id = str(uuid.uuid4())
        now = self.clock()
        fail_message = self._take_switch("task")
        with self._lock:
            self._tasks[task_id] = Task(task_id, api, params, now, outputs, fail_message)
            self._submits[api] += 1
        # The task id's place drifted between API versions (providers.md 1.9).
        if self.task_id_shape == "flat":
            return {"taskId": task_id}
        if self.task_id_shape == "string":
            return {"result": json.dumps({"taskId": task_id})}
        return {"result": {"taskId": task_id}}

    def _query(self, api: str, params: Mapping[str, Any]) -> Any:
        task_id = _text(params.get("taskId"))
        if not task_id:
            raise _invalid("taskId is required")
        with self._lock:
            task = self._tasks.get(task_id)
            # A task is only known to the query API of its own kind.
            if task is None or task.query_api != api:
                raise _invalid("taskId not found")
            task.queries += 1
            if task.state not in ("finished", "failed"):
                done = (
                    task.queries >= self.queries_to_finish
                    and self.clock() - task.created >= self.seconds_to_finish
                )
                if done:
                    task.state = "failed" if task.fail_message is not None else "finished"
                else:
                    task.state = "submitted" if task.queries <= 1 else "running"
            state = task.state
        message = {"finished": "success", "failed": task.fail_message or ""}.get(state, "")
        data: dict[str, Any] = {
            "taskId": task_id,
            "taskStatus": state,
            "taskMessage": message,
            "taskResult": [],
        }
        if state != "finished":
            return data
        urls = [self._result_url(task_id, n) for n in range(len(task.outputs))]
        if api == API_SCENE_QUERY:
            items: list[Any] = list(urls)
            if self.image_url_items == "object":
                items = [{"imageUrl": url} for url in urls]
            data["taskResult"] = [
                {
                    "imageUrlList": items,
                    "sceneTemplate": task.params["modelNum"],
                    "recordContent": "",
                    "taskStatus": state,
                    "taskMessage": message,
                }
            ]
        else:
            data["taskResult"] = [
                {"url": url, "width": w, "height": h} for url, (w, h) in zip(urls, task.outputs, strict=True)
            ]
        return data

    def _result_url(self, task_id: str, index: int) -> str:
        # Real results are signed OSS links with an expiry; the query string is ignored when served.
        expires = int(self.clock()) + 3600
        return f"{self.base_url}/results/{task_id}/{index}.png?Expires={expires}&Signature=emulator"

    def _catalogue(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        category = _optional_int(params, "categoryType", 1, 11)
        scene_type = _scene_type(params.get("sceneType"))
        count = _optional_int(params, "count", 1, 100)
        title = _text(params.get("productTitle"))
        if "imageUrl" in params and not isinstance(params["imageUrl"], str):
            raise _invalid("imageUrl must be a string")
        scenes = [
            scene
            for scene in CATALOGUE
            if (category is None or category in scene.categories)
            and (scene_type is None or scene.scene_type == scene_type)
        ]
        if title:
            words = _title_words(title)
            # sorted() is stable: equally relevant scenes keep catalogue order.
            scenes.sort(key=lambda scene: -len(words & _scene_words(scene)))
        if count is not None:
            scenes = scenes[:count]
        return [self._scene_json(scene) for scene in scenes]

    def _scene_json(self, scene: Scene) -> dict[str, Any]:
        return {
            "modelNum": scene.model_num,
            "name": scene.name,
            "sceneName": SCENE_TYPE_NAMES[scene.scene_type],
            "sceneType": scene.scene_type,
            "categoryNameList": [CATEGORY_NAMES[c] for c in scene.categories],
            "categoryType": list(scene.categories),
            "coverUrl": f"{self.base_url}/covers/{scene.model_num}.png",
        }

    def _result_png(self, task_id: str, index: int) -> bytes | None:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or task.state != "finished" or not 0 <= index < len(task.outputs):
            return None
        width, height = task.outputs[index]
        return _result_image(width, height, _hue_of(task_id), index)


# -------------------------------------------------------------------- HTTP plumbing


class _Handler(LoopbackHandler):
    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        raw_body = self.read_body()
        path = parsed.path
        if path.startswith("/rest/") or path == "/rest":
            reply = self.server.emulator._handle_rest(
                method, path[len("/rest") :], self.query_params(), self.lower_headers(), raw_body
            )
            self._send(reply.status, reply.content_type, reply.payload, reply.headers)
            return
        if method == "GET" and path.startswith("/results/"):
            fault = self.server.emulator._result_fault()
            if fault is not None:
                self._send(*fault)
                return
        if method == "GET":
            png = self._static_png(path)
            if png is not None:
                self._send(200, "image/png", png)
                return
        self._send(404, "text/plain; charset=utf-8", b"Not Found")

    def _static_png(self, path: str) -> bytes | None:
        cover = re.fullmatch(r"/covers/([A-Za-z0-9_-]+)\.png", path)
        if cover:
            scene = SCENES_BY_ID.get(cover.group(1))
            return None if scene is None else _cover_image(CATALOGUE.index(scene))
        result = re.fullmatch(r"/results/([A-Za-z0-9-]+)/(\d+)\.png", path)
        if result:
            return self.server.emulator._result_png(result.group(1), int(result.group(2)))
        return None

    def _send(
        self, status: int, content_type: str, payload: bytes, extra: Mapping[str, str] | None = None
    ) -> None:
        self.send_answer(status, content_type, payload, extra)


@dataclass(frozen=True)
class _Reply:
    status: int
    content_type: str
    payload: bytes
    outcome: str  # what RecordedRequest.outcome says
    headers: Mapping[str, str] = field(default_factory=dict)


def _json_reply(status: int, document: Any, outcome: str, headers: Mapping[str, str] | None = None) -> _Reply:
    payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return _Reply(status, "application/json;charset=UTF-8", payload, outcome, headers or {})


def _gateway_reply(kind: str, retry_after_s: int | None, status_override: int | None) -> _Reply:
    status, kind_type, code, message = GATEWAY_ERRORS[kind]
    status = status_override or status
    if kind == "server_error":
        # A load balancer's page, not the gateway's JSON.
        return _Reply(status, "text/html", b"Service Unavailable", "ServiceUnavailable")
    document = {"type": kind_type, "code": code, "message": message, "request_id": _new_request_id()}
    headers = (
        {"Retry-After": str(retry_after_s or 1)}
        if kind == "rate_limit" or (status_override is not None and retry_after_s is not None)
        else None
    )
    return _json_reply(status, document, code, headers)


def _envelope_reply(
    data: Any, res_code: int, message: str, status: int = 200, retry_after_s: int | None = None
) -> _Reply:
    """The API's fields plus the gateway's (`code` "0" means the gateway let the call through)."""
    request_id = _new_request_id()
    document = {
        "data": data,
        "requestId": request_id,
        "success": res_code == 200,
        "resCode": res_code,
        "resMessage": message,
        "code": "0",
        "request_id": _new_request_id(),
        "_trace_id_": request_id,
    }
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return _json_reply(status, document, "ok" if res_code == 200 else f"resCode {res_code}", headers)


# -------------------------------------------------------------------- parameters
def _api_name(api: str) -> str:
    return api[len("/rest") :] if api.startswith("/rest/") else api


def _parse_body(raw: bytes, content_type: str) -> tuple[dict[str, Any] | None, str | None]:
    """(body, error): a JSON object, or None with the reason a 700 names."""
    if not raw.strip():
        return None, None
    if "json" not in content_type.lower():
        return None, "the body must be JSON (Content-Type: application/json)"
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, "the body is not valid JSON"
    if not isinstance(body, dict):
        return None, "the body must be a JSON object"
    return body, None


def _single_request(params: Mapping[str, Any]) -> dict[str, Any]:
    """The one object of `requestParams`, sent as a JSON array or as a string holding one."""
    if "requestParams" not in params:
        raise _invalid("requestParams is required")
    value = params["requestParams"]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _invalid("requestParams is not a JSON array") from None
    if not isinstance(value, list):
        raise _invalid("requestParams must be a JSON array")
    if len(value) != 1 or not isinstance(value[0], dict):
        raise _invalid("requestParams must hold exactly one object")
    return dict(value[0])


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_int(value: Any) -> int | None:
    """An integer from 800 or "800" (the samples send strings); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _int_field(
    fields: Mapping[str, Any], name: str, low: int, high: int, default: int | None, errors: list[str]
) -> int | None:
    value = fields.get(name)
    if _is_unset(value):
        if default is None:
            errors.append(f"{name} is required")
        return default
    number = _as_int(value)
    if number is None or not low <= number <= high:
        errors.append(f"{name} must be {low}-{high}")
        return None
    return number


def _optional_int(fields: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    if _is_unset(fields.get(name)):
        return None
    errors: list[str] = []
    number = _int_field(fields, name, low, high, None, errors)
    if errors:
        raise _invalid(errors[0])
    return number


def _bool_field(fields: Mapping[str, Any], name: str, default: bool, errors: list[str]) -> bool:
    value = fields.get(name)
    if _is_unset(value):
        return default
    flag = _as_bool(value)
    if flag is None:
        errors.append(f"{name} must be true or false")
        return default
    return flag


def _choice_field(
    fields: Mapping[str, Any], name: str, allowed: frozenset[str], required: bool, errors: list[str]
) -> str | None:
    value = fields.get(name)
    if _is_unset(value):
        if required:
            errors.append(f"{name} is required")
        return None
    if not isinstance(value, str) or value not in allowed:
        errors.append(f"{name} must be one of {', '.join(sorted(allowed))}")
        return None
    return value


def _scene_type(value: Any) -> int | None:
    if _is_unset(value):
        return None
    number = _as_int(value)
    if number is None and isinstance(value, str):
        # The doc's own sample passes the word ("Indoor").
        names = {name.lower(): key for key, name in SCENE_TYPE_NAMES.items()}
        number = names.get(value.strip().lower())
    if number not in SCENE_TYPE_NAMES:
        raise _invalid("sceneType must be 1-4 or one of Indoor, Outdoor, Atmosphere, Promotion")
    return number


def _validate_scene(fields: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[tuple[int, int], ...]]:
    """Checks a scene background request; all bad fields are named in one 700, like the service."""
    errors: list[str] = []
    model_num = _text(fields.get("modelNum"))
    if not model_num:
        errors.append("modelNum is required")
    elif model_num not in SCENES_BY_ID:
        errors.append(f"modelNum {model_num} is not a known scene")
    need_layout = _bool_field(fields, "needLayout", False, errors)
    title = fields.get("productTitle")
    if not _is_unset(title) and (not isinstance(title, str) or len(title) > MAX_TITLE_CHARS):
        errors.append(f"productTitle must be a string of at most {MAX_TITLE_CHARS} characters")
    width, height = _scene_size(fields, errors)
    image_num = _int_field(fields, "imageNum", 2, 10, 4, errors)
    image_size = _check_image(fields, "imgBase64", "imageFileUrl", errors)
    if errors:
        raise _invalid("; ".join(errors))
    assert width is not None and height is not None and image_num is not None and image_size is not None
    params = {
        "modelNum": model_num,
        "needLayout": need_layout,
        "productTitle": _text(title),
        "width": width,
        "height": height,
        "imageNum": image_num,
        "inputSize": image_size,
    }
    return params, ((width, height),) * image_num


def _scene_size(fields: Mapping[str, Any], errors: list[str]) -> tuple[int | None, int | None]:
    """`width` and `height`, both required, and together one of the two documented sizes."""
    missing = [name for name in ("width", "height") if _is_unset(fields.get(name))]
    if missing:
        errors.extend(f"{name} is required" for name in missing)
        return None, None
    width, height = _as_int(fields.get("width")), _as_int(fields.get("height"))
    if width is None or height is None or (width, height) not in SCENE_SIZES:
        errors.append("width/height must be 800x800 or 750x1000")
        return None, None
    return width, height


def _validate_model(fields: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[tuple[int, int], ...]]:
    """Checks a virtual model request (both API generations' spellings are accepted)."""
    errors: list[str] = []
    style = fields.get("imageStyle")
    if _is_unset(style):
        errors.append("imageStyle is required")
    elif style != "realPhoto":
        errors.append("imageStyle must be realPhoto")
    model = _choice_field(fields, "model", MODELS, True, errors)
    gender = _choice_field(fields, "gender", GENDERS, False, errors)
    age = _choice_field(fields, "age", AGES, False, errors)
    flag_name = "maskKeepbg" if "maskKeepbg" in fields else "maskKeepBg"
    keep_bg = _bool_field(fields, flag_name, True, errors)
    bg_style = _choice_field(fields, "bgStyle", BG_STYLES, not keep_bg, errors)
    count = _int_field(fields, "count", 1, 4, 2, errors)
    dimension = _int_field(fields, "dimension", 512, 2048, 768, errors)
    image_size = _check_image(fields, "imageBase64", "imageUrl", errors)
    if errors:
        raise _invalid("; ".join(errors))
    assert count is not None and dimension is not None and image_size is not None
    params = {
        "imageStyle": style,
        "model": model,
        "gender": gender,
        "age": age,
        "maskKeepbg": keep_bg,
        "bgStyle": bg_style,
        "count": count,
        "dimension": dimension,
        "inputSize": image_size,
    }
    return params, (_model_output_size(image_size, dimension),) * count


def _model_output_size(input_size: tuple[int, int], dimension: int) -> tuple[int, int]:
    """The short side becomes `dimension`, the input's aspect ratio is kept."""
    width, height = input_size
    if width <= height:
        return dimension, round(height * dimension / width)
    return round(width * dimension / height), dimension


def _check_image(
    fields: Mapping[str, Any], base64_name: str, url_name: str, errors: list[str]
) -> tuple[int, int] | None:
    """The input image's size after the documented checks; base64 wins over the URL."""
    encoded, url = fields.get(base64_name), fields.get(url_name)
    if not _is_unset(encoded):
        name = base64_name
        if not isinstance(encoded, str):
            errors.append(f"{name} must be a base64 string")
            return None
        try:
            data = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            errors.append(f"{name} is not valid base64")
            return None
    elif not _is_unset(url):
        name = url_name
        fetched = _fetch(url) if isinstance(url, str) else None
        if fetched is None:
            errors.append(f"{name} cannot be fetched")
            return None
        data = fetched
    else:
        errors.append(f"{base64_name} or {url_name} is required")
        return None
    if len(data) > MAX_INPUT_BYTES:
        errors.append(f"{name} image must be at most 4 MB")
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, size = image.format, image.size
            if image_format not in INPUT_FORMATS:
                errors.append(f"{name} image must be JPEG, PNG, BMP or WEBP")
                return None
            # "More than 512x512 and less than 3000x3000 pixels": both bounds are exclusive.
            if not all(MIN_SIDE < side < MAX_SIDE for side in size):
                errors.append(
                    f"{name} image sides must be more than {MIN_SIDE} and less than {MAX_SIDE} px "
                    f"(got {size[0]}x{size[1]})"
                )
                return None
            image.load()  # a truncated file opens fine and fails here
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        errors.append(f"{name} is not a readable image")
        return None
    return size


def _fetch(url: str) -> bytes | None:
    # One byte past the limit is enough to know the image is too large.
    return loopback_fetch(url, MAX_INPUT_BYTES + 1)


_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset({"and", "on", "the", "for", "with", "of", "a", "in"})


def _stem(word: str) -> str:
    # Enough stemming for "shoes"/"shoe", "toys"/"toy"; not for "dress".
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _title_words(title: str) -> set[str]:
    words = {_stem(w) for w in _WORD.findall(title.lower()) if w not in _STOPWORDS}
    rest = title
    for chinese in sorted(CHINESE_WORDS, key=len, reverse=True):
        if chinese in rest:
            words.add(_stem(CHINESE_WORDS[chinese]))
            rest = rest.replace(chinese, " ")
    return words


@functools.cache
def _scene_words(scene: Scene) -> frozenset[str]:
    text = " ".join((scene.name, *scene.keywords, *(CATEGORY_NAMES[c] for c in scene.categories)))
    return frozenset(_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS)


# -------------------------------------------------------------------- images
def _hue_of(task_id: str) -> float:
    return int(hashlib.sha256(task_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


@functools.lru_cache(maxsize=64)
def _result_image(width: int, height: int, hue: float, index: int) -> bytes:
    """A flat colour per task and index, a lighter "floor", and index+1 dark tiles to tell them apart."""
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[:] = _rgb(hue + index * 0.13, 0.55, 0.85)
    pixels[height * 2 // 3 :] = _rgb(hue + index * 0.13, 0.25, 0.95)
    tile = max(8, min(width, height) // 20)
    for n in range(index + 1):
        left = tile * (1 + 2 * n)
        if left + tile <= width:
            pixels[tile : 2 * tile, left : left + tile] = 30
    return _png(pixels)


@functools.lru_cache(maxsize=len(CATALOGUE))
def _cover_image(position: int) -> bytes:
    """A 200x200 cover whose colour differs per scene: sky hue above, a darker ground below."""
    hue = position / len(CATALOGUE)
    pixels = np.empty((200, 200, 3), dtype=np.uint8)
    pixels[:] = _rgb(hue, 0.45, 0.95)
    pixels[130:] = _rgb(hue, 0.7, 0.6)
    return _png(pixels)


def _png(pixels: np.ndarray[Any, Any]) -> bytes:
    buffer = io.BytesIO()
    # Flat colours compress well even at the fastest level; speed matters more than size here.
    Image.fromarray(pixels, "RGB").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# -------------------------------------------------------------------- standalone
def main(argv: list[str] | None = None) -> int:
    return AidgeEmulator.main(argv)


# -------------------------------------------------------------------- contract test
@contextlib.contextmanager
def contract_case() -> Iterator[ContractCase]:
    """The provider contract test's run (tests/emulators/contract.py): both operations, two images each."""
    with AidgeEmulator("contract-key", "contract-secret", queries_to_finish=2) as emulator:
        context = ProviderContext(
            credentials={"access_key_name": "contract-key", "access_key_secret": "contract-secret"},
            endpoint=emulator.base_url,
            session=new_session(),
        )
        requests = [
            GenerationRequest(
                Operation.SCENE_BACKGROUND,
                contract.photo(640, 640),
                scene_id="mod001",
                count=2,
                size=(800, 800),
            ),
            GenerationRequest(
                Operation.MODEL_SWAP,
                contract.photo(640, 640),
                count=2,
                params=Aidge.check_params(Operation.MODEL_SWAP, {}),
            ),
        ]
        yield ContractCase(context, requests, None, emulator)


if __name__ == "__main__":
    sys.exit(main())
