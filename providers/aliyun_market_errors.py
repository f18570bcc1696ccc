"""The Alibaba Cloud Marketplace background service's error tables: every documented service code
and the API gateway's answers -> the error tree, with the messages users read.
"""

from __future__ import annotations

from collections.abc import Mapping

from providers.aliyun_market_api import (
    DEFAULT_GUIDANCE as DEFAULT_GUIDANCE,
)
from providers.aliyun_market_api import (
    DEFAULT_STEPS as DEFAULT_STEPS,
)
from providers.aliyun_market_api import (
    DEFAULT_STRENGTH as DEFAULT_STRENGTH,
)
from providers.aliyun_market_api import (
    EXAMPLE_BASE_URL as EXAMPLE_BASE_URL,
)
from providers.aliyun_market_api import (
    INPUT_FORMATS as INPUT_FORMATS,
)
from providers.aliyun_market_api import (
    MAX_BATCH as MAX_BATCH,
)
from providers.aliyun_market_api import (
    MAX_COUNT as MAX_COUNT,
)
from providers.aliyun_market_api import (
    MAX_PROMPT_CHARS as MAX_PROMPT_CHARS,
)
from providers.aliyun_market_api import (
    MAX_SEED as MAX_SEED,
)
from providers.aliyun_market_api import (
    MAX_SIDE as MAX_SIDE,
)
from providers.aliyun_market_api import (
    MIN_SIDE as MIN_SIDE,
)
from providers.aliyun_market_api import (
    PRODUCT_ID as PRODUCT_ID,
)
from providers.aliyun_market_api import (
    PRODUCT_URL as PRODUCT_URL,
)
from providers.aliyun_market_api import (
    QUERY_PATH as QUERY_PATH,
)
from providers.aliyun_market_api import (
    SUBMIT_PATH as SUBMIT_PATH,
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
)

CONSOLE = "the Alibaba Cloud Marketplace console (已购买的服务 / Purchased services)"
_APPCODE_HINT = (
    "check ALIYUN_MARKET_APPCODE (Settings page): it must be the AppCode shown for this product in " + CONSOLE
)
_BASE_HINT = (
    "check ALIYUN_BGREP_BASE_URL (Settings page): it must be the API domain shown for this product in "
    f"{CONSOLE}, e.g. {EXAMPLE_BASE_URL}"
)
HOSTING_HINT = (
    "Check input hosting on the Settings page: the link must be public (reachable from Alibaba Cloud) and "
    "still valid while the job runs"
)
_RETRY = "the job is tried again automatically"
OPTIONS_HINT = (
    "guidance_scale 1-20, strength above 0 up to 1, steps 15-50, 1-4 images, prompts up to 500 characters"
)

# Service code -> (error class, message for a marketing user; `{detail}` is the vendor's message).
CODES: Mapping[str, tuple[type[ProviderError], str]] = {
    "23500000": (
        ProviderUnavailableError,
        "The Marketplace background service had an internal error; " + _RETRY + ".",
    ),
    "23500001": (
        AuthenticationError,
        "The Marketplace background service refused the authorisation ({detail}): " + _APPCODE_HINT + ".",
    ),
    "23500002": (
        ConfigurationError,
        "The Marketplace background service does not offer this operation at the configured address "
        "({detail}): " + _BASE_HINT + ".",
    ),
    "23500003": (
        QuotaExhaustedError,
        "The credit for the Marketplace background product is used up. Top it up or buy a new package in "
        + CONSOLE
        + f" ({PRODUCT_URL}), then retry the job.",
    ),
    "23500004": (
        RateLimitedError,
        "The Marketplace background service is busy and throttled the request; the job waits and tries again.",
    ),
    "23500005": (
        ContentRejectedError,
        "The image did not pass Alibaba Cloud's content compliance check. Use another photo; sending the same "
        "one again will not help.",
    ),
    "23500006": (
        InputRejectedError,
        "The Marketplace background service could not download the product image or the mask from its "
        "link. " + HOSTING_HINT + ".",
    ),
    "23500007": (
        InputRejectedError,
        "The Marketplace background service cannot use this image ({detail}). It takes JPEG, PNG, WEBP or "
        "BMP with each side 400 to 4096 px, and a mask of exactly the image's size. Resize the photo or "
        "repaint the mask, then retry.",
    ),
    "23500008": (
        TaskNotFoundError,
        "The Marketplace background service has no task for this job (its id is unknown or expired). "
        "Submit the job again.",
    ),
    "23500009": (
        InputRejectedError,
        "The Marketplace background service says a required field is empty ({detail}). The job needs a "
        "product image and a prompt; check both, then retry.",
    ),
    "23500011": (
        ProviderUnavailableError,
        "The Marketplace background service failed to run the job; " + _RETRY + ".",
    ),
    "23500012": (
        InputRejectedError,
        "The Marketplace background service received the request without its content ({detail}). A proxy "
        "between this computer and Alibaba Cloud may have removed it: " + _BASE_HINT + ".",
    ),
    "23500013": (
        InputRejectedError,
        "The Marketplace background service rejected a parameter ({detail}). Check the options ("
        + OPTIONS_HINT
        + "), then retry.",
    ),
    "23500014": (
        ConfigurationError,
        "The Marketplace background service does not know the service named in the address ({detail}): "
        + _BASE_HINT
        + ".",
    ),
}

