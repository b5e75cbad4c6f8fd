"""The one pipeline builder: what the node and the replay get from the same settings."""

from __future__ import annotations

import pytest
import torch

from reasmory_ros.config.settings import Settings
from reasmory_ros.pipeline import Pipeline, PipelineError

SMALL = {"device": "cpu", "memory.map_capacity": 4096, "memory.max_objects": 32, "memory.max_keyframes": 4}


def build(**values) -> Pipeline:
    return Pipeline.build(Settings.from_values({**SMALL, **values}), latency_window=None)


def test_topics_alone_build_memory_assembler_and_integrator_without_plug_ins():
    pipeline = build()
    assert pipeline.perception is None and pipeline.perception_config is None
    assert pipeline.integrator.memory is pipeline.memory and str(pipeline.memory.device) == "cpu"
    assert pipeline.memory.config.map_capacity == 4096
    assembler = pipeline.assembler
    assert assembler.wait_for_instances and assembler.wait_for_depth and assembler.wait_for_pose
    assert pipeline.next_frame_index() == 0


@pytest.mark.parametrize(
    ("values", "instance_topics", "waits"),
    [({}, True, True), ({}, False, False), ({"wait_for_instances": False}, True, False)],
    ids=["topics", "bag-without-instance-topics", "parameter-off"],
)
def test_frames_wait_for_instances_only_when_they_can_come(values, instance_topics, waits):
    pipeline = Pipeline.build(Settings.from_values({**SMALL, **values}), instance_topics=instance_topics)
    assert pipeline.assembler.wait_for_instances is waits and not pipeline.detects_instances


def test_rgbd_odometry_estimates_the_pose_so_frames_do_not_wait_for_it():
    pipeline = build(pose_source="rgbd_odometry")
    assert pipeline.perception.provides("pose") and not pipeline.perception.provides("depth")
    assert pipeline.perception_config.device == "cpu" and pipeline.perception_config.odometry_enabled
    assert not pipeline.assembler.wait_for_pose and pipeline.assembler.wait_for_depth


def test_torch_threads_are_applied():
    before = torch.get_num_threads()
    try:
        build(torch_threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_device_the_machine_lacks_is_a_clear_error():
    with pytest.raises(PipelineError, match="cannot create the memory"):
        build(device="cuda")
