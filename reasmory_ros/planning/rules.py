"""Deterministic question -> program planner: exemplar intents, object mentions, slot roles.

No weights to train and no guessing. The intent comes from the nearest exemplars of the bank
(`intents.py`, `intents.yaml`), with the older cue-word rules as one more candidate; the objects are
resolved against the memory's labels and each object's role (reference, standpoint, facing,
target, via) comes from the words just before it. Every candidate program must pass the semantic
check (`semantics.py`); when none does, or the best exemplar is too far, `NotUnderstood` says what
was understood and what was not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reasmory_ros.dsl.errors import DslError
from reasmory_ros.planning.base import NotUnderstood, PlanningContext, PlanRequest, quoted
from reasmory_ros.planning.everyday import plan_everyday
from reasmory_ros.planning.intents import IntentRanker, load_bank, shape_of
from reasmory_ros.planning.language import Embedder, LabelResolver, Mention, default_embedder, prepare
from reasmory_ros.planning.semantics import COUNT_CUE, UNKNOWN_OBJECT, Reading, check_program

# Role cues: words just before a mention that say what part it plays.
_STANDPOINT = (r"(?:standing|stand|stood|sitting|sit|am|i m|beginning|begin|start|starting|starts|from|at|by|"
               r"beside|next to|position|position is|positioned|located|starting point|start point)")
_FACING = (r"(?:facing|face|faces|faced|looking|look|looks|looked|toward|towards|turned to|oriented|pointed|pointing|points|"
           r"gazing|gazes|staring|stare|stares|watching|(?:eyes|gaze)(?: fixed| locked| glued)?|"
           r"heading(?! to| for| into| over))")  # 'heading the door' faces it; 'heading to the door' goes there
# Role cues after a mention: 'the door straight ahead', 'the chair is where I stand', 'the sofa is my goal'.
_WHO = r"(?:i|we|you|he|she|they|it|the robot|the person)"
_AHEAD = re.compile(r"^(?:is |are )?(?:(?:straight |right |directly |dead )?(?:ahead|in front)"
                    r"(?: of (?:me|you|us|him|her|them))?\b(?!-)"
                    r"|before (?:my|your|his|her|our|their) eyes\b|is (?:being )?faced\b"
                    rf"|what {_WHO} (?:face|faces|am facing|are facing|is facing|look at|looks at|see ahead)\b)")
_STANDING_AFTER = re.compile(rf"^(?:(?:is )?where {_WHO} (?:stand|stands|am|are|is|sit|sits|start|starts)|"
                             r"is (?:my|our|your|the) (?:position|location|standpoint|spot|starting point))\b")
_TURN_TO = re.compile(r"\bto (?:face|look at|look toward|look towards)(?: the| a| an)?$")
"""'turn left or right to face the door': the door is where one would turn, not what one faces."""
_DESTINATION = (r"(?:navigate|navigating|go|get|reach|walk|move|head|heading|arrive|arrives|destination|goal|target|to|"
                r"end up|ends up|ends|ending|finish|finishes|finishing)")
_GOAL_AFTER = re.compile(rf"^(?:is|will be) (?:where {_WHO} (?:need|needs|want|wants|have|has|must|"
                         r"should|am going|are going|is going) to (?:go|get|be|end up|arrive|reach)|"
                         r"(?:my|our|your|the) (?:goal|destination|target))\b")
_VIA = r"(?:until|via|past|passing|through|by way of|then)"
_REFERENCE = r"(?:to|from|nearest|closest|farthest|furthest|nearer|closer|farther|further|reference)"

_CAMERA_WORDS = r"\b(?:camera|i|me|my|viewer|filming|recorder|robot|we|us)\b"
_NOW_WORDS = r"\b(?:now|current|currently|present|at the moment|right now|last frame)\b"
_DIRECTION_WORDS = r"\b(?:left|right|behind|back|front|ahead|quadrant|which side|where|direction|position|relative)\b"
_DISTANCE_WORDS = r"\b(?:distance|how far|far|apart(?! from)|how close|close|away)\b"
_LENGTH_UNITS = frozenset({"m", "cm", "mm", "ft", "in"})
_RELATION_PAIRS = (r"\b(?:near|nearer|closer)(?: or)? (?:far|farther|further)\b|\bleft(?: or)?(?: to)?(?: the)? right\b|"
                   r"\b(?:up|above|higher)(?: or)? (?:down|below|lower|beneath)\b")
_COMPARE_SIZE = r"\b(?:bigger|biggest|larger|largest|smaller|smallest|tinier|tiniest)\b"
_TRAVEL_WORDS = r"\b(?:walk|walked|walking|travel|travelled|traveled|cover|covered|along|path length)\b"
_MOVE_WORDS = (r"\b(?:move|moved|moving|movement|travel|travelled|traveled|walk|walked|displacement|displaced|"
               r"go|went|shift|shifted)\b")

MIN_SCORE = 0.5
"""Below this similarity to every exemplar the question is not recognised (and the cue rules have
no answer either): the planner abstains instead of guessing."""
MARGIN = 0.12
"""Intents within this score of the best are tried in order; the semantic check picks among them."""


@dataclass(frozen=True)
class Interpretation:
    """What the rules understood: the intent, the program, the unit asked and an answer sentence.

    `sentence` holds `{answer}` where the formatted answer goes. `turn_slots` (routes written as
    numbered steps with blanks) are the indices of the route's turns the blanks stand for.
    """

    intent: str
    program: str
    unit: str | None
    sentence: str
    turn_slots: tuple[int, ...] | None = None


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Program:
    """Collects statements; `bind` names a sub-expression so the program reads step by step."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def bind(self, name: str, expr: str) -> str:
        self.lines.append(f"{name} = {expr}")
        return name

    def answer(self, expr: str) -> str:
        return "\n".join(self.lines + [f"answer({expr})"])


