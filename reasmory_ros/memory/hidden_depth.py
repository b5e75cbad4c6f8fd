"""Hidden depth: the box of an object seen from one side reaches back to the wall behind it.

A cabinet, a refrigerator or a nightstand against a wall is seen only from the room: its front,
and as much of its top as a camera at head height reaches at a grazing angle. Its points end
where the views end, so its box came out 17-53 % too thin and its centre 15-27 cm in front of
the true one. What lies behind the visible back is unknown, not empty, and the memory holds what
bounds it: the scene map's voxels (the wall beside and above the object) and the keyframes'
depth (space seen through is empty). For each object every one of whose keyframe views lies in
front of its back face (the far face of its shorter horizontal axis):

1. **The wall.** Layers one scene voxel apart behind the back face are looked up in the scene
   map, in a ring beside and above the object (its own column is hidden behind it) that starts
   `_SUPPORT_CLEARANCE` above its bottom (the floor or the table it stands on fills every layer).
   The first pair of layers that fills `_WALL_SHARE` of the ring is the wall; a wall parallel to
   the axis fills one column of every layer and does not count. No wall within reach, or one
   within a voxel (a door in the wall, a shelf flush with it: the back already is the wall, up
   to the map's resolution): no change.
2. **Free space.** A grid of probes on each layer before the wall, inside the object's column, is
   tested against every keyframe's depth (absence.see_through). A layer with `_FREE_SHARE` of
   its probes seen through is empty: there is a gap between the object and the wall, how deep
   the object is stays unknown, and its box stays as seen.
3. **At most square.** Otherwise the box reaches back to the wall, but its depth never exceeds
   its length: an object seen from the front shows its whole width, and a round one (a bottle, a
   vase) hides a half as deep as the visible half is wide.

The work is bounded by the shapes (layers per object by its size, probes per layer, keyframes):
it runs when a snapshot is built, not per frame, and changes nothing the memory itself matches
with. The layers are looked up a few at a time, so an object against its wall stops after the
first round instead of paying for every layer within reach.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from reasmory_ros.memory.absence import see_through
from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.keyframes import KeyframeStore
from reasmory_ros.memory.scene_map import VoxelMap
from reasmory_ros.memory.snapshot import ObjectRecord

_RING = 0.3
"""How far beside and above the object (m) the wall behind it is looked for."""
_SUPPORT_CLEARANCE = 0.15
"""The ring starts this far above the object's bottom (m): the surface it stands on is no wall."""
_WALL_SHARE = 0.25
"""Share of the ring's cells a pair of layers must fill to be the wall."""
_FREE_SHARE = 0.3
"""Share of a layer's probes seen through that makes the layer empty."""
_MIN_DEPTH = 0.01
"""Hidden depths below this (m) are left alone."""
_PROBES = 5
"""Probes per layer along the width and the height of the object's column (5 x 5)."""
_LAYERS_PER_ROUND = 4
"""Layers looked up per round of the wall search (one batch for all objects still searching)."""


@dataclasses.dataclass(frozen=True)
class _Reach:
    """Where to look behind one object: `back` (2,) is the unit vector away from its views along
    its width axis, `side` the unit vector along its length; layers at `offsets` (S,) behind the
    back face."""

    record: ObjectRecord
    back: np.ndarray
    side: np.ndarray
    offsets: np.ndarray


def complete_hidden_depth(
    records: tuple[ObjectRecord, ...], keyframes: KeyframeStore, scene_map: VoxelMap, config: MemoryConfig
) -> tuple[ObjectRecord, ...]:
    """The records with boxes reaching back to the wall behind them where their back was never
    seen (see the module docstring); `hidden_depth` says by how much. The walls are looked for
    _LAYERS_PER_ROUND layers at a time, every object still without one in one batch (most
    objects stand within a few layers of their wall), then every probe before a wall in one."""
    step = config.voxel_size
    active = keyframes.active.cpu().numpy()
    shown = keyframes.object_ids.cpu().numpy()[active]
    cameras = keyframes.poses[:, :2, 3].cpu().numpy()[active]
    reaches = [reach for reach in (_reach(r, shown, cameras, step) for r in records) if reach]
    walls = [(reach, wall) for reach, wall in zip(reaches, _walls(reaches, scene_map, config)) if wall >= step]
    if not walls:  # nearer than a voxel: the back is at the wall
        return records

    columns = [_column_probes(reach, int(np.searchsorted(reach.offsets, wall))) for reach, wall in walls]
    seen = np.split(_seen_through(np.concatenate(columns), keyframes, config), np.cumsum([len(c) for c in columns])[:-1])
    completed = {}
    for (reach, wall), through in zip(walls, seen):
        if (through.reshape(-1, _PROBES * _PROBES).mean(axis=1) >= _FREE_SHARE).any():
            continue  # space seen empty before the wall: the object does not stand against it
        record = reach.record
        completed[record.id] = _extended(record, reach.back, min(wall, float(record.extent[0] - record.extent[1])))
    return tuple(completed.get(record.id, record) for record in records)


def _reach(record: ObjectRecord, shown: np.ndarray, cameras: np.ndarray, step: float) -> _Reach | None:
    """Whether (and where) to look behind an object: its width must be short of its length (its
    depth may grow up to that), and its keyframe views (object ids `shown` (K, n) and camera
    positions `cameras` (K, 2) of the active keyframes) must all lie in front of its back face.
    The layers reach as far behind it as it is long or high."""
    length, width, height = (float(e) for e in record.extent)
    if length - width < _MIN_DEPTH:
        return None
    shows = (shown == record.id).any(axis=1)
    if not shows.any():
        return None
    cameras = cameras[shows] - record.center[:2]
    c, s = math.cos(record.yaw), math.sin(record.yaw)
    side, across = np.array([c, s]), np.array([-s, c])
    back = -across if float((cameras @ across).mean()) > 0 else across
    if bool(((cameras @ back) > -width / 2).any()):
        return None
    layers = math.ceil(max(length, height) / step)
    return _Reach(record, back, side, (np.arange(layers) + 0.5) * step)


