"""Each kind of faulty program is refused with its position and a hint a model can act on."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reasmory_ros.dsl import (
    DslError,
    DslRuntimeError,
    DslSyntaxError,
    DslValidationError,
    Limits,
    check,
    parse,
    run,
    validate,
)
from reasmory_ros.memory.snapshot import SceneMap

SOFA_TV = 'sofa = the(objects("sofa"))\ntv = the(objects("tv"))\n'


def failure(program: str, snapshot, kind: type[DslError]) -> DslError:
    with pytest.raises(DslError) as caught:
        run(program, snapshot)
    err = caught.value
    assert type(err) is kind, err.format()
    return err


@pytest.mark.parametrize("program,line,column,hint_part", [
    ("a = 1 + 2\nanswer(a)", 1, 7, "no operators"),
    ('answer(count(objects("chair"))', 1, 31, "expected"),
    ('for x in objects("chair"):\n  answer(x)', 1, 5, "Python"),
    ('answer(count(objects("chair)))', 1, 22, "close the text"),
    ("a = {1: 2}\nanswer(a)", 1, 5, "no blocks"),
    ("answer(3) answer(4)", 1, 11, "expected"),
])
def test_syntax_errors_point_at_the_token(snapshot, program, line, column, hint_part):
    err = failure(program, snapshot, DslSyntaxError)
    assert (err.line, err.column) == (line, column)
    assert hint_part in err.hint
    text = err.format()
    assert text.startswith(f"syntax error at line {line}, column {column}")
    assert "^" in text and "hint:" in text


def test_unexpected_end_says_what_was_expected():
    with pytest.raises(DslSyntaxError) as caught:
        parse("sofa = the(")
    assert "end of the program" in caught.value.message and "')'" in caught.value.hint


@pytest.mark.parametrize("program,message_part,hint_part,line,column", [
    ('answer(distnace(the(objects("sofa")), the(objects("tv"))))',
     "unknown operation 'distnace'", "'distance'", 1, 8),
    ('answer(count(objects("sofaa")))', "'sofaa'", "did you mean 'sofa'", 1, 22),
    ('answer(count(objects(["chair", "piano"])))', "'piano'", "labels in memory: ", 1, 22),
    ('answer(distance(objects("sofa"), the(objects("tv"))))',
     "must be Object | Camera | Point | View, got ObjectSet", "the(", 1, 17),
    (SOFA_TV + "answer(distance(sofa, tv, mod=\"center\"))", "no argument 'mod'", "'mode'", 3, 27),
    (SOFA_TV + "answer(distance(sofa))", "missing argument(s): b", "distance(a:", 3, 8),
    (SOFA_TV + "answer(distance(sofa, tv, \"center\", 4))", "at most 3", "signature", 3, 37),
    (SOFA_TV + "answer(distance(sofa, tv, a=tv))", "'a' twice", "once", 3, 27),
    (SOFA_TV + 'answer(distance(sofa, tv, mode="middle"))', "mode='middle'", "'closest'", 3, 32),
    (SOFA_TV + "answer(size(sofa).heigth)", "no field '.heigth'", "'.height'", 3, 19),
    (SOFA_TV + "answer(distance(sofa, tv).value)", "Number has no fields", None, 3, 27),
    ('answer(sofa)', "name 'sofa' is not defined", 'sofa = the(objects("sofa"))', 1, 8),
    (SOFA_TV + 'answer(sofaa)', "not defined", "did you mean 'sofa'", 3, 8),
    ('answer(objects)', "is an operation", "objects(...)", 1, 8),
    ('count = 3\nanswer(count)', "cannot be assigned", "count_result", 1, 1),
    ('answer(size(the(objects("sofa"))) + 1)', None, None, None, None),
    ('x = count(objects("chair"))', "does not end with answer", "answer(x)", 1, 1),
    ('answer(1)\nanswer(2)', "exactly one answer", "line 1", 2, 1),
    ('answer(1)\nx = 2', "must be the last statement", "line 2", 1, 1),
    ('x = answer(1)\nanswer(x)', "statement of its own", None, 1, 5),
    ('count(objects("chair"))\nanswer(1)', "not used", "assign it", 1, 1),
    ("", "empty", "answer(", 1, 1),
    ("answer(camera(frame=101))", "beyond the last frame", "1 to 100", 1, 21),
    ("answer(camera(frame=0))", "not a frame number", "counted from 1", 1, 21),
    ("answer(camera(frame=2.5))", "not a frame number", None, 1, 21),
    ("answer(camera())", "exactly one of", "camera(frame=12)", 1, 8),
    ('answer(camera("current", frame=3))', "exactly one of", None, 1, 8),
    ('answer(camera("latest"))', "which='latest'", "'current'", 1, 15),
    ('answer(count(filter(objects("chair"), within=2)))', "within= needs near=", "near=", 1, 46),
    ('answer(view_from(the(objects("sofa"))))', "needs facing=", "facing=", 1, 18),
    ('answer(to_unit(room_area(), "acres"))', "unknown unit", "ft2", 1, 29),
    ('d = direction(view_from(camera(frame=1)), the(objects("tv")))\n'
     'answer(direction_label(d, among=["up", "left"]))', "'up'", "front-left", 2, 33),
    ('answer(count([[1], 2]))', "cannot contain lists", None, 1, 15),
    ('answer(camera(frame=5e7))', "out of range", None, 1, 21),
    ('answer(point(1, 2, "3"))', "must be Number, got Text", None, 1, 20),
    ('answer(camera(frame=1).frame.value)', "no fields", None, 1, 30),
])
def test_validation_errors(snapshot, program, message_part, hint_part, line, column):
    if message_part is None:  # an operator is a syntax error even inside a valid call
        failure(program, snapshot, DslSyntaxError)
        return
    err = failure(program, snapshot, DslValidationError)
    assert message_part in err.message, err.format()
    if hint_part is not None:
        assert hint_part in err.hint, err.format()
    assert (err.line, err.column) == (line, column), err.format()
    assert err.format().startswith(f"validation error at line {line}, column {column}")


def test_type_errors_name_expected_and_actual_types(snapshot):
    err = failure('answer(height(objects("tv")))', snapshot, DslValidationError)
    assert "height() argument 'object' must be Object, got ObjectSet" in err.message


def test_label_check_lists_present_labels(snapshot):
    err = failure('answer(count(objects("piano")))', snapshot, DslValidationError)
    for label in ("sofa", "tv", "bookshelf", "chair"):
        assert repr(label) in err.hint


def test_labels_resolve_through_synonyms_plurals_and_case(snapshot):
    for query in ("Couch", "sofas", "SOFA", "so_fa", "So-Fa"):
        assert run(f'answer(the(objects("{query}")).id)', snapshot).value == 10
    assert run('answer(count(objects("coffee_tables")))', snapshot).value == 1
    assert run('answer(count(objects("table")))', snapshot).value == 1


def test_validate_without_a_memory_skips_label_and_frame_checks():
    program = parse('answer(camera(frame=5000))\n')
    assert validate(program).answer_type.name == "Camera"
    with pytest.raises(DslValidationError):
        validate(parse('answer(count(objects("unicorn")))'), labels={"sofa"})
    assert validate(parse('answer(count(objects("unicorn")))')).answer_type.name == "Number"


def test_names_carry_types_through_assignments():
    typed = validate(parse('s = size(object(1))\nh = s.height\nanswer(h)'))
    assert str(typed.answer_type) == "Number"
    with pytest.raises(DslValidationError) as caught:
        validate(parse('s = size(object(1))\nanswer(s.turns)'))
    assert ".length, .width, .height" in caught.value.hint


@pytest.mark.parametrize("program,message_part,hint_part", [
    ('answer(the(objects("chair")))', "holds 3 objects (id 15 at", "nearest("),
    ('answer(the(filter(objects("chair"), near=the(objects("tv")), within=0.1)))', "is empty",
     None),
    ('answer(camera(frame=to_unit(height(the(objects("bookshelf"))), "mm")))',
     "frame 2000 is outside the frames seen", "1 to 100"),
    ('answer(camera(time=60))', "outside the stream", None),
    ('answer(to_unit(room_area(), "cm"))', "cannot convert m2", "area"),
    ('answer(object(999))', "no object with id 999", "ids in memory: 10, 11"),
    ('s = the(objects("sofa"))\nanswer(nearest(objects("sofa"), to=s))', "no object other",
     None),
    ('answer(view_from(the(objects("tv")), facing=point(1.5, 4.85, 3)))', "same floor position",
     None),
])
def test_runtime_errors(snapshot, program, message_part, hint_part):
    err = failure(program, snapshot, DslRuntimeError)
    assert message_part in err.message, err.format()
    if hint_part is not None:
        assert hint_part in err.hint
    assert err.line is not None and err.column is not None
    assert err.format().startswith("runtime error at line")


def test_runtime_error_points_at_the_failing_call(snapshot):
    err = failure('a = count(objects("chair"))\nb = the(objects("chair"))\nanswer(b)', snapshot,
                  DslRuntimeError)
    assert (err.line, err.column) == (2, 5)
    assert err.source_line == 'b = the(objects("chair"))'


def test_empty_map_is_a_runtime_error_and_routes_fall_back(snapshot):
    bare = dataclasses.replace(snapshot, scene_map=SceneMap.empty(0.1))
    err = failure("answer(room_area())", bare, DslRuntimeError)
    assert "too few points" in err.message
    answer = run('answer(route(the(objects("sofa")), the(objects("tv"))))', bare)
    assert not answer.raw.planned
    assert any("straight segments" in note for note in answer.notes)
    assert answer.value["length"] == pytest.approx(3.85)


def test_route_through_a_closed_wall_falls_back_to_a_straight_segment(snapshot):
    """A full-height wall across the room at y = 2.0 leaves no free path from sofa to tv."""
    xs = np.arange(0.0, 6.01, 0.05)
    zs = np.arange(0.1, 2.61, 0.1)
    wall = np.array([(x, 2.0 + dy, z) for x in xs for z in zs for dy in (0.0, 0.05)])
    points = np.vstack([snapshot.scene_map.points, wall]).astype(np.float32)
    colors = np.vstack([snapshot.scene_map.colors, np.zeros((len(wall), 3), np.uint8)])
    walled = dataclasses.replace(snapshot, scene_map=SceneMap(points, colors, 0.1))
    path = run('answer(route(the(objects("sofa")), the(objects("tv"))))', walled).raw
    assert not path.planned and path.length == pytest.approx(3.85)
    open_path = run('answer(route(the(objects("sofa")), the(objects("lamp"))))', snapshot).raw
    assert open_path.planned


def test_size_limits(snapshot):
    limits = Limits()
    too_long = "answer(1)" + " " * limits.max_chars
    assert "characters" in failure(too_long, snapshot, DslSyntaxError).message
    statements = "".join(f"x{i} = {i}\n" for i in range(limits.max_statements)) + "answer(1)"
    assert "statements" in failure(statements, snapshot, DslValidationError).message
    items = ", ".join('"tv"' for _ in range(limits.max_list_items + 1))
    assert "list longer" in failure(f"answer(count([{items}]))", snapshot,
                                    DslValidationError).message
    text = "x" * (limits.max_text_chars + 1)
    assert "text longer" in failure(f'answer("{text}")', snapshot, DslValidationError).message
    nested = "answer(" + "count(" * limits.max_depth + "objects(\"tv\")" + ")" * (
        limits.max_depth + 1)
    assert "nested" in failure(nested, snapshot, DslSyntaxError).message
    assert "nested" in failure("answer(camera(frame=1)" + ".position.x" * 20 + ")", snapshot,
                               DslSyntaxError).message


def test_check_returns_a_typed_program_without_running(snapshot):
    typed = check('answer(route(the(objects("sofa")), the(objects("tv"))).turns)', snapshot)
    assert str(typed.answer_type) == "List[Text]"
