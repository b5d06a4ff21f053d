#!/usr/bin/env bash
# Runs the test suite on SQLite, then again on a throwaway PostgreSQL database.
# Usage: scripts/test.sh [sqlite|postgres|all] [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"; [ $# -gt 0 ] && shift
PY=.venv/bin/python
PGHOST="${VIGIL_TEST_PGHOST:-127.0.0.1}"
PGPORT="${VIGIL_TEST_PGPORT:-5432}"
PGUSER="${VIGIL_TEST_PGUSER:-postgres}"

run_sqlite() {
  echo "== test suite on SQLite"
  env -u VIGIL_TEST_DATABASE_URL "$PY" -m pytest -q "$@"
}

ensure_postgres() {
  if pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then return 0; fi
  echo "PostgreSQL is not answering on $PGHOST:$PGPORT; starting the local cluster"
  if command -v pg_ctlcluster >/dev/null; then
    version=$(ls /etc/postgresql | sort -n | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h "$PGHOST" -p "$PGPORT" && return 0
    sleep 1
  done
  echo "PostgreSQL did not start: the PostgreSQL pass of the suite cannot run" >&2
  return 1
}

run_postgres() {
  ensure_postgres
  db="vigil_test_$(date +%s)_$$"
  psql -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -c "CREATE DATABASE $db"
  trap 'psql -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT
  echo "== test suite on PostgreSQL (database $db)"
  # Tests marked backend_independent never touch the SQL database (the DuckDB data plane, the
  # ES|QL engine and its conformance kit): the SQLite pass runs them, this one deselects them.
  VIGIL_TEST_DATABASE_URL="postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$db" "$PY" -m pytest -q \
    -m "not backend_independent" "$@"
}

case "$which" in
  sqlite) run_sqlite "$@" ;;
  postgres) run_postgres "$@" ;;
  all) run_sqlite "$@"; run_postgres "$@" ;;
  *) echo "usage: $0 [sqlite|postgres|all] [pytest args...]" >&2; exit 2 ;;
esac
