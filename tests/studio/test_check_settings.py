"""The output checks' settings: on/off, OCR, thresholds from the environment or [checks]."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.check_settings import read_check_settings
from studio.settings import SettingsError, load_settings


def test_defaults_are_on_with_no_overrides() -> None:
    settings = read_check_settings({}, {})
    assert settings.enabled and settings.ocr and dict(settings.thresholds) == {}


def test_the_environment_wins_over_the_secrets_file() -> None:
    settings = read_check_settings(
        {"STUDIO_CHECK_COLOUR_DE": "8.5", "STUDIO_CHECKS": "off"},
        {"colour_de": 4, "shape_change": 0.1, "ocr": "no"},
    )
    assert not settings.enabled and not settings.ocr
    assert dict(settings.thresholds) == {"colour_de": 8.5, "shape_change": 0.1}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STUDIO_CHECK_COLOUR_DE": "lots"}, "STUDIO_CHECK_COLOUR_DE must be a number from 0.5 to 100"),
        ({"STUDIO_CHECK_SHAPE_CHANGE": "2"}, "STUDIO_CHECK_SHAPE_CHANGE must be from 0.001 to 1, got 2"),
        ({"STUDIO_CHECKS": "maybe"}, "STUDIO_CHECKS must be on or off"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        read_check_settings(env, {})


def test_load_settings_reads_the_checks_table(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[checks]\ntext_similarity = 0.5\n", encoding="utf-8")
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path)}, secrets_path=secrets)
    assert dict(settings.checks.thresholds) == {"text_similarity": 0.5}
    secrets.write_text('checks = "on"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[checks\] in .* must be a table"):
        load_settings({"STUDIO_DATA_DIR": str(tmp_path)}, secrets_path=secrets)
