"""Capacities and thresholds of the spatial memory.

Every buffer of the memory is sized from these numbers once, at construction, so the cost of a
frame and the bytes held never depend on how long the stream has run. Each field is a parameter
`memory.<field>` of the node and the replay; its metadata (`setting`) carries the unit and the
description the parameter docs are generated from.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from reasmory_ros.config.fields import setting


@dataclass(frozen=True)
class MemoryConfig:
    """Capacities (counts) and thresholds (SI units) of `SpatialMemory`."""

    # --- input sampling -------------------------------------------------------------------------
    pixel_stride: int = setting(
        4,
        "Keep one pixel per pixel_stride x pixel_stride cell (the cell centre): 640x480 -> "
        "160x120.",
        unit="px",
    )
    min_depth: float = setting(0.1, "Depth readings nearer than this are treated as invalid.", unit="m")
    max_depth: float = setting(
        6.0,
        "Depth readings farther than this are ignored (noise grows with the square of depth).",
        unit="m",
    )
    flying_pixel_ratio: float = setting(
        0.05,
        "A sample whose depth differs from a full-resolution 4-neighbour by more than this "
        "fraction of its depth sits on a depth edge (mixed/flying pixel) and is dropped.",
    )

    # --- working memory -------------------------------------------------------------------------
    working_window: int = setting(
        16,
        "Length of the ring of most recent frames (the sliding working memory).",
        unit="frames",
    )
    working_points: int = setting(
        19200,
        "Points stored per working-memory frame; frames with more valid samples keep an evenly "
        "strided subset. 19200 = 160x120 = a 640x480 image at pixel_stride 4.",
        unit="points",
    )

    # --- instances and episodic objects ---------------------------------------------------------
    max_objects: int = setting(256, "Capacity of the episodic object table.", unit="objects")
    object_points: int = setting(
        384,
        "Size of each object's point reservoir (one slot per hashed object voxel).",
        unit="points",
    )
    object_voxel_size: float = setting(
        0.03,
        "Voxel that decides which reservoir slot a point replaces: points spread over the "
        "surface.",
        unit="m",
    )
    max_instances_per_frame: int = setting(
        32,
        "Only the largest this many instances of a frame are used (bounded work).",
        unit="instances",
    )
    min_instance_points: int = setting(
        6,
        "Instances with fewer sampled points after filtering are ignored as fragments. Small "
        "objects give few samples: a book or cup 2-3 m away covers 150-600 px, i.e. 2-20 samples "
        "at pixel_stride 4 after mask erosion; flicker is left to min_object_observations.",
        unit="points",
    )
    mask_erosion: int = setting(
        2,
        "An instance sample is kept only if every pixel within this radius has the same instance "
        "id: removes mask-edge bleeding onto the background.",
        unit="px (full resolution)",
    )
    depth_edge_share: float = setting(
        0.25,
        "Depth-edge rejection: an instance's sorted depths are cut at gaps wider than "
        "max(depth_edge_gap, depth_edge_ratio x depth), and only the nearest piece holding at "
        "least this share of its samples is kept (a mask that bled past the silhouette picks up "
        "the background behind it); 0 switches the test off.",
    )
    depth_edge_gap: float = setting(
        0.25,
        "Smallest depth gap between consecutive samples of an instance that counts as an edge.",
        unit="m",
    )
    depth_edge_ratio: float = setting(
        0.1,
        "Depth-relative part of the depth-edge gap (depth noise grows with depth).",
    )
    depth_iqr_factor: float = setting(
        2.0,
        "Per instance, samples whose depth lies more than this many interquartile ranges outside "
        "the quartiles (Tukey fences) are dropped as depth outliers.",
    )
    depth_outlier_floor: float = setting(
        0.05,
        "The fences are at least this far from the quartiles, so flat objects keep their points.",
        unit="m",
    )
    association_samples: int = setting(
        48,
        "Points sampled per detection to test overlap against object reservoirs.",
        unit="points",
    )
    association_candidates: int = setting(
        4,
        "Nearest objects (by box gap) tested per detection.",
        unit="objects",
    )
    association_radius: float = setting(
        0.06,
        "A detection point overlaps an object if a reservoir point lies within this distance.",
        unit="m",
    )
    association_gap: float = setting(
        0.25,
        "Objects whose box is farther than this from the detection's box are not candidates.",
        unit="m",
    )
    min_overlap: float = setting(
        0.25,
        "Fraction of detection points that must overlap an object for the detection to join it.",
    )
    label_overlap: float = setting(
        0.6,
        "Overlap above which a detection joins an object even if the labels disagree (only "
        "between size-compatible ones, see label_size_ratio).",
    )
    label_size_ratio: float = setting(
        0.5,
        "A detection joins an object whose label it does not share only if the smaller of the two"
        " box diagonals is at least this fraction of the larger: a much smaller detection with "
        "another label is an object resting on or attached to it (a book on a desk), not label "
        "noise.",
    )
    min_label_share: float = setting(
        0.2,
        "Share of an object's label histogram the detection's label needs to count as agreeing "
        "(a label other than the object's top category agrees only at a compatible size, see "
        "label_size_ratio).",
    )
    label_similarity: float = setting(
        0.8,
        "A detector word outside the synonym table is filed under the existing category whose "
        "name its sentence embedding (the packaged MiniLM, when installed) matches with at least "
        "this cosine, and by 0.05 more than any other ('office chair' -> chair, 'sofa bed' -> "
        "sofa); measured synonyms score 0.2-0.96 and different categories up to 0.73, so only "
        "clear cases join; 0 switches it off.",
    )
    box_containment: float = setting(
        0.6,
        "Same-label detections/objects whose (margin-grown) boxes overlap by this fraction of the"
        " smaller box are the same object even without point overlap (new faces of a known "
        "object).",
    )
    box_margin: float = setting(
        0.05,
        "Boxes are grown by this much on every side before box-overlap tests (thin surfaces).",
        unit="m",
    )
    merge_checks_per_frame: int = setting(
        4,
        "Candidate duplicate pairs verified per frame (bounded consolidation work).",
        unit="pairs",
    )
    consolidation_sweep: int = setting(
        16,
        "Besides the objects seen in a frame, this many more (round robin) are checked for "
        "duplicates each frame, so the whole table is consolidated continuously at a fixed cost.",
        unit="objects",
    )
    merge_overlap: float = setting(
        0.3,
        "Two same-label objects merge when this fraction of the smaller one's points overlaps.",
    )
    merge_iou: float = setting(
        0.5,
        "Two objects of different categories merge (their label votes decide the name) only when "
        "their boxes overlap by this intersection over union and their points by merge_overlap: "
        "one object a look-alike label named twice; or when one lies within the other over a "
        "floor footprint overlapping by this much and the detector has called the larger by the "
        "smaller's name too: a part under a look-alike name. 1 merges only identical boxes.",
    )
    mask_miss_ratio: float = setting(
        2.0,
        "A reservoir point that later views show outside every mask of its object more than this "
        "many times as often as inside (and at least twice) is dropped: a mask that bled onto the "
        "surface the object stands on, or merged with a neighbour; 0 switches the test off.",
    )
    detached_checks: int = setting(
        2,
        "Small objects detected in a frame (reservoir at most half full: most surface voxels "
        "seen are kept; heaviest cluster within 0.6 m) are checked, this many per frame, for "
        "detached clusters: reservoir points not linked to the object's heaviest cluster through "
        "points at most three voxels apart are dropped (a mask that bled onto the wall behind, or merged with a neighbour "
        "that does not touch it); 0 switches the check off.",
        unit="objects",
    )
    box_quantile: float = setting(
        0.02,
        "The box footprint spans the [q, 1-q] quantiles of the reservoir along each box axis, "
        "points weighted by 1/depth^2 (depth noise inflates footprints; near views are sharper).",
    )
    box_height_quantile: float = setting(
        0.005,
        "The box height spans the unweighted [q, 1-q] quantiles of the reservoir's z.",
    )
    box_fit_interval: int = setting(
        1,
        "The boxes of objects whose points changed are fitted every this many frames (a new "
        "object's at once, every pending one before a snapshot or a save): 3 takes about a tenth "
        "less update time on the benchmark stream, and the replay benchmark's recall was 0.4 "
        "points lower on average (docs/benchmarks.md, Box fits every few frames).",
        unit="frames",
    )
    hidden_depth: bool = setting(
        True,
        "Boxes of objects seen only from the front reach back to the wall behind them, through "
        "space no keyframe saw empty (memory/hidden_depth.py); off, boxes hold only what was seen.",
    )
    support_half_life: float = setting(
        300.0,
        "When the table is full the least supported object is evicted; support = frames seen, "
        "halved for every this many frames since the object was last seen.",
        unit="frames",
    )
    min_detection_rate: float = setting(
        0.3,
        "A detector finds a real object in at least this share of the frames that show it large "
        "enough. An object whose detections are clearly fewer (the 99 % upper bound of its "
        "detection rate over the views of its place lies below this) is not shown: a detector's "
        "false positive on a poster or a patch of wall comes back now and then, but most views "
        "of that place miss it. 0 switches the test off.",
    )
    min_object_observations: int = setting(
        2,
        "Objects seen in fewer frames, or in one frame only, or whose category was given fewer "
        "times, are kept but not shown in snapshots, so no answer counts them (detector "
        "flicker, one-frame false positives and splits, false positives that agree on no "
        "label).",
        unit="frames",
    )
    max_labels: int = setting(
        256,
        "Capacity of the label vocabulary; labels beyond it are ignored.",
        unit="labels",
    )

    # --- changes: absence evidence and object lifecycle (lifecycle.py) ---------------------------
    track_changes: bool = setting(
        True,
        "Detect missing, removed and moved objects from evidence of absence; off, every object "
        "once seen stays present where it was first seen (a static world).",
    )
    absence_objects: int = setting(
        16,
        "Confirmed objects in the view but not detected that one frame's depth is tested against "
        "(bounded work per frame).",
        unit="objects",
    )
    absence_points: int = setting(
        48,
        "Reservoir points sampled per tested object.",
        unit="points",
    )
    absence_margin: float = setting(
        0.06,
        "A depth reading this much (plus absence_depth_ratio x depth) behind a remembered point, "
        "in its whole 3 x 3 pixel neighbourhood, sees through where the point was; within it, the "
        "point is still there.",
        unit="m",
    )
    absence_depth_ratio: float = setting(
        0.02,
        "The margin grows by this fraction of the point's depth (depth noise grows with depth).",
    )
    absence_min_points: int = setting(
        6,
        "Points of evidence (seen through, or still seen) needed for a vote either way.",
        unit="points",
    )
    absence_fraction: float = setting(
        0.8,
        "An object gets an absence vote when at least this share of its decided points is seen "
        "through (thin parts seen one pixel off and a few stray points do not outvote a present "
        "object).",
    )
    missing_votes: int = setting(
        2,
        "Consecutive absence votes after which an object is missing (still counted).",
        unit="frames",
    )
    removed_votes: int = setting(
        6,
        "Consecutive absence votes after which an object is removed: no longer counted, kept for "
        "questions about the past; a vote of its surface still there resets the count.",
        unit="frames",
    )
    move_size_ratio: float = setting(
        0.6,
        "A removed object and one that appeared elsewhere are the same object moved only if the "
        "smaller box diagonal is at least this fraction of the larger (and the labels agree).",
    )
    move_min_distance: float = setting(
        0.5,
        "A removed object and one that appeared are linked as a move only if their box centres "
        "are at least this far apart in the floor plane; closer, a newer compatible object is the "
        "removed one found again (drift or a nudge), not a move.",
        unit="m",
    )
    move_window: int = setting(
        3000,
        "A removed object and one that appeared are linked as a move only if the new one was "
        "first seen within this many frames of the old one's first absence vote.",
        unit="frames",
    )
    move_color_tolerance: float = setting(
        0.12,
        "A removed object and one that appeared are linked as a move only if their mean "
        "chromaticities (r, g, b) / (r + g + b) differ by at most this (Euclidean): hue survives "
        "lighting and tells a wooden chair from a grey one (about 0.14 apart); the mix of a "
        "plant's leaves and pot seen from other sides drifts by about 0.1.",
    )
    placement_history: int = setting(
        4,
        "Earlier placements kept per object (oldest dropped first: fixed memory).",
        unit="placements",
    )

    # --- keyframes ------------------------------------------------------------------------------
    max_keyframes: int = setting(64, "Capacity of the keyframe store.", unit="keyframes")
    keyframe_width: int = setting(160, "Width of the stored (downsampled) keyframe images.", unit="px")
    keyframe_height: int = setting(120, "Height of the stored (downsampled) keyframe images.", unit="px")
    keyframe_translation: float = setting(0.5, "Camera translation worth one unit of view novelty.", unit="m")
    keyframe_rotation: float = setting(
        20.0,
        "Change of viewing direction worth one unit of view novelty.",
        unit="deg",
    )
    keyframe_objects: int = setting(32, "Object ids remembered per keyframe.", unit="objects")

    # --- trajectory -----------------------------------------------------------------------------
    trajectory_capacity: int = setting(
        4096,
        "Stored poses; when full, every other one is dropped and the stride doubles.",
        unit="poses",
    )

    # --- scene map ------------------------------------------------------------------------------
    voxel_size: float = setting(0.05, "Edge of a scene-map voxel.", unit="m")
    map_capacity: int = setting(
        262144,
        "Slots of the scene map (a set-associative voxel hash).",
        unit="voxels",
    )
    map_ways: int = setting(
        4,
        "Slots per hash bucket; a new voxel replaces the least recently seen one of its bucket.",
        unit="slots",
    )
    min_voxel_hits: int = setting(
        2,
        "Voxels observed in fewer frames are not exported (isolated noise).",
        unit="frames",
    )

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
            "map_capacity", "map_ways", "min_voxel_hits", "absence_objects", "absence_points",
            "absence_min_points", "missing_votes", "removed_votes", "move_window", "placement_history",
            "box_fit_interval",
        )
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"MemoryConfig.{name} must be a positive integer, got {value!r}")
        positive_floats = (
            "min_depth", "max_depth", "flying_pixel_ratio", "object_voxel_size", "depth_iqr_factor",
            "depth_edge_gap", "depth_edge_ratio",
            "association_radius", "support_half_life", "keyframe_translation", "keyframe_rotation",
            "voxel_size", "absence_margin", "move_min_distance",
        )
        for name in positive_floats:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"MemoryConfig.{name} must be a positive number, got {value!r}")
        fractions = ("min_detection_rate", "min_overlap", "label_overlap", "label_size_ratio", "min_label_share",
                     "depth_edge_share", "box_containment", "merge_overlap", "merge_iou", "absence_depth_ratio",
                     "absence_fraction", "move_size_ratio", "move_color_tolerance", "label_similarity")
        for name in fractions:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"MemoryConfig.{name} must lie in [0, 1], got {value!r}")
        if not isinstance(self.mask_miss_ratio, (int, float)) or not 0.0 <= self.mask_miss_ratio < math.inf:
            raise ValueError(f"MemoryConfig.mask_miss_ratio must be a finite number >= 0, got {self.mask_miss_ratio!r}")
        if not isinstance(self.detached_checks, int) or isinstance(self.detached_checks, bool) or self.detached_checks < 0:
            raise ValueError(f"MemoryConfig.detached_checks must be an integer >= 0, got {self.detached_checks!r}")
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
        if self.removed_votes < self.missing_votes:
            raise ValueError("MemoryConfig.removed_votes must be at least missing_votes")
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
