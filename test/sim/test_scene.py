"""Scene generation: valid layouts, consistent ground-truth boxes, exact-enough distances."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reasmory_ros.sim.catalogue import CATEGORIES, FURNITURE
from reasmory_ros.sim.layout import _overlap, generate_scene
from reasmory_ros.sim.scene import Part, Room, Scene, SceneObject
from reasmory_ros.sim.trajectory import camera_trajectory, free_space

SEEDS = [0, 1, 2, 3, 7]


@pytest.fixture(scope="module", params=SEEDS)
def scene(request) -> Scene:
    return generate_scene(request.param)


def test_deterministic_in_seed():
    assert generate_scene(5).to_dict() == generate_scene(5).to_dict()
    assert generate_scene(5).to_dict() != generate_scene(6).to_dict()


def test_room_and_furniture_ranges(scene):
    room = scene.room
    assert 3.5 <= room.xmax - room.xmin <= 8.0 and 3.5 <= room.ymax - room.ymin <= 8.0
    assert 2.5 <= room.height <= 3.0
    assert room.floor_area == pytest.approx((room.xmax - room.xmin) * (room.ymax - room.ymin))
    furniture = [o for o in scene.objects if o.label in FURNITURE]
    assert 6 <= len(furniture) <= 15
    assert scene.counts()["door"] == 1
    assert {o.label for o in scene.objects} <= set(CATEGORIES)
    assert sorted(o.id for o in scene.objects) == list(range(1, len(scene.objects) + 1))


def test_objects_inside_room_and_not_overlapping(scene):
    room = scene.room
    floor = [o for o in scene.objects if o.parent is None]
    for obj in scene.objects:
        c = obj.corners()
        assert (c[:, 0] >= room.xmin - 0.05).all() and (c[:, 0] <= room.xmax + 0.05).all()
        assert (c[:, 1] >= room.ymin - 0.05).all() and (c[:, 1] <= room.ymax + 0.05).all()
        assert c[:, 2].min() >= -1e-9 and c[:, 2].max() <= room.height
    for i, a in enumerate(floor):
        for b in floor[i + 1:]:
            assert not _overlap(a.footprint(), b.footprint()), (a.label, b.label)


def test_small_objects_rest_on_their_support(scene):
    for obj in scene.objects:
        if obj.parent is None:
            continue
        support = scene.object(obj.parent)
        assert obj.position[2] == pytest.approx(support.height)
        lo, hi = support.corners()[:, :2].min(axis=0), support.corners()[:, :2].max(axis=0)
        assert (lo - 1e-6 <= obj.center[:2]).all() and (obj.center[:2] <= hi + 1e-6).all()


def test_box_contains_surface_samples(scene):
    for obj in scene.objects:
        center, extent, yaw = obj.box
        assert extent[0] >= extent[1] > 0 and extent[2] > 0
        assert -math.pi / 2 < yaw <= math.pi / 2
        local = (obj.points - center) @ np.array([[math.cos(yaw), -math.sin(yaw), 0],
                                                  [math.sin(yaw), math.cos(yaw), 0], [0, 0, 1]])
        assert (np.abs(local) <= extent / 2 + 1e-6).all(), obj.label
        # The box is tight: samples reach every face.
        assert np.allclose(np.abs(local).max(axis=0), extent / 2, atol=1e-6)


def test_closest_distance_matches_brute_force_and_geometry():
    room = Room(0, 6, 0, 6, 2.6)
    a = SceneObject(1, "cabinet", [Part((0, 0, 0.5), (1.0, 0.5, 1.0), (1, 0, 0))], np.array([1.0, 3.0, 0.0]), 0.0)
    b = SceneObject(2, "shelf", [Part((0, 0, 1.0), (0.5, 0.5, 2.0), (0, 1, 0))], np.array([4.0, 3.0, 0.0]), 0.3)
    scene = Scene(0, room, [a, b])
    # Faces: a spans x <= 1.5; b (rotated 0.3 rad) reaches x = 4 - 0.25 (cos 0.3 + sin 0.3).
    expected = 4.0 - 0.25 * (math.cos(0.3) + math.sin(0.3)) - 1.5
    assert a.distance_to(b) == pytest.approx(expected, abs=0.01)
    assert b.distance_to(a) == pytest.approx(a.distance_to(b))
    pa, pb = a.points[::5], b.points[::5]
    brute = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1)).min()
    assert a.distance_to(b) <= brute + 1e-9 and brute - a.distance_to(b) < 0.05
    assert scene.object(2) is b
    assert a.distance_to_point([1.0, 3.0, 2.0]) == pytest.approx(1.0, abs=0.01)


def test_json_round_trip_keeps_geometry(scene):
    again = Scene.from_dict(scene.to_dict())
    for a, b in zip(scene.objects, again.objects):
        assert a.label == b.label and a.parent == b.parent
        assert np.allclose(a.center, b.center) and np.allclose(a.extent, b.extent)
        assert a.box_yaw == pytest.approx(b.box_yaw)
        assert np.allclose(a.points, b.points)
    assert again.room == scene.room


def test_trajectory_is_smooth_inside_free_space_and_optical(scene):
    n = 120
    path = camera_trajectory(scene, n, seed=0)
    assert path.poses.shape == (n, 4, 4) and np.all(np.diff(path.timestamps) > 0)
    pos = path.positions
    room = scene.room
    assert (pos[:, 0] > room.xmin + 0.3).all() and (pos[:, 0] < room.xmax - 0.3).all()
    assert (pos[:, 1] > room.ymin + 0.3).all() and (pos[:, 1] < room.ymax - 0.3).all()
    assert (pos[:, 2] > 1.05).all() and (pos[:, 2] < 1.75).all()
    steps = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    assert steps.max() < 4 * np.median(steps) + 0.02
    space = free_space(scene)
    ij = np.floor((pos[:, :2] - space.origin) / 0.05).astype(int)
    assert space.clearance[ij[:, 0], ij[:, 1]].min() > 0.15  # never inside furniture
    R = path.poses[:, :3, :3]
    assert np.allclose(np.einsum("nij,nik->njk", R, R), np.eye(3), atol=1e-9)
    assert (R[:, 2, 2] < 0).all()  # optical z (forward) points slightly down
    assert (np.abs(R[:, 2, 0]) < 0.1).all()  # optical x (right) stays near horizontal
    assert (R[:, 2, 1] < 0).all()  # optical y points down
