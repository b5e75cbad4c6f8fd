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
from collections.abc import Callable
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
        return _bounds(self.parts)

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
        return _footprint(*self._local_bounds, self.position[0], self.position[1], self.yaw)

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


# ----------------------------------------------------------------------------------------------
# Catalogue: each builder returns box parts in the local frame (base at z = 0, back towards -y).


def _jitter(rng: np.random.Generator, color, amount: float = 0.06) -> tuple[float, float, float]:
    return tuple(float(np.clip(c + rng.uniform(-amount, amount), 0.02, 0.98)) for c in color)


def _pick(rng: np.random.Generator, palette) -> tuple[float, float, float]:
    return _jitter(rng, palette[rng.integers(len(palette))])


WOOD = [(0.55, 0.38, 0.22), (0.70, 0.52, 0.33), (0.40, 0.26, 0.15), (0.80, 0.68, 0.50)]
FABRIC = [(0.30, 0.35, 0.55), (0.55, 0.20, 0.20), (0.45, 0.45, 0.45), (0.25, 0.45, 0.30), (0.75, 0.65, 0.45)]
METAL = [(0.25, 0.25, 0.27), (0.70, 0.70, 0.72), (0.15, 0.15, 0.15)]
WHITE = [(0.92, 0.92, 0.90), (0.85, 0.87, 0.90)]
BRIGHT = [(0.85, 0.20, 0.15), (0.15, 0.45, 0.80), (0.95, 0.75, 0.15), (0.20, 0.65, 0.35), (0.90, 0.90, 0.88)]


def _legs(rng, length, width, height, thickness, color, inset=0.03) -> list[Part]:
    xs = (length / 2 - inset - thickness / 2) * np.array([-1, 1])
    ys = (width / 2 - inset - thickness / 2) * np.array([-1, 1])
    return [Part((float(x), float(y), height / 2), (thickness, thickness, height), color) for x in xs for y in ys]


def _table(rng):
    L, W, H = rng.uniform(1.0, 1.8), rng.uniform(0.7, 1.0), rng.uniform(0.72, 0.78)
    color = _pick(rng, WOOD)
    top = 0.04
    return [Part((0, 0, H - top / 2), (L, W, top), color)] + _legs(rng, L, W, H - top, 0.06, color)


def _desk(rng):
    L, W, H = rng.uniform(1.1, 1.5), rng.uniform(0.6, 0.75), rng.uniform(0.72, 0.76)
    color = _pick(rng, WOOD + WHITE)
    top, side = 0.03, 0.04
    drawer_w = rng.uniform(0.35, 0.45)
    return [
        Part((0, 0, H - top / 2), (L, W, top), color),
        Part((-L / 2 + side / 2, 0, (H - top) / 2), (side, W, H - top), color),
        Part((L / 2 - drawer_w / 2, 0, (H - top) / 2), (drawer_w, W, H - top), color),
        Part((L / 2 - drawer_w / 2, W / 2 + 0.005, (H - top) / 2), (0.12, 0.01, 0.02), _pick(rng, METAL)),
    ]


def _chair(rng):
    S, Hs = rng.uniform(0.42, 0.5), rng.uniform(0.43, 0.47)
    color, legc = _pick(rng, WOOD + FABRIC), _pick(rng, WOOD + METAL)
    seat, back_t, back_h = 0.05, 0.05, rng.uniform(0.40, 0.50)
    return [
        Part((0, 0, Hs - seat / 2), (S, S, seat), color),
        Part((0, -S / 2 + back_t / 2, Hs + back_h / 2), (S, back_t, back_h), color),
    ] + _legs(rng, S, S, Hs - seat, 0.04, legc, inset=0.01)


def _stool(rng):
    S, H = rng.uniform(0.32, 0.4), rng.uniform(0.45, 0.65)
    color = _pick(rng, WOOD + METAL)
    return [Part((0, 0, H - 0.02), (S, S, 0.04), color)] + _legs(rng, S, S, H - 0.04, 0.035, color, inset=0.02)


def _sofa(rng):
    L, W = rng.uniform(1.6, 2.4), rng.uniform(0.8, 0.95)
    seat_h, back_h, arm_h, arm_w, back_t = 0.42, rng.uniform(0.8, 0.9), rng.uniform(0.55, 0.65), 0.15, 0.2
    color = _pick(rng, FABRIC)
    return [
        Part((0, back_t / 2, seat_h / 2), (L - 2 * arm_w, W - back_t, seat_h), color),
        Part((0, -W / 2 + back_t / 2, back_h / 2), (L, back_t, back_h), color),
        Part((-L / 2 + arm_w / 2, back_t / 2, arm_h / 2), (arm_w, W - back_t, arm_h), color),
        Part((L / 2 - arm_w / 2, back_t / 2, arm_h / 2), (arm_w, W - back_t, arm_h), color),
    ]


