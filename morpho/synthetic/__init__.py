"""Synthetic micrographs and grain graphs with exact ground truth.

Public generators for tests, demos and accuracy benchmarks (STYLE M26):

:func:`make_sem_micrograph`
    An SEM-like image of bright islands on a darker matrix, drawn from a named preset (the seed
    paper's bimodal In/InOx film by default; :data:`PRESETS` also holds the hard cases of the
    accuracy benchmark: touching grains split only by contact grooves, 0-1 px gaps, 2-4 px
    grains, strong gradients with charging streaks, bright rims), with its exact label image
    and grains table.
:func:`make_disk_mosaic`
    Digitised disks on a hexagonal, square or random layout with analytic radii and known
    neighbour pairs, for unit tests of measurement and graph code.
:func:`make_square_lattice_graph`, :func:`make_chain_graph`
    Grains and junctions tables of regular networks, for transport tests.
:func:`make_site_percolation`
    A film at (or near) its continuity threshold: square sites of one grey level, each metal
    with probability p, with every enclosed matrix pocket kept as matrix in the truth.
:func:`make_shaded_particles`
    Separated 3-D particles (spheres, droplets, faceted grains) with secondary-electron
    shading (dark centres, bright side walls and edges) at any dose down to noiseless: the
    clean-micrograph cases of the accuracy benchmark.

Every generator takes ``rng`` (a :class:`numpy.random.Generator`, an integer seed or ``None``)
and never touches NumPy's global random state (STYLE M29).  The truth is primary: the label
image is built first and the micrograph is rendered from it, so the tables describe the image
exactly.  Conventions (DESIGN.md): ``x_m`` is the column and ``y_m`` the row coordinate in metres,
origin at the centre of the top-left pixel; ``grain_id`` runs 1..n in raster order of each
grain's first pixel.
"""

from __future__ import annotations

from ._graphs import make_chain_graph, make_disk_mosaic, make_square_lattice_graph
from ._presets import PRESETS
from ._particles import PARTICLE_KINDS, make_shaded_particles
from ._sample import GRAIN_TRUTH_COLUMNS, SyntheticSample
from ._sem import make_sem_micrograph
from ._sites import SITE_PC, make_site_percolation

__all__ = [
    "GRAIN_TRUTH_COLUMNS",
    "PARTICLE_KINDS",
    "PRESETS",
    "SITE_PC",
    "SyntheticSample",
    "make_chain_graph",
    "make_disk_mosaic",
    "make_sem_micrograph",
    "make_shaded_particles",
    "make_site_percolation",
    "make_square_lattice_graph",
]
