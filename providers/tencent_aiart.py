"""Tencent Cloud aiart ReplaceBackground (API 3.0, version 2022-12-29): prompt backgrounds, synchronous.

Protocol (shared/providers.md section 3): one signed `POST /` to
`aiart.tencentcloudapi.com` with the action and version in `X-TC-*` headers,
TC3-HMAC-SHA256 in `Authorization`. The call is synchronous: its answer holds
the finished image (`ResultImage`, a URL valid for 1 hour when `RspImgType` is
"url"), so `submit` returns the final `TaskUpdate` and there is nothing to poll.
The vendor runs one job per account at a time (`RequestLimitExceeded.JobNumExceed`).

The official SDK (`tencentcloud-sdk-python-aiart`) signs and sends. Its
client is built per call from the context: credentials, region, endpoint and
protocol settings, a request timeout, and the studio's `requests.Session`
(which ignores proxy variables from the environment, see providers.http).
The SDK only checks answers whose Content-Type is exactly `application/json`,
so the raw body is parsed here as well: an error under any other Content-Type
is still an error, and answers are read tolerantly.

Inputs travel only as URLs (`ProductUrl`, `MaskUrl`): studio's input hosting
fills `request.image_url` / `request.mask_url`; without them the job cannot be
sent. `CODES` maps every documented error code (plus the SDK's transport codes
and the common signature codes) to the error tree.

This module calls the vendor and reads its answers; the documented limits and
option rules live in `tencent_aiart_rules`, the error table and its messages in
`tencent_aiart_errors`, and what every vendor adapter shares in `providers.common`.
Every public name of those is importable from here as before.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image, UnidentifiedImageError
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from imaging.images import ImageInputError, image_size
from providers import http
from providers.base import (
    ConnectionCheck,
    GenerationRequest,
    Limits,
    Operation,
    OptionSpec,
    OutputImage,
    Price,
    ProviderContext,
    Submitted,
    TaskState,
    TaskUpdate,
)
from providers.common import VendorAdapter
from providers.common import text as _text
from providers.errors import (
    ConfigurationError,
    InputRejectedError,
    ProviderError,
    ProviderUnavailableError,
    UnexpectedResponseError,
)
from providers.tencent_aiart_errors import (
    CODES,
    ERROR_TEXTS,
    FAMILIES,
    NEVER_CONNECTED,
    TEXTS,
)
from providers.tencent_aiart_rules import (
    ACTION,
    API_VERSION,
    DEFAULT_ENDPOINT,
    DEFAULT_PROTOCOL,
    DEFAULT_REGION,
    INPUT_ASPECT_RANGE,
    INPUT_FORMATS,
    LOGO_BOX_SHARE,
    LOGO_MARGIN_SHARE,
    LOGO_MAX_SIDE,
    MAX_INLINE_RESULT_PIXELS,
    MAX_INPUT_BASE64,
    MAX_INPUT_BYTES,
    MAX_INPUT_SIDE,
    MAX_LOGO_BASE64_CHARS,
    MAX_LOGO_FILE_BYTES,
    MAX_OUTPUT_SIDE_EXCLUSIVE,
    MAX_PRODUCT_CHARS,
    MAX_PROMPT_CHARS,
    MIN_OUTPUT_SIDE_EXCLUSIVE,
    RESERVED_PROMPT,
    VENDOR_DEFAULT_RESOLUTION,
    aspect_ok,
    check_logo_rect,
    check_output_size,
    default_logo_rect,
    is_loopback_host,
    normalised_logo,
    parse_logo_rect,
    parse_resolution,
)

# The public names, whichever module of this vendor defines them (tests and studio import them from here).
__all__ = [
    "ACTION",
    "API_VERSION",
    "DEFAULT_ENDPOINT",
    "DEFAULT_PROTOCOL",
    "DEFAULT_REGION",
    "ERROR_TEXTS",
    "INPUT_ASPECT_RANGE",
    "INPUT_FORMATS",
    "JOB_SLOT_RETRY_AFTER_S",
    "LOGO_BOX_SHARE",
    "LOGO_MARGIN_SHARE",
    "LOGO_MAX_SIDE",
    "MAX_INLINE_RESULT_PIXELS",
    "MAX_INPUT_BASE64",
    "MAX_INPUT_BYTES",
    "MAX_INPUT_SIDE",
    "MAX_LOGO_BASE64_CHARS",
    "MAX_LOGO_FILE_BYTES",
    "MAX_OUTPUT_SIDE_EXCLUSIVE",
    "MAX_PRODUCT_CHARS",
    "MAX_PROMPT_CHARS",
    "MIN_OUTPUT_SIDE_EXCLUSIVE",
    "REQUEST_TIMEOUT_S",
    "RESERVED_PROMPT",
    "TencentAiart",
    "VENDOR_DEFAULT_RESOLUTION",
    "check_logo_rect",
    "check_output_size",
    "default_logo_rect",
    "is_loopback_host",
    "normalised_logo",
    "parse_logo_rect",
    "parse_resolution",
]


# Seconds the SDK waits for the whole answer; generation takes a while but is synchronous.
REQUEST_TIMEOUT_S = http.DEFAULT_TIMEOUT[1]
# When another job of the account is running, the next one fits after roughly one generation.
JOB_SLOT_RETRY_AFTER_S = 10.0

_NO_PRICE = Price(
    per_image=None,
    source=(
        "NOT VERIFIED: Tencent Cloud's purchase pages give no price for aiart ReplaceBackground that "
        "could be found (checked 2026-11; other aiart APIs start at 0.08 USD per image, which is no "
        "evidence for this one). Set yours with TENCENT_AIART_PRICE_PROMPT or price_prompt in the "
        "[tencent_aiart] section of .streamlit/secrets.toml"
    ),
    as_of="2026-11-22",
)


@dataclass(frozen=True)
class _Target:
    """Where calls go: the SDK's endpoint (host[:port], no scheme), protocol and region."""

    endpoint: str
    protocol: str
    region: str


