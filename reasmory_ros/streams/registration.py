"""Register depth from the depth camera into the colour camera (what the driver's `aligned_depth_to_color`
does on board), for recordings that kept only the raw depth stream.

Each valid depth pixel is back-projected with the depth camera's K, moved by the depth -> colour
extrinsic (from tf) and projected with the colour camera's K; where several land on one colour
pixel the nearest wins (a z-buffer via scatter-min), so a foreground edge is not overwritten by
the wall behind it. When a depth pixel covers more than one colour pixel (depth at a lower
resolution) it is splatted over a fixed footprint of ceil(colour focal / depth focal) pixels per
axis, like depth_image_proc's register, so no regular holes appear: a min filter of the z-buffer
over the footprint, which gives the same image as splatting every point. Everything depending on
the calibration (rays, footprint) is computed once: the cost per frame is fixed, a few vector
operations, one scatter and the filter, on the CPU or a GPU (torch).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from reasmory_ros.streams.camera import Intrinsics
from reasmory_ros.streams.errors import ImageDecodeError

MIN_DEPTH_M = 1e-3
"""Depth below this (0 included) is invalid, and so are points closer than this to the colour
camera; NaN and infinite depth are invalid too."""
_OUTSIDE = 1e15
"""Column (pixels per metre below MIN_DEPTH_M) that sends an invalid point off the image into the z-buffer's margin."""


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
        footprint = max(1, math.ceil(max(color.K[0, 0] / depth.K[0, 0], color.K[1, 1] / depth.K[1, 1]) - 1e-6))
        self._footprint = footprint
        # The z-buffer has a margin of `footprint` pixels: points beyond the image, and invalid ones,
        # are clamped into it instead of being masked (comparisons and masks cost more than the
        # projection on a CPU). Rounding to the nearest pixel (+0.5), the footprint's first pixel
        # and the margin are folded into the projection: floor(column) is the padded column.
        offset = 0.5 - (footprint - 1) / 2.0 + footprint
        # Homogeneous colour pixel of depth z along a ray: Kc (R z ray + t) = z (Kc R ray) + Kc t,
        # so a frame costs one multiply-add per coordinate; its third row is the colour depth.
        directions, origin = Kc @ T[:3, :3] @ rays, Kc @ T[:3, 3]
        directions[:2] += offset * directions[2]
        origin[:2] += offset * origin[2]
        self._directions = directions.to(self.device, torch.float32)
        self._origin = origin.to(self.device, torch.float32).reshape(3, 1)
        self._padded = (color.height + 2 * footprint, color.width + 2 * footprint)
        self._last = (float(color.width + footprint), float(color.height + footprint))  # margin column / row
        self._row_length = torch.tensor(float(self._padded[1]), device=self.device)
        self._shifts = [(j, i) for j in range(footprint) for i in range(footprint)]
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
        pixel = torch.addcmul(self._origin, self._directions, z)
        distance = pixel[2]
        # A valid point has depth and colour distance >= MIN_DEPTH_M. Any other gets a column of at
        # least 1e5 (float32 resolves 1e-10 m near MIN_DEPTH_M) or a NaN / infinite one (NaN and
        # infinite depth), which the clamp puts in the margin. Valid columns below 0 become 0: the
        # clamp would do that too.
        outside = torch.minimum(z, distance).sub_(MIN_DEPTH_M).clamp_max_(0.0).mul_(-_OUTSIDE)
        column_row = pixel[:2].div_(distance).floor_()
        torch.maximum(column_row[0], outside, out=column_row[0])
        column_row.nan_to_num_(nan=_OUTSIDE, posinf=_OUTSIDE, neginf=_OUTSIDE)
        column_row[0].clamp_(0.0, self._last[0])
        column_row[1].clamp_(0.0, self._last[1])
        index = torch.addcmul(column_row[0], column_row[1], self._row_length).long()
        nearest = self._out.fill_(float("inf")).scatter_reduce_(0, index, distance, reduce="amin")
        nearest = nearest.reshape(self._padded)
        # Splatting every point over the footprint equals a min filter of the one-pixel z-buffer
        # over it: f*f - 1 passes over the image instead of f*f scatters of every point.
        margin = self._footprint
        height, width = self.color_size
        registered = nearest[margin:margin + height, margin:margin + width]
        for j, i in self._shifts[1:]:
            registered = torch.minimum(registered, nearest[margin - j:margin - j + height, margin - i:margin - i + width])
        return torch.nan_to_num(registered, posinf=0.0).cpu().numpy()
