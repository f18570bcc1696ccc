"""Batch plans: many product photos turned into checked job requests before anything is spent.

A batch starts from a CSV/XLSX manifest (one row per item, up to MAX_ROWS), a
ZIP of images (optionally with one manifest inside), or a handful of uploaded
images. Every row is read, its files are found (links downloaded to a spool
folder the plan keeps) and their headers read, and it runs through
`Studio.check_job`, the same checks `submit_job` makes, without writing
anything and without decoding a photo: the worker prepares each item (decode,
fit, cutout, re-encode) just before its turn (`studio.worker_prepare`). The
result is a `BatchPlan`: the rows ready to submit (small records pointing at
their files), a table of `RowProblem`s (every problem of every row, not just the
first, up to MAX_PROBLEMS_KEPT kept and all counted), and the cost estimate per
currency and per provider. Nothing here creates a job.

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

This module holds the entry points, the header and ZIP handling and the link
downloads (through `providers.fetch.fetch_link`); the rest lives beside it:
`manifest_base` (value types, vocabulary), `manifest_tables` (CSV/XLSX
reading), `manifest_planner` (row checks and estimates), `manifest_files`
(file and link lookup), `manifest_zip` (unpacking a ZIP to disk, bounded). Public names are re-exported here.
"""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import requests  # type: ignore[import-untyped, unused-ignore]

from providers.fetch import (
    AddressRefused,
    FetchPolicy,
    HostNotFound,
    LinkDeadline,
    LinkRedirected,
    LinkRefused,
    LinkStatus,
    LinkTooLarge,
    LinkTooManyRedirects,
    fetch_link,
    guarded_session,
)
from studio.manifest_base import (
    FILE_PARAMS,
    MANIFEST_COLUMNS,
    MASK_FOLDER,
    MASK_SUFFIX,
    MAX_DOWNLOAD_BYTES,
    PARAM_PREFIX,
    BatchDefaults,
    BatchPlan,
    Download,
    DownloadError,
    Issue,
    ManifestError,
    Source,
    reference_name,
)
from studio.manifest_base import MAX_FILE_BYTES as MAX_FILE_BYTES  # re-exported
from studio.manifest_base import MAX_PROBLEMS_KEPT as MAX_PROBLEMS_KEPT  # re-exported
from studio.manifest_base import BatchItem as BatchItem  # re-exported
from studio.manifest_base import ItemSource as ItemSource  # re-exported
from studio.manifest_base import RowProblem as RowProblem  # re-exported
from studio.manifest_files import Files
from studio.manifest_planner import Planner
from studio.manifest_tables import read_table
from studio.manifest_zip import unpack_zip
from studio.safe_files import FileRefused
from studio.service import Studio

# A plan holds a small record per row (the photos stay on disk until the worker prepares them).
MAX_ROWS = 100_000
MAX_ZIP_BYTES = 500 * 1024 * 1024
DOWNLOAD_TIMEOUT_S: tuple[float, float] = (10.0, 60.0)
# A link's whole download (every hop, headers and body) stops after this.
DOWNLOAD_DEADLINE_S = 120.0
# CDN and share links often redirect once or twice; each hop is checked again.
_MAX_REDIRECTS = 5
_LOCAL_NETWORK_HINT = (
    "links in a manifest must point to the public internet (on a trusted local network, run "
    "`python -m studio batch` with --allow-local-network)"
)
_PUBLIC_ONLY_HINT = "links in an uploaded manifest must point to the public internet"
_NEVER_HINT = (
    "link-local, multicast and reserved addresses (such as the cloud metadata service) are never fetched"
)


# ---------------------------------------------------------------------------- downloads
def download_url(url: str, *, follow_redirects: bool = True, allow_local_network: bool = False) -> bytes:
    """GET an image link through the guarded fetch (`providers.fetch`: 10 s to connect, 60 s per
    read, 120 s in all, at most 40 MB, 5 redirects each checked again); raises DownloadError.

    Public addresses only, unless `allow_local_network` (the CLI's --allow-local-network) allows
    the loopback and private addresses of a trusted network; link-local addresses (the cloud
    metadata service), user info, backslashes and odd numeric hosts stay refused either way.
    """
    policy = _link_policy(allow_private=allow_local_network)
    hint = _NEVER_HINT if allow_local_network else _LOCAL_NETWORK_HINT
    return _download(url, policy, follow_redirects=follow_redirects, hint=hint)


def download_local_url(url: str) -> bytes:
    """`download_url` on a trusted local network (`python -m studio batch --allow-local-network`)."""
    return download_url(url, allow_local_network=True)