def _bed(rng):
    # Headboard against the wall at -y; the bed runs along +y.
    W, L = rng.choice([0.95, 1.45, 1.65, 1.85]) + rng.uniform(-0.03, 0.03), rng.uniform(2.0, 2.15)
    frame_h, mattress, head_h = 0.3, 0.22, rng.uniform(0.9, 1.1)
    framec, sheet = _pick(rng, WOOD), _pick(rng, WHITE + FABRIC)
    pillow = _pick(rng, WHITE)
    return [
        Part((0, 0.04, frame_h / 2), (W, L - 0.08, frame_h), framec),
        Part((0, 0.05, frame_h + mattress / 2), (W - 0.04, L - 0.12, mattress), sheet),
        Part((0, -L / 2 + 0.04, head_h / 2), (W, 0.08, head_h), framec),
        Part((0, -L / 2 + 0.3, frame_h + mattress + 0.06), (W * 0.8, 0.35, 0.12), pillow),
    ]


def _tv(rng):
    L, H = rng.uniform(0.9, 1.45), rng.uniform(0.55, 0.8)
    stand_h = rng.uniform(0.75, 0.95)
    black, standc = (0.05, 0.05, 0.06), _pick(rng, METAL)
    return [
        Part((0, 0, 0.015), (0.5, 0.35, 0.03), standc),
        Part((0, 0, stand_h / 2), (0.06, 0.06, stand_h), standc),
        Part((0, 0.04, stand_h + H / 2), (L, 0.05, H), black),
    ]


def _cabinet(rng):
    L, W, H = rng.uniform(0.6, 1.3), rng.uniform(0.4, 0.5), rng.uniform(0.5, 1.1)
    color = _pick(rng, WOOD + WHITE)
    handle = _pick(rng, METAL)
    return [
        Part((0, 0, 0.04), (L - 0.04, W - 0.04, 0.08), _jitter(rng, color, 0.1)),
        Part((0, 0, 0.08 + (H - 0.08) / 2), (L, W, H - 0.08), color),
        Part((-0.05, W / 2 + 0.01, H - 0.12), (0.02, 0.02, 0.12), handle),
        Part((0.05, W / 2 + 0.01, H - 0.12), (0.02, 0.02, 0.12), handle),
    ]


def _nightstand(rng):
    S, H = rng.uniform(0.4, 0.5), rng.uniform(0.5, 0.6)
    color = _pick(rng, WOOD + WHITE)
    return [
        Part((0, 0, H / 2), (S, S * 0.9, H), color),
        Part((0, S * 0.45 + 0.01, H * 0.7), (0.1, 0.02, 0.02), _pick(rng, METAL)),
    ]


def _shelf(rng):
    L, W, H = rng.uniform(0.8, 1.2), rng.uniform(0.3, 0.4), rng.uniform(1.6, 2.0)
    color = _pick(rng, WOOD + WHITE)
    board = 0.025
    parts = [
        Part((-L / 2 + board / 2, 0, H / 2), (board, W, H), color),
        Part((L / 2 - board / 2, 0, H / 2), (board, W, H), color),
        Part((0, -W / 2 + 0.005, H / 2), (L - 2 * board, 0.01, H), color),
    ]
    boards = np.linspace(board / 2, H - board / 2, int(rng.integers(4, 6)))
    for z in boards:
        parts.append(Part((0, 0, float(z)), (L - 2 * board, W, board), color))
    # A few books as coloured blocks give the shelf texture.
    for z0 in boards[:-1] + board / 2:
        x = -L / 2 + board + 0.03
        while x < L / 2 - board - 0.1 and rng.random() < 0.85:
            w, h = rng.uniform(0.03, 0.07), rng.uniform(0.18, 0.26)
            parts.append(Part((x + w / 2, 0.01, float(z0) + h / 2), (w, W * 0.75, h), _pick(rng, BRIGHT + FABRIC)))
            x += w + rng.uniform(0.0, 0.04)
    return parts


