"""relative_position(): object-to-object relations in a camera's view, against the known room.

At frame 1 the camera stands at (3, 0.8, 1.5) looking north (+y), 15 deg down, so its image x
runs east. The coffee table (y 2.1..2.7, z 0..0.45) is entirely nearer than the tv (y 4.8..4.9,
z 0.85..1.55) and entirely below it in the image; the lamp (x 0.15..0.45) is entirely left of the
bookshelf (x 5.65..5.95); the sofa (x 0.5..2.5) and the coffee table (x 1..2) overlap left-right.
"""

from __future__ import annotations

import pytest

from reasmory_ros.dsl import DslRuntimeError, DslValidationError, run


def relation(snapshot, a: str, b: str, axis: str, frame: int = 1, gap: str = "") -> str:
    program = (f'answer(relative_position(the(objects("{a}")), the(objects("{b}")), camera(frame={frame}), '
               f'axis="{axis}"{gap}))')
    return run(program, snapshot).value


@pytest.mark.parametrize("a,b,axis,expected", [
    ("Coffee Table", "tv", "depth", "near"), ("tv", "Coffee Table", "depth", "far"),
    ("lamp", "bookshelf", "horizontal", "left"), ("bookshelf", "lamp", "horizontal", "right"),
    ("tv", "Coffee Table", "vertical", "up"), ("Coffee Table", "tv", "vertical", "down"),
])
def test_relations_in_the_first_view(snapshot, a, b, axis, expected):
    assert relation(snapshot, a, b, axis) == expected


def test_the_view_decides_left_and_right(snapshot):
    """Facing east at frame 100 (y = 3.8) the sofa (y 0.55..1.45) is right of the tv (y 4.8..4.9);
    facing north at frame 1 the two overlap left-right (x 0.5..2.5 and 0.9..2.1)."""
    assert relation(snapshot, "sofa", "tv", "horizontal", frame=100) == "right"
    with pytest.raises(DslRuntimeError, match="overlap along the horizontal axis"):
        relation(snapshot, "sofa", "tv", "horizontal", frame=1)


@pytest.mark.parametrize("a,b,axis,gap", [
    ("sofa", "Coffee Table", "horizontal", ""),  # the boxes overlap left-right
    ("lamp", "bookshelf", "horizontal", ", gap=6"),  # 5.2 m apart, 6 m asked (a bare number is metres)
])
def test_undecided_relation_is_refused(snapshot, a, b, axis, gap):
    with pytest.raises(DslRuntimeError, match="overlap along the"):
        relation(snapshot, a, b, axis, gap=gap)


def test_unknown_axis_is_refused_before_running(snapshot):
    with pytest.raises(DslValidationError, match="axis="):
        relation(snapshot, "lamp", "tv", "diagonal")
