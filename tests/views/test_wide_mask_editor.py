"""Issue 18: the prompt page's mask editor in its own full-width section, its canvas as wide as the
browser measured that section (the width probe is a placeholder under AppTest, driven through its
key like the canvas), strokes still applied at the photo's full resolution; and one way to compare
a result: the viewer's before/after on the create pages, the gallery's switch only where no viewer is.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.mask_editor as editor
from providers.base import Operation
from studio.i18n import translate
from studio.service import JobRequest, Studio
from tests.views.conftest import RUN_TIMEOUT_S, open_app, texts
from tests.views.photos import product_photo
from tests.views.test_mask_editor_page import canvas_key, draw, erase_column

PHOTO = (1600, 1000)  # wider than any canvas: the canvas is as wide as the space allows
SPACE = "prompt.editor.space"  # the width probe's key (the browser's measure of the editor's section)


@pytest.fixture
def widths(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The canvas widths the page draws, run after run."""
    seen: list[int] = []
    drawn = editor.draw

    def recording(view: editor.CanvasView, key: str) -> object:
        seen.append(view.width)
        return drawn(view, key)

    monkeypatch.setattr(editor, "draw", recording)
    return seen


def open_editor(lang: str = "en") -> AppTest:
    at = open_app("views/prompt_background.py", lang=lang)
    at.session_state["prompt.photo"] = {"name": "mug.png", "data": product_photo(PHOTO)}
    at.run()
    at.radio(key=f"prompt.mask_mode.{lang}").set_value("edit").run()
    assert not at.exception, at.exception
    return at


def measure(at: AppTest, width: int) -> None:
    """What the browser sends once it has measured the editor's section."""
    at.session_state[SPACE] = {"width": width}
    at.run()
    assert not at.exception, at.exception


def test_the_canvas_takes_the_width_the_browser_measured(data_dir: Path, widths: list[int]) -> None:
    at = open_editor()
    assert widths[-1] == editor.FIT_WIDTH, "until the browser has measured: a half column"
    measure(at, 980)  # the page's content width at 1440 px
    assert widths[-1] == 980
    measure(at, 836)  # at 1280 px: still no wider than the space, so no sideways scroll
    assert widths[-1] == 836
    measure(at, 200)  # a very narrow window: never below the smallest useful canvas
    assert widths[-1] == editor.MIN_FIT_WIDTH
    # The measure is remembered for the session: the editor opens at the known width next time.
    measure(at, 980)
    at.radio(key="prompt.mask_mode.en").set_value("auto").run()
    at.radio(key="prompt.mask_mode.en").set_value("edit").run()
    assert widths[-1] == 980


def test_a_tall_photo_is_fitted_to_the_canvas_height(data_dir: Path, widths: list[int]) -> None:
    at = open_app("views/prompt_background.py")
    at.session_state["prompt.photo"] = {"name": "tall.png", "data": product_photo((900, 1800))}
    at.run()
    at.radio(key="prompt.mask_mode.en").set_value("edit").run()
    measure(at, 980)
    # 900 x 1800 shown whole at 100 %: FIT_HEIGHT tall, half as wide.
    assert widths[-1] == editor.FIT_HEIGHT // 2


def test_the_editor_is_its_own_section_across_the_page(data_dir: Path) -> None:
    at = open_editor()
    left, right = at.columns[0], at.columns[1]
    # The step's choices stay in the column, with a link down to the editor ...
    assert at.radio(key="prompt.mask_mode.en") in left.radio
    assert any(translate("en", "editor.below") in item.value for item in left.markdown)
    # ... and the editor (its heading, tools, buttons) is below both columns, not inside either.
    heading = [item for item in at.main.subheader if item.value == translate("en", "mask.mode.edit")]
    assert heading
    tool = at.radio(key="prompt.editor.tool.en")
    for column in (left, right):
        assert tool not in column.radio
        assert "prompt.editor.undo" not in {button.key for button in column.button}
    # The previews sit in the step's column, beside the long right column, not under the canvas.
    captions = [caption for image in left.image for caption in image.captions]
    assert translate("en", "editor.preview_backdrop") in captions


def test_a_stroke_on_the_wide_canvas_edits_the_mask_at_full_resolution(data_dir: Path) -> None:
    at = open_editor()
    measure(at, 980)
    before = np.asarray(Image.open(io.BytesIO(at.session_state["prompt.editor"].current)))
    assert before.shape == (PHOTO[1], PHOTO[0])
    # The canvas is 980 x 612 for the 1600 x 1000 photo; erase canvas columns 470..480.
    assert canvas_key(at).startswith("prompt.canvas.")
    draw(at, erase_column(980, 612, 470, 480))
    at.run()
    at.button(key="prompt.editor.apply").click().run()
    assert not at.exception, at.exception
    after = np.asarray(Image.open(io.BytesIO(at.session_state["prompt.editor"].current)))
    assert after.shape == (PHOTO[1], PHOTO[0])
    # 470..480 canvas px are 767..784 photo px: gone there, untouched far from it.
    assert before[:, 770:782].any() and not after[:, 770:782].any()
    np.testing.assert_array_equal(after[:, :750] > 127, before[:, :750] > 127)
    np.testing.assert_array_equal(after[:, 800:] > 127, before[:, 800:] > 127)


def test_the_editor_reads_in_chinese(data_dir: Path) -> None:
    at = open_editor("zh")
    page = texts(at)
    assert translate("zh", "editor.below") in page
    assert translate("zh", "editor.below") != translate("en", "editor.below")


# ------------------------------------------------------------------ one way to compare a result
def _card_script() -> None:
    import streamlit as st

    from ui.job_views import finished_card
    from ui.services import get_studio

    studio = get_studio()
    job = studio.get_job(st.session_state["job_id"])
    assert job is not None
    finished_card(studio, job, key_prefix="card", viewer=bool(st.session_state["viewer"]))


@pytest.fixture
def finished_job(studio: Studio) -> str:
    image = studio.prepare_image(product_photo((320, 260)), "mug.png")
    request = JobRequest(
        workflow=Operation.PROMPT_BACKGROUND, provider="local", image=image, prompt="white marble", count=2
    )
    job_id = studio.submit_job(request)
    job = studio.wait_for_job(job_id, timeout_s=120)
    assert job.outputs, job.error
    return job_id


@pytest.mark.parametrize("viewer", [True, False])
def test_a_result_has_one_before_after(finished_job: str, viewer: bool) -> None:
    at = AppTest.from_function(_card_script, default_timeout=RUN_TIMEOUT_S)
    at.session_state["job_id"] = finished_job
    at.session_state["viewer"] = viewer
    at.run()
    assert not at.exception, at.exception
    switch = [toggle for toggle in at.toggle if toggle.key == f"card.compare.{finished_job}"]
    viewer_modes = [
        item for item in at.segmented_control if item.key == f"card.viewer.{finished_job}.mode.en"
    ]
    # With the viewer (the create pages) its before/after is the one way; without (History, the
    # comparison columns) the gallery's switch is.
    assert bool(viewer_modes) is viewer
    assert bool(switch) is not viewer
    labels = [button.label for button in at.download_button]
    assert translate("en", "gallery.download_all") in labels
    if not viewer:
        switch[0].set_value(True).run()
        captions = [caption for image in at.image for caption in image.captions]
        assert captions.count(translate("en", "gallery.before")) == 2
