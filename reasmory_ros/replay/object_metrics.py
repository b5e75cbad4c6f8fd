"""Object quality of a memory against a simulated recording's ground truth.

Memory objects are matched one-to-one to true objects by gravity-aligned box IoU (oriented
footprint x height overlap; Hungarian assignment on IoU, a pair needs IoU >= 0.25):

- precision: matched memory objects / memory objects; recall: matched true objects / true
  objects seen (covering at least the ground truth's visibility threshold in some frame), also
  for the objects seen in at least `well_seen_frames` frames;
- duplicates per true object: unmatched memory objects that are another copy (or a part) of a
  matched true object (IoU >= 0.25 with it, or at least half of the memory box inside it);
- label accuracy: matched pairs whose labels name the same category after canonicalisation
  (`memory.labels.canonical`: "couch" and "sofa" agree);
- centre error (m) and extent error (relative, mean over length, width and height) of matched
  pairs, and the extent error of objects with thin parts (legs, poles: a part <= 5 cm across);
- size error: relative error of the largest dimension, the object size that VSI-Bench asks for
  and that legs lost from a mask would shorten. The extent error also counts the depth of an
  object seen only from the front (a cabinet against a wall), which no view measures;
- view offset (m): how far the matched boxes' centres lie toward the cameras that saw their
  objects (the mean, over the frames that saw an object, of its centre error along the
  horizontal direction to that frame's camera). A depth camera sees the front of things only, so a
  box fitted to the points seen sits in front of the object unless something completes its back;
  the sideways error has no such cause.

`misses` explains the recall: each well-seen true object left unmatched, with the memory box that
overlaps it most and where that box's points lie (on the object, on other objects, elsewhere).
`extras` explains the precision: each memory object left unmatched (a false positive, a part or a
copy of an object, two objects as one), with how often it was seen, the true object its box
overlaps most and where its points lie.

`camera_position_error` measures the poses the memory was built with against the true camera
path, not aligned first: a drifting pose source misplaces everything seen late by as much, and
that is what questions and boxes suffer from (the TUM ATE aligns the drift away). `pose_bound`
says what that costs the recall: each well-seen true box moved where its views' poses put it, and
the share of them that still match their unmoved selves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from ..memory.labels import canonical
from ..memory.snapshot import ObjectRecord, Trajectory
from ..sim.ground_truth import GroundTruth
from ..sim.scene import SceneObject

MATCH_IOU = 0.25
THIN_PART = 0.05
"""m. An object has thin parts when one of its parts is at most this wide horizontally."""
ON_SURFACE = 0.06
"""m. A memory point farther than this from every true object's surface lies on none (a wall, the
floor, or a true object displaced by pose drift)."""


@dataclass(frozen=True)
class ObjectMetrics:
    true_objects: int
    memory_objects: int
    matched: int
    precision: float
    recall: float
    well_seen_objects: int
    well_seen_recall: float
    duplicates_per_object: float
    label_accuracy: float
    center_error_m: float
    extent_error: float
    thin_objects: int
    thin_extent_error: float
    size_error: float
    thin_size_error: float
    view_offset_m: float

    def to_json(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        return "\n".join([
            f"objects: {self.memory_objects} in memory, {self.true_objects} true (seen), {self.matched} matched",
            f"instance precision {100 * self.precision:.1f}%  recall {100 * self.recall:.1f}%  "
            f"recall of the {self.well_seen_objects} seen in >= 10 frames {100 * self.well_seen_recall:.1f}%",
            f"duplicates per true object {self.duplicates_per_object:.3f}  "
            f"label accuracy (canonical) {100 * self.label_accuracy:.1f}%",
            f"box centre error {100 * self.center_error_m:.1f} cm  extent error {100 * self.extent_error:.1f}%  "
            f"thin-part objects ({self.thin_objects}) extent error {100 * self.thin_extent_error:.1f}%",
            f"size (largest dimension) error {100 * self.size_error:.1f}%  "
            f"thin-part objects {100 * self.thin_size_error:.1f}%  "
            f"box centres toward the views that saw them by {100 * self.view_offset_m:.1f} cm (mean)",
        ])


@dataclass(frozen=True)
class CameraError:
    """Camera position error of the memory's poses against the truth, over the frames it kept."""

    frames: int
    median_m: float
    max_m: float

    def to_json(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return (f"camera position error (the poses the memory was built with, against the truth) "
                f"median {100 * self.median_m:.1f} cm  max {100 * self.max_m:.1f} cm  over {self.frames} frames")


def camera_position_error(trajectory: Trajectory, truth: GroundTruth) -> CameraError:
    """Distance between each kept pose's camera position and the true one of the same frame
    (0-based frame indices in bag order, as both count them)."""
    frames = np.asarray(trajectory.frame_indices, dtype=np.int64)
    kept = (frames >= 0) & (frames < truth.n_frames)
    if not kept.any():
        return CameraError(0, float("nan"), float("nan"))
    error = np.linalg.norm(np.asarray(trajectory.poses)[kept, :3, 3] - truth.camera.poses[frames[kept], :3, 3], axis=1)
    return CameraError(int(kept.sum()), float(np.median(error)), float(error.max()))


@dataclass(frozen=True)
class PoseBound:
    """The recall that a memory exact up to its poses would reach.

    Each true object seen in at least `well_seen_frames` frames is moved by the mean displacement
    that the memory's poses give its centre over the frames it is seen in (a point seen from pose
    P where the camera truly stood at T lands at P T^-1 x). `recall` is the share of the moved
    boxes that still overlap their true boxes by MATCH_IOU: a small object shifted by its own
    width is lost to every memory, however good, that takes the poses as given. The box keeps
    its yaw (yaw drift of a degree or two turns a box less than it shifts it).
    """

    objects: int
    median_shift_m: float
    max_shift_m: float
    recall: float

    def to_json(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return (f"pose bound: the poses move the {self.objects} objects seen in >= 10 frames by "
                f"{100 * self.median_shift_m:.1f} cm (median), {100 * self.max_shift_m:.1f} cm (max); "
                f"a memory exact up to its poses would recall {100 * self.recall:.1f}% of them")


def _moved_centers(trajectory: Trajectory, truth: GroundTruth) -> dict[int, np.ndarray]:
    """Where the memory's poses put each seen true object's centre: the mean over the frames it is
    seen in (and the trajectory kept) of P T^-1 c, P the memory's pose and T the true one."""
    frames = np.asarray(trajectory.frame_indices, dtype=np.int64)
    kept = (frames >= 0) & (frames < truth.n_frames)
    correction = {int(f): pose @ np.linalg.inv(truth.camera.poses[f])
                  for f, pose in zip(frames[kept], np.asarray(trajectory.poses)[kept])}
    moved = {}
    for obj in truth.scene.objects:
        views = [correction[f] for f in truth.frames_seen(obj.id) if f in correction]
        if views:
            moved[obj.id] = np.mean([m[:3, :3] @ obj.center + m[:3, 3] for m in views], axis=0)
    return moved


def pose_bound(trajectory: Trajectory, truth: GroundTruth, well_seen_frames: int = 10) -> PoseBound:
    """How far the memory's poses alone move the well-seen true objects, and what that costs the
    recall (see PoseBound)."""
    moved = _moved_centers(trajectory, truth)
    shifts, recalled = [], []
    for obj in truth.scene.objects:
        if obj.id not in moved or len(truth.frames_seen(obj.id)) < well_seen_frames:
            continue
        _, extent, yaw = obj.box
        inter, volume, _ = box_overlap((moved[obj.id], extent, yaw), obj.box)
        shifts.append(float(np.linalg.norm(moved[obj.id] - obj.center)))
        recalled.append(inter / (2 * volume - inter) >= MATCH_IOU)
    if not shifts:
        return PoseBound(0, float("nan"), float("nan"), float("nan"))
    return PoseBound(len(shifts), float(np.median(shifts)), float(max(shifts)), float(np.mean(recalled)))


def _footprint(center: np.ndarray, extent: np.ndarray, yaw: float) -> np.ndarray:
    """Counter-clockwise corners (4 x 2) of a box's floor footprint."""
    c, s = np.cos(yaw), np.sin(yaw)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * np.asarray(extent[:2]) / 2
    return corners @ np.array([[c, s], [-s, c]]) + np.asarray(center[:2])


def _clip(subject: np.ndarray, clipper: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: the part of convex polygon `subject` inside convex `clipper` (both CCW)."""
    output = subject
    for a, b in zip(clipper, np.roll(clipper, -1, axis=0)):
        if len(output) == 0:
            break
        edge = b - a
        side = edge[0] * (output[:, 1] - a[1]) - edge[1] * (output[:, 0] - a[0])
        points = []
        for k in range(len(output)):
            p, q, sp, sq = output[k], output[(k + 1) % len(output)], side[k], side[(k + 1) % len(output)]
            if sp >= 0:
                points.append(p)
            if (sp >= 0) != (sq >= 0):
                points.append(p + (q - p) * (sp / (sp - sq)))
        output = np.array(points).reshape(-1, 2)
    return output


def _area(polygon: np.ndarray) -> float:
    if len(polygon) < 3:
        return 0.0
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def box_overlap(a: tuple, b: tuple) -> tuple[float, float, float]:
    """(intersection volume, volume of a, volume of b) of two gravity-aligned boxes given as
    (center, extent, yaw)."""
    (ca, ea, ya), (cb, eb, yb) = a, b
    va, vb = float(np.prod(ea)), float(np.prod(eb))
    if np.linalg.norm(np.asarray(ca[:2]) - cb[:2]) > (np.linalg.norm(ea[:2]) + np.linalg.norm(eb[:2])) / 2:
        return 0.0, va, vb
    dz = min(ca[2] + ea[2] / 2, cb[2] + eb[2] / 2) - max(ca[2] - ea[2] / 2, cb[2] - eb[2] / 2)
    if dz <= 0:
        return 0.0, va, vb
    return _area(_clip(_footprint(ca, ea, ya), _footprint(cb, eb, yb))) * dz, va, vb


def _has_thin_parts(obj: SceneObject) -> bool:
    return any(min(part.size[0], part.size[1]) <= THIN_PART for part in obj.parts)


def _match(objects: Sequence[ObjectRecord], truth: GroundTruth):
    """(seen true objects, IoU and share of each memory box inside each true box (memory x true),
    matched memory rows, matched true columns)."""
    seen = [o for o in truth.scene.objects if truth.frames_seen(o.id)]
    iou = np.zeros((len(objects), len(seen)))
    inside = np.zeros_like(iou)
    for i, mem in enumerate(objects):
        for j, true in enumerate(seen):
            inter, v_mem, v_true = box_overlap((mem.center, mem.extent, mem.yaw), true.box)
            if inter > 0:
                iou[i, j] = inter / (v_mem + v_true - inter)
                inside[i, j] = inter / max(v_mem, 1e-12)
    rows, cols = linear_sum_assignment(-iou) if iou.size else (np.zeros(0, int), np.zeros(0, int))
    good = iou[rows, cols] >= MATCH_IOU
    return seen, iou, inside, rows[good], cols[good]


def object_metrics(objects: Sequence[ObjectRecord], truth: GroundTruth, well_seen_frames: int = 10) -> ObjectMetrics:
    """Score a memory's objects (a snapshot's `objects`) against the recording's true objects."""
    seen, iou, inside, rows, cols = _match(objects, truth)
    frames_seen = {o.id: truth.frames_seen(o.id) for o in seen}
    matched_true = set(cols.tolist())
    unmatched = np.setdiff1d(np.arange(len(objects)), rows)
    copy_of_matched = (iou[unmatched] >= MATCH_IOU) | (inside[unmatched] >= 0.5)
    copy_of_matched[:, [j for j in range(len(seen)) if j not in matched_true]] = False
    duplicates = int(copy_of_matched.any(axis=1).sum()) if len(seen) else 0

    pairs = [(objects[i], seen[j]) for i, j in zip(rows, cols)]
    centre = [float(np.linalg.norm(m.center - t.center)) for m, t in pairs]
    extent = [float(np.mean(np.abs(m.extent - t.extent) / t.extent)) for m, t in pairs]
    size = [float(abs(m.extent.max() - t.extent.max()) / t.extent.max()) for m, t in pairs]
    has_thin = [_has_thin_parts(t) for _, t in pairs]
    toward_views = [_view_offset(m, t, truth.camera.poses[frames_seen[t.id], :2, 3]) for m, t in pairs]
    well_seen = [j for j, o in enumerate(seen) if len(frames_seen[o.id]) >= well_seen_frames]

    def mean(values) -> float:
        return float(np.mean(values)) if len(values) else float("nan")

    return ObjectMetrics(
        true_objects=len(seen),
        memory_objects=len(objects),
        matched=len(pairs),
        precision=len(pairs) / len(objects) if objects else float("nan"),
        recall=len(pairs) / len(seen) if seen else float("nan"),
        well_seen_objects=len(well_seen),
        well_seen_recall=(sum(j in matched_true for j in well_seen) / len(well_seen)) if well_seen else float("nan"),
        duplicates_per_object=duplicates / len(seen) if seen else float("nan"),
        label_accuracy=mean([canonical(m.label) == canonical(t.label) for m, t in pairs]),
        center_error_m=mean(centre),
        extent_error=mean(extent),
        thin_objects=sum(has_thin),
        thin_extent_error=mean([e for e, thin in zip(extent, has_thin) if thin]),
        size_error=mean(size),
        thin_size_error=mean([e for e, thin in zip(size, has_thin) if thin]),
        view_offset_m=mean(toward_views),
    )


def _view_offset(memory: ObjectRecord, true: SceneObject, cameras: np.ndarray) -> float:
    """How far (m) the memory box's centre lies toward the cameras (K, 2: their horizontal
    positions) that saw the object: its horizontal centre error along the unit direction to each
    camera, averaged over them."""
    cameras = cameras - true.center[:2]
    toward = cameras / np.linalg.norm(cameras, axis=1, keepdims=True).clip(min=1e-9)
    return float(np.mean(toward @ (np.asarray(memory.center)[:2] - true.center[:2])))


@dataclass(frozen=True)
class Miss:
    """A true object seen in at least `well_seen_frames` frames that no memory object matches.

    nearest_*: the memory object whose box overlaps it most (id -1 and IoU 0 if none does);
    point_shares: where that object's points lie: the share nearest to each true object's surface
    (by true id, within ON_SURFACE), and under "none" the share on no true object.
    pose_shift_m: how far the memory's poses move the object (see PoseBound), when they are known.
    """

    true_id: int
    label: str
    frames_seen: int
    true_box: tuple
    nearest_id: int
    nearest_label: str
    nearest_box: tuple | None
    iou: float
    point_shares: dict
    pose_shift_m: float | None = None

    def line(self) -> str:
        head = f"true {self.true_id} {self.label} (seen in {self.frames_seen} frames) {_box_text(self.true_box)}"
        if self.pose_shift_m is not None:
            head += f", moved {100 * self.pose_shift_m:.1f} cm by the poses"
        if self.nearest_box is None:
            return head + ": no memory box overlaps it"
        shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in self.point_shares.items())
        return (f"{head}\n    memory {self.nearest_id} '{self.nearest_label}' IoU {self.iou:.2f} "
                f"{_box_text(self.nearest_box)}; its points on: {shares}")


def misses(objects: Sequence[ObjectRecord], truth: GroundTruth, well_seen_frames: int = 10,
           trajectory: Trajectory | None = None) -> list[Miss]:
    """The well-seen true objects that `object_metrics` counts as not recalled, and why (with the
    memory's trajectory, also how far its poses moved each)."""
    seen, iou, _, _, cols = _match(objects, truth)
    moved = _moved_centers(trajectory, truth) if trajectory is not None else {}
    trees = [cKDTree(o.points) for o in seen]
    recalled = set(cols.tolist())
    result = []
    for j, true in enumerate(seen):
        frames = len(truth.frames_seen(true.id))
        if j in recalled or frames < well_seen_frames:
            continue
        shift = float(np.linalg.norm(moved[true.id] - true.center)) if true.id in moved else None
        best = int(iou[:, j].argmax()) if len(objects) else -1
        if best < 0 or iou[best, j] == 0:
            result.append(Miss(true.id, true.label, frames, true.box, -1, "", None, 0.0, {}, shift))
            continue
        mem = objects[best]
        result.append(Miss(true.id, true.label, frames, true.box, mem.id, mem.label,
                           (mem.center, mem.extent, mem.yaw), float(iou[best, j]),
                           _point_shares(mem.points, seen, trees, first=j), shift))
    return result


@dataclass(frozen=True)
class Extra:
    """A memory object that no true object matches (see `extras`).

    sightings: frames it was detected in; labels: its most voted words with their votes;
    nearest_*: the true object its box overlaps most (id -1 and IoU 0 if none does);
    point_shares: where its points lie, as in `Miss`.
    """

    memory_id: int
    label: str
    sightings: int
    labels: dict
    box: tuple
    nearest_id: int
    nearest_label: str
    iou: float
    point_shares: dict

    def line(self) -> str:
        words = ", ".join(f"{word} {votes:g}" for word, votes in self.labels.items())
        head = f"memory {self.memory_id} '{self.label}' (seen in {self.sightings} frames; {words}) {_box_text(self.box)}"
        near = (f"overlaps true {self.nearest_id} {self.nearest_label} IoU {self.iou:.2f}" if self.nearest_id >= 0
                else "overlaps no true object")
        shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in self.point_shares.items()) or "no points"
        return f"{head}: {near}; its points on: {shares}"


