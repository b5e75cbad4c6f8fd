"""Open-vocabulary instances from RGB: zero-shot boxes, then masks, painted into the instance contract.

Output is exactly what the /camera/instances topics carry: an H x W int32 image with ids 1..n
(0 = none, unique within the frame) and labels {id: category}. Categories come verbatim from the
config, so the memory and the DSL see the same names the user asked for.

Cost is bounded per frame: the detector runs on every `detect_every_n_frames`-th frame only, and
at most `max_detections` boxes are segmented. Frames in between carry *no* instance image (None,
"not observed"), so the memory integrates their geometry and associates objects only on detector
frames; reusing old masks on a moving camera would paint objects onto the wrong pixels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from transformers import AutoModel, AutoModelForZeroShotObjectDetection, AutoProcessor

from .config import PerceptionConfig, PerceptionConfigError
from .models import load_pretrained
from .stage import FrameInputs, PerceptionStage

OWL_MODEL_TYPES = ("owlvit", "owlv2")
GROUNDING_MODEL_TYPES = ("grounding-dino", "mm-grounding-dino")
CANDIDATES_PER_DETECTION = 10
"""Boxes kept for NMS per allowed detection: bounds the quadratic NMS cost on dense heads (OWLv2: 3600 boxes)."""


@dataclass(frozen=True)
class Detections:
    """Boxes in pixels (N x 4, x0 y0 x1 y1), scores (N,) and category indices (N,), best first."""

    boxes: np.ndarray
    scores: np.ndarray
    categories: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of x0 y0 x1 y1 boxes: (N, 4) x (M, 4) -> (N, M)."""
    area_a = (a[:, 2] - a[:, 0]).clamp_min(0) * (a[:, 3] - a[:, 1]).clamp_min(0)
    area_b = (b[:, 2] - b[:, 0]).clamp_min(0) * (b[:, 3] - b[:, 1]).clamp_min(0)
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (bottom_right - top_left).clamp_min(0).prod(dim=-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp_min(1e-9)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy class-agnostic NMS; indices of the kept boxes, best score first.

    Class-agnostic because one physical object must become one instance even when two
    categories ("table", "desk") both fire on it; the higher score names it.
    """
    order = scores.argsort(descending=True)
    overlaps = (box_iou(boxes[order], boxes[order]) > iou_threshold).cpu().numpy()
    suppressed = np.zeros(len(order), dtype=bool)
    keep = []
    for i in range(len(order)):
        if not suppressed[i]:
            keep.append(i)
            suppressed |= overlaps[i]
    return order[torch.as_tensor(keep, dtype=torch.long, device=order.device)]


class ZeroShotDetector:
    """A transformers zero-shot detector queried with the configured category names.

    OWL-ViT / OWLv2 score each box against one text query per category. Grounding DINO scores
    boxes against the tokens of one prompt ("chair. table."); a category's score is the best of its
    tokens. Both end as a (boxes x categories) score matrix, so thresholding and NMS are shared.
    The text is tokenised once: categories do not change while the node runs.
    """

    def __init__(self, config: PerceptionConfig, device: torch.device):
        self.device = device
        self.categories = list(config.categories)
        self.score_threshold = config.score_threshold
        self.nms_iou_threshold = config.nms_iou_threshold
        self.max_detections = config.max_detections
        self.model, self.processor = load_pretrained(
            "detector_model_path", config.detector_model_path,
            AutoModelForZeroShotObjectDetection.from_pretrained, AutoProcessor.from_pretrained, device,
            needs_tokenizer=True, example_model_id="google/owlv2-base-patch16-ensemble",
        )
        self.model_type = self.model.config.model_type
        if self.model_type in OWL_MODEL_TYPES:
            self.text_inputs = self.processor(text=[self.categories], return_tensors="pt").to(device)
            self.category_tokens = None
        elif self.model_type in GROUNDING_MODEL_TYPES:
            self.text_inputs, self.category_tokens = self._grounding_prompt()
        else:
            raise PerceptionConfigError(
                "detector_model_path",
                f"model_type {self.model_type!r} is not a supported zero-shot detector "
                f"(supported: {', '.join(OWL_MODEL_TYPES + GROUNDING_MODEL_TYPES)})",
            )

    def _grounding_prompt(self):
        """Tokenise "cat. dog." once and find which token positions spell each category."""
        spans, prompt = [], ""
        for name in self.categories:
            spans.append((len(prompt), len(prompt) + len(name)))
            prompt += name + ". "
        encoded = self.processor.tokenizer(prompt.strip(), return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0].tolist()
        tokens = []
        for name, (start, end) in zip(self.categories, spans):
            positions = [i for i, (a, b) in enumerate(offsets) if b > a and a >= start and b <= end]
            if not positions:
                raise PerceptionConfigError(
                    "categories", f"{name!r} does not fit the detector's text length; use fewer categories"
                )
            tokens.append(torch.as_tensor(positions, device=self.device))
        return encoded.to(self.device), tokens

    def _class_scores(self, outputs) -> torch.Tensor:
        """(boxes, categories) probabilities."""
        if self.category_tokens is None:
            return outputs.logits[0].sigmoid()
        token_probs = outputs.logits[0].sigmoid()
        return torch.stack([token_probs[:, positions].amax(dim=1) for positions in self.category_tokens], dim=1)

    def _pixel_boxes(self, outputs, height: int, width: int) -> torch.Tensor:
        """Normalised centre-size boxes -> pixel corners. OWLv2 pads the image to a square at the
        bottom/right before resizing, so its boxes are relative to the longer side."""
        cx, cy, w, h = outputs.pred_boxes[0].unbind(-1)
        corners = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)
        if self.model_type == "owlv2":
            scale = torch.tensor([max(height, width)] * 4, device=corners.device, dtype=corners.dtype)
        else:
            scale = torch.tensor([width, height, width, height], device=corners.device, dtype=corners.dtype)
        corners = corners * scale
        limits = torch.tensor([width, height, width, height], device=corners.device, dtype=corners.dtype)
        return torch.minimum(corners.clamp_min(0), limits)

    @torch.inference_mode()
    def detect(self, rgb: np.ndarray) -> Detections:
        height, width = rgb.shape[:2]
        image_inputs = self.processor.image_processor(images=rgb, return_tensors="pt").to(self.device)
        outputs = self.model(**self.text_inputs, **image_inputs)
        scores, categories = self._class_scores(outputs).max(dim=1)
        boxes = self._pixel_boxes(outputs, height, width)
        sized = ((boxes[:, 2] - boxes[:, 0]) >= 1) & ((boxes[:, 3] - boxes[:, 1]) >= 1)
        candidates = torch.nonzero((scores > self.score_threshold) & sized).squeeze(1)
        candidates = candidates[scores[candidates].argsort(descending=True)]
        candidates = candidates[: self.max_detections * CANDIDATES_PER_DETECTION]
        kept = candidates[nms(boxes[candidates], scores[candidates], self.nms_iou_threshold)]
        kept = kept[: self.max_detections]
        return Detections(
            boxes=boxes[kept].float().cpu().numpy(),
            scores=scores[kept].float().cpu().numpy(),
            categories=categories[kept].cpu().numpy(),
        )


def box_depth_mask(depth: np.ndarray, box: np.ndarray, band_m: float) -> np.ndarray:
    """Pixels of `box` whose depth lies within `band_m` of the box's median depth, largest blob only.

    Cheap segmentation without a mask model: the object usually fills most of its box and is the
    biggest connected surface at its depth. It fails where the object fills little of its box
    (thin chairs against a wall): then the median is the wall's depth.
    """
    height, width = depth.shape
    x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
    x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
    mask = np.zeros((height, width), dtype=bool)
    crop = depth[y0:y1, x0:x1]
    valid = crop > 0
    if not valid.any():
        return mask
    near = valid & (np.abs(crop - np.median(crop[valid])) <= band_m)
    blobs, count = ndimage.label(near)
    if count == 0:
        return mask
    largest = 1 + int(np.argmax(np.bincount(blobs.ravel())[1:]))
    mask[y0:y1, x0:x1] = blobs == largest
    return mask


class BoxDepthSegmenter:
    """Masks from boxes and depth alone (see `box_depth_mask`)."""

    def __init__(self, band_m: float):
        self.band_m = band_m

    def segment(self, rgb: np.ndarray, depth: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        masks = [box_depth_mask(depth, box, self.band_m) for box in boxes]
        return np.stack(masks) if masks else np.zeros((0, *depth.shape), dtype=bool)


class SamSegmenter:
    """Masks from a SAM-family model prompted with all boxes of a frame in one forward pass."""

    def __init__(self, config: PerceptionConfig, device: torch.device):
        self.device = device
        self.model, self.processor = load_pretrained(
            "segmenter_model_path", config.segmenter_model_path, AutoModel.from_pretrained,
            AutoProcessor.from_pretrained, device, needs_tokenizer=False, example_model_id="facebook/sam-vit-base",
        )
        if self.model.config.model_type != "sam":
            raise PerceptionConfigError(
                "segmenter_model_path",
                f"model_type {self.model.config.model_type!r} is not a SAM model (SamModel + SamProcessor)",
            )

    @torch.inference_mode()
    def segment(self, rgb: np.ndarray, depth: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        if len(boxes) == 0:
            return np.zeros((0, *rgb.shape[:2]), dtype=bool)
        inputs = self.processor(images=rgb, input_boxes=[boxes.tolist()], return_tensors="pt").to(self.device)
        outputs = self.model(**inputs, multimask_output=False)
        masks = self.processor.post_process_masks(
            outputs.pred_masks, inputs["original_sizes"], inputs["reshaped_input_sizes"]
        )[0]
        return masks[:, 0].cpu().numpy().astype(bool)


def paint_instances(
    masks: np.ndarray, categories: np.ndarray, names: list[str], min_pixels: int
) -> tuple[np.ndarray, dict[int, str]]:
    """Instance image + labels from masks ordered best first.

    Overlaps go to the better detection; a mask left with fewer than `min_pixels` free pixels is
    dropped. Ids are 1..n in painting order, so they are dense and unique within the frame.
    """
    instances = np.zeros(masks.shape[1:], dtype=np.int32)
    labels: dict[int, str] = {}
    for mask, category in zip(masks, categories):
        free = mask & (instances == 0)
        if free.sum() < max(min_pixels, 1):
            continue
        instance_id = len(labels) + 1
        instances[free] = instance_id
        labels[instance_id] = names[int(category)]
    return instances, labels


class InstanceStage(PerceptionStage):
    """Fills in instances and labels on every N-th frame that comes without them."""

    name = "instances"

    def __init__(self, config: PerceptionConfig, device: torch.device):
        super().__init__()
        self.detector = ZeroShotDetector(config, device)
        self.segmenter = (
            SamSegmenter(config, device) if config.segmenter_model_path else BoxDepthSegmenter(config.box_depth_band_m)
        )
        self.every_n_frames = config.detect_every_n_frames
        self.min_pixels = config.min_instance_pixels
        self._frames_seen = 0

    def process(self, inputs: FrameInputs) -> FrameInputs:
        if inputs.instances is not None:
            return inputs
        run = self._frames_seen % self.every_n_frames == 0
        self._frames_seen += 1
        if not run:
            self._count("skipped")
            return inputs
        self._count("detector_runs")
        detections = self.detector.detect(inputs.rgb)
        masks = self.segmenter.segment(inputs.rgb, inputs.depth, detections.boxes)
        instances, labels = paint_instances(masks, detections.categories, self.detector.categories, self.min_pixels)
        return dataclasses.replace(inputs, instances=instances, labels=labels)
