"""The cutout model from the command line: chosen per job (`--cutout`, `--param cutout=`) or by
STUDIO_CUTOUT_MODEL, recorded in the JSON as `cutout_method`, and loud when the model is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.cli import main

ROOT = Path(__file__).resolve().parents[2]
U2NETP = ROOT / "models" / "u2netp.onnx"
LOCAL_JOB = [
    "generate",
    "--workflow",
    "prompt",
    "--provider",
    "local",
    "--image",
    "photo.jpg",
    "--count",
    "1",
]


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    image = np.full((240, 320, 3), 235, np.uint8)
    image[60:180, 110:210] = (30, 90, 200)
    Image.fromarray(image).save(tmp_path / "photo.jpg", quality=92)
    return tmp_path


def run_cli(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {name: value for name, value in os.environ.items() if name != "STUDIO_CUTOUT_MODEL"}
    environ = {**inherited, "STUDIO_DATA_DIR": str(workdir / "data"), "PYTHONPATH": str(ROOT), **env}
    command = [sys.executable, "-m", "studio", *args]
    return subprocess.run(command, cwd=workdir, env=environ, capture_output=True, text=True, timeout=300)


def test_a_missing_model_is_named_in_the_json_and_warned_about(workdir: Path) -> None:
    missing = workdir / "nowhere" / "isnet.onnx"
    done = run_cli(workdir, *LOCAL_JOB, "--param", "cutout=best", STUDIO_ISNET_PATH=str(missing))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded"
    assert result["cutout_method"] == "classical (model missing)"
    warning = [line for line in done.stderr.splitlines() if line.startswith("studio: warning:")]
    assert warning, done.stderr
    assert str(missing) in warning[0] and "scripts/fetch_model.py isnet" in warning[0]
    assert "STUDIO_ISNET_PATH" in warning[0]

    shown = run_cli(workdir, "jobs", "show", result["job_id"], "--json", STUDIO_ISNET_PATH=str(missing))
    notes = json.loads(shown.stdout)["notes"]
    assert notes["cutout_model_missing"] == "isnet" and notes["cutout_model"] is None


@pytest.mark.skipif(not U2NETP.is_file(), reason=f"u2netp model not found at {U2NETP}")
def test_fast_is_chosen_per_job_or_by_the_setting(workdir: Path) -> None:
    by_flag = run_cli(workdir, *LOCAL_JOB, "--cutout", "fast")
    assert by_flag.returncode == 0, by_flag.stderr
    method = json.loads(by_flag.stdout)["cutout_method"]
    assert method.startswith("u2netp + ") and "warning" not in by_flag.stderr

    by_setting = run_cli(workdir, *LOCAL_JOB, STUDIO_CUTOUT_MODEL="fast")
    result = json.loads(by_setting.stdout)
    assert result["cutout_method"] == method
    shown = json.loads(run_cli(workdir, "jobs", "show", result["job_id"], "--json").stdout)
    assert shown["notes"]["cutout_model"] == "u2netp" and shown["notes"]["cutout_refinement"]


def test_a_best_job_without_the_isnet_file_warns_even_when_fast_would_work(workdir: Path) -> None:
    # The setting says best, the file is not there: the job says so rather than quietly degrading.
    done = run_cli(
        workdir, *LOCAL_JOB, STUDIO_CUTOUT_MODEL="best", STUDIO_ISNET_PATH=str(workdir / "none.onnx")
    )
    assert json.loads(done.stdout)["cutout_method"] == "classical (model missing)"
    assert "studio: warning: The ISNet cutout model (Best) is missing" in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([*LOCAL_JOB, "--param", "cutout=ultra"], {}, "cutout: 'ultra' is not one of best, fast"),
        (["jobs", "list"], {"STUDIO_CUTOUT_MODEL": "ultra"}, "STUDIO_CUTOUT_MODEL is 'ultra'"),
    ],
)
def test_a_bad_choice_is_a_usage_error(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(workdir / "data"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err


def test_the_argparse_flag_offers_both_qualities(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    assert "--cutout {best,fast}" in capsys.readouterr().out
