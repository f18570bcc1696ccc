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
sent. `_CODES` maps every documented error code (plus the SDK's transport codes
and the common signature codes) to the error tree.
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from PIL import Image, UnidentifiedImageError
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from imaging.images import ImageInputError, encode_png, image_size, load_image, thumbnail
from providers import http
from providers.base import (
    ConnectionCheck,
    GenerationRequest,
    Limits,
    Operation,
    OptionSpec,
    OutputImage,
    Price,
    ProviderAdapter,
    ProviderContext,
    Submitted,
    TaskState,
    TaskUpdate,
)
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

ACTION = "ReplaceBackground"
API_VERSION = "2022-12-29"
DEFAULT_ENDPOINT = "aiart.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_PROTOCOL = "https"

INPUT_FORMATS = frozenset({"JPEG", "PNG", "BMP", "WEBP", "TIFF"})
# "Each side smaller than 4000 px."
MAX_INPUT_SIDE = 3999
# The vendor limits the image *as base64* to under 6 MB; base64 makes 4 bytes of every 3, and the
# 3 bytes of slack keep the encoded length strictly below the limit.
MAX_INPUT_BYTES = 6 * 1024 * 1024 // 4 * 3 - 3
# The same limit as `Limits` states it: the base64 text of the image (and of the mask) under 6 MB.
MAX_INPUT_BASE64 = 6 * 1024 * 1024 - 1
# "长宽比在2:5 ~ 5:2之间": width:height from 2:5 to 5:2.
INPUT_ASPECT_RANGE = ((2, 5), (5, 2))
# Output sides must be more than 500 and less than 4000 px.
MIN_OUTPUT_SIDE_EXCLUSIVE = 500
MAX_OUTPUT_SIDE_EXCLUSIVE = 4000
VENDOR_DEFAULT_RESOLUTION = (1280, 1280)
# Results up to this many pixels come back inline (base64); larger ones as a 1-hour link.
MAX_INLINE_RESULT_PIXELS = 2_100_000
MAX_PROMPT_CHARS = 256
MAX_PRODUCT_CHARS = 50
# `Prompt = "BackgroundTemplate"` switches the vendor to its template catalogue, which we do not offer.
RESERVED_PROMPT = "BackgroundTemplate"
# The user's own mark (`LogoParam.LogoImage`, base64; the vendor stretches it to `LogoRect`). Kept as a
# PNG of at most this many px a side: enough for any sensible box, small enough to store with the job.
LOGO_MAX_SIDE = 1024
# A logo file larger than this is refused before it is even decoded.
MAX_LOGO_FILE_BYTES = 10 * 1024 * 1024
# Images travel to Tencent under 6 MB as base64 (the rule for its inputs; none is given for the logo).
MAX_LOGO_BASE64_CHARS = 6 * 1024 * 1024 - 1
# Where a logo goes when no LogoRect is given: the bottom-right corner, where Tencent puts its own
# mark, at most a fifth of the picture's width and height, this far (share of the short side) from the edges.
LOGO_BOX_SHARE = 0.2
LOGO_MARGIN_SHARE = 0.02
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

_KEYS_HINT = (
    "check TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (Settings page): both must come from the same "
    "API key in the Tencent Cloud console (CAM > API keys)"
)
_HOSTING_HINT = (
    "Check input hosting on the Settings page: the link must be public (reachable from Tencent Cloud) "
    "and still valid while the job runs"
)
_SIZE_HINT = (
    "Tencent Cloud takes JPEG, PNG, BMP, TIFF or WEBP under 6 MB as base64 (about 4.5 MB), each side "
    "under 4000 px, aspect ratio between 2:5 and 5:2"
)
_RETRY = "the job is tried again automatically"