# The seller's English "possible cause" per code, to recognise a failed sub-task that only sends text.
VENDOR_TEXTS: Mapping[str, str] = {
    "internal server error": "23500000",
    "content compliance": "23500005",
    "url provided is invalid": "23500006",
    "does not meet the requirements": "23500007",
    "job execution failed": "23500011",
}

# Gateway `X-Ca-Error-Message` fragments (lower case) -> (text key, class, message). First match wins.
GATEWAY: tuple[tuple[str, tuple[str, ...], type[ProviderError], str], ...] = (
    (
        "gateway:invalid_appcode",
        ("invalid appcode",),
        AuthenticationError,
        "Alibaba Cloud's API gateway does not know this AppCode: " + _APPCODE_HINT + ".",
    ),
    (
        "gateway:unauthorized",
        ("unauthorized",),
        AuthenticationError,
        "Alibaba Cloud's API gateway says this AppCode may not call the background API ({detail}). Make sure "
        f"the product {PRODUCT_ID} is activated for your account in {CONSOLE} and that "
        "ALIYUN_MARKET_APPCODE is that purchase's AppCode.",
    ),
    (
        "gateway:quota_exhausted",
        ("quota exhausted",),
        QuotaExhaustedError,
        "The calls bought for the Marketplace background product are used up ({detail}). Buy more at "
        f"{PRODUCT_URL}, then retry the job.",
    ),
    (
        "gateway:quota_expired",
        ("quota expired",),
        QuotaExhaustedError,
        "The package bought for the Marketplace background product has expired. Renew it at "
        f"{PRODUCT_URL}, then retry the job.",
    ),
    (
        "gateway:arrears",
        ("arrears",),
        QuotaExhaustedError,
        "Your Alibaba Cloud account is in arrears, so the Marketplace gateway refuses calls. Top up the "
        "account in the Alibaba Cloud console, then retry the job.",
    ),
    (
        "gateway:throttled",
        ("throttled", "flow control"),
        RateLimitedError,
        "Alibaba Cloud's API gateway is throttling requests ({detail}); the job waits and tries again.",
    ),
    (
        "gateway:bad_address",
        (
            "invalid url",
            "invalid param location",
            "invalid domain",
            "invalid httpmethod",
            "invalid request path",
            "unsupported method",
        ),
        ConfigurationError,
        "Alibaba Cloud's API gateway does not know this address ({detail}): " + _BASE_HINT + ".",
    ),
    (
        "gateway:timestamp",
        ("timestamp",),
        AuthenticationError,
        "Alibaba Cloud's API gateway refused the request time ({detail}). Check this computer's clock; if it "
        "is right, the product may require signed calls instead of an AppCode: ask the seller.",
    ),
    (
        "gateway:signature",
        ("signature", "appkey"),
        AuthenticationError,
        "Alibaba Cloud's API gateway wanted a signed call ({detail}); this product is called with an AppCode: "
        + _APPCODE_HINT
        + ".",
    ),
    (
        "gateway:body_too_large",
        ("body too large",),
        InputRejectedError,
        "The request is too large for Alibaba Cloud's API gateway ({detail}). Shorten the prompts and retry.",
    ),
)

TASK_FAILED = (
    "Alibaba Cloud could not make these images ({detail}). Try another photo or prompt; if it keeps "
    "failing, try again later."
)
TASK_TRANSIENT = (
    "Alibaba Cloud had a problem while making these images ({detail}). Run the job again; if it keeps "
    "failing, try again later."
)

# Messages not tied to one code: `{said}` is " (<the vendor's words>)" or nothing.
TEXTS: Mapping[str, str] = {
    "_nonce_missing": (
        "Alibaba Cloud's API gateway did not receive the request's X-Ca-Nonce header ({detail}). A proxy in "
        "between may remove headers: " + _BASE_HINT + "."
    ),
    "_nonce_repeated_query": (
        "Alibaba Cloud's API gateway received this request twice ({detail}); the status is asked again shortly."
    ),
    "_nonce_repeated_submit": (
        "Alibaba Cloud's API gateway received this job twice ({detail}), so the first copy may have started "
        f"it. It was not sent again, so you are not charged twice: check {CONSOLE}, then retry the job if "
        "nothing was made."
    ),
    "_submit_timed_out": (
        "Alibaba Cloud's gateway timed out while taking the job, so it is unknown whether a task was "
        f"created{{said}}. It was not sent again, so you are not charged twice: check {CONSOLE}, then retry "
        "the job if nothing was made."
    ),
    "_http_5xx": f"The Marketplace background service had a server error (HTTP {{status}}){{said}}; {_RETRY}.",
    "_http_429": "Alibaba Cloud is throttling requests{said}; the job waits and tries again.",
    "_http_refused": "Alibaba Cloud refused the call (HTTP {status}){said}: " + _APPCODE_HINT + ".",
    "_http_404": "Nothing answers at the configured address (HTTP 404){said}: " + _BASE_HINT + ".",
    "_http_400": (
        "The Marketplace background service refused the job with {code}{said}. Check the image, the prompt "
        f"and the options ({OPTIONS_HINT}), then retry."
    ),
    "_undocumented": (
        "Alibaba Cloud answered with an undocumented error (HTTP {status}){said}. Try again later; if it keeps "
        "happening, " + _BASE_HINT + "."
    ),
    "_unexpected": (
        "The Marketplace background service's answer did not have the documented shape ({why}). Try again later."
    ),
    "_task_failed": TASK_FAILED,
    "_task_transient": TASK_TRANSIENT,
}

