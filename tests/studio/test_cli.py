"""The command line as scripts use it: `python -m studio ...` in a subprocess, JSON out, exit codes.

Exit 0: the job succeeded; 1: it failed (or timed out); 2: bad usage or input,
with one line on stderr and never a traceback. The many bad-input cases run
in-process through `studio.cli.main` (same code, no interpreter start-up each).
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from providers.base import Money, Operation
from studio.cli import generate_result, main
from studio.jobs import JobStatus, JobView
from tests.emulators.aidge import AidgeEmulator

ROOT = Path(__file__).resolve().parents[2]
# Runs the CLI with test-only providers added to the registry, the way a new vendor is added.
WITH_FAKES = (
    "import sys\n"
    "from providers import REGISTRY\n"
    "from tests.studio import fakes\n"
    "REGISTRY.update({c.key: c for c in (fakes.FailingAdapter, fakes.StuckAsync)})\n"
    "from studio.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    image = np.full((240, 320, 3), 235, np.uint8)
    image[60:180, 110:210] = (30, 90, 200)
    Image.fromarray(image).save(tmp_path / "photo.jpg", quality=92)
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small_mask.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    return tmp_path


def run_cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STUDIO_DATA_DIR": str(workdir / "data"), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "studio", *args]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)


def run_cli_with_fakes(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # `tests` must be importable: run from the project root, the data dir still in workdir.
    env = {**os.environ, "STUDIO_DATA_DIR": str(workdir / "data"), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", WITH_FAKES, *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------ subprocess: real local engine
def test_generate_with_the_local_engine_prints_one_json_object_and_exits_0(workdir: Path) -> None:
    done = run_cli(
        workdir,
        "generate", "--workflow", "prompt", "--provider", "local", "--image", "photo.jpg",
        "--prompt", "white marble, 暖色", "--count", "2", "--size", "400x300", "--seed", "5",
        "--param", "shadow=contact",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {
        *(
            "job_id",
            "status",
            "provider",
            "workflow",
            "outputs",
            "cost",
            "error",
            "cutout_method",
            "check_flags",
        )
    }
    # Each output was checked against the product before the line was printed: a faithful local
    # engine picture has no flag.
    assert result["check_flags"] == [[], []], done.stderr
    # The default cutout: the best model installed (ISNet, else u2netp), refined; never silently classical.
    assert result["cutout_method"].split(" + ")[0] in {"isnet", "u2netp"}, done.stderr
    assert (result["status"], result["provider"], result["workflow"]) == ("succeeded", "local", "prompt")
    assert result["cost"] is None and result["error"] is None  # the local engine is free
    assert len(result["outputs"]) == 2
    for path in result["outputs"]:
        assert Path(path).is_absolute() and str(workdir / "data") in path
        assert Image.open(path).size == (400, 300)

    listed = run_cli(workdir, "jobs", "list", "--json")
    assert listed.returncode == 0
    rows = json.loads(listed.stdout)
    assert [row["job_id"] for row in rows] == [result["job_id"]]
    assert rows[0]["status"] == "succeeded" and rows[0]["images"] == 2

    shown = run_cli(workdir, "jobs", "show", result["job_id"], "--json")
    assert shown.returncode == 0
    job = json.loads(shown.stdout)
    assert job["prompt"] == "white marble, 暖色" and job["source"] == "cli" and job["seed"] == 5
    assert job["size"] == [400, 300] and job["params"]["shadow"] == "contact"
    assert [o["path"] for o in job["outputs"]] == result["outputs"]
    assert Path(job["input_path"]).is_file() and Path(job["used_mask_path"]).is_file()
    assert job["notes"]["words_used"] and job["duration_s"] is not None
    # What the engine made of the prompt: the words, and the set (a marble table, a light, a camera).
    reading = job["prompt_reading"]
    assert reading["words_used"] == job["notes"]["words_used"] and reading["words_ignored"] == []
    assert reading["scene"]["surface"] == "marble" and reading["scene"]["camera"] in (
        "eye_level",
        "three_quarter",
        "flat_lay",
    )
    assert len(reading["variants"]) == 2 and "marble table" in reading["reading"]

    table = run_cli(workdir, "jobs", "list")
    assert result["job_id"] in table.stdout and "succeeded" in table.stdout and "1 of 1 job" in table.stdout


def test_a_failed_job_prints_its_error_and_exits_1(workdir: Path) -> None:
    done = run_cli_with_fakes(
        workdir,
        "generate",
        "--workflow",
        "prompt",
        "--provider",
        "failing",
        "--image",
        str(workdir / "photo.jpg"),
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "failed" and result["outputs"] == [] and result["cost"] is None
    assert result["error"] == {
        "code": "quota_exhausted",
        "message": "The account balance is used up; top it up and try again.",
    }
    assert "Traceback" not in done.stderr


def test_a_job_that_does_not_finish_in_time_exits_1_with_a_timeout_error(workdir: Path) -> None:
    done = run_cli_with_fakes(
        workdir,
        "generate", "--workflow", "prompt", "--provider", "stuck", "--image", str(workdir / "photo.jpg"),
        "--timeout", "0.6",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "running" and result["error"]["code"] == "timeout"
    assert f"jobs show {result['job_id']}" in result["error"]["message"]


def test_a_missing_file_is_one_line_on_stderr_without_a_traceback(workdir: Path) -> None:
    done = run_cli(workdir, "generate", "--workflow", "prompt", "--provider", "local", "--image", "nope.jpg")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: cannot read --image 'nope.jpg': no such file; check the path\n"


def test_usage_errors_exit_2(workdir: Path) -> None:
    done = run_cli(workdir, "generate", "--workflow", "prompt", "--provider", "local")
    assert done.returncode == 2 and "--image" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------ in-process: every bad input
@pytest.fixture()
def cli_env(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(workdir / "data"))
    return workdir


GENERATE = ["generate", "--provider", "local", "--image", "photo.jpg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--workflow", "prompt", "--provider", "local", "--image", "."], "it is a folder"),
        (
            ["generate", "--workflow", "prompt", "--provider", "local", "--image", "broken.jpg"],
            "could not be read as an image",
        ),
        ([*GENERATE, "--workflow", "prompt", "--size", "huge"], "--size must look like 1000x1000"),
        ([*GENERATE, "--workflow", "prompt", "--size", "20x20"], "each side must be 64 to 8000 pixels"),
        (
            ["generate", "--workflow", "prompt", "--provider", "acme", "--image", "photo.jpg"],
            "There is no provider 'acme'. Use one of: aidge, ",
        ),
        (
            [*GENERATE, "--workflow", "prompt", "--param", "sparkle=1"],
            "unknown option(s) sparkle; local accepts:",
        ),
        ([*GENERATE, "--workflow", "prompt", "--param", "fill"], "--param expects KEY=VALUE"),
        ([*GENERATE, "--workflow", "prompt", "--param", "fill=2"], "fill: 2.0 is above the maximum 1"),
        (
            [*GENERATE, "--workflow", "model"],
            "The local engine cannot swap models; configure a cloud provider that offers it (Aidge).",
        ),
        (
            [*GENERATE, "--workflow", "prompt", "--mask", "small_mask.png"],
            "The mask is 10x10 pixels but the image is 320x240",
        ),
        ([*GENERATE, "--workflow", "prompt", "--count", "9"], "you asked for 9"),
        ([*GENERATE, "--workflow", "scene", "--scene", "moon"], "There is no local scene 'moon'"),
        ([*GENERATE, "--workflow", "scene"], "Choose a scene"),
        ([*GENERATE, "--workflow", "prompt", "--timeout", "0"], "--timeout must be a positive number"),
        (["jobs", "show", "0123456789abcdef"], "there is no job '0123456789abcdef'"),
        (["jobs", "list", "--limit", "0"], "--limit must be 1 to 500"),
    ],
)
def test_bad_input_exits_2_with_one_helpful_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    if args[0] == "generate":
        assert main(["jobs", "list", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == []  # no job was created


def test_argparse_errors_exit_2(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["generate", "--workflow", "nope", "--provider", "local", "--image", "photo.jpg"])
    assert caught.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_a_bad_setting_is_a_usage_error(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDIO_MAX_PIXELS", "many")
    assert main(["jobs", "list"]) == 2
    assert "STUDIO_MAX_PIXELS is 'many'" in capsys.readouterr().err


def test_jobs_list_filters_by_status_and_provider(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from providers import REGISTRY
    from tests.studio.fakes import FailingAdapter

    REGISTRY[FailingAdapter.key] = FailingAdapter
    try:
        assert (
            main(["generate", "--workflow", "prompt", "--provider", "failing", "--image", "photo.jpg"]) == 1
        )
        failed = json.loads(capsys.readouterr().out)
        assert main(["jobs", "list", "--json", "--status", "failed", "--provider", "failing"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [r["job_id"] for r in rows] == [failed["job_id"]]
        assert rows[0]["error"]["code"] == "quota_exhausted" and rows[0]["cost"] is None
        assert main(["jobs", "list", "--json", "--status", "succeeded"]) == 0
        assert json.loads(capsys.readouterr().out) == []
        assert main(["jobs", "show", failed["job_id"]]) == 0
        text = capsys.readouterr().out
        assert "quota_exhausted" in text and failed["job_id"] in text
    finally:
        del REGISTRY[FailingAdapter.key]


def test_generate_json_gives_money_as_a_decimal_string() -> None:
    view = JobView(
        job_id="x", created_at=datetime.now(UTC), workflow=Operation.SCENE_BACKGROUND, provider="aidge",
        status=JobStatus.SUCCEEDED, params={}, prompt="白色", cost=Money(16, "CNY"),
    )  # fmt: skip
    result = generate_result(view, 10)
    assert result["cost"] == {"amount": "0.16", "currency": "CNY"} and result["error"] is None


# ------------------------------------------------------------------ subprocess: Aidge through its emulator
AIDGE_KEY, AIDGE_SECRET = "cli-key", "cli-secret-0123456789"


@pytest.fixture()
def aidge(workdir: Path) -> Iterator[tuple[AidgeEmulator, dict[str, str]]]:
    pixels = np.full((900, 600, 3), 230, np.uint8)
    pixels[200:700, 150:450] = (160, 40, 60)
    Image.fromarray(pixels).save(workdir / "dress.jpg", quality=92)
    Image.fromarray(np.full((700, 3300, 3), 200, np.uint8)).save(workdir / "wide.jpg", quality=90)
    with AidgeEmulator(AIDGE_KEY, AIDGE_SECRET) as emulator:
        env = {
            "AIDGE_ACCESS_KEY_NAME": AIDGE_KEY,
            "AIDGE_ACCESS_KEY_SECRET": AIDGE_SECRET,
            "AIDGE_API_BASE": emulator.base_url,
            "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
            "AIDGE_POLL_INTERVAL_S": "0.1",
        }
        yield emulator, env


def run_cli_env(workdir: Path, extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STUDIO_DATA_DIR": str(workdir / "data"), "PYTHONPATH": str(ROOT), **extra}
    command = [sys.executable, "-m", "studio", *args]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)


def test_cli_scene_background_through_aidge(
    workdir: Path, aidge: tuple[AidgeEmulator, dict[str, str]]
) -> None:
    emulator, env = aidge
    done = run_cli_env(
        workdir,
        {**env, "AIDGE_PRICE_SCENE": "0.10 USD"},
        "generate", "--provider", "aidge", "--workflow", "scene", "--scene", "mod004",
        "--image", "dress.jpg", "--size", "750x1000", "--title", "Linen dress",
        "--param", "needLayout=true", "--param", "imageNum=3",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and result["provider"] == "aidge" and result["workflow"] == "scene"
    assert len(result["outputs"]) == 3 and all(Path(path).is_file() for path in result["outputs"])
    assert result["cost"] == {"amount": "0.30", "currency": "USD"} and result["error"] is None
    sent = json.loads((emulator.requests[0].body or {})["requestParams"])[0]
    assert (sent["modelNum"], sent["imageNum"], sent["needLayout"], sent["productTitle"]) == (
        "mod004",
        "3",
        "true",
        "Linen dress",
    )
    assert AIDGE_SECRET not in done.stdout + done.stderr


def test_cli_model_swap_through_aidge(workdir: Path, aidge: tuple[AidgeEmulator, dict[str, str]]) -> None:
    emulator, env = aidge
    done = run_cli_env(
        workdir, env,
        "generate", "--provider", "aidge", "--workflow", "model", "--image", "dress.jpg",
        "--param", "model=universal_model_2", "--param", "bgStyle=beach",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and len(result["outputs"]) == 2  # the documented default count
    assert result["cost"] is None
    sent = json.loads((emulator.requests[0].body or {})["requestParams"])[0]
    assert (sent["model"], sent["maskKeepbg"], sent["bgStyle"], sent["count"]) == (
        "universal_model_2",
        "false",
        "beach",
        "2",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--param", "model=universal_model_7"],
            "model: 'universal_model_7' is not one of universal_model_1",
        ),
        (["--param", "dimension=4000"], "dimension: 4000 is above the maximum 2048"),
        (["--param", "count=9"], "1 to 4 images"),
        (["--param", "maskKeepbg=false"], "bgStyle must say with what"),
        (["--param", "sleeves=long"], "unknown option(s) sleeves"),
    ],
)
def test_cli_model_params_out_of_range_exit_2(
    workdir: Path, aidge: tuple[AidgeEmulator, dict[str, str]], args: list[str], message: str
) -> None:
    emulator, env = aidge
    done = run_cli_env(
        workdir, env, "generate", "--provider", "aidge", "--workflow", "model", "--image", "dress.jpg", *args
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert emulator.submits() == 0


def test_cli_too_large_image_offers_and_applies_fit(
    workdir: Path, aidge: tuple[AidgeEmulator, dict[str, str]]
) -> None:
    emulator, env = aidge
    base = [
        "generate",
        "--provider",
        "aidge",
        "--workflow",
        "scene",
        "--scene",
        "mod001",
        "--image",
        "wide.jpg",
    ]
    refused = run_cli_env(workdir, env, *base)
    assert refused.returncode == 2 and "3300x700 px; Aidge needs 513-2999 px per side" in refused.stderr
    assert "--fit" in refused.stderr and emulator.submits() == 0
    fitted = run_cli_env(workdir, env, *base, "--fit")
    assert fitted.returncode == 0, fitted.stderr
    assert "downscaled from 3300x700 to 2999x636" in fitted.stderr and emulator.submits() == 1
    sent = json.loads((emulator.requests[0].body or {})["requestParams"])[0]
    sent_size = Image.open(io.BytesIO(base64.b64decode(sent["imgBase64"]))).size
    assert sent_size == (2999, 636)


def test_cli_aidge_failure_exits_1_with_the_vendor_code(
    workdir: Path, aidge: tuple[AidgeEmulator, dict[str, str]]
) -> None:
    emulator, env = aidge
    emulator.fail_next("/ai/image/background/generation/scenario", 1000)
    done = run_cli_env(
        workdir,
        env,
        "generate",
        "--provider",
        "aidge",
        "--workflow",
        "scene",
        "--scene",
        "mod001",
        "--image",
        "dress.jpg",
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "failed" and result["error"]["code"] == "1000"
    assert "sensitive content" in result["error"]["message"]
