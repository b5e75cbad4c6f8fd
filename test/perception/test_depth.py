"""Depth from RGB: tiny random Depth Anything models loaded from disk, scale policy, range policy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reasmory_ros.perception import PerceptionConfig, PerceptionConfigError, PerceptionPipeline
from reasmory_ros.perception.depth import DepthStage

IMAGE = np.random.default_rng(0).integers(0, 256, size=(45, 70, 3), dtype=np.uint8)  # odd size: not a patch multiple


def _stage(model_dirs, model="depth_metric", **overrides) -> DepthStage:
    settings = {"device": "cpu", "depth_model_path": model_dirs[model], "depth_max_m": 30.0, **overrides}
    return DepthStage(PerceptionConfig(**settings), torch.device("cpu"))


def _raw_output(stage: DepthStage) -> np.ndarray:
    """The model's own output at the image size, computed without the stage's scale policy."""
    with torch.inference_mode():
        outputs = stage.model(**stage.processor(images=IMAGE, return_tensors="pt"))
    raw = stage.processor.post_process_depth_estimation(outputs, target_sizes=[IMAGE.shape[:2]])
    return raw[0]["predicted_depth"].numpy()


def test_metric_model_gives_positive_metres_at_the_image_size(model_dirs):
    stage = _stage(model_dirs)
    assert stage.output_kind == "metric"  # read from config.json
    depth = stage.estimate(IMAGE)
    assert depth.shape == IMAGE.shape[:2] and depth.dtype == np.float32
    assert np.isfinite(depth).all() and (depth > 0).all()
    np.testing.assert_allclose(depth, _raw_output(stage), rtol=1e-5)  # metric output used as metres
    np.testing.assert_allclose(_stage(model_dirs, depth_scale=0.5).estimate(IMAGE), 0.5 * depth, rtol=1e-5)


def test_estimates_outside_the_range_are_invalid_not_clamped(model_dirs):
    depth = _stage(model_dirs).estimate(IMAGE)  # the tiny random metric model predicts about 10 m
    low, high = float(depth.min()), float(depth.max())
    assert (_stage(model_dirs, depth_min_m=0.1, depth_max_m=low - 1.0).estimate(IMAGE) == 0).all()
    assert (_stage(model_dirs, depth_min_m=high + 1.0, depth_max_m=high + 2.0).estimate(IMAGE) == 0).all()
    np.testing.assert_array_equal(_stage(model_dirs, depth_min_m=low - 1.0, depth_max_m=high + 1.0)
                                  .estimate(IMAGE), depth)


def test_relative_model_needs_an_explicit_scale_and_inverts_its_output(model_dirs):
    with pytest.raises(PerceptionConfigError) as err:
        _stage(model_dirs, "depth_relative")
    assert err.value.field == "depth_scale"
    stage = _stage(model_dirs, "depth_relative", depth_scale=2.0, depth_max_m=1e30, depth_min_m=1e-30)
    assert stage.output_kind == "relative"
    depth, raw = stage.estimate(IMAGE), _raw_output(stage)
    assert depth.shape == IMAGE.shape[:2] and depth.dtype == np.float32
    positive = raw > 0
    np.testing.assert_allclose(depth[positive], 2.0 / raw[positive], rtol=1e-4)
    assert (depth[~positive] == 0).all()  # no inverse depth, no depth


def test_given_depth_wins_over_the_model(model_dirs, rendered):
    frame = rendered[0][0]
    pipeline = PerceptionPipeline.from_config(
        PerceptionConfig(device="cpu", depth_model_path=model_dirs["depth_metric"], odometry_enabled=False)
    )
    with_depth = pipeline.process(frame.rgb, frame.K, 0.0, 0, depth=frame.depth, T_world_camera=frame.T_world_camera)
    np.testing.assert_array_equal(with_depth.frame.depth, frame.depth)
    estimated = pipeline.process(frame.rgb, frame.K, 0.1, 1, T_world_camera=frame.T_world_camera)
    assert estimated.frame.depth.shape == frame.depth.shape
    assert pipeline.counters["depth"] == {"estimated": 1}
