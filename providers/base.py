"""The adapter interface every provider implements, and the small value types it speaks.

An adapter translates one canonical `GenerationRequest` into one vendor call and
the answer back into a `TaskUpdate`. It declares what it can do as data
(`operations`, `limits`, `options`, `prices`, `max_in_flight`, `submit_qps`), so
pages are built from it and inputs are checked before money is spent.

Adapters never read the environment, sleep, loop, touch files or the database:
`studio` hands them everything in a `ProviderContext` and decides when to poll.
"""

from __future__ import annotations

import abc
import base64
import binascii
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Literal

from providers.errors import ProviderError


class Operation(StrEnum):
    """What a job asks for; the values are the CLI's `--workflow` words."""

    SCENE_BACKGROUND = "scene"
    PROMPT_BACKGROUND = "prompt"
    MODEL_SWAP = "model"


# Minor units per currency: amounts travel as integers so sums never drift.
_MINOR_DIGITS: dict[str, int] = {"CNY": 2, "USD": 2, "EUR": 2, "JPY": 0}


@dataclass(frozen=True)
class Money:
    """An integer amount in the currency's minor units (fen, cents) plus the currency."""

    amount_minor: int
    currency: str

    @property
    def digits(self) -> int:
        return _MINOR_DIGITS.get(self.currency, 2)

    def as_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-self.digits)

    def as_str(self) -> str:
        """`Money(16, "CNY").as_str() == "0.16"`: the form the CLI and CSV print."""
        return f"{self.as_decimal():.{self.digits}f}"

    def times(self, count: int) -> Money:
        return Money(self.amount_minor * count, self.currency)

    @classmethod
    def parse(cls, amount: str, currency: str) -> Money:
        """Parse "0.08" CNY into Money(8, "CNY"); raises ValueError on junk."""
        digits = _MINOR_DIGITS.get(currency.upper(), 2)
        value = Decimal(amount.strip()).scaleb(digits)
        if value != value.to_integral_value():
            raise ValueError(f"{amount} has more than {digits} decimals for {currency}")
        return cls(int(value), currency.upper())


@dataclass(frozen=True)
class Price:
    """Price per output image for one operation; `per_image is None` means not known."""

    per_image: Money | None
    source: str
    as_of: str
    free: bool = False


@dataclass(frozen=True)
class Limits:
    """What inputs a provider accepts for one operation, checked before any call."""

    formats: frozenset[str] = frozenset({"JPEG", "PNG", "WEBP", "BMP"})
    # Both inclusive: a document's "more than 512 and less than 3000" is 513..2999.
    min_side: int = 1
    max_side: int = 10_000
    # The largest file the vendor takes, for the photo and the mask each, counted as sent.
    max_bytes: int | None = None
    # The byte limit counts the file's base64 text (Tencent: "under 6 MB once converted to base64").
    bytes_as_base64: bool = False
    # Width:height from the narrowest to the widest, inclusive, e.g. ((2, 5), (5, 2)); None: any.
    aspect_range: tuple[tuple[int, int], tuple[int, int]] | None = None
    # The vendor reads the photo's transparency, so it is never flattened into a JPEG to fit.
    keeps_alpha: bool = False
    # The photo and mask travel as one RGBA PNG whose alpha is the mask (DashScope's base image).
    image_carries_mask: bool = False
    # Mask the vendor wants: single-channel, three-channel, or the product in alpha.
    mask_mode: Literal["L", "RGB", "RGBA"] | None = None
    needs_urls: bool = False
    # The vendor also reads the inputs from links (Aidge's imageFileUrl / imageUrl): studio publishes
    # them when input hosting is set up, else the adapter sends the bytes inline. Never mandatory.
    accepts_urls: bool = False
    # The vendor needs the product cut out (transparent background or a mask): studio makes the
    # automatic cutout when the photo is opaque and the user gave no mask.
    needs_cutout: bool = False
    # The vendor honours `GenerationRequest.reference_image` (a picture of the wanted background).
    takes_reference: bool = False
    # The vendor renders a size the request asks for; False: the result has the input's size.
    takes_size: bool = True
    # A prompt is required (a reference image counts instead where the vendor takes one).
    needs_prompt: bool = False
    # Output sizes the vendor can render; None means any size within the sides.
    output_sizes: tuple[tuple[int, int], ...] | None = None
    min_count: int = 1
    max_count: int = 4
    default_count: int = 1
    # Output size used when the request gives none; None keeps the input's size.
    default_size: tuple[int, int] | None = None
    # Edge guides (outlines of extra elements to draw in front of or behind the product) it takes.
    max_guides: int = 0
    # How much prompt text the vendor reads (English words, Chinese characters); it silently ignores
    # the rest, so studio warns (not refuses) beyond it. None: no documented budget.
    prompt_words: int | None = None
    prompt_cjk_chars: int | None = None


