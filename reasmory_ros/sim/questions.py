"""Spatial questions with ground-truth answers, computed from a recording's ground truth.

Question types and phrasings follow VSI-Bench and VSTI-Bench, mixed with everyday paraphrases so
that a planner cannot rely on one template. Answers are computed from the scene geometry and the
camera path with the conventions below (the DSL implements the same ones):

- distances in metres between the closest points of two objects' surfaces (dense surface
  samples), or between GT box centres where the question says "centers";
- object size: the longest side of the GT box, in centimetres; room size: floor area in m^2;
- directions are horizontal angles, 0 = ahead, positive = counter-clockwise = left;
- frame numbers in the text count colour images from 1 in bag order.

Only unambiguous questions are asked: categories whose instances were all seen, unique
categories wherever a question names "the X", and angles or distances clear of class boundaries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations, permutations
from pathlib import Path

import numpy as np

from .catalogue import FURNITURE
from .ground_truth import GroundTruth
from .scene import SceneObject

ANGLE_MARGIN = 15.0
"""Degrees an angle must stay away from a class boundary (left/right, quadrant, turn) to be asked."""
MIN_SEEN_FRAMES = 3
"""A category is asked about only if each of its instances was seen in at least this many frames."""

QUESTION_TYPES = (
    "object_counting",
    "object_abs_distance",
    "object_size_estimation",
    "room_size_estimation",
    "object_rel_distance",
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
    "route_planning",
    "obj_appearance_order",
    "camera_displacement",
    "camera_object_distance",
    "camera_movement_direction",
    "object_position_relative_to_camera",
)
MULTIPLE_CHOICE = frozenset({
    "object_rel_distance", "object_rel_direction_easy", "object_rel_direction_medium",
    "object_rel_direction_hard", "route_planning", "obj_appearance_order", "camera_movement_direction",
    "object_position_relative_to_camera",
})


@dataclass(frozen=True)
class Question:
    """One question; `answer` is a number (in the unit the text asks for) or the correct option."""

    id: str
    type: str
    question: str
    answer: int | float | str
    options: list[str] | None = None
    meta: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        row: dict = {"id": self.id, "type": self.type, "question": self.question}
        if self.options is not None:
            row["options"] = list(self.options)
        row["answer"] = self.answer
        row["meta"] = self.meta
        return row


# ----------------------------------------------------------------------------------------------
# Ground-truth conventions (public so tests and tools share them)


def horizontal_angle(origin: np.ndarray, facing: np.ndarray, target: np.ndarray) -> float:
    """Angle (deg, (-180, 180]) of `target` seen from `origin` looking along horizontal `facing`;
    0 = straight ahead, positive = counter-clockwise = to the left."""
    rel = np.asarray(target, dtype=np.float64)[:2] - np.asarray(origin, dtype=np.float64)[:2]
    ahead = math.atan2(facing[1], facing[0])
    angle = math.degrees(math.atan2(rel[1], rel[0]) - ahead)
    angle = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if angle == -180.0 else angle


def _clear(angle: float, boundaries: Iterable[float]) -> bool:
    return all(abs((angle - b + 180.0) % 360.0 - 180.0) >= ANGLE_MARGIN for b in boundaries)


DIRECTION_OPTIONS = {
    "easy": ["left", "right"],
    "medium": ["left", "right", "back"],
    "hard": ["front-left", "front-right", "back-left", "back-right"],
}
_DIRECTION_BOUNDARIES = {"easy": (0.0, 180.0), "medium": (0.0, 135.0, -135.0), "hard": (0.0, 90.0, -90.0, 180.0)}


def direction_option(angle: float, level: str) -> str | None:
    """The direction class of an angle for a difficulty level, None within ANGLE_MARGIN of a boundary.

    easy: left/right; medium: left/right/back (back beyond 135 deg); hard: quadrants.
    """
    if not _clear(angle, _DIRECTION_BOUNDARIES[level]):
        return None
    side = "left" if angle > 0 else "right"
    if level == "easy":
        return side
    if level == "medium":
        return "back" if abs(angle) > 135.0 else side
    return ("front-" if abs(angle) < 90.0 else "back-") + side


TURNS = ("go forward", "turn left", "turn right", "turn back")


def turn_option(delta: float) -> str | None:
    """Route step for a signed heading change (deg, positive = left); None near 45 or 135 deg."""
    if not _clear(delta, (45.0, -45.0, 135.0, -135.0)):
        return None
    if abs(delta) <= 45.0:
        return "go forward"
    if abs(delta) > 135.0:
        return "turn back"
    return "turn left" if delta > 0 else "turn right"


def camera_heading(T_world_camera: np.ndarray) -> np.ndarray:
    """Horizontal unit vector of the optical axis (the way the camera faces)."""
    forward = np.asarray(T_world_camera)[:2, 2]
    return forward / np.linalg.norm(forward)


def movement_option(T_from: np.ndarray, position_to: np.ndarray, dominance: float = 2.0) -> str | None:
    """forward/backward/left/right: the dominant horizontal axis of the displacement in the first
    camera's heading frame; None when neither axis dominates by `dominance`."""
    forward = camera_heading(T_from)
    left = np.array([-forward[1], forward[0]])
    d = np.asarray(position_to)[:2] - np.asarray(T_from)[:2, 3]
    f, lateral = float(d @ forward), float(d @ left)
    if max(abs(f), abs(lateral)) < dominance * min(abs(f), abs(lateral)):
        return None
    if abs(f) >= abs(lateral):
        return "forward" if f > 0 else "backward"
    return "left" if lateral > 0 else "right"


