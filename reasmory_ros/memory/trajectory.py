"""Trajectory store: every frame's pose in a fixed buffer, thinned by halving when full.

Entries are kept for frame ordinals (0, 1, 2, ... in update order) that are multiples of `stride`.
When all trajectory_capacity entries are used, every other entry is dropped (the first one stays)
and the stride doubles, so the store always spans the whole stream with evenly spaced poses at a
resolution of stride frames. The newest frame is always kept beside the store, so the first and the
last pose are always present. The distance travelled is summed over *every* frame, so it stays
exact after thinning.
"""

from __future__ import annotations

import numpy as np
import torch

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.snapshot import Trajectory
from reasmory_ros.memory.state import StateBuffers


class TrajectoryStore(StateBuffers):
    SCALARS = ("count", "stride", "ordinal")

    def __init__(self, config: MemoryConfig, device: torch.device):
        capacity = config.trajectory_capacity
        self.capacity = capacity
        self.count = 0
        self.stride = 1
        self.ordinal = 0
        f64 = dict(dtype=torch.float64, device=device)
        self.poses = torch.eye(4, **f64).repeat(capacity, 1, 1)
        self.timestamps = torch.zeros(capacity, **f64)
        self.frame_indices = torch.zeros(capacity, dtype=torch.int64, device=device)
        self.distances = torch.zeros(capacity, **f64)
        self.last_pose = torch.eye(4, **f64)
        self.last_timestamp = torch.zeros((), **f64)
        self.last_frame_index = torch.zeros((), dtype=torch.int64, device=device)
        self.last_distance = torch.zeros((), **f64)

    def load_state(self, arrays, scalars) -> None:
        super().load_state(arrays, scalars)
        stride = self.stride
        if not (0 <= self.count <= self.capacity and stride >= 1 and stride & (stride - 1) == 0
                and self.ordinal >= self.count):
            raise ValueError(f"trajectory counters out of range: {self.scalars()}")

    def append(self, pose: torch.Tensor, timestamp: float, frame_index: int) -> None:
        if self.ordinal > 0:
            self.last_distance += (pose[:3, 3] - self.last_pose[:3, 3]).norm()
        self.last_pose.copy_(pose)
        self.last_timestamp.fill_(timestamp)
        self.last_frame_index.fill_(frame_index)
        if self.ordinal % self.stride == 0 and self.count == self.capacity:
            self._thin()
        if self.ordinal % self.stride == 0:
            i = self.count
            self.poses[i] = pose
            self.timestamps[i] = timestamp
            self.frame_indices[i] = frame_index
            self.distances[i] = self.last_distance
            self.count += 1
        self.ordinal += 1

    def _thin(self) -> None:
        """Keep entries 0, 2, 4, ... in place; the stride doubles."""
        half = self.capacity // 2
        for buffer in (self.poses, self.timestamps, self.frame_indices, self.distances):
            buffer[:half] = buffer[0::2].clone()
        self.count = half
        self.stride *= 2

    def export(self) -> Trajectory:
        n = self.count
        latest_stored = n > 0 and (self.ordinal - 1) % self.stride == 0
        parts = [
            self.frame_indices[:n], self.timestamps[:n], self.poses[:n], self.distances[:n],
        ]
        frames, times, poses, distances = (p.cpu().numpy() for p in parts)
        if self.ordinal > 0 and not latest_stored:
            frames = np.append(frames, int(self.last_frame_index))
            times = np.append(times, float(self.last_timestamp))
            poses = np.concatenate([poses, self.last_pose.cpu().numpy()[None]])
            distances = np.append(distances, float(self.last_distance))
        return Trajectory(
            frame_indices=frames, timestamps=times, poses=poses, cumulative_distance=distances
        )
