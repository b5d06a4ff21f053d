"""Data plane errors, each carrying Elasticsearch's error type and status.

They subclass vigil.errors.VigilError, so ES-style routes render them with Elasticsearch's body;
bulk items report the same type and reason per item.
"""

from __future__ import annotations

from vigil.errors import BadRequest, Conflict, NotFound


class IndexNotFoundError(NotFound):
    es_type = "index_not_found_exception"

    def __init__(self, name: str) -> None:
        super().__init__(f"no such index [{name}]")
        self.index = name


class InvalidIndexNameError(BadRequest):
    es_type = "invalid_index_name_exception"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Invalid index name [{name}], {reason}")
        self.index = name


class IndexAlreadyExistsError(BadRequest):
    es_type = "resource_already_exists_exception"

    def __init__(self, name: str, uuid: str) -> None:
        super().__init__(f"index [{name}/{uuid}] already exists")
        self.index = name


class MapperParsingError(BadRequest):
    """A mapping definition (PUT /{index} mappings) Vigil cannot accept."""

    es_type = "mapper_parsing_exception"


class DocumentParsingError(BadRequest):
    """A document that does not fit its index's mapping (one bulk item fails, not the request)."""

    es_type = "document_parsing_exception"

    def __init__(self, message: str, caused_by: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.caused_by = caused_by


class StrictDynamicMappingError(DocumentParsingError):
    """A document brings a field an index with `dynamic: strict` does not map."""

    es_type = "strict_dynamic_mapping_exception"


class VersionConflictError(Conflict):
    es_type = "version_conflict_engine_exception"

    def __init__(self, doc_id: str, current_version: int) -> None:
        super().__init__(f"[{doc_id}]: version conflict, document already exists (current version [{current_version}])")


class IllegalArgumentError(BadRequest):
    es_type = "illegal_argument_exception"
