"""What a batch plan is made of: its value types, the manifest vocabulary and small shared helpers.

`BatchPlan`, `BatchItem`, `RowProblem`, `BatchDefaults`, `ManifestError` and
`DownloadError` are the public values of `studio.manifest` (re-exported there);
the other manifest modules (`manifest_tables`, `manifest_planner`,
`manifest_files`) build on this one.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from providers import REGISTRY
from providers.base import Money, Operation
from studio.errors import StudioError
from studio.safe_files import read_regular_file
from studio.service import CheckedJob, JobRequest, StudioInputError
from studio.signed_links import without_signature

MANIFEST_COLUMNS = (
    "sku",
    "image",
    "mask",
    "workflow",
    "provider",
    "scene",
    "prompt",
    "negative_prompt",
    "size",
    "count",
    # The user's own backdrop (My backdrops) by id or name, for local-engine rows.
    "backdrop",
)
PARAM_PREFIX = "param."
# Options whose value is an image file (kind "image", e.g. Tencent's LogoImage): a manifest cell names
# the file or link, loaded like `image` and passed on as the base64 the option takes.
FILE_PARAMS = frozenset(
    spec.name
    for adapter in REGISTRY.values()
    for specs in adapter.options.values()
    for spec in specs
    if spec.kind == "image"
)
MANIFEST_SUFFIXES = (".csv", ".xlsx", ".xlsm")
MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024
# A local file larger than a download would be is not a product photo worth decoding.
MAX_FILE_BYTES = MAX_DOWNLOAD_BYTES
# What a plan reads of each photo to check it: its header (format, size), never the pixels. A header
# longer than this (a JPEG with a large EXIF block) is read whole.
HEAD_BYTES = 256 * 1024
# Problems a plan keeps to show (the first ones by row); `BatchPlan.problem_total` counts them all.
MAX_PROBLEMS_KEPT = 10_000

SIZE = re.compile(r"^\s*(\d{1,6})\s*[xX×*＊]\s*(\d{1,6})\s*$")
URL = re.compile(r"^https?://", re.IGNORECASE)
OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
DRIVE = re.compile(r"^[A-Za-z]:")
WORKFLOWS: dict[str, Operation] = {
    **{op.value: op for op in Operation},
    "scene_background": Operation.SCENE_BACKGROUND,
    "prompt_background": Operation.PROMPT_BACKGROUND,
    "model_swap": Operation.MODEL_SWAP,
}
# Files an OS drops into folders it zips; never product photos.
JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini"})
MASK_SUFFIX = "_mask"
MASK_FOLDER = "masks"


class ManifestError(StudioError, ValueError):
    """The manifest (or ZIP) cannot be read at all; the message says what to do."""

    default_code = "manifest_unreadable"


class DownloadError(StudioError):
    """An image link could not be fetched; `str()` is the reason, e.g. "the server answered 404"."""

    default_code = "download_error"


Download = Callable[[str], bytes]


@dataclass(frozen=True)
class Source:
    """A photo, mask or option file of a row: the bytes it came with, or the file to read them from
    (a file next to the manifest, an unpacked ZIP entry, a downloaded link spooled to disk)."""

    name: str
    data: bytes = b""
    path: Path | None = None

    def read(self) -> bytes:
        return self.data if self.path is None else read_regular_file(self.path, MAX_FILE_BYTES)

    def head(self) -> bytes:
        """The first HEAD_BYTES (the whole file when it is that short)."""
        if self.path is None:
            return self.data[:HEAD_BYTES]
        with open(self.path, "rb") as handle:
            return handle.read(HEAD_BYTES)


@dataclass(frozen=True)
class ItemSource:
    """Where a planned item's files are: the worker prepares them (decode, fit, cutout, re-encode)
    just before the job's turn, so a plan holds references, never pixels."""

    image: Source
    mask: Source | None = None
    fit: bool = False


@dataclass(frozen=True)
class BatchItem:
    """One row ready to submit: `request` passed `Studio.check_job`, whose result is `checked`.

    With `source`, `request.image` is the photo as its header describes it (`Inputs.describe_image`)
    and the files are prepared by the worker; without, `request` holds the prepared files."""

    row: int
    sku: str
    request: JobRequest
    checked: CheckedJob
    source: ItemSource | None = None


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with one row (row 0: the header or the file as a whole)."""

    row: int
    sku: str
    column: str
    code: str
    message: str
    # Fills the UI's `error.<code>` template (StudioInputError params, or this module's own).
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchPlan:
    items: tuple[BatchItem, ...]
    problems: tuple[RowProblem, ...]
    # currency -> sum of the items' estimates; free and unpriced items add nothing.
    estimate: dict[str, Money]
    # provider -> currency -> sum; a provider whose items are all free or unpriced is absent.
    estimate_by_provider: dict[str, dict[str, Money]]
    # provider -> images with no known price (free images are not counted).
    unpriced: dict[str, int]
    # provider -> images the items ask for (priced, free or unpriced).
    images_by_provider: dict[str, int] = field(default_factory=dict)
    # Every problem found; `problems` keeps the first MAX_PROBLEMS_KEPT (None: all are kept).
    problem_total: int | None = None
    # Keeps the folder of unpacked or downloaded files the items name alive as long as the plan.
    spool: Any = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.items)

    @property
    def problem_count(self) -> int:
        return len(self.problems) if self.problem_total is None else self.problem_total


@dataclass(frozen=True)
class BatchDefaults:
    """What the page or CLI sets for rows that leave a column empty.

    `params` are the default provider's options for the default workflow: a
    row that picks another provider or workflow does not get them (their names
    belong to one vendor). `fit` downscales photos larger than the provider
    takes, as the CLI's --fit does (the mask follows).
    """

    workflow: Operation | None = None
    provider: str | None = None
    scene: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    size: tuple[int, int] | None = None
    count: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    fit: bool = False


@dataclass(frozen=True)
class Issue:
    column: str
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, column: str, exc: StudioInputError) -> Issue:
        return cls(column, exc.code, str(exc), dict(exc.params))


# ---------------------------------------------------------------------------- helpers
def reference_name(reference: str) -> str:
    """The file name in a path or link ("https://x/a/shoe.jpg?sig=1" -> "shoe.jpg")."""
    if URL.match(reference):
        return PurePosixPath(urllib.parse.unquote(urllib.parse.urlsplit(reference).path)).name or "image"
    return PurePosixPath(reference.replace("\\", "/")).name


def inside_folder(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def link_shown(url: str) -> str:
    """A link as row problems quote it: without its query string, where signed links carry
    credentials, nor a user:password (`studio.signed_links`)."""
    return without_signature(url) or ""
