"""The function's settings, from its environment (read once per instance): the package's pattern
(attrition/settings.py), a frozen dataclass whose defaults give each field's type, one
GATEWAY_<FIELD> variable per field.

Locally the gateway role writes them to an EnvironmentFile; on Google Cloud the deploy playbook
passes them with --set-env-vars and the secrets with --set-secrets. The database is reached with
libpq's own variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

PREFIX = "GATEWAY_"


@dataclass(frozen=True)
class Settings:
    # Where the serving host answers, e.g. https://serving:8080 (required), and the CA file its
    # certificate must chain to (empty: the system's CAs).
    serving_url: str = ""
    serving_ca_file: str = ""
    # "token": a bearer token must match GATEWAY_TOKEN (the local fleet). "iam": Google Cloud
    # checked the caller's identity token before the request reached us.
    auth: str = "token"
    token: str = ""
    max_rows: int = 100
    max_body_bytes: int = 262144
    serving_timeout: float = 5.0
    db_pool_size: int = 8
    # How long a request waits for a free database connection before a 503.
    db_pool_wait: float = 5.0
    history_limit: int = 100

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        conf = cls(**typed_from_env(cls, PREFIX, env))
        if conf.auth not in ("token", "iam"):
            raise ValueError(f"GATEWAY_AUTH={conf.auth!r}: use token or iam")
        if conf.auth == "token" and len(conf.token) < 16:
            raise ValueError("GATEWAY_TOKEN must be 16 characters or more when GATEWAY_AUTH=token")
        if not conf.serving_url:
            raise ValueError("GATEWAY_SERVING_URL must be set, e.g. https://serving:8080")
        return conf


# The function is deployed on its own (this folder is all Google Cloud gets), so it cannot import
# attrition.settings: this is a copy of its typed_from_env, kept equal by a unit test
# (tests/unit/test_function_settings.py).
def typed_from_env(cls, prefix: str, env: dict[str, str] | None = None) -> dict:
    """{field: value} for each field of dataclass `cls` whose PREFIX_FIELD variable is set,
    converted to the type of the field's default (a clear error names the variable)."""
    env = os.environ if env is None else env
    values = {}
    for f in fields(cls):
        key = f"{prefix}{f.name.upper()}"
        raw = env.get(key)
        if raw is None:
            continue
        kind = type(f.default)
        try:
            values[f.name] = kind(raw)
        except ValueError:
            raise ValueError(f"{key}={raw!r} is not a valid {kind.__name__}") from None
    return values
