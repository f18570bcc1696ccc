"""Configuration: the only module that reads the environment or `.streamlit/secrets.toml`.

Order of precedence for every setting: environment variable, then the
`[studio]` section of `secrets.toml`, then the default. Provider credentials
come from `<PROVIDER>_<NAME>` environment variables (e.g. `AIDGE_ACCESS_KEY`)
or from the provider's own section (`[aidge] access_key = "..."`).

Credentials are wrapped in `Secret`, whose `repr`/`str` is masked, so a
`Settings` object can be logged or shown without leaking them. The database
URL may hold a password too, so it is kept out of `repr` and shown through
`Settings.safe_database_url`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.access_settings import AccessSettings, read_access_settings
from studio.check_settings import CheckSettings, read_check_settings
from studio.hosting_settings import HostingSettings, read_hosting_settings
from studio.settings_base import MASK, SettingsError, mask_url_password
from studio.storage_settings import StorageSettings, read_storage_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SECRETS_PATH = Path(".streamlit/secrets.toml")
DEBIAN_CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
LANGUAGES = ("en", "zh")
# STUDIO_CUTOUT_MODEL: "" (unset) picks best when its model file is there, else fast.
CUTOUT_MODELS = ("", "best", "fast")


class Secret:
    """A credential value that never shows itself: `repr`/`str` are masked, `reveal()` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        # Pickling (e.g. by a cache) must not become a way to print the value by accident.
        raise TypeError("Secret values cannot be pickled")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str = field(repr=False)
    model_path: Path  # u2netp, the "fast" cutout model
    cjk_font_path: Path | None
    # ISNet general-use, the "best" cutout model.
    isnet_path: Path = PROJECT_ROOT / "models" / "isnet.onnx"
    # "best" or "fast" (STUDIO_CUTOUT_MODEL); None: best when the ISNet file is there, else fast.
    cutout_model: str | None = None
    max_pixels: int = 40_000_000
    worker_threads: int = 2
    poll_tick_s: float = 0.25
    # How long a worker's claim on a job lasts without renewal (STUDIO_LEASE_S); after a crash any
    # worker, on any machine, takes the job over once it passed.
    lease_s: float = 60.0
    default_language: str = "en"
    # provider key -> credential name -> value
    credentials: Mapping[str, Mapping[str, Secret]] = field(default_factory=dict)
    # provider key -> non-secret setting name -> value (endpoint, trial flag, price overrides); only those set.
    provider_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # provider key -> setting name -> environment variable, where it is not `<PROVIDER>_<NAME>`.
    env_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Where inputs are put for providers that read them from URLs; None = not configured.
    hosting: HostingSettings | None = None
    # Result links on loopback or private addresses are refused unless this is set: only a test
    # server on this machine (the vendor emulators) needs it. A real vendor's links are public.
    allow_private_links: bool = False
    # Sign-in ([auth]), roles ([access]) and whether the server may listen beyond this computer.
    access: AccessSettings = field(default_factory=AccessSettings)
    # Job files in an S3-compatible bucket (STUDIO_STORAGE=s3://...); None: in the data folder.
    storage: StorageSettings | None = None
    # False (STUDIO_APP_WORKER=false): the app runs no worker; `python -m studio worker` does the jobs.
    app_worker: bool = True
    # The output checks (fidelity against the input product): on/off, OCR, thresholds ([checks]).
    checks: CheckSettings = field(default_factory=CheckSettings)
    # setting name -> "env" | "secrets" | "default": the settings page shows where a value came from.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def safe_database_url(self) -> str:
        """The database URL with any password masked, safe to show or log."""
        return mask_url_password(self.database_url)

    def credentials_for(self, provider: str) -> dict[str, str]:
        """Revealed credentials for one provider, to hand to its adapter and nothing else."""
        return {name: secret.reveal() for name, secret in self.credentials.get(provider, {}).items()}

    def options_for(self, provider: str) -> dict[str, str]:
        """The provider's non-secret settings that are set (env or secrets.toml)."""
        return dict(self.provider_options.get(provider, {}))

    def env_var(self, provider: str, name: str) -> str:
        """The environment variable that sets `name` for `provider` (e.g. AIDGE_ACCESS_KEY_NAME)."""
        return env_name(provider, name, self.env_overrides.get(provider))

    def missing_credentials(self, provider: str, required: Iterable[str]) -> tuple[str, ...]:
        have = self.credentials.get(provider, {})
        return tuple(name for name in required if not have.get(name))


def env_name(provider: str, credential: str, overrides: Mapping[str, str] | None = None) -> str:
    """`env_name("aidge", "access_key") == "AIDGE_ACCESS_KEY"`, unless the provider names it otherwise."""
    if overrides and credential in overrides:
        return overrides[credential]
    return f"{provider}_{credential}".upper().replace("-", "_")


