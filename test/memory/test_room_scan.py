"""A noisy ray-cast room scan against its ground truth: objects, boxes, no duplicates."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from reasmory_ros.memory import MemoryConfig, SpatialMemory
from reasmory_ros.memory.frame import MAX_CAMERA_COORDINATE

from .conftest import ROOM_OBJECTS

FIRST_LOOP = 32


@pytest.fixture(scope="module")
def scanned(room_scan):
    """Memory after the first loop and after the revisit (second loop)."""
    memory = SpatialMemory(MemoryConfig(pixel_stride=2))
    for frame in room_scan[:FIRST_LOOP]:
        memory.update(frame)
    after_first = memory.snapshot()
    for frame in room_scan[FIRST_LOOP:]:
        memory.update(frame)
    return memory, after_first, memory.snapshot()


def _matches(snapshot):
    """Ground-truth object -> memory object of the same label with the nearest centre."""
    pairs = []
    for truth in ROOM_OBJECTS:
        same = [o for o in snapshot.objects if o.label == truth.label]
        pairs.append((truth, min(same, key=lambda o: np.linalg.norm(o.center - truth.center))))
    return pairs


def test_object_count_per_label_is_exact(scanned):
    _, after_first, final = scanned
    expected = Counter(obj.label for obj in ROOM_OBJECTS)
    assert after_first.label_counts() == expected
    assert final.label_counts() == expected, "revisiting the room must not duplicate objects"


def test_boxes_match_ground_truth(scanned):
    _, _, snapshot = scanned
    for truth, found in _matches(snapshot):
        assert np.linalg.norm(found.center - truth.center) < 0.05, (truth, found.center)
        assert found.extent[0] >= found.extent[1]
        np.testing.assert_allclose(found.extent, truth.extent, rtol=0.10, err_msg=truth.label)
        # yaw is defined modulo 180 deg; for near-square footprints only modulo 90 deg is stable
        period = np.pi / 2 if truth.extent[0] - truth.extent[1] < 0.1 else np.pi
        error = (found.yaw - truth.yaw + period / 2) % period - period / 2
        assert abs(error) < np.radians(8), (truth.label, np.degrees(found.yaw))


def test_object_history_and_views(scanned):
    _, _, snapshot = scanned
    keyframe_frames = {k.frame_index for k in snapshot.keyframes}
    ids = [obj.id for obj in snapshot.objects]
    assert ids == sorted(ids)
    assert all(set(k.object_ids) <= set(ids) for k in snapshot.keyframes)
    for obj in snapshot.objects:
        assert 0 <= obj.first_seen_frame <= obj.last_seen_frame < snapshot.frame_count
        assert obj.first_seen_time <= obj.last_seen_time
        assert 2 <= obj.observations <= snapshot.frame_count
        assert obj.best_keyframe in keyframe_frames
        best_view = next(k for k in snapshot.keyframes if k.frame_index == obj.best_keyframe)
        assert obj.id in best_view.object_ids
        assert obj.label_histogram[obj.label] == max(obj.label_histogram.values())
        assert len(obj.points) > 50
        inside = np.abs(obj.points[:, 2] - obj.center[2]) <= obj.extent[2] / 2 + 0.05
        assert inside.mean() > 0.95


def test_map_trajectory_keyframes(scanned, room_scan):
    _, _, snapshot = scanned
    assert snapshot.frame_count == len(room_scan)
    assert len(snapshot.trajectory) == len(room_scan)
    np.testing.assert_allclose(snapshot.trajectory.pose_at_frame(40), room_scan[40].T_world_camera)
    path = sum(
        np.linalg.norm(b.T_world_camera[:3, 3] - a.T_world_camera[:3, 3])
        for a, b in zip(room_scan[10:20], room_scan[11:21])
    )
    assert snapshot.trajectory.distance_between(10, 20) == pytest.approx(path)

    points = snapshot.scene_map.points
    floor = points[np.abs(points[:, 2]) < 0.05]
    assert floor[:, 0].min() < -3.0 and floor[:, 0].max() > 3.0
    assert floor[:, 1].min() < -2.5 and floor[:, 1].max() > 2.5
    assert np.all(np.abs(points[:, :2]) < np.array([4.2, 3.7]))  # nothing outside the walls
    assert snapshot.scene_map.colors.shape == points.shape

    assert 4 <= len(snapshot.keyframes) <= MemoryConfig().max_keyframes
    keyframe = snapshot.keyframes[0]
    assert keyframe.rgb.shape == (120, 160, 3) and keyframe.depth.shape == (120, 160)
    # the stored intrinsics project a keyframe's depth back onto the scene map
    v, u = np.nonzero((keyframe.depth > 0) & (keyframe.depth < 4.0))  # noise grows with depth
    d = keyframe.depth[v, u]
    K = keyframe.K
    camera = np.stack([(u - K[0, 2]) / K[0, 0] * d, (v - K[1, 2]) / K[1, 1] * d, d], 1)
    world = camera @ keyframe.T_world_camera[:3, :3].T + keyframe.T_world_camera[:3, 3]
    walls_or_floor = (np.abs(world[:, 2]) < 0.1) | (np.abs(np.abs(world[:, 0]) - 4.0) < 0.1) | (
        np.abs(np.abs(world[:, 1]) - 3.5) < 0.1
    )
    near_objects = np.zeros(len(world), bool)
    for obj in snapshot.objects:
        lo, hi = obj.corners().min(0) - 0.1, obj.corners().max(0) + 0.1
        near_objects |= np.all((world >= lo) & (world <= hi), axis=1)
    assert (walls_or_floor | near_objects).mean() > 0.95


def test_working_memory_holds_the_last_frames(scanned, room_scan):
    memory, _, snapshot = scanned
    frames = memory.working_frames()
    window = MemoryConfig().working_window
    assert [f.frame_index for f in frames] == [f.index for f in room_scan[-window:]]
    ids = {o.id for o in snapshot.objects}
    last = frames[-1]
    seen = set(np.unique(last.object_ids[last.object_ids >= 0]).tolist())
    assert seen and seen <= ids


def test_a_room_far_from_the_odometry_origin_is_remembered_as_at_the_origin(room_scan):
    """Odometry starts at the origin, but a robot may work kilometres from it (a long warehouse,
    a campus): the same frames with every pose moved to the edge of what a Frame accepts must give
    the same objects, moved. (Float32 point distances, taken as |a|^2 + |b|^2 - 2ab for sets of
    more than 25 points, are off by up to 34 cm at 600 m: the decisions built on them hold.)"""
    offset = np.array([MAX_CAMERA_COORDINATE - 10.0, -MAX_CAMERA_COORDINATE / 2, 0.0])
    shift = np.eye(4)
    shift[:3, 3] = offset
    found = []
    for moved in (False, True):
        memory = SpatialMemory(MemoryConfig())
        for frame in room_scan:
            memory.update(dataclasses.replace(frame, T_world_camera=shift @ frame.T_world_camera) if moved else frame)
        found.append(sorted(memory.snapshot().objects, key=lambda r: (r.label, r.center[0] - offset[0] * moved)))
    at_origin, far = found
    assert [r.label for r in far] == [r.label for r in at_origin]
    for near, moved in zip(at_origin, far):
        np.testing.assert_allclose(moved.center - offset, near.center, atol=0.03)
        np.testing.assert_allclose(moved.extent, near.extent, atol=0.03)
