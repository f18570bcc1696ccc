"""`python -m studio generate --workflow prompt` through DashScope and Tencent, as a script runs it.

Each call is a real subprocess configured only through environment variables
(the names `.streamlit/secrets.example.toml` documents), pointing at the
loopback emulators; Tencent's inputs are published through folder hosting (a
temporary folder served by `StaticFolder`). Checked: the one JSON object and
exit code, the cost, that every documented `--param` reaches the vendor, that
a value out of range is one line on stderr naming the field and its range
(exit 2, nothing sent), and that no key is ever printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator

ROOT = Path(__file__).resolve().parents[2]
DS_KEY = "sk-cli-dashscope-0123456789abcdef"
TC_ID, TC_KEY = "AKIDclitencent0123456789", "cli-tencent-secret-key-2468"
SECRETS = (DS_KEY, TC_ID, TC_KEY)
PHOTO = (320, 240)
PROMPT = "white marble, soft light"
# Variables that would configure a vendor or hosting from the developer's own shell: never inherited.
_STRIP = (
    "DASHSCOPE_",
    "TENCENTCLOUD_",
    "TENCENT_AIART_",
    "AIDGE_",
    "ALIYUN_",
    "STUDIO_S3_",
    "STUDIO_PUBLISH_DIR",
    "STUDIO_PUBLIC_BASE_URL",
    "STUDIO_URL_TTL_S",
)


@dataclass
class Vendors:
    workdir: Path
    dashscope: DashScopeEmulator
    tencent: TencentAiartEmulator
    publish_dir: Path
    public: StaticFolder

    @property
    def dashscope_env(self) -> dict[str, str]:
        return {
            "DASHSCOPE_API_KEY": DS_KEY,
            "DASHSCOPE_BASE_URL": self.dashscope.api_url,
            "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
            "DASHSCOPE_POLL_INTERVAL_S": "0.1",
        }

    @property
    def tencent_env(self) -> dict[str, str]:
        return {
            "TENCENTCLOUD_SECRET_ID": TC_ID,
            "TENCENTCLOUD_SECRET_KEY": TC_KEY,
            "TENCENT_AIART_ENDPOINT": self.tencent.endpoint,
            "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
            "TENCENT_AIART_PROTOCOL": "http",
        }

    @property
    def hosting_env(self) -> dict[str, str]:
        return {"STUDIO_PUBLISH_DIR": str(self.publish_dir), "STUDIO_PUBLIC_BASE_URL": self.public.base_url}


@pytest.fixture()
def vendors(tmp_path: Path) -> Iterator[Vendors]:
    pixels = np.full((PHOTO[1], PHOTO[0], 3), 232, np.uint8)
    pixels[60:190, 110:210] = (180, 50, 40)
    Image.fromarray(pixels).save(tmp_path / "photo.jpg", quality=92)
    Image.fromarray(np.full((150, 200, 3), (200, 180, 140), np.uint8)).save(tmp_path / "beach.png")
    publish_dir = tmp_path / "public"
    publish_dir.mkdir()
    public = StaticFolder(publish_dir)
    with (
        DashScopeEmulator(DS_KEY, queries_to_finish=2) as dashscope,
        TencentAiartEmulator(TC_ID, TC_KEY) as tencent,
        public,
    ):
        yield Vendors(tmp_path, dashscope, tencent, publish_dir, public)


def run_cli_env(workdir: Path, extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(_STRIP)}
    env = {**inherited, "STUDIO_DATA_DIR": str(workdir / "data"), "PYTHONPATH": str(ROOT), **extra}
    command = [sys.executable, "-m", "studio", *args]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)


def _generate(
    v: Vendors, provider: str, extra: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    base = ["generate", "--workflow", "prompt", "--provider", provider, "--image", "photo.jpg"]
    done = run_cli_env(v.workdir, extra, *base, "--prompt", PROMPT, *args)
    for secret in SECRETS:
        assert secret not in done.stdout and secret not in done.stderr
    assert "Traceback" not in done.stderr
    return done


def _succeeded(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert set(result) == {
        "job_id",
        "status",
        "provider",
        "workflow",
        "outputs",
        "cost",
        "error",
        "cutout_method",
        "check_flags",
    }
    assert result["status"] == "succeeded" and result["workflow"] == "prompt" and result["error"] is None
    # Each output was checked against the product (None would mean it was not).
    assert len(result["check_flags"]) == len(result["outputs"])
    assert all(isinstance(flags, list) for flags in result["check_flags"])
    assert result["outputs"] and all(Path(path).is_file() for path in result["outputs"])
    return result


def _usage_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def _jobs(v: Vendors) -> list[dict[str, Any]]:
    listed = run_cli_env(v.workdir, {}, "jobs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    return rows


def _ds_parameters(v: Vendors) -> dict[str, Any]:
    (submit,) = [call for call in v.dashscope.calls("submit") if call.outcome == "ok"]
    assert isinstance(submit.body, dict)
    return dict(submit.body["parameters"])


def _tc_fields(v: Vendors) -> dict[str, Any]:
    (call,) = [call for call in v.tencent.requests if call.outcome == "ok"]
    assert call.signature_ok and call.body is not None
    return call.body


# ------------------------------------------------------------------ DashScope
def test_dashscope_two_images_cost_0_16_cny(vendors: Vendors) -> None:
    v = vendors
    result = _succeeded(_generate(v, "dashscope", v.dashscope_env, "--count", "2"))
    assert result["provider"] == "dashscope" and len(result["outputs"]) == 2
    assert result["cost"] == {"amount": "0.16", "currency": "CNY"}
    for path in result["outputs"]:
        with Image.open(path) as image:
            assert image.size == PHOTO
    assert _ds_parameters(v) == {"n": 2, "model_version": "v2"}

    shown = run_cli_env(v.workdir, {}, "jobs", "show", result["job_id"], "--json")
    job = json.loads(shown.stdout)
    # The automatic cutout the vendor needed is stored with the job.
    assert job["mask_path"] and Path(job["mask_path"]).is_file()
    assert job["source"] == "cli" and job["count"] == 2
    assert job["cost_estimate"] == {"amount": "0.16", "currency": "CNY"}
    assert DS_KEY not in shown.stdout


def test_dashscope_params_reach_the_vendor(vendors: Vendors) -> None:
    v = vendors
    result = _succeeded(
        _generate(
            v,
            "dashscope",
            v.dashscope_env,
            "--reference",
            "beach.png",
            "--param",
            "model_version=v3",
            "--param",
            "noise_level=700",
            "--param",
            "ref_prompt_weight=0.3",
            "--param",
            "n=2",
        )  # fmt: skip
    )
    # `n` is DashScope's name for the number of images: it becomes the job's count.
    assert len(result["outputs"]) == 2 and result["cost"] == {"amount": "0.16", "currency": "CNY"}
    assert _ds_parameters(v) == {"n": 2, "model_version": "v3", "noise_level": 700, "ref_prompt_weight": 0.3}
    (submit,) = v.dashscope.calls("submit")
    assert submit.body["input"]["ref_image_url"].startswith("oss://")
    assert submit.body["input"]["ref_prompt"] == PROMPT


def test_dashscope_n_alias_and_count_must_agree(vendors: Vendors) -> None:
    v = vendors
    err = _usage_error(_generate(v, "dashscope", v.dashscope_env, "--count", "3", "--param", "n=2"))
    assert "n=2 contradicts --count 3" in err
    assert not v.dashscope.requests


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("model_version=v4", "model_version: 'v4' is not one of v2, v3"),
        ("noise_level=1000", "noise_level: 1000 is above the maximum 999"),
        ("noise_level=-1", "noise_level: -1 is below the minimum 0"),
        ("ref_prompt_weight=1.5", "ref_prompt_weight: 1.5 is above the maximum 1"),
        ("n=5", "makes 1 to 4 images per job for prompt backgrounds; you asked for 5"),
        ("scene_type=ROOM", "unknown option(s) scene_type; dashscope accepts: model_version, noise_level, "),
    ],
)
def test_dashscope_out_of_range_exits_2_naming_the_field(vendors: Vendors, param: str, message: str) -> None:
    v = vendors
    err = _usage_error(_generate(v, "dashscope", v.dashscope_env, "--param", param))
    assert message in err
    assert not v.dashscope.requests  # nothing was sent, nothing billed
    assert _jobs(v) == []


def test_dashscope_vendor_error_exits_1_with_its_code(vendors: Vendors) -> None:
    v = vendors
    v.dashscope.fail_next("DataInspectionFailed")
    done = _generate(v, "dashscope", v.dashscope_env)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "failed" and result["outputs"] == [] and result["cost"] is None
    assert result["error"]["code"] == "DataInspectionFailed"
    assert "content check refused" in result["error"]["message"]


def test_a_wrong_dashscope_key_fails_without_printing_it(vendors: Vendors) -> None:
    v = vendors
    wrong = "sk-not-the-right-key-13579"
    done = _generate(v, "dashscope", {**v.dashscope_env, "DASHSCOPE_API_KEY": wrong})
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["error"]["code"] == "InvalidApiKey" and "DASHSCOPE_API_KEY" in result["error"]["message"]
    assert wrong not in done.stdout + done.stderr


# ------------------------------------------------------------------ Tencent
def test_tencent_with_folder_hosting_has_no_price_unless_one_is_set(vendors: Vendors) -> None:
    v = vendors
    env = {**v.tencent_env, **v.hosting_env}
    result = _succeeded(_generate(v, "tencent_aiart", env))
    assert result["provider"] == "tencent_aiart" and len(result["outputs"]) == 1
    assert result["cost"] is None
    fields = _tc_fields(v)
    assert fields["ProductUrl"].startswith(v.public.base_url + "/")
    # The result comes back inside the answer (base64): no link to lose once Tencent has billed.
    assert (fields["Prompt"], fields["RspImgType"]) == (PROMPT, "base64")
    assert fields["LogoAdd"] == 1  # the document's default: the visible AI-generated mark
    assert list(v.publish_dir.iterdir()) == []  # the published photo is removed when the job ends

    priced = _succeeded(_generate(v, "tencent_aiart", {**env, "TENCENT_AIART_PRICE_PROMPT": "0.50 CNY"}))
    assert priced["cost"] == {"amount": "0.50", "currency": "CNY"}
    assert list(v.publish_dir.iterdir()) == []


def test_tencent_params_reach_the_vendor(vendors: Vendors) -> None:
    v = vendors
    result = _succeeded(
        _generate(
            v,
            "tencent_aiart",
            {**v.tencent_env, **v.hosting_env},
            "--param",
            "Resolution=1024:768",
            "--param",
            "LogoAdd=true",
            "--param",
            "Product=ceramic mug",
        )  # fmt: skip
    )
    with Image.open(result["outputs"][0]) as image:
        assert image.size == (1024, 768)
    fields = _tc_fields(v)
    assert (fields["Resolution"], fields["LogoAdd"], fields["Product"]) == ("1024:768", 1, "ceramic mug")
    assert list(v.publish_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("Resolution=300:300", "Resolution: 300:300 is not possible; each side must be 501 to 3999 px"),
        ("Resolution=4000:1000", "Resolution: 4000:1000 is not possible; each side must be 501 to 3999 px"),
        ("Resolution=600:3000", "aspect ratio must be between 2:5 and 5:2"),
        ("Resolution=big", "Resolution: 'big' is not like 1280:1280"),
        ("Product=" + "x" * 51, "has 51 characters; Tencent takes at most 50"),
        ("LogoAdd=maybe", "LogoAdd: 'maybe' is not a valid bool"),
    ],
)
def test_tencent_out_of_range_exits_2_naming_the_field(vendors: Vendors, param: str, message: str) -> None:
    v = vendors
    err = _usage_error(_generate(v, "tencent_aiart", {**v.tencent_env, **v.hosting_env}, "--param", param))
    assert message in err
    assert not v.tencent.requests and not v.public.gets
    assert list(v.publish_dir.iterdir()) == []


def test_tencent_count_above_one_exits_2(vendors: Vendors) -> None:
    v = vendors
    err = _usage_error(_generate(v, "tencent_aiart", {**v.tencent_env, **v.hosting_env}, "--count", "2"))
    assert "makes 1 to 1 images per job" in err and "you asked for 2" in err
    assert not v.tencent.requests


def test_tencent_without_hosting_exits_2_with_the_hosting_message(vendors: Vendors) -> None:
    v = vendors
    err = _usage_error(_generate(v, "tencent_aiart", v.tencent_env))
    assert "Tencent Cloud aiart reads images only from web links, and no input hosting is set up" in err
    assert "STUDIO_S3_BUCKET" in err and "STUDIO_PUBLISH_DIR" in err and "STUDIO_PUBLIC_BASE_URL" in err
    assert not v.tencent.requests
    assert _jobs(v) == []


def test_tencent_vendor_error_exits_1_with_its_code(vendors: Vendors) -> None:
    v = vendors
    v.tencent.fail_next("OperationDenied.ImageIllegalDetected")
    done = _generate(v, "tencent_aiart", {**v.tencent_env, **v.hosting_env})
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "failed" and result["outputs"] == [] and result["cost"] is None
    assert result["error"]["code"] == "OperationDenied.ImageIllegalDetected"
    assert "content review refused the image" in result["error"]["message"]
    assert list(v.publish_dir.iterdir()) == []  # removed on failure too
    (row,) = _jobs(v)
    assert row["status"] == "failed" and row["error"]["code"] == "OperationDenied.ImageIllegalDetected"


def test_tencent_result_link_that_fails_twice_exits_0_after_one_vendor_call(vendors: Vendors) -> None:
    v = vendors
    # A result this large comes back as a 1-hour link, and that link fails twice.
    v.tencent.fail_result_downloads(2)
    env = {**v.tencent_env, **v.hosting_env, "TENCENT_AIART_PRICE_PROMPT": "0.50 CNY"}
    result = _succeeded(_generate(v, "tencent_aiart", env, "--param", "Resolution=2048:2048"))
    assert _tc_fields(v)["RspImgType"] == "url"
    assert [call.outcome for call in v.tencent.requests] == ["ok"]  # one paid call, never repeated
    assert v.tencent.result_faults_served == 2
    assert result["cost"] == {"amount": "0.50", "currency": "CNY"}
    with Image.open(result["outputs"][0]) as image:
        assert image.size == (2048, 2048)
    [row] = _jobs(v)
    assert row["status"] == "succeeded"


def test_tencent_result_that_never_downloads_is_billed_and_never_sent_again(vendors: Vendors) -> None:
    v = vendors
    v.tencent.fail_result_downloads(10_000)
    # The link lives an hour; a short deadline on the CLI's wait shows the job still downloading.
    env = {**v.tencent_env, **v.hosting_env, "TENCENT_AIART_PRICE_PROMPT": "0.50 CNY"}
    done = _generate(v, "tencent_aiart", env, "--param", "Resolution=2048:2048", "--timeout", "8")
    assert done.returncode != 0
    [row] = _jobs(v)
    assert row["status"] == "downloading"
    assert row["cost"] == {"amount": "0.50", "currency": "CNY"}
    assert [call.outcome for call in v.tencent.requests] == ["ok"]
