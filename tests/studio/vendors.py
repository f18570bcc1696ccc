"""What the studio tests against vendor emulators share: credentials, the emulators as fixtures, a
published folder for input hosting, the environment that points the studio at them, and a studio
that runs jobs inline on a fake clock.

The emulators themselves are fixtures in tests/studio/conftest.py (`tencent`, `dashscope`,
`published`); a module that talks to them also overrides `clock` with `real_time_clock`.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
from PIL import Image

from providers.base import Operation
from studio.jobs import JobView
from studio.service import JobRequest, Studio
from studio.settings import load_settings
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator
from tests.studio.fakes import FakeClock

SECRET_ID, SECRET_KEY = "AKIDjobs0123456789", "jobs-secret-key-0123456789"
DASHSCOPE_KEY = "sk-jobs-0123456789"


def photo(width: int = 800, height: int = 600) -> bytes:
    pixels = np.full((height, width, 3), 236, np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (40, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def mask(width: int = 800, height: int = 600) -> bytes:
    pixels = np.zeros((height, width), np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, "PNG")
    return buffer.getvalue()


def real_time_clock() -> FakeClock:
    """The emulators check signatures and timestamps against their own (real) clocks."""
    return FakeClock(time.time())


def vendor_env(tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, data_dir: Path) -> dict[str, str]:
    return {
        "STUDIO_DATA_DIR": str(data_dir),
        "TENCENTCLOUD_SECRET_ID": SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
        "TENCENT_AIART_ENDPOINT": tencent.endpoint,
        "TENCENT_AIART_PROTOCOL": "http",
        "DASHSCOPE_API_KEY": DASHSCOPE_KEY,
        "DASHSCOPE_BASE_URL": dashscope.api_url,
        "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulators serve result links on 127.0.0.1
        "DASHSCOPE_POLL_INTERVAL_S": "0.1",
    }


def hosting_env(published: tuple[Path, StaticFolder]) -> dict[str, str]:
    folder, server = published
    return {"STUDIO_PUBLISH_DIR": str(folder), "STUDIO_PUBLIC_BASE_URL": server.base_url + "/"}


def open_studio(env: dict[str, str], tmp_path: Path, clock: FakeClock) -> Studio:
    return Studio(load_settings(env, secrets_path=tmp_path / "none.toml"), clock=clock, worker_threads=0)


def run_until_done(studio: Studio, clock: FakeClock, job_id: str, steps: int = 40) -> JobView:
    view = None
    for _ in range(steps):
        studio.run_pending()
        view = studio.get_job(job_id)
        assert view is not None
        if not view.is_pending:
            return view
        clock.advance(0.5)
    raise AssertionError(f"job {job_id} did not finish: {view}")


def prompt_request(studio: Studio, provider: str, **changes: object) -> JobRequest:
    fields: dict[str, object] = {
        "workflow": Operation.PROMPT_BACKGROUND,
        "provider": provider,
        "image": studio.prepare_image(photo(), "bottle.png"),
        "prompt": "white marble table, soft window light",
    }
    fields.update(changes)
    return JobRequest(**fields)  # type: ignore[arg-type]
