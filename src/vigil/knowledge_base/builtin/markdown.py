"""Markdown documents as entries: one entry per `##` section (the text above the first one, if
any, is the document's overview), so a citation points at the section that answers."""

from __future__ import annotations

import re

from vigil.knowledge_base.builtin import BuiltinEntry

_H1 = re.compile(r"^#\s+(.+?)\s*$")
_H2 = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def slug(heading: str) -> str:
    """GitHub-style anchor: lowercase, punctuation dropped, spaces as dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return re.sub(r"\s+", "-", text).strip("-") or "section"


def section_entries(
    markdown: str, *, id_prefix: str, default_title: str, source: str, url: str | None = None
) -> list[BuiltinEntry]:
    title = default_title
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    in_code = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
        if not in_code:
            h1 = _H1.match(line)
            if h1 and sections == [(None, [])]:
                title = h1.group(1)
                continue
            h2 = _H2.match(line)
            if h2:
                sections.append((h2.group(1), []))
                continue
        sections[-1][1].append(line)
    entries: list[BuiltinEntry] = []
    used: set[str] = set()
    for heading, lines in sections:
        body = "\n".join(lines).strip()
        if not body:
            continue
        anchor = slug(heading) if heading else "overview"
        entry_id = f"{id_prefix}-{anchor}"
        suffix = 2
        while entry_id in used:  # the same heading twice in one document
            entry_id = f"{id_prefix}-{anchor}-{suffix}"
            suffix += 1
        used.add(entry_id)
        name = f"{title}: {heading}" if heading else title
        location = f"{source}#{anchor}" if heading else source
        entries.append(
            BuiltinEntry(
                id=entry_id,
                name=name,
                text=body,
                source=location,
                url=f"{url}#{anchor}" if url and heading else url,
            )
        )
    return entries
