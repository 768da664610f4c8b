"""Benchmark: our serving app against `mlflow models serve` and a bare pipeline-only app.

    apt-get install wrk nginx   # Debian's wrk, the load generator, and the edge's nginx
    .venv/bin/python bench/serving.py [--seconds 10]

One model (the default pipeline fitted on the IBM_CSV data set), one machine, one load generator
(wrk, 1 thread, keep-alive), run one after the other: requests/s and p50/p99 latency for 1-row
and 100-row requests at 1 and 8 connections; peak RSS per worker and the service's total
(PSS); our app once more through the edge (bench/edge.py: the edge role's nginx, TLS), and the
edge's cost per request; then a run at 8 connections during which the `production` alias moves
to another version (our app following a real tracking server): failed requests and the latency
spike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import mlflow
import mlflow.sklearn
import pandas as pd

from attrition import features, model_files
from attrition.training import model
from testkit.mlflow_server import free_port, tracking_server, wait_for
from testkit.paths import IBM_CSV, REPO

BIN = Path(sys.executable).parent
warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")


def fit(seed: int = 42):
    records = pd.read_csv(IBM_CSV)
    x = features.from_records(records)
    y = (records["Attrition"] == "Yes").astype(int)
    # A 90 % sample per seed: two seeds give two different versions for the alias switch.
    part = x.sample(frac=0.9, random_state=seed).index
    pipeline = model.build("logistic_regression", seed).fit(x.loc[part], y.loc[part])
    return pipeline, x


def wait_listening(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.3)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


@contextlib.contextmanager
def server(
    cmd: list[str],
    port: int,
    env: dict,
    log: Path,
    ready: str | None = "/ping",
    headers: dict | None = None,
):
    """A server process; ready when `ready` answers 2xx (None: when the port accepts)."""
    with log.open("w") as out:
        # PATH: `mlflow models serve` starts `uvicorn` by name from the venv.
        path = f"{BIN}:{os.environ['PATH']}"
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, "PATH": path, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if ready is None:
            wait_listening(port)
        else:
            wait_for(f"http://127.0.0.1:{port}{ready}", 120, headers)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def wrk(
    port: int,
    body: Path,
    conns: int,
    seconds: int,
    path: str = "/invocations",
    headers: dict | None = None,
    tls: bool = False,
) -> dict:
    script = body.with_suffix(".lua")
    extra = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in (headers or {}).items())
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f'{extra}wrk.body = io.open("{body}"):read("*a")\n'
    )
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(text: str) -> float:
        found = re.match(r"([\d.]+)(us|ms|s|m)$", text)
        if not found:
            print(f"cannot read a latency from {text!r} in:\n{out}", flush=True)
            return float("nan")
        value, unit = found.groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]

    found = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        # The latency distribution's own lines (a "+/- Stdev" column can end in 50% too).
        "p50": ms(re.search(r"^\s+50%[ \t]+(\S+)", out, re.M).group(1)),
        "p99": ms(re.search(r"^\s+99%[ \t]+(\S+)", out, re.M).group(1)),
        "max": ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1)),
        "non2xx": int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1]),
        "socket_errors": sum(
            int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)
        ),
    }
    return found


def memory(master: int) -> dict:
    """Peak RSS of each worker (VmHWM) and the service's PSS (shared pages counted once)."""
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    pids = [master] + [int(p) for p in children.stdout.split()]

    def field(pid: int, path: str, name: str) -> float:
        text = Path(f"/proc/{pid}/{path}").read_text()
        return int(re.search(rf"^{name}:\s+(\d+)", text, re.M).group(1)) / 1024

    return {
        "workers_peak_rss_mb": [round(field(p, "status", "VmHWM")) for p in pids[1:]],
        "total_pss_mb": round(sum(field(p, "smaps_rollup", "Pss") for p in pids)),
    }


def ours(port, workers, threads=1, worker_class="sync", extra=None):
    return [
        str(BIN / "gunicorn"),
        "-c",
        "python:attrition.serving.gunicorn_conf",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-k",
        worker_class,
        *(extra or []),
    ]


THROUGH_EDGE = "ours (sync x2) through the edge (TLS)"


@contextlib.contextmanager
def front(name: str, port: int, tmp: Path):
    """Where wrk sends a candidate's requests: (port, TLS?); the edge's nginx in front of it for
    THROUGH_EDGE, else the app server itself."""
    if name != THROUGH_EDGE:
        yield port, False
        return
    from edge import edge  # bench/edge.py

    with edge(tmp / "edge", {"serving": port}) as (ports, _):
        yield ports["serving"], True


