"""A world that changes: where an object is now or was before, whether it is still there, what
moved, was removed or appeared, and when.

The memory keeps moved objects as one record with their earlier placements, and removed objects
apart from the live ones (`MemorySnapshot.removed`), so `objects(...)` only ever counts what is
there now; these operations reach into the past.
"""

from __future__ import annotations

import numpy as np

from ...memory.labels import resolve, unknown_label_hint
from ...memory.snapshot import MemorySnapshot, ObjectRecord
from ..context import ExecContext
from ..errors import OperationError
from ..registry import Param, StaticArg, StaticContext, operation
from ..types import BOOL, CAMERA, NUMBER, OBJECT, OBJECT_SET, POINT, TEXT, Obj, ObjectSet, Point
from ..units import convert
from .cameras import camera_at_frame

CHANGE_KINDS = ("moved", "removed", "appeared")


def _stream_start(snapshot: MemorySnapshot) -> float:
    return float(snapshot.trajectory.timestamps[0]) if len(snapshot.trajectory) else 0.0


def _placed_frame(record: ObjectRecord) -> int:
    """First frame of the current placement."""
    return record.placed_frame if record.moved else record.first_seen_frame


def _frame_of_time(snapshot: MemorySnapshot, seconds: float) -> int:
    """The 0-based frame of the stored pose nearest to a time (seconds since the first frame)."""
    if len(snapshot.trajectory) == 0:
        raise OperationError("the memory has no camera poses yet")
    stamps = snapshot.trajectory.timestamps - _stream_start(snapshot)
    return int(snapshot.trajectory.frame_indices[int(np.abs(stamps - seconds).argmin())])


def _check_one_of(names: tuple[str, ...]):
    def check(args: dict[str, StaticArg], ctx: StaticContext) -> None:
        given = [n for n in names if n in args]
        if len(given) != 1:
            raise OperationError("give exactly one of: " + ", ".join(names),
                                 'e.g. position_at(chair, which="now") or position_at(chair, frame=12)')
    return check


def _where(record: ObjectRecord, frame: int) -> np.ndarray:
    """Box centre of the placement the object held at a 0-based frame; OperationError if none."""
    name = f"{record.label} (id {record.id})"
    if frame < record.first_seen_frame:
        raise OperationError(f"{name} was first seen at frame {record.first_seen_frame + 1}, after frame {frame + 1}",
                             "ask about a later frame, or use first_seen(object)")
    if record.status == "removed" and frame >= record.gone_since_frame:
        raise OperationError(f"{name} was seen gone from frame {record.gone_since_frame + 1} on",
                             'position_at(object, which="before") gives where it was')
    if frame >= _placed_frame(record):
        return record.center
    for placement in reversed(record.placements):
        if frame >= placement.first_frame:
            return placement.center
    return record.placements[0].center


@operation("position_at", category="changes", returns=POINT, check=_check_one_of(("which", "frame", "time")),
           params=[Param("object", (OBJECT,), "an object, live or removed"),
                   Param("which", (TEXT,), "where it is now, or where it stood before its last move",
                         default=None, choices=("now", "before")),
                   Param("frame", (NUMBER,), "frame number, counted from 1", default=None),
                   Param("time", (NUMBER,), "seconds since the first frame", default=None)],
           doc='Where an object stood (its box centre): "now", "before" its last move (a removed '
               "object: where it was last), or at a frame (1-based) or a time. Objects that moved "
               "keep their earlier placements; a frame before the object was first seen, or after "
               "it was seen gone, is an error. Exactly one of which, frame, time.")
def position_at_op(ctx: ExecContext, object, which, frame, time):
    record = object.record
    ctx.trace.value(object)
    name = f"{object.label} (id {object.id})"
    if which == "now":
        if record.status == "removed":
            raise OperationError(f"{name} is no longer there: its place was seen empty from frame "
                                 f"{record.gone_since_frame + 1}", 'position_at(object, which="before") '
                                 "gives where it was")
        point = record.center
    elif which == "before":
        if record.moved:
            point = record.placements[-1].center
        elif record.status == "removed":
            point = record.center
        else:
            raise OperationError(f"{name} has not moved since it was first seen (frame "
                                 f"{record.first_seen_frame + 1})", 'position_at(object, which="now")')
    elif frame is not None:
        if not float(frame.value).is_integer() or frame.value < 1:
            raise OperationError(f"frame={frame.value:g} is not a frame number",
                                 "frames are whole numbers counted from 1", "frame")
        point = _where(record, int(frame.value) - 1)
    else:
        point = _where(record, _frame_of_time(ctx.snapshot, convert(time, "s").value))
    result = Point(np.asarray(point, dtype=np.float64))
    ctx.trace.value(result)
    return result


