"""Open-vocabulary instances: tiny random detectors loaded from disk, masks, frame skipping, devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reasmory_ros.perception import PerceptionConfig, PerceptionPipeline
from reasmory_ros.perception.instances import box_depth_mask, nms, paint_instances

from .conftest import CATEGORIES


def _instance_pipeline(model_dirs, detector="owlv2", segmenter="", device="cpu", **overrides):
    """Detector (+ optional SAM) only: depth and pose come with the rendered frames."""
    settings = dict(
        device=device, odometry_enabled=False, detector_model_path=model_dirs[detector],
        segmenter_model_path=model_dirs[segmenter] if segmenter else "", categories=CATEGORIES,
        score_threshold=0.0, detect_every_n_frames=1, box_depth_band_m=10.0, min_instance_pixels=1,
    )
    return PerceptionPipeline.from_config(PerceptionConfig(**{**settings, **overrides}))


def _process(pipeline, frame):
    """Feed a rendered frame without its ground-truth instances."""
    return pipeline.process(frame.rgb, frame.K, frame.timestamp, frame.index, depth=frame.depth,
                            T_world_camera=frame.T_world_camera)


def _count_forward_calls(model) -> list:
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    return calls


def _assert_instance_contract(frame):
    assert frame.instances is not None
    assert frame.instances.dtype == np.int32 and frame.instances.shape == frame.rgb.shape[:2]
    ids = set(np.unique(frame.instances).tolist()) - {0}
    assert ids == set(frame.labels) and all(i >= 1 for i in ids)
    assert sorted(ids) == list(range(1, len(ids) + 1))  # dense ids, unique within the frame
    assert set(frame.labels.values()) <= set(CATEGORIES)


@pytest.mark.parametrize("detector", ["owlv2", "owlvit", "grounding_dino"])
@pytest.mark.parametrize("segmenter", ["", "sam"])
def test_detector_output_follows_the_instance_contract(model_dirs, rendered, detector, segmenter):
    pipeline = _instance_pipeline(model_dirs, detector, segmenter)
    result = _process(pipeline, rendered[0][0])
    _assert_instance_contract(result.frame)
    # Threshold 0 on a random model: boxes exist, so masks must have been painted.
    assert len(result.frame.labels) >= 1


def test_detector_runs_on_every_nth_frame_only(model_dirs, rendered):
    frames = rendered[0][:7]
    pipeline = _instance_pipeline(model_dirs, "owlv2", "sam", detect_every_n_frames=3)
    stage = pipeline.stages[-1]
    detector_calls = _count_forward_calls(stage.detector.model)
    segmenter_calls = _count_forward_calls(stage.segmenter.model)
    results = [_process(pipeline, frame) for frame in frames]
    assert len(detector_calls) == 3 and len(segmenter_calls) == 3  # frames 0, 3, 6
    for i, result in enumerate(results):
        if i % 3 == 0:
            _assert_instance_contract(result.frame)
        else:  # skipped: no instance observation, geometry only
            assert result.frame.instances is None and result.frame.labels == {}
    assert pipeline.counters["instances"] == {"detector_runs": 3, "skipped": 4}


def test_given_instances_pass_through_without_running_the_detector(model_dirs, rendered):
    frame = rendered[0][0]
    pipeline = _instance_pipeline(model_dirs)
    calls = _count_forward_calls(pipeline.stages[-1].detector.model)
    result = pipeline.process(frame.rgb, frame.K, frame.timestamp, frame.index, depth=frame.depth,
                              T_world_camera=frame.T_world_camera, instances=frame.instances, labels=frame.labels)
    assert not calls
    np.testing.assert_array_equal(result.frame.instances, frame.instances)
    assert result.frame.labels == frame.labels


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))])
def test_models_and_inputs_live_on_the_configured_device(model_dirs, rendered, device):
    pipeline = _instance_pipeline(model_dirs, "grounding_dino", "sam", device=device)
    stage = pipeline.stages[-1]
    for model in (stage.detector.model, stage.segmenter.model):
        assert {p.device.type for p in model.parameters()} == {device}
    assert {t.device.type for t in stage.detector.text_inputs.values()} == {device}
    _assert_instance_contract(_process(pipeline, rendered[0][0]).frame)


def test_box_in_depth_segmentation_recovers_an_object_in_front_of_a_wall():
    depth = np.full((120, 160), 3.0, dtype=np.float32)  # wall at 3 m
    depth[40:90, 50:110] = 1.5 + np.linspace(0.0, 0.2, 60, dtype=np.float32)  # slanted box at 1.5-1.7 m
    depth[45:50, 55:60] = 0.0  # sensor holes inside the object
    depth[100:105, 52:58] = 1.55  # a small blob at the object's depth, inside the detection box
    truth = np.zeros_like(depth, dtype=bool)
    truth[40:90, 50:110] = depth[40:90, 50:110] > 0
    box = np.array([44.0, 34.0, 116.0, 108.0])  # detection box with margin around the object
    mask = box_depth_mask(depth, box, band_m=0.4)
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.95
    assert not mask[100:105, 52:58].any()  # disconnected blob dropped: largest component only


def test_box_in_depth_without_valid_depth_gives_an_empty_mask():
    assert not box_depth_mask(np.zeros((20, 20), np.float32), np.array([2.0, 2.0, 10.0, 10.0]), 0.4).any()


def test_nms_keeps_the_best_of_overlapping_boxes_and_all_disjoint_ones():
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=torch.float32)
    scores = torch.tensor([0.5, 0.9, 0.3])
    assert nms(boxes, scores, iou_threshold=0.5).tolist() == [1, 2]


def test_painting_gives_overlaps_to_the_better_mask_and_drops_tiny_leftovers():
    masks = np.zeros((3, 10, 10), dtype=bool)
    masks[0, 0:6, 0:6] = True  # best
    masks[1, 3:9, 3:9] = True  # overlaps the best
    masks[2, 1:3, 1:3] = True  # fully covered by the best: nothing left
    instances, labels = paint_instances(masks, np.array([0, 2, 1]), CATEGORIES, min_pixels=5)
    assert labels == {1: "chair", 2: "lamp"}
    assert (instances == 1).sum() == 36 and (instances == 2).sum() == 36 - 9


@pytest.mark.parametrize("detector", ["owlv2", "owlvit", "grounding_dino"])
def test_boxes_and_scores_agree_with_the_processors_own_post_processing(model_dirs, rendered, detector):
    """Box conventions differ per family (OWLv2 pads to a square); transformers' post-processing is
    the reference for where a box lies in the image and what it scores."""
    stage = _instance_pipeline(model_dirs, detector).stages[-1].detector
    rgb = rendered[0][0].rgb
    height, width = rgb.shape[:2]
    with torch.inference_mode():
        outputs = stage.model(**stage.text_inputs, **stage.processor.image_processor(images=rgb, return_tensors="pt"))
        if detector == "grounding_dino":
            reference = stage.processor.post_process_grounded_object_detection(
                outputs, stage.text_inputs["input_ids"], threshold=0.0, text_threshold=0.0,
                target_sizes=[(height, width)])[0]
        else:
            reference = stage.processor.post_process_grounded_object_detection(
                outputs, threshold=0.0, target_sizes=[(height, width)])[0]
            np.testing.assert_allclose(stage._class_scores(outputs).max(dim=1).values, reference["scores"], rtol=1e-5)
        limits = torch.tensor([width, height, width, height], dtype=torch.float32)
        expected = torch.minimum(reference["boxes"].clamp_min(0), limits)
        np.testing.assert_allclose(stage._pixel_boxes(outputs, height, width), expected, atol=1e-3)
