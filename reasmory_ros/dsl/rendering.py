"""Pictures of the memory from any pose: a z-buffered splat of the coloured map voxels.

Each voxel covers a square whose side is its projected size, so near surfaces stay closed and far
ones stay sharp; the nearest sample wins each pixel. Work is bounded by the map size (bounded by
the memory) times the largest splat area.
"""

from __future__ import annotations

import numpy as np

from ..memory.snapshot import SceneMap
from .geometry import project

MAX_SPLAT_RADIUS = 4
MAX_RANGE = 25.0
MAX_WIDTH = 1280


def fit_intrinsics(K: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Scale the camera down when its image is wider than MAX_WIDTH (bounded rendering work)."""
    width, height = size
    if width <= MAX_WIDTH:
        return K, size
    scale = MAX_WIDTH / width
    K = np.asarray(K, dtype=np.float64).copy()
    K[:2] *= scale
    return K, (MAX_WIDTH, max(1, int(round(height * scale))))


def render_map(scene_map: SceneMap, T_world_camera: np.ndarray, K: np.ndarray,
               size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """RGB (H x W x 3 uint8) and depth (H x W float32 m, 0 = nothing) of the map from a pose."""
    width, height = size
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    depth = np.zeros((height, width), dtype=np.float32)
    points = np.asarray(scene_map.points, dtype=np.float64).reshape(-1, 3)
    if not len(points):
        return rgb, depth
    uv, z = project(points, T_world_camera, K)
    keep = (z > 0.05) & (z < MAX_RANGE) & np.isfinite(uv).all(axis=1)
    keep &= (uv[:, 0] > -MAX_SPLAT_RADIUS) & (uv[:, 0] < width + MAX_SPLAT_RADIUS)
    keep &= (uv[:, 1] > -MAX_SPLAT_RADIUS) & (uv[:, 1] < height + MAX_SPLAT_RADIUS)
    uv, z, colors = uv[keep], z[keep], np.asarray(scene_map.colors)[keep]
    radius = np.clip(np.ceil(0.5 * K[0, 0] * scene_map.voxel_size / z - 0.5), 0,
                     MAX_SPLAT_RADIUS).astype(int)
    centre = np.floor(uv).astype(int)
    pixels, depths, sources = [], [], []
    for r in range(MAX_SPLAT_RADIUS + 1):
        members = np.flatnonzero(radius >= r)
        offsets = [(du, dv) for du in range(-r, r + 1) for dv in range(-r, r + 1)
                   if max(abs(du), abs(dv)) == r]
        for du, dv in offsets:
            u, v = centre[members, 0] + du, centre[members, 1] + dv
            inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
            pixels.append(v[inside] * width + u[inside])
            depths.append(z[members[inside]])
            sources.append(members[inside])
    pixels, depths, sources = map(np.concatenate, (pixels, depths, sources))
    order = np.argsort(depths, kind="stable")
    first_pixels, first = np.unique(pixels[order], return_index=True)
    winners = order[first]
    rgb.reshape(-1, 3)[first_pixels] = colors[sources[winners]]
    depth.reshape(-1)[first_pixels] = depths[winners]
    return rgb, depth
