"""The Cloud Function in-process, with nothing behind it."""

from __future__ import annotations

import functions_framework
import pytest

from testkit.gateway_server import TOKEN, env_for
from testkit.mlflow_server import free_port
from testkit.paths import CLOUD_FUNCTION


@pytest.fixture
def function_client(monkeypatch, tmp_path):
    """Flask's test client of the function (functions_framework.create_app), configured as the
    gateway role configures it, but PGHOST is an empty socket directory and GATEWAY_SERVING_URL
    a port nothing listens on: whatever needs serving or the database fails."""
    env = env_for(str(tmp_path), f"http://127.0.0.1:{free_port()}", GATEWAY_TOKEN=TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = functions_framework.create_app(target="predict", source=str(CLOUD_FUNCTION / "main.py"))
    return app.test_client()
