"""The ES|QL reference written for Vigil's dialect (data/esql-reference.md), one entry per section."""

from __future__ import annotations

from importlib.resources import files

from vigil.knowledge_base.builtin import Collection, content_version
from vigil.knowledge_base.builtin.markdown import section_entries

NAME = "esql-reference"
FILE = "esql-reference.md"


def _text() -> str:
    return (files("vigil.knowledge_base.builtin") / "data" / FILE).read_text(encoding="utf-8")


def collection() -> Collection:
    text = _text()
    return Collection(
        name=NAME,
        title="ES|QL reference for Vigil",
        kb_resource="esql",
        version=content_version("1", text),
        source=f"Vigil, knowledge_base/builtin/data/{FILE}",
        build=lambda: section_entries(
            _text(), id_prefix="esql", default_title="ES|QL reference", source=f"vigil:{FILE}"
        ),
    )
