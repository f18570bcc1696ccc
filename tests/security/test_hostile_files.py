"""Hostile files: everything a user uploads or names is read within bounds (issue 15).

The corpus is generated here: workbooks written by hand with `zipfile` (a dimension of
A1:XFD1048576, a shared-strings bomb, a header that lies about a part's size, a DTD), CSVs
just over the byte cap or far too long, ZIPs whose entries are larger than they declare or
really large, too many entries, a FIFO, a socket, `/dev/zero` and a folder where a file
should be, export templates that would pad for minutes, and CSV cells a spreadsheet would
run. Memory is measured with `tracemalloc` (peak Python allocations) where the point is a
bound; nothing here asserts on time.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from PIL import Image

from imaging.marketplace import PRESETS
from providers.base import Operation, ProviderContext
from providers.local import LocalEngine
from studio import cli, cli_backdrops, history, manifest, manifest_tables
from studio.backdrop_match import BackdropError
from studio.export import CSV_NAME, ExportItem, NameTemplate, export_zip
from studio.manifest import BatchDefaults, ManifestError, plan_from_manifest, plan_from_zip
from studio.manifest_tables import read_table
from studio.manifest_zip import MAX_ZIP_ENTRIES, unpack_zip
from studio.safe_files import (
    FileRefused,
    LimitExceeded,
    copy_bounded,
    neutralise_cell,
    read_regular_file,
)
from studio.service import Studio
from studio.settings import load_settings
from tests.studio.fakes import FakeClock, SyncFake

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
DEFAULTS = BatchDefaults(workflow=Operation.PROMPT_BACKGROUND, provider="fake_sync")
T = TypeVar("T")
needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")


# --------------------------------------------------------------------------- helpers
def peak_bytes(action: Callable[[], T]) -> tuple[T | BaseException, int]:
    """What `action` returned (or raised) and the peak of Python allocations while it ran."""
    tracemalloc.start()
    try:
        outcome: T | BaseException = action()
    except BaseException as exc:  # noqa: BLE001 - the caller asserts on it
        outcome = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return outcome, peak


def photo(width: int = 320, height: int = 240) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 200, np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    "</Relationships>"
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet_xml(rows: str, dimension: str = "A1:B2") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


def inline_row(number: int, *cells: str) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    inner = "".join(
        f'<c r="{letters[i]}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for i, text in enumerate(cells)
    )
    return f'<row r="{number}">{inner}</row>'


def shared_strings(strings: list[str]) -> bytes:
    items = "".join(f"<si><t>{text}</t></si>" for text in strings)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<sst xmlns="{_MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()


def workbook(sheet: bytes, strings: bytes | None = None, **extra: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", strings if strings is not None else shared_strings([]))
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def lie_about_size(data: bytes, name: str, declared: int) -> bytes:
    """The ZIP with `name`'s uncompressed size rewritten to `declared` in both of its headers."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    patched = bytearray(data)
    local = info.header_offset
    assert patched[local : local + 4] == b"PK\x03\x04"
    patched[local + 22 : local + 26] = declared.to_bytes(4, "little")
    central = patched.find(b"PK\x01\x02")
    while central >= 0:
        name_length = int.from_bytes(patched[central + 28 : central + 30], "little")
        if patched[central + 46 : central + 46 + name_length] == name.encode():
            patched[central + 24 : central + 28] = declared.to_bytes(4, "little")
            return bytes(patched)
        central = patched.find(b"PK\x01\x02", central + 4)
    raise AssertionError(f"no central record for {name}")


def make_zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture()
def studio(tmp_path: Path) -> Iterator[Studio]:
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "data")}, tmp_path / "none.toml")
    adapters = {"fake_sync": SyncFake(), "local": LocalEngine(ProviderContext())}
    studio = Studio(settings, adapters=adapters, clock=FakeClock(), worker_threads=0)
    yield studio
    studio.close()


@pytest.fixture()
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("FIFOs are POSIX")
    path = tmp_path / "photo.png"
    os.mkfifo(path)
    return path


@pytest.fixture()
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no UNIX sockets here")
    path = tmp_path / "s.png"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    yield path
    server.close()


