"""The Chinese interface has no English left (issue 18), except names, formats and codes.

Every page is opened in Chinese and every text a user can read is collected: titles,
markdown, captions, notices, and the labels, help texts, placeholders and choices of every
widget. Words in Latin letters must be on the allow-list below: product and vendor names,
file formats, currencies, the README's section name, and the English tag example the
backdrop library gives on purpose (English tags match whole words). Code in backticks
(settings names, paths), links and Streamlit's own icon markup are not text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.views.conftest import open_app

PAGES = (
    "views/prompt_background.py",
    "views/scene_background.py",
    "views/virtual_model.py",
    "views/backdrops.py",
    "views/batches.py",
    "views/review.py",
    "views/history.py",
    "views/settings.py",
)
ALLOWED = {
    # names: the product, vendors, models, tools, the language switch's own names
    "Backdrop", "Studio", "Aidge", "DashScope", "Tencent", "Alibaba", "Cloud", "Marketplace", "Amazon",
    "Taobao", "Tmall", "ISNet", "u2netp", "netp", "Noto", "CJK", "tesseract", "MinIO", "Cloudflare",
    "AWS", "OSS", "COS", "CDN", "boto", "English", "Language", "README", "Sharing", "with", "team",
    # formats, units, currencies, codes
    "JPEG", "JPG", "PNG", "WEBP", "WebP", "BMP", "ZIP", "CSV", "XLSX", "SKU", "API", "URL", "CNY", "USD",
    "RGB", "XMP", "IPTC", "AIGC", "HTTP", "HTTPS",
    # the backdrop library's English tag example (tags in English match whole words)
    "marble",
}  # fmt: skip
_VALUES = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
_WIDGETS = (
    "button", "selectbox", "radio", "checkbox", "toggle", "text_input", "text_area", "number_input",
    "multiselect", "slider", "select_slider", "tabs", "expander", "metric", "download_button",
)  # fmt: skip
_NOT_TEXT = (
    re.compile(r"`[^`]*`"),  # code: settings names, paths, ids
    re.compile(r"https?://\S+"),
    re.compile(r":material/[a-z_]+:"),  # Streamlit's icon markup
    re.compile(r":(?:green|orange|red|blue|gray|grey|violet|rainbow|primary)\["),
    re.compile(r"\(#[a-z0-9-]+\)"),  # markdown anchors
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{2,}")


def readable_texts(at: AppTest) -> list[str]:
    found: list[str] = []
    for kind in _VALUES:
        found += [str(element.value) for element in getattr(at, kind)]
    for kind in _WIDGETS:
        for element in getattr(at, kind, ()):
            for attribute in ("label", "help", "placeholder"):
                value = getattr(element, attribute, None)
                if isinstance(value, str):
                    found.append(value)
            found += [str(option) for option in getattr(element, "options", None) or ()]
    return found


def english_words(text: str) -> set[str]:
    for pattern in _NOT_TEXT:
        text = pattern.sub(" ", text)
    return {word for word in _WORD.findall(text) if word not in ALLOWED}


@pytest.mark.parametrize("page", PAGES)
def test_a_chinese_page_has_no_english_words(data_dir: Path, page: str) -> None:
    at = open_app(page, lang="zh")
    assert not at.exception, [e.value for e in at.exception]
    left = {text: sorted(english_words(text)) for text in readable_texts(at)}
    assert {text: words for text, words in left.items() if words} == {}


def test_the_scanner_catches_english() -> None:
    assert english_words("已完成 · done") == {"done"}
    assert english_words("设置 `STUDIO_CHECKS` 与 Taobao 800×800 JPEG") == set()
