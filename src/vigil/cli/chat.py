"""`vigil chat`: an interactive terminal chat against a running Vigil server.

It speaks only Vigil's (Kibana-compatible) HTTP API, never the database, so it works against
any server the user can reach, with the same users, roles, spaces and API keys as the web UI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

DEFAULT_URL = "http://127.0.0.1:5601"
DEFAULT_CONNECTOR = "vigil-local"
HEADERS = {"elastic-api-version": "2023-10-31", "kbn-xsrf": "vigil-cli"}
CONVERSATIONS = "/api/security_ai_assistant/current_user/conversations"
CHAT = "/api/security_ai_assistant/chat/complete"
CONNECTORS = "/api/actions/connectors"
NEW_TITLE = "New chat"  # the server writes a real title after the first answer
RESUME_SHOWN = 6  # messages printed when resuming a conversation

HELP = """commands:
  /new         start a new conversation
  /list        list your recent conversations
  /resume ID   continue conversation ID (shows its last messages)
  /help        this help
  /quit        leave (Ctrl-D works too)
Ctrl-C stops an answer being written; at the prompt it leaves."""

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class ApiError(Exception):
    """A non-2xx answer; `message` is Kibana's envelope message when there is one."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class Fatal(Exception):
    """An error after which the command cannot go on (exit code 1)."""


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    text = response.text.strip()
    return text[:500] if text else response.reason_phrase or f"HTTP {response.status_code}"


@dataclass
class VigilClient:
    """The few calls the chat needs, with Kibana's headers, auth and space prefix."""

    url: str
    auth: httpx.Auth | tuple[str, str] | None = None
    api_key: str | None = None
    space: str | None = None
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        headers = dict(HEADERS)
        if self.api_key:
            headers["Authorization"] = f"ApiKey {self.api_key}"
        prefix = f"/s/{self.space}" if self.space and self.space != "default" else ""
        self.http = httpx.Client(
            base_url=self.url.rstrip("/") + prefix,
            auth=None if self.api_key else self.auth,
            headers=headers,
            # Answers are streamed and a slow local model may think for a while between tokens.
            timeout=httpx.Timeout(30.0, read=600.0),
        )

    def close(self) -> None:
        self.http.close()

    def _check(self, response: httpx.Response) -> None:
        if response.status_code == 401:
            raise Fatal("authentication failed (401): check --user/--password or --api-key")
        if response.status_code >= 400:
            response.read()
            raise ApiError(response.status_code, _error_message(response))

    def _connect_error(self, exc: httpx.TransportError) -> Fatal:
        if isinstance(exc, httpx.ConnectError):
            return Fatal(
                f"cannot connect to Vigil at {self.url} ({exc}); start the server with `vigil serve` "
                "or point --url / VIGIL_URL at a running one"
            )
        return Fatal(f"lost the connection to Vigil at {self.url}: {exc}")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._connect_error(exc) from exc
        self._check(response)
        return response.json() if response.content else None

    def connectors(self) -> list[dict[str, Any]]:
        return list(self.request("GET", CONNECTORS))

    def find_conversations(self, per_page: int = 20) -> dict[str, Any]:
        params = {"sort_field": "updated_at", "sort_order": "desc", "per_page": per_page}
        return dict(self.request("GET", f"{CONVERSATIONS}/_find", params=params))

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"{CONVERSATIONS}/{conversation_id}"))

    def create_conversation(self, connector: dict[str, Any]) -> str:
        body = {
            "title": NEW_TITLE,
            "apiConfig": {"connectorId": connector["id"], "actionTypeId": connector["connector_type_id"]},
        }
        return str(self.request("POST", CONVERSATIONS, json=body)["id"])

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", CHAT, json=body))

    def stream(self, body: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """The NDJSON lines of a streamed answer; closing the generator closes the stream."""
        try:
            with self.http.stream("POST", CHAT, json=body) as response:
                self._check(response)
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                    except ValueError:
                        yield {"type": "error", "payload": f"unreadable line in the answer stream: {line[:200]}"}
                        return
                    if isinstance(item, dict):
                        yield item
        except httpx.TransportError as exc:
            raise self._connect_error(exc) from exc


def _updated(document: dict[str, Any]) -> str:
    stamp = str(document.get("updatedAt") or document.get("createdAt") or "")
    return stamp.replace("T", " ")[:19]


def print_conversations(client: VigilClient) -> None:
    found = client.find_conversations()
    table = Table("id", "title", "updated", "messages", title=f"{found.get('total', 0)} conversation(s)")
    for item in found.get("data") or []:
        table.add_row(
            str(item.get("id", "")),
            escape(str(item.get("title", ""))),
            _updated(item),
            str(len(item.get("messages") or [])),
        )
    console.print(table)


def print_messages(document: dict[str, Any], count: int = RESUME_SHOWN) -> None:
    messages = document.get("messages") or []
    console.print(
        f"[bold]{escape(str(document.get('title', '')))}[/bold] "
        f"({len(messages)} messages, id {escape(str(document.get('id', '')))})"
    )
    if len(messages) > count:
        console.print(f"[dim]... {len(messages) - count} earlier messages[/dim]")
    for message in messages[-count:]:
        role = "you" if message.get("role") == "user" else str(message.get("role", "?"))
        style = "red" if message.get("isError") else ("cyan" if role == "you" else "green")
        console.print(f"[{style}]{role}>[/{style}] {escape(str(message.get('content') or ''))}")


@dataclass
class ChatSession:
    client: VigilClient
    connector: dict[str, Any]
    stream: bool = True
    language: str | None = None
    conversation_id: str | None = None

    def resume(self, conversation_id: str, show: bool = True) -> None:
        document = self.client.conversation(conversation_id)
        self.conversation_id = str(document["id"])
        if show:
            print_messages(document)

    def send(self, text: str) -> bool:
        """One turn; False when it ended in an error."""
        # The streamed answer does not carry the conversation id, and finding "my newest
        # conversation" afterwards races with any other session of the same user (the web UI,
        # another terminal). So a new conversation is created up front, on the first message
        # (not on /new, so no empty conversations pile up), and its id is passed on every turn.
        if self.conversation_id is None:
            self.conversation_id = self.client.create_conversation(self.connector)
        body: dict[str, Any] = {
            "connectorId": self.connector["id"],
            "persist": True,
            "isStream": self.stream,
            "messages": [{"role": "user", "content": text}],
            "conversationId": self.conversation_id,
        }
        if self.language:
            body["responseLanguage"] = self.language
        if not self.stream:
            try:
                answer = self.client.complete(body)
            except ApiError as exc:
                err_line(exc.message)
                return False
            sys.stdout.write(str(answer.get("data", "")) + "\n")
            sys.stdout.flush()
            return True
        return self._stream(body)

    def _stream(self, body: dict[str, Any]) -> bool:
        lines = self.client.stream(body)
        wrote = False
        try:
            for item in lines:
                if item.get("type") == "error":
                    if wrote:
                        sys.stdout.write("\n")
                        sys.stdout.flush()
                    err_line(str(item.get("payload", "")))
                    return False
                payload = str(item.get("payload", ""))
                sys.stdout.write(payload)
                sys.stdout.flush()
                wrote = wrote or bool(payload)
        except ApiError as exc:
            err_line(exc.message)
            return False
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            console.print("[yellow](answer interrupted)[/yellow]")
            return False
        finally:
            lines.close()  # closes the HTTP stream: the server stops the turn and keeps what it had
        sys.stdout.write("\n")
        sys.stdout.flush()
        return True

    def command(self, line: str) -> bool:
        """A slash command; False to leave."""
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name in ("/quit", "/exit"):
            return False
        if name == "/help":
            console.print(escape(HELP))
        elif name == "/new":
            self.conversation_id = None
            console.print("[dim]new conversation (created with your next message)[/dim]")
        elif name == "/list":
            print_conversations(self.client)
        elif name == "/resume":
            if not argument:
                err_line("usage: /resume ID")
            else:
                self.resume(argument)
        else:
            err_line(f"unknown command {name}; /help lists them")
        return True

    def loop(self) -> None:
        while True:
            try:
                line = input("you> ")
            except EOFError:
                sys.stdout.write("\n")
                return
            text = line.strip()
            if not text:
                continue
            try:
                if text.startswith("/"):
                    if not self.command(text):
                        return
                else:
                    sys.stdout.write("vigil> ")
                    self.send(text)
            except ApiError as exc:
                err_line(exc.message)


def err_line(message: str) -> None:
    # Errors go to stdout, in red, so they stay in order with the answer they interrupt.
    console.print(f"[red]{escape(message)}[/red]", soft_wrap=True)


def fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code=1)


