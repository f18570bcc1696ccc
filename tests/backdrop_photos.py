"""Generated photos of empty sets for the backdrop tests (no files checked in)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def backdrop_photo(size: tuple[int, int] = (640, 480), fmt: str = "JPEG", tone: int = 0) -> bytes:
    """A warm wall above a pale marble counter whose front edge is at two thirds of the height."""
    width, height = size
    image = Image.new("RGB", size, (214 - tone, 200 - tone, 184 - tone))
    draw = ImageDraw.Draw(image)
    edge = int(height * 2 / 3)
    draw.rectangle((0, int(height * 0.55), width, edge), fill=(236, 236, 232))
    draw.rectangle((0, edge, width, height), fill=(150, 146, 140))
    for number in range(6):  # grey veins in the marble
        x = int(width * (0.1 + 0.15 * number))
        draw.line((x, int(height * 0.56), x + width // 12, edge - 2), fill=(190, 190, 188), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
