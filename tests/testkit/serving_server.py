"""The serving app under a real gunicorn, for the tests."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from testkit.mlflow_server import STARTUP_SECONDS, free_port

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


class Server:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path):
        self.proc, self.url, self.log = proc, url, log

    def call(
        self,
        path: str,
        body: bytes | None = None,
        ctype: str = "application/json",
        headers: dict | None = None,
        timeout: float = 10,
    ):
        """(status, headers, body as JSON or text) of one request."""
        head = {"Content-Type": ctype, **(headers or {})}
        request = urllib.request.Request(self.url + path, data=body, headers=head)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                status, head, raw = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as err:
            status, head, raw = err.code, err.headers, err.read()
        try:
            return status, head, json.loads(raw)
        except ValueError:
            return status, head, raw.decode()

    def predict(self, rows: list, path: str = "/predict"):
        return self.call(path, json.dumps(rows).encode())

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def wait_until(self, check, seconds: float = 30, what: str = "the condition"):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, KeyError, TypeError):
                if check():
                    return
            time.sleep(0.2)
        raise AssertionError(f"{what} did not hold within {seconds} s; log:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text()


@contextlib.contextmanager
def serving(folder: Path, env: dict, workers: int = 2) -> Iterator[Server]:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "serving.log"
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        "ATTRITION_SERVE_CACHE_DIR": str(folder / "cache"),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
        **env,
    }
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                GUNICORN,
                "-c",
                "python:attrition.serving.gunicorn_conf",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                "--graceful-timeout",
                "5",
            ],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        server.wait_until(
            lambda: server.call("/version")[0] == 200, STARTUP_SECONDS, "the server answering"
        )
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def hammer(server, rows, stop: threading.Event, results: list, threads: int = 4):
    """Threads sending 5-row predictions until `stop` is set; each appends (status, version).
    A request may take 15 s: on a CI machine running three scenarios beside the tests, a 5 s
    limit failed requests that the server did answer (a slow machine, not a lost request)."""

    def loop():
        body = json.dumps(rows[:5]).encode()
        while not stop.is_set():
            try:
                status, _, out = server.call("/predict", body, timeout=15)
                results.append((status, out.get("model", {}).get("version")))
            except OSError as err:
                results.append((type(err).__name__, None))

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    return workers