_SERVICE = "The Marketplace background service"
# Checks made before or around a call, keyed by the error code they are raised with (`code#variant`
# where one code has several sentences).
CHECKS: Mapping[str, str] = {
    "unsupported_operation": _SERVICE + " only makes prompt backgrounds.",
    "no_result_key": (
        _SERVICE + " accepted the job but its answer had no result_key, so its images cannot be fetched. "
        f"Check {CONSOLE} before retrying, so you are not charged twice."
    ),
    "bad_result_key": "This job has no valid Marketplace result_key; submit it again.",
    "_connected#probe": "AppCode accepted at {host}; the background service answered (no task was made).",
    "_connected": "AppCode accepted at {host}; the background service answered.",
    "needs_hosting": (
        _SERVICE + " takes the product image only as a web link, and input hosting is not configured. Set "
        "up input hosting on the Settings page (it explains the options), then retry."
    ),
    "needs_hosting#mask": (
        _SERVICE + " takes the mask only as a web link, and it could not be hosted. Check input hosting on "
        "the Settings page, or leave the mask out, then retry."
    ),
    "needs_hosting#image_scheme": (
        _SERVICE
        + " downloads the product image over http or https, and the hosted link is neither. "
        + HOSTING_HINT
        + "."
    ),
    "needs_hosting#mask_scheme": (
        _SERVICE
        + " downloads the mask over http or https, and the hosted link is neither. "
        + HOSTING_HINT
        + "."
    ),
    "bad_count": f"{_SERVICE} makes 1 to {MAX_COUNT} images per job, not {{count}}.",
    "bad_seed": f"The seed must be a whole number from 0 to {MAX_SEED}, not {{seed}}.",
    "prompt_required": _SERVICE + " needs a prompt describing the new background.",
    "prompt_too_long": (
        f"The prompt has {{length}} characters; the Marketplace background service takes at most "
        f"{MAX_PROMPT_CHARS}. Shorten it and try again."
    ),
    "prompt_too_long#negative": (
        f"The negative prompt has {{length}} characters; the Marketplace background service takes at most "
        f"{MAX_PROMPT_CHARS}. Shorten it and try again."
    ),
    # `{detail}` is the image check's (or the option check's) own sentence.
    "unreadable_image": "The product image cannot be read: {detail}",
    "bad_size": (
        f"The image is {{size}}; the Marketplace background service takes each side from {MIN_SIDE} to "
        f"{MAX_SIDE} px. Resize it and try again."
    ),
    "bad_option": f"{{detail}}. Fix the option ({OPTIONS_HINT}) and try again.",
    "not_configured": (
        "Alibaba Cloud Marketplace is not configured: set ALIYUN_MARKET_APPCODE to the AppCode shown for "
        f"product {PRODUCT_ID} in {CONSOLE}."
    ),
    "bad_appcode": (
        f"ALIYUN_MARKET_APPCODE contains spaces or characters an AppCode never has. Copy it again from {CONSOLE}."
    ),
    "no_base_url": (
        "Alibaba Cloud Marketplace needs the API domain of your purchase, which is not public: set "
        f"ALIYUN_BGREP_BASE_URL to the domain shown for product {PRODUCT_ID} in {CONSOLE}, e.g. "
        f"{EXAMPLE_BASE_URL}."
    ),
    "bad_base_url": (
        f"ALIYUN_BGREP_BASE_URL must be an https:// address such as {EXAMPLE_BASE_URL}, with nothing after "
        "the domain."
    ),
    "insecure_base_url": (
        "ALIYUN_BGREP_BASE_URL uses plain http, so the AppCode would travel readable to {host}. Use https "
        "(plain http is only allowed for a test server on this computer)."
    ),
}

# Every user message this adapter raises or records, for studio's translations (studio/vendor_texts.py).
ERROR_TEXTS: Mapping[str, str] = {
    **{code: text for code, (_, text) in CODES.items()},
    **{key: text for key, _, _, text in GATEWAY},
    **TEXTS,
    **CHECKS,
}
