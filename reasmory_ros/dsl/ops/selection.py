"""Selecting objects: by label, by id, by nearness, by visibility, by size."""

from __future__ import annotations

import numpy as np

from ...memory.labels import resolve, unknown_label_hint
from ...memory.snapshot import MemorySnapshot
from ..boxes import volume
from ..context import ExecContext
from ..errors import OperationError
from ..geometry import closest_first, in_image, intrinsics, location, measure, project, within_reach
from ..registry import Param, StaticArg, StaticContext, operation
from ..types import (
    ANY_LIST,
    CAMERA,
    NUMBER,
    OBJECT,
    OBJECT_SET,
    POINT,
    TEXT,
    VIEW,
    Camera,
    Number,
    Obj,
    ObjectSet,
    format_number,
    list_of,
)
from ..units import metres

LOCATABLE = (OBJECT, CAMERA, POINT, VIEW)
MAX_VISIBLE_RANGE = 10.0
MIN_VISIBLE_DEPTH = 0.1
DEFAULT_NEAR = Number(1.0, "m")


def label_list(value: object) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def resolve_labels(queries: tuple[str, ...], present: set[str]) -> dict[str, tuple[str, ...]]:
    """query -> memory labels it names; OperationError for the first query naming none."""
    resolved = {}
    for query in queries:
        found = resolve(query, present)
        if not found:
            raise OperationError(f"no object labelled {query!r} in the memory",
                                 unknown_label_hint(query, present), "label")
        resolved[query] = found
    return resolved


def check_labels(args: dict[str, StaticArg], ctx: StaticContext, param: str) -> None:
    """Before running: every literal label must name something the memory holds."""
    arg = args.get(param)
    if arg is not None and arg.known and ctx.labels is not None:
        try:
            resolve_labels(label_list(arg.constant), set(ctx.labels))
        except OperationError as err:
            err.param = param
            raise


def _present(snapshot: MemorySnapshot) -> set[str]:
    return {obj.label for obj in snapshot.objects}


def _describe(objects: tuple[Obj, ...]) -> str:
    """'id 4 at (1.2, 0.3), id 7 at (2, 1.5)': each candidate with its floor position."""
    shown = ", ".join(f"id {o.id} at ({format_number(o.record.center[0])}, "
                      f"{format_number(o.record.center[1])})" for o in objects[:10])
    return shown + (" ..." if len(objects) > 10 else "")


@operation("objects", category="objects", returns=OBJECT_SET,
           params=[Param("label", (TEXT, list_of(TEXT)), "a label or a list of labels")],
           check=lambda args, ctx: check_labels(args, ctx, "label"),
           doc="All objects of the memory with one of these labels. Labels match ignoring case, "
               "spaces and underscores, singular/plural, synonyms (tv/television/monitor, "
               "sofa/couch, ...) and head nouns (table -> coffee table). A label that names "
               "nothing in the memory is refused before the program runs.")
def objects_op(ctx: ExecContext, label):
    queries = label_list(label)
    resolved = resolve_labels(queries, _present(ctx.snapshot))
    chosen: dict[int, Obj] = {}
    for query in queries:
        for record in ctx.snapshot.objects:
            if record.label in resolved[query] and record.id not in chosen:
                chosen[record.id] = Obj(record, query)
    shown = ", ".join(f'"{q}"' for q in queries)
    return ObjectSet(tuple(chosen.values()),
                     f"objects({shown})" if len(queries) == 1 else f"objects([{shown}])")


def _check_whole(args: dict[str, StaticArg], ctx: StaticContext) -> None:
    arg = args["id"]
    if arg.known and not float(arg.constant.value).is_integer():
        raise OperationError("an object id is a whole number", param="id")


@operation("object", category="objects", returns=OBJECT,
           params=[Param("id", (NUMBER,), "the memory's object id")], check=_check_whole,
           doc="The object with this memory id (ids appear in answers and markers).")
def object_op(ctx: ExecContext, id):
    try:
        record = ctx.snapshot.object_by_id(int(id.value))
    except (KeyError, ValueError, OverflowError):
        ids = ", ".join(str(o.id) for o in ctx.snapshot.objects[:20])
        raise OperationError(f"no object with id {format(id.value, 'g')}",
                             f"ids in memory: {ids or 'none'}", "id") from None
    return Obj(record, record.label)


@operation("count", category="objects", returns=NUMBER,
           params=[Param("items", (OBJECT_SET, ANY_LIST), "objects, or any list")],
           doc="How many objects are in the set (or items in the list).")
def count_op(ctx: ExecContext, items):
    ctx.trace.value(items)
    return Number(float(len(items.objects if isinstance(items, ObjectSet) else items)))


@operation("the", category="objects", returns=OBJECT,
           params=[Param("set", (OBJECT_SET,), "a set that should hold exactly one object")],
           doc="The single object of a set; a runtime error says how many there are otherwise.")
def the_op(ctx: ExecContext, set):
    if len(set.objects) == 1:
        ctx.trace.value(set.objects[0])
        return set.objects[0]
    if not set.objects:
        raise OperationError(f"{set.description} is empty", "check the label or the filter")
    raise OperationError(
        f"{set.description} holds {len(set.objects)} objects ({_describe(set.objects)}), "
        "not exactly one",
        "pick one: the one nearest something, nearest(set, to=the(objects(\"desk\"))); "
        "largest(set) or smallest(set); the one seen first or last, earliest(set) or latest(set); "
        "filter(...); or object(id); or count(...) them")


