"""The cutout quality on the pages: chosen per job, recorded on the result card and in History,
shown per model on Settings, and loud (above the cutout, with the fix) when its model is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import Studio
from tests.views.conftest import ROOT, open_app, texts
from tests.views.photos import product_photo
from ui.services import get_studio

JOB_TIMEOUT_S = 180
U2NETP = ROOT / "models" / "u2netp.onnx"
ISNET = ROOT / "models" / "isnet.onnx"


def with_photo(prefix: str = "prompt", page: str | None = None) -> AppTest:
    at = open_app(page)
    at.session_state[f"{prefix}.photo"] = {"name": "red-mug.png", "data": product_photo((320, 260))}
    at.run()
    assert not at.exception
    return at


def body_order(at: AppTest) -> list[str]:
    """The kinds of the main area's elements in page order ("warning", "imgs", "caption", ...)."""
    kinds: list[str] = []

    def walk(node: object) -> None:
        kind = getattr(node, "type", "")
        kinds.append(str(kind))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return kinds


@pytest.mark.skipif(not U2NETP.is_file(), reason=f"u2netp model not found at {U2NETP}")
def test_fast_is_chosen_on_the_page_and_recorded_with_the_job(studio: Studio) -> None:
    at = with_photo()
    quality = at.radio(key="prompt.cutout_quality.en")
    assert quality.options == ["Best (ISNet)", "Fast (u2netp)"]
    assert quality.value == "fast"  # tests/views/conftest.py sets STUDIO_CUTOUT_MODEL=fast
    page = texts(at)
    assert "Cutout by: AI model u2netp (Fast) + " in page

    at.text_area(key="prompt.text").input("white marble")
    at.slider(key="prompt.count").set_value(1)
    at.run()
    at.button(key="prompt.generate").click().run()
    assert not at.exception
    job = studio.wait_for_job(at.session_state["prompt.job_id"], timeout_s=JOB_TIMEOUT_S)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["cutout"] == "fast"
    assert job.notes["cutout_model"] == "u2netp" and job.notes["cutout_method"].startswith("u2netp + ")

    at.run()
    refinement = translate("en", f"refinement.{job.notes['cutout_refinement']}")
    shown = f"cutout: AI model u2netp (Fast) + {refinement}"
    assert shown in texts(at)  # the result card

    history = open_app("views/history.py")
    history.session_state["history.table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    history.run()
    assert not history.exception
    assert f"Cutout: AI model u2netp (Fast) + {refinement}" in texts(history)  # History's details


def test_a_missing_best_model_is_said_above_the_cutout_with_the_fix(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone" / "isnet.onnx"
    monkeypatch.setenv("STUDIO_ISNET_PATH", str(missing))
    monkeypatch.setenv("STUDIO_CUTOUT_MODEL", "best")
    at = with_photo()
    assert at.radio(key="prompt.cutout_quality.en").value == "best"
    warning = translate(
        "en",
        "cutout.model_missing",
        model="ISNet (Best)",
        path=str(missing),
        model_key="isnet",
        env="STUDIO_ISNET_PATH",
    )
    assert warning in [item.value for item in at.warning]
    assert "Cutout by: classical fallback: the AI model is missing" in texts(at)
    order = body_order(at)
    # The warning comes right before the cutout's pictures, not after them.
    warned = order.index("warning")
    assert "image" in order[warned:] and "image" not in order[order.index("radio") : warned]

    # The job runs, and its result card repeats what happened and what to do.
    at.slider(key="prompt.count").set_value(1)
    at.text_area(key="prompt.text").input("white").run()
    at.button(key="prompt.generate").click().run()
    job = get_studio().wait_for_job(at.session_state["prompt.job_id"], timeout_s=JOB_TIMEOUT_S)
    assert job.notes["cutout_method"] == "classical (model missing)"
    at.run()
    card = translate("en", "job.cutout_missing", model="ISNet (Best)", model_key="isnet")
    assert card in [item.value for item in at.warning]

    # Settings names each model's state and the fix.
    settings = open_app("views/settings.py")
    page = texts(settings)
    assert (
        translate(
            "en", "settings.model_missing_fix", path=str(missing), model_key="isnet", env="STUDIO_ISNET_PATH"
        )
        in page
    )
    assert translate("en", "settings.model_row", model="u2netp (Fast)") in page


@pytest.mark.skipif(not ISNET.is_file(), reason=f"ISNet model not found at {ISNET}")
def test_best_is_the_default_when_isnet_is_installed(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDIO_CUTOUT_MODEL")
    at = with_photo()
    assert at.radio(key="prompt.cutout_quality.en").value == "best"
    assert "Cutout by: AI model ISNet (Best) + " in texts(at)
    assert not at.warning
    settings = open_app("views/settings.py")
    assert translate("en", "settings.model_ok_default", path=str(ISNET)) in texts(settings)


@pytest.mark.skipif(not U2NETP.is_file(), reason=f"u2netp model not found at {U2NETP}")
def test_the_scene_page_offers_the_choice_and_sends_it(studio: Studio) -> None:
    at = with_photo("scene", "views/scene_background.py")
    quality = at.radio(key="scene.cutout_quality.en")
    assert quality.options == ["Best (ISNet)", "Fast (u2netp)"]
    assert "Cutout by: AI model u2netp (Fast) + " in texts(at)
    chosen = studio.local_scenes()[0]
    at.button(key=f"scene.pick.{chosen.scene_id}").click().run()
    at.slider(key="scene.count").set_value(2).run()
    at.button(key="scene.generate").click().run()
    assert not at.exception
    job = studio.wait_for_job(at.session_state["scene.job_id"], timeout_s=JOB_TIMEOUT_S)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["cutout"] == "fast" and job.notes["cutout_model"] == "u2netp"


def test_switching_from_fast_to_best_cuts_the_photo_again_with_isnet(studio: Studio) -> None:
    if not ISNET.is_file():
        pytest.skip(f"ISNet model not found at {ISNET}")
    at = with_photo()
    assert "Cutout by: AI model u2netp (Fast) + " in texts(at)
    at.radio(key="prompt.cutout_quality.en").set_value("best").run()
    assert not at.exception
    assert "Cutout by: AI model ISNet (Best) + " in texts(at)
