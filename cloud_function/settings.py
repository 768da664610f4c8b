"""The function's settings, from its environment (read once per instance).

Locally the gateway role writes them to an EnvironmentFile; on Google Cloud the deploy playbook
passes them with --set-env-vars and the secrets with --set-secrets. The database is reached with
libpq's own variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD).
"""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    serving_url: str
    # "token": a bearer token must match GATEWAY_TOKEN (the local fleet). "iam": Google Cloud
    # checked the caller's identity token before the request reached us.
    auth: str
    token: str
    max_rows: int
    max_body_bytes: int
    serving_timeout: float
    pool_size: int
    history_limit: int


def from_env(env=None) -> Settings:
    env = os.environ if env is None else env
    auth = env.get("GATEWAY_AUTH", "token")
    if auth not in ("token", "iam"):
        raise ValueError(f"GATEWAY_AUTH={auth!r}: use token or iam")
    token = env.get("GATEWAY_TOKEN", "")
    if auth == "token" and len(token) < 16:
        raise ValueError("GATEWAY_TOKEN must be 16 characters or more when GATEWAY_AUTH=token")
    if not env.get("SERVING_URL"):
        raise ValueError("SERVING_URL must be set, e.g. http://serving:8080")
    return Settings(
        serving_url=env["SERVING_URL"].rstrip("/"),
        auth=auth,
        token=token,
        max_rows=int(env.get("GATEWAY_MAX_ROWS", "100")),
        max_body_bytes=int(env.get("GATEWAY_MAX_BODY_BYTES", "262144")),
        serving_timeout=float(env.get("GATEWAY_SERVING_TIMEOUT", "5")),
        pool_size=int(env.get("GATEWAY_DB_POOL_SIZE", "8")),
        history_limit=int(env.get("GATEWAY_HISTORY_LIMIT", "100")),
    )
