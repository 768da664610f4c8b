"""Stand-ins for what the gateway VM's web page talks to on Google Cloud: the metadata server
(identity tokens for an audience, only with `Metadata-Flavor: Google`) and the deployed
function (which, behind IAM, accepts only such a token). It keeps every request it saw, for
the verify step: GET /seen.

    python3 google_stand_in.py PORT
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

IDENTITY = "/computeMetadata/v1/instance/service-account/identity"
seen = []


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
