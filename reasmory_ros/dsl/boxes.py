"""Relations between gravity-aligned boxes: on, under, next to, between, and footprints.

Every test reads only an object's box (centre, extent, yaw about z), so it costs the same for
every object and says exactly what it means:

- a is **on** b when a's bottom lies within SUPPORT_TOLERANCE of b's top and at least
  SUPPORT_OVERLAP of a's footprint lies over b's footprint;
- a is **under** b when at least SUPPORT_OVERLAP of the smaller footprint lies over the other and
  b's bottom is no lower than SUPPORT_TOLERANCE below a's top (b is above a: a table is under the
  cup on it; a box spans its object down to its lowest part, so nothing is "under" a table's
  top between its legs);
- a is **next to** b when their footprints are at most NEXT_TO_GAP apart, their heights overlap by
  more than SUPPORT_TOLERANCE and neither stands over the other;
- c is **between** a and b when its centre, seen from above, projects inside the segment joining
  their centres and lies within BETWEEN_MARGIN of it.
"""

from __future__ import annotations

import math

import numpy as np

from ..memory.snapshot import ObjectRecord

SUPPORT_TOLERANCE = 0.08
"""m: how far a bottom may be from a top and still rest on it (box fits of noisy depth)."""
SUPPORT_OVERLAP = 0.5
"""Fraction of a footprint that must lie over the other's for on / under."""
NEXT_TO_GAP = 0.5
"""m: largest gap between two footprints (seen from above) that still counts as next to."""
BETWEEN_MARGIN = 0.5
"""m: largest distance of a centre from the line joining two others that still counts as between."""
_SAMPLES = 7
"""Footprints are sampled on a 7 x 7 grid to measure how much of one lies over another."""


def bottom(record: ObjectRecord) -> float:
    return float(record.center[2] - record.extent[2] / 2)


def top(record: ObjectRecord) -> float:
    return float(record.center[2] + record.extent[2] / 2)


def footprint_area(record: ObjectRecord) -> float:
    return float(record.extent[0] * record.extent[1])


def volume(record: ObjectRecord) -> float:
    return float(np.prod(record.extent))


def _to_local(record: ObjectRecord, xy: np.ndarray) -> np.ndarray:
    """Floor points in the box's own frame (x along its length)."""
    c, s = math.cos(record.yaw), math.sin(record.yaw)
    d = np.asarray(xy, dtype=np.float64).reshape(-1, 2) - np.asarray(record.center[:2])
    return np.column_stack([d[:, 0] * c + d[:, 1] * s, -d[:, 0] * s + d[:, 1] * c])


def footprint_distance(record: ObjectRecord, xy: np.ndarray) -> np.ndarray:
    """Distance (N,) of floor points from the box's footprint (0 inside)."""
    outside = np.abs(_to_local(record, xy)) - np.asarray(record.extent[:2]) / 2
    return np.linalg.norm(np.clip(outside, 0.0, None), axis=1)


def _footprint_samples(record: ObjectRecord) -> np.ndarray:
    t = (np.arange(_SAMPLES) + 0.5) / _SAMPLES - 0.5
    local = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2) * record.extent[:2]
    c, s = math.cos(record.yaw), math.sin(record.yaw)
    return local @ np.array([[c, s], [-s, c]]) + np.asarray(record.center[:2])


def overlap_fraction(a: ObjectRecord, b: ObjectRecord) -> float:
    """Fraction of a's footprint that lies over b's footprint."""
    return float((footprint_distance(b, _footprint_samples(a)) <= 1e-9).mean())


def footprint_gap(a: ObjectRecord, b: ObjectRecord) -> float:
    """Horizontal gap between two footprints (0 when they touch or overlap): the smallest
    distance of one's outline samples from the other's footprint, both ways."""
    def outline(record: ObjectRecord) -> np.ndarray:
        t = np.linspace(-0.5, 0.5, 9)
        ones = np.full_like(t, 0.5)
        local = np.vstack([np.column_stack([t, s * ones]) for s in (-1, 1)]
                          + [np.column_stack([s * ones, t]) for s in (-1, 1)]) * record.extent[:2]
        c, s = math.cos(record.yaw), math.sin(record.yaw)
        return local @ np.array([[c, s], [-s, c]]) + np.asarray(record.center[:2])

    return float(min(footprint_distance(b, outline(a)).min(), footprint_distance(a, outline(b)).min()))


