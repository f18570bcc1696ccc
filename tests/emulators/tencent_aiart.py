"""A loopback emulator of Tencent Cloud aiart ReplaceBackground, for end-to-end tests of providers/tencent_aiart.py.

It answers API 3.0 calls the way `aiart.tencentcloudapi.com` does (shared/providers.md section 3):

- `POST /` with `X-TC-Action: ReplaceBackground`, `X-TC-Version: 2022-12-29`, `X-TC-Region`,
  `X-TC-Timestamp` and a TC3-HMAC-SHA256 `Authorization` header, checked exactly as
  providers.md 3.4 describes (canonical request over `content-type;host` and the raw body,
  the `TC3`+key chain over date / `aiart` / `tc3_request`), with a 5-minute clock skew;
- every answer, success or error, is HTTP 200 with `Content-Type: application/json` exactly
  (the SDK ignores errors under any other type) and a `Response` object;
- one job in flight per account: a call arriving while another is generating answers
  `RequestLimitExceeded.JobNumExceed` (`job_seconds` makes a job take that long);
- the input URLs are downloaded like the service does, from loopback only; anything else, or a
  link that does not answer 200, is `FailedOperation.ImageDownloadError`;
- the result comes back as base64 or as a URL (`RspImgType`), at the requested `Resolution`,
  and the emulator serves those URLs (`/results/<id>.jpg`, `/masks/<id>.png`) until they expire
  an hour later, like the signed COS links the real service hands out.

Tests can inject any documented error code (`fail_next`), a non-200 HTTP answer
(`http_error_next`), change the Content-Type, and read back every call (`requests`).

Use it as a context manager, from a pytest fixture, or as a separate process:

    python -m tests.emulators.tencent_aiart --port 0 --secret-id AKID... --secret-key KEY

prints `TENCENT_AIART_EMULATOR_URL=http://127.0.0.1:PORT` and serves until killed. Point the SDK
at it with `HttpProfile(protocol="http", endpoint="127.0.0.1:PORT")` (`emulator.endpoint`).
"""

from __future__ import annotations

import argparse
import base64
import colorsys
import contextlib
import hashlib
import hmac
import io
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from providers.base import GenerationRequest, Operation, ProviderContext
from providers.http import new_session
from tests.emulators import contract
from tests.emulators.contract import ContractCase
from tests.emulators.loopback import LoopbackHandler, VendorEmulator, loopback_fetch
from tests.emulators.static_files import StaticFiles

ACTION = "ReplaceBackground"
VERSION = "2022-12-29"
SERVICE = "aiart"
ALGORITHM = "TC3-HMAC-SHA256"
JSON_TYPE = "application/json"

MAX_SKEW_S = 300.0
URL_LIFETIME_S = 3600
# "Less than 6 MB once converted to base64."
MAX_BASE64_BYTES = 6 * 1024 * 1024
MAX_INPUT_SIDE_EXCLUSIVE = 4000
MAX_TEXT_CHARS = 256
MAX_PRODUCT_CHARS = 50
DEFAULT_RESOLUTION = (1280, 1280)
PRODUCT_FORMATS = frozenset({"JPEG", "PNG", "BMP", "TIFF", "WEBP"})
FIELDS = frozenset(
    {
        "ProductUrl",
        "Prompt",
        "NegativePrompt",
        "Product",
        "BackgroundTemplate",
        "MaskUrl",
        "Resolution",
        "LogoAdd",
        "LogoParam",
        "RspImgType",
    }
)

