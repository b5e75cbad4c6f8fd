"""Depth registration against ray-cast ground truth: a depth camera with its own resolution, field
of view and mount, registered into the colour camera, equals what the colour camera would see."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import maximum_filter, minimum_filter
from scipy.spatial.transform import Rotation

from reasmory_ros.sim.layout import generate_scene
from reasmory_ros.sim.render import render_frame
from reasmory_ros.sim.trajectory import camera_trajectory
from reasmory_ros.streams import ImageDecodeError
from reasmory_ros.streams.camera import Intrinsics
from reasmory_ros.streams.registration import DepthRegistration


def pinhole(width, height, fov_x_deg):
    f = width / (2 * np.tan(np.radians(fov_x_deg) / 2))
    return Intrinsics(np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1.0]]), width, height)


COLOR = pinhole(160, 120, 62.0)
T_COLOR_DEPTH = np.eye(4)
T_COLOR_DEPTH[:3, :3] = Rotation.from_euler("xyz", [0.8, -1.2, 0.5], degrees=True).as_matrix()
T_COLOR_DEPTH[:3, 3] = [-0.05, 0.004, 0.002]


@pytest.fixture(scope="module")
def views():
    """(T_world_color) of a few poses along a furnished room's camera loop."""
    scene = generate_scene(4)
    poses = camera_trajectory(scene, 12, seed=1).poses
    return scene, [poses[i] for i in (0, 5, 9)]


@pytest.mark.parametrize("depth_camera", [pinhole(160, 120, 75.0), pinhole(96, 72, 75.0)],
                         ids=["same size, wider", "lower resolution"])
def test_registered_depth_matches_the_colour_cameras_own_depth(views, depth_camera):
    scene, poses = views
    register = DepthRegistration(depth_camera, COLOR, T_COLOR_DEPTH)
    for T_world_color in poses:
        raw = render_frame(scene, T_world_color @ T_COLOR_DEPTH, depth_camera.K, depth_camera.width,
                           depth_camera.height, noise=False).depth
        truth = render_frame(scene, T_world_color, COLOR.K, COLOR.width, COLOR.height, noise=False).depth
        registered = register(raw)
        assert registered.shape == truth.shape and registered.dtype == np.float32
        both = (registered > 0) & (truth > 0)
        assert both.sum() > 0.9 * (truth > 0).sum()  # no regular holes, even from fewer depth pixels
        # Away from depth edges a registered pixel carries a depth sample up to a depth pixel away:
        # on slanted surfaces that is millimetres to a centimetre at this coarse resolution.
        edges = (maximum_filter(truth, 5) - minimum_filter(truth, 5)) > 0.05
        error = (registered - truth)[both & ~edges]
        assert np.median(np.abs(error)) < 0.015
        assert np.mean(np.abs(error) < 0.03) > 0.99
        # At edges a depth pixel's footprint overlaps both surfaces and the z-buffer keeps the
        # nearer: foreground grows by under a pixel. (The few farther ones are thin parts, such as
        # chair legs, narrower than a depth pixel and so missing from the depth image itself.)
        wrong = both & (np.abs(registered - truth) > 0.05)
        assert (registered[wrong] < truth[wrong]).mean() > 0.9


def test_the_nearer_surface_wins_where_two_land_on_one_pixel():
    flat = pinhole(8, 1, 60.0)
    T = np.eye(4)
    T[0, 3] = -0.5  # a large baseline shifts near points by more pixels than far ones
    register = DepthRegistration(flat, flat, T)
    far = np.full((1, 8), 4.0, np.float32)
    near = far.copy()
    near[0, 4] = 1.0
    column = int(np.floor(flat.K[0, 0] * ((4 - flat.K[0, 2]) / flat.K[0, 0] - 0.5) + flat.K[0, 2] + 0.5))
    assert register(far)[0, column] == pytest.approx(4.0)  # a far point lands there too
    assert register(near)[0, column] == pytest.approx(1.0)  # the z-buffer keeps the nearer


