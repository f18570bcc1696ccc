"""Sign-in, roles and the listening address from configuration (studio.access_settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.access_settings import ALL_INTERFACES, LOOPBACK_ADDRESS, AccessSettings, is_loopback
from studio.people import AccessRules
from studio.settings import SettingsError, load_settings

AUTH = """
[auth]
redirect_uri = "https://studio.shop.example/oauth2callback"
cookie_secret = "0123456789abcdef0123456789abcdef"
client_id = "studio"
client_secret = "s3cret"
server_metadata_url = "https://accounts.example/.well-known/openid-configuration"
"""
ACCESS = """
[access]
admins = ["Ana@Shop.example"]
members = ["@shop.example"]
viewers = ["agency.example"]
"""


def settings_from(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> AccessSettings:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(text, encoding="utf-8")
    environ = {"STUDIO_DATA_DIR": str(tmp_path / "data"), **(env or {})}
    return load_settings(environ, secrets, {}, {}, {}).access


def test_nothing_configured_means_no_sign_in_and_loopback_only(tmp_path: Path) -> None:
    access = settings_from(tmp_path, "")
    assert not access.sign_in and not access.open_to_network
    assert access.serve_address == LOOPBACK_ADDRESS
    assert access.may_listen_on("127.0.0.1") and access.may_listen_on("localhost")
    assert not access.may_listen_on("0.0.0.0") and not access.may_listen_on(None)


def test_sign_in_and_roles_come_from_secrets(tmp_path: Path) -> None:
    access = settings_from(tmp_path, AUTH + ACCESS)
    assert access.sign_in and access.provider is None
    assert access.serve_address == ALL_INTERFACES
    assert access.may_listen_on("0.0.0.0")
    assert access.rules.role_for("ana@shop.example") == "admin"
    assert access.rules.role_for("max@SHOP.example") == "member"
    assert access.rules.role_for("vic@agency.example") == "viewer"
    assert access.rules.role_for("eve@elsewhere.example") is None


def test_roles_from_the_environment_win(tmp_path: Path) -> None:
    env = {"STUDIO_ADMINS": "boss@corp.example, ops@corp.example", "STUDIO_VIEWERS": "@corp.example"}
    access = settings_from(tmp_path, AUTH + ACCESS, env)
    assert access.rules.role_for("ops@corp.example") == "admin"
    assert access.rules.role_for("any@corp.example") == "viewer"
    assert access.rules.role_for("ana@shop.example") == "member"  # [access] admins was replaced


def test_a_named_provider_is_what_st_login_is_called_with(tmp_path: Path) -> None:
    named = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "0123456789abcdef0123456789abcdef"
[auth.okta]
client_id = "studio"
client_secret = "s3cret"
server_metadata_url = "https://shop.okta.example/.well-known/openid-configuration"
"""
    assert settings_from(tmp_path, named + ACCESS).provider == "okta"


def test_half_configured_sign_in_is_an_error_that_names_the_missing_keys_not_values(tmp_path: Path) -> None:
    broken = AUTH.replace('client_id = "studio"\n', "")
    with pytest.raises(SettingsError, match="client_id") as caught:
        settings_from(tmp_path, broken + ACCESS)
    assert "s3cret" not in str(caught.value)


def test_sign_in_with_nobody_given_a_role_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="nobody has a role"):
        settings_from(tmp_path, AUTH)


def test_open_to_network_is_explicit(tmp_path: Path) -> None:
    assert settings_from(tmp_path, "", {"STUDIO_OPEN_TO_NETWORK": "true"}).serve_address == ALL_INTERFACES
    from_file = settings_from(tmp_path, "[studio]\nopen_to_network = true\n")
    assert from_file.open_to_network and from_file.may_listen_on("192.168.1.20")
    with pytest.raises(SettingsError, match="STUDIO_OPEN_TO_NETWORK"):
        settings_from(tmp_path, "", {"STUDIO_OPEN_TO_NETWORK": "maybe"})


def test_the_secrets_file_can_be_elsewhere(tmp_path: Path) -> None:
    secrets = tmp_path / "team.toml"
    secrets.write_text(AUTH + ACCESS, encoding="utf-8")
    env = {"STUDIO_DATA_DIR": str(tmp_path / "data"), "STUDIO_SECRETS_FILE": str(secrets)}
    assert load_settings(env, None, {}, {}, {}).access.sign_in


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True), ("127.3.4.5", True),
     ("0.0.0.0", False), ("::", False), ("", False), (None, False), ("192.168.1.20", False),
     ("studio.shop.example", False)],
)  # fmt: skip
def test_is_loopback(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_access_rules_are_normalised() -> None:
    rules = AccessRules(admins=(" Ana@Shop.example ", ""), viewers=("@Agency.example",))
    assert rules.admins == ("ana@shop.example",)
    person = rules.person("ANA@shop.example", "Ana")
    assert person is not None and person.role == "admin" and person.key == "ana@shop.example"
    assert not person.is_local
