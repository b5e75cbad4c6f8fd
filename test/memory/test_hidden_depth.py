"""Boxes of objects seen only from the front reach back to the wall behind them, and no further.

Ray-cast rooms (conftest.RoomRenderer: depth noise, flying pixels, bled masks) scanned by the
real memory; the boxes are compared with the true ones."""

from __future__ import annotations

import math

import numpy as np

from reasmory_ros.memory import MemoryConfig, SpatialMemory, hidden_depth

from .conftest import ROOM_HALF, BoxObject, RoomRenderer, look_at

WALL_Y = ROOM_HALF[1]
WALL_X = -ROOM_HALF[0]


def _scan(objects, eyes, target) -> tuple[dict, dict]:
    """The objects by label of two memories fed the same frames: hidden depth off, then on."""
    renderer = RoomRenderer(objects)
    rng = np.random.default_rng(11)
    frames = [renderer.render(look_at(eye, target), index, rng) for index, eye in enumerate(eyes)]
    found = []
    for complete in (False, True):
        memory = SpatialMemory(MemoryConfig(hidden_depth=complete))
        for frame in frames:
            memory.update(frame)
        by_label = {}
        for record in memory.snapshot().objects:
            assert record.label not in by_label, f"two {record.label} records"
            by_label[record.label] = record
        found.append(by_label)
    return found[0], found[1]


def test_a_wardrobe_against_a_wall_reaches_the_wall():
    """A wardrobe taller than the camera, flush against the wall, seen only from in front: none
    of its views sees its top or its sides, so its points are its front face alone."""
    wardrobe = BoxObject("wardrobe", (1.0, WALL_Y - 0.3), 0.0, (1.0, 0.6, 1.9))
    eyes = [(0.6 + 0.8 * f, 0.2 + 0.5 * f, 1.5) for f in np.linspace(0.0, 1.0, 12)]
    seen, completed = (found["wardrobe"] for found in _scan((wardrobe,), eyes, (1.0, WALL_Y - 0.6, 0.9)))
    assert seen.extent[1] < 0.1, "the front alone is thin (else this test shows nothing)"
    assert seen.hidden_depth == 0.0, "with hidden_depth off the box stays as seen"

    assert completed.hidden_depth > 0.2
    assert abs(completed.extent[1] - wardrobe.extent[1]) < 0.05  # one scene-map voxel
    assert abs(completed.center[1] - wardrobe.center[1]) < 0.03
    # Only the depth changes: the length and height are what the front shows.
    np.testing.assert_array_equal(completed.extent[[0, 2]], seen.extent[[0, 2]])
    assert completed.center[0] == seen.center[0] and completed.yaw == seen.yaw


def test_a_cabinet_in_front_of_a_wall_keeps_its_box_when_the_gap_was_seen():
    """A cabinet half a metre in front of the wall (within reach: it is 1 m long), seen from a
    wide arc in front of it: the side views see the floor and the wall through the gap behind
    it, so it does not stand against the wall and its box stays as seen."""
    cabinet = BoxObject("cabinet", (WALL_X + 0.5 + 0.225, 0.0), math.pi / 2, (1.0, 0.45, 0.9))
    angles = np.radians(np.linspace(-60.0, 60.0, 16))
    eyes = [(cabinet.center_xy[0] + 2.6 * math.cos(a), 2.6 * math.sin(a), 1.5) for a in angles]
    seen, completed = (found["cabinet"] for found in _scan((cabinet,), eyes, (*cabinet.center_xy, 0.45)))
    assert completed.hidden_depth == 0.0
    np.testing.assert_array_equal(completed.extent, seen.extent)
    np.testing.assert_array_equal(completed.center, seen.center)
    np.testing.assert_allclose(completed.extent, cabinet.extent, atol=0.07)


def test_the_wall_search_by_rounds_finds_what_one_batch_of_all_layers_finds(monkeypatch):
    """The wall is looked for a few layers per round; a wall some rounds back, and an object with
    none within reach, come out as a search of every layer at once finds them."""
    wardrobe = BoxObject("wardrobe", (1.0, WALL_Y - 0.55), 0.0, (1.0, 0.6, 1.9))
    table = BoxObject("table", (0.0, -0.4), 0.0, (1.2, 0.7, 0.75))
    renderer = RoomRenderer((wardrobe, table))
    rng = np.random.default_rng(5)
    eyes = [(0.2 + 0.8 * f, -1.2 + 0.5 * f, 1.5) for f in np.linspace(0.0, 1.0, 12)]
    memory = SpatialMemory(MemoryConfig())
    for index, eye in enumerate(eyes):
        memory.update(renderer.render(look_at(eye, (0.6, 0.4, 0.8)), index, rng))
    boxes = {}
    for layers in (1, 4, 1000):
        monkeypatch.setattr(hidden_depth, "_LAYERS_PER_ROUND", layers)
        memory._snapshot = None
        boxes[layers] = [(r.label, r.center.tolist(), r.extent.tolist(), r.hidden_depth) for r in memory.snapshot().objects]
    assert {label for label, *_ in boxes[1000]} >= {"wardrobe", "table"}
    assert any(label == "wardrobe" and depth > 0.2 for label, _, _, depth in boxes[1000])
    assert boxes[1] == boxes[4] == boxes[1000]
