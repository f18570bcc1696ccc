"""The local engine reads prompts and scenes exactly as recorded: a guard for moving words around.

`local_readings.json` holds, for varied English and Chinese prompts (and every
scene) at two seeds, the reading's summaries and words plus a SHA-256 of the
whole `PromptStyle` repr (backdrop spec, composition, scene plan). Moving the
vocabulary between code and data must not change a byte of it. A deliberate
change of a reading (a new word, a retuned colour) rewrites the record:

    .venv/bin/python -m tests.providers.test_local_readings --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from providers.local_scenes import SCENES, plate_recipe, scene_by_id, scene_style
from providers.local_vocabulary import PromptStyle, interpret_prompt

RECORD = Path(__file__).resolve().parent / "local_readings.json"
SEEDS = (0, 3)
PROMPTS = (
    "white marble with soft morning light", "白色大理石", "无阴影的木纹背景", "warm cozy wood table, no shadow",
    "luxury black and gold", "高级黑金大理石 夕阳", "pastel macaron candy gradient", "马卡龙色 渐变 背景",
    "pure white background for amazon", "白底图 电商主图", "concrete industrial cool tone", "水泥 工业风 冷色调",
    "linen fabric with window light", "亚麻 布艺 百叶窗光影", "kraft paper cardboard", "牛皮纸 纸板",
    "studio sweep seamless grey", "影棚 无缝背景 灰色", "radial glow navy blue", "径向 光晕 藏青",
    "sage olive green mood", "抹茶 灰绿 清新", "christmas festive red gold", "圣诞 节日 红色 金色",
    "beach sand summer", "沙滩 夏天", "kitchen counter morning", "厨房 台面 早晨", "flat lay top view", "平铺俯拍",
    "no reflection matte", "哑光 不要倒影", "golden hour backlight", "黄金时刻 金色逆光", "dramatic dark moody",
    "暗调 戏剧", "spring flowers pink", "春天 花 粉色", "tech blue neon", "科技 蓝色 霓虹", "terrazzo stone",
    "水磨石 石材", "zebra unicorn spaceship", "独角兽 宇宙飞船", "", "   ", "a photo of the product on a table",
    "请给我一个背景", "rose gold walnut dark wood", "玫瑰金 胡桃木", "light grey sky blue mint", "浅灰 天蓝 薄荷绿",
    "soft light leaves shadow", "树叶光影 柔光", "eye level camera bathroom", "平视 浴室", "coffee shop cafe warm",
    "咖啡馆 温暖", "white white white marble marble", "Snow White,  Jet-Black; TEAL!!", "noon sun harsh direct",
    "正午 直射 阳光", "three quarter view office desk", "斜俯视 办公桌",
    "without shadows, shadowless gradient ombre fade", "去掉阴影 没有倒影 纯色 单色",
)  # fmt: skip


def _reading(style: PromptStyle) -> dict[str, Any]:
    return {
        "summary": style.summary,
        "summary_zh": style.summary_zh,
        "used": list(style.used),
        "unknown": list(style.unknown),
        "sha256": hashlib.sha256(repr(style).encode("utf-8")).hexdigest(),
    }


def readings() -> dict[str, dict[str, Any]]:
    found = {
        f"prompt {seed} {prompt!r}": _reading(interpret_prompt(prompt, seed))
        for prompt in PROMPTS
        for seed in SEEDS
    }
    for recipe in (*SCENES, plate_recipe()):
        for seed in SEEDS:
            found[f"scene {seed} {recipe.scene_id}"] = _reading(scene_style(recipe, seed))
    return found


@pytest.fixture(scope="module")
def now() -> dict[str, dict[str, Any]]:
    return readings()


RECORDED: dict[str, dict[str, Any]] = json.loads(RECORD.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_the_reading_is_as_recorded(case: str, now: dict[str, dict[str, Any]]) -> None:
    assert now[case] == RECORDED[case]


def test_the_record_covers_every_case(now: dict[str, dict[str, Any]]) -> None:
    assert sorted(now) == sorted(RECORDED)
    assert len(RECORDED) >= 100 and scene_by_id("pure-white") in SCENES


if __name__ == "__main__" and "--write" in sys.argv:
    RECORD.write_text(json.dumps(readings(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