class RuleBasedPlanner:
    """The default planner: deterministic, needs no model weights.

    `embedder`: "default" loads the packaged MiniLM sentence embedder when installed (intents by
    nearest exemplar, and mentions no word list covers); None keeps to cue words and lexical
    matching. `bank`: the exemplar file (default: the packaged intents.yaml).
    """

    name = "rule"

    def __init__(self, embedder: Embedder | None | str = "default", bank=None):
        self._embedder = embedder
        self._bank = bank
        self._ranker: IntentRanker | None = None

    @property
    def embedder(self) -> Embedder | None:
        """The sentence embedder; loading it (seconds) also embeds the exemplar bank, so a caller
        that touches this at start-up (the node, test fixtures) pays nothing on the first question."""
        if self._embedder == "default":
            self._embedder = default_embedder()
            self._build_ranker()
        return self._embedder  # type: ignore[return-value]

    @property
    def ranker(self) -> IntentRanker | None:
        if self._ranker is None and self.embedder is not None:
            self._build_ranker()
        return self._ranker

    def _build_ranker(self) -> None:
        if self._embedder is None or self._ranker is not None:
            return
        intents = load_bank(*([self._bank] if self._bank else []))
        missing = [intent.name for intent in intents if intent.name not in BUILDERS]
        if missing:
            raise ValueError(f"intent(s) {', '.join(missing)} of the exemplar bank have no builder in "
                             f"rules.BUILDERS (known: {', '.join(sorted(BUILDERS))})")
        self._ranker = IntentRanker(intents, self._embedder)  # type: ignore[arg-type]

    def plan(self, request: PlanRequest) -> str:
        return self.interpret(request.question, request.options, request.context).program

    def read(self, question: str, options: Sequence[str] | None, context: PlanningContext) -> Reading:
        """The question's reading against this memory (mentions, frames, unit)."""
        labels = sorted(set(context.labels) | set(context.removed_labels))  # the past may name removed ones
        return Reading(question, options, LabelResolver(labels, self.embedder), context.frame_count)

    def interpret(self, question: str, options: Sequence[str] | None, context: PlanningContext,
                  reading: Reading | None = None) -> Interpretation:
        """Recognise the intent and write a program that passes the semantic check.

        NotUnderstood says what was understood (objects, frames, unit) and why each candidate
        intent failed.
        """
        q = reading or self.read(question, options, context)
        refusal = None  # an everyday intent's refusal, said when no other intent fits either
        # Change questions first: "where is the chair now?" asks about a move, not a location.
        if _classify_change(q) is None:
            try:  # where / near / on / which is bigger / when seen ... (everyday.py)
                everyday = plan_everyday(q, context)
            except NotUnderstood as err:
                # Its cue may sit in a note ("how many? even when seen twice"): a question that says
                # what kind of answer it wants is left to the intents; any other keeps this refusal.
                if q.answer_kinds() is None:
                    raise
                everyday, refusal = None, err
            # The semantic check holds here too ("the separation between X and Y in feet" is a length,
            # not the objects between them), except for unknown objects: "is there a piano?" asks
            # exactly that. A plan that fails it leaves the question to the intents.
            if everyday is not None and not [p for p in check_program(everyday.program, q, context)
                                             if not p.startswith(UNKNOWN_OBJECT)]:
                return Interpretation(everyday.intent, everyday.program, everyday.unit, everyday.sentence)
        candidates = self.candidates(q)
        if not candidates and refusal is not None:
            raise refusal
        if not candidates:
            raise NotUnderstood(
                f"could not tell what is asked in {quoted(question)} (understood: {q.summary()}): expected a count, "
                "a distance, a size, a room size, a direction, a route, an appearance order or a camera motion"
            )
        failures = []
        for intent in candidates:
            try:
                interpretation = BUILDERS[intent](q, context)
                problems = check_program(interpretation.program, q, context)
            except (NotUnderstood, DslError) as err:
                failures.append(f"{intent}: {err}")
                continue
            if not problems:
                return interpretation
            failures.append(f"{intent}: " + "; ".join(problems))
        if refusal is not None:
            raise refusal
        raise NotUnderstood(f"could not tell what is asked in {quoted(question)}: tried {' / '.join(candidates)}, "
                            "none fits "
                            f"(understood: {q.summary()}): " + " | ".join(failures))

    def candidates(self, q: Reading) -> list[str]:
        """Intents to try, best first: the exemplar ranking's near-best, then the cue rules' pick."""
        found: list[str] = []
        if self.ranker is not None:
            ranked = self.ranker.rank(shape_of(q.text, q.mentions))
            best = ranked[0][1]
            if best >= MIN_SCORE:
                found = [name for name, score in ranked if score >= best - MARGIN]
        cue = _classify(q)
        if cue is not None and cue not in found:
            found.append(cue)
        change = _classify_change(q)  # change questions: cue words no exemplar of the bank has yet
        if change is not None:  # first; the others only when the question says what it asks ("how many ... still")
            return [change] + (found if q.answer_kinds() is not None else [])
        return found


