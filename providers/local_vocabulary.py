"""The local engine's prompt vocabulary: English and Chinese words -> a backdrop recipe.

The local engine has no diffusion model, so a prompt is read, not imagined:
every word it understands is an entry in `VOCABULARY` (colours, materials,
backdrop shapes, moods, lighting, surfaces, shadow words and negatives), each
with an `Effect`. `interpret_prompt` finds the entries in a prompt (longest
match first, so "白色大理石" is white + marble and "无阴影" beats "阴影"),
combines their effects into a `BackdropSpec` and a suggested `ComposeSpec`,
and reports which words it used and which it ignored, so the page can say so.

A variant seed nudges hue, lightness, gradient angle, light position and
texture scale a little: variants differ visibly but stay in the prompt's palette.

The words themselves are data, in providers/data/ (vocabulary.json and
scene_words.json): this module only reads them. docs/local-vocabulary.md is
generated from that data by `vocabulary_table_markdown()`; a test fails when
the two drift apart.
"""

from __future__ import annotations

import colorsys
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import numpy as np

from imaging.backdrops import BackdropKind, BackdropSpec
from imaging.compose import ComposeSpec, Layout, ShadowSpec
from providers.local_scene_plan import (
    DEFAULT_LIGHT,
    LIGHTS,
    PLACES,
    PatternKind,
    ScenePlan,
    light_direction_words,
)

RGB = tuple[int, int, int]
Category = Literal[
    "colour",
    "material",
    "backdrop",
    "mood",
    "lighting",
    "pattern",
    "surface",
    "place",
    "camera",
    "shadow",
    "negative",
]
# The docs list the categories in the order the Literal names them.
CATEGORY_ORDER: tuple[Category, ...] = get_args(Category)
ShadowKind = Literal["none", "contact", "drop"]
T = TypeVar("T")

NEUTRAL_GREY: tuple[RGB, ...] = ((236, 236, 236), (212, 212, 215))


@dataclass(frozen=True)
class Effect:
    """What one vocabulary entry changes. Unset fields (None, empty, 0) leave things as they are.

    `kind` is a strong backdrop choice (materials, shapes); `kind_hint` is used only when no
    strong choice was made (a mood or light suggesting a look). `colors` are named colours for
    colour words and a default palette for materials and moods. `warmth` (-1 cool .. 1 warm),
    `lightness` (-1 .. 1) and `saturation` (a factor) adjust the final palette.
    """

    kind: BackdropKind | None = None
    kind_hint: BackdropKind | None = None
    colors: tuple[RGB, ...] = ()
    warmth: float = 0.0
    lightness: float = 0.0
    saturation: float = 1.0
    angle: float | None = None
    light: tuple[float, float] | None = None
    vignette: float | None = None
    grain: float | None = None
    shadow: ShadowKind | None = None
    shadow_opacity: float | None = None
    shadow_softness: float | None = None
    shadow_direction: float | None = None
    reflection: float | None = None
    light_wrap: float | None = None
    tint: float | None = None
    floor: bool | None = None
    # The photographic scene (providers.local_scene_plan): a named light, a light pattern, a
    # surface material the flat backdrops do not have, a place, a camera angle.
    light_name: str | None = None
    pattern: str | None = None
    surface: str | None = None
    place: str | None = None
    viewpoint: str | None = None


@dataclass(frozen=True)
class VocabEntry:
    """One concept with its English and Chinese surface forms (matched case-insensitively)."""

    key: str
    category: Category
    en: tuple[str, ...]
    zh: tuple[str, ...]
    effect: Effect


@dataclass(frozen=True)
class PromptStyle:
    """How a prompt (or a scene) becomes pixels: the backdrop, the suggested composition, and the reading."""

    backdrop: BackdropSpec
    compose: ComposeSpec
    used: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    summary: str = ""
    summary_zh: str = ""
    # The photographic set the reading describes; None for a pure white marketplace image.
    scene: ScenePlan | None = None


