"""Fixtures of the integration tests: a real, throwaway PostgreSQL cluster with the project's
migrations, real tracking servers, serving and the function under functions-framework."""

from __future__ import annotations

import json
import os
import sys

import psycopg2
import pytest

from testkit.cli import run_cli
from testkit.gateway_server import GRANTS, KEYS_GRANTS, client_list, env_for, gateway
from testkit.mlflow_server import STARTUP_SECONDS, tracking_server
from testkit.model_fixture import fitted, promote, register
from testkit.pgcluster import as_login, create_app_database, grants_sql, throwaway_cluster
from testkit.serving_server import serving


@pytest.fixture(scope="session")
def pg_cluster():
    """The cluster's socket directory (fsync off: a test cluster needs no durability)."""
    with throwaway_cluster(settings=("fsync=off",)) as sock:
        yield sock


@pytest.fixture(scope="session")
def app_db(pg_cluster):
    """The application database with all migrations applied; a libpq DSN."""
    return create_app_database(pg_cluster, "attrition_test")


@pytest.fixture
def conn(app_db):
    """A connection to an empty training.employees, with no recorded loads."""
    connection = psycopg2.connect(app_db)
    with connection, connection.cursor() as cur:
        cur.execute("TRUNCATE training.employees, training.loads")
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def trainer_dsn(app_db):
    """The app database as a role holding exactly the trainer's grants (the pipeline's and the
    operator commands' account)."""
    admin = psycopg2.connect(app_db)
    with admin, admin.cursor() as cur:
        cur.execute(grants_sql("postgres_trainer_user", "trainer_test", "attrition_test"))
    admin.close()
    return as_login(app_db, "trainer_test")


@pytest.fixture(scope="session")
def tracking(tmp_path_factory):
    """A tracking server shared by the tests that use their own model names."""
    with tracking_server(tmp_path_factory.mktemp("mlflow")) as url:
        yield url


@pytest.fixture(autouse=True)
def _mlflow_uri_restored():
    """MLflow keeps the tracking URI process-wide (set_tracking_uri also writes os.environ): a
    test that sets it would hand its server's address to every later test. Each test leaves it
    as it found it."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if "mlflow" in sys.modules:
        sys.modules["mlflow"].set_tracking_uri(None)
    if before is not None:
        os.environ["MLFLOW_TRACKING_URI"] = before


@pytest.fixture
def mlflow_env(tracking, monkeypatch):
    """The shared tracking server for this test."""
    import mlflow

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(tracking)
    return tracking


@pytest.fixture(scope="session")
def keys_dsn(app_db):
    """The app database as a role holding exactly the clients' manager's grants."""
    admin = psycopg2.connect(app_db)
    with admin, admin.cursor() as cur:
        cur.execute(KEYS_GRANTS)
    admin.close()
    return as_login(app_db, "keys")


@pytest.fixture(scope="session")
def gateway_db(app_db, keys_dsn):
    """The app database with a role `gw` holding exactly the gateway's grants, and testkit's
    CLIENTS registered as the playbook registers its list (`attrition keys sync`)."""
    conn = psycopg2.connect(app_db)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(GRANTS)
    synced = run_cli("keys", "sync", dsn=keys_dsn, stdin=json.dumps(client_list()))
    assert synced.returncode == 0, synced.stderr
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def serving_url(tmp_path_factory):
    """Real serving following a tracking server where version 1 is in production."""
    folder = tmp_path_factory.mktemp("gw-registry")
    with tracking_server(folder / "mlflow") as url:
        os.environ["MLFLOW_TRACKING_URI"] = url
        try:
            pipeline, x = fitted(seed=1)
            promote(register(pipeline, x))
            with serving(folder / "serving", {"MLFLOW_TRACKING_URI": url}) as srv:
                srv.wait_until(lambda: srv.call("/ping")[0] == 200, STARTUP_SECONDS, "a model")
                yield srv
        finally:
            del os.environ["MLFLOW_TRACKING_URI"]


@pytest.fixture(scope="session")
def fn(gateway_db, pg_cluster, serving_url, tmp_path_factory):
    """The Cloud Function under functions-framework, as role gw."""
    with gateway(tmp_path_factory.mktemp("gw"), env_for(pg_cluster, serving_url.url)) as gw:
        yield gw
