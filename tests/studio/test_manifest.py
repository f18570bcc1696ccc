"""Batch plans: every row of a manifest, ZIP or upload checked before anything is spent."""

from __future__ import annotations

import csv
import io
import socket
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import openpyxl
import pytest
from PIL import Image

from providers.base import Money, Operation, OptionSpec, Price, ProviderContext
from providers.local import LocalEngine
from providers.local_scenes import SCENES
from studio import manifest
from studio.jobs import JobFilter, JobStatus
from studio.manifest import (
    BatchDefaults,
    BatchItem,
    BatchPlan,
    DownloadError,
    ManifestError,
    download_local_url,
    download_url,
    plan_from_files,
    plan_from_manifest,
    plan_from_zip,
)
from studio.service import Studio
from studio.settings import load_settings
from tests.emulators.static_files import StaticFiles
from tests.studio.fakes import AsyncFake, CredentialFake, FakeClock, SyncFake

HEADER = [
    "sku",
    "image",
    "mask",
    "workflow",
    "provider",
    "scene",
    "prompt",
    "negative_prompt",
    "size",
    "count",
]
LOCAL_SCENE = SCENES[0].scene_id


class StepsFake(SyncFake):
    """A priced vendor with a `steps` option (15-50), like the Alibaba marketplace product."""

    key: ClassVar[str] = "steps_fake"
    label: ClassVar[str] = "Steps fake"
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]] = {
        Operation.PROMPT_BACKGROUND: (OptionSpec("steps", "int", 30, "opt.steps", 15, 50, 1),),
        Operation.SCENE_BACKGROUND: (),
    }
    prices: ClassVar[Mapping[Operation, Price]] = {
        Operation.PROMPT_BACKGROUND: Price(Money(12, "USD"), source="test price", as_of="2026-11"),
        Operation.SCENE_BACKGROUND: Price(Money(12, "USD"), source="test price", as_of="2026-11"),
    }


class UnpricedFake(SyncFake):
    """A vendor whose price nobody has written down."""

    key: ClassVar[str] = "unpriced"
    label: ClassVar[str] = "Unpriced fake"
    prices: ClassVar[Mapping[Operation, Price]] = {}


