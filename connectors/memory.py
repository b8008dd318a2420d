"""Fewer garbage-collector passes while API pages are fetched and shaped.

Decoding a page of JSON allocates hundreds of thousands of dicts and lists, and a page is
held while the next is decoded and the current one shaped into Arrow columns. With
CPython's default thresholds (a young collection every 700 net allocations of container
objects, older generations every 10 of those) the collector keeps walking those large live
pages: measured on the Zendesk extract of 10,000 tickets, 3.7 of 5.3 CPU seconds with the
defaults against 2.3 with `THRESHOLD` (`orjson.loads` of the 48 MB of ticket events alone:
0.76 s with the collector, 0.19 s without).

The collector only finds reference cycles (everything else is freed by reference counting
as usual), and none are made per record, so collecting less often costs no memory worth
counting. The thresholds are raised while at least one `fewer_collections` block runs
(blocks nest and may overlap, e.g. several resources paging at once) and put back when the
last one ends. A collector that is disabled stays disabled.

Freed memory goes back to the system (`trimmed_heap`): glibc's malloc raises its trim
threshold as a program frees large blocks (to twice the largest one freed, up to 64 MiB
per heap), after which it keeps the freed memory of every thread's heap instead of
returning it. Decoding pages, shaping them and handing Arrow tables to dlt from the
prefetch threads free large blocks all the time: on the Zendesk extract of 100,000 tickets
glibc ended up holding 138 MiB of free memory (41 MiB in use), against 53 at 10,000, and
that retention is what made the extract's resident memory grow with the tickets. Arrow's
own allocator (mimalloc) likewise kept what the merged pages had used (its high-water mark:
25 MiB at 10,000 tickets, 58 at 100,000), so Arrow allocates through malloc as well.
"""

from __future__ import annotations

import ctypes
import gc
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

#: Young-generation threshold while pages are processed (CPython's default is 700), and
#: the older generations' (collections of the younger one per collection; defaults 10, 10).
THRESHOLD = (50_000, 20, 100)

_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the block with the raised `THRESHOLD`s (never lower than the current ones), with
    freed memory returned to the system (`trimmed_heap`)."""
    global _active, _saved
    trimmed_heap()
    with _lock:
        if _active == 0:
            current = gc.get_threshold()
            raised = tuple(max(c, t) for c, t in zip(current, THRESHOLD, strict=True))
            # A threshold of 0 disables collection: leave that alone.
            if current[0] and raised != current:
                _saved = current
                gc.set_threshold(*raised)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None


#: glibc `mallopt` parameter: the free memory at the top of a heap above which it is
#: returned to the system.
M_TRIM_THRESHOLD = -1
#: glibc's own default (128 KiB), kept fixed: setting it turns off the dynamic raise.
TRIM_THRESHOLD = 128 * 1024

_trimmed = False


def trimmed_heap() -> bool:
    """Fix glibc's trim threshold at `TRIM_THRESHOLD` for this process (once; later calls do
    nothing). True when the setting is in force, False where the C library is not glibc.

    Arrow's default memory pool becomes the system allocator (`pa.system_memory_pool()`,
    malloc, now trimmed) instead of its bundled mimalloc, which kept freed memory: tables
    made before keep their own pool.

    Measured on the Zendesk extract of 100,000 tickets: free memory kept by malloc after the
    extract 138 -> 12 MiB and the extract's resident peak 404 -> 361 MiB with the trim
    threshold alone (10,000 tickets: 311 -> 289), 337 MiB with Arrow on malloc too (265 at
    10,000); the resident memory after the extract 403 -> 291 MiB (307 -> 249). Process-wide
    settings, but only of where memory comes from and when it is handed back.
    """
    global _trimmed
    with _lock:
        if not _trimmed and platform.libc_ver()[0] == "glibc":
            mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
            _trimmed = bool(mallopt is not None and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
            if _trimmed:
                pa.set_memory_pool(pa.system_memory_pool())
        return _trimmed
