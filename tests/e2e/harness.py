"""What every browser test needs: the real app under `streamlit run` with its own data folder and
environment, and a headless Debian Chromium page. Screenshots go to tests/e2e/screenshots/."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
JOB_TIMEOUT_MS = 120_000
# Variables a developer's shell may hold that would point the app at something other than the test's setup.
_ISOLATED_PREFIXES = ("DASHSCOPE_", "TENCENT", "AIDGE_", "ALIYUN_", "STUDIO_", "AWS_")


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            "Chromium is not installed at /usr/bin/chromium (apt-get install chromium; .ci/run does it)"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"streamlit did not become healthy:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass(frozen=True)
class RunningApp:
    url: str
    data_dir: Path
    log: Path


@contextlib.contextmanager
def running_app(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    env: Mapping[str, str] | None = None,
    secrets: str | None = None,
) -> Iterator[RunningApp]:
    """Start `streamlit run app.py` on a free loopback port with its own data folder and `env`;
    `secrets` is the text of its own secrets.toml (`{port}` in it becomes the app's port), read
    by Streamlit (`--secrets.files`, for st.login) and the studio (STUDIO_SECRETS_FILE)."""
    require_chromium()
    data_dir = tmp_path_factory.mktemp(f"{name}-data")
    log = tmp_path_factory.mktemp(f"{name}-logs") / "streamlit.log"
    port = free_port()
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(_ISOLATED_PREFIXES)}
    # The fast cutout model unless a test asks for another: ISNet's seconds per photo on two shared
    # cores made the other browser tests slow and their clicks race the page's long reruns.
    defaults = {"STUDIO_DATA_DIR": str(data_dir), "STUDIO_LANG": "en", "STUDIO_CUTOUT_MODEL": "fast"}
    full_env = {**inherited, **defaults, **(env or {})}
    secrets_args: list[str] = []
    if secrets is not None:
        secrets_file = tmp_path_factory.mktemp(f"{name}-secrets") / "secrets.toml"
        secrets_file.write_text(secrets.replace("{port}", str(port)), encoding="utf-8")
        full_env["STUDIO_SECRETS_FILE"] = str(secrets_file)
        secrets_args = ["--secrets.files", str(secrets_file)]
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *secrets_args,
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield RunningApp(url, data_dir, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def browser_page(width: int = 1440, height: int = 1300) -> Iterator[Page]:
    """A Chromium tab (English, downloads allowed) with a 30 s default timeout."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US", accept_downloads=True
        )
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def wait_idle(page: Page) -> None:
    """Wait until the script run has finished and every widget has replaced its loading skeleton."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)


def aidge_env(base_url: str, key: str, secret: str) -> dict[str, str]:
    """The app's settings for Aidge on a loopback emulator at `base_url` (a paid account, fast polls)."""
    return {
        "AIDGE_ACCESS_KEY_NAME": key,
        "AIDGE_ACCESS_KEY_SECRET": secret,
        "AIDGE_API_BASE": base_url,
        "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
        "AIDGE_POLL_INTERVAL_S": "0.2",
        "AIDGE_TRIAL": "false",
        "AIDGE_PRICE_SCENE": "0.12 USD",
    }