def _lamp(rng):
    H = rng.uniform(1.45, 1.7)
    metal, shade = _pick(rng, METAL), _pick(rng, WHITE + [(0.9, 0.85, 0.6)])
    shade_h, shade_w = 0.3, rng.uniform(0.32, 0.42)
    return [
        Part((0, 0, 0.015), (0.3, 0.3, 0.03), metal),
        Part((0, 0, (H - shade_h) / 2), (0.03, 0.03, H - shade_h), metal),
        Part((0, 0, H - shade_h / 2), (shade_w, shade_w, shade_h), shade),
    ]


def _plant(rng):
    pot, pot_h = rng.uniform(0.25, 0.35), rng.uniform(0.25, 0.35)
    leaf_w, leaf_h = rng.uniform(0.45, 0.7), rng.uniform(0.5, 0.9)
    green = _pick(rng, [(0.2, 0.5, 0.2), (0.15, 0.4, 0.15), (0.3, 0.55, 0.25)])
    return [
        Part((0, 0, pot_h / 2), (pot, pot, pot_h), _pick(rng, [(0.7, 0.4, 0.25), (0.9, 0.9, 0.88), (0.3, 0.3, 0.3)])),
        Part((0, 0, pot_h + leaf_h * 0.35), (leaf_w, leaf_w * 0.9, leaf_h * 0.7), green),
        Part((0, 0, pot_h + leaf_h * 0.8), (leaf_w * 0.6, leaf_w * 0.55, leaf_h * 0.4), _jitter(rng, green)),
    ]


def _refrigerator(rng):
    W, D, H = rng.uniform(0.6, 0.8), rng.uniform(0.65, 0.75), rng.uniform(1.7, 1.95)
    color = _pick(rng, WHITE + [(0.7, 0.7, 0.72)])
    return [
        Part((0, 0, H / 2), (W, D, H), color),
        Part((W / 2 - 0.08, D / 2 + 0.02, H * 0.65), (0.03, 0.04, 0.5), _pick(rng, METAL)),
    ]


def _trash_can(rng):
    S, H = rng.uniform(0.25, 0.35), rng.uniform(0.35, 0.5)
    return [Part((0, 0, H / 2), (S, S, H), _pick(rng, METAL + BRIGHT))]


def _door(rng):
    W, H, T = rng.uniform(0.8, 0.95), rng.uniform(2.0, 2.1), 0.04
    color = _pick(rng, WOOD + WHITE)
    return [
        Part((0, 0, H / 2), (W, T, H), color),
        Part((W / 2 - 0.1, T / 2 + 0.03, 1.0), (0.12, 0.03, 0.03), _pick(rng, METAL)),
    ]


def _cup(rng):
    return [Part((0, 0, 0.05), (0.08, 0.08, 0.10), _pick(rng, BRIGHT + WHITE))]


def _book(rng):
    return [Part((0, 0, 0.02), (rng.uniform(0.2, 0.26), rng.uniform(0.14, 0.18), 0.04), _pick(rng, BRIGHT + FABRIC))]


def _laptop(rng):
    gray = _pick(rng, METAL)
    return [Part((0, 0, 0.01), (0.34, 0.24, 0.02), gray), Part((0, -0.115, 0.12), (0.34, 0.01, 0.22), gray)]


def _bowl(rng):
    return [Part((0, 0, 0.035), (0.16, 0.16, 0.07), _pick(rng, BRIGHT + WHITE))]


def _bottle(rng):
    color = _pick(rng, [(0.2, 0.5, 0.3), (0.3, 0.5, 0.8), (0.9, 0.9, 0.9)])
    return [Part((0, 0, 0.1), (0.07, 0.07, 0.2), color), Part((0, 0, 0.23), (0.03, 0.03, 0.06), color)]


def _vase(rng):
    color = _pick(rng, BRIGHT + WHITE)
    return [Part((0, 0, 0.1), (0.12, 0.12, 0.2), color), Part((0, 0, 0.23), (0.08, 0.08, 0.06), color)]


@dataclass(frozen=True)
class Category:
    """How a category is built and placed: against a wall (back to it) or free-standing."""

    build: Callable[[np.random.Generator], list[Part]]
    against_wall: bool = False
    support: bool = False


