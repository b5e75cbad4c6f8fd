"""From a DSL value to the answer a person or a benchmark wants: unit asked, one option, a sentence.

The program computes the value (an object, a direction, a route, an order, a number); this module
only presents it. Multiple choice goes through one matcher that compares the value with every
option in the value's own terms (label, angle, sequence, number) and returns the option's text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reasmory_ros.dsl.types import (
    DIRECTION_WORDS,
    Camera,
    Direction,
    Number,
    Obj,
    ObjectSet,
    Path,
    Place,
    Point,
    Size,
    View,
    angle_gap,
    format_number,
    place_from_camera,
)
from reasmory_ros.memory import labels as label_words
from reasmory_ros.planning.language import prepare

# Metres per unit (lengths) and square metres per unit (areas).
LENGTH_UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "in": 0.0254}
AREA_UNITS = {"m2": 1.0, "ft2": 0.09290304}
UNIT_SYMBOLS = {"m2": "m²", "ft2": "ft²", "m3": "m³"}

# Words of options that name a direction, with the DIRECTION_WORDS entry they mean.
DIRECTION_ALIASES = {
    "forward": "front", "forwards": "front", "ahead": "front", "straight": "front",
    "backward": "back", "backwards": "back", "behind": "back", "rear": "back",
}

_OPTION_PREFIX = re.compile(r"^\s*(?:\(?[A-Za-z]\)|[A-Za-z][.:)])\s+")


@dataclass(frozen=True)
class FormattedAnswer:
    """The answer in the form asked: a number in the requested unit or an option's text."""

    value: int | float | str
    unit: str
    display: str


def convert(value: float, unit: str, wanted: str | None) -> tuple[float, str]:
    """`value` in `unit` expressed in `wanted` when both measure the same kind of thing."""
    for table in (LENGTH_UNITS, AREA_UNITS):
        if unit in table and wanted in table:
            return value * table[unit] / table[wanted], wanted
    return value, unit


def option_body(option: str) -> str:
    """'B. turn left, go forward' -> 'turn left, go forward'."""
    return _OPTION_PREFIX.sub("", option).strip()


def direction_angle(text: str) -> float | None:
    """Canonical angle (deg, + = left) of a direction phrase such as 'back-left' or 'behind'."""
    words = [DIRECTION_ALIASES.get(w, w) for w in re.split(r"[\s-]+", prepare(text))]
    joined = "-".join(w for w in words if w in ("front", "back", "left", "right"))
    joined = {"left-front": "front-left", "right-front": "front-right", "left-back": "back-left",
              "right-back": "back-right"}.get(joined, joined)
    return DIRECTION_WORDS.get(joined)


def turn_sequence(text: str) -> list[str]:
    """Route actions of an option or a turn list: 'Turn Left, Go forward' -> ['turn left', ...]."""
    actions = re.findall(r"turn (?:back|left|right|around)|go (?:forward|straight)", prepare(text))
    return ["turn back" if a == "turn around" else "go forward" if a.startswith("go") else a for a in actions]


def sequence_similarity(a: Sequence[str], b: Sequence[str]) -> tuple[float, int]:
    """Longest-common-subsequence ratio, then the number of equal positions (tie-breaker)."""
    ratio = difflib.SequenceMatcher(None, list(a), list(b)).ratio()
    return ratio, sum(x == y for x, y in zip(a, b, strict=False))


def _label_keys(value: Obj) -> list[str]:
    return [value.label, value.record.label]


def _option_score(value: object, option: str):
    """How well one option describes the value; larger is better, None when not comparable."""
    body = option_body(option)
    if isinstance(value, ObjectSet) and value.objects:
        value = value.objects[0]
    if isinstance(value, Obj):
        return 1.0 if label_words.resolve(body, _label_keys(value)) else 0.0
    if isinstance(value, Direction):
        angle = direction_angle(body)
        return None if angle is None else -angle_gap(value.angle, angle)
    if isinstance(value, Path):
        offered = turn_sequence(body)
        return sequence_similarity(turn_sequence(", ".join(value.turns)), offered) if offered else None
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        offered = [p.strip() for p in re.split(r",|->|\bthen\b|;", body) if p.strip()]
        keys = [label_words.singular(v) for v in value]
        return sequence_similarity(keys, [_option_label(p, value) for p in offered])
    if isinstance(value, Number):
        found = re.search(r"-?\d+(?:\.\d+)?", body)
        return None if found is None else -abs(float(found.group()) - value.value)
    if isinstance(value, str):
        angle = direction_angle(value)
        if angle is not None and direction_angle(body) is not None:  # 1 for the same direction word
            return 1.0 - angle_gap(angle, direction_angle(body)) / 180.0
        return 1.0 if label_words.resolve(body, [value]) else 0.0
    return None


