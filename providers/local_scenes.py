"""The local engine's scene catalogue: named recipes (backdrop, floor, light, shadow, palette).

A scene is a fixed recipe, the offline counterpart of a vendor's scene
template. `scene_style(recipe, seed)` turns it into the same `PromptStyle` a
prompt produces (the backdrop jittered within the scene's palette, so variants
differ but stay on theme), and `render_scene_thumbnail` draws the scene with a
neutral placeholder product so the catalogue shows each scene's floor, light
and shadow, not just its colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


def _floor(fill: float = 0.68, floor_y: float = 0.86) -> Layout:
    return Layout(
        mode="center", fill=fill, margins=(0.08, 0.08, 0.06, 0.08), vertical="floor", floor_y=floor_y
    )


def _centred(fill: float = 0.72) -> Layout:
    return Layout(mode="center", fill=fill, margins=(0.08, 0.08, 0.08, 0.08), vertical="center")


SCENES: tuple[SceneRecipe, ...] = (
    SceneRecipe(
        scene_id="pure-white",
        name_en="Pure white (marketplace main image)",
        name_zh="纯白底（电商主图）",
        category="studio",
        backdrop=BackdropSpec(kind="white"),
        # Marketplaces ask for the product to fill about 85% of a white frame.
        layout=Layout(mode="center", fill=0.85, margins=(0.05, 0.05, 0.05, 0.05)),
        shadow=ShadowSpec(kind="contact", opacity=0.3, softness=0.5),
        light_wrap=0.0,
    ),
    SceneRecipe(
        scene_id="soft-grey-sweep",
        name_en="Soft grey studio sweep",
        name_zh="柔灰影棚",
        category="studio",
        backdrop=BackdropSpec(kind="sweep", colors=((236, 236, 237), (210, 210, 214)), vignette=0.12),
        layout=_floor(),
        shadow=ShadowSpec(kind="contact", opacity=0.45, softness=0.5),
        palette=((228, 228, 232), (242, 242, 240), (218, 222, 228)),
    ),
    SceneRecipe(
        scene_id="warm-beige-sweep",
        name_en="Warm beige studio sweep",
        name_zh="暖米色影棚",
        category="studio",
        backdrop=BackdropSpec(
            kind="sweep", colors=((238, 226, 206), (220, 204, 180)), light=(0.35, 0.25), vignette=0.2
        ),
        layout=_floor(),
        shadow=ShadowSpec(kind="drop", opacity=0.38, softness=0.6, direction_deg=130.0),
        palette=((242, 230, 212), (232, 214, 190), (245, 236, 214)),
        light="morning light",
    ),
    SceneRecipe(
        scene_id="marble-vanity",
        name_en="Marble vanity",
        name_zh="大理石梳妆台",
        category="luxury",
        backdrop=BackdropSpec(kind="marble", colors=((242, 240, 236), (140, 140, 146))),
        layout=_floor(fill=0.62, floor_y=0.84),
        shadow=ShadowSpec(kind="drop", opacity=0.35, softness=0.7, direction_deg=120.0),
        reflection=0.12,
        palette=((246, 244, 240), (236, 232, 226), (150, 150, 158)),
        light="soft light",
        pattern="window",
    ),
    SceneRecipe(
        scene_id="black-gold-marble",
        name_en="Black and gold marble",
        name_zh="黑金大理石",
        category="luxury",
        backdrop=BackdropSpec(
            kind="marble", colors=((30, 30, 34), (186, 186, 192), (206, 168, 80)), vignette=0.3
        ),
        layout=_floor(fill=0.62, floor_y=0.84),
        shadow=ShadowSpec(kind="contact", opacity=0.6, softness=0.5),
        reflection=0.25,
        light_wrap=0.4,
        palette=((24, 24, 28), (40, 38, 36), (210, 176, 96)),
        light="spotlight",
    ),
    SceneRecipe(
        scene_id="oak-tabletop",
        name_en="Oak tabletop",
        name_zh="橡木桌面",
        category="home",
        backdrop=BackdropSpec(kind="wood", colors=((206, 160, 112), (140, 92, 54)), angle_deg=0.0),
        layout=_floor(floor_y=0.84),
        shadow=ShadowSpec(kind="drop", opacity=0.45, softness=0.5, direction_deg=140.0),
        palette=((214, 170, 120), (196, 148, 100), (222, 182, 134)),
        light="window light",
    ),
    SceneRecipe(
        scene_id="walnut-desk",
        name_en="Walnut desk",
        name_zh="胡桃木书桌",
        category="home",
        backdrop=BackdropSpec(
            kind="wood", colors=((128, 86, 60), (64, 40, 27)), angle_deg=0.0, vignette=0.25
        ),
        layout=_floor(floor_y=0.84),
        shadow=ShadowSpec(kind="contact", opacity=0.55, softness=0.5),
        light_wrap=0.35,
        palette=((120, 80, 56), (138, 94, 64), (104, 70, 48)),
        light="golden hour",
    ),
    SceneRecipe(
        scene_id="linen-flatlay",
        name_en="Linen flat lay",
        name_zh="亚麻平铺",
        category="home",
        backdrop=BackdropSpec(kind="linen", colors=((226, 216, 196),), light=(0.3, 0.2), vignette=0.12),
        # Seen from above: no floor line, a short soft shadow to the lower right.
        layout=_centred(),
        shadow=ShadowSpec(kind="drop", opacity=0.35, softness=0.7, direction_deg=135.0, distance=0.04),
        palette=((232, 224, 206), (218, 208, 188), (236, 230, 218)),
        light="soft light",
        viewpoint="flat_lay",
    ),
    SceneRecipe(
        scene_id="concrete-loft",
        name_en="Concrete loft",
        name_zh="水泥工业风",
        category="home",
        backdrop=BackdropSpec(kind="concrete", colors=((172, 172, 170),), light=(0.3, 0.2), vignette=0.3),
        layout=_floor(floor_y=0.85),
        shadow=ShadowSpec(kind="drop", opacity=0.5, softness=0.35, direction_deg=45.0),
        palette=((168, 168, 166), (186, 184, 180), (150, 152, 154)),
        light="hard light",
        pattern="blinds",
    ),
    SceneRecipe(
        scene_id="kraft-paper",
        name_en="Kraft paper",
        name_zh="牛皮纸",
        category="home",
        backdrop=BackdropSpec(kind="paper", colors=((190, 150, 106), (120, 88, 58))),
        layout=_centred(),
        shadow=ShadowSpec(kind="drop", opacity=0.4, softness=0.6, direction_deg=120.0, distance=0.04),
        palette=((196, 156, 112), (182, 140, 96), (204, 168, 124)),
        viewpoint="flat_lay",
    ),
    SceneRecipe(
        scene_id="pastel-pop",
        name_en="Pastel pop",
        name_zh="马卡龙撞色",
        category="studio",
        backdrop=BackdropSpec(kind="linear", colors=((250, 206, 216), (214, 204, 244)), angle_deg=60.0),
        layout=_floor(),
        shadow=ShadowSpec(kind="drop", opacity=0.3, softness=0.8, direction_deg=120.0),
        light_wrap=0.4,
        palette=((248, 204, 214), (202, 236, 222), (216, 206, 242), (252, 222, 196)),
    ),
    SceneRecipe(
        scene_id="mint-spring",
        name_en="Mint spring",
        name_zh="薄荷春日",
        category="nature",
        backdrop=BackdropSpec(kind="sweep", colors=((218, 242, 230), (190, 226, 208)), light=(0.7, 0.2)),
        layout=_floor(),
        shadow=ShadowSpec(kind="contact", opacity=0.35, softness=0.6),
        light_wrap=0.35,
        palette=((206, 238, 220), (232, 246, 236), (246, 240, 200)),
    ),
    SceneRecipe(
        scene_id="sage-botanical",
        name_en="Sage botanical",
        name_zh="鼠尾草绿自然",
        category="nature",
        backdrop=BackdropSpec(kind="linen", colors=((172, 184, 152),), light=(0.25, 0.2), vignette=0.2),
        layout=_centred(),
        shadow=ShadowSpec(kind="drop", opacity=0.4, softness=0.6, direction_deg=140.0, distance=0.05),
        palette=((168, 182, 146), (190, 198, 170), (150, 166, 132)),
        light="afternoon sun",
        pattern="leaves",
    ),
    SceneRecipe(
        scene_id="sunset-gradient",
        name_en="Sunset gradient",
        name_zh="日落渐变",
        category="nature",
        backdrop=BackdropSpec(
            kind="linear", colors=((255, 184, 120), (240, 124, 150), (112, 82, 164)), angle_deg=90.0
        ),
        layout=_centred(fill=0.7),
        shadow=ShadowSpec(kind="drop", opacity=0.32, softness=0.7, direction_deg=160.0),
        light_wrap=0.45,
        palette=((255, 196, 128), (246, 136, 150), (130, 92, 176)),
        light="sunset",
    ),
    SceneRecipe(
        scene_id="ocean-blue",
        name_en="Ocean blue",
        name_zh="海洋蓝",
        category="nature",
        backdrop=BackdropSpec(kind="radial", colors=((198, 230, 250), (34, 94, 168)), light=(0.5, 0.32)),
        layout=_floor(),
        shadow=ShadowSpec(kind="contact", opacity=0.45, softness=0.5),
        reflection=0.2,
        light_wrap=0.4,
        palette=((180, 222, 246), (40, 110, 180), (60, 150, 190)),
    ),
    SceneRecipe(
        scene_id="lavender-dream",
        name_en="Lavender dream",
        name_zh="薰衣草梦境",
        category="nature",
        backdrop=BackdropSpec(kind="radial", colors=((244, 236, 252), (172, 152, 212)), light=(0.5, 0.35)),
        layout=_floor(),
        shadow=ShadowSpec(kind="drop", opacity=0.28, softness=0.9, direction_deg=100.0),
        light_wrap=0.5,
        palette=((232, 220, 248), (206, 192, 232), (240, 214, 232)),
    ),
    SceneRecipe(
        scene_id="christmas-red-gold",
        name_en="Christmas red and gold",
        name_zh="圣诞红金",
        category="festive",
        backdrop=BackdropSpec(
            kind="radial",
            colors=((226, 176, 96), (168, 26, 36), (70, 8, 16)),
            light=(0.5, 0.38),
            vignette=0.3,
            grain=0.25,
        ),
        layout=_floor(floor_y=0.85),
        shadow=ShadowSpec(kind="contact", opacity=0.55, softness=0.5),
        reflection=0.15,
        light_wrap=0.45,
        palette=((176, 28, 38), (206, 168, 74), (120, 16, 26)),
    ),
    SceneRecipe(
        scene_id="new-year-red",
        name_en="Lunar New Year red",
        name_zh="新年喜庆红",
        category="festive",
        backdrop=BackdropSpec(
            kind="sweep", colors=((216, 42, 40), (184, 26, 30)), light=(0.5, 0.25), vignette=0.35
        ),
        layout=_floor(),
        shadow=ShadowSpec(kind="contact", opacity=0.5, softness=0.5),
        light_wrap=0.35,
        palette=((222, 48, 44), (236, 190, 90), (200, 30, 36)),
    ),
    SceneRecipe(
        scene_id="tech-dark",
        name_en="Tech dark gradient",
        name_zh="科技暗调渐变",
        category="tech",
        backdrop=BackdropSpec(
            kind="linear", colors=((40, 48, 80), (8, 10, 18)), angle_deg=90.0, light=(0.5, 0.35), vignette=0.3
        ),
        layout=_floor(fill=0.6, floor_y=0.78),
        shadow=ShadowSpec(kind="contact", opacity=0.6, softness=0.4),
        reflection=0.35,
        light_wrap=0.5,
        palette=((36, 44, 72), (20, 60, 90), (46, 36, 80)),
    ),
    SceneRecipe(
        scene_id="tech-silver",
        name_en="Silver tech",
        name_zh="银色科技",
        category="tech",
        backdrop=BackdropSpec(kind="linear", colors=((240, 242, 246), (172, 178, 190)), angle_deg=90.0),
        layout=_floor(fill=0.62, floor_y=0.8),
        shadow=ShadowSpec(kind="contact", opacity=0.45, softness=0.4),
        reflection=0.3,
        palette=((230, 234, 240), (196, 202, 212), (214, 222, 236)),
    ),
)

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
        summary=f"{recipe.name_en} scene",
        summary_zh=f"{recipe.name_zh}场景",
        scene=plan_scene([look], backdrop, compose),
    )


def plate_recipe() -> SceneRecipe:
    """The recipe of a job placed on the user's own backdrop photo: the photo is the set, so only
    the light (for the shadow) and the product's placement come from here."""
    return _PLATE


_PLATE = SceneRecipe(
    scene_id="user-backdrop",
    name_en="Your backdrop",
    name_zh="我的背景",
    category="studio",
    backdrop=BackdropSpec(kind="sweep", colors=((230, 230, 230), (214, 214, 214))),
    layout=_floor(),
    shadow=ShadowSpec(kind="contact", opacity=0.45, softness=0.5),
)


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
