"""DashScope (Alibaba Cloud Model Studio): prompt backgrounds with `wanx-background-generation-v2`.

Protocol (shared/providers.md section 4, seed 003): plain HTTPS with
`Authorization: Bearer <API key>` (no signing) and, for RAM sub-account keys,
`X-DashScope-WorkSpace`. The model is asynchronous and HTTP-only:

- submit: `POST {base}/services/aigc/background-generation/generation/` with
  `X-DashScope-Async: enable`; the answer carries `output.task_id`;
- poll: `GET {base}/tasks/{task_id}`, `output.task_status` walks
  PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELED; UNKNOWN means the task
  does not exist (any more: ids and result URLs live 24 h).

Inputs are URLs. The base image must be an RGBA PNG whose background is
transparent, long side <= 2048, and the results have its size. The adapter
builds that PNG from the job's photo and mask and hosts it (and the reference
image) in DashScope's own free temporary storage (shared/image-hosting.md
section 1): `GET {host}/api/v1/uploads?action=getPolicy&model=...`, a form POST
to the policy's OSS `upload_host` (file last), then `oss://<key>` in the body
and `X-DashScope-OssResourceResolve: enable` on the submit. Those calls belong
to the one submit: they cost nothing, make no task, and their URLs live 48 h,
longer than any task. When studio already hosted the photo at an http(s)
URL (`request.image_url`) and that photo has alpha, the URL is used instead.

Errors: request-level failures are non-200 answers `{"code", "message",
"request_id"}`, 429 and 5xx included (`Throttling.RateQuota`, `InternalError`);
`CODES` maps every code the documents name to the error tree. Where one code
means two things the message tells them apart (`VARIANTS`): `InvalidParameter`
with "Model not exist." is a wrong model name, not a wrong input.
OSS upload failures are XML (`<Error><Code>`), mapped by `OSS_CODES`. A task
that ends FAILED or CANCELED is a `TaskUpdate` with a failure, not an exception.

Not in scope yet: edge guides (`input.reference_edge` foreground/background
element lists with their prompts); the canonical request has no field for them.

This module builds the calls and reads the answers; the error tables and their
messages live in `dashscope_errors`, what every vendor adapter shares in
`providers.common`.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from imaging.images import ImageInputError, LoadedImage, load_image
from imaging.masks import load_mask
from providers import http
from providers.base import (
    ConnectionCheck,
    GenerationRequest,
    Limits,
    Money,
    Operation,
    OptionSpec,
    OutputImage,
    Price,
    Submitted,
    TaskFailure,
    TaskState,
    TaskUpdate,
)
from providers.common import VendorAdapter
from providers.common import text as _text
from providers.dashscope_errors import (
    CODES,
    ERROR_TEXTS,
    NOT_FOUND,
    OSS_CODES,
    STATUS_CODES,
    SUBMIT_TIMED_OUT,
    TASK_CANCELED,
    TASK_EXPIRED,
    TASK_FAILED,
    TASK_TRANSIENT,
    TASK_UNKNOWN,
    UNDOCUMENTED,
    UNEXPECTED,
    VARIANTS,
)
from providers.errors import (
    ConfigurationError,
    InputRejectedError,
    ProviderError,
    ProviderUnavailableError,
    TaskNotFoundError,
    UnexpectedResponseError,
)
from providers.fetch_guard import (
    AddressRefused,
    HostNotFound,
    LinkRefused,
    address_refusal,
    check_link_text,
    parse_address,
    resolve_checked,
)
from providers.payload import payload_or_refuse

# The public names, whichever module of this vendor defines them (tests and studio import them from here).
__all__ = [
    "DEFAULT_BASE_URL",
    "DOC_URL",
    "DashScope",
    "ERROR_TEXTS",
    "MAX_GUIDES",
    "MAX_SIDE",
    "MIN_SIDE",
    "MODEL",
    "MODEL_VERSIONS",
    "PROMPT_CJK_CHARS",
    "PROMPT_WORDS",
    "SUBMIT_PATH",
    "TASKS_PATH",
    "UPLOADS_PATH",
    "UploadPolicy",
]


DEFAULT_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"
MAX_GUIDES = 10
MODEL = "wanx-background-generation-v2"
SUBMIT_PATH = "/services/aigc/background-generation/generation/"
TASKS_PATH = "/tasks/"
UPLOADS_PATH = "/api/v1/uploads"
DOC_URL = "https://help.aliyun.com/zh/model-studio/wanx-background-generation-api-reference"

MAX_SIDE = 2048
# The document gives no lower bound; below this a product cutout has too few pixels to place.
MIN_SIDE = 64
MODEL_VERSIONS = ("v2", "v3")
# Seed 003: the model reads ~150 English words or ~100-120 Chinese characters of a prompt (the lower
# bound is used, so the warning comes before anything can be lost).
PROMPT_WORDS = 150
PROMPT_CJK_CHARS = 100

_PRICE = Price(
    per_image=Money(8, "CNY"),
    source=(
        f"0.08 CNY per generated image (free quota: 500 images for 180 days after activation), "
        f"{DOC_URL} (zh and en), checked 2026-11-22"
    ),
    as_of="2026-11-22",
)


_TASK_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_XML_FIELD = r"<{0}>\s*(.*?)\s*</{0}>"


@dataclass(frozen=True)
class UploadPolicy:
    """What `getPolicy` hands out: where to POST, under which directory, and the signed form fields."""

    upload_host: str
    upload_dir: str
    form: tuple[tuple[str, str], ...]
    max_bytes: int | None
    request_id: str | None


class DashScope(VendorAdapter):
    key = "dashscope"
    label = "DashScope (Alibaba Cloud Model Studio)"
    vendor_name = "DashScope"
    unexpected_text = UNEXPECTED
    operations = frozenset({Operation.PROMPT_BACKGROUND})
    limits: ClassVar[Mapping[Operation, Limits]] = {
        Operation.PROMPT_BACKGROUND: Limits(
            # The adapter re-encodes the product as an RGBA PNG itself, so any photo studio reads will do.
            formats=frozenset({"PNG", "JPEG", "WEBP", "BMP"}),
            min_side=MIN_SIDE,
            max_side=MAX_SIDE,
            # The mask travels as the base image's alpha (soft edge kept), as the document asks.
            mask_mode="RGBA",
            image_carries_mask=True,
            keeps_alpha=True,
            # Inputs are hosted by the adapter in DashScope's temporary storage; studio need not.
            needs_urls=False,
            needs_cutout=True,
            takes_reference=True,
            # The result has the base image's size; there is no size field.
            takes_size=False,
            needs_prompt=True,
            # Foreground and background edge images together (seed 003: at most 10).
            max_guides=MAX_GUIDES,
            # "At most 150 English words, about 100-120 Chinese characters; the excess is ignored."
            prompt_words=PROMPT_WORDS,
            prompt_cjk_chars=PROMPT_CJK_CHARS,
            output_sizes=None,
            min_count=1,
            max_count=4,
            default_count=1,
            default_size=None,
        ),
    }
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]] = {
        Operation.PROMPT_BACKGROUND: (
            OptionSpec("model_version", "choice", "v2", "opt.model_version", choices=MODEL_VERSIONS),
            # Only sent with a reference image: higher = the background resembles the reference less.
            OptionSpec("noise_level", "int", 300, "opt.noise_level", minimum=0, maximum=999, step=1),
            # Only sent with both a reference image and a prompt: the prompt's share of the guidance.
            OptionSpec(
                "ref_prompt_weight", "float", 0.5, "opt.ref_prompt_weight", minimum=0, maximum=1, step=0.05
            ),
        ),
    }
    prices: ClassVar[Mapping[Operation, Price]] = {Operation.PROMPT_BACKGROUND: _PRICE}
    param_aliases: ClassVar[Mapping[Operation, Mapping[str, str]]] = {
        Operation.PROMPT_BACKGROUND: {"n": "count"},
    }
    # Documented per account (main account and RAM users together): submit QPS 2, 1 task processing.
    submit_qps = 2.0
    max_in_flight = 1
    # Tasks take about 10-60 s; the SDK polls from 1 s up to 5 s. One task in flight per account, so
    # noticing the end a second sooner is a second more of the account's only slot used.
    poll_interval_hint = 1.0
    # "任务成功执行时将返回图像URL,有效期24小时" (seed 003).
    result_ttl_s = 24 * 3600.0
    can_check_connection = True
    optional_settings: ClassVar[Mapping[str, str]] = {
        "base_url": DEFAULT_BASE_URL,
        "workspace": "",
        "poll_interval_s": "1",
    }
    endpoint_setting = "base_url"
    default_endpoint = DEFAULT_BASE_URL
    error_texts = ERROR_TEXTS

    @classmethod
    def required_credentials(cls) -> tuple[str, ...]:
        return ("api_key",)

    # ------------------------------------------------------------ calls
    def submit(self, request: GenerationRequest) -> Submitted:
        if request.operation is not Operation.PROMPT_BACKGROUND:
            raise InputRejectedError(self.key, "unsupported_operation", self._says("unsupported_operation"))
        self._api_key()  # a missing key is reported before any work or call
        if not request.prompt.strip() and request.reference_image is None:
            raise InputRejectedError(self.key, "no_guidance", self._says("no_guidance"))
        if not 1 <= request.count <= 4:
            raise InputRejectedError(self.key, "bad_count", self._says("bad_count", count=request.count))

        # The vendor's protocol for inputs is URLs; hosting them in its temporary storage (getPolicy +
        # OSS form uploads) is part of sending this one job: those calls are free, create no task and
        # cannot bill twice, and a retried submit simply uploads again under new names.
        product = self._load_product(request)
        base_url = _hosted_url(request.image_url) if product.has_alpha and request.mask is None else None
        uploads: list[tuple[str, bytes]] = []
        if base_url is None:
            uploads.append(("base", self._base_png(product, request)))
        if request.reference_image is not None:
            # Sent as studio stored it: a PNG with alpha keeps it, and its transparent areas do not
            # guide the background (seed 003), e.g. a reference picture with a product cut out.
            uploads.append(("reference", request.reference_image))
        if len(request.guides) > MAX_GUIDES:
            raise InputRejectedError(
                self.key,
                "too_many_guides",
                self._says("too_many_guides", max_guides=MAX_GUIDES, count=len(request.guides)),
            )
        uploads += [(f"guide{number}", guide.image) for number, guide in enumerate(request.guides, 1)]
        hosted: dict[str, str] = {}
        if uploads:
            policy = self.get_upload_policy()
            for role, data in uploads:
                hosted[role] = self._upload(policy, role, data)
        base_url = base_url or hosted["base"]
        ref_url = hosted.get("reference")

        prompt, negative = request.prompt.strip(), request.negative_prompt.strip()
        params = request.params
        body_input: dict[str, Any] = {"base_image_url": base_url}
        if ref_url:
            body_input["ref_image_url"] = ref_url
        if prompt:
            body_input["ref_prompt"] = prompt
        if negative:
            body_input["neg_ref_prompt"] = negative
        if request.guides:
            body_input["reference_edge"] = _reference_edge(request, hosted)
        parameters: dict[str, Any] = {
            "n": request.count,
            "model_version": str(params.get("model_version") or "v2"),
        }
        if ref_url:
            parameters["noise_level"] = int(params.get("noise_level", 300))
            if prompt:
                parameters["ref_prompt_weight"] = float(params.get("ref_prompt_weight", 0.5))
        headers = {"X-DashScope-Async": "enable"}
        if any(url.startswith("oss://") for url in (base_url, *hosted.values())):
            headers["X-DashScope-OssResourceResolve"] = "enable"
        document = self._api(
            "POST",
            self._base() + SUBMIT_PATH,
            idempotent=False,
            json_body={"model": MODEL, "input": body_input, "parameters": parameters},
            headers=headers,
        )
        output = document.get("output")
        task_id = _text(output.get("task_id")) if isinstance(output, dict) else ""
        if not task_id:
            raise UnexpectedResponseError(
                self.key,
                "no_task_id",
                self._says("no_task_id"),
                request_id=_text(document.get("request_id")) or None,
            )
        return Submitted(remote_id=task_id)

    def poll(self, remote_id: str) -> TaskUpdate:
        if not _TASK_ID.fullmatch(remote_id or ""):
            raise TaskNotFoundError(self.key, "bad_task_id", self._says("bad_task_id"))
        document = self._api("GET", self._base() + TASKS_PATH + remote_id, idempotent=True, polling=True)
        return self._task_update(document, remote_id)

    def check_connection(self) -> ConnectionCheck:
        policy = self.get_upload_policy()
        return ConnectionCheck(
            ok=True,
            message=self._says("_connected", base=self._base(), model=MODEL),
            request_id=policy.request_id,
        )

    # ------------------------------------------------------------ temporary storage
    def get_upload_policy(self) -> UploadPolicy:
        """One `getPolicy` call: a signed form for uploads bound to this model, valid about 5 minutes."""
        document = self._api(
            "GET",
            self._api_root() + UPLOADS_PATH,
            idempotent=True,
            params={"action": "getPolicy", "model": MODEL},
        )
        data = document.get("data")
        if not isinstance(data, dict):
            self._unexpected("the upload policy answer has no data")
        needed = ("upload_host", "upload_dir", "policy", "signature", "oss_access_key_id")
        missing = [name for name in needed if not _text(data.get(name))]
        if missing:
            self._unexpected(f"the upload policy lacks {', '.join(missing)}")
        host = _text(data["upload_host"])
        if not host.startswith(("http://", "https://")):
            self._unexpected("the upload host is not an http(s) address")
        self._check_upload_host(host)
        form = (
            ("OSSAccessKeyId", _text(data["oss_access_key_id"])),
            ("Signature", _text(data["signature"])),
            ("policy", _text(data["policy"])),
            ("x-oss-object-acl", _text(data.get("x_oss_object_acl")) or "private"),
            ("x-oss-forbid-overwrite", _text(data.get("x_oss_forbid_overwrite")) or "true"),
            ("success_action_status", "200"),
        )
        max_bytes = None
        with contextlib.suppress(TypeError, ValueError):
            max_bytes = int(float(str(data.get("max_file_size_mb"))) * 1024 * 1024)
        return UploadPolicy(
            upload_host=host,
            upload_dir=_text(data["upload_dir"]).strip("/"),
            form=form,
            max_bytes=max_bytes,
            request_id=_text(document.get("request_id")) or None,
        )

    def _check_upload_host(self, host: str) -> None:
        """The photo goes where DashScope's answer says: never to an address inside this network
        unless the API itself is there (a loopback test server), so a forged or tampered answer
        cannot make the server post product photos to its own network."""
        api_host = urllib.parse.urlsplit(self._api_root()).hostname or ""
        api_address = parse_address(api_host)
        local_api = api_address is not None and address_refusal(api_address) is not None
        try:
            check_link_text(host)
            split = urllib.parse.urlsplit(host)
            port = split.port or (443 if split.scheme == "https" else 80)
            resolve_checked(split.hostname or "", port, allow_private=local_api)
        except (LinkRefused, AddressRefused):
            self._unexpected("the upload host is not a public address")
        except HostNotFound:
            pass  # the upload itself will fail and say so; nothing was sent anywhere

    def _upload(self, policy: UploadPolicy, role: str, data: bytes) -> str:
        """Form-POSTs one file under a fresh name (the store forbids overwrites) and returns its oss:// URL."""
        if policy.max_bytes is not None and len(data) > policy.max_bytes:
            raise InputRejectedError(
                self.key,
                "too_many_bytes",
                self._says(
                    "too_many_bytes",
                    role=role,
                    mb=f"{len(data) / 1_048_576:.1f}",
                    max_mb=f"{policy.max_bytes / 1_048_576:.0f}",
                ),
            )
        mime, extension = _image_type(data)
        key = f"{policy.upload_dir}/{role}-{uuid.uuid4().hex}.{extension}"
        fields = [*policy.form[:3], ("key", key), *policy.form[3:], ("x-oss-content-type", mime)]
        body, content_type = _multipart(fields, ("file", key.rsplit("/", 1)[-1], mime, data))
        # No Authorization header: the OSS host is not DashScope and must never see the API key.
        answer = http.send(
            self._session(),
            self.key,
            "POST",
            policy.upload_host,
            idempotent=True,  # an upload creates no task and bills nothing
            data=body,
            headers={"Content-Type": content_type},
            now=self.context.clock(),
        )
        if answer.status not in (200, 201, 204):
            raise self._oss_error(answer)
        return f"oss://{key}"

    def _oss_error(self, answer: http.HttpAnswer) -> ProviderError:
        text = answer.body.decode("utf-8", "replace")
        code = _xml_field(text, "Code") or f"http_{answer.status}"
        message = _xml_field(text, "Message")
        request_id = _xml_field(text, "RequestId") or answer.headers.get("x-oss-request-id") or None
        lookup = "PolicyExpired" if code == "AccessDenied" and "expired" in message.lower() else code
        cls, template = OSS_CODES.get(lookup, (UnexpectedResponseError, ERROR_TEXTS["_oss_refused"]))
        detail = self._scrub(message) or f"HTTP {answer.status}"
        return cls(self.key, code, template.format(detail=detail), request_id=request_id)

    # ------------------------------------------------------------ inputs
    def _load_product(self, request: GenerationRequest) -> LoadedImage:
        try:
            return load_image(request.image, min_side=MIN_SIDE, max_side=MAX_SIDE)
        except ImageInputError as exc:
            raise InputRejectedError(
                self.key,
                f"image_{exc.code}",
                self._says("_bad_image", detail=exc, min_side=MIN_SIDE, max_side=MAX_SIDE),
            ) from None

    def _base_png(self, product: LoadedImage, request: GenerationRequest) -> bytes:
        """The base image: an RGBA PNG whose alpha is the product (the user's mask, else the photo's own
        transparency): a mask the user edited is what they expect to be used. It is made, and
        re-checked against the limits, by the same function studio checked the job with."""
        if request.mask is None and not product.has_alpha:
            raise InputRejectedError(
                self.key,
                "no_transparency",
                self._says("no_transparency"),
            )
        if request.mask is not None:
            try:
                load_mask(request.mask, (product.width, product.height))
            except ImageInputError as exc:
                raise InputRejectedError(self.key, f"mask_{exc.code}", str(exc)) from None
        limits = self.limits[Operation.PROMPT_BACKGROUND]
        payload = payload_or_refuse(limits, request.image, request.mask, provider=self.key, vendor=self.label)
        return payload.image.data

    def _api_key(self) -> str:
        api_key = self.context.credentials.get("api_key", "").strip()
        if not api_key:
            raise ConfigurationError(
                self.key,
                "not_configured",
                self._says("not_configured"),
            )
        return api_key

    def _base(self) -> str:
        """The API base, e.g. https://dashscope.aliyuncs.com/api/v1 (a bare host gets /api/v1)."""
        base = (self.endpoint or DEFAULT_BASE_URL).strip().rstrip("/")
        parts = urllib.parse.urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                self.key,
                "bad_endpoint",
                self._says("bad_endpoint", example=DEFAULT_BASE_URL, base=base),
            )
        return base if parts.path else base + "/api/v1"

    def _api_root(self) -> str:
        """The host part of the base URL, where `/api/v1/uploads` lives."""
        base = self._base()
        if base.endswith("/api/v1"):
            return base[: -len("/api/v1")]
        parts = urllib.parse.urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}"

    def _api(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        polling: bool = False,
    ) -> dict[str, Any]:
        """One authenticated DashScope call; returns the JSON document or raises the mapped error."""
        all_headers = {"Authorization": f"Bearer {self._api_key()}", **dict(headers or {})}
        if json_body is not None:
            all_headers["Content-Type"] = "application/json"
        workspace = self.context.options.get("workspace", "").strip()
        if workspace:
            all_headers["X-DashScope-WorkSpace"] = workspace
        answer = http.send(
            self._session(),
            self.key,
            method,
            url,
            idempotent=idempotent,
            params=params,
            json_body=json_body,
            headers=all_headers,
            now=self.context.clock(),
            vendor_bodies=True,
        )
        if http.is_error_status(answer.status):
            raise self._status_error(answer, idempotent)
        if polling and answer.status == 404:
            raise TaskNotFoundError(self.key, "http_404", TASK_UNKNOWN)
        document = answer.json(self.key)
        if not isinstance(document, dict):
            self._unexpected("the answer is not a JSON object")
        code = _text(document.get("code"))
        if answer.status != 200 or code:
            raise self._error(
                code or f"http_{answer.status}",
                _text(document.get("message")),
                _text(document.get("request_id")) or None,
                answer.status,
            )
        return document

    def _status_error(self, answer: http.HttpAnswer, idempotent: bool) -> ProviderError:
        """429/5xx: DashScope's own code from the body (`Throttling.RateQuota`, `InternalError`, or an
        `Arrearage` that must not be retried), else the code it uses for that status."""
        document = _json_object(answer.body)
        code = _text(document.get("code"))
        request_id = _text(document.get("request_id")) or None
        if answer.status == 504 and not idempotent:
            # The gateway gave up waiting, not the service: the task may exist. Never submit twice.
            error: ProviderError = ProviderUnavailableError(
                self.key, code or "http_504", SUBMIT_TIMED_OUT, request_id=request_id, retryable=False
            )
        elif code:
            error = self._error(code, _text(document.get("message")), request_id, answer.status)
        else:
            cls, text = CODES[STATUS_CODES.get(answer.status, "InternalError")]
            error = cls(self.key, f"http_{answer.status}", text.format(detail=f"HTTP {answer.status}"))
        return http.with_status_facts(error, answer, self.context.clock())

    def _error(self, code: str, message: str, request_id: str | None, status: int) -> ProviderError:
        detail = self._scrub(message) or "no reason given"
        known = CODES.get(_table_key(code, message)) or _family(code, status)
        if known is None:
            return UnexpectedResponseError(
                self.key, code, UNDOCUMENTED.format(code=code, detail=detail), request_id=request_id
            )
        cls, text = known
        return cls(self.key, code, text.format(detail=detail), request_id=request_id)

    # ------------------------------------------------------------ task answers
    def _task_update(self, document: Mapping[str, Any], task_id: str) -> TaskUpdate:
        output = document.get("output")
        if not isinstance(output, dict):
            self._unexpected("the task answer has no output")
        status = _text(output.get("task_status")).upper()
        notes = {"dashscope_task_id": task_id}
        if status == "UNKNOWN":
            raise TaskNotFoundError(
                self.key, "UNKNOWN", TASK_EXPIRED, request_id=_text(document.get("request_id")) or None
            )
        billed = _image_count(document.get("usage"))
        if status in ("FAILED", "CANCELED"):
            code = _text(output.get("code")) or status
            message = _text(output.get("message"))
            failure = TaskFailure(code, self._failure_message(code, message, canceled=status == "CANCELED"))
            return TaskUpdate(state=TaskState.FAILED, failure=failure, billed_images=billed, notes=notes)
        if status == "SUCCEEDED":
            urls, failures = _results(output.get("results"))
            if not urls:
                code, message = failures[0] if failures else ("no_results", "no images came back")
                return TaskUpdate(
                    state=TaskState.FAILED,
                    failure=TaskFailure(code, self._failure_message(code, message, canceled=False)),
                    billed_images=billed,
                    notes=notes,
                )
            if failures:
                notes = {**notes, "dashscope_failed_images": str(len(failures))}
            return TaskUpdate(
                state=TaskState.SUCCEEDED,
                outputs=tuple(OutputImage(url=url, mime="image/png") for url in urls),
                billed_images=billed,
                notes=notes,
            )
        # PENDING is the queue; RUNNING, SUSPENDED and any state added later are treated as in progress.
        state = TaskState.QUEUED if status == "PENDING" else TaskState.RUNNING
        return TaskUpdate(state=state, notes=notes)

    def _failure_message(self, code: str, message: str, *, canceled: bool) -> str:
        if canceled and code == "CANCELED":
            return TASK_CANCELED
        detail = self._scrub(message) or code
        known = CODES.get(_table_key(code, message)) or _family(code, 0)
        if known is None:
            return TASK_FAILED.format(detail=detail)
        cls, template = known
        if cls.retryable_default:
            # A finished task is not retried by the worker, so do not promise that here.
            return TASK_TRANSIENT.format(detail=detail)
        return template.format(detail=detail)


