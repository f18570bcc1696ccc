"""Unpacking a batch ZIP to a folder, bounded: entries are streamed to disk, never held whole.

`unpack_zip` lists the archive (at most `MAX_ZIP_ENTRIES` files, read from its end
record before `zipfile` builds them), skips what an OS drops into folders it zips,
reports entries that would land outside the folder (zip-slip), and streams every
other entry to disk in chunks, counting the bytes that actually arrive: an entry may
unpack to at most `max_entry_bytes` (it is reported and left out beyond that) and
the archive to at most `max_total_bytes` (ManifestError), whatever the headers
claim. With a manifest among the entries the files keep their paths (the rows name
them); without one each file gets a plain numbered name, so no two entries clash.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.manifest_base import DRIVE, JUNK_NAMES, MANIFEST_SUFFIXES, ManifestError, RowProblem
from studio.safe_files import (
    LimitExceeded,
    ZipDirectoryTooLarge,
    check_zip_directory,
    copy_bounded,
    megabytes,
)

# A ZIP batch: up to this many images and masks (larger catalogues go as a manifest beside its files).
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_DIRECTORY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class UnpackedFile:
    position: int  # 1-based among the entries that count (the row of its problems)
    name: str  # the safe relative POSIX path inside the archive
    path: Path  # where it was written


@dataclass(frozen=True)
class Unpacked:
    files: tuple[UnpackedFile, ...]
    problems: tuple[RowProblem, ...]
    manifest: str | None  # the table's name among `files`, when the ZIP holds one


@dataclass(frozen=True)
class _Entry:
    position: int
    name: str  # the safe relative POSIX path
    info: zipfile.ZipInfo


def unpack_zip(data: bytes, folder: Path, *, max_total_bytes: int, max_entry_bytes: int) -> Unpacked:
    """Unpack `data` into `folder`; raises ManifestError for what is not a ZIP, too many entries,
    more than `max_total_bytes` unpacked, or several tables without one named manifest."""
    try:
        check_zip_directory(data, max_entries=MAX_ZIP_ENTRIES, max_directory_bytes=MAX_ZIP_DIRECTORY_BYTES)
    except ZipDirectoryTooLarge:
        raise _too_many_entries() from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ManifestError(
            "The file is not a readable ZIP archive. Zip the images again (and the manifest, if any) and upload that."
        ) from None
    with archive:
        if len(archive.infolist()) > MAX_ZIP_ENTRIES:
            raise _too_many_entries()
        entries, problems = _zip_entries(archive, max_total_bytes)
        tables = [
            entry.name for entry in entries if PurePosixPath(entry.name).suffix.lower() in MANIFEST_SUFFIXES
        ]
        manifest = _pick_manifest(tables) if tables else None
        files: list[UnpackedFile] = []
        budget = max_total_bytes
        for entry in entries:
            if entry.info.file_size > max_entry_bytes:
                problems.append(_entry_too_large(entry, max_entry_bytes))
                continue
            if manifest is None:
                target = folder / f"{entry.position:05d}"  # only the stem and suffix of `name` matter
            else:
                target = folder.joinpath(*PurePosixPath(entry.name).parts)
            outcome = _unpack(archive, entry, target, min(max_entry_bytes, budget))
            if isinstance(outcome, RowProblem):
                problems.append(outcome)
                continue
            budget -= outcome
            files.append(UnpackedFile(entry.position, entry.name, target))
    return Unpacked(tuple(files), tuple(problems), manifest)


def _unpack(archive: zipfile.ZipFile, entry: _Entry, target: Path, limit: int) -> int | RowProblem:
    """Stream one entry to `target`; the bytes written, or the problem that left it out."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        out = target.open("xb")
    except OSError:  # "a" as a file and as a folder in one archive
        return _problem(
            entry,
            "file_unreadable",
            f"The ZIP entry '{entry.name}' clashes with another entry of the same name; "
            "rename one of them and zip the files again.",
        )
    try:
        with out, archive.open(entry.info) as handle:
            return copy_bounded(handle, out, limit)
    except LimitExceeded:
        target.unlink(missing_ok=True)
        raise ManifestError(
            "The ZIP archive is damaged or unpacks to more than it says; zip the files again.",
            "zip_damaged",
        ) from None
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError, ValueError):
        target.unlink(missing_ok=True)
        return _problem(
            entry,
            "file_unreadable",
            f"The ZIP entry '{entry.name}' cannot be unpacked (it is damaged or protected by a "
            "password); zip the files again without a password.",
        )


def _problem(entry: _Entry, code: str, message: str) -> RowProblem:
    return RowProblem(
        entry.position, PurePosixPath(entry.name).stem, "", code, message, {"value": entry.name}
    )


def _entry_too_large(entry: _Entry, limit: int) -> RowProblem:
    return RowProblem(
        entry.position,
        PurePosixPath(entry.name).stem,
        "",
        "file_too_large",
        f"The ZIP entry '{entry.name}' is larger than {megabytes(limit)} MB; use a smaller copy of the photo.",
        {"value": entry.name, "max_mb": megabytes(limit)},
    )


def _too_many_entries() -> ManifestError:
    return ManifestError(
        f"The ZIP holds more than {MAX_ZIP_ENTRIES} files; split it into smaller batches.",
        "zip_too_many_files",
        {"max": MAX_ZIP_ENTRIES},
    )


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


def _zip_entries(archive: zipfile.ZipFile, max_total_bytes: int) -> tuple[list[_Entry], list[RowProblem]]:
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
        if parts[0] == "__MACOSX" or parts[-1].lower() in JUNK_NAMES:
            continue
        position += 1
        if name.startswith("/") or DRIVE.match(name) or ".." in parts:
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
        if total > max_total_bytes:
            raise ManifestError(
                f"The ZIP unpacks to more than {megabytes(max_total_bytes)} MB; split it into smaller batches.",
                "zip_too_large",
                {"max_mb": megabytes(max_total_bytes)},
            )
        entries.append(_Entry(position, "/".join(parts), info))
    return entries, problems


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
