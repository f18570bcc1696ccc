"""Names of the local engine's scene parts (lights, surfaces, places, light patterns) in the
user's language, for pages that describe what a job's set was made of.

The English names are the engine's own keys (`providers.local_scene_plan`); the Chinese ones
come from the same tables, so a new light or place needs no page change.
"""

from __future__ import annotations

from typing import Literal

from providers.local_scene_plan import LIGHTS, PAINTING_PROVIDERS, PLACES

Part = Literal["light", "surface", "place", "pattern"]
# The cloud providers whose generators paint a described place.
PAINTING_PROVIDER_NAMES: tuple[str, ...] = PAINTING_PROVIDERS

_SURFACES_ZH = {
    "marble": "大理石",
    "wood": "木",
    "linen": "亚麻布",
    "cotton": "棉布",
    "concrete": "水泥",
    "terrazzo": "水磨石",
    "stone": "石材",
    "paper": "纸",
    "sand": "沙",
    "plain": "素色",
    "paper sweep": "无缝纸",
}
_PATTERNS_ZH = {"window": "窗格", "blinds": "百叶窗", "leaves": "树叶"}


def scene_label(part: Part, name: str, language: str) -> str:
    """`name` (an engine key such as "golden hour" or "kitchen") as the user reads it."""
    if language != "zh":
        return name
    if part == "light" and name in LIGHTS:
        return LIGHTS[name].name_zh
    if part == "place" and name in PLACES:
        return PLACES[name].name_zh
    if part == "surface":
        return _SURFACES_ZH.get(name, name)
    if part == "pattern":
        return _PATTERNS_ZH.get(name, name)
    return name