def position_option(T_world_camera: np.ndarray, obj: SceneObject, axis: str) -> str | None:
    """Where an object is relative to the camera: axis "lateral" -> left/right by the sign of its
    horizontal angle, "depth" -> front/behind. None unless the whole GT box is on one side and the
    centre is ANGLE_MARGIN clear of the boundary."""
    forward = camera_heading(T_world_camera)
    origin = np.asarray(T_world_camera)[:3, 3]
    angle = horizontal_angle(origin, forward, obj.center)
    corners = obj.corners()[:4, :2] - origin[:2]
    if axis == "lateral":
        lateral = corners @ np.array([-forward[1], forward[0]])
        if not (lateral > 0).all() and not (lateral < 0).all():
            return None
        if not _clear(angle, (0.0, 180.0)):
            return None
        return "left" if angle > 0 else "right"
    ahead = corners @ forward
    if not (ahead > 0).all() and not (ahead < 0).all():
        return None
    if not _clear(angle, (90.0, -90.0)):
        return None
    return "front" if abs(angle) < 90.0 else "behind"


# ----------------------------------------------------------------------------------------------
# Text helpers


def plural(label: str) -> str:
    head, _, last = label.rpartition(" ")
    if last.endswith("f"):
        word = last[:-1] + "ves"
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _listing(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else items[0]


# ----------------------------------------------------------------------------------------------
# Generation


class _Generator:
    """Draws questions of every type from one recording's ground truth."""

    def __init__(self, gt: GroundTruth, rng: np.random.Generator):
        self.gt = gt
        self.rng = rng
        scene = gt.scene
        counts = scene.counts()
        seen = {o.id: len(gt.frames_seen(o.id)) for o in scene.objects}
        self.askable = sorted(
            label for label in counts if all(seen[o.id] >= MIN_SEEN_FRAMES for o in scene.by_label(label))
        )
        self.unique = [scene.by_label(label)[0] for label in self.askable if counts[label] == 1]
        self.counts = counts

    def pick(self, items: list, k: int | None = None):
        if k is None:
            return items[int(self.rng.integers(len(items)))]
        idx = self.rng.choice(len(items), size=k, replace=False)
        return [items[int(i)] for i in idx]

    def phrase(self, templates: list[str], **kw) -> str:
        return self.pick(templates).format(**kw)

    def shuffled(self, options: list[str]) -> list[str]:
        return [options[int(i)] for i in self.rng.permutation(len(options))]

    @staticmethod
    def related(a: SceneObject, b: SceneObject) -> bool:
        """One stands on the other: horizontal relations between them are meaningless."""
        return a.parent == b.id or b.parent == a.id

    # -- object questions ---------------------------------------------------------------------

    def object_counting(self):
        labels = list(self.askable)
        self.rng.shuffle(labels)
        labels.sort(key=lambda label: self.counts[label] < 2)  # multi-instance categories first
        for label in labels:
            text = self.phrase([
                "How many {p} are in this room?",
                "How many {p} can you see in the room?",
                "Count the {p} in this room.",
                "What is the number of {p} in the room?",
                "How many {p} are there?",
            ], p=plural(label))
            yield label, text, self.counts[label], None, {"label": label}

    def object_abs_distance(self):
        if len(self.unique) < 2:
            return
        for _ in range(200):
            a, b = self.pick(self.unique, 2)
            if self.related(a, b):
                continue
            if self.rng.random() < 0.25:
                value = float(np.linalg.norm(a.center - b.center))
                text = self.phrase([
                    "What is the distance between the centers of the {a} and the {b} (in meters)?",
                    "How far is the center of the {a} from the center of the {b}, in metres?",
                ], a=a.label, b=b.label)
                variant = "center"
            else:
                value = a.distance_to(b)
                text = self.phrase([
                    "Measuring from the closest point of each object, what is the direct distance between "
                    "the {a} and the {b} (in meters)?",
                    "How far apart are the {a} and the {b} (in meters)?",
                    "What is the gap between the {a} and the {b} in metres, measured between their closest points?",
                    "How far is the {a} from the {b}? Answer in meters.",
                ], a=a.label, b=b.label)
                variant = "closest"
            if value < 0.3:
                continue
            meta = {"objects": [a.id, b.id], "variant": variant, "unit": "m"}
            yield (frozenset((a.id, b.id)), variant), text, value, None, meta

    def object_size_estimation(self):
        for obj in self.shuffled(self.unique):
            text = self.phrase([
                "What is the length of the longest dimension (length, width, or height) of the {a}, measured in "
                "centimeters?",
                "How big is the {a}? Give its longest side in cm.",
                "What is the largest dimension of the {a} in centimeters?",
                "Roughly how long is the longest side of the {a}, in centimetres?",
            ], a=obj.label)
            yield obj.id, text, float(obj.extent.max() * 100.0), None, {"objects": [obj.id], "unit": "cm"}

    def room_size_estimation(self):
        text = self.phrase([
            "What is the size of this room (in square meters)? If multiple rooms are shown, estimate the size of "
            "the combined space.",
            "How big is this room in square meters?",
            "What is the floor area of the room, in square metres?",
        ])
        yield "room", text, float(self.gt.scene.room.floor_area), None, {"unit": "m2"}

    def object_rel_distance(self):
        if len(self.unique) < 4:
            return
        for _ in range(200):
            target = self.pick(self.unique)
            pool = [o for o in self.unique if o is not target and not self.related(o, target)]
            if len(pool) < 3:
                return
            candidates = self.pick(pool, min(4, len(pool)))
            dist = sorted((target.distance_to(c), c.label) for c in candidates)
            farthest = self.rng.random() < 0.3
            if farthest:
                (d2, _), (d1, answer) = dist[-2], dist[-1]
            else:
                (d1, answer), (d2, _) = dist[0], dist[1]
            if abs(d2 - d1) < max(0.2, 0.15 * min(d1, d2)):
                continue
            names = [c.label for c in candidates]
            word = "farthest from" if farthest else "closest to"
            text = self.phrase([
                "Measuring from the closest point of each object, which of these objects ({names}) is the {w} the "
                "{t}?",
                "Which of these is {w} the {t}: {alts}?",
                "Which object is {w} the {t}?",
            ], names=", ".join(names), w=word, t=target.label, alts=_listing(names))
            yield (target.id, frozenset(names), farthest), text, answer, self.shuffled(names), {
                "objects": [target.id] + [c.id for c in candidates], "variant": "farthest" if farthest else "closest",
                "distances": {label: d for d, label in dist},
            }

    def _rel_direction(self, level: str):
        anchors = [o for o in self.unique if o.label in FURNITURE or o.label == "door"]
        if len(anchors) < 2 or len(self.unique) < 3:
            return
        for _ in range(300):
            a, b = self.pick(anchors, 2)
            c = self.pick([o for o in self.unique if o is not a and o is not b])
            if self.related(a, b) or self.related(a, c):
                continue
            facing = b.center[:2] - a.center[:2]
            if np.linalg.norm(facing) < 0.6 or np.linalg.norm(c.center[:2] - a.center[:2]) < 0.6:
                continue
            angle = horizontal_angle(a.center, facing, c.center)
            answer = direction_option(angle, level)
            if answer is None:
                continue
            intro = self.phrase([
                "If I am standing by the {a} and facing the {b}, ",
                "Imagine you stand next to the {a}, looking towards the {b}. ",
                "Standing at the {a} and facing the {b}, ",
            ], a=a.label, b=b.label)
            you = "your" if intro.startswith("Imagine") else "my"
            if level == "easy":
                ask = f"is the {c.label} to {you} left or right?"
            elif level == "medium":
                ask = (f"is the {c.label} to {you} left, right, or back? An object is to the back if one would "
                       "have to turn at least 135 degrees in order to face it.")
            else:
                ask = (f"is the {c.label} to {you} front-left, front-right, back-left, or back-right? The "
                       "directions refer to the quadrants of a Cartesian plane (standing at the origin and facing "
                       "along the positive y-axis).")
            text = intro + (ask if intro.endswith(", ") else ask[0].upper() + ask[1:])
            meta = {"objects": [a.id, b.id, c.id], "angle_deg": angle}
            yield (a.id, b.id, c.id), text, answer, list(DIRECTION_OPTIONS[level]), meta

    def object_rel_direction_easy(self):
        return self._rel_direction("easy")

    def object_rel_direction_medium(self):
        return self._rel_direction("medium")

    def object_rel_direction_hard(self):
        return self._rel_direction("hard")

    def route_planning(self):
        """VSI-Bench routes: start at A facing B, go forward until B, then a turn before each
        further leg; the turn is the heading change between consecutive legs."""
        floor = [o for o in self.unique if o.parent is None]
        if len(floor) < 3:
            return
        for _ in range(300):
            n_stops = int(self.rng.integers(3, min(5, len(floor)) + 1))
            stops = self.pick(floor, n_stops)
            legs = [stops[k + 1].center[:2] - stops[k].center[:2] for k in range(n_stops - 1)]
            if min(np.linalg.norm(leg) for leg in legs) < 0.8:
                continue
            steps = [turn_option(horizontal_angle(np.zeros(2), legs[k - 1], legs[k])) for k in range(1, len(legs))]
            if None in steps:
                continue
            answer = ", ".join(steps)
            start, first, goal = stops[0].label, stops[1].label, stops[-1].label
            actions = [f"Go forward until the {first}"]
            for stop in stops[2:]:
                actions += ["[please fill in]", f"Go forward until the {stop.label}"]
            numbered = " ".join(f"{i + 1}. {a}" for i, a in enumerate(actions))
            text = self.phrase([
                "You are a robot beginning at the {s} facing the {f}. You want to navigate to the {g}. You will "
                "perform the following actions (Note: for each [please fill in], choose either 'go forward', "
                "'turn left', 'turn right' or 'turn back'): {acts}. You have reached the final destination.",
                "Starting by the {s} and facing the {f}, I walk to the {g} like this: {acts}. Which turns "
                "('go forward', 'turn left', 'turn right' or 'turn back') fill in the blanks?",
            ], s=start, f=first, g=goal, acts=numbered)
            distractors = set()
            for _ in range(100):
                alt = ", ".join(self.pick(list(TURNS)) for _ in steps)
                if alt != answer:
                    distractors.add(alt)
                if len(distractors) == 3:
                    break
            yield tuple(o.id for o in stops), text, answer, self.shuffled([answer] + sorted(distractors)), {
                "objects": [o.id for o in stops]}

    # -- time and camera questions ------------------------------------------------------------

    def obj_appearance_order(self):
        """Orders of first appearance (first frame seen with the visibility threshold) that do not
        depend on that threshold: the next category is not even glimpsed (a quarter of the
        threshold) before the previous one is clearly seen (four times it)."""
        gt = self.gt
        gap = max(2, gt.n_frames // 50)
        base = gt.min_visible_pixels

        def first(label: str, pixels: int) -> float:
            frames = [gt.first_seen(o.id, pixels) for o in gt.scene.by_label(label)]
            return min((f for f in frames if f is not None), default=math.inf)

        glimpsed = {lab: first(lab, max(1, base // 4)) for lab in self.askable}
        seen = {lab: first(lab, base) for lab in self.askable}
        clear = {lab: first(lab, 4 * base) for lab in self.askable}
        ordered = sorted(self.askable, key=lambda lab: seen[lab])
        valid = [
            list(combo) for k in (4, 3) for combo in combinations(ordered, k)
            if all(glimpsed[b] - clear[a] >= gap for a, b in zip(combo, combo[1:]))
        ]
        for labels in self.shuffled(valid):
            answer = ", ".join(labels)
            others = [", ".join(p) for p in permutations(labels) if ", ".join(p) != answer]
            options = self.shuffled([answer] + self.pick(others, 3))
            text = self.phrase([
                "What will be the first-time appearance order of the following categories in the video: {l}?",
                "In which order do these objects first appear in the recording: {l}?",
                "Which of these did the camera see first, and in what order: {l}?",
            ], l=", ".join(self.shuffled(labels)))
            yield frozenset(labels), text, answer, options, {"first_frames": {lab: seen[lab] for lab in labels}}

    def _frame_pair(self, min_gap: int, max_gap: int):
        n = self.gt.n_frames
        i = int(self.rng.integers(0, max(1, n - min_gap)))
        j = int(self.rng.integers(min(i + min_gap, n - 1), min(i + max_gap, n - 1) + 1))
        return i, j

    def camera_displacement(self):
        n = self.gt.n_frames
        if n < 2:
            return
        for _ in range(200):
            i, j = self._frame_pair(1, n - 1)
            value = float(np.linalg.norm(self.gt.camera_center(j) - self.gt.camera_center(i)))
            if value < 0.5:
                continue
            text = self.phrase([
                "What is the approximate displacement of the camera (in meters) between frame {i} and frame {j}?",
                "How far did the camera move between the {oi} and the {oj} frame, in meters?",
                "What is the straight-line distance between the camera positions at frame {i} and frame {j} "
                "(in metres)?",
            ], i=i + 1, j=j + 1, oi=ordinal(i + 1), oj=ordinal(j + 1))
            yield (i, j), text, value, None, {"frames": [i, j], "unit": "m"}

    def camera_object_distance(self):
        if not self.unique:
            return
        for _ in range(200):
            obj = self.pick(self.unique)
            frames = self.gt.frames_seen(obj.id)
            if not frames:
                continue
            i = self.pick(frames)
            value = obj.distance_to_point(self.gt.camera_center(i))
            if value < 0.5:
                continue
            text = self.phrase([
                "At frame {i}, how far is the camera from the closest point of the {a} (in meters)?",
                "How far was the camera from the {a} in the {oi} frame? Measure to the nearest point of the {a}, "
                "in meters.",
                "In frame {i}, what is the distance from the camera to the nearest surface of the {a} in metres?",
            ], i=i + 1, oi=ordinal(i + 1), a=obj.label)
            yield (obj.id, i), text, value, None, {"objects": [obj.id], "frames": [i], "unit": "m"}

    def camera_movement_direction(self):
        n = self.gt.n_frames
        if n < 3:
            return
        poses = self.gt.camera.poses
        for _ in range(300):
            i, j = self._frame_pair(max(2, n // 30), max(3, n // 4))
            if np.linalg.norm(poses[j, :2, 3] - poses[i, :2, 3]) < 0.5:
                continue
            answer = movement_option(poses[i], poses[j, :3, 3])
            if answer is None:
                continue
            text = self.phrase([
                "Between frame {i} and frame {j}, in which direction did the camera mainly move, relative to the "
                "direction it was facing at frame {i}?",
                "Relative to where it faced at the {oi} frame, did the camera move forward, backward, left or right "
                "by the {oj} frame?",
                "From frame {i} to frame {j}, which way did the camera travel with respect to its heading at frame "
                "{i}: forward, backward, left or right?",
            ], i=i + 1, j=j + 1, oi=ordinal(i + 1), oj=ordinal(j + 1))
            yield (i, j), text, answer, ["forward", "backward", "left", "right"], {"frames": [i, j]}

    def object_position_relative_to_camera(self):
        if not self.unique:
            return
        poses = self.gt.camera.poses
        for _ in range(300):
            obj = self.pick(self.unique)
            i = int(self.rng.integers(self.gt.n_frames))
            axis = "lateral" if self.rng.random() < 0.6 else "depth"
            if np.linalg.norm(obj.center[:2] - poses[i, :2, 3]) < 0.5:
                continue
            answer = position_option(poses[i], obj, axis)
            if answer is None:
                continue
            if axis == "lateral":
                text = self.phrase([
                    "At frame {i}, is the {a} to the left or to the right of the camera?",
                    "In the {oi} frame, is the {a} on the camera's left or right?",
                ], i=i + 1, oi=ordinal(i + 1), a=obj.label)
                options = ["left", "right"]
            else:
                text = self.phrase([
                    "At frame {i}, is the {a} in front of or behind the camera?",
                    "In the {oi} frame, is the {a} in front of the camera or behind it?",
                ], i=i + 1, oi=ordinal(i + 1), a=obj.label)
                options = ["front", "behind"]
            yield (obj.id, i, axis), text, answer, options, {"objects": [obj.id], "frames": [i], "axis": axis}


def generate_questions(gt: GroundTruth, per_type: int = 5, seed: int = 0,
                       types: Iterable[str] = QUESTION_TYPES) -> list[Question]:
    """Up to `per_type` distinct questions of each type (room size: one), deterministic in `seed`.

    A type yields fewer when the scene cannot support enough unambiguous questions (for example
    relative-distance questions need four categories with a single instance).
    """
    types = list(types)
    unknown = [t for t in types if t not in QUESTION_TYPES]
    if unknown:
        raise ValueError(f"unknown question type(s) {unknown}; known: {', '.join(QUESTION_TYPES)}")
    generator = _Generator(gt, np.random.default_rng([gt.scene.seed, seed, 23]))
    questions: list[Question] = []
    for qtype in types:
        produce: Callable = getattr(generator, qtype)
        wanted = 1 if qtype == "room_size_estimation" else per_type
        asked: set = set()  # what each question is about, so paraphrases do not repeat it
        for key, text, answer, options, meta in produce():
            if len(asked) >= wanted:
                break
            if key in asked:
                continue
            asked.add(key)
            questions.append(Question(f"{gt.scene.seed}-{qtype}-{len(asked) - 1}", qtype, text, answer, options, meta))
    return questions


def write_questions(questions: Iterable[Question], path: str | Path) -> None:
    """JSONL, one question per line (the replay reads id, question and options)."""
    with Path(path).open("w") as out:
        for q in questions:
            out.write(json.dumps(q.to_json()) + "\n")
