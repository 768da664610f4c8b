"""Verify a token Google signed: an identity token IAM passed on to the Cloud Function, or the
assertion Identity-Aware Proxy adds to each request for the web page.

google-auth checks the signature, the expiry and the audience (google.auth.jwt.decode); this
class adds what its verify_token does not do well for a server: the signing keys are fetched
once and kept (verify_token fetches them for every token), fetched again when a token names an
unknown key (Google rotates them), and the issuer is checked.

The function is deployed on its own (cloud_function/ is all Google Cloud gets), so it holds a
copy of this file, kept equal by tests/unit/test_google_tokens.py.
"""

from __future__ import annotations

import json
import threading
import time

import urllib3
from google.auth import exceptions, jwt

# Where Google publishes its keys, and who signs.
ID_SIGNING_KEYS = "https://www.googleapis.com/oauth2/v1/certs"
ID_TOKEN_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
IAP_SIGNING_KEYS = "https://www.gstatic.com/iap/verify/public_key"
IAP_ISSUERS = ("https://cloud.google.com/iap",)


class Untrusted(Exception):
    """The token is missing, malformed, expired, for another audience or not Google's."""


class GoogleTokens:
    def __init__(self, certs_url: str, audience: str, issuers, keep: float = 600, ca_file=""):
        self.certs_url, self.audience, self.issuers, self.keep = certs_url, audience, issuers, keep
        self.http = urllib3.PoolManager(
            ca_certs=ca_file or None, timeout=urllib3.Timeout(connect=2, read=5), retries=1
        )
        self.lock = threading.Lock()
        self.keys: dict = {}
        self.fetched = float("-inf")

    def certs(self, kid: str | None) -> dict:
        with self.lock:
            stale = time.monotonic() - self.fetched > self.keep
            # An unknown key id refreshes the keys, but at most every 30 s.
            unknown = kid not in self.keys and time.monotonic() - self.fetched > 30
            if stale or unknown:
                answer = self.http.request("GET", self.certs_url)
                if answer.status != 200:
                    raise Untrusted(f"Google's signing keys: HTTP {answer.status}")
                self.keys, self.fetched = json.loads(answer.data), time.monotonic()
            return self.keys

    def verify(self, token: str) -> dict:
        """The token's claims, or Untrusted saying why not."""
        try:
            header = jwt.decode_header(token)
            claims = jwt.decode(
                token,
                certs=self.certs(header.get("kid")),
                audience=self.audience,
                clock_skew_in_seconds=10,
            )
        except (ValueError, exceptions.GoogleAuthError, urllib3.exceptions.HTTPError) as err:
            raise Untrusted(f"the Google token is not valid: {str(err)[:200]}") from None
        if claims.get("iss") not in self.issuers:
            raise Untrusted(f"the Google token was issued by {str(claims.get('iss'))[:100]!r}")
        if not claims.get("email"):
            raise Untrusted("the Google token names no e-mail")
        return claims
