"""A loopback emulator of the Alibaba Cloud Marketplace gateway and DAMO's bg-rep service (cmapi00069649).

It serves what providers/aliyun_market.py calls (shared/providers.md section 2, seed 001):

- `POST /api/v1/bg-rep/submit`          create a task from up to 10 sub-tasks
- `POST /api/v1/bg-rep/query`           a task's sub-tasks, their states and result URLs
- `GET  /results/{key}/{sub}/{n}.png`   the result images (no auth, like the vendor's CDN links)

The gateway comes first, as on the real marketplace: an unknown path or method
is 400 "Invalid Url"; `Authorization` must be exactly `APPCODE <code>` (else
400 "Invalid AppCode `not exists`"); `X-Ca-Nonce` is required and accepted once
within 15 minutes (a reuse is 400 "Nonce Used": the real message is not
documented). Gateway errors carry `X-Ca-Error-Message` and `X-Ca-Request-Id`
headers and an empty body.

Then the service checks the body and every field with its documented range,
answering the seller's codes with their HTTP statuses (`ERRORS`). It downloads
the image and mask URLs it is given, as the real service does (from loopback
only, so tests stay offline): an unreachable link is 23500006; an image that is
not JPEG/PNG/WEBP/BMP or has a side outside 400..4096, or a mask whose size
differs from the image's, is 23500007. Each sub-task walks WAITING -> RUNNING ->
SUCCESS over successive queries (sub-task j a step behind sub-task j-1); its
results are PNGs at the input's size with the product kept (through the mask,
the image's alpha, or else the middle of the picture) and a new background
coloured by the prompt, one hue per output.

Tests can inject every documented service code (`fail_next`), any gateway
error (`gateway_error_next`) and failed sub-tasks (`fail_task_next`), and read
back every call (`requests`, `calls(route)`, `submits`, `tasks`).

Use it as a context manager, from a pytest fixture, or as a separate process:

    python -m tests.emulators.aliyun_market --port 0 --appcode CODE

prints `ALIYUN_BGREP_EMULATOR_URL=http://127.0.0.1:PORT` and serves until
killed (point ALIYUN_BGREP_BASE_URL at it).

Pure stdlib plus numpy/Pillow (to check inputs and draw results).
"""

from __future__ import annotations

import argparse
import colorsys
import contextlib
import hashlib
import io
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from providers.base import GenerationRequest, Operation, ProviderContext
from providers.http import new_session
from tests.emulators import contract
from tests.emulators.contract import ContractCase
from tests.emulators.loopback import LoopbackHandler, VendorEmulator, is_loopback_url, loopback_fetch
from tests.emulators.static_files import StaticFiles

SUBMIT_PATH = "/api/v1/bg-rep/submit"
QUERY_PATH = "/api/v1/bg-rep/query"
RESULTS_PREFIX = "/results/"

MIN_SIDE = 400
MAX_SIDE = 4096
MAX_PROMPT_CHARS = 500
MAX_TASKS = 10
MAX_DOWNLOAD_BYTES = 30 * 1024 * 1024
NONCE_WINDOW_S = 15 * 60
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP"})
JAVA_INT = (-(2**31), 2**31 - 1)

Route = Literal["submit", "query"]
ROUTES: frozenset[str] = frozenset({"submit", "query"})

# The seller's status table: code -> (HTTP status, message).
ERRORS: Mapping[str, tuple[int, str]] = {
    "23500000": (500, "Internal server error"),
    "23500001": (401, "Authorization required to perform current operation"),
    "23500002": (404, "Specified service does not exist"),
    "23500003": (403, "User credit points are exhausted"),
    "23500004": (403, "Request was denied due to request throttling"),
    "23500005": (403, "The image did not pass the content compliance check"),
    "23500006": (400, "The image url provided is invalid or non-accessible"),
    "23500007": (400, "The uploaded image does not meet the requirements"),
    "23500008": (400, "No records found related to the specified resultKey parameter"),
    "23500009": (400, "Required parameters cannot be empty"),
    "23500011": (500, "Job execution failed"),
    "23500012": (400, "Required request body is missing"),
    "23500013": (400, "Illegal input parameter found"),
    "23500014": (400, "Illegal service name"),
}

