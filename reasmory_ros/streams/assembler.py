"""Synchronise the contract topics into validated `Frame`s, without ROS.

The live node calls `FrameAssembler.add` from its subscription callbacks, the bag replay from its
read loop: the same matching, the same errors, the same frame numbering.

Matching (the rule of message_filters' exact-time synchroniser, plus an optional tolerance):

- A frame is anchored on its colour image. Depth, pose and the instance image must carry the same
  `header.stamp` (or one within `stamp_tolerance`). Camera info with the same stamp is used when
  present, else the most recent one (intrinsics rarely change; many drivers publish them slower).
- The labels String has no header: it pairs with an instance image received (bag time in a replay)
  within `labels_window` seconds of it whose ids it names (see `_find_labels`).
- Depth and pose are required unless a perception plug-in estimates them (`wait_for_depth`,
  `wait_for_pose` false): such a frame leaves as `FrameInputs` with `None` for what it lacks, for
  `reasmory_ros.perception` to complete; a frame with everything leaves as a validated `Frame`.
- Frames leave in stamp order. When a frame completes while an older one is still incomplete, the
  older one may only be late (under load, one topic's callback can overtake another's), so the
  complete frame is held for up to `reorder_window` seconds, measured on the assembler's clock
  from the older colour image's arrival; then the older one is dropped and counted, like
  message_filters does (which has no window: `reorder_window` 0). `release()` re-checks the
  window when no message arrives; `flush()` ends a stream (the last frames of a bag).
  Every pending buffer is bounded by `max_pending`. A
  dropped frame is counted per part it lacked and logged naming them (labels: whether none came or
  they named other ids), unless a message of that part was refused, and reported, since the last
  built frame. A lost message is not a bad one: drops are not counted as input errors.
- Frames wait for the first camera_info. A missing camera_info stalls every frame, not one, so
  while an older frame lacks nothing else a (rate-limited, uncounted) line says frames are waiting.
- Clock jumps: a colour image stamped more than `max_stamp_jump` seconds from the newest accepted
  one, either way, is refused: a glitched stamp must not become the stream's time, or every later
  frame would be 'late' forever. When the next colour image lies within `max_stamp_jump` of the
  refused one, the clock really jumped (driver restart, bag loop, sim time): the stream follows
  it and drops what was pending from before. A real jump costs one frame; images further apart
  than `max_stamp_jump` (a very slow camera) need a larger value.
- Frame indices are the 0-based position of the colour image in the stream (bag order; images
  that overtake each other in transit are put back in stamp order), so "the 20th frame" of a
  question names the same image whether or not earlier frames were dropped.

A bad message (undecodable or over-limit image, uncalibrated camera info or one for another image
size, broken JSON, a clock jump, a frame that `Frame.create` refuses) is counted per topic and logged at most once per `report_period` per topic
and kind of problem; only its own frame is lost.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from reasmory_ros.memory.frame import Frame, FrameError
from reasmory_ros.perception.stage import FrameInputs
from reasmory_ros.streams.camera import Intrinsics, intrinsics, offset_matrix, pose_matrix
from reasmory_ros.streams.errors import CameraInfoError, DecodeError, LabelsError
from reasmory_ros.streams.images import decode_color, decode_depth, decode_instances

if TYPE_CHECKING:
    from reasmory_ros.config.settings import Settings

PARTS = ("color", "depth", "camera_info", "pose", "instances", "labels")
"""The inputs of a frame, named like the node's topic parameters (`<part>_topic`)."""

# Which input a `FrameError.field` comes from, so the error is counted against the right topic.
_FIELD_PART = {
    "rgb": "color",
    "depth": "depth",
    "K": "camera_info",
    "T_world_camera": "pose",
    "timestamp": "color",
    "index": "color",
    "instances": "instances",
    "labels": "labels",
}

_LOG = logging.getLogger(__name__)


