"""Where job files live: one small interface over the data folder or a shared bucket.

Every job file (inputs, masks, outputs, thumbnails) is named by a *key*: a relative
POSIX path such as `jobs/2026/12/<job_id>/out_01.png`, the same text the store keeps.
`FileStore` is what the rest of the studio calls; `FolderStore` keeps keys as files
under the data folder (the default), `studio.storage_s3.S3Store` as objects in an
S3-compatible bucket, so app replicas and workers on other machines see the same files.

Missing files raise `FileMissing`; a folder store's disk errors stay `OSError` (so
`studio.storage_faults` can say "full" or "read-only"); a bucket's errors are
`StorageUnavailable`, whose message names the bucket and endpoint but never a key.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from studio.errors import StudioError

# Streaming copies move this much at a time: big files never sit whole in memory.
CHUNK_BYTES = 1024 * 1024


class StorageError(StudioError, RuntimeError):
    """A file could not be stored or read; the message says which store and why."""

    default_code = "artifact_error"


class FileMissing(StorageError, KeyError):
    """No file under that key."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StorageUnavailable(StorageError):
    """The shared store did not answer or refused (credentials, bucket, network)."""


@runtime_checkable
class FileStore(Protocol):
    """Files by relative key. Writers replace a key whole: a reader never sees half a file."""

    label: str

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def put_stream(self, key: str, source: BinaryIO) -> None:
        """Store what `source` yields, read in chunks (for files too big to hold twice)."""
        ...

    def get_bytes(self, key: str) -> bytes: ...

    def open_stream(self, key: str) -> BinaryIO:
        """A readable stream of the file (the caller closes it)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the key; a missing key is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Remove every key under `prefix` (a job's folder)."""
        ...

    def list(self, prefix: str = "") -> list[str]:
        """Every key under `prefix`, sorted."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk, for pages that show it by path; None: ask get_bytes."""
        ...


def check_key(key: str) -> str:
    """`key` if it is a plain relative POSIX path (no `..`, no leading slash, no backslash)."""
    if not key or "\\" in key or key.startswith("/") or "\x00" in key:
        raise ValueError(f"'{key}' is not a relative file key")
    if any(part in ("..", ".", "") for part in key.split("/")):
        raise ValueError(f"'{key}' is not a relative file key")
    return key


def _check_prefix(prefix: str) -> str:
    if prefix:
        check_key(prefix.rstrip("/"))
    return prefix


class FolderStore:
    """Keys as files under `root` (the data folder), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.label = f"folder {self.root}"

    def _file(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_bytes(self, key: str, data: bytes) -> None:
        self.put_stream(key, io.BytesIO(data))

    def put_stream(self, key: str, source: BinaryIO) -> None:
        # Into a temporary file beside the target, synced, then renamed over it (as
        # studio.artifacts.write_atomically): a crash never leaves half a file under the key.
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK_BYTES)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._file(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileMissing(f"{key} is not in the {self.label}") from None

    def open_stream(self, key: str) -> BinaryIO:
        try:
            return self._file(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileMissing(f"{key} is not in the {self.label}") from None

    def exists(self, key: str) -> bool:
        return self._file(key).is_file()

    def delete(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        folder = self.root / _check_prefix(prefix).rstrip("/")
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for key in self.list(prefix):
                self.delete(key)

    def list(self, prefix: str = "") -> list[str]:
        _check_prefix(prefix)
        return sorted(key for key in self._walk() if key.startswith(prefix))

    def _walk(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(".") and name.endswith(".tmp"):
                    continue  # a write in progress
                yield (Path(folder) / name).relative_to(self.root).as_posix()

    def local_path(self, key: str) -> Path | None:
        return self._file(key)


def key_for(path: str | Path, data_dir: Path) -> str:
    """The key of a job file given as the store reports it (data folder + key) or as a key."""
    text = str(path)
    if not os.path.isabs(text):
        return check_key(Path(text).as_posix())
    root = str(data_dir).rstrip(os.sep) + os.sep
    if text.startswith(root):
        return check_key(Path(text[len(root) :]).as_posix())
    try:
        return check_key(Path(text).resolve().relative_to(Path(data_dir).resolve()).as_posix())
    except ValueError:
        raise FileMissing(f"{path} is not under the data folder {data_dir}") from None
