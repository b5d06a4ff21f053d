"""The `vigil` command, run as operators run it: a subprocess on a real data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VIGIL = [sys.executable, "-m", "vigil"]


def run_vigil(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    environment.update({"VIGIL_DATA_DIR": str(data_dir), "COLUMNS": "200", **(env or {})})
    return subprocess.run([*VIGIL, *args], env=environment, capture_output=True, text=True, timeout=120)


def test_user_and_apikey_commands(tmp_path: Path) -> None:
    created = run_vigil(tmp_path, "user", "create", "analyst", "--password", "pw-analyst", "--role", "editor")
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "vigil.db").exists()
    duplicate = run_vigil(tmp_path, "user", "create", "analyst", "--password", "pw-analyst")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stdout
    bad_role = run_vigil(tmp_path, "user", "create", "x", "--password", "pw-xxxxx", "--role", "god")
    assert bad_role.returncode == 1 and "unknown roles" in bad_role.stdout
    listing = run_vigil(tmp_path, "user", "list")
    assert "analyst" in listing.stdout and "editor" in listing.stdout

    key = run_vigil(tmp_path, "apikey", "create", "--user", "analyst", "--name", "soar", "--expiration", "30d")
    assert key.returncode == 0, key.stdout + key.stderr
    key_id = next(line.split()[1] for line in key.stdout.splitlines() if line.startswith("id:"))
    keys = run_vigil(tmp_path, "apikey", "list")
    assert key_id in keys.stdout and "soar" in keys.stdout
    invalidated = run_vigil(tmp_path, "apikey", "invalidate", key_id)
    assert invalidated.returncode == 0
    assert "yes" in run_vigil(tmp_path, "apikey", "list").stdout

    assert run_vigil(tmp_path, "user", "passwd", "analyst", "--password", "new-password").returncode == 0
    # The only superuser cannot be deleted, from the CLI either.
    run_vigil(tmp_path, "user", "create", "root", "--password", "pw-rootroot", "--role", "superuser")
    last = run_vigil(tmp_path, "user", "delete", "root")
    assert last.returncode == 1 and "last enabled superuser" in last.stdout
    assert run_vigil(tmp_path, "user", "delete", "analyst").returncode == 0
    assert run_vigil(tmp_path, "user", "delete", "analyst").returncode == 1


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    upgraded = run_vigil(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0 and "was empty" in upgraded.stdout
    current = run_vigil(tmp_path, "db", "current")
    lines = dict(line.split(": ", 1) for line in current.stdout.strip().splitlines())
    assert lines["database"] == lines["this Vigil"] != "empty"
