"""Everyday relations: what the memory holds, how two objects compare, what stands on, under,
next to or between what, and what colour something is."""

from __future__ import annotations

from collections import Counter

from ...memory.labels import resolve
from .. import boxes
from ..context import ExecContext
from ..errors import OperationError
from ..geometry import location, measure
from ..registry import Param, operation
from ..types import (
    BOOL,
    NUMBER,
    OBJECT,
    OBJECT_SET,
    TEXT,
    Number,
    Obj,
    ObjectSet,
    format_number,
    list_of,
)
from .selection import LOCATABLE

MEASURES = ("height", "volume", "footprint", "length", "distance")
_WORDS = {"height": "box height", "volume": "box volume", "footprint": "footprint area",
          "length": "longest horizontal side", "distance": "closest-point distance"}
_UNITS = {"height": "m", "volume": "m3", "footprint": "m2", "length": "m", "distance": "m"}


@operation("all_objects", category="objects", returns=OBJECT_SET, params=[],
           doc="Every object of the memory, whatever its label.")
def all_objects_op(ctx: ExecContext):
    return ObjectSet(tuple(Obj(r, r.label) for r in ctx.snapshot.objects), "all_objects()")


@operation("inventory", category="objects", returns=list_of(TEXT),
           params=[Param("set", (OBJECT_SET,), "objects to list (default: all)", default=None)],
           doc='The labels of the objects with their counts, most frequent first, e.g. '
               '["chair: 4", "table: 2", "sofa: 1"].')
def inventory_op(ctx: ExecContext, set):
    objects = set.objects if set is not None else all_objects_op(ctx).objects
    counts = Counter(o.record.label for o in objects)
    return tuple(f"{label}: {n}" for label, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])))


@operation("exists", category="objects", returns=BOOL,
           params=[Param("label", (TEXT,), "a label, matched like objects()")],
           doc="Whether the memory holds at least one object with this label (a label it does "
               "not know is simply False, with a note of what it holds).")
def exists_op(ctx: ExecContext, label):
    present = {o.label for o in ctx.snapshot.objects}
    names = resolve(label, present)
    if not names:
        ctx.notes.append("the memory holds: " + (", ".join(sorted(present)) or "nothing"))
    for record in ctx.snapshot.objects:
        if record.label in names:
            ctx.trace.value(Obj(record, label))
    return bool(names)


def _distinct(a: Obj, b: Obj) -> None:
    if a.id == b.id:
        raise OperationError(f"both sides are the same object ({a.label}, id {a.id}): an object "
                             "cannot be compared with itself",
                             "pick two different objects, e.g. the second one with "
                             "nearest(...), largest(...) or object(id)")


def amount(ctx: ExecContext, obj: Obj, by: str, to: object) -> float:
    """The quantity an object is compared by (see MEASURES)."""
    extent = obj.record.extent
    if by == "height":
        return float(extent[2])
    if by == "volume":
        return boxes.volume(obj.record)
    if by == "footprint":
        return boxes.footprint_area(obj.record)
    if by == "length":
        return float(max(extent[0], extent[1]))
    if to is None:
        raise OperationError('by="distance" needs to=<object, camera or point>', param="to")
    if isinstance(to, Obj) and to.id == obj.id:
        raise OperationError(f"the {obj.label} (id {obj.id}) is both compared and the reference",
                             "measure the distance to something else", "to")
    return measure(obj, to, "closest")[0]


def _compare(ctx: ExecContext, a: Obj, b: Obj, by: str, to: object) -> tuple[float, float]:
    _distinct(a, b)
    values = amount(ctx, a, by, to), amount(ctx, b, by, to)
    ctx.trace.value(a)
    ctx.trace.value(b)
    if to is not None:
        ctx.trace.value(to)
    unit = _UNITS[by]
    ctx.notes.append(f"compared by {_WORDS[by]}: {a.label} {format_number(values[0])} {unit}, "
                     f"{b.label} {format_number(values[1])} {unit}")
    return values


