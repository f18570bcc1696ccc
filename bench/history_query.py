"""History query benchmark: the store's History queries on 100,000 jobs, next to a primary-key lookup.

Run: `.venv/bin/python bench/history_query.py [--rows 100000]` (writes bench/results/history_query.json).

It fills a fresh SQLite file (WAL, the app's own schema and indexes) with a
year of jobs across five providers, three workflows, mixed statuses and two
currencies, one output row per succeeded job, then times each History query
through `studio.store.Store` exactly as the History page calls it. Times are
medians after a warm-up; the figure that matters is the ratio to the baseline
(opening one job by id) measured in the same run, which is machine-independent.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROVIDERS = (
    ("local", None, 0),
    ("aidge", "CNY", 20),
    ("aliyun_market", "CNY", 12),
    ("tencent", "CNY", 8),
    ("dashscope", "USD", 4),
)
WORKFLOWS = ("prompt", "scene", "model")
WORDS = ("white marble", "warm wood", "linen", "concrete", "大理石", "木纹", "soft light", "sunset", "studio")
END = datetime(2027, 1, 1, tzinfo=UTC)


def fill(store: Any, rows: int, seed: int = 1) -> str:
    """Insert `rows` jobs (batches of 5,000) and return one job id for the baseline lookup."""
    from sqlalchemy import insert

    from studio.migrations import jobs_table, outputs_table

    rng = random.Random(seed)
    sample_id = ""
    for start in range(0, rows, 5000):
        jobs: list[dict[str, Any]] = []
        outputs: list[dict[str, Any]] = []
        for _ in range(min(5000, rows - start)):
            job_id = uuid.uuid4().hex
            created = END - timedelta(seconds=rng.uniform(0, 365 * 86400))
            provider, currency, price = rng.choice(PROVIDERS)
            roll = rng.random()
            status = (
                "succeeded"
                if roll < 0.85
                else "failed"
                if roll < 0.95
                else rng.choice(("queued", "canceled"))
            )
            images = rng.randint(1, 4) if status == "succeeded" else 0
            jobs.append(
                {
                    **dict.fromkeys(jobs_table.c.keys()),
                    "id": job_id,
                    "created_at": created,
                    "created_day": store.day_of(created),
                    "updated_at": created,
                    "started_at": created,
                    "finished_at": created + timedelta(seconds=rng.uniform(1, 90)),
                    "workflow": rng.choice(WORKFLOWS),
                    "provider": provider,
                    "status": status,
                    "params_json": "{}",
                    "prompt": " ".join(rng.sample(WORDS, 2)),
                    "negative_prompt": "",
                    "product_title": "",
                    "count": max(images, 1),
                    "attempts": 1,
                    "images": images,
                    "cost_minor": price * images if currency and status == "succeeded" else None,
                    "cost_currency": currency if status == "succeeded" else None,
                    "error_code": "quota_exhausted" if status == "failed" else None,
                    "notes_json": "{}",
                    "source": "ui",
                    "poll_failures": 0,
                }
            )
            if images:
                folder = f"jobs/{created:%Y}/{created:%m}/{job_id}"
                outputs.append(
                    {
                        "job_id": job_id,
                        "idx": 1,
                        "path": f"{folder}/out_01.png",
                        "width": 800,
                        "height": 800,
                        "seed": None,
                        "thumbnail_path": f"{folder}/out_01_thumb.jpg",
                        "source_url": None,
                    }
                )
            sample_id = job_id
        with store.engine.begin() as conn:
            conn.execute(insert(jobs_table), jobs)
            if outputs:
                conn.execute(insert(outputs_table), outputs)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")  # what a long-lived database has; keeps plans realistic
    return sample_id


def median_ms(action: Callable[[], object], repeats: int) -> float:
    action()  # warm-up: page cache and statement cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    from studio.jobs import JobFilter
    from studio.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db", files_root=Path(tmp), day_tz=UTC)
        store.migrate()
        started = time.perf_counter()
        sample_id = fill(store, args.rows)
        fill_s = time.perf_counter() - started
        recent = (END - timedelta(days=30)).date()
        quarter = (END - timedelta(days=90)).date()
        deep_page = max(1, args.rows // 50 - 1)
        cases: list[tuple[str, Callable[[], object]]] = [
            ("baseline: open one job by id", lambda: store.get_job(sample_id)),
            ("page 1 (50 rows, newest first)", lambda: store.list_jobs(JobFilter(), 1, 50)),
            (
                "filtered page (provider + status)",
                lambda: store.list_jobs(JobFilter(providers=("aidge",), statuses=("failed",)), 1, 50),
            ),
            ("date range page (last 30 days)", lambda: store.list_jobs(JobFilter(date_from=recent), 1, 50)),
            ("text search page ('marble')", lambda: store.list_jobs(JobFilter(text="marble"), 1, 50)),
            (
                f"deep page {deep_page} (OFFSET {(deep_page - 1) * 50:,})",
                lambda: store.list_jobs(JobFilter(), deep_page, 50),
            ),
            ("provider totals, all time", lambda: store.provider_totals(JobFilter())),
            ("daily stats, last 90 days", lambda: store.daily_stats(JobFilter(date_from=quarter))),
            ("daily stats, all time", lambda: store.daily_stats(JobFilter())),
            (
                "CSV export rows, last 30 days (keyset)",
                lambda: sum(1 for _ in store.iter_rows(JobFilter(date_from=recent))),
            ),
        ]
        results = [(name, median_ms(action, args.repeats)) for name, action in cases]
        store.close()

    baseline = results[0][1]
    width = max(len(name) for name, _ in results)
    print(
        f"History queries on {args.rows:,} jobs (SQLite, WAL); filled in {fill_s:.1f} s; median of {args.repeats}"
    )
    print(f"{'query'.ljust(width)}  {'ms':>8}  {'x baseline':>10}")
    for name, ms in results:
        print(f"{name.ljust(width)}  {ms:8.2f}  {ms / baseline:10.1f}")
    out = ROOT / "bench" / "results" / "history_query.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "rows": args.rows,
                "repeats": args.repeats,
                "fill_s": round(fill_s, 2),
                "results": [
                    {"query": n, "median_ms": round(ms, 3), "ratio": round(ms / baseline, 2)}
                    for n, ms in results
                ],
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