# Vendor code -> (error class, message for a marketing user). `{detail}` is the vendor's own message.
_CODES: Mapping[str, tuple[type[ProviderError], str]] = {
    # ---- ReplaceBackground's documented codes (providers.md 3.6)
    "AuthFailure.UnauthorizedOperation": (
        AuthenticationError,
        "Tencent Cloud refused: this API key may not call aiart ReplaceBackground. In the CAM console, "
        "grant the key's user the QcloudAiartFullAccess policy (or aiart:ReplaceBackground), then retry.",
    ),
    "FailedOperation.GenerateImageFailed": (
        ContentRejectedError,
        "Tencent Cloud's content review rejected the generated image. Try again, or change the prompt.",
    ),
    "FailedOperation.ImageDecodeFailed": (
        InputRejectedError,
        "Tencent Cloud could not read the product image or mask. " + _SIZE_HINT + "; the mask must be a PNG.",
    ),
    "FailedOperation.ImageDownloadError": (
        InputRejectedError,
        "Tencent Cloud could not download the product image or mask from its link. " + _HOSTING_HINT + ".",
    ),
    "FailedOperation.ImageResolutionExceed": (
        InputRejectedError,
        "The image has too many pixels for Tencent Cloud. Downscale it (for example to 2000 px on the "
        "long side) and try again.",
    ),
    "FailedOperation.ImageSizeExceed": (
        InputRejectedError,
        "The image file is too large for Tencent Cloud. " + _SIZE_HINT + ".",
    ),
    "FailedOperation.InnerError": (
        ProviderUnavailableError,
        "Tencent Cloud had an internal error; " + _RETRY + ".",
    ),
    "FailedOperation.RequestEntityTooLarge": (
        InputRejectedError,
        "The request was too large for Tencent Cloud (usually the image). " + _SIZE_HINT + ".",
    ),
    "FailedOperation.RequestTimeout": (
        ProviderUnavailableError,
        "Tencent Cloud's image service timed out; " + _RETRY + ".",
    ),
    "FailedOperation.RpcFail": (
        ProviderUnavailableError,
        "Tencent Cloud's image service failed internally; " + _RETRY + ".",
    ),
    "FailedOperation.ServerError": (
        ProviderUnavailableError,
        "Tencent Cloud had a server error; " + _RETRY + ".",
    ),
    "FailedOperation.Unknown": (
        ProviderUnavailableError,
        "Tencent Cloud failed with an unknown error; " + _RETRY + ".",
    ),
    "InvalidParameter.InvalidParameter": (
        InputRejectedError,
        "Tencent Cloud rejected a parameter ({detail}). Check the options and try again.",
    ),
    "InvalidParameterValue.ImageEmpty": (
        InputRejectedError,
        "Tencent Cloud received an empty product image. Upload the image again and retry. "
        + _HOSTING_HINT
        + ".",
    ),
    "InvalidParameterValue.ParameterValueError": (
        InputRejectedError,
        "Tencent Cloud rejected a value ({detail}). Resolution must be W:H with each side 501-3999 px and "
        "an aspect ratio between 2:5 and 5:2; check the options and try again.",
    ),
    "InvalidParameterValue.StyleConflict": (
        InputRejectedError,
        "Tencent Cloud says the chosen styles cannot be combined ({detail}). Change the options and try again.",
    ),
    "InvalidParameterValue.TextLengthExceed": (
        InputRejectedError,
        "The text is too long for Tencent Cloud: the prompt and negative prompt take at most 256 characters, "
        "the product name 50. Shorten it and try again.",
    ),
    "InvalidParameterValue.UrlIllegal": (
        InputRejectedError,
        "Tencent Cloud did not accept the image link. " + _HOSTING_HINT + ".",
    ),
    "OperationDenied.ImageIllegalDetected": (
        ContentRejectedError,
        "Tencent Cloud's content review refused the image. Try another photo.",
    ),
    "OperationDenied.TextIllegalDetected": (
        ContentRejectedError,
        "Tencent Cloud's content review refused the prompt text. Change the prompt and try again.",
    ),
    "RequestLimitExceeded": (
        RateLimitedError,
        "Tencent Cloud is throttling requests; the job waits and tries again.",
    ),
    "RequestLimitExceeded.JobNumExceed": (
        RateLimitedError,
        "Tencent Cloud is already making another image for this account (it makes one at a time); "
        "the job waits and tries again.",
    ),
    "ResourceUnavailable.Delivering": (
        ProviderUnavailableError,
        "Tencent Cloud is still setting up the aiart service you bought; the job is tried again in a few minutes.",
    ),
    "ResourceUnavailable.InArrears": (
        QuotaExhaustedError,
        "Your Tencent Cloud account is in arrears. Top it up in the Tencent Cloud console, then retry.",
    ),
    "ResourceUnavailable.LowBalance": (
        QuotaExhaustedError,
        "Your Tencent Cloud balance is too low. Top it up in the Tencent Cloud console, then retry.",
    ),
    "ResourceUnavailable.NotExist": (
        AuthenticationError,
        "The aiart service is not activated for this Tencent Cloud account (or its billing state is unknown). "
        "Activate it in the Tencent Cloud console (AI Art / 腾讯混元生图), then retry.",
    ),
    "ResourceUnavailable.StopUsing": (
        QuotaExhaustedError,
        "Tencent Cloud has suspended the aiart service for this account (usually unpaid bills). Settle the "
        "account in the Tencent Cloud console, then retry.",
    ),
    "ResourcesSoldOut.ChargeStatusException": (
        QuotaExhaustedError,
        "Tencent Cloud reports a billing problem with this account's aiart service. Check billing in the "
        "Tencent Cloud console, then retry.",
    ),
    # ---- in the SDK's errorcodes.py for this product
    "FailedOperation.ConsoleServerError": (
        ProviderUnavailableError,
        "Tencent Cloud's console service had an error; " + _RETRY + ".",
    ),
    "FailedOperation.JobNotExist": (
        TaskNotFoundError,
        "Tencent Cloud no longer knows this job. Submit it again.",
    ),
    "InvalidParameterValue.LogoParamErr": (
        InputRejectedError,
        "Tencent Cloud rejected the logo settings ({detail}). Check the options and try again.",
    ),
    # ---- common API 3.0 codes: signature and credentials
    "AuthFailure.SignatureFailure": (
        AuthenticationError,
        "Tencent Cloud did not accept the request signature: " + _KEYS_HINT + ".",
    ),
    "AuthFailure.SignatureExpire": (
        AuthenticationError,
        "Tencent Cloud refused the request time: this computer's clock is more than 5 minutes off. "
        "Synchronise the clock and try again.",
    ),
    "AuthFailure.SecretIdNotFound": (
        AuthenticationError,
        "Tencent Cloud does not know this SecretId (a typo, or the key was deleted or disabled): "
        + _KEYS_HINT
        + ".",
    ),
    "AuthFailure.InvalidSecretId": (
        AuthenticationError,
        "Tencent Cloud says the SecretId is not valid (it must be an API 3.0 key): " + _KEYS_HINT + ".",
    ),
    "AuthFailure.InvalidAuthorization": (
        AuthenticationError,
        "Tencent Cloud did not understand the request's signature header: " + _KEYS_HINT + ".",
    ),
    "AuthFailure.TokenFailure": (
        AuthenticationError,
        "Tencent Cloud refused the temporary token; " + _KEYS_HINT + ".",
    ),
    "AuthFailure.MFAFailure": (
        AuthenticationError,
        "Tencent Cloud requires MFA for this key; use an API key without MFA protection for API calls.",
    ),
    # ---- common codes: where the request went
    "UnsupportedRegion": (
        ConfigurationError,
        "aiart is not offered in the configured region: set TENCENTCLOUD_REGION to ap-guangzhou (the default) "
        "or another region aiart supports.",
    ),
    "InvalidAction": (
        ConfigurationError,
        "The configured endpoint does not offer aiart ReplaceBackground: check TENCENT_AIART_ENDPOINT "
        "(default aiart.tencentcloudapi.com).",
    ),
    "UnsupportedOperation": (
        ConfigurationError,
        "The configured endpoint does not offer aiart ReplaceBackground: check TENCENT_AIART_ENDPOINT "
        "(default aiart.tencentcloudapi.com).",
    ),
    "NoSuchVersion": (
        ConfigurationError,
        "The configured endpoint does not know aiart's API version 2022-12-29: check TENCENT_AIART_ENDPOINT "
        "(default aiart.tencentcloudapi.com).",
    ),
    "MissingParameter": (
        InputRejectedError,
        "Tencent Cloud says a required field is missing ({detail}). Check the prompt and options.",
    ),
    "UnknownParameter": (
        InputRejectedError,
        "Tencent Cloud does not know a field that was sent ({detail}). Remove that option and try again.",
    ),
    "InternalError": (ProviderUnavailableError, "Tencent Cloud had an internal error; " + _RETRY + "."),
    # ---- the SDK's own codes
    "ServerNetworkError": (
        ProviderUnavailableError,
        "Tencent Cloud answered with an HTTP error instead of a result; " + _RETRY + ".",
    ),
    "InvalidCredential": (
        ConfigurationError,
        "The Tencent Cloud API key is not usable (empty, or it contains spaces): " + _KEYS_HINT + ".",
    ),
}

