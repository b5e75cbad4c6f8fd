"""The memory under a real detector's mistakes (the simulator's `NoisyDetector` applied to the
ray-cast test room): synonyms are one category, votes beat look-alike confusions, bleeding masks
do not drag background into boxes, and nothing seen in one frame only is ever answered about.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from reasmory_ros.config.settings import Settings
from reasmory_ros.dsl import DslError, run
from reasmory_ros.memory import MemoryConfig, SpatialMemory
from reasmory_ros.memory.objects import wilson_upper_bound
from reasmory_ros.planning.language import default_embedder
from reasmory_ros.replay.object_metrics import object_metrics
from reasmory_ros.replay.pipeline import build_memory
from reasmory_ros.sim.cli import simulate
from reasmory_ros.sim.ground_truth import GroundTruth
from reasmory_ros.sim.noise import DetectorNoise, NoisyDetector
from reasmory_ros.sim.render import Rendered

from .conftest import ROOM_OBJECTS

OFF = DetectorNoise.off().to_dict()


def _noisy(frames, seed: int = 0, **noise) -> list:
    """The frames as a detector with only the given errors would label them (poses untouched)."""
    detector = NoisyDetector(DetectorNoise.from_dict({**OFF, **noise}), seed)
    return [detector(Rendered(frame, {}, {})).frame for frame in frames]


def _scan(frames, **config) -> tuple:
    memory = SpatialMemory(MemoryConfig(**config))
    for frame in frames:
        memory.update(frame)
    return memory.snapshot()


def _near(objects, truth, radius: float = 0.35) -> list:
    return [o for o in objects if np.linalg.norm(o.center[:2] - truth.center[:2]) < radius]


def _count(snapshot, label: str) -> float:
    return run(f'answer(count(objects("{label}")))', snapshot).value


def test_synonyms_are_one_category_and_the_detectors_words_stay_usable(room_scan):
    words = ("couch", "sofa", "settee")
    frames = [
        dataclasses.replace(f, labels={i: words[k % 3] if v == "sofa" else v for i, v in f.labels.items()})
        for k, f in enumerate(room_scan)
    ]
    snapshot = _scan(frames)
    sofa = next(o for o in ROOM_OBJECTS if o.label == "sofa")
    found = _near(snapshot.objects, sofa)
    assert [o.label for o in found] == ["sofa"]
    assert set(found[0].label_histogram) == set(words), "the detector's words are kept as aliases"
    assert sorted(snapshot.label_counts()) == ["box", "cabinet", "chair", "sofa", "table"]
    for word in words:
        assert _count(snapshot, word) == 1

    # A detector that never says the canonical word: the object is still filed as a sofa and
    # questions in the detector's own word find it.
    only_couch = [dataclasses.replace(f, labels={i: "couch" if v == "sofa" else v for i, v in f.labels.items()})
                  for f in room_scan]
    snapshot = _scan(only_couch)
    assert [o.label for o in _near(snapshot.objects, sofa)] == ["sofa"]
    assert _count(snapshot, "couch") == 1


def test_label_votes_over_views_beat_look_alike_confusions(room_scan):
    """Each object is called a look-alike in 30 % of the frames (chair -> stool or armchair,
    table -> desk, sofa -> bed ...). The object each truth became carries the true label and
    holds the confused votes. (A confused view may still start a second, smaller object of the
    look-alike's category: a known limit, see docs/memory.md.)"""
    frames = _noisy(room_scan, seed=4, confusion=0.3)
    snapshot = _scan(frames)
    for truth in ROOM_OBJECTS:
        found = sorted(_near(snapshot.objects, truth), key=lambda o: -o.observations)
        assert found[0].label == truth.label, (truth, found)
        if truth.label != "box":  # the only category without look-alikes
            assert len(found[0].label_histogram) > 1, "the confused views voted on the object"
    assert _count(snapshot, "chair") == 2


def test_bleeding_masks_do_not_drag_the_background_into_boxes(room_scan):
    """Every mask bleeds 4 px (8 px at 640 x 480) onto what lies around it, e.g. the wall metres
    behind the small box. Without depth-edge rejection (share 0) that wall joins the box; with it
    every box stays near the truth (what remains is floor right at the objects' feet). The later
    views' mask check is off here (mask_miss_ratio 0): it would drop that wall on its own."""
    frames = _noisy(room_scan, seed=5, bleed=1.0, bleed_px=(4, 4))
    errors = {}
    for share in (0.0, MemoryConfig().depth_edge_share):
        snapshot = _scan(frames, depth_edge_share=share, mask_miss_ratio=0.0)
        errors[share] = []
        for truth in ROOM_OBJECTS:
            found = _near(snapshot.objects, truth, radius=0.6)
            best = min(found, key=lambda o: np.linalg.norm(o.center - truth.center), default=None)
            error = np.inf if best is None else np.max(np.abs(best.extent - truth.extent) / truth.extent)
            errors[share].append(float(error))
    on = errors[MemoryConfig().depth_edge_share]
    assert max(on) <= 0.35 and np.mean(on) <= 0.15, errors
    assert max(errors[0.0]) > 1.0, errors


def test_nothing_seen_in_one_frame_only_is_answered_about(room_scan):
    """A false 'picture' on the wall in one frame, split into two instances; a false 'rug' on
    the floor in two frames; a false detection on the floor elsewhere in two frames that the
    detector calls a 'door' once and a 'window' once. The picture is never shown, counted or
    rendered in a keyframe, nor is the door/window (two views that agree on no category); the
    rug (two agreeing views) is, which shows the gate does not simply drop all false positives."""
    frames = list(room_scan)

    def with_patch(frame, label, rows, cols, pieces=1):
        ids = frame.instances.copy()
        free = ids[rows, cols] == 0
        new = [int(ids.max()) + 1 + k for k in range(pieces)]
        patch = np.where(free, new[0], ids[rows, cols])
        if pieces == 2:
            half = patch.shape[1] // 2
            patch[:, half:] = np.where(free[:, half:], new[1], patch[:, half:])
        ids[rows, cols] = patch
        return dataclasses.replace(frame, instances=ids, labels={**frame.labels, **dict.fromkeys(new, label)})

    frames[10] = with_patch(frames[10], "picture", slice(10, 40), slice(10, 70), pieces=2)
    for k in (20, 21):
        frames[k] = with_patch(frames[k], "rug", slice(200, 235), slice(130, 200))
    # The box is detected in two frames only, as a "door" and then a "window", from where the
    # camera stood still (the same view: the two detections are one object whatever their labels).
    views = next(k for k in range(30, len(frames) - 1) if "box" in frames[k].labels.values())
    frames[views + 1] = dataclasses.replace(frames[views], index=frames[views + 1].index,
                                            timestamp=frames[views + 1].timestamp)
    for k, frame in enumerate(frames):
        box = [i for i, label in frame.labels.items() if label == "box"]
        if k in (views, views + 1):
            frames[k] = dataclasses.replace(frame, labels={**frame.labels, **dict.fromkeys(box, "door" if k == views else "window")})
        elif box:
            frames[k] = dataclasses.replace(frame, instances=np.where(np.isin(frame.instances, box), 0, frame.instances),
                                            labels={i: v for i, v in frame.labels.items() if i not in box})
    memory = SpatialMemory(MemoryConfig())
    stats = [memory.update(frame) for frame in frames]
    snapshot = memory.snapshot()
    assert stats[10].created >= 1, "the picture did reach the object table"
    assert "picture" not in snapshot.label_counts()
    with pytest.raises(DslError, match="no object labelled 'picture'"):
        _count(snapshot, "picture")
    shown = {o.id for o in snapshot.objects}
    assert all(set(k.object_ids) <= shown for k in snapshot.keyframes)
    assert _count(snapshot, "rug") == 1
    assert stats[views + 1].created == 0, "the window view joined the door's object"
    assert not {"door", "window", "box"} & set(snapshot.label_counts())


def _views_of(frames, point) -> list[tuple[int, int, int]]:
    """(frame, row, col) of every frame whose depth shows the world point (in the picture, not hidden)."""
    views = []
    for k, frame in enumerate(frames):
        camera = np.linalg.inv(frame.T_world_camera) @ np.append(point, 1.0)
        if camera[2] <= 0.1:
            continue
        col, row = (frame.K @ camera[:3])[:2] / camera[2]
        row, col = int(round(row)), int(round(col))
        height, width = frame.depth.shape
        if 15 <= row < height - 15 and 15 <= col < width - 15 and abs(frame.depth[row, col] - camera[2]) < 0.1:
            views.append((k, row, col))
    return views


def test_a_false_positive_that_comes_back_now_and_then_is_not_answered_about(room_scan):
    """A detector calls one patch of bare floor a "rug" in the first two frames that show it (two
    agreeing sightings: the count of sightings lets it through) and misses it in the thirty-odd
    others that show the patch over two visits of the room. Meanwhile the
    real box is detected in only one frame of three. The rug is not answered about; the box is,
    once; without the detection-rate test the rug would be shown."""
    revisit = [dataclasses.replace(f, index=f.index + len(room_scan), timestamp=f.timestamp + len(room_scan) / 15.0)
               for f in room_scan]
    frames = list(room_scan) + revisit
    floor = np.array([-0.6, -0.6, 0.0])  # between the table and the sofa
    views = _views_of(frames, floor)
    assert len(views) >= 30, "the test needs a patch the orbit keeps in view"
    for k, row, col in views[:2]:
        frame = frames[k]
        ids = frame.instances.copy()
        patch = ids[row - 10:row + 10, col - 14:col + 14]
        new = int(ids.max()) + 1
        ids[row - 10:row + 10, col - 14:col + 14] = np.where(patch == 0, new, patch)
        frames[k] = dataclasses.replace(frame, instances=ids, labels={**frame.labels, new: "rug"})
    for k, frame in enumerate(frames):
        box = [i for i, label in frame.labels.items() if label == "box"]
        if box and k % 3:
            frames[k] = dataclasses.replace(frame, instances=np.where(np.isin(frame.instances, box), 0, frame.instances),
                                            labels={i: v for i, v in frame.labels.items() if i not in box})
    snapshot = _scan(frames)
    assert "rug" not in snapshot.label_counts()
    assert _count(snapshot, "box") == 1
    assert "rug" in _scan(frames, min_detection_rate=0.0).label_counts()


def test_the_detection_rate_bound_by_hand():
    """Wilson's upper bound (z = 2.33): 3 detections in 17 views may still be a 46 % rate (kept at
    the default 30 %); 2 in 33 at most 23 % (hidden); no views say nothing."""
    bound = wilson_upper_bound(torch.tensor([3.0, 2.0, 0.0, 40.0]), torch.tensor([17.0, 33.0, 0.0, 40.0]))
    assert bound.tolist() == pytest.approx([0.458, 0.232, 1.0, 1.0], abs=2e-3)
    more = wilson_upper_bound(torch.tensor([2.0, 2.0, 2.0]), torch.tensor([10.0, 20.0, 40.0]))
    assert more[0] > more[1] > more[2], "the more views miss it, the lower the bound"


def test_one_object_named_twice_by_a_look_alike_label_is_one_object(room_scan):
    """In the last frames that show it, the detector calls the sofa a "bed", and (label_overlap
    1: no label-disagreeing detection joins an object) those views found a record of their own
    at the sofa's place. Two records filling one box are one object: merged, the sofa's votes
    name it and "bed" stays an alias. The chairs at the table (their boxes overlap the table's
    but are not one box with it) stay apart; with merge_iou 1 the bed stays a second object."""
    frames = list(room_scan)
    showing = [k for k, frame in enumerate(frames) if "sofa" in frame.labels.values()]
    for k in showing[-8:]:
        frames[k] = dataclasses.replace(frames[k], labels={
            i: "bed" if label == "sofa" else label for i, label in frames[k].labels.items()})
    snapshot = _scan(frames, label_overlap=1.0)
    sofa = next(o for o in ROOM_OBJECTS if o.label == "sofa")
    found = _near(snapshot.objects, sofa)
    assert [o.label for o in found] == ["sofa"] and "bed" in found[0].label_histogram
    assert snapshot.label_counts()["chair"] == 2 and snapshot.label_counts()["table"] == 1
    assert "bed" in _scan(frames, label_overlap=1.0, merge_iou=1.0).label_counts()


def test_objects_split_by_early_masks_are_joined_by_later_whole_views(room_scan):
    """The first 8 frames split every mask in two, so objects start as two halves; a later whole
    mask overlaps both halves, which makes them one object again. The duplicate sweep could also
    join such halves in this simple room (by box containment), so it is switched off here to
    hold the whole-view rule on its own (with it off, 8 objects would remain)."""
    frames = _noisy(room_scan[:8], seed=6, split=1.0) + list(room_scan[8:])
    memory = SpatialMemory(MemoryConfig(box_containment=1.0, merge_overlap=1.0))
    for frame in frames[:8]:
        memory.update(frame)
    halves = memory.snapshot().objects
    assert len(halves) > len(ROOM_OBJECTS), "the split masks did make halves"
    for frame in frames[8:]:
        memory.update(frame)
    objects = memory.snapshot().objects
    for truth in ROOM_OBJECTS:
        found = _near(objects, truth, radius=0.6)
        assert len(found) == 1, (truth, found)
        assert np.allclose(found[0].extent, truth.extent, rtol=0.15, atol=0.03), (truth, found[0].extent)


def test_points_that_later_masks_leave_out_are_dropped_on_a_noisy_bag(tmp_path):
    """A 160-frame recording of simulated scene 0 with the default detector noise (merged,
    bleeding, split and eroded masks, misses, look-alikes, pose drift), replayed from its bag
    with and without the later-views mask check (mask_miss_ratio 0). Points a mask wrongly gave
    an object (its neighbour's surface) inflate its box until it no longer matches the truth;
    with the check more true objects are found and fewer memory objects are wrong. The
    detached-cluster check, which drops some of the same points where they lie apart from the
    object, is off in both runs: this holds the mask check on its own."""
    out = tmp_path / "noisy"
    simulate(out, seed=0, frames=160, detector_noise=DetectorNoise())
    truth = GroundTruth.load(out / "scene.json")
    metrics = {}
    for ratio in (0.0, MemoryConfig().mask_miss_ratio):
        settings = Settings().updated({"memory.mask_miss_ratio": ratio, "memory.detached_checks": 0})
        memory, _ = build_memory(out / "bag", settings)
        metrics[ratio] = object_metrics(memory.snapshot().objects, truth)
    on, off = metrics[MemoryConfig().mask_miss_ratio], metrics[0.0]
    assert on.matched > off.matched, (on.table(), off.table())
    assert on.precision > off.precision and on.duplicates_per_object <= off.duplicates_per_object, (
        on.table(), off.table())


def test_detached_clusters_of_small_objects_are_dropped_on_a_noisy_bag(tmp_path):
    """A 160-frame recording of simulated scene 2 with the default detector noise but no pose
    drift (drift smears every object by itself, which no mask check can undo), replayed from its
    bag with and without the detached-cluster check (detached_checks 0). Masks that bled onto the
    wall behind a cup, or merged it with a book beside it, leave clusters apart from the object in
    its reservoir and stretch its box past the truth; dropping them finds more true objects and
    makes fewer wrong ones."""
    out = tmp_path / "noisy"
    simulate(out, seed=2, frames=160, questions_per_type=1,
             detector_noise=DetectorNoise(drift_translation=0.0, drift_yaw=0.0))
    truth = GroundTruth.load(out / "scene.json")
    metrics = {}
    for checks in (0, MemoryConfig().detached_checks):
        memory, _ = build_memory(out / "bag", Settings().updated({"memory.detached_checks": checks}), progress=False)
        metrics[checks] = object_metrics(memory.snapshot().objects, truth)
    on, off = metrics[MemoryConfig().detached_checks], metrics[0]
    assert on.matched > off.matched, (on.table(), off.table())
    assert on.precision > off.precision and on.duplicates_per_object <= off.duplicates_per_object, (
        on.table(), off.table())


def test_a_large_object_sampled_coarsely_is_not_split_by_the_detached_check():
    """A desk in a short, coarse recording (24 frames of scene 3 at 160 x 120) holds reservoir points
    several voxels apart on its own surfaces. The check links points by the reservoir's own
    sampling density, so the desk stays one object (a fixed three-voxel link split it in two),
    as it is without the check."""
    from reasmory_ros import sim

    scene = sim.generate_scene(3)
    camera = sim.camera_trajectory(scene, 24, 0)
    frames = [r.frame for r in sim.render_sequence(scene, camera, sim.default_intrinsics(160, 120), 160, 120, seed=0)]
    truth = {label: sum(o.label == label for o in scene.objects) for label in ("desk", "bed", "shelf")}
    for checks in (0, MemoryConfig().detached_checks):
        memory = SpatialMemory(MemoryConfig(detached_checks=checks))
        for frame in frames:
            memory.update(frame)
        counts = memory.snapshot().label_counts()
        assert {label: counts.get(label, 0) for label in truth} == truth, (checks, counts)


def test_each_category_an_object_is_often_called_keeps_its_first_sighting(room_scan):
    """The detector calls the cabinet a refrigerator in the first 12 frames and a cabinet after
    (a dresser once): one record, filed as a cabinet, that remembers when each name was first
    given. A name given in one frame only (under min_label_share of the votes) is not listed."""
    def name(k: int, label: str) -> str:
        if label != "cabinet":
            return label
        return "refrigerator" if k < 12 else "dresser" if k == 20 else "cabinet"

    frames = [dataclasses.replace(f, labels={i: name(k, v) for i, v in f.labels.items()})
              for k, f in enumerate(room_scan)]
    snapshot = _scan(frames)
    cabinet = next(o for o in ROOM_OBJECTS if o.label == "cabinet")
    (record,) = _near(snapshot.objects, cabinet)
    assert record.label == "cabinet" and "dresser" in record.label_histogram
    assert set(record.first_called) == {"cabinet", "refrigerator"}
    shown = [k for k, f in enumerate(frames) if {"refrigerator", "cabinet"} & set(f.labels.values())]
    assert record.first_called["refrigerator"] == (record.first_seen_frame, record.first_seen_time)
    assert record.first_called["refrigerator"][0] == shown[0] < 12
    assert record.first_called["cabinet"][0] == min(k for k in shown if k >= 12)


def _relabelled(frames, words: dict[str, tuple[str, ...]]) -> list:
    """Each detection of a category called by the category's words in turn, frame by frame."""
    return [dataclasses.replace(f, labels={i: words[v][k % len(words[v])] if v in words else v
                                           for i, v in f.labels.items()})
            for k, f in enumerate(frames)]


def test_a_word_outside_the_synonym_table_joins_the_category_it_clearly_names(room_scan):
    """Half the chair detections say "office chair", a word the synonym table lacks. With the
    packaged sentence embedder (cosine 0.87 to "chair") it joins the chair category and stays an
    alias; without it (label_similarity 0) the two words are two categories. Whichever word
    comes first, the category is named by its most voted word."""
    embedder = default_embedder()
    assert embedder is not None, "the packaged MiniLM embedder is part of the requirements"
    for words in (("chair", "office chair", "chair"), ("office chair", "chair", "chair")):
        frames = _relabelled(room_scan, {"chair": words})
        memory = SpatialMemory(MemoryConfig(), label_embedder=embedder)
        for frame in frames:
            memory.update(frame)
        snapshot = memory.snapshot()
        assert sorted(snapshot.label_counts()) == ["box", "cabinet", "chair", "sofa", "table"], words
        assert snapshot.label_counts()["chair"] == 2
        chairs = [o for o in snapshot.objects if o.label == "chair"]
        assert all("office chair" in o.label_histogram and set(o.first_called) == {"chair"} for o in chairs)
    table_only = SpatialMemory(MemoryConfig(label_similarity=0.0), label_embedder=embedder)
    for frame in _relabelled(room_scan, {"chair": ("office chair", "chair", "chair")}):
        table_only.update(frame)
    objects = table_only._parts.objects
    assert len(set(objects.category[: len(objects.labels)].tolist())) == len(objects.labels)


def test_look_alikes_and_unrelated_words_keep_their_own_categories(room_scan):
    """Words the embedder finds only somewhat alike stay apart: "armchair" (0.73 to chair, and a
    synonym-table word: never moved), "stool" for the box, "carton" for the cabinet (a synonym
    at 0.42 that the embedder cannot tell: left alone rather than guessed)."""
    frames = _relabelled(room_scan, {"box": ("box", "stool"), "cabinet": ("cabinet", "carton"),
                                     "sofa": ("sofa", "armchair")})
    memory = SpatialMemory(MemoryConfig(), label_embedder=default_embedder())
    for frame in frames:
        memory.update(frame)
    objects = memory._parts.objects
    category = {word: int(objects.category[i]) for i, word in enumerate(objects.labels)}
    assert len({category[w] for w in ("box", "stool", "cabinet", "carton", "sofa", "armchair", "chair")}) == 7


def test_a_table_word_seen_later_takes_over_the_category_a_resembling_word_founded(room_scan):
    """The sofa is a "sofa bed" (outside the table) in the first 20 frames and a "sofa" after:
    when "sofa" arrives, the category "sofa bed" founded joins it, and the record is one sofa."""
    frames = [dataclasses.replace(f, labels={i: ("sofa bed" if k < 20 else "sofa") if v == "sofa" else v
                                             for i, v in f.labels.items()}) for k, f in enumerate(room_scan)]
    memory = SpatialMemory(MemoryConfig(), label_embedder=default_embedder())
    for k, frame in enumerate(frames):
        memory.update(frame)
        if k == 19:
            assert [o.label for o in memory.snapshot().objects].count("sofa bed") == 1
    (sofa,) = [o for o in memory.snapshot().objects if "sofa bed" in o.label_histogram]
    assert sofa.label == "sofa" and set(sofa.first_called) == {"sofa"}
    assert sofa.first_called["sofa"][0] < 20, "the category's first sighting is the sofa bed's"
