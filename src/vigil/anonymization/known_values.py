"""The values a conversation anonymizes, found in free text without a regular expression.

`KnownValues.replace(text)` replaces every known value that stands in `text` as a whole token
(see `engine` for the rule) by its placeholder. The rule, stated on characters:

- value `v` *matches at* position `p` when `text[p:p+len(v)] == v` (e-mail addresses: compared
  folded, see `fold`), and it is not glued to the text around it: if `v` starts with a token
  character (`[\\w-]`), `text[p-1]` is not one; if `v` ends with a token character, the
  character after it is not one;
- scanning left to right, the leftmost match wins, and among matches at one position the
  longest (an exact one before a folded one of the same length); the scan goes on after it.

## Why no regular expression

One expression over thousands of values (even shaped as a trie) costs as much per character as
the alerts are long, and compiling it costs tens of milliseconds per conversation. Instead every
value is indexed by its *first token* (the first run of token characters), which is a whole
token of the text wherever the value matches (the value's own separators, or the boundary rule,
end it). So per text: the separators are blanked and the text split into tokens, in C; one set
test tells whether any indexed first token occurs at all (most texts stop there), and the tokens
that do are picked in C. For each, only the few value shapes indexed under it are tried, as
string slices looked up in a dict, longest first. Adding a value is a dict insert: nothing to
recompile. When only exact values that start with a token can match (the usual case), the scan
is the rule itself: the first value found at a token wins, and the tokens inside it (the octets
of an IP, the labels of a host name) are passed over.

Values with no token character at all (`::`) are rare and searched for with `str.find`.
"""

from __future__ import annotations

import re
from bisect import insort
from itertools import compress

__all__ = ["KnownValues", "fold", "is_token_char"]

_TOKEN_CHAR = re.compile(r"[\w-]")
_TOKEN = re.compile(r"[\w-]+")
_NON_TOKEN = re.compile(r"[^\w-]")
# Every separator becomes a blank (same offsets), so `split()` yields exactly the tokens of the
# text. ASCII text (nearly all) goes through a bytes table (`bytes.translate` is five times faster
# than `str.translate`); other text through _NON_TOKEN.
_BLANK = " "
_ASCII_BLANKS = bytes(c if c > 127 or _TOKEN_CHAR.match(chr(c)) else ord(_BLANK) for c in range(256))


def is_token_char(ch: str) -> bool:
    return _TOKEN_CHAR.match(ch) is not None


def fold(value: str) -> str:
    """Case folding for e-mail addresses, one character for one (offsets stay the same).

    Not `str.lower()`: that turns `İ` into two characters and lowers a final `Σ` by context."""
    if value.isascii():
        return value.lower()
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in value)


