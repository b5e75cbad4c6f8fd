"""Operations one by one against the known room's geometry."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest
from known_room import BOXES, FPS, K, box, box_gap, camera_positions

from reasmory_ros.dsl import OPERATIONS, run
from reasmory_ros.memory.snapshot import SceneMap

SINGLE = ["sofa", "potted_plant", "Coffee Table", "tv", "lamp", "bookshelf"]


def value(program: str, snapshot):
    return run(program, snapshot).value


def the(label: str) -> str:
    return f'the(objects("{label}"))'


@pytest.mark.parametrize("a,b", list(itertools.combinations(SINGLE, 2)))
def test_closest_and_centre_distances(snapshot, a, b):
    closest = value(f"answer(distance({the(a)}, {the(b)}))", snapshot)
    assert closest == pytest.approx(box_gap(box(a), box(b)), abs=0.04)
    centre = value(f'answer(distance({the(a)}, {the(b)}, mode="center"))', snapshot)
    assert centre == pytest.approx(np.linalg.norm(np.subtract(box(a).center, box(b).center)))


def test_distance_answer_touches_objects_and_the_measured_segment(snapshot):
    answer = run(f"answer(distance({the('sofa')}, {the('tv')}))", snapshot)
    assert answer.unit == "m" and answer.kind == "Number"
    assert answer.touched.object_ids == (10, 13)
    (segment,) = answer.touched.segments
    assert segment.start[1] == pytest.approx(box("sofa").hi[1], abs=1e-6)
    assert segment.end[1] == pytest.approx(box("tv").lo[1], abs=1e-6)
    assert json.loads(json.dumps(answer.to_dict()))["touched"]["object_ids"] == [10, 13]


def test_nearest_farthest_largest_smallest(snapshot):
    chairs = [b for b in BOXES if b.label == "chair"]
    ids = {id(b): 10 + BOXES.index(b) for b in BOXES}
    to_tv = sorted(chairs, key=lambda b: box_gap(b, box("tv")))
    assert value(f'answer(nearest(objects("chair"), to={the("tv")}).id)', snapshot) == \
        ids[id(to_tv[0])]
    assert value(f'answer(farthest(objects("chair"), to={the("tv")}).id)', snapshot) == \
        ids[id(to_tv[-1])]
    listed = ("sofa", "potted_plant", "Coffee Table", "tv", "lamp", "bookshelf")
    volume = {b.label: float(np.prod(b.size_xyz)) for b in BOXES if b.label in listed}
    everything = 'objects(["sofa", "potted plant", "coffee table", "tv", "lamp", "bookshelf"])'
    assert value(f"answer(largest({everything}).label)", snapshot) == "sofa"
    assert max(volume, key=volume.get) == "sofa"
    assert value(f"answer(smallest({everything}).memory_label)", snapshot) == \
        min(volume, key=volume.get)


def test_nearest_to_a_camera_and_labels_as_asked(snapshot):
    positions, _ = camera_positions()
    at_frame_1 = positions[0]
    gaps = {b.label: np.linalg.norm(np.maximum(0, np.maximum(b.lo - at_frame_1,
                                                             at_frame_1 - b.hi)))
            for b in BOXES if b.label in ("sofa", "tv", "lamp")}
    answer = run('answer(nearest(objects(["couch", "television", "lamp"]), '
                 'to=camera(frame=1)))', snapshot)
    asked = {"sofa": "couch", "tv": "television", "lamp": "lamp"}
    assert answer.value["label"] == asked[min(gaps, key=gaps.get)]
    assert answer.touched.cameras[0].frame == 1


def test_sizes(snapshot):
    size = value(f"answer(size({the('bookshelf')}))", snapshot)
    assert size == pytest.approx({"length": 1.2, "width": 0.3, "height": 2.0})
    assert value(f"answer(height({the('lamp')}))", snapshot) == pytest.approx(1.6)
    assert value(f"answer(longest_dimension({the('sofa')}))", snapshot) == pytest.approx(2.0)


def test_room_measures(snapshot):
    assert value("answer(room_area())", snapshot) == pytest.approx(30.0, rel=0.01)
    assert value('answer(room_area(method="footprint"))', snapshot) == pytest.approx(30.0,
                                                                                   rel=0.01)
    dims = value("answer(room_dimensions())", snapshot)
    assert dims == pytest.approx({"length": 6.0, "width": 5.0, "height": 2.6}, abs=0.05)


def with_map(snapshot, points: np.ndarray):
    colors = np.full((len(points), 3), 128, np.uint8)
    return dataclasses.replace(snapshot, scene_map=SceneMap(points.astype(np.float32), colors,
                                                            0.1))


def test_footprint_area_follows_an_l_shaped_room(snapshot):
    """The 6 x 5 m room without its 3 x 2 m north-east corner: 24 m2 inside, hull 27 m2."""
    xs, ys = np.meshgrid(np.arange(0, 6.01, 0.1), np.arange(0, 5.01, 0.1), indexing="ij")
    floor = np.column_stack([xs.ravel(), ys.ravel()])
    floor = floor[~((floor[:, 0] > 3.0 + 1e-6) & (floor[:, 1] > 3.0 + 1e-6))]
    outline = floor[(floor[:, 0] < 1e-6) | (floor[:, 0] > 6 - 1e-6) | (floor[:, 1] < 1e-6)
                    | (floor[:, 1] > 5 - 1e-6) | (np.abs(floor[:, 0] - 3) < 1e-6)
                    & (floor[:, 1] > 3 - 1e-6) | (np.abs(floor[:, 1] - 3) < 1e-6)
                    & (floor[:, 0] > 3 - 1e-6)]
    walls = np.vstack([np.column_stack([outline, np.full(len(outline), z)])
                       for z in np.arange(0.1, 2.5, 0.1)])
    room = with_map(snapshot, np.vstack([np.column_stack([floor, np.zeros(len(floor))]), walls]))
    assert value('answer(room_area(method="footprint"))', room) == pytest.approx(24.0, rel=0.02)
    assert value("answer(room_area())", room) == pytest.approx(27.0, rel=0.02)


def test_room_area_ignores_a_stray_cluster(snapshot):
    stray = np.array([[9.0 + 0.1 * i, 9.0, 1.0] for i in range(5)])
    noisy = with_map(snapshot, np.vstack([snapshot.scene_map.points, stray]))
    assert value("answer(room_area())", noisy) == pytest.approx(30.0, rel=0.01)
    assert value('answer(room_area(method="footprint"))', noisy) == pytest.approx(30.0, rel=0.01)


@pytest.mark.parametrize("program,expected", [
    ('answer(to_unit(distance(point(0, 0), point(1, 0)), "cm"))', (100.0, "cm")),
    ('answer(to_unit(distance(point(0, 0), point(1, 0)), "ft"))', (1 / 0.3048, "ft")),
    ('answer(to_unit(distance(point(0, 0), point(0, 0, 2.54)), "inches"))', (100.0, "in")),
    ('answer(to_unit(room_area(method="hull"), "ft2"))', (30.0 / 0.3048 ** 2, "ft2")),
    ('answer(to_unit(direction(view_from(point(0, 0), facing=point(1, 0)), point(0, 1)).angle,'
     ' "rad"))', (math.pi / 2, "rad")),
    ('answer(to_unit(3, "mm"))', (3000.0, "mm")),
    ('answer(to_unit(camera(frame=31).time, "min"))', (3.0 / 60, "min")),
])
def test_unit_conversion(snapshot, program, expected):
    answer = run(program, snapshot)
    assert (answer.value, answer.unit) == (pytest.approx(expected[0], rel=1e-3), expected[1])


@pytest.mark.parametrize("angle", [0, 30, 44, 60, 90, 120, 136, 170, 180, -170, -100, -46, -30])
def test_direction_fields_follow_the_angle(snapshot, angle):
    """Stand at the origin facing +x; a target at `angle` deg counter-clockwise is to the left
    for positive angles (z up, seen from above)."""
    target = (math.cos(math.radians(angle)), math.sin(math.radians(angle)))
    d = value(f"answer(direction(view_from(point(0, 0), facing=point(1, 0)), "
              f"point({target[0]:.9f}, {target[1]:.9f})))", snapshot)
    assert d["angle"] == pytest.approx(angle, abs=1e-6)
    assert d["distance"] == pytest.approx(1.0)
    assert d["side"] == ("left" if 0 < angle < 180 else "right")
    assert d["front_back"] == ("front" if abs(angle) <= 90 else "back")
    assert d["quadrant"] == f"{d['front_back']}-{d['side']}"
    words = {0: "front", 45: "front-left", 90: "left", 135: "back-left", 180: "back",
             -135: "back-right", -90: "right", -45: "front-right"}
    assert d["label"] == words[min(words, key=lambda w: abs((angle - w + 180) % 360 - 180))]
    if angle == 0:
        return  # exactly ahead is as far from "left" as from "right": the first listed wins
    picked = value(f"d = direction(view_from(point(0, 0), facing=point(1, 0)), "
                   f"point({target[0]:.9f}, {target[1]:.9f}))\n"
                   f'answer(direction_label(d, among=["left", "right", "back"]))', snapshot)
    assert picked == ("back" if abs(angle) > 135 else ("left" if angle > 0 else "right"))


def test_to_view_coordinates(snapshot):
    local = value(f"v = view_from({the('sofa')}, facing={the('tv')})\n"
                  "answer(to_view(v, point(2.5, 2.0, 1.0)))", snapshot)
    # facing +y from (1.5, 1.0, 0.4): forward = dy, left = -dx, up = dz
    assert local == pytest.approx([1.0, -1.0, 0.6])


def test_camera_by_frame_time_and_name(snapshot):
    positions, headings = camera_positions()
    assert value("answer(camera(frame=31).time)", snapshot) == pytest.approx(3.0)
    assert value("answer(camera(time=3.04).frame)", snapshot) == 31
    assert value('answer(camera("current").frame)', snapshot) == 100
    assert value('answer(camera("first").position)', snapshot) == pytest.approx(positions[0])
    assert value(f"answer(first_seen({the('tv')}).frame)", snapshot) == box("tv").first_seen + 1
    heading = value("answer(view_from(camera(frame=70)).heading)", snapshot)
    assert heading == pytest.approx(math.degrees(headings[69]))
    assert value("answer(camera(frame=100).time)", snapshot) == pytest.approx(99 / FPS)


def test_camera_heading_ignores_pitch(snapshot):
    """The fixture's cameras look 15 deg down; the heading is the optical axis on the floor."""
    assert value("answer(view_from(camera(frame=1)).heading)", snapshot) == pytest.approx(90.0)


