"""Who may reach the studio: sign-in (`[auth]`), roles (`[access]`) and where the server listens.

Read by `studio.settings` (the only reader of configuration) from the environment
and `secrets.toml`:

- `[auth]`: Streamlit's own `st.login` settings (OpenID Connect). Sign-in is on when
  the section is there; an incomplete section is an error, never "no sign-in".
- `[access]` `admins`, `members`, `viewers` (or `STUDIO_ADMINS`, `STUDIO_MEMBERS`,
  `STUDIO_VIEWERS`, comma-separated): e-mail addresses or domains per role.
- `open_to_network` in `[studio]` (or `STUDIO_OPEN_TO_NETWORK`): listen on every
  interface without sign-in, knowingly. Without it and without sign-in the studio
  listens on 127.0.0.1 only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.people import ROLES, AccessRules
from studio.settings_base import SettingsError

LOOPBACK_ADDRESS = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - chosen only with sign-in or open_to_network
# What st.login needs besides a provider: where the provider sends people back, and the cookie key.
_AUTH_SHARED = ("redirect_uri", "cookie_secret")
_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
_ROLE_SETTINGS = {"admin": "admins", "member": "members", "viewer": "viewers"}
_SPLIT = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class AccessSettings:
    """Sign-in, the roles and the network exposure the studio was configured with."""

    sign_in: bool = False
    # The `[auth.<name>]` provider `st.login` is called with; None: the one in `[auth]` itself.
    provider: str | None = None
    rules: AccessRules = field(default_factory=AccessRules)
    open_to_network: bool = False

    @property
    def serve_address(self) -> str:
        """Where `scripts/start.sh` makes the server listen: every interface only with sign-in
        or the explicit open-to-network setting, else this computer alone."""
        return ALL_INTERFACES if self.sign_in or self.open_to_network else LOOPBACK_ADDRESS

    def may_listen_on(self, address: str | None) -> bool:
        """Whether serving on `address` (Streamlit's `server.address`; None/"" = every interface)
        is allowed by this configuration."""
        return is_loopback(address) or self.sign_in or self.open_to_network


def is_loopback(address: str | None) -> bool:
    """True for addresses only this computer reaches ("127.0.0.1", "::1", "localhost").
    An unset address means every interface, so it is not loopback."""
    text = (address or "").strip().strip("[]").lower()
    if not text:
        return False
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def read_access_settings(
    env: Mapping[str, str], secrets: Mapping[str, Any], open_to_network: bool
) -> AccessSettings:
    """Sign-in from `[auth]`, roles from the environment then `[access]`. Raises `SettingsError`
    when sign-in is half-configured or nobody would be let in."""
    auth = secrets.get("auth")
    rules = _read_rules(env, secrets.get("access", {}))
    if auth is None:
        return AccessSettings(rules=rules, open_to_network=open_to_network)
    if not isinstance(auth, dict):
        raise SettingsError("[auth] in secrets.toml must be a table (see .streamlit/secrets.example.toml)")
    missing = [name for name in _AUTH_SHARED if not str(auth.get(name, "")).strip()]
    named = [key for key, value in auth.items() if isinstance(value, dict) and key != "client_kwargs"]
    provider: str | None = None
    if any(key in auth for key in _PROVIDER_KEYS) or not named:
        section: Mapping[str, Any] = auth
    else:
        provider = named[0]
        section = auth[provider]
    missing += [name for name in _PROVIDER_KEYS if not str(section.get(name, "")).strip()]
    if missing:
        where = f"[auth.{provider}]" if provider else "[auth]"
        raise SettingsError(
            f"sign-in is half configured: {where} in secrets.toml lacks {', '.join(missing)}; "
            "fill them in (see .streamlit/secrets.example.toml) or remove [auth] to turn sign-in off"
        )
    if rules.empty:
        raise SettingsError(
            "sign-in is configured but nobody has a role: list e-mail addresses or domains under "
            "[access] admins / members / viewers in secrets.toml (or STUDIO_ADMINS, STUDIO_MEMBERS, "
            "STUDIO_VIEWERS)"
        )
    return AccessSettings(sign_in=True, provider=provider, rules=rules, open_to_network=open_to_network)


def _read_rules(env: Mapping[str, str], section: Any) -> AccessRules:
    if not isinstance(section, dict):
        raise SettingsError("[access] in secrets.toml must be a table with admins, members and viewers")
    lists: dict[str, tuple[str, ...]] = {}
    for role in ROLES:
        name = _ROLE_SETTINGS[role]
        from_env = env.get(f"STUDIO_{name.upper()}", "").strip()
        value: Any = from_env if from_env else section.get(name, ())
        if isinstance(value, str):
            entries = [entry for entry in _SPLIT.split(value) if entry]
        elif isinstance(value, list | tuple):
            entries = [str(entry) for entry in value]
        else:
            raise SettingsError(f"[access] {name} must be a list of e-mail addresses or domains")
        lists[name] = tuple(entries)
    return AccessRules(admins=lists["admins"], members=lists["members"], viewers=lists["viewers"])
