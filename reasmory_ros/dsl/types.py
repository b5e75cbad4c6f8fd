"""The DSL's types, its runtime values and the only attributes a program may read.

Static types (`DslType`) drive the validator; runtime values are small frozen dataclasses so the
interpreter never hands a program a live Python object. `ATTRIBUTES` is the single whitelist of
`value.field` accesses: the validator checks against it and the interpreter reads through it, so a
program can never reach a Python attribute that is not documented here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..memory.snapshot import ObjectRecord
from .errors import OperationError


@dataclass(frozen=True)
class DslType:
    """A type name; lists also carry the names their elements may have (None: not known)."""

    name: str
    items: frozenset[str] | None = None

    def __str__(self) -> str:
        if self.name != "List":
            return self.name
        if self.items is None:
            return "List[Any]"
        if not self.items:
            return "List (empty)"
        return "List[" + " | ".join(sorted(self.items)) + "]"


NUMBER = DslType("Number")
BOOL = DslType("Bool")
TEXT = DslType("Text")
OBJECT = DslType("Object")
OBJECT_SET = DslType("ObjectSet")
CAMERA = DslType("Camera")
VIEW = DslType("View")
POINT = DslType("Point")
DIRECTION = DslType("Direction")
PATH = DslType("Path")
IMAGE = DslType("Image")
SIZE = DslType("Size")
PLACE = DslType("Place")
ANY = DslType("Any")


def list_of(*item_types: DslType) -> DslType:
    return DslType("List", frozenset(t.name for t in item_types))


ANY_LIST = DslType("List")


def fits(actual: DslType, expected: DslType) -> bool:
    """Whether a value of type `actual` may be passed where `expected` is declared."""
    if expected == ANY:
        return True
    if actual.name != expected.name:
        return False
    if actual.name != "List" or expected.items is None or actual.items is None:
        return True
    return actual.items <= expected.items


def fits_any(actual: DslType, expected: tuple[DslType, ...]) -> bool:
    return any(fits(actual, e) for e in expected)


def describe_types(types: tuple[DslType, ...]) -> str:
    return " | ".join(str(t) for t in types)


# ---------------------------------------------------------------------------------------------
# Runtime values


@dataclass(frozen=True)
class Number:
    """A number with its unit ("" for plain counts, "m", "m2", "deg", "s", ...)."""

    value: float
    unit: str = ""


@dataclass(frozen=True, eq=False)
class Obj:
    """An object of the memory, with the label the program asked for it by (for answers)."""

    record: ObjectRecord
    label: str

    @property
    def id(self) -> int:
        return int(self.record.id)


@dataclass(frozen=True, eq=False)
class ObjectSet:
    """Objects selected by a query; `description` says how, for error messages."""

    objects: tuple[Obj, ...]
    description: str


@dataclass(frozen=True, eq=False)
class Point:
    xyz: np.ndarray


@dataclass(frozen=True, eq=False)
class Camera:
    """A camera pose of the trajectory: 0-based frame index, seconds since the stream start, and
    the stamp of the stream's clock (seconds)."""

    frame_index: int
    time: float
    pose: np.ndarray
    stamp: float

    @property
    def position(self) -> np.ndarray:
        return self.pose[:3, 3].astype(np.float64)


@dataclass(frozen=True, eq=False)
class View:
    """A standpoint and a horizontal facing: heading in radians, counter-clockwise from world x."""

    position: np.ndarray
    heading: float
    description: str = ""

    @property
    def forward(self) -> np.ndarray:
        return np.array([math.cos(self.heading), math.sin(self.heading)])

    @property
    def left(self) -> np.ndarray:
        return np.array([-math.sin(self.heading), math.cos(self.heading)])


DIRECTION_WORDS = {
    "front": 0.0,
    "front-left": 45.0,
    "left": 90.0,
    "back-left": 135.0,
    "back": 180.0,
    "back-right": -135.0,
    "right": -90.0,
    "front-right": -45.0,
}
"""The eight direction words and their angles (deg, counter-clockwise = left, seen from above)."""


