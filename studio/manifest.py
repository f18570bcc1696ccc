"""Batch plans: many product photos turned into checked job requests before anything is spent.

A batch starts from a CSV/XLSX manifest (one row per item), a ZIP of images
(optionally with one manifest inside), or a handful of uploaded images. Every
row is read, its files are loaded or downloaded, and it runs through
`Studio.check_job`, the same checks `submit_job` makes, without writing
anything. The result is a `BatchPlan`: the rows ready to submit, a table of
`RowProblem`s (every problem of every row, not just the first), and the cost
estimate per currency and per provider. Nothing here creates a job.

Manifest header (names case-insensitive, trimmed; spaces and hyphens read as
underscores): `sku,image,mask,workflow,provider,scene,prompt,negative_prompt,
size,count`, plus `param.<vendor field>` columns passed to the provider as that
option (a `param.<field>` of an image-file option, such as Tencent's
`param.LogoImage`, names a file or link like `image`). `image` and `mask` are
paths relative to the manifest's folder (absolute
paths and `..` are allowed unless the caller confines them with `confine_to`)
or http(s) links fetched through the injected `download`.

Problems are data, not exceptions: a `RowProblem` has the 1-based data row
(row 1 is the line under the header; row 0 is the header or the file as a
whole; for uploads and ZIPs the file's position), the SKU, the column to fix,
a stable `code` and a sentence for a marketing user. Codes are either
`StudioInputError` codes (translated by the UI as `error.<code>` with `params`)
or this module's own:

    missing_column, unknown_column, duplicate_column, unnamed_column, missing_image,
    missing_workflow, bad_workflow, missing_provider, bad_size, bad_count,
    file_not_found, not_a_file, file_unreadable, file_too_large, outside_folder,
    bad_url, download_failed, duplicate_sku, unsafe_path, unmatched_mask

Only a manifest that cannot be read at all raises `ManifestError`.
"""

from __future__ import annotations

import base64
import csv
import io
import ipaddress
import re
import socket
import tempfile
import urllib.parse
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import requests  # type: ignore[import-untyped, unused-ignore]

from providers import REGISTRY
from providers.base import Money, Operation
from studio import pricing
from studio.service import CheckedJob, JobRequest, PreparedImage, Studio, StudioInputError

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
# Every planned row holds its prepared photo in memory until it is submitted; past this, split the batch.
MAX_ROWS = 1000
MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024
# A local file larger than a download would be is not a product photo worth decoding.
MAX_FILE_BYTES = MAX_DOWNLOAD_BYTES
MAX_ZIP_BYTES = 500 * 1024 * 1024
DOWNLOAD_TIMEOUT_S: tuple[float, float] = (10.0, 60.0)

_SIZE = re.compile(r"^\s*(\d{1,6})\s*[xX×*＊]\s*(\d{1,6})\s*$")
_URL = re.compile(r"^https?://", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVE = re.compile(r"^[A-Za-z]:")
_WORKFLOWS: dict[str, Operation] = {
    **{op.value: op for op in Operation},
    "scene_background": Operation.SCENE_BACKGROUND,
    "prompt_background": Operation.PROMPT_BACKGROUND,
    "model_swap": Operation.MODEL_SWAP,
}
# Files an OS drops into folders it zips; never product photos.
_JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini"})
_MASK_SUFFIX = "_mask"
_MASK_FOLDER = "masks"

# Where a StudioInputError points in the row, by code (bad_param and prompt_too_long are worked out).
_CODE_COLUMNS: dict[str, str] = {
    "unknown_provider": "provider",
    "provider_not_configured": "provider",
    "needs_hosting": "provider",
    "unsupported_workflow": "workflow",
    "bad_count": "count",
    "bad_size": "size",
    "missing_scene": "scene",
    "scene_not_found": "scene",
    "mask_not_taken": "mask",
    "mask_size_mismatch": "mask",
    "mask_empty": "mask",
    "mask_full": "mask",
    "mask_corrupt": "mask",
    "empty": "image",
    "corrupt": "image",
    "unsupported_format": "image",
    "too_many_pixels": "image",
    "too_small": "image",
    "too_large": "image",
    "provider_too_small": "image",
    "provider_too_large": "image",
    "too_many_bytes": "image",
    "backdrop_not_found": "backdrop",
    "backdrop_ambiguous": "backdrop",
    "backdrop_not_taken": "backdrop",
}


class ManifestError(ValueError):
    """The manifest (or ZIP) cannot be read at all; the message says what to do."""


class DownloadError(Exception):
    """An image link could not be fetched; `str()` is the reason, e.g. "the server answered 404"."""


Download = Callable[[str], bytes]


@dataclass(frozen=True)
class BatchItem:
    """One row ready to submit: `request` passed `Studio.check_job`, whose result is `checked`."""

    row: int
    sku: str
    request: JobRequest
    checked: CheckedJob


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

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.items)


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


