"""Prompt background page: upload, cutout preview, prompt reading, generate, gallery, bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

from studio.i18n import translate
from studio.jobs import JobFilter, JobStatus
from studio.service import Studio
from tests.views.conftest import open_app, texts
from tests.views.photos import mask_png, product_photo
from ui.job_views import outputs_zip

JOB_TIMEOUT_S = 180


def _variant_captions(at: AppTest) -> list[str]:
    return [caption for image in at.image for caption in image.captions if caption.startswith("Variant")]


def test_generate_button_waits_for_a_photo(data_dir: Path) -> None:
    at = open_app()
    generate = at.button(key="prompt.generate")
    assert generate.disabled
    assert translate("en", "reason.no_photo") in texts(at)


def test_upload_describe_generate_and_see_the_gallery(studio: Studio) -> None:
    at = open_app()
    # The uploader stores the file here; seeding it is what a browser upload does.
    at.session_state["prompt.photo"] = {"name": "red-mug.png", "data": product_photo((320, 260))}
    at.run()
    assert not at.exception
    page_text = texts(at)
    assert "red-mug.png · 320 × 260 px · PNG" in page_text
    assert "Cutout by: AI model u2netp" in page_text

    at.text_area(key="prompt.text").input("white marble, soft light")
    at.selectbox(key="prompt.size.en").set_value("800x800")
    at.radio(key="prompt.shadow.en").set_value("drop")
    at.run()
    at.slider(key="prompt.shadow.opacity").set_value(60)
    at.slider(key="prompt.count").set_value(2)
    at.run()
    reading = studio.read_prompt("white marble, soft light")
    assert "marble" in reading.used and reading.unknown == ()
    assert f"Words used: {', '.join(reading.used)} · ignored: none" in texts(at)
    assert not at.button(key="prompt.generate").disabled

    at.button(key="prompt.generate").click().run()
    assert not at.exception
    job_id = at.session_state["prompt.job_id"]
    job = studio.wait_for_job(job_id, timeout_s=JOB_TIMEOUT_S)
    assert job.status == JobStatus.SUCCEEDED, job.error

    at.run()
    assert _variant_captions(at) == ["Variant 1 · 800 × 800", "Variant 2 · 800 × 800"]
    labels = [button.label for button in at.download_button]
    assert labels.count("Download PNG") == 2 and "Download all (ZIP)" in labels

    # What the user chose is what the job was asked for, and the job is in the store for History.
    assert job.prompt == "white marble, soft light"
    assert job.size == (800, 800)
    assert job.params["shadow"] == "drop" and job.params["shadow_opacity"] == 0.6
    assert job.params["layout"] == "center" and job.params["fill"] == 0.8
    assert studio.list_jobs(JobFilter()).total == 1

    # One way to compare: the result viewer's before/after, no second switch in the gallery below.
    assert not [toggle for toggle in at.toggle if toggle.key == f"prompt.compare.{job_id}"]
    at.segmented_control(key=f"prompt.viewer.{job_id}.mode.en").set_value("side_by_side").run()
    captions = [caption for image in at.image for caption in image.captions]
    assert captions.count("Before") == 1 and captions.count("After") == 1

    # "Download all" holds every variant as a real PNG of the chosen size.
    with zipfile.ZipFile(io.BytesIO(outputs_zip(job))) as archive:
        names = archive.namelist()
        assert len(names) == 2 and all(name.endswith(".png") for name in names)
        with Image.open(io.BytesIO(archive.read(names[0]))) as first:
            assert first.size == (800, 800)


def test_a_corrupt_upload_shows_a_translated_error_not_a_traceback(data_dir: Path) -> None:
    at = open_app(lang="zh")
    at.file_uploader(key="prompt.photo.widget").set_value(("broken.png", b"\x89PNG not really", "image/png"))
    at.run()
    assert not at.exception
    assert [error.value for error in at.error] == [translate("zh", "error.corrupt")]
    assert at.button(key="prompt.generate").disabled
    assert translate("zh", "reason.no_photo") in texts(at)


def test_a_mask_of_the_wrong_size_is_explained_with_both_sizes(data_dir: Path) -> None:
    at = open_app(lang="zh")
    at.session_state["prompt.photo"] = {"name": "mug.png", "data": product_photo((320, 260))}
    at.run()
    at.radio(key="prompt.mask_mode.zh").set_value("upload").run()
    assert at.button(key="prompt.generate").disabled
    at.session_state["prompt.mask"] = {"name": "mask.png", "data": mask_png((100, 100))}
    at.run()
    assert not at.exception
    expected = translate("zh", "error.mask_size_mismatch", mask_w=100, mask_h=100, image_w=320, image_h=260)
    assert [error.value for error in at.error] == [expected]
    assert at.button(key="prompt.generate").disabled


def test_a_hand_made_mask_is_used_for_the_job(studio: Studio) -> None:
    at = open_app()
    at.session_state["prompt.photo"] = {"name": "mug.png", "data": product_photo((320, 260))}
    at.run()
    at.radio(key="prompt.mask_mode.en").set_value("upload").run()
    at.session_state["prompt.mask"] = {"name": "mask.png", "data": mask_png((320, 260))}
    at.slider(key="prompt.count").set_value(1)
    at.run()
    assert not at.error
    at.button(key="prompt.generate").click().run()
    job = studio.wait_for_job(at.session_state["prompt.job_id"], timeout_s=JOB_TIMEOUT_S)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.mask_path is not None and job.notes.get("cutout_method") == "mask"
    at.run()
    assert _variant_captions(at) == ["Variant 1 · 320 × 260"]


def test_the_prompt_reading_is_shown_in_the_chosen_language(data_dir: Path) -> None:
    at = open_app(lang="zh")
    at.session_state["prompt.photo"] = {"name": "mug.png", "data": product_photo((200, 160))}
    at.run()
    at.text_area(key="prompt.text").input("白色大理石 柔光").run()
    assert not at.exception
    page_text = texts(at)
    assert "引擎将生成：纯白" in page_text or "引擎将生成：大理石背景" in page_text, page_text
    assert "marble backdrop" not in page_text
