"""A loopback emulator of DashScope (Alibaba Cloud Model Studio) for `wanx-background-generation-v2`.

It serves what providers/dashscope.py calls (shared/providers.md section 4,
shared/image-hosting.md section 1, seed 003):

- `GET  /api/v1/uploads?action=getPolicy&model=...`   temporary-storage upload policy (Bearer)
- `POST /oss`                                          the OSS form upload (PostObject) of that policy
- `POST /api/v1/services/aigc/background-generation/generation[/]`   submit (Bearer + X-DashScope-Async)
- `GET  /api/v1/tasks/{task_id}`                       task status and results (Bearer)
- `GET  /results/{task_id}/{n}.png`                    the result images (no auth, like signed OSS links)

Every call is checked the way the service does: the Bearer key (401
InvalidApiKey), the workspace when one is configured, `X-DashScope-Async:
enable` on submit (403 "current user api does not support synchronous calls"),
the model name, every documented field and range (400 InvalidParameter), the
account's limits (submit QPS 2 and 1 task in flight; 429 Throttling.RateQuota /
Throttling). `oss://` URLs are resolved from its own temporary storage only when
`X-DashScope-OssResourceResolve: enable` is sent; the upload itself checks the
policy's signature, expiry (5 minutes by default), key prefix, size and
no-overwrite rule, and answers OSS's XML errors. The inputs are downloaded at
submit (http(s) from loopback only; anything else cannot be downloaded), and
a bad download or a base image that is not an RGBA PNG with a transparent
background and a long side <= 2048 makes the task FAILED, as the service does.
Tasks walk PENDING -> RUNNING -> SUCCEEDED | FAILED by query count and clock;
results have the base image's size and `usage.image_count` counts them.
Tests can inject every documented error and read back every call.

Use it as a context manager, from a pytest fixture, or as a separate process:

    python -m tests.emulators.dashscope --port 0 --api-key K

prints `DASHSCOPE_EMULATOR_URL=http://127.0.0.1:PORT` and serves until killed
(point DASHSCOPE_BASE_URL at it, with or without `/api/v1`).

Pure stdlib plus numpy/Pillow (to check inputs and draw results).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import colorsys
import contextlib
import datetime as dt
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
from tests.emulators.loopback import LoopbackHandler, VendorEmulator, loopback_fetch

MODEL = "wanx-background-generation-v2"
API_PREFIX = "/api/v1"
SUBMIT_PATH = "/api/v1/services/aigc/background-generation/generation"
UPLOADS_PATH = "/api/v1/uploads"
TASKS_PREFIX = "/api/v1/tasks/"
OSS_PATH = "/oss"
BUCKET = "dashscope-instant"

MAX_BASE_SIDE = 2048
MAX_EDGES = 10
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
TASK_TTL_S = 24 * 3600
OSS_OBJECT_TTL_S = 48 * 3600
MODEL_VERSIONS = frozenset({"v2", "v3"})

Route = Literal["policy", "upload", "submit", "query"]
ROUTES: frozenset[str] = frozenset({"policy", "upload", "submit", "query"})

# Request-level errors: code -> (HTTP status, message). The statuses for codes other than
# InvalidApiKey and InvalidParameter(.DataInspection) follow DashScope's usual mapping
# (providers.md 4.4: NOT VERIFIED from a doc page).
ERRORS: Mapping[str, tuple[int, str]] = {
    "InvalidApiKey": (401, "Invalid API-key provided."),
    "AccessDenied": (403, "Access denied."),
    "AccessDenied.Unpurchased": (
        403,
        "Access to model denied. Please make sure you are eligible for using the model.",
    ),
    # The injected default is a parameter problem; "Model not exist." (seed 003's FAQ) shares the code and
    # is what a wrong `model` gets (see _submit), or pass message=MODEL_NOT_EXIST.
    "InvalidParameter": (
        400,
        "Required parameter(s) missing or invalid, please check the request parameters.",
    ),
    "InvalidParameter.DataInspection": (
        400,
        "Download the media resource timed out during the data inspection process.",
    ),
    "Model.NotExist": (400, "Model not exist."),
    "DataInspectionFailed": (400, "Input data may contain inappropriate content."),
    "Throttling": (429, "Requests throttling triggered."),
    "Throttling.RateQuota": (429, "Requests rate limit exceeded, please try again later."),
    "Throttling.AllocationQuota": (429, "Allocated quota exceeded, please increase your quota limit."),
    "InternalError": (
        500,
        "An internal error has occured, please try again later or contact service support.",
    ),
    "ServiceUnavailable": (503, "Service unavailable, please try again later."),
    "GatewayTimeout": (504, "Gateway timeout."),
    "Arrearage": (400, "Access denied, please make sure your account is in good standing."),
}
SYNC_REFUSED = "current user api does not support synchronous calls"
MODEL_NOT_EXIST = "Model not exist."

# OSS PostObject errors (XML bodies): code -> (HTTP status, message).
OSS_ERRORS: Mapping[str, tuple[int, str]] = {
    "AccessDenied": (403, "Invalid according to Policy: Policy expired."),
    "SignatureDoesNotMatch": (
        403,
        "The request signature we calculated does not match the signature you provided.",
    ),
    "InvalidAccessKeyId": (403, "The OSS Access Key Id you provided does not exist in our records."),
    "EntityTooLarge": (400, "Your proposed upload exceeds the maximum allowed size."),
    "FileAlreadyExists": (409, "The object you specified already exists and can not be overwritten."),
    "InvalidArgument": (400, "The form is not valid."),
}

# Codes a finished task can carry in `output.code`, with the service's kind of message.
TASK_ERRORS: Mapping[str, str] = {
    "InvalidParameter.FileDownload": "download for input_image error",
    "BadRequest.UnsupportedFileFormat": "Base image require RGBA format, but is RGB",
    "InvalidParameter": "Base image long side exceeds 2048",
    "DataInspectionFailed": "Output data may contain inappropriate content.",
    "InternalError": "Algorithm process error.",
}

_OSS_ACCESS_KEY_ID = "LTAI5tEmulatorKeyId"
_OSS_SECRET = b"dashscope-emulator-oss-secret"
_STATES_IN_FLIGHT = frozenset({"PENDING", "RUNNING", "SUSPENDED"})


class _Fail(Exception):
    """A request-level failure: answered with this status and `{"code", "message", "request_id"}`."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None) -> None:
        default_status, default_message = ERRORS.get(code, (400, code))
        super().__init__(message or default_message)
        self.code = code
        self.message = message or default_message
        self.status = status or default_status