# ------------------------------------------------------------------ XLSX manifests
def test_an_xlsx_that_declares_every_cell_of_excel_is_read_in_bounded_memory(tmp_path: Path) -> None:
    rows = inline_row(1, "sku", "image") + inline_row(2, "A", "a.jpg") + inline_row(1_048_576, "", "")
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(workbook(sheet_xml(rows, dimension="A1:XFD1048576")))
    assert path.stat().st_size < 3000  # 1.5 KB on disk, "17 billion cells" by its own account
    table, peak = peak_bytes(lambda: read_table(path, max_rows=1000))
    assert table == [["sku", "image"], ["A", "a.jpg"]]
    assert peak < 100 * MB, peak


def test_an_xlsx_row_far_below_the_table_is_refused_not_padded(tmp_path: Path) -> None:
    rows = inline_row(1, "sku", "image") + inline_row(2, "A", "a.jpg") + inline_row(900_000, "B", "b.jpg")
    path = tmp_path / "far.xlsx"
    path.write_bytes(workbook(sheet_xml(rows, dimension="A1:XFD1048576")))
    table, peak = peak_bytes(lambda: read_table(path, max_rows=1000))
    # The row lies beyond the rows read, so it is never reached; memory stays bounded all the same.
    assert table == [["sku", "image"], ["A", "a.jpg"]]
    assert peak < 100 * MB, peak
    rows = inline_row(1, "sku", "image") + inline_row(manifest_tables.MAX_SHEET_ROWS + 1, "B", "b.jpg")
    path.write_bytes(workbook(sheet_xml(rows)))
    with pytest.raises(ManifestError) as raised:
        read_table(path, max_rows=1000)
    assert raised.value.code == "manifest_too_long"


def test_an_xlsx_stops_one_row_past_the_cap(
    tmp_path: Path, studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest, "MAX_ROWS", 1000)  # the cap is 100,000 rows; a smaller one to test it
    rows = inline_row(1, "sku", "image") + "".join(inline_row(n, f"S{n}", "a.jpg") for n in range(2, 3000))
    path = tmp_path / "long.xlsx"
    path.write_bytes(workbook(sheet_xml(rows)))
    table = read_table(path, max_rows=10)
    assert len(table) == 12  # the header, ten rows and the one that says "too many"
    with pytest.raises(ManifestError, match="more than 1000 rows"):
        plan_from_manifest(studio, path, DEFAULTS)


def test_an_xlsx_wider_than_a_manifest_is_refused(tmp_path: Path) -> None:
    far = '<c r="ZZ1" t="inlineStr"><is><t>x</t></is></c>'
    path = tmp_path / "wide.xlsx"
    path.write_bytes(
        workbook(sheet_xml(f'<row r="1"><c r="A1" t="inlineStr"><is><t>image</t></is></c>{far}</row>'))
    )
    with pytest.raises(ManifestError) as raised:
        read_table(path, max_rows=1000)
    assert raised.value.code == "manifest_too_wide"


def test_an_xlsx_row_with_more_cells_than_excel_has_columns_is_refused(tmp_path: Path) -> None:
    cells = "".join(f'<c r="A1" t="inlineStr"><is><t>{i}</t></is></c>' for i in range(20_000))
    path = tmp_path / "cells.xlsx"
    path.write_bytes(workbook(sheet_xml(f'<row r="1">{cells}</row>')))
    with pytest.raises(ManifestError) as raised:
        read_table(path, max_rows=1000)
    assert raised.value.code == "manifest_unpacks_too_large"


def test_a_shared_strings_zip_bomb_is_refused_before_openpyxl_reads_it(tmp_path: Path) -> None:
    # 40 MB of one repeated string, a few dozen KB packed.
    huge = shared_strings(["a" * 1_000_000] * 40)
    data = workbook(sheet_xml(inline_row(1, "sku", "image")), huge)
    assert len(data) < 1 * MB
    path = tmp_path / "strings.xlsx"
    path.write_bytes(data)
    outcome, peak = peak_bytes(lambda: read_table(path, max_rows=1000))
    assert isinstance(outcome, ManifestError) and outcome.code == "manifest_unpacks_too_large"
    assert peak < 20 * MB, peak


