"""SecretBox and the start-up key check, unit-level."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from vigil.crypto import KEY_FILE_NAME, DecryptionError, EncryptionKeyError, SecretBox, load_secret_box
from vigil.settings import Settings

KEY = "k" * 32


def test_round_trip_and_binding_to_context() -> None:
    box = SecretBox(KEY)
    token = box.encrypt({"apiKey": "sk-123"}, "connector:default:a")
    assert "sk-123" not in token
    assert box.decrypt(token, "connector:default:a") == {"apiKey": "sk-123"}
    with pytest.raises(DecryptionError):
        box.decrypt(token, "connector:default:b")
    with pytest.raises(DecryptionError):
        SecretBox("x" * 40).decrypt(token, "connector:default:a")
    with pytest.raises(DecryptionError):
        box.decrypt("not a token", "connector:default:a")
    assert "sk" not in repr(box)


def test_short_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EncryptionKeyError):
        SecretBox("short")
    with pytest.raises(EncryptionKeyError, match="at least 32"):
        load_secret_box(Settings(data_dir=tmp_path, encryption_key="too-short"))


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", encryption_key=None)
    first = load_secret_box(settings)
    key_file = settings.data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_text()
    assert len(content.strip()) >= 32
    token = first.encrypt({"secret": "v"}, "c")
    second = load_secret_box(settings)
    assert key_file.read_text() == content
    assert second.decrypt(token, "c") == {"secret": "v"}


def test_configured_key_wins_over_the_key_file(tmp_path: Path) -> None:
    box = load_secret_box(Settings(data_dir=tmp_path, encryption_key=KEY))
    assert not (tmp_path / KEY_FILE_NAME).exists()
    assert SecretBox(KEY).decrypt(box.encrypt({"a": "b"}), "") == {"a": "b"}


def test_a_truncated_key_file_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("abc\n")
    with pytest.raises(EncryptionKeyError, match="fewer than 32"):
        load_secret_box(Settings(data_dir=tmp_path, encryption_key=None))


def test_postgresql_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://vigil@db.example/vigil", encryption_key=None)
    with pytest.raises(EncryptionKeyError, match="VIGIL_ENCRYPTION_KEY"):
        load_secret_box(settings)
    assert not (tmp_path / KEY_FILE_NAME).exists()
    shared = Settings(data_dir=tmp_path, database_url="postgresql://vigil@db.example/vigil", encryption_key=KEY)
    assert isinstance(load_secret_box(shared), SecretBox)
