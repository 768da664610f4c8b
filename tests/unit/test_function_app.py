"""The Cloud Function in-process (functions_framework.create_app and Flask's test client): every
answer it gives before it needs serving or the database, and how it fails when they are gone.

Neither exists here: PGHOST is an empty socket directory and GATEWAY_SERVING_URL a port nothing
listens on. So a 400 below also proves the request was refused before anything was stored or asked
(a request that got further would have answered 503). The integration tests (tests/integration/
test_gateway.py) run the same function under functions-framework against real ones.
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from testkit.gateway_server import CLIENTS, SEED, TOKEN
from testkit.prometheus_text import increase


def post(function_client, doc=None, raw=None, headers=None, token=TOKEN):
    """(status, headers, JSON answer) of a POST; `raw` bytes instead of the JSON of `doc`."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    answer = function_client.post(
        "/",
        data=raw if raw is not None else json.dumps(doc).encode(),
        headers={"Content-Type": "application/json", **auth, **(headers or {})},
    )
    return answer.status_code, answer.headers, answer.get_json()


def get(function_client, query, token=TOKEN):
    answer = function_client.get(f"/?{query}", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code, answer.get_json()


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("", "a client key is required (Authorization: Bearer <key>)"),
        ("Basic " + TOKEN, "unknown or revoked client key"),
        (TOKEN + "x", "unknown or revoked client key"),
        (CLIENTS["gone"][0], "unknown or revoked client key"),
    ],
)
def test_a_known_client_key_is_required(function_client, token, words):
    status, _, out = post(function_client, {"user_id": 1, "data": [SEED]}, token=token)
    assert (status, out["error"]) == (401, words)
    assert get(function_client, "user_id=1", token=token) == (401, {"error": words})


def test_a_key_without_the_bearer_scheme_is_refused(function_client):
    answer = function_client.get("/?user_id=1", headers={"Authorization": TOKEN})
    assert answer.status_code == 401


ALICE, AUDITOR = CLIENTS["alice"][0], CLIENTS["auditor"][0]


@pytest.mark.parametrize(
    ("token", "user_id", "words"),
    [
        (ALICE, 8, "client 'alice' may predict only as user 7"),
        (AUDITOR, 1, "client 'auditor' may not predict (no predict scope)"),
    ],
)
def test_a_client_predicts_only_as_whom_its_scopes_allow(function_client, token, user_id, words):
    # 403 before serving is asked (it is down here: a request let through would be a 503).
    status, _, out = post(function_client, {"user_id": user_id, "data": [SEED]}, token=token)
    assert (status, out) == (403, {"error": words})


def test_a_client_without_predict_is_refused_before_its_body_is_read(function_client):
    status, _, out = post(function_client, raw=b"{not json", token=AUDITOR)
    assert (status, out["error"]) == (403, "client 'auditor' may not predict (no predict scope)")


@pytest.mark.parametrize(
    ("token", "query", "words"),
    [
        (ALICE, "user_id=8", "client 'alice' may read only user 7's history"),
        (ALICE, "user_id=x", None),  # a bad query is still named first
    ],
)
def test_a_client_reads_only_the_history_its_scopes_allow(function_client, token, query, words):
    status, out = get(function_client, query, token=token)
    if words is None:
        assert (status, out["field"]) == (400, "user_id")
    else:
        assert (status, out) == (403, {"error": words})


@pytest.mark.parametrize("token", [TOKEN, ALICE, AUDITOR])
def test_a_client_allowed_to_read_reaches_the_database(function_client, token):
    user = 7 if token == ALICE else 8
    status, out = get(function_client, f"user_id={user}", token=token)
    assert status == 503  # let through: the (absent) database is asked
    assert "database" in out["error"]


