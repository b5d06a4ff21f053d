"""`vigil ingest` against the session's real server: NDJSON (plain and bulk format), CSV,
progress, and per-item failures with a non-zero exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from tests.support.clients import unique_name
from vigil.dataplane.store import DataStore

pytestmark = pytest.mark.backend_independent


def vigil_ingest(
    base_url: str, *args: str, stdin: bytes | None = None, tty: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    if tty:
        env["TTY_COMPATIBLE"] = "1"  # rich draws the progress bar as on a terminal
        env["COLUMNS"] = "160"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "vigil",
            "ingest",
            *args,
            "--url",
            base_url,
            "--user",
            ADMIN_USER,
            "--password",
            ADMIN_PASSWORD,
        ],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def count(admin: httpx.Client, index: str) -> int:
    rows = admin.get(f"/_cat/indices/{index}", params={"format": "json", "h": "docs.count"}).json()
    return int(rows[0]["docs.count"])


def test_plain_ndjson_with_progress(base_url: str, admin: httpx.Client, tmp_path: Path) -> None:
    index = unique_name("cli")
    source = tmp_path / "events.ndjson"
    source.write_bytes(
        b"".join(orjson.dumps({"@timestamp": f"2024-02-0{1 + i % 5}T00:00:00Z", "n": i}) + b"\n" for i in range(2500))
    )
    result = vigil_ingest(base_url, str(source), "--index", index, "--batch-size", "1000", tty=True)
    assert result.returncode == 0, result.stderr
    assert "2,500 documents ingested, 0 failed" in result.stderr
    assert "docs/s" in result.stderr and "100%" in result.stderr  # the progress bar was drawn
    assert count(admin, index) == 2500
    mapping = admin.get(f"/{index}/_mapping").json()[index]["mappings"]["properties"]
    assert mapping["n"] == {"type": "long"} and mapping["@timestamp"] == {"type": "date"}


def test_bulk_format_from_stdin(base_url: str, admin: httpx.Client) -> None:
    first, second = unique_name("clia"), unique_name("clib")
    lines = [
        {"index": {"_index": first, "_id": "1"}},
        {"a": 1},
        {"create": {"_index": second}},
        {"b": "x"},
        {"index": {"_index": first, "_id": "2"}},
        {"a": 2},
    ]
    result = vigil_ingest(base_url, "-", stdin=b"".join(orjson.dumps(line) + b"\n" for line in lines))
    assert result.returncode == 0, result.stderr
    assert "3 documents ingested, 0 failed" in result.stderr
    assert count(admin, first) == 2 and count(admin, second) == 1


def test_csv_with_inferred_types(base_url: str, admin: httpx.Client, tmp_path: Path) -> None:
    index = unique_name("csv")
    source = tmp_path / "hosts.csv"
    source.write_text(
        "host.name,cpu,load,up,@timestamp,note\n"
        'web-1,4,0.5,true,2024-03-01T00:00:00Z,"with, comma"\n'
        "web-2,8,1.25,false,2024-03-02T00:00:00Z,\n"
    )
    result = vigil_ingest(base_url, str(source), "--index", index)
    assert result.returncode == 0, result.stderr
    properties = admin.get(f"/{index}/_mapping").json()[index]["mappings"]["properties"]
    assert properties["host"] == {"properties": {"name": {"type": "keyword"}}}
    assert properties["cpu"] == {"type": "long"}
    assert properties["load"] == {"type": "double"}
    assert properties["up"] == {"type": "boolean"}
    assert properties["@timestamp"] == {"type": "date"}
    assert properties["note"] == {"type": "keyword"}
    assert count(admin, index) == 2


def test_failures_are_listed_and_exit_non_zero(base_url: str, admin: httpx.Client, tmp_path: Path) -> None:
    index = unique_name("clibad")
    admin.put(f"/{index}", json={"mappings": {"properties": {"n": {"type": "long"}}}})
    source = tmp_path / "mixed.ndjson"
    source.write_bytes(b'{"n": 1}\n{"n": "one"}\n\n{"n": 3}\n{not json\n')
    result = vigil_ingest(base_url, str(source), "--index", index)
    assert result.returncode == 1
    assert "2 documents ingested, 2 failed" in result.stderr
    assert "line 2: 400 document_parsing_exception: failed to parse field [n] of type [long]" in result.stderr
    assert "line 5: 400 document_parsing_exception" in result.stderr
    assert count(admin, index) == 2


def test_plain_ndjson_needs_an_index(base_url: str, tmp_path: Path) -> None:
    source = tmp_path / "docs.ndjson"
    source.write_bytes(b'{"a": 1}\n')
    result = vigil_ingest(base_url, str(source))
    assert result.returncode == 2
    assert "needs --index" in result.stderr


def test_wrong_password_is_reported(base_url: str, tmp_path: Path) -> None:
    source = tmp_path / "docs.ndjson"
    source.write_bytes(b'{"a": 1}\n')
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigil",
            "ingest",
            str(source),
            "--index",
            "x",
            "--url",
            base_url,
            "--user",
            ADMIN_USER,
            "--password",
            "wrong",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "HTTP 401" in completed.stderr


def test_direct_mode_writes_the_file_when_no_server_holds_it(tmp_path: Path) -> None:
    source = tmp_path / "docs.ndjson"
    source.write_bytes(b"".join(orjson.dumps({"v": i}) + b"\n" for i in range(150)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env["VIGIL_DATA_DIR"] = str(tmp_path / "data")
    completed = subprocess.run(
        [sys.executable, "-m", "vigil", "ingest", str(source), "--index", "direct", "--direct"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    store = DataStore.open(tmp_path / "data" / "data.duckdb")
    try:
        with store.reader() as cursor:
            assert cursor.execute('SELECT count(*), sum(v) FROM "direct"').fetchall() == [(150, sum(range(150)))]
    finally:
        store.close()
