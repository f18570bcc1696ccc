"""Aidge (Alibaba International AI): scene background generation, its scene catalogue, virtual model swap.

Protocol (shared/providers.md section 1): every call goes to
`{api_base}/rest{api}` with the "v2" simple signature in the query string,
`sign = HEX_UPPER(HMAC-SHA256(secret, secret + timestamp_ms))`; the body is
JSON and array parameters travel as a JSON *string* (`requestParams`).
Both generation APIs are asynchronous: submit returns a task id, a query
call reports `submitted` -> `running` -> `finished` | `failed`.

Errors come at two levels: the gateway (`code` other than "0": signature,
timestamp, API path, quota, call limits) and the API (`resCode` other than
200). `_GATEWAY_CODES` and `_RES_CODES` map every documented code to the
error tree; unknown gateway codes are classified by their words, since the
exact strings Aidge uses are not published. Throttling and server errors may
come as HTTP 429/5xx with the same bodies, which are read like any other
answer. A quota message ("your calling resources have been exhausted") wins
over whatever code carries it, and resCode 700 on a status query means the
task is unknown, not a bad input. `ERROR_TEXTS` lists every message for
studio's translations.

The photo travels by link (`imageFileUrl`, `imageUrl`) when studio's input
hosting published it (`Limits.accepts_urls`), else as base64 in the body.

The remote id stored for a job is `<operation>:<taskId>`, because each
operation has its own query API and `poll` only receives the id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from providers import http
from providers.base import (
    ConnectionCheck,
    GenerationRequest,
    Limits,
    Operation,
    OptionSpec,
    OutputImage,
    Price,
    SceneInfo,
    Submitted,
    TaskFailure,
    TaskState,
    TaskUpdate,
)
from providers.common import VendorAdapter
from providers.common import text as _text
from providers.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentRejectedError,
    InputRejectedError,
    ProviderError,
    ProviderUnavailableError,
    QuotaExhaustedError,
    RateLimitedError,
    TaskNotFoundError,
    UnexpectedResponseError,
)
from providers.payload import payload_or_refuse

GLOBAL_API_BASE = "https://api.aidc-ai.com"
CHINA_API_BASE = "https://cn-api.aidc-ai.com"

API_SCENE_SUBMIT = "/ai/image/background/generation/scenario"
API_SCENE_QUERY = "/ai/image/background/generation/query"
API_SCENE_CATALOGUE = "/ai/image/background/generation/scene/query"
API_MODEL_SUBMIT = "/ai/virtual/model/generation/batch"
API_MODEL_QUERY = "/ai/virtual/model/generation/query"

MAX_INPUT_BYTES = 4 * 1024 * 1024
# "More than 512x512 pixels and less than 3000x3000 pixels" (seeds 000 and 004): strictly inside.
MIN_SIDE = 513
MAX_SIDE = 2999
INPUT_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP"})
SCENE_SIZES = ((800, 800), (750, 1000))
MODELS = ("universal_model_1", "universal_model_2", "universal_model_3", "universal_model_4")
GENDERS = ("auto", "MALE", "FEMALE")
AGES = ("auto", "YOUTH", "MIDDLE_AGE", "OLD_AGE")
BACKGROUND_STYLES = ("studio", "room", "European_street", "beach")
MAX_TITLE_CHARS = 200

# Scene catalogue vocabularies (providers.md 1.7): the numbers the API takes, with their names.
CATEGORY_TYPES: Mapping[int, str] = {
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
SCENE_TYPES: Mapping[int, str] = {1: "Indoor", 2: "Outdoor", 3: "Atmosphere", 4: "Promotion"}

_NO_PRICE = Price(
    per_image=None,
    source=(
        "Aidge publishes no per-image price for this API (checked 2026-11); set yours with "
        "AIDGE_PRICE_{op} or price_{op} in the [aidge] section of .streamlit/secrets.toml"
    ),
    as_of="2026-11-22",
)

_SIDES_HINT = "Aidge needs JPEG, PNG, WEBP or BMP, at most 4 MB, 512-3000 px per side"

# resCode -> (error class, code kept on the job, message for a marketing user).
_RES_CODES: Mapping[int, tuple[type[ProviderError], str]] = {
    500: (ProviderUnavailableError, "Aidge had a system error; the job is tried again automatically."),
    501: (
        RateLimitedError,
        "Aidge's rate limit for your account was reached; the job waits and tries again. "
        "To raise the limit, contact aidge_support@service.alibaba.com.",
    ),
    700: (InputRejectedError, "Aidge rejected the input ({detail}). " + _SIDES_HINT + "; check the options."),
    801: (
        ProviderUnavailableError,
        "Aidge's model failed on this request; the job is tried again automatically. If it keeps "
        "failing, try another photo or contact aidge_support@service.alibaba.com.",
    ),
    900: (
        InputRejectedError,
        "Aidge could not fetch the input image from its link. Upload the image again and retry.",
    ),
    1000: (
        ContentRejectedError,
        "Aidge refused the image because it may contain sensitive content. Try another photo.",
    ),
    1001: (
        ProviderUnavailableError,
        "Aidge's content check did not complete; the job is tried again automatically. If it keeps "
        "happening, try another photo.",
    ),
    1002: (
        ContentRejectedError,
        "Aidge's content filter blocked this request. Try another photo; if you think this is wrong, "
        "contact aidge_support@service.alibaba.com.",
    ),
}

_CREDENTIALS_HINT = (
    "check AIDGE_ACCESS_KEY_NAME and AIDGE_ACCESS_KEY_SECRET (Settings page), and that the key "
    "belongs to the site in AIDGE_API_BASE (global https://api.aidc-ai.com, China https://cn-api.aidc-ai.com)"
)

# Gateway `code` -> (error class, message). Codes beyond these are classified by `_gateway_by_words`.
_GATEWAY_CODES: Mapping[str, tuple[type[ProviderError], str]] = {
    "IncompleteSignature": (
        AuthenticationError,
        "Aidge did not accept the signature: " + _CREDENTIALS_HINT + ".",
    ),
    "InvalidSignature": (
        AuthenticationError,
        "Aidge did not accept the signature: " + _CREDENTIALS_HINT + ".",
    ),
    "InvalidAppKey": (AuthenticationError, "Aidge does not know this access key: " + _CREDENTIALS_HINT + "."),
    "AppKeyNotFound": (
        AuthenticationError,
        "Aidge does not know this access key: " + _CREDENTIALS_HINT + ".",
    ),
    "InvalidTimestamp": (
        AuthenticationError,
        "Aidge refused the request time: this computer's clock is off. Synchronise the clock and try again.",
    ),
    "InvalidApiPath": (
        ConfigurationError,
        "Aidge does not offer this API at the configured address: check AIDGE_API_BASE (global "
        "https://api.aidc-ai.com, China https://cn-api.aidc-ai.com) and that the API is purchased.",
    ),
    "ApiCallLimit": (RateLimitedError, "Aidge is throttling requests; the job waits and tries again."),
    "AppCallLimit": (RateLimitedError, "Aidge is throttling requests; the job waits and tries again."),
    "AccessDenied": (
        AuthenticationError,
        "Aidge refused access for this key: check that the API is purchased for it, or "
        + _CREDENTIALS_HINT
        + ".",
    ),
}

_QUOTA_MESSAGE = (
    "Your Aidge quota for this API is used up. Buy more in the Aidge console, or set AIDGE_TRIAL=true "
    "to use the free trial quota."
)
TASK_UNKNOWN = "Aidge no longer knows this task (it may have expired). Submit the job again."
_GATEWAY_UNKNOWN = (
    "Aidge's gateway refused the request with code {code}. Try again later; if it keeps happening, check "
    "the Aidge settings and console."
)
UNDOCUMENTED = "Aidge answered with an undocumented code {code} ({detail}). Try again later."
_HTTP_STATUS = "Aidge answered HTTP {status}; the job is tried again."
UNEXPECTED = "Aidge's answer did not have the documented shape ({why}). Try again later."
_NO_STATUS = "Aidge's task status answer had no data. It is asked again."
TASK_FAILED = "Aidge could not make these images ({detail}). Try another photo or scene."
NO_TASK_ID = (
    "Aidge accepted the job but its answer had no task id, so its result cannot be fetched. "
    "Check the Aidge console before retrying, so you are not charged twice."
)

# Every user message this adapter raises or records, for studio's translations (studio/vendor_texts.py).
ERROR_TEXTS: Mapping[str, str] = {
    **{str(code): text for code, (_, text) in _RES_CODES.items()},
    "700#task_unknown": TASK_UNKNOWN,
    **{code: text for code, (_, text) in _GATEWAY_CODES.items()},
    "_quota": _QUOTA_MESSAGE,
    "_gateway_unknown": _GATEWAY_UNKNOWN,
    "_undocumented": UNDOCUMENTED,
    "_http_status": _HTTP_STATUS,
    "_unexpected": UNEXPECTED,
    "_no_status": _NO_STATUS,
    "_task_failed": TASK_FAILED,
    # Checks made before or around a call, keyed by the error code they are raised with.
    "unsupported_operation": "Aidge does not make prompt backgrounds.",
    "bad_task_id": "This job has no valid Aidge task id; submit it again.",
    "no_task_id": NO_TASK_ID,
    "not_configured": "Aidge is not configured: set AIDGE_ACCESS_KEY_NAME and AIDGE_ACCESS_KEY_SECRET.",
    "bad_endpoint": "AIDGE_API_BASE must start with https:// (it is '{base}').",
    "_connected": "Signed in to {endpoint}; the scene catalogue answered (scenes listed: {count}).",
}


def sign_v2(secret: str, timestamp_ms: str) -> str:
    """Aidge's "v2" signature: uppercase hex HMAC-SHA256 of secret + timestamp, keyed by the secret."""
    digest = hmac.new(secret.encode("utf-8"), (secret + timestamp_ms).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest().upper()


class Aidge(VendorAdapter):
    key = "aidge"
    label = "Aidge"
    vendor_name = "Aidge"
    unexpected_text = UNEXPECTED
    operations = frozenset({Operation.SCENE_BACKGROUND, Operation.MODEL_SWAP})
    limits: ClassVar[Mapping[Operation, Limits]] = {
        Operation.SCENE_BACKGROUND: Limits(
            formats=INPUT_FORMATS,
            min_side=MIN_SIDE,
            max_side=MAX_SIDE,
            max_bytes=MAX_INPUT_BYTES,
            # imageFileUrl / imageUrl: studio publishes the photo when input hosting is set up.
            accepts_urls=True,
            output_sizes=SCENE_SIZES,
            min_count=2,
            max_count=10,
            default_count=4,
            default_size=(800, 800),
        ),
        Operation.MODEL_SWAP: Limits(
            formats=INPUT_FORMATS,
            min_side=MIN_SIDE,
            max_side=MAX_SIDE,
            max_bytes=MAX_INPUT_BYTES,
            # imageFileUrl / imageUrl: studio publishes the photo when input hosting is set up.
            accepts_urls=True,
            min_count=1,
            max_count=4,
            default_count=2,
        ),
    }
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]] = {
        Operation.SCENE_BACKGROUND: (OptionSpec("needLayout", "bool", False, "opt.needLayout"),),
        Operation.MODEL_SWAP: (
            OptionSpec("model", "choice", MODELS[0], "opt.model", choices=MODELS),
            OptionSpec("gender", "choice", "auto", "opt.gender", choices=GENDERS),
            OptionSpec("age", "choice", "auto", "opt.age", choices=AGES),
            OptionSpec("maskKeepbg", "bool", True, "opt.maskKeepbg"),
            OptionSpec("bgStyle", "choice", "", "opt.bgStyle", choices=("", *BACKGROUND_STYLES)),
            OptionSpec("dimension", "int", 768, "opt.dimension", minimum=512, maximum=2048, step=1),
            OptionSpec("imageStyle", "choice", "realPhoto", "opt.imageStyle", choices=("realPhoto",)),
        ),
    }
    billing_currency: ClassVar[str] = "USD"
    prices: ClassVar[Mapping[Operation, Price]] = {
        Operation.SCENE_BACKGROUND: _NO_PRICE,
        Operation.MODEL_SWAP: _NO_PRICE,
    }
    param_aliases: ClassVar[Mapping[Operation, Mapping[str, str]]] = {
        Operation.SCENE_BACKGROUND: {"imageNum": "count", "count": "count", "productTitle": "product_title"},
        Operation.MODEL_SWAP: {"count": "count"},
    }
    # Not published for these APIs; Aidge's Alibaba Cloud pages name 2 QPS as the smallest tier.
    submit_qps = 2.0
    max_in_flight = 4
    # Aidge recommends polling no faster than once a second (5 s suggested).
    poll_interval_hint = 3.0
    # Result link lifetime: not documented (shared/providers.md open questions); studio's default applies.
    result_ttl_s = None
    can_list_scenes = True
    can_check_connection = True
    scene_filters: ClassVar[Mapping[str, Mapping[str, str]]] = {
        "categoryType": {str(number): name for number, name in CATEGORY_TYPES.items()},
        "sceneType": {str(number): name for number, name in SCENE_TYPES.items()},
    }
    optional_settings: ClassVar[Mapping[str, str]] = {
        "api_base": GLOBAL_API_BASE,
        "trial": "false",
        "poll_interval_s": "3",
    }
    endpoint_setting = "api_base"
    default_endpoint = GLOBAL_API_BASE
    error_texts = ERROR_TEXTS

    @classmethod
    def required_credentials(cls) -> tuple[str, ...]:
        return ("access_key_name", "access_key_secret")

    @classmethod
    def check_rules(
        cls, operation: Operation, params: dict[str, Any], given: frozenset[str]
    ) -> dict[str, Any]:
        if operation is not Operation.MODEL_SWAP:
            return params
        style = params.get("bgStyle") or ""
        if style and params.get("maskKeepbg") and "maskKeepbg" in given:
            raise ValueError(
                f"bgStyle={style} changes the background, but maskKeepbg=true keeps it; "
                "drop one of them (maskKeepbg=false with a bgStyle replaces the background)"
            )
        if style:
            # Asking for a background style means replacing the background.
            params["maskKeepbg"] = False
        elif not params.get("maskKeepbg"):
            raise ValueError(
                "maskKeepbg=false replaces the background, so bgStyle must say with what: "
                f"one of {', '.join(BACKGROUND_STYLES)}"
            )
        return params

    # ------------------------------------------------------------ calls
    def submit(self, request: GenerationRequest) -> Submitted:
        if request.operation is Operation.SCENE_BACKGROUND:
            body = {"requestParams": json.dumps([self._scene_params(request)], ensure_ascii=False)}
            data = self._call(API_SCENE_SUBMIT, body=body, idempotent=False)
            return Submitted(remote_id=f"{Operation.SCENE_BACKGROUND}:{_task_id(data)}")
        if request.operation is Operation.MODEL_SWAP:
            body = {"requestParams": json.dumps([self._model_params(request)], ensure_ascii=False)}
            data = self._call(API_MODEL_SUBMIT, body=body, idempotent=False)
            return Submitted(remote_id=f"{Operation.MODEL_SWAP}:{_task_id(data)}")
        raise InputRejectedError(self.key, "unsupported_operation", self._says("unsupported_operation"))

    def poll(self, remote_id: str) -> TaskUpdate:
        operation, _, task_id = remote_id.partition(":")
        if not task_id:
            raise TaskNotFoundError(self.key, "bad_task_id", self._says("bad_task_id"))
        api = API_MODEL_QUERY if operation == Operation.MODEL_SWAP else API_SCENE_QUERY
        try:
            data = self._call(api, query={"taskId": task_id}, idempotent=True)
        except InputRejectedError as exc:
            if exc.code == "700":
                raise TaskNotFoundError(self.key, "700", TASK_UNKNOWN, request_id=exc.request_id) from None
            raise
        return _task_update(data, task_id, self._scrub)

    def list_scenes(self, query: Mapping[str, Any]) -> tuple[SceneInfo, ...]:
        params: dict[str, str] = {}
        for name in ("productTitle", "imageUrl", "categoryType", "sceneType", "count"):
            value = query.get(name)
            if value not in (None, ""):
                params[name] = str(value)
        data = self._call(API_SCENE_CATALOGUE, body=params, idempotent=True)
        return tuple(_scene_info(item) for item in _scene_list(data))

    def check_connection(self) -> ConnectionCheck:
        scenes = self.list_scenes({"count": 1})
        return ConnectionCheck(
            ok=True,
            message=self._says("_connected", endpoint=self.endpoint, count=len(scenes)),
        )

    # ------------------------------------------------------------ request bodies
    def _scene_params(self, request: GenerationRequest) -> dict[str, str]:
        width, height = request.size or (800, 800)
        params = {
            **self._image_field(request, Operation.SCENE_BACKGROUND, "imgBase64", "imageFileUrl"),
            "modelNum": request.scene_id or "",
            "needLayout": _flag(bool(request.params.get("needLayout", False))),
            "width": str(width),
            "height": str(height),
            "imageNum": str(request.count),
        }
        if request.product_title:
            params["productTitle"] = request.product_title[:MAX_TITLE_CHARS]
        return params

    def _model_params(self, request: GenerationRequest) -> dict[str, str]:
        options = request.params
        params = {
            **self._image_field(request, Operation.MODEL_SWAP, "imageBase64", "imageUrl"),
            "imageStyle": str(options.get("imageStyle") or "realPhoto"),
            "model": str(options.get("model") or MODELS[0]),
            "maskKeepbg": _flag(bool(options.get("maskKeepbg", True))),
            "count": str(request.count),
            "dimension": str(int(options.get("dimension") or 768)),
        }
        for name in ("gender", "age"):
            value = str(options.get(name) or "auto")
            if value != "auto":
                params[name] = value
        if not options.get("maskKeepbg", True):
            params["bgStyle"] = str(options.get("bgStyle") or BACKGROUND_STYLES[0])
        return params

    def _image_field(
        self, request: GenerationRequest, operation: Operation, base64_name: str, url_name: str
    ) -> dict[str, str]:
        """The photo by link when studio published it (`accepts_urls`: a small request instead of a
        base64 body), else inline. Never both: the document says base64 wins when both are given."""
        if request.image_url:
            return {url_name: request.image_url}
        return {base64_name: self._image_base64(request, operation)}

    def _image_base64(self, request: GenerationRequest, operation: Operation) -> str:
        """The job's photo exactly as studio checked and stored it (re-checked here, before the call)."""
        payload = payload_or_refuse(
            self.limits[operation], request.image, None, provider=self.key, vendor=self.label
        )
        return base64.b64encode(payload.image.data).decode("ascii")

    # ------------------------------------------------------------ transport
    def _signed_query(self) -> dict[str, str]:
        credentials = self.context.credentials
        name = credentials.get("access_key_name", "")
        secret = credentials.get("access_key_secret", "")
        if not name or not secret:
            raise ConfigurationError(self.key, "not_configured", self._says("not_configured"))
        timestamp = str(int(self.context.clock() * 1000))
        return {
            "partner_id": "aidge",
            "sign_method": "sha256",
            "sign_ver": "v2",
            "app_key": name,
            "timestamp": timestamp,
            "sign": sign_v2(secret, timestamp),
        }

    def _call(
        self,
        api: str,
        *,
        idempotent: bool,
        body: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """One signed call; returns the envelope's `data` or raises the mapped error."""
        base = (self.endpoint or GLOBAL_API_BASE).rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigurationError(self.key, "bad_endpoint", self._says("bad_endpoint", base=base))
        headers = {"Content-Type": "application/json"}
        if self.context.options.get("trial", "").strip().lower() in {"1", "true", "yes", "on"}:
            headers["x-iop-trial"] = "true"
        signed = {**self._signed_query(), **dict(query or {})}
        answer = http.send(
            self._session(),
            self.key,
            "GET" if body is None else "POST",
            f"{base}/rest{api}",
            idempotent=idempotent,
            params=signed,
            json_body=None if body is None else dict(body),
            headers=headers,
            now=self.context.clock(),
            vendor_bodies=True,
        )
        if http.is_error_status(answer.status):
            raise self._status_error(answer)
        envelope = answer.json(self.key)
        if not isinstance(envelope, dict):
            self._unexpected("the answer is not a JSON object")
        return self._unwrap(envelope, answer.status)

    def _status_error(self, answer: http.HttpAnswer) -> ProviderError:
        """429/5xx: the gateway's or the API's own code when the body carries one (`ApiCallLimit`,
        resCode 501, a quota message that must not be retried), else the status's generic error."""
        now = self.context.clock()
        generic = http.status_error(self.key, answer, now) or ProviderUnavailableError(
            self.key, f"http_{answer.status}", _HTTP_STATUS.format(status=answer.status)
        )
        try:
            envelope = json.loads(answer.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return generic  # a load balancer's page, not Aidge's JSON
        if not isinstance(envelope, dict) or not _names_a_code(envelope):
            return generic
        try:
            self._unwrap(envelope, answer.status)
        except ProviderError as exc:
            if isinstance(exc, UnexpectedResponseError):
                # A code Aidge did not document: the status says more than the code does.
                return type(generic)(
                    self.key,
                    exc.code,
                    generic.user_message,
                    request_id=exc.request_id or generic.request_id,
                    retry_after_s=generic.retry_after_s,
                )
            return http.with_status_facts(exc, answer, now)
        return generic

    def _unwrap(self, envelope: dict[str, Any], status: int) -> Any:
        if isinstance(envelope.get("error_response"), dict):
            envelope = envelope["error_response"]
        request_id = _text(envelope.get("requestId") or envelope.get("request_id")) or None
        gateway_code = _text(envelope.get("code"))
        if gateway_code and gateway_code != "0":
            raise self._gateway_error(gateway_code, _text(envelope.get("message")), request_id)
        res_code = envelope.get("resCode")
        if res_code is None and "success" not in envelope:
            if status >= 400:
                raise ProviderUnavailableError(
                    self.key, f"http_{status}", _HTTP_STATUS.format(status=status), request_id=request_id
                )
            self._unexpected("it has neither resCode nor success")
        try:
            code = int(str(res_code)) if res_code is not None else (200 if envelope.get("success") else 0)
        except ValueError:
            self._unexpected(f"resCode is '{res_code}'")
        if code != 200:
            raise self._business_error(code, _text(envelope.get("resMessage")), request_id)
        if envelope.get("success") is False:
            self._unexpected("success is false with resCode 200")
        return envelope.get("data")

    def _gateway_error(self, code: str, message: str, request_id: str | None) -> ProviderError:
        if "resources have been exhausted" in message.lower() or "quota" in message.lower():
            return QuotaExhaustedError(self.key, code, _QUOTA_MESSAGE, request_id=request_id)
        known = _GATEWAY_CODES.get(code) or _gateway_by_words(code)
        if known is None:
            return UnexpectedResponseError(
                self.key, code, _GATEWAY_UNKNOWN.format(code=code), request_id=request_id
            )
        cls, text = known
        return cls(self.key, code, text, request_id=request_id)

    def _business_error(self, code: int, message: str, request_id: str | None) -> ProviderError:
        message = self._scrub(message)
        known = _RES_CODES.get(code)
        if known is None:
            return UnexpectedResponseError(
                self.key,
                str(code),
                UNDOCUMENTED.format(code=code, detail=message or "no message"),
                request_id=request_id,
            )
        cls, text = known
        return cls(self.key, str(code), text.format(detail=message or "invalid input"), request_id=request_id)


# -------------------------------------------------------------------- parsing
def _task_id(data: Any) -> str:
    """The task id from a submit answer, wherever this API version puts it (providers.md 1.9)."""
    candidates: list[Any] = []
    if isinstance(data, dict):
        result = data.get("result")
        if isinstance(result, str):
            try:
                result = json.loads(result)
            except json.JSONDecodeError:
                result = None
        if isinstance(result, dict):
            candidates.append(result.get("taskId"))
        candidates.append(data.get("taskId"))
    for candidate in candidates:
        if candidate not in (None, ""):
            return str(candidate)
    raise UnexpectedResponseError("aidge", "no_task_id", NO_TASK_ID)


_STATES: Mapping[str, TaskState] = {
    "submitted": TaskState.QUEUED,
    "queued": TaskState.QUEUED,
    "running": TaskState.RUNNING,
    "in_progress": TaskState.RUNNING,
    "finished": TaskState.SUCCEEDED,
    "completed": TaskState.SUCCEEDED,
    "succeeded": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
}


def _task_update(data: Any, task_id: str, scrub: Callable[[str], str]) -> TaskUpdate:
    if not isinstance(data, dict):
        raise UnexpectedResponseError("aidge", "unexpected_response", _NO_STATUS)
    status = _text(data.get("taskStatus")).lower()
    # Unknown states are treated as still running; the worker's schedule bounds the wait.
    state = _STATES.get(status, TaskState.RUNNING)
    message = scrub(_text(data.get("taskMessage")))
    if state is TaskState.FAILED:
        return TaskUpdate(
            state=TaskState.FAILED,
            failure=TaskFailure("aidge_task_failed", TASK_FAILED.format(detail=message or "no reason given")),
            notes={"aidge_task_id": task_id},
        )
    if state is not TaskState.SUCCEEDED:
        return TaskUpdate(state=state, notes={"aidge_task_id": task_id})
    urls = _result_urls(data.get("taskResult"))
    outputs = tuple(OutputImage(url=url, mime="image/png") for url in urls)
    return TaskUpdate(
        state=TaskState.SUCCEEDED,
        outputs=outputs,
        billed_images=len(outputs),
        notes={"aidge_task_id": task_id},
    )


def _result_urls(result: Any) -> list[str]:
    """Image URLs from `taskResult`: entries with `imageUrlList` (strings or objects) or with `url`."""
    if isinstance(result, str):
        try:
            result = json.loads(result)
        except json.JSONDecodeError:
            return []
    if isinstance(result, dict):
        result = [result]
    urls: list[str] = []
    for entry in result if isinstance(result, list) else []:
        if isinstance(entry, str):
            urls.append(entry)
            continue
        if not isinstance(entry, dict):
            continue
        if _text(entry.get("taskStatus")).lower() == "failed":
            continue
        if entry.get("url"):
            urls.append(str(entry["url"]))
        for item in entry.get("imageUrlList") or []:
            url = (
                item
                if isinstance(item, str)
                else (item.get("url") or item.get("imageUrl") if isinstance(item, dict) else None)
            )
            if url:
                urls.append(str(url))
    return urls


def _scene_list(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        for key in ("result", "sceneList", "list", "data"):
            if key in data:
                return _scene_list(data[key])
        return [data] if "modelNum" in data else []
    if isinstance(data, str):
        try:
            return _scene_list(json.loads(data))
        except json.JSONDecodeError:
            return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _scene_info(item: Mapping[str, Any]) -> SceneInfo:
    categories = item.get("categoryNameList") or []
    if isinstance(categories, str):
        categories = [categories]
    name = _text(item.get("name")) or _text(item.get("sceneName")) or _text(item.get("modelNum"))
    return SceneInfo(
        scene_id=_text(item.get("modelNum")),
        name=name,
        category=", ".join(str(c) for c in categories),
        thumbnail_url=_text(item.get("coverUrl")) or None,
        description=_text(item.get("sceneName")),
    )


def _gateway_by_words(code: str) -> tuple[type[ProviderError], str] | None:
    """Classify a gateway code Aidge did not document by what it says (the strings are not published)."""
    words = code.lower()
    if "sign" in words or "appkey" in words or "accesskey" in words or "token" in words:
        return _GATEWAY_CODES["IncompleteSignature"]
    if "timestamp" in words:
        return _GATEWAY_CODES["InvalidTimestamp"]
    if "api" in words and ("path" in words or "notfound" in words or "invalid" in words):
        return _GATEWAY_CODES["InvalidApiPath"]
    if "limit" in words or "throttl" in words or "flow" in words:
        return _GATEWAY_CODES["ApiCallLimit"]
    if "permission" in words or "denied" in words or "forbidden" in words:
        return _GATEWAY_CODES["AccessDenied"]
    return None


def _names_a_code(envelope: Mapping[str, Any]) -> bool:
    """Whether an answer carries a gateway code other than "0" or a resCode other than 200."""
    inner = envelope.get("error_response")
    if isinstance(inner, dict):
        envelope = inner
    gateway = _text(envelope.get("code"))
    return (bool(gateway) and gateway != "0") or _text(envelope.get("resCode")) not in ("", "200")


def _flag(value: bool) -> str:
    return "true" if value else "false"
