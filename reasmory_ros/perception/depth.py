"""Depth from RGB with a transformers depth-estimation model, for cameras without a depth stream.

Scale policy: the memory needs metres. A *metric* model (e.g. Depth Anything V2 Metric Indoor)
outputs metres, used as `output * depth_scale` (depth_scale 0, unset, means 1). A *relative* model
outputs inverse depth up to an unknown scale and shift; it is accepted only with an explicit
`depth_scale`, giving `metres = depth_scale / output`, which ignores the shift and is therefore
approximate. Values outside [depth_min_m, depth_max_m] are marked invalid (0) rather than clamped,
so an implausible estimate leaves a hole instead of a fake surface at the range limit.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from transformers import AutoImageProcessor, AutoModelForDepthEstimation

from .config import PerceptionConfig, PerceptionConfigError
from .models import load_pretrained
from .stage import FrameInputs, PerceptionStage


class DepthStage(PerceptionStage):
    """Fills in depth from the colour image when the frame has none."""

    name = "depth"
    needs_depth = False

    def __init__(self, config: PerceptionConfig, device: torch.device):
        super().__init__()
        self.device = device
        self.model, self.processor = load_pretrained(
            "depth_model_path", config.depth_model_path, AutoModelForDepthEstimation.from_pretrained,
            AutoImageProcessor.from_pretrained, device, needs_tokenizer=False,
            example_model_id="depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf",
        )
        self.output_kind = self._output_kind(config.depth_output)
        if self.output_kind == "relative" and not config.depth_scale:
            raise PerceptionConfigError(
                "depth_scale",
                "the depth model outputs relative inverse depth; set depth_scale (metres = depth_scale / output) "
                "or use a metric model such as depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf",
            )
        self.scale = float(config.depth_scale) or 1.0
        self.range_m = (config.depth_min_m, config.depth_max_m)

    def _output_kind(self, configured: str) -> str:
        if configured != "auto":
            return configured
        kind = getattr(self.model.config, "depth_estimation_type", None)
        if kind not in ("metric", "relative"):
            raise PerceptionConfigError(
                "depth_output",
                f"the model's config.json does not say whether its output is metric ({kind=}); "
                "set depth_output to 'metric' or 'relative'",
            )
        return kind

    @torch.inference_mode()
    def estimate(self, rgb: np.ndarray) -> np.ndarray:
        """H x W float32 metres for an H x W x 3 uint8 image; 0 where the estimate is out of range."""
        height, width = rgb.shape[:2]
        inputs = self.processor(images=rgb, return_tensors="pt").to(self.device)
        outputs = self.model(**inputs)
        predicted = self.processor.post_process_depth_estimation(outputs, target_sizes=[(height, width)])
        raw = predicted[0]["predicted_depth"].reshape(height, width).float()
        if self.output_kind == "metric":
            metres = raw * self.scale
        else:
            metres = torch.where(raw > 0, self.scale / raw, torch.zeros_like(raw))
        low, high = self.range_m
        metres = torch.where((metres >= low) & (metres <= high), metres, torch.zeros_like(metres))
        return metres.cpu().numpy().astype(np.float32)

    def process(self, inputs: FrameInputs) -> FrameInputs:
        if inputs.depth is not None:
            return inputs
        self._count("estimated")
        return dataclasses.replace(inputs, depth=self.estimate(inputs.rgb))