def test_visible_in_projects_box_centres(snapshot):
    """At frame 1 the camera stands at (3, 0.8, 1.5) looking north, 15 deg down, with a
    +-31.4 deg horizontal field of view (atan(320 / 525)): the tv (20 deg left) and the far chair
    (26 deg right) are in view; the lamp (35 deg left) and everything beside or behind are not."""
    half_fov = math.degrees(math.atan(K[0, 2] / K[0, 0]))
    position = camera_positions()[0][0]
    expected = set()
    for i, b in enumerate(BOXES):
        dx, dy = np.subtract(b.center, position)[:2]
        if dy > 0 and abs(math.degrees(math.atan2(dx, dy))) < half_fov:
            expected.add(10 + i)
    seen = value('answer(visible_in(objects(["sofa", "potted plant", "coffee table", "tv", '
                 '"lamp", "chair", "bookshelf"]), camera(frame=1)))', snapshot)
    assert {o["id"] for o in seen} == expected == {13, 18}
    filtered = value('answer(count(filter(objects("chair"), visible_in=camera(frame=1))))',
                     snapshot)
    assert filtered == 1


def test_appearance_order_uses_earliest_instance_and_keeps_asked_words(snapshot):
    order = value('answer(appearance_order(["chairs", "television", "couch", "plant"]))',
                  snapshot)
    assert order == ["couch", "plant", "television", "chairs"]


