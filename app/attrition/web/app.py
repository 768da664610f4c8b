"""The web page: fill in an employee, see the prediction and this user's earlier ones.

It calls the Cloud Function server-side with the bearer token from its EnvironmentFile; the
browser never sees the token. Run by gunicorn: `attrition.web.app:create_app()`.
"""

from __future__ import annotations

import json
import pkgutil
import re
import time

import urllib3
from flask import Flask, render_template, request

from attrition.features import FEATURES
from attrition.web.settings import WebSettings

# The design's example employee (one file, also the README's request): what the form starts with.
DEFAULTS = json.loads(pkgutil.get_data("attrition", "example_employee.json"))


class Gateway:
    def __init__(self, url: str, token: str = "", metadata_url: str = "", ca_file: str = ""):
        self.url, self.token, self.metadata_url = url, token, metadata_url
        # https is verified (urllib3's default): against ca_file when given, else the system's CAs.
        self.http = urllib3.PoolManager(
            ca_certs=ca_file or None, timeout=urllib3.Timeout(connect=2, read=15), retries=False
        )
        self.identity: tuple[str, float] | None = None  # (token, fetched at)

    def bearer(self) -> str:
        if not self.metadata_url:
            return self.token
        if self.identity is None or time.monotonic() - self.identity[1] > 1800:
            # Identity tokens live an hour: fetch a fresh one every half hour.
            answer = self.http.request(
                "GET",
                self.metadata_url,
                # format=full: the token names the service account (the function's client).
                fields={"audience": self.url, "format": "full"},
                headers={"Metadata-Flavor": "Google"},
            )
            if answer.status != 200:
                raise urllib3.exceptions.HTTPError(f"metadata server: {answer.status}")
            self.identity = (answer.data.decode().strip(), time.monotonic())
        return self.identity[0]

    def call(self, method: str, body=None, query=None):
        """(status, JSON answer); a gateway that cannot be reached is a 503 like any other."""
        try:
            headers = {
                "Authorization": f"Bearer {self.bearer()}",
                "Content-Type": "application/json",
            }
            data = json.dumps(body) if body is not None else None
            answer = self.http.request(method, self.url, fields=query, headers=headers, body=data)
            return answer.status, json.loads(answer.data or b"{}")
        except (urllib3.exceptions.HTTPError, ValueError) as err:
            problem = f"the prediction service cannot be reached ({type(err).__name__})"
            return 503, {"error": problem}


# ASCII digits only: str.isdigit() also accepts "²", which int() refuses. The lengths bound
# int()'s work on hostile input (a user id fits in 19 digits, every feature in 9).
USER_ID = re.compile(r"[0-9]{1,19}")
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def user_id_of(raw: str) -> int | None:
    """The positive 63-bit user id in `raw`, or None."""
    raw = raw.strip()
    return int(raw) if USER_ID.fullmatch(raw) and 0 < int(raw) < 2**63 else None


def parse_form(form) -> tuple[dict, dict, int | None]:
    """(values as typed, errors by field, user id); the same checks as the function's, so most
    mistakes are shown without a round trip."""
    values, errors = {}, {}
    user_id = user_id_of(form.get("user_id", ""))
    if user_id is None:
        errors["user_id"] = "a positive whole number"
    for f in FEATURES:
        raw = form.get(f.name, "").strip()
        values[f.name] = raw
        if not WHOLE_NUMBER.fullmatch(raw):
            errors[f.name] = f"a whole number from {f.low} to {f.high}"
        elif not f.low <= int(raw) <= f.high:
            errors[f.name] = f"{raw} is outside {f.low} to {f.high}"
        else:
            values[f.name] = int(raw)
    return values, errors, user_id


def create_app(gateway: Gateway | None = None) -> Flask:
    app = Flask(__name__)
    if gateway is None:
        conf = WebSettings.from_env()
        metadata = conf.metadata_url if conf.gateway_auth == "metadata" else ""
        gateway = Gateway(conf.gateway_url, conf.gateway_key, metadata, conf.gateway_ca_file)
    gw = gateway

    def page(values, user_id, errors=None, result=None, problem=None, status=200):
        history = moves = None
        if user_id is not None:
            code, out = gw.call("GET", query={"user_id": str(user_id), "limit": "10"})
            history = out.get("predictions") if code == 200 else None
            moves = out.get("production_moves") if code == 200 else None
            problem = problem or (None if code == 200 else out.get("error"))
        html = render_template(
            "index.html",
            features=FEATURES,
            values=values,
            user_id=user_id,
            errors=errors or {},
            result=result,
            problem=problem,
            history=history,
            moves=moves,
        )
        return html, status

    @app.get("/")
    def form():
        return page(DEFAULTS, user_id_of(request.args.get("user_id", "1")))

    @app.post("/")
    def submit():
        values, errors, user_id = parse_form(request.form)
        if errors:
            return page(values, user_id, errors, status=400)
        code, out = gw.call("POST", {"user_id": user_id, "data": [values]})
        if code == 400 and out.get("field"):
            return page(values, user_id, {out["field"]: out["error"]}, status=400)
        if code != 200:
            return page(values, user_id, problem=out.get("error", f"error {code}"), status=502)
        return page(values, user_id, result={**out["predictions"][0], **out})

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
