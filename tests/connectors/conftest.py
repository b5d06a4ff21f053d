"""Connector test helpers.

A shared store (PostgreSQL) needs an encryption key or Vigil refuses to start (vigil.crypto).
The session settings in tests/conftest.py do not set one yet, so a throwaway key is supplied
through the environment for PostgreSQL runs, before any server starts.
"""

from __future__ import annotations

import os

if os.environ.get("VIGIL_TEST_DATABASE_URL"):
    os.environ.setdefault("VIGIL_ENCRYPTION_KEY", "vigil-tests-throwaway-encryption-key-0123456789")
