"""The serving app over HTTP under a real gunicorn, serving a model from a local directory."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import mlflow.sklearn
import numpy as np
import pytest

from attrition.features import NAMES
from testkit import prometheus_text
from testkit.logs import without_request_ids
from testkit.model_fixture import save, training_data
from testkit.serving_server import hammer, serving

THRESHOLD = 0.3


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model"
    save(str(path), threshold=THRESHOLD)
    return path


@pytest.fixture(scope="module")
def server(model_dir, tmp_path_factory):
    env = {
        "ATTRITION_SERVE_MODEL_URI": str(model_dir),
        "ATTRITION_SERVE_MAX_ROWS": "500",
        "ATTRITION_SERVE_MAX_BODY_BYTES": "200000",
    }
    with serving(tmp_path_factory.mktemp("serving"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def rows():
    x, _ = training_data(300, seed=99)
    return x.to_dict("records")


def test_predictions_are_the_models(server, model_dir, rows):
    pipeline = mlflow.sklearn.load_model(str(model_dir))
    expected = pipeline.predict_proba(training_data(300, seed=99)[0])[:, 1]
    status, _, out = server.predict(rows)
    assert status == 200
    assert out["model"] == {"name": "attrition", "version": ""}
    assert out["threshold"] == THRESHOLD
    proba = np.array([p["probability"] for p in out["predictions"]])
    np.testing.assert_allclose(proba, expected, rtol=1e-12)
    assert [p["attrition"] for p in out["predictions"]] == list(expected >= THRESHOLD)
    assert 0 < np.mean(expected >= THRESHOLD) < 1  # both labels occur: not "No" for everyone

    status, _, out = server.predict({"dataframe_records": rows}, "/invocations")
    assert status == 200
    assert out == {"predictions": [int(p >= THRESHOLD) for p in expected]}

    cols = list(reversed(NAMES))
    csv = ",".join(cols) + "\n" + "\n".join(",".join(str(r[c]) for c in cols) for r in rows)
    status, _, out = server.call("/invocations", csv.encode(), "text/csv")
    assert status == 200
    assert out["predictions"] == [int(p >= THRESHOLD) for p in expected]


def test_operations_routes(server):
    status, _, body = server.call("/ping")
    assert (status, body) == (200, {"status": "ok"})
    status, _, health = server.call("/health")
    assert status == 200
    assert health["model"]["source"] == "path"
    assert health["model"]["threshold"] == THRESHOLD
    status, _, version = server.call("/version")
    assert set(version["packages"]) == {"attrition", "mlflow-skinny", "scikit-learn"}


@pytest.mark.parametrize(
    ("body", "ctype", "status", "words"),
    [
        (b'{"data": [', "application/json", 400, "not valid JSON"),
        (b"age=3", "application/x-www-form-urlencoded", 415, "unsupported content type"),
        (b"x" * 200_001, "application/json", 413, "larger than 200000 bytes"),
        (json.dumps([{}] * 501).encode(), "application/json", 413, "too many rows: 501"),
        (b"[]", "application/json", 400, "no rows"),
    ],
)
def test_bad_requests(server, body, ctype, status, words):
    got, head, out = server.call("/predict", body, ctype)
    assert got == status
    assert words in out["error"]
    assert head["X-Request-ID"]


def test_bad_row_names_row_and_field_without_echo(server, rows):
    bad = [*rows[:3], {**rows[3], "monthlyincome": "987654321"}]
    status, _, out = server.predict(bad)
    assert status == 400
    assert (out["row"], out["field"]) == (3, "monthlyincome")
    assert "age" not in json.dumps(out)  # the other rows are not echoed back


def test_routes_and_methods(server):
    assert server.call("/nowhere")[0] == 404
    assert server.call("/predict")[0] == 405  # GET
    assert server.call("/health", b"{}")[0] == 405  # POST


def test_one_log_line_per_request_without_feature_values(server, rows):
    marker = "req-log-check-1"
    row = {**rows[0], "monthlyincome": 17771}
    server.call("/predict", json.dumps([row]).encode(), headers={"X-Request-ID": marker})
    time.sleep(0.3)
    lines = [json.loads(line) for line in server.log_text().splitlines() if marker in line]
    assert len(lines) == 1
    assert lines[0]["route"] == "/predict" and lines[0]["status"] == 200
    assert lines[0]["rows"] == 1 and lines[0]["ms"] > 0
    assert "17771" not in without_request_ids(server.log_text())


def metric(server, name: str) -> float:
    return prometheus_text.value(server.call("/metrics")[2], name)


def test_metrics_count_over_all_workers(server, rows):
    before_rows = metric(server, "attrition_serving_rows_predicted_total")
    before_400 = metric(server, 'attrition_serving_requests_total{route="/predict",status="400"}')
    for _ in range(10):  # spread over both workers
        assert server.predict(rows[:7])[0] == 200
    server.predict([{"age": 1}])
    assert metric(server, "attrition_serving_rows_predicted_total") == before_rows + 70
    assert (
        metric(server, 'attrition_serving_requests_total{route="/predict",status="400"}')
        == before_400 + 1
    )
    text = server.call("/metrics")[2]
    info = 'attrition_serving_model_info{name="attrition",source="path",version="(path)"} 1.0'
    assert info in text
    assert "attrition_serving_request_seconds_bucket" in text
    ratio = metric(server, "attrition_serving_positive_ratio")
    assert 0 < ratio < 1


def test_killed_worker_is_replaced(server, rows):
    before = server.workers()
    assert len(before) == 2
    exits = metric(server, "attrition_serving_worker_exits_total")
    stop, results = threading.Event(), []
    threads = hammer(server, rows, stop, results)
    time.sleep(1)
    os.kill(before[0], signal.SIGKILL)
    server.wait_until(
        lambda: len(server.workers()) == 2 and before[0] not in server.workers(),
        what="a new worker",
    )
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    failed = [r for r in results if r[0] != 200]
    # Requests in flight on the killed worker fail (at most one per client thread); the rest
    # are served by the other worker and then by the replacement.
    print(f"SIGKILL under load: {len(results)} requests, {len(failed)} failed: {failed}")
    assert len(failed) <= 4
    assert len(results) > 50
    assert metric(server, "attrition_serving_worker_exits_total") == exits + 1
    assert all(server.predict(rows[:1])[0] == 200 for _ in range(10))


def test_no_model_answers_503_and_stays_up(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "MLmodel").write_text("flavors: {}\n")
    with serving(tmp_path / "srv", {"ATTRITION_SERVE_MODEL_URI": str(broken)}, workers=1) as srv:
        status, _, out = srv.predict([{"age": 30}])
        assert status == 503
        assert "no model is loaded yet" in out["error"] and "refused" in out["error"]
        assert srv.call("/ping")[0] == 503
        status, _, health = srv.call("/health")
        assert status == 503 and health["model"] is None
        assert srv.proc.poll() is None  # still running, not crash-looping