def table(tmp: Path, model_dir: Path, bodies: dict, seconds: int) -> dict:
    results = {}
    metrics_dir = tmp / "metrics"
    candidates = {
        "mlflow models serve (1 uvicorn worker)": lambda p: (
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                str(model_dir),
                "--env-manager",
                "local",
                "-p",
                str(p),
                "-w",
                "1",
            ],
            {},
        ),
        "mlflow models serve (2 uvicorn workers)": lambda p: (
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                str(model_dir),
                "--env-manager",
                "local",
                "-p",
                str(p),
                "-w",
                "2",
            ],
            {},
        ),
        "bare pipeline app (gunicorn sync x2)": lambda p: (
            [
                str(BIN / "gunicorn"),
                "-b",
                f"127.0.0.1:{p}",
                "-w",
                "2",
                "--chdir",
                str(REPO),
                "bench.bare_app:app",
            ],
            {"BARE_MODEL": str(model_dir)},
        ),
        "ours (gunicorn sync x2)": lambda p: (ours(p, 2), {}),
        THROUGH_EDGE: lambda p: (ours(p, 2), {}),
        "ours (gunicorn sync x3)": lambda p: (ours(p, 3), {}),
        "ours (gunicorn gthread 2x4)": lambda p: (ours(p, 2, 4, "gthread"), {}),
    }
    env_ours = {
        "ATTRITION_SERVE_MODEL_URI": str(model_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "ATTRITION_SERVE_CACHE_DIR": str(tmp / "cache"),
    }
    for name, make in candidates.items():
        port = free_port()
        cmd, env = make(port)
        with server(cmd, port, {**env_ours, **env}, tmp / "server.log") as proc, front(
            name, port, tmp
        ) as (target, tls):
            wrk(target, bodies[1], 8, 2, tls=tls)  # warm up
            row = {}
            for rows, conns in ((1, 1), (1, 8), (100, 1), (100, 8)):
                row[(rows, conns)] = wrk(target, bodies[rows], conns, seconds, tls=tls)
                print(
                    f"  {name}, {rows} rows, {conns} connections: {row[(rows, conns)]}", flush=True
                )
            row["memory"] = memory(proc.pid)
        results[name] = row
        print(f"{name}: done", flush=True)
    return results


def switch_under_load(tmp: Path, bodies: dict, seconds: int) -> dict:
    """Our app (sync x2, alias checked every second) while `production` moves v1 -> v2."""
    with tracking_server(tmp / "mlflow") as url:
        os.environ["MLFLOW_TRACKING_URI"] = url
        versions = []
        for seed in (42, 7):
            pipeline, x = fit(seed)
            with mlflow.start_run():
                logged = mlflow.sklearn.log_model(
                    pipeline, name="model", **model.mlflow_options(pipeline, x.head(1), 0.33)
                )
            sha = {model_files.SHA256_TAG: model_files.stored_sha256(logged.model_id)}
            versions.append(mlflow.register_model(logged.model_uri, "attrition", tags=sha).version)
        client = mlflow.MlflowClient()
        client.set_registered_model_alias("attrition", "production", versions[0])
        port = free_port()
        env = {
            "MLFLOW_TRACKING_URI": url,
            "ATTRITION_SERVE_POLL_SECONDS": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics2"),
            "ATTRITION_SERVE_CACHE_DIR": str(tmp / "cache2"),
        }
        with server(ours(port, 2), port, env, tmp / "switch.log"):
            steady = wrk(port, bodies[1], 8, seconds, "/predict")
            timer = threading.Timer(
                seconds / 2,
                client.set_registered_model_alias,
                ("attrition", "production", versions[1]),
            )
            timer.start()
            during = wrk(port, bodies[1], 8, seconds, "/predict")
            timer.join()
            health = json.loads(
                subprocess.run(
                    ["curl", "-s", f"http://127.0.0.1:{port}/health"],
                    capture_output=True,
                    text=True,
                ).stdout
            )
        return {
            "steady": steady,
            "during switch": during,
            "served after": health["model"]["version"],
            "expected": versions[1],
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    pipeline, x = fit()
    model_dir = tmp / "model"
    mlflow.sklearn.save_model(
        pipeline, str(model_dir), **model.mlflow_options(pipeline, x.head(1), 0.33)
    )
    bodies = {}
    for rows in (1, 100):
        bodies[rows] = tmp / f"body{rows}.json"
        records = x.sample(rows, random_state=rows).to_dict("records")
        bodies[rows].write_text(json.dumps({"dataframe_records": records}))
    print(f"cpus: {os.cpu_count()}, {args.seconds} s per cell, wrk -t1, model: default pipeline")
    results = table(tmp, model_dir, bodies, args.seconds)
    base = results["mlflow models serve (1 uvicorn worker)"]
    print(
        f"\n{'server':<40} {'rows':>4} {'conns':>5} {'req/s':>8} {'x mlflow':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
    )
    for name, row in results.items():
        for key in ((1, 1), (1, 8), (100, 1), (100, 8)):
            r = row[key]
            print(
                f"{name:<40} {key[0]:>4} {key[1]:>5} {r['rps']:>8.0f} "
                f"{r['rps'] / base[key]['rps']:>8.1f} {r['p50']:>7.2f} {r['p99']:>7.2f} "
                f"{r['non2xx'] + r['socket_errors']:>6}"
            )
    direct, through = results["ours (gunicorn sync x2)"], results[THROUGH_EDGE]
    print("\nthe edge's cost per request (ours sync x2, through the edge minus direct):")
    for key in ((1, 1), (1, 8), (100, 1), (100, 8)):
        added = through[key]["p50"] - direct[key]["p50"]
        ratio = through[key]["rps"] / direct[key]["rps"]
        print(f"  {key[0]:>3} rows, {key[1]} conns: p50 {added:+.2f} ms, throughput x{ratio:.2f}")
    print("\nmemory after the runs (peak RSS per worker, service total PSS):")
    for name, row in results.items():
        print(f"  {name:<40} {row['memory']}")
    switch = switch_under_load(tmp, bodies, max(args.seconds, 10))
    print("\nalias switch under load (ours, sync x2, 1-row /predict, 8 connections):")
    for label in ("steady", "during switch"):
        r = switch[label]
        print(
            f"  {label:<14} {r['rps']:>7.0f} req/s  p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f}"
            f" ms  max {r['max']:.1f} ms  failed {r['non2xx'] + r['socket_errors']}"
        )
    print(
        f"  served after the run: version {switch['served after']} (expected {switch['expected']})"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
