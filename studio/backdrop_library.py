"""The user's backdrop library: photos of empty sets (a marble slab, a brand's shelf) with tags and
the surface a product stands on, kept so they can be used as scenes, in prompts and in batches.

Owns the `backdrops` table (schema v5, studio/migrations.py), read and written through the
store's transactions, and the files under `<data_dir>/backdrops/<id>/`: `photo.jpg` (what
a job copies into its own inputs), `preview.jpg` (long side 1024, for the page) and
`thumb.jpg` (384, for galleries and the scene catalogue). A photo is checked like every
upload (`imaging.images.load_image`: format, pixel count, EXIF orientation, modes), must be
at least `MIN_SIDE` px on its short side, and is kept at most `MAX_STORED_SIDE` px long.

A job never reads the library after it is submitted: `studio.service` copies the photo into
the job's folder, so deleting an entry cannot break a queued job.
"""

from __future__ import annotations

import builtins
import json
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping

from imaging.images import ImageInputError, encode_jpeg, flatten_on, load_image, thumbnail
from providers.base import SceneInfo
from studio.artifacts import write_atomically
from studio.backdrop_match import (
    DEFAULT_SURFACE,
    USER_SCENE_PREFIX,
    Backdrop,
    BackdropError,
    BackdropMatch,
    Surface,
    best_match,
    check_surface,
    clean_name,
    clean_tags,
)
from studio.migrations import backdrops_table as table
from studio.safe_files import MAX_INPUT_BYTES, FileRefused, read_regular_file
from studio.storage_faults import storage_fault
from studio.store import Store

# The scene catalogue's category for these (translated as `scene.category.mine`).
SCENE_CATEGORY = "mine"
MIN_SIDE = 300
MAX_STORED_SIDE = 4096
MAX_FILE_BYTES = 50 * 1024 * 1024
PREVIEW_SIDE = 1024
THUMBNAIL_SIDE = 384
_FOLDER = "backdrops"
# The shortest id prefix `find` accepts (ids are 32 hex digits; 6 is what people copy).
_MIN_PREFIX = 6


