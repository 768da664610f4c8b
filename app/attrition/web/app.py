"""The web page: sign in, fill in an employee, see the prediction and your earlier ones; an
hr_admin also sees anyone's history and the production model's moves.

It calls the Cloud Function server-side with its own client key (or identity token) from its
EnvironmentFile, for the signed-in user; the browser never sees the key. Run by gunicorn:
`attrition.web.app:create_app()`.
"""

from __future__ import annotations

import json
import logging
import pkgutil
import re
import secrets
import time

import urllib3
from flask import Flask, g, make_response, redirect, render_template, request
from werkzeug.sansio.utils import host_is_trusted

from attrition.features import FEATURES
from attrition.web import metrics
from attrition.web.accounts import Accounts, Policy
from attrition.web.identity import LOGIN_COOKIE, SESSION_COOKIE, Identity
from attrition.web.settings import WebSettings

log = logging.getLogger("attrition.web")

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
# What the browser may do with our pages: our own stylesheet and forms, nothing else; never
# framed; https only from the first visit on; no guessing of content types.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
OPEN = {"static", "healthz", "metrics", "login_form", "login"}  # need no signed-in user
# Asked by the host itself (health) and the monitoring hosts (nginx lets no one else ask for
# /metrics), by address: no host name check.
MACHINE = {"healthz", "metrics"}
COOKIE = {"secure": True, "httponly": True, "samesite": "Strict", "path": "/"}


def user_id_of(raw: str) -> int | None:
    """The positive 63-bit user id in `raw`, or None."""
    raw = raw.strip()
    return int(raw) if USER_ID.fullmatch(raw) and 0 < int(raw) < 2**63 else None


def parse_form(form) -> tuple[dict, dict]:
    """(values as typed, errors by field); the same checks as the function's, so most mistakes
    are shown without a round trip."""
    values, errors = {}, {}
    for f in FEATURES:
        raw = form.get(f.name, "").strip()
        values[f.name] = raw
        if not WHOLE_NUMBER.fullmatch(raw):
            errors[f.name] = f"a whole number from {f.low} to {f.high}"
        elif not f.low <= int(raw) <= f.high:
            errors[f.name] = f"{raw} is outside {f.low} to {f.high}"
        else:
            values[f.name] = int(raw)
    return values, errors


