"""Who is using the page, and whether a form really came from it.

Two ways to know who: the page's own accounts (name and password, then a session cookie), or
Identity-Aware Proxy in front of the page on Google Cloud (its signed assertion, verified with
google-auth on every request; the e-mail must be one of the accounts). Either way the user id
the page predicts and reads history as is the account's, never a form field.

Every form carries a CSRF token: an HMAC, under a key kept in the accounts file, of what binds
the form to its user (the session, the IAP identity, or for the sign-in form a nonce cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Request

from attrition.google_tokens import IAP_ISSUERS, IAP_SIGNING_KEYS, GoogleTokens, Untrusted
from attrition.web.accounts import Accounts, User
from attrition.web.settings import WebSettings

log = logging.getLogger("attrition.web")
# __Host-: the browser keeps them only from https, for this host and path / (no Domain).
SESSION_COOKIE = "__Host-attrition-session"
LOGIN_COOKIE = "__Host-attrition-login"
IAP_HEADER = "x-goog-iap-jwt-assertion"


class Identity:
    def __init__(self, conf: WebSettings, accounts: Accounts):
        self.accounts = accounts
        self.iap = (
            GoogleTokens(conf.iap_certs_url or IAP_SIGNING_KEYS, conf.iap_audience, IAP_ISSUERS)
            if conf.sign_in == "iap"
            else None
        )
        self.csrf_key = accounts.secret("csrf")

    def of(self, request: Request) -> tuple[User | None, str | None, tuple | None]:
        """(user, what binds their forms, None) for this request, or (None, None, (HTTP status,
        why not))."""
        if self.iap is not None:
            try:
                email = self.iap.verify(request.headers.get(IAP_HEADER, ""))["email"]
            except Untrusted as err:
                log.warning("refused: Identity-Aware Proxy's assertion: %s", err)
                return None, None, (401, "Identity-Aware Proxy's assertion is missing or not valid")
            user = self.accounts.user(email)
            if user is None:
                return None, None, (403, f"{email} has no account on this page")
            return user, "iap:" + email, None
        token = request.cookies.get(SESSION_COOKIE, "")
        user = self.accounts.session(token) if token else None
        return (user, "session:" + token, None) if user else (None, None, (401, "not signed in"))

    def csrf_token(self, binding: str) -> str:
        return hmac.new(self.csrf_key, binding.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, request: Request, binding: str) -> bool:
        given = request.form.get("csrf", "")
        return hmac.compare_digest(given.encode(), self.csrf_token(binding).encode())
