"""Keyframe store: a fixed number of small views chosen for coverage of poses and objects.

View distance between two cameras = translation / keyframe_translation + angle between optical
axes / keyframe_rotation. A frame becomes a keyframe when it is at least one unit away from every
keyframe, or when it shows an object that no keyframe shows yet. When the store is full, the most
redundant view leaves: the one (the new frame included) whose two nearest views are closest (sum
of the two smallest distances), so the kept set stays spread over the poses seen.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.frame import Frame
from reasmory_ros.memory.geometry import rotation_angle_between
from reasmory_ros.memory.state import StateBuffers, rename_ids


class KeyframeStore(StateBuffers):
    def __init__(self, config: MemoryConfig, device: torch.device):
        k, h, w = config.max_keyframes, config.keyframe_height, config.keyframe_width
        self.config = config
        self.device = device
        self._pixel_key: tuple[int, int] | None = None
        self._pixel_index: torch.Tensor | None = None
        self.active = torch.zeros(k, dtype=torch.bool, device=device)
        self.rgb = torch.zeros(k, h, w, 3, dtype=torch.uint8, device=device)
        self.depth = torch.zeros(k, h, w, dtype=torch.float32, device=device)
        self.poses = torch.eye(4, dtype=torch.float64, device=device).repeat(k, 1, 1)
        self.intrinsics = torch.eye(3, dtype=torch.float64, device=device).repeat(k, 1, 1)
        self.frame_index = torch.full((k,), -1, dtype=torch.int64, device=device)
        self.timestamp = torch.zeros(k, dtype=torch.float64, device=device)
        self.object_ids = torch.full((k, config.keyframe_objects), -1, dtype=torch.int64, device=device)
        self.object_samples = torch.zeros(k, config.keyframe_objects, dtype=torch.int64, device=device)
        self.version = torch.zeros(k, dtype=torch.int64, device=device)
        self.distance = torch.full((k, k), float("inf"), dtype=torch.float64, device=device)
        """View distance between stored keyframes (inf where a slot is empty or on the diagonal),
        kept up to date on every store so that a decision costs one row, not a K x K matrix."""

    def _view_distance(self, pose: torch.Tensor) -> torch.Tensor:
        """View distance (K,) in novelty units from `pose` to every slot (inf for empty slots)."""
        cfg = self.config
        translation = (self.poses[:, :3, 3] - pose[:3, 3]).norm(dim=-1)
        angle = rotation_angle_between(self.poses[:, :3, :3], pose[:3, :3])
        distance = translation / cfg.keyframe_translation + angle / math.radians(cfg.keyframe_rotation)
        return distance.masked_fill(~self.active, float("inf"))

    def consider(self, pose: torch.Tensor, shows_new_object: bool) -> tuple[int, int] | None:
        """Decide whether the frame becomes a keyframe; returns (slot, dropped frame index or -1)."""
        to_new = self._view_distance(pose)
        if not (shows_new_object or bool(to_new.min() >= 1.0)):
            return None
        free = (~self.active).nonzero()
        if free.numel():
            return int(free[0]), -1
        # Redundancy of each view: the sum of its two smallest distances, the new one included.
        existing = torch.cat([self.distance, to_new[:, None]], dim=1).topk(2, dim=1, largest=False)
        redundancy = existing.values.sum(dim=1)
        new_redundancy = to_new.topk(2, largest=False).values.sum()
        slot = int(redundancy.argmin())
        if not shows_new_object and bool(new_redundancy <= redundancy[slot]):
            return None
        return slot, int(self.frame_index[slot])

    def store(
        self, slot: int, frame: Frame, pose: torch.Tensor, object_ids: torch.Tensor, samples: torch.Tensor
    ) -> None:
        """Write a downsampled copy of the frame (nearest pixel) with its camera into `slot`."""
        cfg = self.config
        self.active[slot] = False
        to_new = self._view_distance(pose)
        self.distance[slot] = to_new
        self.distance[:, slot] = to_new
        h, w = cfg.keyframe_height, cfg.keyframe_width
        pixels = self._pixels(frame.height, frame.width)
        rgb = torch.from_numpy(np.ascontiguousarray(frame.rgb)).to(self.device).view(-1, 3)
        self.rgb[slot] = rgb.index_select(0, pixels).view(h, w, 3)
        depth = torch.from_numpy(frame.depth).to(self.device).view(-1)
        self.depth[slot] = depth.index_select(0, pixels).view(h, w)
        self.intrinsics[slot] = torch.from_numpy(self._intrinsics(frame)).to(self.device)
        self.poses[slot] = pose
        self.frame_index[slot] = frame.index
        self.timestamp[slot] = frame.timestamp
        count = min(object_ids.numel(), cfg.keyframe_objects)
        order = samples.argsort(descending=True)[:count]
        self.object_ids[slot] = -1
        self.object_samples[slot] = 0
        self.object_ids[slot, :count] = object_ids[order]
        self.object_samples[slot, :count] = samples[order]
        self.active[slot] = True
        self.version[slot] += 1

    def _intrinsics(self, frame: Frame) -> np.ndarray:
        """K of the downsampled image: the line through the source pixels actually sampled
        (floor((i + 0.5) * W / w)), so a keyframe pixel's ray is that of its source pixel. (The
        pixel-centre convention (c + 0.5) * w / W - 0.5 puts every ray half a source pixel off for
        a 2:1 reduction: 5 mm at 3 m for 320 -> 160 pixels, enough to bias an alignment of depth
        to keyframes.)"""
        K = frame.K.copy()
        for axis, (size, source) in enumerate(((self.config.keyframe_width, frame.width),
                                              (self.config.keyframe_height, frame.height))):
            slope, offset = _sampling_line(size, source)
            K[axis, axis] /= slope
            K[axis, 2] = (K[axis, 2] - offset) / slope
        return K

    def _pixels(self, height: int, width: int) -> torch.Tensor:
        """Flat index of the source pixel (nearest) of every keyframe pixel, cached per size."""
        if self._pixel_key != (height, width):
            h, w = self.config.keyframe_height, self.config.keyframe_width
            rows = ((torch.arange(h) + 0.5) * height / h).to(torch.int64)
            cols = ((torch.arange(w) + 0.5) * width / w).to(torch.int64)
            self._pixel_index = (rows[:, None] * width + cols[None, :]).reshape(-1).to(self.device)
            self._pixel_key = (height, width)
        return self._pixel_index

    def views(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(frame index, object ids, samples) of the active keyframes, for best-view lookups."""
        active = self.active[:, None]
        return (
            self.frame_index,
            torch.where(active, self.object_ids, -1),
            torch.where(active, self.object_samples, 0),
        )

    def rename_objects(self, old_ids: torch.Tensor, new_ids: torch.Tensor) -> None:
        """Follow merges (old -> new) and evictions (new = -1) in the stored object lists."""
        if old_ids.numel() == 0:
            return
        before = self.object_ids.clone()
        rename_ids(self.object_ids, old_ids, new_ids)
        self.object_samples.masked_fill_(self.object_ids < 0, 0)
        self.version += (before != self.object_ids).any(-1)


@functools.cache
def _sampling_line(size: int, source: int) -> tuple[float, float]:
    """Slope and offset of the line through the source pixels that `size` nearest-pixel samples of
    `source` pixels take (a least-squares fit, cached: it is the same for every keyframe)."""
    index = np.arange(size)
    slope, offset = np.polyfit(index, np.floor((index + 0.5) * source / size), 1)
    return float(slope), float(offset)
