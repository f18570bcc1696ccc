"""Reading a manifest file into rows of text: CSV in any common encoding, or the first XLSX sheet."""

from __future__ import annotations

import csv
import io
import warnings
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from studio.manifest_base import MANIFEST_COLUMNS, MANIFEST_SUFFIXES, ManifestError


def _read_table(path: Path) -> list[list[str]]:
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
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"The manifest {path.name} cannot be read ({exc.strerror or exc}).") from None
    if not data.strip():
        raise ManifestError(f"The manifest {path.name} is empty. Add a header row and one row per image.")
    rows = _read_csv(data, path.name) if suffix == ".csv" else _read_xlsx(data, path.name)
    rows = [[cell.strip() for cell in row] for row in rows]
    if not any(any(row) for row in rows):
        raise ManifestError(
            f"The manifest {path.name} has no header row. The first row must name the columns."
        )
    return rows


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM (and tabs).
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on a Chinese Windows saves "CSV" in the system code page (GBK, a subset of GB18030).
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ManifestError(
            f"The manifest {name} is neither UTF-8 nor GB18030 text. Save it as 'CSV UTF-8' and try again."
        ) from None


def _read_csv(data: bytes, name: str) -> list[list[str]]:
    text = _decode(data, name)
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel writes ";" where the decimal mark is a comma, and tabs for "Unicode text".
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise ManifestError(
            f"The manifest {name} is not valid CSV ({exc}). Save it again from Excel."
        ) from None


def _read_xlsx(data: bytes, name: str) -> list[list[str]]:
    import openpyxl  # type: ignore[import-untyped, unused-ignore]

    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel features it does not read (data validation, styles).
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    except Exception:  # openpyxl raises a zoo of types for a damaged or foreign file
        raise ManifestError(
            f"The manifest {name} could not be read as an Excel workbook. Open it in Excel, save it as "
            ".xlsx (or CSV) and try again."
        ) from None


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
