"""Exporting approved images: file names from a template, marketplace rendering, a ZIP or a folder, a CSV.

This module owns:

- `NameTemplate`: a file-name template with the fields {sku}, {provider}, {n}, {job},
  {workflow}, {date} and {preset}, checked when it is made; the names it gives are safe
  on every desktop system (no folders, no `..`, no control or reserved characters,
  Chinese kept) and end in the exported file's own extension;
- `ExportItem` (one approved output and what the CSV says about it) and the
  `ExportReport` of an export;
- `export_zip` (a ZIP streamed to a file or any writable binary stream) and
  `export_to_dir` (the same into a folder, for the CLI's `--out DIR`), each with
  `export.csv` listing every item, exported or not.

Rendering is `imaging.marketplace.render_detailed`. An item that cannot be read or
rendered is listed in the report and in the CSV's `error` column; the export goes on.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import string
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from imaging.cutout import Segmenter
from imaging.images import ImageInputError
from imaging.marketplace import EXTENSIONS, ExportError, Preset, Rendered, render_detailed
from studio.ai_labels import provenance_for
from studio.export_checks import (
    ExportGate,
    ExportPreview,
    noncompliant_message,
    upscaled_message,
)
from studio.export_items import ExportItem, relative_source
from studio.safe_files import FileRefused, neutralise_cell, read_regular_file
from studio.storage import FileStore, StorageError, key_for

logger = logging.getLogger(__name__)

# Reads an item's source image (bounded); raises FileRefused. Default: the file on this disk.
SourceReader = Callable[[Path], bytes]

TEMPLATE_FIELDS: tuple[str, ...] = ("sku", "provider", "n", "job", "workflow", "date", "preset")
DEFAULT_TEMPLATE = "{sku}_{provider}_{n}"
CSV_NAME = "export.csv"
CSV_COLUMNS: tuple[str, ...] = (
    "file",
    "sku",
    "provider",
    "job_id",
    "variant",
    "workflow",
    "width",
    "height",
    "bytes",
    "preset",
    "source_file",
    "cost",
    "currency",
    "prompt",
    "scene",
    "jpeg_quality",
    "notes",
    "error",
)
# A template ending in one of these names the file type; any other ending is part of the name.
_IMAGE_EXTENSIONS: dict[str, str] = {
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "jpe": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "bmp": "BMP",
    "gif": "GIF",
    "tif": "TIFF",
    "tiff": "TIFF",
    "heic": "HEIC",
    "avif": "AVIF",
}
_TRAILING_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,5})$")
# The one format spec a template may use: {n} zero-padded, {n:02d} to {n:09d}.
_N_PADDING = re.compile(r"0[1-9]d?")
MAX_TEMPLATE_CHARS = 255
# An approved image is read whole to render it; generated files are far smaller.
MAX_SOURCE_BYTES = 100 * 1024 * 1024
# Characters Windows, macOS or a ZIP tool read as a path or refuse in a name.
_FORBIDDEN = set('/\\<>:"|?*')
_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
# Room for "-NN.jpeg" within the common 255-byte file-name limit, with Chinese at 3 bytes a character.
MAX_STEM_BYTES = 180
_SAMPLE = {
    "sku": "SKU",
    "provider": "vendor",
    "n": 1,
    "job": "0123abcd",
    "workflow": "scene",
    "date": "2024-01-31",
    "preset": "amazon",
}

Progress = Callable[[int, int], object]


# ------------------------------------------------------------------ items and report
@dataclass(frozen=True)
class ExportedFile:
    name: str
    item: ExportItem
    width: int
    height: int
    size_bytes: int
    quality: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportFailure:
    """An item that was not exported: `code` is stable for the UI, `message` says why in English."""

    item: ExportItem
    code: str
    message: str


@dataclass(frozen=True)
class ExportReport:
    preset: str
    files: tuple[ExportedFile, ...] = ()
    failures: tuple[ExportFailure, ...] = ()
    csv_name: str = CSV_NAME

    @property
    def total(self) -> int:
        return len(self.files) + len(self.failures)

    @property
    def total_bytes(self) -> int:
        return sum(file.size_bytes for file in self.files)


# --------------------------------------------------------------------------- names
class NameTemplate:
    """A file-name template such as `{sku}_{provider}_{n}.jpg`; ValueError when it cannot be used.

    Fields: {sku}, {provider}, {n} (variant within the job, 1-based; `{n:02d}` pads it, the only
    format spec allowed: no other spec, conversion, attribute or index),
    {job} (first 8 characters of the job id), {workflow}, {date} (YYYY-MM-DD the job was
    made, local time) and {preset}. The extension is the exported file's: added when the
    template has none, replaced when it names another type (`.png` on a JPEG export).
    """

    def __init__(self, template: str) -> None:
        if not isinstance(template, str) or not template.strip():
            raise ValueError(f"the file-name template is empty; try {DEFAULT_TEMPLATE}")
        allowed = ", ".join("{" + name + "}" for name in TEMPLATE_FIELDS)
        if len(template) > MAX_TEMPLATE_CHARS:
            raise ValueError(
                f"the file-name template is longer than {MAX_TEMPLATE_CHARS} characters; try {DEFAULT_TEMPLATE}"
            )
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise ValueError(
                f"the file-name template {template!r} is not valid ({exc}); write fields in braces, "
                f"like {DEFAULT_TEMPLATE}, using {allowed}"
            ) from None
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            # Plain names only: "sku.x", "sku[0]" and "" are not fields (no attribute or index access).
            if name not in TEMPLATE_FIELDS:
                shown = "{" + name + "}" if name else "{}"
                raise ValueError(
                    f"the file-name template {template!r} uses {shown}, which is not a field; use {allowed}"
                )
            if conversion:
                raise ValueError(
                    f"the file-name template {template!r} uses !{conversion}; write just {{{name}}}"
                )
            # No format specs ({sku:>50000000} pads for minutes), except {n} zero-padded to 2-9 digits.
            if spec and not (name == "n" and _N_PADDING.fullmatch(spec)):
                raise ValueError(
                    f"the file-name template {template!r} cannot be filled in: {{{name}:{spec}}} has a "
                    f"format spec, which is not allowed; write just {{{name}}}"
                    + (" (or {n:02d} to pad the number)" if name == "n" else "")
                )
        stem, extension = _split_extension(template)
        try:
            stem.format(**_SAMPLE)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise ValueError(f"the file-name template {template!r} cannot be filled in: {exc}") from None
        self.template = template
        self._stem = stem
        self._extension = extension

    def __repr__(self) -> str:
        return f"NameTemplate({self.template!r})"

    def stem_for(self, item: ExportItem, preset_key: str) -> str:
        """The sanitised name without extension (collisions are not resolved here)."""
        values = {
            "sku": item.sku or "",
            "provider": item.provider or "",
            "n": item.n,
            "job": (item.job_id or "")[:8],
            "workflow": item.workflow or "",
            "date": _local(item.created_at).strftime("%Y-%m-%d"),
            "preset": preset_key,
        }
        return sanitise_stem(self._stem.format(**values))

    def extension_for(self, file_format: str) -> str:
        """The template's own spelling when it names this format (`.jpeg`), else the format's usual one."""
        if self._extension and _IMAGE_EXTENSIONS.get(self._extension.lower()) == file_format.upper():
            return self._extension.lower()
        return EXTENSIONS.get(file_format.upper(), file_format.lower())

    def name_for(self, item: ExportItem, preset_key: str, file_format: str) -> str:
        return f"{self.stem_for(item, preset_key)}.{self.extension_for(file_format)}"


def _split_extension(template: str) -> tuple[str, str | None]:
    """(template without its image extension, that extension) when the literal ending names a type."""
    match = _TRAILING_EXTENSION.search(template)
    if match and match.group(1).lower() in _IMAGE_EXTENSIONS:
        return template[: match.start()], match.group(1)
    return template, None


def sanitise_stem(text: str) -> str:
    """A file name (without extension) that is one plain name on Windows, macOS and Linux.

    Path separators and characters Windows refuses become `_`; control and invisible
    formatting characters (which can disguise an extension) are dropped; runs of dots
    become one (no `..`); leading and trailing dots, spaces, `_` and `-` (left by empty
    fields) go; Windows device names get a `_` prefix; Chinese and other letters stay.
    """
    text = unicodedata.normalize("NFC", text)
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Co"):
            continue
        if char in _FORBIDDEN:
            kept.append("_")
        elif category.startswith("Z"):
            kept.append(" ")
        else:
            kept.append(char)
    name = re.sub(r"\.{2,}", ".", "".join(kept))
    name = re.sub(r" {2,}", " ", name).strip(" ._-")
    name = _clip_utf8(name, MAX_STEM_BYTES).rstrip(" .")
    if not name:
        return "image"
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = "_" + name
    return name


def _clip_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


class _UniqueNames:
    """Hands out names no earlier one matches, ignoring case (Windows and macOS would merge them)."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = {name.casefold() for name in taken}

    def claim(self, stem: str, extension: str) -> str:
        name = f"{stem}.{extension}"
        counter = 1
        while name.casefold() in self._taken:
            counter += 1
            name = f"{stem}-{counter}.{extension}"
        self._taken.add(name.casefold())
        return name