# Messages not tied to one code.
_TEXTS: Mapping[str, str] = {
    "ClientNetworkError": "Tencent Cloud could not be reached (network error); " + _RETRY + ".",
    "ClientNetworkError#ambiguous": (
        "The job was sent to Tencent Cloud but no answer came back (the call timed out or the connection "
        "broke), so it is unknown whether an image was made and billed. It was not sent again: check the "
        "Tencent Cloud console, then retry the job if nothing was made."
    ),
    "_family": "Tencent Cloud refused the job with {code} ({detail}). Check the settings and options, then retry.",
    "_undocumented": (
        "Tencent Cloud answered with an undocumented error {code} ({detail}). Try again later; if it keeps "
        "happening, check the Tencent Cloud console."
    ),
    "_unexpected": (
        "Tencent Cloud's answer did not have the documented shape ({why}). It may have made an image anyway: "
        "check the Tencent Cloud console before retrying."
    ),
}

# Every user message this adapter raises or records, for studio's translations (studio/vendor_texts.py).
ERROR_TEXTS: Mapping[str, str] = {**{code: text for code, (_, text) in _CODES.items()}, **_TEXTS}

# Codes Tencent may add later are classified by their family (the part before the first dot).
_FAMILIES: Mapping[str, type[ProviderError]] = {
    "AuthFailure": AuthenticationError,
    "InvalidParameter": InputRejectedError,
    "InvalidParameterValue": InputRejectedError,
    "MissingParameter": InputRejectedError,
    "UnknownParameter": InputRejectedError,
    "RequestLimitExceeded": RateLimitedError,
    "ResourceUnavailable": QuotaExhaustedError,
    "ResourcesSoldOut": QuotaExhaustedError,
    "ResourceInsufficient": ProviderUnavailableError,
    "FailedOperation": ProviderUnavailableError,
    "InternalError": ProviderUnavailableError,
    "OperationDenied": ContentRejectedError,
}

