"""Names of the local engine's scene parts (lights, surfaces, places, light patterns) in the
user's language, for pages that describe what a job's set was made of.

The English names are the engine's own keys (`providers.local_scene_plan`); the Chinese ones
come from the same tables (lights and places from the scene plan, surfaces and light patterns
from the vocabulary data), so a new light or place needs no page change.
"""

from __future__ import annotations

from typing import Literal

from providers.local_scene_plan import LIGHTS, PAINTING_PROVIDERS, PLACES
from providers.local_vocabulary import part_label

Part = Literal["light", "surface", "place", "pattern"]
# The cloud providers whose generators paint a described place.
PAINTING_PROVIDER_NAMES: tuple[str, ...] = PAINTING_PROVIDERS


def scene_label(part: Part, name: str, language: str) -> str:
    """`name` (an engine key such as "golden hour" or "kitchen") as the user reads it."""
    if language != "zh":
        return name
    if part == "light" and name in LIGHTS:
        return LIGHTS[name].name_zh
    if part == "place" and name in PLACES:
        return PLACES[name].name_zh
    if part in ("surface", "pattern"):
        return part_label(part, name, language)
    return name
