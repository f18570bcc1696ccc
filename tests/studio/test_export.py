"""Exporting approved images: names a seller can use, a ZIP and folder with a CSV Excel opens correctly."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imaging import provenance
from imaging.images import encode_png
from imaging.marketplace import PRESETS, custom_preset
from providers.base import Money
from studio.export import (
    CSV_COLUMNS,
    ExportItem,
    NameTemplate,
    export_to_dir,
    export_zip,
    sanitise_stem,
)

CREATED = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)  # noon UTC: the same date in every time zone


def picture(path: Path, width: int = 1000, height: int = 1000, *, fmt: str = "PNG") -> Path:
    """A plain generated-looking result: a blue product on a light backdrop."""
    rgb = np.full((height, width, 3), 232, np.uint8)
    rgb[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (40, 90, 160)
    if fmt == "PNG":
        path.write_bytes(encode_png(rgb))
    else:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format=fmt, quality=92)
        path.write_bytes(buffer.getvalue())
    return path


def item(source: Path, **changes: object) -> ExportItem:
    base = ExportItem(
        source=source,
        sku="SKU-1",
        provider="aidge",
        job_id="4f2a9c1e77d04b1c9a3e",
        workflow="scene",
        created_at=CREATED,
        n=1,
        cost=Money(8, "CNY"),
        prompt="木桌上的晨光",
        scene="marble",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8, Chinese shows correctly
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


# ---------------------------------------------------------------------- templates
def test_every_template_field_is_filled() -> None:
    template = NameTemplate("{sku}_{provider}_{n}_{job}_{workflow}_{date}_{preset}")
    name = template.name_for(item(Path("x.png"), n=3), "taobao", "JPEG")
    assert name == "SKU-1_aidge_3_4f2a9c1e_scene_2024-03-15_taobao.jpg"
    assert (
        NameTemplate("{sku}-{n:02d}").name_for(item(Path("x.png"), n=3), "amazon", "JPEG") == "SKU-1-03.jpg"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{sku}_{colour}",
            r"uses \{colour\}, which is not a field; use \{sku\}, \{provider\}, \{n\}, \{job\}",
        ),
        ("{sku}_{}", r"uses \{\}, which is not a field"),
        ("{sku.upper}", r"uses \{sku.upper\}"),
        ("{0}", r"uses \{0\}"),
        ("{sku", "is not valid"),
        ("{sku!r}", "uses !r"),
        ("{sku:03d}", "cannot be filled in"),
        ("   ", "empty"),
    ],
)
def test_a_bad_template_is_refused_naming_the_allowed_fields(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NameTemplate(template)


@pytest.mark.parametrize(
    ("template", "fmt", "expected"),
    [
        ("{sku}_{n}", "JPEG", "SKU-1_1.jpg"),  # added
        ("{sku}_{n}.jpg", "JPEG", "SKU-1_1.jpg"),  # kept
        ("{sku}_{n}.JPEG", "JPEG", "SKU-1_1.jpeg"),  # the user's spelling of the same type
        ("{sku}_{n}.png", "JPEG", "SKU-1_1.jpg"),  # replaced: the file is a JPEG
        ("{sku}_{n}.jpg", "PNG", "SKU-1_1.png"),
        ("{sku}_{n}.jpg", "WEBP", "SKU-1_1.webp"),  # "original" keeps the generated type
        ("{sku}_v1.2", "JPEG", "SKU-1_v1.2.jpg"),  # not an extension: part of the name
    ],
)
def test_the_extension_follows_the_exported_file(template: str, fmt: str, expected: str) -> None:
    assert NameTemplate(template).name_for(item(Path("x.png")), "amazon", fmt) == expected


@pytest.mark.parametrize(
    ("sku", "expected"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("a\\b/c", "a_b_c"),
        ("A:B*C?", "A_B_C"),
        ("red\x00\x1f\nshirt", "redshirt"),
        ("evil\u202egpj.exe", "evilgpj.exe"),  # right-to-left override would disguise the extension
        ("连衣裙 红色", "连衣裙 红色"),
        ("连衣裙\u3000红色", "连衣裙 红色"),  # ideographic space
        ("..hidden", "hidden"),
        ("con", "_con"),
        ("", "image"),
    ],
)
def test_names_are_sanitised(sku: str, expected: str) -> None:
    assert sanitise_stem(sku) == expected


def test_sanitised_names_from_a_template_have_no_path_and_no_empty_parts() -> None:
    template = NameTemplate("{sku}_{provider}_{n}")
    name = template.name_for(item(Path("x.png"), sku="../连衣裙/../x"), "taobao", "JPEG")
    assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")
    assert "连衣裙" in name
    assert template.name_for(item(Path("x.png"), sku=""), "taobao", "JPEG") == "aidge_1.jpg"


def test_long_names_are_clipped_on_a_character_boundary() -> None:
    stem = sanitise_stem("长" * 200)
    assert len(stem.encode("utf-8")) <= 180
    assert set(stem) == {"长"}


# ---------------------------------------------------------------------------- ZIP
@pytest.fixture()
def sources(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "results"
    folder.mkdir()
    broken = folder / "broken.png"
    broken.write_bytes(picture(folder / "tmp.png").read_bytes()[:400])  # a download cut short
    return {
        "a": picture(folder / "a.png"),
        "b": picture(folder / "b.jpg", 1280, 960, fmt="JPEG"),
        "broken": broken,
        "missing": folder / "gone.png",
        "c": picture(folder / "c.png", 900, 1200),
    }


def test_zip_holds_the_rendered_images_and_a_csv_excel_reads(sources: dict[str, Path]) -> None:
    items = [
        item(sources["a"], sku="连衣裙-红", n=1),
        item(sources["b"], sku="连衣裙-红", n=2, provider="tencent", cost=None),
        item(sources["broken"], sku="BROKEN", n=1),
        item(sources["missing"], sku="GONE", n=1),
        item(sources["c"], sku="SKU-9", n=1, prompt='=HYPERLINK("http://x")'),
    ]
    seen: list[tuple[int, int]] = []
    out = io.BytesIO()
    report = export_zip(
        items, PRESETS["taobao"], "{sku}_{provider}_{n}.jpg", out, progress=lambda d, t: seen.append((d, t))
    )

    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert [f.name for f in report.files] == [
        "连衣裙-红_aidge_1.jpg",
        "连衣裙-红_tencent_2.jpg",
        "SKU-9_aidge_1.jpg",
    ]
    assert [(f.item.sku, f.code) for f in report.failures] == [
        ("BROKEN", "image_corrupt"),
        ("GONE", "unreadable"),
    ]

    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == sorted([f.name for f in report.files] + ["export.csv"])
    for exported in report.files:
        info = archive.getinfo(exported.name)
        assert info.compress_type == zipfile.ZIP_STORED  # JPEG is compressed already
        assert info.date_time[:3] == (2024, 3, 15)
        image = Image.open(io.BytesIO(archive.read(exported.name)))
        assert (image.format, image.size, image.mode) == ("JPEG", (800, 800), "RGB")
        assert info.file_size == exported.size_bytes <= 300_000

    rows = read_csv(archive.read("export.csv"))
    assert [row["sku"] for row in rows] == ["连衣裙-红", "连衣裙-红", "BROKEN", "GONE", "SKU-9"]
    first = rows[0]
    assert first["file"] == "连衣裙-红_aidge_1.jpg"
    assert (first["width"], first["height"], first["bytes"]) == (
        "800",
        "800",
        str(report.files[0].size_bytes),
    )
    assert (first["cost"], first["currency"], first["variant"], first["preset"]) == (
        "0.08",
        "CNY",
        "1",
        "taobao",
    )
    assert (first["job_id"], first["workflow"], first["scene"]) == ("4f2a9c1e77d04b1c9a3e", "scene", "marble")
    assert first["prompt"] == "木桌上的晨光"
    assert first["source_file"] == "a.png"  # never the server's absolute path
    assert first["error"] == ""
    assert (rows[1]["cost"], rows[1]["currency"]) == ("", "")
    assert rows[2]["file"] == "" and "damaged" in rows[2]["error"]
    assert rows[3]["file"] == "" and "gone.png" in rows[3]["error"]
    assert rows[4]["prompt"] == '\'=HYPERLINK("http://x")'  # a formula is kept as text


def test_colliding_names_get_numbered_ignoring_case(sources: dict[str, Path]) -> None:
    items = [
        item(sources["a"], sku="X"),
        item(sources["b"], sku="X"),
        item(sources["c"], sku="x"),
        item(sources["a"], sku="export", provider="", n=0),
    ]
    out = io.BytesIO()
    report = export_zip(items, PRESETS["tmall"], "{sku}", out)
    assert [f.name for f in report.files] == ["X.jpg", "X-2.jpg", "x-3.jpg", "export.jpg"]
    assert len(zipfile.ZipFile(out).namelist()) == 5


def test_original_keeps_each_file_its_type_and_pixels_and_adds_the_ai_label(sources: dict[str, Path]) -> None:
    out = io.BytesIO()
    report = export_zip(
        [item(sources["a"], n=1), item(sources["b"], n=2)], PRESETS["original"], "{sku}_{n}.jpg", out
    )
    archive = zipfile.ZipFile(out)
    assert [f.name for f in report.files] == ["SKU-1_1.png", "SKU-1_2.jpg"]
    for name, source in (("SKU-1_1.png", sources["a"]), ("SKU-1_2.jpg", sources["b"])):
        exported = archive.read(name)
        # The file as generated, pixel for pixel (no re-encoding), with its provenance label added.
        with Image.open(io.BytesIO(exported)) as got, Image.open(source) as want:
            assert got.format == want.format and got.tobytes() == want.tobytes()
        label = provenance.read(exported)
        assert label is not None and label.job_id == report.files[0].item.job_id


def test_an_item_too_small_for_the_preset_is_reported_and_the_rest_exported(tmp_path: Path) -> None:
    small = picture(tmp_path / "small.png", 300, 300)
    large = picture(tmp_path / "large.png")
    report = export_zip([item(small), item(large, n=2)], PRESETS["taobao"], "{sku}_{n}", io.BytesIO())
    assert [f.name for f in report.files] == ["SKU-1_2.jpg"]
    assert report.failures[0].code == "source_too_small" and "2.7x" in report.failures[0].message


def test_zip_to_a_path_is_written_whole(sources: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "exports" / "批次.zip"
    report = export_zip([item(sources["a"])], PRESETS["amazon"], "{sku}", target)
    assert target.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["批次.zip"]  # no temporary file left
    with zipfile.ZipFile(target) as archive:
        image = Image.open(io.BytesIO(archive.read(report.files[0].name)))
        assert image.width == image.height >= 1600 and image.getpixel((0, 0)) == (255, 255, 255)


def test_zip_streams_to_an_unseekable_output(sources: dict[str, Path]) -> None:
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, chunk: object) -> int:
            view = memoryview(chunk)  # type: ignore[arg-type]
            self.data += view
            return view.nbytes

    out = Unseekable()
    export_zip([item(sources["a"]), item(sources["c"], n=2)], PRESETS["taobao"], "{sku}_{n}", out)  # type: ignore[arg-type]
    archive = zipfile.ZipFile(io.BytesIO(bytes(out.data)))
    assert archive.testzip() is None and len(archive.namelist()) == 3


def test_a_bad_template_stops_before_anything_is_written(sources: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "out.zip"
    with pytest.raises(ValueError, match="colour"):
        export_zip([item(sources["a"])], PRESETS["taobao"], "{colour}", target)
    assert not target.exists() and list(tmp_path.glob("*.part")) == []


# ------------------------------------------------------------------------- folder
def test_export_to_dir_writes_files_and_csv_and_never_overwrites(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    preset = custom_preset(600, 600, fit="pad", format="PNG")
    items = [item(sources["a"]), item(sources["broken"], sku="BROKEN")]
    first = export_to_dir(items, preset, "{sku}_{preset}", folder)
    assert first.csv_name == "export.csv"
    assert sorted(p.name for p in folder.iterdir()) == ["SKU-1_custom.png", "export.csv"]
    assert Image.open(folder / "SKU-1_custom.png").size == (600, 600)
    rows = read_csv((folder / "export.csv").read_bytes())
    assert [row["file"] for row in rows] == ["SKU-1_custom.png", ""]
    assert rows[1]["error"]

    again = export_to_dir(items[:1], preset, "{sku}_{preset}", folder)
    assert [f.name for f in again.files] == ["SKU-1_custom-2.png"]
    assert again.csv_name == "export-2.csv"
    assert sorted(p.name for p in folder.iterdir()) == [
        "SKU-1_custom-2.png",
        "SKU-1_custom.png",
        "export-2.csv",
        "export.csv",
    ]
