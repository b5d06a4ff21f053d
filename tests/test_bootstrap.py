"""The first superuser on an empty store: from the environment, or generated and shown once."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.auth import service
from vigil.auth.bootstrap import DEFAULT_ADMIN_USERNAME, ensure_first_superuser
from vigil.auth.passwords import verify_password
from vigil.db.engine import Database
from vigil.db.migrate import upgrade
from vigil.settings import Settings


@pytest.fixture
def fresh(tmp_path: Path):
    def make(**overrides: object) -> tuple[Settings, Database]:
        settings = Settings(data_dir=tmp_path, **overrides)  # type: ignore[arg-type]
        database = Database(settings)
        upgrade(database)
        return settings, database

    return make


def test_generated_password_once(fresh) -> None:
    settings, database = fresh()
    result = ensure_first_superuser(database, settings)
    assert result is not None and result.username == DEFAULT_ADMIN_USERNAME
    assert result.generated_password and len(result.generated_password) >= 20
    with database.session() as session:
        user = service.get_user(session, DEFAULT_ADMIN_USERNAME)
        assert user is not None and user.roles == ["superuser"]
        assert verify_password(user.password_hash, result.generated_password)
    assert ensure_first_superuser(database, settings) is None  # never again
    database.dispose()


def test_credentials_from_settings(fresh) -> None:
    settings, database = fresh(admin_username="soc-admin", admin_password="from-the-environment")
    result = ensure_first_superuser(database, settings)
    assert result is not None and result.username == "soc-admin" and result.generated_password is None
    with database.session() as session:
        user = service.get_user(session, "soc-admin")
        assert user is not None and verify_password(user.password_hash, "from-the-environment")
    database.dispose()


def test_environment_variables_configure_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("VIGIL_DATABASE_URL", "postgresql://vigil@db.internal/vigil")
    monkeypatch.setenv("VIGIL_PORT", "15601")
    settings = Settings()
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.resolved_database_url == "postgresql+psycopg://vigil@db.internal/vigil"
    assert settings.port == 15601 and settings.host == "127.0.0.1"


def test_config_file_and_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "vigil.toml"
    config.write_text('port = 7000\nhost = "0.0.0.0"\nmax_payload_bytes = 2048\n')
    monkeypatch.setenv("VIGIL_CONFIG_FILE", str(config))
    monkeypatch.setenv("VIGIL_PORT", "7001")
    settings = Settings()
    assert settings.host == "0.0.0.0" and settings.max_payload_bytes == 2048
    assert settings.port == 7001  # the environment wins over the file


def test_invalid_settings_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIGIL_PORT", "99999")
    with pytest.raises(ValueError, match="port"):
        Settings()
    monkeypatch.delenv("VIGIL_PORT")
    monkeypatch.setenv("VIGIL_API_KEY_DEFAULT_EXPIRATION", "a fortnight")
    with pytest.raises(ValueError, match="time value"):
        Settings()
    monkeypatch.delenv("VIGIL_API_KEY_DEFAULT_EXPIRATION")
    monkeypatch.setenv("VIGIL_CONFIG_FILE", str(tmp_path / "no-such-file.toml"))
    with pytest.raises(ValueError, match="not a readable file"):
        Settings()


def test_api_key_ids_are_safe_on_a_command_line() -> None:
    from vigil.auth.service import new_api_key_id

    ids = [new_api_key_id() for _ in range(2000)]
    assert all(len(i) == 20 and i.isalnum() for i in ids)
    assert len(set(ids)) == len(ids)
