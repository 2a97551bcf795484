"""Process memory settings for the command line and the batch workers."""

from __future__ import annotations

import ctypes
import sys

#: glibc allocator arenas allowed (1: every thread allocates from the main heap).
MALLOC_ARENAS = 1
_M_ARENA_MAX = -8  # glibc <malloc.h>


def share_one_malloc_arena() -> bool:
    """Make every thread of this process allocate from one glibc arena; True if set.

    glibc gives each new thread its own arena, and memory freed in an arena stays in the
    process for that arena's later use.  When two threads segment tiles, each arena ends up
    holding a tile's worth of freed arrays besides the live ones: on an 8192^2 micrograph the
    peak resident memory was ~1.5 GB with the default arenas and ~1.3 GB with one, at the
    same speed (the threads allocate large arrays, rarely, and compute in between; a fixed
    mmap threshold also gave ~1.3 GB but cost ~15 % of the time in page zeroing).  Called by
    ``morpho`` before any worker thread starts and by batch workers, never on import: a
    library must not change its host's allocator.  Does nothing off glibc.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, MALLOC_ARENAS))
