"""Simulator change mode: the changes drawn, the placement history, the bag and scene.json agree."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reasmory_ros.sim import generate_scene
from reasmory_ros.sim.changes import (
    CLEARANCE,
    MIN_MOVE,
    MOVABLE,
    ChangeHistory,
    change_recording,
    plan_changes,
    render_changes,
)
from reasmory_ros.sim.cli import main
from reasmory_ros.sim.ground_truth import GroundTruth
from reasmory_ros.sim.layout import _inflate, _overlap


@pytest.mark.parametrize("seed", [0, 1])
def test_changes_are_what_they_say(seed):
    scene = generate_scene(seed)
    history = plan_changes(scene, seed)
    after = history.scene_at(scene, 1)
    assert history.scene_at(scene, 0).objects == scene.objects
    moved, removed, added = (history.ids(k) for k in ("moved", "removed", "added"))
    assert len(moved) == 2 and len(removed) == 1 and len(added) == 1 and len(history.occluded) == 1
    assert not set(moved) & set(removed) and history.occluded[0] not in moved + removed
    for oid in moved:
        old, new = scene.object(oid), after.object(oid)
        assert old.label in MOVABLE and old.label == new.label
        assert np.linalg.norm(new.position[:2] - old.position[:2]) >= MIN_MOVE
        for other in after.objects:  # stands free of everything else on the floor
            if other.id != oid and other.parent is None:
                assert not _overlap(_inflate(new.footprint(), CLEARANCE - 1e-6), other.footprint())
    assert removed[0] not in {o.id for o in after.objects}
    assert added[0] in {o.id for o in after.objects} and added[0] not in {o.id for o in scene.objects}
    assert {o.id for o in after.objects} == ({o.id for o in scene.objects} - set(removed)) | set(added)


def test_placement_history_spans_the_loops():
    scene = generate_scene(1)
    history, camera = change_recording(scene, 7, seed=1)
    assert len(camera) == 14 and np.all(np.diff(camera.timestamps) > 0)
    placements = history.placements(scene)
    for oid in history.ids("moved"):
        (before, after) = placements[oid]
        assert (before.first_frame, before.last_frame, after.first_frame, after.last_frame) == (0, 6, 7, 13)
        assert np.linalg.norm(after.center[:2] - before.center[:2]) >= MIN_MOVE - 0.3  # box centre, not origin
    (only,) = placements[history.ids("removed")[0]]
    assert (only.first_frame, only.last_frame) == (0, 6)
    (new,) = placements[history.ids("added")[0]]
    assert (new.first_frame, new.last_frame) == (7, 13)
    unchanged = [oid for oid, spans in placements.items() if oid not in history.ids("moved")
                 and oid not in history.ids("removed") and oid not in history.ids("added")]
    assert all(len(placements[oid]) == 1 and placements[oid][0].last_frame == 13 for oid in unchanged)


def test_the_occluder_hides_an_object_that_stays():
    scene = generate_scene(0)
    history, camera = change_recording(scene, 40, seed=0)
    (target,) = history.occluded
    pixels = [0, 0]
    for rendered in render_changes(scene, history, camera, width=160, height=120, seed=0, noise=False):
        pixels[history.loop_of_frame(rendered.frame.index)] += rendered.pixel_counts.get(target, 0)
    assert pixels[0] > 0 and pixels[1] < 0.5 * pixels[0]
    assert target in {o.id for o in history.scene_at(scene, 1).objects}


def test_cli_writes_the_history_and_the_bag_shows_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([str(out), "--seed", "1", "--frames", "6", "--width", "64", "--height", "48",
                 "--change-loops", "2", "--questions-per-type", "1"]) == 0
    assert "moved" in capsys.readouterr().out
    gt = GroundTruth.load(out / "scene.json")
    assert gt.n_frames == 12 and gt.changes is not None and gt.changes.frames_per_loop == 6
    saved = json.loads((out / "scene.json").read_text())["changes"]
    assert ChangeHistory.from_dict(saved).to_dict() == gt.changes.to_dict()
    # The recorded visibility is that of the changed room: re-rendering agrees frame by frame.
    again = [r.pixel_counts for r in gt.rendered()]
    assert again == gt.visibility
    removed = gt.changes.ids("removed")[0]
    assert all(removed not in seen for seen in gt.visibility[6:])
    assert {o.id for o in gt.final_scene.objects} == {o.id for o in gt.changes.scene_at(gt.scene, 1).objects}


def test_bad_change_requests_are_refused(tmp_path, capsys):
    scene = generate_scene(0)
    with pytest.raises(ValueError, match="at least 2 loops"):
        plan_changes(scene, 0, loops=1)
    with pytest.raises(ValueError, match="frames_per_loop"):
        change_recording(scene, 0)
    with pytest.raises(ValueError, match="unknown change kind"):
        ChangeHistory.from_dict({"loops": 2, "frames_per_loop": 3,
                                 "changes": [{"loop": 1, "kind": "teleported", "object": {}}]})
    assert main([str(tmp_path / "x"), "--change-loops", "1", "--frames", "3", "--quiet"]) == 2
    assert "at least 2 loops" in capsys.readouterr().err
