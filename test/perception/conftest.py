"""Tiny random models saved to disk once per session, and short rendered RGB-D sequences."""

from __future__ import annotations

import numpy as np
import pytest

from reasmory_ros.perception import testing
from reasmory_ros.sim import CameraPath, camera_trajectory, generate_scene, render_sequence

CATEGORIES = ["chair", "table", "lamp", "sofa"]


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory) -> dict[str, str]:
    """name -> local model directory, written with save_pretrained like a downloaded model."""
    root = tmp_path_factory.mktemp("models")
    return {
        "owlv2": str(testing.save_random_owl(root / "owlv2", version=2)),
        "owlvit": str(testing.save_random_owl(root / "owlvit", version=1)),
        "grounding_dino": str(testing.save_random_grounding_dino(root / "grounding_dino")),
        "sam": str(testing.save_random_sam(root / "sam")),
        "depth_metric": str(testing.save_random_depth_anything(root / "depth_metric", "metric")),
        "depth_relative": str(testing.save_random_depth_anything(root / "depth_relative", "relative")),
    }


@pytest.fixture(scope="session")
def rendered():
    """30 frames (320 x 240) of smooth handheld motion through a furnished room, with GT poses.

    The first 30 poses of a 300-pose loop: about 0.6 m of walking with turning and shake.
    """
    scene = generate_scene(3)
    loop = camera_trajectory(scene, n_frames=300, seed=0)
    path = CameraPath(loop.poses[:30], loop.timestamps[:30])
    frames = [r.frame for r in render_sequence(scene, path, width=320, height=240)]
    return frames, np.array(path.poses)
