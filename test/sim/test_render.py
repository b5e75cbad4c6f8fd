"""Rendering: depth obeys ray geometry, instances back-project into their GT boxes, ids renumber."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reasmory_ros.sim.layout import generate_scene
from reasmory_ros.sim.render import default_intrinsics, depth_sigma, render_frame, render_sequence, renderer_for
from reasmory_ros.sim.scene import Part, Room, Scene, SceneObject
from reasmory_ros.sim.trajectory import camera_trajectory, look_rotation

W, H = 160, 120


def _pose(x, y, z, yaw, pitch=0.0):
    T = np.eye(4)
    T[:3, :3] = look_rotation(yaw, pitch)
    T[:3, 3] = (x, y, z)
    return T


def _backproject(frame, mask):
    v, u = np.nonzero(mask)
    z = frame.depth[v, u]
    K = frame.K
    cam = np.column_stack([(u - K[0, 2]) / K[0, 0] * z, (v - K[1, 2]) / K[1, 1] * z, z])
    return cam @ frame.T_world_camera[:3, :3].T + frame.T_world_camera[:3, 3]


@pytest.fixture(scope="module")
def empty_room() -> Scene:
    return Scene(0, Room(-2.0, 3.0, -2.5, 2.5, 2.6), [])


def test_wall_depth_matches_ray_geometry(empty_room):
    # Facing the +x wall at 3 m: every pixel on the wall has depth exactly 3 m (fronto-parallel).
    frame = render_frame(empty_room, _pose(0.0, 0.0, 1.3, 0.0), default_intrinsics(W, H), W, H, noise=False)
    centre = frame.depth[H // 2 - 10:H // 2 + 10, W // 2 - 10:W // 2 + 10]
    assert np.allclose(centre, 3.0, atol=1e-4)
    assert frame.instances is not None and not frame.instances.any() and frame.labels == {}
    # Pitched down 30 deg, the centre ray meets the floor at height / sin(30) along the ray.
    frame = render_frame(empty_room, _pose(0.0, 0.0, 1.3, 0.0, -math.radians(30)), default_intrinsics(W, H),
                         W, H, noise=False)
    ray_length = 1.3 / math.sin(math.radians(30))
    # Pixel centre (cx, cy) lies on the optical axis: depth along z equals the ray length there.
    cy, cx = (H - 1) / 2, (W - 1) / 2
    assert frame.depth[int(cy), int(cx)] == pytest.approx(ray_length, rel=0.02)
    points = _backproject(frame, frame.depth > 0)
    floor = points[(points[:, 0] < 2.95) & (np.abs(points[:, 1]) < 2.45) & (points[:, 2] < 1.0)]
    assert len(floor) > 0.3 * W * H and np.abs(floor[:, 2]).max() < 1e-3  # floor points lie on z = 0


def test_noisy_depth_statistics(empty_room):
    frame = render_frame(empty_room, _pose(0.0, 0.0, 1.3, 0.0), default_intrinsics(W, H), W, H,
                         rng=np.random.default_rng(1))
    wall = frame.depth[H // 2 - 20:H // 2 + 20, W // 2 - 30:W // 2 + 30]
    valid = wall[wall > 0]
    assert abs(float(np.median(valid)) - 3.0) < 0.01
    assert float(np.std(valid)) == pytest.approx(float(depth_sigma(np.float32(3.0))), rel=0.3)
    assert 0.001 < 1 - valid.size / wall.size < 0.1  # a few random dropouts
    # Beyond the working range the sensor returns nothing.
    far = Scene(0, Room(-1.0, 12.0, -2.5, 2.5, 2.6), [])
    frame = render_frame(far, _pose(0.0, 0.0, 1.3, 0.0), default_intrinsics(W, H), W, H, rng=np.random.default_rng(1))
    assert not frame.depth[H // 2 - 5:H // 2 + 5, W // 2 - 5:W // 2 + 5].any()


def test_instance_points_lie_in_gt_box():
    cabinet = SceneObject(1, "cabinet", [Part((0, 0, 0.5), (0.8, 0.4, 1.0), (0.6, 0.4, 0.2))],
                          np.array([2.0, 0.3, 0.0]), 0.4)
    scene = Scene(0, Room(-2.0, 4.0, -2.5, 2.5, 2.6), [cabinet])
    for noise, tol in ((False, 1e-3), (True, 4 * float(depth_sigma(np.float32(2.5))))):
        frame = render_frame(scene, _pose(0.0, 0.0, 1.3, 0.0, -0.3), default_intrinsics(W, H), W, H,
                             rng=np.random.default_rng(2), noise=noise)
        (instance_id, label), = frame.labels.items()
        assert label == "cabinet"
        mask = (frame.instances == instance_id) & (frame.depth > 0)
        assert mask.sum() > 200
        local = (_backproject(frame, mask) - cabinet.center) @ np.array(
            [[math.cos(cabinet.box_yaw), -math.sin(cabinet.box_yaw), 0],
             [math.sin(cabinet.box_yaw), math.cos(cabinet.box_yaw), 0], [0, 0, 1]])
        outside = np.clip(np.abs(local) - cabinet.extent / 2, 0, None).max(axis=1)
        assert np.quantile(outside, 0.99) <= tol


def test_instance_ids_renumbered_but_labels_consistent():
    scene = generate_scene(4)
    camera = camera_trajectory(scene, 6, seed=0)
    rendered = list(render_sequence(scene, camera, width=W, height=H, seed=0))
    id_sets = []
    for r in rendered:
        frame = r.frame
        ids = set(np.unique(frame.instances)) - {0}
        assert ids == set(frame.labels) == set(r.instance_to_object)
        assert max(ids) <= 65535
        for instance_id, object_id in r.instance_to_object.items():
            assert frame.labels[instance_id] == scene.object(object_id).label
            assert r.pixel_counts[object_id] == int((frame.instances == instance_id).sum())
        id_sets.append(ids)
    # Same objects seen from neighbouring frames, but under different ids.
    common = set(rendered[0].pixel_counts) & set(rendered[1].pixel_counts)
    assert common
    ids0 = {o: i for i, o in rendered[0].instance_to_object.items()}
    ids1 = {o: i for i, o in rendered[1].instance_to_object.items()}
    assert any(ids0[o] != ids1[o] for o in common)
    # Deterministic in the seed.
    again = next(iter(render_sequence(scene, camera, width=W, height=H, seed=0)))
    assert np.array_equal(again.frame.depth, rendered[0].frame.depth)
    assert again.frame.labels == rendered[0].frame.labels


def test_frame_contract_fields():
    scene = generate_scene(2)
    camera = camera_trajectory(scene, 3, seed=1)
    r = list(render_sequence(scene, camera, width=W, height=H))[2]
    f = r.frame
    assert f.rgb.shape == (H, W, 3) and f.rgb.dtype == np.uint8
    assert f.depth.dtype == np.float32 and f.instances.dtype == np.int32
    assert f.index == 2 and f.timestamp == pytest.approx(camera.timestamps[2])
    assert np.allclose(f.T_world_camera, camera.poses[2]) and np.allclose(f.K, default_intrinsics(W, H))
    assert renderer_for(scene) is renderer_for(scene)
