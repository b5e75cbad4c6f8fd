"""Phrasings that once produced a wrong program, found by replaying simulated rooms."""

from __future__ import annotations

import pytest

from reasmory_ros.planning import PlanningContext, RuleBasedPlanner


@pytest.fixture(scope="module")
def planner():
    return RuleBasedPlanner(embedder=None)


@pytest.fixture
def context():
    return PlanningContext(label_counts={"chair": 3, "trash can": 1, "refrigerator": 1, "plant": 2},
                           frame_count=100)


@pytest.mark.parametrize("question", [
    "How many chairs can you see in the room?",
    "How many chairs can I find here?",
])
def test_the_verb_can_is_not_the_trash_can(planner, context, question):
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'


def test_a_trash_can_is_still_found(planner, context):
    program = planner.interpret("How many trash cans can you see?", None, context).program
    assert program == 'answer(count(objects("trash can")))'


@pytest.mark.parametrize("question", [
    "How long is the longest side of the refrigerator, in cm?",
    "What is the largest dimension of the refrigerator?",
    "How big is the biggest side of the refrigerator?",
])
def test_longest_side_means_the_longest_of_all_three_dimensions(planner, context, question):
    assert "longest_dimension(" in planner.interpret(question, None, context).program


def test_length_alone_is_still_the_horizontal_length(planner, context):
    assert "size(x).length" in planner.interpret("How long is the refrigerator?", None, context).program


# Found by the second batch of tuning phrasings (issue 14, continued).

@pytest.mark.parametrize("question,op", [
    ("Out of chair, refrigerator, plant, which one is the most distant from the trash can?", "farthest"),
    ("Which of chair, refrigerator or plant has the greatest distance to the trash can?", "farthest"),
    ("Which one is least close to the trash can: chair, refrigerator or plant?", "farthest"),
    ("Which of chair, refrigerator or plant is nearest the trash can? (Measure between the closest points.)",
     "nearest"),
])
def test_far_end_wording_picks_the_farthest(planner, context, question, op):
    program = planner.interpret(question, None, context).program
    assert f"answer({op}(" in program


def test_semantic_check_refuses_the_wrong_end(context):
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading, check_program
    question = "Which of the refrigerator or the plant is the most distant from the trash can?"
    reading = Reading(question, None, LabelResolver(context.labels, None), context.frame_count)
    wrong = ('ref = the(objects("trash can"))\n'
             'answer(nearest(objects(["refrigerator", "plant"]), to=ref))')
    assert any("asks for the farthest" in p for p in check_program(wrong, reading, context))
    assert not check_program(wrong.replace("nearest(", "farthest("), reading, context)


@pytest.mark.parametrize("question", [
    "Give the missing turns for going from the chair to the refrigerator: 1. Go forward until the refrigerator.",
    "In centimetres, what is the greatest length of the refrigerator?",
])
def test_a_word_before_what_is_asked_is_not_an_unknown_object(planner, context, question):
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading
    reading = Reading(question, None, LabelResolver(context.labels, None), context.frame_count)
    assert not reading.unresolved


@pytest.mark.parametrize("question,axis,a,b", [
    ("In frame 5 of 32, relative to the camera, is chair [Near/Far] compared to refrigerator?", "depth",
     "chair", "refrigerator"),
    ("In frame 5 of 32, relative to refrigerator, is trash can to the [Left/Right]?", "horizontal",
     "trash can", "refrigerator"),
    ("At frame 12, is the trash can above or below the refrigerator in the image?", "vertical",
     "trash can", "refrigerator"),
])
def test_object_to_object_position_binds_a_b_and_the_axis(planner, question, axis, a, b):
    context = PlanningContext(label_counts={"chair": 1, "trash can": 1, "refrigerator": 1}, frame_count=100)
    program = planner.interpret(question, None, context).program
    assert f'axis="{axis}"' in program and "relative_position(a, b, cam" in program
    assert f'a = the(objects("{a}"))' in program and f'b = the(objects("{b}"))' in program
