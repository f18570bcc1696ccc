"""Who did what (issue 15): created_by on jobs and batches, shared batches, who decided a review,
the activity list (audit), the visibility rule per role and per-person preferences."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect

from imaging.marketplace import PRESETS
from providers.base import Money, Operation
from studio.export import DEFAULT_TEMPLATE
from studio.jobs import JobFilter, ReviewState
from studio.migrations import LATEST, build_metadata, migrate
from studio.people import LOCAL_PERSON, Person
from studio.service import JobRequest, Studio
from studio.store import ActivityFilter, Store, create_store_engine
from studio.store_activity import scrub
from studio.store_preferences import personal_key
from tests.studio.test_batches import items, run_all
from tests.studio.test_service import make_studio, photo

ADMIN = Person("boss@shop.com", "Boss", "admin")
ANA = Person("Ana@Shop.com", "Ana", "member")
BO = Person("bo@shop.com", "Bo", "member")
VIV = Person("viv@shop.com", "Viv", "viewer")


@pytest.fixture()
def studio(tmp_path: Path, store_url: str) -> Iterator[Studio]:
    studio = make_studio(tmp_path, {"DATABASE_URL": store_url})
    yield studio
    studio.close()


def single_job(studio: Studio, by: str) -> str:
    request = JobRequest(
        workflow=Operation.PROMPT_BACKGROUND,
        provider="fake_sync",
        image=studio.prepare_image(photo(), "mug.jpg"),
        prompt="white marble",
        count=1,
    )
    return studio.submit_job(request, by=by)


def visible_ids(studio: Studio, viewer: Person, person: str | None = None) -> set[str]:
    page = studio.list_jobs(JobFilter(viewer=viewer, person=person), 1, 500)
    return {row.job_id for row in page.rows}


# ------------------------------------------------------------------ schema
def test_a_v5_database_gains_the_people_columns_and_the_activity_table_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_store_engine(url)
    assert migrate(engine, 5) == 5
    v5 = build_metadata(5)
    created = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(v5.tables["batches"]),
            [
                {
                    "id": "oldbatch",
                    "created_at": created,
                    "updated_at": created,
                    "status": "running",
                    "items": 1,
                }
            ],
        )
        conn.execute(
            insert(v5.tables["jobs"]),
            [
                {
                    "id": "oldjob",
                    "created_at": created,
                    "created_day": "2026-05-01",
                    "updated_at": created,
                    "workflow": "prompt",
                    "provider": "local",
                    "status": "succeeded",
                    "images": 1,
                    "batch_id": "oldbatch",
                }
            ],
        )
        conn.execute(
            insert(v5.tables["job_outputs"]),
            [{"job_id": "oldjob", "idx": 1, "path": "jobs/old/out_01.png", "width": 8, "height": 8}],
        )
    assert not inspect(engine).has_table("activity")
    engine.dispose()

    store = Store(url, files_root=tmp_path)
    assert store.migrate() == LATEST == 9
    old = store.get_job("oldjob")
    assert old is not None and old.created_by is None and old.outputs[0].decided_by is None
    batch = store.get_batch("oldbatch")
    assert batch is not None and batch.created_by is None and batch.shared is False
    # Made before anyone was recorded: admins see it, a member does not.
    assert store.list_jobs(JobFilter(viewer=ADMIN)).total == 1
    assert store.list_jobs(JobFilter(viewer=ANA)).total == 0
    assert store.list_batches(viewer=ANA) == [] and len(store.list_batches(viewer=ADMIN)) == 1
    # The upgraded file has exactly the schema a fresh one gets.
    fresh = create_store_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate(fresh)
    for table in ("jobs", "job_outputs", "batches", "activity", "preferences"):
        assert {c["name"] for c in inspect(store.engine).get_columns(table)} == {
            c["name"] for c in inspect(fresh).get_columns(table)
        }, table
        assert {i["name"] for i in inspect(store.engine).get_indexes(table)} == {
            i["name"] for i in inspect(fresh).get_indexes(table)
        }, table
    assert store.migrate() == LATEST  # idempotent
    fresh.dispose()
    store.close()


# ------------------------------------------------------------------ who made it
def test_jobs_batches_and_review_decisions_record_who(studio: Studio) -> None:
    job_id = single_job(studio, ANA.key)
    assert ANA.key == "ana@shop.com"
    view = studio.get_job(job_id)
    assert view is not None and view.created_by == "ana@shop.com"
    assert studio.list_jobs(JobFilter()).rows[0].created_by == "ana@shop.com"

    batch_id = studio.batches.start(items(studio, 2), name="spring", by=BO.key, shared=True)
    batch = studio.batches.get(batch_id)
    assert batch is not None and batch.created_by == BO.key and batch.shared
    assert {job.created_by for job in studio.batches.jobs(batch_id)} == {BO.key}
    run_all(studio)
    first = studio.batches.jobs(batch_id)[0]
    studio.batches.review(first.job_id, 1, decision=ReviewState.APPROVED, by=VIV.key)
    decided = studio.batches.jobs(batch_id)[0].outputs[0]
    assert decided.review == "approved" and decided.decided_by == VIV.key
    # Without a `by` the CLI's and scripts' default is the local person.
    assert studio.get_job(single_job(studio, "local")).created_by == "local"  # type: ignore[union-attr]


def test_a_comparison_records_who_for_every_job(studio: Studio) -> None:
    request = JobRequest(
        workflow=Operation.PROMPT_BACKGROUND,
        provider="fake_sync",
        image=studio.prepare_image(photo(), "mug.jpg"),
        prompt="white marble",
    )
    entries = studio.submit_comparison(request, ["fake_sync", "fake_async"], by=ANA.key)
    made = [studio.get_job(entry.job_id) for entry in entries if entry.job_id]
    assert len(made) == 2 and {job.created_by for job in made if job} == {ANA.key}


# ------------------------------------------------------------------ visibility
def test_each_role_sees_what_the_rule_says(studio: Studio) -> None:
    ana_single = single_job(studio, ANA.key)
    bo_single = single_job(studio, BO.key)
    private = studio.batches.start(items(studio, 1), name="ana private", by=ANA.key)
    shared = studio.batches.start(items(studio, 1), name="bo shared", by=BO.key, shared=True)
    bo_private = studio.batches.start(items(studio, 1), name="bo private", by=BO.key)
    ids = {name: {job.job_id for job in studio.batches.jobs(batch)} for name, batch in
           {"private": private, "shared": shared, "bo_private": bo_private}.items()}  # fmt: skip

    everything = {ana_single, bo_single} | ids["private"] | ids["shared"] | ids["bo_private"]
    assert visible_ids(studio, ADMIN) == everything == visible_ids(studio, LOCAL_PERSON)
    assert visible_ids(studio, ANA) == {ana_single} | ids["private"] | ids["shared"]
    assert visible_ids(studio, BO) == {bo_single} | ids["shared"] | ids["bo_private"]
    assert visible_ids(studio, VIV) == ids["shared"]  # viewers: the shared batches, for review

    assert {b.batch_id for b in studio.batches.recent(viewer=ANA)} == {private, shared}
    assert {b.batch_id for b in studio.batches.recent(viewer=VIV)} == {shared}
    assert {b.batch_id for b in studio.batches.recent(viewer=ADMIN)} == {private, shared, bo_private}

    # The person filter narrows within what one sees; totals follow the same rule.
    assert visible_ids(studio, ANA, person=ANA.key) == {ana_single} | ids["private"]
    assert visible_ids(studio, ANA, person=BO.key) == ids["shared"]
    assert visible_ids(studio, ADMIN, person=BO.key) == {bo_single} | ids["shared"] | ids["bo_private"]
    assert sum(total.jobs for total in studio.provider_totals(JobFilter(viewer=VIV))) == 1
    assert studio.job_people() == sorted([ANA.key, BO.key])
    assert studio.job_people(VIV) == [BO.key]

    # Sharing later opens the batch to the team; taking it back closes it again.
    studio.batches.share(private, True, by=ANA.key)
    assert visible_ids(studio, BO) >= ids["private"]
    studio.batches.share(private, False, by=ANA.key)
    assert not visible_ids(studio, BO) & ids["private"]


# ------------------------------------------------------------------ activity (audit)
def test_batch_actions_exports_and_tests_go_to_the_activity_list(studio: Studio) -> None:
    batch_id = studio.batches.start(items(studio, 3), name="spring", budget=Money(500, "CNY"), by=ANA.key)
    studio.batches.pause(batch_id, by=ANA.key)
    studio.batches.resume(batch_id, by=ADMIN.key)
    studio.batches.raise_budget(batch_id, Money(900, "CNY"), by=ADMIN.key)
    run_all(studio)
    first = studio.batches.jobs(batch_id)[0]
    studio.batches.review(first.job_id, 1, decision=ReviewState.APPROVED, by=ANA.key)
    report = studio.batches.export(batch_id, PRESETS["original"], DEFAULT_TEMPLATE, io.BytesIO(), by=BO.key)
    studio.test_connection("fake_sync", by=ADMIN.key)

    entries = studio.activity(ActivityFilter())
    assert [(e.who, e.action) for e in reversed(entries)] == [
        (ANA.key, "batch_start"),
        (ANA.key, "batch_pause"),
        (ADMIN.key, "batch_resume"),
        (ADMIN.key, "batch_budget"),
        (BO.key, "export"),
        (ADMIN.key, "test_connection"),
    ]
    export = entries[1]
    assert export.subject == batch_id and export.details["files"] == len(report.files) == 1
    assert export.details["name"] == "spring" and export.details["to"] == "zip"
    assert entries[2].details == {"name": "spring", "before": "5.00 CNY", "after": "9.00 CNY"}
    assert [e.action for e in studio.activity(ActivityFilter(who=BO.key))] == ["export"]
    assert [e.action for e in studio.activity(ActivityFilter(actions=("batch_pause",)))] == ["batch_pause"]
    assert studio.activity(ActivityFilter(text="spring"))  # subject or details
    assert studio.activity(ActivityFilter(date_from=date(2000, 1, 1), date_to=date(2000, 1, 2))) == []
    assert studio.activity_people() == sorted([ADMIN.key, ANA.key, BO.key])

    csv = b"".join(studio.export_activity_csv(ActivityFilter(), by=ADMIN.key)).decode("utf-8-sig")
    lines = csv.strip().splitlines()
    # The download itself is recorded as it starts, so it heads its own list.
    assert lines[0] == "at,who,action,subject,details" and len(lines) == 8
    assert ",boss@shop.com,audit_export," in lines[1]


def test_a_history_download_is_recorded_and_carries_who(studio: Studio) -> None:
    single_job(studio, ANA.key)
    csv = b"".join(studio.export_csv(JobFilter(viewer=ANA, text="marble"), by=ANA.key)).decode("utf-8-sig")
    header, row = csv.strip().splitlines()
    assert header.endswith(",created_by") and row.endswith(",ana@shop.com")
    (entry,) = studio.activity(ActivityFilter(actions=("history_export",)))
    assert entry.who == ANA.key and entry.details == {"text": "marble"}
    # Without `by` (scripts, the CLI's own CSV) nothing is recorded.
    b"".join(studio.export_csv(JobFilter()))
    assert len(studio.activity(ActivityFilter())) == 1


def test_secrets_never_reach_the_activity_list(studio: Studio) -> None:
    studio.record_activity(
        ADMIN.key,
        "settings_change",
        "https://bucket.example.com/in.png?X-Amz-Signature=abc",
        {
            "provider": "tencent",
            "api_key": "sk-123",
            "SecretKey": "xyz",
            "nested": {"password": "p", "endpoint": "https://api.example.com/v1?token=t"},
            "changed": ["price"],
        },
    )
    (entry,) = studio.activity(ActivityFilter())
    assert entry.subject == "https://bucket.example.com/in.png"
    assert entry.details == {
        "provider": "tencent",
        "nested": {"endpoint": "https://api.example.com/v1"},
        "changed": ["price"],
    }
    assert "sk-123" not in repr(entry) and "xyz" not in repr(entry)
    assert scrub({"access_key_id": "a", "Authorization": "b", "region": "c"}) == {"region": "c"}


# ------------------------------------------------------------------ per-person preferences
def test_language_preferences_are_kept_per_person(studio: Studio) -> None:
    assert personal_key("language", ANA.key) == "language:ana@shop.com"
    assert personal_key("language", LOCAL_PERSON.key) == "language:local"
    long = personal_key("language", "x" * 200 + "@shop.com")
    assert len(long) <= 128 and long.startswith("language:sha256:")
    studio.set_preference(personal_key("language", ANA.key), "zh")
    studio.set_preference(personal_key("language", BO.key), "en")
    assert studio.get_preference(personal_key("language", ANA.key)) == "zh"
    assert studio.get_preference(personal_key("language", BO.key)) == "en"
    assert studio.get_preference(personal_key("language", VIV.key)) is None
