"""Reading printed text off product crops with the tesseract binary, for the product fidelity
check (`imaging.fidelity.check_product(read_text=...)`).

This module owns finding tesseract and its languages, and one `TextReader`: an RGB crop in,
the recognised text out. It runs `tesseract stdin stdout` as a subprocess (no Python binding to
install; the Debian package is `tesseract-ocr` plus `tesseract-ocr-chi-sim`), on a grey PNG
enlarged so small label text reaches the ~30 px letter height tesseract reads best.

One run per language, keeping the reading tesseract is most confident of: with "eng+chi_sim"
in one run, tesseract 5 reads a clear Chinese label as Latin gibberish ("蜂蜜柚子" -> "he Be"),
while chi_sim alone reads it, and eng alone reads English labels best.
`make_text_reader` returns None when the binary or a language is missing: the check then skips
the text comparison instead of failing the job.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import subprocess
import threading
from collections import OrderedDict

import cv2
import numpy as np

from imaging.fidelity import TextReader

logger = logging.getLogger(__name__)

BINARY = "tesseract"
# Crops are enlarged until their long side is at least this (and shrunk above the maximum:
# tesseract's time grows with pixels, and label text needs no more).
_MIN_SIDE = 900
_MAX_SIDE = 1800
# Page segmentation 6: one uniform block of text. Mode 11 (sparse text) finds more words but
# also reads stray characters into edges and shading.
_PAGE_MODE = "6"
# Words tesseract is less sure of than this are dropped: on a label-less product it reads
# stitches and shading as one- to three-letter "words" at 0-20 %, while printed label words
# come back at 85-97 % (eng) and clear CJK characters at 25-95 %.
_MIN_WORD_CONFIDENCE = 20.0


# tesseract's OpenMP threads only fight each other (and the segmenter) for two cores; the
# fidelity check already reads the two crops in parallel.
_ONE_THREAD = {**os.environ, "OMP_THREAD_LIMIT": "1"}


class OcrError(RuntimeError):
    """tesseract failed or timed out on a crop (the fidelity check records "failed")."""


def tesseract_available() -> bool:
    """Whether the tesseract binary is on PATH."""
    return shutil.which(BINARY) is not None


@functools.lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    """The languages tesseract has data for (empty when the binary is missing or broken)."""
    path = shutil.which(BINARY)
    if path is None:
        return frozenset()
    try:
        done = subprocess.run([path, "--list-langs"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("cannot list tesseract's languages: %s", exc)
        return frozenset()
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip())


def make_text_reader(languages: str = "eng+chi_sim", timeout_s: float = 10.0) -> TextReader | None:
    """A reader for `languages` ("eng+chi_sim": tesseract's + syntax), or None (with a warning
    naming the package to install) when tesseract or one of the languages is missing."""
    if not languages or not all(part.strip() for part in languages.split("+")):
        raise ValueError(
            f"languages must be tesseract codes joined by '+', e.g. 'eng+chi_sim', got {languages!r}"
        )
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s}")
    path = shutil.which(BINARY)
    if path is None:
        logger.warning(
            "tesseract is not installed (apt-get install tesseract-ocr): the text check is skipped"
        )
        return None
    missing = [part for part in languages.split("+") if part not in installed_languages()]
    if missing:
        logger.warning(
            "tesseract has no data for %s (apt-get install %s): the text check is skipped",
            ", ".join(missing),
            " ".join(f"tesseract-ocr-{part.replace('_', '-')}" for part in missing),
        )
        return None
    return CachedReader(functools.partial(_read, path, languages, timeout_s))


class CachedReader:
    """A text reader that remembers its last readings by the crop's pixels: every output of a job
    (and every job of one product) compares against the same original crop, which is read once."""

    def __init__(self, read: TextReader, size: int = 64) -> None:
        self._read = read
        self._size = size
        self._known: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, rgb: np.ndarray) -> str:
        key = _digest(rgb)
        with self._lock:
            if key in self._known:
                self._known.move_to_end(key)
                return self._known[key]
        text = self._read(rgb)  # outside the lock: two different crops may be read at once
        with self._lock:
            self._known[key] = text
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return text


def _digest(rgb: np.ndarray) -> bytes:
    digest = hashlib.blake2b(str((rgb.shape, rgb.dtype.str)).encode(), digest_size=16)
    digest.update(np.ascontiguousarray(rgb).data)
    return digest.digest()


def _read(binary: str, languages: str, timeout_s: float, rgb: np.ndarray) -> str:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim not in (2, 3):
        raise ValueError("read_text takes an HxW or HxWx3 uint8 array")
    ok, png = cv2.imencode(".png", _prepared(rgb))
    if not ok:
        raise OcrError("could not encode the crop as PNG for tesseract")
    readings = [_run(binary, language, timeout_s, png.tobytes()) for language in languages.split("+")]
    return max(readings, key=lambda reading: reading[1])[0]


def _run(binary: str, language: str, timeout_s: float, png: bytes) -> tuple[str, float]:
    """(text, confidence): the words tesseract found, a line each, and its mean word confidence
    weighted by word length."""
    command = [binary, "stdin", "stdout", "-l", language, "--psm", _PAGE_MODE, "tsv"]
    try:
        done = subprocess.run(
            command, input=png, capture_output=True, timeout=timeout_s, check=False, env=_ONE_THREAD
        )
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"tesseract took longer than {timeout_s:g} s") from exc
    except OSError as exc:
        raise OcrError(f"could not run tesseract: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrError(f"tesseract failed ({done.returncode}): {message[-1] if message else 'no message'}")
    return parse_tsv(done.stdout.decode("utf-8", "replace"))


def parse_tsv(tsv: str) -> tuple[str, float]:
    """tesseract's TSV output -> (text with a line per text line, length-weighted confidence),
    words under _MIN_WORD_CONFIDENCE left out."""
    lines: dict[tuple[str, str, str], list[str]] = {}
    weighted, total = 0.0, 0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            continue
        word = cells[11].strip()
        try:
            confidence = float(cells[10])
        except ValueError:
            continue
        if not word or confidence < _MIN_WORD_CONFIDENCE:
            continue
        lines.setdefault((cells[2], cells[3], cells[4]), []).append(word)
        weighted += confidence * len(word)
        total += len(word)
    text = "\n".join(" ".join(words) for words in lines.values())
    return text, (weighted / total if total else 0.0)


def _prepared(rgb: np.ndarray) -> np.ndarray:
    """Grey, resized so the long side is within [_MIN_SIDE, _MAX_SIDE], with a white border
    (tesseract misses text touching the edge)."""
    grey = rgb if rgb.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    long_side = max(grey.shape[:2])
    factor = 1.0
    if long_side < _MIN_SIDE:
        factor = _MIN_SIDE / max(long_side, 1)
    elif long_side > _MAX_SIDE:
        factor = _MAX_SIDE / long_side
    if factor != 1.0:
        size = (max(1, round(grey.shape[1] * factor)), max(1, round(grey.shape[0] * factor)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)
    return np.asarray(cv2.copyMakeBorder(grey, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255))
