"""The anonymizer: policy, documents, free text, detectors, and their properties."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.anonymization import (
    ALL_DETECTORS,
    DEFAULT_FIELD_RULES,
    Anonymizer,
    DetectorSet,
    FieldPolicy,
    FieldRule,
)


def render_data(data: Mapping[str, Any]) -> str:
    """Kibana's CONTEXT block lines (`field,value`, lists joined with commas), as chat renders them."""
    return "\n".join(
        f"{field},{','.join(v if isinstance(v, str) else json.dumps(v) for v in values)}"
        for field, values in sorted(data.items())
    )


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def counter_factory(prefix: str = "PH") -> Any:
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers):04d}"


def policy(**fields: str) -> FieldPolicy:
    """policy(host__name="anon", message="allow") with `__` for dots."""
    return FieldPolicy.from_rules(
        FieldRule(name.replace("__", "."), allowed=True, anonymized=kind == "anon") for name, kind in fields.items()
    )


NO_DETECTORS = DetectorSet(())


# -- policy ------------------------------------------------------------------------------------


def test_deny_by_default_and_patterns() -> None:
    p = FieldPolicy.from_rules(
        [
            FieldRule("threat.*", True, False),
            FieldRule("threat.secret.*", False, False),
            FieldRule("threat.technique.id", True, True),
        ]
    )
    assert not p.is_allowed("host.name")
    assert not p.is_allowed("threat")
    assert p.is_allowed("threat.tactic.name") and not p.is_anonymized("threat.tactic.name")
    assert not p.is_allowed("threat.secret.x")  # longest pattern wins
    assert p.is_anonymized("threat.technique.id")  # exact rule wins over patterns


def test_overrides_make_fields_allowed_and_anonymized() -> None:
    p = FieldPolicy.default()
    assert not p.is_allowed("agent.name")
    assert p.is_allowed("process.name") and not p.is_anonymized("process.name")
    q = p.with_overrides(["agent.name", "process.name"])
    assert q.is_anonymized("agent.name") and q.is_anonymized("process.name")
    assert not p.is_allowed("agent.name")  # the original is unchanged
    assert p.with_overrides([]) is p


def test_anonymized_but_not_allowed_is_not_sent() -> None:
    p = FieldPolicy.from_rules([FieldRule("host.name", allowed=False, anonymized=True)])
    assert not p.is_anonymized("host.name")
    assert Anonymizer().anonymize_document({"host": {"name": "web-3"}}, p) == {}


def test_default_rules_are_a_plain_tuple() -> None:
    assert isinstance(DEFAULT_FIELD_RULES, tuple)
    assert all(isinstance(r, FieldRule) for r in DEFAULT_FIELD_RULES)
    p = FieldPolicy.default()
    for field in ("host.name", "user.name", "source.ip", "related.hosts", "cloud.account.id"):
        assert p.is_anonymized(field), field
    for field in ("message", "url.domain", "kibana.alert.rule.threat.tactic.id", "threat.technique.name"):
        assert p.is_allowed(field) and not p.is_anonymized(field), field


# -- documents ---------------------------------------------------------------------------------


def test_nested_and_dotted_documents_multi_values_and_numbers() -> None:
    a = Anonymizer(detectors=NO_DETECTORS, placeholder_factory=counter_factory())
    p = policy(host__name="anon", host__ip="anon", user__id="anon", process__pid="allow", event__action="allow")
    out = a.anonymize_document(
        {
            "host": {"name": "web-3", "ip": ["10.0.0.1", "fe80::1"]},
            "host.name": "web-4",
            "user": {"id": 1001},
            "process.pid": 42,
            "event": {"action": "exec", "secret": "nope"},
            "agent": {"name": "web-3"},
        },
        p,
    )
    assert out == {
        "host.name": ["PH0001", "PH0004"],
        "host.ip": ["PH0002", "PH0003"],
        "user.id": ["PH0005"],
        "process.pid": [42],
        "event.action": ["exec"],
    }
    assert a.replacements["PH0005"] == "1001"  # an anonymized number becomes a string placeholder
    assert a.new_replacements == a.replacements


