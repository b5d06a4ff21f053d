"""The first superuser, created once on an empty store."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from vigil.auth import service
from vigil.db.engine import Database
from vigil.settings import Settings

DEFAULT_ADMIN_USERNAME = "elastic"  # what Elastic users type first


@dataclass(frozen=True)
class BootstrapResult:
    username: str
    generated_password: str | None  # shown once; None when it came from the environment


def ensure_first_superuser(database: Database, settings: Settings) -> BootstrapResult | None:
    """Creates the first superuser if there are no users at all; returns what it created."""
    username = settings.admin_username or DEFAULT_ADMIN_USERNAME
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    password = given or secrets.token_urlsafe(18)
    try:
        with database.session() as session:
            if service.count_users(session) > 0:
                return None
            service.put_user(session, username, password=password, roles=["superuser"], full_name="Vigil administrator")
    except IntegrityError:
        # Another Vigil server sharing the database created it first: nothing left to do.
        return None
    return BootstrapResult(username=username, generated_password=None if given else password)