def _invalid(message: str) -> _Fail:
    return _Fail("InvalidParameter", message, 400)


@dataclass(frozen=True)
class RecordedRequest:
    """One API or upload call as it arrived, with what the emulator answered."""

    route: str  # "policy", "upload", "submit", "query" or "other"
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # submit: the parsed JSON (None if not JSON); upload: the text form fields
    form_order: tuple[str, ...] = ()  # upload: form field names in the order sent, "file" included
    file_name: str | None = None
    file_size: int = 0
    status: int = 200
    outcome: str = "ok"  # "ok" or the error code answered


@dataclass
class StoredObject:
    """A file in the emulated temporary storage; it cannot be read back, only resolved by a task."""

    key: str
    data: bytes
    content_type: str
    model: str
    created: float


@dataclass
class Task:
    """One generation task; `state` is what the last query reported."""

    task_id: str
    created: float
    body: dict[str, Any]
    headers: dict[str, str]
    count: int
    base_size: tuple[int, int] | None = None
    base_rgba: np.ndarray | None = None
    failure: tuple[str, str] | None = None  # (code, message) the task ends FAILED with
    failed_results: int = 0
    queries: int = 0
    state: str = "PENDING"
    ended: float | None = None


def _new_request_id() -> str:
    return str(uuid.uuid4())


def _stamp(seconds: float) -> str:
    """`YYYY-MM-DD HH:mm:ss.SSS`, the format of submit_time/scheduled_time/end_time (Beijing time)."""
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone(dt.timedelta(hours=8)))
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _oss_signature(policy: str) -> str:
    return base64.b64encode(hmac.new(_OSS_SECRET, policy.encode("ascii"), hashlib.sha1).digest()).decode()


