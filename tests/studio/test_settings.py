"""Settings: environment over secrets.toml over defaults, validation, and secrets that never show."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from studio.settings import PROJECT_ROOT, Secret, SettingsError, env_name, load_settings

NO_PROVIDERS: dict[str, tuple[str, ...]] = {}


def write_secrets(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({}, tmp_path / "missing.toml", NO_PROVIDERS)
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'studio.db'}"
    assert settings.model_path == PROJECT_ROOT / "models" / "u2netp.onnx"
    assert (settings.max_pixels, settings.worker_threads, settings.poll_tick_s) == (40_000_000, 2, 0.25)
    assert settings.default_language == "en"
    assert settings.sources["data_dir"] == "default"
    # The install provides a CJK font (noto-cjk in the venv, or Debian's package).
    assert settings.cjk_font_path is not None and settings.cjk_font_path.is_file()


def test_environment_wins_over_secrets_which_win_over_defaults(tmp_path: Path) -> None:
    secrets = write_secrets(
        tmp_path,
        f"""
[studio]
data_dir = "{tmp_path / "from-secrets"}"
lang = "zh"
max_pixels = 1000000
""",
    )
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "from-env")}, secrets, NO_PROVIDERS)
    assert settings.data_dir == tmp_path / "from-env" and settings.sources["data_dir"] == "env"
    assert settings.default_language == "zh" and settings.sources["default_language"] == "secrets"
    assert settings.max_pixels == 1_000_000
    assert settings.worker_threads == 2 and settings.sources["worker_threads"] == "default"


def test_every_env_variable_is_read(tmp_path: Path) -> None:
    env = {
        "STUDIO_DATA_DIR": str(tmp_path / "d"),
        "DATABASE_URL": "postgresql://studio:hunter2@db.internal/studio",
        "STUDIO_U2NETP_PATH": str(tmp_path / "m.onnx"),
        "STUDIO_CJK_FONT": str(tmp_path / "f.ttc"),
        "STUDIO_MAX_PIXELS": "5_000_000",
        "STUDIO_WORKER_THREADS": "4",
        "STUDIO_LANG": "ZH",
    }
    settings = load_settings(env, tmp_path / "none.toml", NO_PROVIDERS)
    assert settings.database_url.endswith("hunter2@db.internal/studio")
    assert settings.model_path == tmp_path / "m.onnx" and settings.cjk_font_path == tmp_path / "f.ttc"
    assert (settings.max_pixels, settings.worker_threads, settings.default_language) == (5_000_000, 4, "zh")


def test_database_password_never_shows(tmp_path: Path) -> None:
    settings = load_settings(
        {"DATABASE_URL": "postgresql://studio:hunter2@db/studio"}, tmp_path / "x.toml", NO_PROVIDERS
    )
    assert "hunter2" not in repr(settings)
    assert settings.safe_database_url == "postgresql://studio:•••@db/studio"


def test_provider_credentials_from_env_and_secrets_are_masked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = write_secrets(
        tmp_path, '[aidge]\naccess_key = "AK-from-file"\nsecret = "S-from-file"\n[other]\nx = "1"\n'
    )
    env = {"AIDGE_SECRET": "S-from-env"}
    settings = load_settings(env, secrets, {"aidge": ("access_key", "secret", "region")})
    assert settings.credentials_for("aidge") == {"access_key": "AK-from-file", "secret": "S-from-env"}
    assert "other" not in settings.credentials  # only known providers' sections are credentials
    assert settings.missing_credentials("aidge", ("access_key", "secret", "region")) == ("region",)
    shown = repr(settings) + str(settings.credentials) + f"{settings.credentials['aidge']['secret']}"
    for value in ("AK-from-file", "S-from-env", "S-from-file"):
        assert value not in shown
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("settings: %s", settings)
    assert "S-from-env" not in caplog.text


def test_secret_reveals_only_on_request() -> None:
    secret = Secret("abc")
    assert (repr(secret), str(secret), f"{secret}") == ("Secret('•••')", "•••", "•••")
    assert secret.reveal() == "abc" and secret == Secret("abc") and bool(Secret("")) is False
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STUDIO_MAX_PIXELS": "lots"}, "STUDIO_MAX_PIXELS is 'lots', not a whole number"),
        ({"STUDIO_WORKER_THREADS": "0"}, "STUDIO_WORKER_THREADS is 0; it must be at least 1"),
        ({"STUDIO_LANG": "fr"}, "STUDIO_LANG is 'fr'; use one of: en, zh"),
    ],
)
def test_bad_values_say_which_setting_and_how_to_fix_it(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env, tmp_path / "none.toml", NO_PROVIDERS)


def test_a_broken_secrets_file_is_reported_without_its_content(tmp_path: Path) -> None:
    secrets = write_secrets(tmp_path, '[aidge]\nsecret = "S3CRET\n')
    with pytest.raises(SettingsError, match="is not valid TOML") as caught:
        load_settings({}, secrets, NO_PROVIDERS)
    assert "S3CRET" not in str(caught.value)


def test_aidge_settings_from_the_registry_env_first_then_secrets(tmp_path: Path) -> None:
    secrets = write_secrets(
        tmp_path,
        '[aidge]\naccess_key_name = "from-file"\naccess_key_secret = "file-secret"\n'
        'api_base = "https://cn-api.aidc-ai.com"\ntrial = "true"\nprice_scene = "0.10 USD"\n',
    )
    settings = load_settings(
        {"AIDGE_ACCESS_KEY_SECRET": "env-secret", "AIDGE_PRICE_MODEL": "0.2 USD"}, secrets
    )
    assert settings.credentials_for("aidge") == {
        "access_key_name": "from-file",
        "access_key_secret": "env-secret",
    }
    assert settings.options_for("aidge") == {
        "api_base": "https://cn-api.aidc-ai.com",
        "trial": "true",
        "price_scene": "0.10 USD",
        "price_model": "0.2 USD",
    }
    # Non-secret settings are plain values; they never land among the masked credentials.
    assert "api_base" not in settings.credentials["aidge"]
    assert "env-secret" not in repr(settings) and "file-secret" not in repr(settings)


def test_the_example_secrets_file_documents_every_provider_setting() -> None:
    from providers import REGISTRY

    text = (PROJECT_ROOT / ".streamlit" / "secrets.example.toml").read_text(encoding="utf-8")
    for key, cls in REGISTRY.items():
        if not cls.required_credentials():
            continue
        assert f"[{key}]" in text
        for name in (*cls.required_credentials(), *cls.optional_settings):
            assert f"{name} =" in text and env_name(key, name, cls.env_names) in text, name
        for operation in cls.operations:
            assert f"price_{operation} =" in text


def test_a_provider_may_name_its_environment_variables(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "TENCENTCLOUD_SECRET_ID": "sid",
            "TENCENT_AIART_SECRET_ID": "ignored",
            "TENCENTCLOUD_REGION": "ap-shanghai",
        },
        tmp_path / "none.toml",
        {"tencent_aiart": ("secret_id", "secret_key")},
        {"tencent_aiart": ("region",)},
        {"tencent_aiart": {"secret_id": "TENCENTCLOUD_SECRET_ID", "region": "TENCENTCLOUD_REGION"}},
    )
    assert settings.credentials_for("tencent_aiart") == {"secret_id": "sid"}
    assert settings.options_for("tencent_aiart") == {"region": "ap-shanghai"}
    assert settings.env_var("tencent_aiart", "secret_id") == "TENCENTCLOUD_SECRET_ID"
    assert settings.env_var("tencent_aiart", "secret_key") == "TENCENT_AIART_SECRET_KEY"
    assert settings.missing_credentials("tencent_aiart", ("secret_id", "secret_key")) == ("secret_key",)


def _studio_imports(module: str) -> set[str]:
    tree = ast.parse((PROJECT_ROOT / "studio" / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):  # every import, also those under TYPE_CHECKING or inside functions
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("studio.")}


def test_settings_and_hosting_import_each_other_in_no_direction_that_closes_a_circle() -> None:
    assert "studio.hosting" not in _studio_imports("settings")
    assert not {"studio.settings", "studio.hosting"} & _studio_imports("hosting_settings")
    assert not {"studio.settings", "studio.hosting", "studio.hosting_settings"} & _studio_imports(
        "settings_base"
    )
    assert "studio.settings" not in _studio_imports("hosting")
