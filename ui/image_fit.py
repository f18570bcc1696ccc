"""Checks the photo against the chosen provider's limits before any money is spent, and offers the fix.

The check measures the exact file the vendor would get (`Studio.check_image_fit`).
What can be fixed (downscale, lossless PNG, high-quality JPEG) is offered with
one click and said on the page; the fixed file is the one the job stores and
sends. A photo that is too small or too narrow cannot be fixed here: the page
says so and why.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from providers.base import Operation
from studio.service import ImageFit, PreparedImage, Studio
from ui.i18n import error_text, t

_FIXED = "{prefix}.fit.fixed"  # session_state: (digest, provider) -> the fitted image
_CHECKED = "{prefix}.fit.check"  # session_state: (digest, provider, workflow) -> its ImageFit


def _digest(image: PreparedImage) -> str:
    return hashlib.sha1(image.png, usedforsecurity=False).hexdigest()


def fitted_image(
    studio: Studio, image: PreparedImage, provider: str, workflow: Operation, prefix: str
) -> PreparedImage | None:
    """The image to send to `provider` (possibly fitted by the user's choice), or None when it cannot go."""
    wanted = (_digest(image), provider)
    # The check encodes candidate fixes for a photo that does not fit: once per photo and provider,
    # not on every rerun of the page.
    check_key = _CHECKED.format(prefix=prefix)
    cached = st.session_state.get(check_key)
    if isinstance(cached, tuple) and cached[0] == (*wanted, str(workflow)):
        fit: ImageFit = cached[1]
    else:
        fit = studio.check_image_fit(image, provider, workflow)
        st.session_state[check_key] = ((*wanted, str(workflow)), fit)
    if fit.ok:
        return image
    store_key = _FIXED.format(prefix=prefix)
    fixed = st.session_state.get(store_key)
    if fit.fixable and isinstance(fixed, tuple) and fixed[0] == wanted:
        fixed_image: PreparedImage = fixed[1]
        old, new = f"{image.width}×{image.height}", f"{fixed_image.width}×{fixed_image.height}"
        if fit.fix_kinds == ("downscale",):
            done = t("fit.done", provider=fit.provider_label, old=old, new=new)
        else:
            mb = f"{len(fixed_image.png) / 1_048_576:.1f}"
            done = t("fit.done_encode", provider=fit.provider_label, old=old, new=new, how=_how(fit), mb=mb)
        st.info(done, icon=":material/photo_size_select_large:")
        return fixed_image
    for problem in fit.problems:
        st.warning(error_text(problem), icon=":material/warning:")
    if fit.fixable and fit.fixed_image is not None:
        size = f"{fit.fixed_image.width}×{fit.fixed_image.height}"
        if fit.fix_kinds == ("downscale",):
            label = t("fit.fix", provider=fit.provider_label, size=size)
        else:
            label = t("fit.fix_encode", provider=fit.provider_label, size=size, how=_how(fit))
        if st.button(label, key=f"{prefix}.fit.button", icon=":material/photo_size_select_large:"):
            st.session_state[store_key] = (wanted, fit.fixed_image)
            st.rerun()
    return None


def _how(fit: ImageFit) -> str:
    """How the fixed file is encoded, in words."""
    if fit.jpeg_quality is not None:
        return t("fit.as_jpeg", quality=fit.jpeg_quality)
    return t("fit.as_png")
