"""Python's cycle collector paused for bulk work that makes many objects and no cycles.

CPython frees an object when its last reference goes (reference counting); the cycle
collector is only for objects that refer to each other in a ring. It runs whenever
allocations outnumber frees by 700, and each time enough objects have survived into its
oldest generation it walks every object the process holds. An export streams millions of
rows: each batch of 100,000 row tuples lives long enough to reach that generation, so these
full walks come often, and each one goes over the summary tables and everything else alive.
They took 10 s of a 34 s Parquet export of 1M attempts (and 11 s of a 38 s CSV one), where a
script holding nothing else pays far less (docs/performance.md). Rows, their values and
Arrow's arrays form no cycles: reference counting frees them as before. What little does
(pandas, matplotlib objects) waits until the collector resumes, or the command ends.

A command that starts, works and exits (``usetest summary``, ``report``, ``export``) runs
with it paused from the start: importing pandas and the rest makes a hundred thousand
long-lived objects, and the walks over them cost ≈ 50 ms of a 0.7 s summary.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The cycle collector off inside the block, and as it was (on or off) after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
