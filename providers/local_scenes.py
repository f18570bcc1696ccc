"""The local engine's scene catalogue: named recipes (backdrop, floor, light, shadow, palette).

A scene is a fixed recipe, the offline counterpart of a vendor's scene
template. `scene_style(recipe, seed)` turns it into the same `PromptStyle` a
prompt produces (the backdrop jittered within the scene's palette, so variants
differ but stay on theme), and `render_scene_thumbnail` draws the scene with a
neutral placeholder product so the catalogue shows each scene's floor, light
and shadow, not just its colour.

The recipes, with their English and Chinese names, are data in
providers/data/scenes.json; this module reads them and turns them into pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from imaging.backdrops import BackdropSpec, render_backdrop
from imaging.compose import ComposeSpec, Layout, ShadowSpec, compose
from imaging.scene import place_product, render_scene
from providers.local_scene_plan import scene_spec
from providers.local_vocabulary import (
    RGB,
    Effect,
    PromptStyle,
    VocabEntry,
    jitter_backdrop,
    jitter_compose,
    plan_scene,
)

SceneCategory = Literal["studio", "home", "nature", "luxury", "festive", "tech"]
SCENE_CATEGORIES: tuple[SceneCategory, ...] = ("studio", "home", "nature", "luxury", "festive", "tech")


@dataclass(frozen=True)
class SceneRecipe:
    """One named scene. `palette` holds the colours variants may lean towards."""

    scene_id: str
    name_en: str
    name_zh: str
    category: SceneCategory
    backdrop: BackdropSpec
    layout: Layout
    shadow: ShadowSpec
    light_wrap: float = 0.3
    reflection: float = 0.0
    palette: tuple[RGB, ...] = ()
    # The photographic set: a named light (providers.local_scene_plan.LIGHTS), a light pattern
    # across it, and a camera angle (None: the product photo's own).
    light: str = "studio softbox"
    pattern: str | None = None
    viewpoint: str | None = None


# The catalogue is data (providers/data/scenes.json): names, categories and recipes.
_DATA = Path(__file__).parent / "data" / "scenes.json"


def _colours(raw: list[list[int]]) -> tuple[RGB, ...]:
    return tuple((int(r), int(g), int(b)) for r, g, b in raw)


def _layout(raw: dict[str, Any], presets: dict[str, dict[str, Any]]) -> Layout:
    fields = dict(raw)
    preset = fields.pop("preset", None)
    if preset is not None:
        fields = {**{k: v for k, v in presets[preset].items() if k != "about"}, **fields}
    if "margins" in fields:
        fields["margins"] = tuple(fields["margins"])
    return Layout(**fields)


def _recipe(raw: dict[str, Any], presets: dict[str, dict[str, Any]]) -> SceneRecipe:
    if raw["category"] not in SCENE_CATEGORIES:
        raise ValueError(f"scene {raw['id']!r}: unknown category {raw['category']!r}")
    backdrop = dict(raw["backdrop"])
    if "colors" in backdrop:
        backdrop["colors"] = _colours(backdrop["colors"])
    if "light" in backdrop:
        backdrop["light"] = tuple(backdrop["light"])
    optional = {
        key: raw[key] for key in ("light_wrap", "reflection", "light", "pattern", "viewpoint") if key in raw
    }
    if "palette" in raw:
        optional["palette"] = _colours(raw["palette"])
    return SceneRecipe(
        scene_id=raw["id"],
        name_en=raw["en"],
        name_zh=raw["zh"],
        category=raw["category"],
        backdrop=BackdropSpec(**backdrop),
        layout=_layout(raw["layout"], presets),
        shadow=ShadowSpec(**raw["shadow"]),
        **optional,
    )


def _load() -> tuple[tuple[SceneRecipe, ...], SceneRecipe, dict[str, str]]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    presets = data["layout_presets"]
    scenes = tuple(_recipe(raw, presets) for raw in data["scenes"])
    return scenes, _recipe(data["plate"], presets), data["summary"]


SCENES, _PLATE, _SUMMARY = _load()
_BY_ID: dict[str, SceneRecipe] = {recipe.scene_id: recipe for recipe in SCENES}


def scene_by_id(scene_id: str) -> SceneRecipe:
    """The recipe for `scene_id`; KeyError names every known id."""
    try:
        return _BY_ID[scene_id]
    except KeyError:
        raise KeyError(f"unknown scene '{scene_id}'; known scenes: {', '.join(_BY_ID)}") from None


def scene_compose(recipe: SceneRecipe) -> ComposeSpec:
    """The recipe's composition before any variant jitter."""
    return ComposeSpec(
        layout=recipe.layout,
        shadow=recipe.shadow,
        reflection=recipe.reflection,
        light_wrap=recipe.light_wrap,
    )


