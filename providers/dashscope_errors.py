"""DashScope's error tables: every documented code of the API, its task failures and the temporary
storage (OSS) -> the error tree, with the messages users read.
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
    UnexpectedResponseError,
)

_KEY_HINT = (
    "check DASHSCOPE_API_KEY (Settings page): it must be a Model Studio API key of the China (Beijing) "
    "region, the only region that offers this model"
)
_THROTTLED = (
    "DashScope is throttling requests: this model allows 2 submits a second and 1 task at a time per "
    "Alibaba Cloud account (all its keys together). The job waits and tries again."
)

# Vendor code -> (error class, message for a marketing user; `{detail}` is the vendor's message).
CODES: Mapping[str, tuple[type[ProviderError], str]] = {
    "InvalidApiKey": (AuthenticationError, "DashScope did not accept the API key: " + _KEY_HINT + "."),
    "AccessDenied": (
        AuthenticationError,
        "DashScope refused access ({detail}). A RAM sub-account key needs DASHSCOPE_WORKSPACE set to a "
        "workspace that may call wanx-background-generation-v2; otherwise " + _KEY_HINT + ".",
    ),
    # Without X-DashScope-Async the service refuses the call with this code and a message saying so.
    "AccessDenied#sync_refused": (
        ConfigurationError,
        "DashScope refused the call as synchronous: the X-DashScope-Async header did not arrive. Check "
        "DASHSCOPE_BASE_URL: a proxy in between may drop the header (default "
        "https://dashscope.aliyuncs.com/api/v1).",
    ),
    "AccessDenied.Unpurchased": (
        AuthenticationError,
        "This Alibaba Cloud account has not activated Model Studio (DashScope) or this model. Activate it "
        "in the Model Studio console (China (Beijing) region), then try again.",
    ),
    "InvalidParameter": (
        InputRejectedError,
        "DashScope rejected the request ({detail}). Check the prompt, the images and the options "
        "(model_version v2 or v3, noise_level 0-999, ref_prompt_weight 0-1, 1-4 images).",
    ),
    # Seed 003 FAQ: asking for wanx-background-generation-v3 in `model` answers this; v3 is chosen
    # with parameters.model_version. The app always sends v2, so the address serves another model list.
    "InvalidParameter#model_not_exist": (
        ConfigurationError,
        "DashScope says the model does not exist ({detail}). This app always asks for "
        "wanx-background-generation-v2 (v3 is chosen with the model version option), so DASHSCOPE_BASE_URL "
        "most likely points to a region without it: use https://dashscope.aliyuncs.com/api/v1 "
        "(China (Beijing)).",
    ),
    "InvalidParameter.DataInspection": (
        ProviderUnavailableError,
        "DashScope timed out downloading an input image while checking it ({detail}). The job is tried "
        "again automatically; if it keeps happening, the image host is too slow or unreachable.",
    ),
    "InvalidParameter.FileDownload": (
        InputRejectedError,
        "DashScope could not download an input image ({detail}); its link may have expired or be "
        "unreachable from Alibaba Cloud. Run the job again so the images are uploaded afresh.",
    ),
    "BadRequest.UnsupportedFileFormat": (
        InputRejectedError,
        "DashScope could not use an input image ({detail}). The product must be a PNG with a transparent "
        "background (RGBA): paint a mask or use the automatic cutout, then try again.",
    ),
    "Model.NotExist": (
        ConfigurationError,
        "DashScope does not offer wanx-background-generation-v2 at the configured address: check "
        "DASHSCOPE_BASE_URL (default https://dashscope.aliyuncs.com/api/v1, China (Beijing) region).",
    ),
    "DataInspectionFailed": (
        ContentRejectedError,
        "DashScope's content check refused this request (the image or the prompt may contain sensitive "
        "content). Change the prompt or use another photo.",
    ),
    "Throttling": (RateLimitedError, _THROTTLED),
    "Throttling.RateQuota": (RateLimitedError, _THROTTLED),
    "Throttling.AllocationQuota": (
        RateLimitedError,
        "DashScope's allocated quota for this model is used up for now ({detail}). The job waits and "
        "tries again; to raise the quota, use the Model Studio console.",
    ),
    "InternalError": (
        ProviderUnavailableError,
        "DashScope had an internal error; the job is tried again automatically.",
    ),
    "ServiceUnavailable": (
        ProviderUnavailableError,
        "DashScope is temporarily unavailable; the job is tried again automatically.",
    ),
    "GatewayTimeout": (
        ProviderUnavailableError,
        "DashScope's gateway timed out; the job is tried again automatically.",
    ),
    "Arrearage": (
        QuotaExhaustedError,
        "The Alibaba Cloud account behind this DashScope key has an overdue payment, so DashScope refuses "
        "calls. Top up the account in the Alibaba Cloud console, then retry the job.",
    ),
}

# A 404 from an API path (not a task query) means the base URL points somewhere else.
NOT_FOUND: tuple[type[ProviderError], str] = (
    ConfigurationError,
    "DashScope answered 'not found' ({detail}) at the configured address: check DASHSCOPE_BASE_URL "
    "(default https://dashscope.aliyuncs.com/api/v1, China (Beijing) region).",
)

# Codes that mean different things by message: code -> ((words in the vendor's message, table key), ...).
VARIANTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "InvalidParameter": (("model not exist", "InvalidParameter#model_not_exist"),),
    "AccessDenied": (("does not support synchronous calls", "AccessDenied#sync_refused"),),
}
# A 429 or 5xx whose body names no code is read as the code DashScope uses for that status.
STATUS_CODES: Mapping[int, str] = {
    429: "Throttling",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
SUBMIT_TIMED_OUT = (
    "DashScope's gateway timed out while taking the job, so it is unknown whether a task was created. It "
    "was not sent again, so you are not charged twice: check the Model Studio console, then retry the job "
    "if nothing was made."
)
UNDOCUMENTED = "DashScope answered with an undocumented error {code} ({detail}). Try again later."
UNEXPECTED = "DashScope's answer did not have the documented shape ({why}). Try again later."
TASK_EXPIRED = "DashScope no longer knows this task (task ids expire after 24 hours). Submit the job again."
TASK_UNKNOWN = "DashScope does not know this task (ids expire after 24 hours). Submit the job again."

# OSS PostObject error codes from the temporary storage upload -> (class, message).
OSS_CODES: Mapping[str, tuple[type[ProviderError], str]] = {
    "PolicyExpired": (
        ProviderUnavailableError,
        "The upload permission from DashScope's temporary storage expired before the image was sent "
        "(it lives 5 minutes; is this computer's clock right?). The job is tried again with a fresh one.",
    ),
    "AccessDenied": (
        UnexpectedResponseError,
        "DashScope's temporary storage refused the upload ({detail}). Try again later; if it keeps "
        "happening, host the inputs elsewhere.",
    ),
    "SignatureDoesNotMatch": (
        UnexpectedResponseError,
        "DashScope's temporary storage did not accept the upload signature it issued ({detail}). "
        "Try again later.",
    ),
    "InvalidAccessKeyId": (
        UnexpectedResponseError,
        "DashScope's temporary storage did not accept the upload key it issued ({detail}). Try again later.",
    ),
    "EntityTooLarge": (
        InputRejectedError,
        "The image is too large for DashScope's temporary storage ({detail}). Downscale it and try again.",
    ),
    "FileAlreadyExists": (
        ProviderUnavailableError,
        "An upload to DashScope's temporary storage collided with an earlier one; the job is tried again.",
    ),
    "InvalidArgument": (
        UnexpectedResponseError,
        "DashScope's temporary storage refused the upload form ({detail}). Try again later.",
    ),
}

TASK_FAILED = (
    "DashScope could not make these images ({detail}). Try another photo, prompt or reference image."
)
TASK_TRANSIENT = (
    "DashScope had a temporary problem while making these images ({detail}). Run the job again; if it "
    "keeps failing, try again later."
)
TASK_CANCELED = (
    "The task was cancelled at DashScope (for example in the Model Studio console). Run the job again if "
    "you still need it."
)

# Messages of checks made before or around a call, keyed by the error code they are raised with.
TEXTS: Mapping[str, str] = {
    "unsupported_operation": "DashScope here only makes prompt backgrounds.",
    "no_guidance": "DashScope needs a prompt describing the background, a reference image, or both.",
    "bad_count": "DashScope makes 1 to 4 images per job, not {count}.",
    "too_many_guides": (
        "DashScope takes at most {max_guides} edge guides (front and back together), not {count}. "
        "Remove some and try again."
    ),
    "no_task_id": (
        "DashScope accepted the job but its answer had no task id, so its result cannot be fetched. "
        "Check the Model Studio console before retrying, so you are not charged twice."
    ),
    "bad_task_id": "This job has no valid DashScope task id; submit it again.",
    "too_many_bytes": (
        "The {role} image is {mb} MB, more than the {max_mb} MB DashScope's temporary storage takes. "
        "Downscale it."
    ),
    # `{detail}` is the image check's own sentence (imaging.images).
    "_bad_image": (
        "{detail} DashScope needs the product as a PNG with a transparent background, "
        "{min_side}-{max_side} px per side."
    ),
    "no_transparency": (
        "DashScope needs the product cut out: this photo has no transparent background and no mask was "
        "given. Paint a product mask or use the automatic cutout, then try again."
    ),
    "not_configured": (
        "DashScope is not configured: set DASHSCOPE_API_KEY (a China (Beijing) region key from the Model "
        "Studio console)."
    ),
    "bad_endpoint": "DASHSCOPE_BASE_URL must be an https:// address such as {example} (it is '{base}').",
    "_connected": "Signed in to DashScope at {base}; its temporary file storage for {model} answered.",
}

# Every user message this adapter raises or records, for studio's translations (studio/vendor_texts.py).
ERROR_TEXTS: Mapping[str, str] = {
    **{code: text for code, (_, text) in CODES.items()},
    **{f"oss:{code}": text for code, (_, text) in OSS_CODES.items()},
    "_not_found": NOT_FOUND[1],
    "_submit_timed_out": SUBMIT_TIMED_OUT,
    "_undocumented": UNDOCUMENTED,
    "_unexpected": UNEXPECTED,
    "_task_expired": TASK_EXPIRED,
    "_task_unknown": TASK_UNKNOWN,
    "_task_failed": TASK_FAILED,
    "_task_transient": TASK_TRANSIENT,
    "_task_canceled": TASK_CANCELED,
    "_oss_refused": "DashScope's temporary storage refused the upload ({detail}). Try again later.",
    **TEXTS,
}
