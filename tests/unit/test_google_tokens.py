"""Tokens Google signed, verified with google-auth against keys fetched once and kept: identity
tokens (the function behind IAM) and IAP assertions (the web page behind Identity-Aware Proxy).
The signer is a stand-in (tests/testkit/google_keys.py) with keys of the same kinds."""

from __future__ import annotations

import time

import pytest

from attrition.google_tokens import IAP_ISSUERS, ID_TOKEN_ISSUERS, GoogleTokens, Untrusted
from testkit.google_keys import Signer, published
from testkit.paths import CLOUD_FUNCTION, REPO

AUDIENCE = "https://europe-west1-project.cloudfunctions.net/ml2-external-inference"
GOOGLE = ID_TOKEN_ISSUERS[1]


def test_the_function_carries_the_same_file():
    copy = (CLOUD_FUNCTION / "google_tokens.py").read_text()
    assert copy == (REPO / "app/attrition/google_tokens.py").read_text()


@pytest.mark.parametrize(("kind", "issuers"), [("id", ID_TOKEN_ISSUERS), ("iap", IAP_ISSUERS)])
def test_a_good_token_gives_its_claims_and_the_keys_are_fetched_once(kind, issuers):
    signer = Signer(kind, "k1")
    with published([signer]) as (url, seen):
        tokens = GoogleTokens(url, AUDIENCE, issuers)
        for _ in range(3):
            claims = tokens.verify(
                signer.token(AUDIENCE, "web@p.iam.gserviceaccount.com", issuers[0])
            )
            assert claims["email"] == "web@p.iam.gserviceaccount.com"
    assert len(seen) == 1


def test_a_new_key_is_fetched_when_a_token_names_it():
    old, new = Signer("id", "old"), Signer("id", "new")
    keys = [old]
    with published(keys) as (url, seen):
        tokens = GoogleTokens(url, AUDIENCE, ID_TOKEN_ISSUERS)
        tokens.verify(old.token(AUDIENCE, "a@b", GOOGLE))
        keys.append(new)  # Google rotates: tokens now name a key the kept set does not have
        with pytest.raises(Untrusted):  # asked again within 30 s of the last fetch: not fetched
            tokens.verify(new.token(AUDIENCE, "a@b", GOOGLE))
        tokens.fetched -= 31
        tokens.verify(new.token(AUDIENCE, "a@b", GOOGLE))
        tokens.verify(new.token(AUDIENCE, "a@b", GOOGLE))
    assert len(seen) == 2


@pytest.fixture(scope="module")
def two_signers():
    """Two RSA keys under the same key id (making RSA keys is the slow part of these tests)."""
    return Signer("id", "k1"), Signer("id", "k1")


def tampered(token: str) -> str:
    head, body, signature = token.split(".")
    return ".".join((head, body, ("A" if signature[0] != "A" else "B") + signature[1:]))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda s, o: s.token(AUDIENCE, "a@b", GOOGLE, lifetime=-120), "expired"),
        (lambda s, o: s.token("https://elsewhere", "a@b", GOOGLE), "audience"),
        (lambda s, o: o.token(AUDIENCE, "a@b", GOOGLE), "signature"),  # a key Google never had
        (lambda s, o: tampered(s.token(AUDIENCE, "a@b", GOOGLE)), "signature"),
        (lambda s, o: s.token(AUDIENCE, "a@b", "https://evil.example"), "issued by"),
        (lambda s, o: s.token(AUDIENCE, "", GOOGLE), "names no e-mail"),
        (lambda s, o: "not-a-jwt", "not valid"),
    ],
)
def test_a_bad_token_is_untrusted_and_says_why(make, words, two_signers):
    signer, other = two_signers
    with published([signer]) as (url, _):
        tokens = GoogleTokens(url, AUDIENCE, ID_TOKEN_ISSUERS)
        with pytest.raises(Untrusted, match=words):
            tokens.verify(make(signer, other))


def test_keys_that_cannot_be_fetched_make_every_token_untrusted():
    signer = Signer("iap", "k1")
    tokens = GoogleTokens("http://127.0.0.1:9/keys", AUDIENCE, IAP_ISSUERS)
    started = time.monotonic()
    with pytest.raises(Untrusted, match="not valid"):
        tokens.verify(signer.token(AUDIENCE, "a@b", IAP_ISSUERS[0]))
    assert time.monotonic() - started < 10
