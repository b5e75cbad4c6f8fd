"""Detector and odometry noise for simulated recordings: what a real open-vocabulary detector
(OWLv2, Grounding DINO + SAM) and a drifting visual odometry do to the perfect renderer output.

The renderer's instance image is exact; `DetectorNoise` turns it into what such a detector
outputs, each error with its own seeded probability:

- misses, more often for small and far instances;
- synonyms ("sofa" -> "couch") and look-alike confusions ("chair" -> "stool");
- bleeding masks that grow past the silhouette onto the background (picking up its depth) and
  eroded masks;
- one object split into two instances, two touching objects merged into one;
- false positives on walls and floor.

The camera pose drifts as a random walk per metre travelled (yaw and translation: gravity keeps
roll and pitch observable) plus per-frame jitter. The bag gets the noisy instances, labels and
poses; the ground truth keeps the true ones, plus which noisy instance shows which object.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import ndimage

from ..memory.labels import SYNONYM_GROUPS, normalise
from .render import MAX_INSTANCE_ID, Rendered

LOOK_ALIKES: dict[str, tuple[str, ...]] = {
    "chair": ("stool", "armchair"), "stool": ("chair",), "table": ("desk",), "desk": ("table",),
    "cabinet": ("nightstand", "dresser"), "nightstand": ("cabinet",), "shelf": ("cabinet", "bookshelf"),
    "sofa": ("bed", "armchair"), "bed": ("sofa",), "tv": ("picture",), "lamp": ("plant",),
    "plant": ("vase",), "vase": ("bottle", "plant"), "bottle": ("vase", "cup"), "cup": ("bowl", "bottle"),
    "bowl": ("cup",), "book": ("laptop",), "laptop": ("book",), "refrigerator": ("cabinet",),
    "trash can": ("bowl", "vase"), "door": ("cabinet", "picture"),
}
"""Classes a detector confuses with each category (a different object class, not a synonym)."""

FALSE_POSITIVE_LABELS = ("picture", "door", "rug", "cabinet", "shelf", "tv", "box", "window")
"""What detectors hallucinate on bare walls and floors."""


@dataclass(frozen=True)
class DetectorNoise:
    """Probabilities (per visible instance unless said otherwise) and magnitudes of each error.

    Defaults describe a decent open-vocabulary detector indoors; every error can be switched off
    with 0. Each field is settable from `reasmory-sim --noise-set NAME=VALUE`.
    """

    miss: float = 0.05
    """Probability that a visible instance is not detected at all."""
    miss_small: float = 0.35
    """Extra miss probability of a tiny instance, falling linearly to 0 at small_pixels."""
    small_pixels: float = 0.006
    """Fraction of the image below which an instance counts as small (1843 px at 640x480)."""
    miss_far: float = 0.2
    """Extra miss probability at far_depth and beyond, rising linearly from near_depth."""
    near_depth: float = 2.0
    """m. Median depth below which distance adds no miss probability."""
    far_depth: float = 5.0
    """m. Median depth at which miss_far applies in full."""
    synonym: float = 0.25
    """Probability that the label is another word of its synonym group (sofa -> couch)."""
    confusion: float = 0.08
    """Probability that the label is a look-alike class (chair -> stool, table -> desk)."""
    bleed: float = 0.2
    """Probability that the mask bleeds onto the background around it."""
    bleed_px: tuple[int, int] = (3, 10)
    """px. Range of the bleed width (uniform, inclusive)."""
    erode: float = 0.2
    """Probability that the mask is eroded."""
    erode_px: tuple[int, int] = (2, 5)
    """px. Range of the erosion width (uniform, inclusive)."""
    split: float = 0.05
    """Probability that an instance is split in two along its longer image axis."""
    merge: float = 0.25
    """Probability that two touching instances (adjacent in the image, with close depth at the
    contact) come out as one, labelled as the larger."""
    merge_depth: float = 0.1
    """m. Largest depth step across the contact for two instances to count as touching."""
    false_positive: float = 0.1
    """Probability per frame of one false detection on a patch of wall or floor."""
    false_positive_px: tuple[int, int] = (24, 90)
    """px. Side range of the false positive's rectangle."""
    drift_translation: float = 0.01
    """m per sqrt(m). Standard deviation of the translation random walk per metre travelled
    (in x, y and z)."""
    drift_yaw: float = 0.5
    """deg per sqrt(m). Standard deviation of the yaw random walk per metre travelled."""
    jitter_translation: float = 0.003
    """m. Standard deviation of the per-frame (non-accumulating) translation jitter."""
    jitter_rotation: float = 0.15
    """deg. Standard deviation of the per-frame rotation jitter about each axis."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                if len(value) != 2 or not 0 <= value[0] <= value[1] or not all(isinstance(v, int) for v in value):
                    raise ValueError(f"DetectorNoise.{f.name} must be two integers 0 <= low <= high, got {value!r}")
            elif not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"DetectorNoise.{f.name} must be a finite number >= 0, got {value!r}")
        probabilities = ("miss", "miss_small", "miss_far", "synonym", "confusion", "bleed", "erode",
                         "split", "merge", "false_positive")
        for name in probabilities:
            if getattr(self, name) > 1:
                raise ValueError(f"DetectorNoise.{name} is a probability in [0, 1], got {getattr(self, name)}")
        if self.synonym + self.confusion > 1:
            raise ValueError("DetectorNoise.synonym + confusion must not exceed 1")
        if self.small_pixels <= 0:
            raise ValueError("DetectorNoise.small_pixels must be positive")
        if self.near_depth >= self.far_depth:
            raise ValueError("DetectorNoise.near_depth must be smaller than far_depth")

    @classmethod
    def off(cls) -> DetectorNoise:
        """No error of any kind (the renderer's perfect instances and poses)."""
        return cls(**{f.name: 0.0 for f in dataclasses.fields(cls)
                      if f.name not in _SCALES and not isinstance(f.default, tuple)})

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DetectorNoise:
        """Build from {name: value}; unknown names are an error (a typo must not pass silently)."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"unknown DetectorNoise fields: {', '.join(unknown)}; known: {', '.join(fields)}")
        return cls(**{k: tuple(int(x) for x in v) if isinstance(fields[k].default, tuple) else float(v)
                      for k, v in values.items()})

    @classmethod
    def parse_assignments(cls, assignments: list[str], base: DetectorNoise | None = None) -> DetectorNoise:
        """Apply "name=value" settings ("bleed_px=2,6" for ranges) to `base` (default: defaults)."""
        values = (base or cls()).to_dict()
        for text in assignments:
            name, sep, value = text.partition("=")
            if not sep:
                raise ValueError(f"expected NAME=VALUE, got {text!r}")
            name = name.strip()
            try:
                values[name] = [int(v) for v in value.split(",")] if "," in value else float(value)
            except ValueError as err:
                raise ValueError(f"{name}: not a number: {value!r}") from err
        return cls.from_dict(values)


def _synonyms() -> dict[str, tuple[str, ...]]:
    """Category -> the other words of its synonym group (from the DSL's synonym table)."""
    table: dict[str, set[str]] = {}
    for group in SYNONYM_GROUPS:
        for word in group:
            table.setdefault(normalise(word), set()).update(normalise(w) for w in group if w != word)
    return {k: tuple(sorted(v)) for k, v in table.items()}


_SYNONYMS = _synonyms()


_SCALES = ("small_pixels", "near_depth", "far_depth", "merge_depth")
"""Fields that say where an error applies, not how often: `DetectorNoise.off` keeps them (and
the pixel ranges, which apply only when their error's probability is not 0)."""


class NoisyDetector:
    """Applies `DetectorNoise` to a rendered sequence, frame by frame, with its own seeded random
    stream (so a clean and a noisy recording of one seed share every rendered image)."""

    def __init__(self, noise: DetectorNoise, seed: int | list[int]):
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self._drift = np.eye(4)
        self._last_position: np.ndarray | None = None

    def __call__(self, rendered: Rendered) -> Rendered:
        frame = rendered.frame
        if frame.instances is None:
            instances, labels, to_object = None, {}, {}
        else:
            instances, labels, to_object = self._detections(
                frame.instances, frame.depth, frame.labels, rendered.instance_to_object
            )
        noisy = replace(frame, instances=instances, labels=labels, T_world_camera=self._pose(frame.T_world_camera))
        return Rendered(noisy, to_object, rendered.pixel_counts)

    # --- poses ----------------------------------------------------------------------------------

    def _pose(self, T: np.ndarray) -> np.ndarray:
        """Drifted pose: a yaw + translation random walk whose variance grows with the metres
        travelled, then per-frame jitter (which does not accumulate)."""
        cfg, rng = self.noise, self.rng
        position = T[:3, 3]
        metres = 0.0 if self._last_position is None else float(np.linalg.norm(position - self._last_position))
        self._last_position = position.copy()
        step = np.eye(4)
        step[:3, :3] = _rot_z(math.radians(cfg.drift_yaw) * math.sqrt(metres) * rng.standard_normal())
        step[:3, 3] = cfg.drift_translation * math.sqrt(metres) * rng.standard_normal(3)
        # The walk turns about the camera's current position, so yaw drift does not fling far poses.
        about = np.eye(4)
        about[:3, 3] = position
        self._drift = about @ step @ np.linalg.inv(about) @ self._drift
        jitter = np.eye(4)
        angles = np.radians(cfg.jitter_rotation) * rng.standard_normal(3)
        jitter[:3, :3] = _rotation(angles)
        jitter[:3, 3] = cfg.jitter_translation * rng.standard_normal(3)
        return self._drift @ T @ jitter

    # --- detections -----------------------------------------------------------------------------

    def _detections(self, ids: np.ndarray, depth: np.ndarray, labels: dict[int, str],
                    to_object: dict[int, int]) -> tuple[np.ndarray, dict[int, str], dict[int, int]]:
        cfg, rng = self.noise, self.rng
        ids = ids.astype(np.int32, copy=True)
        height, width = ids.shape
        present, counts = np.unique(ids[ids > 0], return_counts=True)
        pixels = dict(zip(present.tolist(), counts.tolist()))
        labels = {i: labels[i] for i in pixels}
        to_object = {i: to_object[i] for i in pixels if i in to_object}
        used = set(pixels)

        # Misses, likelier for small and far instances.
        for i in sorted(pixels):
            mask = ids == i
            valid = depth[mask]
            valid = valid[valid > 0]
            median = float(np.median(valid)) if valid.size else cfg.far_depth
            small = max(0.0, 1.0 - pixels[i] / (cfg.small_pixels * height * width))
            far = np.clip((median - cfg.near_depth) / (cfg.far_depth - cfg.near_depth), 0.0, 1.0)
            if rng.random() < min(1.0, cfg.miss + cfg.miss_small * small + cfg.miss_far * far):
                ids[mask] = 0
                del pixels[i], labels[i]
                to_object.pop(i, None)

        # Merges of touching instances: adjacent pixels of two ids with close depth.
        for a, b in self._touching(ids, depth):
            if a in pixels and b in pixels and rng.random() < cfg.merge:
                keep, drop = (a, b) if pixels[a] >= pixels[b] else (b, a)
                ids[ids == drop] = keep
                pixels[keep] += pixels.pop(drop)
                del labels[drop]
                to_object.pop(drop, None)

        for i in sorted(pixels):
            if rng.random() < cfg.split:
                new = self._new_id(used)
                if self._split(ids, i, new):
                    pixels[new] = int((ids == new).sum())
                    labels[new] = labels[i]
                    if i in to_object:
                        to_object[new] = to_object[i]
            if rng.random() < cfg.bleed:
                self._bleed(ids, i, int(rng.integers(cfg.bleed_px[0], cfg.bleed_px[1] + 1)))
            elif rng.random() < cfg.erode:
                self._erode(ids, i, int(rng.integers(cfg.erode_px[0], cfg.erode_px[1] + 1)))
            labels[i] = self._label(labels[i])

        if rng.random() < cfg.false_positive:
            new = self._new_id(used)
            if self._false_positive(ids, depth, new):
                labels[new] = FALSE_POSITIVE_LABELS[int(rng.integers(len(FALSE_POSITIVE_LABELS)))]

        present = set(np.unique(ids[ids > 0]).tolist())
        labels = {i: v for i, v in labels.items() if i in present}
        return ids, labels, {i: o for i, o in to_object.items() if i in present}

    def _label(self, label: str) -> str:
        cfg, rng = self.noise, self.rng
        draw = rng.random()
        if draw < cfg.confusion and label in LOOK_ALIKES:
            options = LOOK_ALIKES[label]
        elif draw < cfg.confusion + cfg.synonym and label in _SYNONYMS:
            options = _SYNONYMS[label]
        else:
            return label
        return options[int(rng.integers(len(options)))]

    def _new_id(self, used: set[int]) -> int:
        while True:
            new = int(self.rng.integers(1, MAX_INSTANCE_ID + 1))
            if new not in used:
                used.add(new)
                return new

    def _touching(self, ids: np.ndarray, depth: np.ndarray) -> list[tuple[int, int]]:
        """Pairs of ids (sorted) that share an image edge where their depths differ by less than
        merge_depth: objects touching in 3D, not only overlapping in the picture."""
        pairs = []
        for a, b, da, db in ((ids[:, :-1], ids[:, 1:], depth[:, :-1], depth[:, 1:]),
                             (ids[:-1], ids[1:], depth[:-1], depth[1:])):
            contact = (a > 0) & (b > 0) & (a != b) & (da > 0) & (db > 0) & (np.abs(da - db) < self.noise.merge_depth)
            x, y = a[contact].astype(np.int64), b[contact].astype(np.int64)
            pairs.append(np.stack([np.minimum(x, y), np.maximum(x, y)], 1))
        return [tuple(p) for p in np.unique(np.concatenate(pairs), axis=0).tolist()]

    @staticmethod
    def _crop(ids: np.ndarray, i: int, margin: int) -> tuple[slice, slice] | None:
        rows, cols = np.nonzero(ids == i)
        if rows.size == 0:
            return None
        return (slice(max(rows.min() - margin, 0), rows.max() + margin + 1),
                slice(max(cols.min() - margin, 0), cols.max() + margin + 1))

    def _split(self, ids: np.ndarray, i: int, new: int) -> bool:
        """Give the far half of instance i (cut across its longer image axis) the id `new`."""
        rows, cols = np.nonzero(ids == i)
        if rows.size < 2:
            return False
        if np.ptp(cols) >= np.ptp(rows):
            far = cols > np.median(cols)
        else:
            far = rows > np.median(rows)
        if not far.any() or far.all():
            return False
        ids[rows[far], cols[far]] = new
        return True

    def _bleed(self, ids: np.ndarray, i: int, px: int) -> None:
        """Grow instance i by `px` onto background pixels (id 0) around it."""
        box = self._crop(ids, i, px)
        if box is None or px == 0:
            return
        crop = ids[box]
        grown = ndimage.binary_dilation(crop == i, iterations=px)
        crop[grown & (crop == 0)] = i

    def _erode(self, ids: np.ndarray, i: int, px: int) -> None:
        """Shrink instance i by `px` from its silhouette."""
        box = self._crop(ids, i, 1)
        if box is None or px == 0:
            return
        crop = ids[box]
        mask = crop == i
        crop[mask & ~ndimage.binary_erosion(mask, iterations=px)] = 0

    def _false_positive(self, ids: np.ndarray, depth: np.ndarray, new: int) -> bool:
        """A rectangle of wall or floor (background with valid depth) labelled as an object."""
        rng, (low, high) = self.rng, self.noise.false_positive_px
        background = np.flatnonzero((ids == 0) & (depth > 0))
        if background.size == 0:
            return False
        row, col = divmod(int(background[rng.integers(background.size)]), ids.shape[1])
        h, w = (int(rng.integers(low, high + 1)) for _ in range(2))
        box = (slice(max(row - h // 2, 0), row + h - h // 2), slice(max(col - w // 2, 0), col + w - w // 2))
        crop = ids[box]
        free = (crop == 0) & (depth[box] > 0)
        crop[free] = new
        return bool(free.any())


def apply_detector_noise(frames: Iterator[Rendered], noise: DetectorNoise, seed: int | list[int]) -> Iterator[Rendered]:
    """The rendered sequence as a noisy detector and drifting odometry would deliver it."""
    detector = NoisyDetector(noise, seed)
    for rendered in frames:
        yield detector(rendered)


def _rot_z(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _rotation(angles: np.ndarray) -> np.ndarray:
    """Small rotation from a rotation vector (Rodrigues)."""
    theta = float(np.linalg.norm(angles))
    if theta == 0.0:
        return np.eye(3)
    k = angles / theta
    K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + math.sin(theta) * K + (1.0 - math.cos(theta)) * K @ K