def create_app(gateway: Gateway | None = None, conf: WebSettings | None = None) -> Flask:
    conf = conf or WebSettings.from_env()
    app = Flask(__name__)
    hosts = conf.hosts()
    if gateway is None:
        metadata = conf.metadata_url if conf.gateway_auth == "metadata" else ""
        gateway = Gateway(conf.gateway_url, conf.gateway_key, metadata, conf.gateway_ca_file)
    gw = gateway
    policy = Policy(
        conf.lock_failures,
        conf.lock_minutes * 60,
        conf.session_idle_minutes * 60,
        conf.session_max_hours * 3600,
    )
    identity = Identity(conf, Accounts(conf.accounts_file, policy))

    @app.before_request
    def start_clock():
        g.started = time.perf_counter()

    @app.before_request
    def signed_in_only():
        if request.endpoint not in MACHINE and not host_is_trusted(request.host, hosts):
            return refusal(400, "this page is not served under that host name")
        if request.routing_exception is not None or request.endpoint in OPEN:
            return None  # an unknown path: Flask answers 404
        user, binding, refused = identity.of(request)
        if user is None:
            return redirect("/login", 303) if identity.iap is None else refusal(*refused)
        if request.method == "POST" and not identity.csrf_ok(request, binding):
            return refusal(403, "the form is out of date or not from this page: load it again")
        g.user, g.csrf = user, identity.csrf_token(binding)
        return None

    @app.after_request
    def protect(answer):
        answer.headers.update(HEADERS)
        if request.endpoint != "static":
            answer.headers["Cache-Control"] = "no-store"  # personal data: never cached
        endpoint = request.endpoint or "(none)"
        metrics.REQUESTS.labels(endpoint, str(answer.status_code)).inc()
        metrics.LATENCY.labels(endpoint).observe(time.perf_counter() - g.started)
        return answer

    def ask(method: str, body=None, query=None):
        """The function's answer, counted by its status."""
        code, out = gw.call(method, body, query)
        metrics.FUNCTION_CALLS.labels(method, str(code)).inc()
        return code, out

    def refusal(status: int, why: str):
        return render_template("refused.html", why=why), status

    def page(values, viewed, errors=None, result=None, problem=None, status=200):
        user = g.user
        history = moves = None
        if viewed is not None:
            code, out = ask("GET", query={"user_id": str(viewed), "limit": "10"})
            history = out.get("predictions") if code == 200 else None
            moves = out.get("production_moves") if code == 200 else None
            problem = problem or (None if code == 200 else out.get("error"))
        html = render_template(
            "index.html",
            features=FEATURES,
            values=values,
            user=user,
            viewed=viewed,
            errors=errors or {},
            result=result,
            problem=problem,
            history=history,
            moves=moves if user.role == "hr_admin" else None,
            csrf=g.csrf,
            accounts=identity.iap is None,
        )
        return html, status

    @app.get("/")
    def form():
        viewed, errors = g.user.user_id, {}
        if g.user.role == "hr_admin" and "user_id" in request.args:
            viewed = user_id_of(request.args["user_id"])
            if viewed is None:
                errors["user_id"] = "a positive whole number"
        return page(DEFAULTS, viewed, errors, status=400 if errors else 200)

    @app.post("/")
    def submit():
        values, errors = parse_form(request.form)
        me = g.user.user_id
        if errors:
            return page(values, me, errors, status=400)
        code, out = ask("POST", {"user_id": me, "data": [values]})
        if code == 400 and out.get("field"):
            return page(values, me, {out["field"]: out["error"]}, status=400)
        if code != 200:
            return page(values, me, problem=out.get("error", f"error {code}"), status=502)
        return page(values, me, result={**out["predictions"][0], **out})

    @app.get("/login")
    def login_form(error=None, status=200):
        if identity.iap is not None:
            return redirect("/", 303)  # Identity-Aware Proxy signs people in
        nonce = secrets.token_urlsafe(16)
        html = render_template(
            "login.html", csrf=identity.csrf_token("login:" + nonce), error=error
        )
        answer = make_response(html, status)
        answer.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, **COOKIE)
        return answer

    @app.post("/login")
    def login():
        if identity.iap is not None:
            return redirect("/", 303)
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not identity.csrf_ok(request, "login:" + nonce):
            return login_form("The sign-in form was out of date: try again.", 400)
        name = request.form.get("name", "")[:200]
        user = identity.accounts.sign_in(name, request.form.get("password", "")[:1000])
        metrics.SIGN_INS.labels("refused" if user is None else "ok").inc()
        if user is None:
            log.warning("sign-in refused for %r", name[:60])
            time.sleep(conf.failure_delay)  # guessing costs time
            return login_form(
                "Wrong name or password. After "
                f"{conf.lock_failures} failures in a row an account is locked for "
                f"{conf.lock_minutes:g} minutes.",
                401,
            )
        log.info("signed in: %r (%s)", user.name, user.role)
        answer = redirect("/", 303)
        # One cookie only (the sign-in nonce expires by itself): the session's.
        answer.set_cookie(SESSION_COOKIE, identity.accounts.open_session(user.name), **COOKIE)
        return answer

    @app.post("/logout")
    def logout():
        identity.accounts.close_session(request.cookies.get(SESSION_COOKIE, ""))
        answer = redirect("/login", 303)
        answer.delete_cookie(SESSION_COOKIE, path="/", secure=True, samesite="Strict")
        return answer

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/metrics", endpoint="metrics")
    def metrics_text():
        text, ctype = metrics.render()
        return text, 200, {"Content-Type": ctype}

    return app
