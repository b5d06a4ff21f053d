"""The `vigil` command. Administrative commands work on the store directly, like
Elasticsearch's `elasticsearch-users`, so an operator locked out of the API can still get in."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from vigil.auth import service as auth
from vigil.db.engine import Database
from vigil.db.migrate import current_revision, head_revision, upgrade
from vigil.errors import VigilError
from vigil.settings import Settings

app = typer.Typer(help="Vigil: a self-hosted AI assistant for security and observability teams.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(db_app, name="db")

console = Console()


@contextmanager
def _store() -> Iterator[Database]:
    settings = Settings()
    database = Database(settings)
    try:
        if settings.auto_migrate:
            upgrade(database)
        elif current_revision(database) != head_revision():
            console.print("[red]error:[/red] the database schema is not current; run `vigil db upgrade`")
            raise typer.Exit(code=1)
        yield database
    except VigilError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=1) from exc
    finally:
        database.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 5601).")] = None,
) -> None:
    """Run the Vigil server."""
    import uvicorn

    from vigil.web.app import create_app

    overrides = {key: value for key, value in {"host": host, "port": port}.items() if value is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    console.print(f"Vigil listening on http://{settings.host}:{settings.port} (data in {settings.data_dir})")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
    )


def _password_from_prompt(password: str | None) -> str:
    if password:
        return password
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        console.print("[red]error:[/red] passwords differ")
        raise typer.Exit(code=1)
    return first


@user_app.command("create")
def user_create(
    username: str,
    password: Annotated[str | None, typer.Option(help="Prompted for when omitted.")] = None,
    role: Annotated[list[str], typer.Option("--role", "-r", help="Role (repeatable).")] = ["viewer"],  # noqa: B006
    full_name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user."""
    with _store() as database, database.session() as session:
        if auth.get_user(session, username) is not None:
            console.print(f"[red]error:[/red] user [{username}] already exists")
            raise typer.Exit(code=1)
        auth.put_user(
            session,
            username,
            password=_password_from_prompt(password),
            roles=role,
            full_name=full_name,
            email=email,
        )
    console.print(f"created user [bold]{username}[/bold] with roles {', '.join(role)}")


@user_app.command("list")
def user_list() -> None:
    """List users."""
    with _store() as database, database.session(readonly=True) as session:
        table = Table("username", "roles", "full name", "enabled")
        for user in auth.list_users(session):
            table.add_row(user.username, ", ".join(user.roles), user.full_name or "", str(user.enabled))
    console.print(table)


@user_app.command("delete")
def user_delete(username: str) -> None:
    """Delete a user (and their API keys)."""
    with _store() as database, database.session() as session:
        if not auth.delete_user(session, username):
            console.print(f"[red]error:[/red] user [{username}] not found")
            raise typer.Exit(code=1)
    console.print(f"deleted user [bold]{username}[/bold]")


@user_app.command("passwd")
def user_passwd(
    username: str, password: Annotated[str | None, typer.Option(help="Prompted for when omitted.")] = None
) -> None:
    """Set a user's password."""
    with _store() as database, database.session() as session:
        auth.set_password(session, username, _password_from_prompt(password))
    console.print(f"password of [bold]{username}[/bold] changed")


@apikey_app.command("create")
def apikey_create(
    user: Annotated[str, typer.Option(help="Owner of the key; it gets the owner's roles.")],
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")],
    expiration: Annotated[str | None, typer.Option(help="Lifetime such as 30d or 12h.")] = None,
) -> None:
    """Create an API key and print it once (use as `Authorization: ApiKey <encoded>`)."""
    settings = Settings()
    with _store() as database, database.session() as session:
        owner = auth.get_user(session, user)
        if owner is None:
            console.print(f"[red]error:[/red] user [{user}] not found")
            raise typer.Exit(code=1)
        created = auth.create_api_key(
            session,
            owner.id,
            name,
            expiration=expiration,
            default_expiration=settings.api_key_default_expiration,
        )
    console.print(f"id:      {created.row.id}\napi_key: {created.secret}\nencoded: {created.encoded}")


@apikey_app.command("list")
def apikey_list(user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None) -> None:
    """List API keys (never their secrets)."""
    with _store() as database, database.session(readonly=True) as session:
        table = Table("id", "name", "owner", "created", "expires", "invalidated")
        for key, owner in auth.find_api_keys(session, owner_username=user):
            table.add_row(
                key.id,
                key.name,
                owner.username,
                key.created_at.isoformat(timespec="seconds"),
                key.expires_at.isoformat(timespec="seconds") if key.expires_at else "never",
                "yes" if key.invalidated_at else "no",
            )
    console.print(table)


@apikey_app.command("invalidate")
def apikey_invalidate(key_id: str) -> None:
    """Invalidate an API key by id."""
    with _store() as database, database.session() as session:
        rows = auth.find_api_keys(session, key_ids=[key_id])
        if not rows:
            console.print(f"[red]error:[/red] API key [{key_id}] not found")
            raise typer.Exit(code=1)
        auth.invalidate_api_keys(session, [key for key, _ in rows])
    console.print(f"invalidated API key {key_id}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations."""
    database = Database(Settings())
    try:
        before = current_revision(database)
        upgrade(database)
        console.print(f"database at revision {current_revision(database)} (was {before or 'empty'})")
    finally:
        database.dispose()


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of this Vigil."""
    database = Database(Settings())
    try:
        console.print(f"database: {current_revision(database) or 'empty'}\nthis Vigil: {head_revision()}")
    finally:
        database.dispose()


from vigil.cli import chat as _chat  # noqa: E402

app.command("chat")(_chat.chat)

from vigil.cli import kb as _kb  # noqa: E402

app.add_typer(_kb.kb_app, name="kb")

from vigil.cli.demo import demo_app  # noqa: E402

app.add_typer(demo_app, name="demo")

from vigil.cli.ingest import ingest as _ingest  # noqa: E402

app.command("ingest")(_ingest)