def test_a_workbook_part_larger_than_its_header_says_is_refused(tmp_path: Path) -> None:
    huge = shared_strings(["b" * 1_000_000] * 40)
    data = lie_about_size(
        workbook(sheet_xml(inline_row(1, "sku", "image")), huge), "xl/sharedStrings.xml", 2000
    )
    path = tmp_path / "liar.xlsx"
    path.write_bytes(data)
    outcome, peak = peak_bytes(lambda: read_table(path, max_rows=1000))
    assert isinstance(outcome, ManifestError), outcome
    assert peak < 20 * MB, peak


def test_a_workbook_with_a_dtd_is_refused(tmp_path: Path) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        f'<sst xmlns="{_MAIN}"><si><t>&c;</t></si></sst>'
    ).encode()
    path = tmp_path / "dtd.xlsx"
    path.write_bytes(workbook(sheet_xml(inline_row(1, "sku", "image")), laughs))
    with pytest.raises(ManifestError, match="Excel workbook"):
        read_table(path, max_rows=1000)


def test_an_ordinary_workbook_still_reads(tmp_path: Path) -> None:
    strings = shared_strings(["sku", "image", "红鞋", "shoe.jpg"])
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2"><v>2</v></c></row>'
    )
    path = tmp_path / "ok.xlsx"
    path.write_bytes(workbook(sheet_xml(rows), strings))
    assert read_table(path, max_rows=1000) == [["sku", "image"], ["红鞋", "shoe.jpg", "2"]]


# ------------------------------------------------------------------- CSV manifests
def test_a_csv_just_over_the_byte_cap_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.write(b"sku,image\n")
        handle.write(b"x" * (manifest_tables.MAX_CSV_BYTES - 9))
    assert path.stat().st_size == manifest_tables.MAX_CSV_BYTES + 1
    outcome, peak = peak_bytes(lambda: read_table(path, max_rows=1000))
    assert isinstance(outcome, ManifestError) and outcome.code == "manifest_too_large", outcome
    assert outcome.params["max_mb"] == manifest_tables.MAX_CSV_BYTES // MB
    assert peak < 2 * MB, peak  # refused from its size: not even read