def _classify(q: Reading) -> str | None:
    """Cue-word rules: the most specific question types first."""
    camera_time = bool(q.frames or q.times) or (q.has(_NOW_WORDS) and q.has(_CAMERA_WORDS))
    if q.has(r"\bappearance order\b|\border\b.*\b(appear|appears|appeared|seen|see|saw)\b|"
             r"\b(appear|appears|appeared|seen|see|saw|spot|spotted|notice|noticed) first\b|"
             r"\bfirst (seen|appear|appeared|saw|spotted)\b"):
        return "appearance_order"
    if q.has(r"\bnavigate\b|\broute\b|\bfill in\b|\bgo forward until\b|"
             r"\bhow (do|can|would|should) (i|we|you|the robot) "
             r"(get|go|walk|reach)\b|\bway to\b|\bpath to\b|\bdirections to\b"):
        return "route"
    if camera_time:
        if len(q.frames) + len(q.times) >= 2:
            if q.has(r"\bdirection\b|\bwhich way\b|\bforward|backward|\bleft\b|\bright\b"):
                return "camera_direction"
            if q.has(_TRAVEL_WORDS) and not q.has(r"\b(displacement|displaced|straight)\b"):
                return "camera_travelled"
            if q.has(_MOVE_WORDS) or _asks_distance(q):
                return "camera_displacement"
        elif len({m.labels for m in q.mentions}) >= 2 and q.has(_RELATION_PAIRS):
            return "object_relative_position"
        elif q.mentions and _asks_distance(q):
            return "camera_object_distance"
        elif q.mentions and q.has(_DIRECTION_WORDS):
            return "object_camera_direction"
    if q.has(COUNT_CUE) and not (q.unit or _asks_distance(q)):
        return "count"
    scene = r"\b(room|rooms|floor|apartment|house|space|flat)\b"
    if q.has(scene) and q.has(r"\b(size|area|big|large|dimensions|square|m2|ft2|footprint)\b") and not q.mentions:
        return "room_size"
    sides = r"\b(left|right|behind|back-left|back-right|front-left|front-right|quadrant|where|which side)\b"
    if q.has(sides) and q.has(r"\b(standing|stand|facing|face|looking|sitting|heading)\b"):
        return "relative_direction"
    if (q.has(r"\b(closest|nearest|nearer|closer)\b") or q.wants_farthest()) and (
        q.options or q.has(r"\bwhich\b") or len(q.mentions) >= 3
    ):
        return "relative_distance"
    if _asks_distance(q) and len(q.mentions) >= 2:
        return "absolute_distance"
    if q.has(_COMPARE_SIZE) and (q.options or len(q.mentions) >= 2):
        return "size_comparison"
    if q.has(r"\b(size|dimension|dimensions|how big|how large|how tall|how high|how long|how wide|height|length|"
             r"width|tall|long|wide|big|large)\b") and q.mentions:
        return "object_size"
    return None


def _asks_distance(q: Reading) -> bool:
    """Distance words, or a length unit asked for ('how many meters'; '5 by 4 meters' only states one)."""
    return q.has(_DISTANCE_WORDS) or q.unit in _LENGTH_UNITS


def _require_resolved(q: Reading, mentions: Sequence[Mention], context: PlanningContext) -> None:
    for mention in mentions:
        if not mention.resolved:
            held = ", ".join(context.labels) or "no objects"
            raise NotUnderstood(f"no object in memory matches {quoted(mention.phrase)}; memory has: {held}")


def _objects(q: Reading, context: PlanningContext, need: int, what: str, take_all: bool = False,
             skip: Sequence[Mention] = ()) -> list[Mention]:
    """The first `need` distinct resolved mentions (all with `take_all`), not those in `skip`;
    NotUnderstood when the question has fewer than `need`."""
    _require_resolved(q, q.unresolved, context)
    distinct: list[Mention] = []
    for mention in (m for m in q.included if all(m is not s for s in skip)):
        if all(mention.labels != d.labels for d in distinct):
            distinct.append(mention)
    if len(distinct) < need:
        named = ", ".join(repr(m.phrase) for m in distinct) or "none"
        raise NotUnderstood(f"{what} needs {need} objects, the question names {named}")
    return distinct if take_all else distinct[:need]


