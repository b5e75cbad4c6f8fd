"""Capacities and thresholds of the spatial memory.

Every buffer of the memory is sized from these numbers once, at construction, so the cost of a
frame and the bytes held never depend on how long the stream has run. The ROS node exposes each
field as a parameter of the same name.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MemoryConfig:
    """Capacities (counts) and thresholds (SI units) of `SpatialMemory`."""

    # --- input sampling -------------------------------------------------------------------------
    pixel_stride: int = 4
    """px. Keep one pixel per pixel_stride x pixel_stride cell (the cell centre): 640x480 -> 160x120."""
    min_depth: float = 0.1
    """m. Depth readings nearer than this are treated as invalid."""
    max_depth: float = 6.0
    """m. Depth readings farther than this are ignored (noise grows with the square of depth)."""
    flying_pixel_ratio: float = 0.05
    """1. A sample whose depth differs from a full-resolution 4-neighbour by more than this fraction
    of its depth sits on a depth edge (mixed/flying pixel) and is dropped."""

    # --- working memory -------------------------------------------------------------------------
    working_window: int = 16
    """frames. Length of the ring of most recent frames (the sliding working memory)."""
    working_points: int = 19200
    """points. Points stored per working-memory frame; frames with more valid samples keep an
    evenly strided subset. 19200 = 160x120 = a 640x480 image at pixel_stride 4."""

    # --- instances and episodic objects ---------------------------------------------------------
    max_objects: int = 256
    """objects. Capacity of the episodic object table."""
    object_points: int = 384
    """points. Size of each object's point reservoir (one slot per hashed object voxel)."""
    object_voxel_size: float = 0.03
    """m. Voxel that decides which reservoir slot a point replaces: points spread over the surface."""
    max_instances_per_frame: int = 32
    """instances. Only the largest this many instances of a frame are used (bounded work)."""
    min_instance_points: int = 6
    """points. Instances with fewer sampled points after filtering are ignored as fragments. Small
    objects give few samples: a book or cup 2-3 m away covers 150-600 px, i.e. 2-20 samples at
    pixel_stride 4 after mask erosion; flicker is left to min_object_observations."""
    mask_erosion: int = 2
    """px (full resolution). An instance sample is kept only if every pixel within this radius has
    the same instance id: removes mask-edge bleeding onto the background."""
    depth_iqr_factor: float = 2.0
    """1. Per instance, samples whose depth lies more than this many interquartile ranges outside
    the quartiles (Tukey fences) are dropped as depth outliers."""
    depth_outlier_floor: float = 0.05
    """m. The fences are at least this far from the quartiles, so flat objects keep their points."""
    association_samples: int = 48
    """points. Points sampled per detection to test overlap against object reservoirs."""
    association_candidates: int = 4
    """objects. Nearest objects (by box gap) tested per detection."""
    association_radius: float = 0.06
    """m. A detection point overlaps an object if a reservoir point lies within this distance."""
    association_gap: float = 0.25
    """m. Objects whose box is farther than this from the detection's box are not candidates."""
    min_overlap: float = 0.25
    """1. Fraction of detection points that must overlap an object for the detection to join it."""
    label_overlap: float = 0.6
    """1. Overlap above which a detection joins an object even if the labels disagree (only
    between size-compatible ones, see label_size_ratio)."""
    label_size_ratio: float = 0.5
    """1. A detection joins an object whose label it does not share only if the smaller of the two
    box diagonals is at least this fraction of the larger: a much smaller detection with another
    label is an object resting on or attached to it (a book on a desk), not label noise."""
    min_label_share: float = 0.2
    """1. Share of an object's label histogram the detection's label needs to count as agreeing."""
    box_containment: float = 0.6
    """1. Same-label detections/objects whose (margin-grown) boxes overlap by this fraction of the
    smaller box are the same object even without point overlap (new faces of a known object)."""
    box_margin: float = 0.05
    """m. Boxes are grown by this much on every side before box-overlap tests (thin surfaces)."""
    merge_checks_per_frame: int = 4
    """pairs. Candidate duplicate pairs verified per frame (bounded consolidation work)."""
    consolidation_sweep: int = 16
    """objects. Besides the objects seen in a frame, this many more (round robin) are checked for
    duplicates each frame, so the whole table is consolidated continuously at a fixed cost."""
    merge_overlap: float = 0.3
    """1. Two same-label objects merge when this fraction of the smaller one's points overlaps."""
    box_quantile: float = 0.02
    """1. The box footprint spans the [q, 1-q] quantiles of the reservoir along each box axis,
    points weighted by 1/depth^2 (depth noise inflates footprints; near views are sharper)."""
    box_height_quantile: float = 0.005
    """1. The box height spans the unweighted [q, 1-q] quantiles of the reservoir's z."""
    support_half_life: float = 300.0
    """frames. When the table is full the least supported object is evicted; support = frames
    seen, halved for every this many frames since the object was last seen."""
    min_object_observations: int = 2
    """frames. Objects seen in fewer frames are kept but not shown in snapshots (detector flicker)."""
    max_labels: int = 256
    """labels. Capacity of the label vocabulary; labels beyond it are ignored."""

    # --- keyframes ------------------------------------------------------------------------------
    max_keyframes: int = 64
    """keyframes. Capacity of the keyframe store."""
    keyframe_width: int = 160
    """px. Width of the stored (downsampled) keyframe images."""
    keyframe_height: int = 120
    """px. Height of the stored (downsampled) keyframe images."""
    keyframe_translation: float = 0.5
    """m. Camera translation worth one unit of view novelty."""
    keyframe_rotation: float = 20.0
    """deg. Change of viewing direction worth one unit of view novelty."""
    keyframe_objects: int = 32
    """objects. Object ids remembered per keyframe."""

    # --- trajectory -----------------------------------------------------------------------------
    trajectory_capacity: int = 4096
    """poses. Stored poses; when full, every other one is dropped and the stride doubles."""

    # --- scene map ------------------------------------------------------------------------------
    voxel_size: float = 0.05
    """m. Edge of a scene-map voxel."""
    map_capacity: int = 262144
    """voxels. Slots of the scene map (a set-associative voxel hash)."""
    map_ways: int = 4
    """slots. Slots per hash bucket; a new voxel replaces the least recently seen one of its bucket."""
    min_voxel_hits: int = 2
    """frames. Voxels observed in fewer frames are not exported (isolated noise)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Refuse inconsistent settings early, naming the field (the node reports it as such)."""
        positive_ints = (
            "pixel_stride", "working_window", "working_points", "max_objects", "object_points",
            "max_instances_per_frame", "min_instance_points", "association_samples",
            "association_candidates", "merge_checks_per_frame", "consolidation_sweep",
            "min_object_observations",
            "max_labels", "max_keyframes", "keyframe_width", "keyframe_height", "keyframe_objects",
            "map_capacity", "map_ways", "min_voxel_hits",
        )
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"MemoryConfig.{name} must be a positive integer, got {value!r}")
        positive_floats = (
            "min_depth", "max_depth", "flying_pixel_ratio", "object_voxel_size", "depth_iqr_factor",
            "association_radius", "support_half_life", "keyframe_translation", "keyframe_rotation",
            "voxel_size",
        )
        for name in positive_floats:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"MemoryConfig.{name} must be a positive number, got {value!r}")
        fractions = ("min_overlap", "label_overlap", "label_size_ratio", "min_label_share",
                     "box_containment", "merge_overlap")
        for name in fractions:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"MemoryConfig.{name} must lie in [0, 1], got {value!r}")
        for name in ("box_quantile", "box_height_quantile"):
            if not 0.0 <= getattr(self, name) < 0.5:
                raise ValueError(f"MemoryConfig.{name} must lie in [0, 0.5), got {getattr(self, name)}")
        if self.min_depth >= self.max_depth:
            raise ValueError("MemoryConfig.min_depth must be smaller than max_depth")
        if self.mask_erosion < 0 or self.mask_erosion > 4:
            raise ValueError(f"MemoryConfig.mask_erosion must lie in 0..4 px, got {self.mask_erosion}")
        if self.max_instances_per_frame > self.max_objects:
            raise ValueError("MemoryConfig.max_instances_per_frame must not exceed max_objects")
        if self.trajectory_capacity < 2 or self.trajectory_capacity % 2:
            raise ValueError("MemoryConfig.trajectory_capacity must be an even number >= 2")
        if self.map_capacity % self.map_ways:
            raise ValueError("MemoryConfig.map_capacity must be a multiple of map_ways")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MemoryConfig:
        """Build from a parameter dict; unknown keys are an error (typos must not pass silently)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown MemoryConfig fields: {', '.join(unknown)}")
        return cls(**values)