# -------------------------------------------------------------------- helpers
def _reference_edge(request: GenerationRequest, hosted: Mapping[str, str]) -> dict[str, list[str]]:
    """`input.reference_edge`: each layer's image URLs with a prompt per image ("" where none)."""
    edge: dict[str, list[str]] = {}
    for layer in ("foreground", "background"):
        chosen = [
            (hosted[f"guide{number}"], guide.prompt.strip())
            for number, guide in enumerate(request.guides, 1)
            if guide.layer == layer
        ]
        if chosen:
            edge[f"{layer}_edge"] = [url for url, _ in chosen]
            edge[f"{layer}_edge_prompt"] = [prompt for _, prompt in chosen]
    return edge


def _hosted_url(url: str | None) -> str | None:
    """Studio's URL for the job's photo, used as the base image when that photo already has alpha.

    Studio hosts the photo itself; without alpha the vendor would fail the task, so the adapter
    builds the RGBA PNG from photo + mask and uploads that instead.
    """
    text = (url or "").strip()
    return text if text.startswith(("http://", "https://", "oss://")) else None


def _table_key(code: str, message: str) -> str:
    """The `CODES` key for this code and message: a variant where the message says which."""
    lowered = message.lower()
    for words, key in VARIANTS.get(code, ()):
        if words in lowered:
            return key
    return code


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; {} for an HTML error page, junk or anything else."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


