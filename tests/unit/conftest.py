"""The Cloud Function in-process, with nothing behind it."""

from __future__ import annotations

import hashlib
import sys

import functions_framework
import pytest

from testkit.gateway_server import CLIENTS, REVOKED, env_for
from testkit.mlflow_server import free_port
from testkit.paths import CLOUD_FUNCTION


@pytest.fixture
def function_client(monkeypatch, tmp_path):
    """Flask's test client of the function (functions_framework.create_app), configured as the
    gateway role configures it, but PGHOST is an empty socket directory and GATEWAY_SERVING_URL
    a port nothing listens on: whatever needs serving or the database fails.

    The one stand-in: the client lookup (Store.client) answers from testkit's CLIENTS instead of
    access.clients, so that the checks after it run without a database. The integration tests
    run the real lookup (tests/integration/test_function_clients.py)."""
    env = env_for(str(tmp_path), f"http://127.0.0.1:{free_port()}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = functions_framework.create_app(target="predict", source=str(CLOUD_FUNCTION / "main.py"))
    by_sha = {
        hashlib.sha256(key.encode()).digest(): (name, list(scopes), user_id)
        for name, (key, scopes, user_id) in CLIENTS.items()
        if name not in REVOKED
    }
    monkeypatch.setattr(
        sys.modules["store"].Store, "client", lambda self, key_sha256: by_sha.get(key_sha256)
    )
    return app.test_client()


@pytest.fixture
def quick_hashes(monkeypatch):
    """argon2id at its smallest where its profile is not what a test is about (the default
    costs 0.25 s a hash; tests/unit/test_web_accounts.py checks the default)."""
    import argon2

    from attrition.web import accounts

    monkeypatch.setattr(
        accounts, "HASHER", argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
