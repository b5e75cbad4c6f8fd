"""Evidence of absence on exact geometry: a remembered surface against depth images of what the
camera now sees (the surface still there, gone with a wall behind, an occluder in front, a hole)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reasmory_ros.memory import MemoryConfig
from reasmory_ros.memory.absence import sample_points, see_through
from reasmory_ros.memory.geometry import FAR

CONFIG = MemoryConfig()
W, H, F = 64, 48, 50.0
K = torch.tensor([[F, 0, (W - 1) / 2], [0, F, (H - 1) / 2], [0, 0, 1]], dtype=torch.float64)
POSE = torch.eye(4, dtype=torch.float64)  # camera at the origin looking along +z
SURFACE = 2.0  # m, depth of the remembered patch


def patch(n: int = 40) -> torch.Tensor:
    """Points of a 0.4 x 0.4 m patch facing the camera at SURFACE metres, inside the image."""
    g = np.linspace(-0.2, 0.2, int(np.sqrt(n)))
    xy = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    return torch.tensor(np.column_stack([xy, np.full(len(xy), SURFACE)]), dtype=torch.float32)[None]


def evidence(depth: np.ndarray, points=None):
    points = patch() if points is None else points
    valid = torch.ones(points.shape[:2], dtype=torch.bool)
    return see_through(points, valid, POSE[None], K[None], torch.from_numpy(depth.astype(np.float32))[None],
                       torch.zeros(1, dtype=torch.int64), CONFIG)


def depth_with(value: float, hole_fraction: float = 0.0, seed: int = 0) -> np.ndarray:
    depth = np.full((H, W), value, dtype=np.float32)
    if hole_fraction:
        depth[np.random.default_rng(seed).random((H, W)) < hole_fraction] = 0.0
    return depth


@pytest.mark.parametrize(
    "scene, absent, present",
    [
        ("still there", False, True),
        ("gone, wall 1 m behind", True, False),
        ("gone, wall 0.15 m behind", True, False),
        ("occluder 0.5 m in front", False, False),
        ("depth hole", False, False),
        ("noisy surface", False, True),
    ],
)
def test_votes(scene, absent, present):
    depth = {
        "still there": depth_with(SURFACE),
        "gone, wall 1 m behind": depth_with(SURFACE + 1.0),
        "gone, wall 0.15 m behind": depth_with(SURFACE + 0.15),
        "occluder 0.5 m in front": depth_with(SURFACE - 0.5),
        "depth hole": depth_with(0.0),
        "noisy surface": depth_with(SURFACE)
        + np.random.default_rng(1).normal(0, 0.02, (H, W)).astype(np.float32),
    }[scene]
    votes = evidence(depth).votes(CONFIG)
    assert bool(votes[0][0]) is absent and bool(votes[1][0]) is present


def test_margin_separates_surface_from_what_lies_behind():
    """Just inside the margin is the surface; just outside is seen through."""
    margin = CONFIG.absence_margin + CONFIG.absence_depth_ratio * SURFACE
    inside = evidence(depth_with(SURFACE + 0.8 * margin))
    outside = evidence(depth_with(SURFACE + 1.2 * margin))
    assert inside.surface.all() and not inside.through.any()
    assert outside.through.all() and not outside.surface.any()


def test_an_edge_next_to_the_point_is_no_evidence():
    """A wall behind, but one pixel of the 3 x 3 neighbourhood still on the remembered surface
    (a thin part seen one pixel off): not seen through."""
    depth = depth_with(SURFACE + 1.0)
    depth[:, ::3] = SURFACE  # every third column still at the surface
    assert not evidence(depth).through.any()


def test_holes_abstain_and_the_rest_decides():
    """Random dropouts on a gone surface: the holes give no evidence, the readings left vote."""
    ev = evidence(depth_with(SURFACE + 1.0, hole_fraction=0.3))
    assert 0 < int(ev.through.sum()) < ev.through.numel()
    assert bool(ev.votes(CONFIG)[0][0])


def test_points_outside_the_image_or_behind_the_camera_abstain():
    behind = patch() * torch.tensor([1.0, 1.0, -1.0])
    aside = patch() + torch.tensor([5.0, 0.0, 0.0])
    for points in (behind, aside):
        ev = evidence(depth_with(SURFACE + 1.0), points)
        assert not ev.through.any() and not ev.surface.any()


def test_covered_points_vote_absent():
    """Surface readings inside another object's mask (a book taken off a cabinet) count as gone."""
    ev = evidence(depth_with(SURFACE))
    covered = torch.ones_like(ev.surface)
    absent, present = ev.votes(CONFIG, covered)
    assert bool(absent[0]) and not bool(present[0])


def test_sample_is_bounded_and_skips_empty_slots():
    generator = torch.Generator().manual_seed(0)
    reservoir = torch.full((3, 384, 3), FAR)
    reservoir[0, :10] = torch.rand(10, 3)  # a small object: 10 filled slots
    reservoir[1] = torch.rand(384, 3)
    points, valid = sample_points(reservoir, CONFIG.absence_points, generator)
    assert points.shape == (3, CONFIG.absence_points, 3)
    assert valid.sum(1).tolist() == [10, CONFIG.absence_points, 0]
    assert (points[0][valid[0]] < FAR / 2).all()