# -------------------------------------------------------------------------- export
def stored_sources(files: FileStore, data_dir: Path) -> SourceReader:
    """Sources read through the job file store (a shared bucket too), bounded as from disk."""

    def read(source: Path) -> bytes:
        try:
            key = key_for(source, data_dir)
            local = files.local_path(key)
            if local is not None:
                return read_regular_file(local, MAX_SOURCE_BYTES)
            with files.open_stream(key) as stream:
                data = stream.read(MAX_SOURCE_BYTES + 1)
        except (StorageError, ValueError) as exc:
            raise FileRefused(source.name, "file_unreadable", str(exc)) from None
        if len(data) > MAX_SOURCE_BYTES:
            raise FileRefused(source.name, "file_too_large", f"it is larger than {MAX_SOURCE_BYTES} bytes")
        return data

    return read


def _read_local(source: Path) -> bytes:
    return read_regular_file(source, MAX_SOURCE_BYTES)


def export_zip(
    items: Iterable[ExportItem],
    preset: Preset,
    template: NameTemplate | str,
    out: BinaryIO | Path | str,
    *,
    segmenter: Segmenter | None = None,
    progress: Progress | None = None,
    read_source: SourceReader = _read_local,
    gate: ExportGate | None = None,
) -> ExportReport:
    """Write a ZIP of the rendered images plus `export.csv` to `out` (a path, or a writable stream).

    Images are stored, not deflated (JPEG and PNG are compressed already); the CSV is
    deflated. Each entry is written as soon as it is rendered, so memory holds one image
    at a time, and an unseekable stream (an HTTP response) works. A path is written to a
    temporary file beside it and moved into place at the end, so a crash leaves no half ZIP.
    `progress(done, total)` is called after each item.
    """
    names = NameTemplate(template) if isinstance(template, str) else template
    if isinstance(out, str | Path):
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as stream:
                report = _write_zip(items, preset, names, stream, segmenter, progress, read_source, gate)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return report
    return _write_zip(items, preset, names, out, segmenter, progress, read_source, gate)