def _walls(reaches: list[_Reach], scene_map: VoxelMap, config: MemoryConfig) -> list[float]:
    """Distance (m) from each object's back face to the wall behind it (see _wall), 0 without one."""
    step = config.voxel_size
    rings = [_ring(reach, step) for reach in reaches]
    walls = [0.0] * len(reaches)
    pending = [i for i, (along, _) in enumerate(rings) if along.size]
    start = 0
    while pending:
        # Each round's layers and the next one: a wall is a pair of filled layers.
        layers = [_layer_points(reaches[i], *rings[i], slice(start, start + _LAYERS_PER_ROUND + 1)) for i in pending]
        hits = scene_map.occupied(np.concatenate([layer.reshape(-1, 3) for layer in layers]), config.min_voxel_hits)
        hits = np.split(hits.cpu().numpy(), np.cumsum([layer.shape[0] * layer.shape[1] for layer in layers])[:-1])
        still = []
        for i, layer, occupied in zip(pending, layers, hits):
            last = start + layer.shape[0] >= len(reaches[i].offsets)
            wall = _wall(reaches[i], layer, occupied.reshape(layer.shape[:2]), step, last)
            if wall is None and not last:
                still.append(i)
            walls[i] = wall or 0.0
        pending, start = still, start + _LAYERS_PER_ROUND
    return walls


def _ring(reach: _Reach, step: float) -> tuple[np.ndarray, np.ndarray]:
    """(along, z) of the ring's cells beside and above the object's column, each (P,)."""
    record = reach.record
    half_length = record.extent[0] / 2
    bottom, top = record.center[2] - record.extent[2] / 2, record.center[2] + record.extent[2] / 2
    along = np.arange(-(half_length + _RING), half_length + _RING + step / 2, step)
    heights = np.arange(bottom + _SUPPORT_CLEARANCE, top + _RING + step / 2, step)
    a, z = np.meshgrid(along, heights, indexing="ij")
    ring = (np.abs(a) > half_length + step) | (z > top + step)
    return a[ring], z[ring]


def _wall(reach: _Reach, ring: np.ndarray, occupied: np.ndarray, step: float, last: bool) -> float | None:
    """Distance (m) from the back face to the first pair of layers whose ring is filled
    (_WALL_SHARE), measured at the centres of its voxels (the layers themselves are a voxel
    apart: up to half a voxel off); None without one. ring (L, P, 3) and occupied (L, P) are
    consecutive layers; unless they are the `last` ones, the final layer only completes the
    pair before it."""
    pairs = occupied | np.concatenate([occupied[1:], np.zeros_like(occupied[:1])])
    walls = np.flatnonzero(pairs[: len(pairs) if last else len(pairs) - 1].mean(axis=1) >= _WALL_SHARE)
    if walls.size == 0:
        return None
    first = walls[0]
    voxels = np.floor(ring[first:first + 2][occupied[first:first + 2]] / step)
    behind = ((voxels[:, :2] + 0.5) * step - reach.record.center[:2]) @ reach.back
    return float(np.median(behind)) - reach.record.extent[1] / 2


def _column_probes(reach: _Reach, layers: int) -> np.ndarray:
    """(layers * _PROBES^2, 3) probes inside the object's column on its first `layers` layers."""
    record = reach.record
    fraction = (np.arange(_PROBES) + 0.5) / _PROBES - 0.5
    a, z = np.meshgrid(fraction * record.extent[0], record.center[2] + fraction * record.extent[2], indexing="ij")
    return _layer_points(reach, a.ravel(), z.ravel(), slice(0, layers)).reshape(-1, 3)


def _layer_points(reach: _Reach, along: np.ndarray, z: np.ndarray, layers: slice) -> np.ndarray:
    """World points (L, P, 3): the (along, z) pattern (P,) repeated on the `layers` behind the
    back face."""
    depth = reach.record.extent[1] / 2 + reach.offsets[layers, None]
    xy = reach.record.center[:2] + depth[..., None] * reach.back + along[None, :, None] * reach.side
    heights = np.broadcast_to(z, depth.shape[:1] + z.shape)
    return np.concatenate([xy, heights[..., None]], axis=-1)


def _seen_through(points: np.ndarray, keyframes: KeyframeStore, config: MemoryConfig) -> np.ndarray:
    """(P,) whether any keyframe's depth sees through each world point (P, 3)."""
    slots = keyframes.active.nonzero().squeeze(1)
    if len(points) == 0 or slots.numel() == 0:
        return np.zeros(len(points), dtype=bool)
    batch = torch.from_numpy(points.astype(np.float32)).to(keyframes.depth.device)[None].expand(slots.numel(), -1, -1)
    valid = torch.ones(batch.shape[:2], dtype=torch.bool, device=batch.device)
    evidence = see_through(
        batch, valid, keyframes.poses[slots], keyframes.intrinsics[slots], keyframes.depth, slots, config
    )
    return evidence.through.any(dim=0).cpu().numpy()


def _extended(record: ObjectRecord, back: np.ndarray, depth: float) -> ObjectRecord:
    extent = record.extent.copy()
    extent[1] += depth
    center = record.center.copy()
    center[:2] += back * depth / 2
    extent.flags.writeable = center.flags.writeable = False
    return dataclasses.replace(record, center=center, extent=extent, hidden_depth=depth)
