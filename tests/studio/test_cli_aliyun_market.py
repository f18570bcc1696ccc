"""`python -m studio generate --provider aliyun_market` driven by ALIYUN_* variables, with inputs in a
published folder the marketplace emulator downloads from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.aliyun_market import AliyunMarketEmulator
from tests.emulators.static_files import StaticFolder
from tests.studio.test_cli_vendors import run_cli_env
from tests.views.photos import product_photo

APPCODE = "cli-appcode-0123456789abcdef"


@pytest.fixture()
def market(tmp_path: Path) -> Iterator[tuple[AliyunMarketEmulator, dict[str, str], Path]]:
    public = tmp_path / "public"
    public.mkdir()
    (tmp_path / "photo.png").write_bytes(product_photo((640, 520)))
    with AliyunMarketEmulator(APPCODE, queries_to_finish=2) as emulator, StaticFolder(public) as server:
        env = {
            "ALIYUN_MARKET_APPCODE": APPCODE,
            "ALIYUN_BGREP_BASE_URL": emulator.base_url,
            "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
            "ALIYUN_BGREP_POLL_INTERVAL_S": "0.1",
            "STUDIO_PUBLISH_DIR": str(public),
            "STUDIO_PUBLIC_BASE_URL": server.base_url,
        }
        yield emulator, env, public


def generate(workdir: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    done = run_cli_env(
        workdir, env, "generate", "--workflow", "prompt", "--provider", "aliyun_market",
        "--image", "photo.png", "--prompt", "beach at sunset", *args,
    )  # fmt: skip
    assert APPCODE not in done.stdout + done.stderr
    return done.returncode, done.stdout, done.stderr


def test_generate_with_the_vendors_field_names_and_a_price(
    tmp_path: Path, market: tuple[AliyunMarketEmulator, dict[str, str], Path]
) -> None:
    emulator, env, public = market
    code, out, err = generate(
        tmp_path, {**env, "ALIYUN_MARKET_PRICE_PROMPT": "0.20 CNY"},
        "--param", "steps=20", "--param", "guidance_scale=9", "--param", "num_output=2", "--param", "seed=7",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded" and len(result["outputs"]) == 2
    assert result["cost"] == {"amount": "0.40", "currency": "CNY"}
    sent = emulator.calls("submit")[-1].body["data"]["task_list"][0]
    assert (sent["steps"], sent["guidance_scale"], sent["num_output"], sent["seed"]) == (20, 9.0, 2, 7)
    assert sent["image"].startswith(env["STUDIO_PUBLIC_BASE_URL"]) and list(public.iterdir()) == []


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("guidance_scale=30", "guidance_scale"),
        ("steps=10", "steps"),
        ("strength=0", "strength"),
        ("num_output=5", "5"),
    ],
)
def test_out_of_range_fields_exit_2_before_anything_is_sent(
    tmp_path: Path, market: tuple[AliyunMarketEmulator, dict[str, str], Path], param: str, message: str
) -> None:
    emulator, env, _ = market
    code, out, err = generate(tmp_path, env, "--param", param)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
    assert emulator.submits == 0


def test_without_hosting_or_the_product_domain_it_says_what_to_set(
    tmp_path: Path, market: tuple[AliyunMarketEmulator, dict[str, str], Path]
) -> None:
    emulator, env, _ = market
    no_hosting = {k: v for k, v in env.items() if not k.startswith("STUDIO_P")}
    code, _, err = generate(tmp_path, no_hosting)
    assert code == 2 and "STUDIO_S3_BUCKET" in err
    no_domain = {k: v for k, v in env.items() if k != "ALIYUN_BGREP_BASE_URL"}
    code, _, err = generate(tmp_path, no_domain)
    assert code == 2 and "ALIYUN_BGREP_BASE_URL" in err
    assert emulator.submits == 0
