"""Reading a manifest file into rows of text: CSV in any common encoding, or the first XLSX sheet.

Everything here is bounded whatever the file says about itself: the file's bytes
(checked before decoding), the rows read (stopping one past the batch's row cap), the
columns, the text kept, and for a workbook the unpacked size of every part, the cells
of each row and the XML itself (no DTDs). The sheet's own `dimension` is never
trusted: a 1.5 KB workbook may claim A1:XFD1048576.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import xml.parsers.expat
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any

from studio.manifest_base import MANIFEST_COLUMNS, MANIFEST_SUFFIXES, ManifestError
from studio.safe_files import (
    FileRefused,
    LimitExceeded,
    ZipDirectoryTooLarge,
    check_zip_directory,
    copy_bounded,
    megabytes,
    read_regular_file,
)

# A 100,000-row manifest is 10-20 MB as CSV; 48 MB leaves room for long prompts.
MAX_CSV_BYTES = 48 * 1024 * 1024
# Workbooks may carry pasted product pictures (never read); as large as one photo may be.
MAX_XLSX_BYTES = 40 * 1024 * 1024
# Rows read from the top, blank ones included: data below this row is refused, not skipped.
MAX_SHEET_ROWS = 120_000
# The manifest has 11 columns plus param.<option> ones.
MAX_COLUMNS = 64
# Text kept from all cells together (a shared string may be repeated in every cell).
MAX_TABLE_CHARS = 40_000_000
# Workbook parts: openpyxl reads shared strings, styles and the workbook whole, sheets as a stream.
MAX_XLSX_ENTRIES = 10_000
MAX_XLSX_DIRECTORY_BYTES = 4 * 1024 * 1024
MAX_XLSX_PART_BYTES = 24 * 1024 * 1024
MAX_XLSX_SHEET_BYTES = 160 * 1024 * 1024
MAX_XLSX_UNPACKED_BYTES = 256 * 1024 * 1024
# Excel's own column limit; openpyxl holds one row's cells at a time.
MAX_ROW_CELLS = 16_384
MAX_SHEET_CELLS = 4_000_000
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+$")


def read_table(path: Path, *, max_rows: int) -> list[list[str]]:
    """The rows of text (cells trimmed, trailing blank rows dropped); at most `max_rows` + 2
    non-blank rows (the header, the rows, and one more so the caller sees the cap is passed)."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ManifestError(
            f"{path.name} is an old Excel 97-2003 file. Save it as .xlsx (Excel workbook) or CSV and try again."
        )
    if suffix not in MANIFEST_SUFFIXES:
        raise ManifestError(
            f"{path.name} is not a manifest: use a .csv file or an Excel .xlsx workbook "
            f"with the header {','.join(MANIFEST_COLUMNS)}."
        )
    limit = MAX_CSV_BYTES if suffix == ".csv" else MAX_XLSX_BYTES
    try:
        data = read_regular_file(path, limit)
    except FileRefused as exc:
        if exc.code == "file_too_large":
            raise ManifestError(
                f"The manifest {path.name} is larger than {megabytes(limit)} MB; a manifest of "
                f"{max_rows} rows is far smaller. Remove pictures and unused sheets, or split it.",
                "manifest_too_large",
                {"name": path.name, "max_mb": megabytes(limit)},
            ) from None
        raise ManifestError(f"The manifest {path.name} cannot be read ({exc.reason}).") from None
    if not data or data.isspace():  # (strip() would copy up to the whole cap)
        raise ManifestError(f"The manifest {path.name} is empty. Add a header row and one row per image.")
    rows = _read_csv(data, path.name, max_rows) if suffix == ".csv" else _read_xlsx(data, path.name, max_rows)
    if not rows:
        raise ManifestError(
            f"The manifest {path.name} has no header row. The first row must name the columns."
        )
    return rows


