"""What a local-engine photo is made of, as data: camera, surface, wall, light, light pattern.

A `ScenePlan` is the reading of a prompt (or a catalogue scene) in photographic terms. It is
plain data, so a job can record it (`describe_plan`), a variant can change it (`vary`) and a
test can check it; `scene_spec` turns it into the `imaging.scene.SceneSpec` that renders it,
with textures from `imaging.materials` and light patterns from `imaging.light_patterns`.

Light words are presets (`LIGHTS`): a direction, a height, a softness, a colour temperature
and a contrast, as a photographer would set them ("golden hour": low warm sun from the side
behind; "overcast": high, very soft, cool). A place the engine cannot paint (a kitchen, a
beach) becomes a studio approximation of it (`PLACES`: its surface, wall colour and light),
and the plan says so, so the page can name the cloud providers that paint places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from imaging.light_patterns import render_light_pattern
from imaging.materials import MATERIAL_KINDS, material_look, render_material
from imaging.scene import Camera, HarmonizeSpec, Light, SceneSpec, Viewpoint

RGB = tuple[int, int, int]
PatternKind = Literal["none", "window", "blinds", "leaves"]

# A typical product (a bottle, a mug, a shoe) is about this tall: it sets the scale of the
# surface's texture (planks, veins, chips) against the product in the frame.
_PRODUCT_CM = 20.0


@dataclass(frozen=True)
class LightPlan:
    """A named light: where from (azimuth: 0 right, 90 behind, 180 left, 270 front), how high,
    how soft (0 sun .. 1 overcast), its colour temperature and its contrast (0..1)."""

    name: str
    name_zh: str
    azimuth_deg: float
    elevation_deg: float
    softness: float
    temperature_k: float
    strength: float


LIGHTS: dict[str, LightPlan] = {
    light.name: light
    for light in (
        LightPlan("studio softbox", "影棚柔光箱", 125.0, 50.0, 0.75, 5600.0, 0.5),
        LightPlan("soft light", "柔光", 120.0, 55.0, 0.9, 5800.0, 0.4),
        LightPlan("hard light", "硬光", 40.0, 40.0, 0.12, 5600.0, 0.85),
        LightPlan("morning light", "晨光", 165.0, 20.0, 0.45, 5000.0, 0.6),
        LightPlan("golden hour", "黄金时刻", 150.0, 12.0, 0.3, 3200.0, 0.75),
        LightPlan("sunset", "日落", 140.0, 7.0, 0.35, 2600.0, 0.7),
        LightPlan("noon sun", "正午阳光", 100.0, 72.0, 0.08, 5800.0, 0.9),
        LightPlan("afternoon sun", "午后阳光", 155.0, 32.0, 0.25, 4300.0, 0.75),
        LightPlan("overcast", "阴天漫射光", 110.0, 60.0, 1.0, 7000.0, 0.3),
        LightPlan("window light", "窗光", 165.0, 30.0, 0.55, 5600.0, 0.65),
        LightPlan("backlight", "逆光", 90.0, 22.0, 0.4, 5200.0, 0.7),
        LightPlan("golden backlight", "金色逆光", 85.0, 16.0, 0.35, 3000.0, 0.75),
        LightPlan("spotlight", "聚光灯", 100.0, 68.0, 0.2, 4600.0, 0.9),
        LightPlan("candlelight", "烛光", 160.0, 14.0, 0.6, 1900.0, 0.6),
        LightPlan("neon", "霓虹灯", 30.0, 30.0, 0.5, 9500.0, 0.6),
    )
}
DEFAULT_LIGHT = "studio softbox"


@dataclass(frozen=True)
class PlaceLook:
    """How the engine approximates a place it cannot paint: its surface, wall and light."""

    name: str
    name_zh: str
    surface: str | None
    surface_colors: tuple[RGB, ...]
    wall_colour: RGB
    light: str
    pattern: PatternKind = "none"


PLACES: dict[str, PlaceLook] = {
    place.name: place
    for place in (
        PlaceLook(
            "kitchen", "厨房", "marble", ((238, 236, 232), (150, 150, 156)), (226, 222, 214), "window light"
        ),
        PlaceLook("bathroom", "浴室", "stone", ((226, 226, 224),), (232, 234, 236), "soft light"),
        PlaceLook(
            "living room",
            "客厅",
            "wood",
            ((196, 156, 114), (128, 88, 56)),
            (222, 214, 200),
            "afternoon sun",
            "window",
        ),
        PlaceLook("bedroom", "卧室", "linen", ((232, 224, 210),), (226, 218, 206), "morning light", "blinds"),
        PlaceLook(
            "office",
            "办公室",
            "wood",
            ((170, 130, 92), (104, 72, 46)),
            (214, 218, 222),
            "window light",
            "blinds",
        ),
        PlaceLook("cafe", "咖啡馆", "wood", ((128, 86, 60), (64, 40, 27)), (92, 74, 62), "golden hour"),
        PlaceLook("beach", "海滩", "sand", ((226, 204, 168),), (214, 224, 234), "golden hour"),
        PlaceLook("garden", "花园", "stone", ((190, 186, 176),), (196, 214, 186), "afternoon sun", "leaves"),
        PlaceLook(
            "forest",
            "森林",
            "wood",
            ((120, 96, 70), (70, 52, 36)),
            (120, 146, 104),
            "morning light",
            "leaves",
        ),
        PlaceLook("street", "街头", "concrete", ((168, 166, 162),), (190, 188, 184), "hard light"),
    )
}
# Cloud providers whose generators paint a described place; named on the page when the engine
# could only approximate one.
PAINTING_PROVIDERS = ("DashScope wanx", "Tencent Cloud aiart", "Alibaba Cloud Marketplace")


@dataclass(frozen=True)
class ScenePlan:
    """A photo's set. `surface` None is a seamless paper sweep in `surface_colors[0]`; `wall`
    None a painted wall in `wall_colour`. `viewpoint` None means: guess it from the product."""

    surface: str | None
    surface_colors: tuple[RGB, ...]
    wall: str | None
    wall_colour: RGB
    light: LightPlan
    viewpoint: Viewpoint | None = None
    pattern: PatternKind = "none"
    pattern_strength: float = 0.0
    gloss: float | None = None  # None: the material's own
    focus_blur: float = 0.5
    product_fill: float = 0.72
    product_x: float = 0.5
    horizon_shift: float = 0.0  # added to the viewpoint's horizon (fraction of the height)
    place: str | None = None
    approximated: bool = False


def surface_gloss(plan: ScenePlan) -> float:
    if plan.gloss is not None:
        return plan.gloss
    if plan.surface is None or plan.surface not in MATERIAL_KINDS:
        return 0.0
    return float(material_look(plan.surface).gloss)  # type: ignore[arg-type]


def vary(plan: ScenePlan, seed: int, index: int, *, fixed_viewpoint: bool = False) -> ScenePlan:
    """Variant `index` of a plan: the first as read; the next ones change the composition in
    turn (light from the other side and a lower camera; a tighter crop off centre; a higher
    camera and a turned light), and every one moves a little by its seed, so four variants
    are four photographs, not four tints."""
    rng = np.random.default_rng(seed % (2**63))
    jitter = float(rng.uniform(-12.0, 12.0))
    light = replace(
        plan.light,
        azimuth_deg=(plan.light.azimuth_deg + jitter) % 360.0,
        elevation_deg=float(np.clip(plan.light.elevation_deg + rng.uniform(-4.0, 4.0), 5.0, 85.0)),
    )
    fill = plan.product_fill * float(rng.uniform(0.94, 1.06))
    x = plan.product_x + float(rng.uniform(-0.03, 0.03))
    horizon = plan.horizon_shift + float(rng.uniform(-0.025, 0.025))
    step = index % 4
    if step == 1:
        light = replace(light, azimuth_deg=(180.0 - light.azimuth_deg) % 360.0)
        horizon += 0.06
    elif step == 2:
        fill *= 1.15
        x += 0.08 if rng.random() < 0.5 else -0.08
    elif step == 3:
        light = replace(light, azimuth_deg=(light.azimuth_deg + 35.0) % 360.0)
        horizon -= 0.06
    viewpoint = plan.viewpoint
    return replace(
        plan,
        light=light,
        product_fill=float(np.clip(fill, 0.3, 0.9)),
        product_x=float(np.clip(x, 0.3, 0.7)),
        horizon_shift=float(np.clip(horizon, -0.15, 0.15)),
        viewpoint=viewpoint if fixed_viewpoint or viewpoint is not None else None,
    )


_DEFAULT_HORIZON: dict[str, float] = {"eye_level": 0.55, "three_quarter": 0.38}


def scene_spec(
    plan: ScenePlan,
    viewpoint: Viewpoint,
    size: tuple[int, int],
    seed: int,
    *,
    plate: np.ndarray | None = None,
    plate_surface: tuple[float, float, float, float] | None = None,
) -> SceneSpec:
    """The renderable scene of `plan` at `size`, seen from `viewpoint` (the plan's, or guessed)."""
    width, height = size
    # Texture scale: the product (about _PRODUCT_CM tall) fills product_fill of the frame height.
    px_per_cm = max(0.6, plan.product_fill * height / _PRODUCT_CM)
    surface = _maker(plan.surface, plan.surface_colors, px_per_cm) if plan.surface else None
    wall = _maker(plan.wall, (plan.wall_colour,), px_per_cm * 0.7) if plan.wall else None
    pattern = None
    if plan.pattern != "none" and plan.pattern_strength > 0:
        angle = float(np.random.default_rng((seed + 11) % (2**63)).uniform(-25.0, 25.0))
        side = max(width, height)
        pattern = render_light_pattern(
            plan.pattern, (side, side), seed, softness=0.1 + 0.3 * plan.light.softness, angle_deg=angle
        )
    horizon = None
    if viewpoint in _DEFAULT_HORIZON:
        horizon = float(np.clip(_DEFAULT_HORIZON[viewpoint] + plan.horizon_shift, 0.12, 0.8))
    light = plan.light
    return SceneSpec(
        camera=Camera(viewpoint=viewpoint, horizon=horizon, focus_blur=plan.focus_blur),
        light=Light(
            azimuth_deg=light.azimuth_deg,
            elevation_deg=light.elevation_deg,
            softness=light.softness,
            temperature_k=light.temperature_k,
            strength=light.strength,
            pattern=pattern,
            pattern_strength=plan.pattern_strength if pattern is not None else 0.0,
        ),
        surface=surface,
        wall=wall,
        wall_colour=plan.wall_colour,
        surface_colour=plan.surface_colors[0] if plan.surface_colors else (214, 208, 198),
        surface_gloss=surface_gloss(plan),
        plate=plate,
        plate_surface=plate_surface,
        product_fill=plan.product_fill,
        product_x=plan.product_x,
        harmony=HarmonizeSpec(),
    )


def _maker(kind: str, colors: tuple[RGB, ...], px_per_cm: float) -> Any:
    def make(size: tuple[int, int], seed: int) -> np.ndarray:
        return render_material(kind, size, seed, colors=colors, px_per_cm=px_per_cm)  # type: ignore[arg-type]

    return make


def describe_plan(plan: ScenePlan, viewpoint: str) -> dict[str, Any]:
    """What a job records of its scene (History, `jobs show --json`): plain, stable fields."""
    record: dict[str, Any] = {
        "camera": viewpoint,
        "surface": plan.surface or "paper sweep",
        "wall": plan.wall or "painted wall",
        "light": plan.light.name,
        "light_direction_deg": round(plan.light.azimuth_deg, 1),
        "light_height_deg": round(plan.light.elevation_deg, 1),
        "light_softness": round(plan.light.softness, 2),
        "colour_temperature_k": int(plan.light.temperature_k),
        "light_pattern": plan.pattern,
        "gloss": round(surface_gloss(plan), 2),
    }
    if plan.place:
        record["place"] = plan.place
        record["place_approximated"] = plan.approximated
    return record


def light_direction_words(azimuth_deg: float) -> str:
    """'from the left', 'from behind'... for summaries."""
    a = math.radians(azimuth_deg)
    x, y = math.cos(a), math.sin(a)
    if abs(y) > abs(x):
        return "from behind" if y > 0 else "from the front"
    return "from the right" if x > 0 else "from the left"
