"""Object lifecycle: present -> missing -> removed, moves linked, a bounded placement history.

Per frame (fixed work, see absence.py):

- objects detected in the frame are present (their absence votes reset);
- up to absence_objects confirmed objects in the view frustum that were *not* detected are tested
  against the frame's depth and instances: mostly seen through (or covered by another object's
  mask) is an absence vote, the surface seen where it was resets the votes; missing_votes
  consecutive votes make an object missing, removed_votes removed. Either verdict is also a view
  that missed the object (`ObjectTable.missed_views`, for the detection-rate test of what is
  shown). A removed object stays in the table for questions about the past but takes no new
  detections;
- an object newly confirmed is checked once against the stored keyframes taken before it was
  first seen: if one of them saw through its place, the place was empty then: it *appeared*
  (at most APPEARANCE_CHECKS objects per frame). Otherwise the earliest of them whose depth
  shows its surface where it is had it *in view* before the detector found it (too far for
  max_depth, missed, or cut to a fragment by mask erosion): the object's first sighting is that
  keyframe's (`first_view_frame`), which is what the question "what did the camera see first"
  asks about;
- an object that appeared, compatible in label and size with a removed one, elsewhere, and first
  seen after the removed one was last seen, is that object *moved*: the removed row's placements
  move into the new row's placement history (placement_history entries, oldest dropped first)
  and the removed row is freed. Its old id is renamed to the new one everywhere;
- a new object compatible with a removed one but closer than move_min_distance to it is that
  object *found again* a little off (odometry drift put its surface beside the reservoir, so the
  old record was seen through and the new one looked like an arrival): the new record takes the
  old one's first sighting and votes, and neither a move nor an appearance is recorded.
"""

from __future__ import annotations

import torch

from reasmory_ros.memory.absence import sample_points, see_through
from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.frame import Frame
from reasmory_ros.memory.keyframes import KeyframeStore
from reasmory_ros.memory.objects import ObjectTable, diagonal
from reasmory_ros.memory.observation import Observation
from reasmory_ros.memory.state import StateBuffers

PRESENT, MISSING, REMOVED = 0, 1, 2
STATUS_NAMES = ("present", "missing", "removed")
_DETECTABLE_SAMPLES = 2
"""An object counts as missed by a frame only when a mask of it would keep this many times
min_instance_points samples after mask_erosion (see _samples_of_a_mask): fewer, and even a
detection of it would be dropped as a fragment."""
APPEARANCE_CHECKS = 1
"""Newly confirmed objects checked against the keyframes per frame (bounded work)."""


