"""KQL over anonymization fields: the fields a `filter=` may name and how they map to columns.

`field:host.*` is a case-sensitive wildcard on the keyword, as in Elasticsearch.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import ColumnElement

from vigil.anonymization.fields.models import AnonymizationField
from vigil.kql import FieldSpec
from vigil.paging import kql_condition


@cache
def anonymization_field_fields() -> dict[str, FieldSpec]:
    """Kibana's stored names (snake_case) and the API's camelCase ones both work."""
    row_id = FieldSpec(AnonymizationField.id.expression, "keyword")
    created_at = FieldSpec(AnonymizationField.created_at.expression, "date")
    updated_at = FieldSpec(AnonymizationField.updated_at.expression, "date")
    created_by = FieldSpec(AnonymizationField.created_by.expression, "keyword")
    updated_by = FieldSpec(AnonymizationField.updated_by.expression, "keyword")
    return {
        "id": row_id,
        "_id": row_id,
        "field": FieldSpec(AnonymizationField.field.expression, "keyword"),
        "allowed": FieldSpec(AnonymizationField.allowed.expression, "boolean"),
        "anonymized": FieldSpec(AnonymizationField.anonymized.expression, "boolean"),
        "namespace": FieldSpec(AnonymizationField.namespace.expression, "keyword"),
        "created_at": created_at,
        "createdAt": created_at,
        "@timestamp": created_at,
        "timestamp": created_at,
        "updated_at": updated_at,
        "updatedAt": updated_at,
        "created_by": created_by,
        "createdBy": created_by,
        "updated_by": updated_by,
        "updatedBy": updated_by,
    }


def compile_filter(kql: str) -> ColumnElement[bool]:
    return kql_condition(kql, anonymization_field_fields(), ("field",))
