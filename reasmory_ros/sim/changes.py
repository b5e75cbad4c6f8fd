"""Change mode: the room changes between loops of the camera, with the ground-truth history.

The camera walks `loops` loops around the room. Before each loop after the first, objects may be
moved (re-placed at a free spot at least MIN_MOVE away), removed or added. One added object is an
*occluder*: a tall refrigerator put right in front of an unchanged object, between it and the room's
middle, so that object is hidden for a while without having gone anywhere (a memory must not call
it removed). The camera path of each loop is planned on that loop's furniture, as a person would
walk around what now stands in the way.

`ChangeHistory` records the changes; from it and the first loop's scene every loop's scene and
every object's placements (where it stood, from which frame to which) are rebuilt exactly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .catalogue import FURNITURE
from .layout import _free_pose, _inflate, _overlap
from .render import Rendered, default_intrinsics, renderer_for
from .scene import Scene, SceneObject, rot_z
from .trajectory import DEFAULT_FPS, DEFAULT_START_TIME, CameraPath, camera_trajectory, free_space

CHANGE_KINDS = ("moved", "removed", "added")
MIN_MOVE = 1.0
"""m. A moved object's new centre is at least this far (floor plane) from its old one."""
MOVABLE = ("chair", "stool", "lamp", "plant", "trash can")
"""Free-standing furniture a person carries elsewhere (nothing stands on it)."""
CLEARANCE = 0.5
"""m. Gap kept between a moved or added object and any other furniture (the camera must pass)."""
OCCLUDER_GAP = 0.12
"""m. Gap between an occluder and the object it hides."""