def download_public_url(url: str) -> bytes:
    """`download_url` for manifests uploaded through the web page: public addresses only, so a row
    cannot make the server fetch from its own network (127.0.0.1, 10.x, the metadata address ...)."""
    return _download(url, _link_policy(allow_private=False), follow_redirects=True, hint=_PUBLIC_ONLY_HINT)


def _link_policy(*, allow_private: bool) -> FetchPolicy:
    return FetchPolicy(
        allow_private=allow_private,
        max_bytes=MAX_DOWNLOAD_BYTES,
        deadline_s=DOWNLOAD_DEADLINE_S,
        connect_timeout_s=DOWNLOAD_TIMEOUT_S[0],
        read_timeout_s=DOWNLOAD_TIMEOUT_S[1],
        max_redirects=_MAX_REDIRECTS,
    )


def _download(url: str, policy: FetchPolicy, *, follow_redirects: bool, hint: str) -> bytes:
    """`providers.fetch.fetch_link` with its failures worded for a manifest row. A refused address
    is refused before any connection, so no wording here can tell an open internal port."""
    try:
        with guarded_session(policy) as session:
            return fetch_link(session, url, policy, follow_redirects=follow_redirects)
    except AddressRefused as exc:
        raise DownloadError(
            f"'{exc.host}' is an address inside this network ({exc.address}, {exc.reason}); {hint}"
        ) from None
    except LinkRefused as exc:
        raise DownloadError(f"the link is refused: {exc}") from None
    except HostNotFound as exc:
        raise DownloadError(str(exc)) from None
    except LinkRedirected:
        raise DownloadError("the link redirects elsewhere; give the final address of the image") from None
    except LinkTooManyRedirects as exc:
        raise DownloadError(f"the link redirected more than {exc.limit} times") from None
    except LinkStatus as exc:
        raise DownloadError(f"the server answered {exc.status} {exc.reason}".strip()) from None
    except LinkTooLarge as exc:
        raise DownloadError(f"the file is larger than {exc.limit // 1_048_576} MB") from None
    except LinkDeadline as exc:
        raise DownloadError(f"the download took longer than {exc.deadline_s:g} s") from None
    except requests.Timeout:
        raise DownloadError("the server did not answer in time") from None
    except requests.ConnectionError:
        raise DownloadError("the server could not be reached") from None
    except requests.RequestException as exc:
        raise DownloadError(f"the download failed ({type(exc).__name__})") from None


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
    table = read_table(path, max_rows=MAX_ROWS)
    planner = Planner(studio, defaults)
    spool = tempfile.TemporaryDirectory(prefix="studio-links-")
    try:
        files = Files((path.parent,), confine_to, download, "next to the manifest", Path(spool.name))
        _plan_table(planner, table, files)
    except BaseException:
        spool.cleanup()
        raise
    return replace(planner.plan(), spool=spool)


def plan_from_zip(
    studio: Studio, data: bytes, defaults: BatchDefaults, *, download: Download = download_url
) -> BatchPlan:
    """A ZIP of images, or of images plus one manifest (.csv/.xlsx) whose paths are relative to it.

    Without a manifest each image is one item, SKU = file name stem, with a
    mask paired by `<stem>_mask.png` beside it or `masks/<stem>.png`.
    Entries that would land outside the folder (zip-slip) are not extracted
    and are reported; `__MACOSX` and dot files are skipped. Entries are streamed to a
    temporary folder (`studio.manifest_zip`), never held whole: one larger than
    MAX_FILE_BYTES is reported, more than MAX_ZIP_BYTES unpacked (counted as they
    arrive, whatever the headers say) raises ManifestError, as does a file that is not a ZIP.
    """
    # The unpacked files stay (with the plan) until the batch starts: its items name them.
    folder = tempfile.TemporaryDirectory(prefix="studio-batch-")
    try:
        root = Path(folder.name)
        unpacked = unpack_zip(data, root, max_total_bytes=MAX_ZIP_BYTES, max_entry_bytes=MAX_FILE_BYTES)
        planner = Planner(studio, defaults, unpacked.problems)
        if unpacked.manifest is None:
            _plan_files(planner, [(file.position, file.name, file.path) for file in unpacked.files])
            return replace(planner.plan(), spool=folder)
        manifest_path = root.joinpath(*PurePosixPath(unpacked.manifest).parts)
        table = read_table(manifest_path, max_rows=MAX_ROWS)
        # Paths are relative to the ZIP root; a manifest in a zipped folder may also mean its own folder.
        bases = tuple(dict.fromkeys((root, manifest_path.parent)))
        links = root / ".links"
        links.mkdir()
        _plan_table(planner, table, Files(bases, root, download, "in the ZIP", links))
        return replace(planner.plan(), spool=folder)
    except BaseException:
        folder.cleanup()
        raise


