"""Alibaba Cloud Marketplace background generation by DAMO (product cmapi00069649): prompt backgrounds.

Protocol (shared/providers.md section 2, seed 001): plain JSON over HTTPS to the
product's own marketplace domain, which is shown only in the buyer's console
(`https://xxxx.market.alicloudapi.com`), so it is a required setting here.
Every call carries `Authorization: APPCODE <code>` and a fresh `X-Ca-Nonce`
(the gateway accepts a nonce once within 15 minutes). The API is asynchronous:

- submit: `POST {base}/api/v1/bg-rep/submit`, body `{"data": {"task_list": [item, ...]}}`;
  one job is one sub-task, up to ten jobs share a call (`submit_batch`), and the
  answer's `data.result_key` (plus `#<index>` for a job sent in a batch) is the remote id;
- poll: `POST {base}/api/v1/bg-rep/query`, body `{"data": {"result_key": ...}}`;
  each sub-task walks WAITING -> RUNNING -> SUCCESS | FAILED, and `results`
  holds the image URLs once it succeeded.

Inputs travel only as URLs: studio's input hosting fills `request.image_url` /
`request.mask_url`, and the service downloads them.

Errors come from two places. The seller's service answers `{code, message,
success, requestId}` with the HTTP status of its table (23500000-23500014; the
success sample has a numeric 0, the table 8-digit strings, so codes are compared
loosely); `CODES` maps every one to the error tree. The marketplace gateway
answers before the service is reached, with an `X-Ca-Error-Message` header and
an empty or non-JSON body; `GATEWAY` maps its documented messages. Both come
with any status, 5xx included: every answer's body and headers are read here
(`http.send(vendor_bodies=True)`), so 23500000/23500011 on HTTP 500 keep their
codes, and on a query 23500011 is the task's end, not an outage. A sub-task
that ends FAILED (or a query answering 23500011, "job execution failed") is a
`TaskUpdate` with a failure, not an exception.

Not verified (providers.md 2.6, 6.5): the unit price, the product's QPS and
concurrency, how long result URLs live, and the gateway's exact message for a
reused nonce.

This module builds the calls and reads the answers; the product's addresses
and documented limits live in `aliyun_market_api`, the error tables and their
messages in `aliyun_market_errors`, what every vendor adapter shares in
`providers.common`. Every public name of those is importable from here as before.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from imaging.images import ImageInputError, image_size
from providers import http
from providers.aliyun_market_api import (
    DEFAULT_GUIDANCE,
    DEFAULT_STEPS,
    DEFAULT_STRENGTH,
    EXAMPLE_BASE_URL,
    INPUT_FORMATS,
    MAX_BATCH,
    MAX_COUNT,
    MAX_PROMPT_CHARS,
    MAX_SEED,
    MAX_SIDE,
    MIN_SIDE,
    PRODUCT_ID,
    PRODUCT_URL,
    QUERY_PATH,
    SUBMIT_PATH,
)
from providers.aliyun_market_errors import (
    CODES,
    ERROR_TEXTS,
    GATEWAY,
    TASK_FAILED,
    TASK_TRANSIENT,
    TEXTS,
    VENDOR_TEXTS,
)
from providers.base import (
    ConnectionCheck,
    GenerationRequest,
    Limits,
    Operation,
    OptionSpec,
    OutputImage,
    Price,
    Submitted,
    TaskFailure,
    TaskState,
    TaskUpdate,
)
from providers.common import VendorAdapter, is_loopback_host
from providers.common import text as _text
from providers.errors import (
    AuthenticationError,
    ConfigurationError,
    InputRejectedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    TaskNotFoundError,
    UnexpectedResponseError,
)

# The public names, whichever module of this vendor defines them (tests and studio import them from here).
__all__ = [
    "AliyunMarket",
    "DEFAULT_GUIDANCE",
    "DEFAULT_STEPS",
    "DEFAULT_STRENGTH",
    "ERROR_TEXTS",
    "EXAMPLE_BASE_URL",
    "INPUT_FORMATS",
    "MAX_BATCH",
    "MAX_COUNT",
    "MAX_PROMPT_CHARS",
    "MAX_SEED",
    "MAX_SIDE",
    "MIN_SIDE",
    "PRODUCT_ID",
    "PRODUCT_URL",
    "QUERY_PATH",
    "SUBMIT_PATH",
]


_PRICE = Price(
    per_image=None,
    source=(
        f"Alibaba Cloud Marketplace product {PRODUCT_ID}: pay-as-you-go, price shown only in the buyer's console"
    ),
    as_of="2026-11",
)

_STATES: Mapping[str, TaskState] = {
    "WAITING": TaskState.QUEUED,
    "RUNNING": TaskState.RUNNING,
    "SUCCESS": TaskState.SUCCEEDED,
    "FAILED": TaskState.FAILED,
}

_RESULT_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")


class AliyunMarket(VendorAdapter):
    key = "aliyun_market"
    label = "Alibaba Cloud Marketplace (DAMO bg-rep)"
    vendor_name = "Alibaba Cloud Marketplace"
    unexpected_text = TEXTS["_unexpected"]
    operations = frozenset({Operation.PROMPT_BACKGROUND})
    limits: ClassVar[Mapping[Operation, Limits]] = {
        Operation.PROMPT_BACKGROUND: Limits(
            formats=INPUT_FORMATS,
            min_side=MIN_SIDE,
            max_side=MAX_SIDE,
            # The seller gives no byte limit.
            max_bytes=None,
            # Single-channel black/white: product 255, background 0 (one of the three forms it takes).
            mask_mode="L",
            needs_urls=True,
            # No size field: the results have the input's size.
            takes_size=False,
            needs_prompt=True,
            output_sizes=None,
            min_count=1,
            max_count=MAX_COUNT,
            default_count=1,
            default_size=None,
        ),
    }
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]] = {
        Operation.PROMPT_BACKGROUND: (
            # Higher follows the prompt more closely; too high lowers image quality.
            OptionSpec(
                "guidance_scale",
                "float",
                DEFAULT_GUIDANCE,
                "opt.guidance_scale",
                minimum=1,
                maximum=20,
                step=0.5,
            ),
            # How much of the original is repainted; the range is (0, 1].
            OptionSpec(
                "strength", "float", DEFAULT_STRENGTH, "opt.strength", minimum=0.01, maximum=1, step=0.01
            ),
            OptionSpec("steps", "int", DEFAULT_STEPS, "opt.steps", minimum=15, maximum=50, step=1),
            # Empty: the service picks a random seed.
            OptionSpec("seed", "int", None, "opt.seed", minimum=0, maximum=MAX_SEED, step=1),
        ),
    }
    prices: ClassVar[Mapping[Operation, Price]] = {Operation.PROMPT_BACKGROUND: _PRICE}
    param_aliases: ClassVar[Mapping[Operation, Mapping[str, str]]] = {
        Operation.PROMPT_BACKGROUND: {"num_output": "count"},
    }
    # The product's limits are not published (only the 23500004 throttle code is): stay modest.
    max_in_flight = 2
    max_batch_submit = MAX_BATCH
    submit_qps = 1.0
    poll_interval_hint = 3.0
    # Result link lifetime: not documented (shared/providers.md open questions); studio's default applies.
    result_ttl_s = None
    can_check_connection = True
    optional_settings: ClassVar[Mapping[str, str]] = {"base_url": "", "poll_interval_s": "3"}
    endpoint_setting = "base_url"
    # The product's domain is not public: each buyer reads it from the console.
    default_endpoint = None
    error_texts = ERROR_TEXTS
    env_names: ClassVar[Mapping[str, str]] = {
        "appcode": "ALIYUN_MARKET_APPCODE",
        "base_url": "ALIYUN_BGREP_BASE_URL",
        "poll_interval_s": "ALIYUN_BGREP_POLL_INTERVAL_S",
    }

    @classmethod
    def required_credentials(cls) -> tuple[str, ...]:
        return ("appcode",)

    # ------------------------------------------------------------ calls
    def submit(self, request: GenerationRequest) -> Submitted:
        [answer] = self.submit_batch([request])
        if isinstance(answer, ProviderError):
            raise answer
        return answer

    def submit_batch(self, requests: Sequence[GenerationRequest]) -> tuple[Submitted | ProviderError, ...]:
        """Up to ten jobs as the sub-tasks of one `task_list` ("最多支持批量提交10个任务", seed 001).
        The answer's one `result_key` names them all; each job's remote id is `<result_key>#<index>`,
        so each is polled, billed and failed on its own. A job whose own fields fail the checks stays
        out of the call with its error."""
        if not 1 <= len(requests) <= MAX_BATCH:
            raise ValueError(f"the Marketplace takes 1 to {MAX_BATCH} tasks per call, not {len(requests)}")
        self._base()
        self._appcode()
        answers: list[Submitted | ProviderError | None] = []
        items: list[dict[str, Any]] = []
        for request in requests:
            try:
                if request.operation is not Operation.PROMPT_BACKGROUND:
                    raise InputRejectedError(
                        self.key, "unsupported_operation", self._says("unsupported_operation")
                    )
                items.append(self._task_item(request))
                answers.append(None)
            except ProviderError as exc:
                answers.append(exc)
        if not items:
            return tuple(answer for answer in answers if answer is not None)
        result_key = self._submit_items(items)
        sent = iter(range(len(items)))
        return tuple(
            answer
            if answer is not None
            else Submitted(remote_id=result_key if len(items) == 1 else f"{result_key}#{next(sent)}")
            for answer in answers
        )

    def _submit_items(self, items: list[dict[str, Any]]) -> str:
        # Not idempotent: a submit that reached the service may have made (and billed) tasks.
        document = self._call(SUBMIT_PATH, {"data": {"task_list": items}}, idempotent=False)
        data = document.get("data")
        result_key = _text(data.get("result_key")) if isinstance(data, dict) else ""
        if not result_key:
            raise UnexpectedResponseError(
                self.key,
                "no_result_key",
                self._says("no_result_key"),
                request_id=_text(document.get("requestId")) or None,
            )
        return result_key

    def poll(self, remote_id: str) -> TaskUpdate:
        """One query; a job sent in a batch (`<result_key>#<index>`) reads only its own sub-task."""
        remote_id, _, index_text = (remote_id or "").partition("#")
        index = int(index_text) if index_text.isdigit() else None
        if not _RESULT_KEY.fullmatch(remote_id) or (index_text and index is None):
            raise TaskNotFoundError(self.key, "bad_result_key", self._says("bad_result_key"))
        try:
            document = self._call(QUERY_PATH, {"data": {"result_key": remote_id}}, idempotent=True)
        except ProviderUnavailableError as exc:
            if exc.code != "23500011":
                raise
            # "Job execution failed" on a query is the task's end, not a server outage.
            failure = TaskFailure("23500011", self._failure_message("23500011", "job execution failed"))
            return TaskUpdate(state=TaskState.FAILED, failure=failure, notes={"aliyun_result_key": remote_id})
        return self._task_update(document, remote_id, index)

    def check_connection(self) -> ConnectionCheck:
        """One query for a result_key that cannot exist: the gateway checks the AppCode, the purchase and
        the address first, so the service's "no task" answer (23500008) proves all three. No task is made."""
        probe = f"backdrop-connection-check-{uuid.uuid4().hex}"
        host = urllib.parse.urlsplit(self._base()).netloc
        try:
            document = self._call(QUERY_PATH, {"data": {"result_key": probe}}, idempotent=True)
        except TaskNotFoundError as exc:
            return ConnectionCheck(
                ok=True,
                message=self._says("_connected#probe", host=host),
                request_id=exc.request_id,
            )
        return ConnectionCheck(
            ok=True,
            message=self._says("_connected", host=host),
            request_id=_text(document.get("requestId")) or None,
        )

    # ------------------------------------------------------------ request
    def _task_item(self, request: GenerationRequest) -> dict[str, Any]:
        image_url = (request.image_url or "").strip()
        if not image_url:
            raise ConfigurationError(self.key, "needs_hosting", self._says("needs_hosting"))
        mask_url = (request.mask_url or "").strip()
        if request.mask is not None and not mask_url:
            raise ConfigurationError(self.key, "needs_hosting", self._says("needs_hosting#mask"))
        for entry, url in (
            ("needs_hosting#image_scheme", image_url),
            ("needs_hosting#mask_scheme", mask_url),
        ):
            if url and urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
                raise ConfigurationError(self.key, "needs_hosting", self._says(entry))
        prompt = request.prompt.strip()
        negative = request.negative_prompt.strip()
        self._check_texts(prompt, negative)
        if not 1 <= request.count <= MAX_COUNT:
            raise InputRejectedError(self.key, "bad_count", self._says("bad_count", count=request.count))
        self._check_image(request.image)
        params = self._params(request.params)
        seed = request.seed if request.seed is not None else params.get("seed")
        item: dict[str, Any] = {
            "image": image_url,
            "positive_prompt": prompt,
            "guidance_scale": float(params["guidance_scale"]),
            "strength": float(params["strength"]),
            "steps": int(params["steps"]),
            "num_output": request.count,
        }
        if mask_url:
            item["mask"] = mask_url
        if negative:
            item["negative_prompt"] = negative
        if seed is not None:
            if not 0 <= int(seed) <= MAX_SEED:
                raise InputRejectedError(self.key, "bad_seed", self._says("bad_seed", seed=seed))
            item["seed"] = int(seed)
        return item

    def _check_texts(self, prompt: str, negative: str) -> None:
        if not prompt:
            raise InputRejectedError(self.key, "prompt_required", self._says("prompt_required"))
        for entry, text in (("prompt_too_long", prompt), ("prompt_too_long#negative", negative)):
            if len(text) > MAX_PROMPT_CHARS:
                raise InputRejectedError(self.key, "prompt_too_long", self._says(entry, length=len(text)))

    def _check_image(self, image: bytes) -> None:
        """The sides the seller states, checked before any call is paid for."""
        try:
            width, height = image_size(image)
        except ImageInputError as exc:
            raise InputRejectedError(
                self.key, "unreadable_image", self._says("unreadable_image", detail=exc)
            ) from None
        if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
            raise InputRejectedError(self.key, "bad_size", self._says("bad_size", size=f"{width}x{height}"))

    def _params(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The options again, with defaults: studio checked them, but a stored job may predate a range."""
        names = {spec.name for spec in self.option_specs(Operation.PROMPT_BACKGROUND)}
        given = {name: value for name, value in raw.items() if name in names and value is not None}
        try:
            return self.check_params(Operation.PROMPT_BACKGROUND, given)
        except ValueError as exc:
            raise InputRejectedError(self.key, "bad_option", self._says("bad_option", detail=exc)) from None

    # ------------------------------------------------------------ transport
    def _appcode(self) -> str:
        appcode = (self.context.credentials.get("appcode") or "").strip()
        if not appcode:
            raise ConfigurationError(self.key, "not_configured", self._says("not_configured"))
        if not appcode.isascii() or any(ch.isspace() or not ch.isprintable() for ch in appcode):
            raise ConfigurationError(self.key, "bad_appcode", self._says("bad_appcode"))
        return appcode

    def _base(self) -> str:
        """`https://host[:port][/prefix]`; a bare domain gets https, a pasted API path is cut off."""
        raw = (self.endpoint or "").strip()
        if not raw:
            raise ConfigurationError(self.key, "no_base_url", self._says("no_base_url"))
        if "://" not in raw:
            raw = "https://" + raw
        parts = urllib.parse.urlsplit(raw)
        scheme = parts.scheme.lower()
        try:
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises ValueError for a junk port
        except ValueError:
            host = ""
        if scheme not in ("http", "https") or not host or parts.username or parts.query or parts.fragment:
            raise ConfigurationError(self.key, "bad_base_url", self._says("bad_base_url"))
        if scheme == "http" and not is_loopback_host(host):
            raise ConfigurationError(
                self.key, "insecure_base_url", self._says("insecure_base_url", host=host)
            )
        path = parts.path.rstrip("/")
        for suffix in (SUBMIT_PATH, QUERY_PATH, "/api/v1/bg-rep", "/api/v1"):
            if path.endswith(suffix):
                path = path[: -len(suffix)]
                break
        return f"{scheme}://{parts.netloc}{path}"

    def _call(self, path: str, body: Mapping[str, Any], *, idempotent: bool) -> dict[str, Any]:
        """One authenticated call; returns the service's JSON document or raises the mapped error."""
        url = self._base() + path
        headers = {
            "Authorization": f"APPCODE {self._appcode()}",
            # A fresh nonce per call: the gateway refuses one it has seen within 15 minutes.
            "X-Ca-Nonce": str(uuid.uuid4()),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        # The service answers some of its own codes with 500, and the gateway's 5xx/429 carry its
        # X-Ca-Error-Message: every answer is read here (transport trouble still raises in http.send).
        answer = http.send(
            self._session(),
            self.key,
            "POST",
            url,
            idempotent=idempotent,
            json_body=dict(body),
            headers=headers,
            now=self.context.clock(),
            vendor_bodies=True,
        )
        return self._document(answer, idempotent=idempotent)

    def _document(self, answer: http.HttpAnswer, *, idempotent: bool) -> dict[str, Any]:
        document = _json(answer.body)
        if answer.status == 200 and isinstance(document, dict) and _is_success(document):
            return document
        raise self._answer_error(answer, idempotent=idempotent)

    # ------------------------------------------------------------ errors
    def _answer_error(self, answer: http.HttpAnswer, *, idempotent: bool) -> ProviderError:
        request_id = _header(answer.headers, "X-Ca-Request-Id") or None
        retry_after = http.retry_after_seconds(
            _header(answer.headers, "Retry-After") or None, self.context.clock()
        )
        document = _json(answer.body)
        if isinstance(document, dict) and ("code" in document or "success" in document):
            code = _code(document.get("code"))
            if code in ("", "0"):
                if answer.status == 200:
                    self._unexpected("it says success=false without an error code")
                code = f"http_{answer.status}"
            return self._service_error(
                code,
                _text(document.get("message")),
                _text(document.get("requestId")) or request_id,
                answer.status,
                idempotent=idempotent,
                retry_after=retry_after,
            )
        gateway = _header(answer.headers, "X-Ca-Error-Message")
        if gateway:
            return self._gateway_error(
                gateway,
                _header(answer.headers, "X-Ca-Error-Code"),
                answer.status,
                request_id,
                idempotent=idempotent,
                retry_after=retry_after,
            )
        if answer.status == 200:
            self._unexpected("it is not a JSON object with a code")
        return self._status_error(answer.status, "", request_id, idempotent, retry_after)

    def _service_error(
        self,
        code: str,
        message: str,
        request_id: str | None,
        status: int,
        *,
        idempotent: bool,
        retry_after: float | None,
    ) -> ProviderError:
        detail = self._detail(message) or "no reason given"
        known = CODES.get(code)
        if known is None:
            return self._status_error(status, detail, request_id, idempotent, retry_after, code=code)
        cls, template = known
        return cls(
            self.key, code, template.format(detail=detail), request_id=request_id, retry_after_s=retry_after
        )

    def _gateway_error(
        self,
        message: str,
        gateway_code: str,
        status: int,
        request_id: str | None,
        *,
        idempotent: bool,
        retry_after: float | None,
    ) -> ProviderError:
        detail = self._detail(message)
        lowered = detail.lower()
        code = gateway_code or f"gateway_{status}"
        if "nonce" in lowered:
            return self._nonce_error(code, detail, request_id, idempotent=idempotent)
        for _, needles, cls, template in GATEWAY:
            if any(needle in lowered for needle in needles):
                return cls(
                    self.key,
                    code,
                    template.format(detail=detail),
                    request_id=request_id,
                    retry_after_s=retry_after,
                )
        return self._status_error(status, detail, request_id, idempotent, retry_after, code=code)

    def _nonce_error(
        self, code: str, detail: str, request_id: str | None, *, idempotent: bool
    ) -> ProviderError:
        lowered = detail.lower()
        if "required" in lowered or "missing" in lowered:
            # Every call carries one, so something between here and Alibaba Cloud removed it.
            return ConfigurationError(
                self.key, code, TEXTS["_nonce_missing"].format(detail=detail), request_id=request_id
            )
        if idempotent:
            # Each call sends a new nonce, so the gateway saw this very request twice (a network device
            # repeated it). Asking for a status again with a fresh nonce is harmless.
            return ProviderUnavailableError(
                self.key, code, TEXTS["_nonce_repeated_query"].format(detail=detail), request_id=request_id
            )
        return UnexpectedResponseError(
            self.key, code, TEXTS["_nonce_repeated_submit"].format(detail=detail), request_id=request_id
        )

    def _status_error(
        self,
        status: int,
        detail: str,
        request_id: str | None,
        idempotent: bool,
        retry_after: float | None,
        *,
        code: str | None = None,
    ) -> ProviderError:
        """An answer this module has no entry for: classified by its HTTP status."""
        code = code or f"http_{status}"
        said = f" ({detail})" if detail else ""
        facts = {"status": status, "said": said, "code": code}
        if status >= 500:
            if status == 504 and not idempotent:
                return ProviderUnavailableError(
                    self.key,
                    code,
                    TEXTS["_submit_timed_out"].format(**facts),
                    request_id=request_id,
                    retryable=False,
                )
            return ProviderUnavailableError(
                self.key,
                code,
                TEXTS["_http_5xx"].format(**facts),
                request_id=request_id,
                retry_after_s=retry_after,
            )
        if status == 429:
            return RateLimitedError(
                self.key,
                code,
                TEXTS["_http_429"].format(**facts),
                request_id=request_id,
                retry_after_s=retry_after,
            )
        if status in (401, 403):
            return AuthenticationError(
                self.key, code, TEXTS["_http_refused"].format(**facts), request_id=request_id
            )
        if status == 404:
            return ConfigurationError(
                self.key, code, TEXTS["_http_404"].format(**facts), request_id=request_id
            )
        if status == 400 and code.startswith("235"):
            return InputRejectedError(
                self.key, code, TEXTS["_http_400"].format(**facts), request_id=request_id
            )
        return UnexpectedResponseError(
            self.key, code, TEXTS["_undocumented"].format(**facts), request_id=request_id
        )

    # ------------------------------------------------------------ task answers
    def _task_update(
        self, document: Mapping[str, Any], result_key: str, index: int | None = None
    ) -> TaskUpdate:
        data = document.get("data")
        items = data.get("task_list") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
            self._unexpected("the query answer has no task_list")
        if index is not None:
            # The sub-tasks come back in the order they were sent.
            if index >= len(items):
                self._unexpected(f"the query answer has no sub-task {index + 1}")
            items = [items[index]]
        notes: dict[str, Any] = {"aliyun_result_key": result_key}
        # Statuses added later are treated as still in progress.
        states = [_STATES.get(_text(item.get("status")).upper(), TaskState.RUNNING) for item in items]
        ended = [state in (TaskState.SUCCEEDED, TaskState.FAILED) for state in states]
        if not all(ended):
            waiting = all(state is TaskState.QUEUED for state in states)
            progress = sum(ended) / len(items) if len(items) > 1 else None
            return TaskUpdate(
                state=TaskState.QUEUED if waiting else TaskState.RUNNING, progress=progress, notes=notes
            )
        outputs: list[OutputImage] = []
        failures: list[tuple[str, str]] = []
        for item, state in zip(items, states, strict=True):
            if state is TaskState.FAILED:
                failures.append((_code(item.get("code")) or "FAILED", _text(item.get("message"))))
                continue
            urls = _urls(item.get("results"))
            if not urls:
                failures.append(("no_results", "the service reported success but sent no images"))
            seed = _int(item.get("seed"))
            outputs.extend(OutputImage(url=url, mime=_mime(url), seed=seed) for url in urls)
        if not outputs:
            code, message = failures[0]
            failure = TaskFailure(code, self._failure_message(code, message))
            return TaskUpdate(state=TaskState.FAILED, failure=failure, notes=notes)
        if failures:
            notes["aliyun_failed_subtasks"] = str(len(failures))
        return TaskUpdate(state=TaskState.SUCCEEDED, outputs=tuple(outputs), notes=notes)

    def _failure_message(self, code: str, message: str) -> str:
        detail = self._detail(message) or "no reason given"
        lowered = detail.lower()
        known_code = (
            code
            if code in CODES
            else next((value for text, value in VENDOR_TEXTS.items() if text in lowered), None)
        )
        if known_code is None:
            return TASK_FAILED.format(detail=detail)
        cls, template = CODES[known_code]
        if cls.retryable_default:
            # A finished task is not retried by the worker, so do not promise that here.
            return TASK_TRANSIENT.format(detail=detail)
        return template.format(detail=detail)


# -------------------------------------------------------------------- helpers
def _is_success(document: Mapping[str, Any]) -> bool:
    return _code(document.get("code")) in ("", "0") and document.get("success") is not False


def _code(value: Any) -> str:
    """0, "0", 23500008 and "23500008" compare equal: the seller's sample and table disagree on the type."""
    if value is None or isinstance(value, bool):
        return ""
    text = str(value).strip()
    with contextlib.suppress(ValueError, OverflowError):
        number = float(text)
        if number.is_integer():
            return str(int(number))
    return text


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return _text(value)


def _urls(results: Any) -> list[str]:
    urls: list[str] = []
    for item in results if isinstance(results, list) else []:
        url = (
            _text(item.get("url")) if isinstance(item, dict) else _text(item) if isinstance(item, str) else ""
        )
        if url.lower().startswith(("https://", "http://")):
            urls.append(url)
    return urls


def _mime(url: str) -> str:
    path = urllib.parse.urlsplit(url).path.lower()
    if path.endswith((".jpg", ".jpeg")):
        return "image/jpeg"
    if path.endswith(".webp"):
        return "image/webp"
    return "image/png"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    with contextlib.suppress(TypeError, ValueError):
        return int(str(value).strip())
    return None