def export_to_dir(
    items: Iterable[ExportItem],
    preset: Preset,
    template: NameTemplate | str,
    out_dir: Path | str,
    *,
    segmenter: Segmenter | None = None,
    progress: Progress | None = None,
    read_source: SourceReader = _read_local,
    gate: ExportGate | None = None,
) -> ExportReport:
    """The same export into a folder (created if missing). Files already there are never
    overwritten: a name in use gets `-2`, `-3` (the CSV too; `ExportReport.csv_name` says which)."""
    names = NameTemplate(template) if isinstance(template, str) else template
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    unique = _UniqueNames(entry.name for entry in folder.iterdir())
    csv_name = unique.claim(*CSV_NAME.rsplit(".", 1))

    def write(name: str, data: bytes, _: datetime | None) -> None:
        _write_file(folder / name, data)

    return _export(items, preset, names, unique, write, segmenter, progress, csv_name, read_source, gate)


def _write_zip(
    items: Iterable[ExportItem],
    preset: Preset,
    names: NameTemplate,
    stream: BinaryIO,
    segmenter: Segmenter | None,
    progress: Progress | None,
    read_source: SourceReader,
    gate: ExportGate | None,
) -> ExportReport:
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:

        def write(name: str, data: bytes, moment: datetime | None) -> None:
            info = zipfile.ZipInfo(name, date_time=_zip_time(moment))
            # Images are compressed already: deflating them again costs time and saves nothing.
            info.compress_type = zipfile.ZIP_DEFLATED if name.endswith(".csv") else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)

        return _export(
            items,
            preset,
            names,
            _UniqueNames([CSV_NAME]),
            write,
            segmenter,
            progress,
            CSV_NAME,
            read_source,
            gate,
        )