def _collect(
    rows: Iterable[Sequence[Any]], name: str, max_rows: int, text: Callable[[Any], str]
) -> list[list[str]]:
    """Trimmed rows until `max_rows` + 2 non-blank ones; blank rows are kept only between others."""
    table: list[list[str]] = []
    blank = chars = filled = 0
    for number, row in enumerate(rows, 1):
        cells = [text(value).strip() for value in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            blank += 1
            continue
        if len(cells) > MAX_COLUMNS:
            raise _too_wide(name)
        if number > MAX_SHEET_ROWS:
            raise ManifestError(
                f"The manifest {name} has data below row {MAX_SHEET_ROWS}; keep the table at the top "
                "and delete the rows far below it.",
                "manifest_too_long",
                {"name": name, "max": MAX_SHEET_ROWS},
            )
        chars += sum(map(len, cells))
        if chars > MAX_TABLE_CHARS:
            raise ManifestError(
                f"The manifest {name} holds more than {MAX_TABLE_CHARS:,} characters of text; "
                "shorten the prompts or split it.",
                "manifest_too_much_text",
                {"name": name, "max": MAX_TABLE_CHARS},
            )
        table.extend([] for _ in range(blank))
        blank = 0
        table.append(cells)
        filled += 1
        if filled > max_rows + 1:
            break  # the header, max_rows rows and one more: enough to say the batch is too long
    return table


def _too_wide(name: str) -> ManifestError:
    return ManifestError(
        f"The manifest {name} has cells beyond column {MAX_COLUMNS}; a manifest has at most "
        f"{MAX_COLUMNS} columns. Delete the cells to the right of the table.",
        "manifest_too_wide",
        {"name": name, "max": MAX_COLUMNS},
    )


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM (and tabs).
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            # Excel on a Chinese Windows saves "CSV" in the system code page (GBK, a subset of GB18030).
            return data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    raise ManifestError(
        f"The manifest {name} is neither UTF-8 nor GB18030 text. Save it as 'CSV UTF-8' and try again."
    )


def _read_csv(data: bytes, name: str, max_rows: int) -> list[list[str]]:
    text = _decode(data, name)
    first = next((line for line in _lines(text) if line.strip()), "")
    # Excel writes ";" where the decimal mark is a comma, and tabs for "Unicode text".
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        reader = csv.reader(_lines(text), delimiter=delimiter)
        return _collect(reader, name, max_rows, str)
    except csv.Error as exc:
        raise ManifestError(
            f"The manifest {name} is not valid CSV ({exc}). Save it again from Excel."
        ) from None


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their endings (\n, \r\n or \r), one at a time: no list of every
    line, and no StringIO (which holds four bytes a character)."""
    return (match.group() for match in _LINE.finditer(text))


def _read_xlsx(data: bytes, name: str, max_rows: int) -> list[list[str]]:
    import openpyxl  # type: ignore[import-untyped, unused-ignore]

    wide = _check_workbook(data, name)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel features it does not read (data validation, styles).
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            if getattr(sheet, "_worksheet_path", None) in wide:
                raise _too_wide(name)
            # Never the sheet's own dimension: bounded rows and columns, one past each limit.
            rows = sheet.iter_rows(
                min_row=1, max_row=MAX_SHEET_ROWS + 1, min_col=1, max_col=MAX_COLUMNS + 1, values_only=True
            )
            return _collect(rows, name, max_rows, _cell_text)
        finally:
            book.close()
    except ManifestError:
        raise
    except Exception:  # openpyxl raises a zoo of types for a damaged or foreign file
        raise _not_a_workbook(name) from None


def _not_a_workbook(name: str) -> ManifestError:
    return ManifestError(
        f"The manifest {name} could not be read as an Excel workbook. Open it in Excel, save it as "
        ".xlsx (or CSV) and try again."
    )


def _unpacks_too_large(name: str) -> ManifestError:
    return ManifestError(
        f"The workbook {name} unpacks to far more than a manifest needs (or says one size and holds "
        "another). Copy the table into a new workbook, or save it as CSV, and try again.",
        "manifest_unpacks_too_large",
        {"name": name},
    )


def _check_workbook(data: bytes, name: str) -> set[str]:
    """Refuse a workbook whose parts unpack beyond the caps (declared sizes, then the bytes counted
    while unpacking, since headers lie), whose XML declares a DTD, or whose sheet rows hold more
    cells than Excel allows, before openpyxl reads anything. Returns the sheets (part names) with
    a value beyond MAX_COLUMNS, which openpyxl is not asked to read."""
    try:
        check_zip_directory(data, max_entries=MAX_XLSX_ENTRIES, max_directory_bytes=MAX_XLSX_DIRECTORY_BYTES)
        archive = zipfile.ZipFile(io.BytesIO(data))
    except ZipDirectoryTooLarge:
        raise _unpacks_too_large(name) from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _not_a_workbook(name) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_XLSX_ENTRIES:
            raise _unpacks_too_large(name)
        declared = 0
        for info in infos:
            declared += info.file_size
            if declared > MAX_XLSX_UNPACKED_BYTES or info.file_size > _part_limit(info.filename):
                raise _unpacks_too_large(name)
        cells = 0
        wide: set[str] = set()
        for info in infos:
            if PurePosixPath(info.filename).suffix.lower() not in (".xml", ".rels", ".vml"):
                continue  # pictures and binary parts: openpyxl's read-only mode never opens them
            scan = _XmlScan(_is_sheet(info.filename), MAX_SHEET_CELLS - cells)
            try:
                with archive.open(info) as handle:
                    copy_bounded(handle, scan, min(info.file_size, _part_limit(info.filename)))
                scan.close()
            except (LimitExceeded, _TooManyCells):
                raise _unpacks_too_large(name) from None
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError):
                raise _not_a_workbook(name) from None
            except (xml.parsers.expat.ExpatError, _HasDtd):
                raise _not_a_workbook(name) from None
            cells += scan.cells
            if scan.wide:
                wide.add(info.filename)
    return wide


def _is_sheet(filename: str) -> bool:
    return filename.lower().startswith("xl/worksheets/") and filename.lower().endswith(".xml")


def _part_limit(filename: str) -> int:
    if _is_sheet(filename):
        return MAX_XLSX_SHEET_BYTES
    if PurePosixPath(filename).suffix.lower() in (".xml", ".rels", ".vml"):
        return MAX_XLSX_PART_BYTES
    return MAX_XLSX_BYTES  # a picture or other binary part: no larger than the file may be


class _TooManyCells(Exception):
    pass


class _HasDtd(Exception):
    pass


class _XmlScan:
    """A write-only sink that parses XML as it arrives (expat, no tree): refuses DTDs and, for a
    sheet, rows with more cells than Excel has columns."""

    def __init__(self, sheet: bool, max_cells: int) -> None:
        self.cells = 0
        self.wide = False  # a value in a column past MAX_COLUMNS
        self._row_cells = 0
        self._column = 0
        self._valued = False
        self._max_cells = max_cells
        self._parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        self._parser.StartDoctypeDeclHandler = self._doctype
        self._parser.EntityDeclHandler = self._doctype
        if sheet:
            self._parser.StartElementHandler = self._start
            self._parser.EndElementHandler = self._end

    def _doctype(self, *_: object) -> None:
        raise _HasDtd("a DTD in a workbook part")

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        local = tag.rpartition(" ")[2]
        if local == "row":
            self._row_cells = self._column = 0
        elif local == "c":
            self._row_cells += 1
            self.cells += 1
            if self._row_cells > MAX_ROW_CELLS or self.cells > self._max_cells:
                raise _TooManyCells(local)
            self._column = _column_number(attributes.get("r", "")) or self._column + 1
            self._valued = False
        elif local in ("v", "is", "f"):
            self._valued = True

    def _end(self, tag: str) -> None:
        if self._valued and self._column > MAX_COLUMNS and tag.rpartition(" ")[2] == "c":
            self.wide = True

    def write(self, chunk: bytes) -> int:
        self._parser.Parse(chunk, False)
        return len(chunk)

    def close(self) -> None:
        self._parser.Parse(b"", True)


def _column_number(reference: str) -> int:
    """The column of a cell reference ("B7" -> 2, "XFD1" -> 16384); 0 when there is none."""
    number = 0
    for char in reference[:4]:
        if not "A" <= char <= "Z":
            break
        number = number * 26 + ord(char) - 64
    return number


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores every number as a float: a count of 2 reads 2.0
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)
