"""The typed settings: one definition per parameter; the shipped YAML, the docs and the checks all
come from the fields' metadata."""

from __future__ import annotations

import array
import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from reasmory_ros.config import NODE_NAME
from reasmory_ros.config.generate import main as generate_main
from reasmory_ros.config.generate import to_markdown, to_yaml
from reasmory_ros.config.settings import SECTIONS, Settings, SettingsError, load_settings, parameter_specs
from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.perception.config import PerceptionConfig

REPO = Path(__file__).resolve().parents[2]
DOC_BLOCK = re.compile(r"<!-- parameters:begin[^>]*-->\n(.*?)<!-- parameters:end -->", re.DOTALL)


def test_config_yaml_is_generated_from_the_settings():
    shipped = (REPO / "config" / "reasmory.yaml").read_text()
    assert shipped == to_yaml(), "regenerate: python -m reasmory_ros.config.generate yaml > config/reasmory.yaml"


def test_every_yaml_parameter_has_a_unit_and_range_comment_and_the_default():
    lines = [
        line
        for line in (REPO / "config" / "reasmory.yaml").read_text().splitlines()
        if re.match(r"^\s+\w+: \S", line) and "ros__parameters" not in line
    ]
    assert len(lines) == len(parameter_specs())
    assert all(re.search(r"  # \[[^\]]+\] \S", line) for line in lines)
    block = yaml.safe_load((REPO / "config" / "reasmory.yaml").read_text())[f"/**/{NODE_NAME}"]["ros__parameters"]
    flat = {}
    for key, value in block.items():  # memory: and perception: are nested blocks
        flat.update({f"{key}.{k}": v for k, v in value.items()} if isinstance(value, dict) else {key: value})
    assert flat == {spec.name: spec.default for spec in parameter_specs()}
    assert load_settings(REPO / "config" / "reasmory.yaml") == Settings()


def test_docs_list_every_parameter_from_the_settings(capsys):
    doc = (REPO / "docs" / "ros.md").read_text()
    match = DOC_BLOCK.search(doc)
    assert match, "docs/ros.md lacks the generated parameters block"
    assert match.group(1) == to_markdown(), "regenerate: python -m reasmory_ros.config.generate markdown"
    assert all(f"| `{spec.name}` |" in doc for spec in parameter_specs())
    assert generate_main(["markdown"]) == 0 and capsys.readouterr().out == to_markdown()


def test_memory_and_perception_parameters_are_their_config_fields():
    """One definition per field: defaults, units and descriptions come from MemoryConfig and
    PerceptionConfig; only the two fields the pipeline derives are not parameters."""
    specs = {spec.name: spec for spec in parameter_specs()}
    memory = {f.name: f.default for f in dataclasses.fields(MemoryConfig)}
    assert {name[len("memory."):]: s.default for name, s in specs.items() if name.startswith("memory.")} == memory
    perception = {f.name for f in dataclasses.fields(PerceptionConfig)} - {"device", "odometry_enabled"}
    assert {name[len("perception."):] for name in specs if name.startswith("perception.")} == perception
    assert specs["memory.voxel_size"].unit == "m" and specs["perception.odometry_max_step_m"].unit == "m"
    assert all(spec.description.strip() for spec in specs.values())
    assert len(specs) == len(parameter_specs()), "two sections declare the same parameter"


def test_values_round_trip_and_every_section_is_typed():
    changed = {"memory.voxel_size": 0.1, "perception.categories": ["mug"], "planner": "local", "qos": "reliable"}
    settings = Settings().updated(changed)
    assert settings.memory.voxel_size == 0.1 and settings.perception.categories == ["mug"]
    assert settings.planner.planner == "local" and settings.streams.qos == "reliable"
    assert Settings.from_values(settings.values()) == settings
    assert [type(getattr(settings, name)) for name, *_ in SECTIONS] == [cls for _, cls, *_ in SECTIONS]
    assert Settings().values() == {spec.name: spec.default for spec in parameter_specs()}