def _option_label(part: str, labels: Sequence[str]) -> str:
    """The label among `labels` an option item names (its singular form when none)."""
    found = label_words.resolve(part, labels)
    return label_words.singular(found[0]) if found else label_words.singular(part)


def match_option(value: object, options: Sequence[str]) -> int | None:
    """Index of the option that best describes the value, or None when none is comparable."""
    scored = [(score, i) for i, option in enumerate(options) if (score := _option_score(value, option)) is not None]
    if not scored:
        return None
    best = max(scored, key=lambda s: s[0])
    if isinstance(best[0], float) and best[0] == 0.0 and isinstance(value, (Obj, ObjectSet, str)):
        return None
    return best[1]


def describe(value: object, unit: str | None) -> FormattedAnswer:
    """A value as a plain answer: numbers converted to `unit`, objects by label, lists joined."""
    if isinstance(value, Number):
        number, shown_unit = convert(value.value, value.unit, unit)
        symbol = UNIT_SYMBOLS.get(shown_unit, shown_unit)
        rounded = float(format_number(number))
        if not shown_unit and rounded.is_integer():
            rounded = int(rounded)  # counts read as integers
        return FormattedAnswer(rounded, shown_unit, format_number(number) + (f" {symbol}" if symbol else ""))
    if isinstance(value, Size):
        parts = [describe(v, unit) for v in (value.length, value.width, value.height)]
        shown = " x ".join(p.display for p in parts)
        return FormattedAnswer(shown, "", shown)
    if isinstance(value, ObjectSet):
        labels = ", ".join(o.label for o in value.objects) or "no objects"
        return FormattedAnswer(labels, "", labels)
    if isinstance(value, Obj):
        return FormattedAnswer(value.label, "", value.label)
    if isinstance(value, Direction):
        return FormattedAnswer(value.label, "", f"{value.label} ({format_number(abs(value.angle))}° "
                               f"{'left' if value.angle > 0 else 'right'} of straight ahead)")
    if isinstance(value, Path):
        turns = ", ".join(value.turns)
        return FormattedAnswer(turns, "", f"{turns} ({format_number(value.length)} m)")
    if isinstance(value, tuple):
        items = ", ".join(describe(v, unit).display for v in value)
        return FormattedAnswer(items, "", items)
    if isinstance(value, bool):
        return FormattedAnswer("yes" if value else "no", "", "yes" if value else "no")
    if isinstance(value, Place):
        return FormattedAnswer(value.description, "", f"{value.description}; {place_from_camera(value)}")
    if isinstance(value, Camera):
        frame = value.frame_index + 1
        return FormattedAnswer(frame, "", f"frame {frame} (stamp {value.stamp:.3f} s)")
    return FormattedAnswer(str(value), "", str(value))


@dataclass(frozen=True)
class AnswerFields:
    """What an answer carries beyond its value (see QuestionResult)."""

    position: list[float] | None
    stamp: float | None
    goal: dict | None
    objects: list[dict]


def goal_record(view: View) -> dict:
    return {"position": [float(c) for c in view.position], "yaw": float(view.heading)}


def answer_fields(value: object, object_ids: Sequence[int], labels: dict[int, str]) -> AnswerFields:
    """Position of place answers (a Place's box centre, a Point), stamp of time answers (a
    Camera), a Place's navigation goal, and the objects used (`labels`: id -> memory label)."""
    position = stamp = goal = None
    if isinstance(value, Place):
        position = [float(c) for c in value.position]
        goal = goal_record(value.goal) if value.goal is not None else None
    elif isinstance(value, Point):
        position = [float(c) for c in value.xyz]
    elif isinstance(value, View):
        position, goal = [float(c) for c in value.position], goal_record(value)
    elif isinstance(value, Camera):
        stamp = float(value.stamp)
    objects = [{"id": int(i), "label": labels[i]} for i in object_ids if i in labels]
    return AnswerFields(position, stamp, goal, objects)


def format_answer(value: object, unit: str | None, options: Sequence[str] | None) -> FormattedAnswer:
    """The value as a chosen option (its text) when options are given, else as a plain answer.

    Raises ValueError when options are given but none can describe the value, so a mismatch is
    reported instead of an arbitrary pick.
    """
    if options:
        index = match_option(value, options)
        if index is None:
            raise ValueError(f"no option describes the computed answer {describe(value, unit).display!r}")
        return FormattedAnswer(options[index], "", option_body(options[index]))
    return describe(value, unit)
