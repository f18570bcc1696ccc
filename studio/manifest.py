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

This module holds the entry points, the header and ZIP handling and the link
downloads (through `providers.fetch.fetch_link`); the rest lives beside it:
`manifest_base` (value types, vocabulary), `manifest_tables` (CSV/XLSX
reading), `manifest_planner` (row checks and estimates), `manifest_files`
(file and link lookup). Public names are re-exported here.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import math
import re
import socket
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import requests  # type: ignore[import-untyped, unused-ignore]

from providers.fetch import (
    AddressRefused,
    FetchPolicy,
    LinkRedirected,
    LinkStatus,
    LinkTooLarge,
    fetch_link,
    guarded_session,
    is_public_address,
)
from studio.manifest_base import (
    _DRIVE,
    _JUNK_NAMES,
    _MASK_FOLDER,
    _MASK_SUFFIX,
    FILE_PARAMS,
    MANIFEST_COLUMNS,
    MANIFEST_SUFFIXES,
    MAX_DOWNLOAD_BYTES,
    PARAM_PREFIX,
    BatchDefaults,
    BatchPlan,
    Download,
    DownloadError,
    ManifestError,
    RowProblem,
    _Issue,
    _reference_name,
    _Source,
)
from studio.manifest_base import MAX_FILE_BYTES as MAX_FILE_BYTES  # re-exported
from studio.manifest_base import BatchItem as BatchItem  # re-exported
from studio.manifest_files import _Files
from studio.manifest_planner import _Planner
from studio.manifest_tables import _read_table
from studio.service import Studio

# Every planned row holds its prepared photo in memory until it is submitted; past this, split the batch.
MAX_ROWS = 1000
MAX_ZIP_BYTES = 500 * 1024 * 1024
DOWNLOAD_TIMEOUT_S: tuple[float, float] = (10.0, 60.0)
# What `requests.get` allowed before downloads went through `providers.fetch`.
_MAX_REDIRECTS = 30


# ---------------------------------------------------------------------------- downloads
def download_url(url: str, *, follow_redirects: bool = True) -> bytes:
    """GET an image link (10 s to connect, 60 s per read, at most 40 MB); raises DownloadError.

    For manifests on this machine (the CLI): any address, up to 30 redirects, as `requests` allows.
    """
    policy = _link_policy(allow_private=True)
    return _download(url, policy, follow_redirects=follow_redirects, host=urlsplit(url).hostname or "")


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
        if not is_public_address(str(address)):
            raise _inside_network(host, str(address))
    # The guarded session checks the address it actually connects to as well (DNS may answer anew).
    return _download(url, _link_policy(allow_private=False), follow_redirects=False, host=host)


def _link_policy(*, allow_private: bool) -> FetchPolicy:
    return FetchPolicy(
        allow_private=allow_private,
        max_bytes=MAX_DOWNLOAD_BYTES,
        deadline_s=math.inf,
        connect_timeout_s=DOWNLOAD_TIMEOUT_S[0],
        read_timeout_s=DOWNLOAD_TIMEOUT_S[1],
        max_redirects=_MAX_REDIRECTS,
    )


def _download(url: str, policy: FetchPolicy, *, follow_redirects: bool, host: str) -> bytes:
    """`providers.fetch.fetch_link` with its failures worded for a manifest row."""
    try:
        with guarded_session(policy) as session:
            return fetch_link(session, url, policy, follow_redirects=follow_redirects)
    except LinkRedirected:
        raise DownloadError("the link redirects elsewhere; give the final address of the image") from None
    except LinkStatus as exc:
        raise DownloadError(f"the server answered {exc.status} {exc.reason}".strip()) from None
    except LinkTooLarge as exc:
        raise DownloadError(f"the file is larger than {exc.limit // 1_048_576} MB") from None
    except AddressRefused as exc:
        raise _inside_network(host, exc.address) from None
    except requests.Timeout:
        raise DownloadError("the server did not answer in time") from None
    except requests.ConnectionError:
        raise DownloadError("the server could not be reached") from None
    except requests.RequestException as exc:
        raise DownloadError(f"the download failed ({type(exc).__name__})") from None


def _inside_network(host: str, address: str) -> DownloadError:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return DownloadError(
        f"'{host}' is an address inside this network ({ip}); links in an "
        "uploaded manifest must point to the public internet"
    )


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
