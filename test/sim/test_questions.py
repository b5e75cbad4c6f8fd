"""Questions: every type is generated, answers re-derived independently from scene.json data."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from reasmory_ros.replay.evaluate import read_jsonl
from reasmory_ros.sim import GroundTruth, camera_trajectory, default_intrinsics, generate_scene, render_sequence
from reasmory_ros.sim.questions import (
    ANGLE_MARGIN,
    MULTIPLE_CHOICE,
    QUESTION_TYPES,
    direction_option,
    generate_questions,
    horizontal_angle,
    movement_option,
    ordinal,
    plural,
    position_option,
    turn_option,
    write_questions,
)
from reasmory_ros.sim.scene import Part, SceneObject

W, H, N = 160, 120, 60


@pytest.fixture(scope="module", params=[0, 3])
def recording(request, tmp_path_factory):
    scene = generate_scene(request.param)
    camera = camera_trajectory(scene, N, seed=0)
    visibility = [r.pixel_counts for r in render_sequence(scene, camera, width=W, height=H, noise=False)]
    gt = GroundTruth(scene, camera, default_intrinsics(W, H), W, H, visibility)
    path = tmp_path_factory.mktemp("q") / "scene.json"
    gt.save(path)
    questions = generate_questions(gt, per_type=4, seed=1)
    doc = json.loads(path.read_text())
    return gt, questions, doc


def _by_type(questions, qtype):
    return [q for q in questions if q.type == qtype]


def test_every_type_generated_with_valid_rows(recording, tmp_path):
    gt, questions, _ = recording
    assert {q.type for q in questions} == set(QUESTION_TYPES)
    assert len({q.id for q in questions}) == len(questions)
    for q in questions:
        if q.type in MULTIPLE_CHOICE:
            assert q.answer in q.options and len(set(q.options)) == len(q.options) >= 2
        else:
            assert q.options is None and isinstance(q.answer, (int, float)) and q.answer > 0
            assert isinstance(q.answer, int) == (q.type == "object_counting")
    write_questions(questions, tmp_path / "q.jsonl")
    rows = read_jsonl(tmp_path / "q.jsonl")
    assert [r["id"] for r in rows] == [q.id for q in questions]
    assert all(("options" in r) == (r["type"] in MULTIPLE_CHOICE) for r in rows)
    assert generate_questions(gt, per_type=4, seed=1) == questions  # deterministic


def test_counting_and_sizes_from_scene_json(recording):
    _, questions, doc = recording
    objects = doc["scene"]["objects"]
    for q in _by_type(questions, "object_counting"):
        label = q.meta["label"]
        assert plural(label) in q.question
        assert q.answer == sum(o["label"] == label for o in objects)
    for q in _by_type(questions, "object_size_estimation"):
        (obj,) = [o for o in objects if o["id"] == q.meta["objects"][0]]
        assert q.answer == pytest.approx(100 * max(obj["extent"]))
        assert sum(o["label"] == obj["label"] for o in objects) == 1  # "the X" is unambiguous
    (room_q,) = _by_type(questions, "room_size_estimation")
    r = doc["scene"]["room"]
    assert room_q.answer == pytest.approx((r["xmax"] - r["xmin"]) * (r["ymax"] - r["ymin"]))


def test_camera_questions_from_poses(recording):
    gt, questions, doc = recording
    poses = np.array([f["T_world_camera"] for f in doc["camera"]["frames"]])
    for q in _by_type(questions, "camera_displacement"):
        i, j = q.meta["frames"]
        assert f"{i + 1}" in q.question and f"{j + 1}" in q.question
        assert q.answer == pytest.approx(np.linalg.norm(poses[j, :3, 3] - poses[i, :3, 3]))
    for q in _by_type(questions, "camera_movement_direction"):
        i, j = q.meta["frames"]
        heading = math.atan2(poses[i, 1, 2], poses[i, 0, 2])  # optical z projected on the floor
        d = poses[j, :2, 3] - poses[i, :2, 3]
        c, s = math.cos(-heading), math.sin(-heading)
        forward, left = c * d[0] - s * d[1], s * d[0] + c * d[1]
        expected = ("forward" if forward > 0 else "backward") if abs(forward) > abs(left) else (
            "left" if left > 0 else "right")
        assert q.answer == expected
    for q in _by_type(questions, "camera_object_distance"):
        obj = gt.scene.object(q.meta["objects"][0])
        (i,) = q.meta["frames"]
        brute = np.linalg.norm(obj.points - poses[i, :3, 3], axis=1).min()
        assert q.answer == pytest.approx(brute)
        assert gt.visibility[i].get(obj.id, 0) >= gt.min_visible_pixels


def test_object_relations_recomputed(recording):
    gt, questions, _ = recording
    scene = gt.scene
    for q in _by_type(questions, "object_abs_distance"):
        a, b = (scene.object(i) for i in q.meta["objects"])
        if q.meta["variant"] == "center":
            assert "center" in q.question
            assert q.answer == pytest.approx(np.linalg.norm(a.center - b.center))
        else:
            pa, pb = a.points[::3], b.points[::3]
            brute = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1)).min()
            assert abs(q.answer - brute) < 0.03
    for q in _by_type(questions, "object_rel_distance"):
        target, *candidates = (scene.object(i) for i in q.meta["objects"])
        d = {c.label: target.distance_to(c) for c in candidates}
        pick = max if q.meta["variant"] == "farthest" else min
        assert q.answer == pick(d, key=d.get)
    for level in ("easy", "medium", "hard"):
        for q in _by_type(questions, f"object_rel_direction_{level}"):
            a, b, c = (scene.object(i) for i in q.meta["objects"])
            f = (b.center - a.center)[:2]
            f /= np.linalg.norm(f)
            rel = (c.center - a.center)[:2]
            ahead, left = rel @ f, rel @ np.array([-f[1], f[0]])
            angle = math.degrees(math.atan2(left, ahead))
            expected = {"easy": "left" if left > 0 else "right",
                        "medium": "back" if abs(angle) > 135 else ("left" if left > 0 else "right"),
                        "hard": ("front-" if ahead > 0 else "back-") + ("left" if left > 0 else "right")}[level]
            assert q.answer == expected
            assert q.meta["angle_deg"] == pytest.approx(angle)
            boundaries = {"easy": (0, 180), "medium": (0, 135, -135), "hard": (0, 90, -90, 180)}[level]
            assert all(abs((angle - b + 180) % 360 - 180) >= ANGLE_MARGIN for b in boundaries)


def test_route_and_appearance_order(recording):
    gt, questions, _ = recording
    for q in _by_type(questions, "route_planning"):
        stops = [gt.scene.object(i) for i in q.meta["objects"]]
        assert len(re.findall(r"\d+\. \[please fill in\]", q.question)) == len(stops) - 2
        turns = []
        for p, c, n in zip(stops, stops[1:], stops[2:]):
            h1 = math.atan2(*(c.center - p.center)[1::-1])
            h2 = math.atan2(*(n.center - c.center)[1::-1])
            delta = math.degrees((h2 - h1 + math.pi) % (2 * math.pi) - math.pi)
            turns.append("go forward" if abs(delta) <= 45 else "turn back" if abs(delta) > 135
                         else "turn left" if delta > 0 else "turn right")
        assert q.answer == ", ".join(turns)
    for q in _by_type(questions, "obj_appearance_order"):
        labels = q.answer.split(", ")
        first = [min(i for i, v in enumerate(gt.visibility)
                     if any(v.get(o.id, 0) >= gt.min_visible_pixels for o in gt.scene.by_label(lab)))
                 for lab in labels]
        assert first == sorted(first) and len(set(first)) == len(first)
        assert all(sorted(o.split(", ")) == sorted(labels) for o in q.options)


def test_position_relative_to_camera_recomputed(recording):
    gt, questions, _ = recording
    for q in _by_type(questions, "object_position_relative_to_camera"):
        obj = gt.scene.object(q.meta["objects"][0])
        T = gt.camera.poses[q.meta["frames"][0]]
        rel = (obj.center - T[:3, 3])[:2]
        if q.meta["axis"] == "lateral":
            # Horizontal left/right: the optical x axis (right) projected on the floor.
            assert q.answer == ("right" if rel @ T[:2, 0] > 0 else "left")
        else:
            assert q.answer == ("front" if rel @ T[:2, 2] > 0 else "behind")


def test_convention_helpers():
    assert horizontal_angle([0, 0], [1, 0], [0, 1]) == pytest.approx(90.0)  # +y is left of +x
    assert horizontal_angle([0, 0], [0, 1], [1, 1]) == pytest.approx(-45.0)
    assert horizontal_angle([0, 0], [1, 0], [-1, 0]) == pytest.approx(180.0)
    assert direction_option(30, "easy") == "left" and direction_option(-100, "easy") == "right"
    assert direction_option(10, "easy") is None and direction_option(170, "easy") is None
    assert direction_option(140, "medium") is None and direction_option(155, "medium") == "back"
    assert direction_option(-60, "medium") == "right"
    assert direction_option(120, "hard") == "back-left" and direction_option(-30, "hard") == "front-right"
    assert direction_option(95, "hard") is None
    assert [turn_option(d) for d in (10, 80, -100, 170, -170, 50)] == [
        "go forward", "turn left", "turn right", "turn back", "turn back", None]
    T = np.eye(4)
    T[:3, :3] = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]])  # optical z along world +x
    assert movement_option(T, [2, 0.1, 0]) == "forward" and movement_option(T, [0.1, 1, 0]) == "left"
    assert movement_option(T, [-1, -0.2, 0]) == "backward" and movement_option(T, [1, -1.1, 0]) is None
    box = SceneObject(1, "cabinet", [Part((0, 0, 0.5), (0.4, 0.4, 1.0), (1, 1, 1))], np.array([3.0, 2.0, 0.0]), 0.0)
    assert position_option(T, box, "lateral") == "left" and position_option(T, box, "depth") == "front"
    straddling = SceneObject(2, "sofa", [Part((0, 0, 0.4), (0.5, 2.0, 0.8), (1, 1, 1))], np.array([3.0, 0.5, 0.0]), 0.0)
    assert position_option(T, straddling, "lateral") is None
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 102)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd"]
    assert [plural(w) for w in ("shelf", "trash can", "bus", "chair")] == ["shelves", "trash cans", "buses", "chairs"]
    with pytest.raises(ValueError, match="unknown question type"):
        generate_questions(None, types=["nope"])  # type: ignore[arg-type]


def test_sparse_scene_yields_fewer_questions_not_errors():
    """A room whose categories all repeat: no "the X" questions, but counting and camera ones."""
    from reasmory_ros.sim.scene import Room, Scene
    from reasmory_ros.sim.trajectory import CameraPath

    chairs = [SceneObject(i + 1, "chair", [Part((0, 0, 0.45), (0.45, 0.45, 0.9), (0.5, 0.3, 0.2))],
                          np.array([x, 0.0, 0.0]), 0.0) for i, x in enumerate((1.0, 2.5))]
    scene = Scene(0, Room(-1.0, 4.0, -2.0, 2.0, 2.6), chairs)
    poses = np.tile(np.eye(4), (6, 1, 1))
    poses[:, :3, :3] = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]])
    poses[:, 0, 3] = np.linspace(-0.5, -0.2, 6)
    poses[:, 2, 3] = 1.4
    gt = GroundTruth(scene, CameraPath(poses, np.arange(6.0)), default_intrinsics(W, H), W, H,
                     [{1: 500, 2: 400}] * 6)
    questions = generate_questions(gt, per_type=2)
    types = {q.type for q in questions}
    assert {"object_counting", "room_size_estimation"} <= types
    assert not types & {"object_abs_distance", "object_size_estimation", "object_rel_direction_easy", "route_planning"}
    (count,) = [q for q in questions if q.type == "object_counting"]
    assert count.answer == 2
