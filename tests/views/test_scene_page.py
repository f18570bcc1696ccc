"""Scene background page: the catalogue, category filter, selection, and a 2-variant job."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import Studio
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo

JOB_TIMEOUT_S = 180


def _card_titles(at: AppTest) -> list[str]:
    return [m.value.strip("*") for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]


def test_catalogue_shows_every_scene_and_filters_by_category(studio: Studio) -> None:
    at = open_app("views/scene_background.py")
    assert not at.exception
    scenes = studio.local_scenes("en")
    assert len(scenes) >= 12
    assert _card_titles(at) == [scene.name for scene in scenes]
    assert len(at.image) >= len(scenes)  # one thumbnail per card
    assert at.button(key="scene.generate").disabled

    category = scenes[0].category
    at.segmented_control(key="scene.category.en").set_value(category).run()
    assert _card_titles(at) == [scene.name for scene in scenes if scene.category == category]


def test_scene_names_follow_the_language(studio: Studio) -> None:
    at = open_app("views/scene_background.py", lang="zh")
    assert not at.exception
    assert _card_titles(at) == [scene.name for scene in studio.local_scenes("zh")]
    assert translate("zh", "scene.category.all") in [
        str(o) for o in at.segmented_control(key="scene.category.zh").options
    ]


def test_select_a_scene_and_generate_two_variants(studio: Studio, data_dir: Path) -> None:
    at = open_app("views/scene_background.py")
    at.session_state["scene.photo"] = {"name": "mug.png", "data": product_photo((320, 260))}
    at.run()
    assert translate("en", "reason.no_scene") in texts(at)
    chosen = studio.local_scenes("en")[1]
    at.button(key=f"scene.pick.{chosen.scene_id}").click().run()
    # The grid folds into the chosen scene's line, so Generate comes into view (issue 18).
    assert not [button for button in at.button if button.key and button.key.startswith("scene.pick.")]
    assert at.button(key="scene.change").label == "Change scene"
    assert f"Scene: **{chosen.name}**" in texts(at)

    at.slider(key="scene.count").set_value(2)
    at.toggle(key="scene.relayout").set_value(False)
    at.text_input(key="scene.title").input("夏季新品 连衣裙")
    at.run()
    at.toggle(key="scene.draw_title").set_value(True).run()
    assert not at.button(key="scene.generate").disabled
    at.button(key="scene.generate").click().run()
    assert not at.exception

    job = studio.wait_for_job(at.session_state["scene.job_id"], timeout_s=JOB_TIMEOUT_S)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.scene_id == chosen.scene_id and job.count == 2 and job.size == (800, 800)
    assert job.params["relayout"] is False and job.params["draw_title"] is True
    assert job.product_title == "夏季新品 连衣裙"

    at.run()
    variants = [c for image in at.image for c in image.captions if c.startswith("Variant")]
    assert variants == ["Variant 1 · 800 × 800", "Variant 2 · 800 × 800"]
