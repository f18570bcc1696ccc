"""The local scene catalogue: enough distinct scenes, each renders, variants stay on theme."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from imaging.backdrops import render_backdrop
from imaging.compose import compose
from providers import local_scenes
from providers.local_scenes import (
    SCENE_CATEGORIES,
    SCENES,
    SceneRecipe,
    plate_recipe,
    render_scene_thumbnail,
    scene_by_id,
    scene_style,
)


def _product() -> np.ndarray:
    product = np.zeros((120, 80, 4), dtype=np.uint8)
    product[10:110, 15:65] = (200, 120, 60, 255)
    return product


def test_catalogue_has_at_least_twelve_scenes_with_unique_slugs() -> None:
    ids = [recipe.scene_id for recipe in SCENES]
    assert len(SCENES) >= 12
    assert len(set(ids)) == len(ids)
    for recipe in SCENES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", recipe.scene_id)
        assert recipe.category in SCENE_CATEGORIES
        assert recipe.name_en.strip()
        assert re.search(r"[\u4e00-\u9fff]", recipe.name_zh)


def test_catalogue_spans_the_categories_and_required_looks() -> None:
    assert {recipe.category for recipe in SCENES} == set(SCENE_CATEGORIES)
    kinds = {recipe.backdrop.kind for recipe in SCENES}
    assert {"white", "sweep", "marble", "wood", "linen", "concrete", "linear", "radial"} <= kinds


def test_scene_by_id_finds_scenes_and_names_the_choices_when_it_cannot() -> None:
    assert scene_by_id("marble-vanity").backdrop.kind == "marble"
    with pytest.raises(KeyError, match="pure-white"):
        scene_by_id("no-such-scene")


@pytest.mark.parametrize("recipe", SCENES, ids=lambda recipe: recipe.scene_id)
def test_every_scene_renders_a_variant(recipe: SceneRecipe) -> None:
    style = scene_style(recipe, 3)
    backdrop = render_backdrop(style.backdrop, (300, 400), 3)
    result = compose(_product(), backdrop, style.compose)
    assert result.rgb.shape == (400, 300, 3)
    x, y, w, h = result.product_box
    assert x >= 0 and x + w <= 300 and y >= 0 and y + h <= 400
    assert recipe.name_en in style.summary


@pytest.mark.parametrize("recipe", SCENES, ids=lambda recipe: recipe.scene_id)
def test_scene_variants_are_reproducible_and_differ(recipe: SceneRecipe) -> None:
    def render(seed: int) -> np.ndarray:
        return render_backdrop(scene_style(recipe, seed).backdrop, (160, 160), seed).astype(int)

    assert np.array_equal(render(5), render(5))
    if recipe.backdrop.kind == "white":
        assert (render(5) == 255).all() and (render(6) == 255).all()
    else:
        assert np.abs(render(5) - render(6)).mean() > 3.0


def test_thumbnails_show_a_placeholder_and_differ_from_each_other() -> None:
    thumbnails = {recipe.scene_id: render_scene_thumbnail(recipe).astype(int) for recipe in SCENES}
    for scene_id, thumb in thumbnails.items():
        assert thumb.shape == (240, 240, 3), scene_id
        centre = thumb[100:140, 100:140]
        # The grey placeholder stands in the middle of every thumbnail, tinted at most a little by
        # the scene's light (it is harmonised like a product).
        assert np.abs(centre - centre.mean(axis=2, keepdims=True)).max() < 24, scene_id
    ids = list(thumbnails)
    for i, first in enumerate(ids):
        for second in ids[i + 1 :]:
            difference = np.abs(thumbnails[first] - thumbnails[second]).mean()
            assert difference > 4.0, f"{first} and {second} thumbnails look alike"


def test_pure_white_scene_is_marketplace_white_with_a_contact_shadow() -> None:
    recipe = scene_by_id("pure-white")
    thumb = render_scene_thumbnail(recipe)
    assert (thumb[:10] == 255).all()
    assert recipe.shadow.kind == "contact"


def test_the_catalogue_is_data_and_names_every_scene_in_both_languages() -> None:
    # The recipes live in providers/data/scenes.json: the module holds no scene names of its own.
    source = Path(local_scenes.__file__).read_text(encoding="utf-8")
    assert not re.search(r"[\u4e00-\u9fff]", source)
    plate = plate_recipe()
    assert plate.name_en == "Your backdrop" and plate.name_zh == "我的背景" and plate not in SCENES


def test_a_scene_with_an_unknown_category_is_refused() -> None:
    raw = {"id": "x", "en": "X", "zh": "叉", "category": "space", "backdrop": {"kind": "white"}}
    with pytest.raises(ValueError, match="unknown category 'space'"):
        local_scenes._recipe({**raw, "layout": {}, "shadow": {}}, {})
