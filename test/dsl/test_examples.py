"""Every example program of docs/dsl.md runs on the known room and matches its geometry."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from known_room import BOXES, FPS, IMAGE_SIZE, T0, K, box, box_gap, camera_pose, camera_positions

from reasmory_ros.dsl import run

DOC = Path(__file__).resolve().parents[2] / "docs" / "dsl.md"


def doc_examples() -> list[tuple[str, str]]:
    """(section title, program) for each ```dsl block under the examples heading, in order."""
    text = DOC.read_text().split("## Examples by question type", 1)[1]
    examples = []
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        title = section.splitlines()[0].strip()
        examples += [(title, code) for code in re.findall(r"```dsl\n(.*?)```", section, re.S)]
    return examples


def angle_seen(origin, facing, target) -> float:
    """Signed angle (deg, + = left) of target from origin facing `facing`: cross and dot of the
    two floor vectors, independent of the DSL's own heading arithmetic."""
    f = np.subtract(facing, origin)[:2]
    d = np.subtract(target, origin)[:2]
    return math.degrees(math.atan2(f[0] * d[1] - f[1] * d[0], f @ d))


def turn(f, d) -> str:
    cos = (f @ d) / np.linalg.norm(f) / np.linalg.norm(d)
    if cos >= math.cos(math.radians(45)):
        return "go forward"
    if cos < math.cos(math.radians(135)):
        return "turn back"
    return "turn left" if f[0] * d[1] - f[1] * d[0] > 0 else "turn right"


def point_box_distance(p, b) -> float:
    return float(np.linalg.norm(np.maximum(0, np.maximum(b.lo - p, p - b.hi))))


def c(label):
    return np.array(box(label).center)


positions, headings = camera_positions()
ID = {id(b): 10 + i for i, b in enumerate(BOXES)}


def footprint_gap(a, b) -> float:
    return float(np.linalg.norm(np.maximum(0.0, np.maximum(a.lo - b.hi, b.lo - a.hi))[:2]))


def overlap(a, b) -> float:
    """Fraction of a's footprint over b's (axis-aligned)."""
    sides = np.clip(np.minimum(a.hi, b.hi) - np.maximum(a.lo, b.lo), 0, None)[:2]
    return float(np.prod(sides) / np.prod(np.subtract(a.hi, a.lo)[:2]))


def plain(boxes) -> list[dict]:
    return [{"id": ID[id(b)], "label": b.label} for b in boxes]


def seconds_in_view(b) -> float:
    """Frames whose pinhole image holds the box centre (in front, within 10 m), 1/FPS each but
    the last."""
    seen = 0
    for f in range(len(positions) - 1):
        pose = camera_pose(positions[f], headings[f])
        x, y, z = (np.array(b.center) - pose[:3, 3]) @ pose[:3, :3]
        u, v = K[0, 0] * x / z + K[0, 2], K[1, 1] * y / z + K[1, 2]
        seen += bool(0.1 < z < 10 and 0 <= u < IMAGE_SIZE[0] and 0 <= v < IMAGE_SIZE[1])
    return seen / FPS


def depth_range(b, pose) -> tuple[float, float]:
    """Nearest and farthest depth of a box's corners along the camera's optical axis."""
    corners = np.array([[x, y, z] for x in (b.lo[0], b.hi[0]) for y in (b.lo[1], b.hi[1]) for z in (b.lo[2], b.hi[2])])
    depth = (corners - pose[:3, 3]) @ pose[:3, 2]
    return float(depth.min()), float(depth.max())


def expected_answers() -> dict[str, list]:
    """Ground truth per example section, in the order of the section's programs."""
    chairs = [b for b in BOXES if b.label == "chair"]
    candidates = [box("tv"), box("lamp"), *chairs, box("bookshelf")]
    closest = min(candidates, key=lambda b: box_gap(b, box("sofa")))
    medium = angle_seen(c("tv"), c("sofa"), c("bookshelf"))
    hard = angle_seen(c("Coffee Table"), c("tv"), c("potted_plant"))
    shelf_at_70 = angle_seen(positions[69], positions[69] + [1.0, 0, 0], c("bookshelf"))
    moved = angle_seen(positions[0], positions[0] + [0, 1.0, 0], positions[99])
    table_depth, tv_depth = (depth_range(box(k), camera_pose(positions[59], headings[59])) for k in ("Coffee Table", "tv"))
    first = {}
    for b in BOXES:
        first[b.label] = min(first.get(b.label, 10**9), b.first_seen)
    return {
        "Counting": [len(chairs),
                     sum(box_gap(ch, box("bookshelf")) <= 1.0 for ch in chairs)],
        "Absolute distance": [pytest.approx(box_gap(box("sofa"), box("tv")), abs=0.05)],
        "Object size": [pytest.approx(100 * max(box("Coffee Table").size_xyz), abs=0.5),
                        pytest.approx(box("bookshelf").size_xyz[2], abs=1e-6)],
        "Room size": [pytest.approx(6.0 * 5.0, rel=0.02), pytest.approx(6.0, abs=0.1)],
        "Relative distance": [closest.label],
        "Relative direction (easy)": [
            "left" if angle_seen(c("sofa"), c("tv"), c("lamp")) > 0 else "right"],
        "Relative direction (medium)": [
            "back" if abs(medium) > 135 else ("left" if medium > 0 else "right")],
        "Relative direction (hard)": [
            ("front" if abs(hard) < 90 else "back") + "-" + ("left" if hard > 0 else "right")],
        "Route plan": [[turn(c("tv") - c("sofa"), c("Coffee Table") - c("sofa")),
                        turn(c("Coffee Table") - c("sofa"), c("bookshelf") - c("Coffee Table"))]],
        "Appearance order": [sorted(["chair", "tv", "sofa", "lamp"], key=first.get)],
        "Camera displacement": [
            pytest.approx(np.linalg.norm(positions[99] - positions[0]), abs=1e-6),
            pytest.approx(np.linalg.norm(np.diff(positions, axis=0), axis=1).sum(), abs=1e-6)],
        "Camera-object distance": [pytest.approx(point_box_distance(positions[19], box("tv")),
                                                 abs=0.05)],
        "Camera movement direction": ["left" if moved > 0 else "right"],
        "Object relative to the camera": ["left" if shelf_at_70 > 0 else "right"],
        "Object relative to another object": ["near" if table_depth[1] + 0.15 < tv_depth[0] else "far"],
        **everyday_answers(),
    }


def everyday_answers() -> dict[str, list]:
    """Ground truth of the everyday sections, from the boxes and the rules stated in docs/dsl.md."""
    sofa, lamp, cup, table, shelf = (box(x) for x in ("sofa", "lamp", "cup", "Coffee Table", "bookshelf"))
    others = [b for b in BOXES if b is not sofa]
    landmarks = [b for b in BOXES if b is not lamp
                 and (np.prod(b.size_xyz[:2]) >= 0.3 or b.size_xyz[2] >= 1.0)]
    landmark = min(landmarks, key=lambda b: box_gap(lamp, b))
    line = np.subtract(box("tv").center, sofa.center)[:2]
    along = {id(b): float(np.subtract(b.center, sofa.center)[:2] @ line / (line @ line)) for b in BOXES}
    offsets = {id(b): np.subtract(b.center, sofa.center)[:2] for b in BOXES}
    lateral = {k: abs(line[0] * d[1] - line[1] * d[0]) / np.linalg.norm(line) for k, d in offsets.items()}
    between = sorted((b for b in others if b is not box("tv") and 0 < along[id(b)] < 1 and lateral[id(b)] <= 0.5),
                     key=lambda b: along[id(b)])
    next_to = [b for b in others if footprint_gap(b, sofa) <= 0.5
               and min(b.hi[2], sofa.hi[2]) - max(b.lo[2], sofa.lo[2]) > 0.08
               and max(overlap(b, sofa), overlap(sofa, b)) < 0.5]
    counts = {}
    for b in BOXES:
        counts[b.label] = counts.get(b.label, 0) + 1
    on_table = [b for b in BOXES if abs(b.lo[2] - table.hi[2]) <= 0.08 and overlap(b, table) >= 0.5]
    under_cup = [b for b in BOXES if b is not cup and cup.lo[2] >= b.hi[2] - 0.08
                 and overlap(*sorted((b, cup), key=lambda x: np.prod(x.size_xyz[:2]))) >= 0.5]
    chairs = [b for b in BOXES if b.label == "chair"]
    return {
        "Where things are": [f"on the floor, {box_gap(lamp, landmark):.2f} m from the {landmark.label}",
                             pytest.approx(list(lamp.center)), "front"],
        "Surroundings": [min(others, key=lambda b: box_gap(b, sofa)).label,
                         sum(box_gap(b, sofa) <= 1.5 for b in others), plain(next_to), plain(between)],
        "Comparisons": [max((lamp, shelf), key=lambda b: b.size_xyz[2]).label,
                        min((lamp, shelf), key=lambda b: point_box_distance(positions[-1], b)).label,
                        bool(np.prod(sofa.size_xyz) > np.prod(table.size_xyz)),
                        pytest.approx(np.prod(sofa.size_xyz[:2])), pytest.approx(np.prod(shelf.size_xyz))],
        "Inventory": [[f"{k}: {n}" for k, n in sorted(counts.items(), key=lambda c: (-c[1], c[0]))],
                      len(BOXES), "piano" in counts],
        "Support relations": [plain(on_table), plain(under_cup), table.label, cup in on_table],
        "Time and path": [len(positions), pytest.approx(T0 + (len(positions) - 1) / FPS),
                          max(BOXES, key=lambda b: b.first_seen).label,
                          pytest.approx(seconds_in_view(box("tv"))),
                          pytest.approx((len(positions) - 1) / FPS)],
        "Referring to one of several": [ID[id(min(chairs, key=lambda b: box_gap(b, shelf)))],
                                        ID[id(min(chairs, key=lambda b: b.first_seen))]],
        "Colour": [sofa.color],
    }


def test_every_section_has_ground_truth():
    titles = {title for title, _ in doc_examples()}
    assert titles - {"Rendering a view for a vision model"} == set(expected_answers())


@pytest.mark.parametrize("title,program", doc_examples(),
                         ids=[f"{t}-{i}" for i, (t, _) in enumerate(doc_examples())])
def test_doc_example_matches_geometry(snapshot, title, program):
    answer = run(program, snapshot)
    if title == "Rendering a view for a vision model":
        assert answer.kind == "Image" and answer.value.shape == (480, 640, 3)
        assert answer.value.any(), "the room should be visible"
        return
    programs = [p for t, p in doc_examples() if t == title]
    expected = expected_answers()[title][programs.index(program)]
    assert answer.value == expected, answer.text


def test_route_is_planned_around_the_furniture(snapshot):
    path = run('path = route(the(objects("sofa")), the(objects("tv")), '
               'facing=the(objects("tv")))\nanswer(path)', snapshot).raw
    straight = np.linalg.norm(c("tv")[:2] - c("sofa")[:2])
    assert path.planned
    assert straight < path.length < straight + 1.5, "detour around the coffee table only"
    assert path.turns == ("go forward",)
