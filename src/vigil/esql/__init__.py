"""ES|QL front end: lexer, AST and parser producing Elasticsearch-style parsing errors.

Pure Python with no database or web imports; a verifier and a compiler build on ``parse``.
"""

from vigil.esql import ast
from vigil.esql.errors import EsqlParsingError
from vigil.esql.parser import parse
from vigil.esql.printer import to_esql

__all__ = ["EsqlParsingError", "ast", "parse", "to_esql"]
