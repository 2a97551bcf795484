"""Test networks shared by the transport and ordering tests (pytest puts this folder on sys.path)."""

import numpy as np


def delaunay(n: int, seed: int, band: float = 0.03):
    """Delaunay graph of n uniform random points: (points, first, second, source, drain, rng);
    the electrodes are the points within `band` of the left and right edges."""
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2))
    tri = Delaunay(pts).simplices
    e = np.unique(np.sort(np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]]), axis=1), axis=0)
    return pts, e[:, 0], e[:, 1], pts[:, 0] < band, pts[:, 0] > 1 - band, rng
