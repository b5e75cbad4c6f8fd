"""Working memory: a ring of the last working_window frames' sampled points.

Each slot keeps up to working_points points (world xyz, rgb, and the id of the memory object each
point was associated with, -1 for none: raw instance ids mean nothing outside their frame), with
the frame's pose, time and index. Frames with more valid samples keep an evenly strided subset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.state import StateBuffers


@dataclass(frozen=True)
class WorkingFrame:
    """One recent frame's sampled points: world xyz (n, 3), rgb (n, 3), memory object id (n,)."""

    frame_index: int
    timestamp: float
    T_world_camera: np.ndarray
    points: np.ndarray
    colors: np.ndarray
    object_ids: np.ndarray


class WorkingMemory(StateBuffers):
    SCALARS = ("written",)

    def __init__(self, config: MemoryConfig, device: torch.device):
        w, p = config.working_window, config.working_points
        self.config = config
        self.written = 0
        self.points = torch.zeros(w, p, 3, dtype=torch.float32, device=device)
        self.colors = torch.zeros(w, p, 3, dtype=torch.uint8, device=device)
        self.object_ids = torch.full((w, p), -1, dtype=torch.int64, device=device)
        self.counts = torch.zeros(w, dtype=torch.int64, device=device)
        self.poses = torch.eye(4, dtype=torch.float64, device=device).repeat(w, 1, 1)
        self.timestamps = torch.zeros(w, dtype=torch.float64, device=device)
        self.frame_indices = torch.full((w,), -1, dtype=torch.int64, device=device)

    def push(self, points, colors, object_ids, pose, timestamp: float, frame_index: int) -> None:
        slot = self.written % self.config.working_window
        capacity = self.config.working_points
        n = points.shape[0]
        if n > capacity:
            keep = torch.arange(capacity, device=points.device) * n // capacity
            points, colors, object_ids = points[keep], colors[keep], object_ids[keep]
            n = capacity
        self.points[slot, :n] = points
        self.colors[slot, :n] = colors
        self.object_ids[slot, :n] = object_ids
        self.counts[slot] = n
        self.poses[slot] = pose
        self.timestamps[slot] = timestamp
        self.frame_indices[slot] = frame_index
        self.written += 1

    def export(self, live_ids: torch.Tensor) -> tuple[WorkingFrame, ...]:
        """The frames in the window, oldest first, as numpy copies.

        Object ids are those assigned when each frame was integrated; ids no longer in `live_ids`
        (merged away or evicted since) read -1. Renaming the whole window on every merge or
        eviction would cost a full pass per event, which the fixed per-frame budget avoids.
        """
        w = self.config.working_window
        slots = [(self.written - n) % w for n in range(min(self.written, w), 0, -1)]
        frames = []
        for slot in slots:
            n = int(self.counts[slot])
            frames.append(WorkingFrame(
                frame_index=int(self.frame_indices[slot]),
                timestamp=float(self.timestamps[slot]),
                T_world_camera=self.poses[slot].cpu().numpy(),
                points=self.points[slot, :n].cpu().numpy(),
                colors=self.colors[slot, :n].cpu().numpy(),
                object_ids=torch.where(
                    torch.isin(self.object_ids[slot, :n], live_ids), self.object_ids[slot, :n], -1
                ).cpu().numpy(),
            ))
        return tuple(frames)
