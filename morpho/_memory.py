"""Process memory settings for the command line and the batch workers."""

from __future__ import annotations

import ctypes
import sys

#: Arrays at least this large (bytes) are given their own memory map by glibc's allocator.
MMAP_THRESHOLD_BYTES = 16 << 20
_M_MMAP_THRESHOLD = -3  # glibc <malloc.h>


def return_large_arrays_to_os() -> bool:
    """Make glibc map every allocation >= ``MMAP_THRESHOLD_BYTES`` on its own; True if set.

    glibc raises its mmap threshold (up to 32 MB) each time a mapped block is freed, after
    which tile-sized arrays (~26 MB at the default tile size) come from the heap or the worker
    threads' arenas and stay in the process when freed: on an 8192^2 micrograph the peak
    resident memory was ~1.5 GB instead of ~1.3 GB.  A fixed threshold keeps large arrays in
    their own maps, returned to the system when freed, for a few per cent of time (the pages
    of a new map are zeroed by the kernel).  Called by ``morpho`` and by batch workers, never
    on import: a library must not change its host's allocator.  Does nothing off glibc.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