def load_settings(
    environ: Mapping[str, str] | None = None,
    secrets_path: Path | None = None,
    providers: Mapping[str, Iterable[str]] | None = None,
    provider_options: Mapping[str, Iterable[str]] | None = None,
    env_overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> Settings:
    """Build `Settings` from the environment, then `secrets.toml`, then defaults.

    `providers` maps provider key -> credential names it needs, and
    `provider_options` maps it to the names of its non-secret settings; by
    default both come from the provider registry. Raises `SettingsError` for
    unusable values.
    """
    env = os.environ if environ is None else environ
    if secrets_path is None:
        # STUDIO_SECRETS_FILE: another secrets file (pass the same to streamlit as --secrets.files).
        secrets_path = Path(env.get("STUDIO_SECRETS_FILE", "").strip() or DEFAULT_SECRETS_PATH)
    secrets = _read_secrets(secrets_path)
    studio_section = secrets.get("studio", {})
    if not isinstance(studio_section, dict):
        raise SettingsError(f"[studio] in {secrets_path} must be a table of settings")
    sources: dict[str, str] = {}

    def pick(name: str, env_var: str, key: str, default: Callable[[], Any]) -> Any:
        if env.get(env_var, "").strip():
            sources[name] = "env"
            return env[env_var].strip()
        if key in studio_section and str(studio_section[key]).strip():
            sources[name] = "secrets"
            return studio_section[key]
        sources[name] = "default"
        return default()

    data_dir = Path(pick("data_dir", "STUDIO_DATA_DIR", "data_dir", lambda: "data")).expanduser().resolve()
    database_url = str(
        pick("database_url", "DATABASE_URL", "database_url", lambda: f"sqlite:///{data_dir / 'studio.db'}")
    )
    model_path = Path(
        pick(
            "model_path", "STUDIO_U2NETP_PATH", "u2netp_path", lambda: PROJECT_ROOT / "models" / "u2netp.onnx"
        )
    ).expanduser()
    isnet_path = Path(
        pick("isnet_path", "STUDIO_ISNET_PATH", "isnet_path", lambda: PROJECT_ROOT / "models" / "isnet.onnx")
    ).expanduser()
    cutout_model = (
        str(pick("cutout_model", "STUDIO_CUTOUT_MODEL", "cutout_model", lambda: "")).strip().lower()
    )
    if cutout_model not in CUTOUT_MODELS:
        raise SettingsError(
            f"STUDIO_CUTOUT_MODEL is '{cutout_model}'; use best (ISNet) or fast (u2netp), or leave it unset"
        )
    font = pick("cjk_font_path", "STUDIO_CJK_FONT", "cjk_font", _default_cjk_font)
    max_pixels = _as_int(
        pick("max_pixels", "STUDIO_MAX_PIXELS", "max_pixels", lambda: 40_000_000), "STUDIO_MAX_PIXELS", 1
    )
    threads = _as_int(
        pick("worker_threads", "STUDIO_WORKER_THREADS", "worker_threads", lambda: 2),
        "STUDIO_WORKER_THREADS",
        1,
    )
    tick = _as_float(
        pick("poll_tick_s", "STUDIO_POLL_TICK_S", "poll_tick_s", lambda: 0.25), "STUDIO_POLL_TICK_S"
    )
    lease_s = _as_lease(pick("lease_s", "STUDIO_LEASE_S", "lease_s", lambda: 60.0))
    allow_private = _as_bool(
        pick("allow_private_links", "STUDIO_ALLOW_PRIVATE_LINKS", "allow_private_links", lambda: "false"),
        "STUDIO_ALLOW_PRIVATE_LINKS",
    )
    open_to_network = _as_bool(
        pick("open_to_network", "STUDIO_OPEN_TO_NETWORK", "open_to_network", lambda: "false"),
        "STUDIO_OPEN_TO_NETWORK",
    )
    access = read_access_settings(env, secrets, open_to_network)
    app_worker = _as_bool(
        pick("app_worker", "STUDIO_APP_WORKER", "app_worker", lambda: "true"), "STUDIO_APP_WORKER"
    )
    storage_section = secrets.get("storage", {})
    if not isinstance(storage_section, dict):
        raise SettingsError(f"[storage] in {secrets_path} must be a table of settings")
    storage = read_storage_settings(env, storage_section)
    language = str(pick("default_language", "STUDIO_LANG", "lang", lambda: "en")).lower()
    if language not in LANGUAGES:
        raise SettingsError(f"STUDIO_LANG is '{language}'; use one of: {', '.join(LANGUAGES)}")

    if providers is None:
        providers = _registry_credential_names()
    if provider_options is None:
        provider_options = _registry_option_names()
    if env_overrides is None:
        env_overrides = _registry_env_overrides()

    hosting_section = secrets.get("hosting", {})
    if not isinstance(hosting_section, dict):
        raise SettingsError(f"[hosting] in {secrets_path} must be a table of settings")
    hosting = read_hosting_settings(env, hosting_section)
    checks_section = secrets.get("checks", {})
    if not isinstance(checks_section, dict):
        raise SettingsError(f"[checks] in {secrets_path} must be a table of settings")
    checks = read_check_settings(env, checks_section)
    credentials = _read_credentials(env, secrets, providers, exclude=provider_options, renamed=env_overrides)
    options = _read_options(env, secrets, provider_options, renamed=env_overrides)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        model_path=model_path,
        isnet_path=isnet_path,
        cutout_model=cutout_model or None,
        cjk_font_path=Path(font).expanduser() if font else None,
        max_pixels=max_pixels,
        worker_threads=threads,
        poll_tick_s=tick,
        lease_s=lease_s,
        default_language=language,
        credentials=credentials,
        provider_options=options,
        env_overrides={key: dict(value) for key, value in env_overrides.items() if value},
        hosting=hosting,
        allow_private_links=allow_private,
        access=access,
        storage=storage,
        app_worker=app_worker,
        checks=checks,
        sources=sources,
    )