def _export(
    items: Iterable[ExportItem],
    preset: Preset,
    names: NameTemplate,
    unique: _UniqueNames,
    write: Callable[[str, bytes, datetime | None], None],
    segmenter: Segmenter | None,
    progress: Progress | None,
    csv_name: str,
    read_source: SourceReader,
    gate: ExportGate | None = None,
) -> ExportReport:
    todo: Sequence[ExportItem] = list(items)
    files: list[ExportedFile] = []
    failures: list[ExportFailure] = []
    rows: list[list[object]] = []
    for done, item in enumerate(todo, 1):
        outcome = _render(item, preset, segmenter, read_source, gate)
        if isinstance(outcome, Rendered) and gate is not None:
            outcome = _gated(item, outcome, preset, gate)
        if isinstance(outcome, ExportFailure):
            failures.append(outcome)
            rows.append(_row(item, preset, None, None, outcome.message))
        else:
            name = unique.claim(names.stem_for(item, preset.key), names.extension_for(outcome.format))
            write(name, outcome.data, item.created_at)
            exported = ExportedFile(
                name=name,
                item=item,
                width=outcome.width,
                height=outcome.height,
                size_bytes=len(outcome.data),
                quality=outcome.quality,
                notes=outcome.notes,
            )
            files.append(exported)
            rows.append(_row(item, preset, exported, outcome, ""))
        if progress is not None:
            progress(done, len(todo))
    write(csv_name, _csv_bytes(rows), None)
    return ExportReport(preset=preset.key, files=tuple(files), failures=tuple(failures), csv_name=csv_name)


def preview_export(
    items: Iterable[ExportItem],
    preset: Preset,
    gate: ExportGate,
    *,
    read_source: SourceReader = _read_local,
    progress: Progress | None = None,
) -> list[ExportPreview]:
    """Each image checked against the preset's rules as it is and as the export would write it."""
    todo: Sequence[ExportItem] = list(items)
    previews: list[ExportPreview] = []
    for done, item in enumerate(todo, 1):
        previews.append(_preview(item, preset, gate, read_source))
        if progress is not None:
            progress(done, len(todo))
    return previews


def _preview(item: ExportItem, preset: Preset, gate: ExportGate, read_source: SourceReader) -> ExportPreview:
    try:
        data = read_source(Path(item.source))
    except FileRefused as exc:
        return ExportPreview(item, None, None, f"cannot read {Path(item.source).name}: {exc.reason}")
    try:
        before = gate.check(data, preset)
    except Exception as exc:  # the file itself is unusable: the render below says why
        before = None
        logger.debug("checking %s as generated failed: %s", item.source, exc)
    outcome = _render_bytes(item, data, preset, gate.segmenter, gate)
    if isinstance(outcome, ExportFailure):
        return ExportPreview(item, before, None, outcome.message)
    return ExportPreview(item, before, gate.check(outcome.data, preset), None, outcome.scale)


