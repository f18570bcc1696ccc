"""What a job costs: estimates before submit and the recorded cost after, from provider price tables.

Prices live on the adapters (`ProviderAdapter.prices`, per output image, in
minor units, with source and date). Here they become job amounts. `None`
means "no charge to record": the operation is free (local engine) or its
price is unknown; callers show that as "-", never as zero spend.
Amounts in different currencies are never added together (`totals_by_currency`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from providers.base import Money, Operation, Price, ProviderAdapter

UNKNOWN_PRICE = Price(per_image=None, source="no price listed for this operation", as_of="")
# A price typed by a user: "0.12 USD", "0.5 CNY", "USD 0.12".
_PRICE_TEXT = re.compile(r"^\s*(?:([A-Za-z]{3})\s+)?(\d+(?:\.\d+)?)\s*([A-Za-z]{3})?\s*$")

# (provider key, operation) -> price set by the user in settings; wins over the adapter's table.
PriceOverrides = Mapping[tuple[str, Operation], Price]


def parse_price(text: str, where: str) -> Price:
    """Parse "0.12 USD" into a per-image Price; ValueError says what is wrong and shows the form."""
    match = _PRICE_TEXT.match(text)
    currency = (match.group(1) or match.group(3)) if match else None
    if not match or not currency or (match.group(1) and match.group(3)):
        raise ValueError(f"{where} is '{text}'; write a price per image and a currency, like 0.12 USD")
    try:
        money = Money.parse(match.group(2), currency)
    except (ValueError, ArithmeticError) as exc:
        raise ValueError(f"{where} is '{text}': {exc}") from None
    return Price(per_image=money, source=f"set by you in {where}", as_of="")


def price_for(
    adapter_cls: type[ProviderAdapter], operation: Operation, overrides: PriceOverrides | None = None
) -> Price:
    """The user's price for `operation` if set, else the adapter's entry, else `UNKNOWN_PRICE`."""
    if overrides and (adapter_cls.key, operation) in overrides:
        return overrides[(adapter_cls.key, operation)]
    return adapter_cls.prices.get(operation, UNKNOWN_PRICE)


def estimate(
    adapter_cls: type[ProviderAdapter],
    operation: Operation,
    count: int,
    overrides: PriceOverrides | None = None,
) -> Money | None:
    """The expected charge for `count` images, shown before the user submits."""
    return _charge(price_for(adapter_cls, operation, overrides), count)


def cost_of(
    adapter_cls: type[ProviderAdapter],
    operation: Operation,
    images: int,
    overrides: PriceOverrides | None = None,
) -> Money | None:
    """The charge to record for `images` billed images (the vendor's count when it reports one)."""
    return _charge(price_for(adapter_cls, operation, overrides), images)


def _charge(price: Price, images: int) -> Money | None:
    if images < 0:
        raise ValueError(f"an image count cannot be negative, got {images}")
    if price.free or price.per_image is None:
        return None
    return price.per_image.times(images)


def totals_by_currency(amounts: Iterable[Money | None]) -> dict[str, Money]:
    """Sum amounts per currency; `None` (free or unknown) adds nothing."""
    totals: dict[str, Money] = {}
    for money in amounts:
        if money is None:
            continue
        current = totals.get(money.currency)
        totals[money.currency] = Money(
            (current.amount_minor if current else 0) + money.amount_minor, money.currency
        )
    return totals
