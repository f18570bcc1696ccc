"""What the batch page uploads becomes a checked plan: images, one ZIP, or a manifest with its images.

A manifest uploaded through the page is written with the images uploaded beside
it into a private temporary folder, and its rows may only name files in that
folder or links to the public internet: a row cannot make the server read its
own files or fetch from its own network. The folder lives as long as the plan
(its items name the files there; the worker prepares them after the start).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from studio.manifest import (
    BatchDefaults,
    BatchPlan,
    ManifestError,
    download_public_url,
    plan_from_files,
    plan_from_manifest,
    plan_from_zip,
)
from studio.service import Studio

SOURCES = ("images", "zip", "manifest")
_MANIFEST_SUFFIXES = (".csv", ".xlsx")


def plan_from_uploads(
    studio: Studio, source: str, files: Sequence[Any], defaults: BatchDefaults
) -> BatchPlan:
    """Check every uploaded item; raises ManifestError when the upload cannot be read at all."""
    named = [(str(upload.name), bytes(upload.getvalue())) for upload in files]
    if source == "images":
        return plan_from_files(studio, named, defaults)
    if source == "zip":
        if len(named) != 1:
            raise ManifestError("Upload one ZIP file.")
        return plan_from_zip(studio, named[0][1], defaults, download=download_public_url)
    manifests = [(name, data) for name, data in named if name.lower().endswith(_MANIFEST_SUFFIXES)]
    if len(manifests) != 1:
        raise ManifestError(
            "Upload exactly one manifest (.csv or .xlsx) together with the images it names; "
            f"this upload has {len(manifests)}."
        )
    folder = tempfile.TemporaryDirectory(prefix="studio-manifest-")
    try:
        root = Path(folder.name)
        for name, data in named:
            # Only the file's own name: an upload named "../x" lands inside the folder all the same.
            (root / Path(name).name).write_bytes(data)
        plan = plan_from_manifest(
            studio, root / Path(manifests[0][0]).name, defaults, confine_to=root, download=download_public_url
        )
    except BaseException:
        folder.cleanup()
        raise
    return replace(plan, spool=(plan.spool, folder))
