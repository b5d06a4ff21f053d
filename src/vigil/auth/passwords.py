"""Password hashing (argon2id) with a short-lived cache of verified credentials.

Argon2 is deliberately slow (tens of milliseconds); HTTP Basic sends the password on every
request. Like Elasticsearch's realm cache, a verified (username, password) pair is remembered
for a while, but only together with the exact hash it was checked against: a password change on
any Vigil server changes the stored hash, so the cached entry stops matching as soon as the user
row is read again (at once on this server, within `auth_principal_cache_seconds` on the others:
vigil.auth.service.Authenticator).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 6  # Elasticsearch's minimum for native realm passwords


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class VerifiedCredentialCache:
    """Bounded LRU of (username, keyed digest of password) -> password hash it matched."""

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        # A per-process key: the cache never holds anything an offline attack could use.
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[tuple[str, bytes], tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode(), hashlib.sha256).digest()

    def verify(self, username: str, password: str, password_hash: str) -> bool:
        if self._ttl <= 0:
            return verify_password(password_hash, password)
        key = (username, self._digest(password))
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(key)
            if cached and cached[0] == password_hash and cached[1] > now:
                self._entries.move_to_end(key)
                return True
        if not verify_password(password_hash, password):
            return False
        with self._lock:
            self._entries[key] = (password_hash, now + self._ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return True
