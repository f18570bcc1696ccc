"""The Aidge pages (scene catalogue, virtual model, settings card) against the loopback emulator.

Aidge is configured through AIDGE_* environment variables, read when the Studio
is built; `aidge_studio` sets them (pointing at a fresh emulator) before the
app's cached Studio exists, so every page in the test sees Aidge configured.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from providers.base import Operation
from studio.i18n import translate
from studio.jobs import JobStatus, JobView
from studio.service import Studio
from tests.emulators.aidge import (
    API_MODEL_SUBMIT,
    API_SCENE_CATALOGUE,
    API_SCENE_SUBMIT,
    CATALOGUE,
    AidgeEmulator,
    RecordedRequest,
)
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo
from ui.plain import shown as rendered
from ui.services import get_studio

KEY, SECRET = "studio-page-key", "studio-page-secret-0123456789"
JOB_TIMEOUT_S = 30
PHOTO = (800, 640)  # Aidge takes 512-3000 px per side


@pytest.fixture
def emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(KEY, SECRET) as running:
        yield running


def _configure(monkeypatch: pytest.MonkeyPatch, emulator: AidgeEmulator, secret: str = SECRET) -> None:
    monkeypatch.setenv("AIDGE_ACCESS_KEY_NAME", KEY)
    monkeypatch.setenv("AIDGE_ACCESS_KEY_SECRET", secret)
    monkeypatch.setenv("AIDGE_API_BASE", emulator.base_url)
    # Emulators serve result links on 127.0.0.1, which studio refuses by default.
    monkeypatch.setenv("STUDIO_ALLOW_PRIVATE_LINKS", "true")
    monkeypatch.setenv("AIDGE_POLL_INTERVAL_S", "0.1")
    monkeypatch.setenv("AIDGE_TRIAL", "false")
    monkeypatch.setenv("AIDGE_PRICE_SCENE", "0.12 USD")


@pytest.fixture
def aidge_studio(data_dir: Path, emulator: AidgeEmulator, monkeypatch: pytest.MonkeyPatch) -> Studio:
    """The app's own cached Studio, built after the AIDGE_* variables point at the emulator."""
    _configure(monkeypatch, emulator)
    return get_studio()


# ------------------------------------------------------------------ helpers
def _scene_page(lang: str = "en") -> AppTest:
    at = open_app("views/scene_background.py", lang=lang)
    at.selectbox(key=f"scene.provider.{lang}").set_value("aidge").run()
    assert not at.exception
    return at


def _picks(at: AppTest) -> list[str]:
    """The scene ids of the cards on the page, in order."""
    prefix = "scene.pick."
    return [b.key[len(prefix) :] for b in at.button if b.key and b.key.startswith(prefix)]


def _calls(emulator: AidgeEmulator, api: str) -> list[RecordedRequest]:
    return [request for request in emulator.requests if request.api == api]


def _fields(request: RecordedRequest) -> dict[str, Any]:
    """The one object of a submit's `requestParams` (sent as a JSON string, like the docs show)."""
    assert request.body is not None
    params = request.body["requestParams"]
    items = json.loads(params) if isinstance(params, str) else params
    assert isinstance(items, list) and len(items) == 1
    return dict(items[0])


