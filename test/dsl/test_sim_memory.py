"""The doc examples on a real memory: a simulated room rendered, fed to SpatialMemory, queried.

The doc's labels (sofa, tv, ...) are mapped onto the scene's own categories that occur exactly
once in the scene and in the memory, and the doc's frame numbers are scaled to the shorter
recording. Answers are compared with the simulator's ground truth, with tolerances for what a
reconstruction from 160 x 120 noisy depth can do, and with the simulator's own clearance margins
for direction classes. Object sizes are checked against the memory's boxes (how well those fit
the scene is the memory's own test).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_examples import doc_examples

from reasmory_ros.dsl import run

sim = pytest.importorskip("reasmory_ros.sim")
memory = pytest.importorskip("reasmory_ros.memory")
questions = pytest.importorskip("reasmory_ros.sim.questions")

pytestmark = pytest.mark.slow

SEED, FRAMES, WIDTH, HEIGHT = 3, 48, 160, 120
DOC_FRAMES = 100
DOC_LABELS = {"sofa": 0, "couch": 0, "tv": 1, "television": 1, "coffee table": 2,
              "bookshelf": 3, "lamp": 4, "potted plant": 5, "chair": 6, "chairs": 6}
"""Doc label -> rank of the scene category standing in for it (largest unique objects first)."""


@pytest.fixture(scope="module")
def recording():
    scene = sim.generate_scene(SEED)
    camera = sim.camera_trajectory(scene, n_frames=FRAMES, seed=0)
    spatial = memory.SpatialMemory()
    rendered = list(sim.render_sequence(scene, camera, width=WIDTH, height=HEIGHT, seed=0))
    for frame in rendered:
        spatial.update(frame.frame)
    snapshot = spatial.snapshot()
    in_memory = snapshot.label_counts()
    unique = [o for o in scene.objects
              if len(scene.by_label(o.label)) == 1 and in_memory.get(o.label) == 1]
    unique.sort(key=lambda o: -float(np.prod(o.extent)))
    if len(unique) < 7:
        pytest.skip(f"scene {SEED} leaves only {len(unique)} categories unique in the memory")
    return scene, camera, rendered, snapshot, unique[:7]


def adapted(program: str, stand_ins) -> str:
    """The doc program with the scene's labels and frame numbers of this recording."""
    def label(match):
        word = match.group(1)
        return f'"{stand_ins[DOC_LABELS[word]].label}"' if word in DOC_LABELS else match.group(0)

    def frame(match):
        return f"frame={max(1, round(int(match.group(1)) * FRAMES / DOC_FRAMES))}"

    return re.sub(r"frame=(\d+)", frame, re.sub(r'"([^"]*)"', label, program))


EVERYDAY_SECTIONS = {"Where things are", "Surroundings", "Comparisons", "Inventory", "Support relations",
                     "Time and path", "Referring to one of several", "Colour"}
"""Examples that name the known room's own arrangement (a cup on the coffee table, three chairs):
they run there (test_examples.py); the everyday operations are checked against simulated scenes
in test/planning/test_everyday.py."""


def test_every_doc_example_runs_on_a_rendered_memory(recording):
    *_, snapshot, stand_ins = recording
    for title, program in doc_examples():
        if title in EVERYDAY_SECTIONS:
            continue
        answer = run(adapted(program, stand_ins), snapshot)
        assert answer.text, title


def _answer(title: str, index: int, recording):
    *_, snapshot, stand_ins = recording
    programs = [p for t, p in doc_examples() if t == title]
    return run(adapted(programs[index], stand_ins), snapshot).value


def test_measures_match_the_scene(recording):
    scene, camera, _, snapshot, stand = recording
    sofa, tv, table, shelf = stand[:4]
    assert _answer("Absolute distance", 0, recording) == pytest.approx(sofa.distance_to(tv),
                                                                        abs=0.3)
    record = {o.label: o for o in snapshot.objects}
    assert _answer("Object size", 0, recording) == pytest.approx(
        100 * max(record[table.label].extent))  # sizes are the memory's boxes, read exactly
    assert _answer("Object size", 1, recording) == pytest.approx(record[shelf.label].extent[2])
    assert _answer("Room size", 0, recording) == pytest.approx(scene.room.floor_area, rel=0.15)
    room_length = max(scene.room.xmax - scene.room.xmin, scene.room.ymax - scene.room.ymin)
    assert _answer("Room size", 1, recording) == pytest.approx(room_length, abs=0.5)


def test_camera_questions_match_the_recorded_poses(recording):
    _, camera, _, _, stand = recording
    positions = camera.poses[:, :3, 3]
    last, at_20 = FRAMES - 1, round(20 * FRAMES / DOC_FRAMES) - 1
    assert _answer("Camera displacement", 0, recording) == pytest.approx(
        np.linalg.norm(positions[last] - positions[0]), abs=1e-3)
    assert _answer("Camera displacement", 1, recording) == pytest.approx(
        np.linalg.norm(np.diff(positions, axis=0), axis=1).sum(), abs=1e-3)
    assert _answer("Camera-object distance", 0, recording) == pytest.approx(
        stand[1].distance_to_point(positions[at_20]), abs=0.3)
    heading = questions.camera_heading(camera.poses[0])
    moved = questions.horizontal_angle(positions[0], heading, positions[last])
    expected = questions.direction_option(moved, "easy")
    if expected is not None:
        assert _answer("Camera movement direction", 0, recording) == expected


def test_directions_match_where_the_scene_is_clear(recording):
    *_, stand = recording
    sofa, tv, table, shelf, lamp, plant = stand[:6]
    cases = [("Relative direction (easy)", "easy", sofa, tv, lamp),
             ("Relative direction (medium)", "medium", tv, sofa, shelf),
             ("Relative direction (hard)", "hard", table, tv, plant)]
    checked = 0
    for title, level, origin, facing, target in cases:
        angle = questions.horizontal_angle(origin.center, facing.center[:2] - origin.center[:2],
                                           target.center)
        expected = questions.direction_option(angle, level)
        if expected is not None:
            assert _answer(title, 0, recording) == expected, title
            checked += 1
    assert checked, "no direction case is clear of its class boundaries in this scene"


def test_appearance_order_matches_first_sightings(recording):
    """Each label comes no later than any label the renderer showed clearly (2+ frames) after."""
    *_, rendered, _, stand = recording
    seen = {}
    for i, frame in enumerate(rendered):
        for object_id, pixels in frame.pixel_counts.items():
            if pixels >= 20:
                seen.setdefault(object_id, i)
    first = {stand[DOC_LABELS[w]].label: seen[stand[DOC_LABELS[w]].id]
             for w in ("chair", "tv", "sofa", "lamp")}
    order = _answer("Appearance order", 0, recording)
    assert sorted(order) == sorted(first)
    for earlier, later in zip(order, order[1:]):
        assert first[earlier] <= first[later] + 1, (order, first)