def test_a_long_csv_under_the_cap_stops_one_row_past_the_row_cap(
    tmp_path: Path, studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest, "MAX_ROWS", 1000)  # the cap is 100,000 rows; a smaller one to test it
    path = tmp_path / "long.csv"
    line = b"SKU,photos/shoe.jpg\n"
    path.write_bytes(b"sku,image\n" + line * ((manifest_tables.MAX_CSV_BYTES - 100) // len(line)))
    table, peak = peak_bytes(lambda: read_table(path, max_rows=1000))
    assert isinstance(table, list) and len(table) == 1002
    # The text itself (10 MB) is decoded once; the rows past the cap are never built.
    assert peak < 4 * manifest_tables.MAX_CSV_BYTES, peak
    with pytest.raises(ManifestError, match="more than 1000 rows"):
        plan_from_manifest(studio, path, DEFAULTS)


def test_blank_lines_then_data_far_below_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_bytes(b"sku,image\nA,a.jpg\n" + b"\n" * manifest_tables.MAX_SHEET_ROWS + b"B,b.jpg\n")
    with pytest.raises(ManifestError) as raised:
        read_table(path, max_rows=1000)
    assert raised.value.code == "manifest_too_long"
    # Blank lines after the table are no problem, however many.
    path.write_bytes(b"sku,image\nA,a.jpg\n" + b"\n" * 100_000)
    assert read_table(path, max_rows=1000) == [["sku", "image"], ["A", "a.jpg"]]


def test_a_csv_wider_than_a_manifest_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(b"image" + b",x" * 100 + b"\n")
    with pytest.raises(ManifestError) as raised:
        read_table(path, max_rows=1000)
    assert raised.value.code == "manifest_too_wide"


def test_a_csv_with_a_huge_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "field.csv"
    path.write_bytes(b'sku,image\nA,"' + b"y" * 200_000 + b'"\n')
    with pytest.raises(ManifestError, match="not valid CSV"):
        read_table(path, max_rows=1000)


# -------------------------------------------------------------------------- ZIPs
def test_a_zip_entry_that_streams_more_than_it_declares_is_not_unpacked(
    tmp_path: Path, studio: Studio
) -> None:
    data = lie_about_size(make_zip({"shoe.jpg": photo(), "bomb.jpg": b"\0" * (60 * MB)}), "bomb.jpg", 1000)
    assert len(data) < 2 * MB
    plan, peak = peak_bytes(lambda: plan_from_zip(studio, data, DEFAULTS))
    assert not isinstance(plan, BaseException), plan
    assert [item.sku for item in plan.items] == ["shoe"]
    assert [(p.sku, p.code) for p in plan.problems] == [("bomb", "file_unreadable")]
    assert peak < 50 * MB, peak


def test_a_really_large_zip_entry_is_streamed_to_disk_not_held(tmp_path: Path) -> None:
    size = 30 * MB
    data = make_zip({"big.png": b"\0" * size, "shoe.jpg": photo()})
    folder = tmp_path / "out"
    folder.mkdir()
    unpacked, peak = peak_bytes(
        lambda: unpack_zip(data, folder, max_total_bytes=500 * MB, max_entry_bytes=40 * MB)
    )
    assert not isinstance(unpacked, BaseException), unpacked
    assert [(file.name, file.path.stat().st_size) for file in unpacked.files] == [
        ("big.png", size),
        ("shoe.jpg", len(photo())),
    ]
    assert peak < 8 * MB, peak  # chunks of 1 MB, never the 30 MB entry


def test_a_zip_entry_over_the_entry_cap_is_a_problem_and_never_unpacked(
    tmp_path: Path, studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest, "MAX_FILE_BYTES", 4 * MB)
    data = make_zip({"huge.jpg": b"\0" * (490 * MB // 20), "shoe.jpg": photo()})
    plan, peak = peak_bytes(lambda: plan_from_zip(studio, data, DEFAULTS))
    assert not isinstance(plan, BaseException), plan
    assert [item.sku for item in plan.items] == ["shoe"]
    assert [(p.sku, p.code, p.params.get("max_mb")) for p in plan.problems] == [("huge", "file_too_large", 4)]
    assert peak < 16 * MB, peak


def test_a_zip_over_the_total_cap_is_refused(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest, "MAX_ZIP_BYTES", 3 * MB)
    data = make_zip({f"{n}.png": b"\0" * MB for n in range(4)})
    with pytest.raises(ManifestError) as raised:
        plan_from_zip(studio, data, DEFAULTS)
    assert raised.value.code == "zip_too_large" and raised.value.params == {"max_mb": 3}


def test_a_zip_listing_too_many_entries_is_refused_from_its_end_record(studio: Studio) -> None:
    data = make_zip({f"{n}.txt": b"" for n in range(MAX_ZIP_ENTRIES + 1)}, zipfile.ZIP_STORED)
    with pytest.raises(ManifestError) as raised:
        plan_from_zip(studio, data, DEFAULTS)
    assert raised.value.code == "zip_too_many_files"


def test_a_zip_manifest_bomb_inside_a_zip_is_refused(studio: Studio) -> None:
    bomb = workbook(
        sheet_xml(inline_row(1, "sku", "image"), dimension="A1:XFD1048576"),
        shared_strings(["c" * 1_000_000] * 40),
    )
    data = make_zip({"manifest.xlsx": bomb, "shoe.jpg": photo()})
    with pytest.raises(ManifestError) as raised:
        plan_from_zip(studio, data, DEFAULTS)
    assert raised.value.code == "manifest_unpacks_too_large"


def test_copy_bounded_counts_what_arrives_not_what_was_promised() -> None:
    sink = io.BytesIO()
    assert copy_bounded(io.BytesIO(b"a" * 10), sink, 10) == 10
    with pytest.raises(LimitExceeded):
        copy_bounded(io.BytesIO(b"a" * (3 * MB)), io.BytesIO(), 2 * MB + 5)


# ------------------------------------------------- devices, FIFOs, folders, sockets
def endless_inputs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "folder.png"
    folder.mkdir(exist_ok=True)
    paths = [folder]
    if os.path.exists("/dev/zero"):
        paths.append(Path("/dev/zero"))
    return paths


@needs_posix
def test_read_regular_file_refuses_what_is_not_a_regular_file(
    tmp_path: Path, fifo: Path, unix_socket: Path
) -> None:
    for path in [*endless_inputs(tmp_path), fifo, unix_socket]:
        with pytest.raises(FileRefused) as raised:
            read_regular_file(path, 10 * MB)
        assert raised.value.code == "not_a_file", path
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    with pytest.raises(FileRefused, match="device, pipe or socket"):
        read_regular_file(link, 10 * MB)
    with pytest.raises(FileRefused) as raised:
        read_regular_file(tmp_path / "missing.png", 10 * MB)
    assert raised.value.code == "file_not_found"
    big = tmp_path / "big.png"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(FileRefused) as raised:
        read_regular_file(big, 2047)
    assert raised.value.code == "file_too_large"
    assert read_regular_file(big, 2048) == b"x" * 2048


@needs_posix
@pytest.mark.parametrize("option", ["--image", "--mask", "--reference", "--logo"])
def test_the_cli_refuses_endless_inputs(
    tmp_path: Path, fifo: Path, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "shoe.jpg"
    good.write_bytes(photo())
    for path in [*endless_inputs(tmp_path), fifo]:
        args = ["generate", "--workflow", "prompt", "--provider", "local", "--image", str(good)]
        args[args.index("--image") : args.index("--image") + 2] = (
            ["--image", str(path)] if option == "--image" else ["--image", str(good), option, str(path)]
        )
        assert cli.main(args) == 2, (option, path)
        err = capsys.readouterr().err
        assert f"cannot read {option}" in err and "Traceback" not in err, err


@needs_posix
def test_the_cli_refuses_dev_zero_as_a_process_too(tmp_path: Path) -> None:
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "studio", "generate", "--workflow", "prompt", "--provider", "local"]
        + ["--image", "/dev/zero"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "device, pipe or socket" in done.stderr, done.stderr
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr


@needs_posix
def test_manifest_rows_naming_endless_inputs_are_row_problems(
    tmp_path: Path, studio: Studio, fifo: Path, unix_socket: Path
) -> None:
    (tmp_path / "shoe.jpg").write_bytes(photo())
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    (tmp_path / "folder.png").mkdir()
    path = tmp_path / "m.csv"
    path.write_text(
        "sku,image,mask\nA,shoe.jpg,zero.png\nB,zero.png,\nC,photo.png,\nD,s.png,\nE,folder.png,\nF,/dev/zero,\n",
        encoding="utf-8",
    )
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert [(p.sku, p.column, p.code) for p in plan.problems] == [
        ("A", "mask", "not_a_file"),
        ("B", "image", "not_a_file"),
        ("C", "image", "not_a_file"),
        ("D", "image", "not_a_file"),
        ("E", "image", "not_a_file"),
        ("F", "image", "not_a_file"),
    ]


@needs_posix
def test_a_manifest_that_is_a_device_or_fifo_is_refused(tmp_path: Path, studio: Studio) -> None:
    fifo = tmp_path / "m.csv"
    os.mkfifo(fifo)
    zero = tmp_path / "z.xlsx"
    zero.symlink_to("/dev/zero")
    for path in (fifo, zero):
        with pytest.raises(ManifestError, match="device, pipe or socket"):
            plan_from_manifest(studio, path, DEFAULTS)


@needs_posix
def test_a_backdrop_photo_that_is_a_device_is_refused(tmp_path: Path, fifo: Path) -> None:
    for path in [Path("/dev/zero"), fifo, tmp_path]:
        with pytest.raises(BackdropError) as raised:
            cli_backdrops._read(path)
        assert raised.value.code == "file_unreadable"


# ------------------------------------------------------------------ batch --check
def test_batch_check_exits_2_when_any_row_has_a_problem(tmp_path: Path) -> None:
    (tmp_path / "shoe.jpg").write_bytes(photo(320, 240))
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}

    def check(rows: str, name: str = "m.csv") -> subprocess.CompletedProcess[str]:
        path = tmp_path / name
        if rows:
            path.write_text("sku,image,workflow,provider,prompt\n" + rows, encoding="utf-8")
        return subprocess.run(
            [sys.executable, "-m", "studio", "batch", str(path), "--check"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    fine = check("A,shoe.jpg,prompt,local,white marble\n")
    assert fine.returncode == 0, fine.stderr
    bad = check("A,shoe.jpg,prompt,local,white marble\nB,gone.jpg,prompt,local,white marble\n")
    assert bad.returncode == 2 and "row 2 (B), image" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
    assert "2 when any row has a problem" in _batch_help()
    if os.path.exists("/dev/zero"):
        (tmp_path / "zero.csv").symlink_to("/dev/zero")
        zero = check("", "zero.csv")
        assert zero.returncode == 2 and "device, pipe or socket" in zero.stderr, zero.stderr
        assert "MemoryError" not in zero.stderr and "Traceback" not in zero.stderr


def _batch_help() -> str:
    parser = cli.build_parser()
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        choices: dict[str, Any] = getattr(action, "choices", {}) or {}
        if "batch" in choices:
            return " ".join(choices["batch"].format_help().split())
    return ""


# ------------------------------------------------------------- export templates
@pytest.mark.parametrize(
    "template",
    [
        "{sku:>50000000}",
        "{sku:>{n}}",
        "{n:0100d}",
        "{n:,}",
        "{sku!r}",
        "{sku!s}",
        "{sku.__class__}",
        "{sku[0]}",
        "{n.real}",
        "{0}",
        "{}",
        "x" * 300,
    ],
)
def test_export_templates_take_plain_field_names_only(template: str) -> None:
    with pytest.raises(ValueError):
        NameTemplate(template)


def test_the_documented_number_padding_still_works() -> None:
    assert NameTemplate("{sku}_{n:02d}").template == "{sku}_{n:02d}"
    assert NameTemplate("{sku}_{provider}_{n}.jpg").template


# ------------------------------------------------------------ CSV we write
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\0x", "'\0x"),
        ("shoe", "shoe"),
        ("红鞋", "红鞋"),
        ("", ""),
        (None, ""),
    ],
)
def test_neutralise_cell(value: object, expected: str) -> None:
    assert neutralise_cell(value) == expected


def test_history_and_export_csv_use_the_shared_neutraliser(tmp_path: Path) -> None:
    for hostile in ("=1+1", "\t=1", "\r@x", "\0-1"):
        assert history._cell(hostile) == neutralise_cell(hostile)
    items = [
        ExportItem(
            tmp_path / "gone.png", sku, "local", "0123456789", "prompt", datetime(2026, 1, 1), 1, prompt=sku
        )
        for sku in ("=cmd|' /C calc'!A0", "\t=1", "\r=2", "@x", "ok")
    ]
    out = io.BytesIO()
    report = export_zip(items, PRESETS["original"], "{sku}_{n}", out)
    assert len(report.failures) == 5
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        text = archive.read(CSV_NAME).decode("utf-8-sig")
    import csv

    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["sku"] for row in rows] == ["'=cmd|' /C calc'!A0", "'\t=1", "'\r=2", "'@x", "ok"]
    assert all(row["prompt"] == row["sku"] for row in rows)


def test_an_export_source_that_is_a_device_fails_that_item_only(tmp_path: Path) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    item = ExportItem(Path("/dev/zero"), "Z", "local", "0123456789", "prompt", datetime(2026, 1, 1), 1)
    report = export_zip([item], PRESETS["original"], "{sku}", io.BytesIO())
    assert [(f.code, "device" in f.message) for f in report.failures] == [("unreadable", True)]


def test_the_shared_reader_checks_the_kind_before_opening(tmp_path: Path) -> None:
    # Opening a FIFO for reading would wait for a writer; the reader must not get that far.
    path = tmp_path / "plain.txt"
    path.write_bytes(b"ok")
    assert stat.S_ISREG(os.stat(path).st_mode) and read_regular_file(path, 2) == b"ok"
