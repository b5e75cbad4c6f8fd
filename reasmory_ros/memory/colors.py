"""Colour of an object from its observed RGB points, named from a fixed palette.

The object table keeps, per object, a vote count and an RGB sum for each of a few coarse colour
bins (twelve hue sectors and one for greys), updated with every detection point at a fixed cost per
frame. The object's colour is the mean RGB of its most voted bin, named by `color_name`: a bin
vote keeps a two-tone object (a white desk with wooden legs) from being named after the average
of its parts, and the mean within the winning bin absorbs the shading of each single point.
"""

from __future__ import annotations

import colorsys

import numpy as np
import torch

HUE_BINS = 12
COLOR_BINS = HUE_BINS + 1
"""Twelve 30-degree hue sectors, then one bin for greys (low saturation or dark points)."""
GREY_SATURATION = 0.2
DARK_VALUE = 0.12
"""A point with saturation below 0.2, or value (max channel / 255) below 0.12, votes grey."""

PALETTE = ("black", "gray", "white", "red", "orange", "yellow", "green", "blue", "purple", "pink",
           "brown", "beige")
"""Names `color_name` can answer."""

_HUE_NAMES = ((15, "red"), (40, "orange"), (70, "yellow"), (165, "green"), (255, "blue"),
              (290, "purple"), (335, "pink"), (360, "red"))
"""Upper hue bound (degrees) of each chromatic name."""


def color_bins(rgb: torch.Tensor) -> torch.Tensor:
    """Bin index (N,) of uint8 RGB points (N, 3): a hue sector, or HUE_BINS for a grey point."""
    c = rgb.to(torch.float32) / 255.0
    high, _ = c.max(dim=1)
    low, _ = c.min(dim=1)
    chroma = high - low
    r, g, b = c.unbind(1)
    safe = chroma.clamp(min=1e-6)
    hue = torch.where(high == r, ((g - b) / safe) % 6.0,
                      torch.where(high == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    sector = (hue * (HUE_BINS / 6.0)).long().clamp(0, HUE_BINS - 1)
    grey = (chroma < GREY_SATURATION * high) | (high < DARK_VALUE)
    return torch.where(grey, torch.full_like(sector, HUE_BINS), sector)


def color_name(rgb: np.ndarray) -> str:
    """Palette name of one mean RGB colour (0-255): greys by brightness, browns and beiges as dark
    or pale oranges and yellows, other colours by hue, pink as a pale red."""
    h, s, v = colorsys.rgb_to_hsv(*(float(x) / 255.0 for x in rgb[:3]))
    hue = h * 360.0
    if v < 0.2 or (v < 0.3 and s < 0.5):
        return "black"
    if s < GREY_SATURATION:
        return "white" if v > 0.55 else "gray"
    if 15 <= hue < 70:
        if v < 0.45 or (hue < 40 and v < 0.6 and s > 0.35):
            return "brown"
        if s < 0.45:
            return "beige"
    if (hue < 15 or hue >= 335) and s < 0.45 and v > 0.6:
        return "pink"
    return next(name for bound, name in _HUE_NAMES if hue < bound)


def dominant_color(counts: np.ndarray, sums: np.ndarray) -> tuple[str, np.ndarray]:
    """Name and mean RGB of the most voted bin of one object; ("", zeros) when never observed."""
    if counts.sum() <= 0:
        return "", np.zeros(3)
    best = int(np.argmax(counts))
    mean = sums[best] / counts[best]
    return color_name(mean), mean
