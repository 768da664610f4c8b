"""The function's Prometheus metrics, answered at GATEWAY_METRICS_PATH when it is set (the local
gateway: its nginx lets only the monitoring hosts ask). On Google Cloud it is not set: Cloud
Monitoring counts the function's requests and times them.

Under functions-framework's gunicorn the workers' values are summed (PROMETHEUS_MULTIPROC_DIR,
set by the unit: empty at each start); counters and histograms only, so a dead worker's file
needs no clean-up. The function is deployed on its own, so this does not import the package's
attrition/metrics_registry.py: registry() below is a copy, kept equal by a unit test
(tests/unit/test_function_settings.py).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

PREFIX = "attrition_function_"
METHODS = {"GET", "POST"}  # anything else is counted as "other": labels stay a bounded set

REQUESTS = Counter(f"{PREFIX}requests_total", "Requests by method and status", ["method", "status"])
LATENCY = Histogram(
    f"{PREFIX}request_seconds",
    "Time from request to answer, by method (serving's answer and the insert included)",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0),
)
ROWS_STORED = Counter(f"{PREFIX}rows_stored_total", "Predictions stored (one row per employee)")


def answered(method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    REQUESTS.labels(method, str(status)).inc()
    LATENCY.labels(method).observe(seconds)


def registry() -> CollectorRegistry:
    """Every worker's values under gunicorn; this process's alone without the variable (tests,
    a bare `python -m`)."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed)
    return summed


def render() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST
