"""Virtual model page (explains, links, no dead button) and the settings page (engine status)."""

from __future__ import annotations

from pathlib import Path

from studio.i18n import translate
from studio.service import Studio
from tests.views.conftest import ROOT, open_app, texts


def test_virtual_model_explains_what_to_configure_and_has_no_generate_button(data_dir: Path) -> None:
    for lang in ("en", "zh"):
        at = open_app("views/virtual_model.py", lang=lang)
        assert not at.exception
        assert [button.label for button in at.button] == []
        assert [info.value for info in at.info] == [translate(lang, "model.needs_provider")]
        code = "\n".join(block.value for block in at.code)
        assert "AIDGE_ACCESS_KEY_NAME" in code and "AIDGE_ACCESS_KEY_SECRET" in code
        assert [link.label for link in at.page_link] == [translate(lang, "model.to_settings")]


def test_settings_shows_the_engine_status_and_providers(studio: Studio, data_dir: Path) -> None:
    at = open_app("views/settings.py")
    assert not at.exception
    page = texts(at)
    model = ROOT / "models" / "u2netp.onnx"  # the default here: tests/views/conftest.py chooses fast
    if model.is_file():
        assert translate("en", "settings.model_ok_default", path=str(model)) in page
    else:
        fix = {"path": str(model), "model_key": "u2netp", "env": "STUDIO_U2NETP_PATH"}
        assert translate("en", "settings.model_missing_fix", **fix) in page
    assert str(data_dir) in page
    assert translate("en", "settings.worker_alive") in page
    rows = {row["key"]: row for row in at.dataframe[0].value.to_dict("records")}
    assert rows["local"] == {
        "provider": "Local engine (offline, free)",
        "key": "local",
        "workflows": "Prompt background, Scene background",
        "configured": True,
        "missing": "",
    }
    assert rows["aidge"] == {
        "provider": "Aidge (Alibaba International AI)",
        "key": "aidge",
        "workflows": "Virtual model, Scene background",
        "configured": False,
        "missing": "AIDGE_ACCESS_KEY_NAME, AIDGE_ACCESS_KEY_SECRET",
    }
    # A vendor that names its own variables is listed with those names.
    assert rows["tencent_aiart"]["missing"] == "TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY"
    assert rows["dashscope"]["missing"] == "DASHSCOPE_API_KEY"
    assert rows["dashscope"]["workflows"] == "Prompt background"
    # Input hosting is explained, and says it is not set up.
    assert translate("en", "settings.hosting_title") in page
    assert "Not configured" in page


def test_settings_in_chinese(data_dir: Path) -> None:
    at = open_app("views/settings.py", lang="zh")
    assert not at.exception
    page = texts(at)
    assert translate("zh", "settings.engine_title") in page
    assert "当前会话：**简体中文**" in "\n".join(m.value for m in at.markdown)
