"""Configuration of the perception plug-ins: one flat dataclass the node and replay fill from parameters.

Every field has a plain name and a scalar or list value so a ROS parameter file or a replay YAML
maps onto it one to one (`perception.<field>`); the field metadata (`setting`) carries the unit and
description the parameter docs are generated from. `device` and `odometry_enabled` are not
parameters: the pipeline derives them from the node's `device` and `pose_source`. Invalid values are refused when the
config is built, naming the field, so a typo fails at start-up rather than on the first frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from reasmory_ros.config.fields import setting

DEPTH_OUTPUTS = ("auto", "metric", "relative")
ODOMETRY_METHODS = ("hybrid", "intensity", "point_to_plane")


class PerceptionConfigError(ValueError):
    """A perception setting is unusable; `field` names the config field so the fix is obvious."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"perception config field '{field_name}': {message}")
        self.field = field_name


@dataclass
class PerceptionConfig:
    """Which perception plug-ins run and how. Empty model paths switch a plug-in off."""

    device: str = setting(
        "auto",
        'Where models and tensors run: "auto" (cuda when torch sees a GPU, else cpu), "cpu", '
        '"cuda", "cuda:N". Odometry follows it when this Open3D build has CUDA, else runs on the '
        "CPU.",
        parameter=False,
    )

    # --- open-vocabulary instances from RGB -------------------------------------------------
    detector_model_path: str = setting(
        "",
        "Local directory of a zero-shot detector saved with save_pretrained (OWLv2, OWL-ViT or "
        'Grounding DINO); "" = no detector, frames keep the instances they came with (or none).',
    )
    segmenter_model_path: str = setting(
        "",
        "Local directory of a SAM-family model (SamModel + SamProcessor) that turns boxes into "
        "masks; \"\" = box-in-depth segmentation (pixels near the box's median depth, largest "
        "blob).",
    )
    categories: list[str] = setting(
        ["chair", "table", "sofa", "bed", "tv", "lamp", "cabinet", "shelf", "plant", "door",
         "refrigerator", "laptop", "cup", "bottle", "book"],
        "Category names the detector looks for; they become the instance labels verbatim.",
    )
    score_threshold: float = setting(0.2, "Minimum detection score (0..1) for a box to become an instance.")
    nms_iou_threshold: float = setting(
        0.5,
        "Class-agnostic non-maximum suppression: a box overlapping a better one above this IoU is"
        " dropped.",
    )
    max_detections: int = setting(
        30,
        "At most this many instances per frame (highest scores first): bounds the segmentation "
        "cost.",
        unit="instances",
    )
    detect_every_n_frames: int = setting(
        5,
        "Run the detector on every N-th processed frame (1 = every frame); the others carry no "
        "instances.",
        unit="frames",
    )
    min_instance_pixels: int = setting(
        50,
        "Instances with fewer visible pixels than this after overlap resolution are dropped.",
        unit="px",
    )
    box_depth_band_m: float = setting(
        0.4,
        "Box-in-depth: half-width (m) of the depth band around the box's median depth kept as the"
        " object.",
        unit="m",
    )

    # --- depth from RGB ---------------------------------------------------------------------
    depth_model_path: str = setting(
        "",
        "Local directory of a depth-estimation model (Depth Anything and other "
        'AutoModelForDepthEstimation models); "" = frames must come with depth.',
    )
    depth_output: str = setting(
        "auto",
        'What the model outputs: "metric" (metres), "relative" (inverse depth up to scale) or '
        "\"auto\" (read `depth_estimation_type` from the model's config.json).",
    )
    depth_scale: float = setting(
        0.0,
        "Metric output: metres = output * depth_scale (0 = unset = 1.0). Relative output: metres "
        "= depth_scale / output, and depth_scale is required (no metric scale exists otherwise).",
    )
    depth_min_m: float = setting(
        0.1,
        "Estimated depth nearer than this (m) is marked invalid (0), not clamped.",
        unit="m",
    )
    depth_max_m: float = setting(
        10.0,
        "Estimated depth further than this (m) is marked invalid (0), not clamped.",
        unit="m",
    )

    # --- pose from RGB-D odometry -----------------------------------------------------------
    odometry_enabled: bool = setting(
        True,
        "Estimate the pose with frame-to-frame RGB-D odometry when a frame comes without one.",
        parameter=False,
    )
    odometry_method: str = setting(
        "hybrid",
        'Open3D tensor odometry loss: "hybrid" (photometric + geometric), "intensity", '
        '"point_to_plane".',
    )
    odometry_downsample: int = setting(
        2,
        "Odometry runs on images this many times smaller (block-averaged): 2 costs about a "
        "quarter of full resolution at 640 x 480 and tracks as well (docs/benchmarks.md); 1 = "
        "full resolution.",
    )
    odometry_iterations: list[int] = setting(
        [10, 5, 3],
        "Iterations per pyramid level, coarsest level first (its length sets the pyramid depth).",
        unit="iterations",
    )
    odometry_depth_max_m: float = setting(
        4.0,
        "Depth beyond this (m) is ignored by odometry: far depth is noisy.",
        unit="m",
    )
    odometry_depth_diff_m: float = setting(
        0.07,
        "Correspondences whose depths differ by more than this (m) are outliers.",
        unit="m",
    )
    odometry_min_valid_fraction: float = setting(
        0.1,
        "A frame whose valid depth covers less than this fraction of the image is not tracked.",
    )
    odometry_min_fitness: float = setting(
        0.3,
        "Tracking fails when the inlier fraction of the alignment is below this (0..1).",
    )
    odometry_max_step_m: float = setting(
        0.5,
        "Tracking fails when one frame-to-frame step moves further than this (m): a jump, not "
        "motion.",
        unit="m",
    )
    odometry_reset_after_failures: int = setting(
        10,
        "After this many failed frames in a row, tracking restarts from the current frame at the "
        "last good pose (the trajectory then jumps by the motion it missed); 0 = keep waiting.",
        unit="frames",
    )
    initial_camera_height_m: float = setting(
        0.0,
        "The first tracked frame defines the z-up world: its camera is this high (m) above the "
        "origin, heading along world +x, so heights read as heights above the floor.",
        unit="m",
    )
    initial_camera_pitch_deg: float = setting(
        0.0,
        "Pitch (degrees, negative looks down) of the first tracked frame's camera, which sets the"
        " world's up axis.",
        unit="deg",
    )

    def __post_init__(self) -> None:
        if isinstance(self.categories, str):
            _refuse("categories", f"expected a list of names, got the string {self.categories!r}")
        self.categories = [str(c).strip() for c in self.categories]
        self.odometry_iterations = [int(n) for n in self.odometry_iterations]
        self._validate()

    def _validate(self) -> None:
        if not (self.device == "auto" or self.device == "cpu" or self.device.startswith("cuda")):
            _refuse("device", f"expected 'auto', 'cpu' or 'cuda[:N]', got {self.device!r}")
        if self.detector_model_path and (not self.categories or not all(self.categories)):
            _refuse("categories", "a detector needs a non-empty list of non-empty category names")
        if len(set(self.categories)) != len(self.categories):
            _refuse("categories", f"duplicate names in {self.categories}")
        for name in ("score_threshold", "nms_iou_threshold", "odometry_min_valid_fraction", "odometry_min_fitness"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                _refuse(name, f"must lie in [0, 1], got {getattr(self, name)}")
        for name in ("max_detections", "detect_every_n_frames", "odometry_downsample"):
            if getattr(self, name) < 1:
                _refuse(name, f"must be >= 1, got {getattr(self, name)}")
        for name in ("min_instance_pixels", "odometry_reset_after_failures"):
            if getattr(self, name) < 0:
                _refuse(name, f"must be >= 0, got {getattr(self, name)}")
        for name in ("box_depth_band_m", "depth_min_m", "odometry_depth_max_m", "odometry_depth_diff_m",
                     "odometry_max_step_m"):
            if not getattr(self, name) > 0:
                _refuse(name, f"must be > 0, got {getattr(self, name)}")
        if self.depth_max_m <= self.depth_min_m:
            _refuse("depth_max_m", f"must exceed depth_min_m ({self.depth_min_m}), got {self.depth_max_m}")
        if self.depth_output not in DEPTH_OUTPUTS:
            _refuse("depth_output", f"expected one of {DEPTH_OUTPUTS}, got {self.depth_output!r}")
        if self.depth_scale < 0:
            _refuse("depth_scale", f"must be > 0, or 0 for unset; got {self.depth_scale}")
        if self.odometry_method not in ODOMETRY_METHODS:
            _refuse("odometry_method", f"expected one of {ODOMETRY_METHODS}, got {self.odometry_method!r}")
        if not self.odometry_iterations or min(self.odometry_iterations) < 1:
            _refuse("odometry_iterations", f"need >= 1 iteration per level, got {self.odometry_iterations}")

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any]) -> PerceptionConfig:
        """Build from a parameter dict (ROS parameters, YAML); an unknown key is refused by name."""
        known = {f.name for f in fields(cls)}
        for key in params:
            if key not in known:
                _refuse(key, f"unknown perception parameter (known: {', '.join(sorted(known))})")
        return cls(**dict(params))


def _refuse(field_name: str, message: str) -> None:
    raise PerceptionConfigError(field_name, message)
