""" "Try it with a sample photo": the project's own product photos, one click to load one as if uploaded.

The photos live in ui/assets/samples/ (made by scripts/make_samples.py, CC0, see
the LICENSE.md there). Picking one hands its bytes to the caller's `load`
callback, which stores them exactly where an upload would go, so every later
step (validation, cutout, generate) treats a sample like any other photo.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ui.i18n import t, tkey

SAMPLES_DIR = Path(__file__).resolve().parent / "assets" / "samples"
# The order they are offered in; each name is also its file (<name>.jpg) and its label key.
SAMPLE_NAMES = ("serum-bottle", "ceramic-mug", "sneaker", "cosmetics-box")
_LABEL_KEYS = {
    "serum-bottle": tkey("first_hour.sample.serum-bottle"),
    "ceramic-mug": tkey("first_hour.sample.ceramic-mug"),
    "sneaker": tkey("first_hour.sample.sneaker"),
    "cosmetics-box": tkey("first_hour.sample.cosmetics-box"),
}


def sample_path(name: str) -> Path:
    return SAMPLES_DIR / f"{name}.jpg"


def available_samples() -> tuple[str, ...]:
    """The sample names whose file is present (an installation may have pruned the folder)."""
    return tuple(name for name in SAMPLE_NAMES if sample_path(name).is_file())


@functools.cache
def sample_bytes(name: str) -> bytes:
    """The JPEG of one sample; read once per process (the files never change while it runs)."""
    if name not in SAMPLE_NAMES:
        raise KeyError(name)
    return sample_path(name).read_bytes()


def is_sample(file_name: str, data: bytes) -> bool:
    """Whether an "upload" is one of the samples (so the page can say so instead of "uploaded")."""
    name = file_name.removesuffix(".jpg")
    return name in available_samples() and data == sample_bytes(name)


def sample_label(name: str) -> str:
    return t(_LABEL_KEYS[name])


def sample_picker(prefix: str, load: Callable[[str, bytes], None]) -> None:
    """A compact row of sample thumbnails, each with a "Use" button calling `load(file_name, data)`."""
    names = available_samples()
    with st.container(border=True, key=f"{prefix}-samples"):
        st.markdown(t("first_hour.sample.title"), help=t("first_hour.sample.help"))
        if not names:
            st.caption(t("first_hour.sample.missing"))
            return
        for column, name in zip(st.columns(len(names), gap="small"), names, strict=True):
            with column:
                st.image(str(sample_path(name)), caption=sample_label(name), width="stretch")
                st.button(
                    t("first_hour.sample.use"),
                    key=f"{prefix}.sample.{name}",
                    help=t("first_hour.sample.use_help", name=sample_label(name)),
                    on_click=_pick,
                    args=(name, load),
                    width="stretch",
                )


def _pick(name: str, load: Callable[[str, bytes], None]) -> None:
    load(f"{name}.jpg", sample_bytes(name))
