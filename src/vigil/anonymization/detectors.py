"""Detectors for sensitive values that no field names: secrets, e-mail addresses, IPs, MACs, cards.

Field rules only protect values Vigil knows about (an anonymized field's values). Detectors
catch what slips past them in free text: a token pasted in a question, an address in a log line.
Each detector is switchable; only `secret` is on by default ("on by default for secrets, each
switchable in config").

Names: `email`, `ipv4`, `ipv6`, `mac`, `credit_card`, `secret`.

## Why these are Vigil's own patterns and not Presidio's recognizers

Presidio (`presidio-analyzer` 2.2.366) was evaluated as the issue asked, in a clean venv with the
network blocked (`unshare -rn`):

- **Install size.** It requires spaCy, and with it thinc, blis, numpy, phonenumbers and more:
  about 390 MB of site-packages (spaCy 126 MB, phonenumbers 48 MB, numpy 45 MB, blis 39 MB,
  thinc 18 MB), for three regular expressions.
- **Network at run time.** `EmailRecognizer` validates domains with `tldextract`, which tries to
  download the public-suffix list on first use (an error with a traceback is logged offline; it
  then falls back to its bundled snapshot). `AnalyzerEngine()` tries to download a spaCy model
  and fails offline. Vigil promises that nothing is downloaded at run time.
- **Import time.** 1.9 s and 1,330 modules to import the predefined recognizers.
- **Speed.** About 700 µs for Email + Ip + CreditCard recognizers on a 267-character text,
  i.e. ~250 µs per recognizer per text, when the anonymizer's budget is 50 µs for a whole alert
  (20,000 alerts/s).

What Presidio's recognizers do is a pattern plus a validation step, which is what this module
does with the standard library: `ipaddress` validates IPv4/IPv6 candidates, the Luhn checksum
validates card numbers. Secrets are not covered by Presidio anyway (it has no AWS, GitHub,
Slack, OpenAI, JWT or private-key recognizers), so those patterns would be Vigil's own in any
case; they follow the well-known shapes published by the vendors (and used by secret scanners
such as gitleaks): `AKIA`/`ASIA` + 16, `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36, `github_pat_`,
`xox[baprs]-`, `sk-`, `eyJ...` three-part JWTs, PEM private key blocks, and `password=`-style
assignments or high-entropy tokens next to secret-sounding words.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["ALL_DETECTORS", "DEFAULT_DETECTORS", "DetectorSet", "Finding"]

ALL_DETECTORS: tuple[str, ...] = ("email", "ipv4", "ipv6", "mac", "credit_card", "secret")
DEFAULT_DETECTORS: tuple[str, ...] = ("secret",)


@dataclass(frozen=True, slots=True)
class Finding:
    """A detected value: `text[start:end]`, found by detector `kind`."""

    start: int
    end: int
    kind: str


# No pattern may match a NUL: the engine joins many texts with it and scans them at once.
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# IPv4 and card numbers start with a digit and test what precedes it only after it (`\d(?<!x\d)`
# is `(?<!x)\d`): a pattern that starts with a character class lets `re` skip to the next digit
# in C instead of trying a lookbehind at every position (1.5x faster).
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?:%[\w.]+)?(?![\w:])"
)
_MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:-]|\.\w)"
)
_CARD = re.compile(r"\d(?<![\d-]\d)(?:[ -]?\d){12,18}(?![\d-])")

# Two alternations (vendor shapes; secrets introduced by a word), so the default (secrets only)
# costs two passes over the text. They are separate because a match consumes the text: a
# low-entropy `token xyz` must not hide the `ghp_...` after it. Each alternative captures the
# secret itself in its own named group (`m.lastgroup`), leaving keys like `password=` readable.
_SECRET_WORDS = (
    r"(?:password|passwd|pwd|pass|secret|client_secret|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|token|auth[_-]?token|credentials?)"
)
_SECRET_SHAPES = re.compile(
    "|".join(
        (
            r"(?P<pem>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[^\x00]*?"
            r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)",
            r"(?<![\w-])(?P<aws>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16})(?![\w-])",
            r"(?<![\w-])(?P<github>gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![\w-])",
            r"(?<![\w-])(?P<slack>xox[baprs]-[A-Za-z0-9-]{10,250})(?![\w-])",
            r"(?<![\w-])(?P<openai>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,250})(?![\w-])",
            r"(?<![\w-])(?P<jwt>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})(?![\w-])",
        )
    )
)
_SECRET_CONTEXT = re.compile(
    "|".join(
        (
            # password=..., "api_key": "...", secret: ... (the value up to a delimiter)
            rf"(?i:{_SECRET_WORDS})[\"']?\s*(?:=|:)\s*[\"']?(?P<assign>[^\s\x00\"',;&<>{{}}()\[\]]{{4,256}})",
            # Bearer tokens and long high-entropy tokens right after a secret-sounding word.
            rf"(?i:\bbearer|{_SECRET_WORDS})\s+(?P<entropy>[A-Za-z0-9+/_.=-]{{20,512}})",
        )
    )
)

# Cheap tests that tell most texts hold no secret, before the expressions above (slow to scan:
# lookbehinds, case-insensitive words). One search for every vendor prefix (twice as fast as a
# substring test for each), each cut to a part that starts with a rare letter (`yJ` of `eyJ`,
# `k-` of `sk-`: a search stops at every place its first letter could start a match, and `e`
# and `s` are everywhere; 25% faster); the words are looked for in the lowered text when it is
# ASCII (other text may spell them with letters that only match case-insensitively, such as
# U+017F long s or U+212A Kelvin sign).
_SHAPE_HINT = re.compile(r"PRIVATE KEY|A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)|h[pousr]_|hub_pat_|xox|k-|yJ")
_CONTEXT_HINTS = ("pass", "pwd", "secret", "key", "token", "credential", "bearer")


def _shannon_entropy(value: str) -> float:
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _ipv4_ok(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _ipv6_ok(value: str) -> bool:
    if len(value) < 3:  # "::" alone is too common in code and logs to mean an address
        return False
    try:
        ipaddress.IPv6Address(value.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _card_ok(value: str) -> bool:
    digits = value.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _luhn_ok(digits)


def _secret_value_ok(kind: str, value: str) -> bool:
    if kind == "assign":
        # `password=****`, `token=<redacted>`, `secret=${VAR}` are not secrets.
        return not (set(value) <= {"*", "x", "X", "."} or value.startswith("$"))
    if kind == "entropy":
        return _shannon_entropy(value) >= 3.5
    return True


def _always(text: str) -> bool:
    return True


# name: (pattern, validation of a match, a cheap test the text must pass for the pattern to match)
_SIMPLE: dict[str, tuple[re.Pattern[str], Callable[[str], bool] | None, Callable[[str], bool]]] = {
    "email": (_EMAIL, None, lambda text: "@" in text),
    "ipv4": (_IPV4, _ipv4_ok, lambda text: text.count(".") >= 3),
    "ipv6": (_IPV6, _ipv6_ok, lambda text: text.count(":") >= 2),
    "mac": (_MAC, None, _always),
    "credit_card": (_CARD, _card_ok, _always),
}


class DetectorSet:
    """The enabled detectors. `DetectorSet()` is the default (secrets only);
    `DetectorSet(ALL_DETECTORS)` turns everything on; `DetectorSet(())` turns detection off."""

    __slots__ = ("enabled",)

    def __init__(self, enabled: Iterable[str] = DEFAULT_DETECTORS) -> None:
        names = tuple(dict.fromkeys(enabled))
        unknown = [n for n in names if n not in ALL_DETECTORS]
        if unknown:
            raise ValueError(f"unknown detector(s) {unknown}; known: {list(ALL_DETECTORS)}")
        self.enabled: tuple[str, ...] = names

    def __bool__(self) -> bool:
        return bool(self.enabled)

    def find(self, text: str) -> list[Finding]:
        """Every detected value in `text`, sorted, without overlaps (at one place the earliest,
        then the longest finding wins)."""
        found: list[Finding] = []
        for name in self.enabled:
            if name == "secret":
                patterns = []
                if _SHAPE_HINT.search(text):
                    patterns.append(_SECRET_SHAPES)
                if not text.isascii() or any(map(text.lower().__contains__, _CONTEXT_HINTS)):
                    patterns.append(_SECRET_CONTEXT)
                for pattern in patterns:
                    for m in pattern.finditer(text):
                        group = m.lastgroup
                        if group is None:
                            continue
                        start, end = m.span(group)
                        if _secret_value_ok(group, text[start:end]):
                            found.append(Finding(start, end, "secret"))
                continue
            pattern, validate, could_match = _SIMPLE[name]
            if not could_match(text):
                continue
            for m in pattern.finditer(text):
                if validate is None or validate(m.group()):
                    found.append(Finding(m.start(), m.end(), name))
        if len(found) < 2:
            return found
        found.sort(key=lambda f: (f.start, -f.end))
        kept: list[Finding] = []
        last_end = -1
        for finding in found:
            if finding.start >= last_end:
                kept.append(finding)
                last_end = finding.end
        return kept
