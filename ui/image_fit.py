"""Checks the photo against the chosen provider's limits before any money is spent, and offers the fix.

Downscaling is offered (one click, then said on the page); re-encoding to JPEG
to stay under a byte limit happens on the way out and is only reported.
A photo that is too small cannot be fixed here: the page says so and why.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from providers.base import Operation
from studio.service import PreparedImage, Studio
from ui.i18n import error_text, t

_FIXED = "{prefix}.fit.fixed"  # session_state: (digest, provider) -> the downscaled image


def _digest(image: PreparedImage) -> str:
    return hashlib.sha1(image.png, usedforsecurity=False).hexdigest()


def fitted_image(
    studio: Studio, image: PreparedImage, provider: str, workflow: Operation, prefix: str
) -> PreparedImage | None:
    """The image to send to `provider` (possibly downscaled by the user's choice), or None when it cannot go."""
    fit = studio.check_image_fit(image, provider, workflow)
    if fit.ok:
        if fit.jpeg_quality is not None:
            st.caption(
                t(
                    "fit.jpeg",
                    provider=fit.provider_label,
                    quality=fit.jpeg_quality,
                    mb=(fit.max_bytes or 0) // 1_048_576,
                )
            )
        return image
    store_key = _FIXED.format(prefix=prefix)
    wanted = (_digest(image), provider)
    fixed = st.session_state.get(store_key)
    if fit.fixable and isinstance(fixed, tuple) and fixed[0] == wanted:
        fixed_image: PreparedImage = fixed[1]
        st.info(
            t(
                "fit.done",
                provider=fit.provider_label,
                old=f"{image.width}×{image.height}",
                new=f"{fixed_image.width}×{fixed_image.height}",
            ),
            icon=":material/photo_size_select_large:",
        )
        after = studio.check_image_fit(fixed_image, provider, workflow)
        if after.jpeg_quality is not None:
            st.caption(
                t(
                    "fit.jpeg",
                    provider=after.provider_label,
                    quality=after.jpeg_quality,
                    mb=(after.max_bytes or 0) // 1_048_576,
                )
            )
        return fixed_image
    for problem in fit.problems:
        st.warning(error_text(problem), icon=":material/warning:")
    if fit.fixable and fit.downscale_to is not None:
        width, height = fit.downscale_to
        if st.button(
            t("fit.fix", provider=fit.provider_label, size=f"{width}×{height}"),
            key=f"{prefix}.fit.button",
            icon=":material/photo_size_select_large:",
        ):
            st.session_state[store_key] = (wanted, studio.fit_image(image, provider, workflow))
            st.rerun()
    return None
