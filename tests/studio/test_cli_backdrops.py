"""`python -m studio backdrops ...` and `generate --backdrop`: the library from scripts, JSON out,
exit 0 when done and 2 with one line on stderr for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from tests.backdrop_photos import backdrop_photo


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_CUTOUT_MODEL", "fast")
    (tmp_path / "slab.jpg").write_bytes(backdrop_photo())
    (tmp_path / "notes.txt").write_text("not a picture")
    Image.fromarray(np.full((120, 200, 3), 200, np.uint8)).save(tmp_path / "tiny.png")
    product = np.full((240, 320, 3), 235, np.uint8)
    product[60:180, 110:210] = (30, 90, 200)
    Image.fromarray(product).save(tmp_path / "photo.jpg", quality=92)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_show_update_remove(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "backdrops", "add", "slab.jpg", "--name", "Marble slab", "--tag", "marble", "--tag", "大理石",
        "--surface", "0.1,0.62,0.9,0.62", "--json",
    )  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    assert (added["name"], added["tags"], added["surface"], added["surface_kind"]) == (
        "Marble slab",
        ["marble", "大理石"],
        [0.1, 0.62, 0.9, 0.62],
        "line",
    )
    assert added["scene_id"] == f"user:{added['backdrop_id']}" and (added["width"], added["height"]) == (
        640,
        480,
    )
    assert Path(added["photo_path"]).is_file()

    code, out, _ = run(capsys, "backdrops", "add", "slab.jpg", "--tag", "oak")  # name: the file's
    assert code == 0 and out.startswith("added ") and out.strip().endswith(" slab")

    code, out, _ = run(capsys, "backdrops", "list", "--json")
    assert code == 0 and [item["name"] for item in json.loads(out)] == ["slab", "Marble slab"]
    code, out, _ = run(capsys, "backdrops", "list", "--tag", "大理石", "--json")
    assert [item["name"] for item in json.loads(out)] == ["Marble slab"]
    code, out, _ = run(capsys, "backdrops", "list")
    assert "Marble slab  [marble, 大理石]  line at 62% from the top, 10%-90%" in out and "2 backdrops" in out

    short = added["backdrop_id"][:8]
    code, out, _ = run(capsys, "backdrops", "show", short, "--json")
    assert code == 0 and json.loads(out)["backdrop_id"] == added["backdrop_id"]
    code, out, _ = run(capsys, "backdrops", "show", "marble slab")
    assert code == 0 and "surface_kind: line" in out

    code, out, _ = run(
        capsys, "backdrops", "update", short, "--surface", "0,0.5,1,0.8", "--tag", "stone", "--json"
    )
    changed = json.loads(out)
    assert code == 0 and changed["surface_kind"] == "box" and changed["tags"] == ["stone"]
    assert changed["name"] == "Marble slab"

    code, out, _ = run(capsys, "backdrops", "remove", "Marble slab")
    assert code == 0 and out.startswith(f"removed {added['backdrop_id']}")
    assert not Path(added["photo_path"]).exists()
    code, out, _ = run(capsys, "backdrops", "list", "--json")
    assert [item["name"] for item in json.loads(out)] == ["slab"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backdrops", "add", "missing.jpg"], "cannot read 'missing.jpg': no such file"),
        (["backdrops", "add", "."], "it is a folder"),
        (["backdrops", "add", "notes.txt"], "could not be read as an image"),
        (["backdrops", "add", "tiny.png"], "at least 300 pixels on each side"),
        (["backdrops", "add", "slab.jpg", "--surface", "0.9,0.5,0.1,0.5"], "right edge x1"),
        (["backdrops", "add", "slab.jpg", "--surface", "1,2"], "four fractions"),
        (["backdrops", "show", "nope"], "There is no backdrop 'nope'"),
        (["backdrops", "remove", "nope"], "There is no backdrop 'nope'"),
        (["backdrops", "update", "nope"], "Nothing to change"),
        (
            [
                "generate",
                "--workflow",
                "prompt",
                "--provider",
                "local",
                "--image",
                "photo.jpg",
                "--backdrop",
                "kitchen corner",
            ],
            "There is no backdrop 'kitchen corner'",
        ),
        (
            [
                "generate",
                "--workflow",
                "scene",
                "--provider",
                "local",
                "--image",
                "photo.jpg",
                "--backdrop",
                "kitchen corner",
            ],
            "There is no backdrop 'kitchen corner'",
        ),
        (
            [
                "generate",
                "--workflow",
                "prompt",
                "--provider",
                "local",
                "--image",
                "photo.jpg",
                "--backdrop",
                "a",
                "--param",
                "backdrop_id=b",
            ],
            "give the backdrop once",
        ),
    ],  # fmt: skip
)
def test_bad_input_is_one_line_and_exit_2(
    cli_env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list((cli_env / "data" / "backdrops").glob("*/photo.jpg"))


def test_generate_with_a_backdrop_records_it(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "backdrops", "add", "slab.jpg", "--name", "Marble slab", "--tag", "marble", "--json"
    )
    backdrop_id = json.loads(out)["backdrop_id"]
    base = ["generate", "--provider", "local", "--image", "photo.jpg", "--count", "1", "--size", "320x320"]

    # By tag, from the prompt.
    code, out, err = run(capsys, *base, "--workflow", "prompt", "--prompt", "on white marble")
    assert code == 0, err
    code, shown, _ = run(capsys, "jobs", "show", json.loads(out)["job_id"], "--json")
    plate = json.loads(shown)["notes"]["backdrop_plate"]
    assert (plate["name"], plate["matched_tags"], plate["how"]) == ("Marble slab", ["marble"], "tags")

    # Chosen by name for a prompt that names no tag; and as the scene itself.
    code, out, err = run(
        capsys, *base, "--workflow", "prompt", "--prompt", "blue", "--backdrop", "marble slab"
    )
    assert code == 0, err
    code, shown, _ = run(capsys, "jobs", "show", json.loads(out)["job_id"], "--json")
    job = json.loads(shown)
    assert job["notes"]["backdrop_plate"]["how"] == "chosen" and job["params"]["backdrop_id"] == backdrop_id

    # `--workflow scene --backdrop` needs no --scene: the job's scene is user:<id>. (Whether it
    # renders is the local engine's part; here the job's record is what is checked.)
    scene = ["generate", "--provider", "local", "--image", "photo.jpg", "--count", "2", "--workflow", "scene"]
    code, out, err = run(capsys, *scene, "--backdrop", backdrop_id[:8], "--timeout", "30")
    assert code in (0, 1), err
    job_id = json.loads(out)["job_id"]
    code, shown, _ = run(capsys, "jobs", "show", job_id, "--json")
    job = json.loads(shown)
    assert job["scene_id"] == f"user:{backdrop_id}" and job["notes"]["backdrop_plate"]["how"] == "scene"
