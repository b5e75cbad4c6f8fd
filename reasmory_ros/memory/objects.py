"""Episodic object table: fixed capacity, 3D association, bounded duplicate merging, eviction.

Each object slot holds a label histogram, a point reservoir, a gravity-aligned box and its
history. The reservoir is a *distinct-voxel sample*: a point's voxel (object_voxel_size) hashes to
one of object_points slots, and a slot keeps the voxel with the smallest second hash among all
voxels that ever fell into it (the point is refreshed while the same voxel keeps winning). The
sample is therefore spread uniformly over the surface seen so far, however often each part was
seen, it never churns, and merging two objects is a per-slot minimum.

Labels: the vocabulary keeps each word a detector used, and every word belongs to a canonical
category (`memory.labels.canonical`: "couch" and "sofa" are one category). Association, duplicate
merging and the label an object is shown with vote over categories, so synonyms pool their
votes; the detector's words stay in the object's histogram as aliases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from reasmory_ros.memory.colors import COLOR_BINS, color_bins
from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.geometry import (
    FAR,
    aabb_containment,
    aabb_gap,
    aabb_iou,
    box_aabb,
    distances,
    fit_gravity_boxes,
    hash_keys,
    mutual_overlap,
    transform_points,
    voxel_keys,
)
from reasmory_ros.memory.labels import canonical, in_synonym_table, normalise
from reasmory_ros.memory.observation import Observation
from reasmory_ros.memory.state import StateBuffers

_NO_PRIORITY = torch.iinfo(torch.int64).max
_SECOND_HASH_BUCKETS = (1 << 31) - 1
_SECOND_HASH_PRIMES = (2654435761, 2246822519, 3266489917)
_DETACHED_FILL = 2
_DETACHED_LINK = 3.0
"""The detached-cluster check (_drop_detached) looks at reservoirs at most half full, which hold
most voxels seen (at half full about one voxel in four has lost its slot to another, scattered at
random), and links points up to three voxels apart (one or two voxels missing in a row do not
cut a surface). A quarter full, the first limit, left out the very reservoirs the check is for:
on the benchmark's recordings, a vase's or a bottle's points and those of the wall its masks bled
onto filled 117-187 of 384 slots."""
_DETACHED_SMALL = 0.6
"""Metres. The check judges only objects whose heaviest cluster's box diagonal is at most this:
what stands on a table or a shelf (a laptop 0.33 x 0.23 m, a vase 0.3 m tall: 0.3-0.4 m), not a
chair (1.1 m) or a nightstand (0.8 m)."""
_DETACHED_DENSE = 1.5
"""Voxels. The check judges only reservoirs whose median nearest-neighbour distance is at most
this: sampled densely enough that a three-voxel gap is a real one."""
_RATE_Z = 2.33
"""One-sided 99 % normal quantile: an object is hidden for too few detections only when its
views say so with that confidence (a small thing seen in 17 frames and detected in 3 is not)."""
_APART_KEYFRAMES = 2
"""Two objects that this many keyframes show side by side (each matched by a detection of its
own) are two objects, unless their points overlap or one is later mostly seen in one mask with
the other (see _sort_partners): a detector splits one object into two instances in a few frames,
rarely in two keyframes. Only established objects (seen in more than min_object_observations
frames) count: a record that split masks started and only they detected may be shown in the
keyframes it was made in."""
_COVERED = 0.5
"""A detection covers an object of its category when this fraction of the object's reservoir lies
within association_radius of the detection's sample points: a split fragment inside the whole
object's mask, or a neighbour that a merged mask took along (see _associate)."""
_MERGE_QUERY_STRIDE = 4
"""Merge checks test every 4th reservoir slot of one object against all of the other's (slots are
hash-spread, so this is a random quarter of the points): a quarter of the distance work."""
_SUPPORT_VOLUME = 4.0
"""An object stands on another (see _support_tops) only when that one's box holds at least this
many times its own volume: a cup on a cabinet, a book on a desk, not a TV on its stand."""
_SURFACE_SHARE = 0.02
"""A support's top surface lies below this share of its points outside the object's footprint
(the highest of them are depth noise)."""


@dataclass
class Merges:
    """Objects folded into others: slot and id of each dropped and each kept object."""

    drop_slots: torch.Tensor
    keep_slots: torch.Tensor
    drop_ids: torch.Tensor
    keep_ids: torch.Tensor

    @classmethod
    def none(cls, device: torch.device) -> Merges:
        empty = torch.zeros(0, dtype=torch.int64, device=device)
        return cls(empty, empty, empty, empty)

    def __add__(self, other: Merges) -> Merges:
        """These merges followed by `other`: an object kept here but dropped there now points to
        where it went (chains a -> b -> c resolve to c)."""
        if len(self) and len(other):
            moved = self.keep_slots[:, None] == other.drop_slots[None, :]
            target = moved.to(torch.uint8).argmax(dim=1)
            hit = moved.any(dim=1)
            keep_slots = torch.where(hit, other.keep_slots[target], self.keep_slots)
            keep_ids = torch.where(hit, other.keep_ids[target], self.keep_ids)
            self = Merges(self.drop_slots, keep_slots, self.drop_ids, keep_ids)
        return Merges(*(torch.cat([a, b]) for a, b in zip(self.fields(), other.fields())))

    def fields(self) -> tuple[torch.Tensor, ...]:
        return self.drop_slots, self.keep_slots, self.drop_ids, self.keep_ids

    def __len__(self) -> int:
        return int(self.drop_slots.numel())


@dataclass
class ObjectChanges:
    """What one frame did to the table; the other memory parts follow these id changes.

    point_slots (Pd,): slot of each detection point (`Observation.det_point_index`) after the
    merges: its detection's object, or the neighbour a mask over two objects also covered.
    evicted: ids whose slot was reused for a new object.
    """

    point_slots: torch.Tensor
    matched: int
    created: int
    merges: Merges
    evicted: torch.Tensor


LabelEmbedder = Callable[[Sequence[str]], np.ndarray]
"""Texts -> (n, d) unit sentence embeddings (the planner's packaged MiniLM)."""
_SIMILARITY_MARGIN = 0.05
"""A word joins a category by embedding only this much more similar to it than to any other."""


