"""The prediction function's clients (access.clients): create, rotate, revoke, list, and bring
in line with the playbook's list. A key is shown once, when it is made; only its sha256 is kept.

Run by `attrition keys ...` (the db host's `attrition-keys` wrapper) as the clients' manager
role, which may insert and update clients but never delete one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import psycopg2

SCOPES = ("predict", "history:own", "history:all", "act-as-any-user")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._+-]{0,199}")
KEY_PREFIX = "atk_"


class Invalid(ValueError):
    """A request the clients' table would refuse, said in words (nothing was changed)."""


@dataclass(frozen=True)
class Client:
    name: str
    scopes: tuple
    user_id: int | None = None
    google_identity: bool = False

    def check(self) -> Client:
        if not NAME.fullmatch(self.name):
            raise Invalid(
                f"name {self.name[:60]!r}: 1 to 200 letters, digits or @._+- (starting with a"
                " letter or digit)"
            )
        unknown = sorted(set(self.scopes) - set(SCOPES))
        if unknown or not self.scopes:
            raise Invalid(f"scopes {unknown or '(none)'}: choose from {', '.join(SCOPES)}")
        if self.user_id is not None and not 0 < self.user_id < 2**63:
            raise Invalid(f"user id {self.user_id}: a positive whole number")
        own = {"predict", "history:own"} & set(self.scopes)
        if own and self.user_id is None and "act-as-any-user" not in self.scopes:
            raise Invalid(
                f"{', '.join(sorted(own))} act as a user: give --user-id (or act-as-any-user for"
                " a service that acts for its signed-in users)"
            )
        return self


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def sha256(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def create(conn, client: Client, operator: str) -> str | None:
    """Add a client; its key (None for a Google identity), to be shown once."""
    client.check()
    key = None if client.google_identity else new_key()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO access.clients (name, key_sha256, google_identity, scopes, user_id,"
                " managed_by) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    client.name,
                    sha256(key) if key else None,
                    client.google_identity,
                    list(client.scopes),
                    client.user_id,
                    operator,
                ),
            )
    except psycopg2.errors.UniqueViolation:
        raise Invalid(
            f"a client named {client.name!r} exists (revoked clients keep their name)"
        ) from None
    return key


def rotate(conn, name: str) -> str:
    """A new key for a client; the old one stops working at once."""
    key = new_key()
    with conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE access.clients SET key_sha256 = %s, rotated_at = now()"
            " WHERE name = %s AND NOT google_identity AND revoked_at IS NULL",
            (sha256(key), name),
        )
        if cur.rowcount != 1:
            raise Invalid(f"no active key client named {name[:60]!r}")
    return key


def revoke(conn, name: str) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE access.clients SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL",
            (name,),
        )
        if cur.rowcount != 1:
            raise Invalid(f"no active client named {name[:60]!r}")


LIST = """
    SELECT c.name, CASE WHEN c.google_identity THEN 'google identity' ELSE 'key' END,
           array_to_string(c.scopes, ','), c.user_id, c.managed_by, c.created_at, c.rotated_at,
           u.last_used_at, c.revoked_at
    FROM access.clients c LEFT JOIN access.client_use u ON u.client_id = c.id
    ORDER BY c.name"""
COLUMNS = (
    "name",
    "kind",
    "scopes",
    "user_id",
    "managed_by",
    "created_at",
    "rotated_at",
    "last_used_at",
    "revoked_at",
)


def listing(conn) -> list[dict]:
    """Every client, revoked ones too; never a key or its hash."""
    with conn, conn.cursor() as cur:
        cur.execute(LIST)
        return [dict(zip(COLUMNS, row)) for row in cur.fetchall()]


# The playbook's list (function_clients): each entry made or brought in line. Keys arrive as
# their sha256 (hashed on the controller: the key itself never reaches this host).
SYNC = """
    INSERT INTO access.clients AS c (name, key_sha256, google_identity, scopes, user_id,
                                     managed_by, revoked_at)
    VALUES (%(name)s, %(key_sha256)s, %(google_identity)s, %(scopes)s, %(user_id)s, 'playbook',
            CASE WHEN %(revoked)s THEN now() END)
    ON CONFLICT (name) DO UPDATE SET
      key_sha256 = EXCLUDED.key_sha256, google_identity = EXCLUDED.google_identity,
      scopes = EXCLUDED.scopes, user_id = EXCLUDED.user_id, managed_by = 'playbook',
      rotated_at = CASE WHEN c.key_sha256 IS DISTINCT FROM EXCLUDED.key_sha256 THEN now()
                        ELSE c.rotated_at END,
      revoked_at = CASE WHEN %(revoked)s THEN coalesce(c.revoked_at, now()) END
    WHERE (c.key_sha256, c.google_identity, c.scopes, c.user_id, c.managed_by,
           c.revoked_at IS NOT NULL)
      IS DISTINCT FROM (EXCLUDED.key_sha256, EXCLUDED.google_identity, EXCLUDED.scopes,
                        EXCLUDED.user_id, 'playbook', %(revoked)s)
    RETURNING c.name"""


def sync(conn, entries: list[dict]) -> list[str]:
    """Make each entry ({name, scopes, user_id?, key_sha256 (hex) | google_identity: true,
    revoked?}) so; the names that changed. All or nothing: one bad entry changes no client."""
    rows = []
    for entry in entries:
        unknown = set(entry) - {
            "name",
            "scopes",
            "user_id",
            "key_sha256",
            "google_identity",
            "revoked",
        }
        if unknown:
            raise Invalid(
                f"client {str(entry.get('name'))[:60]!r}: unknown fields {sorted(unknown)}"
            )
        client = Client(
            str(entry.get("name", "")),
            tuple(entry.get("scopes") or ()),
            entry.get("user_id"),
            bool(entry.get("google_identity", False)),
        ).check()
        digest = entry.get("key_sha256")
        if client.google_identity == bool(digest) or (
            digest and not re.fullmatch(r"[0-9a-f]{64}", str(digest))
        ):
            raise Invalid(
                f"client {client.name!r}: give either key_sha256 (64 hex digits) or"
                " google_identity: true"
            )
        rows.append(
            {
                "name": client.name,
                "key_sha256": bytes.fromhex(digest) if digest else None,
                "google_identity": client.google_identity,
                "scopes": list(client.scopes),
                "user_id": client.user_id,
                "revoked": bool(entry.get("revoked", False)),
            }
        )
    changed = []
    with conn, conn.cursor() as cur:
        for row in rows:
            cur.execute(SYNC, row)
            changed += [name for (name,) in cur.fetchall()]
    return changed
