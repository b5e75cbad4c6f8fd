"""An object's first sighting is when it came into view, not when the detector first found it.

A real detector misses objects for a while (far, small, half in view), and the memory drops
points beyond max_depth. Keyframes taken before the first detection still hold the depth that
showed the object; an object brought into the room later was seen *absent* there instead, and
keeps its first detection. Ray-cast rooms (conftest.RoomRenderer) through the real memory."""

from __future__ import annotations

import dataclasses

import numpy as np

from reasmory_ros.memory import Frame, MemoryConfig, SpatialMemory

from .conftest import ROOM_HALF, BoxObject, RoomRenderer, look_at


def _without(frame: Frame, label: str) -> Frame:
    """The frame as a detector that missed every `label` instance would give it."""
    missed = [i for i, name in frame.labels.items() if name == label]
    instances = np.where(np.isin(frame.instances, missed), 0, frame.instances).astype(np.int32)
    labels = {i: name for i, name in frame.labels.items() if name != label}
    return dataclasses.replace(frame, instances=instances, labels=labels)


def _records(frames, saved_to=None) -> dict:
    """The records by label of a memory fed the frames (read back from `saved_to` if given)."""
    memory = SpatialMemory(MemoryConfig())
    for frame in frames:
        memory.update(frame)
    if saved_to is not None:
        memory.save(saved_to)
        memory = SpatialMemory.from_file(saved_to)
    records = {record.label: record for record in memory.snapshot().objects}
    assert len(records) == len(memory.snapshot().objects), "one record per label"
    return records


def _first_detection(frames, label: str) -> int:
    return next(frame.index for frame in frames if label in frame.labels.values())


def test_an_object_the_detector_missed_at_first_was_seen_from_the_first_view(tmp_path):
    """The cabinet is in view from frame 0, but the detector finds it only from frame 8 on; the
    box is carried in at frame 8 in front of the camera, where frames 0-7 saw the floor. Both
    survive a save and load."""
    cabinet = BoxObject("cabinet", (1.0, 2.0), 0.0, (0.8, 0.5, 1.2))
    box = BoxObject("box", (-0.8, 1.2), 0.3, (0.4, 0.35, 0.35))
    before, after = RoomRenderer((cabinet,)), RoomRenderer((cabinet, box))
    rng = np.random.default_rng(3)
    eyes = [(-1.5 + 0.12 * i, -2.0 + 0.05 * i, 1.4) for i in range(20)]
    frames = [
        _without(before.render(look_at(eye, (0.0, 1.6, 0.5)), i, rng), "cabinet") if i < 8
        else after.render(look_at(eye, (0.0, 1.6, 0.5)), i, rng)
        for i, eye in enumerate(eyes)
    ]
    assert _first_detection(frames, "cabinet") == 8

    records = _records(frames, saved_to=tmp_path / "memory.npz")
    assert records["cabinet"].first_seen_frame == 0
    assert records["cabinet"].first_seen_time == frames[0].timestamp
    assert not records["cabinet"].appeared
    assert records["box"].appeared, "frames 0-7 saw the floor where the box stands"
    assert records["box"].first_seen_frame == 8


def test_an_object_beyond_max_depth_was_seen_before_it_came_within_range():
    """A camera walks up to a cabinet from across the room: its detections carry no points until
    the cabinet is nearer than max_depth (6 m), but the first keyframe already shows it."""
    cabinet = BoxObject("cabinet", (ROOM_HALF[0] - 0.5, ROOM_HALF[1] - 0.35), 0.0, (0.8, 0.5, 1.2))
    renderer = RoomRenderer((cabinet,))
    rng = np.random.default_rng(5)
    target = (*cabinet.center_xy, 0.6)
    away = np.array([-1.0, -0.8]) / np.linalg.norm([-1.0, -0.8])
    distance = [7.5 - 0.2 * i for i in range(24)]
    eyes = [(*(np.array(cabinet.center_xy) + d * away), 1.4) for d in distance]
    frames = [renderer.render(look_at(eye, target), i, rng) for i, eye in enumerate(eyes)]

    record = _records(frames)["cabinet"]
    in_range = next(i for i, d in enumerate(distance) if d < MemoryConfig().max_depth)
    assert in_range > 4, "the walk starts well out of range (else this test shows nothing)"
    assert record.first_seen_frame == 0
    assert not record.appeared