def _count(mention: Mention, context: PlanningContext) -> int:
    return sum(context.label_counts.get(label, 0) for label in mention.labels)


def _one(mention: Mention, context: PlanningContext, near: str | None = None) -> str:
    """An expression for one object: `the(...)` when unique, else the instance nearest `near`."""
    objects = f"objects({_literal(mention.query)})"
    n = _count(mention, context)
    if n == 1:
        return f"the({objects})"
    if near is not None:
        return f"nearest({objects}, to={near})"
    raise NotUnderstood(
        f"there are {n} objects matching {quoted(mention.phrase)} in memory and the question does not say which one"
    )


def _pair(a: Mention, b: Mention, context: PlanningContext, prog: _Program) -> tuple[str, str]:
    """Two objects; an ambiguous one becomes the instance nearest the other (closest-instance rule)."""
    if _count(a, context) == 1 or _count(b, context) != 1:
        first = prog.bind("a", _one(a, context))
        return first, prog.bind("b", _one(b, context, near=first))
    second = prog.bind("b", _one(b, context))
    return prog.bind("a", _one(a, context, near=second)), second


def _standpoint(q: Reading, mentions: Sequence[Mention]) -> Mention | None:
    """Where one stands: 'standing by the X', or 'the X is where I stand / my position'."""
    return _by_role(q, mentions, _STANDPOINT) or _role_after(q, mentions, _STANDING_AFTER)


def _facing(q: Reading, mentions: Sequence[Mention]) -> Mention | None:
    """What one faces: 'facing the X', or 'the X straight ahead / in front of me / is what I face'.
    'to face the X' is where one would turn when something else is ahead ('With the cabinet in
    front of you, would you turn left or right to face the door?': the door is the target)."""
    before = _by_role(q, mentions, _FACING)
    if before is not None and _TURN_TO.search(q.before(before, 4)):
        return _role_after(q, [m for m in mentions if m is not before], _AHEAD) or before
    return before or _role_after(q, mentions, _AHEAD)


def _role_after(q: Reading, mentions: Sequence[Mention], cue: re.Pattern) -> Mention | None:
    """The first mention that the words after it give a role."""
    return next((m for m in mentions if cue.match(" ".join(q.words[m.end:m.end + 8]))), None)


def _plan_stops(q: Reading) -> list[Mention]:
    """The objects a numbered plan walks to ('1 go forward until the X 2 ...'), in order. They are
    the route's legs wherever the plan stands in the question, and the last is where it ends."""
    return [m for m in q.mentions if re.search(r"\bgo forward until(?: the| a| an)?$", q.before(m, 5))]


def _by_role(q: Reading, mentions: Sequence[Mention], cue: str) -> Mention | None:
    """The first mention whose preceding words end with the role cue (articles allowed between)."""
    pattern = re.compile(rf"\b{cue}(?: (?:the|a|an|my|this|that|to|at|by|of|until|forward|on|in|place|spot|near|"
                         rf"close|right|just|where|directly|straight))*$")
    for mention in mentions:
        if pattern.search(q.before(mention, 6)):
            return mention
    return None


def _mode(q: Reading) -> str:
    """The measure the question names (the semantic check's own reading), closest points by default."""
    return q.measure_mode() or "closest"


def _mode_words(mode: str) -> str:
    return "between their centres" if mode == "center" else "between their closest points"


def _absolute_distance(q: Reading, context: PlanningContext) -> Interpretation:
    a, b = _objects(q, context, 2, "a distance")
    prog = _Program()
    first, second = _pair(a, b, context, prog)
    mode = _mode(q)
    program = prog.answer(f"distance({first}, {second}, mode={_literal(mode)})")
    sentence = f"The {a.phrase} is {{answer}} from the {b.phrase}, measured {_mode_words(mode)}."
    return Interpretation("absolute_distance", program, q.unit or "m", sentence)


def _count_objects(q: Reading, context: PlanningContext) -> Interpretation:
    found = _objects(q, context, 1, "counting", take_all=True, skip=q.count_context)
    queries = [m.query for m in found]
    arg = _literal(queries[0]) if len(queries) == 1 else "[" + ", ".join(map(_literal, queries)) + "]"
    program = _Program().answer(f"count(objects({arg}))")
    names = " and ".join(m.phrase for m in found)
    return Interpretation("count", program, None, f"The memory holds {{answer}} object(s) matching {names}.")


_SIZE_MEASURES = (
    # "longest side", "largest dimension", "maximum extent": the longest of the three, height included.
    (r"\b(longest|largest|biggest|greatest|maximum|max)\b|\bhow (big|large)\b|\bsize\b|\bbig\b|\blarge\b|"
     r"\bdimensions?\b", "longest_dimension({x})", "longest dimension"),
    (r"\b(tall|height|high)\b", "height({x})", "height"),
    (r"\b(long|length)\b", "size({x}).length", "length"),
    (r"\b(wide|width)\b", "size({x}).width", "width"),
)


def _object_size(q: Reading, context: PlanningContext) -> Interpretation:
    (target,) = _objects(q, context, 1, "a size", skip=q.outside)  # 'I've got 2 m shelves. How long is the door?'
    named = [(e, w) for pattern, e, w in _SIZE_MEASURES if q.has(pattern)]
    expr, words = named[0] if named else _SIZE_MEASURES[0][1:]
    if len(named) > 1 and named[0] != _SIZE_MEASURES[0][1:]:
        if not q.has(r"\bor\b"):  # "the length and height": two answers, not one
            raise NotUnderstood(f"the question asks for the {' and the '.join(w for _, w in named)} at once; "
                                "ask for one measure")
        expr, words = _SIZE_MEASURES[0][1:]  # "how tall or wide is it at most": the largest of those named
    prog = _Program()
    x = prog.bind("x", _one(target, context))
    program = prog.answer(expr.format(x=x))
    return Interpretation("object_size", program, q.unit or "cm", f"The {words} of the {target.phrase} is {{answer}}.")


def _size_comparison(q: Reading, context: PlanningContext) -> Interpretation:
    _require_resolved(q, q.unresolved, context)
    candidates = q.option_mentions() if q.options else _objects(q, context, 2, "a size comparison", take_all=True)
    _require_resolved(q, candidates, context)
    smallest = q.has(r"\b(smaller|smallest|tinier|tiniest)\b")
    labels = "[" + ", ".join(_literal(m.query) for m in candidates) + "]"
    program = _Program().answer(f"{'smallest' if smallest else 'largest'}(objects({labels}))")
    which = "smallest" if smallest else "largest"
    return Interpretation("size_comparison", program, None, f"The {{answer}} is the {which} (by box volume).")


def _room_size(q: Reading, context: PlanningContext) -> Interpretation:
    if q.has(r"\bdimensions\b") and not q.has(r"\b(area|square|m2|ft2)\b"):
        program = _Program().answer("room_dimensions()")
        return Interpretation("room_dimensions", program, q.unit or "m", "The room measures {answer}.")
    program = _Program().answer("room_area()")
    return Interpretation("room_size", program, q.unit or "m2", "The floor area is {answer}.")


def _relative_distance(q: Reading, context: PlanningContext) -> Interpretation:
    _require_resolved(q, q.unresolved, context)
    # With options, the one object named that is not offered is the reference, wherever it stands
    # ("the desk is closest to which of these", "nearest neighbour of the desk", "closest to it");
    # without, the object after "closest to" / "from".
    offered = {m.labels for m in q.option_mentions()} if q.options else set()
    others = {m.labels: m for m in q.mentions if m.labels not in offered}
    reference = next(iter(others.values())) if q.options and len(others) == 1 else _by_role(q, q.mentions, _REFERENCE)
    if reference is None:
        raise NotUnderstood("which object the distances are measured to (expected '... closest to the X')")
    candidates = q.option_mentions() if q.options else [m for m in q.mentions if m is not reference]
    _require_resolved(q, candidates, context)
    candidates = [m for m in candidates if m.labels != reference.labels]
    if not candidates:
        raise NotUnderstood("which objects to compare (give options or name them)")
    prog = _Program()
    ref = prog.bind("reference", _one(reference, context))
    program, which = _extreme(q, prog, candidates, ref)
    return Interpretation("relative_distance", program, None, f"The {{answer}} is {which} the {reference.phrase}.")


def _camera_relative_distance(q: Reading, context: PlanningContext) -> Interpretation:
    """Which object is closest to (farthest from) the camera at a frame (VSTI-Bench)."""
    _require_resolved(q, q.unresolved, context)
    candidates = q.option_mentions() if q.options else _objects(q, context, 2, "a comparison", take_all=True)
    _require_resolved(q, candidates, context)
    prog = _Program()
    cam = prog.bind("cam", _camera(q, 0))
    program, which = _extreme(q, prog, candidates, cam)
    return Interpretation("camera_relative_distance", program, None, f"The {{answer}} is {which} the camera {_when(q)}.")


def _extreme(q: Reading, prog: _Program, candidates: Sequence[Mention], to: str) -> tuple[str, str]:
    """The program answering which candidate is nearest `to` (farthest, if asked) and how the
    answer says it."""
    farthest = q.wants_farthest()
    labels = "[" + ", ".join(_literal(m.query) for m in candidates) + "]"
    op = "farthest" if farthest else "nearest"
    program = prog.answer(f"{op}(objects({labels}), to={to}, mode={_literal(_mode(q))})")
    return program, "farthest from" if farthest else "closest to"


