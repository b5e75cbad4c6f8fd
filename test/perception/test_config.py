"""Config validation and the one clear error for missing or incomplete model directories."""

from __future__ import annotations

import json

import pytest
import torch

from reasmory_ros.perception import PerceptionConfig, PerceptionConfigError, PerceptionPipeline


def test_defaults_are_valid_and_build_an_odometry_only_pipeline():
    pipeline = PerceptionPipeline.from_config(PerceptionConfig(device="cpu"))
    assert [stage.name for stage in pipeline.stages] == ["pose"]


def test_from_mapping_takes_parameters_and_refuses_unknown_keys():
    config = PerceptionConfig.from_mapping({"categories": ["cup"], "detect_every_n_frames": 3})
    assert config.categories == ["cup"] and config.detect_every_n_frames == 3
    with pytest.raises(PerceptionConfigError) as err:
        PerceptionConfig.from_mapping({"score_treshold": 0.3})
    assert err.value.field == "score_treshold"


@pytest.mark.parametrize(
    "field, value",
    [
        ("score_threshold", 1.5),
        ("detect_every_n_frames", 0),
        ("depth_output", "inverse"),
        ("odometry_method", "icp"),
        ("odometry_iterations", []),
        ("device", "tpu"),
        ("depth_scale", -1.0),
        ("categories", "chair"),
        ("odometry_downsample", 0),
    ],
)
def test_invalid_values_name_their_field(field, value):
    with pytest.raises(PerceptionConfigError) as err:
        PerceptionConfig(**{field: value})
    assert err.value.field == field


@pytest.mark.parametrize("field", ["detector_model_path", "depth_model_path"])
def test_missing_model_directory_names_the_field_and_expected_contents(tmp_path, field):
    config = PerceptionConfig(device="cpu", **{field: str(tmp_path / "absent")})
    with pytest.raises(PerceptionConfigError) as err:
        PerceptionPipeline.from_config(config)
    assert err.value.field == field
    message = str(err.value)
    assert "does not exist" in message and "config.json" in message and "model.safetensors" in message


def test_missing_segmenter_directory_names_its_field(tmp_path, model_dirs):
    config = PerceptionConfig(device="cpu", odometry_enabled=False, detector_model_path=model_dirs["owlv2"],
                              segmenter_model_path=str(tmp_path / "absent"))
    with pytest.raises(PerceptionConfigError) as err:
        PerceptionPipeline.from_config(config)
    assert err.value.field == "segmenter_model_path"


def test_incomplete_model_directory_lists_everything_missing_at_once(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "owlv2"}))
    with pytest.raises(PerceptionConfigError) as err:
        PerceptionPipeline.from_config(PerceptionConfig(device="cpu", detector_model_path=str(tmp_path)))
    message = str(err.value)
    assert err.value.field == "detector_model_path"
    assert "lacks model weights, processor files, tokenizer files." in message
    assert "model.safetensors" in message and "preprocessor_config.json" in message


def test_unreadable_model_directory_is_reported_against_the_field(tmp_path, model_dirs):
    # A depth model where a detector belongs: files complete, but not a zero-shot detector.
    with pytest.raises(PerceptionConfigError) as err:
        PerceptionPipeline.from_config(
            PerceptionConfig(device="cpu", detector_model_path=model_dirs["depth_metric"])
        )
    assert err.value.field == "detector_model_path"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without a GPU")
def test_cuda_requested_without_a_gpu_is_a_config_error():
    with pytest.raises(PerceptionConfigError) as err:
        PerceptionPipeline.from_config(PerceptionConfig(device="cuda"))
    assert err.value.field == "device"
