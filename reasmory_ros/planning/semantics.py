"""The semantic check: does a valid program answer the question that was asked?

The DSL validator proves a program well typed and its labels and frames present; it cannot tell
that `displacement(camera(frame=20), camera(frame=32))` ignores the desk the question asked about.
This check compares what the question says (`Reading`) with what the program does
(`ProgramFacts`), for every planner alike (rules, local model, remote endpoint):

- every object the question mentions is bound in the program (or the check names it);
- every frame the question names is used, and no other frame ("of 32", notes and units are not
  frames: `language.frame_references`);
- the measurement reference (centres, closest points) and the asked unit are honoured;
- the kind of answer (count, length, area, choice, ...) fits the question.

A failed check goes back to a model planner as a repair message; for the rules it means the
candidate intent was wrong. `Reading.summary` says what was understood, for the final error.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from reasmory_ros import dsl
from reasmory_ros.dsl.syntax import Assign, Attr, Call, ListExpr, Name, Node, NumberLit, TextLit, child_nodes
from reasmory_ros.dsl.types import DIRECTION, NUMBER, OBJECT, PATH, SIZE, TEXT, list_of
from reasmory_ros.memory import labels as label_words
from reasmory_ros.planning.base import NotUnderstood, PlanningContext, quoted
from reasmory_ros.planning.formatting import option_body
from reasmory_ros.planning.language import (
    CATEGORY_NOUNS,
    NON_OBJECT_WORDS,
    LabelResolver,
    Mention,
    correct_typos,
    could_name_object,
    describes_no_object,
    frame_references,
    prepare,
    requested_unit,
    time_points,
)

AREA_UNITS = frozenset({"m2", "ft2"})
_DIRECTION_OPTION = re.compile(r"^(?:left|right|back|behind|front|ahead|forward|backward|front-left|front-right|"
                               r"back-left|back-right|up|down|near|far)$")
_DIRECTION_WORD_OPS = frozenset({"relative_position"})
"""Operations whose text answer is a direction word (near/far, left/right, up/down)."""
_TURN_OPTION = re.compile(r"\b(?:go forward|turn left|turn right|turn back)\b")
_GENERIC_NOUN = re.compile(r"\b(?:things|objects|items|stuff|pieces)\b")
_GENERIC_COUNTED = re.compile(r"\b(?:how many|number of|count(?: the| all)?) (?:things|objects|items|stuff|pieces)\b")
_RELATED_TO = re.compile(r"\b(?:on|onto|upon|atop|top|under|beneath|below|underneath|above|over|near|next|beside|close|"
                         r"around|behind|front|inside|in|within|between|at|against|by)(?: (?:the|a|an|my|this|that|of|to))*$")
"""Ends the words before an object that the counted things relate to ('things on the', 'items next to the')."""
_STRAIGHT = re.compile(r"\b(?:straight line|straight-line|displacement|displaced|net|direct|directly|beeline)\b")
_EXCLUDING = re.compile(r"\b(?:excluding|exclude|except|except for|other than|not counting|do not count|don t count|"
                        r"not including|ignoring|ignore|disregard|disregarding|skip|skipping|leave out|leaving out|"
                        r"but not|aside from|apart from|besides|without counting|without including|leaving aside|"
                        r"setting aside|omitting|omit|barring|excepting|save for)(?: (?:the|a|an|any|all))*$")
"""Ends the words before a mention the question leaves out."""
_LISTING = frozenset({"and", "or", "plus", "also", "as", "well", "including", "the", "a", "an", "any", "all", "of"})
"""Words that may join the categories one count adds up ('chairs and the stools', 'chairs as well as stools')."""
_TWO_MOMENT_OPS = frozenset({"movement_direction", "displacement", "travelled"})
"""Operations that compare the camera at two moments."""
_NOW = re.compile(r"\b(?:now|current|currently|present|moment|since|so far|yet|latest|today|still|anymore|last frame|"
                  r"end|ending)\b")
"""Words that put the current camera among the moments a question names ('since frame 10', 'now')."""
_PATH = re.compile(r"\b(?:walk|walked|walking|travel|travelled|traveled|travelling|traveling|cover|covered|along|path|"
                   r"trajectory|route|odometry|drive|drove|driven)\b")
"""Words that ask for the length of the path walked rather than the straight-line displacement."""
_NOT_PATH = re.compile(r"\b(?:not|rather than|instead of|never mind|ignoring|ignore)(?: \w+){0,3}? "
                       r"(?:path|trajectory|route|walked|travelled|traveled)\b")
"""'Direct distance, not the path': a path word the question rules out."""
_ASKS_DIRECTION = re.compile(r"\b(?:direction|directions|which way|what way|where|left|right|forward|forwards|backward|"
                             r"backwards|front|behind|back|ahead|quadrant|side|relative|up|down|above|below|higher|lower|"
                             r"near|far|nearer|farther|closer|further|heading|orientation|how did)\b")
"""A question without options gets a direction word for an answer only when it asks for one."""
_ASKS_SEPARATION = re.compile(r"\b(?:distance|distances|far|farther|further|apart|close|closer|away|between|gap|"
                              r"separat\w*|spacing|from)\b")
"""Words without which a question does not ask for the distance between two objects ('how big is
it' after naming a chair and a door asks a size)."""
_MEASURE_WORDS = r"\bhow (?:big|large|tall|wide|high|deep|small)\b|\b(?:length|size|dimension|dimensions|height|width)\b"
"""Words that ask an object's own measure (not 'how long', which may ask a time)."""
_ASKS_MEASURE = re.compile(rf"{_MEASURE_WORDS}|\bhow long\b")
"""An asking sentence with these and no separation word asks no distance, whatever the sentence
before it says ('I walked from the door to the desk. How tall is it?')."""
_COMPARES_COUNT = r"\b(?:(?:more|fewer|less) than|at (?:least|most)|exactly) \d+\b"
"""'Are there more than 3 chairs?' asks about a count, not only whether there is one."""
_NOT_LABELS = frozenset({"mode", "unit", "method", "which"})
_CENTRE = re.compile(r"\b(?:center|centre|centers|centres|middle|middles|center-to-center|centre-to-centre)\b")
_CLOSEST_POINT = re.compile(r"\b(?:closest|nearest) (?:points?|surfaces?|edges?)\b|\bshortest distance\b")
_FARTHEST = re.compile(r"\b(?:farthest|furthest|farther|further|most (?:distant|remote|far)|least (?:close|near)|"
                       r"(?:greatest|largest|longest|biggest|maximum|max) (?:distance|separation|gap))\b")
"""Asking for the far end of a comparison: words, 'most distant', 'least close', 'greatest distance'."""


_PLAIN_COUNT_OPS = frozenset({"count", "objects"})
"""A count program made of these counts every object of its categories: no condition on them."""
_COUNT_RESTRICTIONS = (
    ("a comparison", re.compile(r"\b(?!(?:more|less|fewer|other|rather|never|ever|either|neither|whether|"
                                r"together|over|under|after|later|earlier)\b)[a-z]{3,}er than\b|"
                                r"\b(?:more|less|over|under|above|below) (?:than )?\d+(?:\.\d+)? ?"
                                r"(?:m|meters?|metres?|cm|centimeters?|centimetres?|ft|feet|foot|inch|inches)\b")),
    ("a number of frames", re.compile(r"\b(?:in|across|over|from|on) (?:at least |more than |fewer than |at most |"
                                      r"exactly |only |just )?(?:\d+|several|many|multiple|different|a few) "
                                      r"(?:or more |different |separate |distinct )?(?:frames?|images?|views?|shots?|pictures?)\b")),
    ("a possession", re.compile(r"\b(?:have|has|having|with) (?:\d+|no|only|exactly|at least) (?!frames?\b)[a-z]+")),
    ("a colour", re.compile(r"\b(?:black|gr[ae]y|white|red|orange|yellow|green|blue|purple|pink|brown)\b"
                            r"(?! (?:room|rooms|walls?|floor|house|apartment|flat|kitchen|bedroom|office|scene|space)\b)")),
    ("a size", re.compile(r"\b\d+(?:\.\d+)? ?(?:m|meters?|metres?|cm|centimeters?|centimetres?|ft|feet|foot|inch|inches) "
                          r"(?:tall|high|wide|long|deep|across|in (?:size|height|length|width|diameter))\b")),
    ("a number of sightings", re.compile(r"\b(?:seen|saw|see|visible|appear|appears|appeared|shown|spotted) (?:only |just )?"
                                         r"(?:twice|more than once|(?:\d+|several|many|multiple) times)\b")),
    ("a grouping", re.compile(r"\bper (?!cent\b)[a-z]+|\b(?:in|on|at|for) each (?!one\b|time\b)[a-z]+")),
    ("a part of the recording", re.compile(r"\b(?:in|during|within|over|across|throughout) the (?:first|last|final|initial|"
                                           r"opening|closing|\d+(?:st|nd|rd|th)) (?:\d+ )?(?:frames?|images?|views?|"
                                           r"seconds?|minutes?|half|third|quarter|part)\b")),
    ("a change", re.compile(r"\b(?:were|was|have been|has been|got|been) (?:moved|removed|relocated|added|displaced|"
                            r"rearranged|taken away|taken out|brought in)\b|\b(?:disappeared|went missing|are missing|"
                            r"is missing|are gone|is gone)\b")),
)
"""Conditions that restrict which objects a count counts ('taller than 1 m', 'in 2 or more frames',
'with 4 legs', 'red', 'in the first 10 frames', 'were moved'): a program that counts every object
of the category ignores them."""
_CONCESSION = re.compile(r"\b(?:even if|even when|even though|even those|even ones|even the|regardless|no matter|"
                         r"whether|including|inclusive of)\b")
"""What follows widens a count rather than restricting it ('even if it appears in 2 or more frames',
'including ones seen in only 2 frames', 'regardless of how many frames')."""
_HAVING = re.compile(r"\b(?:with|without(?! (?:double )?[a-z]+ing\b)|having|(?:that|which|who) (?:have|has|had)) (?:(?:a|an|the|some|any|no|\d+) )*"
                     r"([a-z][a-z\-]*)")
"""'chairs with armrests', 'tables that have drawers': a part or property the counted objects must have."""
_COPULA_END = re.compile(r"\b(?:are|is|were|was) (?:(?:a|an|the|all|only) )*([a-z][a-z\-]*)$")
"""'how many objects in the room are bins': the word that closes the asking clause after a copula."""
_COUNTS_NON_OBJECTS = re.compile(r"\b(?:how many|number of) (?:frames|images|times|seconds|minutes|views|pictures|"
                                 r"shots|moments)\b|\bnumber of the (?:frame|image|view|picture|shot|moment)\b")
"""'How many frames show a chair', 'how many times did you see it': a count, but not of objects;
'the number of the frame where ...' asks which frame."""

_EACH_ONCE = re.compile(r"\b(?:count|counting|counted|counts)(?: (?:each|every|any|a|the|distinct|unique|different|"
                        r"individual|separate|1|object|item|thing|of them))+ (?:only |just )?once\b")
"""'how many times does a bowl show up, counting each distinct one only once': objects after all."""

_PURPOSE = re.compile(r"^(?:for|as part of|regarding|concerning)\b[^,:;.?!]{1,60},", re.IGNORECASE)
"""A leading phrase that says why the question is asked ('For the contents inventory, ...')."""
_ASKS = re.compile(r"^\W*(?:\w+ )?(?:how|what|which|where|when|who|is|are|does|do|can|could|would|will|count|tell|"
                   r"give|state|list|estimate|measure|find|name|report|record)\b", re.IGNORECASE)
"""A sentence that asks or requests, its verb first or after one word ('Please count ...')."""
_MEANT_FOR = re.compile(r"\b(?:ordering|order|buying|buy|purchasing|purchase|getting|get|making|make|building|build|"
                        r"need|needs|want|wants|shopping for|looking for|designing|design|sewing|sew)"
                        r"(?: (?:a|an|some|new|custom))*$")
_FOR_WORDS = re.compile(r"(?:for|to [a-z]+) (?:the|my|our|this|that)")
"""'I'm ordering a cover for the desk. What is its size?', 'I'm building a box to ship the bowl in':
a thing still to be had, for an object of memory, is not what the question's pronoun points to (it
does not exist to be measured)."""
_OBLIQUE = re.compile(r"\b(?:through|into|onto|in|on|under|over|next to|beside|near|past|around|behind|across|from|"
                      r"to|by|against|inside|between|of|at|with|for)(?: (?:a|an|another|any|some|the|my|our|your|his|her|"
                      r"their|this|that))?(?: [\d.]+ (?:cm|mm|m|ft|feet|foot|inch|inches|meters?|metres?))?$")
"""Ends the words before an object named after a preposition ('through a door', 'in the boot of
my hatchback'): less salient than a subject or a direct object, so a pronoun of the question
points to one of those first ('The chair is by the door. How tall is it?': the chair)."""
_ALSO = re.compile(r"^\W*(?:please |kindly )?(?:and|also|plus|then|next|compare|what|how|which|where|tell|give|state|"
                   r"list|estimate|measure|find|name|same for|likewise|as well as)\b", re.IGNORECASE)
"""A sentence that goes on asking or requesting ('Then the door.', 'Compare it with the sofa.')."""
_CORRECTION = re.compile(r"\b(?:i mean|i meant|meant|sorry|actually|rather|instead|correction|scratch that|make (?:that|it)|"
                         r"no wait|oops|typo|not the)\b")
"""A sentence that corrects the question ('Sorry, I meant the door.'): what it names is asked about."""
_WHOLE_SCOPE = re.compile(r"\b(?:in|across|throughout|within) (?:(?:the|this|that|our|my|your|whole|entire|full) )*"
                          r"(?:room|house|flat|apartment|home|space|scene|video|clip|footage|recording|scan|walkthrough|"
                          r"tour)\b(?! (?:of|by|near|next|beside|at|on)\b)|\b(?:in total|altogether|all together|all told|"
                          r"in all)\b")
"""Words by which a count says it counts everything ('in the room', 'in the whole video', 'in total')."""
_ONE_OBJECT_MEASURE_OPS = frozenset({"objects", "the", "size", "longest_dimension", "height", "volume", "footprint",
                                     "to_unit", "answer"})
"""A program made only of these measures one object picked by the(...), which must be unique."""
_POINTS_BACK = {"it": False, "its": False, "itself": False, "one": False, "they": True, "them": True, "their": True,
                "theirs": True, "these": True, "those": True, "ones": True}
"""Words by which a question refers to something named before it: whether they stand for a plural."""


COUNT_CUE = r"\bhow many\b|\bnumber of\b|\bcount\b|\b(?:headcount|tally|quantity)\b|\b(?:the|exact|total|a) number\b(?! \d)"
"""Words that ask for a count ('how many', 'the exact number'; not 'frame number 12')."""
UNKNOWN_OBJECT = "no object in memory matches"
"""How the check's problem about an unknown object begins (an existence question may name one)."""


class Reading:
    """One question read once: prepared text, object mentions, frames, times, unit and options.

    `frames` are 1-based stream frames ("frame k of N" already mapped to the stream); a frame
    reference that cannot exist raises NotUnderstood saying why.
    """

    def __init__(self, question: str, options: Sequence[str] | None, resolver: LabelResolver, frame_count: int):
        self.raw = question
        self.text = correct_typos(prepare(question), lambda word: bool(resolver.resolve(word, allow_embedding=False)[0]),
                                  NON_OBJECT_WORDS | resolver.label_words)
        self.words = self.text.split()
        self.options = [option_body(o) for o in options] if options else []
        found = resolver.mentions(self.text)
        self._asking, self._asking_words, self._also_asking = self._asking_sentence()
        self.aside = self._context_only(found)
        self.modifiers = [(m, n) for m, n in zip(found, found[1:])
                          if not m.resolved and n.resolved and m.end == n.start and all(m is not a for a in self.aside)]
        """(word, object) pairs: unknown words right before an object of memory ('the lone desk', 'the
        old chairs') describe it; the semantic check allows them only where they cannot change the answer."""
        self.mentions = [m for m in found if all(m is not a for a in self.aside) and
                         all(m is not word for word, _ in self.modifiers)]
        self.excluded = self._excluded()
        self.frame_refs = frame_references(self.text)
        try:
            frames = [ref.stream_frame(frame_count) for ref in self.frame_refs]
        except ValueError as err:
            raise NotUnderstood(str(err)) from None
        # a frame named twice is one moment: 'the camera at frame 60 ... between frames 60 and 81'
        first = [k for k, frame in enumerate(frames) if frame not in frames[:k]]
        self.frame_refs = [self.frame_refs[k] for k in first]
        self.frames = [frames[k] for k in first]
        self.times = time_points(self.text)
        self.unit = requested_unit(self.text) or requested_unit(question)  # 'sqare meters' corrected first
        self.resolver = resolver
        self.frame_count = frame_count

    def has(self, pattern: str) -> bool:
        return re.search(pattern, self.text) is not None

    def before(self, mention: Mention, n: int = 4) -> str:
        return " ".join(self.words[max(0, mention.start - n) : mention.start])

    def _excluded(self) -> list[Mention]:
        """Mentions the question leaves out ('excluding the door', 'other than the sofa and the tv')."""
        out: list[Mention] = []
        for mention in self.mentions:
            before = self.before(mention, 4)
            listed = out and out[-1].end >= mention.start - 3 and re.search(r"\b(?:and|or|nor)(?: the| a| an)?$", before)
            after = " ".join(self.words[mention.end:mention.end + 3])
            if re.match(r"(?:twice|again|more than once|double)\b", after):  # "not counting any chair twice"
                continue
            if _EXCLUDING.search(before) or listed:
                out.append(mention)
        return out

    def _asking_sentence(self) -> tuple[str, range, list[range]]:
        """The sentence that asks (the first with a question mark, or without one the first that
        asks or requests), the indices of its words in self.words, and those of any other question,
        request or correction ('... ? Then the door.', '... ? Sorry, I meant the door.'): they ask too.
        What comes before or after it (a preamble, a purpose phrase, a label before a colon, a dashed
        aside, a note) does not ask."""
        raw = _PURPOSE.sub(r"\g<0>. ", self.raw.strip(), count=1)  # 'For the insurance report, please ...'
        sentences = re.split(r"(?<=[.!?;:])\s+|(?<!\d)\s+[-–—]+\s+(?!\d)|,\s+(?=(?:and )?(?:so|therefore|thus|hence)\b)"
                             r"|,\s+(?=(?i:i|we|my|our)\b)", raw)  # '..., I have a box that is 120 cm long'
        asking = next((k for k, sentence in enumerate(sentences) if sentence.rstrip().endswith("?")), None)
        if asking is None:  # no question mark: the first sentence that asks ('Please count the books. My son ...')
            asking = next((k for k, sentence in enumerate(sentences) if _ASKS.match(sentence)), len(sentences) - 1)
        bounds = [len(prepare(" ".join(sentences[:n])).split()) for n in range(len(sentences) + 1)]  # they lead self.words
        words = [range(a, b) for a, b in zip(bounds, bounds[1:])]
        others = [words[k] for k, sentence in enumerate(sentences) if k != asking and (
            sentence.rstrip().endswith("?") or _ALSO.match(sentence)
            or _CORRECTION.search(prepare(sentence)))]
        return sentences[asking], words[asking], others

    def _context_only(self, mentions: list[Mention]) -> list[Mention]:
        """Unknown words in a statement before or after the question ('My renovation is next
        week. How many chairs are there?', '... - how many chairs are there?', 'How many chairs are
        there? I want to stick an asset label on each one.'): context, set aside and reported.

        Not when the question has a pronoun with no object of its own sentence before it that
        may point to them: one of their number before the question ('I bought a cover for the door.
        What is its size?': 'its' may be the cover; 'them' is not one renovation), any after it. A
        thing still to be had for an object of memory ('I'm ordering a cover for the door. What is
        its size?') cannot be measured: the pronoun is the object's."""
        start, end = self._asking_words.start, self._asking_words.stop
        before = [m for m in mentions if m.start < start and not m.resolved]  # 'doubt, state' is one run
        after = [m for m in mentions if m.start >= end and not m.resolved]
        meant_for = [m for m in before if _MEANT_FOR.search(self.before(m, 4)) and self._for_an_object(m, mentions)]
        for k in range(start, end):
            plural = self._points_back(k)
            if plural is None or any(m.resolved and start <= m.start < k for m in mentions):
                continue
            after = []
            salient = any(m.resolved and m.start < start and _singular(m.phrase) != plural and not self._oblique(m)
                          for m in mentions)  # 'whether the door fits in the boot of my hatchback': the door
            if any(_singular(m.phrase) != plural for m in before if m not in meant_for and not (salient and self._oblique(m))):
                before = meant_for
        return before + after

    @property
    def asking_text(self) -> str:
        """The asking sentence, prepared."""
        return " ".join(self.words[i] for i in self._asking_words)

    def _points_back(self, k: int) -> bool | None:
        """Whether word k refers to something named before it, and if so whether to a plural; None
        if it does not ('the one by the door' is prepared as 'the 1 by the door')."""
        if self.words[k] == "1" and k > 0 and self.words[k - 1] in ("the", "this", "that", "which", "each"):
            return False
        return _POINTS_BACK.get(self.words[k])

    def _oblique(self, mention: Mention) -> bool:
        return _OBLIQUE.search(self.before(mention, 5)) is not None

    def _for_an_object(self, mention: Mention, mentions: list[Mention]) -> bool:
        """Whether 'for the' or 'to <verb> the' and an object of memory follow it: 'a cover for the
        desk', 'a box to ship the bowl in'."""
        return any(m.resolved and _FOR_WORDS.fullmatch(" ".join(self.words[mention.end:m.start])) for m in mentions)

    @property
    def outside(self) -> list[Mention]:
        """Objects of memory named only outside the asking sentence ('How long is the chair? I want
        it through my door.'), when that sentence names its own object and points back to none; or,
        when it points back, those after a preposition ('We carry the desk through a door. What is
        its size?'), if exactly one other object is left to point to."""
        start, end = self._asking_words.start, self._asking_words.stop
        own = [m for m in self.mentions if m.resolved and start <= m.start < end]
        points_back = any(self._points_back(k) is not None and not any(m.start < k for m in own) for k in range(start, end))
        asked = [range(start, end), *self._also_asking]  # 'How big is the chair? And the desk?', '... I meant the desk.'
        named = [m for m in self.included if m.resolved and not any(m.start in r for r in asked)]
        if own and not points_back:
            return named
        oblique = [m for m in named if self._oblique(m)]
        return oblique if points_back and not own and len(named) - len(oblique) == 1 else []

    @property
    def count_context(self) -> list[Mention]:
        """Objects of memory named before a count that says it counts the whole room or recording
        ('I'm standing at the door. How many chairs are in the room?'): where the asker is does not
        restrict it. Without such words ('I'm at the desk. How many chairs are there?') they may."""
        if not _WHOLE_SCOPE.search(self.asking_text):
            return []
        return [m for m in self.outside if m.start < self._asking_words.start]

    @property
    def included(self) -> list[Mention]:
        """The mentions that are not left out."""
        return [m for m in self.mentions if all(m is not e for e in self.excluded)]

    @property
    def unresolved(self) -> list[Mention]:
        """Unknown objects the question needs (one it leaves out may be unknown: 'not counting any piano')."""
        return [m for m in self.included if not m.resolved]

    def option_mentions(self) -> list[Mention]:
        """Each option read as one object phrase (for 'which of these objects' questions)."""
        resolved = self.resolver.resolve_all([prepare(option) for option in self.options])
        return [Mention(option, -1, -1, labels, how) for option, (labels, how) in zip(self.options, resolved)]

    def measure_mode(self) -> str | None:
        """'center' or 'closest' when the question says how to measure, else None."""
        if _CENTRE.search(self.text):
            return "center"
        return "closest" if _CLOSEST_POINT.search(self.text) else None

    def wants_farthest(self) -> bool:
        """Whether a closest/farthest comparison asks for the farthest ("closest points" is a measure, not a pick)."""
        return _FARTHEST.search(_CLOSEST_POINT.sub(" ", self.text)) is not None

    def spans_recording(self, frame_count: int) -> bool:
        """Whether the frames named are the whole recording: 'frames 1 to 96' of 96, 'from frame 1 to the end'."""
        named = set(self.frames)
        return 1 in named and named <= {1, frame_count} and (
            frame_count in named or self.has(r"\b(?:to|until|till|through) the (?:end|last)\b"))

    def counts_things_related(self) -> bool:
        """Whether generic things are counted by their relation to a named object ('how many things
        are on the table'), not named by it ('how many objects are tables', 'items of the X category')."""
        counted = _GENERIC_COUNTED.search(self.text)
        return counted is not None and any(
            m.resolved and m.start >= len(self.text[:counted.end()].split()) and _RELATED_TO.search(self.before(m, 5))
            and not set(self.words[m.end:m.end + 1]) & CATEGORY_NOUNS  # "in the chair category"
            for m in self.mentions)

    def answer_kinds(self) -> frozenset[str] | None:
        """The kinds of answer the question admits (None: it does not say)."""
        if self.options:
            bodies = [o.lower() for o in self.options]
            if all(_DIRECTION_OPTION.match(b) for b in bodies):
                return frozenset({"direction"})
            if any(_TURN_OPTION.search(b) for b in bodies):
                return frozenset({"route"})
            if all("," in b for b in bodies):
                return frozenset({"order"})
            return frozenset({"choice", "order"})  # "which did you see first?" takes an order's head
        if self.counted_mention() is not None:  # "how many chairs ...? Ignore sizes in cm": objects, not a unit
            return frozenset({"count"})
        if self.unit in AREA_UNITS:
            return frozenset({"area"})
        if self.unit:
            return frozenset({"length", "size"})
        if self.has(COUNT_CUE):
            return frozenset({"count"})
        picks = re.search(r"\b(?:closest|nearest|nearer|closer)\b", _CLOSEST_POINT.sub(" ", self.text))
        if self.has(r"\bwhich\b") and (picks or self.wants_farthest()):  # "which has the greatest distance to X"
            return frozenset({"choice", "order"})
        if self.has(r"\b(?:how far|distance|apart|how close|displacement|displaced|separate|gap)\b"):
            return frozenset({"length"})
        if self.has(_MEASURE_WORDS) and not self.has(r"\b(?:which|time|duration|seconds|minutes|view|visible)\b"):
            return frozenset({"length", "size", "area"})  # a measure, not which object is biggest
        return None

    def _asking_clause(self) -> range:
        """The indices of the asking clause's words: the asking sentence (`_asking_sentence`) up
        to a bracket, ';' or '!'; the sentences around it and notes in brackets are left out."""
        first = re.split(r"[?!;(\[]|\.\s+(?=[A-Z])", self._asking, maxsplit=1)[0]
        start = self._asking_words.start
        return range(start, start + len(prepare(first).split()))

    def count_restriction(self) -> str | None:
        """A condition in the question's asking clause that restricts what is counted, or that
        counts something other than objects."""
        named = {i for m in self.mentions if m.resolved for i in range(m.start, m.end)}  # 'red chair' may be a label
        clause = " ".join(self.words[i] for i in self._asking_clause() if i not in named)
        clause = _CONCESSION.split(clause, maxsplit=1)[0]  # "each once, even if it appears in 2 or more frames"
        non_objects = _COUNTS_NON_OBJECTS.search(clause)
        if non_objects and not (non_objects.group(0).endswith("times") and _EACH_ONCE.search(clause)):
            return f"not a count of objects ({quoted(non_objects.group(0))})"
        for kind, pattern in _COUNT_RESTRICTIONS:
            found = pattern.search(clause)
            if found and kind in ("a number of frames", "a part of the recording") and _whole_recording(
                    found.group(0), self.frame_count):
                continue  # "across 96 frames" of a 96-frame recording, "in at least 1 frame": all of it
            if found:
                return f"{kind} ({quoted(found.group(0))})"
        having = _HAVING.search(clause)
        after = clause[having.end():].split()[:1] if having else []
        if having and could_name_object(having.group(1)) and not (after and describes_no_object(after[0])):
            # not 'with the camera', 'with respect to', 'with a complete inventory'
            return f"a part or property ({quoted(having.group(0))})"
        return None

    def counted_mention(self) -> Mention | None:
        """The object right after 'how many' / 'number of' ('how many chairs are near the desk'):
        what is counted, unless generic things are ('how many objects are near the chair')."""
        for cue in re.finditer(r"\b(?:how many|number of)(?: the)? ", self.text):
            start = len(self.text[:cue.end()].split())
            found = next((m for m in self.mentions if m.start == start and m.resolved), None)
            if found is not None:
                return found
        return None

    def counted_category(self) -> str | None:
        """An unknown plural noun that names what generic things are counted as ('how many objects
        are bins'), which a count of all objects would ignore."""
        clause = " ".join(self.words[i] for i in self._asking_clause())
        found = _COPULA_END.search(clause) if _GENERIC_NOUN.search(clause) else None
        word = found.group(1) if found else ""
        return word if word and could_name_object(word) and label_words.singular(word) != word else None

    def summary(self) -> str:
        """What was understood, for an error message."""
        parts = []
        bound = [m for m in self.mentions if m.resolved]
        if bound:
            parts.append("objects " + ", ".join(f"{m.phrase!r} -> {'/'.join(m.labels)}" for m in bound))
        if self.unresolved:
            parts.append("unknown objects " + ", ".join(repr(m.phrase) for m in self.unresolved))
        if self.modifiers:
            parts.append("describing words " + ", ".join(f"{w.phrase!r} ({n.phrase!r})" for w, n in self.modifiers))
        if self.aside:
            parts.append("set aside as context " + ", ".join(repr(m.phrase) for m in self.aside))
        if self.frame_refs:
            parts.append("frames " + ", ".join(f"{ref} (stream frame {f})" for ref, f in zip(self.frame_refs, self.frames)))
        if self.times:
            parts.append("times " + ", ".join(f"{t:g} s" for t in self.times))
        if self.unit:
            parts.append(f"unit {self.unit}")
        return "; ".join(parts) or "no objects, frames or units"


@dataclass
class ProgramFacts:
    """What a validated program does: objects it selects, frames and times, modes, answer kind."""

    labels: set[str] = field(default_factory=set)
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    ops: set[str] = field(default_factory=set)
    current: bool = False
    moments: set[str] = field(default_factory=set)
    """The distinct camera(...) calls: the moments the program looks at."""
    kind: str | None = None
    answer_op: str | None = None


def program_facts(typed: dsl.TypedProgram, memory_labels: Sequence[str]) -> ProgramFacts:
    """Walk a validated program once; `memory_labels` resolve what `objects(...)` names."""
    facts = ProgramFacts()
    assigned = {s.target: s.value for s in typed.program.statements if isinstance(s, Assign)}
    stack: list[Node] = list(typed.program.statements)
    while stack:
        node = stack.pop()
        stack.extend(child_nodes(node))
        if not isinstance(node, Call):
            continue
        facts.ops.add(node.op)
        keywords = {k.name: k.value for k in node.keywords}
        # camera(frame=, time=) and the change operations' frame spans (dsl/ops/changes.py)
        facts.frames += [int(keywords[k].value) for k in ("frame", "from_frame", "to_frame")
                         if isinstance(keywords.get(k), NumberLit)]
        facts.times += [float(keywords[k].value) for k in ("time", "since_time") if isinstance(keywords.get(k), NumberLit)]
        if node.op == "to_unit":
            facts.units += _texts(node.args[1] if len(node.args) > 1 else keywords.get("unit"))
        for arg in node.args + tuple(v for k, v in keywords.items() if k not in _NOT_LABELS):
            for text in _texts(arg):  # any text argument naming memory objects (objects, appearance_order...)
                facts.labels.update(label_words.resolve(text, memory_labels))
        facts.current |= node.op == "camera" and any(isinstance(a, TextLit) and a.value == "current" for a in node.args)
        if node.op == "camera":
            facts.moments.add(repr(([_value(a) for a in node.args], sorted((k, _value(v)) for k, v in keywords.items()))))
        if isinstance(keywords.get("mode"), TextLit):
            facts.modes.append(keywords["mode"].value)
    value = typed.calls[id(typed.answer)].args["value"]
    facts.kind, facts.answer_op = _kind(value, typed, assigned)
    return facts


def _value(node: Node) -> object:
    """A literal's value, a name's name: what a node says, wherever it stands in the text."""
    return getattr(node, "value", getattr(node, "name", type(node).__name__))


def _texts(node: Node | None) -> list[str]:
    if isinstance(node, TextLit):
        return [node.value]
    if isinstance(node, ListExpr):
        return [item.value for item in node.items if isinstance(item, TextLit)]
    return []


def _kind(node: Node, typed: dsl.TypedProgram, assigned: dict[str, Node]) -> tuple[str | None, str | None]:
    """The answer's kind from its static type and, for numbers, the unit of the operation."""
    while isinstance(node, Name) and node.name in assigned:
        node = assigned[node.name]
    kind_of_type = {DIRECTION: "direction", PATH: "route", OBJECT: "choice", TEXT: "choice", SIZE: "size",
                    list_of(TEXT): "order"}
    value_type = typed.type_of(node)
    op = node.op if isinstance(node, Call) else None
    if op in _DIRECTION_WORD_OPS:
        return "direction", op
    if value_type != NUMBER:
        return kind_of_type.get(value_type), op
    if isinstance(node, Attr):
        return "length", op  # size(x).length, route(...).length: metres
    if op == "to_unit":
        inner, _ = _kind(node.args[0], typed, assigned)
        return inner, op
    unit = dsl.OPERATIONS[op].unit if op in dsl.OPERATIONS else ""
    return {"m": "length", "m2": "area", "": "count" if op == "count" else None}.get(unit), op


def context_objects(reading: Reading, facts: ProgramFacts) -> list[Mention]:
    """Objects named around the question that a program measuring one object may leave out ('How
    long is the chair? I'd like to know if it fits through my door.'): the asking sentence names the
    object measured, and the DSL's the(...) refuses it when it is not the only one, so an object
    named outside cannot change the answer. Likewise those before a count of the whole room
    (`Reading.count_context`). The answer says they were read as context."""
    if facts.ops <= _PLAIN_COUNT_OPS | {"answer"}:
        return [m for m in reading.count_context if not set(m.labels) & facts.labels]
    if not facts.ops <= _ONE_OBJECT_MEASURE_OPS or len(facts.labels) != 1:
        return []
    return [m for m in reading.outside if not set(m.labels) & facts.labels]


def check(reading: Reading, facts: ProgramFacts, context: PlanningContext) -> list[str]:
    """What the program gets wrong about the question; empty when it answers what was asked."""
    problems = []
    for mention in reading.unresolved:
        problems.append(f"{UNKNOWN_OBJECT} {quoted(mention.phrase)} (memory has: "
                        f"{', '.join(context.labels) or 'no objects'})")
    context_only = context_objects(reading, facts)
    for mention in (m for m in reading.included if m.resolved and all(m is not c for c in context_only)):
        if not set(mention.labels) & facts.labels:
            problems.append(f"the question mentions {quoted(mention.phrase)} but the program ignores it")
    for mention in (m for m in reading.excluded if m.resolved):
        if set(mention.labels) & facts.labels:
            problems.append(f"the question leaves out {quoted(mention.phrase)} but the program uses it")
    for word, described in reading.modifiers:
        held = sum(context.label_counts.get(label, 0) for label in described.labels)
        if facts.answer_op == "count" or held != 1:  # 'how many old chairs'; 'the old chair' of three
            problems.append(f"the question picks {quoted(described.phrase)} by {quoted(word.phrase)}, which the memory "
                            f"cannot tell ({held} in memory)")
    whole = not facts.frames and reading.spans_recording(context.frame_count)  # "frames 1-96": all of it
    for ref, frame in zip(reading.frame_refs, reading.frames):
        if frame not in facts.frames and not whole:
            problems.append(f"the question names {ref} (stream frame {frame}) but the program does not use it")
    for frame in sorted(set(facts.frames) - set(reading.frames)):
        problems.append(f"the program uses frame {frame}, which the question does not name")
    if facts.current and (reading.frames or reading.times) and not _NOW.search(reading.text):
        problems.append("the question names its moments and 'now' is not one of them, the program uses the current camera")
    if set(reading.times) != set(facts.times):
        problems.append(f"the question names times {reading.times or 'none'}, the program uses {facts.times or 'none'}")
    mode = reading.measure_mode()
    if mode is not None and any(m != mode for m in facts.modes):
        problems.append(f"the question measures between {'centres' if mode == 'center' else 'closest points'}, "
                        f"the program uses mode {facts.modes}")
    if (_STRAIGHT.search(reading.text) or _NOT_PATH.search(reading.text)) and "travelled" in facts.ops:
        problems.append("the question asks for the straight-line displacement, the program measures the path")
    elif "travelled" in facts.ops and len(reading.frames) + len(reading.times) >= 2 and not _PATH.search(reading.text):
        # "how far did the camera move between frame i and frame j" is VSTI-Bench's displacement
        problems.append("the question asks how far the camera moved between two moments (the straight line), "
                        "the program measures the path walked")
    if facts.ops & _TWO_MOMENT_OPS and len(facts.moments) < 2:  # 'cam motion 49->61': its frames were not read
        problems.append("the program compares the camera at one moment with itself: the question's moments were not read")
    if reading.unit and any(u != reading.unit for u in facts.units):
        problems.append(f"the question asks for {reading.unit}, the program converts to {facts.units}")
    kinds = reading.answer_kinds()
    if kinds is not None and facts.kind not in kinds:
        problems.append(f"the question asks for a {' or '.join(sorted(kinds))}, the program answers a "
                        f"{facts.kind or 'value of another kind'}")
    if facts.answer_op in {"largest", "smallest"} and not reading.options and not reading.has(r"\b(?:which|what)\b"):
        problems.append("the question does not ask which object, the program picks one")
    asks_separation = _ASKS_SEPARATION.search(reading.text) and not (  # 'I walked from the door to the desk.
        _ASKS_MEASURE.search(reading.asking_text) and not _ASKS_SEPARATION.search(reading.asking_text))  # How tall is it?'
    if facts.answer_op == "distance" and not facts.moments and not asks_separation:
        problems.append("the question does not ask how far apart two objects are, the program measures a distance")
    if facts.kind == "direction" and not reading.options and not _ASKS_DIRECTION.search(reading.text):
        problems.append("the question does not ask for a direction, the program answers one")
    if facts.answer_op == "exists" and reading.has(_COMPARES_COUNT):
        problems.append("the question compares a number of objects, the program only says whether one exists")
    elif facts.answer_op == "exists" and reading.has(r"\b(?:many|number)\b"):  # 'hw many chairs did you notice'
        problems.append("the question asks for a number, the program only says whether an object exists")
    extreme = "farthest" if reading.wants_farthest() else "nearest"
    if facts.answer_op in {"nearest", "farthest"} and facts.answer_op != extreme:
        problems.append(f"the question asks for the {extreme} object, the program picks the {facts.answer_op}")
    restriction = reading.count_restriction() if facts.answer_op == "count" else None
    if restriction and facts.ops <= _PLAIN_COUNT_OPS | {"answer"}:
        problems.append(f"the question counts with a condition, {restriction}, the program counts every object "
                        "of the category")
    if facts.answer_op == "count" and facts.ops <= {"count", "all_objects", "answer"} and reading.counted_category():
        problems.append(f"the question counts {quoted(reading.counted_category())}, which names no object in memory; "
                        "the program counts every object")
    counted = reading.counted_mention() if facts.answer_op == "count" and "all_objects" in facts.ops else None
    if counted is not None:  # "after looking around, how many chairs": not the objects around a chair
        problems.append(f"the question counts {quoted(counted.phrase)}, the program counts other objects")
    if facts.answer_op == "count" and "all_objects" not in facts.ops:
        for m in reading.included:  # "chair legs": a singular label before an unknown plural noun counts its parts
            head = reading.words[m.end] if m.end < len(reading.words) else ""
            named = any(o.start == m.end for o in reading.mentions)  # 'chair/chairs', 'cabinet doors': see below
            if m.resolved and _singular(m.phrase) and could_name_object(head) and not _singular(head) and not named:
                problems.append(f"the question counts {quoted(m.phrase + ' ' + head)}, the program counts "
                                f"{quoted(m.phrase)}")
        if reading.counts_things_related():  # count(on(all_objects(), table)) counts the things on it
            problems.append("the question counts things related to an object, the program counts the object itself")
        counted = [m for m in reading.included if set(m.labels) & facts.labels]
        for a, b in zip(counted, counted[1:]):  # "chairs and stools" adds up, "chairs at the desk" does not
            if a.labels != b.labels and not set(reading.words[a.end:b.start]) <= _LISTING:
                problems.append(f"the question relates {quoted(a.phrase)} to {quoted(b.phrase)}, the program counts both")
            elif a.labels != b.labels and a.end == b.start and _singular(a.phrase):
                # "cabinet doors": a singular noun before another names a kind or part of it, not a listing
                problems.append(f"the question counts {quoted(a.phrase + ' ' + b.phrase)}, the program counts "
                                f"{quoted(a.phrase)} and {quoted(b.phrase)} separately")
    return problems


def _whole_recording(phrase: str, frame_count: int) -> bool:
    """Whether 'in N frames' names every frame of the recording or any one of them ('in at least
    1 frame'): a description, not a condition."""
    if re.search(r"\b(?:at least 1|1 or more) (?:frame|image|view|shot|picture)", phrase):
        return True
    number = re.search(r"\b\d+\b", phrase)
    return number is not None and int(number.group(0)) >= frame_count > 0


def _singular(phrase: str) -> bool:
    return label_words.singular(phrase) == label_words.normalise(phrase)


def check_program(program: str | dsl.TypedProgram, reading: Reading, context: PlanningContext) -> list[str]:
    """`check` of program text (parsed and validated against the context) or of a validated program.

    Raises DslError when the text does not parse or validate.
    """
    typed = program if isinstance(program, dsl.TypedProgram) else dsl.validate(
        dsl.parse(program), Counter(context.label_counts), context.frame_count)
    labels = sorted(set(context.labels) | set(context.removed_labels))  # removed objects: the past
    return check(reading, program_facts(typed, labels), context)