def resolve_connector(client: VigilClient, connector_id: str) -> dict[str, Any]:
    connectors = client.connectors()
    for connector in connectors:
        if connector.get("id") == connector_id:
            return connector
    available = ", ".join(f"{c.get('id')} ({c.get('name')}, {c.get('connector_type_id')})" for c in connectors)
    raise Fatal(f"connector [{connector_id}] not found; available: {available or 'none'}")


def chat(
    url: Annotated[str, typer.Option(envvar="VIGIL_URL", help="Vigil server.")] = DEFAULT_URL,
    user: Annotated[str | None, typer.Option(envvar=["VIGIL_USER", "VIGIL_ADMIN_USERNAME"], help="Username.")] = None,
    password: Annotated[
        str | None, typer.Option(envvar=["VIGIL_PASSWORD", "VIGIL_ADMIN_PASSWORD"], help="Password.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="VIGIL_API_KEY", help="Encoded API key (instead of user/password).")
    ] = None,
    space: Annotated[str | None, typer.Option(help="Kibana space (default: the default space).")] = None,
    connector: Annotated[str, typer.Option(help="Connector id.")] = DEFAULT_CONNECTOR,
    conversation: Annotated[str | None, typer.Option(help="Resume this conversation.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List your recent conversations and exit.")] = False,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print whole answers, not tokens.")] = False,
    message: Annotated[str | None, typer.Option(help="Send one message, print the answer, exit.")] = None,
    language: Annotated[str | None, typer.Option(help="Language of the answers, e.g. French.")] = None,
) -> None:
    """Chat with the assistant of a running Vigil server, in the terminal."""
    auth = (user, password) if user and password is not None else None
    if user and password is None and not api_key:
        fail("--password (or VIGIL_PASSWORD) is needed with --user")
    client = VigilClient(url, auth=auth, api_key=api_key, space=space)
    try:
        if list_:
            print_conversations(client)
            return
        session = ChatSession(client, resolve_connector(client, connector), stream=not no_stream, language=language)
        if conversation:
            # One-shot output is the answer alone, for scripts; interactively, a reminder of the context.
            session.resume(conversation, show=message is None)
        if message is not None:
            if not session.send(message):
                raise typer.Exit(code=1)
            return
        console.print(f"[dim]Vigil chat on {escape(url)} with connector {escape(connector)}; /help for commands[/dim]")
        session.loop()
    except Fatal as exc:
        fail(str(exc))
    except ApiError as exc:
        fail(exc.message)
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        raise typer.Exit(code=130) from None
    finally:
        client.close()
