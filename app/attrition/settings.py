"""Settings from the environment, read once by each entry point (never at import)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, fields


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


@dataclass(frozen=True)
class Settings:
    # A libpq connection string; empty means libpq's own PGHOST/PGUSER/PGPASSWORD/... variables.
    database_dsn: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(database_dsn=env.get("ATTRITION_DATABASE_DSN", ""))


def operator() -> str:
    """Who runs a command, as recorded in training.loads and registry.alias_moves: the sudo
    user the operator wrappers pass on, else the OS account."""
    return os.environ.get("ATTRITION_OPERATOR") or getpass.getuser()