def test_appearance_order_takes_a_label_the_detector_gave_to_another_record(snapshot):
    """A chair whose first views went into the couch's record (one mask over both) was first
    called a chair right after the couch was first seen: that sighting counts for "chairs"."""
    couch = next(o for o in snapshot.objects if o.label == "sofa")
    early = (couch.first_seen_frame + 1, couch.first_seen_time + 0.1)
    assert early < min((o.first_seen_frame, o.first_seen_time) for o in snapshot.objects
                       if o.label in ("chair", "plant", "tv"))
    merged = dataclasses.replace(couch, first_called={"sofa": (couch.first_seen_frame, couch.first_seen_time),
                                                      "chair": early})
    objects = tuple(merged if o is couch else o for o in snapshot.objects)
    order = value('answer(appearance_order(["chairs", "television", "couch", "plant"]))',
                  dataclasses.replace(snapshot, objects=objects))
    assert order == ["couch", "chairs", "plant", "television"]


def test_camera_motion(snapshot):
    positions, _ = camera_positions()
    moved = value("answer(displacement(camera(frame=10), camera(frame=80)))", snapshot)
    assert moved == pytest.approx(np.linalg.norm(positions[79] - positions[9]))
    d = value("answer(movement_direction(camera(frame=1), camera(frame=100)))", snapshot)
    dx, dy = (positions[99] - positions[0])[:2]
    assert d["angle"] == pytest.approx(math.degrees(math.atan2(-dx, dy)))  # heading north
    assert d["side"] == "right"


