"""Every page renders in both languages, and the language choice is remembered."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.i18n import translate
from studio.service import Studio
from tests.views.conftest import open_app, texts

PAGES = {
    "views/prompt_background.py": "page.prompt",
    "views/scene_background.py": "page.scene",
    "views/virtual_model.py": "page.model",
    "views/history.py": "page.history",
    "views/settings.py": "page.settings",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_renders_without_errors_in_both_languages(data_dir: Path, page: str, lang: str) -> None:
    at = open_app(page, lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    assert [title.value for title in at.title] == [translate(lang, f"{PAGES[page]}.title")]
    assert translate(lang, f"{PAGES[page]}.intro") in texts(at)
    # The sidebar is on every page: the language switch and the engine line.
    assert at.sidebar.selectbox(key="ui.lang.widget").value == lang
    sidebar = "\n".join(caption.value for caption in at.sidebar.caption)
    fast = translate(lang, "cutmodel.u2netp")  # tests/views/conftest.py chooses the fast model
    assert translate(lang, "sidebar.engine_model", model=fast) in sidebar
    assert translate(lang, "sidebar.no_pending") in sidebar
    # Nothing reads as a raw string-table key (e.g. "page.prompt.title").
    assert "page." not in texts(at) and "sidebar." not in sidebar


def test_switching_language_relabels_the_page_and_is_stored(studio: Studio) -> None:
    at = open_app("views/history.py", lang=None)
    assert at.title[0].value == "History"
    at.sidebar.selectbox(key="ui.lang.widget").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "历史记录"
    assert at.query_params.get("lang") == "zh"
    assert studio.get_preference("language:local") == "zh"  # the local person's own choice

    # A new session without ?lang= starts in the stored language ...
    fresh = open_app(lang=None)
    assert fresh.title[0].value == "文字生成背景"
    assert fresh.query_params.get("lang") == "zh"
    # ... and a link with ?lang= wins over the stored default.
    linked = open_app(lang="en")
    assert linked.title[0].value == "Prompt background"


def test_unknown_language_in_the_link_falls_back_to_english(data_dir: Path) -> None:
    at = open_app(lang="fr")
    assert not at.exception
    assert at.title[0].value == "Prompt background"
    assert at.query_params.get("lang") == "en"


def test_choices_survive_a_language_switch(data_dir: Path) -> None:
    # The browser keeps a choice by its label; switching language must keep the choice itself.
    at = open_app(lang="en")
    at.radio(key="prompt.shadow.en").set_value("drop")
    at.selectbox(key="prompt.size.en").set_value("750x1000")
    at.run()
    at.sidebar.selectbox(key="ui.lang.widget").set_value("zh").run()
    assert not at.exception
    assert at.radio(key="prompt.shadow.zh").value == "drop"
    assert at.radio(key="prompt.shadow.zh").options == ["按描述自动", "无投影", "接触阴影", "柔和投影"]
    assert at.selectbox(key="prompt.size.zh").value == "750x1000"
    assert at.selectbox(key="prompt.provider.zh").value == "local"


def test_options_are_kept_across_pages_and_language_round_trips(data_dir: Path) -> None:
    at = open_app(lang="en")
    at.text_area(key="prompt.text").input("木纹 桌面")
    at.radio(key="prompt.shadow.en").set_value("contact")
    at.run()
    at.switch_page("views/history.py").run()
    at.sidebar.selectbox(key="ui.lang.widget").set_value("zh").run()
    at.switch_page("views/prompt_background.py").run()
    assert at.text_area(key="prompt.text").value == "木纹 桌面"
    assert at.radio(key="prompt.shadow.zh").value == "contact"
    at.radio(key="prompt.shadow.zh").set_value("none").run()
    at.sidebar.selectbox(key="ui.lang.widget").set_value("en").run()
    assert at.radio(key="prompt.shadow.en").value == "none"


@pytest.mark.parametrize("page", ["views/history.py", "views/settings.py"])
def test_a_deep_link_still_gets_the_app_frame(data_dir: Path, page: str) -> None:
    # Screens live in views/, not pages/, so Streamlit never runs one alone without the sidebar.
    at = open_app(page, lang="zh")
    assert not at.exception
    assert at.title[0].value == translate("zh", f"{PAGES[page]}.title")
    assert at.sidebar.selectbox(key="ui.lang.widget").value == "zh"
