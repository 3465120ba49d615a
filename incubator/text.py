"""Text helpers: search normalisation and safe rendering of user text."""

from __future__ import annotations

import functools
import re
import unicodedata

from markupsafe import Markup, escape
from sqlalchemy import bindparam

_URL_RE = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)»"
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise(text: str | None) -> str:
    """Lowercase and accent-free, so that « Économie » matches « economie » on any backend."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def clean(text: str | None) -> str:
    """User text as stored: control characters removed, line ends unified, trimmed."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub("", text).strip()


MAX_WORD_LENGTH = 40


def search_words(query: str, *, min_length: int = 2, limit: int = 8) -> list[str]:
    words = re.findall(r"[\w-]+", normalise(query))
    # Longer than any French word: a paste or an attack (SQLite refuses huge LIKE patterns).
    return [w[:MAX_WORD_LENGTH] for w in words if len(w) >= min_length][:limit]


def like_pattern(word: str) -> str:
    """A LIKE pattern matching `word` anywhere, with LIKE's wildcards escaped (ESCAPE '\\')."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_word(column, number: int):
    """SQL: `column` contains the search's word `number`, whose pattern `word_patterns`
    gives at execution (a statement built once for a number of words, dbutil.prebuilt)."""
    return column.like(bindparam(f"word_{number}"), escape="\\")


def word_patterns(words: list[str]) -> dict[str, str]:
    """The values of `contains_word(column, n)` for each of these words."""
    return {f"word_{number}": like_pattern(word) for number, word in enumerate(words)}


def decimal_fr(number: float | int) -> str:
    """A number of hours as a French page writes it: 1.5 -> « 1,5 », 4.0 -> « 4 »."""
    return f"{number:g}".replace(".", ",")


def int_in_range(value: object, low: int, high: int) -> int | None:
    """An integer between low and high (included) from a form value, or None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


@functools.lru_cache(maxsize=1024, typed=True)
def badge(label: str, tone: str = "neutral") -> Markup:
    """A badge: its label in words, its tone in colour (a state is never shown by colour
    alone). The one markup of every badge: states, kinds, outcomes, the `badge` macro.
    Kept once made (typed: a label given as Markup is not the same text as a str): a list
    shows one per row, and Markup.format, which escapes, cost more than the rest of a card."""
    return Markup('<span class="badge badge-{}">{}</span>').format(tone, label)


def linkify(text: str | None) -> Markup:
    """Escape everything, then turn http(s) addresses into links; keep line breaks."""
    out: list[str] = []
    position = 0
    source = text or ""
    for match in _URL_RE.finditer(source):
        url = match.group(0)
        stripped = url.rstrip(_TRAILING)
        end = match.start() + len(stripped)
        out.append(str(escape(source[position:match.start()])))
        out.append(f'<a href="{escape(stripped)}" rel="nofollow noopener noreferrer">{escape(stripped)}</a>')
        position = end
    out.append(str(escape(source[position:])))
    return Markup("".join(out).replace("\n", "<br>\n"))
