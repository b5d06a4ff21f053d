"""Splitting an entry's text into passages small enough to embed and specific enough to retrieve.

Pure functions. A passage keeps its context: it starts with the entry's name and the Markdown
headings above it, so "Limits" under "## chat/complete" still says what it is about. Passages stay
under ``max_words`` words (the embedded model reads 256 word pieces; 160 English words are about
210 of them), paragraphs are kept whole when they fit, and a paragraph too long for one passage is
cut into overlapping windows so no sentence loses its neighbours entirely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_MAX_WORDS = 160
DEFAULT_OVERLAP_WORDS = 30

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


@dataclass(frozen=True)
class Section:
    headings: tuple[str, ...]
    paragraphs: tuple[str, ...]


def sections(text: str) -> list[Section]:
    """Markdown text as sections: the heading path and the paragraphs under it (code blocks whole)."""
    found: list[Section] = []
    path: list[tuple[int, str]] = []
    paragraphs: list[str] = []
    current: list[str] = []
    in_code = False

    def end_paragraph() -> None:
        if current:
            paragraph = "\n".join(current).strip()
            if paragraph:
                paragraphs.append(paragraph)
            current.clear()

    def end_section() -> None:
        end_paragraph()
        if paragraphs:
            found.append(Section(tuple(title for _, title in path), tuple(paragraphs)))
            paragraphs.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            current.append(line)
            continue
        if in_code:
            current.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            end_section()
            level = len(heading.group(1))
            path = [(lvl, title) for lvl, title in path if lvl < level]
            path.append((level, heading.group(2)))
            continue
        if not line.strip():
            end_paragraph()
        else:
            current.append(line)
    end_section()
    return found


def _words(text: str) -> list[str]:
    return text.split()


def _windows(words: list[str], max_words: int, overlap: int) -> list[str]:
    step = max(1, max_words - overlap)
    windows = []
    for start in range(0, len(words), step):
        windows.append(" ".join(words[start : start + max_words]))
        if start + max_words >= len(words):
            break
    return windows


def _split_paragraph(paragraph: str, max_words: int, overlap: int) -> list[str]:
    """Sentences packed up to the limit; a sentence longer than the limit becomes word windows."""
    pieces: list[str] = []
    pending: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(paragraph):
        size = len(_words(sentence))
        if size > max_words:
            if pending:
                pieces.append(" ".join(pending))
                pending, count = [], 0
            pieces.extend(_windows(_words(sentence), max_words, overlap))
            continue
        if count + size > max_words and pending:
            pieces.append(" ".join(pending))
            # Carry the previous sentence over so a passage never starts without context.
            carried = pending[-1] if len(_words(pending[-1])) <= overlap else ""
            pending = [carried] if carried else []
            count = len(_words(carried))
        pending.append(sentence)
        count += size
    if pending:
        pieces.append(" ".join(pending))
    return pieces


def chunk_text(
    title: str,
    text: str,
    *,
    max_words: int = DEFAULT_MAX_WORDS,
    overlap_words: int = DEFAULT_OVERLAP_WORDS,
) -> list[str]:
    """The passages of one entry, each prefixed with its title and heading path. Never empty when
    ``text`` has words; a short text is one passage."""
    if max_words < 10:
        raise ValueError("max_words must be at least 10")
    overlap = max(0, min(overlap_words, max_words // 2))
    passages: list[str] = []
    for section in sections(text):
        context = " > ".join(part for part in (title.strip(), *section.headings) if part)
        prefix = f"{context}\n" if context else ""
        budget = max(10, max_words - len(_words(context)))
        packed: list[str] = []
        count = 0
        for paragraph in section.paragraphs:
            size = len(_words(paragraph))
            if size > budget:
                if packed:
                    passages.append(prefix + "\n\n".join(packed))
                    packed, count = [], 0
                passages.extend(prefix + piece for piece in _split_paragraph(paragraph, budget, overlap))
                continue
            if count + size > budget and packed:
                passages.append(prefix + "\n\n".join(packed))
                packed, count = [], 0
            packed.append(paragraph)
            count += size
        if packed:
            passages.append(prefix + "\n\n".join(packed))
    if not passages and title.strip():
        passages.append(title.strip())
    return passages
