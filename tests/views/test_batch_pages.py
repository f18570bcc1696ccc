"""The Batches and Review pages (AppTest): upload, check, start, watch, pause/resume, review with
approve/reject/favourite, and export a ZIP with the approved images."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from studio.i18n import translate
from studio.jobs import BatchStatus
from studio.service import Studio
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo


class Upload:
    """What st.file_uploader hands the page: a name and getvalue()."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self._data = data

    def getvalue(self) -> bytes:
        return self._data


def wait_done(studio: Studio, batch_id: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch = studio.batches.get(batch_id)
        if batch is not None and batch.status is BatchStatus.DONE:
            return
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not finish")


def start_batch_through_the_page(at: AppTest, studio: Studio, files: list[Upload]) -> str:
    from ui import batch_inputs

    # AppTest cannot drive st.file_uploader; the page reads the widget's value, so patch what it plans from.
    at.session_state["batch.prompt"] = "white marble"
    at.run()
    plan = batch_inputs.plan_from_uploads(studio, "images", files, _defaults(studio))
    at.session_state["batch.plan"] = plan
    at.run()
    assert not at.exception, at.exception
    at.button(key="batch.start").click().run()
    assert not at.exception, at.exception
    return str(at.session_state["batch.selected"])


def _defaults(studio: Studio) -> Any:
    from providers.base import Operation
    from studio.manifest import BatchDefaults

    return BatchDefaults(
        workflow=Operation.PROMPT_BACKGROUND, provider="local", prompt="white marble", count=2
    )


def test_the_plan_shows_problems_and_the_start_button_waits_for_a_clean_plan(studio: Studio) -> None:
    from ui import batch_inputs

    at = open_app("views/batches.py")
    assert not at.exception
    files = [Upload("mug-a.png", product_photo((320, 260))), Upload("broken.png", b"not a picture")]
    at.session_state["batch.plan"] = batch_inputs.plan_from_uploads(
        studio, "images", files, _defaults(studio)
    )
    at.run()
    assert not at.exception
    page = texts(at)
    assert translate("en", "batch.plan_has_problems") in page
    assert at.button(key="batch.start").disabled
    problems = at.dataframe[0].value
    assert list(problems.iloc[:, 1]) == ["broken"]


def test_start_watch_review_and_export_a_batch(studio: Studio) -> None:
    at = open_app("views/batches.py")
    files = [Upload(f"mug-{n}.png", product_photo((640, 520))) for n in (1, 2)]
    batch_id = start_batch_through_the_page(at, studio, files)
    assert translate("en", "first_hour_b.started") in texts(at)
    wait_done(studio, batch_id)
    at.run()
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics[translate("en", "batch.metric.succeeded")] == "2"
    assert metrics[translate("en", "batch.metric.failed")] == "0"

    review = open_app("views/review.py")
    assert not review.exception, review.exception
    review.session_state["review.batch.en"] = batch_id
    review.run()
    scoreboard = review.dataframe[0].value
    assert int(scoreboard.iloc[0, 1]) == 4  # 2 products x 2 variants
    # Approve the first, reject the second, favourite the third, in the one-by-one reviewer.
    review.button(key=f"review.{batch_id}.unreviewed.approve").click().run()
    review.button(key=f"review.{batch_id}.unreviewed.reject").click().run()
    review.button(key=f"review.{batch_id}.unreviewed.fav").click().run()
    assert not review.exception, review.exception
    approved = studio.batches.approved(batch_id)
    assert len(approved) == 1
    reviewed = [output for job in studio.batches.jobs(batch_id) for output in job.outputs]
    assert sorted(str(o.review) for o in reviewed) == ["None", "None", "approved", "rejected"]
    assert sum(o.favourite for o in reviewed) == 1

    review.selectbox(key="review.export.preset.en").set_value("taobao").run()
    review.button(key="review.export.build").click().run()
    assert not review.exception, review.exception
    data, files_count, failures = review.session_state["review.export.zip"]
    assert failures == [] and files_count == 1, failures
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert len(names) == 2 and "export.csv" in names
        image_name = next(name for name in names if name != "export.csv")
        assert image_name.startswith(approved[0].job.sku or "") and image_name.endswith(".jpg")
        from PIL import Image

        assert Image.open(io.BytesIO(archive.read(image_name))).size == (800, 800)


def test_pause_and_resume_from_the_progress_panel(studio: Studio) -> None:
    at = open_app("views/batches.py")
    files = [Upload(f"mug-{n}.png", product_photo((320, 260))) for n in range(1, 7)]
    batch_id = start_batch_through_the_page(at, studio, files)
    at.button(key=f"batch.pause.{batch_id}").click().run()  # six cutouts take longer than this click
    assert not at.exception, at.exception
    batch = studio.batches.get(batch_id)
    assert batch is not None and batch.status is BatchStatus.PAUSED and batch.pause_reason == "user"
    assert translate("en", "batch.paused_user") in texts(at)
    assert at.button(key=f"batch.pause.{batch_id}").disabled
    at.button(key=f"batch.resume.{batch_id}").click().run()
    assert not at.exception, at.exception
    wait_done(studio, batch_id)
    assert studio.batches.progress(batch_id).by_status == {"succeeded": 6}


def test_review_without_batches_points_to_the_batches_page(data_dir: Path) -> None:
    at = open_app("views/review.py")
    assert not at.exception
    assert translate("en", "review.no_batches") in texts(at)