def visible_objects(ctx: ExecContext, objects: tuple[Obj, ...], camera: Camera) -> tuple[Obj, ...]:
    """Objects whose box centre projects into the image, in front, within range."""
    if not objects:
        return ()
    K, size = intrinsics(ctx.snapshot)
    uv, depth = project(np.array([location(o) for o in objects]), camera.pose, K)
    seen = in_image(uv, depth, size, MIN_VISIBLE_DEPTH, MAX_VISIBLE_RANGE)
    return tuple(o for o, s in zip(objects, seen) if s)


def _filter_check(args: dict[str, StaticArg], ctx: StaticContext) -> None:
    if "within" in args and "near" not in args:
        raise OperationError("within= needs near=", "add near=<object, camera or point>",
                             "within")


@operation("filter", category="objects", returns=OBJECT_SET, check=_filter_check,
           params=[Param("set", (OBJECT_SET,), "objects to filter"),
                   Param("near", (OBJECT, CAMERA, POINT), "keep objects close to this",
                         default=None),
                   Param("within", (NUMBER,), "how close, closest surface points (default 1 m)",
                         default=None),
                   Param("visible_in", (CAMERA,), "keep objects this camera sees", default=None)],
           doc="The objects of a set that satisfy every condition given.")
def filter_op(ctx: ExecContext, set, near, within, visible_in):
    kept = set.objects
    parts = []
    if near is not None:
        radius = metres(within or DEFAULT_NEAR)
        others = [o for o in kept if not isinstance(near, Obj) or o.id != near.id]
        kept = tuple(o for o, close in zip(others, within_reach(others, near, radius)) if close)
        parts.append(f"within {radius:g} m")
    if visible_in is not None:
        kept = visible_objects(ctx, kept, visible_in)
        parts.append(f"visible at frame {visible_in.frame_index + 1}")
    return ObjectSet(kept, f"{set.description} filtered ({', '.join(parts) or 'no condition'})")


@operation("visible_in", category="objects", returns=OBJECT_SET,
           params=[Param("set", (OBJECT_SET,), "objects to test"),
                   Param("camera", (CAMERA,), "the camera")],
           doc=f"The objects whose box centre projects into this camera's image, in front of it "
               f"and within {MAX_VISIBLE_RANGE:g} m (occlusion is not tested).")
def visible_in_op(ctx: ExecContext, set, camera):
    ctx.trace.value(camera)
    return ObjectSet(visible_objects(ctx, set.objects, camera),
                     f"{set.description} visible at frame {camera.frame_index + 1}")


def _ranked(ctx: ExecContext, set: ObjectSet, to: object, mode: str, farthest: bool) -> Obj:
    candidates = [o for o in set.objects if not (isinstance(to, Obj) and o.id == to.id)]
    if not candidates:
        raise OperationError(f"{set.description} has no object other than the reference",
                             "widen the set, e.g. objects([...several labels...])")
    if mode == "closest" and not farthest:
        _, p, q, chosen = closest_first(candidates, to)
    else:
        measured = [(measure(o, to, mode), o) for o in candidates]
        pick = (max if farthest else min)(range(len(measured)), key=lambda i: measured[i][0][0])
        (_, p, q), chosen = measured[pick]
    ctx.trace.value(chosen)
    ctx.trace.value(to)
    ctx.trace.segment(p, q)
    return chosen


_RANK_PARAMS = [
    Param("set", (OBJECT_SET,), "candidates (the reference itself is skipped)"),
    Param("to", LOCATABLE, "the reference"),
    Param("mode", (TEXT,), "closest surface points or box centres", default="closest",
          choices=("closest", "center")),
]


@operation("nearest", category="objects", returns=OBJECT, params=_RANK_PARAMS,
           doc="The object of the set closest to the reference.")
def nearest_op(ctx: ExecContext, set, to, mode):
    return _ranked(ctx, set, to, mode, farthest=False)


@operation("farthest", category="objects", returns=OBJECT, params=_RANK_PARAMS,
           doc="The object of the set farthest from the reference.")
def farthest_op(ctx: ExecContext, set, to, mode):
    return _ranked(ctx, set, to, mode, farthest=True)


def _by_volume(ctx: ExecContext, set: ObjectSet, largest: bool) -> Obj:
    if not set.objects:
        raise OperationError(f"{set.description} is empty", "check the label or the filter")
    chosen = (max if largest else min)(set.objects, key=lambda o: volume(o.record))
    ctx.trace.value(chosen)
    return chosen


@operation("largest", category="objects", returns=OBJECT,
           params=[Param("set", (OBJECT_SET,), "candidates")],
           doc="The object of the set with the largest box volume.")
def largest_op(ctx: ExecContext, set):
    return _by_volume(ctx, set, largest=True)


@operation("smallest", category="objects", returns=OBJECT,
           params=[Param("set", (OBJECT_SET,), "candidates")],
           doc="The object of the set with the smallest box volume.")
def smallest_op(ctx: ExecContext, set):
    return _by_volume(ctx, set, largest=False)
