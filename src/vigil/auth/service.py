"""Users and API keys: creation, lookup, and turning credentials into a Principal."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.models import ApiKey, User
from vigil.auth.passwords import MIN_PASSWORD_LENGTH, VerifiedCredentialCache, hash_password
from vigil.auth.principal import Principal
from vigil.auth.privileges import BUILTIN_ROLES, unknown_roles
from vigil.db.base import utcnow
from vigil.db.engine import Database
from vigil.db.read_cache import AUTH_TABLES, ReadCache
from vigil.errors import BadRequest, Conflict, NotFound, Unauthorized
from vigil.timeunits import parse_duration


def _new_user_id() -> str:
    return "u_" + secrets.token_urlsafe(24)


def _validate_username(username: str) -> None:
    # Elasticsearch: 1 to 507 printable characters, no leading or trailing whitespace.
    if not username or len(username) > 507 or username != username.strip() or not username.isprintable():
        raise BadRequest(
            f"Validation Failed: 1: invalid username [{username}]; usernames must be 1 to 507 "
            "printable characters without leading or trailing whitespace;"
        )


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"Validation Failed: 1: passwords must be at least [{MIN_PASSWORD_LENGTH}] characters long;")


def _validate_roles(roles: list[str]) -> None:
    unknown = unknown_roles(roles)
    if unknown:
        raise BadRequest(f"unknown roles {unknown}; Vigil's roles are {sorted(BUILTIN_ROLES)}")


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def count_users(session: Session) -> int:
    return len(session.scalars(select(User.id).limit(1)).all())


def put_user(
    session: Session,
    username: str,
    *,
    password: str | None,
    roles: list[str],
    full_name: str | None = None,
    email: str | None = None,
    metadata: dict[str, Any] | None = None,
    enabled: bool = True,
) -> tuple[User, bool]:
    """Create or update a user, as Elasticsearch's PUT /_security/user/{username}. Returns (user, created)."""
    _validate_username(username)
    _validate_roles(roles)
    if password is not None:
        _validate_password(password)
    user = get_user(session, username)
    created = user is None
    if user is not None:
        _keep_a_superuser(session, username, roles if enabled else [])
    if user is None:
        if password is None:
            raise BadRequest(
                "Validation Failed: 1: password must be specified unless you are updating an existing user;"
            )
        user = User(id=_new_user_id(), username=username, password_hash=hash_password(password))
        session.add(user)
    elif password is not None:
        user.password_hash = hash_password(password)
    user.roles = list(roles)
    user.full_name = full_name
    user.email = email
    user.user_metadata = metadata or {}
    user.enabled = enabled
    session.flush()
    return user, created


def set_password(session: Session, username: str, password: str) -> None:
    _validate_password(password)
    user = get_user(session, username)
    if user is None:
        raise NotFound(f"user [{username}] not found")
    user.password_hash = hash_password(password)


def delete_user(session: Session, username: str) -> bool:
    user = get_user(session, username)
    if user is None:
        return False
    _keep_a_superuser(session, username, [])
    session.delete(user)
    return True


def _keep_a_superuser(session: Session, username: str, new_roles: list[str]) -> None:
    """Nobody should lock everyone out at 3 a.m.: the last enabled superuser stays one."""
    if "superuser" in new_roles:
        return
    others = session.scalars(select(User).where(User.username != username, User.enabled.is_(True))).all()
    if not any("superuser" in user.roles for user in others):
        raise Conflict(f"user [{username}] is the last enabled superuser and must stay one")


def principal_for_user(user: User, **extra: Any) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=tuple(user.roles),
        full_name=user.full_name,
        email=user.email,
        **extra,
    )


