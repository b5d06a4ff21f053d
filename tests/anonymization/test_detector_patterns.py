"""The detectors' expressions are written for speed; these are the same expressions written
plainly (lookbehind first), and property tests that both find exactly the same values."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.anonymization.detectors import _SECRET_SHAPES, _SHAPE_HINT, _SIMPLE

PLAIN = {
    "ipv4": re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)"),
    "credit_card": re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"),
}
# Numbers (ASCII and other scripts' digits), the separators the patterns care about, letters.
PIECES = ["1", "12", "255", "999", "1.2.3.4", "10.0.0.255", "4111 1111 1111 1111", "4111-1111-1111", "١٢"]
PIECES += [".", ".", "-", " ", ":", "x", "_", "@"]
text_st = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)


@pytest.mark.parametrize("name", sorted(PLAIN))
@settings(max_examples=1500, deadline=None)
@given(text=text_st)
def test_fast_expression_finds_what_the_plain_one_finds(name: str, text: str) -> None:
    fast, _, could_match = _SIMPLE[name]
    expected = [m.span() for m in PLAIN[name].finditer(text)]
    assert [m.span() for m in fast.finditer(text)] == expected
    if expected:
        assert could_match(text)


@pytest.mark.parametrize("name", ["email", "ipv6"])
@settings(max_examples=500, deadline=None)
@given(text=st.text("0123456789abcdef:.@xyz%", max_size=30))
def test_cheap_tests_never_skip_a_match(name: str, text: str) -> None:
    pattern, _, could_match = _SIMPLE[name]
    if pattern.search(text):
        assert could_match(text)


# Pieces of every vendor shape, cut where the hint cuts them, and text around them.
SECRET_PIECES = ["sk-", "k-", "s", "eyJ", "yJ", "e", "gh", "ghp_", "hp_", "github_pat_", "hub_pat_", "xox", "xoxb-"]
SECRET_PIECES += ["AKIA", "KIA", "-----BEGIN ", "PRIVATE KEY", "-----", "RSA ", "END ", "A", "0", "Ab9", "_", ".", " "]
SECRET_PIECES += ["ABCDEFGHIJKLMNOP", "abcdefghijklmnopqrstuvwxyz0123456789", "\n"]


@settings(max_examples=1500, deadline=None)
@given(text=st.lists(st.sampled_from(SECRET_PIECES), max_size=16).map("".join))
def test_the_secret_shape_hint_never_skips_a_match(text: str) -> None:
    if _SECRET_SHAPES.search(text):
        assert _SHAPE_HINT.search(text)
