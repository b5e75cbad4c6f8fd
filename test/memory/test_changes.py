"""A changing room end to end: the simulator's change mode through SpatialMemory, scored against
the ground-truth history (two objects moved, one removed, a refrigerator put in front of a third).

A second memory with track_changes=False reads the same frames: what it holds is what perception
found, so an unchanged object it holds and the tracking memory lost is a false change.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reasmory_ros.memory import MemoryConfig, MemoryFileError, SpatialMemory
from reasmory_ros.memory.persistence import FORMAT_VERSION
from reasmory_ros.sim import generate_scene
from reasmory_ros.sim.changes import MOVABLE, Change, ChangeHistory, change_camera, change_recording, render_changes

pytestmark = pytest.mark.slow

SEED, FRAMES, WIDTH, HEIGHT = 1, 80, 320, 240
CONFIG = MemoryConfig(pixel_stride=2)  # the default sampling density at half resolution
NEAR = 0.5  # m, floor-plane distance of a record's box centre to a ground-truth place
NUDGE = 0.3  # m, less than the default move_min_distance: not a move
FORMAT_1_FILE = "test/memory/data/memory_format1.npz"
FORMAT_3_FILE = "test/memory/data/memory_format3.npz"


@pytest.fixture(scope="module")
def run():
    scene = generate_scene(SEED)
    history, camera = change_recording(scene, FRAMES, SEED)
    tracking, static = SpatialMemory(CONFIG), SpatialMemory(MemoryConfig(pixel_stride=2, track_changes=False))
    for rendered in render_changes(scene, history, camera, width=WIDTH, height=HEIGHT, seed=SEED):
        tracking.update(rendered.frame)
        static.update(rendered.frame)
    return scene, history, tracking, static


def at(records, label, center):
    return [r for r in records if r.label == label and np.linalg.norm(r.center[:2] - center[:2]) < NEAR]


def test_moved_objects_are_one_record_that_remembers_where_they_were(run):
    scene, history, memory, _ = run
    snap = memory.snapshot()
    placements = history.placements(scene)
    assert len(history.ids("moved")) == 2
    for oid in history.ids("moved"):
        label, (old, new) = scene.object(oid).label, placements[oid]
        (record,) = at(snap.objects, label, new.center)
        assert record.moved and record.status == "present"
        assert np.linalg.norm(record.placements[-1].center[:2] - old.center[:2]) < NEAR
        assert record.placements[-1].last_frame < FRAMES <= record.placed_frame
        assert record.first_seen_frame == record.placements[0].first_frame < FRAMES
        assert not at(snap.objects, label, old.center), "a ghost stayed at the old place"


def test_a_move_needs_the_colour_of_the_object_that_left():
    """The same recording with move_color_tolerance 0: the colour votes of the object that left and
    of the one that arrived never agree exactly, so no move is linked (with empty colour sums
    both would read as one hue and link anyway)."""
    scene = generate_scene(SEED)
    history, camera = change_recording(scene, FRAMES, SEED)
    memory = SpatialMemory(MemoryConfig(pixel_stride=2, move_color_tolerance=0.0))
    for rendered in render_changes(scene, history, camera, width=WIDTH, height=HEIGHT, seed=SEED):
        memory.update(rendered.frame)
    snap = memory.snapshot()
    assert not any(r.moved for r in snap.objects)
    placements = history.placements(scene)
    for oid in history.ids("moved"):
        label, (old, new) = scene.object(oid).label, placements[oid]
        assert at(snap.objects, label, new.center), "the moved object is known at its new place"
        assert at(snap.removed, label, old.center), "and gone from the old one"


def test_the_removed_object_is_gone_but_remembered(run):
    scene, history, memory, _ = run
    snap = memory.snapshot()
    (oid,) = history.ids("removed")
    obj = scene.object(oid)
    assert not at(snap.objects, obj.label, obj.center)
    (record,) = at(snap.removed, obj.label, obj.center)
    assert record.status == "removed" and record.gone_since_frame >= FRAMES
    assert snap.label_counts()[obj.label] == len(at(snap.objects, obj.label, np.zeros(3))) + sum(
        o.label == obj.label for o in snap.objects if np.linalg.norm(o.center[:2]) >= NEAR)


def test_an_occluded_object_stays_and_the_occluder_appeared(run):
    scene, history, memory, static = run
    snap = memory.snapshot()
    (hidden,) = history.occluded
    obj = scene.object(hidden)
    assert at(static.snapshot().objects, obj.label, obj.center), "perception never found it"
    (record,) = at(snap.objects, obj.label, obj.center)
    assert record.status == "present" and not record.moved
    (added,) = history.ids("added")
    occluder = history.scene_at(scene, 1).object(added)
    (new,) = at(snap.objects, occluder.label, occluder.center)
    assert new.appeared and new.first_seen_frame >= FRAMES


def test_no_unchanged_object_is_reported_changed(run):
    scene, history, memory, static = run
    snap, base = memory.snapshot(), static.snapshot()
    changed = set(history.ids("moved")) | set(history.ids("removed")) | set(history.ids("added"))
    found = [o for o in history.scene_at(scene, 1).objects
             if o.id not in changed and at(base.objects, o.label, o.center)]
    assert len(found) >= 8
    for obj in found:
        records = at(snap.objects, obj.label, obj.center)
        assert records and all(not r.moved and not r.appeared for r in records), obj.label
    assert not [r for r in snap.removed if r.label not in {scene.object(i).label for i in history.ids("removed")}]


def test_state_stays_fixed_in_size(run):
    memory = run[2]
    assert memory.allocated_bytes() == SpatialMemory(CONFIG).allocated_bytes()


def test_the_history_survives_save_and_load(run, tmp_path):
    memory = run[2]
    path = tmp_path / "changed.npz"
    memory.save(path)
    loaded = SpatialMemory.from_file(path)
    before, after = memory.snapshot(), loaded.snapshot()
    assert [(r.id, r.status, r.gone_since_frame, r.appeared) for r in before.objects + before.removed] == \
        [(r.id, r.status, r.gone_since_frame, r.appeared) for r in after.objects + after.removed]
    for a, b in zip(before.objects, after.objects):
        assert len(a.placements) == len(b.placements)
        for p, q in zip(a.placements, b.placements):
            np.testing.assert_array_equal(p.center, q.center)
            assert (p.first_frame, p.last_frame) == (q.first_frame, q.last_frame)


def test_a_file_saved_before_lifecycles_loads_with_every_object_present():
    """memory_format1.npz was written by the memory as it was before this format (version 1)."""
    memory = SpatialMemory.from_file(FORMAT_1_FILE)
    snap = memory.snapshot()
    assert len(snap.objects) == 8 and not snap.removed
    assert all(r.status == "present" and not r.placements and not r.appeared for r in snap.objects)
    scene = generate_scene(1)
    frame = next(iter(render_changes(scene, *change_recording(scene, 2, 1), width=96, height=72)))
    memory.update(frame.frame)  # and it goes on from there
    assert memory.frame_count == 13


def test_a_file_of_format_3_loads_and_goes_on():
    """memory_format3.npz was written by the memory of format 3 (the lifecycle kept its own colour
    sums then; they are ignored now): its 12 frames of scene 1 with a small config."""
    memory = SpatialMemory.from_file(FORMAT_3_FILE)
    snap = memory.snapshot()
    assert snap.frame_count == 12
    assert sorted(r.label for r in snap.objects) == ["cabinet", "cabinet", "door", "refrigerator", "table", "tv"]
    assert all(r.status == "present" for r in snap.objects)
    # Saved before per-label sightings: every label a record carries dates from its first sighting.
    assert all(set(r.first_called.values()) == {(r.first_seen_frame, r.first_seen_time)} for r in snap.objects)
    scene = generate_scene(1)
    frame = next(iter(render_changes(scene, *change_recording(scene, 2, 1), width=96, height=72)))
    memory.update(frame.frame)
    assert memory.frame_count == 13


def test_a_newer_format_is_refused_clearly(tmp_path):
    import json
    import zipfile

    path = tmp_path / "future.npz"
    with zipfile.ZipFile(FORMAT_1_FILE) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "header.npy":
                header = np.load(__import__("io").BytesIO(data))
                values = json.loads(header.tobytes())
                values["format_version"] = FORMAT_VERSION + 1
                encoded = np.frombuffer(json.dumps(values).encode(), dtype=np.uint8)
                buffer = __import__("io").BytesIO()
                np.save(buffer, encoded)
                data = buffer.getvalue()
            dst.writestr(item, data)
    with pytest.raises(MemoryFileError, match=f"format_version {FORMAT_VERSION + 1}, newer"):
        SpatialMemory.from_file(path)


def test_an_object_found_again_a_little_off_is_one_record_that_never_moved():
    """Odometry drift (or a nudge) puts an object's surface beside its record: the record is seen
    through and removed, and the object looks newly arrived a few decimetres away. It is the same
    object found again: one record, first seen in the first loop, neither moved nor appeared, and
    nothing left behind among the removed."""
    scene = generate_scene(SEED)
    centre = np.array([(scene.room.xmin + scene.room.xmax) / 2, (scene.room.ymin + scene.room.ymax) / 2])
    movable = [o for o in scene.objects if o.label in MOVABLE and not any(c.parent == o.id for c in scene.objects)]
    obj = min(movable, key=lambda o: np.linalg.norm(o.position[:2] - centre))
    towards = (centre - obj.position[:2]) / np.linalg.norm(centre - obj.position[:2])
    nudged = dataclasses.replace(obj, position=obj.position + np.r_[NUDGE * towards, 0.0])
    history = ChangeHistory(loops=2, frames_per_loop=FRAMES, changes=(Change(1, "moved", nudged),))
    memory = SpatialMemory(CONFIG)
    for rendered in render_changes(scene, history, change_camera(scene, history, SEED), width=WIDTH,
                                   height=HEIGHT, seed=SEED):
        memory.update(rendered.frame)
    snap = memory.snapshot()
    (record,) = at(snap.objects, obj.label, nudged.center)
    assert not record.moved and not record.appeared
    assert record.first_seen_frame < FRAMES
    assert not at(snap.removed, obj.label, obj.center)
