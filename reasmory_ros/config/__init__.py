"""Settings of the node and the replay: typed, validated once, documented by their field metadata.

ROS-free: `reasmory_ros.ros` declares ROS parameters from them, the replay reads the same YAML file.
The settings live in `reasmory_ros.config.settings`, the field metadata in `.fields`, the generated
YAML and docs in `.generate`. This package itself defines only names that need no import (so the
memory and perception configs can use `.fields`, and a small client the planner kinds, cheaply).
"""

NODE_NAME = "reasmory"

PLANNER_KINDS = ("rule", "local", "remote")
"""rule: deterministic, no model; local: a transformers model; remote: an OpenAI-compatible endpoint."""