# Markers of a connection that was never made, so nothing reached Tencent (see providers.http).
_NEVER_CONNECTED = (
    "NewConnectionError",
    "Connection refused",
    "Name or service not known",
    "NameResolution",
    "ConnectTimeout",
    "connect timeout",
)


@dataclass(frozen=True)
class _Target:
    """Where calls go: the SDK's endpoint (host[:port], no scheme), protocol and region."""

    endpoint: str
    protocol: str
    region: str


def parse_resolution(text: str) -> tuple[int, int] | None:
    """`"1280:720"` (also `1280x720`) -> (1280, 720); "" -> None; ValueError naming the rule otherwise."""
    value = text.strip()
    if not value:
        return None
    match = re.fullmatch(r"(\d+)\s*[:xX*]\s*(\d+)", value)
    if not match:
        raise ValueError(f"Resolution: '{text}' is not like 1280:1280 (width:height)")
    width, height = int(match.group(1)), int(match.group(2))
    check_output_size(width, height, "Resolution")
    return width, height


def check_output_size(width: int, height: int, what: str) -> None:
    """Tencent's output rule: each side more than 500 and less than 4000 px, aspect 2:5 to 5:2."""
    if not all(MIN_OUTPUT_SIDE_EXCLUSIVE < side < MAX_OUTPUT_SIDE_EXCLUSIVE for side in (width, height)):
        raise ValueError(
            f"{what}: {width}:{height} is not possible; each side must be 501 to 3999 px "
            "(1:1, 9:16 or 16:9 work best, e.g. 1280:1280, 1080:1920, 1920:1080)"
        )
    if not _aspect_ok(width, height):
        raise ValueError(
            f"{what}: {width}:{height} is too narrow; the aspect ratio must be between 2:5 and 5:2"
        )


