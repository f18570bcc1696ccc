"""The provider catalogue: which providers exist, whether they are set up, what they take for each
workflow, their prices and connection checks, scene catalogues (cached) and input hosting."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from providers import REGISTRY
from providers.base import ConnectionCheck, Limits, Operation, OptionSpec, Price, ProviderAdapter, SceneInfo
from providers.errors import ProviderError
from providers.local import LocalEngine
from studio import pricing
from studio.backdrop_library import BackdropLibrary
from studio.errors import StudioInputError
from studio.hosting import HostingError, InputHost
from studio.settings import Settings
from studio.values import WORKFLOW_WORDS, ConnectionReport, PromptReading, ProviderInfo

# Vendor scene catalogues change rarely; asking again on every page run would cost time and quota.
SCENE_CACHE_S = 30 * 60


class Catalogue:
    """The providers the studio was opened with (`adapters`, shared with the worker)."""

    def __init__(
        self,
        settings: Settings,
        adapters: dict[str, ProviderAdapter],
        *,
        price_overrides: Mapping[tuple[str, Operation], Price],
        input_host: InputHost | None,
        backdrops: BackdropLibrary,
    ) -> None:
        self.settings = settings
        self.adapters = adapters
        self.price_overrides = price_overrides
        self.input_host = input_host
        self.backdrops = backdrops
        self._scene_cache: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, list[SceneInfo]]] = {}
        self._scene_lock = threading.Lock()

    # ------------------------------------------------------------ lookup
    def adapter(self, provider: str) -> ProviderAdapter:
        adapter = self.adapters.get(provider)
        if adapter is None:
            known = ", ".join(sorted(self.adapters)) or "none"
            raise StudioInputError(
                "unknown_provider",
                f"There is no provider '{provider}'. Use one of: {known}.",
                {"provider": provider, "known": known},
            )
        return adapter

    def local(self) -> LocalEngine | None:
        adapter = self.adapters.get(LocalEngine.key)
        return adapter if isinstance(adapter, LocalEngine) else None

    def missing_settings(self, cls: type[ProviderAdapter]) -> tuple[str, ...]:
        """Credentials not set, plus the endpoint when the vendor has no public default (its own
        per-customer domain): without either the provider cannot be used."""
        missing = self.settings.missing_credentials(cls.key, cls.required_credentials())
        setting = cls.endpoint_setting
        if setting and cls.default_endpoint is None and not self.settings.options_for(cls.key).get(setting):
            missing = (*missing, setting)
        return missing

    def require_configured(self, cls: type[ProviderAdapter]) -> None:
        """StudioInputError("provider_not_configured") naming the settings to set, if any is missing."""
        missing = self.missing_settings(cls)
        if missing:
            names = ", ".join(self.settings.env_var(cls.key, name) for name in missing)
            raise StudioInputError(
                "provider_not_configured",
                f"{cls.label} is not configured: set {names} in the environment "
                f"or in the [{cls.key}] section of .streamlit/secrets.toml.",
                {"provider": cls.key, "missing": list(missing)},
            )

    # ------------------------------------------------------------ providers
    def providers(self) -> list[ProviderInfo]:
        infos = []
        for key, adapter in self.adapters.items():
            cls = type(adapter)
            missing = self.missing_settings(cls)
            infos.append(
                ProviderInfo(
                    key,
                    cls.label,
                    cls.operations,
                    configured=not missing,
                    missing=missing,
                    missing_env=tuple(self.settings.env_var(key, name) for name in missing),
                    endpoint=adapter.endpoint,
                    prices={
                        op: pricing.price_for(cls, op, self.price_overrides) for op in sorted(cls.operations)
                    },
                    can_check_connection=cls.can_check_connection,
                    can_list_scenes=cls.can_list_scenes,
                    options={**cls.optional_settings, **self.settings.options_for(key)},
                    scene_filters=cls.scene_filters,
                    mask_modes={op: cls.limits[op].mask_mode for op in cls.operations if op in cls.limits},
                    local=isinstance(adapter, LocalEngine),
                    billing_currency=cls.billing_currency,
                )
            )
        return infos

    def option_specs(self, provider: str, workflow: Operation) -> tuple[OptionSpec, ...]:
        """The request fields `provider` honours for `workflow`, with ranges and documented defaults."""
        return type(self.adapter(provider)).option_specs(Operation(workflow))

    def test_connection(self, provider: str) -> ConnectionReport:
        """One cheap authenticated call to `provider`; never raises for a provider failure."""
        adapter = self.adapter(provider)
        cls = type(adapter)
        missing = self.missing_settings(cls)
        if missing:
            names = ", ".join(self.settings.env_var(cls.key, name) for name in missing)
            return ConnectionReport(cls.key, False, f"{cls.label} is not configured: set {names}.", 0)
        if not cls.can_check_connection:
            return ConnectionReport(cls.key, True, f"{cls.label} runs on this computer; nothing to test.", 0)
        started = time.monotonic()
        try:
            check: ConnectionCheck = adapter.check_connection()
        except ProviderError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            return ConnectionReport(cls.key, False, exc.user_message, elapsed, exc.request_id)
        elapsed = int((time.monotonic() - started) * 1000)
        return ConnectionReport(cls.key, check.ok, check.message, elapsed, check.request_id)

    def limits_for(self, provider: str, workflow: Operation) -> Limits:
        """What `provider` accepts for `workflow` (counts, sizes); raises StudioInputError if it cannot do it."""
        adapter = self.adapter(provider)
        return self.operation_limits(type(adapter), Operation(workflow))

    def operation_limits(self, cls: type[ProviderAdapter], workflow: Operation) -> Limits:
        if workflow not in cls.operations or workflow not in cls.limits:
            what = WORKFLOW_WORDS[workflow]
            offering = [
                type(a)
                for a in self.adapters.values()
                if workflow in type(a).operations and type(a) is not cls
            ]
            ready = [other.label for other in offering if not self.missing_settings(other)]
            if ready:
                hint = f"choose a provider that offers it: {', '.join(ready)}"
            elif offering:
                hint = f"configure a cloud provider that offers it ({', '.join(o.label for o in offering)})"
            else:
                hint = "configure a cloud provider that offers it" + _registered_offering(workflow)
            subject = "The local engine" if cls is LocalEngine else cls.label
            verb = "cannot swap models" if workflow is Operation.MODEL_SWAP else f"does not offer {what}"
            raise StudioInputError(
                "unsupported_workflow",
                f"{subject} {verb}; {hint}.",
                {"provider": cls.key, "workflow": str(workflow)},
            )
        return cls.limits[workflow]

    # ------------------------------------------------------------ scenes and prompts
    def list_scenes(self, provider: str, query: Mapping[str, Any] | None = None) -> list[SceneInfo]:
        """A vendor's scene catalogue (cached for half an hour per query); ProviderError when it fails."""
        adapter = self.adapter(provider)
        cls = type(adapter)
        if isinstance(adapter, LocalEngine):
            return self.local_scenes(str((query or {}).get("language") or "") or None)
        if not cls.can_list_scenes:
            raise StudioInputError(
                "no_scene_catalogue", f"{cls.label} has no scene catalogue.", {"provider": cls.key}
            )
        self.require_configured(cls)
        cleaned = tuple(sorted((k, str(v)) for k, v in (query or {}).items() if v not in (None, "")))
        cache_key = (cls.key, cleaned)
        now = time.monotonic()
        with self._scene_lock:
            hit = self._scene_cache.get(cache_key)
            if hit is not None and now - hit[0] < SCENE_CACHE_S:
                return list(hit[1])
        scenes = list(adapter.list_scenes(dict(cleaned)))
        with self._scene_lock:
            self._scene_cache[cache_key] = (now, scenes)
        return scenes

    def forget_scenes(self) -> None:
        """Drop cached catalogues, so the next `list_scenes` asks the vendor again."""
        with self._scene_lock:
            self._scene_cache.clear()

    def local_scenes(self, language: str | None = None) -> list[SceneInfo]:
        """The local engine's scenes: the user's own backdrops (`user:<id>`) first, then its recipes."""
        local = self.local()
        if local is None:
            return []
        recipes = local.list_scenes({"language": language or self.settings.default_language})
        return [*self.backdrops.scenes(), *recipes]

    def read_prompt(self, prompt: str, language: str = "en") -> PromptReading:
        local = self.local()
        if local is None:
            return PromptReading((), (), "")
        used, unknown, summary, place = local.describe_prompt(prompt, language)
        return PromptReading(tuple(used), tuple(unknown), summary, place)

    # ------------------------------------------------------------ input hosting
    def needs_hosting(self, provider: str, workflow: Operation) -> bool:
        """True when `provider` reads inputs only from links and no input hosting is set up."""
        adapter = self.adapters.get(provider)
        limits = type(adapter).limits.get(Operation(workflow)) if adapter is not None else None
        return bool(limits and limits.needs_urls and self.input_host is None)

    def providers_needing_links(self) -> list[str]:
        """Keys of the providers that read inputs only from URLs, for any of their operations."""
        return [
            key
            for key, adapter in self.adapters.items()
            if any(limits.needs_urls for limits in type(adapter).limits.values())
        ]

    def test_hosting(self) -> ConnectionReport:
        """One round trip to the input host (put/get/delete or head bucket); never raises."""
        started = time.perf_counter()
        if self.input_host is None:
            return ConnectionReport("hosting", False, "Input hosting is not configured.", 0)
        try:
            self.input_host.check()
        except HostingError as exc:
            return ConnectionReport("hosting", False, str(exc), _ms_since(started))
        return ConnectionReport("hosting", True, self.input_host.label, _ms_since(started))


def _registered_offering(workflow: Operation) -> str:
    """ " (Label, ...)": the cloud providers in the registry that offer `workflow`, for a hint when
    none of them was opened; "" when the registry has none either."""
    labels = [
        cls.label
        for cls in REGISTRY.values()
        if workflow in cls.operations and workflow in cls.limits and not issubclass(cls, LocalEngine)
    ]
    return f" ({', '.join(labels)})" if labels else ""


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
