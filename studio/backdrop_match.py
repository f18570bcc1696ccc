"""What a user's backdrop is, and which one a prompt asks for. Pure: no database, no files.

- `Backdrop`: one library entry (its photo files are found through `studio.backdrop_library`).
- `Surface`: where the product stands, as fractions of the photo `(x0, y0, x1, y1)`; a line
  when `y0 == y1` (the product's base goes on it), else a box. `check_surface` and
  `parse_surface` say exactly what is wrong with one.
- `clean_tags`: tags typed in any language, split on commas (, ，、 ; ；) and tidied.
- `match_backdrop(prompt, entries)`: the entry whose tags the prompt names most often
  (newest first on a tie). English tags match whole words, case-insensitively ("oak" is
  not found in "soak", "oaks" is); tags with Chinese (or other CJK) characters match as
  substrings, since Chinese is written without spaces.
- `surface_from_layer`: a box or line from what the user drew on the canvas.

`BackdropError` carries a stable `code` (the pages translate `error.<code>`), `params`,
and a complete English sentence, like `studio.service.StudioInputError`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from studio.errors import StudioError

USER_SCENE_PREFIX = "user:"
# The product's base on a line a third of the way up from the bottom: where a table top usually is.
DEFAULT_SURFACE: tuple[float, float, float, float] = (0.0, 0.6667, 1.0, 0.6667)
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_NAME_CHARS = 80
# A surface narrower than this cannot hold a product.
MIN_SURFACE_WIDTH = 0.02

Surface = tuple[float, float, float, float]

_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Letters and digits that continue an English word; CJK characters do not ("白色marble" names marble).
_WORD_CHAR = r"0-9A-Za-z\u00c0-\u024f"


class BackdropError(StudioError, ValueError):
    """A backdrop request that cannot be done: `code` for `error.<code>`, `params`, an English sentence."""

    default_code = "backdrop_error"

    def __init__(self, code: str, message: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code, params)


@dataclass(frozen=True)
class Backdrop:
    """One entry of the library. Paths are absolute (the store keeps them relative)."""

    backdrop_id: str
    name: str
    tags: tuple[str, ...]
    surface: Surface
    width: int
    height: int
    created_at: datetime
    updated_at: datetime
    photo_path: str
    preview_path: str
    thumbnail_path: str

    @property
    def scene_id(self) -> str:
        """How the scene catalogue and a batch's `scene` column name it."""
        return USER_SCENE_PREFIX + self.backdrop_id

    @property
    def is_line(self) -> bool:
        return self.surface[1] == self.surface[3]


@dataclass(frozen=True)
class BackdropMatch:
    """The entry a job is placed on, and why: "tags" (the prompt named `matched_tags`), "chosen"
    (the user picked it: the page's choice, `--backdrop`, a batch cell) or "scene" (`user:<id>`)."""

    backdrop: Backdrop
    matched_tags: tuple[str, ...] = ()
    how: str = "tags"


# ------------------------------------------------------------------ tags
def clean_tags(tags: str | Iterable[str]) -> tuple[str, ...]:
    """Tags as stored: split on commas, spaces collapsed, duplicates (ignoring case) dropped."""
    pieces = [tags] if isinstance(tags, str) else list(tags)
    cleaned: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        for raw in _TAG_SEPARATORS.split(str(piece)):
            tag = " ".join(unicodedata.normalize("NFKC", raw).split())
            if not tag:
                continue
            if len(tag) > MAX_TAG_CHARS:
                raise BackdropError(
                    "backdrop_bad_tag",
                    f"The tag '{tag[:MAX_TAG_CHARS]}…' is longer than {MAX_TAG_CHARS} characters; "
                    "use a word or two, like 'marble' or '大理石'.",
                    {"tag": tag[:MAX_TAG_CHARS], "max": MAX_TAG_CHARS},
                )
            if tag.casefold() not in seen:
                seen.add(tag.casefold())
                cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise BackdropError(
            "backdrop_too_many_tags",
            f"A backdrop takes at most {MAX_TAGS} tags; you gave {len(cleaned)}. Keep the words a prompt "
            "would use.",
            {"max": MAX_TAGS, "count": len(cleaned)},
        )
    return tuple(cleaned)


