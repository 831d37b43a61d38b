"""Finding the graph's nodes in a need: names, aliases and standard designations.

Chinese (any non-ASCII) aliases match as substrings. ASCII aliases match on word boundaries,
with hyphens and spaces treated alike (`ICP-MS` = `ICP MS`) and a plural `s` allowed; short
acronyms with a capital letter (`IC`, `TG`, `CT`, `Ra`) match only in their own case, since
`ic` or `tg` inside ordinary words mean nothing. A mention inside a longer mention (`ICP` in
`ICP刻蚀`) is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from scishare.knowledge.graph import KnowledgeGraph, Node, NodeRef
from scishare.knowledge.models import NodeKind

_SEPARATORS = "-‐‑‒–—_"
_PARENS = re.compile(r"[（(][^）)]*[）)]")
_CASE_SENSITIVE_MAX = 4


@lru_cache(maxsize=16384)
def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    if any(c in _SEPARATORS or c.isspace() for c in folded):
        return " "
    return folded


@dataclass(frozen=True)
class Folded:
    """A text in matching form, with the original offset of every folded character."""

    exact: str
    lower: str
    origin: list[int]


def fold(text: str) -> Folded:
    """NFKC, separators and spaces to one space; `lower` has the same length as `exact`."""
    exact: list[str] = []
    lower: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for c in _fold_char(char):
            if c == " " and (not exact or exact[-1] == " "):
                continue
            low = c.lower()
            exact.append(c)
            lower.append(low if len(low) == 1 else c)
            origin.append(index)
    return Folded("".join(exact), "".join(lower), origin)


def _is_ascii_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


@dataclass(frozen=True)
class Mention:
    """A node found in the need: where, with which words, and how specific the words are."""

    node: NodeRef
    text: str
    start: int
    end: int
    weight: float


@dataclass(frozen=True)
class _Entry:
    form: str
    ascii: bool
    case_sensitive: bool
    plural: bool


def surface_forms(node: Node) -> list[str]:
    """The words that name a node: names (Chinese names also split at '/'), aliases, code."""
    forms: list[str] = []
    names = [node.name_zh, node.name_en, *node.aliases]
    if node.kind is NodeKind.STANDARD:
        names = [node.code, node.code.replace(" ", ""), *node.aliases]
    for name in names:
        name = name.strip()
        if not name:
            continue
        forms.append(name)
        if not name.isascii():
            bare = _PARENS.sub("", name).strip()
            parts = [p.strip() for p in re.split(r"[/／、]", bare)]
            forms.extend(p for p in [bare, *parts] if len(p) >= 2)
    return list(dict.fromkeys(forms))


class Recogniser:
    """Built once per graph revision; `find` runs per need in about a millisecond."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        owners: dict[tuple[str, bool], set[NodeRef]] = defaultdict(set)
        entries: dict[tuple[str, bool], _Entry] = {}
        for ref, node in graph.nodes.items():
            if ref[0] is NodeKind.NATIONAL_CLASS:
                continue
            for name in surface_forms(node):
                folded = fold(name).exact.strip()
                if not folded:
                    continue
                is_ascii = folded.isascii()
                sensitive = (is_ascii and len(folded) <= _CASE_SENSITIVE_MAX
                             and any(c.isupper() for c in folded))
                form = folded if sensitive else folded.lower()
                key = (form, sensitive)
                owners[key].add(ref)
                entries[key] = _Entry(form=form, ascii=is_ascii, case_sensitive=sensitive,
                                      plural=is_ascii and not sensitive and len(form) >= 4
                                      and form[-1].isalpha())
        self._entries = [(entries[key], sorted(refs), 1.0 / len(refs))
                         for key, refs in owners.items()]
        # The entries by the character they start with, one index for each of the two forms
        # of the need (as written, lower case): `find` then tries at each position of the need
        # only the few words that can start there, instead of searching for all few thousand.
        self._starting: dict[tuple[bool, str], list[int]] = defaultdict(list)
        for index, (entry, _refs, _weight) in enumerate(self._entries):
            self._starting[(entry.case_sensitive, entry.form[0])].append(index)

    def find(self, need: str) -> list[Mention]:
        """Every node named in `need`, longest words first; nested shorter ones dropped."""
        folded = fold(need)
        raw: list[tuple[int, int, int, NodeRef, float]] = []
        for case_sensitive, haystack in ((True, folded.exact), (False, folded.lower)):
            for start, char in enumerate(haystack):
                for index in self._starting.get((case_sensitive, char), ()):
                    entry, refs, weight = self._entries[index]
                    if not haystack.startswith(entry.form, start):
                        continue
                    end = self._end(haystack, entry, start)
                    if end is not None:
                        raw.extend((start, end, index, ref, weight) for ref in refs)
        spans = {(s, e) for s, e, _, _, _ in raw}
        kept: list[Mention] = []
        for start, end, _, ref, weight in sorted(raw, key=lambda r: (r[0], -r[1], r[2])):
            if any(s <= start and end <= e and (s, e) != (start, end) for s, e in spans):
                continue
            first, last = folded.origin[start], folded.origin[end - 1] + 1
            kept.append(Mention(node=ref, text=need[first:last], start=first, end=last,
                                weight=weight))
        return kept

    @staticmethod
    def _end(haystack: str, entry: _Entry, start: int) -> int | None:
        """Where the mention of `entry` found at `start` ends (an ASCII word may take a plural
        ending), or None when an ASCII word there is only part of a longer word."""
        form = entry.form
        end = start + len(form)
        if not entry.ascii:
            return end
        if entry.plural and haystack.startswith("es", end) and not (
                _is_ascii_word_char(haystack[end + 2:end + 3] or " ")):
            end += 2
        elif entry.plural and haystack.startswith("s", end) and not (
                _is_ascii_word_char(haystack[end + 1:end + 2] or " ")):
            end += 1
        before = haystack[start - 1] if start > 0 else " "
        after = haystack[end] if end < len(haystack) else " "
        if (_is_ascii_word_char(before) and _is_ascii_word_char(form[0])) or (
                _is_ascii_word_char(after) and _is_ascii_word_char(form[-1])):
            return None
        return end
