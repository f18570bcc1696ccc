"""The store on a shared database: migrations from several processes at once, and the queries
whose meaning differs between databases (times, text search, ids, JSON text), on SQLite and
PostgreSQL (`store_url`)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from providers.base import Operation
from studio.jobs import JobFilter
from studio.migrations import LATEST, migrate
from studio.migrations import build_metadata as schema
from studio.store import NewJob, Store, create_store_engine
from studio.store_core import database_url
from tests.pg import PostgresServer
from tests.studio.fakes import FakeClock


def test_migrations_from_processes_starting_at_once_apply_each_step_once(store_url: str) -> None:
    engines = [create_store_engine(store_url) for _ in range(4)]
    results: list[int] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(len(engines))

    def start(index: int) -> None:
        gate.wait()
        try:
            results.append(migrate(engines[index]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and results == [LATEST] * len(engines)
    versions = schema(1).tables["schema_version"]
    with engines[0].connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 1
    for engine in engines:
        engine.dispose()


def test_times_text_search_and_json_mean_the_same_on_every_database(
    store_url: str, data_dir: Path, clock: FakeClock
) -> None:
    store = Store(store_url, files_root=data_dir, clock=clock, day_tz=UTC)
    store.migrate()
    try:
        made = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        store.create_jobs(
            [
                NewJob(
                    job_id=f"job{n}",
                    workflow=Operation.PROMPT_BACKGROUND,
                    provider="local",
                    input_path="in.png",
                    prompt=prompt,
                    params={"颜色": "白", "n": n},
                    created_at=made + timedelta(minutes=n),
                )
                for n, prompt in enumerate(["White MARBLE table", "大理石 台面", "50%_off sign"])
            ]
        )
        view = store.get_job("job1")
        assert view is not None and view.created_at == made + timedelta(minutes=1)
        assert view.created_at.tzinfo is not None and view.params == {"颜色": "白", "n": 1}
        assert view.prompt == "大理石 台面"

        def found(text: str) -> list[str]:
            return sorted(row.job_id for row in store.list_jobs(JobFilter(text=text), page_size=50).rows)

        assert found("marble") == ["job0"]  # case-insensitive everywhere
        assert found("大理石") == ["job1"]
        assert found("%_") == ["job2"]  # wildcards are taken literally
        assert found("JOB2") == ["job2"]
        page = store.list_jobs(JobFilter(), page_size=50)
        assert [row.job_id for row in page.rows] == ["job2", "job1", "job0"]  # newest first
        for n in range(3):
            store.record_activity("ann@shop.com", "export", f"file{n}.csv", {"n": n})
        with store.engine.connect() as conn:
            activity = schema(LATEST).tables["activity"]
            ids: list[int] = list(
                conn.execute(select(activity.c.id).order_by(activity.c.at, activity.c.id)).scalars()
            )
        assert len(set(ids)) == 3 and ids == sorted(ids)  # autoincrement ids
    finally:
        store.close()


def test_a_bare_postgresql_url_uses_the_installed_driver() -> None:
    assert database_url("postgresql://u@db:5432/studio") == "postgresql+psycopg://u@db:5432/studio"
    assert database_url("postgres://u@db/studio") == "postgresql+psycopg://u@db/studio"
    assert database_url("postgresql+psycopg://u@db/studio") == "postgresql+psycopg://u@db/studio"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_a_bare_postgresql_url_connects(postgres_server: PostgresServer, tmp_path: Path) -> None:
    name = postgres_server.new_database()
    try:
        url = postgres_server.url(name).replace("postgresql+psycopg://", "postgresql://")
        store = Store(url, files_root=tmp_path)
        assert store.migrate() == LATEST
        store.close()
    finally:
        postgres_server.drop_database(name)


def test_claims_lock_rows_and_skip_locked_ones_on_postgresql(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    store.create_job(
        NewJob(job_id="j1", workflow=Operation.PROMPT_BACKGROUND, provider="local", input_path="x")
    )
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        assert store.claim_next("w", store.now(), 60, {"local": 1}, submit_rates={"local": 1.0}) is not None
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert any("FROM jobs" in s and s.rstrip().endswith("FOR UPDATE SKIP LOCKED") for s in statements)
    assert any("FROM vendor_pacing" in s and s.rstrip().endswith("FOR UPDATE") for s in statements)
