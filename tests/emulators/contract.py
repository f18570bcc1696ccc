"""What an emulator module hands the provider contract test (tests/providers/test_contract.py).

The contract test finds a cloud vendor's emulator by the registry key: the
module `tests.emulators.<key>` has a `contract_case()` context manager that
starts the emulator (and whatever serves its inputs) and yields a
`ContractCase`: a context that reaches it, one request per operation the
adapter claims, and the size results must have when a request names none. So
adding a vendor needs its adapter, its emulator module with `contract_case()`,
and one registry line; the contract test itself does not change.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from providers.base import GenerationRequest, ProviderContext
from tests.emulators.loopback import VendorEmulator


@dataclass(frozen=True)
class ContractCase:
    context: ProviderContext
    requests: list[GenerationRequest]
    # The result size when a request asks for none (the input's, for vendors that keep it); None: any.
    expected_size: tuple[int, int] | None
    # The running emulator, for tests that make it fail (`fail_next` and the like).
    emulator: VendorEmulator[Any] | None = None


def photo(width: int = 320, height: int = 240) -> bytes:
    """A light grey photo with a blue product rectangle in the middle, as PNG."""
    image = np.full((height, width, 3), 235, np.uint8)
    image[height // 4 : 5 * height // 6, width // 3 : 2 * width // 3] = (30, 90, 200)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def mask(width: int = 320, height: int = 240) -> bytes:
    """The product rectangle of `photo` as a single-channel mask, white = product."""
    pixels = np.zeros((height, width), np.uint8)
    pixels[height // 4 : 5 * height // 6, width // 3 : 2 * width // 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, "PNG")
    return buffer.getvalue()
