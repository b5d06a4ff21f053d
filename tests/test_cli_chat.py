"""`vigil chat` run as users run it: a subprocess talking HTTP to the live test server, which talks
to a scripted fake OpenAI provider through a `.gen-ai` connector."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.clients import CONVERSATIONS, fake_llm_connector
from tests.support.clients import TestUser as VigilUser
from tests.support.server import free_port
from vigil.chat.titles import TITLE_INSTRUCTIONS
from vigil.testing.fake_openai import FakeOpenAI, RecordedRequest, reply, status

VIGIL_CHAT = [sys.executable, "-m", "vigil", "chat"]


def chat_environment() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}, "COLUMNS": "200"}


def run_chat(
    base_url: str, user: VigilUser | None, *args: str, stdin: str = "", password: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = chat_environment()
    credentials = ["--user", user.username, "--password", password or user.password] if user else []
    return subprocess.run(
        [*VIGIL_CHAT, "--url", base_url, *credentials, *args],
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def turns(fake: FakeOpenAI) -> list[RecordedRequest]:
    """The provider requests of chat turns (not the background title requests)."""
    return [r for r in fake.chat_requests if TITLE_INSTRUCTIONS not in str(r.body["messages"][0].get("content"))]


def dialogue(request: RecordedRequest) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in request.body["messages"] if m["role"] != "system"]


def my_conversations(user: VigilUser) -> list[dict[str, Any]]:
    response = user.client.get(f"{CONVERSATIONS}/_find", params={"sort_field": "created_at", "sort_order": "asc"})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_one_shot_message_streams_and_persists(base_url, make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    fake.script(reply("Isolate the host, then collect memory."))
    result = run_chat(base_url, user, "--connector", connector_id, "--message", "First step for ransomware?")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Isolate the host, then collect memory."
    (sent,) = turns(fake)
    assert sent.body["stream"] is True  # streamed end to end
    assert dialogue(sent) == [("user", "First step for ransomware?")]
    (stored,) = my_conversations(user)
    assert [m["content"] for m in stored["messages"]] == [
        "First step for ransomware?",
        "Isolate the host, then collect memory.",
    ]
    assert stored["apiConfig"]["connectorId"] == connector_id


def test_no_stream_and_language(base_url, make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    fake.script(reply("Bonjour."))
    result = run_chat(
        base_url, user, "--connector", connector_id, "--no-stream", "--language", "French", "--message", "Hello"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Bonjour."
    (sent,) = turns(fake)
    assert "Always answer in French." in sent.body["messages"][0]["content"]


def test_interactive_turns_share_a_conversation_and_list_shows_it(
    base_url, make_user, fake: FakeOpenAI, connector_id: str
) -> None:
    user = make_user("editor")
    result = run_chat(
        base_url, user, "--connector", connector_id, stdin="host-7 is beaconing\n\nwhat next?\n/quit\nnever sent\n"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Default fake answer") == 2
    assert "you> " in result.stdout
    first, second = turns(fake)
    assert dialogue(first) == [("user", "host-7 is beaconing")]
    assert dialogue(second) == [
        ("user", "host-7 is beaconing"),
        ("assistant", "Default fake answer"),
        ("user", "what next?"),
    ]
    (stored,) = my_conversations(user)
    assert len(stored["messages"]) == 4

    listing = run_chat(base_url, user, "--list")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    row = next(line for line in listing.stdout.splitlines() if stored["id"] in line)
    assert "4" in row.replace(stored["id"], "")
    assert "1 conversation(s)" in listing.stdout


def test_new_starts_another_conversation_and_slash_list(
    base_url, make_user, fake: FakeOpenAI, connector_id: str
) -> None:
    user = make_user("editor")
    result = run_chat(base_url, user, "--connector", connector_id, stdin="one\n/new\ntwo\n/list\n/help\n")
    assert result.returncode == 0, result.stdout + result.stderr
    _, second = turns(fake)
    assert dialogue(second) == [("user", "two")]  # no history from the first conversation
    stored = my_conversations(user)
    assert [[m["content"] for m in c["messages"]] for c in stored] == [
        ["one", "Default fake answer"],
        ["two", "Default fake answer"],
    ]
    assert all(c["id"] in result.stdout for c in stored)  # /list
    assert "/resume ID" in result.stdout  # /help


def test_resume_with_option_and_slash_command(base_url, make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    history = [
        {"role": "user", "content": "host-7 is beaconing", "timestamp": "2024-01-01T00:00:00Z"},
        {"role": "assistant", "content": "Check its DNS logs.", "timestamp": "2024-01-01T00:00:01Z"},
    ]
    case = user.create_conversation("Case 42", messages=history)
    fake.script(reply("Then block the domain."))
    result = run_chat(
        base_url, user, "--connector", connector_id, "--conversation", case["id"], "--message", "DNS shows evil.example"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Then block the domain."  # one-shot: the answer alone
    assert dialogue(turns(fake)[-1]) == [
        ("user", "host-7 is beaconing"),
        ("assistant", "Check its DNS logs."),
        ("user", "DNS shows evil.example"),
    ]

    fake.script(reply("Quarantine it."))
    result = run_chat(base_url, user, "--connector", connector_id, "--conversation", case["id"], stdin="/quit\n")
    assert "Case 42" in result.stdout and "Check its DNS logs." in result.stdout  # the context, interactively

    result = run_chat(base_url, user, "--connector", connector_id, stdin=f"/resume {case['id']}\nand the host?\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Then block the domain." in result.stdout and "Quarantine it." in result.stdout
    assert dialogue(turns(fake)[-1])[-2:] == [("assistant", "Then block the domain."), ("user", "and the host?")]
    (stored,) = my_conversations(user)
    assert len(stored["messages"]) == 6

    missing = run_chat(base_url, user, "--connector", connector_id, stdin="/resume no-such-id\n/quit\n")
    assert missing.returncode == 0 and "no-such-id" in missing.stdout


def test_provider_fault_ends_the_turn_with_an_error_line(
    base_url, make_user, fake: FakeOpenAI, connector_id: str
) -> None:
    user = make_user("editor")
    fake.script(status(500), status(500))
    result = run_chat(base_url, user, "--connector", connector_id, "--message", "hello?")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip() == "The LLM provider failed (server error) after retries."
    assert len(turns(fake)) == 2  # the server retried once, then gave up
    (stored,) = my_conversations(user)
    assert stored["messages"][-1]["isError"] is True

    # Interactive: the error ends the turn, not the session.
    fake.script(status(500), status(500), reply("Recovered."))
    result = run_chat(base_url, user, "--connector", connector_id, stdin="first\nsecond\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Recovered." in result.stdout


def test_wrong_password_is_a_clear_401(base_url, make_user) -> None:
    user = make_user("editor")
    result = run_chat(base_url, user, "--message", "hi", password="not-the-password")
    assert result.returncode == 1
    assert "check --user/--password or --api-key" in result.stderr


def test_connection_refused_tells_how_to_start_the_server(make_user) -> None:
    result = run_chat(f"http://127.0.0.1:{free_port()}", None, "--message", "hi")
    assert result.returncode == 1
    assert "vigil serve" in result.stderr and "cannot connect" in result.stderr


def test_unknown_connector_lists_the_available_ones(base_url, make_user, connector_id: str) -> None:
    user = make_user("editor")
    result = run_chat(base_url, user, "--connector", "no-such-connector", "--message", "hi")
    assert result.returncode == 1
    assert "no-such-connector" in result.stderr and connector_id in result.stderr


def test_forbidden_message_from_kibanas_envelope(base_url, make_user, connector_id: str) -> None:
    user = make_user("viewer")
    result = run_chat(base_url, user, "--connector", connector_id, "--message", "hi")
    assert result.returncode == 1
    assert "unauthorized" in result.stderr.lower() or "forbidden" in result.stderr.lower(), result.stderr


@pytest.fixture
def slow_connector_id(admin: httpx.Client) -> Iterator[str]:
    """A provider that writes one word every 0.2 s: long enough to watch, and to interrupt."""
    words = " ".join(f"w{i}" for i in range(1, 101))
    with FakeOpenAI(default_text=words, token_delay=0.2) as slow:
        yield fake_llm_connector(admin, slow.base_url, api_key="sk-slow")


class Output:
    """Everything a subprocess writes to stdout, as it arrives."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.text = ""
        self._process = process
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        while chunk := self._process.stdout.read1(4096):  # type: ignore[attr-defined]
            self.text += chunk.decode(errors="replace")

    def wait_for(self, fragment: str, after: int = 0, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while (index := self.text.find(fragment, after)) < 0:
            assert time.monotonic() < deadline, f"{fragment!r} not in {self.text!r}"
            time.sleep(0.02)
        return index + len(fragment)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_tokens_stream_and_ctrl_c_stops_the_answer(base_url, make_user, slow_connector_id) -> None:
    connector = slow_connector_id
    user = make_user("editor")
    process = subprocess.Popen(
        [
            *VIGIL_CHAT,
            "--url",
            base_url,
            "--user",
            user.username,
            "--password",
            user.password,
            "--connector",
            connector,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=chat_environment(),
        # A suite started in the background of a shell without job control inherits SIGINT
        # ignored, and Python then installs no KeyboardInterrupt handler: give the child Ctrl-C back.
        preexec_fn=_default_sigint,
    )
    try:
        output = Output(process)
        assert process.stdin is not None
        process.stdin.write(b"count to a hundred\n")
        process.stdin.flush()
        # The first words are on the terminal while the provider is still writing the rest.
        position = output.wait_for(" w3")
        assert "w100" not in output.text and process.poll() is None
        process.send_signal(signal.SIGINT)  # Ctrl-C during the answer: stops it, back to the prompt
        position = output.wait_for("(answer interrupted)", position)
        output.wait_for("you> ", position)
        assert process.poll() is None
        process.send_signal(signal.SIGINT)  # Ctrl-C at the prompt: leaves
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert "w100" not in output.text

    # The server kept what had been written, marked as cut short.
    deadline = time.monotonic() + 20
    while True:
        (stored,) = my_conversations(user)
        if len(stored["messages"]) == 2:
            break
        assert time.monotonic() < deadline, stored
        time.sleep(0.1)
    last = stored["messages"][-1]
    assert last["isError"] is True and last["content"].startswith("w1 w2")


def test_api_key_and_space(base_url, make_user, fake: FakeOpenAI, connector_id: str) -> None:
    user = make_user("editor")
    in_default = user.create_conversation("default space one")
    in_soc = user.create_conversation("soc space one", space="soc")
    created = user.client.post("/_security/api_key", json={"name": "cli"})
    assert created.status_code == 200, created.text
    key = ["--api-key", created.json()["encoded"]]

    listing = run_chat(base_url, None, *key, "--space", "soc", "--list")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    assert in_soc["id"] in listing.stdout and in_default["id"] not in listing.stdout

    # A conversation of another space is not found: Kibana's 404 message, printed plainly.
    resumed = run_chat(
        base_url, None, *key, "--space", "soc", "--connector", "vigil-local", "--conversation", in_default["id"]
    )
    assert resumed.returncode == 1
    assert in_default["id"] in resumed.stderr and "Traceback" not in resumed.stderr

    fake.script(reply("Answered with a key."))
    answered = run_chat(
        base_url, None, *key, "--connector", connector_id, "--conversation", in_default["id"], "--message", "hi"
    )
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert answered.stdout.strip() == "Answered with a key."
    assert fake.chat_requests[0].body["messages"][-1]["content"] == "hi"


def test_bad_api_key_is_a_clear_401(base_url) -> None:
    result = run_chat(base_url, None, "--api-key", "bm90OmFrZXk=", "--list")
    assert result.returncode == 1
    assert "check --user/--password or --api-key" in result.stderr
