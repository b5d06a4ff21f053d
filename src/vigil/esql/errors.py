"""ES|QL parsing errors, shaped like Elasticsearch's ``parsing_exception`` messages."""

from __future__ import annotations


class EsqlParsingError(ValueError):
    """The query text is not valid ES|QL.

    ``str()`` is ``line L:C: <message>`` (1-based, like Elasticsearch) so the web layer can
    return it verbatim in an ``error.reason``; ``message`` is the part after the prefix.
    """

    # Elasticsearch reports every grammar failure under this error type.
    es_type = "parsing_exception"

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column


class EsqlVerificationError(ValueError):
    """The query parses but does not make sense against the data (unknown column, wrong types...).

    ``str()`` is Elasticsearch's ``Found N problem(s)\\nline L:C: ...`` text.
    """

    es_type = "verification_exception"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EsqlExecutionError(ValueError):
    """The query is valid but failed while running (Elasticsearch reports these as 400s too)."""

    es_type = "illegal_argument_exception"

    def __init__(self, message: str, es_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if es_type:
            self.es_type = es_type