# "image": an image file as base64 text (the CLI's --logo, the page's uploader fill it).
OptionKind = Literal["int", "float", "choice", "bool", "text", "color", "image"]


@dataclass(frozen=True)
class OptionSpec:
    """One request field a provider honours, with its range and default.

    `name` is the key in `GenerationRequest.params` and `--param KEY=VALUE`.
    `label_key` is the i18n string-table key the UI shows.
    """

    name: str
    kind: OptionKind
    default: Any
    label_key: str
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    # A bool that switches the vendor's visible "AI generated" mark: off, the user labels the images.
    ai_mark: bool = False

    def coerce(self, raw: Any) -> Any:
        """Turn a CLI/manifest string (or a widget value) into a checked value.

        Raises ValueError with a message that names the field and its range.
        """
        try:
            if self.kind == "int":
                value: Any = int(str(raw).strip())
            elif self.kind == "float":
                value = float(str(raw).strip())
            elif self.kind == "bool":
                text = str(raw).strip().lower()
                if text not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
                    raise ValueError
                value = text in {"true", "1", "yes", "on"}
            else:
                value = str(raw)
        except ValueError:
            raise ValueError(f"{self.name}: '{raw}' is not a valid {self.kind}") from None
        if self.kind in ("int", "float"):
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{self.name}: {value} is below the minimum {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{self.name}: {value} is above the maximum {self.maximum:g}")
        if self.kind == "choice" and value not in self.choices:
            raise ValueError(f"{self.name}: '{value}' is not one of {', '.join(self.choices)}")
        if self.kind == "color" and not _is_hex_colour(value):
            raise ValueError(f"{self.name}: '{value}' is not a colour like #RRGGBB")
        if self.kind == "image" and value:
            value = _base64_image_text(self.name, value)
        return value


def _base64_image_text(name: str, text: str) -> str:
    """Base64 text (a `data:` URI prefix is dropped) that decodes to some bytes; ValueError otherwise."""
    body = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
    body = "".join(body.split())
    try:
        decoded = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name}: not an image file in base64 (use --logo PATH in the CLI)") from None
    if not decoded:
        raise ValueError(f"{name}: the image file is empty")
    return body


def _is_hex_colour(text: str) -> bool:
    digits = text.lstrip("#")
    return text.startswith("#") and len(digits) == 6 and all(c in "0123456789abcdefABCDEF" for c in digits)


GuideLayer = Literal["foreground", "background"]


@dataclass(frozen=True)
class EdgeGuide:
    """An element's outline the vendor draws a new element along: an RGBA PNG whose colour holds
    soft edges and whose alpha is the element, at the product photo's size, in front of
    ("foreground") or behind ("background") the product, with an optional prompt for it."""

    layer: GuideLayer
    image: bytes
    prompt: str = ""


@dataclass(frozen=True)
class BackdropPlate:
    """A user's own photo of an empty set (a marble slab, a brand's shelf) the product is placed into.

    `surface` marks where the product may stand, as fractions of the photo (x0, y0, x1, y1):
    a box on the table top, or a line when y0 == y1 (the product's base goes on it). `name` and
    `backdrop_id` say which library entry it came from, for the job's record.
    """

    image: bytes
    surface: tuple[float, float, float, float]
    backdrop_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class GenerationRequest:
    """The canonical request, the same for every provider.

    Images travel as encoded bytes (PNG for the product so alpha survives).
    `mask` is a single-channel PNG at the image's exact size, white = product.
    `params` holds provider options already checked against `options`.
    """

    operation: Operation
    image: bytes
    mask: bytes | None = None
    prompt: str = ""
    negative_prompt: str = ""
    scene_id: str | None = None
    count: int = 1
    size: tuple[int, int] | None = None
    seed: int | None = None
    reference_image: bytes | None = None
    product_title: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    guides: tuple[EdgeGuide, ...] = ()
    # The user's own backdrop photo, when the job uses one (the local engine places the product on it).
    plate: BackdropPlate | None = None
    # URLs of the inputs when the vendor takes URLs (filled by studio.hosting).
    image_url: str | None = None
    mask_url: str | None = None


