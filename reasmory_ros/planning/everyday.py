"""Everyday questions for the rule planner: where is it, what is near, on or under it, which is
bigger, what is there, when was it seen, how far did we walk, what colour is it.

One ordered table of intents, each a cue test and a program template, tried before the
benchmark question types (which come with options or frame numbers and are left to them). Object
slots are filled from the question's mentions; a category with several instances is narrowed by
a referring expression ("the chair nearest the desk", "the largest table", "the table I saw
first") or refused with a message that says how to pick one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reasmory_ros.planning.base import NotUnderstood, PlanningContext, quoted
from reasmory_ros.planning.language import Mention

_CAMERA = r"\b(?:me|i|my|myself|us|we|the camera|the robot|you)\b"
_SEE_WORDS = "see|saw|seen|spot|spotted|notice|noticed|observe|observed|come across|came across"
_SEE = rf"\b(?:{_SEE_WORDS})\b"
_GROUP = r"\b(?:objects?|things?|items?|stuff|furniture|everything)\b"
_POINTING = r"\b(?:left|right|behind|front|relative|quadrant|side|standing|facing|sitting at|looking)\b"
_ON = r"\b(?:on top of|on|sitting on|resting on|standing on|lying on|placed on)\b"
_UNDER = r"\b(?:under|beneath|below|underneath)\b"
_NEXT = r"\b(?:next to|beside|alongside)\b"
_YES_NO = r"^(?:is|are|was|were|does|do)\b"

# Comparative word -> (operation, measure); "less" picks the object with less of it.
_COMPARATIVES = (
    (r"\b(?:taller|higher)\b", "more", "height", "taller"),
    (r"\b(?:shorter|lower)\b", "less", "height", "shorter"),
    (r"\b(?:bigger|larger|greater)\b", "more", "volume", "bigger"),
    (r"\b(?:smaller|tinier|littler)\b", "less", "volume", "smaller"),
    (r"\blonger\b", "more", "length", "longer"),
    (r"\b(?:closer|nearer)\b", "less", "distance", "closer"),
    (r"\b(?:farther|further)\b", "more", "distance", "farther"),
)
_BASIS = {"height": "by box height", "volume": "by box volume", "footprint": "by footprint area",
          "length": "by longest side", "distance": "by closest-point distance"}


@dataclass(frozen=True)
class EverydayPlan:
    """An intent's program and answer sentence (`{answer}` marks where the answer goes)."""

    intent: str
    program: str
    sentence: str
    unit: str | None = None


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Slots:
    """The question's object mentions turned into program expressions."""

    def __init__(self, q, context: PlanningContext):
        self.q, self.context = q, context
        self.lines: list[str] = []
        self.references = {m.start: r for m in q.mentions if (r := self._reference(m)) is not None}

    def objects(self) -> list[Mention]:
        """The mentions that stand for objects of their own (not the reference of a referring
        expression such as 'the chair nearest the desk')."""
        used = {r.start for r in self.references.values()}
        return [m for m in self.q.mentions if m.start not in used]

    def count(self, m: Mention) -> int:
        return sum(self.context.label_counts.get(label, 0) for label in m.labels)

    def _reference(self, m: Mention) -> Mention | None:
        """The object an ambiguous mention is narrowed by ('nearest the desk'), if any."""
        if not m.resolved or self.count(m) < 2:
            return None
        after = " ".join(self.q.words[m.end:m.end + 4])
        if not re.match(r"^(?:that is |which is )?(?:nearest|closest|next to|by|beside|near)\b", after):
            return None
        return next((r for r in self.q.mentions if m.end < r.start <= m.end + 5), None)

    def category(self, m: Mention) -> str:
        """objects("label") for a mention; an unknown category is refused with what the memory holds."""
        if not m.resolved:
            held = ", ".join(self.context.labels) or "no objects"
            raise NotUnderstood(f"no object in memory matches {quoted(m.phrase)}; memory has: {held}")
        return f"objects({_literal(m.query)})"

    def one(self, m: Mention) -> str:
        """An expression for one object: unique, or narrowed by the words around the mention."""
        chosen = self.category(m)
        if self.count(m) == 1:
            return f"the({chosen})"
        words = self.q.words
        before = " ".join(words[max(0, m.start - 2):m.start])
        after = " ".join(words[m.end:m.end + 6])
        seen = rf"^(?:that |which )?(?:(?:i|we|you) (?:{_SEE_WORDS})|seen)"
        if m.start in self.references:
            return f"nearest({chosen}, to={self.one(self.references[m.start])})"
        if re.match(r"^(?:that is |which is )?(?:nearest|closest|next) (?:to )?(?:me|us|you|the camera|the robot)\b", after):
            return f'nearest({chosen}, to=camera("current"))'
        if re.search(r"\b(?:largest|biggest)$", before):
            return f"largest({chosen})"
        if re.search(r"\bsmallest$", before):
            return f"smallest({chosen})"
        if re.search(r"\b(?:first|earliest)$", before) or re.search(seen + r" (?:first|earliest)\b", after):
            return f"earliest({chosen})"
        if re.search(r"\b(?:last|latest|newest)$", before) or re.search(seen + r" (?:last|most recently)\b", after):
            return f"latest({chosen})"
        raise NotUnderstood(
            f"there are {self.count(m)} objects matching {quoted(m.phrase)} in memory and the question does not "
            f"say which one: ask about 'the {m.phrase} nearest the <object>', 'the largest {m.phrase}' or "
            f"'the {m.phrase} I saw first'")

    def bind(self, name: str, m: Mention) -> str:
        self.lines.append(f"{name} = {self.one(m)}")
        return name

    def program(self, expr: str) -> str:
        return "\n".join(self.lines + [f"answer({expr})"])


