"""The web page's accounts and sessions, in one SQLite file in the page's state directory (owned
by its service account, mode 0600): who may sign in (kept by the playbook: `attrition web-users
sync`), their failures and lock-outs, and open sessions. Nothing here is business data: the
playbook's list makes the accounts again, and a lost session means signing in again.

Passwords are hashed with argon2id (argon2-cffi's defaults: RFC 9106's low-memory profile,
64 MiB); session ids are 256-bit random, stored as their sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import argon2

ROLES = ("analyst", "hr_admin")
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, user_id INTEGER NOT NULL, password_hash TEXT,
  failures INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
  id_sha256 BLOB PRIMARY KEY, name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  created REAL NOT NULL, seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
HASHER = argon2.PasswordHasher()
# Verified when the name is unknown, so that a wrong name takes as long as a wrong password.
UNKNOWN = HASHER.hash(secrets.token_urlsafe(16))


class Invalid(ValueError):
    """A bad entry of the playbook's list (nothing was changed)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    user_id: int


@dataclass(frozen=True)
class Policy:
    failures: int = 5  # failures in a row that lock an account ...
    lock_seconds: float = 900  # ... for this long
    idle_seconds: float = 1800  # a session unused this long ends
    max_seconds: float = 12 * 3600  # and any session ends after this long


class Accounts:
    def __init__(self, path: str, policy: Policy = Policy()):
        self.path, self.policy = path, policy
        # Made private before SQLite opens it (its journals take the file's mode).
        Path(path).touch(mode=0o600, exist_ok=True)
        with self.db() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def db(self):
        """One transaction on a connection of its own (gunicorn's workers share the file)."""
        conn = sqlite3.connect(self.path, timeout=10, isolation_level="IMMEDIATE")
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            with conn:
                yield conn
        finally:
            conn.close()

    def secret(self, name: str) -> bytes:
        """A random key made on first use and kept in the file (the page's CSRF tokens)."""
        with self.db() as db:
            db.execute(
                "INSERT OR IGNORE INTO secrets VALUES (?, ?)", (name, secrets.token_bytes(32))
            )
            return db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]

    def user(self, name: str) -> User | None:
        with self.db() as db:
            row = db.execute(
                "SELECT name, role, user_id FROM users WHERE name = ?", (name,)
            ).fetchone()
        return User(*row) if row else None

    def sign_in(self, name: str, password: str, now: float | None = None) -> User | None:
        """The user, or None (wrong name or password, or locked: the caller does not say which).
        A failure counts; `policy.failures` in a row lock the account for `lock_seconds`."""
        now = time.time() if now is None else now
        with self.db() as db:
            row = db.execute(
                "SELECT role, user_id, password_hash, failures, locked_until FROM users"
                " WHERE name = ?",
                (name,),
            ).fetchone()
            if row is None or row[2] is None:
                verify(UNKNOWN, password)
                return None
            role, user_id, stored, failures, locked_until = row
            if locked_until > now:
                return None
            if verify(stored, password):
                rehash = HASHER.check_needs_rehash(stored)
                db.execute(
                    "UPDATE users SET failures = 0, locked_until = 0,"
                    " password_hash = coalesce(?, password_hash) WHERE name = ?",
                    (HASHER.hash(password) if rehash else None, name),
                )
                return User(name, role, user_id)
            failures += 1
            locked = failures >= self.policy.failures
            db.execute(
                "UPDATE users SET failures = ?, locked_until = ? WHERE name = ?",
                (0 if locked else failures, now + self.policy.lock_seconds if locked else 0, name),
            )
            return None

    def open_session(self, name: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(32)
        with self.db() as db:
            db.execute("DELETE FROM sessions WHERE seen < ?", (now - self.policy.idle_seconds,))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (digest(token), name, now, now))
        return token

    def session(self, token: str, now: float | None = None) -> User | None:
        """The session's user, or None (unknown, idle too long or too old); refreshes its time."""
        now = time.time() if now is None else now
        with self.db() as db:
            row = db.execute(
                "SELECT u.name, u.role, u.user_id, s.created, s.seen FROM sessions s"
                " JOIN users u USING (name) WHERE s.id_sha256 = ?",
                (digest(token),),
            ).fetchone()
            if row is None:
                return None
            if now - row[4] > self.policy.idle_seconds or now - row[3] > self.policy.max_seconds:
                db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (digest(token),))
                return None
            if now - row[4] > 60:  # the idle clock, to the minute: not a write per request
                db.execute("UPDATE sessions SET seen = ? WHERE id_sha256 = ?", (now, digest(token)))
        return User(*row[:3])

    def close_session(self, token: str) -> None:
        with self.db() as db:
            db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (digest(token),))

    def sync(self, entries: list[dict]) -> list[str]:
        """Make the accounts exactly `entries` ({name, role, user_id, password?}: no password for
        Identity-Aware Proxy's users). Unchanged accounts keep their hash; a changed password or
        role ends the account's sessions; accounts not listed go. The names that changed."""
        wanted = {}
        for entry in entries:
            name, role, user_id = entry.get("name"), entry.get("role"), entry.get("user_id")
            if not isinstance(name, str) or not 0 < len(name) <= 200:
                raise Invalid(f"name {str(name)[:60]!r}: 1 to 200 characters")
            if role not in ROLES:
                raise Invalid(f"{name}: role {str(role)[:30]!r}: one of {', '.join(ROLES)}")
            if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id < 1:
                raise Invalid(f"{name}: user_id {str(user_id)[:30]!r}: a positive whole number")
            password = entry.get("password")
            if password is not None and len(str(password)) < 12:
                raise Invalid(f"{name}: the password is shorter than 12 characters")
            if name in wanted:
                raise Invalid(f"{name}: listed twice")
            wanted[name] = (role, user_id, password)
        changed = []
        with self.db() as db:
            have = {
                row[0]: row[1:]
                for row in db.execute("SELECT name, role, user_id, password_hash FROM users")
            }
            for name in sorted(set(have) - set(wanted)):
                db.execute("DELETE FROM users WHERE name = ?", (name,))
                changed.append(name)
            for name, (role, user_id, password) in wanted.items():
                old = have.get(name)
                same_password = old is not None and (
                    old[2] is None if password is None else verify(old[2], password)
                )
                if old is not None and old[:2] == (role, user_id) and same_password:
                    continue
                stored = None if password is None else HASHER.hash(password)
                db.execute(
                    "INSERT INTO users (name, role, user_id, password_hash) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET role = excluded.role,"
                    " user_id = excluded.user_id, password_hash = excluded.password_hash,"
                    " failures = 0, locked_until = 0",
                    (name, role, user_id, stored),
                )
                db.execute("DELETE FROM sessions WHERE name = ?", (name,))
                changed.append(name)
        return changed


def verify(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return HASHER.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
