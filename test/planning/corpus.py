"""Question corpus for planner tests and benchmarks: public templates and paraphrases filled from a
simulated recording's ground truth, answered against a memory built from that ground truth.

The memory is the scene's ground truth (boxes, surface samples, camera path, first sightings), not
a perception result, so a wrong answer is a wrong reading of the question, never a perception
error. Answers are computed here and in `reasmory_ros.sim.questions` from the scene geometry,
independently of the DSL and of the planner.

Used by test/planning/test_question_corpus.py and benchmarks/bench_questions.py.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from reasmory_ros.memory.snapshot import MemorySnapshot, ObjectRecord, SceneMap, Trajectory
from reasmory_ros.sim import GroundTruth, camera_trajectory, default_intrinsics, generate_scene, render_sequence
from reasmory_ros.sim.questions import (
    Question,
    generate_questions,
    movement_option,
    ordinal,
    plural,
    position_option,
)

DATA = Path(__file__).parent / "data"
UNIT_SCALE = {"m": 1.0, "cm": 100.0, "ft": 1 / 0.3048, "m2": 1.0, "ft2": 1 / 0.09290304}
NUMERIC_TOLERANCE = 0.05
"""A numeric answer is correct within 5 % of the truth (the memory is the ground truth itself; the
rest is surface sampling)."""
MOVES = ["forward", "backward", "left", "right"]
REL_POS_AXES = {"NF": (2, ("Near", "Far")), "LR": (0, ("Left", "Right")), "UD": (1, ("Up", "Down"))}
"""VSTI-Bench's relative position templates by suffix: camera-frame axis, words for A below / above B on it."""
REL_POS_GAP = 0.15
"""Metres by which VSTI-Bench's generator requires the two boxes to be apart along the axis."""


@dataclass(frozen=True)
class Case:
    """One question to answer: text, options, the true answer and where the phrasing came from."""

    type: str
    question: str
    answer: int | float | str
    options: list[str] | None = None
    source: str = ""

    def correct(self, answer: object) -> bool:
        """Whether an answer (a QuestionResult's `answer`) is right: the option, or within tolerance."""
        if answer is None or isinstance(answer, bool):
            return False
        if self.options:
            return str(answer).strip().lower() == str(self.answer).strip().lower()
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return False
        truth = float(self.answer)
        return math.isfinite(value) and abs(value - truth) <= NUMERIC_TOLERANCE * max(abs(truth), 1e-9)


@functools.cache
def recording(seed: int, frames: int = 96, width: int = 160, height: int = 120) -> GroundTruth:
    """A small noise-free simulated recording (rendered once per process for visibility)."""
    scene = generate_scene(seed)
    camera = camera_trajectory(scene, frames, seed=seed)
    visibility = [r.pixel_counts for r in render_sequence(scene, camera, width=width, height=height, noise=False)]
    return GroundTruth(scene, camera, default_intrinsics(width, height), width, height, visibility)


def ground_truth_memory(gt: GroundTruth) -> MemorySnapshot:
    """The memory a perfect perception would build: one record per object seen at all."""
    objects = []
    for obj in gt.scene.objects:
        seen = gt.frames_seen(obj.id)
        if not seen:
            continue
        center, extent, yaw = obj.box
        points = obj.points.astype(np.float32)
        times = gt.camera.timestamps
        objects.append(ObjectRecord(
            id=obj.id, label=obj.label, label_histogram={obj.label: 1.0}, center=np.asarray(center, float),
            extent=np.asarray(extent, float), yaw=float(yaw), points=points, first_seen_frame=seen[0],
            first_seen_time=float(times[seen[0]] - times[0]), last_seen_frame=seen[-1],
            last_seen_time=float(times[seen[-1]] - times[0]), observations=len(seen), centroid=points.mean(axis=0),
        ))
    room = gt.scene.room
    xs, ys = np.meshgrid(np.arange(room.xmin + 0.05, room.xmax, 0.1), np.arange(room.ymin + 0.05, room.ymax, 0.1),
                         indexing="ij")
    floor = np.column_stack([xs.ravel(), ys.ravel(), np.full(xs.size, 0.02)])
    cloud = np.vstack([floor] + [o.points for o in objects]).astype(np.float32)
    n = gt.n_frames
    steps = np.r_[0.0, np.linalg.norm(np.diff(gt.camera.poses[:, :3, 3], axis=0), axis=1)]
    trajectory = Trajectory(np.arange(n), gt.camera.timestamps - gt.camera.timestamps[0], gt.camera.poses.copy(),
                            np.cumsum(steps))
    return MemorySnapshot(objects=tuple(objects), trajectory=trajectory, keyframes=(),
                          scene_map=SceneMap(cloud, np.full(cloud.shape, 128, np.uint8), 0.1), frame_count=n,
                          image_size=(gt.width, gt.height), K=gt.K)


