"""Run the conformance kit from the command line, for quick iteration on the engine.

    python -m tests.esql.conformance                      # a fresh server process, every test
    python -m tests.esql.conformance --file stats -k count  # one file, tests whose id contains "count"
    python -m tests.esql.conformance -v                   # also print each failure's query and answer
    python -m tests.esql.conformance --url http://127.0.0.1:5601 --user elastic --password ...

Failures are printed grouped by cause; the full report goes to .conformance-report.json.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable

import httpx

from tests.esql.conformance.datasets import load_all
from tests.esql.conformance.runner import REPORT_PATH, Outcome, kit_tests, run_tests, summarize, write_report
from tests.esql.conformance.server import ADMIN_PASSWORD, ADMIN_USER, recovery, server_process
from tests.esql.conformance.spec import SpecTest


def _print_failures(outcomes: list[Outcome], verbose: bool) -> None:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.status == "failed":
            groups[outcome.reason].append(outcome)
    for cause, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        print(f"\n[{len(members)}] {cause}")
        for outcome in members[: None if verbose else 5]:
            print(f"    {outcome.test.id} ({outcome.test.file}:{outcome.test.line})")
            if verbose:
                print("      query:    " + outcome.test.query.replace("\r\n", "\n      "))
                for problem in outcome.problems[:5]:
                    print(f"      problem:  {problem}")
        if not verbose and len(members) > 5:
            print(f"    ... and {len(members) - 5} more")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.esql.conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="pattern", help="only tests whose id (file.test) contains this text")
    parser.add_argument("--file", help="only this csv-spec file (name without extension)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failure's query and problems")
    parser.add_argument("--url", help="a running Vigil instead of a fresh in-process one")
    parser.add_argument("--user", default=ADMIN_USER)
    parser.add_argument("--password", default=ADMIN_PASSWORD)
    args = parser.parse_args(argv)

    pattern = (args.pattern or "").lower()
    tests = [t for t in kit_tests() if (args.file is None or t.group == args.file) and pattern in t.id.lower()]
    if not tests:
        print("no test matches", file=sys.stderr)
        return 2
    if args.url:
        with httpx.Client(base_url=args.url, auth=(args.user, args.password), timeout=60) as client:
            outcomes = _run(client, tests, None)
    else:
        with server_process() as server, httpx.Client(base_url=server.url, auth=(args.user, args.password)) as client:
            outcomes = _run(client, tests, recovery(server, client))
            if server.restarts:
                print(f"the server was restarted {server.restarts} time(s) after crashing or hanging")
    write_report(outcomes)
    _print_failures(outcomes, args.verbose)
    print("\n" + "\n".join(summarize(outcomes).lines()))
    print(f"report: {REPORT_PATH}")
    return 0


def _run(client: httpx.Client, tests: list[SpecTest], recover: Callable[[bool], bool] | None) -> list[Outcome]:
    load_all(client)
    return run_tests(client, tests, recover=recover)


if __name__ == "__main__":
    sys.exit(main())