def _relative_direction(q: Reading, context: PlanningContext) -> Interpretation:
    _require_resolved(q, q.unresolved, context)
    stand = _standpoint(q, q.mentions)
    facing = _facing(q, [m for m in q.mentions if m is not stand])
    if stand is None or facing is None:
        missing = "where you stand ('standing by the X')" if stand is None else "what you face ('facing the Y')"
        raise NotUnderstood(f"a direction question needs {missing}")
    targets = [m for m in q.mentions if m is not stand and m is not facing]
    if not targets:
        raise NotUnderstood("which object's direction is asked")
    prog = _Program()
    here = prog.bind("standpoint", _one(stand, context))
    ahead = prog.bind("facing", _one(facing, context))
    view = prog.bind("view", f"view_from({here}, facing={ahead})")
    target = prog.bind("target", _one(targets[0], context))
    program = prog.answer(f"direction({view}, {target})")
    sentence = (
        f"Standing by the {stand.phrase} facing the {facing.phrase}, the {targets[0].phrase} is to your {{answer}}."
    )
    return Interpretation("relative_direction", program, None, sentence)


def _route(q: Reading, context: PlanningContext) -> Interpretation:
    _require_resolved(q, q.unresolved, context)
    plan = _plan_stops(q)
    prose = [m for m in q.mentions if all(m is not stop for stop in plan)]
    start = _standpoint(q, prose)
    facing = _facing(q, [m for m in prose if m is not start])
    rest = [m for m in q.mentions if m is not start and m is not facing]
    told = [m for m in prose if m is not start and m is not facing]
    goal = _by_role(q, told, _DESTINATION) or _role_after(q, told, _GOAL_AFTER) or (plan[-1] if plan else None)
    if start is None or goal is None:
        raise NotUnderstood("a route needs where it starts ('beginning at the X') and where it goes ('to the Y')")
    if plan and goal.labels != plan[-1].labels:
        raise NotUnderstood(f"the route goes to the {goal.phrase} but its plan ends at the {plan[-1].phrase}")
    via = [m for m in rest if m.labels not in (goal.labels, start.labels) and _by_role(q, [m], _VIA)]
    prog = _Program()
    origin = prog.bind("start", _one(start, context))
    destination = prog.bind("goal", _one(goal, context, near=origin))
    stops = [prog.bind(f"stop{i + 1}", _one(m, context, near=origin)) for i, m in enumerate(via)]
    args = [origin, destination]
    if facing is not None:
        args.append(f"facing={prog.bind('facing', _one(facing, context))}")
    if stops:
        args.append("via=[" + ", ".join(stops) + "]")
    program = prog.answer(f"route({', '.join(args)})")
    sentence = f"From the {start.phrase} to the {goal.phrase}: {{answer}}."
    return Interpretation("route", program, None, sentence, _blank_slots(q))


def _blank_slots(q: Reading) -> tuple[int, ...] | None:
    """Which route legs the numbered '[please fill in]' steps stand before.

    Each 'go forward until' ends a leg; a blank before the k-th leg is the turn at its start,
    which is turns[k] of the DSL's route (one instruction at the start and at each via stop).
    The plan starts at its last step 1: a request numbered '1) start at ... 3) fill in the
    blanks' before it is not part of it.
    """
    starts = list(re.finditer(r"\b1 (?:go forward until|(?:please )?fill in)\b", q.text))
    steps = re.findall(r"\b\d+ (?:please )?fill in\b|\bgo forward until\b", q.text[starts[-1].start() if starts else 0:])
    slots, leg = [], 0
    for step in steps:
        if step == "go forward until":
            leg += 1
        else:
            slots.append(leg)
    return tuple(slots) or None


def _appearance_order(q: Reading, context: PlanningContext) -> Interpretation:
    _require_resolved(q, q.unresolved, context)
    mentions = list(q.mentions)
    if len(mentions) < 2 and q.options:  # the options list the categories (one order, or one each)
        mentions = []
        for found in (_split_listing(q, o) for o in q.options):
            mentions += [m for m in found if all(m.labels != k.labels for k in mentions)]
    _require_resolved(q, mentions, context)
    if len(mentions) < 2:
        raise NotUnderstood("an appearance order needs at least two object categories")
    labels = "[" + ", ".join(_literal(m.query) for m in mentions) + "]"
    program = _Program().answer(f"appearance_order({labels})")
    return Interpretation("appearance_order", program, None, "In order of first appearance: {answer}.")


def _split_listing(q: Reading, text: str) -> list[Mention]:
    """Objects of an option such as 'chair, tv, sofa' (commas, 'then', arrows)."""
    return q.resolver.mentions(prepare(text.replace("->", ",")))


def _camera(q: Reading, index: int) -> str:
    if index < len(q.frames):
        return f"camera(frame={q.frames[index]})"
    if index - len(q.frames) < len(q.times):
        return f"camera(time={q.times[index - len(q.frames)]:g})"
    return 'camera("current")'


def _when(q: Reading) -> str:
    if q.frames:
        return f"at frame {q.frames[0]}"
    return f"at {q.times[0]:g} s" if q.times else "now"


def _camera_displacement(q: Reading, context: PlanningContext) -> Interpretation:
    program = _Program().answer(f"displacement({_camera(q, 0)}, {_camera(q, 1)})")
    span = _span_words(q)
    return Interpretation("camera_displacement", program, q.unit or "m", f"The camera moved {{answer}} {span}.")


