"""A small ray-cast room for memory tests: boxes on a floor, a camera circling them.

Frames carry the artefacts the memory must survive: depth noise growing with depth, flying pixels
on depth edges, random outlier pixels, instance masks that bleed one pixel onto the background,
and instance ids re-numbered at random in every frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d
import pytest
import torch

from reasmory_ros.memory import Frame


@dataclass(frozen=True)
class BoxObject:
    label: str
    center_xy: tuple[float, float]
    yaw: float
    extent: tuple[float, float, float]  # length >= width, height
    base: float = 0.0  # m, height of the bottom face (resting on the floor or on another object)

    @property
    def center(self) -> np.ndarray:
        return np.array([*self.center_xy, self.base + self.extent[2] / 2])


ROOM_OBJECTS = (
    BoxObject("table", (0.0, 0.3), 0.3, (1.2, 0.8, 0.75)),
    BoxObject("chair", (1.25, -0.35), 0.8, (0.5, 0.45, 0.9)),
    BoxObject("chair", (-1.3, 0.9), -0.4, (0.5, 0.45, 0.9)),
    BoxObject("sofa", (0.2, -1.45), 0.05, (1.9, 0.85, 0.8)),
    BoxObject("cabinet", (-1.7, -1.0), 0.0, (0.6, 0.5, 1.4)),
    BoxObject("box", (1.6, 1.2), 0.6, (0.35, 0.3, 0.3)),
)
ROOM_HALF = (4.0, 3.5)
WALL_HEIGHT = 2.6


def _box_mesh(extent, center, yaw) -> o3d.t.geometry.TriangleMesh:
    mesh = o3d.geometry.TriangleMesh.create_box(*extent)
    mesh.translate(-np.asarray(extent) / 2)
    c, s = np.cos(yaw), np.sin(yaw)
    mesh.rotate(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]), center=(0, 0, 0))
    mesh.translate(center)
    return o3d.t.geometry.TriangleMesh.from_legacy(mesh)


class RoomRenderer:
    """Ray casts the room; object geometry ids map to ROOM_OBJECTS indices."""

    def __init__(self, objects=ROOM_OBJECTS, width: int = 320, height: int = 240):
        self.objects = objects
        self.width, self.height = width, height
        f = 525.0 * width / 640
        self.K = np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1]])
        self.scene = o3d.t.geometry.RaycastingScene()
        hx, hy = ROOM_HALF
        structure = [
            ((2 * hx, 2 * hy, 0.1), (0, 0, -0.05)),
            ((2 * hx, 0.1, WALL_HEIGHT), (0, hy + 0.05, WALL_HEIGHT / 2)),
            ((2 * hx, 0.1, WALL_HEIGHT), (0, -hy - 0.05, WALL_HEIGHT / 2)),
            ((0.1, 2 * hy, WALL_HEIGHT), (hx + 0.05, 0, WALL_HEIGHT / 2)),
            ((0.1, 2 * hy, WALL_HEIGHT), (-hx - 0.05, 0, WALL_HEIGHT / 2)),
        ]
        self.structure_ids = {self.scene.add_triangles(_box_mesh(e, c, 0.0)) for e, c in structure}
        self.object_of_geometry = {
            self.scene.add_triangles(_box_mesh(obj.extent, obj.center, obj.yaw)): i
            for i, obj in enumerate(objects)
        }
        rng = np.random.default_rng(7)
        self.colors = rng.integers(40, 230, size=(len(self.structure_ids) + len(objects) + 1, 3))
        v, u = np.mgrid[0:height, 0:width].astype(np.float64)
        self.rays_camera = np.stack(
            [(u - self.K[0, 2]) / self.K[0, 0], (v - self.K[1, 2]) / self.K[1, 1], np.ones_like(u)], -1
        )

    def render(self, T_world_camera: np.ndarray, index: int, rng: np.random.Generator) -> Frame:
        R, t = T_world_camera[:3, :3], T_world_camera[:3, 3]
        directions = self.rays_camera @ R.T
        rays = np.concatenate([np.broadcast_to(t, directions.shape), directions], -1).astype(np.float32)
        hit = self.scene.cast_rays(o3d.core.Tensor(rays))
        depth = hit["t_hit"].numpy().astype(np.float64)  # ray z-component is 1: t is depth
        geometry = hit["geometry_ids"].numpy().astype(np.int64)
        missed = ~np.isfinite(depth)
        geometry[missed] = len(self.colors) - 1
        depth[missed] = 0.0

        object_index = np.full(depth.shape, -1)
        for geometry_id, i in self.object_of_geometry.items():
            object_index[geometry == geometry_id] = i
        rgb = self.colors[geometry].astype(np.uint8)

        sigma = 0.0012 + 0.0019 * (depth - 0.4) ** 2
        noisy = depth + rng.normal(size=depth.shape) * sigma
        # Flying pixels: on depth edges, half the pixels mix foreground and background.
        right = np.roll(depth, -1, axis=1)
        edge = np.abs(right - depth) > 0.1 * np.maximum(depth, 1e-3)
        mix = edge & (rng.random(depth.shape) < 0.5)
        noisy[mix] = 0.5 * (depth[mix] + right[mix])
        outliers = rng.random(depth.shape) < 0.002
        noisy[outliers] = rng.uniform(0.3, 6.0, size=int(outliers.sum()))
        noisy[missed] = 0.0

        # Masks bleed one pixel onto the background, as real detector masks do.
        bled = object_index.copy()
        for axis, shift in ((0, 1), (0, -1), (1, 1), (1, -1)):
            neighbour = np.roll(object_index, shift, axis=axis)
            grow = (bled < 0) & (neighbour >= 0)
            bled[grow] = neighbour[grow]
        ids = rng.permutation(np.arange(1, 1000))[: len(self.objects)]
        instances = np.where(bled >= 0, ids[np.maximum(bled, 0)], 0).astype(np.int32)
        present = np.unique(bled[bled >= 0])
        labels = {int(ids[i]): self.objects[i].label for i in present}
        return Frame.create(
            rgb=rgb, depth=noisy.astype(np.float32), K=self.K, T_world_camera=T_world_camera,
            timestamp=index / 15.0, index=index, instances=instances, labels=labels,
        )


def look_at(eye, target) -> np.ndarray:
    """Optical-frame pose (z forward, x right, y down) at `eye` looking at `target`."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.column_stack([x, y, z])
    T[:3, 3] = eye
    return T


def orbit_poses(n: int, loops: float = 1.0, phase: float = 0.0, height: float = 1.5) -> list[np.ndarray]:
    """Camera on an ellipse inside the room, looking at the room centre and slightly down."""
    angles = phase + np.linspace(0, 2 * np.pi * loops, n, endpoint=False)
    return [
        look_at((3.3 * np.cos(a), 2.8 * np.sin(a), height), (0.0, 0.0, 0.4)) for a in angles
    ]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The memory's tensors are small: one thread is as fast, and on a busy shared CPU two
    threads spin-waiting for each other were several times slower (docs/memory.md)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def room_renderer() -> RoomRenderer:
    return RoomRenderer()


@pytest.fixture(scope="session")
def room_scan(room_renderer) -> list[Frame]:
    """Two loops around the room (the second at another height and phase: a revisit)."""
    rng = np.random.default_rng(3)
    poses = orbit_poses(32, height=1.5) + orbit_poses(24, phase=0.4, height=1.2)
    return [room_renderer.render(T, i, rng) for i, T in enumerate(poses)]
