"""Resolving the label a program asks for against the labels the memory actually holds.

Programs are written from questions ("the couch", "televisions"), memories are labelled by a
detector ("sofa", "tv"). Matching goes through tiers, and the first tier that matches anything
wins, so an exact label is never diluted by looser matches:

1. the same normalised text (case, spaces, `_` and `-` ignored),
2. the same after singularising the last word ("chairs" -> "chair"),
3. a synonym group ("couch" -> "sofa", "television" -> "tv"),
4. a label whose head noun is the query or a synonym ("table" -> "coffee table").

`canonical` names a synonym group by one word; the memory files detections under it.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable

CANONICAL_GROUPS: tuple[tuple[str, ...], ...] = (
    ("tv", "television", "monitor", "tv monitor", "tv screen", "computer monitor", "tv set", "television set"),
    ("sofa", "couch", "settee"),
    ("refrigerator", "fridge"),
    ("trash can", "trash bin", "garbage can", "garbage bin", "wastebasket", "waste bin",
     "dustbin", "rubbish bin"),
    ("cabinet", "cupboard"),
    ("bookshelf", "bookcase", "book shelf"),
    ("shelf", "shelves", "shelving"),
    ("nightstand", "night stand", "bedside table", "night table"),
    ("dresser", "chest of drawers"),
    ("rug", "carpet"),
    ("picture", "painting", "poster", "wall art", "photo"),
    ("plant", "potted plant", "houseplant", "flower pot", "flowerpot"),
    ("pillow", "cushion"),
    ("lamp", "floor lamp", "table lamp"),
    ("bathtub", "bath tub", "tub", "bath"),
    ("sink", "basin", "washbasin"),
    ("toilet", "wc"),
    ("stove", "oven", "cooker"),
    ("washing machine", "washer"),
    ("laptop", "notebook computer"),
    ("computer", "pc", "desktop computer"),
    ("curtain", "drape", "drapes"),
    ("stool", "bar stool"),
    ("armchair", "arm chair"),
    ("desk", "writing desk"),
    ("door", "doorway"),
    ("cellphone", "cell phone", "phone", "mobile phone"),
    ("microwave", "microwave oven"),
    ("keyboard", "computer keyboard"),
    ("backpack", "rucksack"),
    ("suitcase", "luggage"),
)
"""Synonym groups, each led by its canonical word: the name the memory files a detection under."""

SYNONYM_GROUPS: tuple[frozenset[str], ...] = tuple(frozenset(g) for g in CANONICAL_GROUPS)


@functools.lru_cache(maxsize=4096)
def normalise(label: str) -> str:
    """Lower case, `_`/`-` as spaces, single spaces."""
    return " ".join(re.sub(r"[_\-]+", " ", label.lower()).split())


_IRREGULAR = {"shelves": "shelf", "knives": "knife", "people": "person", "mice": "mouse",
              "children": "child", "men": "man", "women": "woman", "feet": "foot",
              "leaves": "leaf", "boxes": "box", "glasses": "glass", "dishes": "dish"}


def _singular_word(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    # compounds end in an irregular plural: "bookshelves" -> "bookshelf", "toolboxes" -> "toolbox"
    ending = next((p for p in _IRREGULAR if len(p) >= 5 and word.endswith(p)), None)
    if ending is not None:
        return word[: -len(ending)] + _IRREGULAR[ending]
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=4096)
def singular(label: str) -> str:
    """Normalised label with its last word singularised ("coffee tables" -> "coffee table")."""
    words = normalise(label).split(" ")
    words[-1] = _singular_word(words[-1])
    return " ".join(words)


_PLURAL_IRREGULAR = {singular_: plural_ for plural_, singular_ in _IRREGULAR.items()}


def plural(word: str) -> str:
    """The plural of one English noun ("shelf" -> "shelves", "box" -> "boxes", "chair" -> "chairs")."""
    if word in _PLURAL_IRREGULAR:
        return _PLURAL_IRREGULAR[word]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith("f"):
        return word[:-1] + "ves"
    return word + "s"


def synonyms_of(label: str) -> tuple[str, ...]:
    """The names of the synonym groups `label` belongs to, itself first ("tv" -> tv, television, monitor, ...)."""
    key = _compact(label)
    names = [normalise(label)]
    for group in CANONICAL_GROUPS:
        if any(_compact(name) == key for name in group):
            names += [name for name in group if name not in names]
    return tuple(names)


def _compact(label: str) -> str:
    """Singular form without spaces: "Trash_Cans" and "trashcan" compare equal."""
    return singular(label).replace(" ", "")


def _group_index() -> dict[str, frozenset[str]]:
    """Compact form -> compact forms of every synonym group it belongs to (built once)."""
    index: dict[str, set[str]] = {}
    for group in SYNONYM_GROUPS:
        compacts = {_compact(g) for g in group}
        for key in compacts:
            index.setdefault(key, set()).update(compacts)
    return {key: frozenset(value) for key, value in index.items()}


_GROUP_OF = _group_index()
_CANONICAL = {_compact(word): group[0] for group in reversed(CANONICAL_GROUPS) for word in group}
"""Compact form -> canonical word (reversed: a word in two groups takes the first group's)."""


def in_synonym_table(label: str) -> bool:
    """Whether the word belongs to a synonym group: the table, not an embedding, decides its
    category."""
    return _compact(label) in _CANONICAL


@functools.lru_cache(maxsize=4096)
def canonical(label: str) -> str:
    """The one name of a category, whatever a detector called it: the head word of its synonym
    group ("couch" -> "sofa", "Potted_Plants" -> "plant"), else the normalised singular form."""
    return _CANONICAL.get(_compact(label), singular(label))


def _synonyms(label: str) -> frozenset[str]:
    """Compact forms of every label sharing a synonym group with `label` (itself included).

    A table lookup: the planner resolves every word run of a question, so this must stay cheap
    however long the question is."""
    key = _compact(label)
    return _GROUP_OF.get(key, frozenset()) | {key}


def _head(key: str) -> str:
    return key.split(" ")[-1]


class _LabelIndex:
    """The labels of one label set keyed by each tier's form, so that resolving a query is a few
    dictionary lookups instead of a scan of every label per tier (the planner resolves every
    word run of a question against up to `max_labels` labels)."""

    def __init__(self, labels: tuple[str, ...]):
        self.spaceless: dict[str, list[str]] = {}
        self.compact: dict[str, list[str]] = {}
        self.head: dict[str, list[str]] = {}
        for label in labels:  # sorted, so every list below is sorted too
            self.spaceless.setdefault(normalise(label).replace(" ", ""), []).append(label)
            self.compact.setdefault(_compact(label), []).append(label)
            self.head.setdefault(_head(singular(label)), []).append(label)

    def resolve(self, query: str, head_nouns: bool = True) -> tuple[str, ...]:
        found = self.spaceless.get(normalise(query).replace(" ", "")) or self.compact.get(_compact(query))
        if found:
            return tuple(found)
        synonyms = _synonyms(query)
        for table in (self.compact, self.head) if head_nouns else (self.compact,):
            found = sorted({label for key in synonyms for label in table.get(key, ())})
            if found:
                return tuple(found)
        return ()


@functools.lru_cache(maxsize=16)
def _index(labels: tuple[str, ...]) -> _LabelIndex:
    """One index per label set: the memory's labels change far less often than questions come."""
    return _LabelIndex(labels)


def resolve(query: str, present: Iterable[str], head_nouns: bool = True) -> tuple[str, ...]:
    """The memory labels that `query` names (sorted), or () when none does.

    Tiers, first match wins: same text ignoring spaces, same singular compact form, a synonym's
    compact form, a synonym as the label's head noun (skipped with `head_nouns` False)."""
    return _index(tuple(sorted(set(present)))).resolve(query, head_nouns)


def closest_labels(query: str, present: Iterable[str], n: int = 3) -> list[str]:
    """Present labels that look most like `query`, for 'did you mean' hints."""
    by_key = {singular(label): label for label in present}
    keys = difflib.get_close_matches(singular(query), list(by_key), n=n, cutoff=0.4)
    return [by_key[k] for k in keys]


def unknown_label_hint(query: str, present: Iterable[str], shown: int = 25) -> str:
    """'did you mean ...; the memory holds: ...' for a label that names nothing present."""
    present = sorted(set(present))
    if not present:
        return "the memory holds no objects yet"
    near = closest_labels(query, present)
    listing = ", ".join(repr(p) for p in present[:shown])
    more = f" and {len(present) - shown} more" if len(present) > shown else ""
    did_you_mean = ("did you mean " + " or ".join(repr(n) for n in near) + "? ") if near else ""
    return f"{did_you_mean}labels in memory: {listing}{more}"
