"""From a Frame to filtered world points and per-instance detections (the front of `update`).

Subsampling: one pixel per pixel_stride x pixel_stride cell, the cell centre (row and column
stride//2 + k*stride), so a 640x480 image gives 160x120 samples. The filters look at the
full-resolution neighbours of each sample through cached flat pixel indices, which costs a few
gathers, not a full-image pass:

- flying pixels: a sample whose depth jumps by more than flying_pixel_ratio x depth to one of its
  4-neighbours lies on a depth edge, where sensors mix foreground and background;
- mask erosion: an instance sample is kept only if every pixel within mask_erosion px carries the
  same id (detector masks bleed over object edges onto the background);
- depth edges: per instance, the sorted depths are cut where consecutive samples are further
  apart than max(depth_edge_gap, depth_edge_ratio x depth); the nearest piece holding at least
  depth_edge_share of the samples is the object, the rest lies across a depth discontinuity from
  it (a mask that bled onto the background behind the object, flying points);
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
    camera: torch.Tensor | None = None
    """(3, 3) float32 intrinsics of the sample grid: world points project to grid cells."""
    grid_det: torch.Tensor | None = None
    """(Hs, Ws) int64 detection index of each grid sample, -1 for none."""
    grid_depth: torch.Tensor | None = None
    """(Hs, Ws) float32 depth of each grid sample, 0 where invalid."""

    @property
    def num_detections(self) -> int:
        return int(self.det_counts.shape[0])


@dataclass
class _SampleGrid:
    """Per camera (size + K): rays and flat pixel indices of the samples and their neighbours."""

    key: tuple
    shape: tuple[int, int]  # (Hs, Ws) samples
    camera: torch.Tensor  # (3, 3) intrinsics in sample-grid cells
    rays: torch.Tensor  # (S, 3) camera rays with z = 1
    centre: torch.Tensor  # (S,) flat index of each sample pixel
    # Neighbours along dim 0, samples along dim 1: elementwise work over (4, S) runs along the
    # samples (over (S, 4) it ran along four neighbours and took three times as long).
    edge_neighbours: torch.Tensor  # (4, S) flat index of the 4-neighbours (clamped at borders)
    mask_neighbours: torch.Tensor  # (E, S) flat index of the pixels within mask_erosion


class Observer:
    """Turns frames into Observations on one device; caches the sample grid per camera."""

    def __init__(self, config: MemoryConfig, device: torch.device, generator: torch.Generator):
        self.config = config
        self.device = device
        self._generator = generator
        self._grid: _SampleGrid | None = None

    def _sample_grid(self, frame: Frame) -> _SampleGrid:
        key = (frame.height, frame.width, frame.K.tobytes())
        if self._grid is None or self._grid.key != key:
            stride, radius = self.config.pixel_stride, self.config.mask_erosion
            height, width = frame.height, frame.width
            v = torch.arange(stride // 2, height, stride)
            u = torch.arange(stride // 2, width, stride)
            vv, uu = (t.reshape(-1) for t in torch.meshgrid(v, u, indexing="ij"))

            def flat(dy: int, dx: int) -> torch.Tensor:
                return (vv + dy).clamp(0, height - 1) * width + (uu + dx).clamp(0, width - 1)

            square = [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]
            fx, fy, cx, cy = frame.K[0, 0], frame.K[1, 1], frame.K[0, 2], frame.K[1, 2]
            ones = torch.ones(vv.shape, dtype=torch.float64)
            rays = torch.stack([(uu - cx) / fx, (vv - cy) / fy, ones], -1)
            around = [flat(dy, dx) for dy, dx in square if (dy, dx) != (0, 0)] or [flat(0, 0)]
            to_grid = np.array([[1 / stride, 0, -(stride // 2) / stride], [0, 1 / stride, -(stride // 2) / stride], [0, 0, 1]])
            self._grid = _SampleGrid(
                key=key,
                shape=(len(v), len(u)),
                camera=torch.as_tensor(to_grid @ frame.K, dtype=torch.float32, device=self.device),
                rays=rays.to(device=self.device, dtype=torch.float32),
                centre=flat(0, 0).to(self.device),
                edge_neighbours=torch.stack([flat(-1, 0), flat(1, 0), flat(0, -1), flat(0, 1)]).to(self.device),
                mask_neighbours=torch.stack(around).to(self.device),
            )
        return self._grid

    def observe(self, frame: Frame, label_index: Callable[[str], int]) -> Observation:
        """The frame's filtered points and detections, and the sample grid they came from (which
        detection and depth each grid cell saw: the objects check their points against it)."""
        obs, depth, sample_index = self._observe(frame, label_index)
        grid = self._grid
        det = torch.full((depth.numel(),), -1, dtype=torch.int64, device=self.device)
        det[sample_index.index_select(0, obs.det_point_index)] = obs.det_of
        valid_depth = torch.zeros_like(depth).index_copy_(0, sample_index, depth.index_select(0, sample_index))
        obs.camera, obs.grid_det, obs.grid_depth = grid.camera, det.view(grid.shape), valid_depth.view(grid.shape)
        return obs

    def _observe(self, frame: Frame, label_index: Callable[[str], int]):
        cfg = self.config
        device = self.device
        grid = self._sample_grid(frame)

        depth_full = torch.from_numpy(frame.depth).to(device).view(-1)
        depth = depth_full.index_select(0, grid.centre)
        neighbours = _gather(depth_full, grid.edge_neighbours)
        jump = (neighbours - depth).abs() > cfg.flying_pixel_ratio * depth
        flying = jump & (neighbours > 0)
        valid = (depth > cfg.min_depth) & (depth < cfg.max_depth) & ~flying.any(dim=0)
        sample_index = valid.nonzero().squeeze(1)

        pose = torch.from_numpy(frame.T_world_camera).to(device)
        z = depth.index_select(0, sample_index)
        camera_points = grid.rays.index_select(0, sample_index) * z[:, None]
        points = transform_points(pose.to(torch.float32), camera_points)
        rgb = torch.from_numpy(np.ascontiguousarray(frame.rgb)).to(device).view(-1, 3)
        pixels = grid.centre.index_select(0, sample_index)
        colors = rgb.index_select(0, pixels)

        empty = self._empty_detections(pose, points, colors, z), depth, sample_index
        if frame.instances is None:
            return empty
        instances_full = torch.from_numpy(np.ascontiguousarray(frame.instances)).to(device).view(-1)
        ids = instances_full.index_select(0, pixels)
        candidates = (ids > 0).nonzero().squeeze(1)
        ids = ids.index_select(0, candidates)
        around = _gather(
            instances_full, grid.mask_neighbours.index_select(1, sample_index.index_select(0, candidates))
        )
        inner = (around == ids).all(dim=0)
        det_point_index, ids = candidates[inner], ids[inner]
        if det_point_index.numel() == 0:
            return empty
        return self._detections(frame, label_index, pose, points, colors, z, det_point_index, ids), depth, sample_index

    def _depth_bulk(self, inverse: torch.Tensor, depth: torch.Tensor, num: int) -> torch.Tensor:
        """Which samples (sorted by instance, then depth) belong to their instance's bulk: the
        nearest depth piece with depth_edge_share of the instance's samples (see module doc).
        Instances without such a piece keep every sample (the Tukey fences still apply)."""
        cfg = self.config
        gap = torch.clamp(cfg.depth_edge_ratio * depth[:-1], min=cfg.depth_edge_gap)
        cut = ((depth[1:] - depth[:-1]) > gap) | (inverse[1:] != inverse[:-1])
        piece = torch.cat([torch.zeros(1, dtype=torch.int64, device=self.device), torch.cumsum(cut, 0)])
        piece_size = torch.bincount(piece)
        instance_size = torch.bincount(inverse, minlength=num)
        piece_instance = torch.zeros_like(piece_size).index_copy_(0, piece, inverse)
        qualifies = piece_size >= cfg.depth_edge_share * instance_size[piece_instance]
        nearest = torch.full((num,), piece_size.numel(), dtype=torch.int64, device=self.device)
        candidates = torch.where(qualifies, torch.arange(piece_size.numel(), device=self.device), piece_size.numel())
        nearest.scatter_reduce_(0, piece_instance, candidates, "amin")
        chosen = nearest[inverse]
        return (piece == chosen) | (chosen == piece_size.numel())

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
        depth = z.index_select(0, det_point_index)
        order = torch.argsort(inverse.to(torch.float64) * (2.0 * cfg.max_depth) + depth.to(torch.float64))
        inverse, depth, det_point_index = (t.index_select(0, order) for t in (inverse, depth, det_point_index))
        if cfg.depth_edge_share > 0:
            bulk = self._depth_bulk(inverse, depth, ids_unique.numel())
            inverse, depth, det_point_index = inverse[bulk], depth[bulk], det_point_index[bulk]
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
        det_points = points.index_select(0, det_point_index)
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
            det_samples=_gather(det_points, pick),
        )


def _gather(source: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """source[index] for a multi-dimensional index over dim 0, via index_select (several times
    faster than advanced indexing on the CPU)."""
    flat = source.index_select(0, index.reshape(-1))
    return flat.view(*index.shape, *source.shape[1:])
