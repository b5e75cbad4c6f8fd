"""Change operations on the known room after a change: a chair moved, the bookshelf taken away,
the lamp brought in. Answers against those exact placements; each misuse gets its own error."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from known_room import FPS, T0

from reasmory_ros.dsl import DslError, DslRuntimeError, DslValidationError, parse, run, validate
from reasmory_ros.memory.snapshot import Placement
from reasmory_ros.planning.base import context_from_snapshot
from reasmory_ros.planning.rules import RuleBasedPlanner

NEW_PLACE = np.array([2.5, 3.0, 0.45])
MOVED_AT, GONE_AT = 70, 80  # 0-based frames: first seen at the new place; first seen gone


@pytest.fixture(scope="module")
def changed(snapshot):
    records = {r.label: r for r in snapshot.objects if r.label != "chair"}
    chair = next(r for r in snapshot.objects if r.label == "chair")
    moved = dataclasses.replace(
        chair, center=NEW_PLACE, placed_frame=MOVED_AT, placed_time=T0 + MOVED_AT / FPS,
        placements=(Placement(chair.center, chair.extent, chair.yaw, chair.first_seen_frame, 59,
                              chair.first_seen_time, T0 + 5.9),))
    shelf = dataclasses.replace(records["bookshelf"], status="removed", gone_since_frame=GONE_AT,
                                gone_since_time=T0 + GONE_AT / FPS)
    lamp = dataclasses.replace(records["lamp"], appeared=True)
    objects = tuple(moved if r.id == chair.id else lamp if r.id == lamp.id else r
                    for r in snapshot.objects if r.id != shelf.id)
    return dataclasses.replace(snapshot, objects=objects, removed=(shelf,)), moved, shelf


def value(program, snapshot):
    return run(program, snapshot).value


def test_where_now_before_and_at_a_frame_or_time(changed):
    snapshot, chair, _ = changed
    x = f"x = object({chair.id})\n"
    old = chair.placements[0].center
    np.testing.assert_allclose(value(x + 'answer(position_at(x, which="now"))', snapshot), NEW_PLACE)
    np.testing.assert_allclose(value(x + 'answer(position_at(x, which="before"))', snapshot), old)
    np.testing.assert_allclose(value(x + "answer(position_at(x, frame=50))", snapshot), old)
    np.testing.assert_allclose(value(x + f"answer(position_at(x, frame={MOVED_AT + 1}))", snapshot), NEW_PLACE)
    np.testing.assert_allclose(value(x + "answer(position_at(x, time=5))", snapshot), old)
    np.testing.assert_allclose(value(x + "answer(position_at(x, time=9.5))", snapshot), NEW_PLACE)
    with pytest.raises(DslRuntimeError, match="first seen at frame 41"):
        run(x + "answer(position_at(x, frame=20))", snapshot)


def test_still_there(changed):
    snapshot, _, _ = changed
    assert value('answer(still_there("bookshelf"))', snapshot) is False
    assert value('answer(still_there("sofa"))', snapshot) is True
    with pytest.raises(DslRuntimeError, match="was ever seen"):
        run('answer(still_there("piano"))', snapshot)


def test_what_changed_in_a_span(changed):
    snapshot, chair, shelf = changed

    def ids(program):
        return [o["id"] for o in value(program, snapshot)]

    assert ids('answer(changes(kind="moved"))') == [chair.id]
    assert ids(f'answer(changes(kind="moved", from_frame=1, to_frame={MOVED_AT}))') == []
    assert ids(f'answer(changes(kind="moved", from_frame={MOVED_AT + 1}, to_frame={MOVED_AT + 1}))') == [chair.id]
    assert ids('answer(changes(kind="removed", since_time=7.5))') == [shelf.id]
    assert ids('answer(changes(kind="removed", since_time=8.5))') == []
    assert ids('answer(changes(kind="appeared"))') == [o.id for o in snapshot.objects if o.label == "lamp"]
    assert ids('answer(changes(kind="moved", label="sofa"))') == []
    with pytest.raises(DslRuntimeError, match="ends .* before it starts"):
        run('answer(changes(kind="moved", from_frame=50, to_frame=10))', snapshot)
    with pytest.raises(DslError, match="not allowed"):
        run('answer(changes(kind="teleported"))', snapshot)


def test_when_moved(changed):
    snapshot, chair, _ = changed
    assert value(f"answer(when_moved(object({chair.id})))", snapshot)["frame"] == MOVED_AT + 1
    with pytest.raises(DslRuntimeError, match="has not moved"):
        run('answer(when_moved(the(objects("sofa"))))', snapshot)
    with pytest.raises(DslRuntimeError, match="has not moved"):
        run('answer(position_at(the(objects("sofa")), which="before"))', snapshot)


def test_removed_objects_answer_about_the_past_only(changed):
    snapshot, _, shelf = changed
    x = 'x = the(removed_objects("bookshelf"))\n'
    np.testing.assert_allclose(value(x + 'answer(position_at(x, which="before"))', snapshot), shelf.center)
    np.testing.assert_allclose(value(x + "answer(position_at(x, frame=60))", snapshot), shelf.center)
    with pytest.raises(DslRuntimeError, match="no longer there"):
        run(x + 'answer(position_at(x, which="now"))', snapshot)
    with pytest.raises(DslRuntimeError, match="seen gone from frame 81"):
        run(x + f"answer(position_at(x, frame={GONE_AT + 5}))", snapshot)
    with pytest.raises(DslError, match="no object labelled"):
        run('answer(count(objects("bookshelf")))', snapshot)  # only what is there now is counted
    with pytest.raises(DslRuntimeError, match="no removed object"):
        run('answer(removed_objects("sofa"))', snapshot)


def test_exactly_one_of_which_frame_time():
    """Checked before the program runs."""
    for text in ('answer(position_at(object(1), which="now", frame=3))', "answer(position_at(object(1)))"):
        with pytest.raises(DslValidationError, match="exactly one"):
            validate(parse(text))


def change_examples() -> list[str]:
    """The programs of docs/dsl.md's section on changes."""
    text = (Path(__file__).parents[2] / "docs" / "dsl.md").read_text()
    section = text.split("## Questions about changes", 1)[1].split("## Examples by question type", 1)[0]
    return re.findall(r"```dsl\n(.*?)```", section, re.S)


