"""The furniture catalogue: how each category is built from box parts, and the room themes.

Each builder returns parts in the object's local frame (base at z = 0, back towards -y) with
randomised sizes and colours; `layout.py` places them in a room.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .scene import Part


def _jitter(rng: np.random.Generator, color, amount: float = 0.06) -> tuple[float, float, float]:
    return tuple(float(np.clip(c + rng.uniform(-amount, amount), 0.02, 0.98)) for c in color)


def pick_color(rng: np.random.Generator, palette) -> tuple[float, float, float]:
    return _jitter(rng, palette[rng.integers(len(palette))])


WOOD = [(0.55, 0.38, 0.22), (0.70, 0.52, 0.33), (0.40, 0.26, 0.15), (0.80, 0.68, 0.50)]
FABRIC = [(0.30, 0.35, 0.55), (0.55, 0.20, 0.20), (0.45, 0.45, 0.45), (0.25, 0.45, 0.30), (0.75, 0.65, 0.45)]
METAL = [(0.25, 0.25, 0.27), (0.70, 0.70, 0.72), (0.15, 0.15, 0.15)]
WHITE = [(0.92, 0.92, 0.90), (0.85, 0.87, 0.90)]
BRIGHT = [(0.85, 0.20, 0.15), (0.15, 0.45, 0.80), (0.95, 0.75, 0.15), (0.20, 0.65, 0.35), (0.90, 0.90, 0.88)]


def _legs(rng, length, width, height, thickness, color, inset=0.03) -> list[Part]:
    xs = (length / 2 - inset - thickness / 2) * np.array([-1, 1])
    ys = (width / 2 - inset - thickness / 2) * np.array([-1, 1])
    return [Part((float(x), float(y), height / 2), (thickness, thickness, height), color) for x in xs for y in ys]


def _table(rng):
    L, W, H = rng.uniform(1.0, 1.8), rng.uniform(0.7, 1.0), rng.uniform(0.72, 0.78)
    color = pick_color(rng, WOOD)
    top = 0.04
    return [Part((0, 0, H - top / 2), (L, W, top), color)] + _legs(rng, L, W, H - top, 0.06, color)


def _desk(rng):
    L, W, H = rng.uniform(1.1, 1.5), rng.uniform(0.6, 0.75), rng.uniform(0.72, 0.76)
    color = pick_color(rng, WOOD + WHITE)
    top, side = 0.03, 0.04
    drawer_w = rng.uniform(0.35, 0.45)
    return [
        Part((0, 0, H - top / 2), (L, W, top), color),
        Part((-L / 2 + side / 2, 0, (H - top) / 2), (side, W, H - top), color),
        Part((L / 2 - drawer_w / 2, 0, (H - top) / 2), (drawer_w, W, H - top), color),
        Part((L / 2 - drawer_w / 2, W / 2 + 0.005, (H - top) / 2), (0.12, 0.01, 0.02), pick_color(rng, METAL)),
    ]


def build_chair(rng):
    S, Hs = rng.uniform(0.42, 0.5), rng.uniform(0.43, 0.47)
    color, legc = pick_color(rng, WOOD + FABRIC), pick_color(rng, WOOD + METAL)
    seat, back_t, back_h = 0.05, 0.05, rng.uniform(0.40, 0.50)
    return [
        Part((0, 0, Hs - seat / 2), (S, S, seat), color),
        Part((0, -S / 2 + back_t / 2, Hs + back_h / 2), (S, back_t, back_h), color),
    ] + _legs(rng, S, S, Hs - seat, 0.04, legc, inset=0.01)


def _stool(rng):
    S, H = rng.uniform(0.32, 0.4), rng.uniform(0.45, 0.65)
    color = pick_color(rng, WOOD + METAL)
    return [Part((0, 0, H - 0.02), (S, S, 0.04), color)] + _legs(rng, S, S, H - 0.04, 0.035, color, inset=0.02)


def _sofa(rng):
    L, W = rng.uniform(1.6, 2.4), rng.uniform(0.8, 0.95)
    seat_h, back_h, arm_h, arm_w, back_t = 0.42, rng.uniform(0.8, 0.9), rng.uniform(0.55, 0.65), 0.15, 0.2
    color = pick_color(rng, FABRIC)
    return [
        Part((0, back_t / 2, seat_h / 2), (L - 2 * arm_w, W - back_t, seat_h), color),
        Part((0, -W / 2 + back_t / 2, back_h / 2), (L, back_t, back_h), color),
        Part((-L / 2 + arm_w / 2, back_t / 2, arm_h / 2), (arm_w, W - back_t, arm_h), color),
        Part((L / 2 - arm_w / 2, back_t / 2, arm_h / 2), (arm_w, W - back_t, arm_h), color),
    ]


def _bed(rng):
    # Headboard against the wall at -y; the bed runs along +y.
    W, L = rng.choice([0.95, 1.45, 1.65, 1.85]) + rng.uniform(-0.03, 0.03), rng.uniform(2.0, 2.15)
    frame_h, mattress, head_h = 0.3, 0.22, rng.uniform(0.9, 1.1)
    framec, sheet = pick_color(rng, WOOD), pick_color(rng, WHITE + FABRIC)
    pillow = pick_color(rng, WHITE)
    return [
        Part((0, 0.04, frame_h / 2), (W, L - 0.08, frame_h), framec),
        Part((0, 0.05, frame_h + mattress / 2), (W - 0.04, L - 0.12, mattress), sheet),
        Part((0, -L / 2 + 0.04, head_h / 2), (W, 0.08, head_h), framec),
        Part((0, -L / 2 + 0.3, frame_h + mattress + 0.06), (W * 0.8, 0.35, 0.12), pillow),
    ]


def _tv(rng):
    L, H = rng.uniform(0.9, 1.45), rng.uniform(0.55, 0.8)
    stand_h = rng.uniform(0.75, 0.95)
    black, standc = (0.05, 0.05, 0.06), pick_color(rng, METAL)
    return [
        Part((0, 0, 0.015), (0.5, 0.35, 0.03), standc),
        Part((0, 0, stand_h / 2), (0.06, 0.06, stand_h), standc),
        Part((0, 0.04, stand_h + H / 2), (L, 0.05, H), black),
    ]


def _cabinet(rng):
    L, W, H = rng.uniform(0.6, 1.3), rng.uniform(0.4, 0.5), rng.uniform(0.5, 1.1)
    color = pick_color(rng, WOOD + WHITE)
    handle = pick_color(rng, METAL)
    return [
        Part((0, 0, 0.04), (L - 0.04, W - 0.04, 0.08), _jitter(rng, color, 0.1)),
        Part((0, 0, 0.08 + (H - 0.08) / 2), (L, W, H - 0.08), color),
        Part((-0.05, W / 2 + 0.01, H - 0.12), (0.02, 0.02, 0.12), handle),
        Part((0.05, W / 2 + 0.01, H - 0.12), (0.02, 0.02, 0.12), handle),
    ]


def _nightstand(rng):
    S, H = rng.uniform(0.4, 0.5), rng.uniform(0.5, 0.6)
    color = pick_color(rng, WOOD + WHITE)
    return [
        Part((0, 0, H / 2), (S, S * 0.9, H), color),
        Part((0, S * 0.45 + 0.01, H * 0.7), (0.1, 0.02, 0.02), pick_color(rng, METAL)),
    ]


def _shelf(rng):
    L, W, H = rng.uniform(0.8, 1.2), rng.uniform(0.3, 0.4), rng.uniform(1.6, 2.0)
    color = pick_color(rng, WOOD + WHITE)
    board = 0.025
    parts = [
        Part((-L / 2 + board / 2, 0, H / 2), (board, W, H), color),
        Part((L / 2 - board / 2, 0, H / 2), (board, W, H), color),
        Part((0, -W / 2 + 0.005, H / 2), (L - 2 * board, 0.01, H), color),
    ]
    boards = np.linspace(board / 2, H - board / 2, int(rng.integers(4, 6)))
    for z in boards:
        parts.append(Part((0, 0, float(z)), (L - 2 * board, W, board), color))
    # A few books as coloured blocks give the shelf texture.
    for z0 in boards[:-1] + board / 2:
        x = -L / 2 + board + 0.03
        while x < L / 2 - board - 0.1 and rng.random() < 0.85:
            w, h = rng.uniform(0.03, 0.07), rng.uniform(0.18, 0.26)
            parts.append(Part((x + w / 2, 0.01, float(z0) + h / 2), (w, W * 0.75, h), pick_color(rng, BRIGHT + FABRIC)))
            x += w + rng.uniform(0.0, 0.04)
    return parts


def _lamp(rng):
    H = rng.uniform(1.45, 1.7)
    metal, shade = pick_color(rng, METAL), pick_color(rng, WHITE + [(0.9, 0.85, 0.6)])
    shade_h, shade_w = 0.3, rng.uniform(0.32, 0.42)
    return [
        Part((0, 0, 0.015), (0.3, 0.3, 0.03), metal),
        Part((0, 0, (H - shade_h) / 2), (0.03, 0.03, H - shade_h), metal),
        Part((0, 0, H - shade_h / 2), (shade_w, shade_w, shade_h), shade),
    ]


def _plant(rng):
    pot, pot_h = rng.uniform(0.25, 0.35), rng.uniform(0.25, 0.35)
    leaf_w, leaf_h = rng.uniform(0.45, 0.7), rng.uniform(0.5, 0.9)
    green = pick_color(rng, [(0.2, 0.5, 0.2), (0.15, 0.4, 0.15), (0.3, 0.55, 0.25)])
    return [
        Part((0, 0, pot_h / 2), (pot, pot, pot_h), pick_color(rng, [(0.7, 0.4, 0.25), (0.9, 0.9, 0.88), (0.3, 0.3, 0.3)])),
        Part((0, 0, pot_h + leaf_h * 0.35), (leaf_w, leaf_w * 0.9, leaf_h * 0.7), green),
        Part((0, 0, pot_h + leaf_h * 0.8), (leaf_w * 0.6, leaf_w * 0.55, leaf_h * 0.4), _jitter(rng, green)),
    ]


def _refrigerator(rng):
    W, D, H = rng.uniform(0.6, 0.8), rng.uniform(0.65, 0.75), rng.uniform(1.7, 1.95)
    color = pick_color(rng, WHITE + [(0.7, 0.7, 0.72)])
    return [
        Part((0, 0, H / 2), (W, D, H), color),
        Part((W / 2 - 0.08, D / 2 + 0.02, H * 0.65), (0.03, 0.04, 0.5), pick_color(rng, METAL)),
    ]


def _trash_can(rng):
    S, H = rng.uniform(0.25, 0.35), rng.uniform(0.35, 0.5)
    return [Part((0, 0, H / 2), (S, S, H), pick_color(rng, METAL + BRIGHT))]


def build_door(rng):
    W, H, T = rng.uniform(0.8, 0.95), rng.uniform(2.0, 2.1), 0.04
    color = pick_color(rng, WOOD + WHITE)
    return [
        Part((0, 0, H / 2), (W, T, H), color),
        Part((W / 2 - 0.1, T / 2 + 0.03, 1.0), (0.12, 0.03, 0.03), pick_color(rng, METAL)),
    ]


def _cup(rng):
    return [Part((0, 0, 0.05), (0.08, 0.08, 0.10), pick_color(rng, BRIGHT + WHITE))]


def _book(rng):
    return [Part((0, 0, 0.02), (rng.uniform(0.2, 0.26), rng.uniform(0.14, 0.18), 0.04), pick_color(rng, BRIGHT + FABRIC))]


def _laptop(rng):
    gray = pick_color(rng, METAL)
    return [Part((0, 0, 0.01), (0.34, 0.24, 0.02), gray), Part((0, -0.115, 0.12), (0.34, 0.01, 0.22), gray)]


def _bowl(rng):
    return [Part((0, 0, 0.035), (0.16, 0.16, 0.07), pick_color(rng, BRIGHT + WHITE))]


def _bottle(rng):
    color = pick_color(rng, [(0.2, 0.5, 0.3), (0.3, 0.5, 0.8), (0.9, 0.9, 0.9)])
    return [Part((0, 0, 0.1), (0.07, 0.07, 0.2), color), Part((0, 0, 0.23), (0.03, 0.03, 0.06), color)]


def _vase(rng):
    color = pick_color(rng, BRIGHT + WHITE)
    return [Part((0, 0, 0.1), (0.12, 0.12, 0.2), color), Part((0, 0, 0.23), (0.08, 0.08, 0.06), color)]


@dataclass(frozen=True)
class Category:
    """How a category is built and placed: against a wall (back to it) or free-standing."""

    build: Callable[[np.random.Generator], list[Part]]
    against_wall: bool = False
    support: bool = False


FURNITURE: dict[str, Category] = {
    "table": Category(_table, support=True),
    "desk": Category(_desk, against_wall=True, support=True),
    "chair": Category(build_chair),
    "stool": Category(_stool),
    "sofa": Category(_sofa, against_wall=True),
    "bed": Category(_bed, against_wall=True),
    "tv": Category(_tv, against_wall=True),
    "cabinet": Category(_cabinet, against_wall=True, support=True),
    "nightstand": Category(_nightstand, against_wall=True, support=True),
    "shelf": Category(_shelf, against_wall=True),
    "lamp": Category(_lamp),
    "plant": Category(_plant),
    "refrigerator": Category(_refrigerator, against_wall=True),
    "trash can": Category(_trash_can),
}
SMALL_OBJECTS = {"cup": _cup, "book": _book, "laptop": _laptop, "bowl": _bowl, "bottle": _bottle, "vase": _vase}
CATEGORIES = tuple(FURNITURE) + tuple(SMALL_OBJECTS) + ("door",)
"""Every label a scene can contain; no label is a substring of another, so text matching is safe."""

THEMES: dict[str, list[tuple[str, int, int]]] = {
    # (category, min count, max count); chairs are also added around tables and desks.
    "living room": [("sofa", 1, 1), ("tv", 1, 1), ("table", 0, 1), ("cabinet", 1, 2), ("lamp", 1, 2),
                    ("plant", 1, 3), ("shelf", 0, 2), ("stool", 0, 2), ("trash can", 0, 1)],
    "bedroom": [("bed", 1, 1), ("nightstand", 1, 2), ("cabinet", 0, 2), ("lamp", 1, 2), ("desk", 0, 1),
                ("plant", 0, 2), ("shelf", 0, 1), ("tv", 0, 1), ("trash can", 0, 1)],
    "office": [("desk", 1, 3), ("shelf", 1, 2), ("cabinet", 1, 2), ("plant", 1, 2), ("lamp", 0, 1),
               ("sofa", 0, 1), ("trash can", 1, 2), ("table", 0, 1)],
    "kitchen": [("table", 1, 1), ("refrigerator", 1, 1), ("cabinet", 2, 4), ("plant", 0, 2), ("stool", 0, 3),
                ("trash can", 1, 1), ("lamp", 0, 1), ("tv", 0, 1)],
}