def test_objects_inside_lists_are_flattened() -> None:
    a = Anonymizer(detectors=NO_DETECTORS, placeholder_factory=counter_factory())
    out = a.anonymize_document(
        {"threat": {"technique": [{"id": "T1059"}, {"id": "T1105"}]}},
        FieldPolicy.default(),
    )
    assert out == {"threat.technique.id": ["T1059", "T1105"]}


def test_null_bool_and_empty_values() -> None:
    a = Anonymizer(detectors=NO_DETECTORS, placeholder_factory=counter_factory())
    out = a.anonymize_document(
        {"h": None, "b": True, "e": "", "m": ""}, policy(h="anon", b="allow", e="anon", m="allow")
    )
    assert out == {"h": [None], "b": [True], "e": [""], "m": [""]}
    assert a.replacements == {}


def test_uuid_placeholders_by_default() -> None:
    a = Anonymizer()
    out = a.anonymize_document({"user": {"name": "alice"}}, FieldPolicy.default())
    assert UUID_RE.match(out["user.name"][0])


def test_stable_placeholders_across_calls_and_anonymizers() -> None:
    p = FieldPolicy.default()
    a = Anonymizer()
    first = a.anonymize_document({"host": {"name": "web-3"}, "user": {"name": "alice"}}, p)
    again = a.anonymize_document({"related": {"hosts": ["web-3"]}}, p)
    assert again["related.hosts"] == first["host.name"]
    b = Anonymizer(a.replacements)
    later = b.anonymize_document({"host": {"name": "web-3"}, "source": {"ip": "10.0.0.9"}}, p)
    assert later["host.name"] == first["host.name"]
    assert list(b.new_replacements.values()) == ["10.0.0.9"]
    assert set(b.replacements) == set(a.replacements) | set(b.new_replacements)


def test_free_text_fields_are_anonymized_with_known_values() -> None:
    a = Anonymizer(detectors=NO_DETECTORS, placeholder_factory=counter_factory())
    out = a.anonymize_document(
        {
            "host": {"name": "web-3.corp", "hostname": "web-3"},
            "user": {"name": "alice"},
            "message": "alice logged on to web-3.corp; web-3 is web-30's twin",
            "process": {"command_line": r"cmd /c dir C:\Users\alice\ && ssh alice@web-3"},
            "file": {"path": "/home/alice/.ssh/id_rsa"},
        },
        FieldPolicy.default(),
    )
    assert out["message"] == ["PH0003 logged on to PH0001; PH0002 is web-30's twin"]
    assert out["process.command_line"] == [r"cmd /c dir C:\Users\PH0003\ && ssh PH0003@PH0002"]
    assert out["file.path"] == ["/home/PH0003/.ssh/id_rsa"]


def test_a_value_anonymized_anywhere_is_anonymized_everywhere() -> None:
    a = Anonymizer(detectors=NO_DETECTORS, placeholder_factory=counter_factory())
    out = a.anonymize_document(
        {"user": {"id": 1001}, "process": {"pid": 1001, "name": "bash"}, "message": "uid 1001"},
        FieldPolicy.default(),
    )
    assert out["process.pid"] == ["PH0001"]
    assert out["message"] == ["uid PH0001"]
    assert a.anonymize_text("question about 1001?") == "question about PH0001?"


def test_many_documents_at_once_match_one_by_one() -> None:
    docs = [{"host": {"name": f"host-{i}"}, "message": f"seen host-{(i + 1) % 5}"} for i in range(5)]
    batch = Anonymizer(detectors=NO_DETECTORS, placeholder_factory=counter_factory())
    outs = batch.anonymize_documents(docs, FieldPolicy.default())
    # host-0 is first named in the last message's predecessor order; every message is anonymized
    assert all(re.fullmatch(r"seen PH\d{4}", o["message"][0]) for o in outs)
    assert outs[4]["message"] == ["seen PH0001"]