def angle_gap(a: float, b: float) -> float:
    """Absolute difference of two angles in degrees, in [0, 180]."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


@dataclass(frozen=True, eq=False)
class Direction:
    """Where a target lies as seen from a view: angle in (-180, 180] deg, 0 ahead, + = left."""

    angle: float
    distance: float
    origin: np.ndarray
    target: np.ndarray

    @property
    def side(self) -> str:
        return "left" if 0.0 < self.angle < 180.0 else "right"

    @property
    def front_back(self) -> str:
        return "front" if abs(self.angle) <= 90.0 else "back"

    @property
    def quadrant(self) -> str:
        return f"{self.front_back}-{self.side}"

    @property
    def label(self) -> str:
        return min(DIRECTION_WORDS, key=lambda w: angle_gap(self.angle, DIRECTION_WORDS[w]))


@dataclass(frozen=True, eq=False)
class Path:
    """A route: planar waypoints, length along them, turn instructions, and how it was made."""

    waypoints: np.ndarray
    length: float
    turns: tuple[str, ...]
    planned: bool
    note: str


@dataclass(frozen=True, eq=False)
class Image:
    """A picture for a vision model or the user: rgb, depth (m, 0 = empty) and its camera."""

    rgb: np.ndarray
    depth: np.ndarray
    T_world_camera: np.ndarray
    K: np.ndarray
    source: str


@dataclass(frozen=True, eq=False)
class Place:
    """Where an object is: its box centre, a description by landmarks, where it lies from the
    latest camera, and a navigation goal in front of it (None when the map has no free floor
    near it)."""

    object: Obj
    position: np.ndarray
    description: str
    direction: Direction
    goal: View | None


@dataclass(frozen=True)
class Size:
    length: Number
    width: Number
    height: Number


def type_of(value: object) -> DslType:
    """The DSL type of a runtime value (lists: the set of their element types)."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, str):
        return TEXT
    if isinstance(value, tuple):
        return DslType("List", frozenset(type_of(v).name for v in value))
    return _VALUE_TYPES[type(value)]


_VALUE_TYPES = {
    Number: NUMBER,
    Obj: OBJECT,
    ObjectSet: OBJECT_SET,
    Point: POINT,
    Camera: CAMERA,
    View: VIEW,
    Direction: DIRECTION,
    Path: PATH,
    Image: IMAGE,
    Size: SIZE,
    Place: PLACE,
}


# ---------------------------------------------------------------------------------------------
# Attributes


@dataclass(frozen=True)
class Attribute:
    type: DslType
    doc: str
    get: Callable[[object], object] = field(repr=False)


def _metres(value: float) -> Number:
    return Number(float(value), "m")


def _goal(place: Place) -> View:
    if place.goal is None:
        raise OperationError(f"the map has no free floor near the {place.object.label} to stand on",
                             "use .position instead")
    return place.goal


ATTRIBUTES: dict[str, dict[str, Attribute]] = {
    "Size": {
        "length": Attribute(NUMBER, "longer horizontal side (m)", lambda s: s.length),
        "width": Attribute(NUMBER, "shorter horizontal side (m)", lambda s: s.width),
        "height": Attribute(NUMBER, "vertical extent (m)", lambda s: s.height),
    },
    "Path": {
        "length": Attribute(NUMBER, "length along the waypoints, on the floor plane (m)",
                            lambda p: _metres(p.length)),
        "turns": Attribute(list_of(TEXT), "turn at the start and at each via stop",
                           lambda p: tuple(p.turns)),
        "waypoints": Attribute(list_of(POINT), "corner points of the route",
                               lambda p: tuple(Point(w) for w in p.waypoints)),
        "planned": Attribute(BOOL, "True when planned on free space, False for straight segments",
                             lambda p: p.planned),
    },
    "Direction": {
        "side": Attribute(TEXT, '"left" or "right"', lambda d: d.side),
        "front_back": Attribute(TEXT, '"front" or "back"', lambda d: d.front_back),
        "quadrant": Attribute(TEXT, '"front-left", "front-right", "back-left" or "back-right"',
                              lambda d: d.quadrant),
        "label": Attribute(TEXT, "nearest of the 8 words front, front-left, left, back-left, back, ...",
                           lambda d: d.label),
        "angle": Attribute(NUMBER, "deg in (-180, 180], 0 = ahead, positive = left",
                           lambda d: Number(d.angle, "deg")),
        "distance": Attribute(NUMBER, "horizontal distance from the view to the target (m)",
                              lambda d: _metres(d.distance)),
    },
    "Point": {
        "x": Attribute(NUMBER, "world x (m)", lambda p: _metres(p.xyz[0])),
        "y": Attribute(NUMBER, "world y (m)", lambda p: _metres(p.xyz[1])),
        "z": Attribute(NUMBER, "world z, up (m)", lambda p: _metres(p.xyz[2])),
    },
    "Camera": {
        "frame": Attribute(NUMBER, "1-based frame number", lambda c: Number(c.frame_index + 1)),
        "time": Attribute(NUMBER, "seconds since the first frame", lambda c: Number(c.time, "s")),
        "stamp": Attribute(NUMBER, "stamp of the stream's clock (s)", lambda c: Number(c.stamp, "s")),
        "position": Attribute(POINT, "optical centre", lambda c: Point(c.position)),
    },
    "View": {
        "position": Attribute(POINT, "standpoint", lambda v: Point(v.position)),
        "heading": Attribute(NUMBER, "facing, deg counter-clockwise from world x",
                             lambda v: Number(math.degrees(v.heading), "deg")),
    },
    "Object": {
        "id": Attribute(NUMBER, "memory id", lambda o: Number(o.id)),
        "label": Attribute(TEXT, "the label the program asked for it by", lambda o: o.label),
        "memory_label": Attribute(TEXT, "the label stored in the memory",
                                  lambda o: o.record.label),
    },
    "Place": {
        "position": Attribute(POINT, "the object's box centre", lambda p: Point(p.position)),
        "description": Attribute(TEXT, 'e.g. "on the desk, 2.1 m from the door"',
                                 lambda p: p.description),
        "direction": Attribute(DIRECTION, "where it lies from the latest camera (angle, "
                               "distance on the floor plane)", lambda p: p.direction),
        "goal": Attribute(VIEW, "free standpoint in front of the object, facing it",
                          _goal),
    },
    "Image": {
        "width": Attribute(NUMBER, "pixels", lambda i: Number(i.rgb.shape[1], "px")),
        "height": Attribute(NUMBER, "pixels", lambda i: Number(i.rgb.shape[0], "px")),
    },
}


