"""Bounded scene map: a set-associative voxel hash with a fixed number of slots.

Each voxel (voxel_size) hashes to one bucket of map_ways slots. A slot holds the voxel key, the
number of frames it was observed in (hits), a running colour and the frame it was last observed.
A voxel already in its bucket is updated in place; a new voxel takes an empty slot of its bucket,
else replaces the slot *least recently observed* (never one observed in the same frame). So the
map never grows or rehashes, and once the world seen exceeds its capacity it forgets the places
not seen for the longest time, bucket by bucket.

Why not a dense (toroidal) grid: at 5 cm, a 12.8 x 12.8 x 3.2 m window is 4.2 M cells and listing
its occupied cells for a snapshot took ~30 ms here; the hash lists 262 k slots in ~2 ms and
covers any extent.
"""

from __future__ import annotations

import numpy as np
import torch

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.geometry import hash_keys, unique_keys, voxel_centers, voxel_keys
from reasmory_ros.memory.snapshot import SceneMap
from reasmory_ros.memory.state import StateBuffers

_COLOUR_HISTORY = 15
"""Colour is a running mean over at most this many observations (then it follows changes)."""


class VoxelMap(StateBuffers):
    def __init__(self, config: MemoryConfig, device: torch.device):
        self.config = config
        self.device = device
        self.buckets = config.map_capacity // config.map_ways
        shape = (self.buckets, config.map_ways)
        self.keys = torch.full(shape, -1, dtype=torch.int64, device=device)
        self.hits = torch.zeros(shape, dtype=torch.int32, device=device)
        self.colors = torch.zeros(*shape, 3, dtype=torch.uint8, device=device)
        self.last_seen = torch.full(shape, -1, dtype=torch.int64, device=device)
        self.centers = torch.zeros(*shape, 3, dtype=torch.float32, device=device)
        """Centre of each slot's voxel, written when the voxel moves in: exports only gather."""

    def integrate(self, points: torch.Tensor, colors: torch.Tensor, ordinal: int) -> int:
        """Add one frame's points; returns how many new voxels found no slot (bucket all fresh)."""
        if points.shape[0] == 0:
            return 0
        ways = self.config.map_ways
        keys, inverse = unique_keys(voxel_keys(points, self.config.voxel_size))
        # Colour sums and sample counts per voxel in one pass: rows (r, g, b, 1).
        sums = torch.zeros(keys.shape[0], 4, device=self.device).index_add_(
            0, inverse, torch.cat([colors.to(torch.float32), torch.ones_like(colors[:, :1], dtype=torch.float32)], 1)
        )
        colour = sums[:, :3] / sums[:, 3:]
        bucket, match = self._find(keys)
        slot_keys, hits, rgb, last_seen = (
            self.keys.view(-1), self.hits.view(-1), self.colors.view(-1, 3), self.last_seen.view(-1)
        )
        # A key sits in at most one way of its bucket: each (key, way) match is one known voxel's slot.
        found, way = match.nonzero().unbind(1)
        slot = bucket.index_select(0, found) * ways + way
        known = torch.zeros_like(bucket, dtype=torch.bool).index_fill_(0, found, True)
        seen = hits.index_select(0, slot)
        weight = seen.clamp(max=_COLOUR_HISTORY).to(torch.float32)[:, None]
        blended = (rgb.index_select(0, slot).to(torch.float32) * weight + colour.index_select(0, found))
        rgb.index_copy_(0, slot, (blended / (weight + 1)).round_().to(torch.uint8))
        hits.index_copy_(0, slot, seen + 1)
        last_seen.index_fill_(0, slot, ordinal)

        fresh = (~known).nonzero().squeeze(1)
        if fresh.numel() == 0:
            return 0
        # Several new voxels can share a bucket: the r-th of them takes the r-th victim slot.
        b_new, order = torch.sort(bucket.index_select(0, fresh), stable=True)
        fresh = fresh.index_select(0, order)
        position = torch.arange(b_new.numel(), device=self.device)
        starts = torch.ones_like(b_new, dtype=torch.bool)
        starts[1:] = b_new[1:] != b_new[:-1]
        rank = position - torch.cummax(torch.where(starts, position, 0), dim=0).values
        age = self.last_seen.index_select(0, b_new)
        victim = age.argsort(dim=1, stable=True).gather(1, rank.clamp(max=ways - 1)[:, None]).squeeze(1)
        placed = (rank < ways) & (age.gather(1, victim[:, None]).squeeze(1) < ordinal)
        kept = placed.nonzero().squeeze(1)
        slot = (b_new * ways + victim).index_select(0, kept)
        new_keys = keys.index_select(0, fresh.index_select(0, kept))
        slot_keys.index_copy_(0, slot, new_keys)
        self.centers.view(-1, 3).index_copy_(0, slot, voxel_centers(new_keys, self.config.voxel_size))
        hits.index_fill_(0, slot, 1)
        rgb.index_copy_(0, slot, colour.index_select(0, fresh.index_select(0, kept)).round_().to(torch.uint8))
        last_seen.index_fill_(0, slot, ordinal)
        return int((~placed).sum())

    def occupied(self, points: np.ndarray, min_hits: int) -> torch.Tensor:
        """(N,) whether the voxel of each point (N, 3) is in the map, observed in at least
        `min_hits` frames (the export's criterion)."""
        keys = voxel_keys(torch.from_numpy(np.asarray(points, np.float32)).to(self.device), self.config.voxel_size)
        bucket, match = self._find(keys)
        return (match & (self.hits.index_select(0, bucket) >= min_hits)).any(dim=1)

    def _find(self, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The bucket of each voxel key (N,) and which of its slots hold the key (N, map_ways)."""
        bucket = hash_keys(keys, self.buckets)
        return bucket, self.keys.index_select(0, bucket) == keys[:, None]

    def export(self) -> SceneMap:
        """Voxels observed in at least min_voxel_hits frames: centres and colours (numpy)."""
        occupied = (self.hits.view(-1) >= self.config.min_voxel_hits).nonzero().squeeze(1)
        centres = self.centers.view(-1, 3).index_select(0, occupied)
        colours = self.colors.view(-1, 3).index_select(0, occupied)
        return SceneMap(centres.cpu().numpy(), colours.cpu().numpy(), self.config.voxel_size)
