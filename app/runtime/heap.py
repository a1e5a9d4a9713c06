"""Give the heap's free pages back to the system (glibc's ``malloc_trim``).

A session's first snapshot and first-paint HTML are tens of kilobytes of strings
that are freed once the browser has them. glibc keeps the freed pages in the
process's heap, where later, smaller allocations only partly reuse them: about
0.03 MB a session at 1,000 sessions (``python -m bench.sessionmem --trim``). The GC
policy (:mod:`app.runtime.gcpolicy`) trims right after it freezes new sessions, a
moment that is already a deliberate pause, and only when sessions have opened.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from functools import cache


@cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None (another C library: nothing to do)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def trim() -> float | None:
    """Return free heap pages to the system; the milliseconds it took (None: no glibc)."""
    fn = _malloc_trim()
    if fn is None:
        return None
    t0 = time.perf_counter()
    fn(0)
    return (time.perf_counter() - t0) * 1000
