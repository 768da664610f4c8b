"""Cloud Function `ml2-external-inference`, entry point `predict`.

POST {"user_id": 1, "data": [{20 features}, ...]} -> validate, ask the serving host, store one row
per employee in one transaction, then answer {"request_id", "model", "predictions"}: an answer
is only given for what was stored. An `Idempotency-Key` header makes a retry return the stored
answer instead of predicting and storing again.
GET ?user_id=1&limit=20 -> that user's latest predictions (the web page's history), and the
    last moves of the production model (what it learned from, who moved it and why).
Every request names its client (clients.py): a key, or on Google Cloud the identity IAM verified;
the client's scopes decide what it may do, and as which user.
"""

import hashlib
import json
import logging
import re
import time
import uuid

import functions_framework
import metrics

import settings as settings_module
import validation
from clients import Caller, Refused, bearer
from google_tokens import ID_SIGNING_KEYS, ID_TOKEN_ISSUERS, GoogleTokens, Untrusted
from serving_client import BadAnswer, ServingClient, TimedOut, Unavailable
from store import DatabaseDown, Store, answer

log = logging.getLogger("gateway")
logging.basicConfig(level=logging.INFO, format="%(message)s")
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}\Z")  # printable ASCII, no spaces

_state = {}


def state():
    """Settings, serving client and database pool: created once per instance, on first use."""
    if not _state:
        conf = settings_module.Settings.from_env()
        _state.update(
            settings=conf,
            store=Store(conf.db_pool_size, conf.db_pool_wait),
            serving=ServingClient(
                conf.serving_url, conf.serving_timeout, conf.db_pool_size, conf.serving_ca_file
            ),
            google=GoogleTokens(
                conf.iam_certs_url or ID_SIGNING_KEYS, conf.iam_audience, ID_TOKEN_ISSUERS
            )
            if conf.auth == "iam"
            else None,
        )
    return _state


def reply(status: int, body: dict, request_id: str, extra=None):
    headers = {"Content-Type": "application/json", "X-Request-ID": request_id, **(extra or {})}
    return json.dumps(body), status, headers


@functions_framework.http
def predict(request):
    started = time.perf_counter()
    request_id = str(uuid.uuid4())
    fields = {"request_id": request_id, "method": request.method}
    try:
        app = state()
        metrics_path = app["settings"].metrics_path
        if metrics_path and request.path == metrics_path:
            text, ctype = metrics.render()  # no key: nginx lets only the monitoring hosts ask
            return text, 200, {"Content-Type": ctype}
        if request.method not in ("POST", "GET"):
            raise Refused(405, f"{request.method} is not allowed: use POST or GET")
        caller = authenticate(request, app)
        fields.update(client=caller.name)
        if request.method == "POST":
            status, body, extra = post(request, app, caller, request_id, fields)
        else:
            status, body, extra = 200, history(request, app, caller), None
    except validation.Invalid as err:
        status, extra = 400, None
        body = {
            "error": str(err),
            **({"field": err.field} if err.field else {}),
            **({"row": err.row} if err.row is not None else {}),
        }
    except Refused as err:
        status, extra, body = err.status, None, {"error": str(err)}
    except Unavailable as err:
        status, extra, body = 503, None, {"error": str(err)}
    except TimedOut as err:
        status, extra, body = 504, None, {"error": str(err)}
    except BadAnswer as err:
        status, extra, body = 502, None, {"error": str(err)}
    except DatabaseDown as err:
        status, extra, body = 503, None, {"error": str(err)}
    except Exception:
        log.exception("request %s failed", request_id)
        status, extra, body = 500, None, {"error": "internal error (see the function's log)"}
    fields.update(status=status, error=body.get("error") if status >= 400 else None)
    log.info(json.dumps(fields))
    metrics.answered(request.method, status, time.perf_counter() - started)
    return reply(status, body, request_id, extra)


def authenticate(request, app) -> Caller:
    credential = bearer(request.headers)
    if app["google"] is None:
        found = app["store"].client(key_sha256=hashlib.sha256(credential.encode()).digest())
        if found is None:
            raise Refused(401, "unknown or revoked client key")
    else:
        try:
            email = app["google"].verify(credential)["email"]
        except Untrusted as err:
            raise Refused(401, str(err)) from None
        found = app["store"].client(identity=email)
        if found is None:
            raise Refused(403, f"{email} is not a client of this function (or was revoked)")
    name, scopes, user_id = found
    return Caller(name, frozenset(scopes), user_id)


def post(request, app, caller: Caller, request_id: str, fields: dict):
    conf = app["settings"]
    caller.may_predict()  # before reading the body: a client that may not predict learns nothing
    if request.mimetype != "application/json":
        raise Refused(415, "send Content-Type: application/json")
    if (request.content_length or 0) > conf.max_body_bytes:
        raise Refused(413, f"the body is larger than {conf.max_body_bytes} bytes")
    raw = request.stream.read(conf.max_body_bytes + 1)
    if len(raw) > conf.max_body_bytes:
        raise Refused(413, f"the body is larger than {conf.max_body_bytes} bytes")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise validation.Invalid("the body is not valid JSON") from None
    user_id, rows = validation.request(doc, conf.max_rows)
    fields.update(user_id=user_id, rows=len(rows))
    caller.may_predict(user_id)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise validation.Invalid(
            "Idempotency-Key: 1 to 200 printable characters, no spaces", field="Idempotency-Key"
        )
    sha = hashlib.sha256(json.dumps(rows).encode()).digest()
    if key is not None:
        replay = stored(app, user_id, key, sha)
        if replay:
            return replay
    result = app["serving"].predict(rows, validation.NAMES, request_id)
    if not app["store"].save(request_id, user_id, key, sha, result, rows):
        return stored(app, user_id, key, sha)  # a concurrent retry stored it first
    metrics.ROWS_STORED.inc(len(rows))
    fields.update(model_version=result["version"])
    return 200, answer(request_id, result["name"], result["version"], result["predictions"]), None


def stored(app, user_id: int, key: str, sha: bytes):
    found = app["store"].find(user_id, key)
    if found is None:
        return None
    if found[0] != sha:
        raise Refused(409, "this Idempotency-Key was used for different data")
    return 200, found[1], {"Idempotent-Replayed": "true"}


def history(request, app, caller: Caller):
    conf = app["settings"]
    user_id = validation.user_id(request.args.get("user_id"))
    caller.may_read_history(user_id)
    limit = validation.digits(request.args.get("limit", "20"))
    if not isinstance(limit, int) or not 1 <= limit <= conf.history_limit:
        raise validation.Invalid(
            f"limit: a whole number from 1 to {conf.history_limit}", field="limit"
        )
    store = app["store"]
    return {
        "user_id": user_id,
        "predictions": store.history(user_id, limit),
        "production_moves": store.production_moves(5) if caller.sees_model_moves() else [],
    }
