"""Where a manifest's image and mask references are found: files next to it, in a ZIP, or links."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import requests  # type: ignore[import-untyped, unused-ignore]

from providers.fetch import AddressRefused, LinkRefused, LinkRejected, check_link_text
from studio.manifest_base import (
    MAX_FILE_BYTES,
    OTHER_SCHEME,
    URL,
    Download,
    DownloadError,
    Issue,
    Source,
    inside_folder,
    link_shown,
    reference_name,
)
from studio.safe_files import (
    FileRefused,
    check_kind,  # the same rules as reading
)
from studio.safe_files import refused_file as refused


# ---------------------------------------------------------------------------- manifests
@dataclass(frozen=True)
class Files:
    """Where a manifest's image and mask references are looked up, and how links are fetched."""

    bases: tuple[Path, ...]  # looked up in order; a missing file is reported against the first
    confine_to: Path | None
    download: Download
    where: str  # "next to the manifest" | "in the ZIP", for messages
    # Downloaded links are written here (the plan keeps the folder), not held in memory.
    spool: Path | None = None
    cache: dict[str, bytes | Path | DownloadError] = field(default_factory=dict)

    def load(self, reference: str, column: str, issues: list[Issue]) -> Source | None:
        if URL.match(reference):
            return self._fetch(reference, column, issues)
        if OTHER_SCHEME.match(reference):
            issues.append(
                Issue(
                    column,
                    "bad_url",
                    f"'{link_shown(reference)}' is not an http(s) link; use a web link or a file path.",
                    {"value": link_shown(reference)},
                )
            )
            return None
        path = self._path(reference)
        if self.confine_to is not None and not inside_folder(path, self.confine_to):
            issues.append(
                Issue(
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
                Issue(
                    column,
                    "file_not_found",
                    f"There is no file '{reference}' {self.where}; check the name and folder "
                    "(paths are relative to the manifest).",
                    {"value": reference},
                )
            )
            return None
        try:
            # Regular files only (a device such as /dev/zero or a FIFO is refused unopened), bounded.
            # Not read here: the plan reads its header, the worker the whole file at its turn.
            found = _regular_file(path)
            return Source(path.name, path=found)
        except FileRefused as exc:
            params = {"value": reference, **{k: v for k, v in exc.params.items() if k == "max_mb"}}
            issues.append(Issue(column, exc.code, _refusal(reference, exc), params))
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

    def _fetch(self, url: str, column: str, issues: list[Issue]) -> Source | None:
        if url not in self.cache:
            try:
                # Refused as written before any download function sees it (an injected one too);
                # the guarded fetch then checks the address of every hop.
                check_link_text(url)
                data = self.download(url)
                self.cache[url] = self._spooled(data) if self.spool is not None else data
            except LinkRefused as exc:
                self.cache[url] = DownloadError(f"the link is refused: {exc}")
            except (DownloadError, requests.RequestException, OSError, ValueError) as exc:
                self.cache[url] = exc if isinstance(exc, DownloadError) else DownloadError(str(exc))
            except AddressRefused as exc:  # a download that did not word these itself
                self.cache[url] = DownloadError(f"the link leads inside this network ({exc.address})")
            except LinkRejected as exc:
                self.cache[url] = DownloadError(f"the download failed: {exc}")
        result = self.cache[url]
        if isinstance(result, DownloadError):
            issues.append(
                Issue(
                    column,
                    "download_failed",
                    f"The link {link_shown(url)} could not be downloaded: {result}. Check that it opens in a "
                    "browser, or put the file in the batch instead.",
                    {"url": link_shown(url), "reason": str(result)},
                )
            )
            return None
        if isinstance(result, Path):
            return Source(reference_name(url), path=result)
        return Source(reference_name(url), result)

    def _spooled(self, data: bytes) -> Path:
        assert self.spool is not None
        path = self.spool / f"link-{len(self.cache):06d}"
        path.write_bytes(data)
        return path


def _regular_file(path: Path) -> Path:
    """`path` when it is a regular file of at most MAX_FILE_BYTES (symbolic links followed); raises
    FileRefused like `read_regular_file`, without reading it."""
    shown = os.fspath(path)
    try:
        check_kind(shown, os.stat(path), MAX_FILE_BYTES)
    except OSError as exc:
        raise refused(shown, exc) from None
    return path


def _refusal(reference: str, exc: FileRefused) -> str:
    if exc.code == "file_too_large":
        return (
            f"'{reference}' is larger than {MAX_FILE_BYTES // 1_048_576} MB; use a smaller copy of the photo."
        )
    if exc.code == "not_a_file":
        return f"'{reference}' is not a file ({exc.reason})."
    if exc.code == "file_not_found":
        return (
            f"There is no file '{reference}'; check the name and folder (paths are relative to the manifest)."
        )
    return f"'{reference}' cannot be read ({exc.reason})."
