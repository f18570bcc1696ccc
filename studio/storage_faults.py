"""Storage faults: a full disk, a read-only or forbidden data folder, as one clear error.

SQLite says "database or disk is full" or "attempt to write a readonly database", the
operating system says ENOSPC, EROFS or EACCES, PostgreSQL says "No space left on device".
`storage_fault(exc, folder)` finds such a cause anywhere in an exception's chain and
returns a `StorageFault`: `code` says which (`storage_full`, `storage_read_only`,
`storage_denied`, `storage_unavailable`), `params["folder"]` where, and its message is
a complete English sentence that says what to do. Pages show the translated
`error.<code>`; the CLI prints the message and exits with `EXIT_STORAGE`. The stack goes
to the log, never to the person.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from studio.errors import StudioError
from studio.settings import load_settings

EXIT_STORAGE = 3  # the CLI's exit status for a full or read-only data folder
_NEARLY_FULL_BYTES = 64 * 1024  # less free space than this: a vague disk error means "full"

_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_READ_ONLY_ERRNOS = {errno.EROFS}
_DENIED_ERRNOS = {errno.EACCES, errno.EPERM}
_IO_ERRNOS = {errno.EIO}
# Driver messages (SQLite, PostgreSQL), lower case.
_FULL_WORDS = ("database or disk is full", "no space left on device", "disk full", "disk quota exceeded")
_READ_ONLY_WORDS = ("attempt to write a readonly database", "read-only file system", "readonly database")
_DENIED_WORDS = ("unable to open database file", "permission denied")
_IO_WORDS = ("disk i/o error",)

_ADVICE = {
    "storage_full": (
        "The data folder {folder} is full: free space on its disk (or point STUDIO_DATA_DIR at a folder "
        "with room), then try again."
    ),
    "storage_read_only": (
        "The data folder {folder} is read-only: make it writable for the user running Backdrop Studio "
        "(or point STUDIO_DATA_DIR at a writable folder), then try again."
    ),
    "storage_denied": (
        "The data folder {folder} cannot be written: it is read-only or belongs to another user. Make it "
        "writable for the user running Backdrop Studio (or point STUDIO_DATA_DIR at a writable folder), "
        "then try again."
    ),
    "storage_unavailable": (
        "The data folder {folder} cannot be read or written (a disk error): check the disk, or point "
        "STUDIO_DATA_DIR at another folder, then try again."
    ),
}


class StorageFault(StudioError, RuntimeError):
    """The data folder (or the database) cannot be written: full, read-only, forbidden or failing."""

    default_code = "storage_fault"

    def __init__(self, code: str, folder: str | Path) -> None:
        folder_text = str(folder)
        super().__init__(_ADVICE[code].format(folder=folder_text), code, {"folder": folder_text})


def fault_kind(exc: BaseException) -> str | None:
    """The storage fault code behind `exc` (its whole cause/context chain), or None if it is none."""
    for link in _chain(exc):
        if isinstance(link, StorageFault):
            return link.code
        if isinstance(link, OSError) and link.errno is not None:
            if link.errno in _FULL_ERRNOS:
                return "storage_full"
            if link.errno in _READ_ONLY_ERRNOS:
                return "storage_read_only"
            if link.errno in _DENIED_ERRNOS:
                return "storage_denied"
            if link.errno in _IO_ERRNOS:
                return "storage_unavailable"
        if isinstance(link, sqlite3.Error) or _is_driver_error(link):
            text = str(link).lower()
            for words, code in (
                (_FULL_WORDS, "storage_full"),
                (_READ_ONLY_WORDS, "storage_read_only"),
                (_DENIED_WORDS, "storage_denied"),
                (_IO_WORDS, "storage_unavailable"),
            ):
                if any(word in text for word in words):
                    return code
    return None


def storage_fault(exc: BaseException, folder: str | Path) -> StorageFault | None:
    """`exc` as a StorageFault naming `folder`, or None when it is not a storage fault."""
    for link in _chain(exc):
        if isinstance(link, StorageFault):
            return link
    code = fault_kind(exc)
    if code is None:
        return None
    if code in ("storage_unavailable", "storage_denied"):
        # SQLite reports a full or read-only disk vaguely ("disk I/O error", "unable to open"):
        # the folder itself says which.
        code = _folder_state(folder) or code
    return StorageFault(code, folder)


def _folder_state(folder: str | Path) -> str | None:
    path = Path(folder)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        stats = os.statvfs(path)
    except (OSError, AttributeError):
        return None
    if stats.f_flag & getattr(os, "ST_RDONLY", 1):
        return "storage_read_only"
    if stats.f_bavail * stats.f_frsize < _NEARLY_FULL_BYTES:
        return "storage_full"
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    pending: list[object] = [exc]
    while pending and len(seen) < 20:
        link = pending.pop(0)
        if not isinstance(link, BaseException) or any(link is item for item in seen):
            continue
        seen.append(link)
        # SQLAlchemy's DBAPIError keeps the driver's exception in `.orig`.
        pending.extend([getattr(link, "orig", None), link.__cause__, link.__context__])
    return seen


def _is_driver_error(exc: BaseException) -> bool:
    # SQLAlchemy's OperationalError and the PostgreSQL driver's errors, without importing either here.
    return type(exc).__name__ in {"OperationalError", "DiskFull", "ReadOnlySqlTransaction", "InternalError"}


def fault_folder(exc: BaseException) -> str:
    """The folder to name in a storage fault: the one a raw OS error names, else the configured
    data folder (or the setting's name when even the settings cannot be read)."""
    if isinstance(exc, OSError) and exc.filename:
        return str(exc.filename)
    try:
        return str(load_settings().data_dir)
    except Exception:
        return "STUDIO_DATA_DIR"
