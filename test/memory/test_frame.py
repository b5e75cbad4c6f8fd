"""Frame validation names the offending field (the node logs it as such)."""

from __future__ import annotations

import numpy as np
import pytest

from reasmory_ros.memory import Frame, FrameError

H, W = 24, 32


def _args(**override):
    args = dict(
        rgb=np.zeros((H, W, 3), np.uint8),
        depth=np.full((H, W), 2.0, np.float32),
        K=np.array([[30.0, 0, 16], [0, 30.0, 12], [0, 0, 1]]),
        T_world_camera=np.eye(4),
        timestamp=1.0,
        index=0,
    )
    args.update(override)
    return args


@pytest.mark.parametrize(
    ("override", "field"),
    [
        (dict(rgb=np.zeros((H, W), np.uint8)), "rgb"),
        (dict(rgb=np.zeros((H, W, 3), np.float32)), "rgb"),
        (dict(depth=np.ones((H, W + 1), np.float32)), "depth"),
        (dict(depth=np.ones((H, W), np.uint16)), "depth"),
        (dict(depth=np.full((H, W), np.nan, np.float32)), "depth"),
        (dict(K=np.diag([0.0, 30.0, 1.0])), "K"),
        (dict(K=np.eye(2)), "K"),
        (dict(T_world_camera=np.diag([1.0, 1.0, -1.0, 1.0])), "T_world_camera"),
        (dict(T_world_camera=np.eye(4) * 2), "T_world_camera"),
        (dict(T_world_camera=np.array([[1, 0, 0, 2.0e4], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])), "T_world_camera"),
        (dict(timestamp=float("inf")), "timestamp"),
        (dict(index=-1), "index"),
        (dict(instances=np.zeros((H, W + 2), np.int32)), "instances"),
        (dict(instances=np.zeros((H, W), np.float32)), "instances"),
        (dict(labels={1: "chair"}), "labels"),
    ],
)
def test_bad_field_is_named(override, field):
    with pytest.raises(FrameError) as info:
        Frame.create(**_args(**override))
    assert info.value.field == field
    assert field in str(info.value)


def test_invalid_depth_values_become_zero():
    depth = np.full((H, W), 2.0, np.float32)
    depth[0, :3] = [np.nan, np.inf, -1.0]
    frame = Frame.create(**_args(depth=depth))
    assert np.all(frame.depth[0, :3] == 0.0)
    assert np.all(frame.depth[1:] == 2.0)
