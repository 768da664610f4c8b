"""Where /metrics reads from, for the programs that run under gunicorn (serving, the page).

prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by the unit: a directory
that is empty at each start) keeps each worker's values in a small mmap file; a scrape reads them
all. We use the library rather than our own counters because that aggregation (and its clean-up
when a worker dies) is the hard part.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess


def registry() -> CollectorRegistry:
    """Every worker's values under gunicorn; this process's alone without the variable (tests,
    a bare `python -m`)."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed)
    return summed