def test_invalid_depth_stays_invalid_and_a_wrong_size_is_refused():
    camera = pinhole(16, 12, 60.0)
    register = DepthRegistration(camera, camera, np.eye(4))
    depth = np.full((12, 16), 2.0, np.float32)
    depth[3, 4], depth[5, 6], depth[7, 8] = 0.0, np.nan, np.inf
    out = register(depth)
    assert out[3, 4] == 0 and out[5, 6] == 0 and out[7, 8] == 0
    assert np.allclose(np.delete(out.ravel(), [3 * 16 + 4, 5 * 16 + 6, 7 * 16 + 8]), 2.0)
    with pytest.raises(ImageDecodeError, match="camera_info is for 16x12"):
        register(np.ones((10, 10), np.float32))
    with pytest.raises(ValueError, match="no image size"):
        DepthRegistration(Intrinsics(camera.K, 0, 0), camera, np.eye(4))


def test_every_kind_of_invalid_point_is_left_out():
    """Zero, negative, below 1 mm, NaN and +/- infinite depth, and points behind the colour camera,
    leave no depth in the colour image, wherever the projection would have put them."""
    camera = pinhole(16, 12, 60.0)
    register = DepthRegistration(camera, camera, np.eye(4))
    depth = np.full((12, 16), 2.0, np.float32)
    bad = {(1, 1): -1.0, (2, 2): -np.inf, (3, 3): 5e-4, (4, 4): np.nextafter(np.float32(1e-3), np.float32(0))}
    for (row, column), value in bad.items():
        depth[row, column] = value
    out = register(depth)
    for row, column in bad:
        assert out[row, column] == 0
    assert np.count_nonzero(out) == 16 * 12 - len(bad)
    T_behind = np.eye(4)
    T_behind[2, 3] = -3.0  # the depth camera 3 m behind the colour camera: 2 m depth is behind it
    assert not register.__class__(camera, camera, T_behind)(np.full((12, 16), 2.0, np.float32)).any()


@pytest.mark.parametrize("depth_camera", [pinhole(64, 48, 87.0), pinhole(32, 24, 87.0)], ids=["2x2", "3x3"])
def test_the_footprint_equals_splatting_every_point(depth_camera):
    """The z-buffer's min filter over the footprint gives what splatting each point over the
    footprint and keeping the nearest gives (a per-point loop in float64 as the reference)."""
    color = pinhole(64, 48, 62.0)
    register = DepthRegistration(depth_camera, color, T_COLOR_DEPTH)
    f = register.footprint
    assert f == int(np.ceil(color.K[0, 0] / depth_camera.K[0, 0]))
    rng = np.random.default_rng(3)
    depth = rng.uniform(0.4, 5.0, (depth_camera.height, depth_camera.width)).astype(np.float32)
    depth[rng.random(depth.shape) < 0.2] = 0.0
    reference = np.full((color.height, color.width), np.inf)
    Kd, Kc = depth_camera.K, color.K
    for v, u in zip(*np.nonzero(depth)):
        z = float(depth[v, u])
        point = T_COLOR_DEPTH[:3, :3] @ (z * np.array([(u - Kd[0, 2]) / Kd[0, 0], (v - Kd[1, 2]) / Kd[1, 1], 1.0]))
        x, y, d = Kc @ (point + T_COLOR_DEPTH[:3, 3])
        first = np.floor(np.array([x / d, y / d]) + 0.5 - (f - 1) / 2).astype(int)
        for j in range(f):
            for i in range(f):
                column, row = first[0] + i, first[1] + j
                if 0 <= column < color.width and 0 <= row < color.height:
                    reference[row, column] = min(reference[row, column], d)
    reference[np.isinf(reference)] = 0
    out = register(depth)
    # float32 against float64: a projection within rounding of a pixel boundary may go either way.
    assert np.mean(np.abs(out - reference) < 1e-4) > 0.995
    assert np.count_nonzero(out) == pytest.approx(np.count_nonzero(reference), abs=3)
