"""The whole pipeline: everything from RGB alone, and clear errors when an input has no source."""

from __future__ import annotations

import numpy as np
import pytest

from reasmory_ros.memory.frame import Frame
from reasmory_ros.perception import PerceptionConfig, PerceptionConfigError, PerceptionPipeline

from .conftest import CATEGORIES


def test_rgb_only_stream_becomes_complete_frames(model_dirs, rendered):
    frame = rendered[0][0]
    pipeline = PerceptionPipeline.from_config(PerceptionConfig(
        device="cpu", depth_model_path=model_dirs["depth_metric"], detector_model_path=model_dirs["owlv2"],
        categories=CATEGORIES, score_threshold=0.0, box_depth_band_m=30.0, depth_max_m=30.0,
        odometry_depth_max_m=30.0, initial_camera_height_m=1.2, min_instance_pixels=1,
    ))
    assert [stage.name for stage in pipeline.stages] == ["depth", "pose", "instances"]
    result = pipeline.process(frame.rgb, frame.K, frame.timestamp, frame.index)
    assert isinstance(result.frame, Frame) and result.skipped_reason is None
    assert result.frame.depth.shape == frame.depth.shape and (result.frame.depth > 0).any()
    assert result.frame.T_world_camera[2, 3] == 1.2
    assert result.frame.instances is not None and result.frame.labels
    assert set(result.stage_ms) == {"depth", "pose", "instances"}


def test_missing_depth_without_a_depth_model_names_the_field(rendered):
    frame = rendered[0][0]
    pipeline = PerceptionPipeline.from_config(PerceptionConfig(device="cpu"))
    with pytest.raises(PerceptionConfigError) as err:
        pipeline.process(frame.rgb, frame.K, 0.0, 0)
    assert err.value.field == "depth_model_path"


def test_missing_pose_with_odometry_disabled_names_the_field(rendered):
    frame = rendered[0][0]
    pipeline = PerceptionPipeline.from_config(PerceptionConfig(device="cpu", odometry_enabled=False))
    with pytest.raises(PerceptionConfigError) as err:
        pipeline.process(frame.rgb, frame.K, 0.0, 0, depth=frame.depth)
    assert err.value.field == "odometry_enabled"


def test_invalid_depth_values_are_cleaned_before_any_stage_sees_them(rendered):
    frame = rendered[0][0]
    depth = frame.depth.copy()
    depth[:10] = np.nan
    depth[10:20] = -1.0
    result = PerceptionPipeline.from_config(PerceptionConfig(device="cpu")).process(
        frame.rgb, frame.K, 0.0, 0, depth=depth)
    assert (result.frame.depth[:20] == 0).all()
