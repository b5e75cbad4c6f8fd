"""Snapshots taken while another thread updates always show whole frames."""

from __future__ import annotations

import threading

from reasmory_ros.memory import MemoryConfig, SpatialMemory


def test_snapshots_during_updates_are_consistent(room_scan):
    memory = SpatialMemory(MemoryConfig(pixel_stride=2))
    frames = room_scan[:24]
    done = threading.Event()

    def feed():
        for frame in frames:
            memory.update(frame)
        done.set()

    worker = threading.Thread(target=feed)
    worker.start()
    seen = set()
    while not done.is_set() or not seen:
        snapshot = memory.snapshot()
        n = snapshot.frame_count
        seen.add(n)
        assert len(snapshot.trajectory) == n
        if n:
            assert snapshot.trajectory.frame_indices[-1] == frames[n - 1].index
        assert all(obj.last_seen_frame < n for obj in snapshot.objects)
        assert all(k.frame_index < n for k in snapshot.keyframes)
        assert snapshot is memory.snapshot() or memory.frame_count != n
    worker.join()
    assert memory.snapshot().frame_count == len(frames)
    assert len(seen) > 2, "the reader should have seen several intermediate states"


def test_empty_memory_and_reset(room_scan):
    memory = SpatialMemory(MemoryConfig(pixel_stride=2))
    empty = memory.snapshot()
    assert empty.frame_count == 0 and len(empty.trajectory) == 0
    assert empty.objects == () and empty.keyframes == () and len(empty.scene_map.points) == 0
    allocated = memory.allocated_bytes()
    for frame in room_scan[:4]:
        memory.update(frame)
    assert memory.snapshot().frame_count == 4
    memory.reset()
    again = memory.snapshot()
    assert again.frame_count == 0 and len(again.trajectory) == 0 and again.objects == ()
    assert memory.allocated_bytes() == allocated
    assert memory.working_frames() == ()
