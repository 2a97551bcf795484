"""Peer tools of the accuracy benchmark, driven as their users would drive them.

Each module exposes ``NAME``, ``DESCRIPTION``, ``available() -> str | None`` (None if usable, else
a one-line reason), ``version_string() -> str`` and
``segment(image, *, workdir) -> int32 labels`` (same shape, 0 = background, labels 1..n; bright
grains on a dark background: the benchmark inverts dark-grain images before calling a peer).
A peer that cannot run raises :class:`PeerUnavailable`.  The tools are installed from Debian's
apt and PyPI by ``bench/peers/install.sh``; none of their code is copied into morpho.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    gwyddion_threshold,
    gwyddion_threshold_careful,
    gwyddion_watershed,
    imagej,
    imagej_careful,
    porespy_snow2,
    porespy_snow2_careful,
    skimage_recipe,
    skimage_recipe_careful,
)
from ._common import PeerUnavailable

__all__ = ["PEERS", "PeerUnavailable", "select"]

#: All peers, in table order.  The ``-careful`` modules are labelled careful-user variants (Gaussian
#: smoothing sigma 1.5 px first, minimum size 9 px), NOT the tools' defaults; each sits after its
#: default peer and runs by default too.
PEERS: dict[str, ModuleType] = {
    m.NAME: m for m in (
        imagej, imagej_careful,
        gwyddion_threshold, gwyddion_threshold_careful, gwyddion_watershed,
        skimage_recipe, skimage_recipe_careful,
        porespy_snow2, porespy_snow2_careful,
    )
}


def select(spec: str | None) -> list[ModuleType]:
    """Peers named in a comma-separated `spec`; all if None.

    A word selects the peer of that name, every peer whose name starts with it (``gwyddion``,
    ``imagej`` = ``imagej`` and ``imagej-careful``), or, for ``careful``, every careful-user variant.
    """
    if spec is None or spec.strip().lower() in ("", "all"):
        return list(PEERS.values())
    if spec.strip().lower() == "none":
        return []
    chosen: list[ModuleType] = []
    for word in (w.strip().lower() for w in spec.split(",") if w.strip()):
        hits = [m for name, m in PEERS.items() if name == word or name.startswith(word) or name.split("-")[0] == word
                or name.endswith("-" + word)]
        if not hits:
            msg = f"unknown peer {word!r}; choose from {', '.join(PEERS)}"
            raise ValueError(msg)
        chosen.extend(h for h in hits if h not in chosen)
    return chosen
