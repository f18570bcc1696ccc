"""The mask editor on the prompt page, driven through session state (the canvas is a placeholder
under AppTest): strokes become the job's mask at full resolution, and the tools make history steps."""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from imaging.mask_edit import ERASE_RGB
from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import Studio
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo

PHOTO = (640, 520)  # larger than the canvas's 440 px fit width, so the view is scaled


def open_editor() -> AppTest:
    at = open_app("views/prompt_background.py")
    at.session_state["prompt.photo"] = {"name": "mug.png", "data": product_photo(PHOTO)}
    at.run()
    at.radio(key="prompt.mask_mode.en").set_value("edit").run()
    assert not at.exception, at.exception
    return at


def canvas_key(at: AppTest) -> str:
    state = at.session_state["prompt.editor"]
    return f"prompt.canvas.{state.photo[:12]}.{state.canvas_round}"


def draw(at: AppTest, layer: np.ndarray) -> None:
    """What the browser sends after a stroke: the drawing JSON and the layer as a PNG data URL."""
    buffer = io.BytesIO()
    Image.fromarray(layer, "RGBA").save(buffer, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    drawing: dict[str, Any] = {"raw": {"objects": [{"type": "path"}]}, "data": url}
    at.session_state[canvas_key(at)] = {"drawing": drawing, "backgroundFit": None}


def erase_column(width: int, height: int, x0: int, x1: int) -> np.ndarray:
    layer = np.zeros((height, width, 4), np.uint8)
    layer[:, x0:x1, :3] = ERASE_RGB
    layer[:, x0:x1, 3] = 255
    return layer


def test_the_editor_shows_its_tools_and_the_previews(data_dir: Path) -> None:
    at = open_editor()
    page = texts(at)
    assert translate("en", "editor.preview_checker") in page
    captions = [caption for image in at.image for caption in image.captions]
    assert translate("en", "editor.preview_backdrop") in captions
    labels = [button.label for button in at.button]
    for key in ("editor.undo", "editor.redo", "editor.reset", "editor.invert", "editor.fill_holes",
                "editor.punch_holes", "editor.grow", "editor.shrink", "editor.feather"):  # fmt: skip
        assert translate("en", key) in labels
    assert at.button(key="prompt.editor.undo").disabled


def test_an_erase_stroke_on_the_canvas_cuts_the_job_mask_at_full_resolution(studio: Studio) -> None:
    at = open_editor()
    before = np.asarray(Image.open(io.BytesIO(at.session_state["prompt.editor"].current)))
    # The canvas is 440 px wide for a 640 px photo; erase a band through the mug's body.
    draw(at, erase_column(440, 358, 200, 212))
    at.run()
    at.text_area(key="prompt.text").input("white marble")
    at.run()
    at.button(key="prompt.generate").click().run()
    assert not at.exception, at.exception
    job = studio.wait_for_job(at.session_state["prompt.job_id"], timeout_s=120)
    assert job.status is JobStatus.SUCCEEDED, job.error
    sent = np.asarray(Image.open(Path(studio.settings.data_dir) / (job.mask_path or "")))
    assert sent.shape == (520, 640)
    # 200..212 canvas px are about 291..308 photo px: removed there, untouched elsewhere.
    assert before[:, 293:306].any() and not sent[:, 293:306].any()
    np.testing.assert_array_equal(sent[:, :285] > 127, before[:, :285] > 127)


def test_tools_make_history_steps_that_undo_and_redo(data_dir: Path) -> None:
    at = open_editor()
    automatic = at.session_state["prompt.editor"].current
    at.button(key="prompt.editor.invert").click().run()
    state = at.session_state["prompt.editor"]
    inverted = np.asarray(Image.open(io.BytesIO(state.current)))
    original = np.asarray(Image.open(io.BytesIO(automatic)))
    np.testing.assert_array_equal(inverted, 255 - original)
    at.button(key="prompt.editor.undo").click().run()
    assert at.session_state["prompt.editor"].current == automatic
    at.button(key="prompt.editor.redo").click().run()
    assert at.session_state["prompt.editor"].current == state.current
    at.number_input(key="prompt.editor.edge_px").set_value(6).run()
    at.button(key="prompt.editor.reset").click().run()
    assert at.session_state["prompt.editor"].current == automatic
    at.button(key="prompt.editor.shrink").click().run()
    shrunk = np.asarray(Image.open(io.BytesIO(at.session_state["prompt.editor"].current)))
    assert np.count_nonzero(shrunk) < np.count_nonzero(original)


def test_an_edit_that_leaves_no_product_is_refused_before_a_job(data_dir: Path) -> None:
    at = open_editor()
    draw(at, erase_column(440, 358, 0, 440))
    at.run()
    assert not at.exception
    assert at.button(key="prompt.generate").disabled
    assert translate("en", "reason.bad_mask") in texts(at)


def test_the_mask_of_the_previous_product_is_offered_for_the_next_one(data_dir: Path) -> None:
    at = open_editor()
    at.button(key="prompt.editor.invert").click().run()
    finished = at.session_state["prompt.editor"].current
    at.session_state["prompt.photo"] = {"name": "mug2.png", "data": product_photo(PHOTO, fmt="JPEG")}
    at.run()
    assert not at.exception
    at.button(key="prompt.editor.use_last").click().run()
    assert at.session_state["prompt.editor"].current == finished


def test_without_the_canvas_component_the_page_says_so_and_offers_the_upload(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An import of a module set to None fails, as a broken install would.
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", None)
    at = open_editor()
    page = texts(at)
    assert translate("en", "editor.canvas_unavailable") in page
    assert translate("en", "mask.upload_hint") in page
    assert at.button(key="prompt.generate").disabled