FURNITURE: dict[str, Category] = {
    "table": Category(_table, support=True),
    "desk": Category(_desk, against_wall=True, support=True),
    "chair": Category(_chair),
    "stool": Category(_stool),
    "sofa": Category(_sofa, against_wall=True),
    "bed": Category(_bed, against_wall=True),
    "tv": Category(_tv, against_wall=True),
    "cabinet": Category(_cabinet, against_wall=True, support=True),
    "nightstand": Category(_nightstand, against_wall=True, support=True),
    "shelf": Category(_shelf, against_wall=True),
    "lamp": Category(_lamp),
    "plant": Category(_plant),
    "refrigerator": Category(_refrigerator, against_wall=True),
    "trash can": Category(_trash_can),
}
SMALL_OBJECTS = {"cup": _cup, "book": _book, "laptop": _laptop, "bowl": _bowl, "bottle": _bottle, "vase": _vase}
CATEGORIES = tuple(FURNITURE) + tuple(SMALL_OBJECTS) + ("door",)
"""Every label a scene can contain; no label is a substring of another, so text matching is safe."""

THEMES: dict[str, list[tuple[str, int, int]]] = {
    # (category, min count, max count); chairs are also added around tables and desks.
    "living room": [("sofa", 1, 1), ("tv", 1, 1), ("table", 0, 1), ("cabinet", 1, 2), ("lamp", 1, 2),
                    ("plant", 1, 3), ("shelf", 0, 2), ("stool", 0, 2), ("trash can", 0, 1)],
    "bedroom": [("bed", 1, 1), ("nightstand", 1, 2), ("cabinet", 0, 2), ("lamp", 1, 2), ("desk", 0, 1),
                ("plant", 0, 2), ("shelf", 0, 1), ("tv", 0, 1), ("trash can", 0, 1)],
    "office": [("desk", 1, 3), ("shelf", 1, 2), ("cabinet", 1, 2), ("plant", 1, 2), ("lamp", 0, 1),
               ("sofa", 0, 1), ("trash can", 1, 2), ("table", 0, 1)],
    "kitchen": [("table", 1, 1), ("refrigerator", 1, 1), ("cabinet", 2, 4), ("plant", 0, 2), ("stool", 0, 3),
                ("trash can", 1, 1), ("lamp", 0, 1), ("tv", 0, 1)],
}


