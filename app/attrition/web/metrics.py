"""The page's Prometheus metrics, summed over its gunicorn workers (attrition/metrics_registry.py).

Counters and histograms only: a dead worker's file keeps counting toward the totals, as it
should, and needs no clean-up; the unit's RuntimeDirectory is a new, empty directory at each
start. Labels are Flask's endpoint names and status codes: a bounded set, whatever clients send.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from attrition.metrics_registry import registry

PREFIX = "attrition_page_"

REQUESTS = Counter(
    f"{PREFIX}requests_total", "HTTP requests by endpoint and status", ["endpoint", "status"]
)
LATENCY = Histogram(
    f"{PREFIX}request_seconds",
    "Time from request to response, by endpoint (the function's answer included)",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0),
)
FUNCTION_CALLS = Counter(
    f"{PREFIX}function_calls_total",
    "Calls to the Cloud Function by method and status (503: it could not be reached)",
    ["method", "status"],
)
SIGN_INS = Counter(
    f"{PREFIX}sign_ins_total", "Sign-ins with a name and password, by outcome", ["outcome"]
)


def render() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST
