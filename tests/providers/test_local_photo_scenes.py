"""The local engine's photographic sets (issue 13): what a prompt's light, place and camera words
make, how variants differ, and a product placed on the user's own backdrop photo."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from providers.base import BackdropPlate, GenerationRequest, Operation, ProviderContext, TaskUpdate
from providers.local import LocalEngine
from providers.local_scene_plan import LIGHTS, PLACES
from providers.local_vocabulary import interpret_prompt
from tests.providers.test_local_engine import decode, png


def bottle_rgba(width: int = 320, height: int = 400) -> np.ndarray:
    """A green bottle seen from the side, already cut out (its own alpha)."""
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[120:360, 110:210] = (40, 120, 60, 255)
    rgba[60:120, 145:175] = (40, 120, 60, 255)
    return rgba


@pytest.fixture()
def engine() -> LocalEngine:
    return LocalEngine(ProviderContext())


def run(engine: LocalEngine, **fields: Any) -> TaskUpdate:
    request = GenerationRequest(
        **{
            "operation": Operation.PROMPT_BACKGROUND,
            "image": png(bottle_rgba()),
            "size": (400, 400),
            "seed": 5,
            **fields,
        }
    )
    update = engine.submit(request).update
    assert update is not None
    return update


@pytest.mark.parametrize(
    ("prompt", "light", "pattern"),
    [
        ("white marble counter, soft morning light", "morning light", "none"),
        ("oak table by a window, warm afternoon sun, leaf shadows", "afternoon sun", "leaves"),
        ("木桌，窗边晨光，百叶窗影子", "morning light", "blinds"),
        ("concrete floor, hard noon sun, minimal", "noon sun", "none"),
        ("linen tablecloth, overcast daylight, cozy kitchen", "overcast", "none"),
        ("黑色大理石台面，金色逆光，高级感", "golden backlight", "none"),
        ("white marble, backlight", "backlight", "none"),
        ("蜡烛 烛光 木桌", "candlelight", "none"),
    ],
)
def test_light_and_time_words_set_the_scene_light(prompt: str, light: str, pattern: str) -> None:
    style = interpret_prompt(prompt, 0)
    assert style.scene is not None
    assert style.scene.light.name == light
    assert style.scene.pattern == pattern
    assert style.unknown == (), style.unknown


def test_golden_light_is_warmer_than_overcast() -> None:
    golden = interpret_prompt("wood table, golden hour", 0).scene
    overcast = interpret_prompt("wood table, overcast", 0).scene
    assert golden is not None and overcast is not None
    assert golden.light.temperature_k < 4000 < 6000 < overcast.light.temperature_k
    assert golden.light.elevation_deg < overcast.light.elevation_deg


def test_surfaces_the_flat_backdrops_lacked() -> None:
    for prompt, surface in (
        ("terrazzo", "terrazzo"),
        ("水磨石台面", "terrazzo"),
        ("slate", "stone"),
        ("沙子", "sand"),
    ):
        scene = interpret_prompt(prompt, 0).scene
        assert scene is not None and scene.surface == surface, prompt


def test_a_place_is_approximated_and_says_so(engine: LocalEngine) -> None:
    scene = interpret_prompt("sandy beach at sunset", 0).scene
    assert scene is not None and scene.place == "beach" and scene.approximated
    assert scene.surface == "sand" and scene.light.name == "sunset"
    update = run(engine, prompt="a kitchen", count=1)
    assert update.notes["approximation"]["place"] == "kitchen"
    assert "DashScope wanx" in update.notes["approximation"]["providers"]
    assert update.notes["scene_plan"]["surface"] == PLACES["kitchen"].surface


def test_pure_white_stays_flat_and_exact(engine: LocalEngine) -> None:
    assert interpret_prompt("pure white background", 0).scene is None
    update = run(engine, prompt="白底图", count=1, params={"shadow": "none", "light_wrap": 0.0})
    out = decode(update.outputs[0].data)
    assert (out[:30, :30] == 255).all()
    assert "scene_plan" not in update.notes


def test_job_records_its_scene_and_the_camera_follows_the_user(engine: LocalEngine) -> None:
    update = run(engine, prompt="oak table, window light", count=2, params={"camera": "flat_lay"})
    plan = update.notes["scene_plan"]
    assert plan["camera"] == "flat_lay" and plan["surface"] == "wood" and plan["light"] == "window light"
    assert plan["light_pattern"] == "window"
    assert len(update.notes["scene_variants"]) == 2
    assert "scene: wood table" in update.notes["reading"]


def test_a_side_view_product_gets_a_table_in_perspective(engine: LocalEngine) -> None:
    update = run(engine, prompt="white marble counter, soft light", count=1)
    assert update.notes["scene_plan"]["camera"] in ("eye_level", "three_quarter")
    out = decode(update.outputs[0].data).astype(float)
    # A wall above, a lit table below: the frame is not one flat texture seen from above.
    top, bottom = out[:60].mean(), out[-60:].mean()
    assert abs(top - bottom) > 3


def test_variants_differ_in_composition_and_reproduce(engine: LocalEngine) -> None:
    first = run(engine, prompt="oak table, afternoon sun", count=4)
    again = run(engine, prompt="oak table, afternoon sun", count=4)
    assert [o.data for o in first.outputs] == [o.data for o in again.outputs]
    compositions = first.notes["scene_variants"]
    directions = {round(c["light_direction_deg"]) for c in compositions}
    fills = {round(c["product_fill"], 2) for c in compositions}
    assert len(directions) == 4 and len(fills) >= 3
    # The second variant's light comes from the other side: its cast shadow falls the other way.
    a, b = compositions[0]["light_direction_deg"], compositions[1]["light_direction_deg"]
    assert np.cos(np.radians(a)) * np.cos(np.radians(b)) < 0


def test_shadow_option_moves_the_light(engine: LocalEngine) -> None:
    update = run(engine, prompt="concrete", count=1, params={"shadow_direction": 20.0})
    assert abs(update.notes["scene_plan"]["light_direction_deg"] - 20.0) <= 12.5


def test_product_stands_on_the_users_plate(engine: LocalEngine) -> None:
    # A photo of an empty set: a blue wall over a brown shelf whose top edge is at 70 % height.
    plate = np.zeros((300, 400, 3), np.uint8)
    plate[:210] = (60, 90, 160)
    plate[210:] = (120, 80, 50)
    update = run(
        engine,
        prompt="on my shelf",
        count=1,
        plate=BackdropPlate(image=png(plate), surface=(0.2, 0.7, 0.8, 0.9), backdrop_id="b1", name="shelf"),
    )
    assert update.notes["scene_plan"]["plate"] is True
    out = decode(update.outputs[0].data).astype(int)
    # The plate's wall is still there around the product, and the product's base sits in the box.
    assert np.abs(out[10:40, 10:40] - (60, 90, 160)).mean() < 30
    green = (out[..., 1] > out[..., 0] + 40) & (out[..., 1] > out[..., 2] + 20)
    rows = np.flatnonzero(green.any(axis=1))
    assert rows.size and 0.7 * 400 - 8 <= rows[-1] <= 0.9 * 400 + 4


def test_every_light_preset_is_in_range() -> None:
    for light in LIGHTS.values():
        assert 0 <= light.softness <= 1 and 0 <= light.strength <= 1
        assert 1000 <= light.temperature_k <= 12000 and 3 <= light.elevation_deg <= 90