def _family(code: str, status: int) -> tuple[type[ProviderError], str] | None:
    """Classify a code DashScope did not document for this model by its family, else by HTTP status."""
    head = code.split(".", 1)[0]
    if head in CODES:
        return CODES[head]
    lowered = code.lower()
    if "throttl" in lowered or "ratelimit" in lowered:
        return CODES["Throttling"]
    if "datainspection" in lowered:
        return CODES["DataInspectionFailed"]
    if lowered.startswith("invalid") or lowered.startswith("badrequest"):
        return CODES["InvalidParameter"]
    if status == 429:
        return CODES["Throttling"]
    if status >= 500:
        return CODES["InternalError"]
    if status in (401, 403):
        return CODES["AccessDenied"]
    if status == 404:
        return NOT_FOUND
    if status == 400:
        return CODES["InvalidParameter"]
    return None


def _results(results: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """(image URLs, (code, message) of images that failed) from `output.results`."""
    urls: list[str] = []
    failures: list[tuple[str, str]] = []
    for item in results if isinstance(results, list) else []:
        if isinstance(item, str) and item.strip():
            urls.append(item.strip())
        elif isinstance(item, dict):
            url = _text(item.get("url"))
            if url:
                urls.append(url)
            elif item.get("code") or item.get("message"):
                failures.append((_text(item.get("code")) or "image_failed", _text(item.get("message"))))
    return urls, failures


def _image_count(usage: Any) -> int | None:
    if not isinstance(usage, dict):
        return None
    value = usage.get("image_count")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        count = int(float(value))
    except ValueError:
        return None
    return count if count >= 0 else None


def _image_type(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\x89PNG"):
        return "image/png", "png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg", "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    if data.startswith(b"BM"):
        return "image/bmp", "bmp"
    return "application/octet-stream", "bin"


def _multipart(fields: Sequence[tuple[str, str]], file: tuple[str, str, str, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body with the file as the last part, as OSS PostObject requires."""
    boundary = f"----backdrop{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    name, filename, mime, data = file
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {mime}\r\n\r\n".encode()
    )
    chunks.append(data)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _xml_field(text: str, name: str) -> str:
    match = re.search(_XML_FIELD.format(name), text, re.DOTALL)
    return match.group(1).strip() if match else ""
