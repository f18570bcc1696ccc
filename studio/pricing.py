"""What a job costs: estimates before submit and the recorded cost after, from provider price tables.

Prices live on the adapters (`ProviderAdapter.prices`, per output image, in
minor units, with source and date). Here they become job amounts. `None`
means "no charge to record": the operation is free (local engine) or its
price is unknown; callers show that as "-", never as zero spend.
Amounts in different currencies are never added together (`totals_by_currency`).
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.base import Money, Operation, Price, ProviderAdapter

UNKNOWN_PRICE = Price(per_image=None, source="no price listed for this operation", as_of="")


def price_for(adapter_cls: type[ProviderAdapter], operation: Operation) -> Price:
    """The adapter's price entry for `operation`, or `UNKNOWN_PRICE` when it lists none."""
    return adapter_cls.prices.get(operation, UNKNOWN_PRICE)


def estimate(adapter_cls: type[ProviderAdapter], operation: Operation, count: int) -> Money | None:
    """The expected charge for `count` images, shown before the user submits."""
    return _charge(price_for(adapter_cls, operation), count)


def cost_of(adapter_cls: type[ProviderAdapter], operation: Operation, images: int) -> Money | None:
    """The charge to record for `images` billed images (the vendor's count when it reports one)."""
    return _charge(price_for(adapter_cls, operation), images)


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