def test_rendered_context_has_no_original() -> None:
    a = Anonymizer()
    doc = {"host": {"name": "web-3"}, "message": "login on web-3", "event": {"action": "logon"}}
    rendered = render_data(a.anonymize_document(doc, FieldPolicy.default()))
    assert "web-3" not in rendered and "event.action,logon" in rendered


# -- free text ---------------------------------------------------------------------------------


def make(values: dict[str, str], **kwargs: Any) -> Anonymizer:
    return Anonymizer(values, detectors=NO_DETECTORS, **kwargs)


def test_boundaries() -> None:
    a = make({"P1": "web", "P2": "10.0.0.1", "P3": "alice"})
    assert a.anonymize_text("web-3 webby web_x aweb") == "web-3 webby web_x aweb"
    assert a.anonymize_text("web web.corp (web) web:80 /web/ web.") == "P1 P1.corp (P1) P1:80 /P1/ P1."
    assert a.anonymize_text("10.0.0.10 110.0.0.1 10.0.0.1:443 10.0.0.1.") == "10.0.0.10 110.0.0.1 P2:443 P2."
    assert a.anonymize_text("alice@corp.com alice-laptop") == "P3@corp.com alice-laptop"
    assert a.anonymize_text("élice alicé alice") == "élice alicé P3"


def test_short_values_only_as_whole_fields() -> None:
    a = make({"P1": "a", "P2": "ab", "P3": "abc"})
    assert a.anonymize_text("a cat ab abc") == "a cat ab P3"
    assert set(a.short_values) == {"P1", "P2"}
    out = a.anonymize_document(
        {"host": {"name": "a"}, "message": "a", "process": {"name": "ab"}}, FieldPolicy.default()
    )
    assert out == {"host.name": ["P1"], "message": ["P1"], "process.name": ["P2"]}
    b = make({"P1": "a"}, min_free_text_length=1)
    assert b.anonymize_text("a cat") == "P1 cat"
    assert b.short_values == ()


def test_longest_value_first() -> None:
    a = make({"P1": "srv-1", "P2": "srv-1.corp", "P3": "corp"})
    assert a.anonymize_text("srv-1.corp srv-1 corp srv-1.corpx") == "P2 P1 P3 P1.corpx"
    # the same when the longer value is added after the matcher was compiled
    b = make({"P1": "srv-1"}, placeholder_factory=counter_factory("N"))
    assert b.anonymize_text("srv-1.corp") == "P1.corp"
    b.placeholder_for("srv-1.corp")
    assert b.anonymize_text("srv-1.corp srv-1") == "N0001 P1"
    # and when the shorter one is new
    c = make({"P2": "srv-1.corp"}, placeholder_factory=counter_factory("N"))
    c.placeholder_for("srv-1")
    assert c.anonymize_text("srv-1.corp srv-1") == "P2 N0001"


def test_every_new_value_is_found_at_once() -> None:
    a = make({}, placeholder_factory=counter_factory())
    for i in range(500):
        a.placeholder_for(f"host-{i}")
        assert a.anonymize_text(f"x host-{i} y") == f"x PH{i + 1:04d} y"
    assert a.anonymize_text("host-0 host-250 host-499") == "PH0001 PH0251 PH0500"


def test_case_sensitive_except_emails() -> None:
    a = make({"P1": "Alice", "P2": "Bob@Corp.com"})
    assert a.anonymize_text("Alice alice ALICE") == "P1 alice ALICE"
    assert a.anonymize_text("bob@corp.com BOB@CORP.COM") == "P2 P2"
    assert a.deanonymize_text("P2") == "Bob@Corp.com"
    assert a.placeholder_for("bob@corp.COM") == "P2"


def test_placeholders_are_not_anonymized_again() -> None:
    a = Anonymizer(detectors=DetectorSet(ALL_DETECTORS))
    text = a.anonymize_text("alice password=hunter2x on 10.0.0.1 token ghp_" + "A1b2" * 9)
    assert a.anonymize_text(text) == text
    assert all(p not in a.replacements.values() for p in a.replacements)
    # a placeholder used as a value maps to itself
    p = a.placeholder_for("web-3")
    assert a.placeholder_for(p) == p


