"""Room layouts: rejection sampling of furniture footprints into a walkable room (`generate_scene`)."""

from __future__ import annotations

import math

import numpy as np

from .catalogue import FURNITURE, SMALL_OBJECTS, THEMES, build_chair, build_door, pick_color
from .scene import Part, Room, Scene, SceneObject, footprint_polygon, parts_bounds, rot_z
from .trajectory import free_space


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
    parts = build_door(rng)
    wall = int(rng.integers(4))
    lo, hi = parts_bounds(parts)
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

    wall_color = pick_color(rng, [(0.88, 0.86, 0.80), (0.80, 0.85, 0.88), (0.90, 0.88, 0.84), (0.78, 0.82, 0.76)])
    floor_color = pick_color(rng, [(0.55, 0.42, 0.30), (0.62, 0.60, 0.58), (0.45, 0.33, 0.24), (0.70, 0.62, 0.50)])
    return Scene(seed, room, objects, theme, wall_color, floor_color)


def _area(parts: list[Part]) -> float:
    lo, hi = parts_bounds(parts)
    return float((hi[0] - lo[0]) * (hi[1] - lo[1]))


def _place(rng, layout: _Layout, label: str, parts: list[Part], add, tries: int = 150):
    """Rejection-sample a free pose; returns (object, layout group) or None."""
    lo, hi = parts_bounds(parts)
    category = FURNITURE[label]
    for _ in range(tries):
        if category.against_wall:
            x, y, yaw = _wall_pose(rng, layout.room, lo, hi, int(rng.integers(4)), gap=rng.uniform(0.01, 0.05))
        else:
            x, y, yaw = _free_pose(rng, layout.room)
        poly = footprint_polygon(lo, hi, x, y, yaw)
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
        parts = build_chair(rng)
        clo, chi = parts_bounds(parts)
        # The chair's front (local +y) faces the table, 5 cm out from its edge.
        edge = hi[1] if side > 0 else lo[1]
        local = np.array([x_local, edge + side * (chi[1] + 0.05)])
        x, y = table.rotation[:2, :2] @ local + table.position[:2]
        yaw = table.yaw + (math.pi if side > 0 else 0.0) + rng.uniform(-0.15, 0.15)
        poly = footprint_polygon(clo, chi, x, y, yaw)
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
        slo, shi = parts_bounds(parts)
        r = float(np.hypot(*(shi[:2] - slo[:2]))) / 2
        if hi[0] - lo[0] < 2 * r + 0.1 or hi[1] - lo[1] < 2 * r + 0.1:
            continue
        local = np.array([rng.uniform(lo[0] + r + 0.05, hi[0] - r - 0.05),
                          rng.uniform(lo[1] + r + 0.05, hi[1] - r - 0.05)])
        x, y = support.rotation[:2, :2] @ local + support.position[:2]
        yaw = support.yaw + (rng.uniform(-0.4, 0.4) if label == "laptop" else rng.uniform(-math.pi, math.pi))
        poly = footprint_polygon(slo, shi, x, y, yaw)
        if any(_overlap(_inflate(poly, 0.03), p) for p in placed):
            continue
        placed.append(poly)
        add(label, parts, x, y, top, yaw, parent=support.id)
