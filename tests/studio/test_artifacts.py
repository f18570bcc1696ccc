"""Job files on disk: layout, atomic writes, thumbnails, sealing, relative paths."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from studio.artifacts import ArtifactError, Artifacts
from tests.studio.fakes import jpeg_bytes, png_bytes

CREATED = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)


def test_inputs_land_in_the_dated_job_folder_with_relative_paths(
    artifacts: Artifacts, data_dir: Path
) -> None:
    saved = artifacts.save_inputs("abc123", CREATED, png_bytes(), png_bytes(mode="L"), png_bytes(10, 10))
    assert saved.input_path == "jobs/2026/11/abc123/input.png"
    assert saved.mask_path == "jobs/2026/11/abc123/mask.png"
    assert saved.reference_path == "jobs/2026/11/abc123/reference.png"
    assert (data_dir / saved.input_path).read_bytes() == png_bytes()
    assert artifacts.read(saved.input_path) == artifacts.read(data_dir / saved.input_path)
    # No temporary files are left behind.
    assert sorted(p.name for p in (data_dir / "jobs/2026/11/abc123").iterdir()) == [
        "input.png",
        "mask.png",
        "reference.png",
    ]


def test_optional_inputs_are_not_written(artifacts: Artifacts) -> None:
    saved = artifacts.save_inputs("abc123", CREATED, png_bytes())
    assert saved.mask_path is None and saved.reference_path is None


def test_outputs_keep_their_format_and_get_a_small_jpeg_thumbnail(
    artifacts: Artifacts, data_dir: Path
) -> None:
    big = png_bytes(1200, 900)
    out = artifacts.save_output("abc123", CREATED, 1, big)
    assert out.path == "jobs/2026/11/abc123/out_01.png" and (out.width, out.height) == (1200, 900)
    assert (data_dir / out.path).read_bytes() == big  # stored as received, no re-encoding
    with Image.open(data_dir / out.thumbnail_path) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (256, 192)
    jpg = artifacts.save_output("abc123", CREATED, 2, jpeg_bytes())
    assert jpg.path.endswith("out_02.jpg")


def test_transparent_outputs_get_a_white_thumbnail(artifacts: Artifacts, data_dir: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 300), (0, 0, 0, 0)).save(buffer, "PNG")
    out = artifacts.save_output("abc123", CREATED, 1, buffer.getvalue())
    with Image.open(data_dir / out.thumbnail_path) as thumb:
        assert thumb.convert("RGB").getpixel((10, 10)) == (255, 255, 255)


def test_garbage_output_is_refused_with_a_reason(artifacts: Artifacts) -> None:
    with pytest.raises(ArtifactError, match="output 3 is not a readable image"):
        artifacts.save_output("abc123", CREATED, 3, b"not an image")


def test_a_sealed_job_is_never_overwritten(artifacts: Artifacts, data_dir: Path) -> None:
    out = artifacts.save_output("abc123", CREATED, 1, png_bytes())
    artifacts.seal("abc123", CREATED)
    assert artifacts.is_sealed("abc123", CREATED)
    with pytest.raises(ArtifactError, match="finished job"):
        artifacts.save_output("abc123", CREATED, 1, png_bytes(70, 70))
    artifacts.remove_unfinished("abc123", CREATED)  # refuses silently: the job finished
    assert (data_dir / out.path).read_bytes() == png_bytes()


def test_an_unfinished_job_folder_can_be_removed(artifacts: Artifacts, data_dir: Path) -> None:
    saved = artifacts.save_inputs("abc123", CREATED, png_bytes())
    artifacts.remove_unfinished("abc123", CREATED)
    assert not (data_dir / saved.input_path).exists()


def test_job_ids_and_names_cannot_escape_the_data_dir(artifacts: Artifacts) -> None:
    with pytest.raises(ArtifactError, match="not a plain identifier"):
        artifacts.save_inputs("../../etc", CREATED, png_bytes())
    with pytest.raises(ArtifactError, match="not a plain file name"):
        artifacts.save_file("abc123", CREATED, "../x.png", b"x")


def test_reading_a_missing_file_says_what_is_missing(artifacts: Artifacts) -> None:
    with pytest.raises(ArtifactError, match="cannot read .*nope.png"):
        artifacts.read("jobs/nope.png")


def test_an_unwritable_data_dir_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ArtifactError, match="STUDIO_DATA_DIR is writable"):
        Artifacts(blocker).save_inputs("abc123", CREATED, png_bytes())


def test_the_data_dir_can_move(artifacts: Artifacts, data_dir: Path, tmp_path: Path) -> None:
    saved = artifacts.save_inputs("abc123", CREATED, png_bytes())
    moved = tmp_path / "moved"
    data_dir.rename(moved)
    assert Artifacts(moved).read(saved.input_path) == png_bytes()
    assert Artifacts(moved).relative(moved / saved.input_path) == saved.input_path
