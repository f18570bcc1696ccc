"""A full disk or a read-only data folder ends in one clear sentence, never a traceback.

The CLI prints "The data folder X is full / read-only ..." and exits 3; the app's pages show the
same translated text (and log the stack); a job whose files could not all be written leaves
none behind. Faults are simulated in-process (an OSError ENOSPC from the file system, SQLite's
"database or disk is full" / "attempt to write a readonly database"); when the tests run as
root they are also made for real, on a tiny tmpfs that fills up or is remounted read-only
(chmod does not stop root).
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from studio import store_core
from studio.cli import main
from studio.jobs import JobFilter
from studio.service import Studio
from studio.storage_faults import EXIT_STORAGE, StorageFault, fault_kind, storage_fault
from tests.views.conftest import data_dir as data_dir  # noqa: F401  (the page tests' fixture)
from tests.views.conftest import open_app
from ui.plain import shown

ROOT = Path(__file__).resolve().parents[2]
GENERATE = ("generate", "--workflow", "prompt", "--provider", "local", "--prompt", "white marble")


def _disk_full() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _sqlite(message: str) -> OperationalError:
    return OperationalError("INSERT INTO jobs ...", {}, sqlite3.OperationalError(message))


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    image = np.full((240, 320, 3), 235, np.uint8)
    image[60:180, 110:210] = (30, 90, 200)
    path = tmp_path / "photo.jpg"
    Image.fromarray(image).save(path, quality=92)
    return path


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(folder))
    monkeypatch.setenv("STUDIO_CUTOUT_MODEL", "fast")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def _job_files(folder: Path) -> list[Path]:
    return _files(folder / "jobs") if (folder / "jobs").exists() else []


def _jobs_in(folder: Path) -> int:
    studio = Studio(worker_threads=0)
    try:
        return studio.list_jobs(JobFilter(), 1, 10).total
    finally:
        studio.close()


# ------------------------------------------------------------------ telling faults apart
@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (_disk_full(), "storage_full"),
        (OSError(errno.EROFS, "Read-only file system"), "storage_read_only"),
        (PermissionError(errno.EACCES, "Permission denied"), "storage_denied"),
        (_sqlite("database or disk is full"), "storage_full"),
        (_sqlite("attempt to write a readonly database"), "storage_read_only"),
        (sqlite3.OperationalError("database or disk is full"), "storage_full"),
        (RuntimeError("wrapped"), None),
        (_sqlite("database is locked"), None),
        (OSError(errno.ECONNRESET, "Connection reset"), None),
        (ValueError("disk full of opinions"), None),
    ],
)
def test_storage_faults_are_told_apart_from_other_errors(exc: BaseException, code: str | None) -> None:
    assert fault_kind(exc) == code


def test_a_fault_deep_in_the_chain_is_found_and_names_the_folder(tmp_path: Path) -> None:
    try:
        try:
            raise _disk_full()
        except OSError as inner:
            raise RuntimeError("saving failed") from inner
    except RuntimeError as outer:
        fault = storage_fault(outer, tmp_path)
    assert isinstance(fault, StorageFault)
    assert fault.code == "storage_full" and fault.params == {"folder": str(tmp_path)}
    assert str(fault).startswith(f"The data folder {tmp_path} is full")
    assert "STUDIO_DATA_DIR" in str(fault)


# ------------------------------------------------------------------ the CLI (simulated faults)
def test_a_full_disk_while_saving_a_jobs_files_exits_3_and_keeps_nothing(
    cli_env: Path, photo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio import artifacts

    def full(_fd: int) -> None:
        raise _disk_full()

    monkeypatch.setattr(artifacts.os, "fsync", full)
    code = main([*GENERATE, "--image", str(photo)])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == EXIT_STORAGE == 3
    assert f"The data folder {cli_env} is full" in err and "STUDIO_DATA_DIR" in err
    assert "Traceback" not in err
    assert _job_files(cli_env) == []  # no input.png, no temporary file
    assert [path.name for path in _files(cli_env) if ".tmp" in path.name] == []


def test_a_full_database_exits_3_and_removes_the_jobs_files(
    cli_env: Path, photo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = store_core.create_store_engine

    def engine_with_a_full_disk(url: str) -> Any:
        engine = real(url)

        @event.listens_for(engine, "before_cursor_execute")
        def _full(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO JOBS"):
                raise sqlite3.OperationalError("database or disk is full")

        return engine

    monkeypatch.setattr(store_core, "create_store_engine", engine_with_a_full_disk)
    code = main([*GENERATE, "--image", str(photo)])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == EXIT_STORAGE
    assert f"The data folder {cli_env} is full" in err
    assert "Traceback" not in err and "sqlalchemy" not in err.lower()
    assert _job_files(cli_env) == []  # the inputs written before the insert failed are gone
    assert _jobs_in(cli_env) == 0


def test_a_read_only_database_exits_3_for_every_command(
    cli_env: Path, photo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def read_only(*_: Any, **__: Any) -> int:
        raise _sqlite("attempt to write a readonly database")

    monkeypatch.setattr(store_core, "migrate", read_only)
    for argv in ([*GENERATE, "--image", str(photo)], ["jobs", "list"], ["backdrops", "list"]):
        assert main(argv) == EXIT_STORAGE, argv
        err = capsys.readouterr().err
        assert f"The data folder {cli_env} is read-only" in err, argv
        assert "Traceback" not in err


def test_the_exit_codes_are_in_the_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "studio", "--help"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert "3 the data folder" in " ".join(done.stdout.split())


# ------------------------------------------------------------------ pages (simulated faults)
def test_a_read_only_data_folder_at_startup_is_said_on_the_page(
    data_dir: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def read_only(*_: Any, **__: Any) -> int:
        raise _sqlite("attempt to write a readonly database")

    monkeypatch.setattr(store_core, "migrate", read_only)
    with caplog.at_level(logging.ERROR, logger="ui.services"):
        at = open_app()
    assert not at.exception, at.exception
    errors = [shown(str(element.value)) for element in at.error]
    assert any("cannot open its data folder" in text for text in errors), errors
    assert any(f"The data folder {data_dir} is read-only" in text for text in errors), errors
    assert any(record.exc_info for record in caplog.records)  # the stack is in the log, not the page
    monkeypatch.undo()
    st.cache_resource.clear()


def test_a_full_disk_met_by_a_page_is_said_on_the_page(
    data_dir: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def full(*_: Any, **__: Any) -> Any:
        raise _sqlite("database or disk is full")

    monkeypatch.setattr(Studio, "list_jobs", full)
    with caplog.at_level(logging.ERROR, logger="ui.services"):
        at = open_app("views/history.py")
    assert not at.exception, at.exception
    errors = [shown(str(element.value)) for element in at.error]
    assert any(f"The data folder {data_dir} is full" in text for text in errors), errors
    assert any(record.exc_info for record in caplog.records)


# ------------------------------------------------------------------ real faults (root: a tiny tmpfs)
@pytest.fixture()
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted afterwards; skipped where mounting is not allowed."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the simulated faults above cover the same paths")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount_point)], capture_output=True)
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def _run_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STUDIO_DATA_DIR": str(data),
        "STUDIO_CUTOUT_MODEL": "fast",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_really_full_disk_exits_3_and_leaves_no_job_files(tiny_disk: Path, photo: Path) -> None:
    data = tiny_disk / "data"
    assert _run_cli(data, "jobs", "list").returncode == 0  # the database exists, then the disk fills up
    _fill(tiny_disk)
    done = _run_cli(data, *GENERATE, "--image", str(photo), "--size", "256x256", "--count", "1")
    assert done.returncode == EXIT_STORAGE, done.stderr
    assert f"The data folder {data} is full" in done.stderr
    assert "Traceback" not in done.stderr
    assert _job_files(data) == []
    assert not [path for path in _files(data) if ".tmp" in path.name]


def test_a_really_read_only_data_folder_exits_3_and_the_app_says_so(
    tiny_disk: Path, photo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tiny_disk / "data"
    assert _run_cli(data, "jobs", "list").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    for args in ((*GENERATE, "--image", str(photo)), ("jobs", "list"), ("backdrops", "list")):
        done = _run_cli(data, *args)
        assert done.returncode == EXIT_STORAGE, (args, done.stderr)
        assert f"The data folder {data} is read-only" in done.stderr
        assert "Traceback" not in done.stderr
    monkeypatch.setenv("STUDIO_DATA_DIR", str(data))
    monkeypatch.setenv("STUDIO_CUTOUT_MODEL", "fast")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    st.cache_resource.clear()
    try:
        at = open_app()
        assert not at.exception, at.exception
        errors = [shown(str(element.value)) for element in at.error]
        assert any(f"The data folder {data} is read-only" in text for text in errors), errors
    finally:
        st.cache_resource.clear()