def _read_secrets(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # The parser's message quotes the offending line, which may hold a key: keep only the position.
        where = str(exc).rsplit("(", 1)[-1].rstrip(")") if "(" in str(exc) else "unknown position"
        raise SettingsError(f"{path} is not valid TOML ({where}); fix the file or remove it") from None


def _read_credentials(
    env: Mapping[str, str],
    secrets: Mapping[str, Any],
    providers: Mapping[str, Iterable[str]],
    exclude: Mapping[str, Iterable[str]] | None = None,
    renamed: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, dict[str, Secret]]:
    result: dict[str, dict[str, Secret]] = {}
    for provider, required in providers.items():
        section = secrets.get(provider, {})
        section = section if isinstance(section, dict) else {}
        plain = set((exclude or {}).get(provider, ()))
        # Unknown names in a provider's section are kept as secrets: better masked than shown.
        names = set(required) | ({str(name) for name in section} - plain)
        values: dict[str, Secret] = {}
        for name in sorted(names):
            from_env = env.get(env_name(provider, name, (renamed or {}).get(provider)), "").strip()
            if from_env:
                values[name] = Secret(from_env)
            elif str(section.get(name, "")).strip():
                values[name] = Secret(str(section[name]).strip())
        if values:
            result[provider] = values
    return result


def _read_options(
    env: Mapping[str, str],
    secrets: Mapping[str, Any],
    providers: Mapping[str, Iterable[str]],
    renamed: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for provider, names in providers.items():
        section = secrets.get(provider, {})
        section = section if isinstance(section, dict) else {}
        values: dict[str, str] = {}
        for name in names:
            from_env = env.get(env_name(provider, name, (renamed or {}).get(provider)), "").strip()
            if from_env:
                values[name] = from_env
            elif str(section.get(name, "")).strip():
                values[name] = str(section[name]).strip()
        if values:
            result[provider] = values
    return result


def price_setting_name(operation: str) -> str:
    """`price_setting_name("scene") == "price_scene"`: the setting that sets a provider's price."""
    return f"price_{operation}"


def _registry_option_names() -> dict[str, tuple[str, ...]]:
    from providers import REGISTRY

    return {
        key: (*cls.optional_settings, *(price_setting_name(str(op)) for op in sorted(cls.operations)))
        for key, cls in REGISTRY.items()
    }


def _registry_env_overrides() -> dict[str, dict[str, str]]:
    from providers import REGISTRY

    return {key: dict(cls.env_names) for key, cls in REGISTRY.items() if cls.env_names}


def _registry_credential_names() -> dict[str, tuple[str, ...]]:
    # Imported here so that reading settings does not load every adapter unless asked to.
    from providers import REGISTRY

    return {key: cls.required_credentials() for key, cls in REGISTRY.items()}


def _default_cjk_font() -> Path | None:
    try:
        import noto_cjk

        path = Path(noto_cjk.otc_path("sans"))
        if path.is_file():
            return path
    except (ImportError, AttributeError, OSError, ValueError):
        pass
    return DEBIAN_CJK_FONT if DEBIAN_CJK_FONT.is_file() else None


def _as_int(value: Any, name: str, minimum: int) -> int:
    try:
        number = int(str(value).replace("_", "").strip())
    except ValueError:
        raise SettingsError(
            f"{name} is '{value}', not a whole number; set it to e.g. {minimum * 2}"
        ) from None
    if number < minimum:
        raise SettingsError(f"{name} is {number}; it must be at least {minimum}")
    return number


def _as_float(value: Any, name: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise SettingsError(f"{name} is '{value}', not a number of seconds; set it to e.g. 0.25") from None
    if not 0.01 <= number <= 60:
        raise SettingsError(f"{name} is {number}; use a value between 0.01 and 60 seconds")
    return number


def _as_lease(value: Any) -> float:
    """STUDIO_LEASE_S: 5 s to a day. Longer waits longer after a crash; shorter renews more often."""
    try:
        number = float(str(value).strip())
    except ValueError:
        raise SettingsError(
            f"STUDIO_LEASE_S is '{value}', not a number of seconds; set it to e.g. 60"
        ) from None
    if not 5 <= number <= 86_400:
        raise SettingsError(f"STUDIO_LEASE_S is {number}; use a value between 5 and 86400 seconds")
    return number


def _as_bool(value: Any, name: str) -> bool:
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} is '{value}'; use true or false")
