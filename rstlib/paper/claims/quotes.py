"""Quotes are the supplement's words: a registered quote is one or more verbatim fragments of the
supplement joined by " [...] ", found in it in that order. The text is compared as the PDF's text
layer gives it, with white space folded and a word broken across lines ("consis-\\ntently") read
both joined and hyphenated."""

from __future__ import annotations

import re
from pathlib import Path

ELLIPSIS = " [...] "


def fold(text: str) -> str:
    """White space (line breaks included) folded to single spaces, and no space before = or after it."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s*=\s*", "=", text)


def readings(supplement: str) -> tuple[str, ...]:
    """The supplement's text with words broken at a line end joined ("consis-tently" -> "consistently")
    and kept hyphenated ("CW-\\nInf" -> "CW-Inf")."""
    joined = re.sub(r"(\w)-\n\s*(\w)", r"\1\2", supplement)
    hyphenated = re.sub(r"(\w)-\n\s*(\w)", r"\1-\2", supplement)
    return fold(joined), fold(hyphenated)


def fragments(quote: str) -> list[str]:
    return [fold(f) for f in quote.split(ELLIPSIS)]


def misquoted(quote: str, supplement: str) -> str | None:
    """None when every fragment of `quote` stands in the supplement in order; else the first
    fragment that does not."""
    texts = readings(supplement)
    best = None
    for text in texts:
        start, missing = 0, None
        for f in fragments(quote):
            found = text.find(f, start)
            if found < 0:
                missing = f
                break
            start = found + len(f)
        if missing is None:
            return None
        best = best or missing
    return best


def supplement_text(seed_dir: Path) -> str | None:
    """The supplement's text from the shared seed folder, or None where it is not present."""
    files = sorted(seed_dir.glob("*.txt")) if seed_dir.is_dir() else []
    return "\n".join(f.read_text(encoding="utf-8") for f in files) if files else None
