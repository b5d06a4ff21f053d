"""`vigil demo load` as an operator runs it, against the session's real server."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import httpx

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from vigil.demo.dataset import counts_by_index, generate
from vigil.demo.loader import DEMO_FIELD_RULES

END = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)  # long past: the "last 24 hours" stay as they were


def demo_load(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    environment["COLUMNS"] = "200"
    command = [sys.executable, "-m", "vigil", "demo", "load", *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)


def test_loading_twice_creates_nothing_new(base_url: str, admin: httpx.Client) -> None:
    args = ("--url", base_url, "--user", ADMIN_USER, "--password", ADMIN_PASSWORD, "--space", "demotest")
    args += ("--days", "1", "--end", END.isoformat(), "--seed", "99")
    first = demo_load(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    expected = counts_by_index(generate(seed=99, end=END, days=1, space="demotest"))
    total = sum(expected.values())
    assert f"created {total}, already there 0, failed 0" in first.stdout
    assert ".alerts-security.alerts-demotest" in first.stdout
    second = demo_load(*args)
    assert second.returncode == 0 and f"created 0, already there {total}, failed 0" in second.stdout

    fields = admin.get("/s/demotest/api/security_ai_assistant/anonymization_fields/_find", params={"per_page": 1000})
    rules = {item["field"]: (item["allowed"], item["anonymized"]) for item in fields.json()["data"]}
    assert all(rules[name] == (True, anonymized) for name, anonymized in DEMO_FIELD_RULES)
    alerts = admin.post("/_query", json={"query": "FROM .alerts-security.alerts-demotest | STATS n = COUNT(*)"})
    assert alerts.json()["values"] == [[expected[".alerts-security.alerts-demotest"]]]


def test_wrong_or_missing_credentials_and_unreachable_servers(base_url: str) -> None:
    wrong = demo_load("--url", base_url, "--user", ADMIN_USER, "--password", "not-the-password")
    assert wrong.returncode == 1 and "401" in wrong.stdout and "check --user/--password" in wrong.stdout
    missing = demo_load("--url", base_url)
    assert missing.returncode == 1 and "give --user and --password" in missing.stdout
    nowhere = demo_load("--url", "http://127.0.0.1:9", "--user", "a", "--password", "b")
    assert nowhere.returncode == 1 and "cannot reach" in nowhere.stdout