def paraphrases(half: str) -> dict[str, list[str]]:
    """The paraphrase templates of one half ("tuning" or "held_out") per question type: one file per
    half, so tuning never has the held-out phrasings in front of it."""
    return yaml.safe_load((DATA / f"paraphrases_{half}.yaml").read_text())


def public_templates() -> list[dict]:
    return json.loads((DATA / "public_templates.json").read_text())["templates"]


def _tags(template: str) -> tuple[set[str], str]:
    tags = set()
    while re.match(r"^\s*\[\w+\]", template):
        tags.add(re.match(r"^\s*\[(\w+)\]", template).group(1))
        template = re.sub(r"^\s*\[\w+\]\s*", "", template, count=1)
    return tags, template


def _in_unit(tags: set[str], metres: float, default: str = "m") -> float:
    """A length in the unit a template's tag asks ([m], [cm] or [ft]; else the type's default)."""
    return metres * UNIT_SCALE[next((u for u in ("m", "cm", "ft") if u in tags), default)]


def _listing(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else items[0]


class Filler:
    """Fills templates from one recording's generated questions (their objects, frames, answers)."""

    def __init__(self, gt: GroundTruth, seed: int = 0, per_type: int = 4):
        self.gt = gt
        self.base: dict[str, list[Question]] = {}
        for q in generate_questions(gt, per_type=per_type, seed=seed):
            self.base.setdefault(q.type, []).append(q)
        self.rng = np.random.default_rng([gt.scene.seed, seed, 7])

    def obj(self, object_id: int):
        return self.gt.scene.object(object_id)

    def paraphrased(self, qtype: str, template: str, q: Question) -> Case | None:
        """The template filled from base question q; None when the tags ask what q cannot give."""
        tags, text = _tags(template)
        fill = getattr(self, f"_{qtype}")
        made = fill(tags, text, q)
        if made is None:
            return None
        question, answer, options = made
        return Case(qtype, question, answer, options, "paraphrase")

    # Per-type fillers: (question, answer, options) or None.

    def _object_counting(self, tags, text, q):
        label = q.meta["label"]
        return text.format(p=plural(label), c=label), q.answer, None

    def _object_abs_distance(self, tags, text, q):
        a, b = (self.obj(i) for i in q.meta["objects"])
        value = float(np.linalg.norm(a.center - b.center)) if "center" in tags else a.distance_to(b)
        if value < 0.3:
            return None
        return text.format(a=a.label, b=b.label), _in_unit(tags, value), None

    def _object_size_estimation(self, tags, text, q):
        (a,) = (self.obj(i) for i in q.meta["objects"])
        return text.format(a=a.label), _in_unit(tags, q.answer / 100, default="cm"), None

    def _room_size_estimation(self, tags, text, q):
        unit = "ft2" if "ft2" in tags else "m2"
        return text, q.answer * UNIT_SCALE[unit], None

    def _object_rel_distance(self, tags, text, q):
        target = self.obj(q.meta["objects"][0])
        distances = {self.obj(i).label: target.distance_to(self.obj(i)) for i in q.meta["objects"][1:]}
        ranked = sorted(distances, key=distances.get, reverse="farthest" in tags)
        d1, d2 = distances[ranked[0]], distances[ranked[1]]
        if abs(d2 - d1) < max(0.2, 0.15 * min(d1, d2)):
            return None
        names = list(q.options)
        return text.format(t=target.label, names=", ".join(names), alts=_listing(names)), ranked[0], names

    def _direction(self, tags, text, q):
        a, b, c = (self.obj(i) for i in q.meta["objects"])
        return text.format(a=a.label, b=b.label, c=c.label), q.answer, list(q.options)

    _object_rel_direction_easy = _object_rel_direction_medium = _object_rel_direction_hard = _direction

    def _route_planning(self, tags, text, q):
        stops = [self.obj(i) for i in q.meta["objects"]]
        return text.format(s=stops[0].label, f=stops[1].label, g=stops[-1].label, acts=_actions(stops)), q.answer, \
            list(q.options)

    def _obj_appearance_order(self, tags, text, q):
        labels = q.answer.split(", ")
        shown = [labels[int(k)] for k in self.rng.permutation(len(labels))]
        return text.format(l=", ".join(shown)), q.answer, list(q.options)

    def _camera_displacement(self, tags, text, q):
        i, j = q.meta["frames"]
        return text.format(**_frames(i, j)), _in_unit(tags, q.answer), None

    def _camera_object_distance(self, tags, text, q):
        (a,) = (self.obj(i) for i in q.meta["objects"])
        (i,) = q.meta["frames"]
        return text.format(a=a.label, **_frames(i)), _in_unit(tags, q.answer), None

    def _camera_movement_direction(self, tags, text, q):
        i, j = q.meta["frames"]
        return text.format(**_frames(i, j)), q.answer, list(q.options)

    def _object_position_relative_to_camera(self, tags, text, q):
        (a,) = (self.obj(i) for i in q.meta["objects"])
        (i,) = q.meta["frames"]
        axis = "depth" if "depth" in tags else "lateral"
        answer = position_option(self.gt.camera.poses[i], a, axis)
        if answer is None:
            return None
        options = ["left", "right"] if axis == "lateral" else ["front", "behind"]
        return text.format(a=a.label, **_frames(i)), answer, options

    def _relative_base(self) -> list[tuple]:
        """Base facts of the object-object position paraphrases: (axis tag, stream frame, A, B, answer,
        options) on every stream frame."""
        grid = self._sample_grid(self.gt.n_frames)
        return [(tag, int(grid[k]), a, b, answer, options)
                for key, tag in (("NF", "depth"), ("LR", "lateral"), ("UD", "vertical"))
                for k, a, b, answer, options in self.relative_positions(key, self.gt.n_frames)]

    def _obj_obj_relative_pos(self, tags, text, fact):
        tag, i, a, b, answer, options = fact
        if tag not in tags:
            return None
        return text.format(a=a.label, b=b.label, **_frames(i)), answer, options

    def paraphrase_cases(self, half: str) -> list[Case]:
        """Every template of the half, each filled from the base questions of its type in turn."""
        cases = []
        for qtype, templates in paraphrases(half).items():
            base = self.base.get(qtype, []) if qtype != "obj_obj_relative_pos" else self._relative_base()
            for k, template in enumerate(templates):
                for offset in range(len(base)):  # the first base question the template's tags can use
                    case = self.paraphrased(qtype, template, base[(k + offset) % len(base)])
                    if case is not None:
                        cases.append(case)
                        break
        return cases

    # Public templates, verbatim.

    def public_cases(self) -> list[Case]:
        cases = []
        for spec in public_templates():
            made = self._public(spec)
            cases += [Case(spec["type"], text, answer, options, spec["name"]) for text, answer, options in made]
        return cases

    def _public(self, spec: dict) -> list[tuple]:
        t, qtype = spec["template"], spec["type"]
        base = self.base.get(qtype, [])
        out = []
        if spec["name"] == "OBJ_COUNT_TEMPLATE":
            out = [(t.format(category=q.meta["label"]), q.answer, None) for q in base]
        elif spec["name"] == "OBJ_SIZE_ESTIMATE_TEMPLATE":
            out = [(t.format(category=self.obj(q.meta["objects"][0]).label), q.answer, None) for q in base]
        elif spec["name"] == "ROOM_SIZE_TEMPLATE":
            out = [(t, q.answer, None) for q in base]
        elif spec["name"] == "OBJ_ABS_DISTANCE_TEMPLATE":
            for q in base:
                a, b = (self.obj(i) for i in q.meta["objects"])
                if a.distance_to(b) >= 0.3:
                    out.append((t.format(object1=a.label, object2=b.label), a.distance_to(b), None))
        elif qtype == "object_rel_distance":
            for q in base:
                target = self.obj(q.meta["objects"][0])
                dist = {self.obj(i).label: target.distance_to(self.obj(i)) for i in q.meta["objects"][1:]}
                ranked = sorted(dist, key=dist.get)
                if spec["choices"] > len(ranked) or dist[ranked[1]] - dist[ranked[0]] < max(0.2, 0.15 * dist[ranked[0]]):
                    continue
                names = [ranked[0]] + [ranked[k] for k in sorted(self.rng.permutation(range(1, len(ranked)))[
                    :spec["choices"] - 1])]
                names = [names[int(k)] for k in self.rng.permutation(len(names))]
                slots = dict(zip(("choice_a", "choice_b", "choice_c", "choice_d"), names))
                out.append((t.format(category=target.label, **slots), ranked[0], names))
        elif qtype.startswith("object_rel_direction"):
            for q in base:
                a, b, c = (self.obj(i) for i in q.meta["objects"])
                out.append((t.format(positioning_object=a.label, orienting_object=b.label, querying_object=c.label),
                            q.answer, list(q.options)))
        elif spec["name"] == "OBJ_APPEARANCE_ORDER_TEMPLATE":
            for q in base:
                labels = q.answer.split(", ")
                if len(labels) == 4:
                    shown = [labels[int(k)] for k in self.rng.permutation(4)]
                    out.append((t.format(**dict(zip(("choice_a", "choice_b", "choice_c", "choice_d"), shown))),
                                q.answer, list(q.options)))
        elif spec["name"] == "ROUTE_PLAN_TEMPLATE":
            for q in base:
                stops = [self.obj(i) for i in q.meta["objects"]]
                out.append((t.format(start_object=stops[0].label, facing_object=stops[1].label,
                                     destination_object=stops[-1].label, actions=_actions(stops) +
                                     ". You have reached the final destination."), q.answer, list(q.options)))
        elif qtype == "obj_obj_relative_pos":
            out = self._relative_position(spec)
        else:
            out = self._sampled(spec)
        return out

    def _sample_grid(self, n_sampled: int) -> np.ndarray:
        """0-based stream frames of VSTI-Bench's N sampled frames (np.linspace, dtype=int)."""
        return np.linspace(0, self.gt.n_frames - 1, n_sampled, dtype=int)

    def _sampled(self, spec: dict) -> list[tuple]:
        """VSTI-Bench frame-level and sequence-level templates on the sampled frame grid."""
        n = spec["sampled_frames"]
        grid = self._sample_grid(n)
        gt, t, out = self.gt, spec["template"], []
        objects = [o for o in gt.scene.objects if len(gt.scene.by_label(o.label)) == 1 and len(gt.frames_seen(o.id)) >= 3]
        for _ in range(400):
            if len(out) >= 4:
                break
            if spec["type"] == "camera_object_distance":
                k = int(self.rng.integers(n))
                seen = [o for o in objects if grid[k] in gt.frames_seen(o.id)]
                if not seen:
                    continue
                obj = seen[int(self.rng.integers(len(seen)))]
                value = obj.distance_to_point(gt.camera_center(grid[k]))
                if value >= 0.5:
                    out.append((t.format(object_name=obj.label, frame_description=f"frame {k + 1} of {n}"), value, None))
            elif spec["type"] == "camera_obj_rel_dist":
                k = int(self.rng.integers(n))
                seen = [o for o in objects if grid[k] in gt.frames_seen(o.id)]
                if len(seen) < spec["choices"]:
                    continue
                pick = [seen[int(i)] for i in self.rng.choice(len(seen), spec["choices"], replace=False)]
                dist = sorted((o.distance_to_point(gt.camera_center(grid[k])), o.label) for o in pick)
                if dist[1][0] - dist[0][0] < max(0.2, 0.15 * dist[0][0]):
                    continue
                names = [o.label for o in pick]
                slots = dict(zip(("choice_a", "choice_b", "choice_c", "choice_d"), names))
                out.append((t.format(frame_description=f"frame {k + 1} of {n}", **slots), dist[0][1], names))
            else:
                k1, k2 = sorted(int(x) for x in self.rng.choice(n, 2, replace=False))
                if not 2 <= k2 - k1 <= 12:
                    continue
                i, j = grid[k1], grid[k2]
                start, end = f"frame {k1 + 1}", f"frame {k2 + 1} of {n}"
                if spec["type"] == "camera_displacement":
                    value = float(np.linalg.norm(gt.camera_center(j) - gt.camera_center(i)))
                    if value >= 0.5:
                        out.append((t.format(start_frame_description=start, end_frame_description=end), value, None))
                    continue
                answer = movement_option(gt.camera.poses[i], gt.camera.poses[j, :3, 3])
                if answer is None or np.linalg.norm(gt.camera_center(j)[:2] - gt.camera_center(i)[:2]) < 0.5:
                    continue
                options = [answer.capitalize()] + [m.capitalize() for m in MOVES if m != answer][:spec["choices"] - 1]
                options = [options[int(x)] for x in self.rng.permutation(len(options))]
                slots = dict(zip(("choice_a", "choice_b", "choice_c", "choice_d"), options))
                out.append((t.format(start_frame_description=start, end_frame_description=end, **slots),
                            answer.capitalize(), options))
        return out

    def _relative_position(self, spec: dict) -> list[tuple]:
        """VSTI-Bench's object-object position templates, "frame k of N" on its frame sampling."""
        n = spec["sampled_frames"]
        return [(spec["template"].format(frame_description=f"frame {k + 1} of {n}", obj_A_name=a.label,
                                         obj_B_name=b.label), answer, options)
                for k, a, b, answer, options in self.relative_positions(spec["name"].rsplit("_", 2)[-2], n)]

    def relative_positions(self, axis_key: str, n_sampled: int) -> list[tuple]:
        """Up to 4 (sampled rank, A, B, answer, options) of one axis ("NF", "LR", "UD"): both objects
        unique and in view at the frame, box corners in the camera frame (x right, y down, z forward),
        only where one box is entirely beyond the other by REL_POS_GAP along the axis (as VSTI-Bench's
        generator asks)."""
        axis, words = REL_POS_AXES[axis_key]
        gt, out = self.gt, []
        grid = self._sample_grid(n_sampled)
        unique = [o for o in gt.scene.objects if len(gt.scene.by_label(o.label)) == 1]
        for k in self.rng.permutation(n_sampled):
            seen = [o for o in unique if grid[k] in gt.frames_seen(o.id)]
            world_to_camera = np.linalg.inv(gt.camera.poses[grid[k]])
            pairs = list(itertools.permutations(seen, 2))
            for p in self.rng.permutation(len(pairs)):
                a, b = pairs[int(p)]
                in_camera = [(np.c_[o.corners(), np.ones(8)] @ world_to_camera.T)[:, axis] for o in (a, b)]
                if in_camera[1].min() - in_camera[0].max() > REL_POS_GAP:
                    answer = words[0]
                elif in_camera[0].min() - in_camera[1].max() > REL_POS_GAP:
                    answer = words[1]
                else:
                    continue
                out.append((int(k), a, b, answer, [words[int(x)] for x in self.rng.permutation(2)]))
                break
            if len(out) >= 4:
                break
        return out

def _frames(i: int, j: int | None = None) -> dict:
    slots = {"i": i + 1, "oi": ordinal(i + 1)}
    if j is not None:
        slots |= {"j": j + 1, "oj": ordinal(j + 1)}
    return slots


def _actions(stops) -> str:
    actions = [f"Go forward until the {stops[1].label}"]
    for stop in stops[2:]:
        actions += ["[please fill in]", f"Go forward until the {stop.label}"]
    return " ".join(f"{i + 1}. {a}" for i, a in enumerate(actions))