class BackdropLibrary:
    """Add, list, change and remove backdrops. Thread-safe: state lives in the store and on disk."""

    def __init__(self, store: Store, data_dir: Path, *, max_pixels: int) -> None:
        self._store = store
        self.data_dir = Path(data_dir)
        self._max_pixels = max_pixels

    # ------------------------------------------------------------ adding
    def add(
        self,
        data: bytes,
        *,
        name: str,
        tags: str | Iterable[str] = (),
        surface: Sequence[object] | None = None,
    ) -> Backdrop:
        """Check the photo, store it with its name, tags and surface (default: the lower third line)."""
        clean = clean_name(name)
        tag_list = clean_tags(tags)
        marked = check_surface(surface) if surface is not None else DEFAULT_SURFACE
        photo, preview, thumb, (width, height) = self._photo_files(data)
        backdrop_id = uuid.uuid4().hex
        folder = f"{_FOLDER}/{backdrop_id}"
        now = self._store.now()
        try:
            paths = {
                "photo_path": self._write(folder, "photo.jpg", photo),
                "preview_path": self._write(folder, "preview.jpg", preview),
                "thumbnail_path": self._write(folder, "thumb.jpg", thumb),
            }
            with self._store.writing() as conn:
                conn.execute(
                    insert(table).values(
                        id=backdrop_id,
                        created_at=now,
                        updated_at=now,
                        name=clean,
                        tags_json=dumps(tag_list),
                        **_surface_columns(marked),
                        width=width,
                        height=height,
                        **paths,
                    )
                )
        except BaseException:
            shutil.rmtree(self.data_dir / folder, ignore_errors=True)
            raise
        added = self.get(backdrop_id)
        assert added is not None
        return added

    def check_photo(self, data: bytes) -> tuple[int, int]:
        """The photo's size as it would be stored; BackdropError saying what is wrong otherwise."""
        return self._photo_files(data)[3]

    def _photo_files(self, data: bytes) -> tuple[bytes, bytes, bytes, tuple[int, int]]:
        if len(data) > MAX_FILE_BYTES:
            megabytes, most = round(len(data) / 2**20, 1), round(MAX_FILE_BYTES / 2**20, 1)
            raise BackdropError(
                "backdrop_file_too_large",
                f"The file is {megabytes:g} MB; a backdrop photo may be at most {most:g} MB. "
                "Save it as a JPEG and try again.",
                {"megabytes": f"{megabytes:g}", "max": f"{most:g}"},
            )
        try:
            loaded = load_image(data, max_pixels=self._max_pixels, min_side=1)
        except ImageInputError as exc:
            raise BackdropError(exc.code, str(exc), dict(exc.params)) from None
        if min(loaded.width, loaded.height) < MIN_SIDE:
            raise BackdropError(
                "backdrop_too_small",
                f"The photo is {loaded.width}x{loaded.height} pixels; a backdrop needs at least {MIN_SIDE} "
                "pixels on each side so products look sharp on it. Use a larger photo.",
                {"width": loaded.width, "height": loaded.height, "min_side": MIN_SIDE},
            )
        # A backdrop is a whole scene: any transparency is laid on white.
        rgb = flatten_on(loaded.rgba) if loaded.has_alpha else loaded.rgb
        if max(loaded.width, loaded.height) > MAX_STORED_SIDE:
            rgb = thumbnail(rgb, MAX_STORED_SIDE)
        size = (int(rgb.shape[1]), int(rgb.shape[0]))
        return (
            encode_jpeg(rgb, 92),
            encode_jpeg(thumbnail(rgb, PREVIEW_SIDE), 85),
            encode_jpeg(thumbnail(rgb, THUMBNAIL_SIDE), 82),
            size,
        )

    # ------------------------------------------------------------ reading
    def list(self, tag: str | None = None) -> builtins.list[Backdrop]:
        """Every backdrop, newest first; with `tag`, those that carry it (any case)."""
        with self._store.reading() as conn:
            rows = conn.execute(select(table).order_by(table.c.created_at.desc(), table.c.id.desc()))
            entries = [self._entry(row) for row in rows.mappings()]
        if tag is None or not tag.strip():
            return entries
        wanted = " ".join(tag.split()).casefold()
        return [entry for entry in entries if any(t.casefold() == wanted for t in entry.tags)]

    def count(self) -> int:
        with self._store.reading() as conn:
            return len(conn.execute(select(table.c.id)).all())

    def get(self, backdrop_id: str) -> Backdrop | None:
        """The entry with this id (`user:<id>` also works); None when there is none."""
        key = backdrop_id.removeprefix(USER_SCENE_PREFIX).strip()
        with self._store.reading() as conn:
            row = conn.execute(select(table).where(table.c.id == key)).mappings().first()
            return self._entry(row) if row is not None else None

    def find(self, reference: str) -> Backdrop:
        """The entry a user means: its id, `user:<id>`, an id prefix (6+ characters) or its name."""
        text = " ".join(str(reference).split())
        if not text:
            raise BackdropError(
                "backdrop_not_found", "No backdrop is named; give its id or name.", {"backdrop": ""}
            )
        exact = self.get(text)
        if exact is not None:
            return exact
        entries = self.list()
        key = text.removeprefix(USER_SCENE_PREFIX).casefold()
        candidates = [e for e in entries if e.name.casefold() == key]
        if not candidates and len(key) >= _MIN_PREFIX:
            candidates = [e for e in entries if e.backdrop_id.startswith(key)]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            ids = ", ".join(entry.backdrop_id[:8] for entry in candidates)
            raise BackdropError(
                "backdrop_ambiguous",
                f"{len(candidates)} backdrops are called '{text}' ({ids}); name one by its id.",
                {"backdrop": text, "ids": ids},
            )
        raise BackdropError(
            "backdrop_not_found",
            f"There is no backdrop '{text}' in your library. Add it on the My backdrops page "
            "(or `python -m studio backdrops add`), or check the name with `backdrops list`.",
            {"backdrop": text},
        )

    def match(self, prompt: str) -> BackdropMatch | None:
        """The backdrop whose tags `prompt` names most often (newest on a tie), with those tags."""
        return best_match(prompt, self.list())

    def resolve(
        self,
        *,
        local: bool,
        provider_label: str,
        scene: bool,
        scene_id: str | None,
        prompt: str,
        choice: object = None,
    ) -> BackdropMatch | None:
        """Which backdrop a job is placed on, decided at submit.

        `choice` is the job's `backdrop_id` option: an id or name, "none" (no backdrop) or
        "auto"/empty (the default). A scene `user:<id>` names one too. Only the local engine
        uses them: a cloud provider given one is refused, never sent it. Otherwise a prompt
        job gets the backdrop whose tags the prompt names most (none when it names none);
        a local recipe scene gets none unless one is chosen.
        """
        text = "" if choice is None else " ".join(str(choice).split())
        key = text.casefold()
        explicit = key not in ("", "auto", "none")
        user_scene = scene and bool(scene_id) and str(scene_id).startswith(USER_SCENE_PREFIX)
        if not local:
            if explicit or user_scene:
                raise BackdropError(
                    "backdrop_not_taken",
                    f"{provider_label} does not use your own backdrops; only the local engine places "
                    "products on them. Choose the local engine, or leave the backdrop out.",
                    {"provider": provider_label},
                )
            return None
        if user_scene:
            entry = self.find(str(scene_id))
            if explicit and self.find(text).backdrop_id != entry.backdrop_id:
                raise BackdropError(
                    "backdrop_conflict",
                    f"The scene is your backdrop '{entry.name}' but another backdrop ('{text}') is chosen "
                    "too; give just one.",
                    {"name": entry.name, "backdrop": text},
                )
            return BackdropMatch(entry, how="scene")
        if key == "none":
            return None
        if explicit:
            return BackdropMatch(self.find(text), how="chosen")
        if scene:
            return None
        return self.match(prompt)

    def photo(self, entry: Backdrop) -> bytes:
        return self._read(entry, entry.photo_path)

    def preview(self, entry: Backdrop) -> bytes:
        return self._read(entry, entry.preview_path)

    def thumbnail(self, entry: Backdrop) -> bytes:
        return self._read(entry, entry.thumbnail_path)

    def scenes(self) -> builtins.list[SceneInfo]:
        """The library as scenes for the catalogue (`user:<id>`, category "mine", the thumbnail)."""
        scenes = []
        for entry in self.list():
            try:
                thumb: bytes | None = self.thumbnail(entry)
            except BackdropError:
                thumb = None  # the catalogue still lists it; choosing it says what is missing
            scenes.append(
                SceneInfo(
                    scene_id=entry.scene_id,
                    name=entry.name,
                    category=SCENE_CATEGORY,
                    thumbnail=thumb,
                    description=", ".join(entry.tags),
                )
            )
        return scenes

    # ------------------------------------------------------------ changing
    def update(
        self,
        backdrop_id: str,
        *,
        name: str | None = None,
        tags: str | Iterable[str] | None = None,
        surface: Sequence[object] | None = None,
    ) -> Backdrop:
        """Change the name, tags or surface (what is None stays); returns the entry as it is now."""
        entry = self.get(backdrop_id)
        if entry is None:
            raise BackdropError(
                "backdrop_not_found",
                f"There is no backdrop '{backdrop_id}' in your library; it may have been removed.",
                {"backdrop": backdrop_id},
            )
        values: dict[str, Any] = {"updated_at": self._store.now()}
        if name is not None:
            values["name"] = clean_name(name)
        if tags is not None:
            values["tags_json"] = dumps(clean_tags(tags))
        if surface is not None:
            values |= _surface_columns(check_surface(surface))
        with self._store.writing() as conn:
            conn.execute(update(table).where(table.c.id == entry.backdrop_id).values(**values))
        changed = self.get(entry.backdrop_id)
        assert changed is not None
        return changed

    def delete(self, backdrop_id: str) -> bool:
        """Remove the entry and its files; False when there was none. Jobs keep their own copy."""
        entry = self.get(backdrop_id)
        if entry is None:
            return False
        with self._store.writing() as conn:
            conn.execute(delete(table).where(table.c.id == entry.backdrop_id))
        shutil.rmtree(self.data_dir / _FOLDER / entry.backdrop_id, ignore_errors=True)
        return True

    # ------------------------------------------------------------ files
    def _write(self, folder: str, name: str, data: bytes) -> str:
        directory = self.data_dir / folder
        try:
            write_atomically(directory, name, data)
        except OSError as exc:
            fault = storage_fault(exc, self.data_dir)
            if fault is not None:
                raise fault from exc  # a full or read-only data folder: the same words as everywhere
            raise BackdropError(
                "backdrop_not_saved",
                f"The backdrop could not be saved in {self.data_dir} ({exc.strerror or exc}); check free "
                "disk space and that STUDIO_DATA_DIR is writable.",
                {"detail": str(exc.strerror or exc)},
            ) from None
        return f"{folder}/{name}"

    def _read(self, entry: Backdrop, path: str) -> bytes:
        try:
            # A regular file only, bounded: a device or FIFO swapped in for the photo is refused unread.
            return read_regular_file(path, MAX_INPUT_BYTES)
        except FileRefused:
            raise BackdropError(
                "backdrop_photo_missing",
                f"The photo of the backdrop '{entry.name}' is missing from {self.data_dir}; remove the "
                "backdrop and add the photo again.",
                {"name": entry.name},
            ) from None

    def _entry(self, row: RowMapping) -> Backdrop:
        return Backdrop(
            backdrop_id=str(row["id"]),
            name=str(row["name"]),
            tags=tuple(str(tag) for tag in json.loads(row["tags_json"] or "[]")),
            surface=(
                float(row["surface_x0"]),
                float(row["surface_y0"]),
                float(row["surface_x1"]),
                float(row["surface_y1"]),
            ),
            width=int(row["width"]),
            height=int(row["height"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            photo_path=str(self.data_dir / row["photo_path"]),
            preview_path=str(self.data_dir / row["preview_path"]),
            thumbnail_path=str(self.data_dir / row["thumbnail_path"]),
        )


def _surface_columns(surface: Surface) -> dict[str, float]:
    x0, y0, x1, y1 = surface
    return {"surface_x0": x0, "surface_y0": y0, "surface_x1": x1, "surface_y1": y1}


def dumps(tags: Sequence[str]) -> str:
    return json.dumps(list(tags), ensure_ascii=False)
