"""The gravity box fit on partial and bled views: the yaw follows the faces seen.

Synthetic point sets as an object's reservoir holds them (one point per 3 cm voxel, depth noise
along the viewing direction), fitted by the memory's own `fit_gravity_boxes`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.geometry import FAR, distances, fit_gravity_boxes
from reasmory_ros.memory.objects import ObjectTable

VOXEL = 0.03


def _fit(local: np.ndarray, yaw: float, slots: int = 384) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit the box of points given in the object's frame, turned by yaw and moved to (2, 1)."""
    c, s = math.cos(yaw), math.sin(yaw)
    world = local @ np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]) + [2.0, 1.0, 0.0]
    points = np.full((1, slots, 3), FAR, dtype=np.float32)
    points[0, : len(world)] = world[:slots]
    weights = torch.zeros(1, slots)
    weights[0, : len(world)] = 1.0
    center, extent, fitted = fit_gravity_boxes(torch.from_numpy(points), weights, 0.02, 0.005, VOXEL)
    return center[0].numpy(), extent[0].numpy(), float(fitted[0])


def _yaw_error(a: float, b: float) -> float:
    """Degrees between two box yaws (a box repeats every half turn)."""
    return abs(math.degrees((a - b + math.pi / 2) % math.pi - math.pi / 2))


def _least_area_yaw(local: np.ndarray) -> float:
    """The yaw of the min/max footprint rectangle of least area, in the object's frame."""
    yaws = np.radians(np.arange(0.0, 90.0, 0.5))
    areas = [np.ptp(local[:, :2] @ [math.cos(a), math.sin(a)]) * np.ptp(local[:, :2] @ [-math.sin(a), math.cos(a)])
             for a in yaws]
    return float(yaws[int(np.argmin(areas))])


@pytest.mark.parametrize("yaw", [0.0, 0.5, -1.2])
def test_an_object_seen_from_one_side_keeps_its_yaw(yaw):
    """A cabinet (1.0 x 0.42 x 0.9 m) against a wall, seen from the front and above at an angle:
    its front face (with 1.5 cm of depth noise) and the part of its top that the view reaches, a
    wedge deep at one end and shallow at the other."""
    rng = np.random.default_rng(7)
    length, depth, height = 1.0, 0.42, 0.9
    u, z = np.meshgrid(np.arange(-length / 2, length / 2, VOXEL), np.arange(0.0, height, VOXEL))
    front = np.stack([u.ravel(), depth / 2 + rng.normal(0.0, 0.015, u.size), z.ravel()], axis=1)
    tu, tv = np.meshgrid(np.arange(-length / 2, length / 2, VOXEL), np.arange(-depth / 2, depth / 2, VOXEL))
    seen = tv > depth / 2 - depth * (0.2 + 0.8 * (tu + length / 2) / length)
    top = np.stack([tu[seen], tv[seen], np.full(seen.sum(), height)], axis=1)
    local = np.concatenate([front, top])
    rng.shuffle(local)
    assert _yaw_error(_least_area_yaw(local), 0.0) > 8.0, "the partial footprint misleads the least area"

    _, extent, fitted = _fit(local, yaw)
    assert _yaw_error(fitted, yaw) < 2.0
    assert extent[0] == pytest.approx(length, abs=0.05) and extent[2] == pytest.approx(height, abs=0.03)


def test_floor_points_at_a_bled_objects_feet_do_not_turn_its_box():
    """A sofa (1.9 x 0.85 x 0.8 m) seen from all round whose masks bled onto the floor: a ragged
    band of floor points up to 12 cm around its foot."""
    rng = np.random.default_rng(3)
    length, width, height = 1.9, 0.85, 0.8
    faces = []
    for axis, half, other in ((0, length / 2, width / 2), (1, width / 2, length / 2)):
        a, z = np.meshgrid(np.arange(-other, other, VOXEL), np.arange(0.0, height, VOXEL))
        for sign in (-1.0, 1.0):
            face = np.zeros((a.size, 3))
            face[:, axis] = sign * half + rng.normal(0.0, 0.01, a.size)
            face[:, 1 - axis] = a.ravel()
            face[:, 2] = z.ravel()
            faces.append(face)
    surface = np.concatenate(faces)
    surface = surface[rng.choice(len(surface), 320, replace=False)]
    angle = rng.uniform(0.0, 2 * math.pi, 64)  # a sixth of the reservoir
    reach = rng.uniform(0.0, 0.12, 64) * rng.uniform(0.3, 1.0, 64)
    ring = np.stack([np.cos(angle) * (length / 2 + reach), np.sin(angle) * (width / 2 + reach), np.zeros(64)], axis=1)
    local = np.concatenate([surface, ring])
    rng.shuffle(local)
    _, extent, fitted = _fit(local, 0.3)
    assert _yaw_error(fitted, 0.3) < 3.0
    assert extent[:2] == pytest.approx([length, width], abs=0.08)


