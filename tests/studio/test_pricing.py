"""Prices and money: estimates, recorded costs, free and unknown prices, per-currency totals."""

from __future__ import annotations

from typing import ClassVar

import pytest

from providers.base import Money, Operation, Price
from studio.pricing import UNKNOWN_PRICE, cost_of, estimate, price_for, totals_by_currency
from tests.studio.fakes import SyncFake


class FreeFake(SyncFake):
    prices: ClassVar = {
        Operation.PROMPT_BACKGROUND: Price(None, source="runs locally", as_of="2026-11", free=True)
    }


class UnpricedFake(SyncFake):
    prices: ClassVar = {
        Operation.PROMPT_BACKGROUND: Price(None, source="vendor does not publish", as_of="2026-11")
    }


def test_estimate_and_cost_multiply_the_per_image_price() -> None:
    assert price_for(SyncFake, Operation.PROMPT_BACKGROUND).per_image == Money(8, "CNY")
    assert estimate(SyncFake, Operation.PROMPT_BACKGROUND, 2) == Money(16, "CNY")
    assert estimate(SyncFake, Operation.PROMPT_BACKGROUND, 2).as_str() == "0.16"  # type: ignore[union-attr]
    assert cost_of(SyncFake, Operation.SCENE_BACKGROUND, 3) == Money(15, "USD")
    assert cost_of(SyncFake, Operation.PROMPT_BACKGROUND, 0) == Money(0, "CNY")


@pytest.mark.parametrize("cls", [FreeFake, UnpricedFake])
def test_free_or_unknown_prices_record_no_cost(cls: type[SyncFake]) -> None:
    assert estimate(cls, Operation.PROMPT_BACKGROUND, 4) is None
    assert cost_of(cls, Operation.PROMPT_BACKGROUND, 4) is None


def test_an_operation_without_a_price_entry_is_unknown() -> None:
    assert price_for(FreeFake, Operation.MODEL_SWAP) is UNKNOWN_PRICE
    assert cost_of(FreeFake, Operation.MODEL_SWAP, 1) is None


def test_negative_counts_are_a_bug() -> None:
    with pytest.raises(ValueError, match="negative"):
        cost_of(SyncFake, Operation.PROMPT_BACKGROUND, -1)


def test_totals_keep_currencies_apart() -> None:
    totals = totals_by_currency([Money(8, "CNY"), None, Money(5, "USD"), Money(16, "CNY"), Money(300, "JPY")])
    assert totals == {"CNY": Money(24, "CNY"), "USD": Money(5, "USD"), "JPY": Money(300, "JPY")}
    assert totals["JPY"].as_str() == "300" and totals["CNY"].as_str() == "0.24"