_COMPARE_PARAMS = [
    Param("a", (OBJECT,), "first object"), Param("b", (OBJECT,), "second object"),
    Param("by", (TEXT,), "what is compared: box height, box volume, footprint area, longest "
          "horizontal side, or closest-point distance to `to`", choices=MEASURES),
    Param("to", LOCATABLE, 'the reference of by="distance"', default=None),
]


@operation("more", category="measures", returns=OBJECT, params=_COMPARE_PARAMS,
           doc='The one of two objects with more of the measure: taller (by="height"), bigger '
               '(by="volume" or by="footprint"), longer (by="length"), farther (by="distance", '
               "to=...). Comparing an object with itself is an error.")
def more_op(ctx: ExecContext, a, b, by, to):
    va, vb = _compare(ctx, a, b, by, to)
    return a if va >= vb else b


@operation("less", category="measures", returns=OBJECT, params=_COMPARE_PARAMS,
           doc='The one of two objects with less of the measure: shorter, smaller, closer '
               '(by="distance", to=camera("current") for "closer to me").')
def less_op(ctx: ExecContext, a, b, by, to):
    va, vb = _compare(ctx, a, b, by, to)
    return a if va <= vb else b


@operation("exceeds", category="measures", returns=BOOL, params=_COMPARE_PARAMS,
           doc='Whether a has more of the measure than b: "is the A taller than the B" is '
               'exceeds(a, b, by="height"); "is the A closer to me than the B" is '
               'exceeds(b, a, by="distance", to=camera("current")).')
def exceeds_op(ctx: ExecContext, a, b, by, to):
    va, vb = _compare(ctx, a, b, by, to)
    return va > vb


@operation("volume", category="measures", returns=NUMBER, unit="m3",
           params=[Param("object", (OBJECT,), "the object")],
           doc="The volume of the object's gravity-aligned box in cubic metres.")
def volume_op(ctx: ExecContext, object):
    ctx.trace.value(object)
    return Number(boxes.volume(object.record), "m3")


@operation("footprint", category="measures", returns=NUMBER, unit="m2",
           params=[Param("object", (OBJECT,), "the object")],
           doc="The area its box covers on the floor (length x width) in square metres.")
def footprint_op(ctx: ExecContext, object):
    ctx.trace.value(object)
    return Number(boxes.footprint_area(object.record), "m2")


_RELATION_DOC = (f"within {boxes.SUPPORT_TOLERANCE:g} m; footprints overlapping by "
                 f"{boxes.SUPPORT_OVERLAP:.0%}")


def _related(ctx: ExecContext, set: ObjectSet, relation: str, other: Obj) -> ObjectSet:
    """The objects of the set that are <relation> the other one."""
    test = boxes.RELATIONS[relation]
    others = [o for o in set.objects if o.id != other.id]
    possible = boxes.maybe_related([o.record for o in others], other.record, relation)
    kept = tuple(o for o, maybe in zip(others, possible) if maybe and test(o.record, other.record))
    ctx.trace.value(other)
    ctx.trace.value(kept)
    return ObjectSet(kept, f"{set.description} {relation} the {other.label}")


@operation("on", category="relations", returns=OBJECT_SET,
           params=[Param("set", (OBJECT_SET,), "candidates"), Param("base", (OBJECT,), "the support")],
           doc=f"The objects of the set resting on the base: bottom at the base's top "
               f"({_RELATION_DOC} of the object's footprint).")
def on_op(ctx: ExecContext, set, base):
    return _related(ctx, set, "on", base)


@operation("under", category="relations", returns=OBJECT_SET,
           params=[Param("set", (OBJECT_SET,), "candidates"), Param("above", (OBJECT,), "the object above")],
           doc=f"The objects of the set under the given one: their footprints overlap by "
               f"{boxes.SUPPORT_OVERLAP:.0%} of the smaller one and its bottom is at most "
               f"{boxes.SUPPORT_TOLERANCE:g} m below their top (boxes reach down to an object's "
               "lowest part, so a table's legs leave no room under it).")