def _blanked(text: str) -> str:
    """`text` with every separator replaced by a blank (same length)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_BLANKS).decode("ascii")
    return _NON_TOKEN.sub(_BLANK, text)


# One indexed shape: (-length, characters before the first token); in sorted order the longest
# comes first.
_Shape = tuple[int, int]

# A value found: (start, -length, 0 for exact or 1 for folded, placeholder); sorted, the first
# at each start is the one that wins there.
_Match = tuple[int, int, int, str]


class _Index:
    """Values (exact or folded) → placeholder, with their shapes indexed by first token."""

    __slots__ = ("by_first_token", "leading", "placeholders", "tokenless")

    def __init__(self) -> None:
        self.placeholders: dict[str, str] = {}
        self.by_first_token: dict[str, list[_Shape]] = {}
        self.tokenless: list[str] = []  # values without any token character (`::`), rare
        self.leading = False  # some value starts with a separator (`/srv`), rare

    def add(self, value: str, placeholder: str) -> None:
        if not value or value in self.placeholders:
            return
        self.placeholders[value] = placeholder
        first = _TOKEN.search(value)
        if first is None:
            self.tokenless.append(value)
            return
        if first.start():
            self.leading = True
        shape = (-len(value), first.start())
        shapes = self.by_first_token.setdefault(first.group(), [])
        if shape not in shapes:
            insort(shapes, shape)

    def collect(
        self, haystack: str, blanks: str, tokens: list[str], rank: int, out: list[_Match], greedy: bool
    ) -> None:
        """Append a match (start, -length, rank, placeholder) for each value found in `haystack`
        (the text or its folded form: folding keeps every character a token character or not,
        so both have the same tokens). `blanks` is `haystack` blanked, `tokens` its tokens.

        `greedy` (only when this index alone can match, see `KnownValues.replace`): every value
        starts with its first token, so matches are met left to right; at each token only the
        longest value is kept, and tokens inside a kept value are passed over, as the scan
        would."""
        placeholders = self.placeholders
        by_first_token = self.by_first_token
        size = len(haystack)
        at = end_of_match = 0
        # The tokens that start an indexed value, picked in C and in text order: each is found
        # by `find` after the previous one (skipping places inside longer tokens), so the text
        # is scanned once; Python runs only for these tokens.
        for token in compress(tokens, map(by_first_token.__contains__, tokens)):
            width = len(token)
            at = blanks.find(token, at)
            while (at and blanks[at - 1] != _BLANK) or (at + width < size and blanks[at + width] != _BLANK):
                at = blanks.find(token, at + 1)
            if at < end_of_match:
                at += width
                continue
            for negative_length, lead in by_first_token[token]:  # longest first
                start = at - lead
                end = start - negative_length
                # A value ending with a token character must not run into the next one (whether
                # it does is read off the text: where it matches, it *is* the text).
                if start < 0 or end > size or (end < size and blanks[end] != _BLANK and blanks[end - 1] != _BLANK):
                    continue
                placeholder = placeholders.get(haystack[start:end])
                if placeholder is not None:
                    out.append((start, negative_length, rank, placeholder))
                    if greedy:
                        end_of_match = end
                        break
            at += width
        for value in self.tokenless:
            placeholder = placeholders.get(value)
            if placeholder is None:
                continue
            at = haystack.find(value)
            while at >= 0:
                out.append((at, -len(value), rank, placeholder))
                at = haystack.find(value, at + 1)


class KnownValues:
    """Values to replace in free text, each with its placeholder.

    `add` takes a value compared exactly, `add_folded` an e-mail address compared folded (pass
    it folded). The first placeholder given for a value stays. `discard` forgets a value (one
    that turned out to be a placeholder)."""

    __slots__ = ("_exact", "_folded")

    def __init__(self) -> None:
        self._exact = _Index()
        self._folded = _Index()

    def add(self, value: str, placeholder: str) -> None:
        self._exact.add(value, placeholder)

    def add_folded(self, folded_value: str, placeholder: str) -> None:
        self._folded.add(folded_value, placeholder)

    def discard(self, value: str) -> None:
        self._exact.placeholders.pop(value, None)

    def replace(self, text: str) -> str:
        """`text` with every match (see the module's rule) replaced by its placeholder."""
        exact, folded = self._exact, self._folded
        if not exact.placeholders and not folded.placeholders:
            return text
        blanks = _blanked(text)
        tokens = blanks.split()  # blanks hold token characters and spaces only
        check_folded = bool(folded.placeholders) and "@" in text  # only e-mail addresses are folded
        if exact.by_first_token.keys().isdisjoint(tokens) and not exact.tokenless and not check_folded:
            return text  # most texts: no known value starts here
        matches: list[_Match] = []
        # Greedy when nothing else can match before or across an exact match.
        greedy = not (check_folded or exact.tokenless or exact.leading)
        exact.collect(text, blanks, tokens, 0, matches, greedy)
        if check_folded:
            folded_blanks = fold(blanks)
            folded.collect(fold(text), folded_blanks, folded_blanks.split(), 1, matches, False)
        if not matches:
            return text
        matches.sort()
        parts: list[str] = []
        position = 0
        for start, negative_length, _, placeholder in matches:
            if start >= position:
                parts.append(text[position:start])
                parts.append(placeholder)
                position = start - negative_length
        parts.append(text[position:])
        return "".join(parts)
