"""The ceiling for bench/serving.py: a WSGI app that only parses JSON records and calls the
pipeline's predict_proba (no validation, no metrics, no logging, no alias following).

    BARE_MODEL=DIR gunicorn -w 2 bench.bare_app:app
"""

import json
import os

import mlflow.sklearn
import numpy as np

from attrition.features import NAMES

pipeline = mlflow.sklearn.load_model(os.environ["BARE_MODEL"])
for _, step in pipeline.steps:  # the same numpy fast path as ours, to compare like with like
    vars(step).pop("feature_names_in_", None)


def app(environ, start_response):
    if environ["REQUEST_METHOD"] == "GET":  # the benchmark's readiness check
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    rows = json.loads(body)["dataframe_records"]
    x = np.array([[r[n] for n in NAMES] for r in rows], dtype=np.int64)
    out = json.dumps({"predictions": pipeline.predict_proba(x)[:, 1].tolist()}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))]
    )
    return [out]