def test_doc_examples_answer_from_the_history(changed):
    snapshot, chair, shelf = changed
    answers = [value(program, snapshot) for program in change_examples()]
    old = chair.placements[0].center
    assert len(answers) == 9
    np.testing.assert_allclose(answers[0], NEW_PLACE)
    np.testing.assert_allclose(answers[1], old)
    np.testing.assert_allclose(answers[2], old)
    assert answers[3] is False
    np.testing.assert_allclose(answers[4], shelf.center)
    assert [o["id"] for o in answers[5]] == [chair.id]  # placed at frame 71
    assert [o["id"] for o in answers[6]] == [shelf.id]  # gone at 8.0 s of 9.9 s
    assert [o["label"] for o in answers[7]] == ["lamp"]
    assert answers[8] == MOVED_AT + 1


@pytest.mark.parametrize("question, check", [
    ("Where is the chair now?", lambda v, c: np.allclose(v, NEW_PLACE)),
    ("Where was the chair before?", lambda v, c: np.allclose(v, c[1].placements[0].center)),
    ("Where was the chair at frame 50?", lambda v, c: np.allclose(v, c[1].placements[0].center)),
    ("Is there still a bookshelf?", lambda v, c: v is False),
    ("Is the sofa still there?", lambda v, c: v is True),
    ("What moved between frame 60 and frame 90?", lambda v, c: [o["id"] for o in v] == [c[1].id]),
    ("What was removed since 5 seconds?", lambda v, c: [o["id"] for o in v] == [c[2].id]),
    ("When was the chair moved?", lambda v, c: v["frame"] == MOVED_AT + 1),
    ("Where was the bookshelf before?", lambda v, c: np.allclose(v, c[2].center)),
])
def test_questions_end_to_end(changed, question, check):
    """The rule planner writes the program, the interpreter answers it (three chairs: the question
    is about the one that moved)."""
    snapshot = changed[0]
    program = RuleBasedPlanner(embedder=None).interpret(question, None, context_from_snapshot(snapshot)).program
    assert check(value(program, snapshot), changed), program
