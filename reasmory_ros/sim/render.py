"""Ray-cast RGB-D + instance rendering of a scene with a structured-light depth noise model.

Open3D's `RaycastingScene` casts one ray per pixel through the pixel centre (u, v) = (column,
row), the same convention the memory uses to back-project, so an ideal depth image
back-projects exactly onto the scene's surfaces. Rays are built with a unit z component in the
camera frame, so the hit distance *is* the depth along the optical axis.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import open3d as o3d
from scipy import ndimage

from ..memory.frame import Frame
from .scene import Scene
from .trajectory import CameraPath

DEFAULT_WIDTH, DEFAULT_HEIGHT = 640, 480
MIN_RANGE, MAX_RANGE = 0.3, 7.0
LIGHT_DIRECTION = np.array([0.35, 0.25, 0.9]) / np.linalg.norm([0.35, 0.25, 0.9])
MAX_INSTANCE_ID = 65535
"""Rendered instance ids fit the 16UC1 instance image of the topic contract."""


def default_intrinsics(width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> np.ndarray:
    """Pinhole K of a Kinect/RealSense-like sensor: fx = fy = 525 at 640 px, scaled with width."""
    f = 525.0 * width / 640.0
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


def depth_sigma(z: np.ndarray) -> np.ndarray:
    """Axial noise (m) of a structured-light sensor, growing quadratically with depth."""
    return 0.0012 + 0.0019 * (z - 0.4) ** 2


@dataclass(frozen=True)
class Rendered:
    """A rendered frame and its ground truth.

    instance_to_object: rendered instance id -> scene object id (ids are re-numbered per frame).
    pixel_counts: scene object id -> visible pixels (before depth dropouts).
    """

    frame: Frame
    instance_to_object: dict[int, int]
    pixel_counts: dict[int, int]


class Renderer:
    """Holds the ray-casting scene of one `Scene`; building it once keeps frames cheap."""

    def __init__(self, scene: Scene):
        self.scene = scene
        self._raycaster = o3d.t.geometry.RaycastingScene()
        # geometry id -> (scene object id, 0 for structure), per-triangle albedo per geometry
        object_ids, albedo = [], []
        meshes = [(0, *scene.structure_mesh_arrays())] + [(o.id, *o.mesh_arrays()) for o in scene.objects]
        for object_id, vertices, triangles, colors in meshes:
            gid = self._raycaster.add_triangles(
                o3d.core.Tensor(vertices.astype(np.float32)), o3d.core.Tensor(triangles.astype(np.uint32))
            )
            assert gid == len(object_ids)
            object_ids.append(object_id)
            albedo.append(colors)
        self._object_of_geometry = np.array(object_ids + [0], dtype=np.int32)  # last: miss
        self._triangle_offset = np.concatenate([[0], np.cumsum([len(a) for a in albedo])]).astype(np.int64)
        self._albedo = np.vstack(albedo + [np.zeros((1, 3), np.float32)]).astype(np.float32)
        self._labels = {o.id: o.label for o in scene.objects}
        self._ray_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def _camera_rays(self, K: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Camera-frame ray directions with unit z (H x W x 3) and their inverse lengths."""
        key = (K.tobytes(), width, height)
        if key not in self._ray_cache:
            u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
            dirs = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
            inv_norm = 1.0 / np.linalg.norm(dirs, axis=-1)
            self._ray_cache = {key: (dirs.astype(np.float32), inv_norm.astype(np.float32))}
        return self._ray_cache[key]

    def render(
        self,
        T_world_camera: np.ndarray,
        K: np.ndarray,
        width: int,
        height: int,
        index: int,
        timestamp: float,
        rng: np.random.Generator,
        noise: bool = True,
    ) -> Rendered:
        """Render one frame. With `noise=False` the sensor is ideal: exact depth, no holes, no
        range limit, no colour noise (for geometry tests)."""
        K = np.asarray(K, dtype=np.float64)
        T = np.asarray(T_world_camera, dtype=np.float64)
        dirs_cam, inv_norm = self._camera_rays(K, width, height)
        rays = np.empty((height, width, 6), dtype=np.float32)
        rays[..., :3] = T[:3, 3]
        dirs = rays[..., 3:]
        np.matmul(dirs_cam, T[:3, :3].T.astype(np.float32), out=dirs)
        hit = self._raycaster.cast_rays(o3d.core.Tensor(rays))
        depth = hit["t_hit"].numpy()
        geometry = hit["geometry_ids"].numpy().astype(np.int64)
        missed = ~np.isfinite(depth)
        geometry[missed] = len(self._object_of_geometry) - 1
        object_ids = self._object_of_geometry[geometry]
        triangle = np.where(missed, len(self._albedo) - 1,
                            self._triangle_offset[np.minimum(geometry, len(self._triangle_offset) - 1)]
                            + hit["primitive_ids"].numpy().astype(np.int64))
        normals = hit["primitive_normals"].numpy()
        facing = np.einsum("hwc,hwc->hw", normals, dirs) * inv_norm
        cos_incidence = np.abs(facing)
        depth = np.where(missed, np.float32(0.0), depth)

        rgb = self._shade(depth, T[:3, 3], dirs, normals, facing, triangle, rng if noise else None)
        if noise:
            depth = self._sensor_depth(depth, cos_incidence, rng)

        visible, counts = np.unique(object_ids[object_ids > 0], return_counts=True)
        new_ids = rng.choice(MAX_INSTANCE_ID, size=len(visible), replace=False) + 1
        lut = np.zeros(int(visible.max(initial=0)) + 1, dtype=np.int32)
        lut[visible] = new_ids
        instances = lut[object_ids]
        frame = Frame.create(
            rgb=rgb, depth=depth, K=K, T_world_camera=T, timestamp=timestamp, index=index,
            instances=instances,
            labels={int(n): self._labels[int(o)] for n, o in zip(new_ids, visible)},
        )
        return Rendered(
            frame,
            {int(n): int(o) for n, o in zip(new_ids, visible)},
            {int(o): int(c) for o, c in zip(visible, counts)},
        )

    def _shade(self, depth, origin, dirs, normals, facing, triangle, rng):
        """Lambertian shading: a sky-like key light plus a weak headlight, on a procedural texture
        (fixed in the world, so features stay put between frames). Normals are two-sided."""
        albedo = self._albedo[triangle]
        points = dirs * depth[..., None] + origin.astype(np.float32)
        cells = np.floor(points * np.float32(12.0)).astype(np.int32)
        hashed = (cells[..., 0] * 73856093 ^ cells[..., 1] * 19349663 ^ cells[..., 2] * 83492791) & 1023
        texture = np.float32(0.92) + np.float32(0.16 / 1023.0) * hashed
        key = (normals @ LIGHT_DIRECTION.astype(np.float32)) * -np.sign(facing)
        light = 0.35 + 0.5 * np.clip(key, 0.0, None) + 0.25 * np.abs(facing)
        color = albedo * (light * texture * np.float32(255.0))[..., None]
        if rng is not None:
            color += rng.standard_normal(color.shape, dtype=np.float32) * np.float32(3.0)
        return (np.clip(color, 0.0, 255.0) + 0.5).astype(np.uint8)

    @staticmethod
    def _sensor_depth(depth: np.ndarray, cos_incidence: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Structured-light depth: axial noise ~ z^2, holes at grazing angles, on depth edges,
        random dropouts, and nothing outside the working range."""
        valid = (depth >= MIN_RANGE) & (depth <= MAX_RANGE)
        h, w = depth.shape
        u = rng.random((h, w))
        valid &= u >= np.clip((0.3 - cos_incidence) / 0.2, 0.0, 1.0)  # grazing: < 17 deg always lost
        padded = np.pad(depth, 1, mode="edge")
        jump = np.maximum.reduce([
            np.abs(padded[1:-1, 2:] - depth), np.abs(padded[1:-1, :-2] - depth),
            np.abs(padded[2:, 1:-1] - depth), np.abs(padded[:-2, 1:-1] - depth),
        ])
        edge = jump > 0.03 + 0.03 * depth
        edge = ndimage.binary_dilation(edge) & (rng.random((h, w)) < 0.7)
        valid &= ~edge
        valid &= rng.random((h, w)) >= 0.01
        noisy = depth + rng.standard_normal(depth.shape, dtype=np.float32) * depth_sigma(depth)
        return np.where(valid, noisy, np.float32(0.0)).astype(np.float32)


_renderers: weakref.WeakKeyDictionary[Scene, Renderer] = weakref.WeakKeyDictionary()


def renderer_for(scene: Scene) -> Renderer:
    """The cached renderer of a scene (built on first use)."""
    renderer = _renderers.get(scene)
    if renderer is None:
        renderer = _renderers[scene] = Renderer(scene)
    return renderer


def render_frame(
    scene: Scene,
    T_world_camera: np.ndarray,
    K: np.ndarray | None = None,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    index: int = 0,
    timestamp: float = 0.0,
    rng: np.random.Generator | None = None,
    noise: bool = True,
) -> Frame:
    """Render one RGB-D + instance `Frame` of `scene` seen from `T_world_camera` (optical frame)."""
    K = default_intrinsics(width, height) if K is None else K
    rng = np.random.default_rng() if rng is None else rng
    return renderer_for(scene).render(T_world_camera, K, width, height, index, timestamp, rng, noise).frame


def render_sequence(
    scene: Scene,
    camera: CameraPath,
    K: np.ndarray | None = None,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    seed: int = 0,
    noise: bool = True,
) -> Iterator[Rendered]:
    """Render every pose of a camera path in order (frame index = position in the path).

    Deterministic in `seed`: the same call yields the same images, noise and instance ids.
    """
    K = default_intrinsics(width, height) if K is None else np.asarray(K, dtype=np.float64)
    rng = np.random.default_rng([scene.seed, seed, 11])
    renderer = renderer_for(scene)
    for i in range(len(camera)):
        yield renderer.render(camera.poses[i], K, width, height, i, float(camera.timestamps[i]), rng, noise)
