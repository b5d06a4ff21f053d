"""Vigil's own documentation (the Markdown files of docs/), one entry per section."""

from __future__ import annotations

from pathlib import Path

import vigil
from vigil.knowledge_base.builtin import BuiltinEntry, Collection, content_version
from vigil.knowledge_base.builtin.markdown import section_entries

NAME = "vigil-docs"


def default_directory() -> Path | None:
    """docs/ of the Vigil checkout this package runs from (editable installs, `make run`)."""
    candidate = Path(vigil.__file__).resolve().parents[2] / "docs"
    return candidate if candidate.is_dir() else None


def _files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.glob("*.md") if path.is_file())


def _entries(directory: Path) -> list[BuiltinEntry]:
    entries: list[BuiltinEntry] = []
    for path in _files(directory):
        entries.extend(
            section_entries(
                path.read_text(encoding="utf-8"),
                id_prefix=f"vigil-docs-{path.stem}",
                default_title=path.stem,
                source=f"docs/{path.name}",
            )
        )
    return entries


def collection(directory: Path | None) -> Collection | None:
    directory = directory or default_directory()
    if directory is None or not directory.is_dir():
        return None
    paths = _files(directory)
    if not paths:
        return None
    version = content_version("1", *(part for path in paths for part in (path.name, path.read_bytes())))
    return Collection(
        name=NAME,
        title="Vigil documentation",
        kb_resource="security_labs",
        version=version,
        source=f"Vigil documentation ({directory})",
        build=lambda: _entries(directory),
    )
