"""Fixed capacity: nothing grows, and every store degrades the documented way when full."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
import torch

from reasmory_ros.memory import MemoryConfig, SpatialMemory
from reasmory_ros.memory.objects import Merges, ObjectTable

from .conftest import ROOM_OBJECTS

SMALL = dict(
    pixel_stride=2, max_objects=8, max_instances_per_frame=8, trajectory_capacity=16,
    max_keyframes=4, map_capacity=4096, working_window=4, working_points=4096,
    support_half_life=4.0,
)


def _shifted(frames, offset_x: float, first_index: int):
    """The same frames seen in a copy of the room offset_x metres away (a robot moving on)."""
    shift = np.eye(4)
    shift[0, 3] = offset_x
    return [
        dataclasses.replace(f, T_world_camera=shift @ f.T_world_camera, index=first_index + i,
                            timestamp=(first_index + i) / 15.0)
        for i, f in enumerate(frames)
    ]


def _tensor_layout(memory):
    return {
        (name, key): (t.data_ptr(), t.numel(), t.dtype)
        for name, part in memory._parts.components().items()
        for key, t in part.tensors().items()
    }


def test_long_stream_allocates_nothing_and_stays_bounded(room_scan):
    memory = SpatialMemory(MemoryConfig(**SMALL))
    loop = room_scan[:32:3]
    memory.update(loop[0])
    layout, allocated = _tensor_layout(memory), memory.allocated_bytes()
    evicted = dropped = 0
    rooms = 4
    for room in range(rooms):
        for frame in _shifted(loop, 12.0 * room, len(loop) * room):
            stats = memory.update(frame)
            evicted += stats.evicted
            dropped += stats.map_voxels_dropped
    assert memory.allocated_bytes() == allocated
    assert _tensor_layout(memory) == layout, "a state tensor was reallocated"

    snapshot = memory.snapshot()
    assert evicted > 0
    assert len(snapshot.objects) <= 8
    # the room seen last is the one remembered: every one of its objects is there
    latest = [o for o in snapshot.objects if o.center[0] > 12.0 * (rooms - 1) - 5]
    assert Counter(o.label for o in latest) == Counter(o.label for o in ROOM_OBJECTS)
    assert len(snapshot.keyframes) <= 4
    assert len(snapshot.scene_map.points) <= 4096
    assert dropped > 0, "one view holds more voxels than this map's 4096 slots"
    # the map keeps what was seen most recently
    last_room = snapshot.scene_map.points[:, 0] > 12.0 * (rooms - 1) - 5
    assert last_room.mean() > 0.9


def test_trajectory_thinning_keeps_ends_and_answers_poses(room_scan):
    memory = SpatialMemory(MemoryConfig(**SMALL))
    without_instances = [dataclasses.replace(f, instances=None, labels={}) for f in room_scan]
    frames = _shifted(without_instances, 0.0, 0) + _shifted(without_instances, 0.0, len(room_scan))
    for frame in frames:
        memory.update(frame)
    trajectory = memory.snapshot().trajectory
    assert len(trajectory) <= 17
    assert trajectory.frame_indices[0] == 0 and trajectory.frame_indices[-1] == len(frames) - 1
    assert np.all(np.diff(trajectory.frame_indices) > 0)
    stride = int(trajectory.frame_indices[1] - trajectory.frame_indices[0])
    assert stride > 1 and np.all(np.diff(trajectory.frame_indices[:-1]) == stride)
    for k in (0, 7, 50, len(frames) - 1):
        nearest = frames[int(trajectory.frame_indices[np.abs(trajectory.frame_indices - k).argmin()])]
        np.testing.assert_allclose(trajectory.pose_at_frame(k), nearest.T_world_camera)
    centres = np.array([f.T_world_camera[:3, 3] for f in frames])
    walked = np.linalg.norm(np.diff(centres, axis=0), axis=1).sum()
    assert np.isclose(trajectory.distance_between(0, len(frames) - 1), walked)


def test_duplicates_are_consolidated(room_scan):
    """With association switched off every detection starts an object: merging must clean up."""
    config = MemoryConfig(
        pixel_stride=2, max_objects=24, max_instances_per_frame=8,
        min_overlap=1.0, label_overlap=1.0, box_containment=1.0,
        merge_checks_per_frame=8,
    )
    memory = SpatialMemory(config)
    merged = 0
    for frame in room_scan[:32]:
        merged += memory.update(frame).merged
    assert merged > 0
    # the sweep goes on without detections and catches the last duplicates of the busy stream
    for frame in room_scan[32:40]:
        memory.update(dataclasses.replace(frame, instances=None, labels={}))
    counts = memory.snapshot().label_counts()
    assert counts == Counter(o.label for o in ROOM_OBJECTS)


def test_keyframes_keep_coverage(room_scan):
    memory = SpatialMemory(MemoryConfig(pixel_stride=2, max_keyframes=4))
    still = [dataclasses.replace(room_scan[0], index=i, timestamp=i / 15) for i in range(6)]
    for frame in still + _shifted(room_scan[:32], 0.0, 6):
        memory.update(frame)
    keyframes = memory.snapshot().keyframes
    assert len(keyframes) == 4
    centres = np.array([k.T_world_camera[:3, 3] for k in keyframes])
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(4, 1)]
    assert gaps.min() > 2.0, "the kept views should be spread around the room"


def test_merge_chains_resolve_to_the_last_survivor():
    def one(drop, keep):
        t = torch.tensor
        return Merges(t([drop]), t([keep]), t([100 + drop]), t([100 + keep]))

    chain = one(1, 2) + one(2, 3) + one(4, 5)
    assert chain.drop_slots.tolist() == [1, 2, 4]
    assert chain.keep_slots.tolist() == [3, 3, 5]
    assert chain.keep_ids.tolist() == [103, 103, 105]


def test_pooled_votes_keep_each_labels_earliest_sighting():
    """Two records of one object folded together: votes add up, each label keeps the earlier of
    its two first sightings, and a label only one of them carried keeps that one's."""
    config = MemoryConfig(max_objects=4, max_instances_per_frame=4, max_labels=4)
    table = ObjectTable(config, torch.device("cpu"), torch.Generator())
    table.label_hist[0, :3] = torch.tensor([5.0, 0.0, 2.0])
    table.label_hist[1, :3] = torch.tensor([1.0, 3.0, 4.0])
    table.label_first_frame[0, :3] = torch.tensor([10, -1, 40])
    table.label_first_frame[1, :3] = torch.tensor([20, 7, 30])
    table.label_first_time[0, :3] = torch.tensor([1.0, 0.0, 4.0])
    table.label_first_time[1, :3] = torch.tensor([2.0, 0.7, 3.0])
    table.pool_votes(0, 1)
    assert table.label_hist[0, :3].tolist() == [6.0, 3.0, 6.0]
    assert table.label_first_frame[0, :4].tolist() == [10, 7, 30, -1]
    assert table.label_first_time[0, :3].tolist() == pytest.approx([1.0, 0.7, 3.0])
