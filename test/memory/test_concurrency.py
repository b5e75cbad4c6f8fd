"""Snapshots taken while another thread updates always show whole frames."""

from __future__ import annotations

import threading

from reasmory_ros.memory import MemoryConfig, SpatialMemory


def test_snapshots_during_updates_are_consistent(room_scan):
    """The reader snapshots continuously while the writer updates; after each update the writer
    waits (on a condition, not on time) until the reader has seen that state, so every run checks
    every intermediate state and snapshots taken during the following update."""
    memory = SpatialMemory(MemoryConfig(pixel_stride=2))
    frames = room_scan[:24]
    done = threading.Event()
    reader_saw = threading.Condition()
    seen: set[int] = set()
    errors: list[BaseException] = []

    def feed():
        try:
            for count, frame in enumerate(frames, start=1):
                memory.update(frame)
                with reader_saw:
                    # Bounded only so that a broken reader fails the test instead of hanging it.
                    if not reader_saw.wait_for(lambda c=count: c in seen or errors, timeout=120):
                        raise TimeoutError(f"the reader never saw frame count {count}")
        except BaseException as err:  # reported by the main thread
            errors.append(err)
        finally:
            done.set()

    worker = threading.Thread(target=feed)
    worker.start()
    try:
        while not done.is_set():
            snapshot = memory.snapshot()
            n = snapshot.frame_count
            assert len(snapshot.trajectory) == n
            if n:
                assert snapshot.trajectory.frame_indices[-1] == frames[n - 1].index
            assert all(obj.last_seen_frame < n for obj in snapshot.objects)
            assert all(k.frame_index < n for k in snapshot.keyframes)
            assert snapshot is memory.snapshot() or memory.frame_count != n
            with reader_saw:
                seen.add(n)
                reader_saw.notify_all()
    except BaseException as err:
        errors.append(err)
        with reader_saw:
            reader_saw.notify_all()
        raise
    finally:
        worker.join()
    assert not errors, errors
    assert memory.snapshot().frame_count == len(frames)
    assert set(range(1, len(frames) + 1)) <= seen


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
