"""Wiring the studio to its providers: adapter resources loaded on first use, each adapter's
context (credentials, endpoint, session), and the prices the user set."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from imaging.segmenters import model_for
from providers import http
from providers.base import Operation, Price, ProviderAdapter, ProviderContext
from providers.local import LocalEngine
from studio import pricing
from studio.cutout_models import CutoutModels
from studio.settings import Settings, SettingsError, price_setting_name
from studio.storage import FileStore
from studio.storage_s3 import build_file_store

logger = logging.getLogger(__name__)


class LazyResources(Mapping[str, Any]):
    """Adapter resources loaded on first use (the model and the font), once, thread-safely.

    `jobs list` and the History page never pay for loading the segmentation model.
    """

    def __init__(self, loaders: Mapping[str, Callable[[], Any]]) -> None:
        self._loaders = dict(loaders)
        self._values: dict[str, Any] = {}
        # Re-entrant: the default segmenter's loader reads the named model's entry.
        self._lock = threading.RLock()

    def __contains__(self, key: object) -> bool:
        return key in self._loaders  # without loading it

    def __getitem__(self, key: str) -> Any:
        if key not in self._loaders:
            raise KeyError(key)
        with self._lock:
            if key not in self._values:
                self._values[key] = self._loaders[key]()
            return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)

    def loaded(self, key: str) -> bool:
        return key in self._values


def engine_resources(settings: Settings, models: CutoutModels) -> LazyResources:
    """What the local engine reads: the segmentation models and the CJK font, loaded on first use."""
    resources: LazyResources
    resources = LazyResources(
        {
            "segmenter": lambda: resources[f"segmenter.{model_for(models.default_quality())}"],
            "segmenter.isnet": lambda: models.load("isnet"),
            "segmenter.u2netp": lambda: models.load("u2netp"),
            "cutout.default": models.default_quality,
            "cjk_font": lambda: load_font(settings),
        }
    )
    return resources


def file_store(settings: Settings) -> FileStore:
    """Where job files go: the bucket of STUDIO_STORAGE (shared by app replicas and workers on other
    machines), else the data folder."""
    store = build_file_store(settings.storage, settings.data_dir)
    if settings.storage is not None:
        logger.info("job files are kept in the %s", store.label)
    return store


def load_font(settings: Settings) -> bytes | None:
    path = settings.cjk_font_path
    if path is None or not path.is_file():
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        logger.warning("cannot read the CJK font at %s (%s); product titles are not drawn", path, exc)
        return None


def provider_context(
    settings: Settings,
    cls: type[ProviderAdapter],
    resources: Mapping[str, Any],
    clock: Callable[[], float],
) -> ProviderContext:
    """What an adapter gets from us: its credentials, settings, endpoint, a session, resources."""
    options = settings.options_for(cls.key)
    endpoint = options.get(cls.endpoint_setting) if cls.endpoint_setting else None
    if cls is LocalEngine:
        return ProviderContext(resources=resources, options=options, clock=clock)
    return ProviderContext(
        credentials=settings.credentials_for(cls.key),
        endpoint=endpoint or cls.default_endpoint,
        session=http.new_session(),
        options=options,
        clock=clock,
    )


def build_adapters(
    settings: Settings, resources: Mapping[str, Any], clock: Callable[[], float]
) -> dict[str, ProviderAdapter]:
    """One adapter per registry entry, each with its context."""
    # Looked up at call time so a registry entry added before opening the studio is honoured.
    from providers import REGISTRY

    return {key: cls(provider_context(settings, cls, resources, clock)) for key, cls in REGISTRY.items()}


def price_overrides(settings: Settings) -> dict[tuple[str, Operation], Price]:
    """Prices the user set (`<VENDOR>_PRICE_SCENE=0.12 USD`); a malformed one stops start-up with a fix."""
    overrides: dict[tuple[str, Operation], Price] = {}
    for provider, options in settings.provider_options.items():
        for operation in Operation:
            name = price_setting_name(str(operation))
            if name in options:
                where = settings.env_var(provider, name)
                try:
                    overrides[(provider, operation)] = pricing.parse_price(options[name], where)
                except ValueError as exc:
                    raise SettingsError(str(exc)) from None
    return overrides
