"""From a Frame to filtered world points and per-instance detections (the front of `update`).

Subsampling: one pixel per pixel_stride x pixel_stride cell, the cell centre (row and column
stride//2 + k*stride), so a 640x480 image gives 160x120 samples. The filters look at the
full-resolution neighbours of each sample, which costs a few strided slices, not a full-image pass:

- flying pixels: a sample whose depth jumps by more than flying_pixel_ratio x depth to one of its
  4-neighbours lies on a depth edge, where sensors mix foreground and background;
- mask erosion: an instance sample is kept only if every pixel within mask_erosion px carries the
  same id (detector masks bleed over object edges onto the background);
- depth outliers: per instance, samples outside Tukey fences on depth (quartiles -/+
  depth_iqr_factor x IQR, at least depth_outlier_floor) are dropped;
- fragments: instances left with fewer than min_instance_points samples are ignored, and only the
  max_instances_per_frame largest instances are used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.frame import Frame
from reasmory_ros.memory.geometry import transform_points

UNKNOWN_LABEL = "unknown"
"""Category of an instance that has no entry in the frame's labels."""


@dataclass
class Observation:
    """One frame, filtered: every valid sample and the detections among them.

    points/colors/depths: (M, 3) world xyz float32 / (M, 3) uint8 rgb / (M,) camera depth (m) of
    all valid samples.
    Detection points are `points[det_point_index]`, grouped by detection (D detections):
    det_of (Pd,) detection index per detection point, det_counts (D,), det_labels (D,) label
    vocabulary index (-1: vocabulary full), det_aabb (D, 2, 3), det_samples (D, S, 3).
    """

    pose: torch.Tensor
    points: torch.Tensor
    colors: torch.Tensor
    depths: torch.Tensor
    det_point_index: torch.Tensor
    det_of: torch.Tensor
    det_counts: torch.Tensor
    det_labels: torch.Tensor
    det_aabb: torch.Tensor
    det_samples: torch.Tensor

    @property
    def num_detections(self) -> int:
        return int(self.det_counts.shape[0])


