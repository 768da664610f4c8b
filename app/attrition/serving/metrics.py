"""Serving's Prometheus metrics, summed over the gunicorn workers (attrition/metrics_registry.py;
gunicorn_conf empties PROMETHEUS_MULTIPROC_DIR at start and drops a dead worker's live gauges).
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess

from attrition.metrics_registry import registry as summed_registry

PREFIX = "attrition_serving_"

REQUESTS = Counter(
    f"{PREFIX}requests_total", "HTTP requests by route and status", ["route", "status"]
)
LATENCY = Histogram(
    f"{PREFIX}request_seconds",
    "Time from request to response, by route",
    ["route"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
ROWS = Counter(f"{PREFIX}rows_predicted_total", "Rows scored")
POSITIVE = Counter(
    f"{PREFIX}rows_positive_total", "Rows scored above the model's threshold (predicted to leave)"
)
MODEL = Gauge(
    f"{PREFIX}model_info",
    "1 for the model version a live worker serves",
    ["name", "version", "source"],
    multiprocess_mode="livemax",
)
MODEL_CREATED = Gauge(
    f"{PREFIX}model_created_timestamp_seconds",
    "When the registry made the served version (0: unknown), for the model's age",
    multiprocess_mode="livemax",
)
RELOADS = Counter(
    f"{PREFIX}model_reloads_total",
    "Alias checks that changed something: loaded, refused (broken version) or"
    " error (registry unreachable)",
    ["outcome"],
)
WORKER_EXITS = Counter(
    f"{PREFIX}worker_exits_total",
    "gunicorn workers that exited (graceful reloads included; a rise without"
    " a reload means workers crashed or were killed)",
)


_shown: list[tuple] = []  # the info gauge's current labels in this worker


def model_changed(event: str, loaded) -> None:
    """ModelStore's callback: count the event, point the info gauge at the served version
    (the old labels go to 0: in multiprocess mode a value, once written, stays in the file)."""
    RELOADS.labels(event).inc()
    if event == "loaded":
        for labels in _shown:
            MODEL.labels(*labels).set(0)
        _shown[:] = [(loaded.name, loaded.version or "(path)", loaded.source)]
        MODEL.labels(*_shown[0]).set(1)
        MODEL_CREATED.set(loaded.created_at)


def render() -> tuple[bytes, str]:
    registry = summed_registry()
    text = generate_latest(registry)
    rows = positive = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == f"{PREFIX}rows_predicted_total":
                rows += sample.value
            elif sample.name == f"{PREFIX}rows_positive_total":
                positive += sample.value
    ratio = positive / rows if rows else 0.0
    text += (
        f"# HELP {PREFIX}positive_ratio Share of scored rows predicted to leave (all time)\n"
        f"# TYPE {PREFIX}positive_ratio gauge\n{PREFIX}positive_ratio {ratio}\n"
    ).encode()
    return text, CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: count it and drop the dead worker's live gauges."""
    WORKER_EXITS.inc()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        _multiprocess.mark_process_dead(pid)