def _gated(
    item: ExportItem, rendered: Rendered, preset: Preset, gate: ExportGate
) -> Rendered | ExportFailure:
    """The rendered file, or why the gate leaves it out (enlarged too much, still breaking a rule)."""
    if gate.max_upscale is not None and rendered.scale > gate.max_upscale:
        return ExportFailure(item, "upscaled", upscaled_message(rendered.scale, gate.max_upscale))
    if gate.check_rules and not gate.allow_noncompliant:
        report = gate.check(rendered.data, preset)
        if report.flags:
            return ExportFailure(item, "not_compliant", noncompliant_message(report))
    return rendered


def _render(
    item: ExportItem,
    preset: Preset,
    segmenter: Segmenter | None,
    read_source: SourceReader,
    gate: ExportGate | None = None,
) -> Rendered | ExportFailure:
    source = Path(item.source)
    try:
        data = read_source(source)
    except FileRefused as exc:
        return ExportFailure(item, "unreadable", f"cannot read {source.name}: {exc.reason}")
    return _render_bytes(item, data, preset, segmenter, gate)


def _render_bytes(
    item: ExportItem, data: bytes, preset: Preset, segmenter: Segmenter | None, gate: ExportGate | None
) -> Rendered | ExportFailure:
    labels = (gate.provider_labels if gate else None) or {}
    provenance = provenance_for(
        item.provider, labels.get(item.provider, ""), item.job_id, item.created_at.astimezone(UTC)
    )
    try:
        return render_detailed(
            data,
            preset,
            segmenter=segmenter,
            provenance=provenance,
            visible_label=gate.visible_label if gate else None,
            label_font=gate.label_font if gate else None,
            label_font_index=gate.label_font_index if gate else 0,
        )
    except ImageInputError as exc:
        return ExportFailure(item, f"image_{exc.code}", str(exc))
    except ExportError as exc:
        return ExportFailure(item, _snake(type(exc).__name__), str(exc))
    except (ValueError, MemoryError) as exc:
        return ExportFailure(item, "render_failed", f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # one odd file (e.g. an OpenCV error) must not stop a 200-image export
        return ExportFailure(item, "render_failed", f"unexpected {type(exc).__name__}: {exc}")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# ----------------------------------------------------------------------------- CSV
def _row(
    item: ExportItem, preset: Preset, exported: ExportedFile | None, rendered: Rendered | None, error: str
) -> list[object]:
    return [
        _cell(exported.name) if exported else "",
        _cell(item.sku),
        item.provider,
        item.job_id,
        item.n,
        item.workflow,
        exported.width if exported else "",
        exported.height if exported else "",
        exported.size_bytes if exported else "",
        preset.key,
        _cell(item.source_name or Path(item.source).name),  # never an absolute server path
        item.cost.as_str() if item.cost else "",
        item.cost.currency if item.cost else "",
        _cell(item.prompt),
        _cell(item.scene),
        rendered.quality if rendered and rendered.quality is not None else "",
        _cell("; ".join(rendered.notes)) if rendered else "",
        _cell(error),
    ]


def _csv_bytes(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    # The BOM makes Excel read the file as UTF-8, so Chinese SKUs and prompts show correctly.
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _cell(text: str) -> str:
    # A cell starting with = + - @ (or TAB, CR, NUL) is a formula to Excel; an apostrophe keeps it text.
    return neutralise_cell(text or "")


# --------------------------------------------------------------------------- files
def _local(moment: datetime) -> datetime:
    return moment.astimezone() if moment.tzinfo is not None else moment


def _zip_time(moment: datetime | None) -> tuple[int, int, int, int, int, int]:
    local = _local(moment) if moment is not None else datetime.now()
    # ZIP timestamps start in 1980 and have two-second steps.
    if local.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second - local.second % 2)


def _write_file(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


__all__ = [
    "CSV_COLUMNS",
    "CSV_NAME",
    "DEFAULT_TEMPLATE",
    "TEMPLATE_FIELDS",
    "ExportFailure",
    "ExportItem",
    "ExportReport",
    "ExportedFile",
    "NameTemplate",
    "export_to_dir",
    "export_zip",
    "preview_export",
    "relative_source",
    "sanitise_stem",
]
