"""Small generated product photos for page and browser tests (no files checked in)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

BACKGROUND = (226, 228, 232)


def product_photo(size: tuple[int, int] = (320, 260), fmt: str = "PNG") -> bytes:
    """A red mug (body + handle with a hole) on a light grey studio background."""
    width, height = size
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    body = (int(width * 0.34), int(height * 0.29), int(width * 0.62), int(height * 0.77))
    handle = (int(width * 0.59), int(height * 0.40), int(width * 0.73), int(height * 0.63))
    hole = (int(width * 0.63), int(height * 0.46), int(width * 0.69), int(height * 0.58))
    draw.rounded_rectangle(body, radius=max(4, width // 26), fill=(196, 52, 48))
    draw.ellipse(handle, fill=(196, 52, 48))
    draw.ellipse(hole, fill=BACKGROUND)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def mask_png(size: tuple[int, int]) -> bytes:
    """A white rectangle on black at `size`: a valid hand-made mask."""
    width, height = size
    image = Image.new("L", size, 0)
    ImageDraw.Draw(image).rectangle((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill=255)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
