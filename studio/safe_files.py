"""Reading what people hand us, bounded, and writing CSV cells a spreadsheet will not run.

- `read_regular_file(path, max_bytes)`: the bytes of a regular file, never more than
  `max_bytes`. Devices (`/dev/zero`), FIFOs, sockets and folders are refused from
  `stat` before anything is opened (opening a FIFO would wait for a writer forever),
  the file is opened non-blocking and checked again on its descriptor (it may have
  been swapped meanwhile), and reading stops one byte past the cap (a file that
  grows while read is refused too). Raises `FileRefused`.
- `copy_bounded(source, target, limit)`: stream a binary file object into another,
  counting the bytes actually read; `LimitExceeded` one byte past `limit`. For ZIP
  entries, whose headers may lie about their size.
- `check_zip_directory(data, max_entries, max_directory_bytes)`: the end of a ZIP
  read before `zipfile` parses its central directory into memory (`ZipDirectoryTooLarge`).
- `neutralise_cell(value)`: one CSV cell that Excel, LibreOffice and Google Sheets read
  as text: a leading `=`, `+`, `-`, `@`, TAB, CR or NUL gets a `'` in front (OWASP's
  advice against CSV injection). Every CSV we write goes through it.
"""

from __future__ import annotations

import os
import stat
import struct
from typing import IO, Any, Protocol

from studio.errors import StudioError

# The largest single input file (CLI --image/--mask/--logo, backdrop photos): the web upload limit.
MAX_INPUT_BYTES = 50 * 1024 * 1024
_CHUNK = 1024 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
)


class FileRefused(StudioError, ValueError):
    """A path that cannot be read as one bounded regular file.

    `code` is file_not_found, not_a_file, file_too_large or file_unreadable (the manifest's row
    codes); `reason` is the lower-case half sentence after "cannot read 'x': "."""

    default_code = "file_unreadable"

    def __init__(self, path: str, code: str, reason: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(f"cannot read '{path}': {reason}", code, {"path": path, **(params or {})})
        self.path = path
        self.reason = reason


class Sink(Protocol):
    """Where `copy_bounded` writes: a binary file, or anything with `write(bytes)`."""

    def write(self, data: bytes, /) -> Any: ...


class LimitExceeded(ValueError):
    """More bytes arrived than the limit allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class ZipDirectoryTooLarge(ValueError):
    """The ZIP lists more entries (or a larger directory) than we read."""


def megabytes(limit: int) -> int:
    return max(1, limit // 1_048_576)


def read_regular_file(path: str | os.PathLike[str], max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file at `path` (symbolic links followed), at most `max_bytes`."""
    shown = os.fspath(path)
    try:
        check_kind(shown, os.stat(path), max_bytes)
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise refused_file(shown, exc) from None
    try:
        with os.fdopen(descriptor, "rb", buffering=0, closefd=True) as handle:
            check_kind(shown, os.fstat(handle.fileno()), max_bytes)
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = handle.read(min(_CHUNK, max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise _too_large(shown, max_bytes)
    except OSError as exc:
        raise refused_file(shown, exc) from None
    return b"".join(chunks)


def check_kind(shown: str, info: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise FileRefused(shown, "not_a_file", "it is a folder; give the path of a file")
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(
            shown,
            "not_a_file",
            "it is a device, pipe or socket, not a regular file; give the path of a file",
        )
    if info.st_size > max_bytes:
        raise _too_large(shown, max_bytes)


def _too_large(shown: str, max_bytes: int) -> FileRefused:
    return FileRefused(
        shown,
        "file_too_large",
        f"it is larger than {megabytes(max_bytes)} MB; use a smaller file",
        {"max_mb": megabytes(max_bytes)},
    )


def refused_file(shown: str, exc: OSError) -> FileRefused:
    if isinstance(exc, FileNotFoundError):
        return FileRefused(shown, "file_not_found", "no such file; check the path")
    if isinstance(exc, IsADirectoryError):
        return FileRefused(shown, "not_a_file", "it is a folder; give the path of a file")
    if isinstance(exc, PermissionError):
        return FileRefused(shown, "file_unreadable", "permission denied; check the file's permissions")
    return FileRefused(shown, "file_unreadable", str(exc.strerror or exc))


def copy_bounded(source: IO[bytes], target: Sink | None, limit: int) -> int:
    """Copy `source` to `target` (None: only count) in chunks; the bytes copied.

    Raises LimitExceeded as soon as more than `limit` bytes were read, whatever the source claimed."""
    total = 0
    while True:
        chunk = source.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return total
        total += len(chunk)
        if total > limit:
            raise LimitExceeded(limit)
        if target is not None:
            target.write(chunk)


_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def check_zip_directory(data: bytes, *, max_entries: int, max_directory_bytes: int) -> None:
    """Refuse a ZIP whose end record declares more entries, or a larger central directory, than
    allowed, before `zipfile.ZipFile` reads that whole directory into objects. A file that is not
    a ZIP passes (zipfile says so itself)."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if at < 0 or len(data) < at + 22:
        return
    _, _, _, entries, size = struct.unpack_from("<HHHHI", data, at + 4)
    locator = at - 20
    if locator >= 0 and data[locator : locator + 4] == _ZIP64_LOCATOR:
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 56 <= len(data) and data[offset : offset + 4] == _ZIP64_EOCD:
            entries, size = struct.unpack_from("<QQ", data, offset + 32)
    if entries > max_entries:
        raise ZipDirectoryTooLarge(f"the archive lists {entries} files; at most {max_entries} are read")
    if size > max_directory_bytes:
        raise ZipDirectoryTooLarge(
            f"the archive's file list is {size} bytes; at most {max_directory_bytes} are read"
        )


def neutralise_cell(value: object) -> str:
    """`value` as CSV text a spreadsheet shows as text, never runs as a formula (None: empty)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


__all__ = [
    "MAX_INPUT_BYTES",
    "FileRefused",
    "LimitExceeded",
    "Sink",
    "ZipDirectoryTooLarge",
    "check_zip_directory",
    "copy_bounded",
    "megabytes",
    "neutralise_cell",
    "read_regular_file",
]