def test_placeholders_never_collide_with_values() -> None:
    values = iter(["web-3", "web-3", "PH2"])
    a = make({"PH1": "web-3"}, placeholder_factory=lambda: next(values))
    assert a.placeholder_for("PH9") == "PH2"  # "web-3" is a known value, so not a placeholder


def test_placeholders_must_be_tokens() -> None:
    a = make({}, placeholder_factory=lambda: "<x y>")
    with pytest.raises(ValueError, match="single tokens"):
        a.placeholder_for("web-3")


def test_deanonymize() -> None:
    a = make({"P1": "web-3", "P2": "10.0.0.1"})
    assert a.deanonymize_text("P1 onP2, xP1x") == "web-3 on10.0.0.1, xweb-3x"
    assert make({}).deanonymize_text("nothing") == "nothing"


# -- detectors ---------------------------------------------------------------------------------

SAMPLES = {
    "email": ("mail bob.smith+x@example.co.uk now", "bob.smith+x@example.co.uk"),
    "ipv4": ("from 192.168.10.20:22.", "192.168.10.20"),
    "ipv6": ("from 2001:db8::8a2e:370:7334 ok", "2001:db8::8a2e:370:7334"),
    "mac": ("nic 00:1A:2b:3C:4d:5E up", "00:1A:2b:3C:4d:5E"),
    "credit_card": ("card 4111 1111 1111 1111 ok", "4111 1111 1111 1111"),
    "secret": ("key AKIAIOSFODNN7EXAMPLE ok", "AKIAIOSFODNN7EXAMPLE"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_detector_on_and_off(name: str) -> None:
    text, value = SAMPLES[name]
    on = Anonymizer(detectors=DetectorSet([name]), placeholder_factory=counter_factory())
    assert on.anonymize_text(text) == text.replace(value, "PH0001")
    assert on.new_replacements == {"PH0001": value}
    others = [n for n in ALL_DETECTORS if n != name]
    off = Anonymizer(detectors=DetectorSet(others), placeholder_factory=counter_factory())
    assert off.anonymize_text(text) == text


def test_default_detectors_are_secrets_only() -> None:
    assert DetectorSet().enabled == ("secret",)
    a = Anonymizer(placeholder_factory=counter_factory())
    text = "bob@example.com 10.1.2.3 4111111111111111"
    assert a.anonymize_text(text) == text
    with pytest.raises(ValueError, match="unknown detector"):
        DetectorSet(["phone"])


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("ghp_" + "aB3" * 12, "ghp_" + "aB3" * 12),
        ("github_pat_" + "x1Y2" * 6, "github_pat_" + "x1Y2" * 6),
        ("xoxb-123456789012-abcdefABCDEF", "xoxb-123456789012-abcdefABCDEF"),
        ("sk-proj-abcdefghij0123456789ABCD", "sk-proj-abcdefghij0123456789ABCD"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----",
        ),
        ("mysql -u root password=Sup3rS3cret!", "Sup3rS3cret!"),
        ('{"api_key": "abcd1234efgh"}', "abcd1234efgh"),
        ("Authorization: Bearer Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"),
    ],
)
def test_secret_shapes(text: str, secret: str) -> None:
    a = Anonymizer(placeholder_factory=counter_factory())
    out = a.anonymize_text(f"see {text} end")
    assert secret not in out and "PH0001" in out
    assert a.deanonymize_text(out) == f"see {text} end"


@pytest.mark.parametrize(
    "text",
    [
        "password=**** and token=${TOKEN}",
        "token aaaaaaaaaaaaaaaaaaaaaaaaaaaa",  # low entropy
        "card 4111 1111 1111 1112",  # fails Luhn
        "version 1.2.3.4.5 and 999.1.1.1",
        "time 12:30:45",
    ],
)
def test_no_false_positives(text: str) -> None:
    a = Anonymizer(detectors=DetectorSet(ALL_DETECTORS))
    assert a.anonymize_text(text) == text


