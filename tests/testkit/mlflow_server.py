"""A real MLflow tracking server (sqlite backend, proxied local artifacts) for the tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# How long a server of ours may take to start: CI runs the scenarios and both pytest processes
# at once on two cores, where a tracking server's first start (schema migrations) took over a
# minute. A server that never comes up still fails the test after this.
STARTUP_SECONDS = 180


def wait_for(url: str, seconds: float = STARTUP_SECONDS, headers: dict | None = None) -> None:
    deadline = time.monotonic() + seconds
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=2):  # noqa: S310
            return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


# MLflow 3 starts a job runner and four huey consumers beside the server for GenAI evaluation
# jobs, which nothing here uses; they cost every test's server startup CPU and memory.
NO_JOB_RUNNERS = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


@contextlib.contextmanager
def tracking_server(folder: Path, artifacts: str | None = None, env=None) -> Iterator[str]:
    """A tracking server proxying artifacts to `artifacts` (default: a local folder)."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder}/mlflow.db",
            "--artifacts-destination",
            artifacts or str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **NO_JOB_RUNNERS, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/health")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@contextlib.contextmanager
def bucket_emulator(folder: Path, bucket: str) -> Iterator[subprocess.Popen]:
    """gcp-storage-emulator on a free port; yields the process (its `url` attribute is set)."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--default-bucket",
            bucket,
            "--quiet",
        ],
        env={**os.environ, "STORAGE_BASE": str(folder)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc.url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{proc.url}/storage/v1/b/{bucket}")
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)
