"""The by-eye gallery harness (`bench/gallery.py`): one product x one prompt, rendered by the working tree.

It runs the real path: the product photo is drawn by `bench/gallery_products.py`, the engine
renders in a child process importing only the given code tree, and the sheet is assembled from
that child's cache. Small sizes keep it to a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from bench import gallery

CELL = 96


def _read(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {path}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.int16)


def test_one_product_one_prompt_makes_a_sheet_with_the_right_grid(tmp_path: Path) -> None:
    set_dir, out, cache = tmp_path / "set", tmp_path / "out", tmp_path / "cache"
    gallery.make_set(set_dir, size=360, only=["serum_white"])
    code = gallery.main(
        [
            "--no-before",
            "--products",
            "serum_white",
            "--rows",
            "10",
            "--cell",
            str(CELL),
            "--set",
            str(set_dir),
            "--out",
            str(out),
            "--cache",
            str(cache),
        ]
    )
    assert code == 0

    sheet_path = out / "10_pure_white.jpg"
    sheet = _read(sheet_path)
    height, width = sheet.shape[:2]
    columns = gallery.column_x(1, CELL)
    assert len(columns) == 1 + gallery.VARIANTS  # the photo, then the working tree's variants
    assert width == columns[-1] + CELL + gallery.PAD
    top = height - gallery.PAD - (CELL + gallery.GAP)  # one product row above the bottom margin
    assert top > gallery.HEAD_H

    # Each grid cell holds what it should: the photo, then the engine's variants from the cache.
    photo = gallery._fit(_read(set_dir / "serum_white.jpg").astype(np.uint8), CELL).astype(np.int16)
    upper = slice(0, CELL // 2)  # the product's label covers the photo's bottom edge
    cell = sheet[top : top + CELL, columns[0] : columns[0] + CELL]
    assert np.abs(cell[upper] - photo[upper]).mean() < 6
    results = json.loads((cache / "after-fast" / "results.json").read_text())
    job = results["jobs"]["10_pure_white__serum_white"]
    assert "error" not in job
    for variant, x in enumerate(columns[1:], start=1):
        rendered = _read(cache / "after-fast" / "cells" / f"10_pure_white__serum_white__v{variant}.jpg")
        assert np.abs(sheet[top : top + CELL, x : x + CELL] - rendered).mean() < 6
        assert rendered.std() > 5  # a product on the backdrop, not an empty cell

    # The prompt reading is recorded and indexed.
    readme = (out / "README.md").read_text()
    assert "[10_pure_white.jpg](10_pure_white.jpg)" in readme
    assert ", ".join(job["notes"]["words_used"]) in readme
    assert (out / "index.jpg").is_file()
    assert sheet_path.stat().st_size < gallery.SHEET_MAX_BYTES
