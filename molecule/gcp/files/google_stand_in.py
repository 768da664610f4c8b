"""Stand-ins for what the gateway VM's web page talks to on Google Cloud: the metadata server
(identity tokens for an audience, only with `Metadata-Flavor: Google`), the deployed function
(which, behind IAM, accepts only such a token) and Identity-Aware Proxy's signer (its public
keys at /iap/keys, as Google publishes them; /iap/assertion?email=&audience= signs an
assertion as IAP would add it to a signed-in person's request). It keeps every request it saw,
for the verify step: GET /seen.

    python3 google_stand_in.py PORT      (Debian's python3-cryptography signs the assertions)
"""

import base64
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

IDENTITY = "/computeMetadata/v1/instance/service-account/identity"
seen = []
IAP_KEY = ec.generate_private_key(ec.SECP256R1())
IAP_KEYS = {
    "stand-in-iap": IAP_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
}


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def iap_assertion(email: str, audience: str) -> str:
    """An ES256 JWT as Identity-Aware Proxy signs them (x-goog-iap-jwt-assertion)."""
    now = int(time.time())
    header = {"alg": "ES256", "typ": "JWT", "kid": "stand-in-iap"}
    claims = {
        "iss": "https://cloud.google.com/iap",
        "aud": audience,
        "email": email,
        "sub": "accounts.google.com:" + email,
        "iat": now,
        "exp": now + 600,
    }
    signing = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(IAP_KEY.sign(signing, ec.ECDSA(hashes.SHA256())))
    return (signing + b"." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))).decode()


def token_for(audience: str) -> str:
    return "stand-in-identity-token:" + audience


class Handler(BaseHTTPRequestHandler):
    def answer(self, status: int, body, kind: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/seen":
            return self.answer(200, seen)
        seen.append(
            {
                "method": self.command,
                "path": url.path,
                "authorization": self.headers.get("Authorization", ""),
            }
        )
        if url.path == "/iap/keys":
            return self.answer(200, IAP_KEYS)
        if url.path == "/iap/assertion":
            query = parse_qs(url.query)
            token = iap_assertion(query["email"][0], query["audience"][0])
            return self.answer(200, token, "text/plain")
        if url.path == IDENTITY:
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.answer(403, "Metadata-Flavor: Google is required", "text/plain")
            audience = parse_qs(url.query).get("audience", [""])[0]
            return self.answer(200, token_for(audience), "text/plain")
        if url.path == "/function":
            wanted = "Bearer " + token_for(f"http://{self.headers['Host']}/function")
            if self.headers.get("Authorization") != wanted:
                return self.answer(401, {"error": "IAM: no valid identity token for this URL"})
            return self.answer(200, {"user_id": 1, "predictions": [], "production_moves": []})
        return self.answer(404, {"error": "not here"})

    do_GET = do_POST = handle_any

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