def _aspect_ok(width: int, height: int) -> bool:
    return 2 * height <= 5 * width and 2 * width <= 5 * height


def parse_logo_rect(text: str) -> tuple[int, int, int, int] | None:
    """`"1040,1160,220,100"` (X,Y,Width,Height; spaces or colons also separate) or the vendor's own
    `{"X": .., "Y": .., "Width": .., "Height": ..}` -> a tuple; "" -> None; ValueError otherwise."""
    value = text.strip()
    if not value:
        return None
    numbers: list[Any]
    if value.startswith("{"):
        try:
            document = json.loads(value)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ValueError(f"LogoRect: '{text}' is not like 1040,1160,220,100 (X,Y,Width,Height)")
        numbers = [document.get(name) for name in ("X", "Y", "Width", "Height")]
    else:
        numbers = [part for part in re.split(r"[\s,;:]+", value) if part]
    if len(numbers) != 4 or not all(re.fullmatch(r"-?\d+", str(number)) for number in numbers):
        raise ValueError(f"LogoRect: '{text}' is not like 1040,1160,220,100 (X,Y,Width,Height in whole px)")
    x, y, width, height = (int(str(number)) for number in numbers)
    if x < 0 or y < 0 or width < 1 or height < 1:
        raise ValueError(
            f"LogoRect: {x},{y},{width},{height} is not a box: X and Y (its top-left corner) must be 0 or "
            "more, Width and Height at least 1"
        )
    return x, y, width, height


def check_logo_rect(rect: tuple[int, int, int, int], output: tuple[int, int]) -> None:
    """The logo box must lie inside the output picture, or Tencent answers LogoParamErr."""
    x, y, width, height = rect
    out_w, out_h = output
    if x + width > out_w or y + height > out_h:
        raise ValueError(
            f"LogoRect: the box {x},{y},{width},{height} reaches {x + width}x{y + height} px, outside the "
            f"{out_w}x{out_h} picture; move or shrink it so that X+Width <= {out_w} and Y+Height <= {out_h}"
        )


def default_logo_rect(logo_size: tuple[int, int], output: tuple[int, int]) -> tuple[int, int, int, int]:
    """The bottom-right box Tencent's own mark sits in: the logo's aspect, at most a fifth of the picture."""
    logo_w, logo_h = max(1, logo_size[0]), max(1, logo_size[1])
    out_w, out_h = output
    scale = min(out_w * LOGO_BOX_SHARE / logo_w, out_h * LOGO_BOX_SHARE / logo_h)
    width, height = max(1, round(logo_w * scale)), max(1, round(logo_h * scale))
    margin = round(min(out_w, out_h) * LOGO_MARGIN_SHARE)
    return out_w - width - margin, out_h - height - margin, width, height


