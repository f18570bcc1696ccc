"""The export gate (issue 17): marketplace rules checked before and during an export, the
explicit override, skipping enlarged images (issue 18), and the AI labels in exported files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from imaging import provenance
from imaging.images import encode_png
from imaging.marketplace import PRESETS
from studio.export import export_zip, preview_export
from studio.export_checks import ExportGate, summarise
from studio.settings import load_settings
from tests.studio.test_export import item, picture, read_csv


def _stamped(path: Path) -> Path:
    """A scene picture with a vendor's watermark text in the background's corner."""
    rgb = np.full((1000, 1000, 3), 232, np.uint8)
    rgb[250:750, 333:666] = (40, 90, 160)
    cv2.putText(rgb, "AI GENERATED", (600, 960), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (30, 30, 30), 4, cv2.LINE_AA)
    path.write_bytes(encode_png(rgb))
    return path


def test_the_preview_names_what_the_export_fixes_and_what_remains(tmp_path: Path) -> None:
    clean = picture(tmp_path / "clean.png")
    stamped = _stamped(tmp_path / "stamped.png")
    gate = ExportGate()
    amazon = preview_export([item(clean), item(stamped, n=2)], PRESETS["amazon"], gate)
    # Amazon re-composites the product on pure white at 85 % fill and >= 1600 px: all fixed.
    assert all(p.compliant for p in amazon)
    assert {"background_not_white", "fill_too_small", "too_small"} <= set(amazon[0].fixed)
    assert "text_or_watermark" in amazon[1].before.flags  # type: ignore[union-attr]
    assert "text_or_watermark" in amazon[1].fixed
    # Taobao keeps the generated background: the watermark stays, and nothing can fix it.
    taobao = preview_export([item(clean), item(stamped, n=2)], PRESETS["taobao"], gate)
    assert taobao[0].compliant and not taobao[1].compliant
    assert [i.flag for i in taobao[1].remaining] == ["text_or_watermark"]
    assert not taobao[1].remaining[0].fixable
    assert taobao[0].fixed == ("wrong_size",)  # 1000x1000 made 800x800
    assert summarise(taobao) == {
        "images": 2,
        "compliant": 1,
        "fixed": 1,
        "failing": 1,
        "upscaled": 0,
        "errors": 0,
    }


def test_an_image_still_breaking_a_rule_needs_the_override(tmp_path: Path) -> None:
    items = [item(picture(tmp_path / "clean.png")), item(_stamped(tmp_path / "stamped.png"), n=2)]
    out = io.BytesIO()
    report = export_zip(items, PRESETS["taobao"], "{sku}_{n}", out, gate=ExportGate())
    assert [f.name for f in report.files] == ["SKU-1_1.jpg"]
    assert [(f.code, f.item.n) for f in report.failures] == [("not_compliant", 2)]
    rows = read_csv(zipfile.ZipFile(out).read("export.csv"))
    assert "text_or_watermark" in rows[1]["error"] and "override" in rows[1]["error"]

    overridden = export_zip(
        items, PRESETS["taobao"], "{sku}_{n}", io.BytesIO(), gate=ExportGate(allow_noncompliant=True)
    )
    assert [f.name for f in overridden.files] == ["SKU-1_1.jpg", "SKU-1_2.jpg"] and not overridden.failures


def test_enlarged_images_are_listed_and_may_be_skipped(tmp_path: Path) -> None:
    small = picture(tmp_path / "small.png", 600, 400)
    large = picture(tmp_path / "large.png", 2400, 2400)
    previews = preview_export([item(small), item(large, n=2)], PRESETS["amazon"], ExportGate())
    assert previews[0].upscaled and previews[0].scale > 1.5
    assert not previews[1].upscaled
    report = export_zip(
        [item(small), item(large, n=2)],
        PRESETS["amazon"],
        "{n}",
        io.BytesIO(),
        gate=ExportGate(max_upscale=1.5),
    )
    assert [f.item.n for f in report.files] == [2]
    assert report.failures[0].code == "upscaled" and "enlarged" in report.failures[0].message


def test_exported_files_carry_the_ai_label_and_optionally_the_visible_one(tmp_path: Path) -> None:
    source = picture(tmp_path / "a.png")
    plain, labelled = io.BytesIO(), io.BytesIO()
    export_zip([item(source, provider="local")], PRESETS["taobao"], "{n}", plain, gate=ExportGate())
    font = load_settings({}, Path("/nonexistent.toml")).cjk_font_path
    assert font is not None
    gate = ExportGate(visible_label="AI生成", label_font=font.read_bytes())
    export_zip([item(source)], PRESETS["taobao"], "{n}", labelled, gate=gate)
    plain_file = zipfile.ZipFile(plain).read("1.jpg")
    labelled_file = zipfile.ZipFile(labelled).read("1.jpg")
    local = provenance.read(plain_file)
    vendor = provenance.read(labelled_file)
    assert local is not None and local.source_type == "compositeSynthetic" and local.provider == "local"
    assert vendor is not None and vendor.source_type == "compositeWithTrainedAlgorithmicMedia"
    # The visible label changes pixels in one corner only.
    a = np.asarray(Image.open(io.BytesIO(plain_file)).convert("L"), np.int16)
    b = np.asarray(Image.open(io.BytesIO(labelled_file)).convert("L"), np.int16)
    changed = np.argwhere(np.abs(a - b) > 40)
    assert len(changed) > 50
    height, width = a.shape
    rows, cols = changed[:, 0], changed[:, 1]
    in_one_corner = (rows.min() > height / 2 or rows.max() < height / 2) and (
        cols.min() > width / 2 or cols.max() < width / 2
    )
    assert in_one_corner
