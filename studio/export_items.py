"""What an export is made of: `ExportItem`, one image to export and what export.csv says about it.

Its own module so that `studio.export` (the export itself) and `studio.export_checks` (the gate
before and during it) both name it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from providers.base import Money


@dataclass(frozen=True)
class ExportItem:
    """One approved output to export. `cost` is what the CSV shows for this image (None: unknown/free)."""

    source: Path
    sku: str
    provider: str
    job_id: str
    workflow: str
    created_at: datetime
    n: int
    cost: Money | None = None
    prompt: str = ""
    scene: str = ""
    # What export.csv's `source` column says: the path under the data folder, never the server's
    # absolute path (`relative_source`); empty: the file name alone.
    source_name: str = ""


def relative_source(path: str | Path, data_dir: str | Path) -> str:
    """`path` relative to the data folder (`jobs/2025/06/<id>/out_01.png`), else its name alone."""
    try:
        return Path(path).resolve().relative_to(Path(data_dir).resolve()).as_posix()
    except (ValueError, OSError):
        return Path(path).name
