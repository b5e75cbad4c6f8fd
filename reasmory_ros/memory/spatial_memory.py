"""SpatialMemory: frames in, consistent snapshots out, at a fixed cost per frame.

`update` runs the whole frame under one lock, so `snapshot` (same lock) only ever sees frame
boundaries. The snapshot is built on demand and cached until the next change; object and keyframe
records are rebuilt only for slots whose version changed, so taking one stays cheap.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace

import numpy as np
import torch

from reasmory_ros.memory.colors import dominant_color
from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.errors import MemoryFileError
from reasmory_ros.memory.frame import Frame
from reasmory_ros.memory.geometry import FAR, resolve_device
from reasmory_ros.memory.hidden_depth import complete_hidden_depth
from reasmory_ros.memory.keyframes import KeyframeStore
from reasmory_ros.memory.lifecycle import STATUS_NAMES, Lifecycle
from reasmory_ros.memory.objects import LabelEmbedder, ObjectTable
from reasmory_ros.memory.observation import UNKNOWN_LABEL, Observer
from reasmory_ros.memory.persistence import (
    FIRST_VIEW_FORMAT,
    JOINT_VIEWS_FORMAT,
    LIFECYCLE_FORMAT,
    MASK_EVIDENCE_FORMAT,
    MISSED_VIEWS_FORMAT,
    read_memory_file,
    write_memory_file,
)
from reasmory_ros.memory.scene_map import VoxelMap
from reasmory_ros.memory.snapshot import Keyframe, MemorySnapshot, ObjectRecord, Placement
from reasmory_ros.memory.state import StateBuffers
from reasmory_ros.memory.trajectory import TrajectoryStore
from reasmory_ros.memory.working import WorkingFrame, WorkingMemory

_SEED = 0


@dataclass(frozen=True)
class UpdateStats:
    """What one `update` did, for logs and diagnostics."""

    frame_index: int
    points: int
    """Valid depth samples used (map and working memory)."""
    detections: int
    """Instances that passed the filters."""
    matched: int
    """Detections that joined an existing object."""
    created: int
    """Detections that started a new object."""
    merged: int
    """Duplicate objects folded into others."""
    evicted: int
    """Objects dropped to make room (table full)."""
    keyframe: bool
    """Whether the frame was stored as a keyframe."""
    map_voxels_dropped: int
    """New voxels that found no slot (every slot of their bucket seen in this very frame): a
    steady non-zero count means map_capacity is too small for one view."""
    seconds: float
    """Wall time of the update."""


class _Parts:
    """All state of one memory, built together so that `load` can swap it in one assignment."""

    def __init__(self, config: MemoryConfig, device: torch.device, label_embedder: LabelEmbedder | None = None):
        self.config = config
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(_SEED)
        self.observer = Observer(config, device, self.generator)
        self.objects = ObjectTable(config, device, self.generator, label_embedder)
        self.keyframes = KeyframeStore(config, device)
        self.trajectory = TrajectoryStore(config, device)
        self.scene_map = VoxelMap(config, device)
        self.working = WorkingMemory(config, device)
        self.lifecycle = Lifecycle(config, device, self.generator)
        self.frame_count = 0
        self.image_size = (0, 0)
        self.K = np.eye(3)

    def components(self) -> dict[str, StateBuffers]:
        return {
            "objects": self.objects, "keyframes": self.keyframes, "trajectory": self.trajectory,
            "scene_map": self.scene_map, "working": self.working, "lifecycle": self.lifecycle,
        }


class SpatialMemory:
    """Explicit 3D memory of an RGB-D stream: working window, objects, keyframes, trajectory, map.

    Every buffer is allocated here from `config`; `update` never allocates state, so its cost and
    `allocated_bytes()` stay flat however long the stream runs. device: "cpu", "cuda[:n]" or
    "auto" (cuda when available). label_embedder: files detector words outside the synonym table
    under the category they clearly resemble (`MemoryConfig.label_similarity`); None: the table only.
    """

    def __init__(self, config: MemoryConfig | None = None, device: str | torch.device = "cpu",
                 label_embedder: LabelEmbedder | None = None):
        self.config = config or MemoryConfig()
        self.device = resolve_device(device)
        self.label_embedder = label_embedder
        self._lock = threading.RLock()
        self._parts = _Parts(self.config, self.device, label_embedder)
        self._reset_caches()

    def _reset_caches(self) -> None:
        self._snapshot: MemorySnapshot | None = None
        self._object_cache: list[tuple[int, ObjectRecord] | None] = [None] * self.config.max_objects
        self._keyframe_cache: list[tuple[int, Keyframe] | None] = [None] * self.config.max_keyframes

    @property
    def frame_count(self) -> int:
        return self._parts.frame_count

    # --- updating -------------------------------------------------------------------------------

    def update(self, frame: Frame) -> UpdateStats:
        """Fold one frame into the memory (the snapshot sees all of it or none of it)."""
        if not isinstance(frame, Frame):
            raise TypeError(f"update() takes a Frame, got {type(frame).__name__}")
        start = time.perf_counter()
        with self._lock:
            parts = self._parts
            objects = parts.objects
            obs = parts.observer.observe(frame, objects.label_index)
            ordinal = parts.frame_count
            changes = objects.integrate(obs, frame.index, frame.timestamp, parts.lifecycle.dormant(),
                                        parts.keyframes.views()[1])
            moved_from = moved_to = changes.evicted[:0]
            if self.config.track_changes:
                moved_from, moved_to = parts.lifecycle.step(objects, parts.keyframes, frame, obs, changes.point_slots)
            old_ids = torch.cat([changes.merges.drop_ids, changes.evicted, moved_from])
            new_ids = torch.cat([changes.merges.keep_ids, torch.full_like(changes.evicted, -1), moved_to])
            parts.keyframes.rename_objects(old_ids, new_ids)

            point_ids = torch.full((obs.points.shape[0],), -1, dtype=torch.int64, device=self.device)
            point_ids[obs.det_point_index] = objects.ids[changes.point_slots]
            parts.working.push(obs.points, obs.colors, point_ids, obs.pose, frame.timestamp, frame.index)
            dropped_voxels = parts.scene_map.integrate(obs.points, obs.colors, ordinal)
            parts.trajectory.append(obs.pose, frame.timestamp, frame.index)
            keyframe = self._consider_keyframe(frame, obs.pose, changes.point_slots)

            parts.frame_count += 1
            parts.image_size = (frame.width, frame.height)
            parts.K = frame.K.copy()
            self._snapshot = None
            return UpdateStats(
                frame_index=frame.index,
                points=int(obs.points.shape[0]),
                detections=obs.num_detections,
                matched=changes.matched,
                created=changes.created,
                merged=len(changes.merges),
                evicted=int(changes.evicted.numel()),
                keyframe=keyframe,
                map_voxels_dropped=dropped_voxels,
                seconds=time.perf_counter() - start,
            )

    def _consider_keyframe(self, frame: Frame, pose: torch.Tensor, point_slots: torch.Tensor) -> bool:
        parts = self._parts
        objects, keyframes = parts.objects, parts.keyframes
        samples = torch.bincount(point_slots, minlength=self.config.max_objects)
        slots = samples.nonzero().squeeze(1)
        confirmed = objects.supported()[slots]
        shows_new_object = bool((confirmed & (objects.best_keyframe[slots] < 0)).any())
        decision = keyframes.consider(pose, shows_new_object)
        if decision is None:
            return False
        slot, dropped_frame = decision
        if dropped_frame >= 0:
            keyframes.active[slot] = False
            objects.forget_view(dropped_frame, keyframes.views())
        keyframes.store(slot, frame, pose, objects.ids[slots], samples[slots])
        objects.note_view(slots, samples[slots], frame.index)
        return True

    def reset(self) -> None:
        """Forget everything (fresh buffers of the same configuration)."""
        with self._lock:
            self._parts = _Parts(self.config, self.device, self.label_embedder)
            self._reset_caches()

    # --- reading --------------------------------------------------------------------------------

    def snapshot(self) -> MemorySnapshot:
        """A frozen, consistent view (numpy copies); cached until the memory changes."""
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self._build_snapshot()
            return self._snapshot

    def working_frames(self) -> tuple[WorkingFrame, ...]:
        """The frames of the working window, oldest first (numpy copies); points of objects that
        snapshots do not show (not yet seen in two frames) read -1, like those of merged ones."""
        with self._lock:
            objects = self._parts.objects
            return self._parts.working.export(objects.ids[objects.supported()])

    def allocated_bytes(self) -> int:
        """Bytes of all state tensors the memory owns (fixed at construction)."""
        with self._lock:
            return sum(part.nbytes() for part in self._parts.components().values())

    def _build_snapshot(self) -> MemorySnapshot:
        parts = self._parts
        parts.objects.fit_pending()
        records = self._object_records()
        objects = tuple(r for r in records if r.status != "removed")
        if self.config.hidden_depth:
            objects = complete_hidden_depth(objects, parts.keyframes, parts.scene_map, self.config)
        return MemorySnapshot(
            objects=objects,
            removed=tuple(r for r in records if r.status == "removed"),
            trajectory=_frozen(parts.trajectory.export()),
            keyframes=self._keyframe_records({obj.id for obj in objects}),
            scene_map=_frozen(parts.scene_map.export()),
            frame_count=parts.frame_count,
            image_size=parts.image_size,
            K=_readonly(parts.K.copy()),
        )

    def _object_records(self) -> tuple[ObjectRecord, ...]:
        table = self._parts.objects
        shown = table.supported()
        shown_slots = shown.nonzero().squeeze(1).tolist()
        versions = table.version.tolist()
        cache = self._object_cache
        stale = [s for s in shown_slots if cache[s] is None or cache[s][0] != versions[s]]
        if stale:
            index = torch.tensor(stale, device=self.device)
            rows = {
                name: getattr(table, name)[index].cpu().numpy()
                for name in (
                    "ids", "label_hist", "center", "extent", "yaw", "points", "first_frame",
                    "first_time", "last_frame", "last_time", "observations", "best_keyframe", "centroid",
                    "color_count", "color_sum", "label_first_frame", "label_first_time",
                )
            }
            life = self._parts.lifecycle
            rows.update({
                name: getattr(life, name)[index].cpu().numpy()
                for name in ("status", "missing_frame", "missing_time", "appeared", "history_count",
                             "history_center", "history_extent", "history_yaw", "history_frames", "history_times")
            })
            first_frame, first_time = life.first_sightings(table, index)
            rows.update(first_seen_frame=first_frame.cpu().numpy(), first_seen_time=first_time.cpu().numpy())
            category = table.category.cpu().numpy()
            for row, slot in enumerate(stale):
                self._object_cache[slot] = (versions[slot], self._object_record(rows, row, category))
        return tuple(sorted((cache[s][1] for s in shown_slots), key=lambda obj: obj.id))

    def _object_record(self, rows: dict[str, np.ndarray], row: int, category: np.ndarray) -> ObjectRecord:
        labels = self._parts.objects.labels
        hist = rows["label_hist"][row]
        points = rows["points"][row]
        points = points[points[:, 0] < FAR / 2]
        placements = _placements(rows, row, self.config.placement_history)
        first_frame, first_time = int(rows["first_frame"][row]), float(rows["first_time"][row])
        first_seen = int(rows["first_seen_frame"][row]), float(rows["first_seen_time"][row])
        if placements:
            first_seen = placements[0].first_frame, placements[0].first_time
        gone = int(rows["status"][row]) != 0
        color, color_rgb = dominant_color(rows["color_count"][row], rows["color_sum"][row])
        return ObjectRecord(
            id=int(rows["ids"][row]),
            label=self._parts.objects.category_name(hist) or UNKNOWN_LABEL,
            label_histogram={labels[i]: float(hist[i]) for i in np.flatnonzero(hist)},
            center=_readonly(rows["center"][row].astype(np.float64)),
            extent=_readonly(rows["extent"][row].astype(np.float64)),
            yaw=float(rows["yaw"][row]),
            points=_readonly(points),
            first_seen_frame=first_seen[0],
            first_seen_time=first_seen[1],
            last_seen_frame=int(rows["last_frame"][row]),
            last_seen_time=float(rows["last_time"][row]),
            observations=int(rows["observations"][row]),
            best_keyframe=int(rows["best_keyframe"][row]),
            centroid=_readonly(rows["centroid"][row].astype(np.float64)),
            status=STATUS_NAMES[int(rows["status"][row])],
            gone_since_frame=int(rows["missing_frame"][row]) if gone else -1,
            gone_since_time=float(rows["missing_time"][row]) if gone else -1.0,
            placements=placements,
            placed_frame=first_frame if placements else -1,
            placed_time=first_time if placements else -1.0,
            appeared=bool(rows["appeared"][row]),
            color=color,
            color_rgb=_readonly(color_rgb),
            first_called=self._first_called(hist, category, rows["label_first_frame"][row], rows["label_first_time"][row]),
        )

    def _first_called(self, hist: np.ndarray, category: np.ndarray, frames: np.ndarray,
                      times: np.ndarray) -> dict[str, tuple[int, float]]:
        """Categories (category: each word's head, ObjectTable.category) with at least
        min_label_share of the votes -> (frame, time) first given."""
        table = self._parts.objects
        share = self.config.min_label_share * float(hist.sum())
        called = {}
        for head in np.unique(category[np.flatnonzero(hist)]):
            members = np.flatnonzero((category == head) & (hist > 0))
            if hist[members].sum() >= share:
                first = min((int(frames[i]), float(times[i])) for i in members)
                called[table.category_name(np.where(category == head, hist, 0))] = first
        return called

    def _keyframe_records(self, shown_ids: set[int]) -> tuple[Keyframe, ...]:
        """Keyframes in frame order; their object ids limited to the objects in the snapshot."""
        store = self._parts.keyframes
        active = store.active.nonzero().squeeze(1).tolist()
        versions = store.version.tolist()
        for slot in active:
            cached = self._keyframe_cache[slot]
            if cached is None or cached[0] != versions[slot]:
                ids = store.object_ids[slot]
                self._keyframe_cache[slot] = (versions[slot], Keyframe(
                    frame_index=int(store.frame_index[slot]),
                    timestamp=float(store.timestamp[slot]),
                    T_world_camera=_readonly(store.poses[slot].cpu().numpy()),
                    K=_readonly(store.intrinsics[slot].cpu().numpy()),
                    rgb=_readonly(store.rgb[slot].cpu().numpy()),
                    depth=_readonly(store.depth[slot].cpu().numpy()),
                    object_ids=tuple(dict.fromkeys(ids[ids >= 0].tolist())),
                ))
        records = []
        for slot in active:
            record = self._keyframe_cache[slot][1]
            shown = tuple(i for i in record.object_ids if i in shown_ids)
            records.append(record if shown == record.object_ids else replace(record, object_ids=shown))
        return tuple(sorted(records, key=lambda k: k.frame_index))

    # --- persistence ----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole memory atomically (see persistence.py); MemoryFileError on failure."""
        with self._lock:
            parts = self._parts
            parts.objects.fit_pending()
            arrays = {
                f"{name}/{key}": value
                for name, part in parts.components().items()
                for key, value in part.state_arrays().items()
            }
            arrays["rng"] = parts.generator.get_state().cpu().numpy()
            arrays["K"] = parts.K
            header = {
                "config": self.config.to_dict(),
                "scalars": {name: part.scalars() for name, part in parts.components().items()},
                "frame_count": parts.frame_count,
                "image_size": list(parts.image_size),
                "rng_device": self.device.type,
            }
        write_memory_file(path, header, arrays)

    def load(self, path: str | os.PathLike) -> None:
        """Replace the memory with a saved one (its configuration included).

        Everything is read and checked into fresh buffers first; on any defect MemoryFileError is
        raised and this memory is left untouched.
        """
        parts = _read_parts(path, self.device, self.label_embedder)
        with self._lock:
            self.config = parts.config
            self._parts = parts
            self._reset_caches()

    @classmethod
    def from_file(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> SpatialMemory:
        """A new memory restored from a file."""
        memory = cls.__new__(cls)
        memory.device = resolve_device(device)
        memory.label_embedder = None
        memory._lock = threading.RLock()
        memory._parts = _read_parts(path, memory.device, None)
        memory.config = memory._parts.config
        memory._reset_caches()
        return memory


def _read_parts(path: str | os.PathLike, device: torch.device, label_embedder: LabelEmbedder | None) -> _Parts:
    """A complete memory state read from a file into fresh buffers; MemoryFileError on defects."""
    header, arrays = read_memory_file(path)
    try:
        config = MemoryConfig.from_dict(header["config"])
        parts = _Parts(config, device, label_embedder)
        for name, part in parts.components().items():
            if name == "lifecycle" and header["format_version"] < LIFECYCLE_FORMAT:
                continue  # saved before lifecycles: every object present, never moved
            prefix = f"{name}/"
            state = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            if name == "objects" and header["format_version"] < MASK_EVIDENCE_FORMAT:
                state["point_evidence"] = np.zeros(part.point_evidence.shape, dtype=np.float32)
            if name == "objects" and header["format_version"] < MISSED_VIEWS_FORMAT:
                state["missed_views"] = np.zeros(part.missed_views.shape, dtype=np.float32)
            if name == "objects" and header["format_version"] < JOINT_VIEWS_FORMAT:
                state["joint_views"] = np.zeros(part.joint_views.shape, dtype=np.int64)
            if name == "lifecycle" and header["format_version"] < FIRST_VIEW_FORMAT:
                state["first_view_frame"] = np.full(part.first_view_frame.shape, -1, dtype=np.int64)
                state["first_view_time"] = np.zeros(part.first_view_time.shape, dtype=np.float64)
            part.load_state(state, header["scalars"][name])
        if header["rng_device"] == device.type:  # generator states differ between cpu and cuda
            parts.generator.set_state(torch.from_numpy(np.ascontiguousarray(arrays["rng"], dtype=np.uint8)))
        parts.frame_count = int(header["frame_count"])
        width, height = header["image_size"]
        parts.image_size = (int(width), int(height))
        K = np.asarray(arrays["K"], dtype=np.float64)
        if K.shape != (3, 3):
            raise ValueError(f"K has shape {K.shape}")
        parts.K = K
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise MemoryFileError(f"memory file '{path}' is inconsistent: {err}") from err
    return parts


def _placements(rows: dict[str, np.ndarray], row: int, capacity: int) -> tuple[Placement, ...]:
    """A row's kept earlier placements, oldest first (a ring of `capacity` entries)."""
    count = int(rows["history_count"][row])
    out = []
    for i in range(max(0, count - capacity), count):
        j = i % capacity
        frames, times = rows["history_frames"][row, j], rows["history_times"][row, j]
        out.append(Placement(
            center=_readonly(rows["history_center"][row, j].astype(np.float64)),
            extent=_readonly(rows["history_extent"][row, j].astype(np.float64)),
            yaw=float(rows["history_yaw"][row, j]),
            first_frame=int(frames[0]), last_frame=int(frames[1]),
            first_time=float(times[0]), last_time=float(times[1]),
        ))
    return tuple(out)


def _readonly(array: np.ndarray) -> np.ndarray:
    """Snapshots share arrays between cached records: make accidental writes fail loudly."""
    array.setflags(write=False)
    return array


def _frozen(record):
    for value in vars(record).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return record