class ObjectTable(StateBuffers):
    SCALARS = ("labels", "sweep_cursor")

    def __init__(self, config: MemoryConfig, device: torch.device, generator: torch.Generator,
                 label_embedder: LabelEmbedder | None = None):
        n, r = config.max_objects, config.object_points
        self.config = config
        self.device = device
        self.generator = generator
        self.label_embedder = label_embedder if config.label_similarity > 0 else None
        self.labels: list[str] = []
        self.sweep_cursor = 0
        self._label_ids: dict[str, int] = {}
        self._vectors: dict[int, np.ndarray] = {}
        self.category = torch.arange(config.max_labels, dtype=torch.int64, device=device)
        """Vocabulary index -> vocabulary index naming its category (the first word with its
        canonical name, or the category an embedding filed a word outside the table under)."""
        i64 = dict(dtype=torch.int64, device=device)
        f32 = dict(dtype=torch.float32, device=device)
        f64 = dict(dtype=torch.float64, device=device)
        self.active = torch.zeros(n, dtype=torch.bool, device=device)
        self.ids = torch.full((n,), -1, **i64)
        self.next_id = torch.zeros((), **i64)
        self.points = torch.full((n, r, 3), FAR, **f32)
        self.point_priority = torch.full((n, r), _NO_PRIORITY, **i64)
        self.point_weight = torch.zeros(n, r, **f32)
        self.point_evidence = torch.zeros(n, r, 2, **f32)
        """Per reservoir point: views whose mask of the object covered it, and views that saw
        its surface outside every mask of the object (see _check_points)."""
        self.label_hist = torch.zeros(n, config.max_labels, **f32)
        self.label_first_frame = torch.full((n, config.max_labels), -1, **i64)
        self.label_first_time = torch.zeros(n, config.max_labels, **f64)
        """Frame (-1: never) and time at which each label was first given to the object: a record
        that merged masks or look-alike votes made of two things remembers when each was seen."""
        self.center = torch.zeros(n, 3, **f32)
        self.extent = torch.zeros(n, 3, **f32)
        self.yaw = torch.zeros(n, **f32)
        self.aabb = torch.zeros(n, 2, 3, **f32)
        self.centroid = torch.zeros(n, 3, **f32)
        self.first_frame = torch.zeros(n, **i64)
        self.last_frame = torch.zeros(n, **i64)
        self.first_time = torch.zeros(n, **f64)
        self.last_time = torch.zeros(n, **f64)
        self.observations = torch.zeros(n, **i64)
        self.joint_views = torch.zeros(n, **i64)
        """Of the observations, those in which one mask covered the object and another of its
        category (see _sort_partners): an object mostly seen so is part of the other one."""
        self.missed_views = torch.zeros(n, **f32)
        """Frames in which the object's place was in view, large enough to be detected, and seen
        (its surface there, or seen through) without a detection of it: estimated from the
        lifecycle's sampled checks (see Lifecycle._vote), each weighted by the inverse of its
        chance to be checked."""
        self.best_keyframe = torch.full((n,), -1, **i64)
        self.best_keyframe_points = torch.zeros(n, **i64)
        self.version = torch.zeros(n, **i64)
        self._dormant = torch.zeros(n, dtype=torch.bool, device=device)
        self._keyframe_objects: torch.Tensor | None = None
        self.color_count = torch.zeros(n, COLOR_BINS, **f32)
        self.color_sum = torch.zeros(n, COLOR_BINS, 3, **f32)
        self._unfitted = torch.zeros(n, dtype=torch.bool, device=device)
        """Objects whose points changed since their box was fitted (see box_fit_interval)."""
        self._frames_since_fit = 0

    # --- labels ---------------------------------------------------------------------------------

    def label_index(self, label: str) -> int:
        """Vocabulary index of a label, registering it while there is room (else -1: ignored)."""
        index = self._label_ids.get(label)
        if index is None:
            if len(self.labels) >= self.config.max_labels:
                return -1
            index = len(self.labels)
            self.labels.append(label)
            self._label_ids[label] = index
            self._register_category(index)
        return index

    def _register_category(self, index: int) -> None:
        """File vocabulary word `index` under the category of the first word with its canonical
        name; a word that founds a category is matched by embedding (`_file_by_embedding`). A new
        word is rare, so the scans of the vocabulary do not matter."""
        first = self._first_of_category(index)
        self.category[index] = self.category[first]  # a plural of a word filed by embedding follows it
        if first == index and self.label_embedder is not None:
            self._file_by_embedding(index)

    def _first_of_category(self, index: int) -> int:
        """The first vocabulary word with the canonical name of word `index`."""
        name = canonical(self.labels[index])
        return next(i for i, label in enumerate(self.labels) if canonical(label) == name)

    def _file_by_embedding(self, index: int) -> None:
        """A new word outside the synonym table joins the category it clearly resembles; a new
        table word takes over the categories founded by resembling words outside the table.
        Table words never move: the table keeps look-alikes (chair, armchair) apart."""
        heads = [i for i in range(len(self.labels)) if i != index and int(self.category[i]) == i]
        tabled = in_synonym_table(self.labels[index])
        if not heads or (tabled and all(in_synonym_table(self.labels[h]) for h in heads)):
            return  # nothing to compare: no model call
        missing = [i for i in [index, *heads] if i not in self._vectors]
        for i, vector in zip(missing, self.label_embedder([normalise(self.labels[i]) for i in missing])):
            self._vectors[i] = np.asarray(vector, dtype=np.float64)
        if not tabled:
            best = self._clear_winner(index, heads)
            if best is not None:
                self.category[index] = best
            return
        for head in heads:
            if not in_synonym_table(self.labels[head]) and self._clear_winner(head, [h for h in heads + [index] if h != head]) == index:
                self.category[self.category == head] = index
                self.version += 1  # every record's label and aliases are read again

    def _clear_winner(self, index: int, candidates: list[int]) -> int | None:
        """The candidate whose embedding is at least label_similarity close to word `index` and
        _SIMILARITY_MARGIN closer than every other candidate, else None."""
        scores = sorted(((float(self._vectors[index] @ self._vectors[c]), c) for c in candidates), reverse=True)
        best, winner = scores[0]
        runner_up = scores[1][0] if len(scores) > 1 else -1.0
        if best >= self.config.label_similarity and best - runner_up >= _SIMILARITY_MARGIN:
            return winner
        return None

    def categories(self, hist: torch.Tensor) -> torch.Tensor:
        """Label histograms (..., max_labels) summed per category: each category's votes sit at
        its head word's index (`category`), zeros elsewhere. Only the words known so far are
        summed (the rest of the max_labels columns are empty): (..., max(known words, 1))."""
        known = max(len(self.labels), 1)
        hist = hist[..., :known]
        return torch.zeros_like(hist).index_add_(-1, self.category[:known], hist)

    def category_name(self, hist_row) -> str | None:
        """Canonical name of the category with the most votes in one histogram row (numpy or
        torch), None for an empty histogram: the name of its most voted word (words an embedding
        filed together have names of their own; a synonym group shares one)."""
        hist = torch.as_tensor(hist_row, device=self.device)
        votes = self.categories(hist)
        if not bool(votes.any()):
            return None
        members = torch.where(self.category == votes.argmax(), hist, -1)
        return canonical(self.labels[int(members.argmax())])

    def load_state(self, arrays, scalars) -> None:
        # Files saved before colours were kept: colours start unknown and fill in as objects are seen.
        # Files saved before per-label sightings: each label an object carries dates from its first
        # sighting.
        carried = np.asarray(arrays.get("label_hist", self.label_hist.cpu().numpy())) > 0
        filed = "category" in arrays
        arrays = {"category": self.category.cpu().numpy(),
                  "color_count": self.color_count.cpu().numpy() * 0,
                  "color_sum": self.color_sum.cpu().numpy() * 0,
                  "label_first_frame": np.where(carried, np.asarray(arrays.get("first_frame", -1))[..., None], -1),
                  "label_first_time": np.where(carried, np.asarray(arrays.get("first_time", 0.0))[..., None], 0.0),
                  **arrays}
        super().load_state(arrays, scalars)
        if len(self.labels) > self.config.max_labels or not all(isinstance(x, str) for x in self.labels):
            raise ValueError("label vocabulary is not a list of at most max_labels strings")
        if not 0 <= self.sweep_cursor < self.config.max_objects:
            raise ValueError(f"sweep cursor {self.sweep_cursor} out of range")
        self._label_ids = {label: i for i, label in enumerate(self.labels)}
        self._vectors = {}
        if not filed:  # saved before words were filed by embedding: the table's categories
            for index in range(len(self.labels)):
                self.category[index] = self.category[self._first_of_category(index)]
        heads = self.category[: len(self.labels)]
        if bool(((heads < 0) | (heads >= len(self.labels))).any()) or not bool((self.category[heads] == heads).all()):
            raise ValueError("label categories do not point at words of the vocabulary that head their category")

    def supported(self) -> torch.Tensor:
        """(max_objects,) objects that may be shown and answered about: seen in at least
        min_object_observations frames, and in two different frames at least (several detections
        of one frame, e.g. a split mask, never make an object; nor does a one-frame false positive),
        with one category given that many times (two false positives on one patch of wall, a
        "shelf" and a "rug", agree on no category), and not clearly missed by most views of its
        place (a false positive that comes back now and then: see min_detection_rate)."""
        seen = self.active & (self.observations >= self.config.min_object_observations) & (
            self.last_frame > self.first_frame
        )
        views = self.observations + self.missed_views
        detected_often = wilson_upper_bound(self.observations, views) >= self.config.min_detection_rate
        return seen & detected_often & (
            self.categories(self.label_hist).amax(dim=1) >= self.config.min_object_observations)

    # --- per frame ------------------------------------------------------------------------------

    def integrate(self, obs: Observation, frame_index: int, timestamp: float,
                  dormant: torch.Tensor | None = None, keyframe_objects: torch.Tensor | None = None) -> ObjectChanges:
        """Associate the frame's detections, update or create objects, then merge duplicates.

        dormant (max_objects,): objects kept only for the past (removed ones, see lifecycle.py);
        they take no detections and are never merged.
        keyframe_objects (K, M): ids of the objects each keyframe showed (-1 for none): what
        keyframes showed side by side is two objects (see _APART_KEYFRAMES).
        """
        self._dormant = torch.zeros_like(self.active) if dormant is None else dormant
        self._keyframe_objects = keyframe_objects
        empty = torch.zeros(0, dtype=torch.int64, device=self.device)
        point_slots, evicted, matched, num_new = empty, empty, 0, 0
        touched = empty
        merges = Merges.none(self.device)
        if obs.num_detections:
            det_slots, partner = self._associate(obs)
            is_matched = det_slots >= 0
            matched, num_new = int(is_matched.sum()), int((~is_matched).sum())
            created = empty
            if num_new:
                det_slots, evicted = self._create(det_slots, is_matched, frame_index, timestamp)
                created = det_slots[~is_matched]
            parts, neighbour = self._sort_partners(det_slots, partner)
            point_slots = self._point_slots(obs, det_slots, neighbour)
            touched = self._observe(obs, det_slots, point_slots, neighbour, created, frame_index, timestamp)
            merges = self._merge_pairs(det_slots[parts].tolist(), partner[parts].tolist())
        rows = torch.cat([touched, self._sweep_rows()])
        merges = merges + self._merge_duplicates(rows[self.active[rows]])
        return ObjectChanges(_follow(point_slots, merges), matched, num_new, merges, evicted)

    def _sweep_rows(self) -> torch.Tensor:
        """The next consolidation_sweep slots, round robin: the whole table is re-checked for
        duplicates every max_objects / consolidation_sweep frames at a fixed cost per frame."""
        n = self.config.max_objects
        sweep = min(self.config.consolidation_sweep, n)
        rows = (self.sweep_cursor + torch.arange(sweep, device=self.device)) % n
        self.sweep_cursor = (self.sweep_cursor + sweep) % n
        return rows[self.active[rows]]

    def _associate(self, obs: Observation) -> tuple[torch.Tensor, torch.Tensor]:
        """Slot of the object each detection belongs to (-1 for none), and its partner: another
        object of the same category that it overlaps by min_overlap as well, or covers (_COVERED),
        -1 for none. Two parts of one object that an earlier split mask made, or two objects in
        one mask (see _sort_partners).

        Candidates are the association_candidates objects nearest by box gap. A detection joins
        the candidate with the best evidence: point overlap (fraction of its sampled points within
        association_radius of the object's reservoir) of at least min_overlap with agreeing
        labels (the object's top category, or a minority label of it at a compatible size; or
        overlap at least label_overlap whatever the labels, if the sizes are compatible), else
        same label and boxes that largely contain one another (a new face of a known object).
        Several detections may join one object (an over-segmented object stays one).

        Why the size test: a small object resting on a large one lies within association_radius
        of its surface, and once a single view has put its points into the large object's
        reservoir (a mask of "table with a book"), every later detection of it overlaps that
        reservoir: without the test the large object would absorb it for good.
        """
        cfg = self.config
        k = min(cfg.association_candidates, cfg.max_objects)
        live = self.active & ~self._dormant
        gap = aabb_gap(obs.det_aabb, self.aabb).masked_fill(~live[None, :], float("inf"))
        gap, candidates = gap.topk(k, dim=1, largest=False)
        reachable = gap <= cfg.association_gap
        num = obs.num_detections
        # Point overlap of the reachable pairs only: no other pair can take the detection.
        pairs = reachable.reshape(-1).nonzero().squeeze(1)
        overlap = torch.zeros(num * k, device=self.device)
        covered = torch.zeros(num * k, device=self.device)
        if pairs.numel():
            overlap[pairs], covered[pairs] = mutual_overlap(
                obs.det_samples.index_select(0, pairs // k),
                self.points.index_select(0, candidates.reshape(-1).index_select(0, pairs)), cfg.association_radius)
        overlap, covered = overlap.view(num, k), covered.view(num, k)
        containment = aabb_containment(obs.det_aabb, self.aabb, cfg.box_margin).gather(1, candidates)
        agree = self._label_agreement(candidates, obs.det_labels)
        det_size = diagonal(obs.det_aabb)[:, None]
        object_size = diagonal(self.aabb[candidates])
        compatible = _size_compatible(det_size, object_size, cfg.label_size_ratio)
        # A label that is only a minority of an object's votes agrees only between objects of one
        # size: a young cabinet record that took one merged mask labelled "bottle" would take
        # every later detection of the bottle standing on it.
        category = self.categories(self.label_hist[candidates]).argmax(dim=-1)
        agree &= (category == self.category[obs.det_labels.clamp(min=0)][:, None]) | compatible
        by_points = (overlap >= cfg.min_overlap) & (agree | (compatible & (overlap >= cfg.label_overlap)))
        by_box = agree & (containment >= cfg.box_containment)
        score = torch.where(by_points, 1.0 + overlap, torch.where(by_box, containment, 0.0))
        score = score.masked_fill(~reachable, 0.0)
        best_score, best = score.max(dim=1)
        slots = torch.where(best_score > 0, candidates.gather(1, best[:, None]).squeeze(1), -1)
        chosen_category = category.gather(1, best[:, None])
        overlapped = ((overlap >= cfg.min_overlap) | (covered >= _COVERED)) & reachable & (slots >= 0)[:, None]
        overlapped[torch.arange(num, device=self.device), best] = False
        # A mask that covers two objects of its own category: two parts of one object (a split
        # earlier view made them) or two objects in one mask, which _sort_partners tells apart.
        part = overlapped & (category == chosen_category) & agree
        partner = torch.where(part.any(dim=1), candidates.gather(1, part.to(torch.uint8).argmax(dim=1, keepdim=True))
                              .squeeze(1), -1)
        return slots, partner

    def _sort_partners(self, det_slots: torch.Tensor, partner: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Tell the partners of _associate apart: parts of one object, or neighbours.

        A mask over two objects of its category is either one object that an earlier split mask
        made two records of, or two objects the detector merged into one mask (two vases side by
        side on a shelf). They are two objects when another detection of this frame chose the
        partner (the detector sees it as an instance of its own), and neighbours when their
        reservoirs lie apart (_apart: the halves of a split object touch), or when keyframes
        showed them side by side (_shown_apart) unless one of them is now mostly seen in one
        mask with another (_absorbed). Only merge_checks_per_frame partners are judged (bounded
        work).

        Returns the detections whose partner is a part of their object (to be merged), and the
        neighbour (D,) whose points each detection's mask also covered (-1 for none).
        """
        neighbour = torch.full_like(partner, -1)
        pairs = (partner >= 0).nonzero().squeeze(1)[: self.config.merge_checks_per_frame]
        if pairs.numel() == 0:
            return pairs, neighbour
        claimed = (partner[pairs][:, None] == det_slots[None, :]).any(dim=1)
        pairs = pairs[~claimed]
        a, b = det_slots[pairs], partner[pairs]
        part = ~self._apart(a, b) & (~self._shown_apart(a, b) | self._absorbed(a) | self._absorbed(b))
        neighbour[pairs[~part]] = partner[pairs[~part]]
        return pairs[part], neighbour

    def _absorbed(self, slots: torch.Tensor) -> torch.Tensor:
        """Whether each object was seen more often in one mask with another object of its category
        than on its own: a detector that split an object for a while (keyframes show the halves
        side by side) and now sees it whole. Two vases side by side are merged in a few masks."""
        return 2 * self.joint_views[slots] > self.observations[slots]

    def _shown_apart(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(P,) whether at least _APART_KEYFRAMES keyframes showed established objects a[i] and
        b[i] each matched by a detection of its own."""
        if self._keyframe_objects is None or a.numel() == 0:
            return torch.zeros(a.shape, dtype=torch.bool, device=self.device)
        shown = self._keyframe_objects[None]  # (1, K, M)
        has_a = (shown == self.ids[a][:, None, None]).any(dim=2)
        has_b = (shown == self.ids[b][:, None, None]).any(dim=2)
        established = torch.minimum(self.observations[a], self.observations[b]) > self.config.min_object_observations
        return established & ((has_a & has_b).sum(dim=1) >= _APART_KEYFRAMES)

    def _apart(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(P,) whether objects a[i] and b[i] lie apart: no point of one within the link distance
        of a point of the other. The link is _DETACHED_LINK voxels, or twice the median point
        spacing of a sparsely sampled reservoir (a large object seen from afar): a gap in the
        sample is not a gap in the object."""
        points_a, points_b = self.points[a], self.points[b]
        valid_a, valid_b = points_a[..., 0] < FAR / 2, points_b[..., 0] < FAR / 2
        both = valid_a[:, :, None] & valid_b[:, None, :]
        gap = torch.where(both, distances(points_a, points_b), float("inf")).flatten(1).amin(dim=1)
        spacing = torch.maximum(
            _median_spacing(distances(points_a, points_a), valid_a),
            _median_spacing(distances(points_b, points_b), valid_b),
        ).nan_to_num(0.0)
        return gap > torch.clamp(2 * spacing, min=_DETACHED_LINK * self.config.object_voxel_size)

    def _point_slots(self, obs: Observation, det_slots: torch.Tensor, neighbour: torch.Tensor) -> torch.Tensor:
        """(Pd,) slot of each detection point: its detection's object or, for a mask over two
        objects, the one whose reservoir lies nearer the point (each keeps its own surface)."""
        point_slots = det_slots.index_select(0, obs.det_of)
        for det in (neighbour >= 0).nonzero().squeeze(1).tolist():
            mine = (obs.det_of == det).nonzero().squeeze(1)
            points = obs.points.index_select(0, obs.det_point_index.index_select(0, mine))
            pair = torch.stack([det_slots[det], neighbour[det]])
            nearest = distances(points[None], self.points[pair]).amin(dim=-1)  # (2, P)
            point_slots[mine[nearest[1] < nearest[0]]] = neighbour[det]
        return point_slots

    def _label_agreement(self, slots: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(D, k): whether detection d's category has min_label_share of candidate slots[d, k]."""
        hist = self.categories(self.label_hist[slots])
        category = self.category[labels.clamp(min=0)][:, None].expand_as(slots)
        share = hist.gather(-1, category[..., None]).squeeze(-1)
        return (share >= self.config.min_label_share * hist.sum(-1)) & (labels >= 0)[:, None]

    def _create(self, det_slots, matched, frame_index, timestamp):
        """Give each unmatched detection a slot: free slots first, else evict the least supported.

        Support = frames the object was seen in, halved every support_half_life frames since it
        was last seen (so a robot that moved on can replace what it no longer sees). Objects
        matched in this frame are never evicted.
        """
        num_new = int((~matched).sum())
        age = (frame_index - self.last_frame).clamp(min=0).to(torch.float64)
        priority = self.observations * torch.exp2(-age / self.config.support_half_life)
        priority = torch.where(self.active, priority, -1.0)
        priority[det_slots[matched]] = float("inf")
        slots = priority.topk(num_new, largest=False).indices
        evicted = self.ids[slots][self.active[slots]]
        self._clear(slots)
        n = slots.numel()
        self.active[slots] = True
        self.ids[slots] = self.next_id + torch.arange(n, device=self.device)
        self.next_id += n
        self.first_frame[slots] = frame_index
        self.first_time[slots] = timestamp
        det_slots = det_slots.clone()
        det_slots[~matched] = slots
        return det_slots, evicted

    def release(self, slots: torch.Tensor) -> None:
        """Free slots whose object now lives in another one (a moved object, see lifecycle.py)."""
        self._clear(slots)

    def _clear(self, slots: torch.Tensor) -> None:
        self.active[slots] = False
        self.ids[slots] = -1
        self.points[slots] = FAR
        self.point_priority[slots] = _NO_PRIORITY
        self.point_weight[slots] = 0.0
        self.point_evidence[slots] = 0.0
        self.label_hist[slots] = 0.0
        self.label_first_frame[slots] = -1
        self.label_first_time[slots] = 0.0
        self.observations[slots] = 0
        self.joint_views[slots] = 0
        self.missed_views[slots] = 0.0
        self.best_keyframe[slots] = -1
        self.best_keyframe_points[slots] = 0
        self.color_count[slots] = 0.0
        self.color_sum[slots] = 0.0
        self._unfitted[slots] = False
        self.version[slots] += 1

    def _observe(self, obs: Observation, det_slots, point_slots, neighbour, created, frame_index, timestamp) -> torch.Tensor:
        """Fold the detections into their objects (a mask over two objects into both, see
        _sort_partners); returns the touched slots. The objects created in this frame (slots
        `created`) are fitted at once, whatever box_fit_interval: the next frame's
        detections are associated with their boxes."""
        n = self.config.max_objects
        seen = torch.zeros(n, dtype=torch.bool, device=self.device)
        seen[point_slots] = True
        self.observations += seen
        joint = neighbour >= 0
        self.joint_views[torch.cat([det_slots[joint], neighbour[joint]]).unique()] += 1
        self.last_frame[seen] = frame_index
        self.last_time[seen] = timestamp
        labelled = obs.det_labels >= 0
        rows = torch.cat([det_slots[labelled], neighbour[labelled & joint]])
        labels = torch.cat([obs.det_labels[labelled], obs.det_labels[labelled & joint]])
        self.label_hist.index_put_((rows, labels), torch.ones(rows.numel(), device=self.device), accumulate=True)
        first = self.label_first_frame[rows, labels] < 0
        self.label_first_frame[rows[first], labels[first]] = frame_index
        self.label_first_time[rows[first], labels[first]] = timestamp
        reshaped = self._insert_points(
            point_slots,
            obs.points.index_select(0, obs.det_point_index),
            obs.depths.index_select(0, obs.det_point_index),
        )
        self._add_colors(point_slots, obs.colors.index_select(0, obs.det_point_index))
        reshaped |= self._check_points(obs, det_slots, neighbour)
        reshaped |= self._drop_detached(point_slots.unique())
        touched = seen.nonzero().squeeze(1)
        self.version[touched] += 1
        self._unfitted |= reshaped
        self._frames_since_fit += 1
        if self._frames_since_fit >= self.config.box_fit_interval:
            self.fit_pending()
        else:
            self._refit(created)
        return touched

    def fit_pending(self) -> None:
        """Fit the boxes of the objects whose points changed since their last fit; the next
        box_fit_interval frames count from here (so a saved memory and its copy read back from
        the file go on alike)."""
        self._frames_since_fit = 0
        self._refit(self._unfitted.nonzero().squeeze(1))

    def _check_points(self, obs: Observation, det_slots: torch.Tensor, neighbour: torch.Tensor) -> torch.Tensor:
        """Drop reservoir points that the object's own masks keep leaving out; returns which
        objects (max_objects,) lost points.

        A mask that bled onto the surface an object stands on (or merged with a neighbour) puts
        that surface into the object's reservoir; it has no depth edge to reject it. Every later
        view tells: each point of an object detected in this frame is projected into the sample
        grid, and where the measured depth shows its surface (not occluded, not gone) the point
        counts as covered if a mask of the object lies within one cell, else as missed. Points
        missed at least twice and more than mask_miss_ratio times as often as covered are not
        the object's (they may come back with a later view, and must then win again). A mask over
        two objects (neighbour) covers both.
        """
        cfg = self.config
        reshaped = torch.zeros(cfg.max_objects, dtype=torch.bool, device=self.device)
        slots = torch.cat([det_slots, neighbour[neighbour >= 0]]).unique()
        if slots.numel() == 0 or obs.grid_det is None or cfg.mask_miss_ratio == 0:
            return reshaped
        points = self.points[slots]
        camera_points = transform_points(torch.linalg.inv(obs.pose).to(torch.float32), points)
        z = camera_points[..., 2]
        cells = camera_points @ obs.camera.transpose(0, 1)
        safe_z = z.clamp(min=cfg.min_depth)
        rows, cols = (cells[..., 1] / safe_z).round(), (cells[..., 0] / safe_z).round()
        height, width = obs.grid_det.shape
        inside = (points[..., 0] < FAR / 2) & (z > cfg.min_depth)
        inside &= (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        rows = rows.clamp(0, height - 1).to(torch.int64)
        cols = cols.clamp(0, width - 1).to(torch.int64)
        measured = obs.grid_depth[rows, cols]
        tolerance = torch.clamp(cfg.depth_edge_ratio * z, min=cfg.depth_edge_gap)
        visible = inside & (measured > 0) & ((measured - z).abs() <= tolerance)
        none = det_slots.new_full((1,), -1)
        # Which objects each grid cell's mask covers (its detection's object and neighbour), then
        # the 3 x 3 cells around every point in one gather.
        grid_det = obs.grid_det.reshape(-1)
        cell_slots = torch.stack([torch.cat([det_slots, none])[grid_det], torch.cat([neighbour, none])[grid_det]], 1)
        offsets = torch.tensor([-1, 0, 1], device=self.device)
        around = ((rows[..., None, None] + offsets[:, None]).clamp_(0, height - 1) * width
                  + (cols[..., None, None] + offsets[None, :]).clamp_(0, width - 1))
        masks_around = cell_slots.index_select(0, around.reshape(-1)).view(*rows.shape, -1)
        covered = (masks_around == slots[:, None, None]).any(dim=-1)
        evidence = self.point_evidence[slots]
        evidence[..., 0] += visible & covered
        evidence[..., 1] += visible & ~covered
        stray = (evidence[..., 1] >= 2) & (evidence[..., 1] > cfg.mask_miss_ratio * evidence[..., 0])
        self.point_evidence[slots] = evidence
        return self._drop_points(slots, stray)

    def _drop_detached(self, slots: torch.Tensor) -> torch.Tensor:
        """Drop the reservoir points of up to detached_checks of these objects that are not linked
        to the object's heaviest cluster; returns which objects (max_objects,) lost points.

        Only small objects are checked (reservoir at most half full, see _DETACHED_FILL, and the
        heaviest cluster within _DETACHED_SMALL): their reservoir holds most voxels seen, so
        points of one surface lie within a voxel or two of each other, and a wider gap is a real
        one (a mask that bled onto the wall behind a bottle, a cup merged with a book beside it).
        Clusters are the connected components of the graph linking points up to _DETACHED_LINK
        voxels apart (min-label propagation with pointer jumping); the heaviest by trust weight
        (see _insert_points) is the object. The work is bounded: detached_checks objects of at
        most object_points / 2 points each.
        """
        cfg = self.config
        reshaped = torch.zeros(cfg.max_objects, dtype=torch.bool, device=self.device)
        if cfg.detached_checks == 0 or slots.numel() == 0:
            return reshaped
        count = (self.points[slots, :, 0] < FAR / 2).sum(dim=1)
        slots = slots[(count > 1) & (count * _DETACHED_FILL < cfg.object_points)]
        if slots.numel() == 0:
            return reshaped
        pick = torch.randperm(slots.numel(), generator=self.generator, device=self.device)
        slots = slots[pick[: cfg.detached_checks]]
        valid = self.points[slots, :, 0] < FAR / 2
        # Valid points first, cut to the largest count: the distance work scales with the points held.
        order = valid.to(torch.int8).argsort(dim=1, descending=True, stable=True)[:, : int(valid.sum(dim=1).max())]
        valid = valid.gather(1, order)
        points = self.points[slots].gather(1, order[..., None].expand(-1, -1, 3))
        size = order.shape[1]
        index = torch.arange(size, device=self.device)
        distance = distances(points, points)
        both = valid[:, :, None] & valid[:, None, :]
        # Only a densely sampled reservoir is judged (median distance of a point to its nearest
        # neighbour at most _DETACHED_DENSE voxels): a large object seen from afar or at a coarse
        # pixel stride holds points several voxels apart on one surface, and cutting it there split
        # a desk in two.
        spacing = _median_spacing(distance, valid)
        dense = spacing <= _DETACHED_DENSE * cfg.object_voxel_size  # NaN (one point) is not
        linked = (distance <= _DETACHED_LINK * cfg.object_voxel_size) & both
        linked |= index[:, None] == index[None, :]
        cluster = index.expand(slots.numel(), -1)
        while True:
            nearest = torch.where(linked, cluster[:, None, :], size).amin(dim=-1)
            nearest = nearest.gather(1, nearest)
            if torch.equal(nearest, cluster):
                break
            cluster = nearest
        weight = self.point_weight[slots].gather(1, order) * valid
        heaviest = torch.zeros_like(weight).scatter_add_(1, cluster, weight).argmax(dim=1)
        # Only a small object is judged (its heaviest cluster's box diagonal at most
        # _DETACHED_SMALL): the early, partial reservoir of a sofa or a desk is as little filled,
        # but its surfaces are seen in patches whose gaps the later views fill.
        core = (valid & (cluster == heaviest[:, None]))[..., None]
        span = torch.where(core, points, -FAR).amax(dim=1) - torch.where(core, points, FAR).amin(dim=1)
        small = span.norm(dim=1) <= _DETACHED_SMALL
        detached = valid & (cluster != heaviest[:, None]) & (dense & small)[:, None]
        stray = torch.zeros_like(self.point_weight[slots], dtype=torch.bool).scatter_(1, order, detached)
        return self._drop_points(slots, stray)

    def _drop_points(self, slots: torch.Tensor, stray: torch.Tensor) -> torch.Tensor:
        """Empty reservoir points stray (S, R) of objects `slots` (S,), as never seen (a later view
        may bring them back, and they must then win their slot again); returns which objects
        (max_objects,) lost points."""
        reshaped = torch.zeros(self.config.max_objects, dtype=torch.bool, device=self.device)
        if not bool(stray.any()):
            return reshaped
        self.points[slots] = self.points[slots].masked_fill(stray[..., None], FAR)
        self.point_priority[slots] = self.point_priority[slots].masked_fill(stray, _NO_PRIORITY)
        self.point_weight[slots] = self.point_weight[slots].masked_fill(stray, 0.0)
        self.point_evidence[slots] = self.point_evidence[slots].masked_fill(stray[..., None], 0.0)
        return reshaped.index_fill_(0, slots[stray.any(dim=1)], True)

    def _insert_points(self, slots: torch.Tensor, points: torch.Tensor, depths: torch.Tensor) -> torch.Tensor:
        """Offer points to the slots' reservoirs (distinct-voxel min-hash sample, see module doc).

        Returns which objects (max_objects,) took a new voxel: only their boxes need refitting
        (a refreshed point of a voxel already held moves by sensor noise only).

        Each slot also sums a trust weight over its voxel's observations: depth^-2 (metres), i.e.
        1/sigma for the axial depth noise sigma ~ depth^2. (Full 1/sigma^2 lets the few closest
        views outweigh everything, and those often miss an object's lower part.)
        """
        r = self.config.object_points
        keys = voxel_keys(points, self.config.object_voxel_size)
        flat = slots * r + hash_keys(keys, r)
        priority = hash_keys(keys, _SECOND_HASH_BUCKETS, _SECOND_HASH_PRIMES)
        table = self.point_priority.view(-1)
        before = table.index_select(0, flat)
        table.scatter_reduce_(0, flat, priority, "amin")
        after = table.index_select(0, flat)
        weight = self.point_weight.view(-1)
        replaced = (after != before).nonzero().squeeze(1)
        weight.index_fill_(0, flat.index_select(0, replaced), 0.0)
        self.point_evidence.view(-1, 2).index_fill_(0, flat.index_select(0, replaced), 0.0)
        win = (after == priority).nonzero().squeeze(1)
        win_slots = flat.index_select(0, win)
        self.points.view(-1, 3).index_copy_(0, win_slots, points.index_select(0, win))
        weight.index_add_(0, win_slots, depths.index_select(0, win).clamp(min=0.1).pow(-2))
        reshaped = torch.zeros(self.config.max_objects, dtype=torch.bool, device=self.device)
        return reshaped.index_fill_(0, slots.index_select(0, replaced), True)

    def _add_colors(self, slots: torch.Tensor, rgb: torch.Tensor) -> None:
        """Vote each detection point's colour into its object's bins (see memory/colors.py)."""
        cell = slots * COLOR_BINS + color_bins(rgb)
        self.color_count.view(-1).index_add_(0, cell, torch.ones_like(cell, dtype=torch.float32))
        self.color_sum.view(-1, 3).index_add_(0, cell, rgb.to(torch.float32))

    def _refit(self, slots: torch.Tensor) -> None:
        """Fit the boxes of objects `slots` to their reservoirs; an object standing on a larger one
        is fitted to its points above that one's top surface, and reaches down to it (see
        _support_tops)."""
        if slots.numel() == 0:
            return
        points = self.points[slots]
        cfg = self.config
        valid = (points[..., 0] < FAR / 2)
        centroid = (points * valid[..., None]).sum(1) / valid.sum(1, keepdim=True).clamp(min=1)
        support = self._support_tops(slots, points, valid, centroid)
        above = points[..., 2] > support[:, None] + cfg.object_voxel_size / 2
        # Only an object that reaches down to the surface loses points to it, and keeps a quarter
        # at least (a mask that bled onto the cabinet in most views gave a bowl more cabinet than bowl).
        clipped = (valid & ~above).any(dim=1) & (4 * (valid & above).sum(dim=1) >= valid.sum(dim=1))
        own = torch.where((clipped[:, None] & ~above)[..., None], FAR, points)
        center, extent, yaw = fit_gravity_boxes(
            own, self.point_weight[slots], cfg.box_quantile, cfg.box_height_quantile, cfg.object_voxel_size
        )
        # It reaches down to the surface if what is left of it does (a stray point below a picture
        # on the wall over a cabinet is dropped, and the picture stays where it hangs).
        gap = (center[:, 2] - extent[:, 2] / 2 - support).clamp(min=0)
        drop = torch.where(clipped & (gap <= 2 * cfg.object_voxel_size), gap, 0.0)
        extent[:, 2] += drop
        center[:, 2] -= drop / 2
        self.centroid[slots] = centroid
        self.center[slots] = center
        self.extent[slots] = extent
        self.yaw[slots] = yaw
        self.aabb[slots] = box_aabb(center, extent, yaw)
        self.version[slots] += 1
        self._unfitted[slots] = False

    def _support_tops(self, slots: torch.Tensor, points: torch.Tensor, valid: torch.Tensor,
                      centroid: torch.Tensor) -> torch.Tensor:
        """(B,) height (m) of the top surface each of `slots` stands on, -inf for none.

        A mask that bled onto the cabinet a cup stands on put cabinet points into the cup's
        reservoir, level with or below the cabinet's top, where no depth edge and not every later
        view removes them. The support is the live object _SUPPORT_VOLUME times larger whose
        footprint holds the cup's centroid, of the highest box top among those whose bottom lies
        below it; its top surface is the height its points outside the cup's footprint reach (its
        box top may hold some of the cup's points, which merged masks gave it), and it must lie
        below the centroid."""
        bottom, top = self.aabb[:, 0, 2], self.aabb[:, 1, 2]
        low, high = self.aabb[:, 0, :2], self.aabb[:, 1, :2]
        under = ((centroid[:, None, :2] >= low) & (centroid[:, None, :2] <= high)).all(dim=-1)
        volume = self.extent.prod(dim=1)
        under &= (volume[None, :] >= _SUPPORT_VOLUME * volume[slots][:, None]) & (bottom[None, :] < centroid[:, 2:])
        under &= (self.active & ~self._dormant)[None, :]
        under[torch.arange(slots.numel(), device=self.device), slots] = False
        found = under.any(dim=1)
        support = torch.where(under, top[None, :], float("-inf")).argmax(dim=1)
        # The support's own points around the object: merged masks put some of the object's
        # points into the support's reservoir, within the object's footprint.
        around = self.points[support]
        own_low, own_high = points[..., :2].masked_fill(~valid[..., None], FAR).amin(dim=1), \
            points[..., :2].masked_fill(~valid[..., None], -FAR).amax(dim=1)
        inside = ((around[..., :2] >= own_low[:, None]) & (around[..., :2] <= own_high[:, None])).all(dim=-1)
        on = (around[..., 0] < FAR / 2) & ~inside
        highest = torch.where(on, around[..., 2], float("-inf")).sort(dim=1, descending=True).values
        surface = highest.gather(1, (_SURFACE_SHARE * on.sum(dim=1, keepdim=True)).to(torch.int64)).squeeze(1)
        return torch.where(found & on.any(dim=1) & (surface < centroid[:, 2]), surface, float("-inf"))

    # --- consolidation --------------------------------------------------------------------------

    def _merge_duplicates(self, rows: torch.Tensor) -> Merges:
        """Verify a few likely duplicate pairs and merge those that hold.

        Candidate pairs: same top category and overlapping margin-grown boxes, with one member
        among `rows` (the objects just updated, as only a changed object can newly become a
        duplicate, and the round-robin sweep). merge_checks_per_frame pairs are drawn with
        probability proportional to their box containment (Gumbel top-k, so a stubborn
        non-duplicate pair cannot starve the others) and merged when their reservoirs overlap by
        merge_overlap, or when one of them is new (seen in at most min_object_observations
        frames), the boxes contain one another by box_containment and the reservoirs do not lie
        apart (_apart): a new face of a known object touches the faces seen before. Box
        containment alone never joins two established objects: one mask that bled onto the
        shelf grows a vase's box over its neighbour's, and the bled points bridge the gap
        between them, while each vase was detected on its own in frame after frame.

        Objects of one category that keyframes showed side by side are not merged at all
        (_shown_apart), unless one of them is now mostly seen in one mask with another
        (_absorbed): the points a mask over two vases gave one of them overlap the other.

        Objects of different categories merge only when their boxes are nearly one box (IoU of
        at least merge_iou) and their reservoirs overlap by merge_overlap: two solid things
        cannot fill most of one volume, so that is one object a look-alike label named twice
        (a bed seen as a "sofa"). Containment alone never joins them: a chair at a desk, its
        points mixed into the desk's reservoir by merged masks, or a vase on a shelf board lies
        inside the other's box as a duplicate would, but the two boxes differ in size.

        One more pair of different categories merges: a part of an object under a look-alike
        name (a lamp's shade called "plant"). Its box lies within the other's (box_containment)
        over the same footprint (floor-rectangle IoU of at least merge_iou), its reservoir
        overlaps the other's by merge_overlap, and the detector has called the larger object by
        the part's name too (_misnamed_part). Each test alone also holds for things that are not
        one object: a book whose mask bled over its nightstand's top has the nightstand's
        footprint, and a desk whose masks merged with the chair at it was called "chair".
        """
        cfg = self.config
        if rows.numel() == 0:
            return Merges.none(self.device)
        budget = cfg.merge_checks_per_frame
        containment = aabb_containment(self.aabb[rows], self.aabb, cfg.box_margin)
        votes = self.categories(self.label_hist)
        top_label = votes.argmax(dim=1)
        live = self.active & ~self._dormant
        same = top_label[rows][:, None] == top_label[None, :]
        one_box = aabb_iou(self.aabb[rows], self.aabb) >= cfg.merge_iou
        one_footprint = aabb_iou(self.aabb[rows, :, :2], self.aabb[:, :, :2]) >= cfg.merge_iou
        part = ~same & ~one_box & one_footprint & self._misnamed_part(rows, votes, top_label)
        eligible = live[rows][:, None] & live[None, :] & (same | one_box | part)
        eligible &= rows[:, None] != torch.arange(cfg.max_objects, device=self.device)[None, :]
        weight = torch.where(eligible, containment, 0.0).reshape(-1)
        candidates = weight.nonzero().squeeze(1)
        if candidates.numel() == 0:
            return Merges.none(self.device)
        weight = weight[candidates]
        budget = min(budget, candidates.numel())
        uniform = torch.rand(weight.shape, device=self.device, generator=self.generator)
        gumbel = -torch.log(-torch.log(uniform.clamp(1e-12, 1 - 1e-7)))
        picked = (weight.log() + gumbel).topk(budget).indices
        weight, picked = weight[picked], candidates[picked]
        same_category = same.reshape(-1)[picked]
        part_of_other = part.reshape(-1)[picked]
        a = rows[picked // cfg.max_objects]
        b = picked % cfg.max_objects
        queries = slice(None, None, _MERGE_QUERY_STRIDE)
        # Each way round (a's points near b's, b's near a's) in one batch.
        first, second = torch.cat([a, b]), torch.cat([b, a])
        overlap = mutual_overlap(self.points[first][:, queries], self.points[second], cfg.association_radius)[0]
        overlap = torch.maximum(*overlap.chunk(2))
        duplicate = (overlap >= cfg.merge_overlap) & (~part_of_other | (weight >= cfg.box_containment))
        young = torch.minimum(self.observations[a], self.observations[b]) <= cfg.min_object_observations
        by_box = (same_category & young & (weight >= cfg.box_containment) & ~duplicate).nonzero().squeeze(1)
        duplicate[by_box] = ~self._apart(a[by_box], b[by_box])
        duplicate &= ~same_category | ~self._shown_apart(a, b) | self._absorbed(a) | self._absorbed(b)
        return self._merge_pairs(a[duplicate].tolist(), b[duplicate].tolist())

    def _misnamed_part(self, rows: torch.Tensor, votes: torch.Tensor, top_label: torch.Tensor) -> torch.Tensor:
        """(R, max_objects): whether the detector has called the larger object of each pair
        (rows x all objects) by the smaller one's category at least min_object_observations
        times, as it does when a look-alike name fits a part and now and then the whole."""
        often = self.config.min_object_observations
        # Each row called by every object's category (R, M), every object by each row's (M, R).
        rows_called = votes[rows].gather(1, top_label[None, :].expand(rows.numel(), -1)) >= often
        others_called = votes.gather(1, top_label[rows][None, :].expand(votes.shape[0], -1)) >= often
        volume = (self.aabb[:, 1] - self.aabb[:, 0]).prod(dim=-1)
        smaller = volume[rows][:, None] < volume[None, :]
        return torch.where(smaller, others_called.transpose(0, 1), rows_called)

    def _merge_pairs(self, a: list[int], b: list[int]) -> Merges:
        """Merge each pair of slots (a[i], b[i]) into the one seen more often; a pair whose member
        was already dropped in this call is skipped."""
        merges = Merges.none(self.device)
        dropped: set[int] = set()
        observations = self.observations.tolist()
        for i, j in zip(a, b):
            # Merged one pair at a time (rarely more than one per frame) so chains stay right.
            if i == j or i in dropped or j in dropped or not (self.active[i] and self.active[j]):
                continue
            keep, drop = (i, j) if observations[i] >= observations[j] else (j, i)
            observations[keep] += observations[drop]
            dropped.add(drop)
            merges = merges + self._merge(
                torch.tensor([keep], device=self.device), torch.tensor([drop], device=self.device)
            )
        return merges

    def pool_votes(self, keep: torch.Tensor | int, drop: torch.Tensor | int) -> None:
        """Add the label and colour votes and the sightings of objects `drop` to `keep` (each
        label keeps its earliest first sighting): one object seen as two records."""
        self.label_hist[keep] += self.label_hist[drop]
        earlier = (self.label_first_frame[drop] >= 0) & (
            (self.label_first_frame[keep] < 0) | (self.label_first_frame[drop] < self.label_first_frame[keep]))
        self.label_first_frame[keep] = torch.where(earlier, self.label_first_frame[drop], self.label_first_frame[keep])
        self.label_first_time[keep] = torch.where(earlier, self.label_first_time[drop], self.label_first_time[keep])
        self.color_count[keep] += self.color_count[drop]
        self.color_sum[keep] += self.color_sum[drop]
        self.observations[keep] += self.observations[drop]
        self.missed_views[keep] += self.missed_views[drop]

    def _merge(self, keep: torch.Tensor, drop: torch.Tensor) -> Merges:
        """Fold objects `drop` into `keep` (slot lists, no slot twice)."""
        merges = Merges(drop, keep, self.ids[drop].clone(), self.ids[keep].clone())
        self.pool_votes(keep, drop)
        earlier = self.first_frame[drop] < self.first_frame[keep]
        self.first_frame[keep] = torch.where(earlier, self.first_frame[drop], self.first_frame[keep])
        self.first_time[keep] = torch.where(earlier, self.first_time[drop], self.first_time[keep])
        later = self.last_frame[drop] > self.last_frame[keep]
        self.last_frame[keep] = torch.where(later, self.last_frame[drop], self.last_frame[keep])
        self.last_time[keep] = torch.where(later, self.last_time[drop], self.last_time[keep])
        better_view = self.best_keyframe_points[drop] > self.best_keyframe_points[keep]
        self.best_keyframe[keep] = torch.where(
            better_view, self.best_keyframe[drop], self.best_keyframe[keep]
        )
        self.best_keyframe_points[keep] = torch.maximum(
            self.best_keyframe_points[drop], self.best_keyframe_points[keep]
        )
        take = self.point_priority[drop] < self.point_priority[keep]
        self.points[keep] = torch.where(take[..., None], self.points[drop], self.points[keep])
        same = self.point_priority[drop] == self.point_priority[keep]
        self.point_weight[keep] = torch.where(
            same, self.point_weight[drop] + self.point_weight[keep],
            torch.where(take, self.point_weight[drop], self.point_weight[keep]),
        )
        self.point_evidence[keep] = torch.where(
            same[..., None], self.point_evidence[drop] + self.point_evidence[keep],
            torch.where(take[..., None], self.point_evidence[drop], self.point_evidence[keep]),
        )
        self.point_priority[keep] = torch.minimum(self.point_priority[drop], self.point_priority[keep])
        self._clear(drop)
        self._refit(keep)
        return merges

    # --- keyframe bookkeeping -------------------------------------------------------------------

    def note_view(self, slots: torch.Tensor, pixels: torch.Tensor, keyframe_frame: int) -> None:
        """A keyframe shows these objects with this many samples: keep each one's best view."""
        better = pixels > self.best_keyframe_points[slots]
        slots, pixels = slots[better], pixels[better]
        self.best_keyframe[slots] = keyframe_frame
        self.best_keyframe_points[slots] = pixels
        self.version[slots] += 1

    def forget_view(
        self, keyframe_frame: int, kept_views: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    ) -> None:
        """A keyframe was dropped: objects whose best view it was take their best remaining one.

        kept_views: (frame index (K,), object ids (K, M), samples (K, M)) of the remaining keyframes.
        """
        affected = (self.best_keyframe == keyframe_frame).nonzero().squeeze(1)
        if affected.numel() == 0:
            return
        frames, object_ids, pixels = kept_views
        shows = object_ids[None] == self.ids[affected][:, None, None]  # (A, K, M)
        view_pixels = torch.where(shows, pixels[None], 0).amax(dim=2)  # (A, K)
        best_pixels, best = view_pixels.max(dim=1)
        has_view = best_pixels > 0
        self.best_keyframe[affected] = torch.where(has_view, frames[best], -1)
        self.best_keyframe_points[affected] = best_pixels
        self.version[affected] += 1


def wilson_upper_bound(successes: torch.Tensor, trials: torch.Tensor, z: float = _RATE_Z) -> torch.Tensor:
    """Upper end of the Wilson score interval of a binomial rate (one-sided, z standard
    deviations): how high the rate could still be after so few trials. 1 where there are none."""
    n = trials.to(torch.float32)
    k = successes.to(torch.float32).clamp(max=n)
    spread = z * torch.sqrt(k * (n - k) / n.clamp(min=1e-9) + z * z / 4)
    return torch.where(n > 0, (k + z * z / 2 + spread) / (n + z * z), 1.0)


def diagonal(aabb: torch.Tensor) -> torch.Tensor:
    """Length of the diagonal of axis-aligned boxes (..., 2, 3): one number for an object's size."""
    return (aabb[..., 1, :] - aabb[..., 0, :]).norm(dim=-1)


def _median_spacing(distance: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(B,) median distance from a valid reservoir point to its nearest valid neighbour, given the
    (B, R, R) distances and (B, R) validity; NaN where fewer than two points are valid."""
    index = torch.arange(valid.shape[1], device=valid.device)
    others = valid[:, :, None] & valid[:, None, :] & (index[:, None] != index[None, :])
    nearest = torch.where(others, distance, float("inf")).amin(dim=-1)
    return torch.where(valid & nearest.isfinite(), nearest, float("nan")).nanmedian(dim=1).values


def _size_compatible(a: torch.Tensor, b: torch.Tensor, ratio: float) -> torch.Tensor:
    """Whether the smaller of two sizes is at least `ratio` of the larger (label noise between
    objects of one size, not a small object resting on a large one)."""
    return torch.minimum(a, b) >= ratio * torch.maximum(a, b)


def _follow(slots: torch.Tensor, merges: Merges) -> torch.Tensor:
    """Slots after merges: a dropped slot's detections now belong to the slot it merged into."""
    if len(merges) == 0:
        return slots
    match = slots[:, None] == merges.drop_slots[None, :]
    moved = merges.keep_slots[match.to(torch.int64).argmax(dim=1)]
    return torch.where(match.any(dim=1), moved, slots)
