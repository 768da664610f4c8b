"""The WSGI application gunicorn runs: `attrition.serving.wsgi:create_app()`.

A plain WSGI callable rather than a web framework: six routes, and every microsecond of
framework per request shows at thousands of requests per second (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from attrition.serving import metrics, payload
from attrition.serving.models import ModelStore
from attrition.serving.settings import ServingSettings

log = logging.getLogger("attrition.serving")
access = logging.getLogger("attrition.serving.access")

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
JSON = "application/json"
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class JsonLines(logging.Formatter):
    """One JSON object per line: journald keeps them, and any log pipeline can parse them."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("urllib3", "mlflow", "botocore", "google"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class App:
    def __init__(self, settings: ServingSettings, store: ModelStore):
        self.settings, self.store = settings, store
        self.routes = {
            ("POST", "/invocations"): self.invocations,
            ("POST", "/predict"): self.predict,
            ("GET", "/ping"): self.ping,
            ("GET", "/health"): self.health,
            ("GET", "/version"): self.version,
            ("GET", "/metrics"): self.metrics,
        }
        self.paths = {path for _, path in self.routes}
        from importlib.metadata import version

        self.versions = {p: version(p) for p in ("attrition", "mlflow-skinny", "scikit-learn")}

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        rid = environ.get("HTTP_X_REQUEST_ID", "")
        if not REQUEST_ID.match(rid):
            rid = uuid.uuid4().hex
        handler = self.routes.get((method, path))
        route = path if path in self.paths else "(other)"
        fields = {"request_id": rid, "method": method, "route": route}
        try:
            if handler is None:
                allowed = path in self.paths
                raise payload.BadRequest(
                    f"{method} is not allowed on {path}" if allowed else "no such route",
                    status=405 if allowed else 404,
                )
            status, body, ctype = handler(environ, fields)
        except payload.BadRequest as err:
            status, body, ctype = err.status, json.dumps(err.body()).encode(), JSON
            fields["error"] = str(err)
        except Exception as err:
            log.exception("request %s failed", rid)
            status, body, ctype = 500, b'{"error": "internal error (see the service log)"}', JSON
            fields["error"] = type(err).__name__
        elapsed = time.perf_counter() - started
        metrics.REQUESTS.labels(route, str(status)).inc()
        metrics.LATENCY.labels(route).observe(elapsed)
        fields.update(status=status, ms=round(elapsed * 1000, 3))
        access.info("request", extra={"fields": fields})
        start_response(
            f"{status} {REASONS.get(status, '')}",
            [("Content-Type", ctype), ("Content-Length", str(len(body))), ("X-Request-ID", rid)],
        )
        return [body]

    # -- prediction routes ------------------------------------------------------------------
    def _score(self, environ, fields):
        model = self.store.current  # read once: a swap mid-request cannot mix two models
        if model is None:
            raise payload.BadRequest(
                "no model is loaded yet: " + (self.store.last_error or "see /health"), status=503
            )
        x = payload.parse(
            self._body(environ), environ.get("CONTENT_TYPE", ""), self.settings.max_rows
        )
        proba = model.pipeline.predict_proba(x)[:, 1]
        labels = proba >= model.threshold
        positive = int(labels.sum())
        metrics.ROWS.inc(len(proba))
        if positive:
            metrics.POSITIVE.inc(positive)
        fields.update(rows=len(proba), model_version=model.version)
        return model, proba.tolist(), labels.tolist()

    def invocations(self, environ, fields):
        """MLflow's scoring protocol: {"predictions": [label, ...]}, labels as 0/1 at the
        model's own threshold (MLflow's scorer would use 0.5, which this model was not tuned
        for)."""
        _, _, labels = self._score(environ, fields)
        return 200, json.dumps({"predictions": [int(v) for v in labels]}).encode(), JSON

    def predict(self, environ, fields):
        model, proba, labels = self._score(environ, fields)
        out = {
            "model": {"name": model.name, "version": model.version},
            "threshold": model.threshold,
            "predictions": [
                {"attrition": label, "probability": p} for label, p in zip(labels, proba)
            ],
        }
        return 200, json.dumps(out).encode(), JSON

    def _body(self, environ) -> bytes:
        limit = self.settings.max_body_bytes
        length = environ.get("CONTENT_LENGTH") or ""
        if length:
            if not length.isdigit():
                raise payload.BadRequest("Content-Length is not a number")
            if int(length) > limit:
                raise payload.BadRequest(f"the body is larger than {limit} bytes", status=413)
            return environ["wsgi.input"].read(int(length))
        if not environ.get("wsgi.input_terminated"):
            raise payload.BadRequest("send a Content-Length (or a chunked body)", status=411)
        body = environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            raise payload.BadRequest(f"the body is larger than {limit} bytes", status=413)
        return body

    # -- operations routes ------------------------------------------------------------------
    def ping(self, environ, fields):
        if self.store.current is None:
            return 503, b'{"status": "no model"}', JSON
        return 200, b'{"status": "ok"}', JSON

    def health(self, environ, fields):
        state = self.store.health()
        return (200 if self.store.current else 503), json.dumps(state).encode(), JSON

    def version(self, environ, fields):
        current = self.store.current
        out = {
            "packages": self.versions,
            "model": {"name": current.name, "version": current.version} if current else None,
        }
        return 200, json.dumps(out).encode(), JSON

    def metrics(self, environ, fields):
        text, ctype = metrics.render()
        return 200, text, ctype


def create_app(settings: ServingSettings | None = None) -> App:
    """Runs in each gunicorn worker: load the model (never raising for a bad or missing one:
    the worker then answers 503 and keeps checking) and start following the alias."""
    configure_logging()
    settings = settings or ServingSettings.from_env()
    store = ModelStore(settings, on_change=metrics.model_changed)
    store.start()
    return App(settings, store)
