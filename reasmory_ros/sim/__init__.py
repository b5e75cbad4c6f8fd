"""Procedural indoor scenes, RGB-D + instance rendering, ground truth and bag writing (no ROS).

Typical use::

    scene = generate_scene(seed)
    camera = camera_trajectory(scene, n_frames=300, seed=0)
    for rendered in render_sequence(scene, camera):   # Rendered(frame, instance_to_object, ...)
        memory.update(rendered.frame)
"""

from .catalogue import CATEGORIES
from .ground_truth import GroundTruth
from .layout import generate_scene
from .render import Rendered, Renderer, default_intrinsics, render_frame, render_sequence
from .scene import Room, Scene, SceneObject
from .trajectory import CameraPath, camera_trajectory

__all__ = [
    "CATEGORIES", "CameraPath", "GroundTruth", "Rendered", "Renderer", "Room", "Scene", "SceneObject",
    "camera_trajectory", "default_intrinsics", "generate_scene", "render_frame", "render_sequence",
]
