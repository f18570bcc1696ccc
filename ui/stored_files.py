"""Job files for pages: the one way a page shows or offers an input, mask, output or thumbnail.

The store reports job files as paths under the data folder. With the default folder
store they are files here and `st.image(path)` reads them; with a shared bucket
(STUDIO_STORAGE=s3://...) nothing is on this disk, and the bytes come from the bucket.
Pages call `image_source` / `file_bytes` / `is_stored` and never open a job file's path.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from studio.storage import FileStore, StorageError, key_for
from ui.services import get_studio

# Finished jobs' files never change, so bytes read from a bucket can be kept a while.
_CACHE_ENTRIES = 256


def _files() -> tuple[FileStore, Path]:
    studio = get_studio()
    return studio.artifacts.files, studio.artifacts.data_dir


def _local(path: str) -> Path | None:
    """The file on this disk for a folder store; None when the files live elsewhere."""
    files, data_dir = _files()
    try:
        key = key_for(path, data_dir)
    except (StorageError, ValueError):
        return Path(path) if Path(path).is_absolute() else None  # outside the data folder: as before
    local = files.local_path(key)
    return None if local is None else local


@st.cache_data(max_entries=_CACHE_ENTRIES, show_spinner=False)
def _cached_bytes(label: str, key: str) -> bytes:
    # A failure raises, and st.cache_data keeps no failure: a file that appears later is seen.
    return _files()[0].get_bytes(key)


def _bucket_bytes(label: str, key: str) -> bytes | None:
    try:
        return _cached_bytes(label, key)
    except StorageError:
        return None


def file_bytes(path: str | None) -> bytes | None:
    """The file's bytes, from this disk or the shared bucket; None when it is missing."""
    if not path:
        return None
    local = _local(path)
    if local is not None:
        try:
            return local.read_bytes() if local.is_file() else None
        except OSError:
            return None
    files, data_dir = _files()
    try:
        key = key_for(path, data_dir)
    except (StorageError, ValueError):
        return None
    return _bucket_bytes(files.label, key)


def is_stored(path: str | None) -> bool:
    """True when the file can be shown (it is on this disk or in the bucket)."""
    if not path:
        return False
    local = _local(path)
    if local is not None:
        return local.is_file()
    return file_bytes(path) is not None


def image_source(path: str | None) -> str | bytes | None:
    """What `st.image` takes for a job file: its path here, else its bytes; None when missing."""
    if not path:
        return None
    local = _local(path)
    if local is not None:
        return str(local) if local.is_file() else None
    return file_bytes(path)
