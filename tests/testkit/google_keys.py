"""A stand-in for Google's token signers: keys made here, tokens signed with them (google-auth's
own signers), and the public keys served over HTTP on 127.0.0.1 the way Google publishes them.
Identity tokens are RS256 with certificates by key id (googleapis.com/oauth2/v1/certs); IAP
assertions are ES256 with PEM public keys by key id (gstatic.com/iap/verify/public_key).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import time
from collections.abc import Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt
from google.auth.crypt import es256

from testkit.http_stand_in import stand_in

PEM = serialization.Encoding.PEM


class Signer:
    """One signing key; kind "id" (RS256, published as a certificate) or "iap" (ES256, published
    as a public key)."""

    def __init__(self, kind: str, kid: str):
        self.kind, self.kid = kind, kid
        if kind == "id":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.signer = crypt.RSASigner.from_string(self._private_pem(key), kid)
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stand-in")])
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .sign(key, hashes.SHA256())
            )
            self.published = cert.public_bytes(PEM).decode()
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            self.signer = es256.ES256Signer.from_string(self._private_pem(key), kid)
            self.published = (
                key.public_key()
                .public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )

    @staticmethod
    def _private_pem(key) -> bytes:
        return key.private_bytes(
            PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def token(self, audience: str, email: str, issuer: str, lifetime: int = 600, **extra) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "email": email,
            "sub": "sub-" + email,
            "iat": now,
            "exp": now + lifetime,
            **extra,
        }
        return jwt.encode(self.signer, claims).decode()


@contextlib.contextmanager
def published(signers: list[Signer]) -> Iterator[tuple[str, list]]:
    """(URL of the signers' public keys, the requests it answered) while in the block; `signers`
    may change meanwhile (Google rotating its keys)."""
    with stand_in(
        lambda path, headers: json.dumps({s.kid: s.published for s in signers}).encode()
    ) as (
        base,
        seen,
    ):
        yield base + "/keys", seen
