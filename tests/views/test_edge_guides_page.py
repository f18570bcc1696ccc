"""Edge guides on the prompt page: element pictures become outlines, placed in front or behind,
with a prompt each, and reach DashScope exactly as previewed."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.i18n import translate
from studio.jobs import JobStatus, JobView
from studio.service import Studio
from tests.emulators.dashscope import DashScopeEmulator
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo
from ui.services import get_studio

API_KEY = "sk-guides-0123456789"


@pytest.fixture
def dashscope_studio(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Studio, DashScopeEmulator]]:
    with DashScopeEmulator(API_KEY, queries_to_finish=1) as emulator:
        monkeypatch.setenv("DASHSCOPE_API_KEY", API_KEY)
        monkeypatch.setenv("DASHSCOPE_BASE_URL", emulator.api_url)
        # Emulators serve result links on 127.0.0.1, which studio refuses by default.
        monkeypatch.setenv("STUDIO_ALLOW_PRIVATE_LINKS", "true")
        monkeypatch.setenv("DASHSCOPE_POLL_INTERVAL_S", "0.1")
        yield get_studio(), emulator


def wait_finished(studio: Studio, job_id: str, timeout_s: float = 30) -> JobView:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = studio.get_job(job_id)
        if job is not None and not job.is_pending:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still pending")


def element_png() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    for x in range(40, 160):
        for y in range(60, 140):
            image.putpixel((x, y), (40, 160, 60, 255))
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_element_pictures_become_guides_that_reach_dashscope(
    dashscope_studio: tuple[Studio, DashScopeEmulator],
) -> None:
    studio, emulator = dashscope_studio
    at = open_app("views/prompt_background.py")
    at.session_state["prompt.photo"] = {"name": "mug.png", "data": product_photo((640, 520))}
    at.selectbox(key="prompt.provider.en").set_value("dashscope").run()
    assert not at.exception
    # DashScope takes guides: the section is there; the local engine's finish controls are not.
    assert translate("en", "guides.intro", max=10) in texts(at)
    at.session_state["prompt.guides.uploads"] = [
        {"name": "leaf.png", "data": element_png()},
        {"name": "stone.png", "data": element_png()},
    ]
    at.run()
    assert not at.exception
    # Each upload got its guide, made once (the same picture twice shares one cutout).
    assert len(at.session_state["prompt.guides.cache"]) == 1
    radios = [radio for radio in at.radio if radio.key and radio.key.startswith("prompt.guides.layer.")]
    assert len(radios) == 2
    radios[0].set_value("foreground")
    prompts = [box for box in at.text_input if box.key and box.key.startswith("prompt.guides.prompt.")]
    prompts[0].input("a green leaf")
    at.text_area(key="prompt.text").input("a forest floor")
    at.run()
    at.button(key="prompt.generate").click().run()
    assert not at.exception, at.exception
    job = wait_finished(studio, at.session_state["prompt.job_id"])
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert [(item["layer"], item["prompt"]) for item in job.notes["edge_guides"]] == [
        ("foreground", "a green leaf"),
        ("background", ""),
    ]
    edge = emulator.calls("submit")[-1].body["input"]["reference_edge"]
    assert edge["foreground_edge_prompt"] == ["a green leaf"] and len(edge["background_edge"]) == 1


def test_the_local_engine_offers_no_guides(data_dir: Path) -> None:
    at = open_app("views/prompt_background.py")
    assert not at.exception
    assert translate("en", "guides.title") not in [expander.label for expander in at.expander]
