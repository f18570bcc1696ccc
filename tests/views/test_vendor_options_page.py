"""The prompt page's vendor options of issue 11 (AppTest): Tencent's AI mark, on by default, with a
plain explanation when switched off, and the user's own logo; DashScope's warning for a prompt longer
than it reads (the job can still be started). Shares the fixtures of test_prompt_vendors.py."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from studio.i18n import translate
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator
from tests.views.conftest import texts
from tests.views.test_prompt_vendors import (  # noqa: F401 - fixtures
    _page,
    _studio,
    _tencent_fields,
    _wait_finished,
    dashscope,
    publish_dir,
    tencent,
)

LOGO_KEY = "prompt.tencent_aiart.opt.LogoImage"


def _logo_png() -> bytes:
    image = Image.new("RGBA", (120, 48), (0, 0, 0, 0))
    image.paste((230, 20, 20, 255), (10, 5, 110, 43))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_the_ai_mark_is_on_and_switching_it_off_explains_who_labels_the_images(
    data_dir: Path,
    tencent: TencentAiartEmulator,  # noqa: F811
    publish_dir: tuple[Path, StaticFolder],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _studio(monkeypatch, tencent=tencent, hosting=publish_dir)
    at = _page("tencent_aiart")
    explanation = translate("en", "opt.LogoAdd_off")
    assert at.toggle(key="prompt.tencent_aiart.opt.LogoAdd").value is True
    assert explanation not in [warning.value for warning in at.warning]
    assert at.text_input(key="prompt.tencent_aiart.opt.LogoRect").value == ""

    at.toggle(key="prompt.tencent_aiart.opt.LogoAdd").set_value(False).run()
    assert not at.exception
    shown = [warning.value for warning in at.warning]
    assert explanation in shown and "September 2025" in explanation and "your responsibility" in explanation
    assert not at.button(key="prompt.generate").disabled  # an explanation, not a block


def test_the_users_logo_uploaded_on_the_page_reaches_tencent_in_its_box(
    data_dir: Path,
    tencent: TencentAiartEmulator,  # noqa: F811
    publish_dir: tuple[Path, StaticFolder],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    studio = _studio(monkeypatch, tencent=tencent, hosting=publish_dir)
    at = _page("tencent_aiart")
    at.session_state[LOGO_KEY] = {"name": "brand.png", "data": _logo_png()}  # what the uploader stores
    at.text_input(key="prompt.tencent_aiart.opt.LogoRect").input("40,60,240,96")
    at.run()
    assert not at.exception
    assert translate("en", "opt.image_set", name="brand.png") in texts(at)
    at.button(key="prompt.generate").click().run()
    assert not at.exception and not at.error

    job = _wait_finished(studio, at.session_state["prompt.job_id"])
    assert job.status.value == "succeeded", job.error
    logo = _tencent_fields(tencent)["LogoParam"]
    assert logo["LogoRect"] == {"X": 40, "Y": 60, "Width": 240, "Height": 96}
    assert Image.open(io.BytesIO(base64.b64decode(logo["LogoImage"]))).size == (120, 48)


def test_a_prompt_longer_than_dashscope_reads_is_warned_about(
    data_dir: Path,
    dashscope: DashScopeEmulator,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _studio(monkeypatch, dashscope=dashscope)
    at = _page("dashscope", prompt="white marble, soft light")
    assert not any("reads about the first" in warning.value for warning in at.warning)

    at.text_area(key="prompt.text").input(" ".join(["ab"] * 160)).run()
    assert not at.exception
    expected = translate(
        "en",
        "prompt.overflow",
        provider="DashScope wanx background generation (Alibaba Cloud)",
        field=translate("en", "prompt.field.prompt"),
        max_words=150,
        max_cjk=100,
        words=160,
        cjk=0,
    )
    assert expected in [warning.value for warning in at.warning]
    assert not at.button(key="prompt.generate").disabled  # a warning, not a refusal

    at.text_area(key="prompt.text").input("白色大理石台面" * 16).run()  # 112 Chinese characters
    assert any("112" in warning.value and "100" in warning.value for warning in at.warning)