def under_op(ctx: ExecContext, set, above):
    return _related(ctx, set, "under", above)


@operation("next_to", category="relations", returns=OBJECT_SET,
           params=[Param("set", (OBJECT_SET,), "candidates"), Param("object", (OBJECT,), "the reference")],
           doc=f"The objects of the set next to the reference: footprints at most "
               f"{boxes.NEXT_TO_GAP:g} m apart seen from above, heights overlapping, neither "
               "standing on the other.")
def next_to_op(ctx: ExecContext, set, object):
    return _related(ctx, set, "next to", object)


@operation("support", category="relations", returns=OBJECT,
           params=[Param("object", (OBJECT,), "the object")],
           doc='What the object rests on (see on()); an error when it stands on the floor or '
               "on nothing the memory holds.")
def support_op(ctx: ExecContext, object):
    found = supports(ctx, object)
    if not found:
        raise OperationError(f"the {object.label} (id {object.id}) rests on no object of the memory",
                             "it stands on the floor or on something not mapped")
    ctx.trace.value(object)
    ctx.trace.value(found[0])
    return found[0]


def supports(ctx: ExecContext, obj: Obj) -> list[Obj]:
    """Objects obj rests on, the largest overlap first."""
    found = [Obj(r, r.label) for r in ctx.snapshot.objects
             if r.id != obj.id and boxes.rests_on(obj.record, r)]
    return sorted(found, key=lambda o: -boxes.overlap_fraction(obj.record, o.record))


@operation("related", category="relations", returns=BOOL,
           params=[Param("a", (OBJECT,), "the object"),
                   Param("relation", (TEXT,), "the relation", choices=tuple(boxes.RELATIONS)),
                   Param("b", (OBJECT,), "the other object")],
           doc='Whether "a is <relation> b" holds, with the tests of on(), under() and next_to().')
def related_op(ctx: ExecContext, a, relation, b):
    _distinct(a, b)
    ctx.trace.value(a)
    ctx.trace.value(b)
    return bool(boxes.RELATIONS[relation](a.record, b.record))


@operation("between", category="relations", returns=OBJECT_SET,
           params=[Param("set", (OBJECT_SET,), "candidates"), Param("a", LOCATABLE, "one end"),
                   Param("b", LOCATABLE, "the other end")],
           doc=f"The objects of the set between a and b, ordered from a to b: seen from above, "
               f"the centre projects inside the segment joining a's and b's centres and lies "
               f"within {boxes.BETWEEN_MARGIN:g} m of it.")
def between_op(ctx: ExecContext, set, a, b):
    if isinstance(a, Obj) and isinstance(b, Obj):
        _distinct(a, b)
    ends = {o.id for o in (a, b) if isinstance(o, Obj)}
    pa, pb = location(a), location(b)
    placed = [(t, o) for o in set.objects if o.id not in ends
              and (t := boxes.between_position(location(o), pa, pb)) is not None]
    kept = tuple(o for _, o in sorted(placed, key=lambda p: p[0]))
    for value in (a, b, kept):
        ctx.trace.value(value)
    ctx.trace.segment(pa, pb)
    return ObjectSet(kept, f"{set.description} between the two")


@operation("color", category="objects", returns=TEXT,
           params=[Param("object", (OBJECT,), "the object")],
           doc="The object's colour, named from the palette black, gray, white, red, orange, "
               "yellow, green, blue, purple, pink, brown, beige: the mean of the most frequent "
               "colour among its observed RGB points.")
def color_op(ctx: ExecContext, object):
    ctx.trace.value(object)
    if not object.record.color:
        raise OperationError(f"no colour was observed for the {object.label} (id {object.id})")
    return object.record.color
