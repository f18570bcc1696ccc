"""Manifests at catalogue scale (issue 16): up to 100,000 rows checked from photo headers, small row
records, a bounded list of problems, and plans that keep the files their items name."""

from __future__ import annotations

import gc
import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from providers.base import Operation, ProviderContext
from providers.local import LocalEngine
from studio import manifest, manifest_planner
from studio.manifest import BatchDefaults, ManifestError, plan_from_manifest, plan_from_zip
from studio.service import Studio
from studio.settings import load_settings
from tests.studio.fakes import FakeClock, SyncFake
from ui.batch_inputs import plan_from_uploads

DEFAULTS = BatchDefaults(workflow=Operation.PROMPT_BACKGROUND, provider="fake_sync")
MB = 1024 * 1024


def photo(width: int = 320, height: int = 240) -> bytes:
    image = np.full((height, width, 3), 235, np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture()
def studio(tmp_path: Path) -> Iterator[Studio]:
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "data")}, tmp_path / "none.toml")
    adapters = {"fake_sync": SyncFake(), "local": LocalEngine(ProviderContext())}
    studio = Studio(settings, adapters=adapters, clock=FakeClock(), worker_threads=0)
    yield studio
    studio.close()


def write_rows(path: Path, rows: int, image: str = "p.jpg") -> Path:
    with path.open("w") as handle:
        handle.write("sku,image,prompt\n")
        handle.writelines(f"SKU-{number:06d},{image},white marble {number % 5}\n" for number in range(rows))
    return path


def test_the_row_cap_is_a_hundred_thousand() -> None:
    assert manifest.MAX_ROWS == 100_000


def test_more_than_a_thousand_rows_plan(studio: Studio, tmp_path: Path) -> None:
    (tmp_path / "p.jpg").write_bytes(photo())
    plan = plan_from_manifest(studio, write_rows(tmp_path / "m.csv", 1500), DEFAULTS)
    assert plan.ok and len(plan.items) == 1500 and plan.problem_count == 0
    assert {item.request.image.png for item in plan.items} == {b""}  # headers only, nothing decoded


def test_a_plan_holds_small_records_not_photos(studio: Studio, tmp_path: Path) -> None:
    # 2000 rows naming one 1600x1200 photo: a prepared PNG each would be gigabytes.
    (tmp_path / "p.jpg").write_bytes(photo(1600, 1200))
    path = write_rows(tmp_path / "m.csv", 2000)
    tracemalloc.start()
    try:
        plan = plan_from_manifest(studio, path, DEFAULTS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert plan.ok and len(plan.items) == 2000
    assert peak < 40 * MB, peak  # about 10 KB a row at most, all in


def test_problems_beyond_the_kept_ones_are_counted(
    studio: Studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest_planner, "MAX_PROBLEMS_KEPT", 10)
    plan = plan_from_manifest(studio, write_rows(tmp_path / "m.csv", 30, image="missing.jpg"), DEFAULTS)
    assert not plan.ok and plan.items == ()
    assert len(plan.problems) == 10 and plan.problem_count == 30
    assert [problem.row for problem in plan.problems] == list(range(1, 11))
    assert {problem.code for problem in plan.problems} == {"file_not_found"}


def test_a_photo_with_an_unreadable_header_is_still_a_row_problem(studio: Studio, tmp_path: Path) -> None:
    (tmp_path / "p.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "tiny.jpg").write_bytes(photo(40, 40))
    path = tmp_path / "m.csv"
    path.write_text("sku,image\nA,p.jpg\nB,tiny.jpg\n")
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert [(problem.row, problem.column, problem.code) for problem in plan.problems] == [
        (1, "image", "corrupt"),
        (2, "image", "too_small"),
    ]


def test_a_mask_of_another_size_is_found_from_its_header(studio: Studio, tmp_path: Path) -> None:
    (tmp_path / "p.jpg").write_bytes(photo())
    (tmp_path / "m.png").write_bytes(photo(100, 100))
    path = tmp_path / "m.csv"
    path.write_text("sku,image,mask\nA,p.jpg,m.png\n")
    (problem,) = plan_from_manifest(studio, path, DEFAULTS).problems
    assert (problem.column, problem.code) == ("mask", "mask_size_mismatch")


def test_the_plan_keeps_unpacked_zip_files_until_it_is_dropped(studio: Studio) -> None:
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("shoe.jpg", photo())
    plan = plan_from_zip(studio, buffer.getvalue(), DEFAULTS)
    (item,) = plan.items
    assert item.source is not None and item.source.image.path is not None
    unpacked = item.source.image.path
    assert unpacked.is_file()
    del plan, item
    gc.collect()
    assert not unpacked.exists()


def test_an_uploaded_manifest_keeps_its_folder_with_the_plan(studio: Studio) -> None:
    uploads = [
        SimpleNamespace(name="m.csv", getvalue=lambda: b"sku,image\nA,shoe.jpg\n"),
        SimpleNamespace(name="shoe.jpg", getvalue=lambda: photo()),
    ]
    plan = plan_from_uploads(studio, "manifest", uploads, DEFAULTS)
    assert plan.ok, plan.problems
    batch_id = studio.batches.start(plan.items)  # the files are read at the start, after planning
    studio.run_pending()
    (job,) = studio.batches.jobs(batch_id)
    assert job.input_path is not None and Path(job.input_path).name == "input.png"


def test_the_row_cap_still_refuses(studio: Studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest, "MAX_ROWS", 100)
    with pytest.raises(ManifestError, match="more than 100 rows"):
        plan_from_manifest(studio, write_rows(tmp_path / "m.csv", 101), DEFAULTS)
