"""Optional perception stages in front of the memory: instances, depth and pose from plain streams.

Typical use (live node or offline replay)::

    pipeline = PerceptionPipeline.from_config(PerceptionConfig(detector_model_path="/models/owlv2"))
    result = pipeline.process(rgb, K, timestamp, index, depth=depth)   # pose, instances filled in
    if result.frame is not None:
        memory.update(result.frame)

Stage modules (transformers, Open3D) are imported only by the pipeline stages that use them.
"""

from .config import PerceptionConfig, PerceptionConfigError
from .pipeline import PerceptionPipeline, PerceptionResult
from .stage import FrameInputs, FrameSkipped, PerceptionStage

__all__ = [
    "FrameInputs", "FrameSkipped", "PerceptionConfig", "PerceptionConfigError", "PerceptionPipeline",
    "PerceptionResult", "PerceptionStage",
]