def test_detected_values_are_then_known_everywhere() -> None:
    a = Anonymizer(detectors=DetectorSet(["email"]), placeholder_factory=counter_factory())
    assert a.anonymize_text("from eve@example.org") == "from PH0001"
    out = a.anonymize_document(
        {"message": "reply to eve@example.org", "event": {"action": "eve@example.org"}}, FieldPolicy.default()
    )
    assert out == {"message": ["reply to PH0001"], "event.action": ["PH0001"]}


# -- properties --------------------------------------------------------------------------------

TOKEN_ALPHABET = "abcxyz019-_"
values_st = st.lists(st.text(TOKEN_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=8, unique=True)
filler_st = st.text("abcxyz019-_ .,:/@\n", max_size=20)


@st.composite
def text_with_values(draw: st.DrawFn) -> tuple[list[str], str]:
    values = draw(values_st)
    pieces = draw(st.lists(st.one_of(filler_st, st.sampled_from(values)), max_size=12))
    return values, "".join(pieces)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(text_with_values())
def test_round_trip_and_idempotence(case: tuple[list[str], str]) -> None:
    values, text = case
    a = Anonymizer(detectors=NO_DETECTORS)
    for value in values:
        a.placeholder_for(value)
    once = a.anonymize_text(text)
    assert a.deanonymize_text(once) == text
    assert a.anonymize_text(once) == once


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(text_with_values())
def test_idempotence_with_all_detectors(case: tuple[list[str], str]) -> None:
    values, text = case
    a = Anonymizer(detectors=DetectorSet(ALL_DETECTORS))
    for value in values:
        a.placeholder_for(value)
    once = a.anonymize_text(text + " password=" + text.replace(" ", "") + "x1y2")
    assert a.anonymize_text(once) == once


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    hosts=st.lists(st.text("abcdefgh0123-", min_size=3, max_size=10), min_size=1, max_size=4, unique=True),
    users=st.lists(st.text("ijklmnop4567_", min_size=3, max_size=10), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_no_anonymized_value_leaks(hosts: list[str], users: list[str], data: st.DataObject) -> None:
    def free_text() -> str:
        parts = data.draw(st.lists(st.sampled_from([*hosts, *users, " ", "/", "@", ".", ":", "\\", "\n"]), max_size=12))
        return "".join(parts)

    document: dict[str, Any] = {
        "host": {"name": data.draw(st.sampled_from(hosts)), "hostname": hosts},
        "user": {"name": data.draw(st.sampled_from(users))},
        "related.user": users,
        "message": free_text(),
        "process": {"command_line": free_text(), "args": [free_text(), free_text()]},
        "kibana": {"alert": {"reason": free_text()}},
    }
    a = Anonymizer()
    out = a.anonymize_document(document, FieldPolicy.default())
    rendered = render_data(out)
    token = re.compile(r"[\w-]+")
    for value in [*hosts, *users]:
        for field_values in out.values():
            for v in field_values:
                assert value not in token.findall(str(v)), (value, v)
        assert value not in token.findall(rendered)
    restored = {k: [a.deanonymize_text(v) for v in vs] for k, vs in out.items()}
    assert restored["message"] == [document["message"]]


# -- placeholders ------------------------------------------------------------------------------


def test_uuid_placeholders_are_random_uuid4_strings() -> None:
    import uuid

    from vigil.anonymization import uuid_placeholder

    made = [uuid_placeholder() for _ in range(1000)]  # several blocks of random bytes
    assert len(set(made)) == len(made)
    for placeholder in made:
        parsed = uuid.UUID(placeholder)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, placeholder)
    assert len({p[19] for p in made}) == 4  # all four variant digits occur (8, 9, a, b)


def test_a_forked_process_does_not_repeat_its_parents_placeholders() -> None:
    import os

    from vigil.anonymization import uuid_placeholder

    uuid_placeholder()  # the parent has a block of random bytes in hand
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(write, uuid_placeholder().encode())
        os._exit(0)
    os.close(write)
    from_child = os.read(read, 100).decode()
    os.waitpid(child, 0)
    os.close(read)
    assert UUID_RE.match(from_child)
    assert from_child != uuid_placeholder()