class Authenticator:
    """Checks Basic and ApiKey credentials against the store.

    A credential that verified is remembered for `principal_cache_seconds` (keyed by an HMAC of
    the whole credential under a per-process key, never the credential itself), so most requests
    make no database read. A change to users or API keys made through this server forgets them
    all at once (vigil.db.read_cache); one made through another server sharing the database
    applies here within those seconds. Failures are never remembered; an API key expiring sooner
    than that is not remembered either."""

    def __init__(self, credential_cache: VerifiedCredentialCache, principal_cache_seconds: float = 0.0) -> None:
        self._cache = credential_cache
        self._principals = ReadCache(principal_cache_seconds, AUTH_TABLES)
        self._key = secrets.token_bytes(32)

    def _digest(self, scheme: str, credentials: str) -> bytes:
        return hmac.new(self._key, f"{scheme}\0{credentials}".encode(), hashlib.sha256).digest()

    def remembered(self, scheme: str, credentials: str) -> Principal | None:
        """The principal of a credential verified moments ago; None if it must be checked."""
        principal: Principal | None = self._principals.get(self._digest(scheme, credentials))
        return principal

    def authenticate(self, database: Database, scheme: str, credentials: str) -> Principal:
        """`scheme` "basic" (base64 of user:password) or "apikey" (base64 of id:key)."""
        since = self._principals.snapshot()  # before the transaction, see vigil.db.read_cache
        until: datetime | None = None
        if scheme == "basic":
            username, password = decode_basic_credentials(credentials)
            with database.session(readonly=True) as session:
                principal = self.basic(session, username, password)
        else:
            key_id, secret = decode_api_key_credentials(credentials)
            with database.session(readonly=True) as session:
                principal, until = self._api_key(session, key_id, secret)
        if until is None or until > utcnow() + timedelta(seconds=self._principals.ttl):
            self._principals.put(self._digest(scheme, credentials), since, principal)
        return principal

    def basic(self, session: Session, username: str, password: str) -> Principal:
        user = get_user(session, username)
        if user is None or not user.enabled or not self._cache.verify(username, password, user.password_hash):
            raise Unauthorized(f"unable to authenticate user [{username}] for REST request")
        return principal_for_user(user)

    def api_key(self, session: Session, key_id: str, secret: str) -> Principal:
        return self._api_key(session, key_id, secret)[0]

    def _api_key(self, session: Session, key_id: str, secret: str) -> tuple[Principal, datetime | None]:
        row = session.get(ApiKey, key_id)
        failure = Unauthorized("unable to authenticate with provided API key credentials")
        if row is None or not hmac.compare_digest(row.key_hash, _hash_secret(secret)):
            raise failure
        if row.invalidated_at is not None or (row.expires_at is not None and row.expires_at <= utcnow()):
            raise failure
        owner = session.get(User, row.owner_id)
        if owner is None or not owner.enabled:
            raise failure
        principal = principal_for_user(owner, authentication_type="api_key", api_key_id=row.id, api_key_name=row.name)
        return principal, row.expires_at


def decode_basic_credentials(encoded: str) -> tuple[str, str]:
    """`base64(username:password)`."""
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("invalid Basic credentials") from exc
    if not sep:
        raise Unauthorized("invalid Basic credentials")
    return username, password


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def decode_api_key_credentials(encoded: str) -> tuple[str, str]:
    """`base64(id:api_key)` as Elasticsearch and Kibana accept it."""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("invalid ApiKey credentials: not base64 of id:api_key") from exc
    key_id, sep, secret = decoded.partition(":")
    if not sep or not key_id or not secret:
        raise Unauthorized("invalid ApiKey credentials: not base64 of id:api_key")
    return key_id, secret


_ID_ALPHABET = string.ascii_letters + string.digits


def new_api_key_id() -> str:
    """20 letters and digits, like Elasticsearch's ids; never starting with `-`, which a command
    line would read as an option (`vigil apikey invalidate -Ab...`)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


@dataclass(frozen=True)
class CreatedApiKey:
    row: ApiKey
    secret: str

    @property
    def encoded(self) -> str:
        return base64.b64encode(f"{self.row.id}:{self.secret}".encode()).decode()


def create_api_key(
    session: Session,
    owner_id: str,
    name: str,
    *,
    expiration: str | None = None,
    default_expiration: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> CreatedApiKey:
    if not name or len(name) > 255 or name != name.strip():
        raise BadRequest("Validation Failed: 1: api key name is required and must be 1 to 255 characters;")
    lifetime = expiration or default_expiration
    expires_at: datetime | None = utcnow() + parse_duration(lifetime) if lifetime else None
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        id=new_api_key_id(),
        name=name,
        key_hash=_hash_secret(secret),
        owner_id=owner_id,
        key_metadata=metadata or {},
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return CreatedApiKey(row=row, secret=secret)


def find_api_keys(
    session: Session,
    *,
    owner_id: str | None = None,
    key_ids: list[str] | None = None,
    name: str | None = None,
    owner_username: str | None = None,
    active_only: bool = False,
) -> list[tuple[ApiKey, User]]:
    query = select(ApiKey, User).join(User, User.id == ApiKey.owner_id).order_by(ApiKey.created_at)
    if owner_id is not None:
        query = query.where(ApiKey.owner_id == owner_id)
    if key_ids:
        query = query.where(ApiKey.id.in_(key_ids))
    if name:
        if "*" in name:
            query = query.where(
                ApiKey.name.like(name.replace("%", r"\%").replace("_", r"\_").replace("*", "%"), escape="\\")
            )
        else:
            query = query.where(ApiKey.name == name)
    if owner_username is not None:
        query = query.where(User.username == owner_username)
    rows = [(key, user) for key, user in session.execute(query).all()]
    if active_only:
        now = utcnow()
        rows = [
            (key, user)
            for key, user in rows
            if key.invalidated_at is None and (key.expires_at is None or key.expires_at > now)
        ]
    return rows


def invalidate_api_keys(session: Session, keys: list[ApiKey]) -> tuple[list[str], list[str]]:
    """Returns (invalidated now, already invalidated before), as Elasticsearch reports them."""
    invalidated, previously = [], []
    now = utcnow()
    for key in keys:
        if key.invalidated_at is not None:
            previously.append(key.id)
        else:
            key.invalidated_at = now
            invalidated.append(key.id)
    return invalidated, previously
