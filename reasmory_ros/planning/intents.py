"""What a question asks, recognised by its nearest exemplars rather than by exact cue words.

The question is reduced to its shape: object mentions become X, Y, Z and numbers N ("how far is
the sofa from the tv at frame 12" -> "how far is X from Y at frame N"), so that the objects and
frames of one scene never decide the intent. The shape is embedded with the packaged sentence
model and compared with the exemplar bank (`intents.yaml`, data, not code); each intent scores its
best exemplar's cosine similarity. Deterministic, CPU only, nothing downloaded.

The bank is the extension point: a new intent is an `intents.yaml` block (exemplars and the kind
of answer) plus a builder of the same name in `rules.BUILDERS`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from reasmory_ros.planning.language import Embedder, Mention

BANK_PATH = Path(__file__).with_name("intents.yaml")
ANSWER_KINDS = frozenset({"count", "length", "area", "size", "choice", "order", "direction", "route"})
_PLACEHOLDERS = ("X", "Y", "Z")


@dataclass(frozen=True)
class Intent:
    """One intent of the bank: its name (= the builder's), the kind of answer, its exemplars."""

    name: str
    answers: str
    exemplars: tuple[str, ...]


def load_bank(path: str | Path = BANK_PATH) -> list[Intent]:
    """The intents of a bank file; ValueError names the block that is malformed.

    The packaged bank is parsed once per process: `answer_question` builds a rule planner for
    each question when its caller keeps none (the replay, the eval and fleet CLIs), and parsing
    the YAML took ~8.5 ms of every answer. Another file is read each time (it may be edited)."""
    if Path(path) == BANK_PATH:
        return list(_packaged_bank())
    return list(_parse_bank(path))


@functools.cache
def _packaged_bank() -> tuple[Intent, ...]:
    return _parse_bank(BANK_PATH)


def _parse_bank(path: str | Path) -> tuple[Intent, ...]:
    doc = yaml.safe_load(Path(path).read_text())
    if not isinstance(doc, dict) or not doc:
        raise ValueError(f"{path}: expected a mapping of intent name -> {{answers, exemplars}}")
    intents = []
    for name, block in doc.items():
        if not isinstance(block, dict) or block.get("answers") not in ANSWER_KINDS:
            raise ValueError(f"{path}: intent {name!r} needs 'answers' (one of {', '.join(sorted(ANSWER_KINDS))})")
        exemplars = block.get("exemplars")
        if not exemplars or not all(isinstance(e, str) and e.strip() for e in exemplars):
            raise ValueError(f"{path}: intent {name!r} needs a list of exemplar sentences")
        intents.append(Intent(str(name), block["answers"], tuple(shape_of(e) for e in exemplars)))
    return tuple(intents)


def shape_of(text: str, mentions: Sequence[Mention] = ()) -> str:
    """The question's shape: mentions -> X/Y/Z (one letter per distinct object), numbers -> N.

    `text` is a prepared question (language.prepare) whose word indices the mentions refer to;
    exemplars written with X/Y/Z and N are their own shape (lower-cased).
    """
    words = text.split()
    letters: dict[tuple[str, ...], str] = {}
    placed = [m for m in sorted(mentions, key=lambda m: m.start) if m.start >= 0]
    for mention in placed:
        letters.setdefault(mention.labels or (mention.phrase,), _PLACEHOLDERS[min(len(letters), 2)])
    for mention in reversed(placed):
        words[mention.start : mention.end] = [letters[mention.labels or (mention.phrase,)]]
    shape = " ".join(re.sub(r"^\d+(?:\.\d+)?(st|nd|rd|th)?$", lambda m: "N" + (m.group(1) and "th" or ""), w)
                     for w in words)
    return re.sub(r"\b([xyz])\b", lambda m: m.group(1).upper(), shape) if not mentions else shape


class IntentRanker:
    """Scores every intent of a bank for a question shape by its most similar exemplar."""

    def __init__(self, intents: Sequence[Intent], embedder: Embedder):
        self.intents = list(intents)
        self.embedder = embedder
        self._owner = np.array([k for k, intent in enumerate(self.intents) for _ in intent.exemplars])
        self._vectors = embedder([e for intent in self.intents for e in intent.exemplars])  # once, now

    def by_name(self, name: str) -> Intent:
        return next(intent for intent in self.intents if intent.name == name)

    def rank(self, shape: str) -> list[tuple[str, float]]:
        """(intent name, score) from best to worst; scores are cosine similarities in [-1, 1]."""
        similarity = self._vectors @ self.embedder([shape])[0]
        best = np.full(len(self.intents), -1.0)
        np.maximum.at(best, self._owner, similarity)
        order = np.argsort(-best, kind="stable")
        return [(self.intents[k].name, float(best[k])) for k in order]
