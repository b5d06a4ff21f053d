"""The anonymization fields Kibana ships, seeded into every space on first use.

Source, copied verbatim as data: Kibana's Elastic AI Assistant server plugin,
`getDefaultAnonymizationFields(spaceId)` with its `DEFAULT_ALLOW` and `DEFAULT_ALLOW_REPLACEMENT`
lists (the version that includes `_id`, the `kibana.alert.rule.threat.*` and the
`host.risk.*` / `user.risk.*` fields; Kibana 8.15+). Kibana seeds one document per `DEFAULT_ALLOW`
entry, `allowed: true`, `anonymized` when the field is also in `DEFAULT_ALLOW_REPLACEMENT`.
`host.ip` is in `DEFAULT_ALLOW_REPLACEMENT` only, so Kibana does not seed it; neither does Vigil.

Each default has a stable id, the same in every space (a UUID5 of the field name), so seeding is
an insert-if-absent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# By default, these fields are allowed to be sent to the assistant.
DEFAULT_ALLOW: tuple[str, ...] = (
    "_id",
    "@timestamp",
    "cloud.availability_zone",
    "cloud.provider",
    "cloud.region",
    "destination.ip",
    "dns.question.name",
    "dns.question.type",
    "event.action",
    "event.category",
    "event.dataset",
    "event.module",
    "event.outcome",
    "event.type",
    "file.Ext.original.path",
    "file.hash.sha256",
    "file.name",
    "file.path",
    "host.name",
    "host.risk.calculated_level",
    "host.risk.calculated_score_norm",
    "kibana.alert.last_detected",
    "kibana.alert.risk_score",
    "kibana.alert.rule.description",
    "kibana.alert.rule.name",
    "kibana.alert.rule.references",
    "kibana.alert.rule.threat.framework",
    "kibana.alert.rule.threat.tactic.id",
    "kibana.alert.rule.threat.tactic.name",
    "kibana.alert.rule.threat.tactic.reference",
    "kibana.alert.rule.threat.technique.id",
    "kibana.alert.rule.threat.technique.name",
    "kibana.alert.rule.threat.technique.reference",
    "kibana.alert.rule.threat.technique.subtechnique.id",
    "kibana.alert.rule.threat.technique.subtechnique.name",
    "kibana.alert.rule.threat.technique.subtechnique.reference",
    "kibana.alert.severity",
    "kibana.alert.workflow_status",
    "process.args",
    "process.command_line",
    "process.executable",
    "process.Ext.token.integrity_level_name",
    "process.entity_id",
    "process.exit_code",
    "process.hash.md5",
    "process.hash.sha1",
    "process.name",
    "process.hash.sha256",
    "process.parent.args",
    "process.parent.args_count",
    "process.parent.code_signature.exists",
    "process.parent.code_signature.status",
    "process.parent.code_signature.subject_name",
    "process.parent.code_signature.trusted",
    "process.parent.command_line",
    "process.parent.entity_id",
    "process.parent.executable",
    "process.pid",
    "process.working_directory",
    "network.protocol",
    "source.ip",
    "user.domain",
    "user.name",
    "user.risk.calculated_level",
    "user.risk.calculated_score_norm",
)

# By default, these fields are anonymized.
DEFAULT_ALLOW_REPLACEMENT: tuple[str, ...] = (
    "_id",  # the document's _id is replaced with an anonymized value
    "cloud.availability_zone",
    "cloud.provider",
    "cloud.region",
    "destination.ip",
    "file.Ext.original.path",
    "file.name",
    "file.path",
    "host.ip",  # not a default allow field, but anonymized by default (not seeded, as in Kibana)
    "host.name",
    "source.ip",
    "user.domain",
    "user.name",
)

# Fixed namespace for the UUID5 ids of the shipped fields: never change it, ids are stored.
_ID_NAMESPACE = uuid.UUID("6f1b6a52-3c1e-5b7e-9a57-2f0e4c1d8a90")


def default_field_id(field: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, field))


@dataclass(frozen=True)
class DefaultField:
    id: str
    field: str
    allowed: bool
    anonymized: bool


DEFAULT_FIELDS: tuple[DefaultField, ...] = tuple(
    DefaultField(default_field_id(name), name, True, name in DEFAULT_ALLOW_REPLACEMENT) for name in DEFAULT_ALLOW
)