# ---------------------------------------------------------------------------------------------
# Plain values and text, for answers


def format_number(value: float) -> str:
    """Two decimals at most, no trailing zeros: what a person reads and a grader parses."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def place_from_camera(place: Place) -> str:
    """'1.8 m away, front-left (35 deg)' from the latest camera."""
    d = place.direction
    return f"{format_number(d.distance)} m from the camera, {d.label} ({format_number(d.angle)} deg)"


def to_plain(value: object) -> object:
    """A JSON-friendly Python value (images stay numpy arrays)."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, Number):
        v = float(value.value)
        return int(v) if value.unit == "" and v.is_integer() else v
    if isinstance(value, tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, Obj):
        return {"id": value.id, "label": value.label}
    if isinstance(value, ObjectSet):
        return [to_plain(o) for o in value.objects]
    if isinstance(value, Point):
        return [float(c) for c in value.xyz]
    if isinstance(value, Image):
        return value.rgb
    if isinstance(value, Place):
        plain = {"position": [float(c) for c in value.position], "description": value.description,
                 "direction": to_plain(value.direction)}
        if value.goal is not None:
            plain["goal"] = to_plain(value.goal)
        return plain
    fields = ATTRIBUTES[type_of(value).name]
    return {name: to_plain(attr.get(value)) for name, attr in fields.items()}


def to_text(value: object) -> str:
    """A short human-readable rendering."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, Number):
        return format_number(value.value) + (f" {value.unit}" if value.unit else "")
    if isinstance(value, tuple):
        return ", ".join(to_text(v) for v in value)
    if isinstance(value, Obj):
        return f"{value.label} (id {value.id})"
    if isinstance(value, ObjectSet):
        return ", ".join(to_text(o) for o in value.objects) or "no objects"
    if isinstance(value, Point):
        return "(" + ", ".join(format_number(c) for c in value.xyz) + ") m"
    if isinstance(value, Camera):
        return f"camera at frame {value.frame_index + 1}"
    if isinstance(value, View):
        return value.description or "view"
    if isinstance(value, Direction):
        return f"{value.label} ({format_number(value.angle)} deg)"
    if isinstance(value, Path):
        how = "" if value.planned else " (straight segments)"
        return f"{format_number(value.length)} m: " + ", ".join(value.turns) + how
    if isinstance(value, Image):
        return f"image {value.rgb.shape[1]}x{value.rgb.shape[0]} from the {value.source}"
    if isinstance(value, Size):
        return " x ".join(to_text(getattr(value, n)) for n in ("length", "width", "height"))
    if isinstance(value, Place):
        return f"{value.description}; {place_from_camera(value)}"
    raise TypeError(f"no text for {type(value).__name__}")
