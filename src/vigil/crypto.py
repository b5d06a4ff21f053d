"""Encryption at rest for small secrets (connector API keys): Fernet, keyed from one operator key.

The operator key is any string of 32 characters or more, as Kibana's
`xpack.encryptedSavedObjects.encryptionKey`. The Fernet key is derived from it with HKDF-SHA256,
so the key's format does not matter. Each token is bound to a *context* (for a connector, its
space and id): a token copied onto another row does not decrypt there.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vigil.settings import Settings

logger = logging.getLogger("vigil.crypto")

MIN_KEY_LENGTH = 32
KEY_FILE_NAME = "encryption.key"
_HKDF_INFO = b"vigil secrets v1"


class EncryptionKeyError(RuntimeError):
    """The encryption key is missing or unusable: Vigil must not start."""


class DecryptionError(Exception):
    """A token does not decrypt with this key (wrong key, tampered row, or another row's token).

    The message never contains the token or any plaintext."""


class SecretBox:
    """Encrypts and decrypts JSON objects with a key derived from the operator's key."""

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_LENGTH:
            raise EncryptionKeyError(f"the encryption key must be at least {MIN_KEY_LENGTH} characters long")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    def encrypt(self, data: dict[str, Any], context: str = "") -> str:
        plaintext = json.dumps({"c": context, "v": data}, separators=(",", ":"))
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str, context: str = "") -> dict[str, Any]:
        try:
            envelope = json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeError) as exc:
            raise DecryptionError("the secrets do not decrypt with the configured encryption key") from exc
        if not isinstance(envelope, dict) or envelope.get("c") != context:
            raise DecryptionError("the secrets were encrypted for another object")
        if not isinstance(envelope.get("v"), dict):
            raise DecryptionError("the secrets were encrypted for another object")
        return envelope["v"]  # type: ignore[no-any-return]


def _uses_shared_store(settings: Settings) -> bool:
    return not settings.resolved_database_url.startswith("sqlite")


def _read_or_create_key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
        if len(key) < MIN_KEY_LENGTH:
            raise EncryptionKeyError(
                f"the encryption key file [{path}] holds fewer than {MIN_KEY_LENGTH} characters"
            ) from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    logger.warning(
        "Generated an encryption key for connector secrets in [%s]. Back it up with the database: "
        "without it the stored secrets cannot be read. Set VIGIL_ENCRYPTION_KEY to manage it yourself.",
        path,
    )
    return key


def load_secret_box(settings: Settings) -> SecretBox:
    """The start-up check: the configured key, else (SQLite only) the key file, created once.

    With PostgreSQL several servers share one store, so they must share one key: a key generated
    by one of them would make the others unable to read what it wrote, hence the refusal."""
    if settings.encryption_key is not None:
        key = settings.encryption_key.get_secret_value()
        if len(key) < MIN_KEY_LENGTH:
            raise EncryptionKeyError(
                f"VIGIL_ENCRYPTION_KEY (encryption_key) must be at least {MIN_KEY_LENGTH} characters long"
            )
        return SecretBox(key)
    if _uses_shared_store(settings):
        raise EncryptionKeyError(
            "Vigil uses a shared database (PostgreSQL), so every server needs the same encryption key "
            f"for connector secrets: set VIGIL_ENCRYPTION_KEY (encryption_key) to a string of at least "
            f"{MIN_KEY_LENGTH} characters, the same on every server."
        )
    return SecretBox(_read_or_create_key_file(settings.data_dir / KEY_FILE_NAME))
