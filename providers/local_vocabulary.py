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

docs/local-vocabulary.md is generated from this data by
`vocabulary_table_markdown()`; a test fails when the two drift apart.
"""

from __future__ import annotations

import colorsys
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar

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
CATEGORY_ORDER: tuple[Category, ...] = (
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
)
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


def _colour(key: str, en: Iterable[str], zh: Iterable[str], *rgb: RGB) -> VocabEntry:
    return VocabEntry(key, "colour", tuple(en), tuple(zh), Effect(colors=tuple(rgb)))


_COLOURS: tuple[VocabEntry, ...] = (
    _colour("white", ["white", "snow white"], ["白", "白色", "纯白", "雪白"], (246, 246, 244)),
    _colour("black", ["black", "jet black"], ["黑", "黑色", "纯黑"], (28, 28, 30)),
    _colour("grey", ["grey", "gray", "charcoal"], ["灰", "灰色", "深灰", "炭灰"], (150, 150, 153)),
    _colour("light grey", ["light grey", "light gray"], ["浅灰", "浅灰色", "银灰"], (222, 222, 224)),
    _colour("silver", ["silver", "metallic"], ["银", "银色", "金属"], (198, 201, 206)),
    _colour(
        "beige",
        ["beige", "nude", "tan"],
        ["米色", "米白", "杏色", "裸色", "沙色"],
        (230, 214, 190),
    ),
    _colour("cream", ["cream", "ivory", "off white"], ["奶油", "奶油色", "象牙白", "奶白"], (245, 236, 214)),
    _colour("red", ["red", "crimson", "scarlet"], ["红", "红色", "大红", "正红"], (196, 32, 46)),
    _colour("burgundy", ["burgundy", "wine", "maroon"], ["酒红", "酒红色", "勃艮第红"], (110, 22, 40)),
    _colour("pink", ["pink", "blush", "rose"], ["粉", "粉色", "粉红", "粉红色"], (240, 180, 196)),
    _colour("rose gold", ["rose gold"], ["玫瑰金"], (224, 172, 152)),
    _colour("orange", ["orange", "tangerine"], ["橙", "橙色", "橘色", "橘"], (236, 130, 50)),
    _colour("coral", ["coral", "peach"], ["珊瑚", "珊瑚色", "桃色", "蜜桃"], (246, 142, 118)),
    _colour("yellow", ["yellow", "lemon"], ["黄", "黄色", "柠檬黄", "鹅黄"], (244, 206, 70)),
    _colour(
        "gold", ["gold", "golden", "champagne"], ["金", "金色", "黄金", "香槟", "香槟色"], (205, 165, 75)
    ),
    _colour("green", ["green", "emerald"], ["绿", "绿色", "森林绿", "翠绿"], (62, 140, 86)),
    _colour("sage", ["sage", "olive"], ["橄榄绿", "灰绿", "鼠尾草绿", "抹茶"], (156, 170, 130)),
    _colour("mint", ["mint", "pistachio"], ["薄荷", "薄荷绿", "开心果绿"], (190, 232, 210)),
    _colour(
        "teal",
        ["teal", "turquoise", "cyan", "aqua"],
        ["青", "青色", "蓝绿", "湖蓝", "蒂芙尼蓝"],
        (36, 150, 152),
    ),
    _colour("blue", ["blue", "cobalt", "royal blue"], ["蓝", "蓝色", "宝蓝", "克莱因蓝"], (52, 110, 200)),
    _colour(
        "sky blue",
        ["sky blue", "light blue", "baby blue"],
        ["天蓝", "天蓝色", "浅蓝", "淡蓝"],
        (172, 212, 240),
    ),
    _colour(
        "navy",
        ["navy", "navy blue", "dark blue", "midnight blue"],
        ["藏青", "深蓝", "藏蓝", "海军蓝"],
        (24, 38, 78),
    ),
    _colour("purple", ["purple", "violet", "plum"], ["紫", "紫色", "深紫"], (118, 70, 160)),
    _colour("lavender", ["lavender", "lilac"], ["薰衣草", "薰衣草紫", "淡紫", "丁香紫"], (206, 192, 232)),
    _colour(
        "brown",
        ["brown", "coffee", "chocolate", "mocha"],
        ["棕", "棕色", "咖啡", "咖啡色", "巧克力", "褐色"],
        (118, 80, 56),
    ),
    _colour("caramel", ["caramel", "camel", "cognac"], ["焦糖", "焦糖色", "驼色"], (190, 132, 74)),
    _colour(
        "pastel",
        ["pastel", "pastels", "macaron", "candy"],
        ["马卡龙", "马卡龙色", "糖果色"],
        (248, 204, 214),
        (202, 236, 222),
        (216, 206, 242),
    ),
)

_MATERIALS: tuple[VocabEntry, ...] = (
    VocabEntry(
        "marble",
        "material",
        ("marble", "marbled", "onyx", "vein", "veined"),
        ("大理石", "云石", "大理石纹"),
        Effect(kind="marble", colors=((242, 240, 236), (138, 138, 144)), reflection=0.12, floor=True),
    ),
    VocabEntry(
        "wood",
        "material",
        ("wood", "wooden", "timber", "oak", "plank", "planks"),
        ("木", "木纹", "实木", "木头", "木质", "原木", "橡木", "木板"),
        Effect(kind="wood", colors=((206, 160, 112), (140, 92, 54)), angle=0.0, warmth=0.1, floor=True),
    ),
    VocabEntry(
        "walnut",
        "material",
        ("walnut", "dark wood", "mahogany"),
        ("胡桃木", "黑胡桃", "深色木", "红木"),
        Effect(kind="wood", colors=((128, 86, 60), (64, 40, 27)), angle=0.0, floor=True),
    ),
    VocabEntry(
        "linen",
        "material",
        ("linen", "fabric", "cloth", "textile", "canvas"),
        ("亚麻", "布", "布艺", "棉麻", "麻布", "织物", "帆布"),
        Effect(kind="linen", colors=((226, 216, 196),), shadow="drop", shadow_softness=0.7),
    ),
    VocabEntry(
        "concrete",
        "material",
        ("concrete", "cement", "plaster", "industrial"),
        ("水泥", "混凝土", "工业风"),
        Effect(kind="concrete", colors=((176, 176, 173),), floor=True),
    ),
    VocabEntry(
        "paper",
        "material",
        ("paper", "cardstock"),
        ("纸", "纸张", "纸质", "宣纸"),
        Effect(kind="paper", colors=((240, 236, 228),), shadow="drop", shadow_softness=0.6),
    ),
    VocabEntry(
        "kraft paper",
        "material",
        ("kraft", "kraft paper", "cardboard"),
        ("牛皮纸", "纸板", "瓦楞纸"),
        Effect(kind="paper", colors=((190, 150, 106), (120, 88, 58)), warmth=0.1, shadow="drop"),
    ),
)

_BACKDROPS: tuple[VocabEntry, ...] = (
    VocabEntry(
        "white background",
        "backdrop",
        ("white background", "white backdrop", "pure white", "marketplace", "amazon", "cutout"),
        ("白底", "纯白背景", "白色背景", "纯白底", "白底图", "电商主图"),
        Effect(kind="white", shadow="contact", shadow_opacity=0.3, light_wrap=0.0),
    ),
    VocabEntry(
        "studio sweep",
        "backdrop",
        ("studio", "sweep", "seamless", "cyclorama", "infinity"),
        ("摄影棚", "影棚", "棚拍", "无缝背景", "无影墙"),
        Effect(kind="sweep", floor=True),
    ),
    VocabEntry(
        "gradient",
        "backdrop",
        ("gradient", "ombre", "fade"),
        ("渐变", "渐变色", "过渡色"),
        Effect(kind="linear"),
    ),
    VocabEntry(
        "radial glow",
        "backdrop",
        ("radial", "halo", "glow"),
        ("径向", "光晕", "光圈"),
        Effect(kind="radial", light=(0.5, 0.4)),
    ),
    VocabEntry(
        "plain",
        "backdrop",
        ("plain", "solid", "flat", "single colour", "single color"),
        ("纯色", "单色", "素色", "净色"),
        Effect(kind="solid"),
    ),
)

_MOODS: tuple[VocabEntry, ...] = (
    VocabEntry(
        "warm",
        "mood",
        ("warm", "cozy", "cosy"),
        ("温暖", "暖", "暖色", "暖调", "暖色调", "温馨"),
        Effect(colors=((238, 222, 200),), warmth=0.5, light=(0.32, 0.25)),
    ),
    VocabEntry(
        "cool",
        "mood",
        ("cool", "cold", "icy"),
        ("冷", "冷色", "冷调", "冷色调", "清冷"),
        Effect(colors=((222, 230, 238),), warmth=-0.5),
    ),
    VocabEntry(
        "luxury",
        "mood",
        ("luxury", "luxurious", "elegant", "premium", "high end", "upscale"),
        ("高级", "奢华", "轻奢", "高端", "优雅", "大牌", "贵气"),
        Effect(
            kind_hint="marble",
            colors=((240, 238, 234), (150, 150, 156), (201, 168, 92)),
            vignette=0.25,
            reflection=0.2,
            shadow_softness=0.6,
        ),
    ),
    VocabEntry(
        "minimal",
        "mood",
        ("minimal", "minimalist", "clean", "simple", "neat"),
        ("简约", "极简", "干净", "简洁", "简单", "性冷淡"),
        Effect(kind_hint="sweep", colors=((240, 240, 240),), saturation=0.7, vignette=0.0, shadow="contact"),
    ),
    VocabEntry(
        "fresh",
        "mood",
        ("fresh", "spring", "springtime", "airy"),
        ("清新", "春", "春天", "春季", "春日", "小清新"),
        Effect(
            kind_hint="linear", colors=((226, 244, 232), (196, 230, 214)), lightness=0.05, light=(0.7, 0.2)
        ),
    ),
    VocabEntry(
        "summer",
        "mood",
        ("summer", "tropical"),
        ("夏", "夏天", "夏季", "夏日", "海洋", "热带"),
        Effect(
            kind_hint="linear",
            colors=((150, 205, 236), (240, 226, 196)),
            angle=90.0,
            light=(0.7, 0.15),
            light_name="noon sun",
        ),
    ),
    VocabEntry(
        "autumn",
        "mood",
        ("autumn", "fall", "harvest"),
        ("秋", "秋天", "秋季", "秋日", "丰收"),
        Effect(kind_hint="linear", colors=((226, 170, 112), (150, 88, 52)), warmth=0.3),
    ),
    VocabEntry(
        "winter",
        "mood",
        ("winter", "snow", "snowy", "frost"),
        ("冬", "冬天", "冬季", "冬日", "雪", "雪景", "冰雪"),
        Effect(kind_hint="radial", colors=((240, 246, 252), (190, 208, 228)), warmth=-0.3, light=(0.5, 0.3)),
    ),
    VocabEntry(
        "christmas",
        "mood",
        ("christmas", "xmas", "holiday", "holidays"),
        ("圣诞", "圣诞节", "平安夜"),
        Effect(
            kind_hint="radial",
            colors=((176, 28, 38), (96, 12, 22), (206, 168, 74)),
            vignette=0.4,
            grain=0.2,
            light=(0.5, 0.35),
        ),
    ),
    VocabEntry(
        "festive",
        "mood",
        ("festive", "new year", "lunar new year", "celebration", "party"),
        ("节日", "新年", "春节", "喜庆", "过年", "年货", "红火"),
        Effect(
            kind_hint="radial",
            colors=((214, 40, 44), (140, 14, 22), (236, 190, 90)),
            warmth=0.2,
            vignette=0.35,
            light=(0.5, 0.35),
        ),
    ),
    VocabEntry(
        "natural",
        "mood",
        ("natural", "organic", "earthy", "botanical"),
        ("自然", "天然", "有机", "原生态", "植物"),
        Effect(kind_hint="linen", colors=((222, 212, 190), (150, 164, 128)), warmth=0.15),
    ),
    VocabEntry(
        "sunset",
        "mood",
        ("sunset", "sunrise", "dusk", "twilight"),
        ("日落", "晚霞", "黄昏", "日出", "落日"),
        Effect(
            kind_hint="linear",
            colors=((255, 184, 120), (240, 124, 150), (112, 82, 164)),
            angle=90.0,
            light_name="sunset",
        ),
    ),
    VocabEntry(
        "dark",
        "mood",
        ("dark", "moody", "low key", "night", "noir"),
        ("暗调", "暗黑", "暗色", "深色", "低调", "夜晚", "黑夜"),
        Effect(
            kind_hint="radial",
            colors=((58, 60, 68), (14, 14, 18)),
            lightness=-0.35,
            vignette=0.5,
            shadow_opacity=0.6,
            light=(0.5, 0.3),
        ),
    ),
    VocabEntry(
        "tech",
        "mood",
        ("tech", "technology", "futuristic", "digital", "cyber"),
        ("科技", "科技感", "未来", "数码", "赛博"),
        Effect(
            kind_hint="linear",
            colors=((36, 44, 72), (8, 10, 18)),
            reflection=0.35,
            floor=True,
            light_wrap=0.5,
        ),
    ),
    VocabEntry(
        "soft",
        "mood",
        ("soft", "muted", "gentle", "dreamy"),
        ("柔和", "温柔", "低饱和", "梦幻", "朦胧"),
        Effect(lightness=0.12, saturation=0.6, shadow_softness=0.8),
    ),
)

_LIGHTING: tuple[VocabEntry, ...] = (
    VocabEntry(
        "soft light",
        "lighting",
        ("soft light", "soft lighting", "diffused", "diffused light"),
        ("柔光", "柔和光", "漫射光", "散射光"),
        Effect(
            shadow_softness=0.85, shadow_opacity=0.35, light_wrap=0.35, vignette=0.08, light_name="soft light"
        ),
    ),
    VocabEntry(
        "hard light",
        "lighting",
        ("hard light", "hard", "harsh", "dramatic", "contrasty", "high contrast", "harsh light"),
        ("硬光", "戏剧", "戏剧性", "强对比", "高反差"),
        Effect(
            shadow="drop",
            shadow_softness=0.12,
            shadow_opacity=0.6,
            shadow_direction=35.0,
            vignette=0.35,
            light_name="hard light",
        ),
    ),
    VocabEntry(
        "backlight",
        "lighting",
        ("backlight", "backlit", "back light", "rim light", "rim lighting", "rim"),
        ("逆光", "背光", "轮廓光", "边缘光"),
        Effect(
            kind_hint="radial",
            light=(0.5, 0.28),
            light_wrap=0.75,
            shadow="contact",
            vignette=0.3,
            light_name="backlight",
        ),
    ),
    VocabEntry(
        "window light",
        "lighting",
        ("window light", "window", "natural light", "daylight"),
        ("窗光", "窗边", "自然光", "窗户光"),
        Effect(
            light=(0.18, 0.22),
            shadow="drop",
            shadow_direction=150.0,
            shadow_softness=0.6,
            light_name="window light",
        ),
    ),
    VocabEntry(
        "spotlight",
        "lighting",
        ("spotlight", "spot light", "spotlit", "stage light"),
        ("聚光", "聚光灯", "射灯", "舞台光"),
        Effect(
            kind_hint="radial",
            light=(0.5, 0.38),
            vignette=0.6,
            shadow="contact",
            shadow_opacity=0.55,
            light_name="spotlight",
        ),
    ),
    VocabEntry(
        "sunlight",
        "lighting",
        ("sunlight", "sunlit", "sunny", "sunshine", "sun"),
        ("阳光", "日光", "太阳"),
        Effect(
            warmth=0.55,
            light=(0.15, 0.18),
            shadow="drop",
            shadow_direction=155.0,
            shadow_softness=0.3,
            tint=0.15,
            light_name="afternoon sun",
        ),
    ),
)

_SURFACES: tuple[VocabEntry, ...] = (
    VocabEntry(
        "reflection",
        "surface",
        (
            "reflection",
            "reflections",
            "reflective",
            "glossy",
            "gloss",
            "mirror",
            "mirrored",
            "shiny",
            "acrylic",
        ),
        ("倒影", "镜面", "反光", "亮面", "光面", "镜像", "亚克力"),
        Effect(reflection=0.35, floor=True),
    ),
    VocabEntry(
        "on a surface",
        "surface",
        (
            "table",
            "tabletop",
            "podium",
            "pedestal",
            "platform",
            "plinth",
            "counter",
            "desk",
            "floor",
            "shelf",
        ),
        ("台面", "展台", "桌面", "桌上", "桌子", "底座", "地面", "台子", "柜台", "桌"),
        Effect(floor=True),
    ),
    VocabEntry(
        "flat lay",
        "surface",
        ("flat lay", "flatlay", "top view", "overhead", "top down"),
        ("平铺", "俯拍", "俯视", "顶视"),
        Effect(floor=False, shadow="drop", shadow_direction=135.0, viewpoint="flat_lay"),
    ),
)

_SHADOWS: tuple[VocabEntry, ...] = (
    VocabEntry(
        "drop shadow",
        "shadow",
        ("drop shadow", "cast shadow", "long shadow", "shadow", "shadows"),
        ("投影", "阴影", "影子", "长投影"),
        Effect(shadow="drop"),
    ),
    VocabEntry(
        "soft shadow",
        "shadow",
        ("soft shadow", "soft shadows"),
        ("柔和阴影", "柔影", "软阴影"),
        Effect(shadow="drop", shadow_softness=0.85, shadow_opacity=0.35),
    ),
    VocabEntry(
        "contact shadow",
        "shadow",
        ("contact shadow", "grounded", "grounding shadow"),
        ("接触阴影", "接地阴影", "底部阴影"),
        Effect(shadow="contact"),
    ),
)

_NEGATIVES: tuple[VocabEntry, ...] = (
    VocabEntry(
        "no shadow",
        "negative",
        ("no shadow", "no shadows", "without shadow", "without shadows", "shadowless", "shadow free"),
        ("不要阴影", "无阴影", "没有阴影", "去掉阴影", "去阴影", "无影", "不要影子", "没有影子", "无投影"),
        Effect(shadow="none"),
    ),
    VocabEntry(
        "no reflection",
        "negative",
        ("no reflection", "no reflections", "without reflection", "without reflections", "matte", "matt"),
        ("不要倒影", "无倒影", "没有倒影", "去掉倒影", "不要反光", "无反光", "哑光", "磨砂"),
        Effect(reflection=0.0),
    ),
)


def _data_entries() -> tuple[VocabEntry, ...]:
    """The scene words kept as data (providers/data/scene_words.json): light, patterns, places..."""
    raw = json.loads((Path(__file__).parent / "data" / "scene_words.json").read_text(encoding="utf-8"))
    entries = []
    for item in raw["entries"]:
        effect = dict(item["effect"])
        if "colors" in effect:
            effect["colors"] = tuple(tuple(int(c) for c in rgb) for rgb in effect["colors"])
        entries.append(
            VocabEntry(item["key"], item["category"], tuple(item["en"]), tuple(item["zh"]), Effect(**effect))
        )
    return tuple(entries)


VOCABULARY: tuple[VocabEntry, ...] = (
    *_COLOURS,
    *_MATERIALS,
    *_BACKDROPS,
    *_MOODS,
    *_LIGHTING,
    *_SURFACES,
    *_SHADOWS,
    *_NEGATIVES,
    *_data_entries(),
)

# Words that carry no look of their own: never reported as ignored.
# Split from text: a word list reads better as prose than as one quoted item per line.
STOP_WORDS_EN: frozenset[str] = frozenset(
    """a an the with and or on in of for to at by from into onto over under some very really lots
    little bit style styled background backgrounds backdrop backdrops scene scenes setting
    photo photos photograph image picture shot product products look feel vibe vibes theme
    tone toned like that this is are be as it its please make give put place set use using me
    my our plus color colour colors colours colored coloured light lighting tones shade shades
    hue""".split()  # noqa: SIM905
)
# Longest first in the same scan as the vocabulary, so "背景图" goes before "背景".
STOP_WORDS_ZH: frozenset[str] = frozenset(
    """背景图 背景 风格 场景 效果 产品 商品 图片 照片 主图 画面 氛围 质感 系列 非常 比较 一个 一些 色调 的
    在 和 与 及 跟 或 上 中 里 下 是 有 个 一 些 把 让 请 要 用 做 给 带 加 配 色 风 感 款 很
    超 更 着 了 吧 呢 啊 光 调""".split()  # noqa: SIM905
)

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
        summary += "; " + scene_summary(scene)
        summary_zh += "；" + scene_summary_zh(scene)
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


def scene_summary(plan: ScenePlan) -> str:
    light = f"{plan.light.name} {light_direction_words(plan.light.azimuth_deg)}, {int(plan.light.temperature_k)} K"
    parts = [f"{plan.surface or 'paper sweep'} table" if plan.surface else "paper sweep", light]
    if plan.pattern != "none":
        parts.append(f"{plan.pattern} light pattern")
    if plan.place:
        parts.append(f"studio approximation of a {plan.place}")
    if plan.viewpoint:
        parts.append(f"{plan.viewpoint.replace('_', ' ')} camera")
    return "scene: " + ", ".join(parts)


_PATTERN_ZH = {"window": "窗格光影", "blinds": "百叶窗光影", "leaves": "树叶光影"}
_SURFACE_ZH = {
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
}
_VIEW_ZH = {"eye_level": "平视", "three_quarter": "斜俯视", "flat_lay": "平铺俯拍"}


def scene_summary_zh(plan: ScenePlan) -> str:
    parts = [f"{_SURFACE_ZH.get(plan.surface, plan.surface)}台面" if plan.surface else "无缝纸背景"]
    parts.append(f"{plan.light.name_zh}（色温{int(plan.light.temperature_k)}开）")
    if plan.pattern != "none":
        parts.append(_PATTERN_ZH[plan.pattern])
    if plan.place:
        parts.append(f"以影棚近似{PLACES[plan.place].name_zh}")
    if plan.viewpoint:
        parts.append(f"{_VIEW_ZH.get(plan.viewpoint, plan.viewpoint)}机位")
    return "场景：" + "，".join(parts)


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
        why = "empty prompt" if empty else "no recognised words"
        why_zh = "未填写描述" if empty else "没有识别到的词"
        backdrop = BackdropSpec(kind="sweep", colors=NEUTRAL_GREY, vignette=0.1)
        compose = ComposeSpec(layout=Layout(vertical="floor"), shadow=ShadowSpec(kind="contact"))
        return (
            backdrop,
            compose,
            f"{why}: neutral light-grey studio sweep, soft contact shadow",
            f"{why_zh}：浅灰影棚无缝背景，柔和接触阴影",
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
    return backdrop, compose, _summary(kind, entries, compose), _summary_zh(kind, entries, compose)


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


_KIND_LABELS: dict[str, str] = {
    "white": "pure white (RGB 255) backdrop",
    "solid": "plain colour backdrop",
    "linear": "gradient backdrop",
    "radial": "radial glow backdrop",
    "sweep": "studio sweep backdrop",
    "marble": "marble backdrop",
    "wood": "wood backdrop",
    "linen": "linen backdrop",
    "concrete": "concrete backdrop",
    "paper": "paper backdrop",
    "photo": "reference photo backdrop",
}


_KIND_LABELS_ZH: dict[str, str] = {
    "white": "纯白（RGB 255）背景",
    "solid": "纯色背景",
    "linear": "渐变背景",
    "radial": "径向光晕背景",
    "sweep": "影棚无缝背景",
    "marble": "大理石背景",
    "wood": "木纹背景",
    "linen": "亚麻布背景",
    "concrete": "水泥背景",
    "paper": "纸张背景",
    "photo": "参考图背景",
}
_SHADOW_ZH = {"none": "无投影", "contact": "接触阴影", "drop": "柔和投影"}


def _summary_zh(kind: BackdropKind, entries: list[VocabEntry], compose: ComposeSpec) -> str:
    """The same reading as `_summary`, for the Chinese UI; entries are named by their first Chinese form."""
    parts = [_KIND_LABELS_ZH[kind]]
    colours = [entry.zh[0] for entry in entries if entry.category == "colour" and entry.zh]
    if colours and kind != "white":
        parts.append("、".join(colours) + "色调")
    parts += [entry.zh[0] + "氛围" for entry in entries if entry.category == "mood" and entry.zh]
    parts += [entry.zh[0] for entry in entries if entry.category == "lighting" and entry.zh]
    parts.append(_SHADOW_ZH.get(compose.shadow.kind, compose.shadow.kind))
    if compose.reflection > 0:
        parts.append("倒影")
    if compose.layout.vertical == "floor":
        parts.append("商品立于地面线")
    return "，".join(parts)


def _summary(kind: BackdropKind, entries: list[VocabEntry], compose: ComposeSpec) -> str:
    parts = [_KIND_LABELS[kind]]
    colours = [entry.key for entry in entries if entry.category == "colour"]
    if colours and kind != "white":
        parts.append(f"{' + '.join(colours)} palette")
    parts += [f"{entry.key} mood" for entry in entries if entry.category == "mood"]
    parts += [entry.key for entry in entries if entry.category == "lighting"]
    shadow = compose.shadow.kind
    parts.append("no shadow" if shadow == "none" else f"{shadow} shadow")
    if compose.reflection > 0:
        parts.append("reflection")
    if compose.layout.vertical == "floor":
        parts.append("product on the floor line")
    return ", ".join(parts)


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
    titles = {
        "colour": "Colours",
        "material": "Materials",
        "backdrop": "Backdrop shapes",
        "mood": "Moods and seasons",
        "lighting": "Lighting and time of day",
        "pattern": "Light patterns",
        "surface": "Surfaces",
        "place": "Places (approximated in the studio, or your own backdrop by tag)",
        "camera": "Camera angle",
        "shadow": "Shadows",
        "negative": "Negatives (switch things off)",
    }
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
        sections.append(f"### {titles[category]}\n\n" + "\n".join(rows))
    return "\n\n".join(sections) + "\n"
