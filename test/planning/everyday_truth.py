"""Simulated recordings for the everyday questions, and their answers from the simulator's geometry.

A scene is rendered and fed to the real SpatialMemory (its trajectory, map and colours are what a
robot would have). The planner is asked over two memories: the real one (for colours), and the
same memory with its object table replaced by the simulator's exact objects (ground-truth boxes and
surface samples, first and last sightings from the rendered visibility), so an answer can be
compared with geometry exactly and a wrong one is the planner's or the operation's fault, not the
reconstruction's. The expected answers are computed here from the scene, independently of the DSL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from reasmory_ros import sim
from reasmory_ros.memory import SpatialMemory
from reasmory_ros.memory.colors import color_name
from reasmory_ros.memory.snapshot import MemorySnapshot, ObjectRecord

FRAMES, WIDTH, HEIGHT = 48, 160, 120
MIN_PIXELS = 10
"""An object counts as seen in a frame when it covers this many pixels (0.05 % of 160 x 120)."""
EXPOSURES = (0.45, 0.95)
"""The shading of the simulator's renderer scales an albedo by about this much (its light term
ranges 0.35-1.1; most faces seen are lit 0.45-0.95): a colour counts as right when it is the
palette name of one of the object's part albedos at some exposure in this range."""


@dataclass
class Recording:
    seed: int
    scene: sim.Scene
    camera: sim.CameraPath
    memory: MemorySnapshot
    visibility: list[dict[int, int]]

    def frames_seen(self, object_id: int) -> list[int]:
        return [i for i, counts in enumerate(self.visibility) if counts.get(object_id, 0) >= MIN_PIXELS]

    @cached_property
    def seen(self) -> list[sim.SceneObject]:
        return [o for o in self.scene.objects if self.frames_seen(o.id)]

    @cached_property
    def truth(self) -> MemorySnapshot:
        """The memory with the simulator's objects in place of its own (ids = scene ids)."""
        stamps = self.camera.timestamps
        records = []
        for o in self.seen:
            frames = self.frames_seen(o.id)
            records.append(scene_record(o, frames[0], frames[-1], float(stamps[frames[0]]), float(stamps[frames[-1]])))
        return replace(self.memory, objects=tuple(records))

    def unique(self, within_memory: bool = False) -> list[sim.SceneObject]:
        """Seen objects whose label no other scene object has (and, optionally, that the real memory
        holds exactly one of), largest first."""
        counts = self.memory.label_counts()
        found = [o for o in self.seen if len(self.scene.by_label(o.label)) == 1
                 and (not within_memory or counts.get(o.label) == 1)]
        return sorted(found, key=lambda o: -float(np.prod(o.extent)))

    def repeated(self) -> list[str]:
        """Labels of which every scene instance was seen, at least two of them."""
        labels = {o.label for o in self.seen}
        return sorted(label for label in labels if len(self.scene.by_label(label)) >= 2
                      and all(self.frames_seen(o.id) for o in self.scene.by_label(label)))

    def by_label(self, label: str) -> list[sim.SceneObject]:
        return [o for o in self.seen if o.label == label]


def record(seed: int) -> Recording:
    scene = sim.generate_scene(seed)
    camera = sim.camera_trajectory(scene, n_frames=FRAMES, seed=0)
    memory = SpatialMemory()
    visibility = []
    for rendered in sim.render_sequence(scene, camera, width=WIDTH, height=HEIGHT, seed=0):
        memory.update(rendered.frame)
        visibility.append(rendered.pixel_counts)
    return Recording(seed, scene, camera, memory.snapshot(), visibility)


def scene_record(o: sim.SceneObject, first: int = 0, last: int = 0, first_time: float = 0.0,
                 last_time: float = 0.0) -> ObjectRecord:
    """A memory record holding the simulator's exact object (id = scene id)."""
    return ObjectRecord(
        id=o.id, label=o.label, label_histogram={o.label: 1.0}, center=o.center, extent=o.extent,
        yaw=o.box_yaw, points=o.points.astype(np.float32), first_seen_frame=first, first_seen_time=first_time,
        last_seen_frame=last, last_seen_time=last_time, observations=max(1, last - first + 1),
        centroid=o.points.mean(axis=0), color=color_name(np.array(_largest_part(o).color) * 255 * 0.7))


def _largest_part(o: sim.SceneObject):
    return max(o.parts, key=lambda p: 2 * (p.size[0] * p.size[1] + p.size[1] * p.size[2] + p.size[0] * p.size[2]))


def color_names(o: sim.SceneObject) -> set[str]:
    """Palette names the object's parts take over the renderer's range of exposures."""
    names = set()
    for part in o.parts:
        for exposure in np.linspace(*EXPOSURES, 11):
            names.add(color_name(np.array(part.color) * 255 * exposure))
    return names


# --- geometry used by the expected answers ---------------------------------------------------------


def floor_gap(a: sim.SceneObject, b: sim.SceneObject) -> float:
    """Horizontal distance between the two objects' surface samples (their footprints' gap)."""
    from scipy.spatial import cKDTree

    return float(cKDTree(b.points[:, :2]).query(a.points[:, :2])[0].min())


def bottom(o) -> float:
    return float(o.center[2] - o.extent[2] / 2)


def top(o) -> float:
    return float(o.center[2] + o.extent[2] / 2)


def between_truth(rec: Recording, a, b) -> list[int]:
    """Seen objects whose centre projects inside segment a-b (seen from above) within 0.5 m of it."""
    pa, pb = a.center[:2], b.center[:2]
    d = pb - pa
    found = []
    for o in rec.seen:
        if o in (a, b):
            continue
        v = o.center[:2] - pa
        t = float(v @ d / (d @ d))
        if 0 < t < 1 and abs(d[0] * v[1] - d[1] * v[0]) / np.linalg.norm(d) <= 0.5:
            found.append((t, o.id))
    return [i for _, i in sorted(found)]


def in_view_seconds(rec: Recording, o) -> float:
    """Stream time of the frames whose image holds the box centre (in front, 0.1-10 m), each
    frame counting until the next (the documented meaning of time_in_view)."""
    K = rec.memory.K
    total = 0.0
    for i in range(len(rec.camera) - 1):
        pose = rec.camera.poses[i]
        x, y, z = (o.center - pose[:3, 3]) @ pose[:3, :3]
        u, v = K[0, 0] * x / z + K[0, 2], K[1, 1] * y / z + K[1, 2]
        if 0.1 < z < 10 and 0 <= u < WIDTH and 0 <= v < HEIGHT:
            total += float(rec.camera.timestamps[i + 1] - rec.camera.timestamps[i])
    return total


MEASURES = {
    "height": lambda o, rec: float(o.extent[2]),
    "volume": lambda o, rec: float(np.prod(o.extent)),
    "footprint": lambda o, rec: float(o.extent[0] * o.extent[1]),
    "length": lambda o, rec: float(max(o.extent[:2])),
    "distance": lambda o, rec: o.distance_to_point(rec.camera.poses[-1][:3, 3]),
}


def radius(question: str) -> float:
    found = re.search(r"within (\d+(?:\.\d+)?)", question)
    return float(found.group(1)) if found else 1.0