def _wait_finished(studio: Studio, job_id: str) -> JobView:
    """Poll the store until the worker has finished the job (it polls the emulator every 0.1 s)."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = studio.get_job(job_id)
        if job is not None and not job.is_pending:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still pending after {JOB_TIMEOUT_S} s")


def _seed_photo(at: AppTest, state_key: str, size: tuple[int, int] = PHOTO) -> None:
    at.session_state[state_key] = {"name": "mug.png", "data": product_photo(size)}
    at.run()
    assert not at.exception


# ------------------------------------------------------------------ 1. scene page, happy path
def test_scene_catalogue_filters_recommends_and_generates(
    aidge_studio: Studio, emulator: AidgeEmulator
) -> None:
    at = _scene_page()
    # The vendor catalogue replaces the local one: all 24 emulator scenes, with thumbnails.
    assert _picks(at) == [scene.model_num for scene in CATALOGUE]
    assert translate("en", "scene.count", shown=24, total=24) in texts(at)
    covers = [image for image in at.image if "/covers/" in str(image.proto.imgs[0].url)]
    assert len(covers) == 24
    # The local engine's own category chips are not shown for a vendor catalogue.
    assert not at.segmented_control
    labels = [box.label for box in at.selectbox]
    assert translate("en", "scene.filter.categoryType") in labels
    assert translate("en", "scene.filter.sceneType") in labels

    # Category filter: the vendor is asked again, with categoryType.
    at.selectbox(key="scene.vendor.aidge.categoryType.en").set_value("8").run()
    beauty = [scene.model_num for scene in CATALOGUE if 8 in scene.categories]
    assert _picks(at) == beauty
    assert _calls(emulator, API_SCENE_CATALOGUE)[-1].body == {"categoryType": "8"}
    at.selectbox(key="scene.vendor.aidge.categoryType.en").set_value("").run()
    assert len(_picks(at)) == 24

    # Name search narrows what is shown without asking the vendor again.
    asked = len(_calls(emulator, API_SCENE_CATALOGUE))
    at.text_input(key="scene.vendor.search").input("beach").run()
    assert _picks(at) == ["mod011"]
    assert translate("en", "scene.count", shown=1, total=24) in texts(at)
    assert len(_calls(emulator, API_SCENE_CATALOGUE)) == asked
    at.text_input(key="scene.vendor.search").input("").run()
    assert len(_picks(at)) == 24

    # "Recommend for this product" needs a title, then asks with productTitle.
    assert at.button(key="scene.vendor.recommend").disabled
    at.text_input(key="scene.title").input("Red lipstick").run()
    at.button(key="scene.vendor.recommend").click().run()
    assert not at.exception
    assert _calls(emulator, API_SCENE_CATALOGUE)[-1].body == {"productTitle": "Red lipstick"}
    assert translate("en", "scene.recommended_for", title="Red lipstick") in texts(at)
    assert _picks(at)[0] in {"mod001", "mod023"}  # the lipstick scenes lead
    assert at.button(key="scene.vendor.recommend_clear").label == translate("en", "scene.recommend_clear")

    # Pick a scene, 750x1000, 3 images, generate.
    _seed_photo(at, "scene.photo")
    chosen = "mod023"
    at.button(key=f"scene.pick.{chosen}").click().run()
    # The catalogue (filters and grid) folds into the chosen scene's line (issue 18) and stays folded.
    at.run()
    assert _picks(at) == []
    assert at.button(key="scene.change").label == translate("en", "first_hour.scene.change")
    assert "scene.vendor.recommend_clear" not in {button.key for button in at.button}
    assert translate(
        "en", "scene.chosen", name=next(s.name for s in CATALOGUE if s.model_num == chosen)
    ) in texts(at)
    size_box = at.selectbox(key="scene.size.en")
    assert len(size_box.options) == 2  # Aidge's two sizes only, no "keep"/"custom"
    assert size_box.options[1].startswith(translate("en", "size.preset", width=750, height=1000))
    size_box.set_value("750x1000")
    at.slider(key="scene.count").set_value(3)
    at.run()
    assert not at.button(key="scene.generate").disabled
    at.button(key="scene.generate").click().run()
    assert not at.exception

    job = _wait_finished(aidge_studio, at.session_state["scene.job_id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.provider == "aidge" and job.scene_id == chosen
    assert [(o.width, o.height) for o in job.outputs] == [(750, 1000)] * 3

    submits = _calls(emulator, API_SCENE_SUBMIT)
    assert len(submits) == 1
    fields = _fields(submits[0])
    assert (fields["imageNum"], fields["width"], fields["height"]) == ("3", "750", "1000")
    assert fields["modelNum"] == chosen
    assert fields["productTitle"] == "Red lipstick"
    assert fields["needLayout"] == "false"

    at.run()
    assert not at.exception
    variants = [c for image in at.image for c in image.captions if c.startswith("Variant")]
    assert variants == [f"Variant {n} · 750 × 1000" for n in (1, 2, 3)]


# ------------------------------------------------------------------ 2. catalogue failure
def test_catalogue_failure_shows_the_reason_and_a_retry(
    aidge_studio: Studio, emulator: AidgeEmulator
) -> None:
    emulator.gateway_error_next("server_error", times=1)
    at = _scene_page()
    assert not at.exception
    errors = [error.value for error in at.error]
    assert len(errors) == 1 and errors[0].startswith(
        translate("en", "scene.catalogue_failed", provider="Aidge", reason="")
    )
    assert "503" in errors[0]
    assert _picks(at) == []
    retry = at.button(key="scene.vendor.retry")
    assert retry.label == translate("en", "scene.catalogue_retry")

    retry.click().run()
    assert not at.exception
    assert not at.error
    assert len(_picks(at)) == 24


# ------------------------------------------------------------------ 3. photo size limits
def test_too_small_photo_is_explained_and_blocks_generate(aidge_studio: Studio) -> None:
    at = _scene_page()
    _seed_photo(at, "scene.photo", (400, 400))
    at.button(key="scene.pick.mod005").click().run()
    warning = translate(
        "en", "error.provider_too_small", width=400, height=400, provider="Aidge", min_side=513, max_side=2999
    )
    assert warning in [w.value for w in at.warning]
    assert at.button(key="scene.generate").disabled
    assert translate("en", "reason.photo_does_not_fit") in texts(at)
    assert "scene.fit.button" not in [b.key for b in at.button]


def test_too_large_photo_is_downscaled_on_request(aidge_studio: Studio, emulator: AidgeEmulator) -> None:
    at = _scene_page()
    _seed_photo(at, "scene.photo", (3200, 2400))
    at.button(key="scene.pick.mod005").click().run()
    warning = translate(
        "en",
        "error.provider_too_large",
        width=3200,
        height=2400,
        provider="Aidge",
        min_side=513,
        max_side=2999,
    )
    assert warning in [w.value for w in at.warning]
    assert at.button(key="scene.generate").disabled
    fix = at.button(key="scene.fit.button")
    assert fix.label == translate("en", "fit.fix", provider="Aidge", size="2999×2249")

    fix.click().run()
    assert not at.exception
    done = translate("en", "fit.done", provider="Aidge", old="3200×2400", new="2999×2249")
    assert done in [info.value for info in at.info]
    assert not at.warning
    assert not at.button(key="scene.generate").disabled

    at.button(key="scene.generate").click().run()
    job = _wait_finished(aidge_studio, at.session_state["scene.job_id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    (submit,) = _calls(emulator, API_SCENE_SUBMIT)
    assert emulator.tasks[next(iter(emulator.tasks))].params["inputSize"] == (2999, 2249)
    assert submit.outcome == "ok"


def test_photo_over_the_byte_limit_is_re_encoded_on_request_and_sent_as_fixed(
    aidge_studio: Studio, emulator: AidgeEmulator
) -> None:
    # A 1700x1200 photo whose PNG is over Aidge's 4 MB: the page offers the JPEG fix, and the job
    # stores and sends exactly that JPEG (nothing is re-encoded behind the user's back).
    pixels = np.random.default_rng(3).integers(0, 256, (1200, 1700, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    prepared = aidge_studio.prepare_image(buffer.getvalue(), "big.png")
    fit = aidge_studio.check_image_fit(prepared, "aidge", Operation.SCENE_BACKGROUND)
    assert fit.fixed_image is not None and fit.jpeg_quality is not None and fit.downscale_to is None

    at = _scene_page()
    at.session_state["scene.photo"] = {"name": "big.png", "data": buffer.getvalue()}
    at.run()
    at.button(key="scene.pick.mod005").click().run()
    assert not at.exception
    mb = f"{len(prepared.png) / 1_048_576:.1f}".removesuffix(".0")
    warning = translate("en", "error.image_too_many_bytes", provider="Aidge", mb=mb, max_mb="4")
    assert warning in [w.value for w in at.warning]
    assert at.button(key="scene.generate").disabled
    how = translate("en", "fit.as_jpeg", quality=fit.jpeg_quality)
    fix = at.button(key="scene.fit.button")
    assert fix.label == translate("en", "fit.fix_encode", provider="Aidge", size="1700×1200", how=how)

    fix.click().run()
    assert not at.exception and not at.warning
    sent_mb = f"{len(fit.fixed_image.png) / 1_048_576:.1f}"
    done = translate(
        "en", "fit.done_encode", provider="Aidge", old="1700×1200", new="1700×1200", how=how, mb=sent_mb
    )
    assert done in [info.value for info in at.info]

    at.button(key="scene.generate").click().run()
    job = _wait_finished(aidge_studio, at.session_state["scene.job_id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    (submit,) = _calls(emulator, API_SCENE_SUBMIT)
    sent = base64.b64decode(_fields(submit)["imgBase64"])
    assert sent == fit.fixed_image.png and sent[:2] == b"\xff\xd8" and len(sent) <= 4 * 1024 * 1024
    assert job.input_path is not None and Path(job.input_path).read_bytes() == sent


# ------------------------------------------------------------------ 4. virtual model
def test_virtual_model_options_and_a_job(aidge_studio: Studio, emulator: AidgeEmulator) -> None:
    at = open_app("views/virtual_model.py")
    assert not at.exception
    page = texts(at)
    assert translate("en", "model.keeps_clothing") in page
    assert translate("en", "model.provider", provider="Aidge (Alibaba International AI)") in page
    assert not at.info  # no "configure a provider" note
    # The documented defaults.
    assert at.radio(key="model.model.en").value == "universal_model_1"
    assert list(at.radio(key="model.model.en").options) == [
        translate("en", f"opt.model.universal_model_{n}") for n in (1, 2, 3, 4)
    ]
    assert at.radio(key="model.gender.en").value == "auto"
    assert at.radio(key="model.age.en").value == "auto"
    background = at.radio(key="model.background.en")
    assert background.value == "keep"
    assert list(background.options) == [
        translate("en", f"opt.bgStyle.{v}") for v in ("keep", "studio", "room", "European_street", "beach")
    ]
    count = at.slider(key="model.count")
    assert (count.value, count.min, count.max) == (2, 1, 4)
    dimension = at.number_input(key="model.dimension")
    assert (dimension.value, dimension.min, dimension.max) == (768, 512, 2048)
    assert at.button(key="model.generate").disabled

    _seed_photo(at, "model.photo", (640, 960))
    at.radio(key="model.model.en").set_value("universal_model_2")
    at.radio(key="model.background.en").set_value("beach")
    at.slider(key="model.count").set_value(2)
    at.run()
    assert not at.button(key="model.generate").disabled
    at.button(key="model.generate").click().run()
    assert not at.exception

    job = _wait_finished(aidge_studio, at.session_state["model.job_id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert [(o.width, o.height) for o in job.outputs] == [(768, 1152)] * 2
    (submit,) = _calls(emulator, API_MODEL_SUBMIT)
    fields = _fields(submit)
    assert fields["model"] == "universal_model_2"
    assert fields["maskKeepbg"] == "false" and fields["bgStyle"] == "beach"
    assert fields["count"] == "2" and fields["dimension"] == "768"
    assert fields["imageStyle"] == "realPhoto"
    assert "gender" not in fields and "age" not in fields  # "as in the photo" is left to Aidge

    at.run()
    variants = [c for image in at.image for c in image.captions if c.startswith("Variant")]
    assert variants == ["Variant 1 · 768 × 1152", "Variant 2 · 768 × 1152"]


# ------------------------------------------------------------------ 5. a refused job
def test_a_job_refused_by_aidge_shows_why_and_is_failed_in_history(
    aidge_studio: Studio, emulator: AidgeEmulator
) -> None:
    emulator.fail_next(API_SCENE_SUBMIT, 1000)
    at = _scene_page()
    _seed_photo(at, "scene.photo")
    at.button(key="scene.pick.mod005").click().run()
    at.button(key="scene.generate").click().run()
    job = _wait_finished(aidge_studio, at.session_state["scene.job_id"])
    assert job.status == JobStatus.FAILED
    assert job.error is not None and "refused" in job.error.message

    at.run()
    assert not at.exception
    errors = [error.value for error in at.error]
    assert len(errors) == 1
    assert "refused the image" in errors[0] and "Try another photo" in errors[0]
    assert not [c for image in at.image for c in image.captions if c.startswith("Variant")]

    at.switch_page("views/history.py").run()
    assert not at.exception
    table = at.dataframe(key="history.table").value
    assert len(table) == 1
    row = table.iloc[0]
    assert row["job_id"] == job.job_id
    assert row["status"] == translate("en", "status.failed")
    assert "refused the image" in str(row["error"])


# ------------------------------------------------------------------ 6. settings card
def _everything(at: AppTest) -> str:
    """All text the page shows, including code blocks, tables and widget labels."""
    parts = [texts(at)]
    parts += [str(block.value) for block in at.code]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [str(b.label) for b in at.button]
    return "\n".join(parts)


def test_settings_card_tests_the_connection(aidge_studio: Studio, emulator: AidgeEmulator) -> None:
    at = open_app("views/settings.py")
    assert not at.exception
    page = texts(at)
    assert translate("en", "settings.configured_endpoint", endpoint=emulator.base_url) in page
    row = at.dataframe[0].value.set_index("key").loc["aidge"]
    assert bool(row["configured"]) and row["missing"] == ""
    assert "0.12" in page  # the configured scene price is shown
    button = at.button(key="settings.test.button.aidge")
    assert button.label == translate("en", "settings.test_connection") and not button.disabled
    assert not emulator.requests

    button.click().run()
    assert not at.exception
    (success,) = at.success
    message = rendered(success.value)  # the vendor's words are escaped for markdown (ui.plain)
    assert message.startswith("Connected (") and emulator.base_url in message
    (call,) = emulator.requests
    assert call.api == API_SCENE_CATALOGUE and call.signature_ok
    assert SECRET not in _everything(at)


def test_settings_card_with_a_wrong_secret(
    data_dir: Path, emulator: AidgeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-secret-987654"
    _configure(monkeypatch, emulator, secret=wrong)
    get_studio()
    at = open_app("views/settings.py")
    at.button(key="settings.test.button.aidge").click().run()
    assert not at.exception
    assert not at.success
    (failure,) = at.error
    message = rendered(failure.value)
    assert message.startswith("Connection failed (")
    assert "AIDGE_ACCESS_KEY_NAME" in message and "AIDGE_ACCESS_KEY_SECRET" in message
    assert "Settings page" in message
    assert not emulator.requests[-1].signature_ok
    shown = _everything(at)
    assert wrong not in shown and SECRET not in shown


# ------------------------------------------------------------------ 7. Chinese
def test_scene_page_with_aidge_in_chinese(aidge_studio: Studio) -> None:
    at = _scene_page("zh")
    assert not at.exception
    labels = [box.label for box in at.selectbox]
    assert translate("zh", "scene.filter.categoryType") in labels
    assert translate("zh", "scene.filter.sceneType") in labels
    category = at.selectbox(key="scene.vendor.aidge.categoryType.zh")
    assert translate("zh", "scene.category.all") in category.options
    assert translate("zh", "scene.filter.categoryType.8") in category.options
    assert at.text_input(key="scene.vendor.search").label == translate("zh", "scene.search")
    assert at.button(key="scene.vendor.recommend").label == translate("zh", "scene.recommend")
    assert translate("zh", "scene.count", shown=24, total=24) in texts(at)
    category.set_value("8").run()
    assert not at.exception
    assert _picks(at) == [scene.model_num for scene in CATALOGUE if 8 in scene.categories]