# Every code of the ReplaceBackground error table and the SDK's extras, with the vendor's description
# (translated) as the message the emulator answers: what the adapter must map.
DOCUMENTED_MESSAGES: Mapping[str, str] = {
    "AuthFailure.UnauthorizedOperation": "You are not authorized to perform this operation; check your CAM policy.",
    "FailedOperation.GenerateImageFailed": "The generated image failed the review, please retry.",
    "FailedOperation.ImageDecodeFailed": "Image decoding failed.",
    "FailedOperation.ImageDownloadError": "Image download error.",
    "FailedOperation.ImageResolutionExceed": "The image resolution is too large (over 2000*2000).",
    "FailedOperation.ImageSizeExceed": "The base64-encoded image must not exceed 10M.",
    "FailedOperation.InnerError": "Internal service error, please retry later.",
    "FailedOperation.RequestEntityTooLarge": "The request body is too large (usually the image).",
    "FailedOperation.RequestTimeout": "Backend service timed out.",
    "FailedOperation.RpcFail": "RPC request failed, usually an algorithm microservice fault.",
    "FailedOperation.ServerError": "Internal service error.",
    "FailedOperation.Unknown": "Unknown error.",
    "InvalidParameter.InvalidParameter": "Invalid parameter.",
    "InvalidParameterValue.ImageEmpty": "The image is empty.",
    "InvalidParameterValue.ParameterValueError": "A parameter field or value is wrong.",
    "InvalidParameterValue.StyleConflict": "1xx styles cannot be mixed with other styles.",
    "InvalidParameterValue.TextLengthExceed": "The input text is too long, please use a shorter text.",
    "InvalidParameterValue.UrlIllegal": "The URL format is invalid.",
    "OperationDenied.ImageIllegalDetected": "The image contains illegal content and failed the review.",
    "OperationDenied.TextIllegalDetected": "The text contains illegal content and failed the review.",
    "RequestLimitExceeded": "The number of requests exceeds the frequency limit.",
    "RequestLimitExceeded.JobNumExceed": "Too many jobs are being processed at the same time, please retry later.",
    "ResourceUnavailable.Delivering": "The resource is being delivered.",
    "ResourceUnavailable.InArrears": "The account is in arrears.",
    "ResourceUnavailable.LowBalance": "Insufficient balance.",
    "ResourceUnavailable.NotExist": "Billing state unknown; check that the service is activated in the console.",
    "ResourceUnavailable.StopUsing": "The account has been suspended.",
    "ResourcesSoldOut.ChargeStatusException": "Abnormal billing state.",
    # SDK errorcodes.py extras
    "FailedOperation.ConsoleServerError": "Console service error.",
    "FailedOperation.JobNotExist": "The job does not exist.",
    "InvalidParameterValue.LogoParamErr": "Logo parameter error.",
}
# Common API 3.0 codes the emulator answers by itself (signature, routing, parameters).
COMMON_MESSAGES: Mapping[str, str] = {
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated. Please check your signature.",
    "AuthFailure.SignatureExpire": "Signature expired. Timestamp and server time cannot differ by more than 5 minutes.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found, please ensure that your SecretId is correct.",
    "AuthFailure.InvalidAuthorization": "The Authorization header does not meet the standard.",
    "InvalidAction": "The action does not exist.",
    "NoSuchVersion": "The API version does not exist.",
    "MissingParameter": "A required parameter is missing.",
    "UnknownParameter": "An undefined parameter was sent.",
    "UnsupportedRegion": "The API does not support this region.",
    "InternalError": "Internal error.",
}
ERROR_MESSAGES: Mapping[str, str] = {**DOCUMENTED_MESSAGES, **COMMON_MESSAGES}
DOCUMENTED_CODES: tuple[str, ...] = tuple(DOCUMENTED_MESSAGES)