def parse_labels(text: str) -> dict[int, str]:
    """The labels JSON `{"<id>": "<category>"}` as {id: category}; LabelsError says what is wrong."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise LabelsError(f"labels are not valid JSON ({err}): {text[:80]!r}") from err
    if not isinstance(raw, dict):
        raise LabelsError(f'labels must be a JSON object {{"<id>": "<category>"}}, got {type(raw).__name__}')
    labels = {}
    for key, value in raw.items():
        try:
            instance_id = int(key)
        except ValueError as err:
            raise LabelsError(f"labels key {key!r} is not an integer instance id") from err
        if not isinstance(value, str) or not value.strip():
            raise LabelsError(f"label of instance {instance_id} must be a non-empty string, got {value!r}")
        labels[instance_id] = value.strip()
    return labels


def _decode_labels(msg) -> dict[int, str]:
    return parse_labels(msg if isinstance(msg, str) else msg.data)


DECODERS: dict[str, Callable[[object], object]] = {
    "color": decode_color,
    "depth": decode_depth,
    "camera_info": intrinsics,
    "pose": pose_matrix,
    "instances": decode_instances,
    "labels": _decode_labels,
}
"""Message-like object -> array (or dict) for each part; each raises a DecodeError subclass."""


class RateLimitedReporter:
    """Counts problems per topic; logs each (topic, kind) at most once per `period` seconds.

    A camera that sends a bad message every frame must not flood the log, yet its first error and
    a regular reminder with the number of repeats must get through.
    """

    def __init__(self, emit: Callable[[str], None], period: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self._emit = emit
        self._period = float(period)
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: Counter = Counter()
        self.counts: Counter = Counter()

    def report(self, topic: str, kind: str, message: str, count: bool = True) -> None:
        """Log `topic: message` unless (topic, kind) was logged within the period. count=False: not
        an input error (frames waiting or dropped, a clock jump followed), rate-limited alike."""
        if count:
            self.counts[topic] += 1
        key = (topic, kind)
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._period:
            self._suppressed[key] += 1
            return
        repeats = self._suppressed.pop(key, 0)
        suffix = f" ({repeats} more like this in the last {now - last:.0f} s)" if repeats else ""
        self._last[key] = now
        self._emit(f"{topic}: {message}{suffix}")


@dataclass
class _Part:
    """A decoded input waiting for its frame; `received` is the arrival (or bag) time in seconds."""

    value: object
    received: float


@dataclass(frozen=True)
class _Instances:
    """A decoded instance image and the ids it contains (computed once, used for pairing)."""

    image: np.ndarray
    ids: frozenset[int]


@dataclass
class _Pending:
    """A colour image waiting for the rest of its frame."""

    rgb: np.ndarray
    index: int
    received: float
    arrived: float
    """The assembler's clock when it came: what `reorder_window` is measured on."""


