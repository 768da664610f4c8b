"""Settings from the environment, read once by each entry point (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    # A libpq connection string; empty means libpq's own PGHOST/PGUSER/PGPASSWORD/... variables.
    database_dsn: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(database_dsn=env.get("ATTRITION_DATABASE_DSN", ""))
