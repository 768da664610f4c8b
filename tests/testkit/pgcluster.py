"""A real, throwaway PostgreSQL cluster with the project's migrations, for tests and benchmarks.

It runs from the distribution's binaries (package postgresql) on a Unix socket in a temporary
directory. PostgreSQL refuses to run as root, so under root it runs as the `postgres` account.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2

from testkit.paths import MIGRATIONS, REPO

MIGRATE = REPO / "roles/postgres/files/usr/local/sbin/attrition-migrate"


def _pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise RuntimeError("PostgreSQL server binaries missing: apt-get install postgresql")
    return Path(found[-1]).parent


def as_owner(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def hand_over(path: Path) -> None:
    """Let the cluster's account own `path` and everything under it."""
    if os.geteuid() == 0:
        for item in [path, *path.rglob("*")]:
            shutil.chown(item, "postgres", "postgres")


@contextlib.contextmanager
def throwaway_cluster(settings: tuple[str, ...] = ()) -> Iterator[str]:
    """Start a cluster; yields its socket directory (libpq's `host`)."""
    # Directly under /tmp: pytest's temporary tree is private to root, and postgres must reach
    # its files. The migrations are copied here for the same reason.
    base = Path(tempfile.mkdtemp(prefix="attrition-pg-"))
    shutil.copytree(MIGRATIONS, base / "migrations")
    shutil.copy(MIGRATE, base / "attrition-migrate")
    hand_over(base)
    data, bindir = base / "data", _pg_bin()
    as_owner([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])
    options = ["listen_addresses=''", f"unix_socket_directories='{base}'", *settings]
    as_owner(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(base / "log"),
            "-o",
            " ".join(f"-c {o}" for o in options),
            "start",
        ]
    )
    try:
        yield str(base)
    finally:
        as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def run_migrations(sock: str, dbname: str, migrations: Path | None = None):
    """Run the role's migration runner, as the postgres account would on the db host."""
    env = {**os.environ, "PGHOST": sock, "PGUSER": "postgres"}
    folder = migrations or Path(sock) / "migrations"
    return as_owner([str(Path(sock) / "attrition-migrate"), dbname, str(folder)], env=env)


def create_app_database(sock: str, dbname: str) -> str:
    """A migrated application database; returns its DSN (as the superuser)."""
    admin = psycopg2.connect(host=sock, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE \"{dbname}\" ENCODING 'UTF8' TEMPLATE template0")
    admin.close()
    run_migrations(sock, dbname)
    return f"host={sock} user=postgres dbname={dbname}"


PRIVILEGES = REPO / "roles/postgres/vars/main.yml"


def grants_sql(role_var: str, login: str, dbname: str) -> str:
    """SQL that gives a test role `login` exactly the grants the postgres role gives the account
    named by `role_var` (read from __postgres_privileges in roles/postgres/vars/main.yml, the
    one place)."""
    import yaml

    items = yaml.safe_load(PRIVILEGES.read_text())["__postgres_privileges"]
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{login}')"
        f" THEN CREATE ROLE {login} LOGIN; END IF; END $$;"
    ]
    for item in items:
        if item["role"] != "{{ " + role_var + " }}" or item.get("state", "present") != "present":
            continue
        objs = [o.strip() for o in item["objs"].split(",")]
        if item["type"] == "database":
            target = f"DATABASE {dbname}"
        elif item["type"] == "schema":
            target = "SCHEMA " + ", ".join(objs)
        else:  # table or sequence, in a schema
            target = f"{item['type'].upper()} " + ", ".join(f"{item['schema']}.{o}" for o in objs)
        statements.append(f"GRANT {item['privs']} ON {target} TO {login};")
    return "\n".join(statements)


def as_login(dsn: str, login: str) -> str:
    """The same database as another role (the test cluster trusts local connections)."""
    return dsn.replace("user=postgres", f"user={login}")
