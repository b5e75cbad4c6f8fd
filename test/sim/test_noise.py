"""Detector-noise mode: each error kind happens at its seeded rate, and only where it should.

Unit tests drive `NoisyDetector` with hand-built instance images (exact ground truth for each
error); the last tests go through the real renderer, bag writer and ground-truth file.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from rosbags.rosbag2 import Reader

from reasmory_ros.memory.frame import Frame
from reasmory_ros.memory.labels import SYNONYM_GROUPS, normalise
from reasmory_ros.sim.bag import TOPICS, TYPESTORE
from reasmory_ros.sim.cli import main, simulate
from reasmory_ros.sim.ground_truth import GroundTruth
from reasmory_ros.sim.noise import LOOK_ALIKES, DetectorNoise, NoisyDetector
from reasmory_ros.sim.render import Rendered

H, W = 120, 160
ONLY = DetectorNoise.off()


def _only(**values) -> DetectorNoise:
    """Noise with every error off except the given ones."""
    return DetectorNoise.from_dict({**ONLY.to_dict(), **values})


def _rendered(boxes: list[tuple[int, int, int, int, float]], labels: list[str], index: int = 0,
              position=(0.0, 0.0, 0.0)) -> Rendered:
    """A frame of a wall at 4 m with boxes (row0, row1, col0, col1, depth) as objects 1..N."""
    depth = np.full((H, W), 4.0, np.float32)
    ids = np.zeros((H, W), np.int32)
    for k, (r0, r1, c0, c1, z) in enumerate(boxes, 1):
        ids[r0:r1, c0:c1] = 10 * k
        depth[r0:r1, c0:c1] = z
    T = np.eye(4)
    T[:3, 3] = position
    frame = Frame.create(rgb=np.zeros((H, W, 3), np.uint8), depth=depth, K=np.array(
        [[100.0, 0, W / 2], [0, 100.0, H / 2], [0, 0, 1]]), T_world_camera=T, timestamp=float(index),
        index=index, instances=ids, labels={10 * k: label for k, label in enumerate(labels, 1)})
    return Rendered(frame, {10 * k: k for k in range(1, len(boxes) + 1)},
                    {k: int((ids == 10 * k).sum()) for k in range(1, len(boxes) + 1)})


def _grid(n_rows=3, n_cols=4, size=20, depth=1.5):
    """Separate, equally large and near boxes (no two touch)."""
    return [(8 + r * 36, 8 + r * 36 + size, 8 + c * 38, 8 + c * 38 + size, depth)
            for r in range(n_rows) for c in range(n_cols)]


def _within(count: int, trials: int, p: float) -> bool:
    """count is within 4 binomial standard deviations of trials * p."""
    return abs(count - trials * p) <= 4 * math.sqrt(trials * p * (1 - p)) + 1


def test_off_changes_nothing():
    rendered = _rendered(_grid(), ["chair"] * 12)
    out = NoisyDetector(DetectorNoise.off(), 0)(rendered)
    assert np.array_equal(out.frame.instances, rendered.frame.instances)
    assert out.frame.labels == rendered.frame.labels and out.instance_to_object == rendered.instance_to_object
    assert np.allclose(out.frame.T_world_camera, rendered.frame.T_world_camera)


def test_misses_follow_their_probability_and_hit_small_and_far_instances_more():
    detector = NoisyDetector(_only(miss=0.2), 1)
    frames = 40
    kept = sum(len(detector(_rendered(_grid(), ["chair"] * 12)).frame.labels) for _ in range(frames))
    assert _within(12 * frames - kept, 12 * frames, 0.2)

    # Same base rate; a tiny far box is missed far more often than a large near one.
    detector = NoisyDetector(_only(miss=0.05, miss_small=0.5, miss_far=0.4), 2)
    big, tiny = (10, 70, 10, 70, 1.0), (90, 94, 120, 124, 5.0)
    seen = np.zeros(2)
    for _ in range(300):
        out = detector(_rendered([big, tiny], ["sofa", "cup"]))
        seen += [10 in out.frame.labels, 20 in out.frame.labels]
    # tiny: 16 px of 19200 (0.0008 < small 0.006), at far_depth: p = 0.05 + 0.5 * 0.86 + 0.4
    assert _within(300 - seen[1], 300, 0.05 + 0.5 * (1 - 16 / (0.006 * H * W)) + 0.4)
    assert _within(300 - seen[0], 300, 0.05)


def test_labels_become_synonyms_or_look_alikes_at_their_rates():
    detector = NoisyDetector(_only(synonym=0.3, confusion=0.1), 3)
    group = next(g for g in SYNONYM_GROUPS if "sofa" in g)
    outcomes = {"same": 0, "synonym": 0, "look-alike": 0}
    for _ in range(100):
        for label in detector(_rendered(_grid(), ["sofa"] * 12)).frame.labels.values():
            if label == "sofa":
                outcomes["same"] += 1
            elif normalise(label) in group:
                outcomes["synonym"] += 1
            else:
                assert label in LOOK_ALIKES["sofa"]
                outcomes["look-alike"] += 1
    assert _within(outcomes["synonym"], 1200, 0.3) and _within(outcomes["look-alike"], 1200, 0.1)


def test_bleeding_masks_take_background_only_and_eroded_masks_shrink():
    near = (30, 60, 30, 60, 1.0)
    touching = (30, 60, 60, 90, 1.0)  # shares an edge with `near`
    out = NoisyDetector(_only(bleed=1.0, bleed_px=(4, 4)), 4)(_rendered([near, touching], ["chair", "table"]))
    ids, depth = out.frame.instances, out.frame.depth
    grown = ids == 10
    assert grown.sum() > 30 * 30
    assert (ids[30:60, 60:90] != 10).all(), "the mask bled into the other object"
    assert (depth[grown] == 4.0).any(), "the bleed must pick up the wall's depth behind"
    assert grown[26:64, 30:60].all() and grown[30:60, 26:30].all() and not grown[25, 30] and not grown[45, 25]

    out = NoisyDetector(_only(erode=1.0, erode_px=(3, 3)), 5)(_rendered([near], ["chair"]))
    mask = out.frame.instances == 10
    assert mask.sum() == 24 * 24 and mask[33:57, 33:57].all()


def test_splits_keep_both_parts_on_the_object_and_merges_need_touching_surfaces():
    out = NoisyDetector(_only(split=1.0), 6)(_rendered([(20, 40, 20, 80, 1.0)], ["sofa"]))
    ids = out.frame.instances
    parts = set(np.unique(ids)) - {0}
    assert len(parts) == 2 and (ids[20:40, 20:80] > 0).all()
    assert {out.instance_to_object[p] for p in parts} == {1}
    assert all(out.frame.labels[p] == "sofa" for p in parts)

    # Adjacent in the image at the same depth: merged (label of the larger); adjacent but a metre
    # apart in depth (one in front of the other): never merged.
    touching = [(20, 60, 20, 60, 1.0), (20, 40, 60, 80, 1.0), (80, 110, 20, 60, 1.0), (80, 110, 60, 90, 2.0)]
    out = NoisyDetector(_only(merge=1.0), 7)(_rendered(touching, ["table", "book", "chair", "sofa"]))
    ids = out.frame.instances
    assert (ids[20:40, 60:80] == 10).all() and out.frame.labels[10] == "table" and 20 not in out.frame.labels
    assert out.instance_to_object == {10: 1, 30: 3, 40: 4}
    assert (ids[80:110, 60:90] == 40).all()


def test_false_positives_lie_on_background_and_show_no_object():
    detector = NoisyDetector(_only(false_positive=0.5), 8)
    made = 0
    for _ in range(100):
        rendered = _rendered(_grid(), ["chair"] * 12)
        out = detector(rendered)
        extra = set(out.frame.labels) - set(rendered.frame.labels)
        made += len(extra)
        for i in extra:
            assert i not in out.instance_to_object
            assert (rendered.frame.instances[out.frame.instances == i] == 0).all()
        assert all(np.array_equal(out.frame.instances == i, rendered.frame.instances == i)
                   for i in rendered.frame.labels)
    assert _within(made, 100, 0.5)


@pytest.mark.parametrize("kind", ["translation", "yaw"])
def test_pose_drift_grows_with_distance_travelled_not_with_time(kind):
    noise = _only(drift_translation=0.02) if kind == "translation" else _only(drift_yaw=1.0)
    errors = {"moving": [], "still": []}
    for seed in range(40):
        for motion in errors:
            detector = NoisyDetector(noise, seed)
            for i in range(101):
                position = (0.1 * i, 0.0, 0.0) if motion == "moving" else (0.0, 0.0, 0.0)
                T = detector(_rendered([], [], i, position)).frame.T_world_camera
            if kind == "translation":
                errors[motion].append(np.linalg.norm(T[:3, 3] - position))
            else:
                assert np.allclose(T[2, :3], [0, 0, 1]), "yaw drift keeps gravity"
                errors[motion].append(math.degrees(math.atan2(T[1, 0], T[0, 0])))
    assert max(np.abs(errors["still"])) < 1e-12
    # 10 m travelled: each axis walks sigma = 0.02 * sqrt(10) (RMS 0.02 * sqrt(30) in 3D); the
    # heading walks sigma = 1 deg * sqrt(10).
    expected = 0.02 * math.sqrt(30) if kind == "translation" else math.sqrt(10)
    rms = math.sqrt(np.mean(np.square(errors["moving"])))
    assert 0.6 * expected < rms < 1.5 * expected


def test_jitter_does_not_accumulate_and_keeps_poses_rigid():
    detector = NoisyDetector(_only(jitter_translation=0.01, jitter_rotation=0.5), 9)
    errors = []
    for i in range(200):
        T = detector(_rendered([], [], i, (0.05 * i, 0.0, 0.0))).frame.T_world_camera
        assert np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-9)
        errors.append(np.linalg.norm(T[:3, 3] - (0.05 * i, 0.0, 0.0)))
    assert np.mean(errors[:100]) == pytest.approx(np.mean(errors[100:]), rel=0.35)


def test_same_seed_same_noise():
    frames = [_rendered(_grid(), ["chair"] * 12, i, (0.1 * i, 0, 0)) for i in range(5)]
    a = [NoisyDetector(DetectorNoise(), 11)(f) for f in frames[:1]]
    b = [NoisyDetector(DetectorNoise(), 11)(f) for f in frames[:1]]
    assert np.array_equal(a[0].frame.instances, b[0].frame.instances) and a[0].frame.labels == b[0].frame.labels


def test_bad_settings_are_refused_with_the_field_named(tmp_path, capsys):
    with pytest.raises(ValueError, match="DetectorNoise.miss is a probability"):
        DetectorNoise(miss=1.5)
    with pytest.raises(ValueError, match="bleed_px must be two integers"):
        DetectorNoise(bleed_px=(5, 2))
    with pytest.raises(ValueError, match="unknown DetectorNoise fields: mis"):
        DetectorNoise.parse_assignments(["mis=0.1"])
    with pytest.raises(ValueError, match="NAME=VALUE"):
        DetectorNoise.parse_assignments(["miss"])
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "out"), "--noise-set", "split=-1", "--quiet"])
    assert exit_info.value.code == 2 and "DetectorNoise.split" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main([str(tmp_path / "out"), "--noise", "--layout", "realsense2_camera", "--quiet"]) == 2
    assert "contract layout only" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_noisy_bag_keeps_the_contract_and_its_ground_truth(tmp_path):
    """Through the real renderer and bag writer: the bag carries the noisy instances and drifted
    poses; scene.json keeps the true poses and which noisy instance shows which object, and
    reproduces the bag's frames."""
    noise = DetectorNoise(false_positive=1.0)
    assert main([str(tmp_path / "sim"), "--seed", "3", "--frames", "6", "--width", "96", "--height", "72",
                 "--noise", "--noise-set", "false_positive=1", "--quiet"]) == 0
    clean = simulate(tmp_path / "clean", seed=3, frames=6, width=96, height=72)
    gt = GroundTruth.load(tmp_path / "sim" / "scene.json")
    assert gt.detector_noise == noise
    assert np.allclose(gt.camera.poses, GroundTruth.load(clean.scene_json).camera.poses)
    expected = list(gt.rendered())
    labels, poses = [], []
    with Reader(tmp_path / "sim" / "bag") as reader:
        assert {c.topic for c in reader.connections} == {t for t, _ in TOPICS.values()}
        for connection, _, raw in reader.messages():
            msg = TYPESTORE.deserialize_cdr(raw, connection.msgtype)
            if connection.topic == TOPICS["labels"][0]:
                labels.append({int(k): v for k, v in json.loads(msg.data).items()})
            if connection.topic == TOPICS["pose"][0]:
                poses.append([msg.pose.position.x, msg.pose.position.y, msg.pose.position.z])
    assert labels == [r.frame.labels for r in expected]
    assert np.allclose(poses, [r.frame.T_world_camera[:3, 3] for r in expected], atol=1e-9)
    assert not np.allclose(poses, gt.camera.poses[:, :3, 3], atol=1e-4), "poses must drift"
    for i, rendered in enumerate(expected):
        assert gt.instances[i] == rendered.instance_to_object
        assert set(gt.instances[i]) < set(rendered.frame.labels), "each frame has a false positive"