# Gateway messages (X-Ca-Error-Message) this emulator produces by itself.
INVALID_URL = "Invalid Url"
INVALID_APPCODE = "Invalid AppCode `not exists`"
NONCE_REQUIRED = "Header `X-Ca-Nonce` is Required"
NONCE_USED = "Nonce Used"
# The documented gateway messages with their statuses, for tests that inject them.
GATEWAY_ERRORS: Mapping[str, int] = {
    INVALID_APPCODE: 400,
    INVALID_URL: 400,
    "Invalid Param Location": 400,
    "Unauthorized": 403,
    "Quota Exhausted": 403,
    "Api Market Subscription quota exhausted": 403,
    "Quota Expired": 403,
    "User Arrears": 403,
    "Throttled by USER Flow Control": 403,
    "Throttled by APP Flow Control": 403,
    "Throttled by API Flow Control": 403,
    "Timestamp Expired": 400,
    NONCE_USED: 400,
}

REQUIRED_FIELDS = ("image", "positive_prompt", "guidance_scale", "strength", "steps", "num_output")


class _Fail(Exception):
    """A service error: answered with the table's status and the JSON envelope."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        status, message = ERRORS[code]
        super().__init__(detail or message)
        self.code = code
        self.status = status
        self.message = f"{message}: {detail}" if detail else message


@dataclass(frozen=True)
class RecordedRequest:
    """One call as it arrived, with what the emulator answered."""

    route: str  # "submit", "query" or "other"
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # the parsed JSON, None when it was not JSON
    raw: bytes
    status: int = 200
    outcome: str = "ok"  # "ok", a service code, or "gateway: <message>"


@dataclass
class SubTask:
    """One item of a task_list: its echoed fields, its decoded inputs, and where it is on its walk."""

    fields: dict[str, Any]
    image: Image.Image
    alpha: np.ndarray  # float 0..1, 1 = product kept
    failure: str | None = None
    status: str = "WAITING"
    results: list[bytes] = field(default_factory=list)


@dataclass
class Task:
    result_key: str
    created: float
    subtasks: list[SubTask]
    queries: int = 0


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    outcome: str


class AliyunMarketEmulator(VendorEmulator["RecordedRequest"]):
    """The emulated gateway + service. `start()` it (or use `with`); `base_url` is `http://127.0.0.1:PORT`."""

    provider_key = "aliyun_market"
    announce = "ALIYUN_BGREP_EMULATOR_URL"
    description = "Loopback emulator of the Alibaba Cloud Marketplace bg-rep API (cmapi00069649)."

    def __init__(
        self,
        appcode: str = "test-appcode-0123456789abcdef",
        queries_to_finish: int = 2,
        *,
        clock: Callable[[], float] = time.time,
        nonce_window_s: float = NONCE_WINDOW_S,
        code_as_string: bool = True,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.appcode = appcode
        self.queries_to_finish = max(1, queries_to_finish)
        self.clock = clock
        self.nonce_window_s = nonce_window_s
        # Error codes go out as strings like the seller's table ("23500008"); success is a numeric 0.
        self.code_as_string = code_as_string
        self._tasks: dict[str, Task] = {}
        self._nonces: dict[str, float] = {}
        self._service_failures: list[tuple[str | None, str, str | None]] = []
        self._gateway_failures: list[tuple[str | None, int, str]] = []

    # ------------------------------------------------------------ lifecycle
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    # ------------------------------------------------------------ inspection
    def calls(self, route: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.route == route]

    @property
    def submits(self) -> int:
        """How many submits created a task."""
        with self._lock:
            return len(self._tasks)

    @property
    def tasks(self) -> dict[str, Task]:
        """A snapshot of result_key -> Task (the Task objects are live)."""
        with self._lock:
            return dict(self._tasks)

    # ------------------------------------------------------------ command line
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--appcode", default="test-appcode-0123456789abcdef")
        parser.add_argument("--queries-to-finish", type=int, default=2)

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> AliyunMarketEmulator:
        return cls(args.appcode, args.queries_to_finish, port=args.port)

    # ------------------------------------------------------------ fault injection
    def fail_next(self, code: str | int, *, route: Route | None = None, message: str | None = None) -> None:
        """The next API call (of `route`, or any) answers service error `code` with its documented status."""
        key = str(code)
        if key not in ERRORS:
            raise ValueError(f"unknown service code {code!r}; one of {sorted(ERRORS)}")
        if route is not None and route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTES)}")
        with self._lock:
            self._service_failures.append((route, key, message))

    def gateway_error_next(self, status: int, message: str, *, route: Route | None = None) -> None:
        """The next API call (of `route`, or any) is refused by the gateway: `status`, the message in
        `X-Ca-Error-Message`, an empty body. The service never sees it."""
        if route is not None and route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTES)}")
        with self._lock:
            self._gateway_failures.append((route, status, message))

    def fail_task_next(self, message: str = "Job execution failed") -> None:
        """Every sub-task of the next task created ends FAILED with `message` instead of SUCCESS."""
        self._queue_switch("task", message)

    # ------------------------------------------------------------ request handling (handler threads)
    def _handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> _Reply:
        route = {SUBMIT_PATH: "submit", QUERY_PATH: "query"}.get(path) if method == "POST" else None
        body = _json(raw)
        reply = self._answer(route, headers, body, raw)
        self._record_request(
            RecordedRequest(
                route=route or "other",
                method=method,
                path=path,
                headers=headers,
                body=body,
                raw=raw,
                status=reply.status,
                outcome=reply.outcome,
            )
        )
        return reply

    def _answer(self, route: str | None, headers: dict[str, str], body: Any, raw: bytes) -> _Reply:
        gateway = self._gateway(route, headers)
        if gateway is not None:
            return gateway
        injected = self._take_service_failure(route)
        try:
            if injected is not None:
                raise _Fail(injected[0], injected[1])
            if not raw.strip():
                raise _Fail("23500012")
            if not isinstance(body, dict):
                raise _Fail("23500013", "the body is not a JSON object")
            data = body.get("data")
            if not isinstance(data, dict):
                raise _Fail("23500012", "data")
            if route == "submit":
                return self._ok(self._submit(data))
            return self._ok(self._query(data))
        except _Fail as fail:
            return self._error(fail)

    def _gateway(self, route: str | None, headers: Mapping[str, str]) -> _Reply | None:
        """The marketplace gateway's checks, in its order: the API, the AppCode, the nonce."""
        with self._lock:
            for index, (wanted, status, message) in enumerate(self._gateway_failures):
                if wanted is None or wanted == route:
                    del self._gateway_failures[index]
                    return _gateway_reply(status, message)
        if route is None:
            return _gateway_reply(400, INVALID_URL)
        if headers.get("authorization", "") != f"APPCODE {self.appcode}":
            return _gateway_reply(400, INVALID_APPCODE)
        nonce = headers.get("x-ca-nonce", "").strip()
        if not nonce:
            return _gateway_reply(400, NONCE_REQUIRED)
        now = self.clock()
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if now - t < self.nonce_window_s}
            if nonce in self._nonces:
                return _gateway_reply(400, NONCE_USED)
            self._nonces[nonce] = now
        return None

    def _take_service_failure(self, route: str | None) -> tuple[str, str | None] | None:
        with self._lock:
            for index, (wanted, code, message) in enumerate(self._service_failures):
                if wanted is None or wanted == route:
                    del self._service_failures[index]
                    return code, message
        return None

    # ------------------------------------------------------------ submit
    def _submit(self, data: Mapping[str, Any]) -> dict[str, Any]:
        items = data.get("task_list")
        if items is None or items == []:
            raise _Fail("23500009", "task_list")
        if not isinstance(items, list) or len(items) > MAX_TASKS:
            raise _Fail("23500013", f"task_list must be an array of 1 to {MAX_TASKS} tasks")
        checked = [_check_item(item) for item in items]
        # Like the service, fetch every input before accepting the task.
        subtasks = [_load_inputs(item) for item in checked]
        failure = self._take_switch("task")
        with self._lock:
            task = Task(uuid.uuid4().hex, self.clock(), subtasks)
            for subtask in subtasks:
                subtask.failure = failure
            self._tasks[task.result_key] = task
        return {
            "result_key": task.result_key,
            "task_list": [{**subtask.fields, "status": "WAITING"} for subtask in subtasks],
        }

    # ------------------------------------------------------------ query
    def _query(self, data: Mapping[str, Any]) -> dict[str, Any]:
        result_key = data.get("result_key")
        if result_key is None or result_key == "":
            raise _Fail("23500009", "result_key")
        if not isinstance(result_key, str):
            raise _Fail("23500013", "result_key must be a string")
        with self._lock:
            task = self._tasks.get(result_key)
            if task is None:
                raise _Fail("23500008")
            task.queries += 1
            for index, subtask in enumerate(task.subtasks):
                self._advance(subtask, task.queries - index)
            walked = [
                (dict(subtask.fields), subtask.status, subtask.failure, len(subtask.results))
                for subtask in task.subtasks
            ]
        items = []
        for index, (fields, status, failure, produced) in enumerate(walked):
            item: dict[str, Any] = {**fields, "status": status}
            item["message"] = failure if status == "FAILED" else "success"
            item["results"] = [
                f"{self.base_url}{RESULTS_PREFIX}{task.result_key}/{index}/{n}.png" for n in range(produced)
            ]
            items.append(item)
        return {"result_key": task.result_key, "task_list": items}

    def _advance(self, subtask: SubTask, steps: int) -> None:
        """Moves a sub-task to where `steps` queries take it (caller holds the lock).

        The last query before the end finds it RUNNING, earlier ones WAITING. Results are drawn
        before the status says SUCCESS, so no answer ever lists a success without its images."""
        if subtask.status in ("SUCCESS", "FAILED"):
            return
        if steps >= self.queries_to_finish:
            if subtask.failure is None:
                subtask.results = _render(subtask)
            subtask.status = "FAILED" if subtask.failure is not None else "SUCCESS"
        elif steps >= 1 and steps == self.queries_to_finish - 1:
            subtask.status = "RUNNING"

    # ------------------------------------------------------------ results
    def _served(self, path: str) -> tuple[int, str, bytes]:
        match = re.fullmatch(r"/results/([0-9a-f]{32})/(\d+)/(\d+)\.png", path)
        with self._lock:
            task = self._tasks.get(match.group(1)) if match else None
        if match is None or task is None:
            return 404, "text/plain", b"Not Found"
        sub, n = int(match.group(2)), int(match.group(3))
        if sub >= len(task.subtasks) or n >= len(task.subtasks[sub].results):
            return 404, "text/plain", b"Not Found"
        return 200, "image/png", task.subtasks[sub].results[n]

    # ------------------------------------------------------------ envelopes
    def _ok(self, data: dict[str, Any]) -> _Reply:
        document = {
            "code": 0,
            "data": data,
            "message": "success",
            "requestId": str(uuid.uuid4()).upper(),
            "severity": "info",
            "success": True,
        }
        return _json_reply(200, document, "ok")

    def _error(self, fail: _Fail) -> _Reply:
        document = {
            "code": fail.code if self.code_as_string else int(fail.code),
            "data": None,
            "message": fail.message,
            "requestId": str(uuid.uuid4()).upper(),
            "severity": "error",
            "success": False,
        }
        return _json_reply(fail.status, document, fail.code)


