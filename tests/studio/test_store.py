"""The job store: CRUD, guarded status changes, claims and leases, History queries, migrations."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, insert, inspect, select, text

from providers.base import Money, Operation
from studio.artifacts import Artifacts
from studio.jobs import JobFilter, JobStatus
from studio.migrations import LATEST, SchemaError, build_metadata, migrate, schema_version
from studio.store import (
    ClaimKind,
    InvalidTransition,
    NewJob,
    NewOutput,
    Store,
    StoreError,
    create_store_engine,
)
from tests.studio.conftest import insert_history, queue_job
from tests.studio.fakes import FakeClock

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
SLOTS = {"fake_sync": 10, "fake_async": 10}


def claim(store: Store, owner: str, *, slots: dict[str, int] | None = None, lease_s: float = 30.0) -> Any:
    return store.claim_next(owner, store.now(), lease_s, SLOTS if slots is None else slots)


# ------------------------------------------------------------------ CRUD
def test_a_created_job_reads_back_with_absolute_paths_and_its_estimate(
    store: Store, artifacts: Artifacts
) -> None:
    job_id = queue_job(
        store,
        artifacts,
        params={"strength": 0.7},
        prompt="白色大理石 warm light",
        count=3,
        size=(800, 800),
        seed=42,
        estimate=Money(24, "CNY"),
        batch_id="b1",
    )
    view = store.get_job(job_id)
    assert view is not None
    assert view.status is JobStatus.QUEUED
    assert view.workflow is Operation.PROMPT_BACKGROUND
    assert view.prompt == "白色大理石 warm light"
    assert view.params == {"strength": 0.7}
    assert (view.count, view.size, view.seed, view.batch_id) == (3, (800, 800), 42, "b1")
    assert view.cost_estimate == Money(24, "CNY") and view.cost is None
    assert (
        view.input_path is not None
        and Path(view.input_path).is_absolute()
        and Path(view.input_path).is_file()
    )
    assert view.created_at.tzinfo is not None
    assert view.is_pending and view.outputs == () and view.error is None


def test_unknown_job_is_none(store: Store) -> None:
    assert store.get_job("nope") is None


def test_preferences_are_stored_and_overwritten(store: Store) -> None:
    assert store.get_preference("lang") is None
    store.set_preference("lang", "zh")
    store.set_preference("lang", "en")
    assert store.get_preference("lang") == "en"


# ------------------------------------------------------------------ transitions
def test_transition_is_compare_and_set(store: Store, artifacts: Artifacts) -> None:
    job_id = queue_job(store, artifacts)
    assert store.transition(job_id, {JobStatus.QUEUED}, JobStatus.FAILED, error_code="x", error_message="y")
    # A second writer that still believes the job is queued loses.
    assert not store.transition(job_id, {JobStatus.QUEUED}, JobStatus.CANCELED)
    view = store.get_job(job_id)
    assert view is not None and view.status is JobStatus.FAILED and view.finished_at is not None
    assert view.error is not None and view.error.code == "x"


def test_a_succeeded_job_can_never_be_run_again(store: Store, artifacts: Artifacts, clock: FakeClock) -> None:
    job_id = queue_job(store, artifacts)
    claimed = claim(store, "w1")
    assert claimed.job.job_id == job_id
    output = NewOutput(1, "jobs/x/out_01.png", 10, 10)
    assert store.finish(job_id, {JobStatus.SUBMITTING}, JobStatus.SUCCEEDED, [output], owner="w1", images=1)
    with pytest.raises(InvalidTransition, match="succeeded to queued"):
        store.transition(job_id, {JobStatus.SUCCEEDED}, JobStatus.QUEUED)
    with pytest.raises(InvalidTransition):
        store.transition(job_id, {JobStatus.SUCCEEDED}, JobStatus.SUBMITTING)
    clock.advance(10_000)
    assert claim(store, "w2") is None  # nothing to take, lease or not
    view = store.get_job(job_id)
    assert view is not None and view.status is JobStatus.SUCCEEDED and view.images == 1
    assert [o.index for o in view.outputs] == [1]


def test_finish_writes_outputs_only_when_the_status_change_wins(store: Store, artifacts: Artifacts) -> None:
    job_id = queue_job(store, artifacts)
    claim(store, "w1")
    output = NewOutput(1, "jobs/x/out_01.png", 10, 10)
    assert not store.finish(
        job_id, {JobStatus.SUBMITTING}, JobStatus.SUCCEEDED, [output], owner="someone-else"
    )
    view = store.get_job(job_id)
    assert view is not None and view.status is JobStatus.SUBMITTING and view.outputs == ()


def test_unknown_columns_are_refused(store: Store, artifacts: Artifacts) -> None:
    job_id = queue_job(store, artifacts)
    with pytest.raises(StoreError, match="not a writable job column: password"):
        store.transition(job_id, {JobStatus.QUEUED}, JobStatus.FAILED, password="x")


# ------------------------------------------------------------------ claims and leases
def test_two_owners_never_claim_the_same_job(store: Store, artifacts: Artifacts) -> None:
    ids = {queue_job(store, artifacts) for _ in range(3)}
    taken = [claim(store, "a"), claim(store, "b"), claim(store, "a"), claim(store, "b")]
    got = [c.job.job_id for c in taken if c is not None]
    assert sorted(got) == sorted(ids) and taken[3] is None
    for c in taken[:3]:
        assert c.kind is ClaimKind.SUBMIT and c.job.status is JobStatus.SUBMITTING and c.job.attempts == 1


def test_claims_from_two_processes_racing_are_exclusive(data_dir: Path, artifacts: Artifacts) -> None:
    # Two engines on one file behave like two processes; each thread claims until nothing is left.
    url = f"sqlite:///{data_dir / 'race.db'}"
    stores = [Store(url, files_root=data_dir, day_tz=UTC) for _ in range(2)]
    stores[0].migrate()
    for _ in range(40):
        queue_job(stores[0], artifacts)
    claimed: dict[str, list[str]] = {"p0": [], "p1": []}

    def drain(index: int) -> None:
        store = stores[index]
        while (c := store.claim_next(f"p{index}", store.now(), 60, {"fake_sync": 1000})) is not None:
            claimed[f"p{index}"].append(c.job.job_id)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = claimed["p0"] + claimed["p1"]
    assert len(everything) == 40 and len(set(everything)) == 40
    for store in stores:
        store.close()


def test_claim_respects_the_providers_in_flight_limit(store: Store, artifacts: Artifacts) -> None:
    for _ in range(3):
        queue_job(store, artifacts)
    assert claim(store, "w", slots={"fake_sync": 2}) is not None
    assert claim(store, "w", slots={"fake_sync": 2}) is not None
    assert claim(store, "w", slots={"fake_sync": 2}) is None  # two in flight already
    assert claim(store, "w", slots={}) is None  # provider has no free slot / no token


def test_a_retry_waits_for_next_attempt_at(store: Store, artifacts: Artifacts, clock: FakeClock) -> None:
    job_id = queue_job(store, artifacts)
    claim(store, "w")
    later = store.now() + timedelta(seconds=30)
    assert store.transition(
        job_id, {JobStatus.SUBMITTING}, JobStatus.QUEUED, owner="w", next_attempt_at=later
    )
    clock.advance(29)
    assert claim(store, "w") is None
    clock.advance(1)
    again = claim(store, "w")
    assert again is not None and again.job.job_id == job_id and again.job.attempts == 2


def test_an_expired_lease_is_taken_over_and_the_old_owner_is_locked_out(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    job_id = queue_job(store, artifacts)
    first = claim(store, "crashed", lease_s=30)
    assert first.kind is ClaimKind.SUBMIT
    clock.advance(29)
    assert claim(store, "rescuer") is None  # lease still valid
    clock.advance(2)
    rescued = claim(store, "rescuer")
    assert rescued is not None and rescued.job.job_id == job_id and rescued.kind is ClaimKind.RECOVER_SUBMIT
    assert not store.transition(job_id, {JobStatus.SUBMITTING}, JobStatus.FAILED, owner="crashed")
    assert not store.renew_lease(job_id, "crashed", store.now() + timedelta(seconds=60))
    assert store.renew_lease(job_id, "rescuer", store.now() + timedelta(seconds=60))


def test_running_jobs_are_claimed_for_polling_when_due(
    store: Store, artifacts: Artifacts, clock: FakeClock
) -> None:
    job_id = queue_job(store, artifacts, provider="fake_async")
    claim(store, "w")
    due = store.now() + timedelta(seconds=2)
    assert store.transition(
        job_id, {JobStatus.SUBMITTING}, JobStatus.RUNNING, owner="w", remote_id="r1", next_attempt_at=due
    )
    assert claim(store, "w") is None
    clock.advance(2)
    polled = claim(store, "other")
    assert polled is not None and polled.kind is ClaimKind.POLL and polled.job.remote_id == "r1"


# ------------------------------------------------------------------ History
@pytest.fixture()
def history(store: Store) -> Store:
    rows: list[dict[str, Any]] = []
    for i in range(30):
        created = NOW - timedelta(days=i // 10, minutes=i)
        provider = ("local", "aidge", "tencent")[i % 3]
        status = "failed" if i % 5 == 0 else "succeeded"
        cost = {"aidge": (20, "CNY"), "tencent": (5, "USD")}.get(provider) if status == "succeeded" else None
        rows.append(
            {
                "id": f"job{i:02d}",
                "created_at": created,
                "provider": provider,
                "workflow": "scene" if i % 2 else "prompt",
                "status": status,
                "images": 2 if status == "succeeded" else 0,
                "cost_minor": cost[0] if cost else None,
                "cost_currency": cost[1] if cost else None,
                "prompt": "红色 背景" if i == 7 else f"prompt {i} 100%_off" if i == 8 else f"prompt {i}",
                "started_at": created,
                "finished_at": created + timedelta(seconds=3),
                "error_code": "quota" if status == "failed" else None,
            }
        )
    # A dollar cost on aidge too: totals must keep currencies apart.
    rows.append(
        {
            "id": "usd-aidge",
            "created_at": NOW,
            "provider": "aidge",
            "images": 1,
            "cost_minor": 7,
            "cost_currency": "USD",
        }
    )
    insert_history(store, rows)
    return store


def test_list_jobs_pages_newest_first_with_a_total(history: Store) -> None:
    first = history.list_jobs(JobFilter(), page=1, page_size=10)
    assert first.total == 31 and len(first.rows) == 10
    stamps = [(r.created_at, r.job_id) for r in first.rows]
    assert stamps == sorted(stamps, reverse=True)
    last = history.list_jobs(JobFilter(), page=4, page_size=10)
    assert len(last.rows) == 1
    seen = {r.job_id for p in range(1, 5) for r in history.list_jobs(JobFilter(), p, 10).rows}
    assert len(seen) == 31
    row = next(r for r in first.rows if r.job_id == "job02")
    assert row.duration_s == 3.0 and row.cost_amount == "0.05" and row.cost_currency == "USD"


def test_list_jobs_filters(history: Store) -> None:
    def ids(**kw: Any) -> set[str]:
        return {r.job_id for r in history.list_jobs(JobFilter(**kw), 1, 100).rows}

    assert ids(providers=("aidge",)) == {f"job{i:02d}" for i in range(1, 30, 3)} | {"usd-aidge"}
    assert ids(statuses=("failed",)) == {f"job{i:02d}" for i in range(0, 30, 5)}
    assert ids(workflows=("scene",), providers=("local",)) == {f"job{i:02d}" for i in range(3, 30, 6)}
    day = (NOW - timedelta(days=1)).date()
    assert ids(date_from=day, date_to=day) == {f"job{i:02d}" for i in range(10, 20)}
    assert ids(date_from=NOW.date()) == {f"job{i:02d}" for i in range(10)} | {"usd-aidge"}
    assert ids(text="红色") == {"job07"}
    assert ids(text="100%_") == {"job08"}  # LIKE wildcards in the search are literal
    assert ids(text="PROMPT 1") >= {"job01", "job10", "job19"}  # case-insensitive
    assert ids(text="job2") == {f"job{i}" for i in range(20, 30)}


def test_list_jobs_refuses_silly_pages(history: Store) -> None:
    with pytest.raises(ValueError, match="page must be"):
        history.list_jobs(JobFilter(), page=0)
    with pytest.raises(ValueError, match="page_size"):
        history.list_jobs(JobFilter(), page_size=100_000)


def test_provider_totals_never_add_different_currencies(history: Store) -> None:
    totals = {(t.provider, t.currency): t for t in history.provider_totals(JobFilter())}
    assert set(totals) == {
        ("aidge", "CNY"),
        ("aidge", "USD"),
        ("aidge", None),
        ("local", None),
        ("tencent", "USD"),
        ("tencent", None),
    }
    cny = totals[("aidge", "CNY")]
    # aidge jobs 1,4,...,28 minus failed ones (10, 25) = 8 succeeded at 0.20 CNY
    assert (cny.jobs, cny.images, cny.amount, cny.succeeded, cny.failed) == (8, 16, "1.60", 8, 0)
    assert totals[("aidge", "USD")].amount == "0.07"
    assert totals[("aidge", None)].failed == 2 and totals[("aidge", None)].amount is None
    assert totals[("local", None)].amount is None and totals[("local", None)].jobs == 10


def test_daily_stats_group_by_day_provider_and_currency(history: Store) -> None:
    stats = history.daily_stats(JobFilter(providers=("tencent",)))
    assert [s.day for s in stats] == sorted(s.day for s in stats)
    by_day = {(s.day, s.currency): s for s in stats}
    # tencent jobs 2 and 8 succeeded today (5 failed); 11, 14 and 17 yesterday; each 2 images at 0.05 USD
    today, yesterday = by_day[(NOW.date(), "USD")], by_day[(NOW.date() - timedelta(days=1), "USD")]
    assert isinstance(today.day, date) and today.provider == "tencent"
    assert (today.images, today.amount) == (4, "0.10")
    assert (yesterday.images, yesterday.amount) == (6, "0.15")
    assert by_day[(NOW.date(), None)].amount is None
    assert sum(s.images for s in stats) == 2 * 8


def test_iter_rows_walks_every_row_once_even_with_equal_timestamps(store: Store) -> None:
    rows = [{"id": f"same{i:02d}", "created_at": NOW} for i in range(10)]
    rows += [{"id": f"old{i:02d}", "created_at": NOW - timedelta(hours=i + 1)} for i in range(9)]
    insert_history(store, rows)
    walked = [r.job_id for r in store.iter_rows(JobFilter(), chunk=4)]
    assert len(walked) == 19 and len(set(walked)) == 19
    assert walked[:10] == [f"same{i:02d}" for i in range(9, -1, -1)]
    assert walked == [r.job_id for r in store.list_jobs(JobFilter(), 1, 100).rows]


def test_list_jobs_fetches_one_page_in_sql_with_5000_jobs(store: Store) -> None:
    insert_history(store, [{"created_at": NOW - timedelta(seconds=i)} for i in range(5000)])
    statements: list[tuple[str, Any]] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        page = store.list_jobs(JobFilter(providers=("local",)), page=40, page_size=25)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert page.total == 5000 and len(page.rows) == 25
    selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2
    counting = [s for s, _ in selects if "count(" in s.lower()]
    paging = [(s, p) for s, p in selects if "count(" not in s.lower()]
    assert len(counting) == 1 and len(paging) == 1
    sql, params = paging[0]
    assert "LIMIT" in sql.upper() and "OFFSET" in sql.upper()
    values = list(params.values()) if isinstance(params, dict) else list(params)  # PostgreSQL: named
    assert 25 in values and 975 in values  # page 40 of 25: the database skips, Python never sees them


# ------------------------------------------------------------------ migrations
def test_a_v1_file_with_rows_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_store_engine(url)
    assert migrate(engine, target=1) == 1
    v1 = build_metadata(1)
    created = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(v1.tables["jobs"]),
            [
                {
                    "id": "oldjob",
                    "created_at": created,
                    "created_day": "2026-05-01",
                    "updated_at": created,
                    "workflow": "prompt",
                    "provider": "local",
                    "status": "succeeded",
                    "params_json": '{"fill": 0.8}',
                    "prompt": "旧的",
                    "images": 1,
                    "cost_minor": 16,
                    "cost_currency": "CNY",
                }
            ],
        )
        conn.execute(
            insert(v1.tables["job_outputs"]),
            [
                {
                    "job_id": "oldjob",
                    "idx": 1,
                    "path": "jobs/2026/05/oldjob/out_01.png",
                    "width": 8,
                    "height": 8,
                }
            ],
        )
    assert {c["name"] for c in inspect(engine).get_columns("jobs")}.isdisjoint({"batch_id", "poll_failures"})
    engine.dispose()

    store = Store(url, files_root=tmp_path)
    assert store.migrate() == LATEST == 9
    view = store.get_job("oldjob")
    assert view is not None
    assert (view.prompt, view.params, view.cost, view.batch_id) == (
        "旧的",
        {"fill": 0.8},
        Money(16, "CNY"),
        None,
    )
    assert view.outputs[0].source_url is None and view.outputs[0].width == 8
    # The upgraded file has exactly the schema a fresh one gets.
    fresh = create_store_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate(fresh)
    for table in ("jobs", "job_outputs", "preferences", "batches"):
        old_cols = {c["name"] for c in inspect(store.engine).get_columns(table)}
        new_cols = {c["name"] for c in inspect(fresh).get_columns(table)}
        assert old_cols == new_cols, table
    assert {i["name"] for i in inspect(store.engine).get_indexes("jobs")} == {
        i["name"] for i in inspect(fresh).get_indexes("jobs")
    }
    assert store.migrate() == LATEST  # idempotent
    fresh.dispose()
    store.close()


def test_v9_marks_jobs_caught_mid_submit_as_possibly_sent(tmp_path: Path) -> None:
    # A job in `submitting` when the database is upgraded may be at the vendor: the worker
    # must treat it as sent (never send it again); other jobs stay unmarked.
    url = f"sqlite:///{tmp_path / 'v8.db'}"
    engine = create_store_engine(url)
    assert migrate(engine, target=8) == 8
    jobs_v8 = build_metadata(8).tables["jobs"]
    changed = datetime(2026, 12, 1, 9, 15, tzinfo=UTC)
    base = {"created_at": changed, "created_day": "2026-12-01", "updated_at": changed, "workflow": "prompt"}
    with engine.begin() as conn:
        conn.execute(
            insert(jobs_v8),
            [
                {**base, "id": "mid", "provider": "dashscope", "status": "submitting", "params_json": "{}"},
                {**base, "id": "waiting", "provider": "dashscope", "status": "queued", "params_json": "{}"},
            ],
        )
    engine.dispose()
    store = Store(url, files_root=tmp_path)
    assert store.migrate() == 9
    mid, waiting = store.get_job("mid"), store.get_job("waiting")
    assert mid is not None and mid.send_started_at == changed
    assert waiting is not None and waiting.send_started_at is None
    store.close()


def test_a_database_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = 99"))
    with pytest.raises(SchemaError, match="newer than this app"):
        migrate(engine)
    engine.dispose()


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000
        assert schema_version(conn) == LATEST


def test_plain_engines_work_too(tmp_path: Path) -> None:
    # A caller may hand the store its own Engine (e.g. PostgreSQL); no SQLite event hooks then.
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    store = Store(engine, files_root=tmp_path, clock=FakeClock(), day_tz=UTC)
    store.migrate()
    store.create_job(
        NewJob(job_id="abc", workflow=Operation.SCENE_BACKGROUND, provider="local", input_path="x.png")
    )
    with engine.connect() as conn:
        assert conn.execute(select(text("count(*)")).select_from(text("jobs"))).scalar() == 1
    store.close()


def test_a_batchs_newest_finished_items_come_from_one_index_walk_at_any_size(store: Store) -> None:
    # The progress panel's thumbnails: the newest few finished items and how many finished,
    # without reading the batch's other jobs (it refreshes every 2 s on batches of 100,000).
    from studio.migrations import outputs_table

    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    for n in range(30):
        status = "succeeded" if n % 3 else "failed"
        rows.append(
            {
                "id": f"job{n:02d}",
                "created_at": start + timedelta(seconds=n),
                "batch_id": "b1",
                "status": status,
                "images": 1 if status == "succeeded" else 0,
                "finished_at": start + timedelta(minutes=1, seconds=(n * 7) % 30),
            }
        )
    rows.append({"id": "other", "created_at": start, "batch_id": "b2", "images": 1, "finished_at": start})
    insert_history(store, [dict(row) for row in rows])  # it takes keys out of the rows it is given
    with store.engine.begin() as conn:
        conn.execute(
            insert(outputs_table),
            [
                {
                    "job_id": row["id"],
                    "idx": 1,
                    "path": f"jobs/{row['id']}/out_01.png",
                    "width": 8,
                    "height": 8,
                }
                for row in rows
                if row.get("images")
            ],
        )
    finished, newest = store.newest_finished("b1", 4)
    assert finished == 20
    expected = sorted(
        (r for r in rows if r.get("batch_id") == "b1" and r["status"] == "succeeded"),
        key=lambda r: (r["finished_at"], r["id"]),
        reverse=True,
    )[:4]
    assert [job.job_id for job in newest] == [r["id"] for r in expected]
    assert all(len(job.outputs) == 1 for job in newest)
    assert store.newest_finished("empty", 4) == (0, [])