@pytest.mark.parametrize("origin", [0.0, 600.0, 3990.0])
def test_point_distances_hold_to_a_millimetre_far_from_the_world_origin(origin):
    """Reservoir links are decided at a few centimetres; float32 |a|^2 + |b|^2 - 2ab (cdist's
    path for sets of over 25 points) is off by decimetres at 600 m. Empty (FAR) slots stay far."""
    rng = np.random.default_rng(4)
    a = rng.uniform(0.0, 0.5, (3, 48, 3)) + [origin, -origin / 2, 1.0]
    b = np.concatenate([a[:, :40] + rng.normal(0.0, 0.03, (3, 40, 3)), np.full((3, 8, 3), FAR)], axis=1)
    a[:, -5:] = FAR
    found = distances(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)).double().numpy()
    truth = np.linalg.norm(a[:, :, None] - b[:, None], axis=-1)
    real = (a[..., 0] < FAR / 2)[:, :, None] & (b[..., 0] < FAR / 2)[:, None, :]
    np.testing.assert_allclose(found[real], truth[real], atol=1e-3)
    assert (found[~real & ~(truth == 0)] > 1e3).all()


def _box_points(rng, low, high, n: int) -> np.ndarray:
    """n points on the faces of the axis-aligned box low..high, top included, bottom left out."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    points = rng.uniform(low, high, (n, 3))
    face = rng.integers(0, 5, n)  # -x, +x, -y, +y, top
    axis, end = np.array([0, 0, 1, 1, 2])[face], np.array([0, 1, 0, 1, 1])[face]
    points[np.arange(n), axis] = np.where(end == 1, high[axis], low[axis])
    return points


def _table_with(reservoirs: list[np.ndarray]) -> ObjectTable:
    config = MemoryConfig()
    table = ObjectTable(config, torch.device("cpu"), torch.Generator())
    for slot, points in enumerate(reservoirs):
        table.active[slot] = True
        table.points[slot, : len(points)] = torch.tensor(points, dtype=torch.float32)
        table.point_weight[slot, : len(points)] = 1.0
    return table


def test_an_object_on_a_larger_one_is_fitted_above_its_top_and_reaches_down_to_it():
    """A bowl on a cabinet whose reservoir also holds a ring of the cabinet's top around it (masks
    that bled onto it), and a picture on the wall 35 cm above the same cabinet holding three of the
    cabinet's top points (a merged mask): the bowl's box is the bowl's, standing on the cabinet;
    the picture drops the stray points and keeps hanging where it hangs."""
    rng = np.random.default_rng(2)
    cabinet = _box_points(rng, (-0.45, 0.0, 0.0), (0.45, 0.45, 0.95), 380)
    bowl = _box_points(rng, (-0.08, 0.1, 0.95), (0.08, 0.26, 1.02), 60)
    angle = rng.uniform(0, 2 * np.pi, 60)
    ring = np.stack([0.15 * np.cos(angle), 0.18 + 0.15 * np.sin(angle), np.full(60, 0.95)], 1)
    picture = _box_points(rng, (-0.3, 0.40, 1.30), (0.3, 0.43, 1.70), 120)
    stray = np.array([[0.0, 0.40, 0.95], [0.1, 0.41, 0.95], [-0.1, 0.42, 0.94]])
    table = _table_with([cabinet, np.vstack([bowl, ring]), np.vstack([picture, stray])])
    table._refit(torch.tensor([0]))
    table._refit(torch.tensor([1, 2]))

    np.testing.assert_allclose(table.extent[1, :2].sort().values.numpy(), [0.16, 0.16], atol=0.03)
    assert abs(float(table.center[1, 2] - table.extent[1, 2] / 2) - 0.95) < 0.01  # on the cabinet
    assert abs(float(table.center[1, 2] + table.extent[1, 2] / 2) - 1.02) < 0.01
    assert abs(float(table.center[2, 2] - table.extent[2, 2] / 2) - 1.30) < 0.02  # still on the wall
    assert abs(float(table.extent[2, 2]) - 0.40) < 0.03
