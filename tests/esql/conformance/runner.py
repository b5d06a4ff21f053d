"""Runs the kit's tests against a Vigil server over HTTP and summarises the outcome."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.esql.conformance.compare import check_columns, check_values, check_warnings, warning_text
from tests.esql.conformance.datasets import FIXTURES
from tests.esql.conformance.expected import ExpectedResults, SpecFormatError, parse_expected
from tests.esql.conformance.scope import feature_of, skip_reason
from tests.esql.conformance.spec import SpecTest, read_spec

REPO_ROOT = Path(__file__).resolve().parents[3]
REPORT_PATH = REPO_ROOT / ".conformance-report.json"
BASELINE_PATH = Path(__file__).resolve().parent / "baseline.json"
QUERY_TIMEOUT_SECONDS = 10  # a csv-spec query answers in milliseconds; a slower one has failed anyway


@dataclass
class Outcome:
    test: SpecTest
    status: str  # "passed" | "failed" | "skipped"
    reason: str = ""  # skip reason, or the failure's group (see `failure_group`)
    problems: list[str] = field(default_factory=list)
    actual: dict[str, Any] | None = None
    seconds: float = 0.0


def kit_tests(fixtures: Path = FIXTURES) -> list[SpecTest]:
    """Every test of every csv-spec file in the kit, except those Elasticsearch itself disables."""
    tests: list[SpecTest] = []
    for path in sorted(fixtures.glob("*.csv-spec")):
        tests += [test for test in read_spec(path) if not test.disabled_upstream]
    return tests


def disabled_upstream(fixtures: Path = FIXTURES) -> list[SpecTest]:
    return [test for path in sorted(fixtures.glob("*.csv-spec")) for test in read_spec(path) if test.disabled_upstream]


_POSITION = re.compile(r"[Ll]ine \d+:\d+: ")
_BRACKETED = re.compile(r"\[[^\]]*\]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def failure_group(kind: str, message: str) -> str:
    """A failure message with positions, names and numbers blanked, to group alike failures."""
    one_line = " ".join(message.split())
    normalized = _NUMBER.sub("N", _BRACKETED.sub("[...]", _POSITION.sub("", one_line)))
    return f"{kind}: {normalized[:160]}"


def _post_query(client: httpx.Client, query: str) -> httpx.Response:
    """POST /_query; sent once more if a kept-alive connection was closed under it (the server may
    close a connection after answering the previous test with an error), so one test's crash is
    not counted against the next."""
    body = {"query": query}
    try:
        return client.post("/_query", json=body, timeout=QUERY_TIMEOUT_SECONDS)
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
        return client.post("/_query", json=body, timeout=QUERY_TIMEOUT_SECONDS)


def run_test(client: httpx.Client, test: SpecTest) -> Outcome:
    try:
        expected: ExpectedResults | None = parse_expected(test.expected_text)
        spec_error = None
    except SpecFormatError as err:
        expected, spec_error = None, str(err)
    reason = skip_reason(test, expected)
    if reason is not None:
        return Outcome(test, "skipped", reason)
    if expected is None:
        return Outcome(test, "failed", failure_group("kit: unreadable expected results", str(spec_error)))
    started = time.perf_counter()
    try:
        response = _post_query(client, test.query)
    except httpx.HTTPError as err:
        return Outcome(test, "failed", failure_group("transport", repr(err)), seconds=time.perf_counter() - started)
    elapsed = time.perf_counter() - started
    try:
        body = response.json()
    except ValueError:
        body = {"raw": response.text[:2000]}
    if response.status_code != 200:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        kind = error.get("type", "error") if isinstance(error, dict) else "error"
        message = error.get("reason", response.text[:300]) if isinstance(error, dict) else response.text[:300]
        group = failure_group(f"HTTP {response.status_code} {kind}", str(message))
        return Outcome(test, "failed", group, [str(message)], body, elapsed)
    problems: list[str] = []
    if body.get("is_partial"):
        problems.append("unexpected partial results")
    columns = body.get("columns")
    values = body.get("values")
    if not isinstance(columns, list) or not isinstance(values, list):
        return Outcome(test, "failed", "response: no columns/values", ["no columns or values"], body, elapsed)
    column_problems = check_columns(expected, columns)
    value_problems = [] if column_problems else check_values(expected, values, test.ignore_order)
    warnings = [warning_text(value) for value in response.headers.get_list("warning")]
    warning_problems = check_warnings(test, warnings)
    problems += column_problems + value_problems + warning_problems
    actual = {"columns": columns, "values": values[:50], "warnings": warnings}
    if not problems:
        return Outcome(test, "passed", seconds=elapsed)
    if column_problems:
        group = failure_group("columns", column_problems[0])
    elif value_problems:
        row_count = value_problems[0].startswith(("Expected more", "Elasticsearch still"))
        group = "values: wrong row count" if row_count else "values: wrong values or order"
    elif warning_problems:
        expects_warnings = bool(test.warnings or test.warning_regexes)
        group = "warnings: " + ("missing or different warnings" if expects_warnings else "unexpected warnings")
    else:
        group = "response: partial results"
    return Outcome(test, "failed", group, problems, actual, elapsed)


SERVER_LOST = "transport: the server crashed or stopped answering; it was restarted"


def run_tests(
    client: httpx.Client,
    tests: Iterable[SpecTest],
    progress: Callable[[Outcome], None] | None = None,
    recover: Callable[[bool], bool] | None = None,
) -> list[Outcome]:
    """Runs the tests in order. After a transport failure `recover` (if given) replaces the server
    when it is gone, or (`recover(True)`) when the query timed out, so that runaway work does not
    stall the tests after it; that test then fails as SERVER_LOST and the run goes on."""
    outcomes = []
    for test in tests:
        outcome = run_test(client, test)
        lost = outcome.reason.startswith("transport") and recover is not None and recover("Timeout" in outcome.reason)
        if lost:
            outcome.reason = SERVER_LOST
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes


@dataclass
class Summary:
    passed: int
    failed: int
    skipped: int
    by_file: dict[str, Counter[str]]
    skip_features: Counter[str]
    failure_groups: Counter[str]

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped

    @property
    def pass_rate(self) -> float:
        """Passed share of the tests that ran (skips excluded)."""
        ran = self.passed + self.failed
        return self.passed / ran if ran else 0.0

    def headline(self) -> str:
        return (
            f"ES|QL conformance: passed {self.passed}, failed {self.failed}, skipped {self.skipped} "
            f"(of {self.total}); {self.pass_rate:.1%} of the tests that ran pass"
        )

    def lines(self) -> list[str]:
        out = [self.headline(), "by file (passed/failed/skipped):"]
        for name, counts in sorted(self.by_file.items()):
            out.append(f"  {name:<28} {counts['passed']:>4} {counts['failed']:>4} {counts['skipped']:>4}")
        if self.skip_features:
            out.append("skipped, by out-of-scope feature:")
            out += [f"  {count:>4}  {feature}" for feature, count in self.skip_features.most_common()]
        if self.failure_groups:
            out.append("failures, by cause (top 15):")
            out += [f"  {count:>4}  {group}" for group, count in self.failure_groups.most_common(15)]
        return out


def summarize(outcomes: list[Outcome]) -> Summary:
    by_file: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        by_file.setdefault(outcome.test.group, Counter())[outcome.status] += 1
    statuses = Counter(outcome.status for outcome in outcomes)
    return Summary(
        passed=statuses["passed"],
        failed=statuses["failed"],
        skipped=statuses["skipped"],
        by_file=by_file,
        skip_features=Counter(feature_of(o.reason) for o in outcomes if o.status == "skipped"),
        failure_groups=Counter(o.reason for o in outcomes if o.status == "failed"),
    )


def write_report(outcomes: list[Outcome], path: Path = REPORT_PATH) -> None:
    """The JSON report the engine work reads: counts, and every failure with its query and answer."""
    summary = summarize(outcomes)
    report = {
        "summary": {
            "passed": summary.passed,
            "failed": summary.failed,
            "skipped": summary.skipped,
            "total": summary.total,
            "pass_rate_of_run": round(summary.pass_rate, 4),
            "by_file": {name: dict(counts) for name, counts in sorted(summary.by_file.items())},
            "skipped_by_feature": dict(summary.skip_features.most_common()),
            "failures_by_cause": dict(summary.failure_groups.most_common()),
        },
        "passed": [o.test.id for o in outcomes if o.status == "passed"],
        "skipped": [{"id": o.test.id, "reason": o.reason} for o in outcomes if o.status == "skipped"],
        "failures": [
            {
                "id": o.test.id,
                "file": o.test.file,
                "line": o.test.line,
                "cause": o.reason,
                "query": o.test.query.replace("\r\n", "\n"),
                "expected": o.test.expected_text.replace("\r\n", "\n"),
                "expected_warnings": o.test.warnings or o.test.warning_regexes,
                "ignore_order": o.test.ignore_order,
                "problems": o.problems,
                "actual": o.actual,
            }
            for o in outcomes
            if o.status == "failed"
        ],
    }
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_baseline(path: Path = BASELINE_PATH) -> int:
    return int(json.loads(path.read_text(encoding="utf-8"))["passed"]) if path.exists() else 0


def write_baseline(passed: int, path: Path = BASELINE_PATH) -> None:
    path.write_text(json.dumps({"passed": passed}) + "\n", encoding="utf-8")
