"""The ROS-free output descriptions (`reasmory_ros.visual`) -> rclpy messages.

The content of ~/markers, ~/map and ~/path is built once in `reasmory_ros.visual` (the replay
recorder writes the same content into an MCAP); this module only maps each description onto the
rclpy message class its `MSGTYPE` names, field by field.
"""

from __future__ import annotations

import importlib
from dataclasses import fields, is_dataclass
from functools import cache


@cache
def _message_class(msgtype: str) -> type:
    package, _, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def to_msg(description):
    """A `reasmory_ros.visual.messages` description (or a list of them) as the rclpy message."""
    if isinstance(description, list):
        return [to_msg(item) for item in description]
    if not is_dataclass(description):
        return description
    msg = _message_class(description.MSGTYPE)()
    for item in fields(description):
        setattr(msg, item.name, to_msg(getattr(description, item.name)))
    return msg
