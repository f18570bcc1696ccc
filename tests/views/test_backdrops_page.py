"""My backdrops page: empty state, adding photos with tags, marking the surface (sliders and the
canvas), deleting with a confirmation, bad photos, Chinese; and the backdrops on the prompt and
scene pages."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import Studio
from tests.backdrop_photos import backdrop_photo
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo
from ui.backdrop_editor import canvas_key

PAGE = "views/backdrops.py"
JOB_TIMEOUT_S = 180


def add(at: AppTest, files: list[tuple[str, bytes]], *, name: str = "", tags: str = "") -> AppTest:
    """What the uploader stores on a browser upload, then the name, tags and the Add button."""
    at.session_state["backdrops.upload"] = [{"name": file, "data": data} for file, data in files]
    at.run()
    round_ = at.session_state.get("backdrops.upload.round", 0)
    if name:
        at.text_input(key=f"backdrops.add.name.{round_}").input(name)
    if tags:
        at.text_input(key=f"backdrops.add.tags.{round_}").input(tags)
    at.button(key="backdrops.add.button").click().run()
    assert not at.exception, at.exception
    return at


def previews(at: AppTest) -> list[str]:
    return [str(m.value) for m in at.markdown if str(m.value).startswith("<figure")]


def test_the_empty_page_explains_what_backdrops_are_for(data_dir: Path) -> None:
    at = open_app(PAGE)
    assert not at.exception
    assert at.title[0].value == "My backdrops"
    assert translate("en", "backdrops.empty") in [info.value for info in at.info]
    assert at.button(key="backdrops.add.button").disabled
    assert translate("en", "backdrops.add.no_file") in texts(at)


def test_add_a_photo_with_tags_then_it_is_in_the_gallery_with_its_surface(studio: Studio) -> None:
    at = add(
        open_app(PAGE), [("marble.jpg", backdrop_photo())], name="White marble slab", tags="marble, 大理石"
    )
    assert [s.value for s in at.success] == [translate("en", "backdrops.add.done", count=1)]
    [entry] = studio.backdrops.list()
    assert (entry.name, entry.tags, entry.is_line) == ("White marble slab", ("marble", "大理石"), True)
    page = texts(at)
    assert "Edit: White marble slab" in page and "640 × 480 px" in page
    assert "Surface: a line 67% from the top, from 0% to 100% across" in page
    assert "**White marble slab**" in page and "Tags: marble, 大理石" in page
    # The editor's preview and the gallery card both draw the line over the photo.
    drawn = previews(at)
    assert len(drawn) == 2 and all("top:66." in html and "border-top:4px solid" in html for html in drawn)
    assert at.button(key=f"backdrops.pick.{entry.backdrop_id}").label == "Editing"
    assert not at.info  # no empty-state text any more
    # The form is ready for the next photo: no file, empty name and tags.
    assert at.text_input(key="backdrops.add.name.1").value == ""
    assert at.text_input(key="backdrops.add.tags.1").value == ""
    assert at.button(key="backdrops.add.button").disabled


def test_several_photos_at_once_and_bad_ones_are_explained(studio: Studio) -> None:
    at = add(
        open_app(PAGE),
        [
            ("kitchen.jpg", backdrop_photo()),
            ("notes.txt", b"not a picture at all"),
            ("thumb.png", backdrop_photo((200, 150), "PNG")),
            ("shelf.png", backdrop_photo((800, 600), "PNG", tone=30)),
        ],
        tags="kitchen",
    )
    assert sorted(entry.name for entry in studio.backdrops.list()) == ["kitchen", "shelf"]
    errors = [str(error.value) for error in at.error]
    assert any(e.startswith("notes.txt: ") and "could not be read" in e for e in errors), errors
    assert any(e.startswith("thumb.png: ") and "200x150" in e and "300 pixels" in e for e in errors), errors
    assert translate("en", "backdrops.add.done", count=2) in [s.value for s in at.success]


def test_only_bad_photos_store_nothing_and_the_page_says_why(studio: Studio) -> None:
    at = add(open_app(PAGE), [("scan.pdf", b"%PDF-1.7 a document")])
    assert studio.backdrops.list() == []
    assert [str(e.value) for e in at.error] == [
        "scan.pdf: " + translate("en", "error.unsupported_format", format="PDF")
    ]


def test_mark_a_box_with_the_sliders_rename_retag_and_save(studio: Studio) -> None:
    at = add(open_app(PAGE), [("shelf.jpg", backdrop_photo())], tags="shelf")
    [entry] = studio.backdrops.list()
    prefix = f"backdrops.edit.{entry.backdrop_id}"
    at.radio(key=f"{prefix}.kind.en").set_value("box").run()
    at.slider(key=f"{prefix}.top_bottom").set_value((55.0, 80.0))
    at.slider(key=f"{prefix}.left_right").set_value((10.0, 90.0))
    at.text_input(key=f"{prefix}.name").input("Brand shelf")
    at.text_input(key=f"{prefix}.tags").input("shelf, 货架, Shelf")
    at.run()
    assert not at.exception
    editor_preview = previews(at)[0]
    assert "left:10.00%;width:80.00%;top:55.00%;height:25.00%" in editor_preview
    assert "Surface: a box from 10% to 90% across and 55% to 80% down" in texts(at)
    assert studio.backdrops.get(entry.backdrop_id) == entry  # nothing stored before Save

    at.button(key="backdrops.save").click().run()
    assert not at.exception
    saved = studio.backdrops.get(entry.backdrop_id)
    assert saved is not None
    assert (saved.name, saved.tags, saved.surface) == (
        "Brand shelf",
        ("shelf", "货架"),
        (0.1, 0.55, 0.9, 0.8),
    )
    assert translate("en", "backdrops.edit.saved", name="Brand shelf") in [s.value for s in at.success]
    assert at.text_input(key=f"{prefix}.tags").value == "shelf, 货架"  # shown as stored


def _drawn(layer: np.ndarray) -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.fromarray(layer, "RGBA").save(buffer, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}


def test_a_stroke_drawn_on_the_canvas_becomes_the_line(studio: Studio) -> None:
    at = add(open_app(PAGE), [("counter.jpg", backdrop_photo())])
    [entry] = studio.backdrops.list()
    # The canvas is 560 x 420 for a 640 x 480 photo; a stroke across the counter's edge at 60%:
    layer = np.zeros((420, 560, 4), np.uint8)
    layer[251:254, 56:504] = (0, 230, 118, 255)
    at.session_state[canvas_key(entry, 0)] = _drawn(layer)
    at.run()
    assert not at.exception
    prefix = f"backdrops.edit.{entry.backdrop_id}"
    # Shown first, applied on request (the canvas also reports while the user is still dragging).
    assert "Your drawing · Surface: a line 60% from the top, from 10% to 90% across" in texts(at)
    assert at.slider(key=f"{prefix}.line").value == 66.7
    at.button(key="backdrops.draw.use").click().run()
    assert at.slider(key=f"{prefix}.line").value == 60.0
    assert at.slider(key=f"{prefix}.left_right").value == (10.0, 90.0)
    assert translate("en", "backdrops.edit.drawn") in [s.value for s in at.success]
    at.button(key="backdrops.save").click().run()
    saved = studio.backdrops.get(entry.backdrop_id)
    assert saved is not None and saved.surface == (0.1, 0.6, 0.9, 0.6)


def test_delete_asks_first_and_cancel_keeps_it(studio: Studio) -> None:
    at = add(open_app(PAGE), [("slab.jpg", backdrop_photo())], name="Slab")
    [entry] = studio.backdrops.list()
    at.button(key="backdrops.delete").click().run()
    confirm = translate("en", "backdrops.edit.confirm", name="Slab")
    assert confirm in [w.value for w in at.warning]
    assert studio.backdrops.get(entry.backdrop_id) is not None  # asking is not deleting

    at.button(key="backdrops.delete.no").click().run()
    assert confirm not in [w.value for w in at.warning]
    assert studio.backdrops.get(entry.backdrop_id) is not None

    at.button(key="backdrops.delete").click().run()
    at.button(key="backdrops.delete.yes").click().run()
    assert not at.exception
    assert studio.backdrops.list() == []
    assert translate("en", "backdrops.edit.deleted", name="Slab") in [s.value for s in at.success]
    assert translate("en", "backdrops.empty") in [info.value for info in at.info]
    assert not Path(entry.photo_path).exists()


def test_the_page_in_chinese(studio: Studio) -> None:
    at = open_app(PAGE, lang="zh")
    assert at.title[0].value == "我的背景"
    assert translate("zh", "backdrops.empty") in [info.value for info in at.info]
    at = add(at, [("大理石.jpg", backdrop_photo())], tags="大理石")
    assert [s.value for s in at.success] == [translate("zh", "backdrops.add.done", count=1)]
    page = texts(at)
    assert "编辑：大理石" in page and "台面：距顶部 67% 的一条线，横向从 0% 到 100%" in page
    assert "标签：大理石" in page
    [entry] = studio.backdrops.list()
    labels = [str(option) for option in at.radio(key=f"backdrops.edit.{entry.backdrop_id}.kind.zh").options]
    assert labels == [translate("zh", "backdrops.edit.kind.line"), translate("zh", "backdrops.edit.kind.box")]


# ------------------------------------------------------------------ the other pages
def test_the_prompt_page_names_the_matching_backdrop_and_the_job_records_it(studio: Studio) -> None:
    at = open_app()
    assert translate("en", "backdrops.prompt.empty") in texts(at)  # how to add one
    slab = studio.backdrops.add(backdrop_photo(), name="Marble slab", tags="marble, 大理石")
    at.session_state["prompt.photo"] = {"name": "red-mug.png", "data": product_photo((320, 260))}
    at.run()
    at.text_area(key="prompt.text").input("a mug on white marble").run()
    assert not at.exception
    matched = translate("en", "backdrops.prompt.matched", tags="marble", name="Marble slab")
    assert matched in texts(at)
    at.text_area(key="prompt.text").input("oak, soaked in light").run()
    assert translate("en", "backdrops.prompt.no_match", tags="marble, 大理石") in texts(at)

    at.selectbox(key="prompt.backdrop.en").set_value("none").run()
    assert translate("en", "backdrops.prompt.off") in texts(at)
    at.selectbox(key="prompt.backdrop.en").set_value(slab.backdrop_id).run()
    assert translate("en", "backdrops.prompt.chosen", name="Marble slab") in texts(at)
    at.slider(key="prompt.count").set_value(1)
    at.button(key="prompt.generate").click().run()
    assert not at.exception
    job = studio.wait_for_job(at.session_state["prompt.job_id"], timeout_s=JOB_TIMEOUT_S)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["backdrop_id"] == slab.backdrop_id
    assert job.notes["backdrop_plate"]["name"] == "Marble slab"


def test_the_scene_page_lists_my_backdrops(studio: Studio) -> None:
    slab = studio.backdrops.add(backdrop_photo(), name="Marble slab", tags="marble")
    at = open_app("views/scene_background.py")
    assert not at.exception
    assert "Marble slab" in texts(at)
    categories = [str(option) for option in at.segmented_control(key="scene.category.en").options]
    assert "My backdrops" in categories
    at.segmented_control(key="scene.category.en").set_value("mine").run()
    assert at.button(key=f"scene.pick.{slab.scene_id}").label == "Select"
    at.button(key=f"scene.pick.{slab.scene_id}").click().run()
    assert "Scene: **Marble slab**" in texts(at)
