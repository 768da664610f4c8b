"""Serving settings, from the environment (the systemd unit's EnvironmentFile).

MLflow reads MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from attrition.settings import typed_from_env


@dataclass(frozen=True)
class ServingSettings:
    model_name: str = "attrition"
    # Serve this MLflow model directory (or any model URI) instead of following the alias:
    # for a host without a registry, and for testing the role on its own.
    model_uri: str = ""
    # How often each worker asks the registry where `production` points, in seconds.
    poll_seconds: float = 60.0
    # Every version this host loaded is kept here, so a restart works with the registry down.
    cache_dir: str = "/var/lib/attrition-serve/models"
    max_body_bytes: int = 1_048_576
    max_rows: int = 1000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ServingSettings:
        settings = cls(**typed_from_env(cls, "ATTRITION_SERVE_", env))
        for name in ("poll_seconds", "max_body_bytes", "max_rows"):
            if getattr(settings, name) <= 0:
                raise ValueError(f"ATTRITION_SERVE_{name.upper()} must be positive")
        return settings
