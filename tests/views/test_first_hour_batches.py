"""Issue 18, part B (AppTest): Batches pick scenes by name with thumbnails and count in plain words;
Start lands on the batch's progress (once), which shows thumbnails and statuses in words; History's
details read as labelled values; one contrasting mask tint for the cutout preview and the editor."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from imaging.tint import contrasting_tint
from providers.base import Operation
from studio.i18n import translate
from studio.jobs import JobStatus, JobView
from studio.service import Studio
from tests.views.conftest import RUN_TIMEOUT_S, open_app, texts
from tests.views.photos import product_photo
from tests.views.test_batch_pages import Upload, start_batch_through_the_page, wait_done


# ------------------------------------------------------------------ the batch form's defaults
def _defaults_script(local: bool) -> None:
    import streamlit as st

    from providers.base import Operation
    from studio.service import ProviderInfo
    from ui.batch_scenes import count_default, count_limits, scene_default
    from ui.services import get_studio

    studio = get_studio()
    info = next(item for item in studio.providers() if item.local)
    if not local:
        info = ProviderInfo(key="aidge", label="Aidge", operations=frozenset(), configured=True)
    limits = count_limits(studio, info.key, Operation.SCENE_BACKGROUND) if local else None
    st.session_state["picked"] = (scene_default(studio, info), count_default(limits))


def _defaults(local: bool = True, lang: str = "en") -> AppTest:
    at = AppTest.from_function(_defaults_script, args=(local,), default_timeout=RUN_TIMEOUT_S)
    at.session_state["ui.lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def test_local_scenes_are_picked_by_name_with_a_thumbnail(data_dir: Path) -> None:
    at = _defaults()
    picker = at.selectbox(key="batch.scene_pick.en")
    assert picker.label == translate("en", "first_hour_b.scene")
    assert picker.value == "" and at.session_state["picked"] == (None, None)
    assert "Oak tabletop" in picker.options and "oak-tabletop" not in picker.options
    assert picker.options[0] == translate("en", "first_hour_b.scene_none")
    images_before = len(at.image)
    picker.set_value("oak-tabletop").run()
    assert at.session_state["picked"][0] == "oak-tabletop"
    assert len(at.image) == images_before + 1, "the chosen scene shows as a thumbnail"


def test_every_scene_can_be_chosen_from_its_thumbnail(data_dir: Path) -> None:
    at = _defaults()
    browse = at.expander[0]
    assert browse.label == translate("en", "first_hour_b.scene_browse")
    assert len(browse.image) >= 20 and "Walnut desk" in [c.value for c in browse.caption]
    at.button(key="batch.scene_use.walnut-desk").click().run()
    assert at.session_state["picked"][0] == "walnut-desk"
    assert at.selectbox(key="batch.scene_pick.en").value == "walnut-desk"


def test_scene_names_follow_the_language(data_dir: Path) -> None:
    at = _defaults(lang="zh")
    picker = at.selectbox(key="batch.scene_pick.zh")
    assert picker.label == translate("zh", "first_hour_b.scene")
    assert "Oak tabletop" not in picker.options, "the catalogue is asked for Chinese names"


def test_a_vendor_scene_id_can_still_be_typed(data_dir: Path) -> None:
    at = _defaults(local=False)
    typed = at.text_input(key="batch.scene")
    assert typed.label == translate("en", "first_hour_b.scene_id", provider="Aidge")
    typed.input("  scene-42 ").run()
    assert at.session_state["picked"][0] == "scene-42"


def test_images_per_product_reads_in_plain_words(data_dir: Path) -> None:
    at = _defaults()
    count = at.selectbox(key="batch.count.en")
    assert count.label == "Images per product" and "0" not in count.label
    assert count.options[0] == "Provider's default" and count.value == 0
    # Only what the local engine makes per scene job (2 to 10): no choice the check would refuse.
    assert count.options[1:] == [str(n) for n in range(2, 11)]
    count.set_value(3).run()
    assert at.session_state["picked"][1] == 3
    zh = _defaults(lang="zh").selectbox(key="batch.count.zh")
    assert zh.options[0] == translate("zh", "first_hour_b.count_default")


# ------------------------------------------------------------------ start, progress, thumbnails
def test_start_lands_on_the_progress_with_thumbnails_and_words(studio: Studio) -> None:
    at = open_app("views/batches.py")
    files = [Upload(f"mug-{n}.png", product_photo((320, 260))) for n in (1, 2)]
    batch_id = start_batch_through_the_page(at, studio, files)
    # The Progress tab is open, the new batch chosen, and there is no Start left to click twice.
    assert at.session_state["batch.section.en"] == translate("en", "batch.tab.runs")
    assert at.session_state["batch.pick.en"] == batch_id
    assert "batch.plan" not in at.session_state
    assert not [button for button in at.button if button.key == "batch.start"]
    assert translate("en", "first_hour_b.started") in texts(at)
    assert len(studio.batches.recent(10)) == 1

    wait_done(studio, batch_id)
    at.run()
    assert not at.exception, at.exception
    page = texts(at)
    thumbs = [image for image in at.image if any(c in ("mug-1", "mug-2") for c in image.captions)]
    assert len(thumbs) == 2, "one thumbnail per finished product, captioned with its SKU"
    assert translate("en", "first_hour_b.thumbs_title", count=2) in page
    assert "Ready: 2" in page
    # The live panel names the status in words; the picker names the batch only (no stale status).
    assert any("· Finished**" in str(element.value) for element in at.markdown)
    assert "Running" not in at.selectbox(key="batch.pick.en").options[0]
    for code in ("succeeded", " done", "· done"):
        assert code not in page


def test_progress_reads_in_chinese(studio: Studio) -> None:
    at = open_app("views/batches.py")
    batch_id = start_batch_through_the_page(at, studio, [Upload("mug-1.png", product_photo((320, 260)))])
    wait_done(studio, batch_id)
    zh = open_app("views/batches.py", lang="zh")
    zh.session_state["batch.section.zh"] = translate("zh", "batch.tab.runs")
    zh.run()
    assert not zh.exception, zh.exception
    page = texts(zh)
    assert "已完成：1" in page
    assert translate("zh", "first_hour_b.thumbs_title", count=1) in page
    assert "succeeded" not in page and "done" not in page


# ------------------------------------------------------------------ History's details
def _job(**changes: object) -> JobView:
    base: dict[str, object] = {
        "job_id": "f" * 32,
        "created_at": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        "workflow": Operation.SCENE_BACKGROUND,
        "provider": "local",
        "status": JobStatus.SUCCEEDED,
        "params": {
            "camera": "flat_lay",
            "reflection": None,
            "keep_position": True,
            "relayout": False,
            "shadow": "drop",
        },
        "prompt": "",
        "negative_prompt": "",
        "scene_id": "marble-vanity",
        "count": 2,
        "size": (1024, 1024),
    }
    base.update(changes)
    return JobView(**base)  # type: ignore[arg-type]


def _rows_script(lang: str) -> None:
    import streamlit as st

    from tests.views.test_first_hour_batches import _job
    from ui.history_details import labelled_markdown, request_rows

    rows = request_rows(_job(), (), {"marble-vanity": "Marble vanity" if lang == "en" else "大理石梳妆台"})
    st.session_state["rows"] = rows
    st.markdown(labelled_markdown(rows))


def _rows(lang: str) -> list[tuple[str, str]]:
    at = AppTest.from_function(_rows_script, args=(lang,), default_timeout=RUN_TIMEOUT_S)
    at.session_state["ui.lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return list(at.session_state["rows"])


def test_job_details_are_labelled_values_without_empty_ones() -> None:
    rows = dict(_rows("en"))
    assert rows["Size"] == "1024 × 1024"
    assert rows["Scene"] == "Marble vanity"
    assert rows["Images"] == "2"
    assert rows["Camera angle"] == "Flat lay (top down)"
    assert rows["Keep position"] == "Yes"
    assert rows["Re-layout the product"] == "No" and rows["Shadow"] == "Soft drop"
    # Empty values (no description, no negative prompt, a None option) are left out, not "null".
    assert "Description" not in rows and "Avoid" not in rows and "Reflection" not in rows
    assert not any(value in ("None", "null", "") for value in rows.values())


def test_job_details_read_in_chinese() -> None:
    rows = dict(_rows("zh"))
    assert rows["尺寸"] == "1024 × 1024" and rows["场景"] == "大理石梳妆台" and rows["图片数"] == "2"
    assert rows["重新摆放商品"] == "否" and rows["拍摄角度"] == translate("zh", "camera.flat_lay")
    assert "Size" not in rows and "Scene" not in rows


def test_the_history_page_shows_labels_and_keeps_the_json_behind_an_expander(studio: Studio) -> None:
    image = studio.prepare_image(product_photo((320, 260)), "mug.png")
    from studio.service import JobRequest

    job_id = studio.submit_job(
        JobRequest(
            Operation.PROMPT_BACKGROUND, "local", image, prompt="white marble", count=2, size=(256, 256)
        )
    )
    deadline = datetime.now(UTC).timestamp() + 120
    while datetime.now(UTC).timestamp() < deadline:
        job = studio.get_job(job_id)
        if job is not None and not job.is_pending:
            break
    at = open_app("views/history.py")
    at.session_state["history.table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    markdown = "\n".join(str(element.value) for element in at.markdown)
    assert "**Size:** 256 × 256" in markdown and "**Images:** 2" in markdown
    assert "**Description:** white marble" in markdown
    raw = [
        expander for expander in at.expander if expander.label == translate("en", "first_hour_b.raw_request")
    ]
    assert len(raw) == 1 and raw[0].get("json"), "the raw request is only inside the support expander"
    assert len(at.json) == 1


# ------------------------------------------------------------------ one mask tint
def wood_photo(size: tuple[int, int] = (480, 360)) -> bytes:
    """A brown product-less wood set with a pale box on it: red is unreadable over this."""
    width, height = size
    columns = np.linspace(0.0, 10.0 * np.pi, width)
    grain = (np.sin(columns)[None, :] * 0.5 + 0.5) * np.ones((height, 1))
    dark, light = np.array([92, 56, 30], np.float32), np.array([168, 112, 62], np.float32)
    pixels = np.asarray(dark + (light - dark) * grain[..., None], np.uint8)
    pixels[100:260, 160:320] = (235, 235, 228)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _mask_script(photo: bytes, mode: str) -> None:
    import streamlit as st

    import ui.mask_editor as editor
    from ui.mask_step import mask_step
    from ui.services import get_studio

    drawn = editor.draw

    def recording(view: object, key: str) -> object:
        st.session_state["canvas.background"] = view.background_png  # type: ignore[attr-defined]
        st.session_state.setdefault("canvas.widths", []).append(view.width)  # type: ignore[attr-defined]
        return drawn(view, key)  # type: ignore[arg-type]

    studio = get_studio()
    image = studio.prepare_image(photo, "wood.png")
    st.session_state["test.mask_mode.en"] = mode
    editor.draw = recording  # type: ignore[assignment]
    try:
        mask_step(studio, "test", image)
        cached = st.session_state.get("test.cutout")
        if mode == "auto" and cached:
            st.session_state["preview.overlay"] = editor.tinted_preview(image, cached[1].cutout_png)
    finally:
        editor.draw = drawn


def _background_colours(png: bytes) -> np.ndarray:
    """The colours of the wood at the picture's left and right edges (all background)."""
    with Image.open(io.BytesIO(png)) as picture:
        pixels = np.asarray(picture.convert("RGB"))
    width = pixels.shape[1]
    return np.concatenate([pixels[:, 5 : width // 10], pixels[:, -width // 10 : -5]], axis=1)


def _tinted_towards(png: bytes, tint: tuple[int, int, int]) -> bool:
    """Is the background pulled towards `tint` (compared with the untinted wood)?"""
    wood = _background_colours(wood_photo()).reshape(-1, 3).astype(np.float32).mean(axis=0)
    shown = _background_colours(png).reshape(-1, 3).astype(np.float32).mean(axis=0)
    towards = np.asarray(tint, np.float32) - wood
    return float(np.dot(shown - wood, towards)) > 0.3 * float(np.dot(towards, towards)) * 0.45


@pytest.mark.parametrize("mode", ["auto", "edit"])
def test_the_cutout_preview_and_the_editor_share_one_contrasting_tint(data_dir: Path, mode: str) -> None:
    photo = wood_photo()
    expected = contrasting_tint(np.asarray(Image.open(io.BytesIO(photo)).convert("RGB")))
    assert expected.name == "cyan"
    at = AppTest.from_function(_mask_script, args=(photo, mode), default_timeout=RUN_TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    assert tuple(at.session_state["mask.tint"][1]) == expected.rgb
    shown = at.session_state["preview.overlay" if mode == "auto" else "canvas.background"]
    assert _tinted_towards(shown, expected.rgb)
    assert not _tinted_towards(shown, (255, 59, 48)), "not the old red"


def test_a_larger_editor_opens_with_a_wide_canvas_on_the_same_mask(data_dir: Path) -> None:
    photo = wood_photo((1200, 800))
    at = AppTest.from_function(_mask_script, args=(photo, "edit"), default_timeout=RUN_TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["canvas.widths"][-1] == 440, "the page's column editor"
    at.session_state["canvas.widths"] = []
    at.button(key="test.editor.large").click().run()
    assert not at.exception, at.exception
    widths = at.session_state["canvas.widths"]
    assert 880 in widths and max(widths) == 880, widths
    done = at.button(key="test.large.editor.done")
    assert done.label == translate("en", "first_hour_b.large_done")
