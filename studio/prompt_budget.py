"""How much of a prompt a vendor reads, and a warning when the prompt is longer.

Some vendors read only the start of a prompt and drop the rest without an
error (DashScope wanx, seed 003: about 150 English words or 100-120 Chinese
characters). `Limits.prompt_words` / `Limits.prompt_cjk_chars` declare that
budget; this module measures a prompt against it. The result is a warning for
the page and the CLI, never a refusal: the job runs, but the end of the text
may not count.

Mixed text is measured by how much of each budget it uses: 75 English words
and 50 Chinese characters fill a 150-word / 100-character budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from providers.base import Limits

# Han ideographs (with extension A and the compatibility block), the characters the vendor counts.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A word of the rest: letters or digits, with inner apostrophes or hyphens ("don't", "A-line").
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")

PromptField = Literal["prompt", "negative_prompt"]


@dataclass(frozen=True)
class PromptOverflow:
    """A prompt longer than the vendor reads: what it holds and what the vendor takes."""

    field: PromptField
    words: int
    cjk_chars: int
    max_words: int
    max_cjk_chars: int

    @property
    def share(self) -> float:
        """How much of the budget the text uses (1.0 = all of it)."""
        return self.words / self.max_words + self.cjk_chars / self.max_cjk_chars

    def message(self, provider_label: str) -> str:
        """One English line for the CLI and logs (the page shows translated text)."""
        what = "prompt" if self.field == "prompt" else "negative prompt"
        return (
            f"the {what} has {_amount(self)}; {provider_label} reads about the first {self.max_words} "
            f"English words or {self.max_cjk_chars} Chinese characters and ignores the rest. Put what "
            "matters first, or shorten it."
        )


def measure(text: str) -> tuple[int, int]:
    """(words, Chinese characters) in `text`; the Chinese characters are not counted as words."""
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    return words, cjk


def prompt_overflows(limits: Limits, prompt: str, negative_prompt: str = "") -> tuple[PromptOverflow, ...]:
    """The prompts that go beyond the vendor's documented budget; empty when there is none."""
    max_words, max_cjk = limits.prompt_words, limits.prompt_cjk_chars
    if not max_words or not max_cjk:
        return ()
    found: list[PromptOverflow] = []
    fields: tuple[tuple[PromptField, str], ...] = (("prompt", prompt), ("negative_prompt", negative_prompt))
    for field, text in fields:
        words, cjk = measure(text)
        overflow = PromptOverflow(field, words, cjk, max_words, max_cjk)
        if overflow.share > 1.0:
            found.append(overflow)
    return tuple(found)


def _amount(overflow: PromptOverflow) -> str:
    parts = []
    if overflow.words:
        parts.append(f"{overflow.words} words")
    if overflow.cjk_chars:
        parts.append(f"{overflow.cjk_chars} Chinese characters")
    return " and ".join(parts)