def rests_on(a: ObjectRecord, b: ObjectRecord) -> bool:
    return (abs(bottom(a) - top(b)) <= SUPPORT_TOLERANCE
            and overlap_fraction(a, b) >= SUPPORT_OVERLAP)


def is_under(a: ObjectRecord, b: ObjectRecord) -> bool:
    if bottom(b) < top(a) - SUPPORT_TOLERANCE:  # the cheap test first: most pairs stop here
        return False
    smaller, larger = (a, b) if footprint_area(a) <= footprint_area(b) else (b, a)
    return overlap_fraction(smaller, larger) >= SUPPORT_OVERLAP


def _far_apart(a: ObjectRecord, b: ObjectRecord, gap: float) -> bool:
    """Whether the footprints' axis-aligned bounds are more than `gap` apart (a cheap first test)."""
    ca, cb = a.corners()[:4, :2], b.corners()[:4, :2]
    apart = np.maximum(0.0, np.maximum(ca.min(axis=0) - cb.max(axis=0), cb.min(axis=0) - ca.max(axis=0)))
    return float(np.hypot(*apart)) > gap


def is_next_to(a: ObjectRecord, b: ObjectRecord) -> bool:
    if min(top(a), top(b)) - max(bottom(a), bottom(b)) <= SUPPORT_TOLERANCE or _far_apart(a, b, NEXT_TO_GAP):
        return False
    stacked = max(overlap_fraction(a, b), overlap_fraction(b, a)) >= SUPPORT_OVERLAP
    return not stacked and footprint_gap(a, b) <= NEXT_TO_GAP


RELATIONS = {"on": rests_on, "under": is_under, "next to": is_next_to}
"""Relation word -> test(a, b): "a is <word> b"."""


def maybe_related(records, other: ObjectRecord, relation: str) -> np.ndarray:
    """A cheap vectorised pre-test (N,) over many records: False where "record <relation> other"
    cannot hold, from heights and the footprints' axis-aligned bounds only; the exact test runs on
    the rest."""
    if not records:
        return np.zeros(0, dtype=bool)
    centre = np.array([r.center for r in records], dtype=np.float64)
    extent = np.array([r.extent for r in records], dtype=np.float64)
    yaw = np.array([r.yaw for r in records], dtype=np.float64)
    c, s = np.abs(np.cos(yaw)), np.abs(np.sin(yaw))
    half = np.column_stack([c * extent[:, 0] + s * extent[:, 1], s * extent[:, 0] + c * extent[:, 1]]) / 2
    oc, os_ = abs(math.cos(other.yaw)), abs(math.sin(other.yaw))
    ohalf = np.array([oc * other.extent[0] + os_ * other.extent[1], os_ * other.extent[0] + oc * other.extent[1]]) / 2
    gap = np.linalg.norm(np.maximum(0.0, np.abs(centre[:, :2] - other.center[:2]) - half - ohalf), axis=1)
    low, high = centre[:, 2] - extent[:, 2] / 2, centre[:, 2] + extent[:, 2] / 2
    if relation == "next to":
        return (gap <= NEXT_TO_GAP) & (np.minimum(high, top(other)) - np.maximum(low, bottom(other)) > SUPPORT_TOLERANCE)
    touching = gap <= 0.0
    if relation == "on":
        return touching & (np.abs(low - top(other)) <= SUPPORT_TOLERANCE)
    return touching & (bottom(other) >= high - SUPPORT_TOLERANCE)


def between_position(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> float | None:
    """Where c's centre lies along a -> b (0..1, seen from above) when it is between them, else
    None."""
    ab = np.asarray(b[:2], float) - np.asarray(a[:2], float)
    length = float(np.hypot(*ab))
    if length < 1e-6:
        return None
    ac = np.asarray(c[:2], float) - np.asarray(a[:2], float)
    t = float(ac @ ab) / length ** 2
    lateral = abs(float(ac[0] * ab[1] - ac[1] * ab[0])) / length
    return t if 0.0 < t < 1.0 and lateral <= BETWEEN_MARGIN else None
