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
    # "key": callers send a client key (Authorization: Bearer <key>), looked up by its sha256
    # in access.clients. "iam": Google Cloud let only callers with an identity token for
    # iam_audience (the function's URL) through; the token is verified again against
    # iam_certs_url (empty: Google's keys) and its e-mail looked up as a client.
    auth: str = "key"
    iam_audience: str = ""
    iam_certs_url: str = ""
    max_rows: int = 100
    max_body_bytes: int = 262144
    serving_timeout: float = 5.0
    db_pool_size: int = 8
    # How long a request waits for a free database connection before a 503.
    db_pool_wait: float = 5.0
    history_limit: int = 100
    # Where the function answers with its Prometheus metrics, without a key (the local gateway:
    # its nginx lets only the monitoring hosts ask); empty: nowhere (Google Cloud, where Cloud
    # Monitoring counts requests).
    metrics_path: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        conf = cls(**typed_from_env(cls, PREFIX, env))
        if conf.auth not in ("key", "iam"):
            raise ValueError(f"GATEWAY_AUTH={conf.auth!r}: use key or iam")
        if conf.auth == "iam" and not conf.iam_audience:
            raise ValueError("GATEWAY_IAM_AUDIENCE (the function's URL) must be set for iam")
        if not conf.serving_url:
            raise ValueError("GATEWAY_SERVING_URL must be set, e.g. https://serving:8080")
        if conf.metrics_path and not conf.metrics_path.startswith("/"):
            raise ValueError(f"GATEWAY_METRICS_PATH={conf.metrics_path!r}: a path, e.g. /metrics")
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