def _samples_of_a_mask(objects: ObjectTable, slots: torch.Tensor, pose: torch.Tensor, focal: float,
                       config: MemoryConfig) -> torch.Tensor:
    """Samples a mask of each object would keep after erosion, seen from the camera `pose`: the
    larger of its narrow side (width x height) and its top (length x width, foreshortened by the
    view's elevation), each side shrunk by the erosion on both ends."""
    length, width, height = objects.extent.index_select(0, slots).unbind(1)
    offset = objects.center.index_select(0, slots) - pose[:3, 3].to(torch.float32)
    distance = offset.norm(dim=1).clamp(min=config.min_depth)
    elevation = (-offset[:, 2] / distance).clamp(min=0)
    scale = focal / distance
    trim = 2 * config.mask_erosion

    def kept(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (scale * a - trim).clamp(min=0) * (scale * b - trim).clamp(min=0)

    return torch.maximum(kept(width, height), kept(length, width * elevation)) / config.pixel_stride ** 2


class Lifecycle(StateBuffers):
    """Lifecycle state per object-table slot; rows follow the table's ids (see `_adopt`)."""

    def __init__(self, config: MemoryConfig, device: torch.device, generator: torch.Generator):
        n, h = config.max_objects, config.placement_history
        self.config = config
        self.device = device
        self.generator = generator
        i64 = dict(dtype=torch.int64, device=device)
        f64 = dict(dtype=torch.float64, device=device)
        self.owner = torch.full((n,), -1, **i64)
        self.status = torch.zeros(n, dtype=torch.int8, device=device)
        self.votes = torch.zeros(n, **i64)
        self.missing_frame = torch.full((n,), -1, **i64)
        self.missing_time = torch.zeros(n, **f64)
        self.appeared = torch.zeros(n, dtype=torch.bool, device=device)
        self.checked = torch.zeros(n, dtype=torch.bool, device=device)
        self.first_view_frame = torch.full((n,), -1, **i64)
        """Earliest keyframe, before the first detection, that showed the object's surface where
        it is (-1: none): see _check_appearance."""
        self.first_view_time = torch.zeros(n, **f64)
        self.history_count = torch.zeros(n, **i64)
        self.history_center = torch.zeros(n, h, 3, dtype=torch.float32, device=device)
        self.history_extent = torch.zeros(n, h, 3, dtype=torch.float32, device=device)
        self.history_yaw = torch.zeros(n, h, dtype=torch.float32, device=device)
        self.history_frames = torch.full((n, h, 2), -1, **i64)
        self.history_times = torch.zeros(n, h, 2, **f64)

    def dormant(self) -> torch.Tensor:
        """Rows that take no detections and no merges: removed objects, kept for the past."""
        return self.status == REMOVED

    def step(self, objects: ObjectTable, keyframes: KeyframeStore, frame: Frame, obs: Observation,
             detected: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Update every row after the table integrated a frame; returns (old ids, new ids) of moves.

        detected: slots of the objects this frame's detections went to (repeats allowed)."""
        self._adopt(objects)
        seen = torch.zeros_like(self.appeared)
        seen[detected] = True
        confirmed = objects.active & (objects.observations >= self.config.min_object_observations)
        absent, present = self._vote(objects, confirmed & ~seen & ~self.dormant(), frame, obs.pose)
        self._update_status(objects, absent, present | seen, frame.index, frame.timestamp)
        self._check_appearance(objects, keyframes, confirmed & ~self.checked)
        return self._link_moves(objects, confirmed)

    def _adopt(self, objects: ObjectTable) -> None:
        """Rows whose slot now holds another object (created, evicted, merged away) start afresh."""
        fresh = objects.ids != self.owner
        if not bool(fresh.any()):
            return
        self.status.masked_fill_(fresh, PRESENT)
        self.votes.masked_fill_(fresh, 0)
        self.missing_frame.masked_fill_(fresh, -1)
        self.appeared.masked_fill_(fresh, False)
        self.checked.masked_fill_(fresh, False)
        self.first_view_frame.masked_fill_(fresh, -1)
        self.history_count.masked_fill_(fresh, 0)
        self.owner.copy_(objects.ids)

    def _vote(self, objects, eligible, frame: Frame, pose) -> tuple[torch.Tensor, torch.Tensor]:
        """Absence and presence votes (max_objects,) of this frame's depth and instances."""
        cfg = self.config
        n = cfg.max_objects
        depth = torch.from_numpy(frame.depth).to(self.device)
        K = torch.tensor(frame.K, device=self.device)
        height, width = depth.shape
        R, t = pose[:3, :3].to(torch.float32), pose[:3, 3].to(torch.float32)
        camera = (objects.center - t) @ R
        pixel = camera @ K.to(torch.float32).T
        z = camera[:, 2]
        u, v = pixel[:, 0] / z.clamp(min=1e-6), pixel[:, 1] / z.clamp(min=1e-6)
        in_view = eligible & (z > cfg.min_depth) & (z < cfg.max_depth)
        in_view &= (u >= 0) & (u <= width - 1) & (v >= 0) & (v <= height - 1)
        absent = torch.zeros(n, dtype=torch.bool, device=self.device)
        present = torch.zeros_like(absent)
        visible = int(in_view.sum())
        count = min(cfg.absence_objects, visible)
        if count == 0:
            return absent, present
        score = in_view.to(torch.float32) + torch.rand(n, device=self.device, generator=self.generator)
        slots = score.topk(count).indices  # in view, a random `count` of them when more are
        points, valid = sample_points(objects.points.index_select(0, slots), cfg.absence_points, self.generator)
        evidence = see_through(points, valid, pose[None].expand(count, -1, -1), K[None].expand(count, -1, -1),
                               depth[None], torch.zeros(count, dtype=torch.int64, device=self.device), cfg)
        covered = self._covered(objects, slots, frame, evidence.pixel)
        row_absent, row_present = evidence.votes(cfg, covered)
        absent[slots] = row_absent
        present[slots] = row_present
        # A look that decided either way is a view in which the object went undetected, if it
        # was large enough in the picture to be detected at all.
        detectable = _samples_of_a_mask(objects, slots, pose, float(K[0, 0]), cfg) >= (
            _DETECTABLE_SAMPLES * cfg.min_instance_points)
        chance = count / visible
        objects.missed_views.index_add_(0, slots, ((row_absent | row_present) & detectable).to(torch.float32) / chance)
        return absent, present

    def _covered(self, objects: ObjectTable, slots, frame: Frame, pixel: torch.Tensor) -> torch.Tensor | None:
        """(A, P): the point's pixel lies in the mask of an instance whose label the object has
        (almost) never carried: another object is where it was. None without instances."""
        if frame.instances is None or not frame.labels:
            return None
        ids = torch.tensor(list(frame.labels), dtype=torch.int64, device=self.device)
        labels = torch.tensor([objects.label_index(name) for name in frame.labels.values()],
                              dtype=torch.int64, device=self.device)
        image = torch.from_numpy(frame.instances).to(self.device).view(-1)
        at = image.index_select(0, pixel.reshape(-1)).view(pixel.shape).to(torch.int64)
        match = at[..., None] == ids
        label = torch.where(match.any(-1), labels[match.to(torch.uint8).argmax(-1)], -1)
        hist = objects.label_hist[slots]
        share = hist.gather(1, label.clamp(min=0))
        return (label >= 0) & (share < self.config.min_label_share * hist.sum(dim=1, keepdim=True))

    def _update_status(self, objects, absent, present, frame_index: int, timestamp: float) -> None:
        cfg = self.config
        self.votes.copy_(torch.where(absent, self.votes + 1, torch.where(present, 0, self.votes)))
        started = absent & (self.votes == 1)
        self.missing_frame.masked_fill_(started, frame_index)
        self.missing_time.masked_fill_(started, timestamp)
        status = torch.where(self.votes >= cfg.removed_votes, REMOVED,
                             torch.where(self.votes >= cfg.missing_votes, MISSING, PRESENT)).to(torch.int8)
        status = torch.where(self.dormant(), self.status, status)  # removed stays removed
        changed = status != self.status
        self.status.copy_(status)
        objects.version += changed

    def _check_appearance(self, objects: ObjectTable, keyframes: KeyframeStore, unchecked: torch.Tensor) -> None:
        """Was the place of a newly confirmed object seen empty in a keyframe before it was first
        seen (it appeared), or already holding the object (the earliest such view is its first
        sighting)?

        Only keyframes taken earlier whose view holds the object's box centre are read. Views of
        it beyond max_depth (where the detections were dropped) may show it, but do not say it
        was absent: their depth is too noisy for that.
        """
        if not bool(unchecked.any()):
            return
        cfg = self.config
        slots = unchecked.nonzero().squeeze(1)[:APPEARANCE_CHECKS]
        poses, K = keyframes.poses.to(torch.float32), keyframes.intrinsics.to(torch.float32)
        camera = torch.einsum("cki,kij->ckj", objects.center[slots, None, :] - poses[None, :, :3, 3], poses[:, :3, :3])
        pixel = torch.einsum("ckj,kij->cki", camera, K)
        z = pixel[..., 2]
        height, width = keyframes.depth.shape[-2:]
        u, v = pixel[..., 0] / z.clamp(min=1e-6), pixel[..., 1] / z.clamp(min=1e-6)
        earlier = keyframes.active[None, :] & (keyframes.frame_index[None, :] < objects.first_frame[slots, None])
        earlier &= (z > cfg.min_depth) & (u >= 0) & (u <= width - 1) & (v >= 0) & (v <= height - 1)
        pairs = earlier.nonzero()
        appeared = torch.zeros(slots.numel(), dtype=torch.bool, device=self.device)
        if pairs.numel():
            points, valid = sample_points(objects.points[slots], cfg.absence_points, self.generator)
            rows, frames = pairs[:, 0], pairs[:, 1]
            evidence = see_through(points[rows], valid[rows], keyframes.poses[frames], keyframes.intrinsics[frames],
                                   keyframes.depth, frames, cfg)
            absent, present = evidence.votes(cfg)
            appeared.index_put_((rows,), absent & (z[rows, frames] < cfg.max_depth), accumulate=True)
            self._note_first_view(slots, rows, frames, present & ~appeared[rows], keyframes)
        self.appeared[slots] = appeared
        self.checked[slots] = True
        objects.version[slots] += 1

    def _note_first_view(self, slots: torch.Tensor, rows: torch.Tensor, frames: torch.Tensor,
                         shown: torch.Tensor, keyframes: KeyframeStore) -> None:
        """For each object slots[rows[i]], keyframe slot frames[i] that `shown` it: keep the
        earliest as the object's first view."""
        if not bool(shown.any()):
            return
        rows, frames = rows[shown], frames[shown]
        frame = keyframes.frame_index[frames]
        earliest = torch.full((slots.numel(),), torch.iinfo(torch.int64).max, dtype=torch.int64, device=self.device)
        earliest.scatter_reduce_(0, rows, frame, "amin")
        first = frame == earliest[rows]
        self.first_view_frame[slots[rows[first]]] = frame[first]
        self.first_view_time[slots[rows[first]]] = keyframes.timestamp[frames[first]]

    def _link_moves(self, objects: ObjectTable, confirmed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pair removed objects with compatible ones that appeared elsewhere; fold each pair."""
        cfg = self.config
        empty = torch.zeros(0, dtype=torch.int64, device=self.device)
        removed = (objects.active & self.dormant()).nonzero().squeeze(1)
        arrived = (confirmed & ~self.dormant()).nonzero().squeeze(1)
        if removed.numel() == 0 or arrived.numel() == 0:
            return empty, empty
        label = objects.label_hist.argmax(dim=1)
        size_r, size_a = diagonal(objects.aabb[removed])[:, None], diagonal(objects.aabb[arrived])[None, :]
        ratio = torch.minimum(size_r, size_a) / torch.maximum(size_r, size_a).clamp(min=1e-6)
        # Chromaticity (r, g, b) / (r + g + b) of the colour votes' sums (objects.py): the object's
        # hue, blind to how brightly it is lit, tells apart a red and a blue chair swapping places.
        rgb = objects.color_sum.sum(dim=1)
        color = rgb / rgb.sum(dim=1, keepdim=True).clamp(min=1e-6)
        hue = (color[removed, None] - color[None, arrived]).norm(dim=-1)
        cost = hue + (objects.extent[removed, None] - objects.extent[None, arrived]).norm(dim=-1)
        apart = (objects.center[removed, None, :2] - objects.center[None, arrived, :2]).norm(dim=-1)
        first = objects.first_frame[arrived][None, :]
        near = apart < cfg.move_min_distance
        ok = (label[removed][:, None] == label[arrived][None, :]) & (ratio >= cfg.move_size_ratio)
        ok &= (near | self.appeared[arrived][None, :]) & (hue <= cfg.move_color_tolerance)
        ok &= first > objects.last_frame[removed][:, None]
        ok &= (first - self.missing_frame[removed][:, None]).abs() <= cfg.move_window
        if not bool(ok.any()):
            return empty, empty
        old_ids, new_ids, used_r, used_a = [], [], set(), set()
        pairs = ok.nonzero().tolist()
        pairs.sort(key=lambda p: float(cost[p[0], p[1]]))
        for i, j in pairs:
            if i in used_r or j in used_a:
                continue
            used_r.add(i)
            used_a.add(j)
            r, a = int(removed[i]), int(arrived[j])
            old_ids.append(int(objects.ids[r]))
            new_ids.append(int(objects.ids[a]))
            self._fold(objects, r, a, moved=not bool(near[i, j]))
        return (torch.tensor(old_ids, dtype=torch.int64, device=self.device),
                torch.tensor(new_ids, dtype=torch.int64, device=self.device))

    def _fold(self, objects: ObjectTable, old: int, new: int, moved: bool) -> None:
        """The object in row `old` now stands where row `new` is: `new` takes its history, and
        the old placement as one more when it `moved` (else it was found again where it was)."""
        h = self.config.placement_history
        count = int(self.history_count[old])
        for i in range(max(0, count - h), count):
            self._push(new, self.history_center[old, i % h], self.history_extent[old, i % h],
                       self.history_yaw[old, i % h], self.history_frames[old, i % h], self.history_times[old, i % h])
        if moved:
            first_frame, first_time = self.first_sightings(objects, old)
            frames = torch.stack([first_frame, objects.last_frame[old]])
            times = torch.stack([first_time, objects.last_time[old]])
            self._push(new, objects.center[old], objects.extent[old], objects.yaw[old], frames, times)
        else:
            objects.first_frame[new] = objects.first_frame[old]
            objects.first_time[new] = objects.first_time[old]
            self.first_view_frame[new] = self.first_view_frame[old]
            self.first_view_time[new] = self.first_view_time[old]
        objects.pool_votes(new, old)
        self.appeared[new] = False  # it did not appear: it moved here, or was here all along
        objects.release(torch.tensor([old], device=self.device))
        objects.version[new] += 1

    def first_sightings(self, objects: ObjectTable, rows: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
        """(frames, times) the objects of `rows` were first in view: their first view in a
        keyframe where one came before their first detection (merges can move the detection
        earlier), else their first detection."""
        view = self.first_view_frame[rows]
        viewed = (view >= 0) & (view < objects.first_frame[rows])
        return (torch.where(viewed, view, objects.first_frame[rows]),
                torch.where(viewed, self.first_view_time[rows], objects.first_time[rows]))

    def _push(self, row: int, center, extent, yaw, frames, times) -> None:
        i = int(self.history_count[row]) % self.config.placement_history
        self.history_center[row, i] = center
        self.history_extent[row, i] = extent
        self.history_yaw[row, i] = yaw
        self.history_frames[row, i] = frames
        self.history_times[row, i] = times
        self.history_count[row] += 1

    def history(self, slot: int) -> list[int]:
        """Ring positions of a row's kept placements, oldest first."""
        h, count = self.config.placement_history, int(self.history_count[slot])
        return [i % h for i in range(max(0, count - h), count)]
