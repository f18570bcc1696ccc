"""The local engine adapter: what a user sees from one request, end to end, offline."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from providers.base import GenerationRequest, Operation, ProviderContext, TaskState
from providers.errors import InputRejectedError
from providers.local import LocalEngine


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def decode(data: bytes | None) -> np.ndarray:
    assert data is not None
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def product_rgba(width: int = 300, height: int = 240) -> np.ndarray:
    """A red box on a transparent canvas: the input's own alpha is the cutout."""
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[60:180, 100:200] = (200, 40, 30, 255)
    return rgba


@pytest.fixture()
def engine() -> LocalEngine:
    return LocalEngine(ProviderContext())


def run(engine: LocalEngine, **fields: Any) -> Any:
    request = GenerationRequest(
        **{"operation": Operation.PROMPT_BACKGROUND, "image": png(product_rgba()), **fields}
    )
    submitted = engine.submit(request)
    assert submitted.remote_id is None and submitted.update is not None
    return submitted.update


def test_pure_white_prompt_gives_marketplace_white(engine: LocalEngine) -> None:
    update = run(engine, prompt="pure white background", params={"shadow": "none", "light_wrap": 0.0})
    out = decode(update.outputs[0].data)
    assert out.shape == (240, 300, 3)
    corners = np.concatenate([out[:20, :20].reshape(-1, 3), out[-20:, -20:].reshape(-1, 3)])
    assert (corners == 255).all()


def test_chinese_prompt_is_read_and_reported(engine: LocalEngine) -> None:
    update = run(engine, prompt="大理石 暖色", count=1)
    assert update.state is TaskState.SUCCEEDED
    used = " ".join(update.notes["words_used"])
    assert "大理石" in used


def test_variants_differ_and_reproduce_from_their_seed(engine: LocalEngine) -> None:
    first = run(engine, prompt="marble", count=2, seed=7)
    again = run(engine, prompt="marble", count=2, seed=7)
    a, b = (decode(o.data).astype(int) for o in first.outputs)
    assert np.abs(a - b).mean() > 3, "variants must differ visibly"
    assert [o.data for o in first.outputs] == [o.data for o in again.outputs]
    assert [o.seed for o in first.outputs] == [7, 8]


def test_keep_layout_leaves_product_pixels_untouched(engine: LocalEngine) -> None:
    update = run(
        engine,
        prompt="blue",
        params={"layout": "keep", "shadow": "none", "light_wrap": 0.0, "reflection": 0.0},
    )
    out = decode(update.outputs[0].data)
    assert (out[80:160, 120:180] == (200, 40, 30)).all()


def test_user_mask_decides_what_is_product(engine: LocalEngine) -> None:
    photo = np.full((200, 200, 3), 120, np.uint8)
    photo[:, 100:] = (20, 200, 20)
    mask = np.zeros((200, 200), np.uint8)
    mask[:, 100:] = 255  # the green half is the product
    request = GenerationRequest(
        operation=Operation.PROMPT_BACKGROUND,
        image=png(photo),
        mask=png(mask),
        prompt="pure white",
        params={"layout": "keep", "shadow": "none", "light_wrap": 0.0},
    )
    update = engine.submit(request).update
    assert update is not None
    out = decode(update.outputs[0].data)
    assert (out[:, :90] == 255).all(), "the unmasked half becomes the white backdrop"
    assert np.abs(out[:, 120:].astype(int) - (20, 200, 20)).max() <= 2
    assert decode(update.artifacts["mask"]).shape[:2] == (200, 200)
    assert update.notes["cutout_method"] == "mask"


def test_reference_photo_becomes_the_backdrop(engine: LocalEngine) -> None:
    reference = np.zeros((100, 150, 3), np.uint8)
    reference[:] = (10, 60, 220)
    update = run(engine, reference_image=png(reference), params={"shadow": "none"})
    out = decode(update.outputs[0].data)
    assert np.abs(out[5, 5].astype(int) - (10, 60, 220)).max() <= 3


def test_scene_background_defaults_to_vendor_size_and_counts(engine: LocalEngine) -> None:
    scene_id = engine.list_scenes({})[0].scene_id
    request = GenerationRequest(
        operation=Operation.SCENE_BACKGROUND, image=png(product_rgba()), scene_id=scene_id, count=3
    )
    update = engine.submit(request).update
    assert update is not None and len(update.outputs) == 3
    assert all(decode(o.data).shape == (800, 800, 3) for o in update.outputs)


def test_scene_catalogue_has_at_least_twelve_named_scenes_with_thumbnails(engine: LocalEngine) -> None:
    scenes = engine.list_scenes({})
    assert len(scenes) >= 12
    assert len({s.scene_id for s in scenes}) == len(scenes)
    assert all(s.thumbnail and s.name for s in scenes)
    chinese = engine.list_scenes({"language": "zh"})
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in s.name) for s in chinese)


def test_product_title_is_drawn_with_a_cjk_font(engine: LocalEngine) -> None:
    import noto_cjk

    font = noto_cjk.otc_path("sans").read_bytes()
    titled_engine = LocalEngine(ProviderContext(resources={"cjk_font": font}))
    scene_id = titled_engine.list_scenes({})[0].scene_id
    base = {
        "operation": Operation.SCENE_BACKGROUND,
        "image": png(product_rgba()),
        "scene_id": scene_id,
        "count": 2,
        "seed": 3,
    }
    plain = titled_engine.submit(GenerationRequest(**base)).update  # type: ignore[arg-type]
    titled = titled_engine.submit(
        GenerationRequest(**base, product_title="夏季新品 连衣裙", params={"draw_title": True})  # type: ignore[arg-type]
    ).update
    assert plain is not None and titled is not None
    diff = np.abs(decode(plain.outputs[0].data).astype(int) - decode(titled.outputs[0].data).astype(int))
    assert diff.sum() > 0, "the title must change the image"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"operation": Operation.MODEL_SWAP}, "unsupported_workflow"),
        (
            {"operation": Operation.SCENE_BACKGROUND, "scene_id": "no-such-scene", "count": 2},
            "scene_not_found",
        ),
        ({"image": b"not an image at all"}, "corrupt"),
        ({"mask": png(np.zeros((10, 10), np.uint8))}, "mask_size_mismatch"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_code(
    engine: LocalEngine, fields: dict[str, Any], code: str
) -> None:
    request = GenerationRequest(
        **{"operation": Operation.PROMPT_BACKGROUND, "image": png(product_rgba()), **fields}
    )
    with pytest.raises(InputRejectedError) as caught:
        engine.submit(request)
    assert caught.value.code == code
    assert caught.value.user_message


def test_params_are_checked_against_declared_options() -> None:
    checked = LocalEngine.check_params(Operation.PROMPT_BACKGROUND, {"fill": "0.9", "shadow": "drop"})
    assert checked["fill"] == 0.9 and checked["shadow"] == "drop" and checked["layout"] == "center"
    with pytest.raises(ValueError, match="fill: 1.5 is above the maximum 1"):
        LocalEngine.check_params(Operation.PROMPT_BACKGROUND, {"fill": "1.5"})
    with pytest.raises(ValueError, match="unknown option"):
        LocalEngine.check_params(Operation.PROMPT_BACKGROUND, {"guidance": "3"})
