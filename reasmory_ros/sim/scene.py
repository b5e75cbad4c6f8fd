"""Procedural indoor scenes with exact ground truth.

A scene is a closed rectangular room (floor, four walls, ceiling) furnished with objects built from
box parts (a table is a top and four legs, a lamp a base, a pole and a shade ...). Every object
carries its ground truth: a gravity-aligned box, a triangle mesh and dense surface samples, so
distances and sizes asked about in questions are computed from geometry, never hard-coded.

World frame: z up, metres, floor at z = 0. An object's local frame has its origin at the centre
of its footprint on its base; parts are given in that frame and placed by (x, y, base_z, yaw).
Scenes are deterministic in their seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import open3d as o3d
from scipy.spatial import cKDTree

SAMPLE_SPACING = 0.02
"""Surface sample spacing (m): closest-point distances are exact to about half of it."""

# Unit box as eight corners and twelve outward-facing triangles (Open3D's create_box layout).
_UNIT_BOX_VERTICES = np.array(
    [[0, 0, 0], [1, 0, 0], [0, 0, 1], [1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 1, 1], [1, 1, 1]],
    dtype=np.float64,
)
_UNIT_BOX_TRIANGLES = np.array(
    [[4, 7, 5], [4, 6, 7], [0, 2, 4], [2, 6, 4], [0, 1, 2], [1, 3, 2],
     [1, 5, 7], [1, 7, 3], [2, 3, 7], [2, 7, 6], [0, 4, 1], [1, 4, 5]],
    dtype=np.int32,
)


def rot_z(yaw: float) -> np.ndarray:
    """3 x 3 rotation about world z."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Part:
    """One box of an object, axis-aligned in the object's local frame."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    color: tuple[float, float, float]

    def to_dict(self) -> dict:
        return {"center": list(self.center), "size": list(self.size), "color": list(self.color)}

    @classmethod
    def from_dict(cls, d: dict) -> Part:
        return cls(tuple(d["center"]), tuple(d["size"]), tuple(d["color"]))


def _parts_mesh_arrays(parts: list[Part], R: np.ndarray, t: np.ndarray):
    """Vertices, triangles and per-triangle colours of a set of box parts placed by (R, t)."""
    vertices, triangles, colors = [], [], []
    for i, part in enumerate(parts):
        size = np.asarray(part.size)
        local = (_UNIT_BOX_VERTICES - 0.5) * size + np.asarray(part.center)
        vertices.append(local @ R.T + t)
        triangles.append(_UNIT_BOX_TRIANGLES + 8 * i)
        colors.append(np.tile(np.asarray(part.color, dtype=np.float32), (12, 1)))
    return np.vstack(vertices), np.vstack(triangles), np.vstack(colors)


def _box_surface_samples(size: np.ndarray, spacing: float) -> np.ndarray:
    """Grid samples on the six faces of an origin-centred box, edges and corners included."""
    axes = [np.linspace(-s / 2, s / 2, max(2, int(math.ceil(s / spacing)) + 1)) for s in size]
    points = []
    for normal_axis in range(3):
        a, b = [k for k in range(3) if k != normal_axis]
        ga, gb = np.meshgrid(axes[a], axes[b], indexing="ij")
        for sign in (-1.0, 1.0):
            face = np.empty((ga.size, 3))
            face[:, a] = ga.ravel()
            face[:, b] = gb.ravel()
            face[:, normal_axis] = sign * size[normal_axis] / 2
            points.append(face)
    return np.vstack(points)


def parts_bounds(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of the boxes of `parts` in their common frame."""
    centers = np.array([p.center for p in parts])
    sizes = np.array([p.size for p in parts])
    return (centers - sizes / 2).min(axis=0), (centers + sizes / 2).max(axis=0)


def footprint_polygon(lo, hi, x, y, yaw) -> np.ndarray:
    """The 4 floor corners (4 x 2, counter-clockwise) of local bounds placed at (x, y, yaw)."""
    local = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    return local @ rot_z(yaw)[:2, :2].T + np.array([x, y])


