"""The closest pair between two point sets is exact: the pruned search (an upper bound from a few
points, then only the points that could beat it) gives what comparing every pair gives."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from reasmory_ros.dsl.geometry import closest_pair


@pytest.mark.parametrize("seed", range(40))
def test_closest_pair_equals_the_brute_force_minimum(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(int(rng.integers(1, 400)), 3)) * rng.uniform(0.05, 1.0)
    b = rng.normal(size=(int(rng.integers(1, 400)), 3)) * rng.uniform(0.05, 1.0) + rng.normal(size=3) * rng.uniform(0, 2)
    pairwise = cdist(a, b)
    distance, p, q = closest_pair(a, b)
    assert distance == pytest.approx(pairwise.min(), abs=1e-12)
    # the points returned belong to their sets (p to a, q to b) and realise the distance
    assert (a == p).all(axis=1).any() and (b == q).all(axis=1).any()
    assert np.linalg.norm(p - q) == pytest.approx(distance, abs=1e-12)


def test_a_point_far_outside_the_probes_still_wins():
    """The probes miss the one close point: the box test must keep it among the queried points."""
    a = np.vstack([np.full((1000, 3), [5.0, 0.0, 0.0]) + np.linspace(0, 1, 1000)[:, None], [[1.05, 0.0, 0.0]]])
    b = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    distance, p, q = closest_pair(a, b)
    assert distance == pytest.approx(0.05) and p.tolist() == [1.05, 0.0, 0.0] and q.tolist() == [1.0, 0.0, 0.0]