# --------------------------------------------------------------------------- the vocabulary
# The words are data (providers/data/): vocabulary.json holds the colours, materials, backdrop
# shapes, moods, lighting, surfaces, shadow words and negatives, the stop words and the labels a
# reading is written with; scene_words.json the words of the photographic set.
_DATA = Path(__file__).parent / "data"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_DATA / name).read_text(encoding="utf-8"))
    return data


def _effect(raw: dict[str, Any]) -> Effect:
    fields = dict(raw)
    if "colors" in fields:
        fields["colors"] = tuple(tuple(int(c) for c in rgb) for rgb in fields["colors"])
    if "light" in fields:
        fields["light"] = tuple(fields["light"])
    return Effect(**fields)


def _entries(raw: dict[str, Any]) -> tuple[VocabEntry, ...]:
    return tuple(
        VocabEntry(
            item["key"], item["category"], tuple(item["en"]), tuple(item["zh"]), _effect(item["effect"])
        )
        for item in raw["entries"]
    )


_WORDS = _load("vocabulary.json")
VOCABULARY: tuple[VocabEntry, ...] = (*_entries(_WORDS), *_entries(_load("scene_words.json")))
# Words that carry no look of their own: never reported as ignored. Chinese ones are matched
# longest first in the same scan as the vocabulary, so "背景图" goes before "背景".
STOP_WORDS_EN: frozenset[str] = frozenset(_WORDS["stop_words"]["en"])
STOP_WORDS_ZH: frozenset[str] = frozenset(_WORDS["stop_words"]["zh"])
# label group -> language -> key -> name, and language -> phrase -> str.format template.
_LABELS: dict[str, dict[str, dict[str, str]]] = _WORDS["labels"]
_PHRASES: dict[str, dict[str, str]] = _WORDS["phrases"]
_KIND_LABELS = _LABELS["kind"]["en"]
_CATEGORY_TITLES: dict[str, str] = _WORDS["categories"]["titles"]

