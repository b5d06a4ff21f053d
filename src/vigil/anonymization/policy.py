"""Which fields of an alert are sent to the model, and which are sent as placeholders.

Kibana keeps, per field, two switches: `allowed` (the field is sent at all) and `anonymized` (its
values are sent as placeholders). Vigil does the same, with one difference in spirit: a field with
no rule is **not sent** (deny by default), so a new ECS field never leaks before someone decides.

A rule's `field` is either an exact dotted name (`host.name`) or a prefix pattern ending in `*`
(`threat.*` matches `threat.technique.id`, not `threat` itself). An exact rule wins over every
pattern; among patterns the longest prefix wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_FIELD_RULES", "FieldNode", "FieldPolicy", "FieldRule"]


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One field's switches: `allowed` (sent at all) and `anonymized` (sent as a placeholder)."""

    field: str
    allowed: bool
    anonymized: bool


_DENIED = FieldRule(field="", allowed=False, anonymized=False)

# What the policy says about one key of an object: (dotted field name, allowed, allowed and
# anonymized, the node of the object under it or None when nothing under it may be sent).
FieldEntry = tuple[str, bool, bool, "FieldNode | None"]


class FieldNode:
    """The policy's decisions for the keys of one object of a document (the root, `host.`...),
    filled in as keys are met: a document walk looks each key up in one dict instead of building
    dotted names and matching rules for every field of every alert."""

    __slots__ = ("entries", "policy", "prefix")

    def __init__(self, policy: FieldPolicy, prefix: str) -> None:
        self.policy = policy
        self.prefix = prefix  # "" or a dotted name ending in "."
        self.entries: dict[Any, FieldEntry] = {}

    def entry(self, key: Any) -> FieldEntry:
        """The decisions for `key` (a dotted key such as `host.name` at the root works too)."""
        found = self.entries.get(key)
        if found is None:
            name = f"{self.prefix}{key}"
            rule = self.policy.rule_for(name)
            under = name + "."
            child = FieldNode(self.policy, under) if self.policy.allows_under(under) else None
            found = self.entries[key] = (name, rule.allowed, rule.allowed and rule.anonymized, child)
        return found