@dataclass(frozen=True)
class Change:
    """Before loop `loop` (>= 1), `object` was moved (object: its new pose), removed (object: as
    it was) or added (object: the new one)."""

    loop: int
    kind: str
    object: SceneObject

    def to_dict(self) -> dict:
        return {"loop": self.loop, "kind": self.kind, "object": self.object.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> Change:
        if d.get("kind") not in CHANGE_KINDS:
            raise ValueError(f"unknown change kind {d.get('kind')!r}; expected one of {CHANGE_KINDS}")
        return cls(int(d["loop"]), str(d["kind"]), SceneObject.from_dict(d["object"]))


@dataclass(frozen=True)
class Placement:
    """Where an object stood (GT box centre, world) during frames first..last (0-based, inclusive)."""

    center: np.ndarray
    yaw: float
    first_frame: int
    last_frame: int


@dataclass(frozen=True)
class ChangeHistory:
    """The changes of a recording of `loops` loops of `frames_per_loop` frames each.

    occluded: ids of unchanged objects an added occluder stands in front of (from its loop on).
    """

    loops: int
    frames_per_loop: int
    changes: tuple[Change, ...]
    occluded: tuple[int, ...] = ()

    def ids(self, kind: str) -> list[int]:
        return sorted({c.object.id for c in self.changes if c.kind == kind})

    def loop_of_frame(self, frame: int) -> int:
        return min(frame // self.frames_per_loop, self.loops - 1)

    def scene_at(self, first: Scene, loop: int) -> Scene:
        """The scene during `loop`: `first` with every change of loops 1..loop applied."""
        objects = {o.id: o for o in first.objects}
        for change in sorted(self.changes, key=lambda c: c.loop):
            if change.loop > loop:
                continue
            if change.kind == "removed":
                objects.pop(change.object.id, None)
            else:
                objects[change.object.id] = change.object
        return dataclasses.replace(first, objects=sorted(objects.values(), key=lambda o: o.id))

    def placements(self, first: Scene) -> dict[int, list[Placement]]:
        """Every object's placements over the recording, in time order (one per pose it held)."""
        history: dict[int, list[Placement]] = {}
        for loop in range(self.loops):
            start, end = loop * self.frames_per_loop, (loop + 1) * self.frames_per_loop - 1
            for obj in self.scene_at(first, loop).objects:
                spans = history.setdefault(obj.id, [])
                last = spans[-1] if spans else None
                if last is not None and last.last_frame == start - 1 and np.allclose(last.center, obj.center):
                    spans[-1] = dataclasses.replace(last, last_frame=end)
                else:
                    spans.append(Placement(obj.center.copy(), float(obj.box_yaw), start, end))
        return history

    def to_dict(self) -> dict:
        return {"loops": self.loops, "frames_per_loop": self.frames_per_loop,
                "changes": [c.to_dict() for c in self.changes], "occluded": list(self.occluded)}

    @classmethod
    def from_dict(cls, d: dict) -> ChangeHistory:
        return cls(int(d["loops"]), int(d["frames_per_loop"]),
                   tuple(Change.from_dict(c) for c in d["changes"]),
                   tuple(int(i) for i in d.get("occluded", ())))


def _floor_footprints(scene: Scene, skip: set[int]) -> list[np.ndarray]:
    return [o.footprint() for o in scene.objects if o.parent is None and o.id not in skip]


def _fits(scene: Scene, poly: np.ndarray, skip: set[int]) -> bool:
    r = scene.room
    inside = ((poly[:, 0] > r.xmin + 0.05).all() and (poly[:, 0] < r.xmax - 0.05).all()
              and (poly[:, 1] > r.ymin + 0.05).all() and (poly[:, 1] < r.ymax - 0.05).all())
    return bool(inside) and not any(
        _overlap(_inflate(poly, CLEARANCE), other) for other in _floor_footprints(scene, skip)
    )


def _walkable(scene: Scene) -> bool:
    return free_space(scene).usable


def _moved(rng: np.random.Generator, scene: Scene, obj: SceneObject, tries: int = 300) -> SceneObject | None:
    """The object at a free pose at least MIN_MOVE away, or None when the room has no such spot."""
    for _ in range(tries):
        x, y, yaw = _free_pose(rng, scene.room)
        if math.hypot(x - obj.position[0], y - obj.position[1]) < MIN_MOVE:
            continue
        candidate = dataclasses.replace(obj, position=np.array([x, y, obj.position[2]]), yaw=float(yaw))
        if _fits(scene, candidate.footprint(), {obj.id}):
            return candidate
    return None


def _occluder(rng: np.random.Generator, scene: Scene, target: SceneObject, new_id: int) -> SceneObject | None:
    """A refrigerator between `target` and the room's middle, OCCLUDER_GAP in front of it."""
    parts = FURNITURE["refrigerator"].build(rng)
    probe = SceneObject(new_id, "refrigerator", parts, np.zeros(3), 0.0)
    to_middle = scene.room.center - target.center[:2]
    distance = float(np.linalg.norm(to_middle))
    if distance < 1e-6:
        return None
    direction = to_middle / distance
    reach = (float(np.abs(target.footprint() - target.center[:2]).max())
             + float(np.abs(probe.footprint()).max()) + OCCLUDER_GAP)
    xy = target.center[:2] + direction * reach
    yaw = math.atan2(-direction[0], direction[1])  # the door (local +y) faces the room's middle
    local_center = probe.center[:2]
    xy = xy - rot_z(yaw)[:2, :2] @ local_center
    occluder = SceneObject(new_id, "refrigerator", parts, np.array([xy[0], xy[1], 0.0]), yaw)
    return occluder if _fits(scene, occluder.footprint(), {target.id}) else None


def plan_changes(
    scene: Scene, seed: int, *, loops: int = 2, moves: int = 2, removals: int = 1, occlusions: int = 1,
    additions: int = 0,
) -> ChangeHistory:
    """Draw the changes of a recording, all before loop 1 (later loops, if any, keep that state).

    Moves take free-standing furniture (MOVABLE), removals any object nothing stands on (the
    door excepted), occlusions an unchanged floor object that a refrigerator fits in front of,
    additions a movable piece at a free spot. Fewer changes are made when the room has no room
    for them; deterministic in (scene, seed).
    """
    if loops < 2:
        raise ValueError(f"change mode needs at least 2 loops, got {loops}")
    rng = np.random.default_rng([scene.seed, seed, 31])
    has_children = {o.parent for o in scene.objects if o.parent is not None}
    changes: list[Change] = []
    current = scene
    touched: set[int] = set()

    def apply(change: Change) -> bool:
        nonlocal current
        trial = ChangeHistory(loops, 1, tuple(changes) + (change,)).scene_at(scene, 1)
        if not _walkable(trial):
            return False
        changes.append(change)
        touched.add(change.object.id)
        current = trial
        return True

    movable = [o for o in scene.objects if o.label in MOVABLE and o.id not in has_children]
    for obj in rng.permutation(np.array(movable, dtype=object)).tolist():
        if sum(c.kind == "moved" for c in changes) >= moves:
            break
        moved = _moved(rng, current, obj)
        if moved is not None:
            apply(Change(1, "moved", moved))
    removable = [o for o in scene.objects
                 if o.label != "door" and o.id not in has_children and o.id not in touched]
    for obj in rng.permutation(np.array(removable, dtype=object)).tolist()[:removals]:
        apply(Change(1, "removed", obj))
    next_id = max(o.id for o in scene.objects) + 1
    occluded: list[int] = []
    targets = [o for o in scene.objects if o.parent is None and o.label != "door"
               and o.id not in touched and o.id not in has_children]
    for obj in rng.permutation(np.array(targets, dtype=object)).tolist():
        if len(occluded) >= occlusions:
            break
        occluder = _occluder(rng, current, obj, next_id)
        if occluder is not None and apply(Change(1, "added", occluder)):
            occluded.append(obj.id)
            next_id += 1
    for _ in range(additions):
        label = MOVABLE[int(rng.integers(len(MOVABLE)))]
        new = SceneObject(next_id, label, FURNITURE[label].build(rng), np.zeros(3), 0.0)
        placed = _moved(rng, current, new)
        if placed is not None and apply(Change(1, "added", placed)):
            next_id += 1
    return ChangeHistory(loops, 1, tuple(changes), tuple(occluded))


def change_camera(
    scene: Scene, history: ChangeHistory, seed: int, fps: float = DEFAULT_FPS,
    start_time: float = DEFAULT_START_TIME,
) -> CameraPath:
    """One loop per scene state, each planned on that loop's furniture, timestamps continuous."""
    poses, stamps = [], []
    n = history.frames_per_loop
    for loop in range(history.loops):
        path = camera_trajectory(history.scene_at(scene, loop), n, seed + 1000 * loop, fps=fps,
                                 start_time=start_time + loop * n / fps)
        poses.append(path.poses)
        stamps.append(path.timestamps)
    return CameraPath(np.concatenate(poses), np.concatenate(stamps))


def render_changes(
    scene: Scene, history: ChangeHistory, camera: CameraPath, K: np.ndarray | None = None,
    width: int = 640, height: int = 480, seed: int = 0, noise: bool = True,
) -> Iterator[Rendered]:
    """Render a change-mode recording: frame i shows the scene of its loop (deterministic in seed)."""
    K = default_intrinsics(width, height) if K is None else np.asarray(K, dtype=np.float64)
    rng = np.random.default_rng([scene.seed, seed, 11])
    scenes = [history.scene_at(scene, loop) for loop in range(history.loops)]
    for i in range(len(camera)):
        renderer = renderer_for(scenes[history.loop_of_frame(i)])
        yield renderer.render(camera.poses[i], K, width, height, i, float(camera.timestamps[i]), rng, noise)


def change_recording(
    scene: Scene, frames_per_loop: int, seed: int = 0, *, fps: float = DEFAULT_FPS, **plan,
) -> tuple[ChangeHistory, CameraPath]:
    """Plan the changes (see `plan_changes`) and the camera for a recording of that many frames a loop."""
    if frames_per_loop < 1:
        raise ValueError(f"frames_per_loop must be >= 1, got {frames_per_loop}")
    history = dataclasses.replace(plan_changes(scene, seed, **plan), frames_per_loop=frames_per_loop)
    return history, change_camera(scene, history, seed, fps=fps)
