"""Who is calling, and what they may do.

A caller is a row of access.clients, found by the sha256 of its key (the local fleet, and any
deployment with GATEWAY_AUTH=key) or, behind Google Cloud's IAM, by the e-mail of the Google
identity whose token IAM passed on (verified again here). Its scopes decide:

  predict          POST, as its own user id (or any, with act-as-any-user)
  history:own      GET ?user_id=its own (or any, with act-as-any-user)
  history:all      GET any user's history
  act-as-any-user  a service (the web page) that acts for the user it signed in

Every refusal is a Refused (401 who are you, 403 not allowed) raised before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("predict", "history:own", "history:all", "act-as-any-user")


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Caller:
    name: str
    scopes: frozenset
    user_id: int | None

    def acts_as(self, user_id: int) -> bool:
        return "act-as-any-user" in self.scopes or self.user_id == user_id

    def may_predict(self, user_id: int | None = None) -> None:
        """Refused unless this client may predict (as `user_id`, when given)."""
        if "predict" not in self.scopes:
            raise Refused(403, f"client {self.name!r} may not predict (no predict scope)")
        if user_id is not None and not self.acts_as(user_id):
            raise Refused(403, f"client {self.name!r} may predict only as user {self.user_id}")

    def may_read_history(self, user_id: int) -> None:
        if "history:all" in self.scopes:
            return
        if "history:own" not in self.scopes:
            raise Refused(403, f"client {self.name!r} may not read history (no history scope)")
        if not self.acts_as(user_id):
            raise Refused(403, f"client {self.name!r} may read only user {self.user_id}'s history")

    def sees_model_moves(self) -> bool:
        """The production model's audit trail: for services and readers of everyone's history."""
        return bool(self.scopes & {"history:all", "act-as-any-user"})


def bearer(headers) -> str:
    """The credential of `Authorization: Bearer <credential>`; Google's front end may move the
    caller's identity token to X-Serverless-Authorization."""
    for header in ("X-Serverless-Authorization", "Authorization"):
        scheme, _, credential = headers.get(header, "").partition(" ")
        if scheme.lower() == "bearer" and credential.strip():
            return credential.strip()
    raise Refused(401, "a client key is required (Authorization: Bearer <key>)")