# -------------------------------------------------------------------- validation
def _check_item(item: Any) -> dict[str, Any]:
    """The documented field rules for one task_list item; returns the item."""
    if not isinstance(item, dict):
        raise _Fail("23500013", "each task must be an object")
    for name in REQUIRED_FIELDS:
        if item.get(name) is None or item.get(name) == "":
            raise _Fail("23500009", name)
    for name in ("image", "mask"):
        if name in item and not _is_http_url(item[name]):
            raise _Fail("23500006", f"{name} must be an http(s) URL")
    for name in ("positive_prompt", "negative_prompt"):
        if name in item:
            text = item[name]
            if not isinstance(text, str) or len(text) > MAX_PROMPT_CHARS:
                raise _Fail("23500013", f"{name} must be text of at most {MAX_PROMPT_CHARS} characters")
    if not item["positive_prompt"].strip():
        raise _Fail("23500009", "positive_prompt")
    guidance = item["guidance_scale"]
    if not _is_number(guidance) or not 1 <= guidance <= 20:
        raise _Fail("23500013", "guidance_scale must be a number in [1, 20]")
    strength = item["strength"]
    if not _is_number(strength) or not 0 < strength <= 1:
        raise _Fail("23500013", "strength must be a number in (0, 1]")
    steps = item["steps"]
    if not _is_int(steps) or not 15 <= steps <= 50:
        raise _Fail("23500013", "steps must be an integer in [15, 50]")
    count = item["num_output"]
    if not _is_int(count) or not 1 <= count <= 4:
        raise _Fail("23500013", "num_output must be an integer in [1, 4]")
    if "seed" in item and item["seed"] is not None:
        seed = item["seed"]
        if not _is_int(seed) or not JAVA_INT[0] <= seed <= JAVA_INT[1]:
            raise _Fail("23500013", "seed must be an integer")
    return item


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _load_inputs(item: dict[str, Any]) -> SubTask:
    """Downloads and checks the image and mask like the service: 23500006 unreachable, 23500007 unusable."""
    image = _open(_download(item["image"]), "image")
    if image.format not in IMAGE_FORMATS:
        raise _Fail("23500007", f"image format {image.format} is not supported")
    width, height = image.size
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
        raise _Fail("23500007", f"image is {width}x{height}; each side must be {MIN_SIDE} to {MAX_SIDE} px")
    if item.get("mask"):
        mask = _open(_download(item["mask"]), "mask")
        if mask.size != image.size:
            raise _Fail("23500007", f"mask is {mask.size[0]}x{mask.size[1]}, image is {width}x{height}")
        if mask.mode == "P":
            mask = mask.convert("RGBA")
        # The three accepted forms: one channel, three channels (255 = product), or RGBA's alpha.
        grey = mask.getchannel("A") if "A" in mask.getbands() else mask.convert("L")
        alpha = np.asarray(grey, np.float32) / 255.0
    elif "A" in image.getbands():
        alpha = np.asarray(image.getchannel("A"), np.float32) / 255.0
    else:
        # No mask: the emulated segmentation "finds" the middle of the picture.
        alpha = np.zeros((height, width), np.float32)
        alpha[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = 1.0
    return SubTask(fields=dict(item), image=image.convert("RGB"), alpha=alpha)


def _download(url: str) -> bytes:
    """Fetches an input like the service would, but only from loopback: tests stay offline."""
    if not is_loopback_url(url):
        raise _Fail("23500006", "the URL cannot be reached")
    data = loopback_fetch(url, MAX_DOWNLOAD_BYTES + 1)
    if data is None:
        raise _Fail("23500006", "the URL cannot be downloaded")
    if not data:
        raise _Fail("23500006", "the URL gave an empty file")
    return data


def _open(data: bytes, role: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _Fail("23500007", f"the {role} cannot be decoded") from None
    return image


# -------------------------------------------------------------------- images
def _render(subtask: SubTask) -> list[bytes]:
    """`num_output` PNGs at the input's size: the product kept through its alpha, a new background
    (a vertical gradient whose hue comes from the prompt, shifted per output) everywhere else."""
    rgb = np.asarray(subtask.image, np.float32)
    height, width = rgb.shape[:2]
    alpha = subtask.alpha[..., None]
    prompt = str(subtask.fields.get("positive_prompt", ""))
    base_hue = int(hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    shade = np.linspace(0.75, 1.0, height, dtype=np.float32)[:, None, None]
    images = []
    for n in range(int(subtask.fields["num_output"])):
        r, g, b = colorsys.hsv_to_rgb((base_hue + n * 0.17) % 1.0, 0.6, 0.85)
        background = np.broadcast_to(np.array([r, g, b], np.float32) * 255.0, (height, width, 3)) * shade
        out = rgb * alpha + background * (1.0 - alpha)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB").save(
            buffer, "PNG", compress_level=1
        )
        images.append(buffer.getvalue())
    return images


# -------------------------------------------------------------------- HTTP plumbing
def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _json_reply(status: int, document: Mapping[str, Any], outcome: str) -> _Reply:
    headers = {"Content-Type": "application/json;charset=UTF-8", "X-Ca-Request-Id": str(uuid.uuid4()).upper()}
    return _Reply(status, headers, json.dumps(document, ensure_ascii=False).encode("utf-8"), outcome)


def _gateway_reply(status: int, message: str) -> _Reply:
    headers = {"X-Ca-Error-Message": message, "X-Ca-Request-Id": str(uuid.uuid4()).upper()}
    return _Reply(status, headers, b"", f"gateway: {message}")


class _Handler(LoopbackHandler):
    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith(RESULTS_PREFIX):
            fault = self.server.emulator._result_fault()
            status, content_type, payload = fault if fault is not None else self.server.emulator._served(path)
            self._send(_Reply(status, {"Content-Type": content_type}, payload, "ok"))
            return
        self._api("GET")

    def do_POST(self) -> None:
        self._api("POST")

    def do_PUT(self) -> None:
        self._api("PUT")

    def _api(self, method: str) -> None:
        raw = self.read_body()
        path = urllib.parse.urlsplit(self.path).path
        self._send(self.server.emulator._handle(method, path, self.lower_headers(), raw))

    def _send(self, reply: _Reply) -> None:
        self.send_headers_and_body(reply.status, reply.headers, reply.body)


# -------------------------------------------------------------------- standalone
def main(argv: list[str] | None = None) -> int:
    return AliyunMarketEmulator.main(argv)


# -------------------------------------------------------------------- contract test
@contextlib.contextmanager
def contract_case() -> Iterator[ContractCase]:
    """The provider contract test's run (tests/emulators/contract.py)."""
    with AliyunMarketEmulator("contract-appcode", queries_to_finish=2) as emulator, StaticFiles() as files:
        context = ProviderContext(
            credentials={"appcode": "contract-appcode"}, endpoint=emulator.base_url, session=new_session()
        )
        request = GenerationRequest(
            Operation.PROMPT_BACKGROUND,
            contract.photo(640, 480),
            prompt="marble",
            count=2,
            image_url=files.host("photo.png", contract.photo(640, 480)),
            mask_url=files.host("mask.png", contract.mask(640, 480)),
        )
        # The result has the input's size.
        yield ContractCase(context, [request], (640, 480), emulator)


if __name__ == "__main__":
    sys.exit(main())