# ----------------------------------------------------------------------------------------------
# Placement


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test for two convex polygons (N x 2, M x 2)."""
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        for ex, ey in edges:
            axis = np.array([-ey, ex])
            pa, pb = a @ axis, b @ axis
            if pa.max() <= pb.min() or pb.max() <= pa.min():
                return False
    return True


def _inflate(poly: np.ndarray, margin: float) -> np.ndarray:
    """Grow a rectangle (4 x 2, counter-clockwise) by `margin` on every side."""
    e1 = poly[1] - poly[0]
    e2 = poly[3] - poly[0]
    u, v = e1 / np.linalg.norm(e1), e2 / np.linalg.norm(e2)
    signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    return poly + margin * (signs[:, :1] * u + signs[:, 1:] * v)


WALKWAY = 0.6
"""Gap (m) kept around free-standing furniture so the floor stays walkable and connected."""
WALL_GAP = 0.1
"""Gap between two pieces standing against walls (a row of cabinets)."""
GROUP_GAP = 0.02
"""Gap between pieces of one group (chairs around their table)."""


class _Layout:
    """Floor-plan bookkeeping for rejection sampling: footprints with their placement kind."""

    def __init__(self, room: Room):
        self.room = room
        self.footprints: list[tuple[np.ndarray, bool, int]] = []  # (polygon, against wall, group)

    def inside(self, poly: np.ndarray, margin: float = 0.01) -> bool:
        r = self.room
        return bool(
            (poly[:, 0] >= r.xmin + margin).all() and (poly[:, 0] <= r.xmax - margin).all()
            and (poly[:, 1] >= r.ymin + margin).all() and (poly[:, 1] <= r.ymax - margin).all()
        )

    def free(self, poly: np.ndarray, against_wall: bool, group: int = -1) -> bool:
        if not self.inside(poly):
            return False
        for other, other_wall, other_group in self.footprints:
            if group >= 0 and other_group == group:
                gap = GROUP_GAP
            else:
                gap = WALL_GAP if against_wall and other_wall else WALKWAY
            if _overlap(_inflate(poly, gap), other):
                return False
        return True

    def add(self, poly: np.ndarray, against_wall: bool, group: int = -1) -> int:
        """Record a footprint; returns its group (a new one unless `group` is given)."""
        group = len(self.footprints) if group < 0 else group
        self.footprints.append((poly, against_wall, group))
        return group


def _wall_pose(rng, room: Room, lo: np.ndarray, hi: np.ndarray, wall: int, gap: float):
    """Pose putting the local -y side (the back) against `wall` (0: -y, 1: +x, 2: +y, 3: -x)."""
    yaw = wall * math.pi / 2
    back = -lo[1]  # distance from local origin to the back face
    half_len = max(-lo[0], hi[0])
    if wall in (0, 2):
        x = rng.uniform(room.xmin + half_len + 0.05, room.xmax - half_len - 0.05)
        y = room.ymin + back + gap if wall == 0 else room.ymax - back - gap
    else:
        y = rng.uniform(room.ymin + half_len + 0.05, room.ymax - half_len - 0.05)
        x = room.xmax - back - gap if wall == 1 else room.xmin + back + gap
    return x, y, yaw


def _free_pose(rng, room: Room):
    x = rng.uniform(room.xmin + 0.3, room.xmax - 0.3)
    y = rng.uniform(room.ymin + 0.3, room.ymax - 0.3)
    if rng.random() < 0.6:
        yaw = rng.integers(4) * math.pi / 2 + rng.uniform(-0.05, 0.05)
    else:
        yaw = rng.uniform(-math.pi, math.pi)
    return x, y, yaw


class SceneGenerationError(RuntimeError):
    """No valid layout was found for a seed (should not happen with the default catalogue)."""


def generate_scene(seed: int) -> Scene:
    """A random furnished room, deterministic in `seed`.

    Rooms are 3.5-8 m per side with 2.5-3 m walls, a door on one wall, 6-15 pieces of furniture of
    a theme (living room, bedroom, office, kitchen) placed without overlaps, chairs around tables
    and desks, and small objects (cup, book, laptop ...) on tables, desks and cabinets. Layouts
    that would leave too little walkable floor for the camera are re-drawn.
    """
    from .trajectory import free_space  # local: trajectory imports this module

    for attempt in range(50):
        rng = np.random.default_rng([seed, attempt])
        scene = _try_scene(seed, rng)
        if scene is not None and free_space(scene).usable:
            return scene
    raise SceneGenerationError(f"no valid layout found for seed {seed}")


def _try_scene(seed: int, rng: np.random.Generator) -> Scene | None:
    lx, ly = rng.uniform(3.5, 8.0, size=2)
    x0, y0 = rng.uniform(-2.0, 2.0, size=2)
    room = Room(x0 - lx / 2, x0 + lx / 2, y0 - ly / 2, y0 + ly / 2, float(rng.uniform(2.5, 3.0)))
    theme = list(THEMES)[rng.integers(len(THEMES))]
    layout = _Layout(room)
    objects: list[SceneObject] = []

    def add(label: str, parts: list[Part], x: float, y: float, z: float, yaw: float, parent=None) -> SceneObject:
        obj = SceneObject(len(objects) + 1, label, parts, np.array([x, y, z]), float(yaw), parent)
        objects.append(obj)
        return obj

    # The door first: it reserves a clear zone in front of it.
    parts = _door(rng)
    wall = int(rng.integers(4))
    lo, hi = _bounds(parts)
    x, y, yaw = _wall_pose(rng, room, lo, hi, wall, gap=-0.01)
    door = add("door", parts, x, y, 0.0, yaw)
    clear = door.footprint()
    inward = rot_z(yaw)[:2, 1]
    layout.add(_inflate(np.vstack([clear[:2], clear[2:] + inward * 1.0]), 0.1), against_wall=True)

    wanted: list[str] = []
    for label, lo_n, hi_n in THEMES[theme]:
        wanted += [label] * int(rng.integers(lo_n, hi_n + 1))
    # Large pieces first so they still find room; area budget keeps floor walkable.
    built = [(label, FURNITURE[label].build(rng)) for label in wanted]
    built.sort(key=lambda lp: -_area(lp[1]))
    budget = 0.4 * room.floor_area
    n_furniture = 0
    for label, parts in built:
        if n_furniture >= 15:
            break
        area = _area(parts)
        if area > budget:
            continue
        placed = _place(rng, layout, label, parts, add)
        if placed is None:
            continue
        obj, group = placed
        budget -= area
        n_furniture += 1
        if label in ("table", "desk"):
            n_furniture += _add_chairs(rng, layout, obj, group, add, 15 - n_furniture)
    if n_furniture < 6:
        return None

    for obj in [o for o in objects if o.label in FURNITURE and FURNITURE[o.label].support]:
        _add_small_objects(rng, obj, add)

    wall_color = _pick(rng, [(0.88, 0.86, 0.80), (0.80, 0.85, 0.88), (0.90, 0.88, 0.84), (0.78, 0.82, 0.76)])
    floor_color = _pick(rng, [(0.55, 0.42, 0.30), (0.62, 0.60, 0.58), (0.45, 0.33, 0.24), (0.70, 0.62, 0.50)])
    return Scene(seed, room, objects, theme, wall_color, floor_color)


def _bounds(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    centers = np.array([p.center for p in parts])
    sizes = np.array([p.size for p in parts])
    return (centers - sizes / 2).min(axis=0), (centers + sizes / 2).max(axis=0)


def _area(parts: list[Part]) -> float:
    lo, hi = _bounds(parts)
    return float((hi[0] - lo[0]) * (hi[1] - lo[1]))


def _footprint(lo, hi, x, y, yaw) -> np.ndarray:
    local = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    return local @ rot_z(yaw)[:2, :2].T + np.array([x, y])


def _place(rng, layout: _Layout, label: str, parts: list[Part], add, tries: int = 150):
    """Rejection-sample a free pose; returns (object, layout group) or None."""
    lo, hi = _bounds(parts)
    category = FURNITURE[label]
    for _ in range(tries):
        if category.against_wall:
            x, y, yaw = _wall_pose(rng, layout.room, lo, hi, int(rng.integers(4)), gap=rng.uniform(0.01, 0.05))
        else:
            x, y, yaw = _free_pose(rng, layout.room)
        poly = _footprint(lo, hi, x, y, yaw)
        if layout.free(poly, category.against_wall):
            group = layout.add(poly, category.against_wall)
            return add(label, parts, x, y, 0.0, yaw), group
    return None


def _add_chairs(rng, layout: _Layout, table: SceneObject, group: int, add, room_left: int) -> int:
    """Chairs facing a table (long sides) or a desk (front); returns how many were placed.

    The chairs join the table's layout `group`: close to it and to each other, with the usual
    walkway from everything else.
    """
    lo, hi = table._local_bounds
    if table.label == "desk":
        n_wanted, slots = 1, [(1, 0.0)]
    else:
        n_wanted = int(rng.integers(2, 5))
        xs = np.linspace(lo[0], hi[0], 4)[1:-1]
        slots = [(side, float(x)) for side in (-1, 1) for x in xs]
        rng.shuffle(slots)
    placed = 0
    for side, x_local in slots:
        if placed >= min(n_wanted, room_left):
            break
        parts = _chair(rng)
        clo, chi = _bounds(parts)
        # The chair's front (local +y) faces the table, 5 cm out from its edge.
        edge = hi[1] if side > 0 else lo[1]
        local = np.array([x_local, edge + side * (chi[1] + 0.05)])
        x, y = table.rotation[:2, :2] @ local + table.position[:2]
        yaw = table.yaw + (math.pi if side > 0 else 0.0) + rng.uniform(-0.15, 0.15)
        poly = _footprint(clo, chi, x, y, yaw)
        if layout.free(poly, against_wall=False, group=group):
            layout.add(poly, against_wall=False, group=group)
            add("chair", parts, x, y, 0.0, yaw)
            placed += 1
    return placed


def _add_small_objects(rng, support: SceneObject, add) -> None:
    """0-3 small objects on the top of a table, desk, nightstand or cabinet, not overlapping."""
    lo, hi = support._local_bounds
    top = support.height
    n = int(rng.integers(0, 4))
    placed: list[np.ndarray] = []
    names = list(SMALL_OBJECTS)
    for _ in range(n * 10):
        if len(placed) >= n:
            break
        label = names[rng.integers(len(names))]
        if label == "laptop" and support.label not in ("desk", "table"):
            continue
        parts = SMALL_OBJECTS[label](rng)
        slo, shi = _bounds(parts)
        r = float(np.hypot(*(shi[:2] - slo[:2]))) / 2
        if hi[0] - lo[0] < 2 * r + 0.1 or hi[1] - lo[1] < 2 * r + 0.1:
            continue
        local = np.array([rng.uniform(lo[0] + r + 0.05, hi[0] - r - 0.05),
                          rng.uniform(lo[1] + r + 0.05, hi[1] - r - 0.05)])
        x, y = support.rotation[:2, :2] @ local + support.position[:2]
        yaw = support.yaw + (rng.uniform(-0.4, 0.4) if label == "laptop" else rng.uniform(-math.pi, math.pi))
        poly = _footprint(slo, shi, x, y, yaw)
        if any(_overlap(_inflate(poly, 0.03), p) for p in placed):
            continue
        placed.append(poly)
        add(label, parts, x, y, top, yaw, parent=support.id)