def scene_style(recipe: SceneRecipe, seed: int) -> PromptStyle:
    """The scene as a style for one variant: backdrop jittered towards the scene's palette, and the
    photographic set it describes (the recipe's light, pattern and camera)."""
    backdrop = jitter_backdrop(recipe.backdrop, seed, recipe.palette)
    compose = jitter_compose(scene_compose(recipe), seed)
    look = VocabEntry(
        recipe.scene_id,
        "lighting",
        (),
        (),
        Effect(light_name=recipe.light, pattern=recipe.pattern, viewpoint=recipe.viewpoint),
    )
    return PromptStyle(
        backdrop=backdrop,
        compose=compose,
        summary=_SUMMARY["en"].format(name=recipe.name_en),
        summary_zh=_SUMMARY["zh"].format(name=recipe.name_zh),
        scene=plan_scene([look], backdrop, compose),
    )


def plate_recipe() -> SceneRecipe:
    """The recipe of a job placed on the user's own backdrop photo: the photo is the set, so only
    the light (for the shadow) and the product's placement come from here."""
    return _PLATE


def render_scene_thumbnail(recipe: SceneRecipe, size: tuple[int, int] = (240, 240)) -> np.ndarray:
    """The scene as its jobs make it, with a neutral placeholder product standing in its set, lit,
    with its shadow and reflection (H, W, 3 uint8): the catalogue shows the photograph, not a swatch."""
    width, height = size
    product = _placeholder_product()
    plan = scene_style(recipe, 0).scene
    if plan is None:
        backdrop = render_backdrop(recipe.backdrop, (width, height), seed=0)
        return compose(product, backdrop, scene_compose(recipe)).rgb
    viewpoint = plan.viewpoint or "three_quarter"
    spec = scene_spec(plan, viewpoint, (width, height), 0)
    return place_product(render_scene(spec, (width, height), 0), product, spec, 0).rgb


def _placeholder_product() -> np.ndarray:
    """A grey rounded box with a little shading: reads as "a product" without suggesting one."""
    width, height, supersample = 110, 180, 4
    mask = np.zeros((height * supersample, width * supersample), dtype=np.uint8)
    radius = 16 * supersample
    x1, y1 = width * supersample - 1, height * supersample - 1
    cv2.rectangle(mask, (radius, 0), (x1 - radius, y1), 255, -1)
    cv2.rectangle(mask, (0, radius), (x1, y1 - radius), 255, -1)
    for cx, cy in (
        (radius, radius),
        (x1 - radius, radius),
        (radius, y1 - radius),
        (x1 - radius, y1 - radius),
    ):
        cv2.circle(mask, (cx, cy), radius, 255, -1)
    alpha = cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA)
    across = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    down = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    # Lit from the upper left: lighter on that side, a touch darker towards the base.
    shade = 150.0 - 28.0 * across - 16.0 * down + 18.0 * (1.0 - across**2)
    grey = np.clip(shade, 0, 255).astype(np.uint8)
    return np.dstack([grey, grey, grey, alpha])