# ---------------------------------------------------------------------------- downloads
def download_url(url: str, *, follow_redirects: bool = True) -> bytes:
    """GET an image link (10 s to connect, 60 s per read, at most 40 MB); raises DownloadError."""
    try:
        with requests.get(
            url, timeout=DOWNLOAD_TIMEOUT_S, stream=True, allow_redirects=follow_redirects
        ) as response:
            if not follow_redirects and 300 <= response.status_code < 400:
                raise DownloadError("the link redirects elsewhere; give the final address of the image")
            if not 200 <= response.status_code < 300:
                raise DownloadError(
                    f"the server answered {response.status_code} {response.reason or ''}".strip()
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
                raise DownloadError(f"the file is larger than {MAX_DOWNLOAD_BYTES // 1_048_576} MB")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=256 * 1024):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise DownloadError(f"the file is larger than {MAX_DOWNLOAD_BYTES // 1_048_576} MB")
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.Timeout:
        raise DownloadError("the server did not answer in time") from None
    except requests.ConnectionError:
        raise DownloadError("the server could not be reached") from None
    except requests.RequestException as exc:
        raise DownloadError(f"the download failed ({type(exc).__name__})") from None


def download_public_url(url: str) -> bytes:
    """`download_url` for manifests uploaded through the web page: the link must lead to a public
    address, so a row cannot make the server fetch from its own network (127.0.0.1, 10.x, the
    cloud metadata address ...). Redirects are not followed, since each hop would need the check."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        raise DownloadError(f"the host '{host}' could not be found") from None
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global:
            raise DownloadError(
                f"'{host}' is an address inside this network ({ip}); links in an uploaded manifest must "
                "point to the public internet"
            )
    return download_url(url, follow_redirects=False)


# ---------------------------------------------------------------------------- entry points
def plan_from_manifest(
    studio: Studio,
    path: Path,
    defaults: BatchDefaults,
    *,
    download: Download = download_url,
    confine_to: Path | None = None,
) -> BatchPlan:
    """Read a CSV or XLSX manifest (by suffix) and check every row; see the module docstring.

    `confine_to` refuses image and mask paths that resolve outside that folder
    (use it for manifests uploaded through the page, so a row cannot read the
    server's files). Raises ManifestError when the file cannot be read at all.
    """
    path = Path(path)
    table = _read_table(path)
    planner = _Planner(studio, defaults)
    _plan_table(planner, table, _Files((path.parent,), confine_to, download, "next to the manifest"))
    return planner.plan()


def plan_from_zip(
    studio: Studio, data: bytes, defaults: BatchDefaults, *, download: Download = download_url
) -> BatchPlan:
    """A ZIP of images, or of images plus one manifest (.csv/.xlsx) whose paths are relative to it.

    Without a manifest each image is one item, SKU = file name stem, with a
    mask paired by `<stem>_mask.png` beside it or `masks/<stem>.png`.
    Entries that would land outside the folder (zip-slip) are not extracted
    and are reported; `__MACOSX` and dot files are skipped; more than 500 MB
    unpacked raises ManifestError, as does a file that is not a ZIP.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ManifestError(
            "The file is not a readable ZIP archive. Zip the images again (and the manifest, if any) and upload that."
        ) from None
    with archive:
        entries, problems = _zip_entries(archive)
        files: list[tuple[int, str, bytes]] = []
        for entry in entries:
            content = _read_entry(archive, entry)
            if content is None:
                problems.append(
                    RowProblem(
                        entry.position,
                        PurePosixPath(entry.name).stem,
                        "",
                        "file_unreadable",
                        f"The ZIP entry '{entry.name}' cannot be unpacked (it is damaged or protected by a "
                        "password); zip the files again without a password.",
                        {"value": entry.name},
                    )
                )
            else:
                files.append((entry.position, entry.name, content))
    tables = [file for file in files if PurePosixPath(file[1]).suffix.lower() in MANIFEST_SUFFIXES]
    planner = _Planner(studio, defaults, problems)
    if not tables:
        _plan_files(planner, files)
        return planner.plan()
    manifest = _pick_manifest([name for _, name, _ in tables])
    with tempfile.TemporaryDirectory(prefix="studio-batch-") as folder:
        root = Path(folder)
        for position, name, content in files:
            target = root.joinpath(*PurePosixPath(name).parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            except OSError:  # "a" as a file and as a folder in one archive
                planner.problem(
                    position,
                    PurePosixPath(name).stem,
                    _Issue(
                        "",
                        "file_unreadable",
                        f"The ZIP entry '{name}' clashes with another entry of the same name; "
                        "rename one of them and zip the files again.",
                        {"value": name},
                    ),
                )
        manifest_path = root.joinpath(*PurePosixPath(manifest).parts)
        table = _read_table(manifest_path)
        # Paths are relative to the ZIP root; a manifest in a zipped folder may also mean its own folder.
        bases = tuple(dict.fromkeys((root, manifest_path.parent)))
        _plan_table(planner, table, _Files(bases, root, download, "in the ZIP"))
        return planner.plan()


def plan_from_files(studio: Studio, files: Sequence[tuple[str, bytes]], defaults: BatchDefaults) -> BatchPlan:
    """Uploaded images, one item each (SKU = file name stem; `<stem>_mask.png` pairs as its mask)."""
    planner = _Planner(studio, defaults)
    _plan_files(planner, [(position, name, data) for position, (name, data) in enumerate(files, 1)])
    return planner.plan()


# ---------------------------------------------------------------------------- reading tables
def _read_table(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ManifestError(
            f"{path.name} is an old Excel 97-2003 file. Save it as .xlsx (Excel workbook) or CSV and try again."
        )
    if suffix not in MANIFEST_SUFFIXES:
        raise ManifestError(
            f"{path.name} is not a manifest: use a .csv file or an Excel .xlsx workbook "
            f"with the header {','.join(MANIFEST_COLUMNS)}."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"The manifest {path.name} cannot be read ({exc.strerror or exc}).") from None
    if not data.strip():
        raise ManifestError(f"The manifest {path.name} is empty. Add a header row and one row per image.")
    rows = _read_csv(data, path.name) if suffix == ".csv" else _read_xlsx(data, path.name)
    rows = [[cell.strip() for cell in row] for row in rows]
    if not any(any(row) for row in rows):
        raise ManifestError(
            f"The manifest {path.name} has no header row. The first row must name the columns."
        )
    return rows


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM (and tabs).
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on a Chinese Windows saves "CSV" in the system code page (GBK, a subset of GB18030).
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ManifestError(
            f"The manifest {name} is neither UTF-8 nor GB18030 text. Save it as 'CSV UTF-8' and try again."
        ) from None


def _read_csv(data: bytes, name: str) -> list[list[str]]:
    text = _decode(data, name)
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel writes ";" where the decimal mark is a comma, and tabs for "Unicode text".
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise ManifestError(
            f"The manifest {name} is not valid CSV ({exc}). Save it again from Excel."
        ) from None


def _read_xlsx(data: bytes, name: str) -> list[list[str]]:
    import openpyxl  # type: ignore[import-untyped, unused-ignore]

    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel features it does not read (data validation, styles).
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    except Exception:  # openpyxl raises a zoo of types for a damaged or foreign file
        raise ManifestError(
            f"The manifest {name} could not be read as an Excel workbook. Open it in Excel, save it as "
            ".xlsx (or CSV) and try again."
        ) from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores every number as a float: a count of 2 reads 2.0
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------- planning
@dataclass(frozen=True)
class _Issue:
    column: str
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, column: str, exc: StudioInputError) -> _Issue:
        return cls(column, exc.code, str(exc), dict(exc.params))


@dataclass(frozen=True)
class _Source:
    """A loaded image or mask: its bytes and the file name it came with."""

    name: str
    data: bytes


class _Planner:
    """Turns rows into items and problems, and sums the estimates at the end."""

    def __init__(self, studio: Studio, defaults: BatchDefaults, problems: Iterable[RowProblem] = ()) -> None:
        self.studio = studio
        self.defaults = defaults
        self.items: list[BatchItem] = []
        self.problems: list[RowProblem] = list(problems)
        self._skus: dict[str, int] = {}

    def problem(self, row: int, sku: str, issue: _Issue) -> None:
        self.problems.append(RowProblem(row, sku, issue.column, issue.code, issue.message, issue.params))

    def add(
        self,
        row: int,
        cells: Mapping[str, str],
        params: Mapping[str, str],
        image: _Source | None,
        mask: _Source | None,
        issues: list[_Issue],
        image_name: str = "",
    ) -> None:
        """Check one row; `issues` already holds what went wrong loading its files.

        An empty SKU becomes the image file's stem (`image_name` when the file could not be loaded)."""
        defaults = self.defaults
        sku = cells.get("sku", "") or PurePosixPath(image.name if image else image_name).stem
        workflow = self._workflow(cells.get("workflow", ""), issues)
        provider = cells.get("provider", "") or defaults.provider or ""
        if not provider:
            issues.append(
                _Issue(
                    "provider",
                    "missing_provider",
                    "No provider is given: write its name (for example local) in the provider column, "
                    "or choose one for the whole batch.",
                )
            )
        size = self._size(cells.get("size", ""), issues)
        count = self._count(cells.get("count", ""), issues)
        raw_params: dict[str, Any] = {}
        if provider == defaults.provider and workflow == defaults.workflow:
            raw_params.update(defaults.params)
        raw_params.update({name: value for name, value in params.items() if value != ""})
        if cells.get("backdrop", "").strip():
            raw_params["backdrop_id"] = cells["backdrop"].strip()

        prepared: PreparedImage | None = None
        if image is not None:
            try:
                prepared = self.studio.prepare_image(image.data, image.name)
            except StudioInputError as exc:
                issues.append(_Issue.of("image", exc))
        mask_png = mask.data if mask is not None else None

        request: JobRequest | None = None
        checked: CheckedJob | None = None
        if prepared is not None and workflow is not None and provider:
            if defaults.fit:
                prepared, mask_png = self._fit(prepared, mask_png, provider, workflow)
            request = JobRequest(
                workflow=workflow,
                provider=provider,
                image=prepared,
                mask_png=mask_png,
                prompt=cells.get("prompt", "") or defaults.prompt,
                negative_prompt=cells.get("negative_prompt", "") or defaults.negative_prompt,
                scene_id=cells.get("scene", "") or defaults.scene or None,
                count=count,
                size=size,
                params=raw_params,
                source="batch",
            )
            try:
                checked = self.studio.check_job(request)
            except StudioInputError as exc:
                issues.append(_Issue.of(_column_for(exc, request), exc))

        if sku:
            first = self._skus.setdefault(sku.casefold(), row)
            if first != row:
                issues.append(
                    _Issue(
                        "sku",
                        "duplicate_sku",
                        f"The SKU '{sku}' is already used by row {first}; exported files are named by SKU, "
                        "so give each row its own SKU.",
                        {"sku": sku, "first_row": first},
                    )
                )
        if issues:
            for issue in issues:
                self.problem(row, sku, issue)
        elif request is not None and checked is not None:
            # The mask as checked: single-channel at the photo's size, what submit_job stores.
            self.items.append(BatchItem(row, sku, replace(request, mask_png=checked.mask_png), checked))

    def _workflow(self, text: str, issues: list[_Issue]) -> Operation | None:
        if not text:
            if self.defaults.workflow is None:
                issues.append(
                    _Issue(
                        "workflow",
                        "missing_workflow",
                        "No workflow is given: write scene, prompt or model in the workflow column, "
                        "or choose one for the whole batch.",
                    )
                )
                return None
            return Operation(self.defaults.workflow)
        workflow = _WORKFLOWS.get(text.strip().lower().replace(" ", "_").replace("-", "_"))
        if workflow is None:
            issues.append(
                _Issue(
                    "workflow",
                    "bad_workflow",
                    f"The workflow '{text}' is not known; write scene, prompt or model.",
                    {"value": text},
                )
            )
        return workflow

    def _size(self, text: str, issues: list[_Issue]) -> tuple[int, int] | None:
        if not text:
            return self.defaults.size
        match = _SIZE.match(text)
        if match is None:
            issues.append(
                _Issue(
                    "size",
                    "bad_size",
                    f"The size '{text}' is not width x height in pixels; write it like 1000x1000.",
                    {"value": text},
                )
            )
            return None
        return int(match.group(1)), int(match.group(2))

    def _count(self, text: str, issues: list[_Issue]) -> int | None:
        if not text:
            return self.defaults.count
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not number.is_integer():
            issues.append(
                _Issue(
                    "count",
                    "bad_count",
                    f"The count '{text}' is not a whole number of images; write a number like 2.",
                    {"value": text},
                )
            )
            return None
        return int(number)

    def _fit(
        self, image: PreparedImage, mask_png: bytes | None, provider: str, workflow: Operation
    ) -> tuple[PreparedImage, bytes | None]:
        # The same fit the page and the CLI make (photo and mask together); whatever cannot be
        # fitted, an unreadable mask included, is left as it is for check_job to report with the rest.
        try:
            return self.studio.fit_inputs(image, mask_png, provider, workflow)
        except StudioInputError:
            return image, mask_png

    def plan(self) -> BatchPlan:
        estimate = pricing.totals_by_currency(item.checked.estimate for item in self.items)
        by_provider: dict[str, list[Money | None]] = {}
        unpriced: dict[str, int] = {}
        images: dict[str, int] = {}
        for item in self.items:
            checked = item.checked
            images[checked.provider] = images.get(checked.provider, 0) + checked.count
            if checked.estimate is not None:
                by_provider.setdefault(checked.provider, []).append(checked.estimate)
                continue
            adapter = type(self.studio.adapters[checked.provider])
            price = pricing.price_for(adapter, checked.workflow, self.studio.price_overrides)
            if not price.free:
                unpriced[checked.provider] = unpriced.get(checked.provider, 0) + checked.count
        return BatchPlan(
            items=tuple(self.items),
            problems=tuple(sorted(self.problems, key=lambda problem: problem.row)),
            estimate=estimate,
            estimate_by_provider={
                provider: pricing.totals_by_currency(amounts) for provider, amounts in by_provider.items()
            },
            unpriced=unpriced,
            images_by_provider=images,
        )


def _column_for(exc: StudioInputError, request: JobRequest) -> str:
    """The manifest column a check_job error points at, so the table says what to fix."""
    if exc.code == "bad_param":
        detail = str(exc.params.get("detail") or exc)
        named = [
            (match.start(), name)
            for name in request.params
            if (match := re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", detail))
        ]
        return PARAM_PREFIX + min(named)[1] if named else ""
    if exc.code == "prompt_too_long":
        return "negative_prompt" if len(request.negative_prompt) > len(request.prompt) else "prompt"
    return _CODE_COLUMNS.get(exc.code, "")


# ---------------------------------------------------------------------------- manifests
@dataclass(frozen=True)
class _Files:
    """Where a manifest's image and mask references are looked up, and how links are fetched."""

    bases: tuple[Path, ...]  # looked up in order; a missing file is reported against the first
    confine_to: Path | None
    download: Download
    where: str  # "next to the manifest" | "in the ZIP", for messages
    cache: dict[str, bytes | DownloadError] = field(default_factory=dict)

    def load(self, reference: str, column: str, issues: list[_Issue]) -> _Source | None:
        if _URL.match(reference):
            return self._fetch(reference, column, issues)
        if _OTHER_SCHEME.match(reference):
            issues.append(
                _Issue(
                    column,
                    "bad_url",
                    f"'{_shown(reference)}' is not an http(s) link; use a web link or a file path.",
                    {"value": _shown(reference)},
                )
            )
            return None
        path = self._path(reference)
        if self.confine_to is not None and not _inside(path, self.confine_to):
            issues.append(
                _Issue(
                    column,
                    "outside_folder",
                    f"'{reference}' points outside the uploaded files; put the file {self.where} "
                    "and give its path from there.",
                    {"value": reference},
                )
            )
            return None
        if not path.exists():
            issues.append(
                _Issue(
                    column,
                    "file_not_found",
                    f"There is no file '{reference}' {self.where}; check the name and folder "
                    "(paths are relative to the manifest).",
                    {"value": reference},
                )
            )
            return None
        if not path.is_file():
            issues.append(
                _Issue(
                    column,
                    "not_a_file",
                    f"'{reference}' is a folder; give the path of one image file.",
                    {"value": reference},
                )
            )
            return None
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                issues.append(
                    _Issue(
                        column,
                        "file_too_large",
                        f"'{reference}' is larger than {MAX_FILE_BYTES // 1_048_576} MB; "
                        "use a smaller copy of the photo.",
                        {"value": reference, "max_mb": MAX_FILE_BYTES // 1_048_576},
                    )
                )
                return None
            return _Source(path.name, path.read_bytes())
        except OSError as exc:
            issues.append(
                _Issue(
                    column,
                    "file_unreadable",
                    f"'{reference}' cannot be read ({exc.strerror or 'unknown error'}); check its permissions.",
                    {"value": reference},
                )
            )
            return None

    def _path(self, reference: str) -> Path:
        candidates = [reference]
        if "\\" in reference:
            # Paths typed on Windows ("images\shoe.jpg") name the same file here.
            candidates.append(reference.replace("\\", "/"))
        paths = [
            path if path.is_absolute() else base / path
            for path in map(Path, candidates)
            for base in self.bases
        ]
        return next((path for path in paths if path.exists()), paths[0])

    def _fetch(self, url: str, column: str, issues: list[_Issue]) -> _Source | None:
        if url not in self.cache:
            try:
                self.cache[url] = self.download(url)
            except (DownloadError, requests.RequestException, OSError, ValueError) as exc:
                self.cache[url] = exc if isinstance(exc, DownloadError) else DownloadError(str(exc))
        result = self.cache[url]
        if isinstance(result, DownloadError):
            issues.append(
                _Issue(
                    column,
                    "download_failed",
                    f"The link {_shown(url)} could not be downloaded: {result}. Check that it opens in a "
                    "browser, or put the file in the batch instead.",
                    {"url": _shown(url), "reason": str(result)},
                )
            )
            return None
        return _Source(_reference_name(url), result)


def _plan_table(planner: _Planner, table: list[list[str]], files: _Files) -> None:
    header_index = next(index for index, row in enumerate(table) if any(row))
    columns, ok = _read_header(planner, table[header_index])
    if not ok:
        return
    data_rows = table[header_index + 1 :]
    if sum(1 for row in data_rows if any(row)) > MAX_ROWS:
        raise ManifestError(
            f"The manifest has more than {MAX_ROWS} rows; split it into batches of at most {MAX_ROWS}."
        )
    for row_number, cells in enumerate(data_rows, 1):
        if not any(cells):
            continue
        issues: list[_Issue] = []
        values: dict[str, str] = {}
        params: dict[str, str] = {}
        for index, text in enumerate(cells):
            name = columns.get(index)
            if name is None:
                if text and index not in columns:
                    issues.append(
                        _Issue(
                            "",
                            "unnamed_column",
                            f"The cell '{text}' is in a column without a name; give the column a header "
                            "or clear the cell.",
                            {"value": text},
                        )
                    )
                continue
            if name.startswith(PARAM_PREFIX):
                params[name[len(PARAM_PREFIX) :]] = text
            else:
                values[name] = text
        image = mask = None
        if values.get("image"):
            image = files.load(values["image"], "image", issues)
        else:
            issues.append(
                _Issue(
                    "image", "missing_image", "The image cell is empty; give the photo's file path or link."
                )
            )
        if values.get("mask"):
            mask = files.load(values["mask"], "mask", issues)
        for name in sorted(FILE_PARAMS & {key for key, text in params.items() if text}):
            loaded = files.load(params[name], PARAM_PREFIX + name, issues)
            params[name] = base64.b64encode(loaded.data).decode("ascii") if loaded is not None else ""
        planner.add(row_number, values, params, image, mask, issues, _reference_name(values.get("image", "")))


def _read_header(planner: _Planner, header: list[str]) -> tuple[dict[int, str | None], bool]:
    """Column index -> canonical name (None: ignored), and whether rows can be read at all."""
    columns: dict[int, str | None] = {}
    seen: set[str] = set()
    for index, text in enumerate(header):
        if not text:
            continue  # trailing empty header cells are common in Excel exports
        lowered = text.lower()
        if lowered.startswith(PARAM_PREFIX) and text[len(PARAM_PREFIX) :].strip():
            name = PARAM_PREFIX + text[len(PARAM_PREFIX) :].strip()
        else:
            name = re.sub(r"[\s-]+", "_", lowered)
        if name in seen:
            planner.problem(
                0,
                "",
                _Issue(
                    name,
                    "duplicate_column",
                    f"The column '{text}' appears twice; keep one of them.",
                    {"column": text},
                ),
            )
            columns[index] = None
            continue
        if name not in MANIFEST_COLUMNS and not (name.startswith(PARAM_PREFIX) and name != PARAM_PREFIX):
            planner.problem(
                0,
                "",
                _Issue(
                    text,
                    "unknown_column",
                    f"The column '{text}' is not known. Use {', '.join(MANIFEST_COLUMNS)}, or "
                    "param.<option> for a provider option; rename or delete it.",
                    {"column": text, "known": ", ".join(MANIFEST_COLUMNS)},
                ),
            )
            columns[index] = None
            continue
        seen.add(name)
        columns[index] = name
    if "image" not in seen:
        planner.problem(
            0,
            "",
            _Issue(
                "image",
                "missing_column",
                "The manifest has no 'image' column. The first row must be the header "
                f"{','.join(MANIFEST_COLUMNS)}, with each photo's path or link under image.",
                {"column": "image"},
            ),
        )
        return columns, False
    return columns, True


# ---------------------------------------------------------------------------- ZIPs and uploads
@dataclass(frozen=True)
class _Entry:
    position: int
    name: str  # the safe relative POSIX path
    info: zipfile.ZipInfo


def _entry_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800 and not name.isascii():
        # No UTF-8 flag: zipfile read the name as cp437, but Windows in China writes GBK and macOS UTF-8.
        raw = name.encode("cp437", errors="replace")
        for encoding in ("utf-8", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    return name


def _zip_entries(archive: zipfile.ZipFile) -> tuple[list[_Entry], list[RowProblem]]:
    entries: list[_Entry] = []
    problems: list[RowProblem] = []
    total = 0
    position = 0
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = _entry_name(info).replace("\\", "/")
        parts = [part for part in name.split("/") if part not in ("", ".")]
        if not parts or any(part.startswith(".") and part != ".." for part in parts):
            continue  # dot files and folders: .DS_Store, ._shoe.jpg, .git
        if parts[0] == "__MACOSX" or parts[-1].lower() in _JUNK_NAMES:
            continue
        position += 1
        if name.startswith("/") or _DRIVE.match(name) or ".." in parts:
            problems.append(
                RowProblem(
                    position,
                    PurePosixPath(parts[-1]).stem,
                    "",
                    "unsafe_path",
                    f"The ZIP entry '{name}' points outside the archive's folder and was not unpacked; "
                    "zip the files again from their folder.",
                    {"value": name},
                )
            )
            continue
        total += info.file_size
        if total > MAX_ZIP_BYTES:
            raise ManifestError(
                f"The ZIP unpacks to more than {MAX_ZIP_BYTES // 1_048_576} MB; split it into smaller batches."
            )
        entries.append(_Entry(position, "/".join(parts), info))
    return entries, problems


def _read_entry(archive: zipfile.ZipFile, entry: _Entry) -> bytes | None:
    """The entry's bytes, never more than it declared (a lying header cannot unpack a bomb);
    None when it is damaged or encrypted."""
    try:
        with archive.open(entry.info) as handle:
            data = handle.read(entry.info.file_size + 1)
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError, ValueError):
        return None
    if len(data) > entry.info.file_size:
        raise ManifestError(
            "The ZIP archive is damaged (an entry is larger than it says); zip the files again."
        )
    return data


def _pick_manifest(tables: list[str]) -> str:
    if len(tables) == 1:
        return tables[0]
    named = [name for name in tables if PurePosixPath(name).stem.lower() == "manifest"]
    if len(named) == 1:
        return named[0]
    listed = ", ".join(tables)
    raise ManifestError(
        f"The ZIP holds several tables ({listed}); keep one, named manifest.csv or manifest.xlsx."
    )


def _plan_files(planner: _Planner, files: list[tuple[int, str, bytes]]) -> None:
    """One item per image file; masks are paired by `<stem>_mask.*` beside it or `masks/<stem>.*`."""
    paths = {position: PurePosixPath(name.replace("\\", "/")) for position, name, _ in files}

    def key(path: PurePosixPath, stem: str) -> tuple[str, str]:
        return (str(path.parent).casefold(), stem.casefold())

    in_mask_folder = {
        position for position, path in paths.items() if path.parent.name.casefold() == _MASK_FOLDER
    }
    image_keys = {key(path, path.stem) for position, path in paths.items() if position not in in_mask_folder}
    suffix_masks = {
        position
        for position, path in paths.items()
        if position not in in_mask_folder
        and path.stem.casefold().endswith(_MASK_SUFFIX)
        # "face_mask.jpg" with no "face.*" beside it is a product photo, not a mask.
        and key(path, path.stem[: -len(_MASK_SUFFIX)]) in image_keys
    }
    masks: dict[tuple[str, str], tuple[int, _Source]] = {}
    for position, _name, data in files:
        path = paths[position]
        if position in suffix_masks:
            masks.setdefault(key(path, path.stem[: -len(_MASK_SUFFIX)]), (position, _Source(path.name, data)))
    for position, _name, data in files:
        path = paths[position]
        if position in in_mask_folder:
            masks.setdefault(key(path.parent, path.stem), (position, _Source(path.name, data)))
    used: set[int] = set()
    for position, _name, data in files:
        path = paths[position]
        if position in in_mask_folder or position in suffix_masks:
            continue
        paired = masks.get(key(path, path.stem))
        if paired is not None:
            used.add(paired[0])
        planner.add(position, {}, {}, _Source(path.name, data), paired[1] if paired else None, [])
    for position in sorted((in_mask_folder | suffix_masks) - used):
        path = paths[position]
        planner.problem(
            position,
            path.stem,
            _Issue(
                "mask",
                "unmatched_mask",
                f"The mask '{path}' has no photo named {path.stem}.* to go with it; rename it to match "
                "its photo or remove it.",
                {"value": str(path)},
            ),
        )


# ---------------------------------------------------------------------------- helpers
def _reference_name(reference: str) -> str:
    """The file name in a path or link ("https://x/a/shoe.jpg?sig=1" -> "shoe.jpg")."""
    if _URL.match(reference):
        return PurePosixPath(urllib.parse.unquote(urllib.parse.urlsplit(reference).path)).name or "image"
    return PurePosixPath(reference.replace("\\", "/")).name


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _shown(url: str) -> str:
    """A link without its query string: signed links carry credentials there."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme:
        return url
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
