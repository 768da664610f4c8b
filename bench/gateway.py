"""Benchmark: requests through the gateway (validate, serving, store) against the prototype's
path built the same way on the same machine.

    apt-get install wrk nginx
    .venv/bin/python bench/gateway.py [--seconds 10]

Ours: cloud_function/ under functions-framework (2 processes x 4 threads, as the gateway role
runs it) -> our serving app (gunicorn sync x2) following a real tracking server -> PostgreSQL,
once directly (plain HTTP) and once through the edge as on the fleet (ours+edge: bench/edge.py,
the edge role's nginx with TLS in front of the function and of serving, certificates verified).
Prototype: bench/prototype_function/ (a SQLAlchemy engine per request, one INSERT per row) under
functions-framework with the same processes and threads -> `mlflow models serve` -> the same
PostgreSQL. 1-row and 20-row requests at 8 connections (wrk, 1 thread). Then the database write
cost per prediction row, measured alone (the function's Store.save, 20-row requests).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import mlflow
import mlflow.sklearn
import psycopg2
from edge import edge  # bench/edge.py

from attrition import client_keys
from attrition.training import model
from testkit.gateway_server import GRANTS, SEED, TOKEN, client_list
from testkit.mlflow_server import free_port, tracking_server
from testkit.model_fixture import fitted, promote, register
from testkit.paths import CLOUD_FUNCTION, REPO
from testkit.pgcluster import create_app_database, throwaway_cluster

from serving import server, wrk  # bench/serving.py

BIN = Path(sys.executable).parent


def body(tmp: Path, rows: int) -> Path:
    path = tmp / f"gw{rows}.json"
    path.write_text(
        json.dumps({"user_id": 7, "data": [{**SEED, "age": 20 + i % 40} for i in range(rows)]})
    )
    return path


def function(source: Path, port: int) -> list[str]:
    return [
        str(BIN / "functions-framework"),
        "--target",
        "predict",
        "--source",
        str(source),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def write_cost(sock: str, requests: int = 200, rows: int = 20) -> float:
    """Milliseconds per stored prediction row through the function's own Store."""
    sys.path.insert(0, str(CLOUD_FUNCTION))
    os.environ.update(PGHOST=sock, PGUSER="gw", PGDATABASE="attrition_test")
    from store import Store

    store = Store(1)
    result = {
        "name": "attrition",
        "version": 1,
        "threshold": 0.3,
        "predictions": [(False, 0.1)] * rows,
    }
    values = [[SEED[n] for n in SEED]] * rows
    started = time.perf_counter()
    for _ in range(requests):
        store.save(str(uuid.uuid4()), 7, None, b"x", result, values)
    return (time.perf_counter() - started) * 1000 / (requests * rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", default="4", help="functions-framework THREADS (ours)")
    parser.add_argument("--only-ours", action="store_true", help="skip the prototype (tuning)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    bodies = {n: body(tmp, n) for n in (1, 20)}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    results = {}
    with throwaway_cluster(settings=("max_connections=200",)) as sock:
        dsn = create_app_database(sock, "attrition_test")
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(GRANTS)
        conn = psycopg2.connect(dsn)  # the fleet's way: the page's key, as its sha256
        client_keys.sync(conn, client_list())
        conn.close()
        with tracking_server(tmp / "mlflow") as url:
            os.environ["MLFLOW_TRACKING_URI"] = url
            pipeline, x = fitted(seed=1)
            promote(register(pipeline, x))
            model_dir = tmp / "model"
            mlflow.sklearn.save_model(
                pipeline, str(model_dir), **model.mlflow_options(pipeline, x.head(1), 0.3)
            )
            threads = {"WORKERS": "2", "THREADS": args.threads}
            sport, fport = free_port(), free_port()
            serving_env = {
                "MLFLOW_TRACKING_URI": url,
                "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
                "ATTRITION_SERVE_CACHE_DIR": str(tmp / "cache"),
            }
            ours_serving = [
                str(BIN / "gunicorn"),
                "-c",
                "python:attrition.serving.gunicorn_conf",
                "-b",
                f"127.0.0.1:{sport}",
                "-w",
                "2",
            ]
            fn_env = {
                "PGHOST": sock,
                "PGUSER": "gw",
                "PGDATABASE": "attrition_test",
                **threads,
            }
            with server(ours_serving, sport, serving_env, tmp / "serving.log"), edge(
                tmp / "edge", {"serving": sport, "function": fport}
            ) as (edge_ports, ca_file):
                # Direct: the function on plain HTTP to serving's own port, as before the edge.
                # Through the edge: the fleet's path, TLS to nginx in front of the function and
                # from the function to nginx in front of serving, each certificate verified.
                paths = {
                    "ours": (fport, False, {"GATEWAY_SERVING_URL": f"http://127.0.0.1:{sport}"}),
                    "ours+edge": (
                        edge_ports["function"],
                        True,
                        {
                            "GATEWAY_SERVING_URL": f"https://127.0.0.1:{edge_ports['serving']}",
                            "GATEWAY_SERVING_CA_FILE": ca_file,
                        },
                    ),
                }
                for name, (target, tls, link_env) in paths.items():
                    with server(
                        function(CLOUD_FUNCTION / "main.py", fport),
                        fport,
                        {**fn_env, **link_env},
                        tmp / "fn.log",
                        ready="/?user_id=1",
                        headers=auth,
                    ):
                        wrk(target, bodies[1], 8, 2, "/", auth, tls)
                        results[name] = {
                            n: wrk(target, bodies[n], 8, args.seconds, "/", auth, tls)
                            for n in (1, 20)
                        }
            sport, fport = free_port(), free_port()
            if args.only_ours:
                return print(results)
            mlflow_cmd = [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                str(model_dir),
                "--env-manager",
                "local",
                "-p",
                str(sport),
                "-w",
                "1",
            ]
            proto_env = {
                "PROTOTYPE_SERVING_URL": f"http://127.0.0.1:{sport}",
                "PROTOTYPE_DB_URL": f"postgresql+psycopg2://postgres@/attrition_test?host={sock}",
                **threads,
            }
            with server(mlflow_cmd, sport, {}, tmp / "mlflow-serve.log"), server(
                function(REPO / "bench/prototype_function/main.py", fport),
                fport,
                proto_env,
                tmp / "proto.log",
                ready=None,
            ):
                wrk(fport, bodies[1], 8, 2, "/", auth)
                results["prototype"] = {
                    n: wrk(fport, bodies[n], 8, args.seconds, "/", auth) for n in (1, 20)
                }
        cost = write_cost(sock)
    print(f"\ncpus: {os.cpu_count()}, {args.seconds} s per cell, 8 connections, wrk -t1")
    print(
        f"{'path':<12} {'rows':>4} {'req/s':>8} {'x proto':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6}"
    )
    for name, cells in results.items():
        for rows, r in cells.items():
            factor = r["rps"] / results["prototype"][rows]["rps"]
            print(
                f"{name:<12} {rows:>4} {r['rps']:>8.0f} {factor:>8.1f} {r['p50']:>8.2f} "
                f"{r['p99']:>8.2f} {r['non2xx'] + r['socket_errors']:>6}"
            )
    print(
        f"\ndatabase write cost: {cost:.3f} ms per prediction row (20-row requests, one"
        " transaction each, Store.save, one connection)"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
