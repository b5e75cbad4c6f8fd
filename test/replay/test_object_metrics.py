"""Object-quality metrics: box IoU by hand, metrics of hand-made memories against a scene, the
`reasmory-eval --memory --scene` CLI, and a real replay of a small noisy simulated bag."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from reasmory_ros.config.settings import Settings
from reasmory_ros.memory.labels import canonical
from reasmory_ros.memory.snapshot import ObjectRecord, Trajectory
from reasmory_ros.replay.evaluate import main
from reasmory_ros.replay.object_metrics import (
    CameraError,
    _has_thin_parts,
    box_overlap,
    camera_position_error,
    extras,
    misses,
    object_metrics,
    pose_bound,
)
from reasmory_ros.replay.pipeline import build_memory
from reasmory_ros.sim.cli import simulate
from reasmory_ros.sim.ground_truth import GroundTruth
from reasmory_ros.sim.noise import DetectorNoise

W, H = 320, 240


def test_box_overlap_by_hand():
    unit = (np.array([0.0, 0.0, 0.5]), np.array([2.0, 1.0, 1.0]), 0.0)
    assert box_overlap(unit, unit) == pytest.approx((2.0, 2.0, 2.0))
    turned = (unit[0], np.array([1.0, 2.0, 1.0]), math.pi / 2)  # the same box described turned
    assert box_overlap(unit, turned)[0] == pytest.approx(2.0)
    shifted = (np.array([1.0, 0.0, 1.0]), unit[1], 0.0)  # half the length, half the height
    assert box_overlap(unit, shifted)[0] == pytest.approx(0.5)
    cross = (unit[0], unit[1], math.pi / 2)  # a 1 x 1 square in common
    assert box_overlap(unit, cross)[0] == pytest.approx(1.0)
    far = (np.array([5.0, 0.0, 0.5]), unit[1], 0.3)
    assert box_overlap(unit, far)[0] == 0.0


def _record(obj_id: int, label: str, center, extent, yaw: float = 0.0) -> ObjectRecord:
    return ObjectRecord(obj_id, label, {label: 3.0}, np.asarray(center, float), np.asarray(extent, float), yaw,
                        np.zeros((0, 3)), 0, 0.0, 5, 0.5, 6)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    simulate(out, seed=1, frames=40, width=W, height=H, questions_per_type=1)
    return out


def test_metrics_of_hand_made_memories(clean):
    truth = GroundTruth.load(clean / "scene.json")
    seen = [o for o in truth.scene.objects if truth.frames_seen(o.id)]
    perfect = [_record(o.id, o.label, o.center, o.extent, o.box_yaw) for o in seen]
    m = object_metrics(perfect, truth)
    assert (m.precision, m.recall, m.duplicates_per_object, m.label_accuracy) == (1.0, 1.0, 0.0, 1.0)
    assert m.center_error_m == pytest.approx(0.0, abs=1e-9) and m.extent_error == pytest.approx(0.0, abs=1e-9)
    assert m.size_error == pytest.approx(0.0, abs=1e-9)

    # One object renamed by a synonym (still right) and one by a look-alike (wrong); one object
    # lost; one kept twice (a shifted copy); a box where nothing is; one box 10 % too long.
    first, second, third, fourth = seen[:4]
    synonym = {"sofa": "couch", "plant": "houseplant", "tv": "television"}.get(first.label, first.label)
    records = [_record(first.id, synonym, first.center, first.extent, first.box_yaw),
               _record(second.id, "zebra", second.center, second.extent, second.box_yaw)]
    fifth = seen[4]
    records.append(_record(fifth.id, fifth.label, fifth.center, fifth.extent * [1.1, 1.0, 1.0], fifth.box_yaw))
    records += [_record(o.id, o.label, o.center, o.extent, o.box_yaw) for o in [fourth, *seen[5:]]]
    records.append(_record(900, fourth.label, fourth.center + [0.0, 0.0, 0.5 * fourth.extent[2]],
                           fourth.extent, fourth.box_yaw))
    records.append(_record(901, "chair", [50.0, 50.0, 0.5], [0.5, 0.5, 1.0]))
    m = object_metrics(records, truth)
    n = len(seen)
    assert m.matched == n - 1 and m.recall == pytest.approx((n - 1) / n)
    assert m.precision == pytest.approx((n - 1) / len(records))
    assert m.duplicates_per_object == pytest.approx(1 / n)
    assert m.label_accuracy == pytest.approx((n - 2) / (n - 1))
    assert third.id not in [r.id for r in records]
    assert m.center_error_m == pytest.approx(0.0, abs=1e-9)
    assert m.extent_error == pytest.approx(0.1 / 3 / (n - 1))
    # Only a longer largest dimension is a size error: 10 % of it if the length is the largest.
    longest = fifth.extent.max()
    assert m.size_error == pytest.approx((max(1.1 * fifth.extent[0], longest) - longest) / longest / (n - 1))


def test_size_error_of_objects_with_thin_parts(clean):
    """The size error is the relative error of the largest dimension; a box that lost its legs
    (the issue's 69 cm stool measured 44 cm) is as short as they were long, and the flat depth
    of a box seen only from the front is no size error."""
    truth = GroundTruth.load(clean / "scene.json")
    seen = [o for o in truth.scene.objects if truth.frames_seen(o.id)]
    thin = [o for o in seen if _has_thin_parts(o)]
    assert thin, "the scene has objects with legs or poles"

    def scaled(o, factor: float, axis: int) -> ObjectRecord:
        extent = o.extent.copy()
        extent[axis] *= factor
        return _record(o.id, o.label, o.center, extent, o.box_yaw)

    legless = [scaled(o, 0.64 if o in thin else 1.0, int(np.argmax(o.extent))) for o in seen]
    m = object_metrics(legless, truth)
    assert m.thin_objects == len(thin) and m.matched == len(seen)
    # 36 % shorter, unless the second dimension is now the largest (a cabinet longer than tall).
    short = [1.0 - max(0.64 * o.extent.max(), np.sort(o.extent)[-2]) / o.extent.max() for o in thin]
    assert max(short) == pytest.approx(0.36)
    assert m.thin_size_error == pytest.approx(np.mean(short))
    assert m.size_error == pytest.approx(np.sum(short) / len(seen))

    # Half the width (the depth behind a front face) of every object whose width is not its size.
    flat = [scaled(o, 0.5 if o.extent[1] < o.extent.max() else 1.0, 1) for o in seen]
    m = object_metrics(flat, truth)
    assert m.size_error == pytest.approx(0.0, abs=1e-9) and m.extent_error > 0.0


def test_view_offset_measures_boxes_that_sit_in_front_of_their_objects(clean):
    """Boxes moved toward the cameras that saw them read as a positive view offset of the size
    the views give it; boxes moved across those views, or not at all, read as none."""
    truth = GroundTruth.load(clean / "scene.json")
    seen = [o for o in truth.scene.objects if truth.frames_seen(o.id)]

    def toward_views(o) -> np.ndarray:
        to_cameras = np.array([truth.camera_center(f)[:2] - o.center[:2] for f in truth.frames_seen(o.id)])
        return (to_cameras / np.linalg.norm(to_cameras, axis=1, keepdims=True)).mean(axis=0)

    def moved(step) -> list[ObjectRecord]:
        return [_record(o.id, o.label, o.center + np.append(step(o), 0.0), o.extent, o.box_yaw) for o in seen]

    assert object_metrics(moved(lambda o: np.zeros(2)), truth).view_offset_m == pytest.approx(0.0, abs=1e-9)
    # 3 cm toward the views' mean direction: each view sees it cos(angle) of that nearer.
    forward = object_metrics(moved(lambda o: 0.03 * toward_views(o) / np.linalg.norm(toward_views(o))), truth)
    assert forward.matched == len(seen)
    concentration = [np.linalg.norm(toward_views(o)) for o in seen]
    assert forward.view_offset_m == pytest.approx(0.03 * np.mean(concentration), rel=1e-6)
    assert forward.view_offset_m > 0.01
    across = object_metrics(moved(lambda o: 0.03 * np.array([-1.0, 1.0]) * toward_views(o)[::-1]
                                  / np.linalg.norm(toward_views(o))), truth)
    assert across.view_offset_m == pytest.approx(0.0, abs=1e-9)
    assert across.center_error_m == pytest.approx(forward.center_error_m)


def test_misses_say_which_objects_are_missed_and_where_the_nearest_box_lies(clean):
    truth = GroundTruth.load(clean / "scene.json")
    seen = [o for o in truth.scene.objects if truth.frames_seen(o.id)]
    assert misses([_record(o.id, o.label, o.center, o.extent, o.box_yaw) for o in seen], truth, 1) == []

    # The first object's box slid along its length (0.7 lengths: IoU 0.3 / 1.7), its points on its
    # own surface; the second object kept with the points of the third; the third not kept.
    first, second, third = seen[:3]
    c, s = math.cos(first.box_yaw), math.sin(first.box_yaw)
    slid = _record(1, first.label, first.center + 0.7 * first.extent[0] * np.array([c, s, 0.0]), first.extent,
                   first.box_yaw)
    slid = dataclasses.replace(slid, points=first.points[::7])
    borrowed = dataclasses.replace(_record(2, second.label, second.center, second.extent, second.box_yaw),
                                   points=third.points[::7])
    found = {m.true_id: m for m in misses([slid, borrowed, *[_record(o.id, o.label, o.center, o.extent, o.box_yaw)
                                                             for o in seen[3:]]], truth, 1)}
    assert set(found) == {first.id, third.id}
    assert found[first.id].nearest_id == 1 and found[first.id].iou == pytest.approx(0.3 / 1.7)
    assert found[first.id].point_shares == {f"{first.label} {first.id}": pytest.approx(1.0)}
    assert "IoU 0.18" in found[first.id].line() and "by the poses" not in found[first.id].line()
    if found[third.id].nearest_box is None:
        assert found[third.id].iou == 0.0 and "no memory box" in found[third.id].line()


def test_extras_say_which_memory_objects_match_nothing_and_what_they_hold(clean):
    truth = GroundTruth.load(clean / "scene.json")
    seen = [o for o in truth.scene.objects if truth.frames_seen(o.id)]
    exact = [dataclasses.replace(_record(o.id, o.label, o.center, o.extent, o.box_yaw), points=o.points[::7])
             for o in seen]
    assert extras(exact, truth) == []

    # A false positive on bare floor far from every object, and a tenth-size part of the first
    # object under another name, seen twice, its points on the object's surface.
    floor = np.array([50.0, 50.0, 0.01])
    false_positive = dataclasses.replace(_record(101, "rug", floor, [0.5, 0.4, 0.02]),
                                         points=floor + np.zeros((4, 3)), label_histogram={"rug": 2.0})
    first = seen[0]
    part = dataclasses.replace(_record(102, "stool", first.center, first.extent / 10 ** (1 / 3), first.box_yaw),
                               points=first.points[::11], observations=2,
                               label_histogram={"stool": 2.0, "armchair": 1.0, "chair": 0.5, "bench": 0.5})
    found = {e.memory_id: e for e in extras([*exact, false_positive, part], truth)}
    assert set(found) == {101, 102}
    assert found[101].nearest_id == -1 and found[101].point_shares == {"none": 1.0}
    assert "overlaps no true object" in found[101].line() and "seen in 6 frames; rug 2" in found[101].line()
    assert found[102].nearest_id == first.id and found[102].iou == pytest.approx(0.1, abs=0.01)
    assert found[102].point_shares == {f"{first.label} {first.id}": pytest.approx(1.0)}
    assert found[102].sightings == 2 and list(found[102].labels) == ["stool", "armchair", "chair"]


def test_camera_position_error_against_the_true_path(clean):
    truth = GroundTruth.load(clean / "scene.json")
    poses = truth.camera.poses.copy()
    frames = np.arange(len(poses))
    exact = Trajectory(frames, truth.camera.timestamps, poses)
    assert camera_position_error(exact, truth) == CameraError(len(poses), 0.0, 0.0)

    # A drift growing 1 cm per frame along x, kept every other frame (as a thinned store would).
    drifted = poses.copy()
    drifted[:, 0, 3] += 0.01 * frames
    thinned = Trajectory(frames[::2], truth.camera.timestamps[::2], drifted[::2])
    error = camera_position_error(thinned, truth)
    assert error.frames == len(frames[::2])
    assert error.max_m == pytest.approx(0.01 * frames[::2][-1])
    assert error.median_m == pytest.approx(0.01 * np.median(frames[::2]))
    assert "median" in error.line() and f"{100 * error.max_m:.1f} cm" in error.line()
    # Frames beyond the recording (a memory that went on after it) are not scored.
    longer = Trajectory(np.arange(len(poses) + 5), np.zeros(len(poses) + 5), np.concatenate([poses, poses[:5]]))
    assert camera_position_error(longer, truth).frames == len(poses)


def test_pose_bound_moves_each_object_by_its_own_views_poses(clean):
    truth = GroundTruth.load(clean / "scene.json")
    poses = truth.camera.poses
    frames = np.arange(len(poses))
    seen = [o for o in truth.scene.objects if truth.frames_seen(o.id)]
    exact = pose_bound(Trajectory(frames, truth.camera.timestamps, poses.copy()), truth, 1)
    assert (exact.objects, exact.max_shift_m, exact.recall) == (len(seen), pytest.approx(0.0), 1.0)

    # Every pose 12 cm off along x: every object moves by 12 cm. Two copies of a box with the same
    # yaw, offset by (du, dv) along its axes, overlap by (L - |du|)(W - |dv|)H.
    offset = np.array([0.12, 0.0, 0.0])
    shifted = poses.copy()
    shifted[:, :3, 3] += offset
    bound = pose_bound(Trajectory(frames, truth.camera.timestamps, shifted), truth, 1)
    assert bound.median_shift_m == pytest.approx(0.12) and bound.max_shift_m == pytest.approx(0.12)

    def kept(obj) -> bool:
        _, (length, width, _), yaw = obj.box
        du = abs(offset[0] * math.cos(yaw) + offset[1] * math.sin(yaw))
        dv = abs(-offset[0] * math.sin(yaw) + offset[1] * math.cos(yaw))
        share = max(length - du, 0.0) * max(width - dv, 0.0) / (length * width)
        return share / (2 - share) >= 0.25

    expected = np.mean([kept(o) for o in seen])
    assert 0.0 < expected < 1.0  # the scene has objects on both sides of the bound
    assert bound.recall == pytest.approx(expected)
    assert f"{100 * expected:.1f}%" in bound.line()

    # A drift growing 1 cm per frame: each object moves by the mean over the frames it is seen in.
    drifted = poses.copy()
    drifted[:, 0, 3] += 0.01 * frames
    growing = pose_bound(Trajectory(frames, truth.camera.timestamps, drifted), truth, 1)
    assert growing.median_shift_m == pytest.approx(np.median([0.01 * np.mean(truth.frames_seen(o.id)) for o in seen]))
    # A miss says how far the poses moved the object it is about.
    far = [_record(o.id, o.label, o.center + np.array([2.0, 0.0, 0.0]), o.extent, o.box_yaw) for o in seen]
    said = {m.true_id: m for m in misses(far, truth, 1, Trajectory(frames, truth.camera.timestamps, drifted))}
    assert said[seen[0].id].pose_shift_m == pytest.approx(0.01 * np.mean(truth.frames_seen(seen[0].id)))
    assert f"moved {100 * said[seen[0].id].pose_shift_m:.1f} cm by the poses" in said[seen[0].id].line()
    # Only objects seen in enough frames count.
    well_seen = [o for o in seen if len(truth.frames_seen(o.id)) >= 10]
    assert pose_bound(Trajectory(frames, truth.camera.timestamps, drifted), truth, 10).objects == len(well_seen)


def test_eval_cli_scores_a_saved_memory_and_refuses_bad_input(clean, tmp_path, capsys):
    memory, _ = build_memory(clean / "bag", Settings(), progress=False)
    memory.save(tmp_path / "memory.npz")
    assert main(["--memory", str(tmp_path / "memory.npz"), "--scene", str(clean / "scene.json"), "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    report = output["objects"]
    assert 0 < report["matched"] <= report["memory_objects"] and report["true_objects"] >= report["matched"]
    assert report == object_metrics(memory.snapshot().objects, GroundTruth.load(clean / "scene.json")).to_json()
    assert output["camera"]["frames"] == 40 and output["camera"]["max_m"] < 1e-3  # clean poses are the truth
    assert output["pose_bound"]["recall"] == 1.0 and output["pose_bound"]["max_shift_m"] < 1e-3

    assert main(["--memory", str(tmp_path / "missing.npz"), "--scene", str(clean / "scene.json")]) == 2
    assert "reasmory-eval:" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    assert main(["--memory", str(tmp_path / "memory.npz"), "--scene", str(tmp_path / "bad.json")]) == 2
    assert "cannot read ground truth" in capsys.readouterr().err
    for argv in (["--memory", str(tmp_path / "memory.npz")], [], ["answers.jsonl"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2


def test_memory_of_a_noisy_bag_stays_right(tmp_path):
    """A real replay of a noisy recording (every error kind of `DetectorNoise`, pose drift).
    Small, so the bounds are loose; the benchmark holds the issue's targets on full recordings."""
    out = tmp_path / "noisy"
    simulate(out, seed=1, frames=60, questions_per_type=1, detector_noise=DetectorNoise())
    memory, _ = build_memory(out / "bag", Settings(), progress=False)
    objects = memory.snapshot().objects
    metrics = object_metrics(objects, GroundTruth.load(out / "scene.json"))
    print(metrics.table())
    assert all(o.first_seen_frame < o.last_seen_frame for o in objects), "a one-frame object is shown"
    assert all(canonical(o.label) == o.label for o in objects), "a synonym is a category of its own"
    # At most one duplicate of 19: a split fragment of a cabinet named with a look-alike label
    # ("dresser", two frames) stays a record of its own by design: objects of different
    # categories merge only as one box, or as a part over the whole's footprint that the detector
    # also called the whole by (docs/memory.md), and this fragment covers a third of the
    # cabinet's footprint, which was never called "dresser". With its hidden depth completed its
    # box lies inside the cabinet's and counts. The benchmark holds the 0.05 target on full
    # recordings.
    assert round(metrics.duplicates_per_object * metrics.true_objects) <= 1
    assert metrics.label_accuracy >= 0.9
    assert metrics.well_seen_recall >= 0.6
