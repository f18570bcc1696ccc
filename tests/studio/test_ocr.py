"""The tesseract reader for the product fidelity check: it reads English and Chinese labels, and
a missing binary, language or a hung process turns into None or a clear OcrError."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from studio import ocr
from studio.ocr import CachedReader, OcrError, make_text_reader, parse_tsv, tesseract_available

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
needs_tesseract = pytest.mark.skipif(
    not tesseract_available() or not {"eng", "chi_sim"} <= ocr.installed_languages(),
    reason="tesseract with eng and chi_sim is not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim)",
)


def label(lines: list[str], size: int = 40) -> np.ndarray:
    image = Image.new("RGB", (520, 60 + len(lines) * size * 3 // 2), (246, 240, 226))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), size) if FONT.is_file() else ImageFont.load_default(size)
    for k, line in enumerate(lines):
        draw.text((30, 30 + k * size * 3 // 2), line, font=font, fill=(40, 30, 30))
    return np.asarray(image)


@needs_tesseract
def test_reads_an_english_label() -> None:
    reader = make_text_reader()
    assert reader is not None
    text = reader(label(["GREEN TEA", "20 BAGS"]))
    assert "GREEN TEA" in text and "20 BAGS" in text


@needs_tesseract
@pytest.mark.skipif(not FONT.is_file(), reason="Noto Sans CJK is not installed")
def test_reads_a_chinese_label() -> None:
    reader = make_text_reader()
    assert reader is not None
    read = reader(label(["蜂蜜柚子", "天然果酱"], size=48)).replace(" ", "").replace("\n", "")
    # One look-alike character may be misread (蜜 as 密); the fidelity check compares by ratio.
    assert difflib.SequenceMatcher(None, read, "蜂蜜柚子天然果酱").ratio() >= 0.75, read


@needs_tesseract
def test_a_blank_crop_reads_as_nothing() -> None:
    reader = make_text_reader("eng")
    assert reader is not None
    assert reader(np.full((60, 80, 3), 255, np.uint8)).strip() == ""


def test_no_reader_without_the_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    assert not tesseract_available()
    assert make_text_reader() is None


def test_no_reader_without_a_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr, "installed_languages", lambda: frozenset({"eng"}))
    assert make_text_reader("eng+chi_sim") is None
    assert make_text_reader("eng") is not None


@pytest.mark.parametrize(("languages", "timeout"), [("", 10.0), ("eng+", 10.0), ("eng", 0.0)])
def test_bad_arguments_raise_value_error(languages: str, timeout: float) -> None:
    with pytest.raises(ValueError, match="languages|timeout_s"):
        make_text_reader(languages, timeout)


def test_a_hung_tesseract_is_an_ocr_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr, "installed_languages", lambda: frozenset({"eng"}))

    def hang(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("tesseract", 0.5)

    monkeypatch.setattr(ocr.subprocess, "run", hang)
    reader = make_text_reader("eng", timeout_s=0.5)
    assert reader is not None
    with pytest.raises(OcrError, match="longer than 0.5 s"):
        reader(np.zeros((20, 20, 3), np.uint8))


def test_a_failing_tesseract_is_an_ocr_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr, "installed_languages", lambda: frozenset({"eng"}))
    failed = subprocess.CompletedProcess(["tesseract"], 1, b"", b"Error opening data file\n")
    monkeypatch.setattr(ocr.subprocess, "run", lambda *a, **k: failed)
    reader = make_text_reader("eng")
    assert reader is not None
    with pytest.raises(OcrError, match="Error opening data file"):
        reader(np.zeros((20, 20, 3), np.uint8))


def test_parse_tsv_keeps_words_by_line_and_weights_confidence() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t90\tGREEN",
        "5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t80\tTEA",
        "4\t1\t1\t1\t2\t0\t0\t0\t10\t10\t-1\t",
        "5\t1\t1\t1\t2\t1\t0\t0\t10\t10\t60\t20",
        "5\t1\t1\t1\t2\t2\t0\t0\t10\t10\t-1\t ",
        "5\t1\t1\t1\t2\t3\t0\t0\t10\t10\t18\tRss",
    ]
    text, confidence = parse_tsv("\n".join([header, *rows]))
    assert text == "GREEN TEA\n20"
    assert confidence == pytest.approx((90 * 5 + 80 * 3 + 60 * 2) / 10)
    assert parse_tsv(header) == ("", 0.0)


def test_the_same_crop_is_read_once_and_a_different_one_again() -> None:
    # Every output of a job compares against the same original crop: tesseract reads it once.
    calls: list[tuple[int, ...]] = []

    def read(rgb: np.ndarray) -> str:
        calls.append(rgb.shape)
        return f"text {len(calls)}"

    reader = CachedReader(read, size=2)
    crop = np.full((40, 60, 3), 200, np.uint8)
    assert reader(crop) == reader(crop.copy()) == "text 1"
    other = crop.copy()
    other[0, 0] = 0
    assert reader(other) == "text 2"  # one pixel differs: another crop
    reader(np.zeros((5, 5, 3), np.uint8))
    assert reader(crop) == "text 4"  # the oldest reading was let go at size 2
    assert len(calls) == 4