def normalised_logo(text: str) -> str:
    """The user's logo (base64 of an image file) as base64 of a PNG at most LOGO_MAX_SIDE a side, alpha
    kept: what travels as `LogoParam.LogoImage` and is stored with the job. ValueError says what is wrong."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("LogoImage: not an image file in base64 (use --logo PATH in the CLI)") from None
    if len(data) > MAX_LOGO_FILE_BYTES:
        raise ValueError(
            f"LogoImage: the logo file is {len(data) / 1_048_576:.1f} MB; use one under "
            f"{MAX_LOGO_FILE_BYTES // 1_048_576} MB (a PNG of a few hundred px is plenty: Tencent stretches "
            "it to the LogoRect box)"
        )
    try:
        # A logo may be small (a 120x48 mark): no photo minimum; the pixel guard still applies.
        loaded = load_image(data, min_side=1, max_side=100_000)
    except ImageInputError as exc:
        raise ValueError(f"LogoImage: the logo cannot be used ({exc})") from None
    pixels = loaded.rgba if loaded.has_alpha else loaded.rgb
    if max(loaded.width, loaded.height) > LOGO_MAX_SIDE:
        pixels = thumbnail(pixels, LOGO_MAX_SIDE)
    encoded = base64.b64encode(encode_png(pixels)).decode("ascii")
    if len(encoded) > MAX_LOGO_BASE64_CHARS:
        raise ValueError(
            "LogoImage: the logo is too detailed to send (over 6 MB as base64 even at "
            f"{LOGO_MAX_SIDE} px); use a simpler or smaller logo"
        )
    return encoded


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class TencentAiart(ProviderAdapter):
    key = "tencent_aiart"
    label = "Tencent Cloud aiart"
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
            OptionSpec("LogoAdd", "bool", True, "opt.LogoAdd"),
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
            raise InputRejectedError(
                self.key, "unsupported_operation", "Tencent Cloud aiart only makes prompt backgrounds."
            )
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
                message=f"Signed in to {self._target().endpoint}; ReplaceBackground answered (no image was made).",
                request_id=exc.request_id,
            )
        return ConnectionCheck(
            ok=True,
            message=f"Signed in to {self._target().endpoint}; ReplaceBackground answered.",
            request_id=_text(answer.get("RequestId")) or None,
        )

    # ------------------------------------------------------------ request
    def _request_body(self, request: GenerationRequest) -> dict[str, Any]:
        if not request.image_url:
            raise ConfigurationError(
                self.key,
                "needs_hosting",
                "Tencent Cloud takes the product image only as a web link, and input hosting is not "
                "configured. Set up input hosting on the Settings page (it explains the options), then retry.",
            )
        if request.mask is not None and not request.mask_url:
            raise ConfigurationError(
                self.key,
                "needs_hosting",
                "Tencent Cloud takes the mask only as a web link, and it could not be hosted. Check input "
                "hosting on the Settings page, or leave the mask out to let Tencent find the product.",
            )
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
            raise InputRejectedError(self.key, "bad_resolution", f"{exc}. Choose another size.") from None
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
            raise InputRejectedError(
                self.key, "bad_logo", f"{exc}. Fix the logo options and try again."
            ) from None
        x, y, width, height = rect
        return {"LogoImage": logo, "LogoRect": {"X": x, "Y": y, "Width": width, "Height": height}}

    def _check_prompt(self, prompt: str, negative: str) -> None:
        if not prompt:
            raise InputRejectedError(
                self.key, "prompt_required", "Tencent Cloud needs a prompt describing the new background."
            )
        if prompt == RESERVED_PROMPT:
            raise InputRejectedError(
                self.key,
                "reserved_prompt",
                f"'{RESERVED_PROMPT}' is a reserved word at Tencent Cloud (it selects their template "
                "catalogue, which Backdrop Studio does not offer). Describe the background instead.",
            )
        for name, text in (("prompt", prompt), ("negative prompt", negative)):
            if len(text) > MAX_PROMPT_CHARS:
                raise InputRejectedError(
                    self.key,
                    "prompt_too_long",
                    f"The {name} has {len(text)} characters; Tencent Cloud takes at most {MAX_PROMPT_CHARS}. "
                    "Shorten it and try again.",
                )

    def _check_input(self, image: bytes) -> None:
        """The rules the vendor states that studio's `Limits` cannot express (aspect ratio)."""
        try:
            width, height = image_size(image)
        except ImageInputError as exc:
            raise InputRejectedError(
                self.key, "unreadable_image", f"The product image cannot be read: {exc}"
            ) from None
        if max(width, height) > MAX_INPUT_SIDE:
            raise InputRejectedError(
                self.key,
                "too_large",
                f"The image is {width}x{height}; Tencent Cloud takes sides under 4000 px. Downscale it and retry.",
            )
        if not _aspect_ok(width, height):
            raise InputRejectedError(
                self.key,
                "bad_aspect",
                f"The image is {width}x{height}, too narrow for Tencent Cloud, which takes aspect ratios "
                "between 2:5 and 5:2. Crop it closer to square and try again.",
            )

    # ------------------------------------------------------------ transport
    def _target(self) -> _Target:
        options = self.context.options
        region = (options.get("region") or DEFAULT_REGION).strip()
        if not re.fullmatch(r"[a-z]{2,}(-[a-z0-9]+)+", region):
            raise ConfigurationError(
                self.key, "bad_region", f"TENCENTCLOUD_REGION '{region}' is not a region like ap-guangzhou."
            )
        protocol = (options.get("protocol") or DEFAULT_PROTOCOL).strip().lower()
        raw = (self.endpoint or DEFAULT_ENDPOINT).strip()
        if "://" in raw:
            # A pasted URL: its scheme says the protocol; the SDK wants the bare host[:port].
            parts = urllib.parse.urlsplit(raw)
            protocol = parts.scheme.lower()
            if parts.path not in ("", "/") or parts.query:
                raise ConfigurationError(
                    self.key,
                    "bad_endpoint",
                    f"TENCENT_AIART_ENDPOINT must be a host such as {DEFAULT_ENDPOINT}, without a path.",
                )
            raw = parts.netloc
        endpoint = raw.rstrip("/")
        host = urllib.parse.urlsplit(f"//{endpoint}").hostname if endpoint else None
        if not host or "/" in endpoint:
            raise ConfigurationError(
                self.key,
                "bad_endpoint",
                f"TENCENT_AIART_ENDPOINT must be a host such as {DEFAULT_ENDPOINT}, without a path.",
            )
        if protocol not in ("https", "http"):
            raise ConfigurationError(
                self.key, "bad_protocol", f"TENCENT_AIART_PROTOCOL must be https (it is '{protocol}')."
            )
        if protocol == "http" and not is_loopback_host(host):
            raise ConfigurationError(
                self.key,
                "insecure_protocol",
                "TENCENT_AIART_PROTOCOL=http is only allowed for a test server on this computer (127.0.0.1 or "
                f"localhost): over plain http the signed requests and your product images to {host} could be "
                "read or changed on the way. Use https.",
            )
        return _Target(endpoint=endpoint, protocol=protocol, region=region)

    def _client(self, target: _Target) -> Any:
        credentials = self.context.credentials
        secret_id = (credentials.get("secret_id") or "").strip()
        secret_key = (credentials.get("secret_key") or "").strip()
        if not secret_id or not secret_key:
            raise ConfigurationError(
                self.key,
                "not_configured",
                "Tencent Cloud aiart is not configured: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY.",
            )
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
            if idempotent or any(marker in message for marker in _NEVER_CONNECTED):
                return ProviderUnavailableError(self.key, code, _TEXTS["ClientNetworkError"])
            return ProviderUnavailableError(
                self.key, code, _TEXTS["ClientNetworkError#ambiguous"], retryable=False
            )
        return self._mapped(code, message, request_id)

    def _mapped(self, code: str, message: str, request_id: str | None) -> ProviderError:
        detail = self._scrub(message) or "no details given"
        known = _CODES.get(code)
        if known is not None:
            cls, text = known
            error = cls(self.key, code, text.format(detail=detail), request_id=request_id)
        else:
            family = _FAMILIES.get(code.split(".", 1)[0])
            if family is None:
                return UnexpectedResponseError(
                    self.key,
                    code,
                    _TEXTS["_undocumented"].format(code=code, detail=detail),
                    request_id=request_id,
                )
            error = family(
                self.key, code, _TEXTS["_family"].format(code=code, detail=detail), request_id=request_id
            )
        if code == "RequestLimitExceeded.JobNumExceed":
            error.retry_after_s = JOB_SLOT_RETRY_AFTER_S
        return error

    def _scrub(self, message: str) -> str:
        """The vendor's message, shortened, with our credentials blanked should it ever echo them."""
        text = " ".join(message.split())[:200]
        for secret in self.context.credentials.values():
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _unexpected(self, why: str) -> NoReturn:
        raise UnexpectedResponseError(self.key, "unexpected_response", _TEXTS["_unexpected"].format(why=why))


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


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