class DashScopeEmulator(VendorEmulator["RecordedRequest"]):
    """The emulated service. `start()` it (or use `with`); `base_url` is `http://127.0.0.1:PORT`."""

    provider_key = "dashscope"
    announce = "DASHSCOPE_EMULATOR_URL"
    description = "Loopback emulator of DashScope wanx-background-generation-v2."

    def __init__(
        self,
        api_key: str = "sk-test",
        *,
        workspace: str | None = None,
        clock: Callable[[], float] = time.time,
        queries_to_finish: int = 2,
        seconds_to_finish: float = 0.0,
        submit_qps: float = 2.0,
        max_running: int = 1,
        policy_ttl_s: float = 300.0,
        max_file_size_mb: int = 100,
        include_usage: bool = True,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.api_key = api_key
        self.workspace = workspace
        self.clock = clock
        self.queries_to_finish = queries_to_finish
        self.seconds_to_finish = seconds_to_finish
        self.submit_qps = submit_qps
        self.max_running = max_running
        self.policy_ttl_s = policy_ttl_s
        self.max_file_size_mb = max_file_size_mb
        self.include_usage = include_usage
        self._tasks: dict[str, Task] = {}
        self._objects: dict[str, StoredObject] = {}
        self._policies: dict[str, str] = {}  # upload_dir -> model named in getPolicy
        self._submit_times: list[float] = []

    # ------------------------------------------------------------ lifecycle
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def api_url(self) -> str:
        """The value for DASHSCOPE_BASE_URL: `http://127.0.0.1:PORT/api/v1`."""
        return self.base_url + API_PREFIX

    # ------------------------------------------------------------ inspection
    def calls(self, route: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.route == route]

    @property
    def tasks(self) -> dict[str, Task]:
        """A snapshot of task id -> Task (the Task objects are live)."""
        with self._lock:
            return dict(self._tasks)

    @property
    def objects(self) -> dict[str, StoredObject]:
        """A snapshot of the temporary storage, key -> object."""
        with self._lock:
            return dict(self._objects)

    def submits(self) -> int:
        """How many submits created a task."""
        with self._lock:
            return len(self._tasks)

    # ------------------------------------------------------------ command line
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--api-key", default="sk-test")
        parser.add_argument("--workspace", default=None)
        parser.add_argument("--queries-to-finish", type=int, default=2)
        parser.add_argument("--seconds-to-finish", type=float, default=0.0)
        parser.add_argument("--submit-qps", type=float, default=2.0)
        parser.add_argument("--max-running", type=int, default=1)
        parser.add_argument("--policy-ttl-s", type=float, default=300.0)

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> DashScopeEmulator:
        return cls(
            args.api_key,
            workspace=args.workspace,
            queries_to_finish=args.queries_to_finish,
            seconds_to_finish=args.seconds_to_finish,
            submit_qps=args.submit_qps,
            max_running=args.max_running,
            policy_ttl_s=args.policy_ttl_s,
            port=args.port,
        )

    # ------------------------------------------------------------ fault injection and control
    def fail_next(
        self,
        code: str,
        *,
        route: Route = "submit",
        message: str | None = None,
        status: int | None = None,
        times: int = 1,
        retry_after_s: int | None = None,
    ) -> None:
        """The next `times` calls of `route` answer error `code` (OSS XML for "upload", else JSON)."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTES)}")
        table = OSS_ERRORS if route == "upload" else ERRORS
        if code not in table and status is None:
            raise ValueError(
                f"unknown error code {code!r} for {route}; one of {sorted(table)} or pass status="
            )
        self._queue_switch(f"route:{route}", (code, message, status, retry_after_s), times)

    def fail_task_next(self, code: str = "InternalError", message: str | None = None) -> None:
        """The next task created ends FAILED with `output.code` = code when it would have finished."""
        self._queue_switch("task", (code, message or TASK_ERRORS.get(code, "task failed")))

    def fail_results_next(self, count: int) -> None:
        """In the next task created, `count` of its images fail (result items with code/message)."""
        self._queue_switch("results", count)

    def force_state(self, task_id: str, state: Literal["SUSPENDED", "RUNNING", "CANCELED"]) -> None:
        """Put a task in a state the walk does not reach on its own (an operator's cancel, a suspension)."""
        with self._lock:
            self._tasks[task_id].state = state

    # ------------------------------------------------------------ request handling (handler threads)
    def _handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> _Reply:
        route = _route_of(method, path)
        recorded: dict[str, Any] = {"body": None}
        try:
            injected = self._take_switch(f"route:{route}") if route != "other" else None
            if injected is not None:
                reply = _injected_reply(route, *injected)
            elif route == "upload":
                reply = self._upload(headers, raw, recorded)
            elif route == "other":
                reply = _json_error(404, "NotFound", f"No route for {method} {path}.")
            else:
                self._check_auth(headers)
                if route == "policy":
                    reply = self._policy(query)
                elif route == "submit":
                    reply = self._submit(headers, raw, recorded)
                else:
                    reply = self._query(path[len(TASKS_PREFIX) :])
        except _Fail as exc:
            reply = _json_error(exc.status, exc.code, exc.message)
        entry = RecordedRequest(
            route=route,
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=recorded.get("body"),
            form_order=tuple(recorded.get("form_order", ())),
            file_name=recorded.get("file_name"),
            file_size=int(recorded.get("file_size", 0)),
            status=reply.status,
            outcome=reply.outcome,
        )
        self._record_request(entry)
        return reply

    def _check_auth(self, headers: Mapping[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), self.api_key):
            raise _Fail("InvalidApiKey")
        given = headers.get("x-dashscope-workspace")
        if self.workspace is not None and given is None:
            raise _Fail("AccessDenied", "This API key belongs to a workspace: set X-DashScope-WorkSpace.")
        if self.workspace is not None and given != self.workspace:
            raise _Fail("AccessDenied", "Workspace access denied.")

    # ------------------------------------------------------------ temporary storage
    def _policy(self, query: Mapping[str, str]) -> _Reply:
        if query.get("action") != "getPolicy":
            raise _invalid("action must be getPolicy")
        model = query.get("model", "")
        if not model:
            raise _invalid("model is required")
        now = self.clock()
        account = hashlib.sha256(self.api_key.encode()).hexdigest()[:16]
        day = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d")
        upload_dir = f"{BUCKET}/{account}/{day}/{uuid.uuid4()}"
        max_bytes = self.max_file_size_mb * 1024 * 1024
        document = {
            "expiration": _iso(now + self.policy_ttl_s),
            "conditions": [
                ["content-length-range", 0, max_bytes],
                ["starts-with", "$key", upload_dir],
                {"bucket": BUCKET},
                {"x-oss-object-acl": "private"},
                {"x-oss-forbid-overwrite": "true"},
            ],
        }
        policy = base64.b64encode(json.dumps(document).encode()).decode()
        with self._lock:
            self._policies[upload_dir] = model
        data = {
            "policy": policy,
            "signature": _oss_signature(policy),
            "upload_dir": upload_dir,
            "upload_host": self.base_url + OSS_PATH,
            "expire_in_seconds": int(self.policy_ttl_s),
            "max_file_size_mb": self.max_file_size_mb,
            "capacity_limit_mb": 999999999,
            "oss_access_key_id": _OSS_ACCESS_KEY_ID,
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }
        return _json_reply(200, {"request_id": _new_request_id(), "data": data}, "ok")

    def _upload(self, headers: Mapping[str, str], raw: bytes, recorded: dict[str, Any]) -> _Reply:
        parts = _parse_multipart(raw, headers.get("content-type", ""))
        if parts is None:
            return _oss_error("InvalidArgument", "The body must be multipart/form-data.")
        names = [name for name, _, _ in parts]
        recorded["form_order"] = names
        fields = {
            name: content.decode("utf-8", "replace") for name, filename, content in parts if filename is None
        }
        recorded["body"] = fields
        files = [(name, filename, content) for name, filename, content in parts if filename is not None]
        if files:
            recorded["file_name"], recorded["file_size"] = files[0][1], len(files[0][2])
        if not files or names[-1] != "file" or files[0][0] != "file":
            return _oss_error("InvalidArgument", "The file must be the last form field, named file.")
        missing = [n for n in ("OSSAccessKeyId", "policy", "Signature", "key") if not fields.get(n)]
        if missing:
            return _oss_error("InvalidArgument", f"Missing form field(s): {', '.join(missing)}.")
        if fields["OSSAccessKeyId"] != _OSS_ACCESS_KEY_ID:
            return _oss_error("InvalidAccessKeyId")
        if not hmac.compare_digest(fields["Signature"], _oss_signature(fields["policy"])):
            return _oss_error("SignatureDoesNotMatch")
        try:
            document = json.loads(base64.b64decode(fields["policy"]))
            expiration = dt.datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%S.%fZ")
            conditions = document["conditions"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            return _oss_error("InvalidArgument", "The policy is not valid.")
        if self.clock() >= expiration.replace(tzinfo=dt.UTC).timestamp():
            return _oss_error("AccessDenied", "Invalid according to Policy: Policy expired.")
        key, data = fields["key"], files[0][2]
        for condition in conditions:
            problem = _policy_condition_problem(condition, fields, key, len(data))
            if problem is not None:
                code, message = problem
                return _oss_error(code, message)
        upload_dir = key.rsplit("/", 1)[0]
        with self._lock:
            if key in self._objects:
                reply = _oss_error("FileAlreadyExists")
            else:
                model = self._policies.get(upload_dir, "")
                content_type = fields.get("x-oss-content-type") or "application/octet-stream"
                self._objects[key] = StoredObject(key, data, content_type, model, self.clock())
                reply = _Reply(200, "text/plain", b"", "ok")
        if reply.status != 200 or fields.get("success_action_status") == "200":
            return reply
        return _Reply(204, "text/plain", b"", "ok")

    # ------------------------------------------------------------ tasks
    def _submit(self, headers: Mapping[str, str], raw: bytes, recorded: dict[str, Any]) -> _Reply:
        if headers.get("x-dashscope-async", "").strip().lower() != "enable":
            raise _Fail("AccessDenied", SYNC_REFUSED, 403)
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        recorded["body"] = body
        if "json" not in headers.get("content-type", "").lower():
            raise _invalid("Content-Type must be application/json")
        if not isinstance(body, dict):
            raise _invalid("The request body must be a JSON object")
        if body.get("model") != MODEL:
            # The doc's FAQ: wanx-background-generation-v3 is not a model name; v3 is a model_version.
            raise _invalid(MODEL_NOT_EXIST)
        count = _validate(body)
        resolve = headers.get("x-dashscope-ossresourceresolve", "").strip().lower() == "enable"
        inputs = body["input"]
        urls = [inputs["base_image_url"], inputs.get("ref_image_url")]
        edges = inputs.get("reference_edge") or {}
        urls += list(edges.get("foreground_edge") or []) + list(edges.get("background_edge") or [])
        for url in urls:
            if url is None:
                continue
            if url.startswith("oss://") and not resolve:
                raise _invalid(
                    "The provided URL does not appear to be valid. Ensure it is correctly formatted."
                )
            if not url.startswith(("oss://", "http://", "https://")):
                raise _invalid(f"The provided URL does not appear to be valid: {url[:60]}")
        self._admit()
        task = Task(str(uuid.uuid4()), self.clock(), body, dict(headers), count)
        # Download and check the inputs now, like the service does right after accepting the task.
        self._check_inputs(task, inputs)
        injected = self._take_switch("task")
        failed_results = self._take_switch("results")
        with self._lock:
            if injected is not None:
                task.failure = task.failure or injected
            if failed_results is not None:
                task.failed_results = min(count, failed_results)
            if task.failure is not None and task.base_rgba is None:
                task.state, task.ended = "FAILED", task.created
            self._tasks[task.task_id] = task
        output = {"task_status": "PENDING", "task_id": task.task_id}
        return _json_reply(200, {"output": output, "request_id": _new_request_id()}, "ok")

    def _admit(self) -> None:
        """The account's limits: at most `submit_qps` submits a second and `max_running` open tasks."""
        with self._lock:
            now = self.clock()
            self._submit_times = [t for t in self._submit_times if now - t < 1.0]
            if self.submit_qps > 0 and len(self._submit_times) >= self.submit_qps:
                raise _Fail("Throttling.RateQuota")
            for task in self._tasks.values():
                self._advance(task, queried=False)
            running = sum(1 for task in self._tasks.values() if task.state in _STATES_IN_FLIGHT)
            if self.max_running > 0 and running >= self.max_running:
                raise _Fail(
                    "Throttling",
                    f"Requests throttling triggered: at most {self.max_running} task(s) may be processed "
                    "at a time.",
                )
            self._submit_times.append(now)

    def _check_inputs(self, task: Task, inputs: Mapping[str, Any]) -> None:
        base, problem = self._download(inputs["base_image_url"], "base_image")
        if problem is None and base is not None:
            problem = self._base_problem(task, base)
        if problem is None and inputs.get("ref_image_url"):
            ref, problem = self._download(inputs["ref_image_url"], "ref_image")
            if problem is None and ref is not None and _open_image(ref) is None:
                problem = ("BadRequest.UnsupportedFileFormat", "Unsupported ref image format")
        edges = inputs.get("reference_edge") or {}
        for url in [*(edges.get("foreground_edge") or []), *(edges.get("background_edge") or [])]:
            if problem is not None:
                break
            edge, problem = self._download(url, "edge_image")
            opened = _open_image(edge) if edge is not None else None
            if problem is None and (opened is None or opened.mode != "RGBA"):
                problem = ("BadRequest.UnsupportedFileFormat", "Edge image require RGBA format")
        if problem is not None:
            task.failure = problem
            task.base_rgba = None

    def _base_problem(self, task: Task, data: bytes) -> tuple[str, str] | None:
        image = _open_image(data)
        if image is None:
            return ("BadRequest.UnsupportedFileFormat", "Unsupported base image format")
        if image.format != "PNG":
            return ("BadRequest.UnsupportedFileFormat", f"Base image must be png, but is {image.format}")
        if image.mode != "RGBA":
            return (
                "BadRequest.UnsupportedFileFormat",
                f"Base image require RGBA format, but is {image.mode}, modes concept see "
                "https://pillow.readthedocs.io/en/stable/handbook/concepts.html#concept-modes",
            )
        if max(image.size) > MAX_BASE_SIDE:
            return (
                "InvalidParameter",
                f"Base image long side must be at most 2048, but is {max(image.size)}",
            )
        rgba = np.asarray(image)
        if int(rgba[..., 3].min()) == 255:
            return ("BadRequest.UnsupportedFileFormat", "Base image has no transparent background")
        task.base_size = image.size
        task.base_rgba = rgba
        return None

    def _download(self, url: str, what: str) -> tuple[bytes | None, tuple[str, str] | None]:
        failed = ("InvalidParameter.FileDownload", f"download for {what} error")
        if url.startswith("oss://"):
            key = url[len("oss://") :]
            with self._lock:
                stored = self._objects.get(key)
            if stored is None or self.clock() - stored.created >= OSS_OBJECT_TTL_S or stored.model != MODEL:
                return None, failed
            return stored.data, None
        data = _fetch(url)
        return (data, None) if data is not None else (None, failed)

    def _advance(self, task: Task, *, queried: bool) -> None:
        """Moves a task along its walk (caller holds the lock)."""
        if queried:
            task.queries += 1
        if task.state in ("SUCCEEDED", "FAILED", "CANCELED"):
            return
        now = self.clock()
        if task.queries >= self.queries_to_finish and now - task.created >= self.seconds_to_finish:
            task.state = "FAILED" if task.failure is not None else "SUCCEEDED"
            task.ended = now
        elif task.state == "SUSPENDED":
            return
        elif task.queries >= 2:
            task.state = "RUNNING"

    def _query(self, task_id: str) -> _Reply:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is not None and self.clock() - task.created >= TASK_TTL_S:
                task = None  # task data are kept 24 hours
            if task is None:
                output: dict[str, Any] = {"task_id": task_id, "task_status": "UNKNOWN"}
                return _json_reply(200, {"request_id": _new_request_id(), "output": output}, "ok")
            self._advance(task, queried=True)
            state, ended = task.state, task.ended
        output = {
            "task_id": task.task_id,
            "task_status": state,
            "submit_time": _stamp(task.created),
            "scheduled_time": _stamp(task.created + 0.03),
        }
        document: dict[str, Any] = {"request_id": _new_request_id(), "output": output}
        good = task.count - task.failed_results
        if state in ("PENDING", "RUNNING", "SUSPENDED"):
            output["task_metrics"] = {"TOTAL": task.count, "SUCCEEDED": 0, "FAILED": 0}
            return _json_reply(200, document, "ok")
        output["end_time"] = _stamp(ended if ended is not None else task.created)
        if state in ("FAILED", "CANCELED"):
            if state == "FAILED" and task.failure is not None:
                output["code"], output["message"] = task.failure
            if self.include_usage:
                document["usage"] = {"image_count": 0}
            return _json_reply(200, document, "ok")
        results: list[dict[str, str]] = [{"url": self._result_url(task.task_id, n)} for n in range(good)]
        results += [
            {"code": "InternalError", "message": "Algorithm process error."}
            for _ in range(task.failed_results)
        ]
        output["results"] = results
        output["task_metrics"] = {"TOTAL": task.count, "SUCCEEDED": good, "FAILED": task.failed_results}
        if self.include_usage:
            document["usage"] = {"image_count": good}
        return _json_reply(200, document, "ok")

    def _result_url(self, task_id: str, index: int) -> str:
        # Real results are signed OSS links with an expiry; the query string is ignored when served.
        expires = int(self.clock()) + TASK_TTL_S
        return f"{self.base_url}/results/{task_id}/{index}.png?Expires={expires}&Signature=emulator"

    def _result_png(self, task_id: str, index: int) -> bytes | None:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or task.state != "SUCCEEDED" or task.base_rgba is None:
            return None
        if not 0 <= index < task.count - task.failed_results:
            return None
        return _result_image(task_id, index, task.base_rgba)


# -------------------------------------------------------------------- validation
def _validate(body: Mapping[str, Any]) -> int:
    """Checks `input` and `parameters` like the documented API; returns n. Raises 400 InvalidParameter."""
    inputs = body.get("input")
    if not isinstance(inputs, dict):
        raise _invalid("input is required and must be an object")
    base = inputs.get("base_image_url")
    if not isinstance(base, str) or not base.strip():
        raise _invalid("input.base_image_url is required")
    ref_url, prompt = inputs.get("ref_image_url"), inputs.get("ref_prompt")
    for name in ("ref_image_url", "ref_prompt", "neg_ref_prompt", "title", "sub_title"):
        if inputs.get(name) is not None and not isinstance(inputs.get(name), str):
            raise _invalid(f"input.{name} must be a string")
    if not (ref_url or "").strip() and not (prompt or "").strip():
        raise _invalid("At least one of input.ref_image_url and input.ref_prompt is required")
    _validate_edges(inputs.get("reference_edge"))

    parameters = body.get("parameters", {})
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise _invalid("parameters must be an object")
    n = parameters.get("n", 1)
    if not _is_int(n) or not 1 <= n <= 4:
        raise _invalid("parameters.n must be an integer in [1, 4]")
    version = parameters.get("model_version", "v2")
    if version not in MODEL_VERSIONS:
        raise _invalid("parameters.model_version must be v2 or v3")
    noise = parameters.get("noise_level")
    if noise is not None and (not _is_int(noise) or not 0 <= noise <= 999):
        raise _invalid("parameters.noise_level must be an integer in [0, 999]")
    weight = parameters.get("ref_prompt_weight")
    if weight is not None and (not _is_number(weight) or not 0 <= weight <= 1):
        raise _invalid("parameters.ref_prompt_weight must be a number in [0, 1]")
    scene = parameters.get("scene_type")
    if scene is not None and scene not in ("GENERAL", "ROOM", "COSMETIC"):
        raise _invalid("parameters.scene_type must be GENERAL, ROOM or COSMETIC")
    return int(n)


def _validate_edges(edges: Any) -> None:
    if edges is None:
        return
    if not isinstance(edges, dict):
        raise _invalid("input.reference_edge must be an object")
    total = 0
    for side in ("foreground_edge", "background_edge"):
        images = edges.get(side) or []
        prompts = edges.get(f"{side}_prompt")
        if not isinstance(images, list) or not all(isinstance(u, str) and u for u in images):
            raise _invalid(f"input.reference_edge.{side} must be a list of URLs")
        if prompts is not None and (
            not isinstance(prompts, list)
            or len(prompts) != len(images)
            or not all(isinstance(p, str) for p in prompts)
        ):
            raise _invalid(f"input.reference_edge.{side}_prompt must be a list of strings as long as {side}")
        total += len(images)
    if total > MAX_EDGES:
        raise _invalid("foreground_edge and background_edge together may hold at most 10 images")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _policy_condition_problem(
    condition: Any, fields: Mapping[str, str], key: str, size: int
) -> tuple[str, str] | None:
    if isinstance(condition, list) and condition and condition[0] == "content-length-range":
        if not int(condition[1]) <= size <= int(condition[2]):
            return ("EntityTooLarge", f"Your proposed upload size {size} exceeds the maximum {condition[2]}.")
    elif isinstance(condition, list) and condition[:2] == ["starts-with", "$key"]:
        if not key.startswith(str(condition[2]) + "/") or "/" in key[len(str(condition[2])) + 1 :]:
            return (
                "AccessDenied",
                f'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "{condition[2]}"]',
            )
    elif isinstance(condition, dict):
        for name, value in condition.items():
            if name != "bucket" and fields.get(name) != value:
                return (
                    "AccessDenied",
                    f'Invalid according to Policy: Policy Condition failed: ["eq", "${name}", "{value}"]',
                )
    return None


def _route_of(method: str, path: str) -> str:
    if method == "GET" and path == UPLOADS_PATH:
        return "policy"
    if method == "POST" and path.rstrip("/") == OSS_PATH:
        return "upload"
    if method == "POST" and path.rstrip("/") == SUBMIT_PATH:
        return "submit"
    if method == "GET" and path.startswith(TASKS_PREFIX) and len(path) > len(TASKS_PREFIX):
        return "query"
    return "other"


def _parse_multipart(raw: bytes, content_type: str) -> list[tuple[str, str | None, bytes]] | None:
    """(name, filename or None, content) per part, in the order sent; None when it is not multipart."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if "multipart/form-data" not in content_type.lower() or match is None:
        return None
    delimiter = b"--" + match.group(1).encode("latin-1")
    chunks = raw.split(delimiter)
    if len(chunks) < 3:
        return None
    parts: list[tuple[str, str | None, bytes]] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            return None
        content = content[:-2] if content.endswith(b"\r\n") else content
        headers = head.decode("utf-8", "replace")
        disposition = re.search(r"(?im)^content-disposition:\s*form-data(.*)$", headers)
        if disposition is None:
            return None
        name = re.search(r'\bname="([^"]*)"', disposition.group(1))
        filename = re.search(r'\bfilename="([^"]*)"', disposition.group(1))
        if name is None:
            return None
        parts.append((name.group(1), filename.group(1) if filename else None, content))
    return parts


def _open_image(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()  # a truncated file opens fine and fails here
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return image


def _fetch(url: str) -> bytes | None:
    return loopback_fetch(url, MAX_DOWNLOAD_BYTES)


# -------------------------------------------------------------------- images
@functools.lru_cache(maxsize=32)
def _backdrop(width: int, height: int, hue: float) -> np.ndarray:
    """A vertical two-tone gradient ("wall" and "floor") per task and image."""
    top = np.array(colorsys.hsv_to_rgb(hue % 1.0, 0.45, 0.92)) * 255
    bottom = np.array(colorsys.hsv_to_rgb((hue + 0.05) % 1.0, 0.3, 0.7)) * 255
    t = np.linspace(0.0, 1.0, height)[:, None, None]
    column = top * (1 - t) + bottom * t
    return np.broadcast_to(column, (height, width, 3)).astype(np.float32)


def _result_image(task_id: str, index: int, base_rgba: np.ndarray) -> bytes:
    """The base image's product composited over a backdrop whose colour differs per task and index."""
    height, width = base_rgba.shape[:2]
    hue = int(hashlib.sha256(task_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF + index * 0.17
    alpha = base_rgba[..., 3:4].astype(np.float32) / 255.0
    pixels = base_rgba[..., :3].astype(np.float32) * alpha + _backdrop(width, height, round(hue, 3)) * (
        1 - alpha
    )
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), "RGB").save(
        buffer, "PNG", compress_level=1
    )
    return buffer.getvalue()


# -------------------------------------------------------------------- HTTP plumbing


class _Handler(LoopbackHandler):
    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        raw = self.read_body()
        result = re.fullmatch(r"/results/([A-Za-z0-9-]+)/(\d+)\.png", parsed.path)
        if method == "GET" and result:
            fault = self.server.emulator._result_fault()
            if fault is not None:
                self._send(*fault)
                return
            png = self.server.emulator._result_png(result.group(1), int(result.group(2)))
            if png is None:
                self._send(404, "application/xml", b"<Error><Code>NoSuchKey</Code></Error>")
            else:
                self._send(200, "image/png", png)
            return
        reply = self.server.emulator._handle(
            method, parsed.path, self.query_params(), self.lower_headers(), raw
        )
        self._send(reply.status, reply.content_type, reply.payload, reply.headers)

    def _send(
        self, status: int, content_type: str, payload: bytes, extra: Mapping[str, str] | None = None
    ) -> None:
        self.send_answer(status, content_type, payload, extra)


@dataclass(frozen=True)
class _Reply:
    status: int
    content_type: str
    payload: bytes
    outcome: str
    headers: Mapping[str, str] = field(default_factory=dict)


def _json_reply(status: int, document: Any, outcome: str, headers: Mapping[str, str] | None = None) -> _Reply:
    payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
    request_id = document.get("request_id", "") if isinstance(document, dict) else ""
    all_headers = {"X-Request-Id": request_id, **dict(headers or {})}
    return _Reply(status, "application/json", payload, outcome, all_headers)


def _json_error(status: int, code: str, message: str, retry_after_s: int | None = None) -> _Reply:
    document = {"code": code, "message": message, "request_id": _new_request_id()}
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return _json_reply(status, document, code, headers)


def _oss_error(code: str, message: str | None = None, status: int | None = None) -> _Reply:
    default_status, default_message = OSS_ERRORS.get(code, (400, code))
    request_id = uuid.uuid4().hex[:24].upper()
    payload = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{code}</Code>\n  <Message>{message or default_message}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n  <HostId>{BUCKET}.oss-cn-beijing.aliyuncs.com</HostId>\n"
        "</Error>\n"
    ).encode()
    return _Reply(
        status or default_status, "application/xml", payload, code, {"x-oss-request-id": request_id}
    )


def _injected_reply(
    route: str, code: str, message: str | None, status: int | None, retry_after_s: int | None
) -> _Reply:
    if route == "upload":
        return _oss_error(code, message, status)
    default_status, default_message = ERRORS.get(code, (400, code))
    return _json_error(status or default_status, code, message or default_message, retry_after_s)


# -------------------------------------------------------------------- standalone
def main(argv: list[str] | None = None) -> int:
    return DashScopeEmulator.main(argv)


# -------------------------------------------------------------------- contract test
@contextlib.contextmanager
def contract_case() -> Iterator[ContractCase]:
    """The provider contract test's run (tests/emulators/contract.py)."""
    with DashScopeEmulator("sk-contract", queries_to_finish=2) as emulator:
        context = ProviderContext(
            credentials={"api_key": "sk-contract"}, endpoint=emulator.api_url, session=new_session()
        )
        request = GenerationRequest(
            Operation.PROMPT_BACKGROUND,
            contract.photo(640, 480),
            mask=contract.mask(640, 480),
            prompt="marble",
            count=2,
        )
        # The result has the base image's size (the vendor has no size field).
        yield ContractCase(context, [request], (640, 480), emulator)


if __name__ == "__main__":
    sys.exit(main())
