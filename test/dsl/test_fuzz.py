"""Whatever text arrives, parse + validate + run ends in an Answer or a DslError, quickly.

Three generators: arbitrary text, sequences of the grammar's own tokens (mostly syntax errors,
some valid programs), and well-formed programs of random calls with random arguments (mostly
type errors, many that run). A DslInternalError (an operation failing unexpectedly) fails the test
too: it means a bug in the DSL, even though the user would still get a DslError.
"""

from __future__ import annotations

import dataclasses
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from known_room import build_snapshot

from reasmory_ros.dsl import OPERATIONS, Answer, DslError, DslInternalError, run
from reasmory_ros.dsl.types import ATTRIBUTES, DslType, fits
from reasmory_ros.memory.snapshot import SceneMap

SNAPSHOT = build_snapshot()
BARE = dataclasses.replace(SNAPSHOT, scene_map=SceneMap.empty(0.1), keyframes=())
TIME_LIMIT = 2.0
"""CPU seconds one program may take: guards against runaway work (process time, so other processes
on a busy machine cannot make it fail; speed itself is measured in benchmarks/)."""

NAMES = ["a", "b", "sofa", "x"]
TEXTS = ['"sofa"', '"chair"', '"tv"', '"piano"', '"closest"', '"center"', '"current"', '"cm"',
         '"m2"', '"left"', '"back"', '"hull"', "''", '"first"']
NUMBERS = ["0", "1", "-1", "2.5", "100", "1e9", "-0.0", "31", "1e-9", "999999"]
FIELDS = sorted({name for fields in ATTRIBUTES.values() for name in fields} | {"__class__"})
KEYWORDS = sorted({p.name for op in OPERATIONS.values() for p in op.params})
PUNCTUATION = ["(", ")", "[", "]", ",", "=", ".", "\n", ";", "True", "False", "# c\n"]
LEAVES = NAMES + TEXTS + NUMBERS
TOKENS = sorted(OPERATIONS) + LEAVES + FIELDS + KEYWORDS + PUNCTUATION


def outcome(program: str) -> list[Answer | DslError]:
    """Outcomes on the room and on a map-less memory; any non-DSL exception propagates."""
    results = []
    for snapshot in (SNAPSHOT, BARE):
        start = time.process_time()
        try:
            results.append(run(program, snapshot))
        except DslInternalError:
            raise
        except DslError as err:
            assert err.format()
            results.append(err)
        assert time.process_time() - start < TIME_LIMIT, program
    return results


FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text):
    outcome(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_token_sequences(tokens):
    outcome(" ".join(tokens))


LABELS = ['"sofa"', '"chairs"', '"television"', '"coffee table"', '"lamp"', '"piano"']
LITERALS = {
    "Number": st.sampled_from(NUMBERS),
    "Text": st.sampled_from(TEXTS + LABELS),
    "Bool": st.sampled_from(["True", "False"]),
}
SIMPLE = {
    "Object": 'the(objects("sofa"))', "ObjectSet": 'objects("chair")',
    "Camera": "camera(frame=5)", "Point": "point(1, 2)", "View": 'view_from(camera("current"))',
    "Direction": 'movement_direction(camera("first"), camera("current"))',
    "Path": "route(point(1, 2), point(3, 4))", "Size": "room_dimensions()",
    "Image": "render(camera(frame=3))", "Place": 'locate(the(objects("sofa")))',
}
"""Leaves for the types without literals, used where the depth budget is spent."""


def _typed(type_: DslType, depth: int) -> st.SearchStrategy[str]:
    """Expressions of a type: literals, calls of operations returning it, fields giving it."""
    key = (str(type_), depth)
    if key not in _CACHE:
        options = []
        if type_.name in LITERALS:
            options.append(LITERALS[type_.name])
        if type_.name == "List":
            items = sorted(type_.items) if type_.items else ["Text"]
            options.append(st.lists(st.one_of([_typed(DslType(i), max(depth - 1, 0))
                                               for i in items]), max_size=3)
                           .map(lambda xs: f"[{', '.join(xs)}]"))
        if type_.name == "ObjectSet":
            options.append(st.sampled_from(LABELS).map(lambda label: f"objects({label})"))
        if depth > 0:
            options += [_call(op, depth - 1) for op in OPERATIONS.values()
                        if op.name != "answer" and fits(op.returns, type_)]
            options += [_typed(DslType(owner), depth - 1).map(lambda e, f=name: f"{e}.{f}")
                        for owner, fields in ATTRIBUTES.items()
                        for name, attr in fields.items() if fits(attr.type, type_)]
        if not options:
            options.append(st.just(SIMPLE[type_.name]))
        _CACHE[key] = st.one_of(options)
    return _CACHE[key]


_CACHE: dict[tuple[str, int], st.SearchStrategy[str]] = {}


def _argument(param, depth: int) -> st.SearchStrategy[str]:
    """A well-typed argument, or one time in forty a random value (a deliberate mistake)."""
    if param.choices:
        good = st.sampled_from([f'"{c}"' for c in param.choices])
    else:
        good = st.sampled_from(param.types).flatmap(lambda t: _typed(t, depth))
    return st.integers(0, 39).flatmap(lambda i: st.sampled_from(LEAVES) if i == 0 else good)


def _call(op, depth: int) -> st.SearchStrategy[str]:
    def render(values):
        parts = []
        for param, (give, value) in zip(op.params, values):
            if param.required:
                parts.append(value)
            elif give:
                parts.append(f"{param.name}={value}")
        return f"{op.name}({', '.join(parts)})"

    return st.tuples(*[st.tuples(st.booleans(), _argument(p, depth)) for p in op.params]
                     ).map(render)


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(OPERATIONS.values(), key=lambda o: o.name)).flatmap(
    lambda op: _call(op, 1)), min_size=1, max_size=3))
def test_random_well_typed_programs(calls):
    """Programs built from the registry's signatures, one statement per call, answering the
    last value."""
    program = "".join(f"v{i} = {call}\n" for i, call in enumerate(calls))
    outcome(program + f"answer(v{len(calls) - 1})")


def test_some_generated_programs_run():
    """The generators above reach execution, not only the parser (sanity of the fuzzing)."""
    for program in ('a = objects("chair")\nanswer(count(a))',
                    'answer(route(point(999999, 0), point(-999999, 1), via=[]))',
                    'answer(render(view_from(point(999999, 1), facing=point(0, 0))))'):
        assert isinstance(outcome(program)[0], Answer)
