"""Box fits every few frames (MemoryConfig.box_fit_interval): the boxes of objects whose points
changed wait for the next fit frame, a new object has its box in the frame that made it, and what
a snapshot or a saved file shows is fitted to every point the memory holds.
"""

from __future__ import annotations

import numpy as np

from reasmory_ros.memory import MemoryConfig, SpatialMemory

from .conftest import ROOM_OBJECTS


def _table(memory: SpatialMemory):
    return memory._parts.objects


def _fits(memory: SpatialMemory, monkeypatch) -> list[bool]:
    """Record, per update, whether the box fit took an object that was active before the frame."""
    table = _table(memory)
    fitted: list[bool] = []
    known = table.active.clone()
    refit, update = table._refit, memory.update

    def spy_refit(slots):
        fitted[-1] |= bool(known[slots].any())
        return refit(slots)

    def spy_update(frame):
        known.copy_(table.active)
        fitted.append(False)
        return update(frame)

    monkeypatch.setattr(table, "_refit", spy_refit)
    monkeypatch.setattr(memory, "update", spy_update)
    return fitted


def test_known_objects_are_fitted_every_interval_frames(room_scan, monkeypatch):
    for interval in (1, 3):
        memory = SpatialMemory(MemoryConfig(box_fit_interval=interval))
        fitted = _fits(memory, monkeypatch)
        for frame in room_scan[:12]:
            memory.update(frame)
        expected = [(k + 1) % interval == 0 for k in range(12)]
        expected[0] = False  # nothing is known before the first frame
        assert fitted == expected, interval


def test_a_new_object_is_fitted_in_the_frame_that_made_it(room_scan):
    """The first frame is no fit frame at interval 3: its new objects have their boxes anyway,
    since the next frame's detections are associated with them."""
    memory = SpatialMemory(MemoryConfig(box_fit_interval=3))
    memory.update(room_scan[0])
    table = _table(memory)
    active = table.active.nonzero().squeeze(1)
    assert active.numel() >= 3
    assert (table.extent[active] > 0.05).all()
    assert not table._unfitted[active].any()


def _fitted_now(memory: SpatialMemory) -> tuple[np.ndarray, np.ndarray]:
    """The pending objects' slots and their extents fitted now (the table left as it was)."""
    table = _table(memory)
    slots = table._unfitted.nonzero().squeeze(1)
    saved = {name: getattr(table, name).clone() for name in ("center", "extent", "yaw", "aabb", "version", "_unfitted")}
    table._refit(slots)
    extents = table.extent[slots].numpy().copy()
    for name, value in saved.items():
        getattr(table, name).copy_(value)
    return slots.numpy(), extents


def test_snapshots_and_saved_files_show_boxes_fitted_to_every_point(room_scan, tmp_path):
    memory = SpatialMemory(MemoryConfig(box_fit_interval=3, hidden_depth=False))  # boxes as fitted
    for frame in room_scan[:10]:
        memory.update(frame)
    table = _table(memory)
    assert table._unfitted.any(), "frame 10 is no fit frame: some boxes wait for their fit"
    slots, expected = _fitted_now(memory)
    assert np.abs(table.extent[slots].numpy() - expected).max() > 1e-3, "the fit changes them"
    snapshot = memory.snapshot()
    assert not table._unfitted.any()
    np.testing.assert_allclose(table.extent[slots].numpy(), expected, atol=1e-6)
    shown = {o.id: o for o in snapshot.objects}
    assert len(shown) >= len(ROOM_OBJECTS) - 1
    for slot in table.active.nonzero().squeeze(1).tolist():
        if int(table.ids[slot]) in shown:
            np.testing.assert_allclose(shown[int(table.ids[slot])].extent, table.extent[slot].numpy(), atol=1e-6)

    memory.update(room_scan[10])
    assert table._unfitted.any()
    memory.save(tmp_path / "memory.npz")
    restored = SpatialMemory.from_file(tmp_path / "memory.npz")
    for frame in room_scan[11:16]:  # both go on alike: the fit frames count from the save
        memory.update(frame)
        restored.update(frame)
    current, copy = memory.snapshot(), restored.snapshot()
    assert [o.id for o in copy.objects] == [o.id for o in current.objects]
    for a, b in zip(copy.objects, current.objects):
        np.testing.assert_allclose(a.extent, b.extent, atol=1e-6)
        np.testing.assert_allclose(a.center, b.center, atol=1e-6)