def clean_name(name: str) -> str:
    text = " ".join(str(name).split())
    if not text:
        raise BackdropError(
            "backdrop_no_name", "Give the backdrop a name, e.g. 'White marble slab'.", {"max": MAX_NAME_CHARS}
        )
    if len(text) > MAX_NAME_CHARS:
        raise BackdropError(
            "backdrop_long_name",
            f"The name is longer than {MAX_NAME_CHARS} characters; shorten it.",
            {"max": MAX_NAME_CHARS},
        )
    return text


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def _tag_pattern(tag: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in tag.split()]
    # Whole words only; a plural "s"/"es" still counts ("oak" finds "oaks", never "soak").
    return re.compile(
        rf"(?<![{_WORD_CHAR}])" + r"[\s\-_]+".join(words) + rf"(?:e?s)?(?![{_WORD_CHAR}])",
        re.IGNORECASE,
    )


def tag_hits(prompt: str, tags: Sequence[str]) -> tuple[str, ...]:
    """The tags a prompt names, in the entry's order."""
    text = unicodedata.normalize("NFKC", prompt).casefold()
    if not text.strip():
        return ()
    hits: list[str] = []
    for tag in tags:
        needle = unicodedata.normalize("NFKC", tag).casefold().strip()
        if not needle:
            continue
        found = needle in text if has_cjk(needle) else _tag_pattern(needle).search(text) is not None
        if found:
            hits.append(tag)
    return tuple(hits)


def best_match(prompt: str, entries: Iterable[Backdrop]) -> BackdropMatch | None:
    """The entry with the most tags named in `prompt` (the newest on a tie); None when none is named."""
    best: tuple[int, datetime, str] | None = None
    chosen: BackdropMatch | None = None
    for entry in entries:
        hits = tag_hits(prompt, entry.tags)
        if not hits:
            continue
        rank = (len(hits), entry.created_at, entry.backdrop_id)
        if best is None or rank > best:
            best, chosen = rank, BackdropMatch(entry, hits)
    return chosen


def match_backdrop(prompt: str, entries: Iterable[Backdrop]) -> Backdrop | None:
    """The entry a prompt asks for by its tags, or None (see `best_match` for the tags it named)."""
    found = best_match(prompt, entries)
    return found.backdrop if found is not None else None


# ------------------------------------------------------------------ surfaces
def check_surface(values: Sequence[object]) -> Surface:
    """`(x0, y0, x1, y1)` as fractions of the photo, checked: 0..1, x0 < x1, y0 <= y1."""
    if len(values) != 4:
        raise _bad_surface(f"it has {len(values)} numbers")
    try:
        numbers = [float(str(value).strip()) for value in values]
    except ValueError:
        raise _bad_surface("not every value is a number") from None
    if not all(math.isfinite(number) for number in numbers):
        raise _bad_surface("not every value is a number")
    x0, y0, x1, y1 = numbers
    if not all(0.0 <= number <= 1.0 for number in numbers):
        raise _bad_surface("each value must be a fraction from 0 to 1 (0.5 is the middle)")
    if x1 - x0 < MIN_SURFACE_WIDTH:
        raise _bad_surface("the right edge x1 must be to the right of the left edge x0")
    if y1 < y0:
        raise _bad_surface("the bottom y1 must not be above the top y0 (equal values mark a line)")
    return (round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4))


def parse_surface(text: str) -> Surface:
    """`"0.1,0.6,0.9,0.6"` (the CLI's --surface) as a checked surface."""
    return check_surface([part for part in re.split(r"[,\s]+", text.strip()) if part])


def _bad_surface(reason: str) -> BackdropError:
    return BackdropError(
        "backdrop_bad_surface",
        f"The surface must be four fractions x0,y0,x1,y1 of the photo (e.g. 0.1,0.65,0.9,0.65 for a line, "
        f"0.1,0.55,0.9,0.8 for a box), but {reason}.",
        {"reason": reason},
    )


def surface_from_layer(layer: np.ndarray, *, line: bool) -> Surface | None:
    """The box around what was drawn on the canvas (RGBA at display size); for a line, the
    drawn stroke's horizontal extent at its middle height. None when nothing is drawn."""
    if layer.ndim != 3 or layer.shape[2] != 4:
        return None
    height, width = layer.shape[:2]
    ys, xs = np.nonzero(layer[..., 3] > 0)
    if len(xs) == 0 or width == 0 or height == 0:
        return None
    x0, x1 = float(xs.min()) / width, float(xs.max() + 1) / width
    if x1 - x0 < MIN_SURFACE_WIDTH:
        return None
    if line:
        y = float(np.median(ys)) / height
        return check_surface((x0, y, x1, y))
    return check_surface((x0, float(ys.min()) / height, x1, float(ys.max() + 1) / height))
