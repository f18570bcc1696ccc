"""Page-test fixtures: a fresh data directory per test and the app's own cached Studio.

`ui.services.get_studio` caches one Studio per process; each test points
STUDIO_DATA_DIR at its own temp folder and clears the cache (which closes the
previous Studio and stops its worker) so tests never share jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from studio.service import Studio
from ui.services import get_studio

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
RUN_TIMEOUT_S = 120  # a run that cuts out a photo on a busy 2-core machine


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(folder))
    monkeypatch.delenv("STUDIO_LANG", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # Page tests cut out with the fast model (a fraction of a second); tests/views/test_cutout_choice.py
    # covers the best one and the choice between them.
    monkeypatch.setenv("STUDIO_CUTOUT_MODEL", "fast")
    st.cache_resource.clear()
    yield folder
    st.cache_resource.clear()


@pytest.fixture
def studio(data_dir: Path) -> Studio:
    """The very Studio the app uses (same process cache), with its worker running."""
    return get_studio()


def open_app(page: str | None = None, *, lang: str | None = "en") -> AppTest:
    """Run app.py once (optionally with ?lang=), then switch to `page` and run it."""
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
    if lang is not None:
        at.query_params["lang"] = lang
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def texts(at: AppTest) -> str:
    """Every piece of text on the page, for "the user can read X" assertions."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)
