"""The user's backdrop library: matching prompts to tags (English and Chinese), surfaces, and
the library's add / list / get / update / delete with the checks a photo goes through."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import inspect

from studio import backdrop_library
from studio.backdrop_library import MAX_STORED_SIDE, MIN_SIDE, BackdropLibrary
from studio.backdrop_match import (
    DEFAULT_SURFACE,
    Backdrop,
    BackdropError,
    best_match,
    check_surface,
    clean_tags,
    match_backdrop,
    parse_surface,
    surface_from_layer,
    tag_hits,
)
from studio.migrations import LATEST, migrate, schema_version
from studio.store import Store, create_store_engine
from tests.backdrop_photos import backdrop_photo
from tests.studio.fakes import FakeClock

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def entry(name: str, *tags: str, age_days: int = 0, backdrop_id: str | None = None) -> Backdrop:
    return Backdrop(
        backdrop_id=backdrop_id or name.replace(" ", "")[:32],
        name=name,
        tags=tags,
        surface=DEFAULT_SURFACE,
        width=640,
        height=480,
        created_at=T0 - timedelta(days=age_days),
        updated_at=T0,
        photo_path="",
        preview_path="",
        thumbnail_path="",
    )


# ------------------------------------------------------------------ matching
@pytest.mark.parametrize(
    ("prompt", "tags", "expected"),
    [
        ("a mug on white marble, soft light", ("marble",), ("marble",)),
        ("MARBLE counter", ("marble",), ("marble",)),
        ("soak the linen", ("oak",), ()),  # no "oak" inside "soak"
        ("cloaked in shadow", ("oak",), ()),
        ("two oaks by a window", ("oak",), ("oak",)),  # a plural still counts
        ("oak-wood shelf", ("oak",), ("oak",)),
        ("white   oak table", ("white oak",), ("white oak",)),
        ("whiteoak table", ("white oak",), ()),
        ("白色大理石台面，柔和光线", ("大理石",), ("大理石",)),
        ("白色marble台面", ("marble",), ("marble",)),  # English next to Chinese is still a word
        ("木质桌面", ("大理石",), ()),
        ("ｍａｒｂｌｅ slab", ("marble",), ("marble",)),  # full-width letters typed with a Chinese IME
        ("kitchen counter with marble", ("marble", "kitchen", "wood"), ("marble", "kitchen")),
        ("", ("marble",), ()),
    ],
)
def test_tag_hits(prompt: str, tags: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert tag_hits(prompt, tags) == expected


def test_the_entry_naming_most_tags_wins_then_the_newest() -> None:
    slab = entry("Marble slab", "marble", "大理石", age_days=5)
    kitchen = entry("Kitchen marble", "marble", "kitchen", age_days=3)
    newer_slab = entry("New slab", "marble", age_days=1)
    entries = [slab, kitchen, newer_slab]
    assert match_backdrop("marble in a kitchen", entries) == kitchen  # two hits beat one
    assert match_backdrop("on marble", entries) == newer_slab  # one hit each: the newest
    assert match_backdrop("白色大理石", entries) == slab
    found = best_match("大理石 marble", entries)
    assert found is not None and found.backdrop == slab and found.matched_tags == ("marble", "大理石")
    assert match_backdrop("soak in wood", entries) is None
    assert match_backdrop("anything", []) is None


def test_tags_are_split_tidied_and_deduplicated() -> None:
    assert clean_tags("marble, 大理石、 kitchen；Marble ;  white   oak,,") == (
        "marble",
        "大理石",
        "kitchen",
        "white oak",
    )
    assert clean_tags(["wood", "Wood", "木纹"]) == ("wood", "木纹")
    with pytest.raises(BackdropError) as caught:
        clean_tags(",".join(f"tag{n}" for n in range(25)))
    assert caught.value.code == "backdrop_too_many_tags"
    with pytest.raises(BackdropError, match="longer than"):
        clean_tags("x" * 60)


# ------------------------------------------------------------------ surfaces
def test_surfaces_are_checked_and_parsed() -> None:
    assert parse_surface("0.1,0.65,0.9,0.65") == (0.1, 0.65, 0.9, 0.65)  # a line
    assert parse_surface(" 0, 0.5, 1, 0.8 ") == (0.0, 0.5, 1.0, 0.8)  # a box
    for text, reason in [
        ("0.9,0.5,0.1,0.5", "right edge"),
        ("0.1,0.8,0.9,0.5", "bottom"),
        ("0.1,0.5,1.2,0.5", "fraction"),
        ("0.1,0.5,0.9", "3 numbers"),
        ("a,b,c,d", "number"),
        ("nan,0.5,0.9,0.5", "number"),
    ]:
        with pytest.raises(BackdropError, match=reason) as caught:
            parse_surface(text)
        assert caught.value.code == "backdrop_bad_surface"
    assert check_surface((0, 0, 1, 1)) == (0.0, 0.0, 1.0, 1.0)


def test_a_drawing_becomes_a_box_or_a_line() -> None:
    layer = np.zeros((100, 200, 4), np.uint8)
    layer[60:80, 20:180, 3] = 255
    assert surface_from_layer(layer, line=False) == (0.1, 0.6, 0.9, 0.8)
    stroke = np.zeros((100, 200, 4), np.uint8)
    stroke[69:72, 40:161, 3] = 255  # a freehand stroke three pixels thick
    assert surface_from_layer(stroke, line=True) == (0.2, 0.7, 0.805, 0.7)
    assert surface_from_layer(np.zeros((100, 200, 4), np.uint8), line=True) is None


# ------------------------------------------------------------------ the library
class TickingClock(FakeClock):
    """Each reading a second later: entries added one after another have different times."""

    def __call__(self) -> float:
        self.now += 1
        return self.now


@pytest.fixture()
def library(tmp_path: Path) -> Iterator[BackdropLibrary]:
    clock = TickingClock()
    store = Store(f"sqlite:///{tmp_path / 'studio.db'}", files_root=tmp_path, clock=clock, day_tz=UTC)
    store.migrate()
    yield BackdropLibrary(store, tmp_path, max_pixels=40_000_000)
    store.close()


def test_add_list_get_update_delete(library: BackdropLibrary, tmp_path: Path) -> None:
    slab = library.add(backdrop_photo(), name="  White marble   slab ", tags="marble, 大理石")
    assert (slab.name, slab.tags, slab.surface) == (
        "White marble slab",
        ("marble", "大理石"),
        DEFAULT_SURFACE,
    )
    assert (slab.width, slab.height) == (640, 480) and slab.is_line
    assert slab.scene_id == f"user:{slab.backdrop_id}"
    for path in (slab.photo_path, slab.preview_path, slab.thumbnail_path):
        assert Path(path).is_file() and Path(path).is_relative_to(tmp_path / "backdrops")
    with Image.open(slab.thumbnail_path) as thumb:
        assert max(thumb.size) == 384

    shelf = library.add(
        backdrop_photo(fmt="PNG", tone=30),
        name="Brand shelf",
        tags=["shelf", "Kitchen"],
        surface=(0.1, 0.5, 0.9, 0.7),
    )
    assert not shelf.is_line
    assert [e.name for e in library.list()] == ["Brand shelf", "White marble slab"]  # newest first
    assert [e.name for e in library.list("kitchen")] == ["Brand shelf"]  # any case
    assert [e.name for e in library.list("大理石")] == ["White marble slab"]
    assert library.list("wood") == []
    assert library.get(slab.backdrop_id) == slab == library.get(slab.scene_id)
    assert library.get("nope") is None
    assert library.find("white marble slab") == slab
    assert library.find(slab.backdrop_id[:6]) == slab
    match = library.match("a cup on 大理石")
    assert match is not None and match.backdrop == slab and match.matched_tags == ("大理石",)

    changed = library.update(slab.backdrop_id, name="Marble", tags="marble, white", surface=(0, 0.6, 1, 0.8))
    assert (changed.name, changed.tags, changed.surface) == (
        "Marble",
        ("marble", "white"),
        (0.0, 0.6, 1.0, 0.8),
    )
    assert changed.created_at == slab.created_at and changed.updated_at >= slab.updated_at
    assert library.update(slab.backdrop_id, name="Marble 2").tags == ("marble", "white")  # the rest stays

    assert library.delete(slab.backdrop_id)
    assert not Path(slab.photo_path).exists() and not (tmp_path / "backdrops" / slab.backdrop_id).exists()
    assert not library.delete(slab.backdrop_id)
    assert [e.name for e in library.list()] == ["Brand shelf"]
    with pytest.raises(BackdropError) as caught:
        library.update(slab.backdrop_id, name="x")
    assert caught.value.code == "backdrop_not_found"


def test_find_says_what_is_missing_or_ambiguous(library: BackdropLibrary) -> None:
    library.add(backdrop_photo(), name="Slab", tags="marble")
    library.add(backdrop_photo(tone=10), name="slab", tags="marble")
    with pytest.raises(BackdropError, match="2 backdrops are called 'SLAB'") as caught:
        library.find("SLAB")
    assert caught.value.code == "backdrop_ambiguous"
    with pytest.raises(BackdropError, match="There is no backdrop 'kitchen corner'") as missing:
        library.find("kitchen corner")
    assert missing.value.code == "backdrop_not_found"


def _jpeg_with_orientation(width: int, height: int, orientation: int) -> bytes:
    image = Image.new("RGB", (width, height), (200, 190, 180))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_photos_are_checked_like_every_upload(
    library: BackdropLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(data: bytes) -> BackdropError:
        with pytest.raises(BackdropError) as caught:
            library.add(data, name="x")
        return caught.value

    assert refused(b"this is not a picture").code == "corrupt"
    assert refused(b"").code == "empty"
    assert refused(b"%PDF-1.4 ...").code == "unsupported_format"
    small = refused(backdrop_photo((400, 200)))
    assert small.code == "backdrop_too_small" and small.params["min_side"] == MIN_SIDE
    assert "400x200 pixels" in str(small)
    monkeypatch.setattr(backdrop_library, "MAX_FILE_BYTES", 2**20)
    noise = np.random.default_rng(1).integers(0, 255, (800, 800, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")
    big = refused(buffer.getvalue())  # refused before it is decoded
    assert big.code == "backdrop_file_too_large"
    assert "The file is 1.8 MB; a backdrop photo may be at most 1 MB" in str(big)
    monkeypatch.undo()
    tiny_limit = BackdropLibrary(library._store, library.data_dir, max_pixels=100_000)
    with pytest.raises(BackdropError) as pixels:
        tiny_limit.add(backdrop_photo((640, 480)), name="x")
    assert pixels.value.code == "too_many_pixels"
    assert library.list() == []  # nothing half-stored
    assert not any((library.data_dir / "backdrops").glob("*/photo.jpg"))

    # EXIF orientation 6: stored upright (portrait), as the camera meant it.
    upright = library.add(_jpeg_with_orientation(640, 480, 6), name="Turned")
    assert (upright.width, upright.height) == (480, 640)
    # A very long panorama is kept at most MAX_STORED_SIDE long.
    wide = library.add(backdrop_photo((4500, 400)), name="Wide")
    assert wide.width == MAX_STORED_SIDE and wide.height == round(400 * MAX_STORED_SIDE / 4500)
    # Transparency is laid on white: a backdrop is a whole scene.
    rgba = np.zeros((400, 400, 4), np.uint8)
    rgba[:, 200:] = (120, 60, 30, 255)  # the right half opaque, the left half transparent
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    flat = library.add(buffer.getvalue(), name="Half PNG")
    with Image.open(flat.photo_path) as stored:
        assert stored.mode == "RGB" and stored.getpixel((10, 10)) == (255, 255, 255)


def test_names_and_tags_are_checked(library: BackdropLibrary) -> None:
    for fields, code in [
        ({"name": "   "}, "backdrop_no_name"),
        ({"name": "x" * 90}, "backdrop_long_name"),
        ({"name": "ok", "surface": (0.5, 0.5, 0.5, 0.5)}, "backdrop_bad_surface"),
    ]:
        with pytest.raises(BackdropError) as caught:
            library.add(backdrop_photo(), **fields)  # type: ignore[arg-type]
        assert caught.value.code == code
    assert library.list() == []


def test_the_schema_gains_the_backdrops_table_in_place(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'old.db'}")
    assert migrate(engine, 4) == 4
    assert not inspect(engine).has_table("backdrops")
    assert migrate(engine, 5) == 5
    assert inspect(engine).has_table("backdrops")
    assert "ix_backdrops_created" in {index["name"] for index in inspect(engine).get_indexes("backdrops")}
    with engine.connect() as conn:
        assert schema_version(conn) == 5
    assert migrate(engine) == LATEST
    engine.dispose()
