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
