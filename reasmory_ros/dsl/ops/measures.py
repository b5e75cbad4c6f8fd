"""Measuring: distances, object sizes, positions, the room, and unit conversion."""

from __future__ import annotations

import numpy as np

from ..context import ExecContext
from ..errors import OperationError
from ..floorplan import floor_rectangle, footprint_area, hull_area
from ..geometry import location, measure
from ..registry import Param, StaticArg, StaticContext, operation
from ..types import NUMBER, OBJECT, POINT, SIZE, TEXT, Number, Point, Size
from ..units import UNITS, canonical_unit, convert, metres
from .selection import LOCATABLE


@operation("distance", category="measures", returns=NUMBER, unit="m",
           params=[Param("a", LOCATABLE, "first thing"), Param("b", LOCATABLE, "second thing"),
                   Param("mode", (TEXT,), "what to measure between", default="closest",
                         choices=("closest", "center"))],
           doc='Distance in metres. "closest": between the nearest surface points of objects '
               '(a camera, point or view is its own single point); "center": between box '
               "centres / optical centres / points.")
def distance_op(ctx: ExecContext, a, b, mode):
    value, p, q = measure(a, b, mode)
    ctx.trace.value(a)
    ctx.trace.value(b)
    ctx.trace.segment(p, q)
    return Number(value, "m")


def _extent(ctx: ExecContext, obj) -> np.ndarray:
    ctx.trace.value(obj)
    return np.asarray(obj.record.extent, dtype=np.float64)


@operation("size", category="measures", returns=SIZE,
           params=[Param("object", (OBJECT,), "the object")],
           doc="The object's gravity-aligned box: .length >= .width (horizontal sides) and "
               ".height, in metres.")
def size_op(ctx: ExecContext, object):
    length, width, height = _extent(ctx, object)
    length, width = max(length, width), min(length, width)
    return Size(Number(length, "m"), Number(width, "m"), Number(height, "m"))


@operation("longest_dimension", category="measures", returns=NUMBER, unit="m",
           params=[Param("object", (OBJECT,), "the object")],
           doc="The largest of the object's length, width and height, in metres.")
def longest_dimension_op(ctx: ExecContext, object):
    return Number(float(_extent(ctx, object).max()), "m")


@operation("height", category="measures", returns=NUMBER, unit="m",
           params=[Param("object", (OBJECT,), "the object")],
           doc="The object's vertical extent in metres.")
def height_op(ctx: ExecContext, object):
    return Number(float(_extent(ctx, object)[2]), "m")


@operation("position", category="measures", returns=POINT,
           params=[Param("of", LOCATABLE, "the thing")],
           doc="World position: an object's box centre, a camera's optical centre, a view's "
               "standpoint.")
def position_op(ctx: ExecContext, of):
    ctx.trace.value(of)
    return Point(location(of))


@operation("point", category="measures", returns=POINT,
           params=[Param("x", (NUMBER,), "world x (m)"), Param("y", (NUMBER,), "world y (m)"),
                   Param("z", (NUMBER,), "world z, up (m)", default=Number(0.0, "m"))],
           doc="A world point from coordinates in metres (z defaults to 0).")
def point_op(ctx: ExecContext, x, y, z):
    return Point(np.array([metres(x), metres(y), metres(z)]))


def _check_unit(args: dict[str, StaticArg], ctx: StaticContext) -> None:
    if args["unit"].known:
        canonical_unit(args["unit"].constant)


@operation("to_unit", category="measures", returns=NUMBER, check=_check_unit,
           params=[Param("number", (NUMBER,), "a measured number"),
                   Param("unit", (TEXT,), "target unit: " + ", ".join(UNITS))],
           doc="The number converted to another unit of the same dimension (a number without "
               "unit is taken as m, m2, deg or s).")
def to_unit_op(ctx: ExecContext, number, unit):
    return convert(number, unit)


@operation("room_area", category="room and routes", returns=NUMBER, unit="m2",
           params=[Param("method", (TEXT,), "how the floor is outlined", default="hull",
                         choices=("hull", "footprint"))],
           doc='Floor area of the mapped space in square metres, seen from above with stray '
               'clusters (seen through windows, noise) dropped and walls measured at their '
               "surfaces, in the middle of the band that depth noise spreads them over. \"hull\" "
               "(default): the convex hull of the map, robust to walls the camera never looked "
               "at; \"footprint\": the covered area with gaps up to 1 m bridged and enclosed "
               "holes filled, right for L-shaped spaces whose outline was fully observed.")
def room_area_op(ctx: ExecContext, method):
    grid = ctx.floor_grid()
    return Number(footprint_area(grid) if method == "footprint" else hull_area(grid), "m2")


@operation("room_dimensions", category="room and routes", returns=SIZE, params=[],
           doc="The mapped space's smallest floor rectangle around its walls' surfaces "
               "(.length >= .width) and its height from floor to ceiling (or to the highest "
               "voxel), in metres.")
def room_dimensions_op(ctx: ExecContext):
    grid = ctx.floor_grid()
    length, width = floor_rectangle(grid)
    height = grid.ceiling_z - grid.floor_z
    if height <= 0:
        raise OperationError("the map has no height above its floor")
    return Size(Number(length, "m"), Number(width, "m"), Number(height, "m"))