def _camera_travelled(q: Reading, context: PlanningContext) -> Interpretation:
    program = _Program().answer(f"travelled({_camera(q, 0)}, {_camera(q, 1)})")
    sentence = f"The camera travelled {{answer}} along its path {_span_words(q)}."
    return Interpretation("camera_travelled", program, q.unit or "m", sentence)


def _span_words(q: Reading) -> str:
    stamps = [f"frame {f}" for f in q.frames] + [f"{t:g} s" for t in q.times]
    return f"between {stamps[0]} and {stamps[1]}" if len(stamps) >= 2 else ""


def _camera_direction(q: Reading, context: PlanningContext) -> Interpretation:
    program = _Program().answer(f"movement_direction({_camera(q, 0)}, {_camera(q, 1)})")
    return Interpretation(
        "camera_direction", program, None, f"The camera moved mainly {{answer}} {_span_words(q)}."
    )


def _camera_object_distance(q: Reading, context: PlanningContext) -> Interpretation:
    (target,) = _objects(q, context, 1, "a camera-object distance")
    prog = _Program()
    cam = prog.bind("cam", _camera(q, 0))
    obj = prog.bind("target", _one(target, context, near=cam))
    mode = _mode(q)
    program = prog.answer(f"distance({cam}, {obj}, mode={_literal(mode)})")
    when = _when(q)
    return Interpretation(
        "camera_object_distance", program, q.unit or "m", f"The {target.phrase} is {{answer}} from the camera {when}."
    )


def _object_camera_direction(q: Reading, context: PlanningContext) -> Interpretation:
    (target,) = _objects(q, context, 1, "a direction from the camera")
    prog = _Program()
    cam = prog.bind("cam", _camera(q, 0))
    obj = prog.bind("target", _one(target, context, near=cam))
    program = prog.answer(f"direction(view_from({cam}), {obj})")
    when = _when(q)
    sentence = f"{when.capitalize()}, the {target.phrase} is to the camera's {{answer}}."
    return Interpretation("object_camera_direction", program, None, sentence)


# --- Change questions (a changing world: dsl/ops/changes.py) ----------------------------------
# Kept together so the intents can move into an exemplar bank as they are: each builder's program
# is a fixed template with the object, the kind of change and the frame/time span filled in.

_CHANGE_VERBS = {
    "moved": r"moved|was moved|were moved|has moved|have moved|got moved|changed place|changed places",
    "removed": (r"removed|was removed|were removed|has been removed|have been removed|taken away|was taken|"
                r"disappeared|is gone|are gone|went missing|is missing|are missing|no longer there"),
    "appeared": r"appeared|is new|are new|was added|were added|was brought|were brought|showed up|new objects?",
}
_SEEN_AS_CAMERA = r"\b(?:relative|left|right|front|behind|facing|direction|distance|far|close)\b"


def _said(q: Reading, pattern: str) -> bool:
    """Search the question as asked: the prepared text folds 'removed' into 'moved'."""
    return re.search(pattern, q.raw.lower()) is not None


def _classify_change(q: Reading) -> str | None:
    """Change intents, tried before the others: their cues never occur in the other types."""
    if q.has(r"\bstill (?:there|here|in|around|present|exists?|standing|have|a|an|any|some)\b|"
             r"\b(?:is|are) there still\b"):
        return "still_there"
    if q.has(r"\bwhen\b") and _said(q, r"\b(?:moved|move|relocated)\b") and q.mentions and not q.has(_CAMERA_WORDS):
        return "when_moved"
    verbs = "|".join(_CHANGE_VERBS.values())
    if _said(q, rf"\b(?:what|which|anything|something|objects?|things?)\b.*\b(?:{verbs})\b") and not q.has(_CAMERA_WORDS):
        return "changes"
    about_object = q.has(r"\bwhere\b") and q.mentions and not (q.has(_CAMERA_WORDS) or q.has(_SEEN_AS_CAMERA))
    if about_object and (q.frames or q.times or q.has(
            r"\b(?:before|previously|originally|used to|at first|at the start|earlier|was it|were they)\b")):
        return "where_before"
    if about_object and q.has(r"\b(?:now|currently|at the moment|these days|today)\b"):
        return "where_now"
    return None


def _changed_object(q: Reading, context: PlanningContext, prog: _Program) -> str:
    """The object a change question is about: the only one of its label; among several, the one
    that moved; a label only seen gone names its removed object."""
    mention = next(iter(q.mentions), None)
    if mention is None:
        raise NotUnderstood("the question names no object")
    label = _literal(mention.query if mention.resolved else mention.phrase)
    if mention.resolved and _count(mention, context) == 0:
        return prog.bind("x", f"the(removed_objects({label}))")
    if mention.resolved and _count(mention, context) > 1:
        return prog.bind("x", f'the(changes(kind="moved", label={label}))')
    return prog.bind("x", _one(mention, context) if mention.resolved else f"the(removed_objects({label}))")