class FrameAssembler:
    """Thread-safe: `add` may be called from several callback threads at once."""

    def __init__(
        self,
        *,
        wait_for_instances: bool = True,
        wait_for_depth: bool = True,
        wait_for_pose: bool = True,
        stamp_tolerance: float = 0.0,
        reorder_window: float = 0.0,
        labels_window: float = 0.05,
        max_pending: int = 30,
        max_stamp_jump: float = 10.0,
        report_period: float = 10.0,
        warn: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        camera_offset: np.ndarray | None = None,
    ):
        """camera_offset: 4 x 4 pose of the camera optical frame in the frame the pose messages
        track (e.g. base_link for odometry); poses are right-multiplied by it. None = identity."""
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        if stamp_tolerance < 0 or labels_window < 0 or reorder_window < 0:
            raise ValueError("stamp_tolerance, labels_window and reorder_window must be >= 0")
        if max_stamp_jump <= 0:
            raise ValueError(f"max_stamp_jump must be > 0, got {max_stamp_jump}")
        self.wait_for_instances = bool(wait_for_instances)
        self.wait_for_depth = bool(wait_for_depth)
        self.wait_for_pose = bool(wait_for_pose)
        self._reorder_window = float(reorder_window)
        self._tolerance_ns = int(round(stamp_tolerance * 1e9))
        self._labels_window = float(labels_window)
        self._max_pending = int(max_pending)
        self._max_jump_ns = int(round(max_stamp_jump * 1e9))
        self._clock = clock
        self._lock = threading.Lock()
        self._reporter = RateLimitedReporter(warn or _LOG.warning, report_period, clock)
        self._colors: OrderedDict[int, _Pending] = OrderedDict()
        self._parts: dict[str, OrderedDict[int, _Part]] = {
            part: OrderedDict() for part in ("depth", "camera_info", "pose", "instances")
        }
        self._labels: deque[_Part] = deque(maxlen=self._max_pending)
        self._latest_info: Intrinsics | None = None
        self._refused: Counter = Counter()  # per topic, since the last built frame
        self._camera_offset = None if camera_offset is None else np.asarray(camera_offset, dtype=np.float64)
        self._color_count = 0
        self._last_emitted: int | None = None
        self._stream_time: int | None = None  # stamp of the newest accepted colour image
        self._jumped_to: int | None = None  # stamp of the previous image, if refused as a clock jump
        self._received: Counter = Counter()
        self._frames = 0
        self._incomplete = 0
        self._lacking: Counter = Counter()  # per part that dropped frames lacked
        self._late = 0
        self._unmatched: Counter = Counter()
        self._unknown_label_ids = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, detector: bool = False, instance_topics: bool = True,
                      **overrides) -> FrameAssembler:
        """The assembler the settings describe, so the live node and the bag replay synchronise alike.

        Frames wait for instances only when `wait_for_instances` is set, instance topics exist
        (`instance_topics`), and no detector fills them in (`detector`); they never wait for the
        parts perception estimates. `overrides` win (e.g. warn, clock).
        """
        streams, estimated = settings.streams, settings.estimated_parts()
        options = {
            "wait_for_instances": streams.wait_for_instances and instance_topics and not detector,
            "wait_for_depth": "depth" not in estimated,
            "wait_for_pose": "pose" not in estimated,
            "stamp_tolerance": streams.stamp_tolerance,
            "reorder_window": streams.reorder_window,
            "labels_window": streams.labels_window,
            "max_pending": streams.max_pending,
            "max_stamp_jump": streams.max_stamp_jump,
            "report_period": streams.error_report_period,
            "camera_offset": offset_matrix(streams.camera_offset),
        }
        return cls(**{**options, **overrides})

    # ------------------------------------------------------------------------------------------
    def add(self, part: str, stamp_ns: int | None, msg, received: float | None = None) -> list[Frame | FrameInputs]:
        """Decode one message and return the frames it releases (usually none or one), in order.

        stamp_ns: the header stamp (ignored for labels). received: arrival time in seconds (bag time
        in a replay); the assembler's clock when None. A decode error is counted and logged and
        returns no frame.
        """
        if part not in DECODERS:
            raise ValueError(f"unknown part {part!r}; expected one of {', '.join(PARTS)}")
        received = self._clock() if received is None else float(received)
        try:
            value = DECODERS[part](msg)
        except DecodeError as err:
            with self._lock:
                self._received[part] += 1
                if part == "color":
                    self._color_count += 1  # the image still holds its place in the stream
                self._refused[part] += 1
                self._reporter.report(part, type(err).__name__, str(err))
            return []
        return self.add_decoded(part, stamp_ns, value, received)

    def add_decoded(self, part: str, stamp_ns: int | None, value, received: float | None = None
                    ) -> list[Frame | FrameInputs]:
        """`add` for a value decoded elsewhere: a pose matrix from a tf lookup, a depth image
        registered into the colour camera."""
        received = self._clock() if received is None else float(received)
        with self._lock:
            self._received[part] += 1
            self._store(part, stamp_ns, value, received)
            return self._complete_frames()

    def release(self) -> list[Frame | FrameInputs]:
        """Frames whose reorder window ran out while no message arrived (call it periodically)."""
        with self._lock:
            return self._complete_frames()

    def flush(self) -> list[Frame | FrameInputs]:
        """The end of a stream: release every complete frame now, dropping the incomplete ones
        before it, since nothing more will arrive for them."""
        with self._lock:
            return self._complete_frames(final=True)

    def report(self, topic: str, kind: str, message: str) -> None:
        """Count and rate-limit-log a problem found outside the decoders (a tf lookup, a corrupt bag
        record); one against an input accounts for the next frame dropped for lack of it."""
        with self._lock:
            self._refused[topic] += 1
            self._reporter.report(topic, kind, message)

    def stats(self) -> dict:
        """Counters for the node's status topic and the replay summary (a JSON-ready dict)."""
        with self._lock:
            return {
                "received": dict(self._received),
                "frames": self._frames,
                "dropped_incomplete": self._incomplete,
                "dropped_lacking": dict(self._lacking),
                "dropped_late": self._late,
                "unmatched": dict(self._unmatched),
                "errors": dict(self._reporter.counts),
                "unknown_label_ids": self._unknown_label_ids,
                "pending": len(self._colors),
            }

    def reset(self, first_index: int = 0) -> None:
        """Forget pending inputs; number the next colour image `first_index` (the memory was reset
        or loaded: a loaded memory's stream continues after its last frame)."""
        with self._lock:
            self._colors.clear()
            for buffer in self._parts.values():
                buffer.clear()
            self._labels.clear()
            self._refused.clear()
            self._color_count = int(first_index)
            self._last_emitted = self._stream_time = self._jumped_to = None

    # ------------------------------------------------------------------------------------------
    def _store(self, part: str, stamp_ns: int | None, value, received: float) -> None:
        if part == "labels":
            self._labels.append(_Part(value, received))
            return
        if part == "camera_info":
            self._latest_info = value
        if part == "pose" and self._camera_offset is not None:
            value = value @ self._camera_offset
        stamp = int(stamp_ns)
        if part == "color":
            index = self._color_count
            self._color_count += 1
            if self._clock_jumped(stamp):
                return
            if self._last_emitted is not None and stamp <= self._last_emitted:
                self._late += 1
                self._reporter.report(
                    "color",
                    "late",
                    f"image stamped {stamp * 1e-9:.3f} s arrived after a newer frame was built; dropped",
                )
                return
            if stamp in self._colors:
                self._reporter.report(
                    "color", "duplicate", f"two images stamped {stamp * 1e-9:.3f} s; the second is ignored"
                )
                return
            newest = next(reversed(self._colors), None)
            self._colors[stamp] = _Pending(value, index, received, self._clock())
            self._stream_time = stamp if self._stream_time is None else max(self._stream_time, stamp)
            if newest is not None and stamp < newest:
                self._sort_pending()
            if len(self._colors) > self._max_pending:
                self._drop(next(iter(self._colors)))
            oldest = next(iter(self._colors))
            if self._latest_info is None and oldest != stamp and self._inputs(oldest)[2] == ["camera_info"]:
                self._reporter.report(
                    "camera_info",
                    "waiting",
                    f"no usable camera_info received yet: {len(self._colors)} frames wait for intrinsics "
                    f"(beyond max_pending = {self._max_pending} the oldest are dropped)",
                    count=False,
                )
            return
        if part == "instances":
            value = _Instances(value, _ids_in(value))
        buffer = self._parts[part]
        buffer[stamp] = _Part(value, received)
        if len(buffer) > self._max_pending:
            buffer.popitem(last=False)
            self._unmatched[part] += 1

    def _sort_pending(self) -> None:
        """Keep pending colour images in stamp order, their indices too: frames leave in order."""
        indices = sorted(p.index for p in self._colors.values())
        ordered = sorted(self._colors.items())
        self._colors.clear()
        for (stamp, pending), index in zip(ordered, indices, strict=True):
            pending.index = index
            self._colors[stamp] = pending

    def _clock_jumped(self, stamp: int) -> bool:
        """Whether a colour image is refused as a clock jump (see the module docstring)."""
        newest = self._stream_time
        if newest is None or abs(stamp - newest) <= self._max_jump_ns:
            self._jumped_to = None
            return False
        if self._jumped_to is not None and abs(stamp - self._jumped_to) <= self._max_jump_ns:
            self._follow_jump(stamp)
            return False
        self._jumped_to = stamp
        where = "in the future of" if stamp > newest else "before"
        self._reporter.report(
            "color",
            "clock jump",
            f"image stamped {stamp * 1e-9:.3f} s is {abs(stamp - newest) * 1e-9:.3f} s {where} the stream's newest "
            f"image ({newest * 1e-9:.3f} s), beyond max_stamp_jump = {self._max_jump_ns * 1e-9:g} s: refused "
            "as a clock jump (followed if the next image agrees with it)",
        )
        return True

    def _follow_jump(self, stamp: int) -> None:
        """Two consecutive images agree on a new time: drop what is pending from before, follow it."""
        jump = stamp - self._stream_time

        def before_the_jump(key: int) -> bool:
            return abs(key - stamp) > self._max_jump_ns

        for old in [s for s in self._colors if before_the_jump(s)]:
            del self._colors[old]
            self._incomplete += 1
        self._discard(before_the_jump)
        self._stream_time, self._last_emitted, self._jumped_to = stamp, None, None
        self._reporter.report(
            "color",
            "clock jump followed",
            f"stream time jumped {jump * 1e-9:+.3f} s (two consecutive images agree): following it",
            count=False,
        )

    def _discard(self, stale: Callable[[int], bool]) -> None:
        """Remove buffered parts whose stamp can no longer match a frame (counted as unmatched)."""
        for part, buffer in self._parts.items():
            for key in [s for s in buffer if stale(s)]:
                del buffer[key]
                if part != "camera_info":
                    self._unmatched[part] += 1

    def _find(self, part: str, stamp: int) -> int | None:
        """The key of `part`'s entry matching `stamp`: equal, else nearest within the tolerance."""
        buffer = self._parts[part]
        if stamp in buffer:
            return stamp
        if self._tolerance_ns == 0 or not buffer:
            return None
        nearest = min(buffer, key=lambda key: abs(key - stamp))
        return nearest if abs(nearest - stamp) <= self._tolerance_ns else None

    def _find_labels(self, instances: _Part) -> int | None:
        """The labels message of an instance image, among those received within `labels_window`:
        the nearest in time whose ids all occur in the image, else the nearest sharing at least
        one id with it (its other ids are dropped with a warning later), else none yet.

        Ids are renumbered per frame, so the ids tell neighbouring frames apart when arrival
        times jitter or a labels message is lost; labels naming none of the image's ids belong
        to another frame.
        """
        present = instances.value.ids
        consistent, overlapping = [], []
        for i, entry in enumerate(self._labels):
            gap = abs(entry.received - instances.received)
            if gap > self._labels_window:
                continue
            named = set(entry.value)
            if named <= present:
                consistent.append((gap, i))
            elif named & present:
                overlapping.append((gap, i))
        best = min(consistent or overlapping, default=None)
        return None if best is None else best[1]

    def _complete_frames(self, final: bool = False) -> list[Frame | FrameInputs]:
        """Build the complete frames, oldest first, unless an older incomplete one may still
        complete (within its reorder window): then it and everything after it wait."""
        frames = []
        now = self._clock()
        waiting = False  # an older incomplete frame is inside its reorder window
        for stamp in list(self._colors):
            keys, labels_at, lacking = self._inputs(stamp)
            if lacking:
                waiting = waiting or (not final and now - self._colors[stamp].arrived < self._reorder_window)
                continue
            if waiting:
                break
            frame = self._build(stamp, keys, labels_at)
            if frame is not None:
                frames.append(frame)
        return frames

    def _inputs(self, stamp: int) -> tuple[dict[str, int | None], int | None, list[str]]:
        """The buffer keys of the frame at `stamp`, its labels' position, and the parts it lacks.

        Labels are judged last, once nothing else is lacking: pairing them is the costliest check.
        """
        keys = {part: self._find(part, stamp) for part in ("depth", "pose", "instances", "camera_info")}
        lacks = {
            "depth": self.wait_for_depth and keys["depth"] is None,
            "camera_info": keys["camera_info"] is None and self._latest_info is None,
            "pose": self.wait_for_pose and keys["pose"] is None,
            "instances": self.wait_for_instances and keys["instances"] is None,
        }
        lacking = [part for part, missing in lacks.items() if missing]
        labels_at = None
        if keys["instances"] is not None and not lacking:
            labels_at = self._find_labels(self._parts["instances"][keys["instances"]])
            if self.wait_for_instances and labels_at is None:
                lacking.append("labels")
        return keys, labels_at, lacking

    def _build(self, stamp: int, keys: dict[str, int | None], labels_at: int | None) -> Frame | FrameInputs | None:
        """The frame at `stamp` from its parts (None when one is refused, reported): a Frame, or
        FrameInputs when it lacks depth or pose that perception is to estimate."""
        if labels_at is None:
            keys["instances"] = None  # an instance image without its labels cannot name anything

        pending = self._take(stamp, keys, labels_at)
        info: Intrinsics = pending.get("camera_info", self._latest_info)
        instances = pending.get("instances")
        labels = pending.get("labels") or {}
        if instances is not None and labels:
            labels = self._known_labels(instances.ids, labels)
        color: _Pending = pending["color"]
        fields = {
            "rgb": color.rgb,
            "depth": pending.get("depth"),
            "K": info.K,
            "T_world_camera": pending.get("pose"),
            "timestamp": stamp * 1e-9,
            "index": color.index,
            "instances": None if instances is None else instances.image,
            "labels": labels if instances is not None else None,
        }
        try:
            info.check_size(width=color.rgb.shape[1], height=color.rgb.shape[0])
            if fields["depth"] is None or fields["T_world_camera"] is None:
                frame = FrameInputs(**fields)  # validated by the perception pipeline once complete
            else:
                frame = Frame.create(**fields)
        except CameraInfoError as err:
            self._reporter.report("camera_info", "image size", f"frame {color.index + 1} skipped: {err}")
            return None
        except FrameError as err:
            self._reporter.report(_FIELD_PART.get(err.field, "color"), f"frame:{err.field}", str(err))
            return None
        self._frames += 1
        return frame

    def _take(self, stamp: int, keys: dict[str, int | None], labels_at: int | None) -> dict:
        """Remove this frame's inputs and everything older, which can no longer be used in order."""
        for older in [s for s in self._colors if s < stamp]:
            self._drop(older)  # first: its report describes the buffers it could have used
        self._refused.clear()
        taken: dict = {"color": self._colors.pop(stamp)}
        instances_received = None
        for part, key in keys.items():
            if key is not None:
                entry = self._parts[part].pop(key)
                taken[part] = entry.value
                if part == "instances":
                    instances_received = entry.received
        if labels_at is not None:
            taken["labels"] = self._labels[labels_at].value
            del self._labels[labels_at]
            # Labels received a window before this instance image can pair with no later one.
            while self._labels and self._labels[0].received < instances_received - self._labels_window:
                self._labels.popleft()
                self._unmatched["labels"] += 1
        horizon = stamp - self._tolerance_ns
        self._discard(lambda key: key < horizon)
        self._last_emitted = stamp
        return taken

    def _drop(self, stamp: int) -> None:
        """Drop the pending frame at `stamp`, which can no longer complete: counted, and reported
        naming what it lacked; a part refused since the last built frame was reported already (one
        refusal accounts for one frame)."""
        keys, _, lacking = self._inputs(stamp)
        pending = self._colors.pop(stamp)
        self._incomplete += 1
        self._lacking.update(lacking)
        unexplained = []
        for part in lacking:
            if self._refused[part]:
                self._refused[part] -= 1
            else:
                unexplained.append(part)
        if unexplained:
            reasons = "; ".join(self._why_lacking(part, keys) for part in unexplained)
            self._reporter.report(
                unexplained[0],
                "incomplete: " + ", ".join(unexplained),
                f"frame {pending.index + 1} (stamped {stamp * 1e-9:.3f} s) dropped: {reasons}",
                count=False,
            )

    def _why_lacking(self, part: str, keys: dict[str, int | None]) -> str:
        """What a log line needs to fix it: which message never came (labels: none, or other ids)."""
        if part == "camera_info":
            return "no usable camera_info received"
        if part != "labels":
            return f"no {part} message with its stamp"
        instances: _Part = self._parts["instances"][keys["instances"]]
        named = {
            instance_id
            for entry in self._labels
            if abs(entry.received - instances.received) <= self._labels_window
            for instance_id in entry.value
        }
        if not named:
            return f"no labels received within labels_window = {self._labels_window:g} s of its instance image"
        return (
            f"the labels received with its instance image name only ids absent from it "
            f"({_id_list(named)}; the image has ids {_id_list(instances.value.ids)})"
        )

    def _known_labels(self, present: frozenset[int], labels: dict[int, str]) -> dict[int, str]:
        """Labels whose id occurs in the instance image; the others are dropped with a warning."""
        unknown = sorted(set(labels) - present)
        if unknown:
            self._unknown_label_ids += len(unknown)
            self._reporter.report(
                "labels",
                "unknown ids",
                f"labels name instance ids {_id_list(unknown)} that are not in the instance image; dropped",
            )
        return {k: v for k, v in labels.items() if k in present}


def _id_list(ids, limit: int = 10) -> str:
    """Sorted ids for a log line, at most `limit` of them: a message describes, it does not dump."""
    ids = sorted(ids)
    return f"{ids[:limit]}" + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _ids_in(instances: np.ndarray) -> frozenset[int]:
    """The non-zero ids of an instance image (bincount: one pass, no sort, for non-negative ids)."""
    ids = instances.ravel()
    present = np.flatnonzero(np.bincount(ids)) if ids.size and ids.min() >= 0 else np.unique(ids)
    return frozenset(int(i) for i in present if i != 0)
