"""The provider registry: an explicit dict you can read top to bottom, key -> adapter class.

Adding a vendor means one line here, plus its adapter (built on
`providers.common.VendorAdapter`), its emulator `tests/emulators/<key>.py` with
a `contract_case()` (the contract test finds it by the key), its tests, its
words in the language files and a section in secrets.example.toml. Nothing
routes by substring of a name.
"""

from __future__ import annotations

from providers.aidge import Aidge
from providers.aliyun_market import AliyunMarket
from providers.base import ProviderAdapter
from providers.dashscope import DashScope
from providers.local import LocalEngine
from providers.tencent_aiart import TencentAiart

REGISTRY: dict[str, type[ProviderAdapter]] = {
    LocalEngine.key: LocalEngine,
    Aidge.key: Aidge,
    TencentAiart.key: TencentAiart,
    DashScope.key: DashScope,
    AliyunMarket.key: AliyunMarket,
}


def adapter_class(key: str) -> type[ProviderAdapter]:
    """The adapter class for `key`; KeyError names the known keys."""
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown provider '{key}'; known: {', '.join(sorted(REGISTRY))}") from None