def _where_now(q: Reading, context: PlanningContext) -> Interpretation:
    prog = _Program()
    x = _changed_object(q, context, prog)
    return Interpretation("where_now", prog.answer(f'position_at({x}, which="now")'), None, "It is now at {answer}.")


def _where_before(q: Reading, context: PlanningContext) -> Interpretation:
    prog = _Program()
    x = _changed_object(q, context, prog)
    if q.frames or q.times:
        when = f"frame={q.frames[0]}" if q.frames else f"time={q.times[0]:g}"
        return Interpretation("where_before", prog.answer(f"position_at({x}, {when})"), None,
                              f"{_when(q).capitalize()} it stood at {{answer}}.")
    return Interpretation("where_before", prog.answer(f'position_at({x}, which="before")'), None,
                          "Before, it stood at {answer}.")


def _still_there(q: Reading, context: PlanningContext) -> Interpretation:
    mention = next(iter(q.mentions), None)
    if mention is None:
        raise NotUnderstood("the question names no object")
    label = _literal(mention.query if mention.resolved else mention.phrase)
    return Interpretation("still_there", _Program().answer(f"still_there({label})"), None, "Still there: {answer}.")


def _changes(q: Reading, context: PlanningContext) -> Interpretation:
    kind = next(k for k, verbs in _CHANGE_VERBS.items() if _said(q, rf"\b(?:{verbs})\b"))
    args = [f'kind="{kind}"']
    if len(q.frames) >= 2:
        args += [f"from_frame={min(q.frames[:2])}", f"to_frame={max(q.frames[:2])}"]
        span = f"between frames {min(q.frames[:2])} and {max(q.frames[:2])}"
    elif q.frames:
        args.append(f"from_frame={q.frames[0]}")
        span = f"since frame {q.frames[0]}"
    elif q.times:
        args.append(f"since_time={q.times[0]:g}")
        span = f"since {q.times[0]:g} s"
    else:
        span = "so far"
    program = _Program().answer(f"changes({', '.join(args)})")
    return Interpretation("changes", program, None, f"{kind.capitalize()} {span}: {{answer}}.")


def _when_moved(q: Reading, context: PlanningContext) -> Interpretation:
    prog = _Program()
    x = _changed_object(q, context, prog)
    return Interpretation("when_moved", prog.answer(f"when_moved({x})"), None, "It was seen at its new place from the {answer}.")


_RELATION_AXES = (  # the relation's axis, told by the words of the question and its options
    ("depth", r"\b(?:near|nearer|far|farther|further|closer|close|deeper|depth)\b"),
    ("horizontal", r"\b(?:left|right)\b"),
    ("vertical", r"\b(?:up|down|above|below|higher|lower|over|under|beneath|top|bottom)\b"),
)
_RELATION_REFERENCE = r"(?:relative to|compared to|compared with|than|of|from|with respect to|versus|vs)"


def _object_relative_position(q: Reading, context: PlanningContext) -> Interpretation:
    """Is A near/far, left/right, up/down of B as the camera saw them at a frame (VSTI-Bench)."""
    words = " ".join(o.lower() for o in q.options) if q.options else q.text
    axes = [axis for axis, pattern in _RELATION_AXES if re.search(pattern, words)]
    if len(axes) != 1:
        raise NotUnderstood("an object-to-object position needs one relation: near/far, left/right or up/down"
                            + (f", the question mixes {' and '.join(axes)}" if axes else ""))
    a, b = _objects(q, context, 2, "an object-to-object position")
    reference = _by_role(q, (a, b), _RELATION_REFERENCE)
    if reference is a:
        a, b = b, a
    prog = _Program()
    cam = prog.bind("cam", _camera(q, 0))
    first, second = _pair(a, b, context, prog)
    program = prog.answer(f"relative_position({first}, {second}, {cam}, axis={_literal(axes[0])})")
    sentence = f"{_when(q).capitalize()}, seen from the camera, the {a.phrase} is {{answer}} compared to the {b.phrase}."
    return Interpretation("object_relative_position", program, None, sentence)


BUILDERS = {
    "still_there": _still_there,
    "when_moved": _when_moved,
    "changes": _changes,
    "where_before": _where_before,
    "where_now": _where_now,
    "appearance_order": _appearance_order,
    "route": _route,
    "camera_direction": _camera_direction,
    "camera_displacement": _camera_displacement,
    "camera_travelled": _camera_travelled,
    "camera_object_distance": _camera_object_distance,
    "object_camera_direction": _object_camera_direction,
    "object_relative_position": _object_relative_position,
    "count": _count_objects,
    "room_size": _room_size,
    "room_dimensions": _room_size,
    "relative_direction": _relative_direction,
    "relative_distance": _relative_distance,
    "camera_relative_distance": _camera_relative_distance,
    "absolute_distance": _absolute_distance,
    "object_size": _object_size,
    "size_comparison": _size_comparison,
}
