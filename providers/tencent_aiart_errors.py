"""Tencent Cloud aiart's error table: every documented code (plus the SDK's transport codes and the
common signature codes) -> the error tree, with the messages users read.
"""

from __future__ import annotations

from collections.abc import Mapping

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
)
from providers.tencent_aiart_rules import DEFAULT_ENDPOINT, MAX_PROMPT_CHARS, RESERVED_PROMPT

_KEYS_HINT = (
    "check TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (Settings page): both must come from the same "
    "API key in the Tencent Cloud console (CAM > API keys)"
)
HOSTING_HINT = (
    "Check input hosting on the Settings page: the link must be public (reachable from Tencent Cloud) "
    "and still valid while the job runs"
)
_SIZE_HINT = (
    "Tencent Cloud takes JPEG, PNG, BMP, TIFF or WEBP under 6 MB as base64 (about 4.5 MB), each side "
    "under 4000 px, aspect ratio between 2:5 and 5:2"
)
_RETRY = "the job is tried again automatically"

# Vendor code -> (error class, message for a marketing user). `{detail}` is the vendor's own message.
CODES: Mapping[str, tuple[type[ProviderError], str]] = {
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
        "Tencent Cloud could not download the product image or mask from its link. " + HOSTING_HINT + ".",
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
        + HOSTING_HINT
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
        "Tencent Cloud did not accept the image link. " + HOSTING_HINT + ".",
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
TEXTS: Mapping[str, str] = {
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

_PROMPT_TOO_LONG = (
    f"has {{length}} characters; Tencent Cloud takes at most {MAX_PROMPT_CHARS}. Shorten it and try again."
)
# Checks made before or around a call, keyed by the error code they are raised with (`code#variant`
# where one code has several sentences). `{detail}` is the option or image check's own sentence.
CHECKS: Mapping[str, str] = {
    "unsupported_operation": "Tencent Cloud aiart only makes prompt backgrounds.",
    "_connected#probe": "Signed in to {endpoint}; ReplaceBackground answered (no image was made).",
    "_connected": "Signed in to {endpoint}; ReplaceBackground answered.",
    "needs_hosting": (
        "Tencent Cloud takes the product image only as a web link, and input hosting is not configured. Set "
        "up input hosting on the Settings page (it explains the options), then retry."
    ),
    "needs_hosting#mask": (
        "Tencent Cloud takes the mask only as a web link, and it could not be hosted. Check input hosting "
        "on the Settings page, or leave the mask out to let Tencent find the product."
    ),
    "bad_resolution": "{detail}. Choose another size.",
    "bad_logo": "{detail}. Fix the logo options and try again.",
    "prompt_required": "Tencent Cloud needs a prompt describing the new background.",
    "reserved_prompt": (
        f"'{RESERVED_PROMPT}' is a reserved word at Tencent Cloud (it selects their template catalogue, "
        "which Backdrop Studio does not offer). Describe the background instead."
    ),
    "prompt_too_long": "The prompt " + _PROMPT_TOO_LONG,
    "prompt_too_long#negative": "The negative prompt " + _PROMPT_TOO_LONG,
    "unreadable_image": "The product image cannot be read: {detail}",
    "too_large": "The image is {size}; Tencent Cloud takes sides under 4000 px. Downscale it and retry.",
    "bad_aspect": (
        "The image is {size}, too narrow for Tencent Cloud, which takes aspect ratios between 2:5 and 5:2. "
        "Crop it closer to square and try again."
    ),
    "bad_region": "TENCENTCLOUD_REGION '{region}' is not a region like ap-guangzhou.",
    "bad_endpoint": f"TENCENT_AIART_ENDPOINT must be a host such as {DEFAULT_ENDPOINT}, without a path.",
    "bad_protocol": "TENCENT_AIART_PROTOCOL must be https (it is '{protocol}').",
    "insecure_protocol": (
        "TENCENT_AIART_PROTOCOL=http is only allowed for a test server on this computer (127.0.0.1 or "
        "localhost): over plain http the signed requests and your product images to {host} could be read or "
        "changed on the way. Use https."
    ),
    "not_configured": (
        "Tencent Cloud aiart is not configured: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY."
    ),
}

# Every user message this adapter raises or records, for studio's translations (studio/vendor_texts.py).
ERROR_TEXTS: Mapping[str, str] = {**{code: text for code, (_, text) in CODES.items()}, **TEXTS, **CHECKS}

# Codes Tencent may add later are classified by their family (the part before the first dot).
FAMILIES: Mapping[str, type[ProviderError]] = {
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
NEVER_CONNECTED = (
    "NewConnectionError",
    "Connection refused",
    "Name or service not known",
    "NameResolution",
    "ConnectTimeout",
    "connect timeout",
)