@dataclass(eq=False)
class SceneObject:
    """A furnished object and its ground truth.

    id: stable 1-based ground-truth id (never shown to the memory: rendered instance ids are
    re-numbered every frame). position: (x, y, base_z) of the local origin; yaw about world z.
    parent: id of the object it stands on (a cup on a table), None on the floor or a wall.
    """

    id: int
    label: str
    parts: list[Part]
    position: np.ndarray
    yaw: float
    parent: int | None = None

    @cached_property
    def rotation(self) -> np.ndarray:
        return rot_z(self.yaw)

    @cached_property
    def _local_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return parts_bounds(self.parts)

    @cached_property
    def box(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Gravity-aligned GT box: (center, extent = (length >= width, height), yaw in (-pi/2, pi/2]).

        The yaw is the direction of the box's length axis; a box is symmetric under a half turn,
        so the yaw is reported modulo pi.
        """
        lo, hi = self._local_bounds
        size = hi - lo
        center = self.rotation @ ((lo + hi) / 2) + self.position
        yaw = self.yaw
        if size[1] > size[0]:
            size = size[[1, 0, 2]]
            yaw += math.pi / 2
        yaw = math.atan2(math.sin(2 * yaw), math.cos(2 * yaw)) / 2  # modulo pi
        if yaw <= -math.pi / 2:
            yaw += math.pi
        return center, size, yaw

    @property
    def center(self) -> np.ndarray:
        return self.box[0]

    @property
    def extent(self) -> np.ndarray:
        return self.box[1]

    @property
    def box_yaw(self) -> float:
        return self.box[2]

    @property
    def height(self) -> float:
        """Top of the object above the floor (m)."""
        return float(self.position[2] + self._local_bounds[1][2])

    def corners(self) -> np.ndarray:
        """The 8 GT box corners (8 x 3), bottom four first."""
        center, extent, yaw = self.box
        xy = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * extent[:2] / 2
        xy = xy @ rot_z(yaw)[:2, :2].T + center[:2]
        zs = (center[2] - extent[2] / 2, center[2] + extent[2] / 2)
        return np.vstack([np.column_stack([xy, np.full(4, z)]) for z in zs])

    def footprint(self) -> np.ndarray:
        """The 4 floor-plane corners of the object's local bounds (4 x 2), counter-clockwise."""
        return footprint_polygon(*self._local_bounds, self.position[0], self.position[1], self.yaw)

    def mesh_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(vertices, triangles, per-triangle RGB in 0..1) in the world frame."""
        return _parts_mesh_arrays(self.parts, self.rotation, self.position)

    @cached_property
    def mesh(self) -> o3d.geometry.TriangleMesh:
        """World-frame triangle mesh (legacy Open3D) with vertex colours of its parts."""
        vertices, triangles, colors = self.mesh_arrays()
        mesh = o3d.geometry.TriangleMesh(
            o3d.utility.Vector3dVector(vertices), o3d.utility.Vector3iVector(triangles)
        )
        vertex_colors = np.repeat(np.array([p.color for p in self.parts]), 8, axis=0)
        mesh.vertex_colors = o3d.utility.Vector3dVector(vertex_colors)
        mesh.compute_triangle_normals()
        return mesh

    @cached_property
    def points(self) -> np.ndarray:
        """Dense world-frame surface samples (N x 3), spaced SAMPLE_SPACING, deterministic."""
        local = np.vstack(
            [_box_surface_samples(np.asarray(p.size), SAMPLE_SPACING) + np.asarray(p.center) for p in self.parts]
        )
        return local @ self.rotation.T + self.position

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(self.points)

    def distance_to_point(self, point: np.ndarray) -> float:
        """Distance (m) from a point to the object's closest surface sample."""
        return float(self._tree.query(np.asarray(point, dtype=np.float64))[0])

    def distance_to(self, other: SceneObject) -> float:
        """Closest-surface distance (m) between two objects, from their surface samples."""
        small, large = (self, other) if len(self.points) <= len(other.points) else (other, self)
        return float(large._tree.query(small.points)[0].min())

    def to_dict(self) -> dict:
        center, extent, yaw = self.box
        return {
            "id": self.id,
            "label": self.label,
            "center": center.tolist(),
            "extent": extent.tolist(),
            "yaw": yaw,
            "position": self.position.tolist(),
            "rotation_yaw": self.yaw,
            "parent": self.parent,
            "parts": [p.to_dict() for p in self.parts],
        }

    @classmethod
    def from_dict(cls, d: dict) -> SceneObject:
        return cls(
            id=int(d["id"]),
            label=str(d["label"]),
            parts=[Part.from_dict(p) for p in d["parts"]],
            position=np.asarray(d["position"], dtype=np.float64),
            yaw=float(d["rotation_yaw"]),
            parent=None if d.get("parent") is None else int(d["parent"]),
        )


@dataclass(frozen=True)
class Room:
    """Inner extent of the rectangular room (m); the floor is at z = 0."""

    xmin: float
    xmax: float
    ymin: float
    ymax: float
    height: float

    @property
    def floor_area(self) -> float:
        return (self.xmax - self.xmin) * (self.ymax - self.ymin)

    @property
    def center(self) -> np.ndarray:
        return np.array([(self.xmin + self.xmax) / 2, (self.ymin + self.ymax) / 2])

    def to_dict(self) -> dict:
        return {
            "xmin": self.xmin, "xmax": self.xmax, "ymin": self.ymin, "ymax": self.ymax,
            "height": self.height, "floor_area": self.floor_area,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Room:
        return cls(float(d["xmin"]), float(d["xmax"]), float(d["ymin"]), float(d["ymax"]), float(d["height"]))


WALL_THICKNESS = 0.1


@dataclass(eq=False)
class Scene:
    """A furnished room. `structure` holds floor, walls and ceiling (not objects: instance id 0)."""

    seed: int
    room: Room
    objects: list[SceneObject]
    theme: str = ""
    wall_color: tuple[float, float, float] = (0.85, 0.84, 0.80)
    floor_color: tuple[float, float, float] = (0.55, 0.42, 0.30)

    @cached_property
    def structure(self) -> list[Part]:
        """Floor slab, four walls and ceiling as world-frame boxes enclosing the room."""
        r, t = self.room, WALL_THICKNESS
        cx, cy = self.room.center
        lx, ly = r.xmax - r.xmin, r.ymax - r.ymin
        ceiling = (0.95, 0.95, 0.93)
        return [
            Part((cx, cy, -t / 2), (lx + 2 * t, ly + 2 * t, t), self.floor_color),
            Part((cx, cy, r.height + t / 2), (lx + 2 * t, ly + 2 * t, t), ceiling),
            Part((r.xmin - t / 2, cy, r.height / 2), (t, ly + 2 * t, r.height), self.wall_color),
            Part((r.xmax + t / 2, cy, r.height / 2), (t, ly + 2 * t, r.height), self.wall_color),
            Part((cx, r.ymin - t / 2, r.height / 2), (lx, t, r.height), self.wall_color),
            Part((cx, r.ymax + t / 2, r.height / 2), (lx, t, r.height), self.wall_color),
        ]

    def structure_mesh_arrays(self):
        return _parts_mesh_arrays(self.structure, np.eye(3), np.zeros(3))

    def object(self, object_id: int) -> SceneObject:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"no object with id {object_id}")

    def by_label(self, label: str) -> list[SceneObject]:
        return [o for o in self.objects if o.label == label]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for obj in self.objects:
            counts[obj.label] = counts.get(obj.label, 0) + 1
        return counts

    def to_dict(self) -> dict:
        return {
            "seed": self.seed,
            "theme": self.theme,
            "room": self.room.to_dict(),
            "wall_color": list(self.wall_color),
            "floor_color": list(self.floor_color),
            "objects": [o.to_dict() for o in self.objects],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Scene:
        return cls(
            seed=int(d["seed"]),
            room=Room.from_dict(d["room"]),
            objects=[SceneObject.from_dict(o) for o in d["objects"]],
            theme=str(d.get("theme", "")),
            wall_color=tuple(d.get("wall_color", (0.85, 0.84, 0.80))),
            floor_color=tuple(d.get("floor_color", (0.55, 0.42, 0.30))),
        )
