"""The Studio facade: input checks before anything is stored, submit -> run -> view, exports, status."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from providers.base import Money, Operation, ProviderContext
from providers.local import LocalEngine
from studio.jobs import JobFilter, JobStatus
from studio.service import JobRequest, PreparedImage, Studio, StudioInputError
from studio.settings import Secret, load_settings
from tests.studio.fakes import AsyncFake, CredentialFake, FakeClock, SyncFake, png_bytes


def photo(width: int = 320, height: int = 240, fmt: str = "JPEG") -> bytes:
    """A blue box on a light background, like a product shot."""
    image = np.full((height, width, 3), 235, np.uint8)
    image[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (30, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, fmt)
    return buffer.getvalue()


def make_studio(tmp_path: Path, env: dict[str, str] | None = None, **creds: str) -> Studio:
    settings = load_settings(
        {"STUDIO_DATA_DIR": str(tmp_path / "data"), **(env or {})},
        tmp_path / "none.toml",
        {"needs_key": ("api_key",)},
    )
    if creds:
        settings = dataclasses.replace(
            settings, credentials={"needs_key": {k: Secret(v) for k, v in creds.items()}}
        )
    adapters = {
        "fake_sync": SyncFake(),
        "fake_async": AsyncFake(),
        "needs_key": CredentialFake(ProviderContext(credentials=settings.credentials_for("needs_key"))),
        "local": LocalEngine(ProviderContext()),
    }
    return Studio(settings, adapters=adapters, clock=FakeClock(), worker_threads=0)


@pytest.fixture()
def studio(tmp_path: Path) -> Iterator[Studio]:
    studio = make_studio(tmp_path)
    yield studio
    studio.close()


def request(studio: Studio, **fields: object) -> JobRequest:
    values: dict[str, object] = {
        "workflow": Operation.PROMPT_BACKGROUND,
        "provider": "fake_sync",
        "image": studio.prepare_image(photo(), "shot.jpg"),
    }
    values.update(fields)
    return JobRequest(**values)  # type: ignore[arg-type]


def nothing_stored(studio: Studio) -> bool:
    return studio.list_jobs(JobFilter()).total == 0 and not (studio.settings.data_dir / "jobs").exists()


# ------------------------------------------------------------------ inputs
def test_prepare_image_normalises_to_png_and_keeps_alpha(studio: Studio) -> None:
    prepared = studio.prepare_image(photo(fmt="JPEG"), "shot.jpg")
    assert (prepared.width, prepared.height, prepared.original_format, prepared.has_alpha) == (
        320,
        240,
        "JPEG",
        False,
    )
    assert Image.open(io.BytesIO(prepared.png)).format == "PNG"
    rgba = io.BytesIO()
    canvas = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    canvas.paste((200, 0, 0, 255), (20, 20, 80, 80))
    canvas.save(rgba, "PNG")
    cut = studio.prepare_image(rgba.getvalue(), "cut.png")
    assert cut.has_alpha and Image.open(io.BytesIO(cut.png)).mode == "RGBA"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"GIF89a not really", "corrupt"),
        (b"%PDF-1.7 ...", "unsupported_format"),
        (png_bytes(40, 40), "too_small"),
    ],
)
def test_bad_uploads_raise_a_typed_error_with_a_sentence(studio: Studio, data: bytes, code: str) -> None:
    with pytest.raises(StudioInputError) as caught:
        studio.prepare_image(data, "upload")
    assert caught.value.code == code
    assert str(caught.value).endswith(".") and len(str(caught.value)) > 30


def test_the_pixel_cap_comes_from_settings(tmp_path: Path) -> None:
    studio = make_studio(tmp_path, {"STUDIO_MAX_PIXELS": "10000"})
    with pytest.raises(StudioInputError) as caught:
        studio.prepare_image(photo(200, 200), "big.jpg")
    assert caught.value.code == "too_many_pixels" and caught.value.params["max_pixels"] == 10_000
    studio.close()


def test_prepare_mask_checks_size_and_returns_a_single_channel_png(studio: Studio) -> None:
    image = studio.prepare_image(photo(), "shot.jpg")
    mask = np.zeros((240, 320), np.uint8)
    mask[60:180, 100:220] = 255
    buffer = io.BytesIO()
    Image.fromarray(mask).convert("RGB").save(buffer, "PNG")
    normalised = studio.prepare_mask(buffer.getvalue(), image)
    assert Image.open(io.BytesIO(normalised)).mode == "L"
    with pytest.raises(StudioInputError) as caught:
        studio.prepare_mask(png_bytes(100, 100, mode="L"), image)
    assert caught.value.code == "mask_size_mismatch" and "320x240" in str(caught.value)


# ------------------------------------------------------------------ submit checks
@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"provider": "nope"}, "unknown_provider", "There is no provider 'nope'"),
        ({"provider": "needs_key"}, "provider_not_configured", "NEEDS_KEY_API_KEY"),
        (
            {"provider": "local", "workflow": Operation.MODEL_SWAP},
            "unsupported_workflow",
            "cannot swap models",
        ),
        ({"count": 0}, "bad_count", "1 to 4 images"),
        ({"count": 5}, "bad_count", "you asked for 5"),
        ({"size": (32, 900)}, "bad_size", "64 to 8000"),
        ({"size": (9000, 900)}, "bad_size", "64 to 8000"),
        (
            {"workflow": Operation.SCENE_BACKGROUND, "scene_id": "s", "size": (1000, 1000)},
            "bad_size",
            "800x800, 750x1000",
        ),
        ({"params": {"strength": "2"}}, "bad_param", "strength: 2.0 is above the maximum 1"),
        ({"params": {"colour": "red"}}, "bad_param", "unknown option(s) colour"),
        ({"workflow": Operation.SCENE_BACKGROUND}, "missing_scene", "Choose a scene"),
        (
            {"provider": "local", "workflow": Operation.SCENE_BACKGROUND, "scene_id": "moon", "count": 2},
            "scene_not_found",
            "marble",
        ),
        ({"mask_png": png_bytes(10, 10, mode="L")}, "mask_size_mismatch", "10x10"),
        ({"seed": -1}, "bad_seed", "seed -1"),
        ({"prompt": "x" * 2001}, "prompt_too_long", "2000 characters"),
        ({"reference_png": b"junk"}, "corrupt", "could not be read"),
    ],
)
def test_submit_checks_everything_before_storing_anything(
    studio: Studio, fields: dict[str, object], code: str, words: str
) -> None:
    with pytest.raises(StudioInputError) as caught:
        studio.submit_job(request(studio, **fields))
    assert caught.value.code == code
    assert words in str(caught.value)
    assert nothing_stored(studio)


def test_the_model_workflow_on_local_points_to_a_cloud_provider(studio: Studio) -> None:
    with pytest.raises(StudioInputError) as caught:
        studio.limits_for("local", Operation.MODEL_SWAP)
    assert (
        str(caught.value)
        == "The local engine cannot swap models; configure a cloud provider that offers it (Aidge)."
    )


def test_an_input_smaller_than_the_provider_accepts_is_refused(studio: Studio) -> None:
    tiny = PreparedImage(
        png=png_bytes(50, 50), width=50, height=50, has_alpha=False, original_format="PNG", original_name="t"
    )
    with pytest.raises(StudioInputError) as caught:
        studio.submit_job(request(studio, image=tiny))
    assert caught.value.code == "provider_too_small" and "needs 64-4000 px per side" in str(caught.value)


def test_a_configured_provider_is_accepted_and_its_secret_never_stored(tmp_path: Path) -> None:
    studio = make_studio(tmp_path, api_key="sk-VERY-SECRET")
    assert [p.configured for p in studio.providers() if p.key == "needs_key"] == [True]
    job_id = studio.submit_job(request(studio, provider="needs_key"))
    studio.run_pending()
    assert studio.wait_for_job(job_id).status is JobStatus.SUCCEEDED
    assert "sk-VERY-SECRET" not in repr(studio.settings) + str(studio.engine_status())
    studio.close()
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert b"sk-VERY-SECRET" not in path.read_bytes(), path


# ------------------------------------------------------------------ submit -> run -> view
def test_a_submitted_job_is_persisted_first_then_run(studio: Studio) -> None:
    mask = np.zeros((240, 320), np.uint8)
    mask[60:180, 100:220] = 255
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, "PNG")
    job_id = studio.submit_job(
        request(studio, count=2, prompt="红色", mask_png=buffer.getvalue(), source="cli")
    )
    queued = studio.get_job(job_id)
    assert queued is not None and queued.status is JobStatus.QUEUED
    assert queued.cost_estimate == Money(16, "CNY") and queued.params == {
        "strength": 0.5
    }  # defaults filled in
    assert queued.source == "cli" and queued.input_path and Path(queued.input_path).is_file()
    assert queued.mask_path and Path(queued.mask_path).is_file()
    assert studio.run_pending() == 1
    done = studio.wait_for_job(job_id, timeout_s=5)
    assert done.status is JobStatus.SUCCEEDED and done.cost == Money(16, "CNY") and len(done.outputs) == 2


def test_wait_for_job_returns_the_pending_view_on_timeout_and_refuses_unknown_ids(studio: Studio) -> None:
    job_id = studio.submit_job(request(studio))
    assert studio.wait_for_job(job_id, timeout_s=0.01).status is JobStatus.QUEUED
    with pytest.raises(StudioInputError) as caught:
        studio.wait_for_job("missing", timeout_s=0.01)
    assert caught.value.code == "job_not_found"


def test_history_totals_and_csv_export(studio: Studio) -> None:
    ids = [
        studio.submit_job(request(studio, prompt="=cmd|' /C calc'!A0")),
        studio.submit_job(request(studio, prompt="白色大理石, 暖光", count=2)),
    ]
    studio.run_pending()
    assert studio.list_jobs(JobFilter()).total == 2
    totals = studio.provider_totals(JobFilter())
    assert [(t.provider, t.currency, t.images, t.amount) for t in totals] == [("fake_sync", "CNY", 3, "0.24")]
    assert sum(day.images for day in studio.daily_stats(JobFilter())) == 3
    data = b"".join(studio.export_csv(JobFilter()))
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Chinese correctly
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert {r["job_id"] for r in rows} == set(ids)
    by_prompt = {r["prompt"]: r for r in rows}
    assert (
        by_prompt["白色大理石, 暖光"]["cost"] == "0.16" and by_prompt["白色大理石, 暖光"]["currency"] == "CNY"
    )
    assert "'=cmd|' /C calc'!A0" in by_prompt  # a formula stays text in Excel


def test_preferences_round_trip(studio: Studio) -> None:
    studio.set_preference("lang", "zh")
    assert studio.get_preference("lang") == "zh" and studio.get_preference("other") is None


def test_read_prompt_and_local_scenes_come_from_the_local_engine(studio: Studio) -> None:
    reading = studio.read_prompt("white marble 暖色 zzzz")
    assert "marble" in reading.used and "zzzz" in reading.unknown and reading.summary
    scenes = studio.local_scenes()
    assert len(scenes) >= 12 and all(scene.thumbnail for scene in scenes)
    assert studio.local_scenes("zh")[0].name != scenes[0].name


# ------------------------------------------------------------------ engine
def test_auto_cutout_uses_the_model_when_present_else_the_classical_method(tmp_path: Path) -> None:
    fast = {"STUDIO_DATA_DIR": str(tmp_path / "a"), "STUDIO_CUTOUT_MODEL": "fast"}
    with_model = Studio(load_settings(fast, tmp_path / "none.toml", {}), worker_threads=0)
    image = with_model.prepare_image(photo(), "shot.jpg")
    preview = with_model.auto_cutout(image)
    expected = "model" if with_model.settings.model_path.is_file() else "classical"
    assert preview.method == expected and with_model.engine_status()["cutout_method"] == expected
    mask = np.asarray(Image.open(io.BytesIO(with_model.auto_mask(image).mask_png)))
    assert mask.shape == (240, 320) and mask[120, 160] > 200 and mask[5, 5] < 50
    assert Image.open(io.BytesIO(preview.cutout_png)).mode == "RGBA"
    with_model.close()

    without = Studio(
        load_settings(
            {
                **fast,
                "STUDIO_DATA_DIR": str(tmp_path / "b"),
                "STUDIO_U2NETP_PATH": str(tmp_path / "missing.onnx"),
            },
            tmp_path / "none.toml",
            {},
        ),
        worker_threads=0,
    )
    assert without.engine_status()["model_found"] is False
    missing = without.auto_cutout(image)
    assert missing.method == "classical" and missing.method_text == "classical (model missing)"
    assert missing.problem is not None and "scripts/fetch_model.py u2netp" in missing.problem
    without.close()


def test_engine_status_reports_storage_and_worker(studio: Studio) -> None:
    status = studio.engine_status()
    assert status["data_dir"] == str(studio.settings.data_dir)
    assert status["database"].startswith("sqlite:///") and status["worker_alive"] is False
    assert status["cjk_font_found"] is True
    studio.start_worker()
    studio.start_worker()  # idempotent
    assert studio.engine_status()["worker_alive"] is True