@operation("still_there", category="changes", returns=BOOL,
           params=[Param("label", (TEXT,), "a label")],
           doc="Whether an object with this label is still there: True while one is present, False "
               "when every one the memory saw was since seen gone. A label never seen is an error.")
def still_there_op(ctx: ExecContext, label):
    live = {o.label for o in ctx.snapshot.objects}
    gone = {o.label for o in ctx.snapshot.removed}
    if resolve(label, live):
        return True
    if resolve(label, gone):
        return False
    raise OperationError(f"no object labelled {label!r} was ever seen", unknown_label_hint(label, live | gone),
                         "label")


def _event_frame(record: ObjectRecord, kind: str) -> int | None:
    if kind == "moved":
        return record.placed_frame if record.moved else None
    if kind == "removed":
        return record.gone_since_frame if record.status == "removed" else None
    return record.first_seen_frame if record.appeared and not record.moved else None


@operation("changes", category="changes", returns=OBJECT_SET,
           params=[Param("kind", (TEXT,), "which change", choices=CHANGE_KINDS),
                   Param("label", (TEXT,), "only objects with this label", default=None),
                   Param("from_frame", (NUMBER,), "first frame of the span (1-based)", default=None),
                   Param("to_frame", (NUMBER,), "last frame of the span (1-based)", default=None),
                   Param("since_time", (NUMBER,), "start of the span, seconds since the first frame",
                         default=None)],
           doc='Objects that "moved" (first seen at a new place), were "removed" (first seen gone) or '
               '"appeared" (first seen where the place had been seen empty) within a span of frames '
               "(both ends included) or since a time; the whole stream by default.")
def changes_op(ctx: ExecContext, kind, label, from_frame, to_frame, since_time):
    snapshot = ctx.snapshot
    first = 0 if from_frame is None else int(from_frame.value) - 1
    last = snapshot.stream_frames - 1 if to_frame is None else int(to_frame.value) - 1
    if since_time is not None:
        first = max(first, _frame_of_time(snapshot, convert(since_time, "s").value))
    if last < first:
        raise OperationError(f"the span ends (frame {last + 1}) before it starts (frame {first + 1})")
    records = snapshot.objects + snapshot.removed
    wanted = None
    if label is not None:
        wanted = resolve(label, {o.label for o in records})
        if not wanted:
            raise OperationError(f"no object labelled {label!r} was ever seen",
                                 unknown_label_hint(label, {o.label for o in records}), "label")
    chosen = []
    for record in records:
        event = _event_frame(record, kind)
        if event is not None and first <= event <= last and (wanted is None or record.label in wanted):
            chosen.append(Obj(record, record.label))
    result = ObjectSet(tuple(chosen), f'changes("{kind}")')
    ctx.trace.value(result)
    return result


@operation("when_moved", category="changes", returns=CAMERA,
           params=[Param("object", (OBJECT,), "an object that moved")],
           doc="The camera of the frame where a moved object was first seen at its new place (it "
               "moved after its last sighting at the old place, `position_at(o, which=\"before\")`).")
def when_moved_op(ctx: ExecContext, object):
    record = object.record
    ctx.trace.value(object)
    if not record.moved:
        raise OperationError(f"{object.label} (id {object.id}) has not moved since it was first seen",
                             'changes(kind="moved") lists the objects that did')
    camera = camera_at_frame(ctx.snapshot, record.placed_frame)
    ctx.trace.value(camera)
    return camera


@operation("removed_objects", category="changes", returns=OBJECT_SET,
           params=[Param("label", (TEXT,), "a label")],
           doc="Objects with this label that were seen gone (for questions about where they were).")
def removed_objects_op(ctx: ExecContext, label):
    gone = ctx.snapshot.removed
    wanted = resolve(label, {o.label for o in gone})
    if not wanted:
        raise OperationError(f"no removed object labelled {label!r}",
                             f"removed: {', '.join(sorted({o.label for o in gone})) or 'none'}", "label")
    return ObjectSet(tuple(Obj(r, label) for r in gone if r.label in wanted), f'removed_objects("{label}")')