class TaskState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class OutputImage:
    """One result: bytes when the adapter has them, else a URL the worker downloads at once."""

    data: bytes | None = None
    url: str | None = None
    mime: str = "image/png"
    seed: int | None = None
    label: str = ""


@dataclass(frozen=True)
class TaskFailure:
    """Why a remote task ended failed; `message` is written for a marketing user."""

    code: str
    message: str


@dataclass(frozen=True)
class TaskUpdate:
    """A normalised snapshot of a task, returned by `submit` (sync) and `poll`."""

    state: TaskState
    outputs: tuple[OutputImage, ...] = ()
    failure: TaskFailure | None = None
    progress: float | None = None
    # Images the vendor says it billed; None when it does not say.
    billed_images: int | None = None
    # Extra files worth keeping with the job (e.g. the mask actually used), name -> PNG bytes.
    artifacts: Mapping[str, bytes] = field(default_factory=dict)
    # Small facts for the job's detail view (e.g. which prompt words were used).
    notes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Submitted:
    """What one submit call produced: a remote task id, and for sync vendors the final update."""

    remote_id: str | None
    update: TaskUpdate | None = None


@dataclass(frozen=True)
class SceneInfo:
    """A scene a user can pick: a vendor scene id or a local recipe."""

    scene_id: str
    name: str
    category: str = ""
    thumbnail: bytes | None = None
    thumbnail_url: str | None = None
    description: str = ""


@dataclass(frozen=True)
class ProviderContext:
    """Everything `studio` hands an adapter: credentials, endpoint, HTTP session, resources.

    `resources` carries heavy shared objects the adapter must not load itself
    (the local engine's segmentation model and CJK font). `options` holds the
    provider's non-secret settings (`optional_settings`), already resolved.
    `clock` gives Unix seconds: adapters that sign with a timestamp use it, so
    tests can pin time without the adapter reading the system clock itself.
    """

    credentials: Mapping[str, str] = field(default_factory=dict)
    endpoint: str | None = None
    session: Any = None
    resources: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of one cheap authenticated call made to test a provider's settings."""

    ok: bool
    message: str
    request_id: str | None = None