BAD = [
    (
        {"user_id": "1; DROP TABLE predictions.predictions; --", "data": [SEED]},
        "user_id",
        "is not a positive integer",
    ),
    ({"user_id": True, "data": [SEED]}, "user_id", "is not a positive integer"),
    ({"user_id": -3, "data": [SEED]}, "user_id", "is not a positive integer"),
    ({"user_id": 2**70, "data": [SEED]}, "user_id", "is not a positive integer"),
    ({"data": [SEED]}, "user_id", "missing"),
    ({"user_id": 1}, "data", "missing or not a list"),
    ({"user_id": 1, "data": []}, "data", "empty"),
    ({"user_id": 1, "data": [SEED] * 51}, "data", "more than the limit of 50"),
    ({"user_id": 1, "data": [SEED], "debug": 1}, "debug", "unexpected field"),
    ({"user_id": 1, "data": [SEED, {**SEED, "age": "40"}]}, "age", "data[1].age: '40' is not"),
    ({"user_id": 1, "data": [{**SEED, "age": 17}]}, "age", "17 is outside 18..70"),
    ({"user_id": 1, "data": [{**SEED, "overtime": True}]}, "overtime", "True is not an integer"),
    ({"user_id": 1, "data": [{**SEED, "age": None}]}, "age", "None is not an integer"),
    ({"user_id": 1, "data": [{**SEED, "age": 40.5}]}, "age", "40.5 is not an integer"),
    (
        {"user_id": 1, "data": [{k: v for k, v in SEED.items() if k != "joblevel"}]},
        "joblevel",
        "missing",
    ),
    ({"user_id": 1, "data": [{**SEED, "salary": 1}]}, "salary", "not a model feature"),
    ({"user_id": 1, "data": ["x"]}, "data", "not an object"),
    ([SEED], None, "must be a JSON object"),
]


@pytest.mark.parametrize(("doc", "field", "words"), BAD)
def test_bad_input_is_named(function_client, doc, field, words):
    status, _, out = post(function_client, doc)
    assert status == 400, out
    assert words in out["error"]
    assert out.get("field") == field


@pytest.mark.parametrize(
    ("raw", "headers", "status", "words"),
    [
        (b"{not json", {}, 400, "not valid JSON"),
        (b"[" * 100_000, {}, 400, "not valid JSON"),
        (b'{"user_id": 1, "data": []}', {"Content-Type": "text/plain"}, 415, "application/json"),
        (b" " * 300_000, {}, 413, "larger than"),
        (
            json.dumps({"user_id": 1, "data": [SEED]}).encode(),
            {"Idempotency-Key": "a b"},
            400,
            "no spaces",
        ),
    ],
)
def test_bad_bodies(function_client, raw, headers, status, words):
    got, _, out = post(function_client, raw=raw, headers=headers)
    assert got == status, out
    assert words in out["error"]


def test_other_methods_are_refused(function_client):
    answer = function_client.put("/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 405
    assert "PUT is not allowed" in answer.get_json()["error"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("user_id=abc", "user_id"),
        ("user_id=²", "user_id"),
        ("user_id=1&limit=0", "limit"),
        ("user_id=1&limit=x", "limit"),
        ("user_id=1&limit=²", "limit"),  # str.isdigit() says yes, int() says no
        ("user_id=1&limit=" + "9" * 5000, "limit"),
    ],
)
def test_bad_history_queries_are_named(function_client, query, field):
    status, out = get(function_client, query)
    assert status == 400
    assert out["field"] == field


def test_serving_down_is_a_503_that_names_it(function_client):
    status, head, out = post(function_client, {"user_id": 1, "data": [SEED]})
    assert status == 503
    assert "serving" in out["error"]
    assert head["X-Request-ID"]


def test_database_down_is_a_503_that_names_it(function_client):
    status, out = get(function_client, "user_id=1")
    assert status == 503
    assert "database" in out["error"]


def test_metrics_count_every_answer_and_need_no_key(function_client):
    def scrape() -> str:
        answer = function_client.get("/metrics")  # no key: nginx lets only monitoring ask
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        return answer.get_data(as_text=True)

    before = scrape()
    post(function_client, {"user_id": 1, "data": [SEED]}, token="")
    function_client.open("/", method="BREW")  # an odd method: counted as "other"
    after = scrape()
    grew = partial(increase, before, after)

    assert grew('attrition_function_requests_total{method="POST",status="401"}') == 1
    assert grew('attrition_function_requests_total{method="other",status="405"}') == 1
    assert grew('attrition_function_request_seconds_count{method="POST"}') == 1
    assert "BREW" not in after


def test_without_a_metrics_path_there_is_no_metrics_page(function_client, monkeypatch):
    monkeypatch.delenv("GATEWAY_METRICS_PATH")  # as on Google Cloud (read at the first request)
    answer = function_client.get("/metrics")
    assert answer.status_code == 401
    assert "attrition_function" not in answer.get_data(as_text=True)