_CJK_CHAR = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK_CHAR}]+|[A-Za-z0-9']+")
_MAX_EN_PHRASE = 3


def _build_indexes() -> tuple[dict[str, VocabEntry], dict[str, VocabEntry]]:
    english: dict[str, VocabEntry] = {}
    chinese: dict[str, VocabEntry] = {}
    for entry in VOCABULARY:
        for form in entry.en:
            english[" ".join(form.lower().split())] = entry
        for form in entry.zh:
            chinese[form] = entry
    return english, chinese


_EN_INDEX, _ZH_INDEX = _build_indexes()
_ZH_LONGEST = max(len(form) for form in (*_ZH_INDEX, *STOP_WORDS_ZH))
_ZH_STOPS = STOP_WORDS_ZH


# --------------------------------------------------------------------------- reading a prompt


@dataclass
class _Reading:
    matches: list[tuple[str, VocabEntry]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _read(prompt: str) -> _Reading:
    """Find vocabulary entries in prompt order: English phrases by words, Chinese runs by longest substring."""
    reading = _Reading()
    tokens = [(m.group(0), m.start()) for m in _TOKEN.finditer(prompt)]
    index = 0
    while index < len(tokens):
        text, _ = tokens[index]
        if re.match(rf"[{_CJK_CHAR}]", text):
            _read_chinese(text, reading)
            index += 1
            continue
        consumed = _read_english(tokens, index, prompt, reading)
        index += consumed
    return reading


def _read_english(tokens: list[tuple[str, int]], start: int, prompt: str, reading: _Reading) -> int:
    # Longest phrase first: "no shadow" before "shadow", "golden hour" before "gold".
    for length in range(_MAX_EN_PHRASE, 0, -1):
        window = tokens[start : start + length]
        if len(window) < length or any(re.match(rf"[{_CJK_CHAR}]", word) for word, _ in window):
            continue
        phrase = " ".join(word.lower() for word, _ in window)
        entry = _EN_INDEX.get(phrase) or (_EN_INDEX.get(phrase[:-1]) if phrase.endswith("s") else None)
        if entry is not None:
            first, last = window[0], window[-1]
            reading.matches.append((prompt[first[1] : last[1] + len(last[0])], entry))
            return length
    word = tokens[start][0]
    if word.lower() not in STOP_WORDS_EN and not word.isdigit():
        reading.unknown.append(word)
    return 1


def _read_chinese(run: str, reading: _Reading) -> None:
    # Multi-character stop words ("背景", "风格") separate words like vocabulary does; single
    # characters ("的", "上") only trim a leftover's ends, so "新品上市" stays one unknown word.
    leftover = ""
    position = 0
    while position < len(run):
        for length in range(min(_ZH_LONGEST, len(run) - position), 0, -1):
            piece = run[position : position + length]
            entry = _ZH_INDEX.get(piece)
            if entry is not None or (length > 1 and piece in _ZH_STOPS):
                _flush_leftover(leftover, reading)
                leftover = ""
                if entry is not None:
                    reading.matches.append((piece, entry))
                position += length
                break
        else:
            leftover += run[position]
            position += 1
    _flush_leftover(leftover, reading)


def _flush_leftover(leftover: str, reading: _Reading) -> None:
    start, end = 0, len(leftover)
    while start < end and leftover[start] in _ZH_STOPS:
        start += 1
    while end > start and leftover[end - 1] in _ZH_STOPS:
        end -= 1
    if start < end:
        reading.unknown.append(leftover[start:end])


# --------------------------------------------------------------------------- building the style


def interpret_prompt(prompt: str, seed: int) -> PromptStyle:
    """Read `prompt` (English, Chinese or both) into a backdrop and a suggested composition.

    Unknown words are reported, never fatal; an empty or unreadable prompt gives a neutral
    light-grey studio sweep. The same prompt and seed always give the same style.
    """
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be text, got {type(prompt).__name__}")
    reading = _read(prompt)
    entries = _unique_entries(entry for _, entry in reading.matches)
    used = tuple(dict.fromkeys(text for text, _ in reading.matches))
    unknown = tuple(dict.fromkeys(reading.unknown))
    backdrop, compose, summary, summary_zh = _combine(entries, prompt)
    backdrop = jitter_backdrop(backdrop, seed)
    compose = jitter_compose(compose, seed)
    scene = plan_scene(entries, backdrop, compose)
    if scene is not None:
        summary += _PHRASES["en"]["then"] + scene_summary(scene)
        summary_zh += _PHRASES["zh"]["then"] + scene_summary_zh(scene)
    return PromptStyle(
        backdrop=backdrop,
        compose=compose,
        used=used,
        unknown=unknown,
        summary=summary,
        summary_zh=summary_zh,
        scene=scene,
    )


# Surfaces the flat backdrops draw and the material the scene's table is made of.
_SURFACE_OF_KIND: dict[str, str] = {
    "marble": "marble",
    "wood": "wood",
    "linen": "linen",
    "concrete": "concrete",
    "paper": "paper",
}


def plan_scene(entries: list[VocabEntry], backdrop: BackdropSpec, compose: ComposeSpec) -> ScenePlan | None:
    """The photographic set of a reading: a table of the named material (or a paper sweep in the
    palette's colours) in front of a wall, lit by the named light. None for pure white, which
    marketplaces want exactly white."""
    if backdrop.kind in ("white", "photo"):
        return None
    effects = [entry.effect for entry in entries]
    place_key = _last(effects, lambda e: e.place)
    place = PLACES.get(place_key) if place_key else None
    surface = _last(effects, lambda e: e.surface) or _SURFACE_OF_KIND.get(backdrop.kind)
    named_material = any(entry.category == "material" for entry in entries)
    palette = tuple(backdrop.colors) or NEUTRAL_GREY
    surface_colors = palette
    material = next((entry for entry in entries if entry.category == "material"), None)
    if material is not None and len(palette) == 1 and len(material.effect.colors) > 1:
        # "white marble": the named colour is the stone's; its veins keep the material's own.
        surface_colors = (palette[0], *material.effect.colors[1:])
    if place is not None and not named_material:
        # A place the engine cannot paint: its usual surface, wall and light, in the prompt's
        # colours when it named some.
        surface = place.surface
        if not any(entry.category == "colour" for entry in entries):
            surface_colors = place.surface_colors
    light_name = _last(effects, lambda e: e.light_name) or (place.light if place else DEFAULT_LIGHT)
    light = LIGHTS[light_name]
    warmth = max(-1.0, min(1.0, sum(effect.warmth for effect in effects)))
    if warmth:
        light = replace(
            light, temperature_k=float(np.clip(light.temperature_k - 900.0 * warmth, 1800, 11000))
        )
    direction = _last(effects, lambda e: e.shadow_direction)
    if direction is not None and _last(effects, lambda e: e.light_name) is None:
        light = replace(light, azimuth_deg=direction)
    pattern_name = _last(effects, lambda e: e.pattern) or (place.pattern if place else None)
    if pattern_name is None and light_name == "window light":
        pattern_name = "window"
    pattern: PatternKind = pattern_name if pattern_name in ("window", "blinds", "leaves") else "none"  # type: ignore[assignment]
    explicit_pattern = _last(effects, lambda e: e.pattern) is not None
    if explicit_pattern and direction is None:
        # Asked-for window, blind or leaf shadows are thrown by a light from the front side, so
        # they fall across the table and the wall behind the product, where the camera sees them.
        light = replace(light, azimuth_deg=215.0, elevation_deg=min(light.elevation_deg, 35.0))
    reflection = _last(effects, lambda e: e.reflection)
    viewpoint = _last(effects, lambda e: e.viewpoint)
    if surface is None:
        # A seamless paper sweep: the wall in the palette's first colour, the floor in its second
        # (or the same paper a shade darker, as light falls off towards the camera).
        # One roll of paper: a second palette colour only tints the floor, as coloured light would;
        # two flat hues meeting at the cove read as a painted set, not a sweep.
        if backdrop.kind == "radial":
            # A radial glow's first colour is its bright centre, its last the colour of the set.
            palette = palette[::-1]
        wall_colour = palette[0]
        floor = _lerp_rgb(palette[0], palette[1], 0.3) if len(palette) > 1 else palette[0]
        surface_colors = (_shift(floor, lightness=-0.05),)
    else:
        wall_colour = place.wall_colour if place is not None else _wall_for(surface_colors[0])
    return ScenePlan(
        surface=surface,
        surface_colors=tuple(surface_colors),
        wall=None,
        wall_colour=wall_colour,
        light=light,
        viewpoint=viewpoint,  # type: ignore[arg-type]
        pattern=pattern,
        pattern_strength=(0.85 if explicit_pattern else 0.55) if pattern != "none" else 0.0,
        gloss=None if reflection is None else min(1.0, reflection * 1.6),
        place=place.name if place is not None else None,
        approximated=place is not None,
    )


def _wall_for(surface: RGB) -> RGB:
    """A plain wall that goes with a table top: the table's hue, quieter, and light unless the
    table is dark (a black marble counter stands in a dark room)."""
    lightness = sum(surface) / (3 * 255)
    if lightness < 0.35:
        return _shift(surface, lightness=0.12, saturation=0.5)
    return _shift(surface, lightness=-0.08 if lightness > 0.85 else 0.15, saturation=0.45)


def part_label(group: str, key: str, language: str) -> str:
    """A scene part's name (a surface, a light pattern, a backdrop kind...) in `language`, as
    readings write it; the key itself where the data has no name for it."""
    return _label(group, language, key)


def _label(group: str, language: str, key: str) -> str:
    """The name of `key` (a backdrop kind, a shadow, a surface ...) in `language`; the key itself if unnamed."""
    return _LABELS[group].get(language, {}).get(key, key)


def _scene_summary(plan: ScenePlan, language: str) -> str:
    say = _PHRASES[language]
    zh = language == "zh"
    surface = _label("surface", language, plan.surface) if plan.surface else None
    parts = [say["table"].format(surface=surface) if surface else say["no_table"]]
    light = plan.light.name_zh if zh else plan.light.name
    direction = light_direction_words(plan.light.azimuth_deg)
    parts.append(say["light"].format(light=light, direction=direction, kelvin=int(plan.light.temperature_k)))
    if plan.pattern != "none":
        parts.append(say["pattern"].format(pattern=_label("pattern", language, plan.pattern)))
    if plan.place:
        parts.append(say["place"].format(place=PLACES[plan.place].name_zh if zh else plan.place))
    if plan.viewpoint:
        parts.append(say["camera"].format(view=_label("viewpoint", language, plan.viewpoint)))
    return say["scene"].format(parts=say["join"].join(parts))


def scene_summary(plan: ScenePlan) -> str:
    return _scene_summary(plan, "en")


def scene_summary_zh(plan: ScenePlan) -> str:
    return _scene_summary(plan, "zh")


def _unique_entries(entries: Iterable[VocabEntry]) -> list[VocabEntry]:
    seen: dict[str, VocabEntry] = {}
    for entry in entries:
        seen.setdefault(entry.key, entry)
    return list(seen.values())


def _of(entries: list[VocabEntry], category: Category) -> list[VocabEntry]:
    return [entry for entry in entries if entry.category == category]


def _last(effects: list[Effect], getter: Callable[[Effect], T | None]) -> T | None:
    """The value set by the last word that sets it: later words refine earlier ones."""
    value: T | None = None
    for effect in effects:
        candidate = getter(effect)
        if candidate is not None:
            value = candidate
    return value


def _combine(entries: list[VocabEntry], prompt: str) -> tuple[BackdropSpec, ComposeSpec, str, str]:
    if not entries:
        empty = not prompt.strip()
        en, zh = _PHRASES["en"], _PHRASES["zh"]
        backdrop = BackdropSpec(kind="sweep", colors=NEUTRAL_GREY, vignette=0.1)
        compose = ComposeSpec(layout=Layout(vertical="floor"), shadow=ShadowSpec(kind="contact"))
        return (
            backdrop,
            compose,
            en["fallback"].format(why=en["empty" if empty else "unread"]),
            zh["fallback"].format(why=zh["empty" if empty else "unread"]),
        )

    colours = _of(entries, "colour")
    materials = _of(entries, "material")
    backdrops = _of(entries, "backdrop")
    moods = _of(entries, "mood")
    effects = [entry.effect for entry in entries]

    # Backdrop kind: an explicit white background wins (marketplace rule), then a material,
    # then a shape word, then a mood's or light's suggestion, then what the colours suggest.
    named = [rgb for entry in colours for rgb in entry.effect.colors]
    kind: BackdropKind
    if any(entry.effect.kind == "white" for entry in backdrops):
        kind = "white"
    elif materials:
        kind = materials[0].effect.kind or "sweep"
    elif backdrops:
        kind = backdrops[0].effect.kind or "sweep"
    else:
        hint = next((effect.kind_hint for effect in effects if effect.kind_hint), None)
        kind = hint or ("linear" if len(named) >= 2 else "sweep")

    # Palette: named colours first; else a mood palette meant for this look (luxury -> gold-veined
    # marble), else the material's own colours, else any mood palette, else neutral grey.
    mood_palettes = [m.effect.colors for m in moods if m.effect.colors]
    matching_mood = next(
        (m.effect.colors for m in moods if m.effect.colors and m.effect.kind_hint == kind), None
    )
    if named:
        palette = named[:3]
    elif matching_mood:
        palette = list(matching_mood)
    elif materials:
        palette = list(materials[0].effect.colors)
    elif mood_palettes:
        palette = list(mood_palettes[0])
    else:
        palette = list(NEUTRAL_GREY)
    if kind in ("linear", "radial") and len(palette) == 1:
        # One colour cannot make a gradient: pair it with a lighter version of itself.
        palette = [_shift(palette[0], lightness=0.3), palette[0]]
    palette = _adjust_palette(palette, effects, kind)

    angle = _last(effects, lambda e: e.angle)
    backdrop = BackdropSpec(
        kind=kind,
        colors=tuple(palette),
        angle_deg=angle if angle is not None else (90.0 if kind == "linear" else 0.0),
        light=_last(effects, lambda e: e.light) or (0.5, 0.3),
        vignette=_last(effects, lambda e: e.vignette) or 0.0,
        grain=_last(effects, lambda e: e.grain) or 0.0,
    )

    floor = _last(effects, lambda e: e.floor)
    on_floor = floor if floor is not None else kind in ("sweep", "marble", "wood", "concrete")
    shadow_kind: ShadowKind = _last(effects, lambda e: e.shadow) or ("contact" if on_floor else "drop")
    shadow = ShadowSpec(
        kind=shadow_kind,
        opacity=_or(_last(effects, lambda e: e.shadow_opacity), 0.42),
        softness=_or(_last(effects, lambda e: e.shadow_softness), 0.5),
        direction_deg=_or(_last(effects, lambda e: e.shadow_direction), 60.0),
    )
    compose = ComposeSpec(
        layout=Layout(mode="center", vertical="floor" if on_floor else "center"),
        shadow=shadow,
        reflection=_or(_last(effects, lambda e: e.reflection), 0.0),
        light_wrap=_or(_last(effects, lambda e: e.light_wrap), 0.3),
        tint=_or(_last(effects, lambda e: e.tint), 0.0),
    )
    return backdrop, compose, _summary(kind, entries, compose), _summary(kind, entries, compose, "zh")


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def _adjust_palette(palette: list[RGB], effects: list[Effect], kind: BackdropKind) -> list[RGB]:
    if kind == "white":
        return [(255, 255, 255)]
    warmth = max(-1.0, min(1.0, sum(effect.warmth for effect in effects)))
    lightness = max(-0.6, min(0.6, sum(effect.lightness for effect in effects)))
    saturation = float(np.prod([effect.saturation for effect in effects]))
    if warmth == 0 and lightness == 0 and saturation == 1.0:
        return palette
    return [_shift(rgb, warmth=warmth, lightness=lightness, saturation=saturation) for rgb in palette]


def _shift(
    rgb: RGB, *, warmth: float = 0.0, lightness: float = 0.0, saturation: float = 1.0, hue: float = 0.0
) -> RGB:
    """Move a colour in HLS; `warmth` pulls its channels towards amber (+) or blue (-)."""
    r, g, b = (channel / 255.0 for channel in rgb)
    if warmth:
        # A white-balance style shift reads as warmer/cooler even on greys, where hue is undefined.
        r, g, b = r * (1 + 0.06 * warmth), g * (1 + 0.01 * warmth), b * (1 - 0.08 * warmth)
        r, g, b = (min(1.0, max(0.0, c)) for c in (r, g, b))
    h, l_, s = colorsys.rgb_to_hls(r, g, b)
    h = (h + hue) % 1.0
    l_ = min(1.0, max(0.0, l_ + lightness * (1.0 - l_ if lightness > 0 else l_)))
    s = min(1.0, max(0.0, s * saturation))
    out = colorsys.hls_to_rgb(h, l_, s)
    return (int(round(out[0] * 255)), int(round(out[1] * 255)), int(round(out[2] * 255)))


def _summary(
    kind: BackdropKind, entries: list[VocabEntry], compose: ComposeSpec, language: str = "en"
) -> str:
    """The reading in words; English names entries by their key, Chinese by their first Chinese form."""
    say = _PHRASES[language]

    def names(category: Category) -> list[str]:
        if language == "en":
            return [entry.key for entry in entries if entry.category == category]
        return [entry.zh[0] for entry in entries if entry.category == category and entry.zh]

    parts = [_label("kind", language, kind)]
    colours = names("colour")
    if colours and kind != "white":
        parts.append(say["palette"].format(colours=say["list"].join(colours)))
    parts += [say["mood"].format(name=name) for name in names("mood")]
    parts += names("lighting")
    parts.append(_label("shadow", language, compose.shadow.kind))
    if compose.reflection > 0:
        parts.append(say["reflection"])
    if compose.layout.vertical == "floor":
        parts.append(say["floor"])
    return say["join"].join(parts)


# --------------------------------------------------------------------------- variants


# Irrational steps: consecutive seeds (a job's variants are base, base+1, ...) land far apart on
# every axis, where plain random draws could put two variants next to each other.
_STEPS = (0.6180339887, 0.4142135624, 0.7320508076, 0.2360679775, 0.6457513111, 0.1622776602, 0.3166247904)


def _spread(seed: int, axis: int) -> float:
    """A well-spread value in -1..1 for `seed` on one jitter axis."""
    # Seed 0 sits at the centre of every range, i.e. the recipe as written.
    return ((seed * _STEPS[axis] + 0.5 + 0.137 * axis) % 1.0) * 2.0 - 1.0


def jitter_backdrop(spec: BackdropSpec, seed: int, palette: tuple[RGB, ...] = ()) -> BackdropSpec:
    """A variant of `spec` for `seed`: small hue/lightness/saturation moves, angle, light and texture scale.

    With a `palette`, each colour also leans (up to a quarter of the way) towards a palette
    colour, so scene variants explore the scene's palette instead of drifting outside it.
    Pure white stays pure white.
    """
    hue = 0.018 * _spread(seed, 0)
    lightness = 0.075 * _spread(seed, 1)
    saturation = 1.0 + 0.12 * _spread(seed, 2)
    angle = spec.angle_deg + 20.0 * _spread(seed, 3)
    light = (
        min(0.9, max(0.1, spec.light[0] + 0.15 * _spread(seed, 4))),
        min(0.8, max(0.05, spec.light[1] + 0.07 * _spread(seed, 5))),
    )
    scale = spec.scale * (1.0 + 0.18 * _spread(seed, 6))
    if spec.kind == "photo":
        return spec
    if spec.kind == "white":
        return replace(spec, light=light)
    lean = 0.125 * (1.0 + _spread(seed, 2))
    pick = seed % max(1, len(palette))
    colours: list[RGB] = []
    for index, rgb in enumerate(spec.colors):
        moved = _shift(rgb, hue=hue, lightness=lightness, saturation=saturation)
        if palette:
            moved = _lerp_rgb(moved, palette[(pick + index) % len(palette)], lean)
        colours.append(moved)
    if spec.kind == "wood":
        # Grain orientation is a choice of the scene (planks across or along); only wobble it.
        angle = spec.angle_deg + 5.0 * _spread(seed, 3)
    return replace(spec, colors=tuple(colours), angle_deg=angle, light=light, scale=scale)


def _lerp_rgb(a: RGB, b: RGB, t: float) -> RGB:
    return (
        int(round(a[0] + (b[0] - a[0]) * t)),
        int(round(a[1] + (b[1] - a[1]) * t)),
        int(round(a[2] + (b[2] - a[2]) * t)),
    )


def jitter_compose(spec: ComposeSpec, seed: int) -> ComposeSpec:
    """A variant of the composition: the light (and so the drop shadow) swings a little."""
    direction = (spec.shadow.direction_deg + 18.0 * _spread(seed, 5)) % 360.0
    return replace(spec, shadow=replace(spec.shadow, direction_deg=direction))


# --------------------------------------------------------------------------- documentation


def describe_effect(effect: Effect) -> str:
    """A short English description of an effect, as shown in docs/local-vocabulary.md."""
    parts: list[str] = []
    if effect.kind == "white":
        parts.append("pure white backdrop (RGB 255), wins over materials")
    elif effect.kind:
        parts.append(f"{_KIND_LABELS[effect.kind].replace(' backdrop', '')} backdrop")
    if effect.kind_hint:
        parts.append(f"suggests a {_KIND_LABELS[effect.kind_hint].replace(' backdrop', '')} backdrop")
    if effect.colors:
        swatches = " ".join(f"`#{r:02X}{g:02X}{b:02X}`" for r, g, b in effect.colors)
        parts.append(f"colour {swatches}" if len(effect.colors) == 1 else f"palette {swatches}")
    if effect.warmth:
        parts.append("warmer" if effect.warmth > 0 else "cooler")
    if effect.lightness:
        parts.append("lighter" if effect.lightness > 0 else "darker")
    if effect.saturation != 1.0:
        parts.append("less saturated" if effect.saturation < 1 else "more saturated")
    if effect.light is not None:
        parts.append(f"key light at ({effect.light[0]:.2f}, {effect.light[1]:.2f})")
    if effect.vignette:
        parts.append(f"vignette {effect.vignette:g}")
    if effect.grain:
        parts.append(f"grain {effect.grain:g}")
    if effect.shadow == "none":
        parts.append("shadow off")
    elif effect.shadow:
        parts.append(f"{effect.shadow} shadow")
    if effect.shadow_softness is not None:
        parts.append(f"shadow softness {effect.shadow_softness:g}")
    if effect.shadow_opacity is not None:
        parts.append(f"shadow opacity {effect.shadow_opacity:g}")
    if effect.shadow_direction is not None:
        parts.append(f"light from {effect.shadow_direction:g}°")
    if effect.reflection is not None:
        parts.append("reflection off" if effect.reflection == 0 else f"reflection {effect.reflection:g}")
    if effect.light_wrap is not None:
        parts.append(f"light wrap {effect.light_wrap:g}")
    if effect.tint:
        parts.append(f"product tint {effect.tint:g}")
    if effect.light_name:
        light = LIGHTS[effect.light_name]
        parts.append(
            f"{light.name}: light {light_direction_words(light.azimuth_deg)} at {light.elevation_deg:g}°, "
            f"softness {light.softness:g}, {light.temperature_k:g} K"
        )
    if effect.pattern:
        parts.append(f"{effect.pattern} light pattern across the set")
    if effect.surface:
        parts.append(f"{effect.surface} table")
    if effect.place:
        place = PLACES[effect.place]
        parts.append(f"a {place.name} approximated: {place.surface or 'paper sweep'}, {place.light}")
    if effect.viewpoint:
        parts.append(f"{effect.viewpoint.replace('_', ' ')} camera")
    if effect.floor:
        parts.append("product stands on the floor line")
    elif effect.floor is False:
        parts.append("product centred, seen from above")
    return "; ".join(parts)


def vocabulary_table_markdown() -> str:
    """The vocabulary as Markdown tables, one per category; docs/local-vocabulary.md embeds this verbatim."""
    sections: list[str] = []
    for category in CATEGORY_ORDER:
        rows = [
            "| Entry | English | 中文 | Effect |",
            "| --- | --- | --- | --- |",
        ]
        for entry in VOCABULARY:
            if entry.category != category:
                continue
            english = ", ".join(entry.en)
            chinese = "、".join(entry.zh)
            rows.append(f"| {entry.key} | {english} | {chinese} | {describe_effect(entry.effect)} |")
        sections.append(f"### {_CATEGORY_TITLES[category]}\n\n" + "\n".join(rows))
    return "\n\n".join(sections) + "\n"
