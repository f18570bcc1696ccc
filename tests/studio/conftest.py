"""Fixtures for the studio tests: a store, artifacts, a fake clock.

The store is on a temporary SQLite file; in the store, worker and batch tests
(`BOTH_DATABASES`) it is also on PostgreSQL: `store_url` is parametrised
["sqlite", "postgresql"] there, each PostgreSQL case on a fresh database of one
server started for the session (`tests.pg`), skipped only when no PostgreSQL
server binaries are installed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from providers.base import Operation
from studio.artifacts import Artifacts
from studio.migrations import jobs_table
from studio.store import NewJob, Store
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator
from tests.pg import PostgresServer, why_not_available
from tests.studio.fakes import FakeClock, png_bytes
from tests.studio.vendors import DASHSCOPE_KEY, SECRET_ID, SECRET_KEY


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tencent() -> Iterator[TencentAiartEmulator]:
    with TencentAiartEmulator(SECRET_ID, SECRET_KEY) as emulator:
        yield emulator


@pytest.fixture
def dashscope() -> Iterator[DashScopeEmulator]:
    with DashScopeEmulator(DASHSCOPE_KEY, queries_to_finish=2) as emulator:
        yield emulator


@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[Path, StaticFolder]]:
    folder = tmp_path / "public"
    folder.mkdir()
    with StaticFolder(folder) as server:
        yield folder, server


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


# Test modules whose `store_url` (and so `store`) runs on SQLite and on PostgreSQL.
BOTH_DATABASES = frozenset(
    {
        "test_store",
        "test_worker",
        "test_worker_money",
        "test_batches",
        "test_batch_crash",
        "test_people_store",
        "test_leases",
        "test_shared_limits",
        "test_postgres_store",
        "test_output_check_store",
    }
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_url" in metafunc.fixturenames and metafunc.module.__name__.rpartition(".")[2] in BOTH_DATABASES:
        metafunc.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    reason = why_not_available()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture()
def store_url(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[str]:
    """The database URL a test's stores share: a SQLite file, or a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{data_dir / 'studio.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.new_database()
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture()
def store(store_url: str, data_dir: Path, clock: FakeClock) -> Iterator[Store]:
    store = Store(store_url, files_root=data_dir, clock=clock, day_tz=UTC)
    store.migrate()
    yield store
    store.close()


@pytest.fixture()
def artifacts(data_dir: Path) -> Artifacts:
    return Artifacts(data_dir)


def queue_job(
    store: Store,
    artifacts: Artifacts,
    provider: str = "fake_sync",
    workflow: Operation = Operation.PROMPT_BACKGROUND,
    **fields: Any,
) -> str:
    """Persist inputs and a QUEUED row the way the service does; returns the job id."""
    job_id = uuid.uuid4().hex
    created = store.now()
    saved = artifacts.save_inputs(job_id, created, png_bytes())
    store.create_job(
        NewJob(
            job_id=job_id,
            workflow=workflow,
            provider=provider,
            input_path=saved.input_path,
            created_at=created,
            **fields,
        )
    )
    return job_id


def insert_history(store: Store, rows: list[dict[str, Any]]) -> None:
    """Insert finished jobs directly (History tests need many, in any state)."""
    full = []
    for row in rows:
        created: datetime = row.pop("created_at")
        full.append(
            {
                **dict.fromkeys(jobs_table.c.keys()),  # executemany needs the same keys in every row
                "id": row.pop("id", uuid.uuid4().hex),
                "created_at": created,
                "created_day": store.day_of(created),
                "updated_at": created,
                "workflow": "prompt",
                "provider": "local",
                "status": "succeeded",
                "params_json": "{}",
                "prompt": "",
                "negative_prompt": "",
                "product_title": "",
                "count": 1,
                "attempts": 1,
                "images": 0,
                "notes_json": "{}",
                "source": "ui",
                "poll_failures": 0,
                **row,
            }
        )
    with store.engine.begin() as conn:
        conn.execute(insert(jobs_table), full)
