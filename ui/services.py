"""The one Studio per process: created on first use, its worker started once, closed on release.

Pages call `get_studio()` and nothing else to reach the application. Caching the
resource (not any action) is what lets every session share one worker, so a job
keeps running after its browser tab closes.
"""

from __future__ import annotations

import streamlit as st

from studio.service import Studio, open_studio


def _release(studio: Studio) -> None:
    studio.close()


@st.cache_resource(show_spinner=False, on_release=_release)
def get_studio() -> Studio:
    studio = open_studio()
    studio.start_worker()
    return studio