class ProviderAdapter(abc.ABC):
    """One vendor API (or the local engine) behind the canonical interface."""

    key: ClassVar[str]
    label: ClassVar[str]
    operations: ClassVar[frozenset[Operation]]
    limits: ClassVar[Mapping[Operation, Limits]]
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]]
    prices: ClassVar[Mapping[Operation, Price]]
    max_in_flight: ClassVar[int] = 1
    submit_qps: ClassVar[float] = 1.0
    # Seconds between status calls; an instance may override it from its settings.
    poll_interval_hint: float = 2.0
    # Seconds a result link lives after the vendor answered, from its documents; None = not documented
    # (studio then tries for a conservative default). Downloads are retried only this long.
    result_ttl_s: ClassVar[float | None] = None
    # Jobs one submit call may carry (`submit_batch`); 1 = the vendor takes one job per call.
    max_batch_submit: ClassVar[int] = 1
    # Optional capabilities are declared, not guessed.
    can_list_scenes: ClassVar[bool] = False
    can_check_connection: ClassVar[bool] = False
    # Filters `list_scenes` understands: query field -> {value: label}, e.g. Aidge's categoryType.
    scene_filters: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    # Non-secret settings the adapter reads from `context.options`, name -> default
    # (e.g. Aidge's `api_base`); studio.settings reads them like credentials.
    optional_settings: ClassVar[Mapping[str, str]] = {}
    # The optional setting that overrides `default_endpoint`, if any.
    endpoint_setting: ClassVar[str | None] = None
    # Environment variable names that differ from the default `<KEY>_<NAME>` (e.g. Tencent's
    # TENCENTCLOUD_SECRET_ID, shared with Tencent's own tools). setting name -> variable name.
    env_names: ClassVar[Mapping[str, str]] = {}
    default_endpoint: ClassVar[str | None] = None
    # Vendor field names accepted as `--param` that are really canonical request
    # fields: e.g. Aidge's `imageNum` is the job's `count`. name -> "count" | "product_title".
    param_aliases: ClassVar[Mapping[Operation, Mapping[str, str]]] = {}
    # Every user message the adapter raises or records for a vendor error, as `str.format` templates
    # keyed by the vendor's code (`code#variant` where the message tells one code's meanings apart,
    # `_name` for texts not tied to one code). Jobs store the filled English text; studio matches it
    # back to its key to show the translation (studio/vendor_texts.py, studio/locales/).
    error_texts: ClassVar[Mapping[str, str]] = {}
    # The currency the vendor bills in: a user's own price is best given in it.
    billing_currency: ClassVar[str] = "CNY"

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        interval = context.options.get("poll_interval_s")
        if interval and "poll_interval_s" in self.optional_settings:
            # A junk value keeps the default; the settings page shows what is configured.
            with contextlib.suppress(ValueError):
                self.poll_interval_hint = max(0.05, float(interval))

    def _says(self, entry: str, **fields: object) -> str:
        """The user message `entry` of `error_texts` with its fields filled in: every message an
        adapter raises or records comes from its table, so studio can show it in any language."""
        return self.error_texts[entry].format(**fields)

    @classmethod
    def required_credentials(cls) -> tuple[str, ...]:
        """Names of the settings this adapter needs; empty for the local engine."""
        return ()

    @abc.abstractmethod
    def submit(self, request: GenerationRequest) -> Submitted:
        """Make exactly one vendor call. Synchronous vendors return the final update."""

    def submit_batch(self, requests: Sequence[GenerationRequest]) -> tuple[Submitted | ProviderError, ...]:
        """Send several jobs of one operation in ONE vendor call, where the vendor documents batch
        submission (`max_batch_submit` > 1). One answer per request, in order: its `Submitted` (its
        own remote id, so each job is polled, billed and resumed on its own), or the error that kept
        it out of the call (a local check failed; nothing was sent for it). An error of the call
        itself is raised and concerns every request that was in it."""
        raise NotImplementedError(f"{self.key} takes one job per call")

    def poll(self, remote_id: str) -> TaskUpdate:
        """Make exactly one status call and return a normalised update."""
        raise NotImplementedError(f"{self.key} is synchronous and has nothing to poll")

    def list_scenes(self, query: Mapping[str, Any]) -> tuple[SceneInfo, ...]:
        raise NotImplementedError(f"{self.key} has no scene catalogue")

    def check_connection(self) -> ConnectionCheck:
        """Make one cheap authenticated call; raise ProviderError when it fails."""
        raise NotImplementedError(f"{self.key} has no connection to test")

    @property
    def endpoint(self) -> str | None:
        """The base URL in use: the configured one, else the vendor's default."""
        return self.context.endpoint or self.default_endpoint

    @classmethod
    def check_rules(
        cls, operation: Operation, params: dict[str, Any], given: frozenset[str]
    ) -> dict[str, Any]:
        """Cross-field rules after each field was checked on its own; `given` names the fields the
        user set. Raise ValueError with a message that says how to fix it."""
        return params

    @classmethod
    def check_output(
        cls, operation: Operation, params: Mapping[str, Any], size: tuple[int, int] | None
    ) -> None:
        """Rules tying checked options to the output size studio settled (e.g. a logo box that must lie
        inside the picture), before any call. Raise ValueError saying how to fix it."""
        return None

    @classmethod
    def option_specs(cls, operation: Operation) -> tuple[OptionSpec, ...]:
        return tuple(cls.options.get(operation, ()))

    @classmethod
    def check_params(cls, operation: Operation, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Coerce raw params against `options`; defaults fill the gaps.

        Raises ValueError naming every unknown or out-of-range field.
        """
        specs = {spec.name: spec for spec in cls.option_specs(operation)}
        unknown = sorted(set(raw) - set(specs))
        if unknown:
            known = ", ".join(sorted(specs)) or "none"
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; {cls.key} accepts: {known}")
        checked = {name: spec.default for name, spec in specs.items()}
        problems: list[str] = []
        for name, value in raw.items():
            try:
                checked[name] = specs[name].coerce(value)
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        return cls.check_rules(operation, checked, frozenset(raw))
