"""Fixtures: a real, throwaway PostgreSQL cluster with the project's migrations applied."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from pgcluster import create_app_database, throwaway_cluster

IBM_CSV = Path(__file__).resolve().parents[2] / "shared/data/ibm-hr-attrition.csv"


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
    """A connection to an empty training.employees."""
    connection = psycopg2.connect(app_db)
    with connection, connection.cursor() as cur:
        cur.execute("TRUNCATE training.employees")
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def ibm_csv() -> Path:
    if not IBM_CSV.exists():
        pytest.fail(f"the IBM data set is missing at {IBM_CSV}")
    return IBM_CSV
