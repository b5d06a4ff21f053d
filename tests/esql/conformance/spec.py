"""csv-spec files, read as Elasticsearch's `SpecReader` and `CsvSpecReader` read them.

A file is a sequence of tests. Lines are trimmed; empty lines and lines starting with `//` or `#`
are ignored everywhere. A test is:

    testName#[optional instructions]
    required_capability: some_capability        (any number, before the query)
    FROM employees
    | KEEP emp_no;                               (the query ends at a line ending with `;`)
    warning:Line 1:1: ...                        (or warningRegex:...; expected response warnings)
    ignoreOrder:true                             (rows compared as a multiset)

    emp_no:integer                               (the expected table, see `expected`)
    10001
    ;                                            (a line starting with `;` ends the test)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# Lines before the query that are test settings, not query text (Elasticsearch reads the first
# two; the others steer variants of its own suite that do not apply over plain HTTP).
_QUERY_DIRECTIVES = (
    "required_capability:",
    "approximate:",
    "skip_flattened_rewrite:",
    "request_stored:",
    "skip_columnar:",
)
_INSTRUCTION = re.compile(r"\[(.*?)]")


class SpecSyntaxError(ValueError):
    pass


@dataclass
class SpecTest:
    file: str  # e.g. "stats.csv-spec"
    name: str  # e.g. "statsByDouble"
    line: int  # line of the test name, 1-based
    query: str
    expected_text: str = ""
    required_capabilities: list[str] = field(default_factory=list)
    directives: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    warning_regexes: list[str] = field(default_factory=list)
    ignore_order: bool = False
    instructions: str = ""

    @property
    def group(self) -> str:
        """The file name without extension, as Elasticsearch names the test group."""
        return self.file.rsplit(".", 1)[0]

    @property
    def id(self) -> str:
        return f"{self.group}.{self.name}"

    @property
    def disabled_upstream(self) -> bool:
        """Tests Elasticsearch itself does not run on its current version: `-Ignore` names and
        `[skip:from-]` ranges without an upper bound."""
        if self.name.endswith("-Ignore"):
            return True
        skip = parse_instructions(self.instructions).get("skip")
        return skip is not None and skip.split("-", 1)[-1].strip() == ""


def parse_instructions(instructions: str) -> dict[str, str]:
    """`CsvTestUtils.parseInstructions`: `[k1:v1, k2:v2]` after the `#` of a test name."""
    match = _INSTRUCTION.search(instructions)
    pairs: dict[str, str] = {}
    if match:
        for group in match.group(1).split(","):
            key, sep, value = group.partition(":")
            if not sep or ":" in value:
                raise SpecSyntaxError(f"expected instruction in [k1:v1,k2:v2] format; got {match.group(1)}")
            pairs[key.strip()] = value.strip()
    return pairs


def _should_skip(line: str) -> bool:
    return line == "" or line.startswith("//") or line.startswith("#")


def parse_spec(text: str, file_name: str) -> list[SpecTest]:
    tests: list[SpecTest] = []
    seen: dict[str, int] = {}
    current: SpecTest | None = None
    in_results = False
    query_lines: list[str] = []
    data_lines: list[str] = []
    capabilities: list[str] = []
    directives: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if _should_skip(line):
            continue
        if current is None:
            name, _, instructions = line.partition("#")
            name = name.strip()
            previous = seen.get(name.lower())
            seen[name.lower()] = number
            if previous is not None:
                # Old spec versions repeat a name (Elasticsearch ran both); keep both, distinctly.
                name = f"{name}@line{number}"
            current = SpecTest(file=file_name, name=name, line=number, query="", instructions=instructions)
            continue
        if not in_results:
            lower = line.lower()
            directive = next((d for d in _QUERY_DIRECTIVES if lower.startswith(d)), None)
            if directive == "required_capability:":
                capabilities.append(line[len(directive) :].strip())
            elif directive is not None:
                directives[directive[:-1]] = line[len(directive) :].strip()
            elif line.startswith("schema::"):
                directives["schema"] = line[len("schema::") :].strip()
            elif line.endswith("\\;"):
                # An escaped semicolon ends a statement inside the query (`SET x = 1\\;`), not the query.
                query_lines.append(line[:-2] + ";")
            elif line.endswith(";"):
                query_lines.append(line[:-1].strip())
                current.query = "\r\n".join(query_lines)
                current.required_capabilities = capabilities
                current.directives = directives
                query_lines, capabilities, directives = [], [], {}
                in_results = True
            else:
                query_lines.append(line)
            continue
        lower = line.lower()
        if lower.startswith("warning:"):
            if current.warning_regexes:
                raise SpecSyntaxError(f"Cannot mix warnings and regex warnings in CSV SPEC files: [{line}]")
            current.warnings.append(line[len("warning:") :].strip())
        elif lower.startswith("warningregex:"):
            if current.warnings:
                raise SpecSyntaxError(f"Cannot mix warnings and regex warnings in CSV SPEC files: [{line}]")
            current.warning_regexes.append(line[len("warningregex:") :].strip())
        elif lower.startswith("ignoreorder:"):
            value = line[len("ignoreOrder:") :].strip().lower()
            if value not in ("true", "false"):
                raise SpecSyntaxError(f"Invalid value for ignoreOrder: [{value}], it can only be true or false")
            current.ignore_order = value == "true"
        elif line.startswith(";"):
            current.expected_text = "".join(data + "\r\n" for data in data_lines)
            tests.append(current)
            current, in_results, data_lines = None, False, []
        else:
            data_lines.append(line)
    if current is not None:
        raise SpecSyntaxError(f"Read a test [{current.name}] without a body at the end of [{file_name}].")
    return tests


def read_spec(path: Path) -> list[SpecTest]:
    return parse_spec(path.read_text(encoding="utf-8"), path.name)
