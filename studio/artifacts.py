"""Job files on disk: inputs, masks, outputs and their History thumbnails, under the data directory.

Layout: `<data_dir>/jobs/<yyyy>/<mm>/<job_id>/` holding `input.png`, `mask.png`,
`reference.png`, `used_mask.png`, `out_01.png`, `out_01_thumb.jpg`, ...

Every write goes to a temporary file in the same folder and is moved into
place with `os.replace`, so a crash never leaves half an image. Once a job is
sealed (it finished) its folder is read-only to us: writing raises
`ArtifactError`. Paths handed to the store are relative to the data directory,
so the whole folder can be moved.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from imaging.provenance import Provenance
from imaging.provenance import embed as embed_provenance
from studio.errors import StudioError
from studio.storage import FileMissing, FileStore, FolderStore, key_for
from studio.storage_faults import StorageFault, fault_kind

THUMBNAIL_SIDE = 256
_SEAL = ".finished"
logger = logging.getLogger(__name__)
_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
# Vendors return ordinary web images; this guards against a hostile or broken answer.
_MAX_OUTPUT_PIXELS = 100_000_000


class ArtifactError(StudioError, RuntimeError):
    """A job file could not be written or read; the message says which and why."""

    default_code = "artifact_error"


class ArtifactStorageFault(StorageFault, ArtifactError):
    """A job file could not be written because the data folder is full, read-only or forbidden."""


@dataclass(frozen=True)
class SavedInputs:
    input_path: str
    mask_path: str | None
    reference_path: str | None


@dataclass(frozen=True)
class SavedOutput:
    path: str
    thumbnail_path: str
    width: int
    height: int


class Artifacts:
    def __init__(self, data_dir: Path, files: FileStore | None = None) -> None:
        self.data_dir = Path(data_dir)
        # Where the files really go (studio.storage): the data folder, or a shared bucket. Keys are
        # the relative paths the store keeps, so `absolute()` names a file only for a folder store.
        self.files: FileStore = files if files is not None else FolderStore(self.data_dir)

    # ------------------------------------------------------------ paths
    def job_dir(self, job_id: str, created_at: datetime) -> str:
        """The job's folder, relative to the data directory."""
        if not job_id or not job_id.isalnum():
            raise ArtifactError(f"job id '{job_id}' is not a plain identifier")
        moment = created_at.astimezone(UTC)
        return f"jobs/{moment:%Y}/{moment:%m}/{job_id}"

    def absolute(self, relative: str) -> Path:
        return self.data_dir / relative

    def relative(self, path: str | Path) -> str:
        return Path(path).resolve().relative_to(self.data_dir.resolve()).as_posix()

    def is_sealed(self, job_id: str, created_at: datetime) -> bool:
        return self.files.exists(f"{self.job_dir(job_id, created_at)}/{_SEAL}")

    # ------------------------------------------------------------ writing
    def save_inputs(
        self,
        job_id: str,
        created_at: datetime,
        image_png: bytes,
        mask_png: bytes | None = None,
        reference_png: bytes | None = None,
    ) -> SavedInputs:
        folder = self.job_dir(job_id, created_at)
        return SavedInputs(
            # A photo re-encoded to fit a vendor's byte limit is kept as the JPEG that is sent.
            input_path=self._write(
                folder, "input.jpg" if image_png[:3] == b"\xff\xd8\xff" else "input.png", image_png
            ),
            mask_path=self._write(folder, "mask.png", mask_png) if mask_png else None,
            reference_path=self._write(folder, "reference.png", reference_png) if reference_png else None,
        )

    def save_file(self, job_id: str, created_at: datetime, name: str, data: bytes) -> str:
        """A named extra file (e.g. `used_mask.png`); returns its relative path."""
        if "/" in name or "\\" in name or name.startswith("."):
            raise ArtifactError(f"'{name}' is not a plain file name")
        return self._write(self.job_dir(job_id, created_at), name, data)

    def save_output(
        self,
        job_id: str,
        created_at: datetime,
        index: int,
        data: bytes,
        provenance: Provenance | None = None,
    ) -> SavedOutput:
        """Store output number `index` (1-based) as received, plus a JPEG thumbnail for History.
        With `provenance`, the file carries it as XMP (pixels untouched): its AI-content label."""
        try:
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format or ""
                width, height = image.size
                if width * height > _MAX_OUTPUT_PIXELS:
                    raise ArtifactError(f"output {index} is {width}x{height}, larger than any real result")
                thumb = _thumbnail_jpeg(image)
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ) as exc:
            raise ArtifactError(f"output {index} is not a readable image ({type(exc).__name__})") from None
        folder = self.job_dir(job_id, created_at)
        extension = _EXTENSIONS.get(fmt)
        if extension is None:
            # Keep what the browser and Excel can open; exotic formats are re-encoded losslessly.
            data, extension = _to_png(data), "png"
        if provenance is not None:
            try:
                data = embed_provenance(data, provenance)
            except ValueError as exc:  # a file the label cannot go into is still kept, unlabelled
                logger.warning("output %s of job %s keeps no AI label: %s", index, job_id, exc)
        path = self._write(folder, f"out_{index:02d}.{extension}", data)
        thumbnail_path = self._write(folder, f"out_{index:02d}_thumb.jpg", thumb)
        return SavedOutput(path=path, thumbnail_path=thumbnail_path, width=width, height=height)

    def seal(self, job_id: str, created_at: datetime) -> None:
        """Mark the job's files final: later writes into this folder are refused."""
        folder = self.job_dir(job_id, created_at)
        try:
            self.files.put_bytes(f"{folder}/{_SEAL}", b"")
        except OSError as exc:
            code = fault_kind(exc)
            if code is None:
                raise
            raise ArtifactStorageFault(code, self.data_dir) from exc

    def remove_unfinished(self, job_id: str, created_at: datetime) -> None:
        """Delete the folder of a job that never got a database row (e.g. the insert failed)."""
        if not self.is_sealed(job_id, created_at):
            self.files.delete_prefix(self.job_dir(job_id, created_at) + "/")

    def _write(self, folder: str, name: str, data: bytes) -> str:
        if self.files.exists(f"{folder}/{_SEAL}"):
            raise ArtifactError(
                f"job folder {folder} belongs to a finished job; its files are never overwritten"
            )
        try:
            self.files.put_bytes(f"{folder}/{name}", data)
        except OSError as exc:
            code = fault_kind(exc)
            if code is not None:
                raise ArtifactStorageFault(code, self.data_dir) from exc
            raise ArtifactError(
                f"cannot write {folder}/{name} in {self.data_dir}: {exc.strerror or exc}; "
                "check free disk space and that STUDIO_DATA_DIR is writable"
            ) from None
        return f"{folder}/{name}"

    # ------------------------------------------------------------ reading
    def read(self, path: str | Path) -> bytes:
        """Bytes of a job file given its key (relative path) or its path under the data folder."""
        try:
            if Path(path).is_absolute() and not _under(Path(path), self.data_dir):
                return Path(path).read_bytes()  # a file outside the data folder (as before the store)
            return self.files.get_bytes(key_for(path, self.data_dir))
        except (FileMissing, ValueError) as exc:
            raise ArtifactError(
                f"cannot read {path}: {exc}; was the data directory moved or cleaned?"
            ) from None
        except OSError as exc:
            raise ArtifactError(
                f"cannot read {path}: {exc.strerror or exc}; was the data directory moved or cleaned?"
            ) from None


def _under(path: Path, folder: Path) -> bool:
    return path.is_relative_to(folder) or path.resolve().is_relative_to(folder.resolve())


def _thumbnail_jpeg(image: Image.Image) -> bytes:
    # draft() lets the JPEG decoder scale down while decoding: big outputs thumbnail fast.
    image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    picture = image.convert("RGBA")
    picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    flat = Image.new("RGB", picture.size, (255, 255, 255))
    flat.paste(picture, mask=picture.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _to_png(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()


def write_atomically(directory: Path, name: str, data: bytes) -> None:
    """Write `data` as `directory/name` so a reader never sees half a file: into a temporary
    file beside it, synced, then renamed over. Raises OSError (full disk, no permission)."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, directory / name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
