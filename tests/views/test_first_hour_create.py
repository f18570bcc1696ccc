"""Issue 18 on the create pages: sample photos, the folded scene list, the result viewer, the
empty-description notice and the ways out of dead ends (compare, no provider)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import Studio
from tests.views.conftest import open_app, texts
from ui.job_views import pending_step
from ui.result_viewer import (
    MAX_VIEW_HEIGHT,
    ZOOM_HEIGHT,
    ZOOM_WIDTH,
    slider_html,
    view_width,
    zoom_box,
    zoom_crop,
)
from ui.samples import SAMPLE_NAMES, SAMPLES_DIR, available_samples, sample_bytes

JOB_TIMEOUT_S = 180


# ----------------------------------------------------------------- the sample photos
def test_every_sample_is_a_product_photo_sized_jpeg_with_a_cc0_licence() -> None:
    assert available_samples() == SAMPLE_NAMES
    for name in SAMPLE_NAMES:
        image = Image.open(io.BytesIO(sample_bytes(name)))
        assert image.format == "JPEG" and image.mode == "RGB"
        assert 800 <= max(image.size) <= 1200, image.size
        # A product on a light backdrop: bright corners, a darker middle (not an empty frame).
        grey = image.convert("L")
        pixels = grey.tobytes()
        corners = [pixels[y * grey.width + x] for x in (5, grey.width - 6) for y in (5, grey.height // 3)]
        centre = grey.crop((image.width // 3, image.height // 3, 2 * image.width // 3, 2 * image.height // 3))
        assert min(corners) > 170
        assert sum(centre.tobytes()) / (centre.width * centre.height) < min(corners) - 20
    licence = (SAMPLES_DIR / "LICENSE.md").read_text(encoding="utf-8")
    assert "CC0" in licence and "scripts/make_samples.py" in licence


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_sample_loads_as_if_uploaded_and_the_picker_steps_aside(data_dir: Path, lang: str) -> None:
    at = open_app("views/prompt_background.py", lang=lang)
    assert translate(lang, "first_hour.sample.title") in texts(at)
    use = [button for button in at.button if button.key and button.key.startswith("prompt.sample.")]
    assert [button.key for button in use] == [f"prompt.sample.{name}" for name in SAMPLE_NAMES]
    assert {button.label for button in use} == {translate(lang, "first_hour.sample.use")}

    at.button(key="prompt.sample.ceramic-mug").click().run()
    assert not at.exception
    assert at.session_state["prompt.photo"] == {
        "name": "ceramic-mug.jpg",
        "data": sample_bytes("ceramic-mug"),
    }
    page = texts(at)
    assert translate(lang, "first_hour.sample.kept", name="ceramic-mug.jpg") in page
    assert "1000" in page  # the photo's facts: 1000 × 1000
    assert translate(lang, "first_hour.sample.title") not in page
    assert not at.button(key="prompt.generate").disabled


def test_the_scene_and_model_pages_offer_samples_too(data_dir: Path) -> None:
    for page, prefix in (("views/scene_background.py", "scene"), ("views/virtual_model.py", "model")):
        at = open_app(page)
        assert not at.exception
        keys = {button.key for button in at.button}
        if prefix == "model":  # without a cloud provider the page stops at what to configure
            assert "model.sample.sneaker" not in keys
            assert [link.label for link in at.page_link] == [translate("en", "model.to_settings")]
            continue
        assert f"{prefix}.sample.sneaker" in keys


# ----------------------------------------------------------------- the scene page
def _pick_buttons(at: AppTest) -> list[str]:
    return [
        str(button.key) for button in at.button if button.key and str(button.key).startswith("scene.pick.")
    ]


def test_choosing_a_scene_folds_the_list_and_change_scene_opens_it_again(studio: Studio) -> None:
    scenes = studio.local_scenes("en")
    at = open_app("views/scene_background.py")
    assert len(_pick_buttons(at)) == len(scenes)
    assert translate("en", "first_hour.scene.pick_hint") in texts(at)

    chosen = scenes[2]
    at.button(key=f"scene.pick.{chosen.scene_id}").click().run()
    assert _pick_buttons(at) == []  # twenty cards gone: Generate follows right after the choice
    assert f"Scene: **{chosen.name}**" in texts(at)
    assert translate("en", "first_hour.scene.chosen_caption") in texts(at)

    at.button(key="scene.change").click().run()
    assert len(_pick_buttons(at)) == len(scenes)
    assert at.button(key="scene.keep").label == translate(
        "en", "first_hour.scene.done_picking", name=chosen.name
    )
    at.button(key="scene.keep").click().run()
    assert _pick_buttons(at) == []

    other = scenes[0]
    at.button(key="scene.change").click().run()
    at.button(key=f"scene.pick.{other.scene_id}").click().run()
    assert _pick_buttons(at) == []
    assert f"Scene: **{other.name}**" in texts(at)


def test_the_folded_scene_follows_the_language(studio: Studio) -> None:
    chosen_zh = studio.local_scenes("zh")[1]
    at = open_app("views/scene_background.py", lang="zh")
    at.button(key=f"scene.pick.{chosen_zh.scene_id}").click().run()
    assert translate("zh", "scene.chosen", name=chosen_zh.name) in texts(at)
    assert at.button(key="scene.change").label == translate("zh", "first_hour.scene.change")


def test_output_size_sits_in_a_wide_column(data_dir: Path) -> None:
    at = open_app("views/scene_background.py")
    # The size box shares its row with the number of variants only (no longer a third of the page).
    size_box = at.selectbox(key="scene.size.en")
    assert size_box.label == translate("en", "size.label")
    assert at.slider(key="scene.count")


# ----------------------------------------------------------------- the result viewer
def test_a_finished_job_opens_large_with_before_after_slider_and_100_percent_zoom(studio: Studio) -> None:
    at = open_app("views/scene_background.py")
    at.button(key="scene.sample.serum-bottle").click().run()
    scene = studio.local_scenes("en")[1]
    at.button(key=f"scene.pick.{scene.scene_id}").click().run()
    at.slider(key="scene.count").set_value(2).run()
    at.button(key="scene.generate").click().run()
    assert not at.exception
    job = studio.wait_for_job(at.session_state["scene.job_id"], timeout_s=JOB_TIMEOUT_S)
    assert job.status == JobStatus.SUCCEEDED, job.error
    at.run()
    base = f"scene.viewer.{job.job_id}"
    assert translate("en", "first_hour.viewer.title") in texts(at)
    mode = at.segmented_control(key=f"{base}.mode.en")
    assert list(mode.options) == [
        translate("en", f"first_hour.viewer.mode.{name}")
        for name in ("large", "side_by_side", "slider", "zoom")
    ]
    variant = at.segmented_control(key=f"{base}.variant.en")
    assert variant.value == 1

    mode.set_value("side_by_side").run()
    captions = [caption for image in at.image for caption in image.captions]
    assert translate("en", "gallery.before") in captions and translate("en", "gallery.after") in captions

    at.segmented_control(key=f"{base}.mode.en").set_value("slider").run()
    assert at.slider(key=f"{base}.divide").value == 50

    at.segmented_control(key=f"{base}.variant.en").set_value(2).run()
    at.segmented_control(key=f"{base}.mode.en").set_value("zoom").run()
    at.slider(key=f"{base}.zoom.x").set_value(0).run()
    at.slider(key=f"{base}.zoom.y").set_value(100).run()
    assert not at.exception
    width, height = job.outputs[1].width, job.outputs[1].height
    box = zoom_box(width, height, 0, 100)
    caption = translate(
        "en",
        "first_hour.viewer.zoom_caption",
        number=2,
        left=box.left,
        right=box.right,
        top=box.top,
        bottom=box.bottom,
        width=width,
        height=height,
    )
    assert caption in texts(at)
    # The crop is variant 2's bottom-left corner, pixel for pixel (no rescaling).
    crop = zoom_crop(job.outputs[1].path, box)
    assert crop is not None
    full = Image.open(job.outputs[1].path).convert("RGB")
    cut = Image.open(io.BytesIO(crop)).convert("RGB")
    assert cut.size == (box.right - box.left, box.bottom - box.top)
    assert cut.tobytes() == full.crop((box.left, box.top, box.right, box.bottom)).tobytes()


def test_zoom_box_stays_inside_the_image_and_is_at_most_the_zoom_size() -> None:
    assert zoom_box(2000, 1500, 50, 50) == zoom_box(2000, 1500, 50, 50)
    centre = zoom_box(2000, 1500, 50, 50)
    assert (centre.right - centre.left, centre.bottom - centre.top) == (ZOOM_WIDTH, ZOOM_HEIGHT)
    assert (centre.left + centre.right) // 2 == 1000
    corner = zoom_box(2000, 1500, 0, 100)
    assert (corner.left, corner.bottom) == (0, 1500)
    small = zoom_box(300, 200, 90, 10)
    assert (small.left, small.top, small.right, small.bottom) == (0, 0, 300, 200)
    clamped = zoom_box(1000, 1000, 150, -20)
    assert clamped.right == 1000 and clamped.top == 0


def test_the_slider_shows_the_original_over_the_left_part_only() -> None:
    html = slider_html(b"before", b"after", 30, 800, 600)
    assert "clip-path:inset(0 70% 0 0)" in html
    assert "left:30%" in html and "aspect-ratio:800/600" in html
    assert html.index("YWZ0ZXI=") < html.index("YmVmb3Jl")  # the result below, the original on top


def test_pending_jobs_show_numbered_steps() -> None:
    assert pending_step("queued") == (1, 3, "first_hour.progress.queued")
    assert pending_step("running") == (2, 3, "first_hour.progress.running")
    assert pending_step("submitting")[0] == 2
    assert pending_step("downloading") == (3, 3, "first_hour.progress.downloading")


# ----------------------------------------------------------------- the prompt page
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_empty_description_says_what_it_makes_and_offers_examples(data_dir: Path, lang: str) -> None:
    at = open_app("views/prompt_background.py", lang=lang)
    assert translate(lang, "first_hour.prompt.empty_local") in texts(at)
    examples = at.pills(key="prompt.examples")
    assert list(examples.options) == [
        translate(lang, f"first_hour.prompt.example.{name}") for name in ("marble", "wood", "pastel", "slate")
    ]
    at.button(key="prompt.sample.serum-bottle").click().run()
    at.pills(key="prompt.examples").set_value("first_hour.prompt.example.wood").run()
    assert not at.exception
    assert at.text_area(key="prompt.text").value == translate(lang, "first_hour.prompt.example.wood")
    assert translate(lang, "first_hour.prompt.empty_local") not in texts(at)
    assert at.session_state["prompt.examples"] is None  # the pill is a one-shot button


def test_the_notice_is_only_for_the_local_engine_and_an_empty_box(data_dir: Path) -> None:
    at = open_app("views/prompt_background.py")
    at.text_area(key="prompt.text").input("white marble").run()
    assert translate("en", "first_hour.prompt.empty_local") not in texts(at)
    at.text_area(key="prompt.text").input("   ").run()
    assert translate("en", "first_hour.prompt.empty_local") in texts(at)


def test_no_backdrops_yet_links_to_my_backdrops(data_dir: Path) -> None:
    at = open_app("views/prompt_background.py")
    assert translate("en", "first_hour.prompt.backdrops_link") in [link.label for link in at.page_link]


# ----------------------------------------------------------------- compare and dead ends
def test_compare_with_only_the_local_engine_says_what_to_do_and_links_to_settings(data_dir: Path) -> None:
    at = open_app("views/prompt_background.py")
    message = translate("en", "first_hour.compare.only_one", provider=translate("en", "provider.local"))
    assert message in texts(at)
    assert translate("en", "first_hour.compare.to_settings") in [link.label for link in at.page_link]
    assert "prompt.compare.run" not in {button.key for button in at.button}  # no button that cannot work


def test_a_member_is_told_to_ask_an_admin_instead_of_a_link(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ui.next_steps.allowed", lambda action: action != "change_settings")
    at = open_app("views/prompt_background.py")
    message = translate("en", "first_hour.compare.only_one_ask", provider=translate("en", "provider.local"))
    assert message in texts(at)
    assert translate("en", "first_hour.compare.to_settings") not in [link.label for link in at.page_link]


def test_a_portrait_result_is_drawn_narrower_so_all_of_it_fits_the_window() -> None:
    # Virtual model results are 768x1152: at the column's width one would be ~840 px tall.
    assert view_width(768, 1152) == round(MAX_VIEW_HEIGHT * 768 / 1152) == 400
    assert view_width(800, 800) == view_width(1600, 900) == "stretch"
    assert "max-width:400px" in slider_html(b"a", b"b", 50, 768, 1152)