class Observer:
    """Turns frames into Observations on one device; caches the sample rays per camera."""

    def __init__(self, config: MemoryConfig, device: torch.device, generator: torch.Generator):
        self.config = config
        self.device = device
        self._generator = generator
        self._ray_key: tuple | None = None
        self._rays: torch.Tensor | None = None
        radius = config.mask_erosion
        self._erosion_offsets = [
            (dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)
            if (dy, dx) != (0, 0)
        ]

    def sample_grid(self, height: int, width: int) -> tuple[int, int, int]:
        """(offset, rows, cols) of the subsampling grid for an image size."""
        stride = self.config.pixel_stride
        offset = stride // 2
        return offset, (height - offset + stride - 1) // stride, (width - offset + stride - 1) // stride

    def _sample_rays(self, frame: Frame) -> torch.Tensor:
        """Camera-frame rays (rows*cols, 3) with z = 1 through the sample pixels."""
        key = (frame.height, frame.width, frame.K.tobytes())
        if key != self._ray_key:
            offset, rows, cols = self.sample_grid(frame.height, frame.width)
            stride = self.config.pixel_stride
            v = offset + stride * torch.arange(rows, dtype=torch.float64)
            u = offset + stride * torch.arange(cols, dtype=torch.float64)
            vv, uu = torch.meshgrid(v, u, indexing="ij")
            fx, fy, cx, cy = frame.K[0, 0], frame.K[1, 1], frame.K[0, 2], frame.K[1, 2]
            rays = torch.stack([(uu - cx) / fx, (vv - cy) / fy, torch.ones_like(uu)], dim=-1)
            self._rays = rays.reshape(-1, 3).to(device=self.device, dtype=torch.float32)
            self._ray_key = key
        return self._rays

    def _neighbours(self, padded: torch.Tensor, pad: int, dy: int, dx: int, shape) -> torch.Tensor:
        """Full-resolution neighbour at (dy, dx) of every sample, from a padded image."""
        offset, rows, cols = shape
        stride = self.config.pixel_stride
        start_y, start_x = pad + offset + dy, pad + offset + dx
        return padded[start_y::stride, start_x::stride][:rows, :cols]

    def observe(self, frame: Frame, label_index: Callable[[str], int]) -> Observation:
        cfg = self.config
        device = self.device
        stride = cfg.pixel_stride
        grid = self.sample_grid(frame.height, frame.width)
        offset, rows, cols = grid

        depth_full = torch.from_numpy(frame.depth).to(device)
        depth = depth_full[offset::stride, offset::stride]
        valid = (depth > cfg.min_depth) & (depth < cfg.max_depth)
        padded_depth = F.pad(depth_full[None, None], (1, 1, 1, 1))[0, 0]
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            neighbour = self._neighbours(padded_depth, 1, dy, dx, grid)
            jump = (neighbour - depth).abs() > cfg.flying_pixel_ratio * depth
            valid &= ~(jump & (neighbour > 0))
        flat_valid = valid.reshape(-1)
        sample_index = flat_valid.nonzero().squeeze(1)

        pose = torch.from_numpy(frame.T_world_camera).to(device)
        rays = self._sample_rays(frame)
        z = depth.reshape(-1)[sample_index]
        camera_points = rays[sample_index] * z[:, None]
        points = transform_points(pose.to(torch.float32), camera_points)
        rgb = torch.from_numpy(frame.rgb[offset::stride, offset::stride]).to(device)
        colors = rgb.reshape(-1, 3)[sample_index]

        empty = self._empty_detections(pose, points, colors, z)
        if frame.instances is None:
            return empty
        instances_full = torch.from_numpy(frame.instances).to(device)
        instances = instances_full[offset::stride, offset::stride]
        keep = (instances > 0) & valid
        if self._erosion_offsets:
            pad = cfg.mask_erosion
            padded = F.pad(instances_full[None, None].to(torch.float64), (pad,) * 4, value=-1.0)
            padded = padded[0, 0].to(torch.int64)
            for dy, dx in self._erosion_offsets:
                keep &= self._neighbours(padded, pad, dy, dx, grid) == instances
        instance_of_sample = torch.where(keep, instances, 0).reshape(-1)[sample_index]
        det_point_index = (instance_of_sample > 0).nonzero().squeeze(1)
        if det_point_index.numel() == 0:
            return empty
        return self._detections(
            frame, label_index, pose, points, colors, z, det_point_index,
            instance_of_sample[det_point_index],
        )

    def _empty_detections(self, pose, points, colors, depths) -> Observation:
        device, cfg = self.device, self.config
        return Observation(
            pose=pose, points=points, colors=colors, depths=depths,
            det_point_index=torch.zeros(0, dtype=torch.int64, device=device),
            det_of=torch.zeros(0, dtype=torch.int64, device=device),
            det_counts=torch.zeros(0, dtype=torch.int64, device=device),
            det_labels=torch.zeros(0, dtype=torch.int64, device=device),
            det_aabb=torch.zeros(0, 2, 3, device=device),
            det_samples=torch.zeros(0, cfg.association_samples, 3, device=device),
        )

    def _detections(self, frame, label_index, pose, points, colors, z, det_point_index, ids):
        """Group instance samples, drop depth outliers and fragments, summarise each detection."""
        cfg, device = self.config, self.device
        ids_unique, inverse, counts = torch.unique(ids, return_inverse=True, return_counts=True)
        if ids_unique.numel() > cfg.max_instances_per_frame:
            largest = counts.topk(cfg.max_instances_per_frame).indices
            kept = torch.zeros_like(counts, dtype=torch.bool)
            kept[largest] = True
            counts = torch.where(kept, counts, 0)
        # Sort by (instance, depth) once: quartiles are then plain gathers per segment.
        depth = z[det_point_index]
        order = torch.argsort(inverse.to(torch.float64) * (2.0 * cfg.max_depth) + depth.to(torch.float64))
        inverse, depth, det_point_index = inverse[order], depth[order], det_point_index[order]
        all_counts = torch.bincount(inverse, minlength=ids_unique.numel())
        starts = torch.cumsum(all_counts, 0) - all_counts
        last = (all_counts - 1).clamp(min=0)
        q1 = depth[starts + last // 4]
        q3 = depth[starts + (3 * last) // 4]
        margin = ((q3 - q1) * cfg.depth_iqr_factor).clamp(min=cfg.depth_outlier_floor)
        inlier = (depth >= (q1 - margin)[inverse]) & (depth <= (q3 + margin)[inverse])
        inlier &= counts[inverse] > 0
        kept_counts = torch.bincount(inverse[inlier], minlength=ids_unique.numel())
        good = kept_counts >= cfg.min_instance_points
        point_kept = inlier & good[inverse]
        det_index_of_instance = torch.cumsum(good.to(torch.int64), 0) - 1
        det_point_index = det_point_index[point_kept]
        det_of = det_index_of_instance[inverse[point_kept]]
        det_counts = kept_counts[good]
        num = int(det_counts.shape[0])
        if num == 0:
            return self._empty_detections(pose, points, colors, z)

        labels = [label_index(frame.labels.get(int(i), UNKNOWN_LABEL)) for i in ids_unique[good].tolist()]
        det_labels = torch.tensor(labels, dtype=torch.int64, device=device)
        det_points = points[det_point_index]
        index = det_of[:, None].expand(-1, 3)
        lo = torch.full((num, 3), np.inf, device=device).scatter_reduce(0, index, det_points, "amin")
        hi = torch.full((num, 3), -np.inf, device=device).scatter_reduce(0, index, det_points, "amax")
        det_starts = torch.cumsum(det_counts, 0) - det_counts
        uniform = torch.rand(num, cfg.association_samples, device=device, generator=self._generator)
        pick = det_starts[:, None] + (uniform * det_counts[:, None]).to(torch.int64)
        return Observation(
            pose=pose, points=points, colors=colors, depths=z, det_point_index=det_point_index,
            det_of=det_of,
            det_counts=det_counts, det_labels=det_labels, det_aabb=torch.stack([lo, hi], dim=1),
            det_samples=det_points[pick],
        )
