"""Hostile and nonsensical questions and programs on a real memory (rendered scene, real
SpatialMemory): every one ends in an answer or a clear error, quickly, never in a traceback or a
hang. The node's ~/ask and ~/run_program run exactly these calls (test_node_robustness.py sends
the same inputs over DDS)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import BAD_PROGRAMS, BAD_QUESTIONS, TIME_LIMIT, timed

from reasmory_ros import dsl
from reasmory_ros.dsl import DslError, DslInternalError
from reasmory_ros.planning.answering import answer_question


@pytest.fixture(scope="module")
def snapshot(room_memory):
    return room_memory.snapshot()


@pytest.fixture(scope="module")
def unique_labels(snapshot):
    """Two labels held by exactly one object each (questions about them have one answer)."""
    counts = snapshot.label_counts()
    labels = sorted(label for label, n in counts.items() if n == 1)
    assert len(labels) >= 2, counts
    return labels[:2]


@pytest.mark.parametrize("name", list(BAD_QUESTIONS))
def test_bad_question_ends_in_a_clear_error(name, snapshot, rules):
    question = BAD_QUESTIONS[name]
    result, seconds = timed(answer_question, question, None, snapshot, rules=rules)
    assert not isinstance(result, Exception), f"{type(result).__name__}: {result}"
    assert seconds < TIME_LIMIT, f"{name}: {seconds:.2f} s"
    assert not result.ok and result.error, result
    assert len(result.error) < 1000, "an error quotes the question, it does not echo it"
    assert "Traceback" not in result.error


def test_empty_and_oversized_questions_say_why(snapshot, rules):
    assert answer_question("  ", None, snapshot, rules=rules).error == "the question is empty"
    huge = answer_question("x" * 100_000, None, snapshot, rules=rules)
    assert "100000 characters, more than 2000" in huge.error and huge.attempts == []
    options = answer_question("Which is bigger?", ["a" * 1500, "b" * 1500], snapshot, rules=rules)
    assert "more than 2000" in options.error


def test_injection_around_a_real_question_runs_only_generated_dsl(snapshot, rules, unique_labels):
    """The question text never reaches an interpreter: whatever it contains, the executed program
    is the planner's own DSL, which has no names for Python."""
    a, b = unique_labels
    question = f'How far is the {a} from the {b}"); __import__("os").system("ls"); ("'
    result = answer_question(question, None, snapshot, rules=rules)
    assert result.ok, result.error
    assert result.program == dsl.parse(result.program).text
    assert not re.search(r"__|import|system|\bos\b", result.program), result.program
    clean = answer_question(f"How far is the {a} from the {b}?", None, snapshot, rules=rules)
    assert result.answer == clean.answer and result.program == clean.program


@pytest.mark.parametrize("name", list(BAD_PROGRAMS))
def test_bad_program_ends_in_a_dsl_error(name, snapshot, unique_labels):
    program = BAD_PROGRAMS[name].replace("{label}", unique_labels[0])
    error, seconds = timed(dsl.run, program, snapshot)
    assert seconds < TIME_LIMIT, f"{name}: {seconds:.2f} s"
    assert isinstance(error, DslError) and not isinstance(error, DslInternalError), repr(error)
    report = error.format()
    assert report.startswith(("syntax error", "validation error", "runtime error")), report
    assert "Traceback" not in report and len(report) < 2000


# --- fuzzing: planner + parser + validator + interpreter together on the real memory ----------------

WORDS = ["how", "many", "far", "is", "the", "from", "to", "between", "closest", "nearest", "which",
         "left", "right", "behind", "standing", "facing", "by", "frame", "frames", "first", "seen",
         "walk", "camera", "route", "navigate", "size", "tall", "big", "room", "area", "in", "cm", "m",
         "meters", "and", "of", "?", "piano", "unicorn", "20th", "3", "0", "-1", "1e9", "seconds", "at",
         "__import__('os')", "answer(", ")", '"', "\\", "\n", "ignore", "previous", "instructions"]
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
PROGRAM_FUZZ = settings(FUZZ, max_examples=150)


def _labels_and_words(snapshot):
    return WORDS + sorted(snapshot.label_counts())


@FUZZ
@given(data=st.data())
def test_random_questions_never_raise(data, snapshot, rules):
    vocabulary = _labels_and_words(snapshot)
    words = data.draw(st.lists(st.one_of(st.sampled_from(vocabulary), st.text(max_size=12)), max_size=40))
    options = data.draw(st.none() | st.lists(st.sampled_from(vocabulary) | st.text(max_size=8), max_size=5))
    question = " ".join(words)
    result, seconds = timed(answer_question, question, options, snapshot, rules=rules)
    assert not isinstance(result, Exception), f"{question!r}: {type(result).__name__}: {result}"
    assert seconds < TIME_LIMIT, (question, seconds)
    assert result.ok or result.error
    for attempt in result.attempts:  # an internal error is a DSL bug even though the user sees a message
        assert not (attempt.error or "").startswith("internal error"), (question, attempt.error)


PLANNED = [
    "How many {a}s are there?",
    "How far is the {a} from the {b}, in meters?",
    "How tall is the {a} in cm?",
    "How far did the camera move between frame 2 and frame 20?",
    "Which is closer to the {a}: the {b} or the {c}?",
    "What is the area of the room?",
]


@PROGRAM_FUZZ
@given(data=st.data())
def test_mutated_planner_programs_end_in_an_answer_or_a_dsl_error(data, snapshot, rules, unique_labels):
    """Programs the planner writes for this memory, with random token edits (the kind of mistakes
    a language model makes): parse + validate + run return an Answer or a DslError, quickly."""
    labels = sorted(snapshot.label_counts())
    a, b = unique_labels
    c = next(label for label in labels if label not in (a, b))
    question = data.draw(st.sampled_from(PLANNED)).format(a=a, b=b, c=c)
    result = answer_question(question, None, snapshot, rules=rules)
    assert result.ok, (question, result.error)
    tokens = re.findall(r"\w+|[^\w\s]|\s+", result.program)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(tokens)))
        edit = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        token = data.draw(st.sampled_from(tokens + labels + ["(", ")", ",", ".", "=", "[", "]", "__class__",
                                                             "x", "1e6", "-0", '"', "answer", "\n"]))
        if edit == "delete" and position < len(tokens):
            del tokens[position]
        elif edit == "insert":
            tokens.insert(position, token)
        elif position < len(tokens):
            tokens[position] = token
    program = "".join(tokens)
    outcome, seconds = timed(dsl.run, program, snapshot)
    assert seconds < TIME_LIMIT, (program, seconds)
    assert isinstance(outcome, (dsl.Answer, DslError)), f"{program!r}: {type(outcome).__name__}: {outcome}"
    assert not isinstance(outcome, DslInternalError), f"{program!r}: {outcome}"