def plan_from_files(studio: Studio, files: Sequence[tuple[str, bytes]], defaults: BatchDefaults) -> BatchPlan:
    """Uploaded images, one item each (SKU = file name stem; `<stem>_mask.png` pairs as its mask)."""
    planner = Planner(studio, defaults)
    _plan_files(planner, [(position, name, data) for position, (name, data) in enumerate(files, 1)])
    return planner.plan()


# ---------------------------------------------------------------------------- reading tables
def _plan_table(planner: Planner, table: list[list[str]], files: Files) -> None:
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
        issues: list[Issue] = []
        values: dict[str, str] = {}
        params: dict[str, str] = {}
        for index, text in enumerate(cells):
            name = columns.get(index)
            if name is None:
                if text and index not in columns:
                    issues.append(
                        Issue(
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
                Issue(
                    "image", "missing_image", "The image cell is empty; give the photo's file path or link."
                )
            )
        if values.get("mask"):
            mask = files.load(values["mask"], "mask", issues)
        for name in sorted(FILE_PARAMS & {key for key, text in params.items() if text}):
            loaded = _read_option_file(files, params[name], PARAM_PREFIX + name, issues)
            params[name] = base64.b64encode(loaded).decode("ascii") if loaded is not None else ""
        planner.add(row_number, values, params, image, mask, issues, reference_name(values.get("image", "")))


def _read_option_file(files: Files, reference: str, column: str, issues: list[Issue]) -> bytes | None:
    """An option's image file (a logo), read whole: the option carries its bytes."""
    found = files.load(reference, column, issues)
    if found is None:
        return None
    try:
        return found.read()
    except FileRefused as exc:
        issues.append(
            Issue(column, exc.code, f"'{reference}' cannot be read ({exc.reason}).", {"value": reference})
        )
        return None


def _read_header(planner: Planner, header: list[str]) -> tuple[dict[int, str | None], bool]:
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
                Issue(
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
                Issue(
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
            Issue(
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
class _LazySource:
    """An uploaded file's bytes, or the unpacked ZIP entry to read them from when needed."""

    name: str
    data: bytes | Path

    def load(self) -> Source:
        if isinstance(self.data, bytes):
            return Source(self.name, self.data)
        return Source(self.name, path=self.data)


def _plan_files(planner: Planner, files: Sequence[tuple[int, str, bytes | Path]]) -> None:
    """One item per image file; masks are paired by `<stem>_mask.*` beside it or `masks/<stem>.*`.

    A file given as a Path (unpacked from a ZIP) is read only when its row is planned."""
    paths = {position: PurePosixPath(name.replace("\\", "/")) for position, name, _ in files}

    def key(path: PurePosixPath, stem: str) -> tuple[str, str]:
        return (str(path.parent).casefold(), stem.casefold())

    in_mask_folder = {
        position for position, path in paths.items() if path.parent.name.casefold() == MASK_FOLDER
    }
    image_keys = {key(path, path.stem) for position, path in paths.items() if position not in in_mask_folder}
    suffix_masks = {
        position
        for position, path in paths.items()
        if position not in in_mask_folder
        and path.stem.casefold().endswith(MASK_SUFFIX)
        # "face_mask.jpg" with no "face.*" beside it is a product photo, not a mask.
        and key(path, path.stem[: -len(MASK_SUFFIX)]) in image_keys
    }
    masks: dict[tuple[str, str], tuple[int, _LazySource]] = {}
    for position, _name, data in files:
        path = paths[position]
        if position in suffix_masks:
            masks.setdefault(
                key(path, path.stem[: -len(MASK_SUFFIX)]), (position, _LazySource(path.name, data))
            )
    for position, _name, data in files:
        path = paths[position]
        if position in in_mask_folder:
            masks.setdefault(key(path.parent, path.stem), (position, _LazySource(path.name, data)))
    used: set[int] = set()
    for position, _name, data in files:
        path = paths[position]
        if position in in_mask_folder or position in suffix_masks:
            continue
        paired = masks.get(key(path, path.stem))
        if paired is not None:
            used.add(paired[0])
        planner.add(
            position, {}, {}, _LazySource(path.name, data).load(), paired[1].load() if paired else None, []
        )
    for position in sorted((in_mask_folder | suffix_masks) - used):
        path = paths[position]
        planner.problem(
            position,
            path.stem,
            Issue(
                "mask",
                "unmatched_mask",
                f"The mask '{path}' has no photo named {path.stem}.* to go with it; rename it to match "
                "its photo or remove it.",
                {"value": str(path)},
            ),
        )
