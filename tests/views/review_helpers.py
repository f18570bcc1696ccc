"""Batches for the Review page tests: made through `Batches.start` on the local engine (a second
or two), with the product check switched off so each test writes the check results it needs
(`Store.set_output_checks`) without the background check racing it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from providers.base import Operation
from studio.jobs import BatchStatus, JobView
from studio.service import JobRequest, Studio
from tests.views.photos import product_photo

FAITHFUL: dict[str, Any] = {"version": 1, "product": {"flags": [], "reasons": [], "colour_de": 1.2}}


def colour_shift(de: float = 9.1) -> dict[str, Any]:
    reason = {"flag": "colour_shift", "key": "fidelity.reason.colour_shift", "params": {"de": de}}
    return {"version": 1, "product": {"flags": ["colour_shift"], "reasons": [reason], "colour_de": de}}


def text_changed() -> dict[str, Any]:
    reason = {
        "flag": "text_changed",
        "key": "fidelity.reason.text_changed",
        "params": {"before": "SERUM", "after": "SFRUM", "similarity": 60},
    }
    return {"version": 1, "product": {"flags": ["text_changed"], "reasons": [reason]}}


class Item:
    """One planned batch row (studio.manifest.BatchItem's shape)."""

    def __init__(
        self, studio: Studio, sku: str, count: int, side: tuple[int, int], size: tuple[int, int] = (256, 256)
    ) -> None:
        self.sku = sku
        image = studio.prepare_image(product_photo(side), f"{sku}.png")
        self.request = JobRequest(
            Operation.PROMPT_BACKGROUND, "local", image, prompt="white marble", count=count, size=size
        )
        self.checked = studio.check_job(self.request)


def finished_batch(
    studio: Studio,
    skus: Sequence[str] = ("MUG-A", "MUG-B"),
    count: int = 2,
    side: tuple[int, int] = (200, 160),
    sizes: Sequence[tuple[int, int]] = (),
) -> str:
    """A batch of local jobs (output sizes `sizes` per SKU, else 256x256), run to the end."""
    items = [
        Item(studio, sku, count, side, sizes[number] if number < len(sizes) else (256, 256))
        for number, sku in enumerate(skus)
    ]
    batch_id = studio.batches.start(items, name="checks")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        batch = studio.batches.get(batch_id)
        if batch is not None and batch.status is BatchStatus.DONE:
            return batch_id
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not finish")


def outputs(studio: Studio, batch_id: str) -> list[tuple[JobView, int]]:
    """(job, output index) of every image of the batch, in batch order."""
    return [(job, output.index) for job in studio.batches.jobs(batch_id) for output in job.outputs]


def stamp_sale_text(path: str) -> None:
    """Print a sale banner on the background of a stored output: text a marketplace refuses and a
    kept-background export cannot take away (its product stays untouched)."""
    image = Image.open(path).convert("RGB")
    width, height = image.size
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(12, width // 18))
    draw.text((width * 0.09, height * 0.84), "SALE 50% OFF  FREE SHIPPING", fill=(20, 20, 20), font=font)
    image.save(path, format=Image.open(path).format or "PNG")