def _need(mentions: list[Mention], n: int) -> bool:
    return len(mentions) == n


def _color(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    if not (q.has(r"\bcolou?rs?\b") and _need(ms, 1)):
        return None
    return EverydayPlan("color", s.program(f"color({s.bind('x', ms[0])})"), f"The {ms[0].phrase} is {{answer}}.")


def _time_in_view(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    if not (q.has(r"\bhow (?:long|many seconds|much time)\b") and q.has(rf"\b(?:in view|visible|on camera|in sight|in frame|in the picture|watch|watched|look|looked)\b|{_SEE}")
            and _need(ms, 1)):
        return None
    return EverydayPlan("time_in_view", s.program(f"time_in_view({s.bind('x', ms[0])})"),
                        f"The {ms[0].phrase} was in view for {{answer}}.", q.unit or "s")


def _sighting(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    if not (_need(ms, 1) and (q.has(rf"\b(?:when|what time|which frame|what frame|at what point)\b.*{_SEE}")
                              or q.has(r"\b(?:last|first) (?:seen|saw|spotted|noticed)\b"))):
        return None
    first = q.has(r"\b(?:first|earliest|for the first time)\b")
    op, word = ("first_seen", "first") if first else ("last_seen", "last")
    return EverydayPlan(f"{op}", s.program(f"{op}({s.bind('x', ms[0])})"),
                        f"I {word} saw the {ms[0].phrase} in {{answer}}.")


def _newest(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    if len(ms) > 1 or not q.has(rf"\b(?:which|what)\b.*{_SEE}.*\b(?:last|most recently|latest|first|earliest)\b"
                                r"|\b(?:last|latest|first|earliest|newest|most recent)\b (?:object|thing|item)s? "
                                rf"(?:(?:i|we|you) )?{_SEE}"):
        return None
    first = q.has(r"\b(?:first|earliest)\b")
    op = "earliest" if first else "latest"
    chosen = s.category(ms[0]) if ms else "all_objects()"
    return EverydayPlan(op, s.program(f"{op}({chosen})"),
                        f"The {'first' if first else 'last'} one to appear was the {{answer}}.")


def _travelled(q, s: _Slots) -> EverydayPlan | None:
    if s.objects() or not q.has(
            r"\bhow (?:far|much distance|many (?:meters|metres))\b.*\b(?:walk|walked|travel|travelled|traveled|go|gone|went|move|moved|"
            r"drive|drove|driven|cover|covered|come)\b|\b(?:distance|length)\b.*\b(?:walk|walked|travel|travelled|traveled|"
            r"cover|covered|drive|driven|path|trajectory)\b"):
        return None
    return EverydayPlan("travelled", s.program('travelled(camera("first"), camera("current"))'),
                        "The camera travelled {answer} along its path.", q.unit or "m")


def _elapsed(q, s: _Slots) -> EverydayPlan | None:
    if s.objects() or not q.has(
            r"\bhow long\b.*\b(?:walk|walking|walked|record|recording|recorded|take|took|taken|been|explore|exploring|scan|"
            r"scanning|trip|tour|run|session|last|lasted|video)\b|\bhow much time\b|\belapsed\b|\bduration\b"):
        return None
    return EverydayPlan("elapsed", s.program('elapsed(camera("first"), camera("current"))'),
                        "The walk took {answer}.", q.unit or "s")


def _total(q, s: _Slots) -> EverydayPlan | None:
    if s.objects() or not q.has(rf"\b(?:how many|number of|count)\b.*{_GROUP}|\bhow many\b.*\bin total\b"):
        return None
    return EverydayPlan("total", s.program("count(all_objects())"), "I remember {answer} objects.")


def _inventory(q, s: _Slots) -> EverydayPlan | None:
    if s.objects() or not q.has(rf"\b(?:what|which|list|name|tell|show|enumerate|inventory)\b.*{_GROUP}"
                                r"|\bwhat (?:is|s) (?:in|inside) (?:the|this|my) (?:room|house|apartment|flat|space|office)\b"
                                r"|\bwhat do you (?:see|remember|know)\b|\binventory\b"):
        return None
    return EverydayPlan("inventory", s.program("inventory()"), "I remember: {answer}.")


def _exists(q, s: _Slots) -> EverydayPlan | None:
    if len(q.mentions) != 1 or q.has(rf"{_ON}|{_UNDER}|{_NEXT}|\bbetween\b|^(?:which|what|when|where|how|who)\b") or not q.has(
            r"^(?:is|are) there\b|\b(?:do|did|have|has) (?:you|we|i) (?:see|seen|saw|have|remember|notice|noticed|spot|spotted)\b"
            r"|\bdoes (?:the|this|my) (?:room|house|apartment|flat|space|office) (?:have|contain)\b|\bany\b.*\bin (?:the|this|my) room\b"):
        return None
    m = q.mentions[0]
    label = m.query if m.resolved else m.phrase
    return EverydayPlan("exists", s.program(f"exists({_literal(label)})"), "{answer}.")


def _relation(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    for pattern, relation, op in ((_ON, "on", "on"), (_UNDER, "under", "under"), (_NEXT, "next to", "next_to")):
        if not q.has(pattern):
            continue
        if q.has(_YES_NO) and len(ms) == 2:
            between = " ".join(q.words[ms[0].end:ms[1].start])
            if re.search(pattern, between):
                a, b = s.bind("a", ms[0]), s.bind("b", ms[1])
                return EverydayPlan(f"related_{op}", s.program(f"related({a}, {_literal(relation)}, {b})"), "{answer}.")
        if not _need(ms, 1):
            continue
        m = ms[0]
        if relation == "on" and re.search(rf"{_ON}$", q.text.rstrip("?. ")) and m.end < len(q.words):
            return EverydayPlan("support", s.program(f"support({s.bind('x', m)})"), f"The {m.phrase} is on the {{answer}}.")
        if not re.search(pattern + r"(?: (?:the|a|an|my|this|that))*$", " ".join(q.words[max(0, m.start - 5):m.start])):
            continue
        found = f"{op}(all_objects(), {s.bind('x', m)})"
        if q.has(r"\b(?:how many|number of|count)\b"):
            return EverydayPlan(f"count_{op}", s.program(f"count({found})"), f"{{answer}} objects {relation} the {m.phrase}.")
        return EverydayPlan(op, s.program(found), f"{relation.capitalize()} the {m.phrase}: {{answer}}.")
    return None


def _between(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    if not (_need(ms, 2) and q.has(r"\bbetween\b") and not q.has(r"\b(?:distance|far|how far|apart|gap|space)\b")):
        return None
    found = f"between(all_objects(), {s.bind('a', ms[0])}, {s.bind('b', ms[1])})"
    if q.has(r"\b(?:how many|number of|count)\b"):
        return EverydayPlan("count_between", s.program(f"count({found})"), "{answer} objects lie between them.")
    return EverydayPlan("between", s.program(found), "Between them: {answer}.")


def _nearest_any(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    if not q.has(r"\b(?:closest|nearest)\b") or len(ms) > 1:
        return None
    if ms and not q.has(r"\b(?:closest|nearest) (?:object|thing|item|piece of furniture)\b|\b(?:object|thing|item)s? (?:is |are )?(?:closest|nearest)\b"
                        r"|\bwhat (?:is |s )?(?:closest|nearest)\b"):
        return None
    if ms:
        reference = s.bind("x", ms[0])
        where = f"the {ms[0].phrase}"
    elif q.has(_CAMERA):
        reference, where = 'camera("current")', "you"
    else:
        return None
    return EverydayPlan("nearest_any", s.program(f"nearest(all_objects(), to={reference})"),
                        f"The closest object to {where} is the {{answer}}.")


def _within(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    if not _need(ms, 1):
        return None
    before = q.before(ms[0], 8)  # the cue goes right before the object: "around the sofa", not "around the room"
    radius = re.search(r"\bwithin (\d+(?:\.\d+)?) ?(m|meters?|metres?|cm|centimeters?|centimetres?|ft|feet|foot)\b", before)
    if not re.search(r"\b(?:near|around|close to|surrounding|surrounds|nearby|vicinity of|within \S+(?: \S+)?(?: of| from)?)"
                     r"(?: (?:the|a|an|this|that|my|our|your))*$", before):
        return None
    if not q.has(rf"\b(?:what|which|list|anything|how many|name)\b|{_GROUP}"):
        return None
    within = ""
    if radius:
        unit = radius.group(2)
        factor = 0.01 if unit.startswith("c") else 0.3048 if unit.startswith("f") else 1.0
        within = f", within={float(radius.group(1)) * factor:g}"
    found = f"filter(all_objects(), near={s.bind('x', ms[0])}{within})"
    if q.has(r"\b(?:how many|number of|count)\b"):
        return EverydayPlan("count_within", s.program(f"count({found})"), f"{{answer}} objects near the {ms[0].phrase}.")
    return EverydayPlan("within", s.program(found), f"Near the {ms[0].phrase}: {{answer}}.")


def _compare(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    found = next(((op, by, word) for pattern, op, by, word in _COMPARATIVES if q.has(pattern)), None)
    if found is None or len(ms) not in (2, 3):
        return None
    op, by, word = found
    to = ""
    if by == "distance":
        if len(ms) == 3:
            to = f", to={s.bind('c', ms[2])}"
        elif q.has(r"\b(?:to|from) (?:me|us|you|the camera|the robot)\b|\bto where i am\b"):
            to = ', to=camera("current")'
        else:
            raise NotUnderstood("closer to or farther from what: say 'closer to me' or 'closer to the <object>'")
    elif len(ms) != 2:
        return None
    if by == "volume" and q.has(r"\b(?:footprint|floor space|floor area|area|takes up|take up)\b"):
        by = "footprint"
    a, b = s.bind("a", ms[0]), s.bind("b", ms[1])
    basis = _BASIS[by]
    if q.has(_YES_NO):
        first, second = (a, b) if op == "more" else (b, a)
        return EverydayPlan(f"is_{word}", s.program(f"exceeds({first}, {second}, by=\"{by}\"{to})"),
                            f"{{answer}} ({basis}).")
    return EverydayPlan(word, s.program(f"{op}({a}, {b}, by=\"{by}\"{to})"), f"The {{answer}} is {word} ({basis}).")


def _locate(q, s: _Slots) -> EverydayPlan | None:
    ms = s.objects()
    if not (_need(ms, 1) and q.has(r"\bwhere\b|\blocation\b|\blocate\b|\bfind\b|\bposition\b|\bwhereabouts\b")
            and not q.has(_POINTING) and not q.has(r"\b(?:how many|number of|count)\b")):
        return None
    return EverydayPlan("locate", s.program(f"locate({s.bind('x', ms[0])})"), f"The {ms[0].phrase} is {{answer}}.")


INTENTS: tuple[Callable, ...] = (_exists, _color, _time_in_view, _sighting, _newest, _travelled, _elapsed,
                                 _relation, _between, _nearest_any, _within, _compare, _total, _inventory, _locate)
"""Tried in order; the first that recognises the question writes its program."""


def plan_everyday(q, context: PlanningContext) -> EverydayPlan | None:
    """The everyday intent of a question read by the rule planner, or None to leave it to the
    benchmark question types (multiple choice and questions about frames always are)."""
    if q.options or q.frames or q.times:
        return None
    for intent in INTENTS:
        plan = intent(q, _Slots(q, context))
        if plan is not None:
            return plan
    return None