class TencentAiart(VendorAdapter):
    key = "tencent_aiart"
    label = "Tencent Cloud aiart"
    vendor_name = "Tencent Cloud"
    unexpected_text = TEXTS["_unexpected"]
    operations = frozenset({Operation.PROMPT_BACKGROUND})
    limits: ClassVar[Mapping[Operation, Limits]] = {
        Operation.PROMPT_BACKGROUND: Limits(
            formats=INPUT_FORMATS,
            max_side=MAX_INPUT_SIDE,
            max_bytes=MAX_INPUT_BASE64,
            bytes_as_base64=True,
            aspect_range=INPUT_ASPECT_RANGE,
            # The mask is sent as a PNG whose transparent pixels are background (studio hosts it).
            mask_mode="RGBA",
            needs_urls=True,
            needs_prompt=True,
            min_count=1,
            max_count=1,
            default_count=1,
            # What Tencent renders when no Resolution is sent.
            default_size=VENDOR_DEFAULT_RESOLUTION,
        ),
    }
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]] = {
        Operation.PROMPT_BACKGROUND: (
            OptionSpec("Product", "text", "", "opt.Product"),
            OptionSpec("Resolution", "text", "", "opt.Resolution"),
            # The document's default: 1, the visible "图片由 AI 生成" mark in the lower right corner
            # (Chinese rules since September 2025 want AI-generated images labelled).
            OptionSpec("LogoAdd", "bool", True, "opt.LogoAdd", ai_mark=True),
            # LogoParam: the user's own mark instead of Tencent's text, as base64 (no hosting needed),
            # stretched into LogoRect "X,Y,Width,Height" (px of the output; bottom right when empty).
            OptionSpec("LogoImage", "image", "", "opt.LogoImage"),
            OptionSpec("LogoRect", "text", "", "opt.LogoRect"),
        ),
    }
    prices: ClassVar[Mapping[Operation, Price]] = {Operation.PROMPT_BACKGROUND: _NO_PRICE}
    param_aliases: ClassVar[Mapping[Operation, Mapping[str, str]]] = {Operation.PROMPT_BACKGROUND: {}}
    # One job at a time per account; the frequency limit is shown as "-" for this action.
    max_in_flight = 1
    submit_qps = 1.0
    # "url 有效期为1小时" (seed 002): a result link lives one hour.
    result_ttl_s = 3600.0
    can_check_connection = True
    optional_settings: ClassVar[Mapping[str, str]] = {
        "region": DEFAULT_REGION,
        "endpoint": DEFAULT_ENDPOINT,
        "protocol": DEFAULT_PROTOCOL,
    }
    endpoint_setting = "endpoint"
    default_endpoint = DEFAULT_ENDPOINT
    error_texts = ERROR_TEXTS
    # The names Tencent's own tools (tccli, SDK samples) use for the key pair and region.
    env_names: ClassVar[Mapping[str, str]] = {
        "secret_id": "TENCENTCLOUD_SECRET_ID",
        "secret_key": "TENCENTCLOUD_SECRET_KEY",
        "region": "TENCENTCLOUD_REGION",
        "endpoint": "TENCENT_AIART_ENDPOINT",
        "protocol": "TENCENT_AIART_PROTOCOL",
    }

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        # Seconds for the whole synchronous call; tests shorten it.
        self.request_timeout_s: float = REQUEST_TIMEOUT_S

    @classmethod
    def required_credentials(cls) -> tuple[str, ...]:
        return ("secret_id", "secret_key")

    @classmethod
    def check_rules(
        cls, operation: Operation, params: dict[str, Any], given: frozenset[str]
    ) -> dict[str, Any]:
        if operation is not Operation.PROMPT_BACKGROUND:
            return params
        product = str(params.get("Product") or "").strip()
        if len(product) > MAX_PRODUCT_CHARS:
            raise ValueError(
                f"Product: '{product[:20]}...' has {len(product)} characters; Tencent takes at most "
                f"{MAX_PRODUCT_CHARS} (name the product briefly, e.g. 'backpack')"
            )
        params["Product"] = product
        size = parse_resolution(str(params.get("Resolution") or ""))
        params["Resolution"] = f"{size[0]}:{size[1]}" if size else ""
        rect = parse_logo_rect(str(params.get("LogoRect") or ""))
        params["LogoRect"] = ",".join(str(value) for value in rect) if rect else ""
        logo = str(params.get("LogoImage") or "")
        if rect and not logo:
            raise ValueError(
                "LogoRect places your own logo, but no logo was given: add the logo file (--logo PATH in "
                "the CLI, LogoImage in a manifest, the logo upload on the page) or drop LogoRect"
            )
        if logo and not params.get("LogoAdd", True):
            raise ValueError(
                "LogoAdd=0 switches every mark off, so your logo would not be drawn: drop LogoAdd=0 to "
                "use the logo, or drop the logo"
            )
        params["LogoImage"] = normalised_logo(logo) if logo else ""
        if size is not None and rect is not None:
            check_logo_rect(rect, size)
        return params

    @classmethod
    def check_output(
        cls, operation: Operation, params: Mapping[str, Any], size: tuple[int, int] | None
    ) -> None:
        """The logo box must lie inside the picture Tencent renders (Resolution, else the size, else
        1280:1280), or Tencent answers LogoParamErr."""
        if operation is not Operation.PROMPT_BACKGROUND:
            return
        rect = parse_logo_rect(str(params.get("LogoRect") or ""))
        if rect is None:
            return
        resolution = parse_resolution(str(params.get("Resolution") or ""))
        check_logo_rect(rect, resolution or size or VENDOR_DEFAULT_RESOLUTION)

    # ------------------------------------------------------------ calls
    def submit(self, request: GenerationRequest) -> Submitted:
        if request.operation is not Operation.PROMPT_BACKGROUND:
            raise InputRejectedError(self.key, "unsupported_operation", self._says("unsupported_operation"))
        body = self._request_body(request)
        answer = self._call(body)
        # The RequestId names the billed call at Tencent (console, support): studio records it at once.
        return Submitted(
            remote_id=_text(answer.get("RequestId")) or None, update=self._task_update(answer, body)
        )

    def check_connection(self) -> ConnectionCheck:
        """A signed ReplaceBackground call with empty fields. API 3.0 checks the signature, the key, the
        CAM permission and (inferred, not verified live) the service's activation before the fields, and
        an empty ProductUrl is refused without making an image. So a field complaint means the rest is
        in order; any other refusal is raised as the error it maps to."""
        try:
            answer = self._call({"ProductUrl": "", "Prompt": "", "RspImgType": "url"})
        except InputRejectedError as exc:
            return ConnectionCheck(
                ok=True,
                message=self._says("_connected#probe", endpoint=self._target().endpoint),
                request_id=exc.request_id,
            )
        return ConnectionCheck(
            ok=True,
            message=self._says("_connected", endpoint=self._target().endpoint),
            request_id=_text(answer.get("RequestId")) or None,
        )

    # ------------------------------------------------------------ request
    def _request_body(self, request: GenerationRequest) -> dict[str, Any]:
        if not request.image_url:
            raise ConfigurationError(self.key, "needs_hosting", self._says("needs_hosting"))
        if request.mask is not None and not request.mask_url:
            raise ConfigurationError(self.key, "needs_hosting", self._says("needs_hosting#mask"))
        prompt = request.prompt.strip()
        negative = request.negative_prompt.strip()
        self._check_prompt(prompt, negative)
        self._check_input(request.image)
        params = request.params
        try:
            resolution = parse_resolution(str(params.get("Resolution") or ""))
            if resolution is None and request.size is not None:
                check_output_size(request.size[0], request.size[1], "size")
                resolution = request.size
        except ValueError as exc:
            raise InputRejectedError(
                self.key, "bad_resolution", self._says("bad_resolution", detail=exc)
            ) from None
        product = str(params.get("Product") or "").strip() or request.product_title.strip()
        body: dict[str, Any] = {
            "ProductUrl": request.image_url,
            "Prompt": prompt,
            # Always sent, so what the job asked for is on record: 1 (the default) = a visible mark.
            "LogoAdd": 1 if bool(params.get("LogoAdd", True)) else 0,
            # base64 puts the image in the answer itself: once Tencent has answered (and billed) there is
            # no link left to lose. The document advises links only for large results, so those get one.
            "RspImgType": "base64" if _inline_result_fits(resolution) else "url",
        }
        if request.mask_url:
            body["MaskUrl"] = request.mask_url
        if negative:
            body["NegativePrompt"] = negative
        if product:
            body["Product"] = product[:MAX_PRODUCT_CHARS]
        if resolution is not None:
            body["Resolution"] = f"{resolution[0]}:{resolution[1]}"
        logo = self._logo_param(params, resolution or VENDOR_DEFAULT_RESOLUTION)
        if logo is not None and body["LogoAdd"] == 1:
            body["LogoParam"] = logo
        return body

    def _logo_param(self, params: Mapping[str, Any], output: tuple[int, int]) -> dict[str, Any] | None:
        """`LogoParam` for the user's own mark: base64 (`LogoImage`, no hosting needed) and its box,
        checked against the output size before the call."""
        logo = str(params.get("LogoImage") or "")
        if not logo:
            return None
        try:
            rect = parse_logo_rect(str(params.get("LogoRect") or "")) or default_logo_rect(
                image_size(base64.b64decode(logo)), output
            )
            check_logo_rect(rect, output)
        except (ValueError, binascii.Error, ImageInputError) as exc:
            raise InputRejectedError(self.key, "bad_logo", self._says("bad_logo", detail=exc)) from None
        x, y, width, height = rect
        return {"LogoImage": logo, "LogoRect": {"X": x, "Y": y, "Width": width, "Height": height}}

    def _check_prompt(self, prompt: str, negative: str) -> None:
        if not prompt:
            raise InputRejectedError(self.key, "prompt_required", self._says("prompt_required"))
        if prompt == RESERVED_PROMPT:
            raise InputRejectedError(self.key, "reserved_prompt", self._says("reserved_prompt"))
        for entry, text in (("prompt_too_long", prompt), ("prompt_too_long#negative", negative)):
            if len(text) > MAX_PROMPT_CHARS:
                raise InputRejectedError(self.key, "prompt_too_long", self._says(entry, length=len(text)))

    def _check_input(self, image: bytes) -> None:
        """The rules the vendor states that studio's `Limits` cannot express (aspect ratio)."""
        try:
            width, height = image_size(image)
        except ImageInputError as exc:
            raise InputRejectedError(
                self.key, "unreadable_image", self._says("unreadable_image", detail=exc)
            ) from None
        if max(width, height) > MAX_INPUT_SIDE:
            raise InputRejectedError(self.key, "too_large", self._says("too_large", size=f"{width}x{height}"))
        if not aspect_ok(width, height):
            raise InputRejectedError(
                self.key, "bad_aspect", self._says("bad_aspect", size=f"{width}x{height}")
            )

    # ------------------------------------------------------------ transport
    def _target(self) -> _Target:
        options = self.context.options
        region = (options.get("region") or DEFAULT_REGION).strip()
        if not re.fullmatch(r"[a-z]{2,}(-[a-z0-9]+)+", region):
            raise ConfigurationError(self.key, "bad_region", self._says("bad_region", region=region))
        protocol = (options.get("protocol") or DEFAULT_PROTOCOL).strip().lower()
        raw = (self.endpoint or DEFAULT_ENDPOINT).strip()
        if "://" in raw:
            # A pasted URL: its scheme says the protocol; the SDK wants the bare host[:port].
            parts = urllib.parse.urlsplit(raw)
            protocol = parts.scheme.lower()
            if parts.path not in ("", "/") or parts.query:
                raise ConfigurationError(self.key, "bad_endpoint", self._says("bad_endpoint"))
            raw = parts.netloc
        endpoint = raw.rstrip("/")
        host = urllib.parse.urlsplit(f"//{endpoint}").hostname if endpoint else None
        if not host or "/" in endpoint:
            raise ConfigurationError(self.key, "bad_endpoint", self._says("bad_endpoint"))
        if protocol not in ("https", "http"):
            raise ConfigurationError(self.key, "bad_protocol", self._says("bad_protocol", protocol=protocol))
        if protocol == "http" and not is_loopback_host(host):
            raise ConfigurationError(
                self.key,
                "insecure_protocol",
                self._says("insecure_protocol", host=host),
            )
        return _Target(endpoint=endpoint, protocol=protocol, region=region)

    def _client(self, target: _Target) -> Any:
        credentials = self.context.credentials
        secret_id = (credentials.get("secret_id") or "").strip()
        secret_key = (credentials.get("secret_key") or "").strip()
        if not secret_id or not secret_key:
            raise ConfigurationError(self.key, "not_configured", self._says("not_configured"))
        try:
            cred = credential.Credential(secret_id, secret_key)
        except TencentCloudSDKException as exc:
            raise self._error(exc, idempotent=True) from None
        profile = HttpProfile(
            protocol=target.protocol,
            endpoint=target.endpoint,
            reqMethod="POST",
            reqTimeout=self.request_timeout_s,
        )
        client = aiart_client.AiartClient(
            cred, target.region, ClientProfile(httpProfile=profile, language="en-US")
        )
        session = self.context.session
        connection = getattr(getattr(client, "request", None), "conn", None)
        if session is not None and connection is not None and hasattr(connection, "_session"):
            # The SDK's own session would read proxy settings from the environment; ours does not
            # (providers.http) and it pools connections across calls. Pinned SDK version: 3.1.179.
            connection._session = session
            connection.proxy = None
        return client

    def _call(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """One signed ReplaceBackground call; returns the `Response` object or raises the mapped error.

        Never idempotent: a successful call makes (and bills) an image."""
        target = self._target()
        client = self._client(target)
        request = models.ReplaceBackgroundRequest()
        request._deserialize(dict(fields))
        try:
            raw = client.call(ACTION, request._serialize(), headers=request.headers)
        except TencentCloudSDKException as exc:
            raise self._error(exc, idempotent=False) from None
        except (ValueError, KeyError, TypeError):
            # The SDK parses answers labelled application/json itself and trips on junk.
            self._unexpected("the answer is not a JSON object with a Response")
        return self._response(raw)

    def _response(self, raw: Any) -> dict[str, Any]:
        try:
            document = json.loads(raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw)
        except (UnicodeDecodeError, ValueError, TypeError):
            self._unexpected("it is not JSON")
        response = document.get("Response") if isinstance(document, dict) else None
        if not isinstance(response, dict):
            self._unexpected("it has no Response object")
        error = response.get("Error")
        if isinstance(error, dict):
            # The SDK skips its own check unless Content-Type is exactly application/json.
            raise self._mapped(
                _text(error.get("Code")) or "Unknown",
                _text(error.get("Message")),
                _text(response.get("RequestId")) or None,
            )
        return response

    # ------------------------------------------------------------ answers
    def _task_update(self, response: Mapping[str, Any], body: Mapping[str, Any]) -> TaskUpdate:
        request_id = _text(response.get("RequestId"))
        output = _image(response.get("ResultImage"))
        if output is None:
            self._unexpected("it has no ResultImage")
        notes: dict[str, Any] = {
            "tencent_request_id": request_id,
            "Resolution": body.get("Resolution") or "1280:1280",
            "LogoAdd": body.get("LogoAdd", 1),
        }
        logo = body.get("LogoParam")
        if isinstance(logo, Mapping) and isinstance(logo.get("LogoRect"), Mapping):
            box = logo["LogoRect"]
            notes["LogoRect"] = f"{box['X']},{box['Y']},{box['Width']},{box['Height']}"
        artifacts: dict[str, bytes] = {}
        mask = _image(response.get("MaskImage"))
        mask_png = _mask_png(mask.data) if mask is not None and mask.data is not None else None
        if mask_png is not None:
            # Tencent found the product itself and sent its mask inline: keep it with the job.
            artifacts["mask"] = mask_png
        elif mask is not None and mask.url:
            notes["tencent_mask"] = (
                "made by Tencent's product segmentation (link not kept: it expires in 1 hour)"
            )
        return TaskUpdate(
            state=TaskState.SUCCEEDED,
            outputs=(output,),
            billed_images=1,
            artifacts=artifacts,
            notes=notes,
        )

    # ------------------------------------------------------------ errors
    def _error(self, exc: TencentCloudSDKException, *, idempotent: bool) -> ProviderError:
        code = _text(getattr(exc, "code", None)) or "Unknown"
        message = _text(getattr(exc, "message", None))
        request_id = _text(getattr(exc, "requestId", None)) or None
        if code == "ClientNetworkError":
            if idempotent or any(marker in message for marker in NEVER_CONNECTED):
                return ProviderUnavailableError(self.key, code, TEXTS["ClientNetworkError"])
            return ProviderUnavailableError(
                self.key, code, TEXTS["ClientNetworkError#ambiguous"], retryable=False
            )
        return self._mapped(code, message, request_id)

    def _mapped(self, code: str, message: str, request_id: str | None) -> ProviderError:
        detail = self._detail(message) or "no details given"
        known = CODES.get(code)
        if known is not None:
            cls, text = known
            error = cls(self.key, code, text.format(detail=detail), request_id=request_id)
        else:
            family = FAMILIES.get(code.split(".", 1)[0])
            if family is None:
                return UnexpectedResponseError(
                    self.key,
                    code,
                    TEXTS["_undocumented"].format(code=code, detail=detail),
                    request_id=request_id,
                )
            error = family(
                self.key, code, TEXTS["_family"].format(code=code, detail=detail), request_id=request_id
            )
        if code == "RequestLimitExceeded.JobNumExceed":
            error.retry_after_s = JOB_SLOT_RETRY_AFTER_S
        return error


# -------------------------------------------------------------------- parsing
def _inline_result_fits(resolution: tuple[int, int] | None) -> bool:
    """Whether the result may come back as base64 in the answer: the document warns that a large
    result may fail to return that way ("生成图分辨率较大时建议选择 url"), without a number, so
    results up to the vendor's default 1280x1280 area plus a margin (about 2 MP) come inline."""
    width, height = resolution or VENDOR_DEFAULT_RESOLUTION
    return width * height <= MAX_INLINE_RESULT_PIXELS


def _image(value: Any) -> OutputImage | None:
    """A result given as a URL (RspImgType=url), base64, or a data: URI; None when absent or junk."""
    text = _text(value)
    if not text:
        return None
    if text.lower().startswith(("https://", "http://")):
        path = urllib.parse.urlsplit(text).path.lower()
        mime = (
            "image/png" if path.endswith(".png") else "image/webp" if path.endswith(".webp") else "image/jpeg"
        )
        return OutputImage(url=text, mime=mime)
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return OutputImage(data=data, mime=_sniff(data)) if data else None


def _mask_png(data: bytes) -> bytes | None:
    """The vendor's mask as a single-channel PNG (white = product), the form studio keeps masks in."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            grey = image.getchannel("A") if "A" in image.getbands() else image.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    return buffer.getvalue()


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"
