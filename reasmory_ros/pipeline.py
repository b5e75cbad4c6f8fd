"""The one pipeline builder of the live node and the bag replay: settings in, a frame path out.

A frame goes FrameAssembler (decode + synchronise) -> FrameIntegrator (perception plug-ins, then
`SpatialMemory.update`). Both front ends build that path here, so "the same frames live and
offline" holds by construction: the same torch threads, memory, perception plug-ins, the same
rule for waiting on instances, the same frame numbering. The node adds only ROS wiring, the replay
only bag reading. ROS-free.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from reasmory_ros.config.settings import Settings
from reasmory_ros.memory.labels import CANONICAL_GROUPS, normalise
from reasmory_ros.memory.spatial_memory import SpatialMemory
from reasmory_ros.perception import PerceptionPipeline
from reasmory_ros.perception.config import PerceptionConfig
from reasmory_ros.planning.language import default_embedder
from reasmory_ros.streams.assembler import FrameAssembler
from reasmory_ros.streams.integrator import LATENCY_WINDOW, FrameIntegrator


class PipelineError(ValueError):
    """The pipeline cannot be built from the settings (memory or perception refused them)."""


@dataclass
class Pipeline:
    """The parts of one frame's path; `build` makes them from the settings."""

    settings: Settings
    memory: SpatialMemory
    perception_config: PerceptionConfig | None
    """The plug-ins' effective config (device resolved); None when no plug-in runs."""
    perception: PerceptionPipeline | None
    assembler: FrameAssembler
    integrator: FrameIntegrator

    @classmethod
    def build(cls, settings: Settings, *, instance_topics: bool = True, clock: Callable[[], float] = time.monotonic,
              warn: Callable[[str], None] | None = None, latency_window: int | None = LATENCY_WINDOW) -> Pipeline:
        """Set torch's threads, then make the memory, the perception plug-ins, the assembler and
        the integrator.

        instance_topics: whether instance and labels topics exist at all (a bag may lack them).
        clock: the assembler's time (the bag's recording time in a replay). warn: where rate-limited
        input problems are logged. latency_window: update latencies kept (None keeps all).
        PipelineError says which part refused the settings.
        """
        apply_torch_threads(settings.compute.torch_threads)
        try:
            embedder = default_embedder() if settings.memory.label_similarity > 0 else None
            if embedder is not None:  # the first call warms the model up (~0.5 s): here, not in the frame loop
                embedder([normalise(word) for group in CANONICAL_GROUPS for word in group])
            memory = SpatialMemory(settings.memory, device=settings.compute.device, label_embedder=embedder)
        except (ValueError, RuntimeError) as err:  # e.g. cuda asked for but absent
            raise PipelineError(f"cannot create the memory: {err}") from err
        config = settings.perception_config(str(memory.device))
        try:
            perception = None if config is None else PerceptionPipeline.from_config(config)
        except ValueError as err:  # PerceptionConfigError: a model directory is unusable
            raise PipelineError(str(err)) from err
        assembler = FrameAssembler.from_settings(settings, detector=_detects_instances(perception),
                                                 instance_topics=instance_topics, clock=clock, warn=warn)
        integrator = FrameIntegrator(memory, assembler.report, perception, latency_window=latency_window)
        pipeline = cls(settings, memory, config, perception, assembler, integrator)
        pipeline.restart_stream()
        return pipeline

    @property
    def detects_instances(self) -> bool:
        """Whether a detector finds the objects (frames then need no instance topics)."""
        return _detects_instances(self.perception)

    def next_frame_index(self) -> int:
        """Frame numbering continues after a loaded memory's last frame."""
        indices = self.memory.snapshot().trajectory.frame_indices
        return int(indices[-1]) + 1 if len(indices) else 0

    def restart_stream(self) -> None:
        """Forget partly assembled frames and number the next one after the memory's last frame
        (at start-up, and after the memory was reset or loaded)."""
        self.assembler.reset(first_index=self.next_frame_index())


def _detects_instances(perception: PerceptionPipeline | None) -> bool:
    return perception is not None and perception.provides("instances")


def apply_torch_threads(threads: int) -> None:
    """Set torch's CPU thread count (process-wide, so once at start-up); 0 keeps torch's default."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
