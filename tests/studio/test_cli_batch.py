"""`python -m studio batch` and `export` as scripts use them: subprocess, JSON out, exit codes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from imaging import provenance
from tests.views.photos import product_photo

ROOT = Path(__file__).resolve().parents[2]


def run(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STUDIO_DATA_DIR": str(workdir / "data"), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def manifest(workdir: Path, rows: list[str]) -> Path:
    (workdir / "photos").mkdir(exist_ok=True)
    (workdir / "photos" / "mug.png").write_bytes(product_photo((640, 520)))
    (workdir / "photos" / "cup.jpg").write_bytes(product_photo((600, 480), fmt="JPEG"))
    path = workdir / "season.csv"
    path.write_text(
        "sku,image,workflow,provider,prompt,count,param.shadow\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    return path


def test_a_clean_manifest_runs_as_one_batch_and_exports_for_a_marketplace(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        [
            "MUG-1,photos/mug.png,prompt,local,white marble,2,drop",
            "CUP-2,photos/cup.jpg,prompt,local,木纹桌面,1,",
        ],
    )
    done = run(tmp_path, "batch", str(path), "--name", "Spring")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["status"], summary["items"], summary["succeeded"], summary["failed"]) == ("done", 2, 2, 0)
    assert summary["cost"] == {} and summary["failures"] == []
    # Every image was checked against its product before the summary: the local engine keeps it.
    assert summary["flagged"] == 0
    assert "2 items ready, 0 problems" in done.stderr and "2/2 finished" in done.stderr

    # Nothing approved yet: the export says what to do.
    refused = run(tmp_path, "export", summary["batch_id"], "--preset", "taobao", "--out", "out")
    assert refused.returncode == 2 and "approve some images" in refused.stderr
    exported = run(
        tmp_path, "export", summary["batch_id"], "--preset", "taobao", "--all", "--out", "out",
        "--template", "{sku}_{provider}_{n}.jpg",
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    result = json.loads(exported.stdout)
    assert sorted(result["files"]) == ["CUP-2_local_1.jpg", "MUG-1_local_1.jpg", "MUG-1_local_2.jpg"]
    for name in result["files"]:
        assert Image.open(tmp_path / "out" / name).size == (800, 800)
    with (tmp_path / "out" / "export.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["sku"] for row in rows} == {"MUG-1", "CUP-2"} and {row["preset"] for row in rows} == {
        "taobao"
    }
    assert any(row["prompt"] == "木纹桌面" for row in rows)
    # Every exported file carries its AI label; --ai-label draws the visible one as well.
    label = provenance.read((tmp_path / "out" / "CUP-2_local_1.jpg").read_bytes())
    assert label is not None and label.source_type == "compositeSynthetic" and label.provider == "local"
    labelled = run(
        tmp_path, "export", summary["batch_id"], "--preset", "taobao", "--all", "--out", "labelled", "--ai-label",
    )  # fmt: skip
    assert labelled.returncode == 0, labelled.stderr
    for name in json.loads(labelled.stdout)["files"]:
        assert provenance.read_visible_label((tmp_path / "labelled" / name).read_bytes()) is not None


def test_a_manifest_with_problems_starts_nothing_and_lists_every_row(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        [
            "MUG-1,photos/mug.png,prompt,local,white marble,2,drop",
            "GONE,photos/missing.png,prompt,local,white marble,1,",
            "MUG-3,photos/mug.png,prompt,local,white marble,9,",
            "MUG-4,photos/mug.png,prompt,nobody,white marble,1,",
        ],
    )
    done = run(tmp_path, "batch", str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert "1 item ready, 3 problems" in done.stderr
    for fragment in (
        "row 2 (GONE), image",
        "row 3 (MUG-3), count",
        "row 4 (MUG-4), provider",
        "nothing was started",
    ):
        assert fragment in done.stderr, done.stderr
    listed = run(tmp_path, "jobs", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_check_only_prints_the_estimate_and_bad_usage_exits_2(tmp_path: Path) -> None:
    path = manifest(tmp_path, ["MUG-1,photos/mug.png,prompt,local,white marble,2,"])
    checked = run(tmp_path, "batch", str(path), "--check")
    assert checked.returncode == 0 and "estimate: free" in checked.stderr and checked.stdout == ""
    assert json.loads(run(tmp_path, "jobs", "list", "--json").stdout) == []
    for args, message in (
        (["batch"], "give a MANIFEST"),
        (["batch", "nope.csv"], "no such file"),
        (["batch", str(path), "--budget", "five", "CNY"], "--budget must be an amount"),
        (["batch", "--resume", "0" * 32], "there is no batch"),
        (["export", "0" * 32, "--out", "x"], "There is no batch"),
        (["export", "0" * 32, "--preset", "etsy", "--out", "x"], "--preset must be one of"),
    ):
        done = run(tmp_path, *args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
