"""The studio's cutout models: which quality is the default, what a job asked for reaches the local
engine or the vendor's mask, and a missing or broken model is reported with its fix."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from providers.base import Operation
from studio.service import JobRequest, Studio, StudioInputError
from studio.settings import SettingsError, load_settings
from tests.studio.vendors import DASHSCOPE_KEY, photo

ROOT = Path(__file__).resolve().parents[2]
U2NETP = ROOT / "models" / "u2netp.onnx"


def open_studio(tmp_path: Path, **env: str) -> Studio:
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "data"), **env}, tmp_path / "none.toml")
    return Studio(settings, worker_threads=0)


def test_best_is_the_default_only_when_its_file_is_there(tmp_path: Path) -> None:
    present = tmp_path / "isnet.onnx"
    present.write_bytes(b"x")
    assert open_studio(tmp_path, STUDIO_ISNET_PATH=str(present)).default_cutout_quality() == "best"
    absent = str(tmp_path / "none.onnx")
    assert open_studio(tmp_path, STUDIO_ISNET_PATH=absent).default_cutout_quality() == "fast"
    fast = open_studio(tmp_path, STUDIO_ISNET_PATH=str(present), STUDIO_CUTOUT_MODEL="fast")
    assert fast.default_cutout_quality() == "fast"
    # Asked for explicitly, best stays best even without its file: the job then says it is missing.
    best = open_studio(tmp_path, STUDIO_ISNET_PATH=absent, STUDIO_CUTOUT_MODEL="best")
    assert best.default_cutout_quality() == "best"
    problem = best.cutout_problem()
    assert problem is not None and absent in problem and "scripts/fetch_model.py isnet" in problem
    with pytest.raises(SettingsError, match="STUDIO_CUTOUT_MODEL is 'ultra'"):
        open_studio(tmp_path, STUDIO_CUTOUT_MODEL="ultra")


def test_a_broken_model_file_is_reported_with_its_error(tmp_path: Path) -> None:
    broken = tmp_path / "isnet.onnx"
    broken.write_bytes(b"definitely not an onnx model")
    studio = open_studio(tmp_path, STUDIO_ISNET_PATH=str(broken))
    assert studio.segmenter("best") is None
    state = next(item for item in studio.cutout_models_state() if item.model == "isnet")
    assert state.found and state.error and "ModelLoadError" in state.error and not state.usable
    assert "cannot be loaded" in (studio.cutout_problem("best") or "")
    models = {item["model"]: item for item in studio.engine_status()["models"]}
    assert models["isnet"]["error"] and models["isnet"]["env"] == "STUDIO_ISNET_PATH"
    studio.close()


def test_the_local_job_gets_the_quality_chosen_and_records_the_missing_model(tmp_path: Path) -> None:
    studio = open_studio(tmp_path, STUDIO_ISNET_PATH=str(tmp_path / "none.onnx"), STUDIO_CUTOUT_MODEL="fast")
    image = studio.prepare_image(photo(320, 240), "shot.png")
    request = JobRequest(
        workflow=Operation.PROMPT_BACKGROUND, provider="local", image=image, count=1, cutout_quality="best"
    )
    job_id = studio.submit_job(request)
    studio.run_pending()
    job = studio.get_job(job_id)
    assert job is not None and job.params["cutout"] == "best"
    assert job.notes["cutout_method"] == "classical (model missing)"
    assert job.notes["cutout_model_missing"] == "isnet"
    with pytest.raises(StudioInputError) as caught:
        studio.submit_job(JobRequest(Operation.PROMPT_BACKGROUND, "local", image, cutout_quality="ultra"))
    assert caught.value.code == "bad_cutout_quality"
    studio.close()


@pytest.mark.skipif(not U2NETP.is_file(), reason=f"u2netp model not found at {U2NETP}")
def test_a_vendor_that_needs_a_cutout_records_the_model_that_made_it(tmp_path: Path) -> None:
    studio = open_studio(
        tmp_path, DASHSCOPE_API_KEY=DASHSCOPE_KEY, STUDIO_ISNET_PATH=str(tmp_path / "none.onnx")
    )
    image = studio.prepare_image(photo(800, 600), "shot.png")
    request = JobRequest(
        workflow=Operation.PROMPT_BACKGROUND,
        provider="dashscope",
        image=image,
        prompt="moss and stones",
        cutout_quality="fast",
    )
    new = studio.persist_checked(request, studio.check_job(request))
    assert new.mask_path is not None and (studio.settings.data_dir / new.mask_path).is_file()
    assert new.notes["cutout_model"] == "u2netp" and new.notes["cutout_method"].startswith("u2netp + ")
    studio.close()


def test_the_preview_is_made_at_display_size(tmp_path: Path) -> None:
    studio = open_studio(tmp_path, STUDIO_CUTOUT_MODEL="fast")
    image = studio.prepare_image(photo(2400, 1800), "big.png")
    assert image.preview_png and image.preview_png != image.png
    preview = studio.auto_cutout(image)
    assert preview.size == (1024, 768)
    full = studio.auto_mask(image)
    assert Image.open(io.BytesIO(full.mask_png)).size == (2400, 1800)
    assert Image.open(io.BytesIO(preview.cutout_png)).size == (1024, 768)
    assert full.notes["cutout_method"] == preview.method_text
    studio.close()