@pytest.mark.parametrize("facing,goal,turn", [
    ("point(3, 4)", "point(3, 4)", "go forward"),
    ("point(3, 0)", "point(3, 4)", "turn back"),
    ("point(3, 4)", "point(1, 1.6)", "turn left"),
    ("point(3, 4)", "point(5, 1.6)", "turn right"),
])
def test_route_start_turns(snapshot, facing, goal, turn):
    path = run(f"answer(route(point(3, 1.5), {goal}, facing={facing}))", snapshot)
    assert path.value["turns"] == [turn]
    assert path.value["planned"]


def test_route_length_is_at_least_the_straight_line_and_ends_at_the_stops(snapshot):
    path = run(f"answer(route({the('potted plant')}, {the('bookshelf')}, "
               f"via=[{the('tv')}, camera(frame=60)]))", snapshot)
    waypoints = np.array(path.value["waypoints"])
    stops = [box("potted_plant").center, box("tv").center, camera_positions()[0][59],
             box("bookshelf").center]
    straight = sum(np.linalg.norm(np.subtract(a, b)[:2]) for a, b in zip(stops, stops[1:]))
    assert path.value["length"] >= straight - 1e-6
    assert path.value["length"] < straight * 1.5
    assert waypoints[0][:2] == pytest.approx(stops[0][:2])
    assert waypoints[-1][:2] == pytest.approx(stops[-1][:2])
    assert len(path.value["turns"]) == 3
    assert path.touched.paths and len(path.touched.object_ids) == 3


def test_route_waypoints_stay_off_the_furniture(snapshot):
    path = run("answer(route(point(1.5, 0.2), point(1.5, 3.2)))", snapshot).raw
    for a, b in zip(path.waypoints, path.waypoints[1:]):
        for t in np.linspace(0, 1, 50):
            x, y = (a + t * (b - a))[:2]
            for furniture in ("sofa", "Coffee Table"):
                lo, hi = box(furniture).lo, box(furniture).hi
                assert not (lo[0] < x < hi[0] and lo[1] < y < hi[1]), (x, y, furniture)


def test_render_keyframe_and_map(snapshot):
    keyframe = run("answer(render(camera(frame=61)))", snapshot)
    assert keyframe.raw.source == "keyframe" and keyframe.value.shape == (120, 160, 3)
    rendered = run("answer(render(camera(frame=2)))", snapshot).raw
    assert rendered.source == "map" and rendered.rgb.shape == (480, 640, 3)
    position = camera_positions()[0][1]
    wall_depth = (5.0 - position[1]) / math.cos(math.radians(15))
    assert rendered.depth[240, 320] == pytest.approx(wall_depth, abs=0.1)


def test_render_keeps_the_nearest_surface(snapshot):
    """From the sofa facing the tv, the tv's front face hides the wall 5 cm behind it."""
    image = run(f"answer(render(view_from({the('sofa')}, facing={the('tv')})))", snapshot).raw
    front = np.array([1.5, 4.8, 1.2])
    camera = np.linalg.inv(image.T_world_camera) @ np.append(front, 1.0)
    u = int(image.K[0, 0] * camera[0] / camera[2] + image.K[0, 2])
    v = int(image.K[1, 1] * camera[1] / camera[2] + image.K[1, 2])
    assert image.depth[v, u] == pytest.approx(4.8 - 1.0, abs=0.03)
    assert tuple(image.rgb[v, u]) == (60, 60, 60)


def test_position_point_and_count_of_a_list(snapshot):
    assert value(f"answer(position({the('lamp')}))", snapshot) == pytest.approx(
        list(box("lamp").center))
    assert value("answer(point(1, 2))", snapshot) == [1.0, 2.0, 0.0]
    assert value("answer(count(route(point(3, 1), point(3, 4), via=[point(4, 2)]).turns))",
                 snapshot) == 2
    assert value("answer(object(13).label)", snapshot) == "tv"


def test_every_operation_is_documented_and_typed():
    for op in OPERATIONS.values():
        assert op.doc and op.category and op.returns
        assert all(p.doc and p.types for p in op.params)