class ServiceError(Exception):
    """A refusal, answered as HTTP 200 with `Response.Error`."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message if message is not None else ERROR_MESSAGES.get(code, code)


@dataclass(frozen=True)
class RecordedCall:
    """One `POST /` as it arrived and what the emulator answered."""

    action: str
    version: str
    region: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any] | None  # the parsed JSON body; None when it is not a JSON object
    signature_ok: bool
    outcome: str  # "ok" or the error code answered
    request_id: str
    http_status: int = 200


@dataclass
class Job:
    """One generation that reached the model: what it was asked and what it made."""

    job_id: str
    fields: dict[str, Any]
    size: tuple[int, int]
    created: float  # emulator clock
    result: bytes = b""
    mask: bytes | None = None


def tc3_signature(secret_key: str, timestamp: int, host: str, body: bytes, service: str = SERVICE) -> str:
    """The TC3-HMAC-SHA256 signature of a JSON `POST /`, step by step as providers.md 3.4 gives it."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        (
            "POST",
            "/",
            "",
            f"content-type:{JSON_TYPE}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join((ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()))

    def _hmac(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()

    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    k_signing = _hmac(_hmac(k_date, service), "tc3_request")
    return hmac.new(k_signing, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization_header(secret_id: str, secret_key: str, timestamp: int, host: str, body: bytes) -> str:
    """The `Authorization` value the SDK would send, for tests that speak to the emulator directly."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signature = tc3_signature(secret_key, timestamp, host, body)
    return (
        f"{ALGORITHM} Credential={secret_id}/{date}/{SERVICE}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


_AUTH = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/\s]+)/tc3_request,\s*"
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


class TencentAiartEmulator(VendorEmulator["RecordedCall"]):
    """The emulated service. `start()` it (or use `with`), point the SDK at `endpoint`."""

    provider_key = "tencent_aiart"
    announce = "TENCENT_AIART_EMULATOR_URL"
    description = "Loopback emulator of Tencent Cloud aiart ReplaceBackground."

    def __init__(
        self,
        secret_id: str = "AKIDtestemulator",
        secret_key: str = "test-secret-key",
        *,
        max_skew_s: float = MAX_SKEW_S,
        clock: Callable[[], float] = time.time,
        job_seconds: float = 0.0,
        regions: frozenset[str] | None = None,
        content_type: str = JSON_TYPE,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.max_skew_s = max_skew_s
        self.clock = clock
        self.job_seconds = job_seconds
        self.regions = regions
        # Every input downloaded, as (field, bytes read), so tests compare it with what was checked.
        self.downloads: list[tuple[str, bytes]] = []
        self.content_type = content_type
        # The account's single job slot.
        self._slot = threading.Lock()
        self._job_started = threading.Event()
        self._release = threading.Event()
        self._jobs: dict[str, Job] = {}

    # ------------------------------------------------------------ lifecycle
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def endpoint(self) -> str:
        """`127.0.0.1:PORT`: what `HttpProfile(endpoint=...)` takes (no scheme)."""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.endpoint}"

    # ------------------------------------------------------------ inspection
    @property
    def jobs(self) -> list[Job]:
        """Generations that completed (each one billed by the real service), oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def wait_for_job_start(self, timeout: float = 5.0) -> bool:
        """Blocks until a job holds the account's slot (for concurrency tests)."""
        return self._job_started.wait(timeout)

    def release_jobs(self) -> None:
        """Ends the wait of a running job now, and of every later one (instead of `job_seconds`)."""
        self._release.set()

    # ------------------------------------------------------------ command line
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--secret-id", default="AKIDtestemulator")
        parser.add_argument("--secret-key", default="test-secret-key")
        parser.add_argument("--max-skew-s", type=float, default=MAX_SKEW_S)
        parser.add_argument("--job-seconds", type=float, default=0.0)

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> TencentAiartEmulator:
        return cls(
            args.secret_id,
            args.secret_key,
            max_skew_s=args.max_skew_s,
            job_seconds=args.job_seconds,
            port=args.port,
        )

    # ------------------------------------------------------------ fault injection
    def fail_next(self, code: str, message: str | None = None, times: int = 1) -> None:
        """The next `times` correctly signed calls answer this error code."""
        self._queue_switch("service", (code, message), times)

    def http_error_next(self, status: int = 502, body: bytes = b"<html>Bad Gateway</html>") -> None:
        """The next call gets a non-200 HTTP answer (a load balancer's page), before any check."""
        self._queue_switch("http", (status, body))

    # ------------------------------------------------------------ request handling (handler threads)
    def _handle_api(self, headers: dict[str, str], raw_body: bytes) -> tuple[int, str, bytes]:
        request_id = str(uuid.uuid4())
        http_failure = self._take_switch("http")
        if http_failure is not None:
            status, payload = http_failure
            self._record(headers, None, False, f"http_{status}", request_id, status)
            return status, "text/html", payload
        body = _json_object(raw_body)
        signature_ok = False
        try:
            signature_ok = self._check_gateway(headers, raw_body)
            injected = self._take_switch("service")
            if injected is not None:
                raise ServiceError(*injected)
            if body is None:
                raise ServiceError("InvalidParameter.InvalidParameter", "The body must be a JSON object.")
            document = self._replace_background(body, request_id)
            outcome = "ok"
        except ServiceError as exc:
            document = {"Error": {"Code": exc.code, "Message": exc.message}, "RequestId": request_id}
            outcome = exc.code
        self._record(headers, body, signature_ok, outcome, request_id, 200)
        payload = json.dumps({"Response": document}, ensure_ascii=False).encode("utf-8")
        return 200, self.content_type, payload

    def _record(
        self,
        headers: dict[str, str],
        body: dict[str, Any] | None,
        signature_ok: bool,
        outcome: str,
        request_id: str,
        status: int,
    ) -> None:
        call = RecordedCall(
            action=headers.get("x-tc-action", ""),
            version=headers.get("x-tc-version", ""),
            region=headers.get("x-tc-region", ""),
            headers=dict(headers),
            body=body,
            signature_ok=signature_ok,
            outcome=outcome,
            request_id=request_id,
            http_status=status,
        )
        self._record_request(call)

    def _check_gateway(self, headers: Mapping[str, str], raw_body: bytes) -> bool:
        """The API 3.0 gateway's checks, in order; returns True or raises the refusal."""
        if headers.get("content-type", "").split(";")[0].strip().lower() != JSON_TYPE:
            raise ServiceError("InvalidParameter.InvalidParameter", "Content-Type must be application/json.")
        action = headers.get("x-tc-action", "")
        if not action:
            raise ServiceError("MissingParameter", "The request is missing a required parameter `Action`.")
        if action != ACTION:
            raise ServiceError("InvalidAction", f"The action `{action}` does not exist.")
        version = headers.get("x-tc-version", "")
        if not version:
            raise ServiceError("MissingParameter", "The request is missing a required parameter `Version`.")
        if version != VERSION:
            raise ServiceError("NoSuchVersion", f"The API version `{version}` does not exist.")
        region = headers.get("x-tc-region", "")
        if not region:
            raise ServiceError("MissingParameter", "The request is missing a required parameter `Region`.")
        if self.regions is not None and region not in self.regions:
            raise ServiceError("UnsupportedRegion", f"The API does not support the region `{region}`.")
        match = _AUTH.fullmatch(headers.get("authorization", "").strip())
        timestamp_text = headers.get("x-tc-timestamp", "")
        if match is None or not timestamp_text.isdigit():
            raise ServiceError("AuthFailure.InvalidAuthorization")
        timestamp = int(timestamp_text)
        if abs(self.clock() - timestamp) > self.max_skew_s:
            raise ServiceError("AuthFailure.SignatureExpire")
        if match["id"] != self.secret_id:
            raise ServiceError("AuthFailure.SecretIdNotFound")
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        if match["date"] != date or match["service"] != SERVICE or match["signed"] != "content-type;host":
            raise ServiceError("AuthFailure.SignatureFailure")
        expected = tc3_signature(self.secret_key, timestamp, headers.get("host", ""), raw_body)
        if not hmac.compare_digest(expected, match["signature"]):
            raise ServiceError("AuthFailure.SignatureFailure")
        return True

    def _replace_background(self, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        fields = _validate(body)
        if not self._slot.acquire(blocking=False):
            raise ServiceError("RequestLimitExceeded.JobNumExceed")
        try:
            self._job_started.set()
            product = _download(fields["ProductUrl"])
            if product is None:
                raise ServiceError("FailedOperation.ImageDownloadError")
            self.downloads.append(("ProductUrl", product))
            product_image = _check_product(product)
            mask_image = None
            if fields.get("MaskUrl"):
                mask = _download(fields["MaskUrl"])
                if mask is None:
                    raise ServiceError("FailedOperation.ImageDownloadError")
                self.downloads.append(("MaskUrl", mask))
                mask_image = _check_mask(mask, product_image.size)
            if self.job_seconds > 0:
                self._release.wait(self.job_seconds)
            size = fields.get("_size", DEFAULT_RESOLUTION)
            job = Job(
                request_id, {k: v for k, v in fields.items() if not k.startswith("_")}, size, self.clock()
            )
            job.result = _render(
                product_image,
                mask_image,
                size,
                fields["Prompt"],
                fields.get("LogoAdd", 1) != 0,
                fields.get("_logo"),
            )
            if mask_image is None:
                job.mask = _auto_mask(product_image)
            with self._lock:
                self._jobs[job.job_id] = job
        finally:
            self._job_started.clear()
            self._slot.release()
        url_mode = fields.get("RspImgType", "base64") == "url"
        answer: dict[str, Any] = {"RequestId": request_id}
        answer["ResultImage"] = (
            self._signed_url(f"/results/{job.job_id}.jpg", job.created)
            if url_mode
            else base64.b64encode(job.result).decode("ascii")
        )
        if job.mask is not None:
            answer["MaskImage"] = (
                self._signed_url(f"/masks/{job.job_id}.png", job.created)
                if url_mode
                else base64.b64encode(job.mask).decode("ascii")
            )
        return answer

    def _signed_url(self, path: str, created: float) -> str:
        # Shaped like the COS links in the vendor's sample; only q-sign-time's end is honoured.
        start = int(created)
        window = f"{start};{start + URL_LIFETIME_S}"
        query = urllib.parse.urlencode(
            {
                "q-sign-algorithm": "sha1",
                "q-ak": "emulator",
                "q-sign-time": window,
                "q-key-time": window,
                "q-header-list": "host",
                "q-url-param-list": "",
                "q-signature": hashlib.sha1(f"{path}{window}".encode()).hexdigest(),
            }
        )
        return f"{self.base_url}{path}?{query}"

    def _served(self, path: str, query: str) -> tuple[int, str, bytes]:
        """A result or mask link: the image until its signed window ends, then COS's 403."""
        match = re.fullmatch(r"/(results|masks)/([0-9a-f-]+)\.(jpg|png)", path)
        fault = self._result_fault() if match else None
        if fault is not None:
            return fault
        with self._lock:
            job = self._jobs.get(match.group(2)) if match else None
        if match is None or job is None:
            return 404, "application/xml", b"<Error><Code>NoSuchKey</Code></Error>"
        window = urllib.parse.parse_qs(query).get("q-sign-time", [""])[0]
        end = window.partition(";")[2]
        if not end.isdigit() or self.clock() > int(end):
            return (
                403,
                "application/xml",
                b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            )
        if match.group(1) == "results":
            return 200, "image/jpeg", job.result
        if job.mask is None:
            return 404, "application/xml", b"<Error><Code>NoSuchKey</Code></Error>"
        return 200, "image/png", job.mask


# -------------------------------------------------------------------- HTTP plumbing


class _Handler(LoopbackHandler):
    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        self.send_answer(*self.server.emulator._served(parsed.path, parsed.query))

    def do_POST(self) -> None:
        raw_body = self.read_body()
        if urllib.parse.urlsplit(self.path).path != "/":
            self.send_answer(404, "text/plain; charset=utf-8", b"Not Found")
            return
        self.send_answer(*self.server.emulator._handle_api(self.lower_headers(), raw_body))


# -------------------------------------------------------------------- validation
def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _validate(body: Mapping[str, Any]) -> dict[str, Any]:
    """The documented field rules; returns the fields plus `_size` (the output resolution)."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ServiceError("UnknownParameter", f"The parameter `{unknown[0]}` is not defined.")
    for name in ("ProductUrl", "Prompt"):
        if name not in body:
            raise ServiceError("MissingParameter", f"The request is missing a required parameter `{name}`.")
    for name in FIELDS - {"LogoAdd", "LogoParam"}:
        if name in body and not isinstance(body[name], str):
            raise ServiceError("InvalidParameter.InvalidParameter", f"{name} must be a String.")
    fields = dict(body)
    if not fields["ProductUrl"]:
        raise ServiceError("InvalidParameterValue.ImageEmpty")
    for name in ("ProductUrl", "MaskUrl"):
        if fields.get(name) and not _is_url(fields[name]):
            raise ServiceError("InvalidParameterValue.UrlIllegal", f"{name} is not a valid URL.")
    prompt = fields["Prompt"]
    if not prompt.strip():
        raise ServiceError("InvalidParameterValue.ParameterValueError", "Prompt must not be empty.")
    for name, limit in (
        ("Prompt", MAX_TEXT_CHARS),
        ("NegativePrompt", MAX_TEXT_CHARS),
        ("Product", MAX_PRODUCT_CHARS),
    ):
        if len(fields.get(name, "")) > limit:
            raise ServiceError(
                "InvalidParameterValue.TextLengthExceed", f"{name} exceeds {limit} characters."
            )
    if prompt == "BackgroundTemplate" and not fields.get("BackgroundTemplate"):
        raise ServiceError(
            "InvalidParameterValue.ParameterValueError",
            "BackgroundTemplate is required when Prompt is BackgroundTemplate.",
        )
    if "LogoAdd" in fields and (
        isinstance(fields["LogoAdd"], bool) or not isinstance(fields["LogoAdd"], int)
    ):
        raise ServiceError("InvalidParameter.InvalidParameter", "LogoAdd must be an Integer.")
    if fields.get("RspImgType", "base64") not in ("base64", "url"):
        raise ServiceError("InvalidParameterValue.ParameterValueError", "RspImgType must be base64 or url.")
    if fields.get("Resolution"):
        fields["_size"] = _resolution(fields["Resolution"])
    if "LogoParam" in fields:
        fields["_logo"] = _check_logo_param(fields["LogoParam"], fields.get("_size", DEFAULT_RESOLUTION))
    return fields


def _resolution(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+):(\d+)", text)
    if match is None:
        raise ServiceError("InvalidParameterValue.ParameterValueError", "Resolution must be like 1280:1280.")
    width, height = int(match.group(1)), int(match.group(2))
    if not all(500 < side < 4000 for side in (width, height)):
        raise ServiceError(
            "InvalidParameterValue.ParameterValueError", "Resolution sides must be >500 and <4000."
        )
    if not aspect_ok(width, height):
        raise ServiceError(
            "InvalidParameterValue.ParameterValueError", "Resolution aspect must be 2:5 to 5:2."
        )
    return width, height


def _check_logo_param(
    value: Any, size: tuple[int, int]
) -> tuple[Image.Image, tuple[int, int, int, int] | None]:
    """LogoParam as the data type page documents it: `LogoUrl` or `LogoImage` (base64; the URL wins
    when both are given) and an optional `LogoRect` box of integers inside the output picture.
    Returns the logo and its box; anything else is `InvalidParameterValue.LogoParamErr`."""
    if not isinstance(value, dict) or not (value.get("LogoUrl") or value.get("LogoImage")):
        raise ServiceError("InvalidParameterValue.LogoParamErr", "LogoParam needs LogoUrl or LogoImage.")
    unknown = sorted(set(value) - {"LogoUrl", "LogoImage", "LogoRect"})
    if unknown:
        raise ServiceError("InvalidParameterValue.LogoParamErr", f"LogoParam has no field {unknown[0]}.")
    if value.get("LogoUrl"):
        url = value["LogoUrl"]
        data = _download(url) if isinstance(url, str) and _is_url(url) else None
        if data is None:
            raise ServiceError("InvalidParameterValue.LogoParamErr", "LogoUrl cannot be downloaded.")
    else:
        encoded = value["LogoImage"]
        try:
            data = (
                base64.b64decode("".join(str(encoded).split()), validate=True)
                if isinstance(encoded, str)
                else b""
            )
        except (ValueError, TypeError):
            data = b""
        if not data or _base64_size(data) >= MAX_BASE64_BYTES:
            raise ServiceError("InvalidParameterValue.LogoParamErr", "LogoImage is not a valid base64 image.")
    try:
        logo = Image.open(io.BytesIO(data))
        logo.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ServiceError(
            "InvalidParameterValue.LogoParamErr", "The logo image cannot be decoded."
        ) from None
    rect = value.get("LogoRect")
    if rect is None:
        return logo, None
    names = ("X", "Y", "Width", "Height")
    if (
        not isinstance(rect, dict)
        or set(rect) - set(names)
        or not all(isinstance(rect.get(k), int) and not isinstance(rect.get(k), bool) for k in names)
    ):
        raise ServiceError(
            "InvalidParameterValue.LogoParamErr", "LogoRect needs integer X, Y, Width, Height."
        )
    x, y, width, height = (int(rect[k]) for k in names)
    if x < 0 or y < 0 or width < 1 or height < 1 or x + width > size[0] or y + height > size[1]:
        raise ServiceError(
            "InvalidParameterValue.LogoParamErr",
            f"LogoRect {x},{y},{width},{height} is not inside the {size[0]}x{size[1]} result.",
        )
    return logo, (x, y, width, height)


def aspect_ok(width: int, height: int) -> bool:
    return 2 * height <= 5 * width and 2 * width <= 5 * height


def _is_url(text: str) -> bool:
    parts = urllib.parse.urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _download(url: str) -> bytes | None:
    # A little past the base64 limit is enough to know the image is too large.
    return loopback_fetch(url, MAX_BASE64_BYTES + 1)


def _base64_size(data: bytes) -> int:
    return 4 * ((len(data) + 2) // 3)


def _check_product(data: bytes) -> Image.Image:
    if _base64_size(data) >= MAX_BASE64_BYTES:
        raise ServiceError("FailedOperation.ImageSizeExceed")
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in PRODUCT_FORMATS:
            raise ServiceError(
                "FailedOperation.ImageDecodeFailed", f"Unsupported image format {image.format}."
            )
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ServiceError("FailedOperation.ImageDecodeFailed") from None
    width, height = image.size
    if max(width, height) >= MAX_INPUT_SIDE_EXCLUSIVE:
        raise ServiceError(
            "FailedOperation.ImageResolutionExceed", "Each side of the image must be under 4000 px."
        )
    if not aspect_ok(width, height):
        raise ServiceError(
            "InvalidParameterValue.ParameterValueError", "The image aspect must be 2:5 to 5:2."
        )
    return image


def _check_mask(data: bytes, size: tuple[int, int]) -> Image.Image:
    """PNG only, same resolution as the product, transparent background around the product."""
    if _base64_size(data) >= MAX_BASE64_BYTES:
        raise ServiceError("FailedOperation.ImageSizeExceed")
    try:
        mask: Image.Image = Image.open(io.BytesIO(data))
        if mask.format != "PNG":
            raise ServiceError("FailedOperation.ImageDecodeFailed", "The mask must be a PNG.")
        mask.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ServiceError("FailedOperation.ImageDecodeFailed") from None
    if mask.size != size:
        raise ServiceError(
            "InvalidParameterValue.ParameterValueError",
            "The mask must have the same resolution as the product image.",
        )
    if mask.mode == "P" and "transparency" in mask.info:
        mask = mask.convert("RGBA")
    if "A" not in mask.getbands():
        raise ServiceError(
            "InvalidParameterValue.ParameterValueError", "The mask must have a transparent background."
        )
    alpha = np.asarray(mask.getchannel("A"))
    if not (alpha == 0).any() or not (alpha > 0).any():
        raise ServiceError(
            "InvalidParameterValue.ParameterValueError",
            "The mask must keep the product and be transparent around it.",
        )
    return mask


# -------------------------------------------------------------------- images
def _render(
    product: Image.Image,
    mask: Image.Image | None,
    size: tuple[int, int],
    prompt: str,
    logo: bool,
    own_logo: tuple[Image.Image, tuple[int, int, int, int] | None] | None = None,
) -> bytes:
    """A flat background coloured by the prompt, the product pasted in the middle (through the mask's
    alpha when given), and, when the mark is on, a dark bar in the lower right corner or the caller's
    own logo stretched into its LogoRect (the logo's own size in the corner without one)."""
    width, height = size
    hue = int(hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    r, g, b = colorsys.hsv_to_rgb(hue, 0.45, 0.9)
    canvas = Image.new("RGB", size, (round(r * 255), round(g * 255), round(b * 255)))
    scale = min(width / product.width, height / product.height) * 0.6
    fitted = (max(1, round(product.width * scale)), max(1, round(product.height * scale)))
    item = product.convert("RGB").resize(fitted, Image.Resampling.BILINEAR)
    alpha = (mask.getchannel("A") if mask is not None else Image.new("L", product.size, 255)).resize(fitted)
    canvas.paste(item, ((width - fitted[0]) // 2, (height - fitted[1]) // 2), alpha)
    if logo and own_logo is not None:
        image, rect = own_logo
        if rect is None:
            box_w, box_h = min(image.width, width // 5), min(image.height, height // 5)
            rect = (width - box_w - 8, height - box_h - 8, box_w, box_h)
        x, y, box_w, box_h = rect
        stretched = image.convert("RGBA").resize((box_w, box_h), Image.Resampling.BILINEAR)
        canvas.paste(stretched, (x, y), stretched.getchannel("A"))
    elif logo:
        bar_w, bar_h = max(40, width // 6), max(12, height // 30)
        canvas.paste((20, 20, 20), (width - bar_w - 8, height - bar_h - 8, width - 8, height - 8))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _auto_mask(product: Image.Image) -> bytes:
    """What the built-in segmentation "finds": the middle of the picture, transparent around it."""
    width, height = product.size
    alpha = np.zeros((height, width), np.uint8)
    alpha[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = 255
    rgba = np.dstack([np.full((height, width, 3), 255, np.uint8), alpha])
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# -------------------------------------------------------------------- standalone
def main(argv: list[str] | None = None) -> int:
    return TencentAiartEmulator.main(argv)


# -------------------------------------------------------------------- contract test
@contextlib.contextmanager
def contract_case() -> Iterator[ContractCase]:
    """The provider contract test's run (tests/emulators/contract.py)."""
    with TencentAiartEmulator("AKIDcontract", "contract-key") as emulator, StaticFiles() as files:
        context = ProviderContext(
            credentials={"secret_id": "AKIDcontract", "secret_key": "contract-key"},
            endpoint=emulator.endpoint,
            session=new_session(),
            options={"protocol": "http"},
        )
        request = GenerationRequest(
            Operation.PROMPT_BACKGROUND,
            contract.photo(800, 600),
            prompt="marble",
            size=(800, 600),
            # What studio's input hosting hands a URL-only vendor.
            image_url=files.host("photo.png", contract.photo(800, 600)),
        )
        yield ContractCase(context, [request], None, emulator)


if __name__ == "__main__":
    sys.exit(main())