def extras(objects: Sequence[ObjectRecord], truth: GroundTruth, top_labels: int = 3) -> list[Extra]:
    """The memory objects that `object_metrics` counts against the precision, and what they are
    made of: the records a question about their label finds beside the real one."""
    seen, iou, _, rows, _ = _match(objects, truth)
    trees = [cKDTree(o.points) for o in seen]
    matched = set(rows.tolist())
    result = []
    for i, mem in enumerate(objects):
        if i in matched:
            continue
        best = int(iou[i].argmax()) if len(seen) else -1
        overlaps = best >= 0 and iou[i, best] > 0
        words = dict(sorted(mem.label_histogram.items(), key=lambda item: -item[1])[:top_labels])
        result.append(Extra(mem.id, mem.label, mem.observations, words, (mem.center, mem.extent, mem.yaw),
                            seen[best].id if overlaps else -1, seen[best].label if overlaps else "",
                            float(iou[i, best]) if overlaps else 0.0, _point_shares(mem.points, seen, trees)))
    return result


def _box_text(box: tuple) -> str:
    """A (centre, extent, yaw) box as one line of text."""
    c, e, yaw = box
    return (f"centre ({c[0]:.2f}, {c[1]:.2f}, {c[2]:.2f}) extent ({e[0]:.2f}, {e[1]:.2f}, {e[2]:.2f}) "
            f"yaw {np.degrees(yaw):.0f}")


def _point_shares(points: np.ndarray, seen: Sequence[SceneObject], trees: Sequence[cKDTree],
                  first: int | None = None) -> dict:
    """Share of the points nearest to each true object's surface (within ON_SURFACE), keyed
    "label id", true object `first` first and "none" (on no true object) last."""
    if not len(points) or not trees:
        return {"none": 1.0} if len(points) else {}
    distance = np.stack([tree.query(points)[0] for tree in trees])
    owner = np.where(distance.min(axis=0) <= ON_SURFACE, distance.argmin(axis=0), -1)
    lead = [] if first is None else [first]
    shares: dict = {}
    for k in lead + [k for k in np.unique(owner).tolist() if k not in (*lead, -1)] + [-1]:
        share = float(np.mean(owner == k))
        if share > 0:
            shares["none" if k == -1 else f"{seen[k].label} {seen[k].id}"] = share
    return shares