class FieldPolicy:
    """An immutable set of field rules; decisions are cached per field name (policies are
    consulted once per field of every alert, so this is on the hot path)."""

    __slots__ = ("_cache", "_exact", "_overridden", "_patterns", "_root", "_under", "rules")

    def __init__(self, rules: Mapping[str, FieldRule]) -> None:
        self.rules: Mapping[str, FieldRule] = dict(rules)
        self._exact: dict[str, FieldRule] = {}
        patterns: list[tuple[str, FieldRule]] = []
        for name, rule in self.rules.items():
            if name.endswith("*"):
                patterns.append((name[:-1], rule))
            else:
                self._exact[name] = rule
        # Longest prefix first, so the first match is the most specific one.
        patterns.sort(key=lambda item: len(item[0]), reverse=True)
        self._patterns: tuple[tuple[str, FieldRule], ...] = tuple(patterns)
        self._cache: dict[str, FieldRule] = {}
        self._under: dict[str, bool] = {}
        self._root: FieldNode | None = None
        self._overridden: dict[frozenset[str], FieldPolicy] = {}

    @classmethod
    def from_rules(cls, rules: Iterable[FieldRule]) -> FieldPolicy:
        """A policy from a sequence of rules (a later rule for the same field replaces an earlier one)."""
        return cls({rule.field: rule for rule in rules})

    @classmethod
    def default(cls) -> FieldPolicy:
        return cls.from_rules(DEFAULT_FIELD_RULES)

    @property
    def root(self) -> FieldNode:
        """The decisions for the top-level keys of a document (see `FieldNode`)."""
        if self._root is None:
            self._root = FieldNode(self, "")
        return self._root

    def rule_for(self, field: str) -> FieldRule:
        """The rule that applies to `field`; a denying rule when none does."""
        rule = self._cache.get(field)
        if rule is None:
            rule = self._exact.get(field)
            if rule is None:
                rule = next((r for prefix, r in self._patterns if field.startswith(prefix)), _DENIED)
            self._cache[field] = rule
        return rule

    def allows_under(self, prefix: str) -> bool:
        """Whether any field under `prefix` (a dotted name ending in `.`) may be allowed; False
        lets a document walk skip a whole object (`agent.`, `winlog.`)."""
        answer = self._under.get(prefix)
        if answer is None:
            answer = any(
                rule.allowed and (name.startswith(prefix) or prefix.startswith(name.rstrip("*")))
                for name, rule in self.rules.items()
                if name.endswith("*") or name.startswith(prefix)
            )
            self._under[prefix] = answer
        return answer

    def is_allowed(self, field: str) -> bool:
        """Whether the field is sent to the model at all (False when no rule applies)."""
        return self.rule_for(field).allowed

    def is_anonymized(self, field: str) -> bool:
        """Whether the field's values are sent as placeholders. Only meaningful when allowed:
        a field that is not allowed is not sent, anonymized or not."""
        rule = self.rule_for(field)
        return rule.allowed and rule.anonymized

    def with_overrides(self, fields_to_anonymize: Iterable[str]) -> FieldPolicy:
        """Kibana's per-message `fields_to_anonymize`: each listed field becomes allowed AND
        anonymized (for the message it came with); the other rules are unchanged."""
        key = frozenset(fields_to_anonymize)
        if not key:
            return self
        # Every message of a conversation may carry the same list: one derived policy (and its
        # cached decisions) for each distinct list.
        derived = self._overridden.get(key)
        if derived is None:
            overrides = {f: FieldRule(field=f, allowed=True, anonymized=True) for f in sorted(key)}
            derived = self._overridden[key] = FieldPolicy({**self.rules, **overrides})
        return derived


def _rules(anonymized: bool, *fields: str) -> tuple[FieldRule, ...]:
    return tuple(FieldRule(field=f, allowed=True, anonymized=anonymized) for f in fields)


# A sensible ECS default until the anonymization-fields API ships Kibana's own list. It is a plain
# tuple of FieldRule on purpose, so it can be swapped wholesale.
DEFAULT_FIELD_RULES: tuple[FieldRule, ...] = (
    *_rules(
        True,
        "host.name",
        "host.hostname",
        "host.ip",
        "host.mac",
        "user.name",
        "user.email",
        "user.id",
        "user.domain",
        "user.full_name",
        "user.target.name",
        "source.ip",
        "source.user.name",
        "destination.ip",
        "destination.user.name",
        "client.ip",
        "server.ip",
        "related.ip",
        "related.user",
        "related.hosts",
        "email.from.address",
        "email.to.address",
        "file.owner",
        "process.user.name",
        "cloud.account.id",
    ),
    *_rules(
        False,
        "@timestamp",
        "_id",
        "kibana.alert.rule.name",
        "kibana.alert.reason",
        "kibana.alert.severity",
        "kibana.alert.risk_score",
        "kibana.alert.workflow_status",
        "kibana.alert.rule.description",
        "kibana.alert.rule.threat.*",
        "event.category",
        "event.action",
        "event.module",
        "event.dataset",
        "event.outcome",
        "event.type",
        "event.code",
        "host.os.name",
        "host.os.version",
        "host.os.family",
        "process.name",
        "process.executable",
        "process.args",
        "process.command_line",
        "process.pid",
        "process.parent.name",
        "process.parent.executable",
        "process.hash.sha256",
        "file.name",
        "file.path",
        "file.hash.sha256",
        "network.protocol",
        "destination.port",
        "source.port",
        "dns.question.name",
        "url.domain",
        "url.full",
        "message",
        "rule.name",
        "threat.*",
        "service.name",
        "log.level",
        "http.response.status_code",
    ),
)