def photo(width: int = 320, height: int = 240, fmt: str = "JPEG") -> bytes:
    image = np.full((height, width, 3), 235, np.uint8)
    image[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (30, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, fmt)
    return buffer.getvalue()


def mask(width: int = 320, height: int = 240) -> bytes:
    pixels = np.zeros((height, width), np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture()
def studio(tmp_path: Path) -> Iterator[Studio]:
    settings = load_settings(
        {"STUDIO_DATA_DIR": str(tmp_path / "data")}, tmp_path / "none.toml", {"needs_key": ("api_key",)}
    )
    adapters = {
        "fake_sync": SyncFake(),
        "fake_async": AsyncFake(),
        "needs_key": CredentialFake(ProviderContext()),
        "steps_fake": StepsFake(),
        "unpriced": UnpricedFake(),
        "local": LocalEngine(ProviderContext()),
    }
    studio = Studio(settings, adapters=adapters, clock=FakeClock(), worker_threads=0)
    yield studio
    studio.close()


@pytest.fixture()
def server() -> Iterator[StaticFiles]:
    files = StaticFiles()
    yield files
    files.close()


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A batch folder with two product photos, a mask, and a file that only looks like a photo."""
    root = tmp_path / "batch"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    (root / "images" / "shoe.jpg").write_bytes(photo())
    (root / "images" / "bag.png").write_bytes(photo(300, 300, "PNG"))
    (root / "masks" / "shoe.png").write_bytes(mask())
    (root / "masks" / "small.png").write_bytes(mask(50, 50))
    (root / "images" / "broken.jpg").write_bytes(b"this is a text file, not a photo")
    return root


DEFAULTS = BatchDefaults(workflow=Operation.PROMPT_BACKGROUND, provider="fake_sync")


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None, **kw: Any) -> Path:
    columns = header or [*HEADER, *sorted({key for row in rows for key in row} - set(HEADER))]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    path.write_bytes((kw.get("prefix", "") + buffer.getvalue()).encode(kw.get("encoding", "utf-8")))
    return path


def only_problem(plan: BatchPlan) -> tuple[int, str, str, str]:
    assert len(plan.problems) == 1, plan.problems
    problem = plan.problems[0]
    return problem.row, problem.sku, problem.column, problem.code


def mask_of(item: BatchItem) -> Any:
    """The mask file a planned item names (the worker prepares it at the job's turn)."""
    assert item.source is not None
    return item.source.mask


def nothing_stored(studio: Studio) -> bool:
    return studio.list_jobs(JobFilter()).total == 0 and not (studio.settings.data_dir / "jobs").exists()


# ------------------------------------------------------------------ good manifests
def test_relative_paths_and_defaults_fill_empty_cells(studio: Studio, folder: Path) -> None:
    path = write_csv(
        folder / "manifest.csv",
        [
            {
                "sku": "SHOE-1",
                "image": "images/shoe.jpg",
                "mask": "masks/shoe.png",
                "workflow": "prompt",
                "provider": "local",
                "prompt": "white marble",
                "negative_prompt": "people",
                "size": "1000×800",
                "count": "3",
            },
            {"image": "images/bag.png"},
        ],
    )
    defaults = BatchDefaults(
        workflow=Operation.PROMPT_BACKGROUND,
        provider="fake_sync",
        prompt="a sunny beach",
        negative_prompt="text",
        size=(640, 480),
        count=2,
    )
    plan = plan_from_manifest(studio, path, defaults)

    assert plan.ok and plan.problems == ()
    shoe, bag = plan.items
    assert (shoe.row, shoe.sku, bag.row, bag.sku) == (1, "SHOE-1", 2, "bag")  # empty SKU: the file's stem
    assert shoe.request.provider == "local" and shoe.request.prompt == "white marble"
    assert shoe.request.negative_prompt == "people"
    assert (shoe.request.size, shoe.request.count, shoe.checked.count) == ((1000, 800), 3, 3)
    shoe_mask = mask_of(shoe)
    assert shoe_mask is not None and shoe_mask.name == "shoe.png"
    assert shoe.request.image.original_name == "shoe.jpg" and shoe.request.image.width == 320
    assert bag.request.provider == "fake_sync" and bag.request.workflow is Operation.PROMPT_BACKGROUND
    assert (bag.request.prompt, bag.request.negative_prompt) == ("a sunny beach", "text")
    assert (bag.request.size, bag.checked.count) == ((640, 480), 2)
    assert mask_of(bag) is None
    assert {item.request.source for item in plan.items} == {"batch"}
    assert nothing_stored(studio)


def test_a_planned_item_submits_and_runs_as_is(studio: Studio, folder: Path) -> None:
    path = write_csv(folder / "m.csv", [{"sku": "S1", "image": "images/shoe.jpg", "mask": "masks/shoe.png"}])
    (item,) = plan_from_manifest(studio, path, DEFAULTS).items
    batch_id = studio.batches.start([item])
    studio.run_pending()
    (view,) = studio.batches.jobs(batch_id)
    assert view.status is JobStatus.SUCCEEDED and view.source == "batch"
    # The worker prepared the photo and the mask at the job's turn: the mask as checked, single-channel.
    assert view.mask_path is not None and Image.open(view.mask_path).mode == "L"


def test_params_are_passed_through_and_checked(studio: Studio, folder: Path) -> None:
    path = write_csv(
        folder / "m.csv",
        [
            {"sku": "A", "image": "images/shoe.jpg", "param.strength": "0.3"},
            {"sku": "B", "image": "images/bag.png"},
            {"sku": "C", "image": "images/bag.png", "provider": "steps_fake", "param.steps": "20"},
        ],
    )
    defaults = BatchDefaults(Operation.PROMPT_BACKGROUND, "fake_sync", params={"strength": "0.7"})
    plan = plan_from_manifest(studio, path, defaults)
    assert plan.ok, plan.problems
    a, b, c = plan.items
    assert a.request.params == {"strength": "0.3"} and a.checked.params == {"strength": 0.3}
    assert b.request.params == {"strength": "0.7"} and b.checked.params == {"strength": 0.7}
    # The default provider's options are not forced on a row that picks another vendor.
    assert c.request.params == {"steps": "20"} and c.checked.params == {"steps": 20}


def test_header_names_are_case_insensitive_and_trimmed(studio: Studio, folder: Path) -> None:
    header = [" SKU ", "Image", "Negative Prompt", "PARAM.strength", "Count"]
    path = folder / "m.csv"
    path.write_text(
        ",".join(header) + "\nX1,images/shoe.jpg,blurry,0.4,2\n,,,,\n\nX2,images/bag.png,,,\n", "utf-8"
    )
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert plan.ok, plan.problems
    first, second = plan.items
    assert (first.request.negative_prompt, first.request.params, first.checked.count) == (
        "blurry",
        {"strength": "0.4"},
        2,
    )
    # Empty rows are skipped but still counted, so row numbers match the spreadsheet.
    assert (first.row, second.row) == (1, 4)


def test_windows_style_paths_are_found(studio: Studio, folder: Path) -> None:
    path = write_csv(folder / "m.csv", [{"image": "images\\shoe.jpg"}])
    assert [item.sku for item in plan_from_manifest(studio, path, DEFAULTS).items] == ["shoe"]


def test_absolute_paths_and_dot_dot_are_allowed_when_they_exist(studio: Studio, folder: Path) -> None:
    sub = folder / "sheets"
    sub.mkdir()
    path = write_csv(
        sub / "m.csv",
        [
            {"sku": "A", "image": "../images/shoe.jpg"},
            {"sku": "B", "image": str(folder / "images" / "bag.png")},
        ],
    )
    assert plan_from_manifest(studio, path, DEFAULTS).ok
    # A manifest uploaded through the page is confined to its folder.
    confined = plan_from_manifest(studio, path, DEFAULTS, confine_to=sub)
    assert [(p.row, p.column, p.code) for p in confined.problems] == [
        (1, "image", "outside_folder"),
        (2, "image", "outside_folder"),
    ]


def test_xlsx_first_sheet(studio: Studio, folder: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["SKU", "image", "count", "size", "prompt", "param.strength"])
    sheet.append(["鞋-1", "images/shoe.jpg", 3, "800x600", "红色背景", 0.25])
    sheet.append([None, None, None, None, None, None])
    sheet.append([1002, "images/bag.png", None, None, None, None])
    book.create_sheet("notes").append(["not", "read"])
    path = folder / "batch.xlsx"
    book.save(path)
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert plan.ok, plan.problems
    first, second = plan.items
    assert (first.sku, first.checked.count, first.request.size) == ("鞋-1", 3, (800, 600))
    assert first.request.prompt == "红色背景" and first.checked.params == {"strength": 0.25}
    assert (second.row, second.sku) == (3, "1002")


def test_csv_with_a_bom(studio: Studio, folder: Path) -> None:
    path = write_csv(folder / "m.csv", [{"sku": "A", "image": "images/shoe.jpg"}], prefix="\ufeff")
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert plan.ok and plan.items[0].sku == "A"


def test_gb18030_csv_from_chinese_excel(studio: Studio, folder: Path) -> None:
    prompt = "白色大理石台面，柔和的阳光"
    path = write_csv(
        folder / "m.csv",
        [{"sku": "鞋子-01", "image": "images/shoe.jpg", "prompt": prompt}],
        encoding="gb18030",
    )
    assert path.read_bytes().decode("gb18030") and b"\xef\xbb\xbf" not in path.read_bytes()
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert plan.ok, plan.problems
    assert (plan.items[0].sku, plan.items[0].request.prompt) == ("鞋子-01", prompt)


def test_semicolon_separated_csv(studio: Studio, folder: Path) -> None:
    path = folder / "m.csv"
    path.write_text("sku;image;param.strength\nA;images/shoe.jpg;0,5\n", "utf-8")
    plan = plan_from_manifest(studio, path, DEFAULTS)
    # Read as columns (not one "sku;image;..." column): the decimal comma is the vendor check's to refuse.
    assert [(p.column, p.code) for p in plan.problems] == [("param.strength", "bad_param")]


# ------------------------------------------------------------------ links
def test_images_and_masks_from_links(studio: Studio, folder: Path, server: StaticFiles) -> None:
    image_url = server.host("cdn/shoe.jpg", photo())
    mask_url = server.host("cdn/shoe_mask.png", mask())
    path = write_csv(
        folder / "m.csv",
        [
            {"image": image_url + "?x-oss-signature=abc", "mask": mask_url},
            {"sku": "again", "image": image_url + "?x-oss-signature=abc"},
        ],
    )
    # The test server is on loopback: a trusted local network, as `batch --allow-local-network`.
    plan = plan_from_manifest(studio, path, DEFAULTS, download=download_local_url)
    assert plan.ok, plan.problems
    assert [item.sku for item in plan.items] == ["shoe", "again"]
    assert plan.items[0].request.image.original_name == "shoe.jpg"
    assert mask_of(plan.items[0]) is not None
    # The same link in two rows is fetched once.
    assert server.gets.count("/cdn/shoe.jpg") == 1


def test_a_broken_link_is_a_row_problem_that_hides_the_signature(
    studio: Studio, folder: Path, server: StaticFiles
) -> None:
    path = write_csv(
        folder / "m.csv", [{"sku": "A", "image": f"{server.base_url}/gone.jpg?Signature=SECRET123"}]
    )
    plan = plan_from_manifest(studio, path, DEFAULTS, download=download_local_url)
    assert only_problem(plan) == (1, "A", "image", "download_failed")
    message = plan.problems[0].message
    assert "404" in message and "/gone.jpg" in message and "SECRET123" not in message


def test_the_download_is_injected(studio: Studio, folder: Path) -> None:
    asked: list[str] = []

    def fake_download(url: str) -> bytes:
        asked.append(url)
        if "bad" in url:
            raise DownloadError("the server did not answer in time")
        return photo()

    path = write_csv(
        folder / "m.csv",
        [{"image": "https://example.com/a/good.jpg"}, {"image": "https://example.com/a/bad.jpg"}],
    )
    plan = plan_from_manifest(studio, path, DEFAULTS, download=fake_download)
    assert [item.sku for item in plan.items] == ["good"]
    assert only_problem(plan) == (2, "bad", "image", "download_failed")
    assert "did not answer in time" in plan.problems[0].message
    assert asked == ["https://example.com/a/good.jpg", "https://example.com/a/bad.jpg"]


def test_default_download_errors(monkeypatch: pytest.MonkeyPatch, server: StaticFiles) -> None:
    monkeypatch.setattr(manifest, "MAX_DOWNLOAD_BYTES", 1000)
    big = server.host("big.jpg", b"x" * 5000)
    small = server.host("small.jpg", b"y" * 10)
    with pytest.raises(DownloadError, match="larger than"):
        download_local_url(big)
    assert download_local_url(small) == b"y" * 10
    with pytest.raises(DownloadError, match="404"):
        download_local_url(server.base_url + "/missing.jpg")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(DownloadError, match="could not be reached"):
        download_local_url(f"http://127.0.0.1:{closed_port}/shoe.jpg")
    # Without the trusted local network the same link is refused before any connection.
    with pytest.raises(DownloadError, match="inside this network"):
        download_url(small)


def test_other_link_schemes_are_refused(studio: Studio, folder: Path) -> None:
    path = write_csv(folder / "m.csv", [{"sku": "A", "image": "ftp://example.com/shoe.jpg"}])
    assert only_problem(plan_from_manifest(studio, path, DEFAULTS))[2:] == ("image", "bad_url")


# ------------------------------------------------------------------ bad rows
GOOD_ROW = {"sku": "R1", "image": "images/shoe.jpg"}


@pytest.mark.parametrize(
    ("cells", "column", "code"),
    [
        pytest.param({"image": "images/missing.jpg"}, "image", "file_not_found", id="missing-image-file"),
        pytest.param({"image": "images"}, "image", "not_a_file", id="image-is-a-folder"),
        pytest.param({"image": ""}, "image", "missing_image", id="empty-image-cell"),
        pytest.param({"image": "images/broken.jpg"}, "image", "corrupt", id="unreadable-image"),
        pytest.param({"size": "big"}, "size", "bad_size", id="size-not-WxH"),
        pytest.param({"size": "10x10"}, "size", "bad_size", id="size-too-small"),
        pytest.param({"count": "9"}, "count", "bad_count", id="count-out-of-range"),
        pytest.param({"count": "two"}, "count", "bad_count", id="count-not-a-number"),
        pytest.param({"provider": "nobody"}, "provider", "unknown_provider", id="unknown-provider"),
        pytest.param({"provider": "needs_key"}, "provider", "provider_not_configured", id="not-configured"),
        pytest.param(
            {"workflow": "model", "provider": "local"}, "workflow", "unsupported_workflow", id="unsupported"
        ),
        pytest.param({"workflow": "paint"}, "workflow", "bad_workflow", id="unknown-workflow-word"),
        pytest.param(
            {"workflow": "scene", "provider": "local", "scene": "moon-base"},
            "scene",
            "scene_not_found",
            id="scene",
        ),
        pytest.param({"workflow": "scene", "provider": "local"}, "scene", "missing_scene", id="no-scene"),
        pytest.param({"param.bogus": "1"}, "param.bogus", "bad_param", id="unknown-param"),
        pytest.param(
            {"provider": "steps_fake", "param.steps": "99"},
            "param.steps",
            "bad_param",
            id="param-out-of-range",
        ),
        pytest.param({"mask": "masks/small.png"}, "mask", "mask_size_mismatch", id="mask-wrong-size"),
        pytest.param({"mask": "masks/none.png"}, "mask", "file_not_found", id="mask-missing"),
        pytest.param({"prompt": "x" * 2001}, "prompt", "prompt_too_long", id="prompt-too-long"),
        pytest.param(
            {"negative_prompt": "x" * 2001}, "negative_prompt", "prompt_too_long", id="negative-long"
        ),
    ],
)
def test_each_bad_row_is_a_problem_in_its_column(
    studio: Studio, folder: Path, cells: dict[str, str], column: str, code: str
) -> None:
    path = write_csv(folder / "m.csv", [{**GOOD_ROW, **cells}])
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert only_problem(plan) == (1, "R1", column, code)
    assert not plan.ok and plan.items == ()
    message = plan.problems[0].message
    assert len(message) > 30 and message.rstrip().endswith(".")
    assert plan.estimate == {} and nothing_stored(studio)


def test_missing_workflow_and_provider_without_defaults(studio: Studio, folder: Path) -> None:
    path = write_csv(folder / "m.csv", [GOOD_ROW])
    plan = plan_from_manifest(studio, path, BatchDefaults())
    assert sorted((p.column, p.code) for p in plan.problems) == [
        ("provider", "missing_provider"),
        ("workflow", "missing_workflow"),
    ]


def test_every_problem_of_a_row_is_listed_and_good_rows_still_plan(studio: Studio, folder: Path) -> None:
    path = write_csv(
        folder / "m.csv",
        [
            {"sku": "ok", "image": "images/shoe.jpg"},
            {"sku": "bad", "image": "images/bag.png", "size": "huge", "provider": "nobody"},
            {"sku": "ok2", "image": "images/bag.png"},
        ],
    )
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert [item.sku for item in plan.items] == ["ok", "ok2"]
    assert [(p.row, p.sku, p.column, p.code) for p in plan.problems] == [
        (2, "bad", "size", "bad_size"),
        (2, "bad", "provider", "unknown_provider"),
    ]
    assert not plan.ok


def test_problems_carry_params_for_the_translated_table(studio: Studio, folder: Path) -> None:
    path = write_csv(folder / "m.csv", [{**GOOD_ROW, "count": "9"}])
    (problem,) = plan_from_manifest(studio, path, DEFAULTS).problems
    assert problem.params == {"count": 9, "min": 1, "max": 4}


def test_duplicate_skus(studio: Studio, folder: Path) -> None:
    path = write_csv(
        folder / "m.csv",
        [
            {"sku": "SHOE-1", "image": "images/shoe.jpg"},
            {"sku": "shoe-1", "image": "images/bag.png"},
            {"image": "images/bag.png"},
            {"image": "images/bag.png"},
        ],
    )
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert [item.sku for item in plan.items] == ["SHOE-1", "bag"]
    assert [(p.row, p.sku, p.column, p.code) for p in plan.problems] == [
        (2, "shoe-1", "sku", "duplicate_sku"),
        (4, "bag", "sku", "duplicate_sku"),
    ]
    assert "row 1" in plan.problems[0].message and plan.problems[0].params["first_row"] == 1


def test_unknown_columns_are_problems_but_rows_are_still_checked(studio: Studio, folder: Path) -> None:
    path = write_csv(
        folder / "m.csv",
        [{"sku": "A", "image": "images/shoe.jpg", "colour": "red"}],
        header=["sku", "image", "colour", "param."],
    )
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert [(p.row, p.column, p.code) for p in plan.problems] == [
        (0, "colour", "unknown_column"),
        (0, "param.", "unknown_column"),
    ]
    assert [item.sku for item in plan.items] == ["A"] and not plan.ok


def test_data_under_a_blank_header_and_duplicate_columns(studio: Studio, folder: Path) -> None:
    path = folder / "m.csv"
    path.write_text(
        "sku,image,,prompt,Prompt\nA,images/shoe.jpg,stray,one,two\nB,images/bag.png,,,\n", "utf-8"
    )
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert [(p.row, p.column, p.code) for p in plan.problems] == [
        (0, "prompt", "duplicate_column"),
        (1, "", "unnamed_column"),
    ]
    assert [item.sku for item in plan.items] == ["B"]


def test_a_missing_image_column_stops_the_plan(studio: Studio, folder: Path) -> None:
    path = write_csv(folder / "m.csv", [{"sku": "A", "prompt": "x"}], header=["sku", "prompt"])
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert only_problem(plan) == (0, "", "image", "missing_column") and plan.items == ()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("m.txt", b"sku,image\n", "not a manifest"),
        ("m.csv", b"", "empty"),
        ("m.csv", b",,,\n,,\n", "no header"),
        ("m.xls", b"\xd0\xcf\x11\xe0 old excel", ".xlsx"),
        ("m.xlsx", b"PK not really a workbook", "Excel workbook"),
    ],
)
def test_unreadable_manifests_raise(
    studio: Studio, tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ManifestError, match=words):
        plan_from_manifest(studio, path, DEFAULTS)


def test_too_many_rows_raise(studio: Studio, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest, "MAX_ROWS", 2)
    path = write_csv(folder / "m.csv", [{"image": "images/shoe.jpg"}] * 3)
    with pytest.raises(ManifestError, match="split"):
        plan_from_manifest(studio, path, DEFAULTS)


def test_fit_downscales_photos_larger_than_the_provider_takes(studio: Studio, folder: Path) -> None:
    (folder / "images" / "wide.jpg").write_bytes(photo(4400, 300))
    (folder / "masks" / "wide.png").write_bytes(mask(4400, 300))
    path = write_csv(folder / "m.csv", [{"sku": "W", "image": "images/wide.jpg", "mask": "masks/wide.png"}])
    assert only_problem(plan_from_manifest(studio, path, DEFAULTS))[2:] == ("image", "provider_too_large")
    fitted = plan_from_manifest(
        studio, path, BatchDefaults(Operation.PROMPT_BACKGROUND, "fake_sync", fit=True)
    )
    assert fitted.ok, fitted.problems
    image = fitted.items[0].request.image
    assert (image.width, image.height) == (4000, 273)
    assert mask_of(fitted.items[0]) is not None
    # The worker fits the photo and its mask together at the job's turn.
    batch_id = studio.batches.start(fitted.items)
    studio.run_pending()
    (view,) = studio.batches.jobs(batch_id)
    assert view.mask_path is not None and Image.open(view.mask_path).size == (4000, 273)
    assert view.input_path is not None and Image.open(view.input_path).size == (4000, 273)


# ------------------------------------------------------------------ estimates
def test_estimates_per_provider_and_currency(studio: Studio, folder: Path) -> None:
    path = write_csv(
        folder / "m.csv",
        [
            {"sku": "L1", "image": "images/shoe.jpg", "provider": "local", "count": "2"},
            {
                "sku": "L2",
                "image": "images/bag.png",
                "provider": "local",
                "workflow": "scene",
                "scene": LOCAL_SCENE,
                "count": "3",
            },
            {"sku": "F1", "image": "images/shoe.jpg", "provider": "fake_sync", "count": "3"},
            {
                "sku": "F2",
                "image": "images/bag.png",
                "provider": "fake_sync",
                "workflow": "scene",
                "scene": "s1",
            },
            {"sku": "S1", "image": "images/bag.png", "provider": "steps_fake", "count": "1"},
            {"sku": "U1", "image": "images/bag.png", "provider": "unpriced", "count": "2"},
        ],
    )
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert plan.ok, plan.problems
    # fake_sync: prompt 0.08 CNY x 3, scene 0.05 USD x 2 (its default count); steps_fake 0.12 USD x 1.
    assert plan.estimate == {"CNY": Money(24, "CNY"), "USD": Money(22, "USD")}
    assert plan.estimate_by_provider == {
        "fake_sync": {"CNY": Money(24, "CNY"), "USD": Money(10, "USD")},
        "steps_fake": {"USD": Money(12, "USD")},
    }
    # The local engine is free, not unpriced.
    assert plan.unpriced == {"unpriced": 2}
    assert plan.images_by_provider == {"local": 5, "fake_sync": 5, "steps_fake": 1, "unpriced": 2}
    assert plan.items[3].checked.estimate == Money(10, "USD")


def test_rows_with_problems_add_nothing_to_the_estimate(studio: Studio, folder: Path) -> None:
    path = write_csv(
        folder / "m.csv",
        [{"sku": "A", "image": "images/shoe.jpg", "count": "2"}, {"sku": "B", "image": "images/nope.jpg"}],
    )
    plan = plan_from_manifest(studio, path, DEFAULTS)
    assert plan.estimate == {"CNY": Money(16, "CNY")} and len(plan.problems) == 1


# ------------------------------------------------------------------ ZIPs and uploads
def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_of_images_pairs_masks_and_skips_junk(studio: Studio) -> None:
    data = make_zip(
        {
            "shoe.jpg": photo(),
            "shoe_mask.png": mask(),
            "bags/bag.png": photo(),
            "bags/masks/bag.png": mask(),
            "face_mask.jpg": photo(),  # a product called "face mask": no face.* beside it
            "__MACOSX/._shoe.jpg": b"apple double",
            ".DS_Store": b"finder",
            "bags/Thumbs.db": b"windows",
        }
    )
    plan = plan_from_zip(studio, data, DEFAULTS)
    assert plan.ok, plan.problems
    by_sku = {item.sku: item for item in plan.items}
    assert list(by_sku) == ["shoe", "bag", "face_mask"]
    assert mask_of(by_sku["shoe"]) is not None and mask_of(by_sku["bag"]) is not None
    assert mask_of(by_sku["face_mask"]) is None
    assert [item.row for item in plan.items] == [1, 3, 5]  # the file's position in the archive


def test_zip_problems_non_images_and_lonely_masks(studio: Studio) -> None:
    data = make_zip({"shoe.jpg": photo(), "readme.txt": b"hello", "masks/ghost.png": mask()})
    plan = plan_from_zip(studio, data, DEFAULTS)
    assert [item.sku for item in plan.items] == ["shoe"]
    assert [(p.row, p.sku, p.column, p.code) for p in plan.problems] == [
        (2, "readme", "image", "corrupt"),
        (3, "ghost", "mask", "unmatched_mask"),
    ]


def test_zip_with_a_manifest(studio: Studio) -> None:
    table = "sku,image,mask,prompt,param.strength\n货号1,photos/shoe.jpg,photos/shoe_m.png,大理石,0.2\nB,photos/bag.png,,,\n"
    data = make_zip(
        {
            "manifest.csv": table.encode("gb18030"),
            "photos/shoe.jpg": photo(),
            "photos/shoe_m.png": mask(),
            "photos/bag.png": photo(),
            "photos/unused.png": photo(),
        }
    )
    plan = plan_from_zip(studio, data, DEFAULTS)
    assert plan.ok, plan.problems
    first, second = plan.items
    assert (first.sku, first.request.prompt, first.checked.params) == ("货号1", "大理石", {"strength": 0.2})
    assert mask_of(first) is not None and (second.row, second.sku) == (2, "B")


def test_zip_with_an_xlsx_manifest_in_a_zipped_folder(studio: Studio) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["sku", "image"])
    sheet.append(["A", "shoe.jpg"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = make_zip({"spring/manifest.xlsx": buffer.getvalue(), "spring/shoe.jpg": photo()})
    plan = plan_from_zip(studio, data, DEFAULTS)
    assert plan.ok and plan.items[0].sku == "A"


def test_zip_slip_is_refused(studio: Studio, tmp_path: Path) -> None:
    marker = f"escaped-{tmp_path.name}.jpg"
    data = make_zip(
        {
            "shoe.jpg": photo(),
            f"../../{marker}": photo(),
            f"/tmp/{marker}": photo(),
            "C:/Windows/evil.jpg": photo(),
        }
    )
    plan = plan_from_zip(studio, data, DEFAULTS)
    assert [item.sku for item in plan.items] == ["shoe"]
    assert [(p.row, p.code) for p in plan.problems] == [
        (2, "unsafe_path"),
        (3, "unsafe_path"),
        (4, "unsafe_path"),
    ]
    assert not plan.ok
    # With a manifest the files are unpacked: nothing may land outside the temporary folder.
    with_manifest = make_zip(
        {
            "manifest.csv": b"sku,image\nA,shoe.jpg\nB,../../etc/passwd\n",
            "shoe.jpg": photo(),
            f"../../{marker}": photo(),
        }
    )
    plan = plan_from_zip(studio, with_manifest, DEFAULTS)
    assert [(p.row, p.sku, p.column, p.code) for p in plan.problems] == [
        (2, "B", "image", "outside_folder"),
        (3, marker.removesuffix(".jpg"), "", "unsafe_path"),
    ]
    assert [item.sku for item in plan.items] == ["A"]
    for where in (Path("/"), Path(tempfile.gettempdir()), tmp_path.parent):
        assert not (where / marker).exists()


def test_zip_limits_and_garbage(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ManifestError, match="not a readable ZIP"):
        plan_from_zip(studio, b"definitely not a zip", DEFAULTS)
    two_tables = make_zip({"a.csv": b"image\n", "b.xlsx": b"x"})
    with pytest.raises(ManifestError, match="several tables"):
        plan_from_zip(studio, two_tables, DEFAULTS)
    monkeypatch.setattr(manifest, "MAX_ZIP_BYTES", 100_000)
    big = make_zip({"a.png": bytes(60_000), "b.png": bytes(60_000)})
    with pytest.raises(ManifestError, match="more than"):
        plan_from_zip(studio, big, DEFAULTS)


def test_zip_names_written_by_chinese_windows(studio: Studio) -> None:
    # Windows' built-in zipper stores names in the system code page (GBK) without the UTF-8 flag.
    gbk = "红鞋.jpg".encode("gbk")
    placeholder = b"abcd.jpg"
    assert len(gbk) == len(placeholder)
    data = make_zip({placeholder.decode(): photo()}).replace(placeholder, gbk)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() != ["红鞋.jpg"]  # zipfile alone reads it as cp437 mojibake
    plan = plan_from_zip(studio, data, DEFAULTS)
    assert plan.ok, plan.problems
    assert plan.items[0].sku == "红鞋"


def test_uploaded_files(studio: Studio) -> None:
    plan = plan_from_files(
        studio,
        [("shoe.jpg", photo()), ("shoe_mask.png", mask()), ("notes.txt", b"hello"), ("bag.png", photo())],
        DEFAULTS,
    )
    assert [(item.row, item.sku) for item in plan.items] == [(1, "shoe"), (4, "bag")]
    assert mask_of(plan.items[0]) is not None and mask_of(plan.items[1]) is None
    assert [(p.row, p.sku, p.column, p.code) for p in plan.problems] == [(3, "notes", "image", "corrupt")]
    assert plan.estimate == {"CNY": Money(16, "CNY")}
    assert nothing_stored(studio)


def test_uploaded_files_with_the_same_stem_are_duplicates(studio: Studio) -> None:
    plan = plan_from_files(studio, [("shoe.jpg", photo()), ("shoe.png", photo())], DEFAULTS)
    assert only_problem(plan) == (2, "shoe", "sku", "duplicate_sku")


def test_links_in_a_page_upload_must_lead_to_the_public_internet() -> None:
    from studio.manifest import DownloadError, download_public_url

    for url in (
        "http://127.0.0.1:9/a.png",
        "http://10.0.0.8/a.png",
        "http://169.254.169.254/latest/meta-data",
    ):
        with pytest.raises(DownloadError, match="inside this network"):
            download_public_url(url)
    with pytest.raises(DownloadError, match="could not be found"):
        download_public_url("http://no-such-host.invalid/a.png")
