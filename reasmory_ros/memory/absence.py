"""Evidence of absence: does a depth image see *through* the place where an object's points were?

A remembered surface point projects to a pixel of a depth image. Reading the depth there:

- no reading (0: a hole, out of range) is no evidence either way;
- a reading in front of the point (by more than the margin) is an occluder, or the object's own
  nearer side: no evidence;
- a reading at the point (within the margin) is the surface, still there;
- a reading behind the point in the whole 3 x 3 neighbourhood (by more than the margin) means the
  ray passed through where the surface was and hit something clearly behind it: the surface is
  gone. (The neighbourhood keeps a depth edge or a thin part seen one pixel off from voting.)

A flat object lying on a larger one (a book on a cabinet) leaves no depth step when it is taken
away: the reading lands on the support within the margin. There the instance image decides: a
point read at the surface but inside the mask of an instance whose label the object has (almost)
never carried is *covered* by another object, which counts like seen through.

The margin grows with the depth (depth noise grows with it). Work is fixed by the shapes: a
bounded sample of points per object, nine gathers per point, whatever the image size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.geometry import FAR

_NEIGHBOURHOOD = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
_CENTRE = _NEIGHBOURHOOD.index((0, 0))


@dataclass
class Evidence:
    """Per tested point (B, P): read at the remembered surface, or seen through; and the flat
    pixel index it was read at (into the depth images, for an instance lookup)."""

    surface: torch.Tensor
    through: torch.Tensor
    pixel: torch.Tensor

    def votes(self, config: MemoryConfig, covered: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(absent, present) per row: absent when enough points are gone (seen through or covered)
        and they make absence_fraction of the decided ones; present when enough surface points are
        seen where they were (and the row is not absent)."""
        gone = self.through if covered is None else self.through | (self.surface & covered)
        still = self.surface if covered is None else self.surface & ~covered
        gone_n, still_n = gone.sum(dim=1), still.sum(dim=1)
        absent = (gone_n >= config.absence_min_points) & (gone_n >= config.absence_fraction * (gone_n + still_n))
        return absent, (still_n >= config.absence_min_points) & ~absent


_OFFSETS: dict[tuple[int, str], torch.Tensor] = {}


def _offsets(width: int, device: torch.device) -> torch.Tensor:
    """Flat index offsets of the 3 x 3 neighbourhood in an image `width` pixels wide (cached)."""
    key = (width, str(device))
    if key not in _OFFSETS:
        _OFFSETS[key] = torch.tensor([dy * width + dx for dy, dx in _NEIGHBOURHOOD], device=device)
    return _OFFSETS[key]


def sample_points(points: torch.Tensor, count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random `count` of each row's filled reservoir slots: (A, count, 3) points and a validity
    mask (rows with fewer filled slots repeat nothing: the rest is marked invalid)."""
    filled = points[..., 0] < FAR / 2
    score = filled.to(torch.float32) + torch.rand(filled.shape, device=points.device, generator=generator)
    pick = score.topk(min(count, points.shape[1]), dim=1).indices
    chosen = points.gather(1, pick[..., None].expand(-1, -1, 3))
    return chosen, filled.gather(1, pick)


def see_through(
    points: torch.Tensor,
    valid: torch.Tensor,
    T_world_camera: torch.Tensor,
    K: torch.Tensor,
    depth: torch.Tensor,
    depth_row: torch.Tensor,
    config: MemoryConfig,
) -> Evidence:
    """Test points (B, P, 3) against depth images (D, H, W) seen from cameras (B, 4, 4) / (B, 3, 3):
    row b is read in image depth_row[b].
    """
    height, width = depth.shape[-2:]
    T = T_world_camera.to(points.dtype)
    camera = torch.bmm(points - T[:, None, :3, 3], T[:, :3, :3])  # R^T (p - t), as row vectors
    pixel = torch.bmm(camera, K.to(points.dtype).transpose(1, 2))
    z = camera[..., 2]
    uv = torch.round(pixel[..., :2] / z.clamp(min=1e-6)[..., None]).to(torch.int64)
    u, v = uv[..., 0], uv[..., 1]
    inside = valid & (z > config.min_depth) & (u >= 1) & (u <= width - 2) & (v >= 1) & (v <= height - 2)
    base = depth_row[:, None] * (height * width) + v.clamp(1, height - 2) * width + u.clamp(1, width - 2)
    readings = depth.reshape(-1).index_select(0, (base[..., None] + _offsets(width, points.device)).reshape(-1))
    readings = readings.view(*base.shape, len(_NEIGHBOURHOOD))
    centre = readings[..., _CENTRE]
    nearest = torch.where(readings > 0, readings, float("inf")).amin(dim=-1)
    margin = config.absence_margin + config.absence_depth_ratio * z
    measured = inside & (centre > 0)
    surface = measured & ((centre - z).abs() <= margin)
    through = measured & (nearest > z + margin)
    return Evidence(surface, through, base)
