"""Build the planner a configuration names: one place for the node, the replay and the CLIs.

The settings are the `PlannerSettings` section (`local_model_path`, `remote_*`), so a parameters
file means the same thing live and offline.
"""

from __future__ import annotations

import os

from reasmory_ros.config import PLANNER_KINDS
from reasmory_ros.config.settings import PlannerSettings
from reasmory_ros.planning.base import Planner


def build_planner(name: str, settings: PlannerSettings, device: str = "cpu") -> Planner | None:
    """The model planner for `name`, one of PLANNER_KINDS (None for "rule": `answer_question` then
    uses the rules alone). Raises ValueError naming the missing setting. Models load lazily, on
    the first question.
    """
    if name == "rule":
        return None
    if name == "local":
        if not settings.local_model_path:
            raise ValueError("planner 'local' needs local_model_path (a local model directory)")
        from reasmory_ros.planning.local_model import LocalModelPlanner

        return LocalModelPlanner(os.path.expanduser(settings.local_model_path), device=device,
                                 max_new_tokens=settings.local_max_new_tokens)
    if name == "remote":
        if not settings.remote_base_url or not settings.remote_model:
            raise ValueError("planner 'remote' needs remote_base_url and remote_model")
        from reasmory_ros.planning.remote import RemoteConfig, RemotePlanner

        return RemotePlanner(RemoteConfig(
            base_url=settings.remote_base_url, model=settings.remote_model,
            api_key_env=settings.remote_api_key_env or None, timeout_s=settings.remote_timeout))
    raise ValueError(f"unknown planner {name!r}; expected one of {', '.join(PLANNER_KINDS)}")
