"""The one Studio per process: created on first use, its worker started once (unless the
settings say jobs run on separate workers), closed on release.

Pages call `get_studio()` and nothing else to reach the application. Caching the
resource (not any action) is what lets every session share one worker, so a job
keeps running after its browser tab closes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import streamlit as st

from studio.i18n import DEFAULT_LANGUAGE, normalise_language
from studio.service import Studio, open_studio
from studio.storage_faults import StorageFault, fault_folder, storage_fault
from ui.errors import error_text
from ui.i18n import LANG_STATE, t

logger = logging.getLogger(__name__)


def _release(studio: Studio) -> None:
    studio.close()


@st.cache_resource(show_spinner=False, on_release=_release)
def _shared_studio() -> Studio:
    studio = open_studio()
    if studio.settings.app_worker:
        studio.start_worker()
    else:
        # STUDIO_APP_WORKER=false: `python -m studio worker` processes (here or on other machines) run jobs.
        logger.info("the app runs no worker; jobs run on separate workers (python -m studio worker)")
    return studio


def get_studio() -> Studio:
    """The process's Studio. A data folder it cannot write (full, read-only) stops the page with
    the translated reason; nothing is cached, so the next run tries again once it is fixed."""
    try:
        return _shared_studio()
    except Exception as exc:
        fault = storage_fault(exc, fault_folder(exc))
        if fault is None:
            raise
        logger.error("Backdrop Studio cannot use its data folder", exc_info=exc)
        # The language is not chosen yet (that needs the store): the URL's, else the default.
        st.session_state.setdefault(
            LANG_STATE, normalise_language(st.query_params.get("lang")) or DEFAULT_LANGUAGE
        )
        st.error(t("faults.startup"), icon=":material/folder_off:")
        _stop_with(fault)


@contextmanager
def storage_guard() -> Iterator[None]:
    """Around a page: a full or read-only data folder met mid-run is shown as our translated
    message (the stack goes to the log), never as a traceback."""
    try:
        yield
    except Exception as exc:
        fault = storage_fault(exc, fault_folder(exc))
        if fault is None:
            raise
        logger.error("a page stopped on a storage fault", exc_info=exc)
        _stop_with(fault)


def _stop_with(fault: StorageFault) -> NoReturn:
    st.error(error_text(fault), icon=":material/folder_off:")
    st.caption(t("faults.retry"))
    st.stop()
    raise fault  # st.stop() raises; this line is for the type checker
