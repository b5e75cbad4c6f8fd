"""Register depth from the depth camera into the colour camera (what the driver's `aligned_depth_to_color`
does on board), for recordings that kept only the raw depth stream.

Each valid depth pixel is back-projected with the depth camera's K, moved by the depth -> colour
extrinsic (from tf) and projected with the colour camera's K; where several land on one colour
pixel the nearest wins (a z-buffer via scatter-min), so a foreground edge is not overwritten by
the wall behind it. When a depth pixel covers more than one colour pixel (depth at a lower
resolution) it is splatted over a fixed footprint of ceil(colour focal / depth focal) pixels per
axis, like depth_image_proc's register, so no regular holes appear. Everything depending on the
calibration (rays, footprint) is computed once: the cost per frame is fixed, a few vector
operations and one scatter per footprint pixel, on the CPU or a GPU (torch).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from reasmory_ros.streams.camera import Intrinsics
from reasmory_ros.streams.errors import ImageDecodeError

MIN_DEPTH_M = 1e-3
"""Depth at or below this (and NaN) is invalid; so are points this close to the colour camera."""
MAX_DEPTH_M = 1e4
"""Depth at or above this (inf included) is invalid."""


class DepthRegistration:
    """Depth image (metres, 0/NaN invalid) of the depth camera -> depth image of the colour camera."""

    def __init__(self, depth: Intrinsics, color: Intrinsics, T_color_depth: np.ndarray,
                 device: str | torch.device = "cpu"):
        """depth/color: intrinsics with their image sizes (both needed); T_color_depth: 4 x 4 pose of
        the depth optical frame in the colour optical frame (tf lookup color <- depth)."""
        for name, info in (("depth", depth), ("color", color)):
            if not (info.width and info.height):
                raise ValueError(f"the {name} camera_info gives no image size: registration needs it")
        self.device = torch.device(device)
        self.depth_size = (depth.height, depth.width)
        self.color_size = (color.height, color.width)
        v, u = torch.meshgrid(torch.arange(depth.height, dtype=torch.float64),
                              torch.arange(depth.width, dtype=torch.float64), indexing="ij")
        Kd = torch.tensor(np.array(depth.K), dtype=torch.float64)
        rays = torch.stack([(u.reshape(-1) - Kd[0, 2]) / Kd[0, 0], (v.reshape(-1) - Kd[1, 2]) / Kd[1, 1],
                            torch.ones(u.numel(), dtype=torch.float64)])
        T = torch.tensor(np.array(T_color_depth), dtype=torch.float64)
        Kc = torch.tensor(np.array(color.K), dtype=torch.float64)
        # Homogeneous colour pixel of depth z along a ray: Kc (R z ray + t) = z (Kc R ray) + Kc t,
        # so a frame costs one multiply-add per coordinate; its third row is the colour depth.
        self._directions = (Kc @ T[:3, :3] @ rays).to(self.device, torch.float32)
        self._origin = (Kc @ T[:3, 3]).to(self.device, torch.float32).reshape(3, 1)
        footprint = max(1, math.ceil(max(color.K[0, 0] / depth.K[0, 0], color.K[1, 1] / depth.K[1, 1]) - 1e-6))
        self._footprint = footprint
        # The z-buffer has a margin of `footprint` pixels: points beyond the image are clamped into
        # it instead of being masked once per footprint pixel. One flat index per point is computed
        # per frame; each footprint pixel adds a constant to it.
        self._padded = (color.height + 2 * footprint, color.width + 2 * footprint)
        self._shifts = [j * self._padded[1] + i for j in range(footprint) for i in range(footprint)]
        self._start = 0.5 - (footprint - 1) / 2.0  # floor(x + 0.5): the nearest pixel
        self._flatten = torch.tensor([[1.0, self._padded[1]]], device=self.device)  # (col, row) -> index
        self._first = float(footprint * self._padded[1] + footprint)  # index of pixel (0, 0)
        self._out = torch.empty(self._padded[0] * self._padded[1], device=self.device)

    @property
    def footprint(self) -> int:
        """Colour pixels per axis covered by one depth pixel."""
        return self._footprint

    @torch.no_grad()
    def __call__(self, depth: np.ndarray) -> np.ndarray:
        """The registered depth, colour size, float32 metres, 0 where no depth pixel landed."""
        if depth.shape != self.depth_size:
            raise ImageDecodeError(f"depth image is {depth.shape[1]}x{depth.shape[0]} but its camera_info is for "
                                   f"{self.depth_size[1]}x{self.depth_size[0]}")
        z = torch.from_numpy(np.ascontiguousarray(depth, dtype=np.float32)).reshape(-1).to(self.device)
        invalid = ~((z > MIN_DEPTH_M) & (z < MAX_DEPTH_M))  # NaN fails both tests
        # Invalid pixels are projected at 1 m (finite coordinates) and then given an infinite
        # distance, which never wins the z-buffer's min.
        pixel = torch.addcmul(self._origin, self._directions, z.masked_fill(invalid, 1.0))
        distance = pixel[2]
        margin = self._footprint
        height, width = self.color_size
        column_row = pixel[:2].div_(distance).add_(self._start).floor_()
        column_row[0].clamp_(-margin, width)
        column_row[1].clamp_(-margin, height)
        index = (self._flatten @ column_row).add_(self._first).long().reshape(-1)
        distance.masked_fill_(invalid | (distance <= MIN_DEPTH_M), float("inf"))
        out = self._out.fill_(float("inf"))
        for shift in self._shifts:
            out.scatter_reduce_(0, index + shift if shift else index, distance, reduce="amin")
        registered = out.reshape(self._padded)[margin:margin + height, margin:margin + width]
        return torch.nan_to_num(registered, posinf=0.0).cpu().numpy()
