"""The web page in-process (Flask's test client), calling the real function in-process too.

The page's only way out is its Gateway's `call`; here that goes to the function's own Flask app
(functions_framework.create_app) instead of over HTTP, with no serving and no database behind
it, as in test_function_app.py. So the page's own checks, how it shows the function's field
errors and how it shows failures are tested without a browser; tests/integration/test_web.py
drives the deployed shape (gunicorn, functions-framework, real services) with chromium.
"""

from __future__ import annotations

import re

import pytest

from attrition.web.app import DEFAULTS, create_app
from attrition.web.settings import METADATA, WebSettings
from testkit.gateway_server import TOKEN


class FunctionInProcess:
    """The page's Gateway, answered by the function's app; records what the page sent."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def call(self, method, body=None, query=None):
        self.calls.append((method, body, query))
        headers = {"Authorization": f"Bearer {TOKEN}"}
        answer = self.client.open(
            "/", method=method, json=body, query_string=query, headers=headers
        )
        return answer.status_code, answer.get_json()


@pytest.fixture
def function(function_client):
    return FunctionInProcess(function_client)


@pytest.fixture
def page(function):
    return create_app(function).test_client()


def field_error(html: str, field: str) -> str | None:
    found = re.search(rf'id="error-{field}">([^<]*)<', html)
    return found.group(1) if found else None


def form(**changes) -> dict:
    return {"user_id": "7", **{k: str(v) for k, v in DEFAULTS.items()}, **changes}


def test_the_form_starts_with_the_example_employee(page, function):
    answer = page.get("/?user_id=7")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="age" name="age" type="number" min="18" max="70" step="1" value="40"' in html
    # The history comes from the function; its failure is shown, not a blank page or a 500.
    assert function.calls == [("GET", None, {"user_id": "7", "limit": "10"})]
    assert "the database cannot be reached" in html
    assert TOKEN not in html


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("age", "17", "17 is outside 18 to 70"),
        ("age", "abc", "a whole number from 18 to 70"),
        ("age", "--5", "a whole number from 18 to 70"),
        ("age", "²", "a whole number from 18 to 70"),
        ("age", "", "a whole number from 18 to 70"),
        ("monthlyincome", "9" * 5000, "a whole number from"),
        ("user_id", "0", "a positive whole number"),
        ("user_id", "²", "a positive whole number"),
        ("user_id", "9" * 5000, "a positive whole number"),
    ],
)
def test_bad_values_are_named_next_to_their_field_and_never_sent(
    page, function, field, value, words
):
    answer = page.post("/", data=form(**{field: value}))
    assert answer.status_code == 400
    assert words in field_error(answer.get_data(as_text=True), field)
    assert [c for c in function.calls if c[0] == "POST"] == []


@pytest.mark.parametrize("query", ["user_id=²", "user_id=" + "9" * 5000, "user_id=-1"])
def test_odd_user_ids_in_the_address_show_the_empty_form(page, function, query):
    answer = page.get("/?" + query)
    assert answer.status_code == 200
    assert function.calls == []  # no history asked for a user id that is not one


def test_the_functions_field_error_is_shown_next_to_the_field(monkeypatch, page, function):
    """The page mirrors the function's checks, so no input reaches this branch today; it is for a
    function deployed with a stricter check than the page's. The function's answer is stood in."""
    monkeypatch.setattr(
        function,
        "call",
        lambda method, body=None, query=None: (
            (400, {"error": "data[0].age: 40 is not allowed today", "field": "age"})
            if method == "POST"
            else (200, {"predictions": [], "production_moves": []})
        ),
    )
    answer = page.post("/", data=form())
    assert answer.status_code == 400
    assert (
        field_error(answer.get_data(as_text=True), "age") == "data[0].age: 40 is not allowed today"
    )


def test_a_prediction_that_fails_downstream_is_a_502_with_the_reason(page, function):
    answer = page.post("/", data=form())
    assert answer.status_code == 502
    assert "the serving host cannot be reached" in answer.get_data(as_text=True)
    assert function.calls[0] == ("POST", {"user_id": 7, "data": [DEFAULTS]}, None)


def test_health(page):
    assert page.get("/healthz").get_json() == {"status": "ok"}


def test_settings_name_the_variable_and_the_problem():
    with pytest.raises(ValueError, match="WEB_GATEWAY_URL must be set"):
        WebSettings.from_env({})
    with pytest.raises(ValueError, match="WEB_GATEWAY_AUTH='iap': use key or metadata"):
        WebSettings.from_env({"WEB_GATEWAY_URL": "http://x/", "WEB_GATEWAY_AUTH": "iap"})
    conf = WebSettings.from_env({"WEB_GATEWAY_URL": "http://x/", "WEB_GATEWAY_AUTH": "metadata"})
    assert conf.metadata_url == METADATA
