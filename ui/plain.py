"""Text that is not ours, shown as text: `plain(value)` for values put into Streamlit markdown.

Streamlit 1.67 reads as markdown the body of `st.markdown`, `st.caption`, `st.write(str)`,
the alert boxes (`st.error`, `st.warning`, `st.info`, `st.success`), toasts, titles and
headers, widget labels, expander and tab labels and help tooltips. On top of GitHub-flavoured
markdown (links, `**bold**`, `~strike~`, backticks, raw HTML) it adds LaTeX between `$`,
`:color[...]` and other text directives, `:material/icon:`, emoji shortcodes such as `:smile:`
and turns bare `http://...`, `www....` and e-mail addresses into links.

Our own templates (`t("key", ...)`) are markdown; the values put into them -- SKUs, batch,
file and backdrop names, prompts, product titles, a vendor's error message -- are not. They
go through `plain()`, which backslash-escapes every markdown character (CommonMark lets any
ASCII punctuation be escaped) and, where escaping cannot help because Streamlit matches
the text after parsing (emoji shortcodes, `:material/`, bare links, e-mail addresses),
puts an invisible word joiner (U+2060) inside the pattern. Line breaks become spaces: a
value never starts a heading, a list or a code block of its own.

Only markdown places take `plain()`; `st.dataframe`, `st.text`, `st.code`, file names and
option lists show text as it is and get the raw value.
"""

from __future__ import annotations

import re
from typing import Any

JOINER = "\u2060"  # WORD JOINER: invisible, no line break, not a word character
# Characters markdown (CommonMark + GFM + Streamlit's additions) gives a meaning inline.
_SPECIAL = frozenset("\\`*_[]<>|~$&:")
# A character after ':' that could start an emoji shortcode, a directive, `:material/` or `://`.
_AFTER_COLON = re.compile(r"[\w+\-/]")
_WWW = re.compile(r"(?i)\b(w)(ww)(?=\.)")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")
# At the start of a value (which may start a line): a heading, list, quote or ordered list marker.
_LEADING = re.compile(r"^(\s*)([#+\-=]|\d+[.)])")


def plain(value: Any) -> str:
    """`value` as text that Streamlit's markdown shows literally: no link, no formatting, no HTML."""
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    text = _WWW.sub(rf"\1{JOINER}\2", text)
    out: list[str] = []
    for index, char in enumerate(text):
        if char in _SPECIAL:
            out.append("\\" + char)
            if char == ":" and _AFTER_COLON.match(text, index + 1):
                out.append(JOINER)
        elif char == "@":
            out.append("@" + JOINER)  # an e-mail address would become a mailto: link
        else:
            out.append(char)
    return _LEADING.sub(_escape_marker, "".join(out))


def _escape_marker(match: re.Match[str]) -> str:
    marker = match.group(2)
    return match.group(1) + (marker[:-1] + "\\" + marker[-1] if marker[-1] in ".)" else "\\" + marker)


def plain_params(params: dict[str, Any]) -> dict[str, str]:
    """Every value of `params` through `plain` (for a template whose params are all user text)."""
    return {key: plain(value) for key, value in params.items()}


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """What a `plain()` text reads as once rendered: the inverse of `plain` (for tests and checks)."""
    return _ESCAPED.sub(r"\1", markdown.replace(JOINER, ""))
