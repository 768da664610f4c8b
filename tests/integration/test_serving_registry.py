"""Serving follows the `production` alias of a real tracking server: switches without failed
requests, refuses broken versions, survives the registry going away."""

from __future__ import annotations

import re
import threading
import time

import pytest

from testkit.mlflow_server import tracking_server
from testkit.model_fixture import BROKEN, fitted, promote, register, training_data
from testkit.serving_server import hammer, serving


def versions_served(server) -> set[str]:
    """What the live workers serve, all of them: the model_info gauge is the maximum over live
    workers, so an old version stays at 1 while any worker still serves it. (Sampling /health
    can miss a worker: an idle worker tends to take every next connection.)"""
    text = server.call("/metrics")[2]
    return set(re.findall(r'model_info\{[^}]*version="([^"]*)"[^}]*\} 1\.0', text))


def all_workers_serve(server, version: str) -> bool:
    return versions_served(server) == {version}


@pytest.fixture
def registry(tmp_path, monkeypatch):
    import mlflow

    with tracking_server(tmp_path / "mlflow") as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mlflow.set_tracking_uri(url)  # over any process-wide URI an earlier test left
        yield url
        mlflow.set_tracking_uri(None)


def test_follows_alias_refuses_broken_versions_and_survives_registry_loss(registry, tmp_path):
    from mlflow import MlflowClient

    good, x = fitted(seed=1)
    v1 = register(good, x)
    # The lineage tags training puts on a version: /health says what production learned from.
    MlflowClient().set_model_version_tag("attrition", v1, "data.kind", "synthetic")
    MlflowClient().set_model_version_tag("attrition", v1, "data.identity", "synthetic:s.csv")
    promote(v1)
    rows = training_data(20, seed=3)[0].to_dict("records")
    env = {"MLFLOW_TRACKING_URI": registry, "ATTRITION_SERVE_POLL_SECONDS": "1"}
    with serving(tmp_path / "srv", env) as srv:
        assert all_workers_serve(srv, v1)
        # When the registry made v1, for the model's age alert (roles/monitoring's rules).
        made = MlflowClient().get_model_version("attrition", v1).creation_timestamp / 1000
        metrics = srv.call("/metrics")[2]
        created = re.search(r"^\w+_model_created_timestamp_seconds (\S+)$", metrics, re.M)
        assert created and float(created[1]) == made
        model = srv.call("/health")[2]["model"]
        assert (model["source"], model["data_kind"], model["data"]) == (
            "registry",
            "synthetic",
            "synthetic:s.csv",
        )

        # A new version under constant load: every request answered, by v1 and then v2.
        v2 = register(fitted(seed=2)[0], x, threshold=0.4)
        stop, results = threading.Event(), []
        threads = hammer(srv, rows, stop, results)
        time.sleep(1)
        promote(v2)
        srv.wait_until(lambda: all_workers_serve(srv, v2), 20, "serving v2")
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join()
        assert [r for r in results if r[0] != 200] == []
        assert {r[1] for r in results} == {v1, v2}
        assert srv.predict(rows)[2]["threshold"] == 0.4

        # Versions whose files cannot load, are not what was registered or could run code
        # (BROKEN), and one that loads but expects other features.
        refusals = {register(good, x, broken=how): words for how, words in BROKEN.items()}
        three, x3 = fitted(seed=1, columns=["age", "overtime", "monthlyincome"])
        refusals[register(three, x3)] = "not the contract"
        for broken, words in refusals.items():
            promote(broken)
            srv.wait_until(
                lambda b=broken: all(b in srv.call("/health")[2]["refused"] for _ in range(6)),
                20,
                f"refusing {broken}",
            )
            health = srv.call("/health")[2]
            assert words in health["refused"][broken]
            assert health["model"]["version"] == v2
            assert srv.predict(rows)[0] == 200
        text = srv.call("/metrics")[2]
        assert 'attrition_serving_model_reloads_total{outcome="refused"}' in text

        promote(v2)
    # The registry goes away while serving, and is still away at the next start.
    with serving(tmp_path / "srv", {**env, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}) as srv:
        health = srv.call("/health")[2]
        assert health["model"]["version"] == v2
        assert health["model"]["source"] == "cache"
        assert srv.predict(rows)[0] == 200
        assert "cannot reach the registry" in (health["last_error"] or "")


def test_registry_down_during_checks_keeps_serving(tmp_path, monkeypatch):
    good, x = fitted(seed=1)
    rows = training_data(5, seed=3)[0].to_dict("records")
    folder = tmp_path / "mlflow"
    with tracking_server(folder) as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        promote(register(good, x))
        env = {"MLFLOW_TRACKING_URI": url, "ATTRITION_SERVE_POLL_SECONDS": "1"}
        srv_context = serving(tmp_path / "srv", env, workers=1)
        srv = srv_context.__enter__()
    try:  # the tracking server has stopped here
        srv.wait_until(
            lambda: "cannot reach the registry" in (srv.call("/health")[2]["last_error"] or ""),
            20,
            "the check failing",
        )
        assert srv.predict(rows)[0] == 200
        assert srv.call("/health")[2]["model"]["version"] == "1"
        text = srv.call("/metrics")[2]
        assert 'attrition_serving_model_reloads_total{outcome="error"}' in text
    finally:
        srv_context.__exit__(None, None, None)


def test_no_production_version_yet_answers_503(registry, tmp_path):
    env = {"MLFLOW_TRACKING_URI": registry, "ATTRITION_SERVE_POLL_SECONDS": "1"}
    with serving(tmp_path / "srv", env, workers=1) as srv:
        status, _, out = srv.predict([{"age": 30}])
        assert status == 503
        assert "no `production` version" in out["error"]
        good, x = fitted(seed=1)
        promote(register(good, x))  # the first model arrives: served without a restart
        srv.wait_until(lambda: srv.call("/ping")[0] == 200, 20, "the first model")
