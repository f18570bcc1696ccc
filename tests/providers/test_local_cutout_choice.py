"""The local engine cuts out with the model the job asks for (option `cutout`: best or fast, else
the studio's default) and records which model and refinement did it, or that the model was missing."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from providers.base import GenerationRequest, Operation, ProviderContext
from providers.local import LocalEngine

SIZE = (200, 160)


def photo() -> bytes:
    rgb = np.full((SIZE[1], SIZE[0], 3), 230, np.uint8)
    rgb[40:120, 60:140] = (30, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


class Named:
    """A segmenter that finds the blue box and remembers that it ran."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.runs = 0

    def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        self.runs += 1
        prob = (rgb[..., 0] < 100).astype(np.float32)
        if size is not None and size != (rgb.shape[1], rgb.shape[0]):
            prob = np.asarray(Image.fromarray(prob).resize(size), np.float32)
        return prob


def submit(resources: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
    engine = LocalEngine(ProviderContext(resources=resources))
    request = GenerationRequest(
        operation=Operation.PROMPT_BACKGROUND,
        image=photo(),
        prompt="white",
        count=1,
        params=LocalEngine.check_params(Operation.PROMPT_BACKGROUND, params or {}),
    )
    update = engine.submit(request).update
    assert update is not None
    return dict(update.notes)


@pytest.fixture()
def models() -> dict[str, Any]:
    return {"segmenter.isnet": Named("isnet"), "segmenter.u2netp": Named("u2netp"), "cutout.default": "best"}


def test_the_default_quality_is_the_studios(models: dict[str, Any]) -> None:
    notes = submit(models)
    assert notes["cutout_model"] == "isnet" and notes["cutout_method"].startswith("isnet + ")
    assert models["segmenter.isnet"].runs == 1 and models["segmenter.u2netp"].runs == 0
    assert notes["cutout_refinement"] and "cutout_model_missing" not in notes


def test_a_job_chooses_fast(models: dict[str, Any]) -> None:
    notes = submit(models, {"cutout": "fast"})
    assert notes["cutout_model"] == "u2netp" and models["segmenter.isnet"].runs == 0


def test_a_missing_model_is_recorded_not_hidden(models: dict[str, Any]) -> None:
    notes = submit({**models, "segmenter.isnet": None}, {"cutout": "best"})
    assert notes["cutout_method"] == "classical (model missing)"
    assert notes["cutout_model_missing"] == "isnet" and notes["cutout_model"] is None
    assert models["segmenter.u2netp"].runs == 0  # no quiet switch to the other model


def test_a_single_segmenter_is_used_under_its_own_name() -> None:
    notes = submit({"segmenter": Named("u2netp")})
    assert notes["cutout_model"] == "u2netp"
    assert submit({})["cutout_method"] == "classical"  # nothing asked for, nothing missing


def test_the_option_is_declared_for_both_workflows() -> None:
    for operation in (Operation.PROMPT_BACKGROUND, Operation.SCENE_BACKGROUND):
        spec = {spec.name: spec for spec in LocalEngine.option_specs(operation)}["cutout"]
        assert spec.choices == ("best", "fast") and spec.default is None
    with pytest.raises(ValueError, match="cutout"):
        LocalEngine.check_params(Operation.PROMPT_BACKGROUND, {"cutout": "ultra"})