def test_ros_values_are_coerced_without_loss():
    """rclpy gives arrays as array.array and may give an int for a float parameter."""
    settings = Settings.from_values({"camera_offset": array.array("d", [0, 0, 1, 0, 0, 0, 1]), "marker_rate": 2})
    assert settings.streams.camera_offset == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert settings.node.marker_rate == 2.0 and isinstance(settings.node.marker_rate, float)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"memory.voxel_sise": 0.1}, "unknown parameter 'memory.voxel_sise' (did you mean 'memory.voxel_size'?)"),
        ({"qos": "fast"}, "parameter 'qos' is 'fast'; expected one of sensor_data, reliable"),
        ({"marker_rate": 31.0}, "parameter 'marker_rate' is 31.0; expected 0.0 .. 30.0"),
        ({"marker_rate": "fast"}, "parameter 'marker_rate' is 'fast'; expected a float"),
        ({"max_pending": 2.5}, "parameter 'max_pending' is 2.5; expected a int"),
        ({"device": "tpu"}, "parameter 'device' is 'tpu'; expected one of auto, cpu, cuda, cuda:<n>"),
        ({"camera_offset": [0.0, 1.0]}, "parameter 'camera_offset': expected 7 numbers"),
        ({"memory.max_depth": 0.05}, "min_depth must be smaller than max_depth"),
        ({"perception.score_threshold": 1.5}, "'score_threshold': must lie in [0, 1]"),
        ({"depth_topic": ""}, "depth_topic is empty, so depth must be estimated from color"),
    ],
    ids=["unknown", "choice", "range", "type", "int", "device", "offset", "memory", "perception", "cross-section"],
)
def test_each_kind_of_bad_value_is_refused_naming_the_parameter(values, message):
    with pytest.raises(SettingsError) as err:
        Settings.from_values(values)
    assert message in str(err.value)


def test_checks_and_summaries_come_from_the_metadata():
    specs = {spec.name: spec for spec in parameter_specs()}
    assert specs["device"].check("cuda:1") is None and specs["device"].check("cuda:x") is not None
    assert "[unit: Hz; range: 0 .. 30]" in specs["marker_rate"].summary()
    assert {name for name, spec in specs.items() if not spec.read_only} == {"planner", "max_attempts"}


def test_perception_config_is_derived_from_the_settings():
    assert Settings().perception_config("cpu") is None  # topics give everything: no plug-in
    odometry = Settings().updated({"pose_source": "rgbd_odometry", "perception.depth_model_path": "/m"})
    config = odometry.perception_config("cuda:0")
    assert config.device == "cuda:0" and config.odometry_enabled and config.depth_model_path == ""
    assert odometry.estimated_parts() == {"pose"}
    depth = Settings().updated({"depth_topic": "", "perception.depth_model_path": "/m"})
    assert depth.estimated_parts() == {"depth"} and not depth.perception_config("cpu").odometry_enabled


@pytest.mark.parametrize("key", [f"/**/{NODE_NAME}", NODE_NAME, f"/{NODE_NAME}", "/**", "/**/*"])
def test_load_settings_reads_every_node_block_form(tmp_path, key):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({key: {"ros__parameters": {"memory": {"voxel_size": 0.1}, "planner": "remote"}}}))
    settings = load_settings(path)
    assert settings.memory.voxel_size == 0.1 and settings.planner.planner == "remote"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("other_node:\n  ros__parameters: {}\n", "no '/**/reasmory: ros__parameters:' block"),
        ("- a list\n", "expected a YAML mapping"),
        ("reasmory: {ros__parameters: {qos: [unclosed\n", "cannot read parameters file"),
        ("reasmory: {ros__parameters: {memory: {voxel_size: fine}}}\n", "'memory.voxel_size' is 'fine'"),
    ],
    ids=["no-block", "not-a-mapping", "bad-yaml", "bad-value"],
)
def test_bad_params_files_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "params.yaml"
    path.write_text(content)
    with pytest.raises(SettingsError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and message in str(err.value)
    with pytest.raises(SettingsError, match="cannot read parameters file"):
        load_settings(tmp_path / "missing.yaml")
