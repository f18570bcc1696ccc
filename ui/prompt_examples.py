"""What an empty description makes on the local engine, said before Generate, with examples to click.

The local engine turns an empty description into a plain light-grey studio
backdrop. That is a fine result when it is what the user wants and a puzzling
one when it is not, so the page says so and offers example descriptions in the
page's language; clicking one fills the description box.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import labeller, t, tkey

EXAMPLE_KEYS = (
    tkey("first_hour.prompt.example.marble"),
    tkey("first_hour.prompt.example.wood"),
    tkey("first_hour.prompt.example.pastel"),
    tkey("first_hour.prompt.example.slate"),
)


def example_descriptions(prefix: str, text_key: str) -> None:
    """The notice and the example pills; a click writes the example into `text_key`'s box."""
    st.info(t("first_hour.prompt.empty_local"), icon=":material/lightbulb:")
    pills_key = f"{prefix}.examples"
    st.pills(
        t("first_hour.prompt.examples"),
        options=list(EXAMPLE_KEYS),
        format_func=labeller(EXAMPLE_KEYS, t),
        key=pills_key,
        on_change=_use_example,
        args=(pills_key, text_key),
        label_visibility="collapsed",
        width="stretch",
        wrap=True,  # four examples do not fit one line in a half-page column
    )


def _use_example(pills_key: str, text_key: str) -> None:
    chosen = st.session_state.get(pills_key)
    if isinstance(chosen, str) and chosen in EXAMPLE_KEYS:
        st.session_state[text_key] = t(chosen)
    st.session_state[pills_key] = None  # a pill is a button here, not a lasting choice
