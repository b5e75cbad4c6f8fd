"""The one parameter table: the shipped YAML and the docs are generated from it and must match."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.ros.parameters import NODE_NAME, all_parameters, memory_config, to_markdown, to_yaml

REPO = Path(__file__).resolve().parents[2]
DOC_BLOCK = re.compile(r"<!-- parameters:begin[^>]*-->\n(.*?)<!-- parameters:end -->", re.DOTALL)


def test_config_yaml_is_generated_from_the_table():
    shipped = (REPO / "config" / "reasmory.yaml").read_text()
    assert shipped == to_yaml(), "regenerate: python -m reasmory_ros.ros.parameters yaml > config/reasmory.yaml"


def test_every_yaml_parameter_has_a_unit_and_range_comment_and_the_default():
    lines = [
        line
        for line in (REPO / "config" / "reasmory.yaml").read_text().splitlines()
        if re.match(r"^\s+\w+: \S", line) and "ros__parameters" not in line
    ]
    assert len(lines) == len(all_parameters())
    assert all(re.search(r"  # \[[^\]]+\] \S", line) for line in lines)
    block = yaml.safe_load((REPO / "config" / "reasmory.yaml").read_text())[f"/**/{NODE_NAME}"]["ros__parameters"]
    flat = {}
    for key, value in block.items():  # memory: and perception: are nested blocks
        flat.update({f"{key}.{k}": v for k, v in value.items()} if isinstance(value, dict) else {key: value})
    assert flat == {spec.name: spec.default for spec in all_parameters()}


def test_docs_list_every_parameter_from_the_table():
    doc = (REPO / "docs" / "ros.md").read_text()
    match = DOC_BLOCK.search(doc)
    assert match, "docs/ros.md lacks the generated parameters block"
    assert match.group(1) == to_markdown(), "regenerate: python -m reasmory_ros.ros.parameters markdown"
    assert all(f"| `{spec.name}` |" in doc for spec in all_parameters())


def test_memory_parameters_follow_memory_config():
    fields = {f.name: f.default for f in dataclasses.fields(MemoryConfig)}
    memory = {spec.name[len("memory.") :]: spec for spec in all_parameters() if spec.name.startswith("memory.")}
    assert {name: spec.default for name, spec in memory.items()} == fields
    assert memory["voxel_size"].unit == "m" and memory["voxel_size"].description
    assert all(spec.description for spec in all_parameters())
    config = memory_config({"memory.voxel_size": 0.1, "planner": "rule"})
    assert config.voxel_size == 0.1
    with pytest.raises(ValueError, match="min_depth must be smaller than max_depth"):
        memory_config({"memory.max_depth": 0.05})


def test_checks_name_the_parameter_and_the_allowed_values():
    specs = {spec.name: spec for spec in all_parameters()}
    assert specs["qos"].check("fast") == "parameter 'qos' is 'fast'; expected one of sensor_data, reliable"
    assert specs["device"].check("cuda:1") is None and specs["device"].check("tpu") is not None
    assert "expected 0.0 .. 30.0" in specs["marker_rate"].check(31.0)
    assert "[unit: Hz; range: 0 .. 30]" in specs["marker_rate"].summary()
