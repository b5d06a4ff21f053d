"""The conformance kit as part of the test suite: load the datasets, run every test, report.

Passes while the number of passing tests is at least the committed baseline
(`tests/esql/conformance/baseline.json`); `VIGIL_CONFORMANCE_UPDATE_BASELINE=1` records the
current number instead. The failures, with their queries and answers, are in
`.conformance-report.json` at the repository root.
"""

from __future__ import annotations

import os

import httpx
import pytest

from tests.esql.conformance.datasets import load_all
from tests.esql.conformance.runner import (
    REPORT_PATH,
    kit_tests,
    read_baseline,
    run_tests,
    summarize,
    write_baseline,
    write_report,
)
from tests.esql.conformance.server import ADMIN_PASSWORD, ADMIN_USER, recovery, server_process

pytestmark = pytest.mark.backend_independent


def test_conformance_pass_count_never_drops(capsys: pytest.CaptureFixture[str]) -> None:
    # Its own server process (not the session server): a query that crashes or stalls the server
    # must not take the test session down (see tests/esql/conformance/server.py).
    with server_process() as server, httpx.Client(base_url=server.url, auth=(ADMIN_USER, ADMIN_PASSWORD)) as client:
        loaded = load_all(client)
        assert loaded["employees"] == 100, loaded
        outcomes = run_tests(client, kit_tests(), recover=recovery(server, client))
    write_report(outcomes)
    summary = summarize(outcomes)
    with capsys.disabled():
        print("\n" + "\n".join(summary.lines()) + f"\nreport: {REPORT_PATH}")
    baseline = read_baseline()
    if os.environ.get("VIGIL_CONFORMANCE_UPDATE_BASELINE") == "1":
        write_baseline(summary.passed)
    else:
        assert summary.passed >= baseline, (
            f"ES|QL conformance went down: {summary.passed} tests pass, the baseline is {baseline} (see {REPORT_PATH})"
        )
