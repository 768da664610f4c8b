"""Fixtures: a real, throwaway PostgreSQL cluster with the project's migrations applied.

The cluster runs from the distribution's binaries (package postgresql) on a Unix socket in a
temporary directory. PostgreSQL refuses to run as root, so under root it runs as `postgres`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "roles/postgres/files/migrations"
MIGRATE = REPO / "roles/postgres/files/usr/local/sbin/attrition-migrate"
IBM_CSV = REPO.parent / "shared/data/ibm-hr-attrition.csv"


def _pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        pytest.fail("PostgreSQL server binaries missing: apt-get install postgresql (see README)")
    return Path(found[-1]).parent


def _as_owner(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


@pytest.fixture(scope="session")
def pg_cluster():
    """Start a cluster; yields the socket directory (the `host` for libpq)."""
    # Under /tmp directly: pytest's own temporary tree is private to root, and postgres must
    # reach its files. The migrations are copied here for the same reason.
    base = Path(tempfile.mkdtemp(prefix="attrition-pg-"))
    shutil.copytree(MIGRATIONS, base / "migrations")
    shutil.copy(MIGRATE, base / "attrition-migrate")
    if os.geteuid() == 0:
        for path in [base, *base.rglob("*")]:
            shutil.chown(path, "postgres", "postgres")
    data, sock = base / "data", base
    bindir = _pg_bin()
    _as_owner(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    )
    _as_owner(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(base / "log"),
            "-o",
            f"-c listen_addresses='' -c unix_socket_directories='{sock}' -c fsync=off",
            "start",
        ]
    )
    try:
        yield str(sock)
    finally:
        _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def run_migrations(sock: str, dbname: str, migrations: Path | None = None):
    """Run the role's migration runner, as the postgres account would on the db host."""
    env = {**os.environ, "PGHOST": sock, "PGUSER": "postgres"}
    folder = migrations or Path(sock) / "migrations"
    return _as_owner([str(Path(sock) / "attrition-migrate"), dbname, str(folder)], env=env)


@pytest.fixture(scope="session")
def app_db(pg_cluster):
    """The application database with all migrations applied; yields a libpq DSN."""
    admin = psycopg2.connect(host=pg_cluster, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE attrition_test")
    admin.close()
    run_migrations(pg_cluster, "attrition_test")
    return f"host={pg_cluster} user=postgres dbname=attrition_test"


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
