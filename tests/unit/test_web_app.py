"""The web page in-process (Flask's test client), calling the real function in-process too.

The page's only way out is its Gateway's `call`; here that goes to the function's own Flask app
(functions_framework.create_app) instead of over HTTP, with no serving and no database behind
it, as in test_function_app.py. So sign-in, CSRF, the roles, the page's own checks and how it
shows failures are tested without a browser; tests/integration/test_web.py drives the deployed
shape (gunicorn, functions-framework, real services) with chromium.
"""

from __future__ import annotations

import re
import time
from functools import partial

import pytest

from attrition.google_tokens import IAP_ISSUERS
from attrition.web.accounts import Accounts
from attrition.web.app import DEFAULTS, HEADERS, create_app
from attrition.web.identity import IAP_HEADER, SESSION_COOKIE
from attrition.web.settings import METADATA, WebSettings
from testkit.gateway_server import TOKEN
from testkit.google_keys import Signer, published
from testkit.prometheus_text import increase

HOST = "hr.example.test"
ANN = {"name": "ann", "role": "analyst", "user_id": 7, "password": "ann-password-123"}
HAL = {"name": "hal", "role": "hr_admin", "user_id": 2, "password": "hal-password-123"}


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


pytestmark = pytest.mark.usefixtures("quick_hashes")


@pytest.fixture
def function(function_client):
    return FunctionInProcess(function_client)


def settings(tmp_path, **changes) -> WebSettings:
    base = {
        "gateway_url": "http://function.test/",
        "accounts_file": str(tmp_path / "accounts.sqlite3"),
        "allowed_hosts": HOST,
        "failure_delay": 0.0,
    }
    conf = WebSettings(**{**base, **changes})
    Accounts(conf.accounts_file).sync([ANN, HAL])
    return conf


@pytest.fixture
def page(function, tmp_path):
    return create_app(function, settings(tmp_path)).test_client()


def new_client(app):
    return app.test_client()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', html).group(1)


def sign_in(page, who=ANN, password=None):
    """The sign-in as a browser does it: the form (with its token and nonce cookie), then post."""
    form = page.get("/login", base_url=f"https://{HOST}")
    return page.post(
        "/login",
        base_url=f"https://{HOST}",
        data={
            "name": who["name"],
            "password": password or who["password"],
            "csrf": csrf_of(form.get_data(as_text=True)),
        },
    )


def get(page, path="/"):
    return page.get(path, base_url=f"https://{HOST}")


def post(page, data, path="/"):
    return page.post(path, base_url=f"https://{HOST}", data=data)


def field_error(html: str, field: str) -> str | None:
    found = re.search(rf'id="error-{field}">([^<]*)<', html)
    return found.group(1) if found else None


def form(page, **changes) -> dict:
    """The prediction form as the page gives it (with its CSRF token), some values changed."""
    html = get(page).get_data(as_text=True)
    return {"csrf": csrf_of(html), **{k: str(v) for k, v in DEFAULTS.items()}, **changes}


def test_nothing_but_the_sign_in_form_without_signing_in(page, function):
    assert get(page).status_code == 303
    assert get(page).headers["Location"].endswith("/login")
    assert post(page, {k: str(v) for k, v in DEFAULTS.items()}).status_code == 303
    assert get(page, "/?user_id=1").status_code == 303
    assert function.calls == []
    login = get(page, "/login")
    assert login.status_code == 200
    assert 'type="password"' in login.get_data(as_text=True)


def test_an_analyst_predicts_and_sees_only_their_own_history(page, function):
    signed = sign_in(page)
    assert (signed.status_code, signed.headers["Location"]) == (303, "/")
    cookie = page.get_cookie(SESSION_COOKIE, domain=HOST)
    assert cookie.secure and cookie.http_only and cookie.same_site == "Strict"
    html = get(page, "/?user_id=8").get_data(as_text=True)
    assert 'id="age" name="age" type="number" min="18" max="70" step="1" value="40"' in html
    assert "ann (analyst, user 7)" in html
    assert 'id="user_id"' not in html and "The production model" not in html
    # Always the account's own history, whatever the address says.
    assert function.calls == [("GET", None, {"user_id": "7", "limit": "10"})]
    assert "the database cannot be reached" in html  # the function's failure, shown
    assert TOKEN not in html
    function.calls.clear()
    answer = post(page, form(page, user_id="8"))  # a user id in the form is ignored
    assert answer.status_code == 502
    assert function.calls[1] == ("POST", {"user_id": 7, "data": [DEFAULTS]}, None)


def test_an_hr_admin_sees_anyones_history_and_the_models_moves(page, function):
    sign_in(page, HAL)
    html = get(page, "/?user_id=8").get_data(as_text=True)
    assert function.calls == [("GET", None, {"user_id": "8", "limit": "10"})]
    assert "Recent predictions of user 8" in html and "The production model" in html
    function.calls.clear()
    bad = get(page, "/?user_id=%C2%B2")  # "²": str.isdigit() says yes, int() says no
    assert bad.status_code == 400
    assert field_error(bad.get_data(as_text=True), "user_id") == "a positive whole number"
    assert function.calls == []


@pytest.mark.parametrize("csrf", [None, "", "0" * 64, "another session's"])
def test_a_form_without_its_csrf_token_changes_nothing(page, function, csrf):
    sign_in(page)
    data = form(page)
    if csrf is None:
        del data["csrf"]
    elif csrf == "another session's":
        other = new_client(page.application)
        sign_in(other)  # the same user, signed in elsewhere: another session, another token
        data["csrf"] = form(other)["csrf"]
        assert data["csrf"] != form(page)["csrf"]
    else:
        data["csrf"] = csrf
    function.calls.clear()
    answer = post(page, data)
    assert answer.status_code == 403
    assert "out of date or not from this page" in answer.get_data(as_text=True)
    assert [c for c in function.calls if c[0] == "POST"] == []


def test_the_sign_in_form_needs_its_own_token_and_cookie(page):
    form_html = get(page, "/login").get_data(as_text=True)
    fresh = new_client(page.application)  # no nonce cookie: a form posted from elsewhere
    answer = post(fresh, {**ANN, "csrf": csrf_of(form_html)}, "/login")
    assert answer.status_code == 400
    assert "out of date" in answer.get_data(as_text=True)
    assert fresh.get_cookie(SESSION_COOKIE, domain=HOST) is None


def test_wrong_passwords_lock_the_account_for_a_while(function, tmp_path):
    app = create_app(function, settings(tmp_path, lock_failures=3, lock_minutes=0.01))
    page = app.test_client()
    for _ in range(3):
        wrong = sign_in(page, ANN, "not-her-password")
        assert wrong.status_code == 401
        assert "Wrong name or password. After 3 failures" in wrong.get_data(as_text=True)
    assert sign_in(page, ANN).status_code == 401  # locked: the right password is refused too
    assert sign_in(page, {"name": "nobody", "password": "whatever-it-is"}).status_code == 401
    time.sleep(0.7)
    assert sign_in(page, ANN).status_code == 303


def test_sign_out_and_idle_sessions_end(function, tmp_path):
    app = create_app(function, settings(tmp_path, session_idle_minutes=0.01))
    page = app.test_client()
    sign_in(page)
    html = get(page).get_data(as_text=True)
    assert post(page, {"csrf": csrf_of(html)}, "/logout").status_code == 303
    assert get(page).status_code == 303  # the cookie's session is gone on the server
    sign_in(page)
    assert get(page).status_code == 200
    time.sleep(0.7)
    assert get(page).status_code == 303


def test_only_the_configured_host_is_served(page):
    for path in ("/login", "/", "/static/page.css", "/nowhere"):
        assert page.get(path, base_url="https://evil.example").status_code == 400
    assert page.get("/login", base_url=f"https://{HOST}:443").status_code == 200
    # The health check (the role's wait, from the host itself) says nothing about anyone.
    assert page.get("/healthz", base_url="http://127.0.0.1:8000").status_code == 200


@pytest.mark.parametrize("path", ["/login", "/"])
def test_the_browser_is_told_what_it_may_do(page, path):
    sign_in(page)
    answer = get(page, path)
    for name, value in HEADERS.items():
        assert answer.headers[name] == value
    assert answer.headers["Cache-Control"] == "no-store"
    assert "style-src 'self'" in answer.headers["Content-Security-Policy"]
    css = get(page, "/static/page.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("age", "17", "17 is outside 18 to 70"),
        ("age", "abc", "a whole number from 18 to 70"),
        ("age", "--5", "a whole number from 18 to 70"),
        ("age", "²", "a whole number from 18 to 70"),
        ("age", "", "a whole number from 18 to 70"),
        ("monthlyincome", "9" * 5000, "a whole number from"),
    ],
)
def test_bad_values_are_named_next_to_their_field_and_never_sent(
    page, function, field, value, words
):
    sign_in(page)
    answer = post(page, form(page, **{field: value}))
    assert answer.status_code == 400
    assert words in field_error(answer.get_data(as_text=True), field)
    assert [c for c in function.calls if c[0] == "POST"] == []


def test_the_functions_field_error_is_shown_next_to_the_field(monkeypatch, page, function):
    """The page mirrors the function's checks, so no input reaches this branch today; it is for a
    function deployed with a stricter check than the page's. The function's answer is stood in."""
    sign_in(page)
    data = form(page)
    monkeypatch.setattr(
        function,
        "call",
        lambda method, body=None, query=None: (
            (400, {"error": "data[0].age: 40 is not allowed today", "field": "age"})
            if method == "POST"
            else (200, {"predictions": [], "production_moves": []})
        ),
    )
    answer = post(page, data)
    assert answer.status_code == 400
    assert (
        field_error(answer.get_data(as_text=True), "age") == "data[0].age: 40 is not allowed today"
    )


def test_a_prediction_that_fails_downstream_is_a_502_with_the_reason(page, function):
    sign_in(page)
    answer = post(page, form(page))
    assert answer.status_code == 502
    assert "the serving host cannot be reached" in answer.get_data(as_text=True)


def test_behind_identity_aware_proxy_the_assertion_says_who(function, tmp_path):
    signer, audience = Signer("iap", "iap-1"), "/projects/1/global/backendServices/2"
    with published([signer]) as (url, _):
        conf = settings(tmp_path, sign_in="iap", iap_audience=audience, iap_certs_url=url)
        Accounts(conf.accounts_file).sync(
            [{"name": "hal@example.com", "role": "hr_admin", "user_id": 2}]
        )
        page = create_app(function, conf).test_client()

        def as_(token):
            return page.get("/", base_url=f"https://{HOST}", headers={IAP_HEADER: token})

        good = as_(signer.token(audience, "hal@example.com", IAP_ISSUERS[0]))
        assert good.status_code == 200
        assert "hal@example.com (hr_admin, user 2)" in good.get_data(as_text=True)
        assert 'id="logout"' not in good.get_data(as_text=True)  # IAP signs people out
        stranger = as_(signer.token(audience, "eve@example.com", IAP_ISSUERS[0]))
        assert stranger.status_code == 403
        assert "eve@example.com has no account" in stranger.get_data(as_text=True)
        assert as_("").status_code == 401
        assert (
            as_(signer.token("/projects/1/other", "hal@example.com", IAP_ISSUERS[0])).status_code
            == 401
        )
        # A password account means nothing here: nobody signs in with a password.
        assert page.post("/login", base_url=f"https://{HOST}", data=ANN).status_code == 303


def test_health(page):
    assert get(page, "/healthz").get_json() == {"status": "ok"}


def test_metrics_count_requests_function_calls_and_sign_ins(page):
    def scrape() -> str:
        # Asked by address, signed in as no one: nginx lets only the monitoring hosts ask.
        answer = page.get("/metrics", base_url="https://10.0.0.9")
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        return answer.get_data(as_text=True)

    before = scrape()
    sign_in(page, ANN, "not-her-password")
    sign_in(page)
    get(page)  # the form; the function (no database here) answers the history with a 503
    after = scrape()
    grew = partial(increase, before, after)

    assert grew('attrition_page_sign_ins_total{outcome="refused"}') == 1
    assert grew('attrition_page_sign_ins_total{outcome="ok"}') == 1
    assert grew('attrition_page_requests_total{endpoint="login",status="401"}') == 1
    assert grew('attrition_page_requests_total{endpoint="form",status="200"}') == 1
    assert grew('attrition_page_request_seconds_count{endpoint="form"}') == 1
    assert grew('attrition_page_function_calls_total{method="GET",status="503"}') == 1
    assert ANN["name"] not in after


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({}, "WEB_GATEWAY_URL must be set"),
        ({"WEB_GATEWAY_AUTH": "iap"}, "WEB_GATEWAY_AUTH='iap': use key or metadata"),
        ({"WEB_SIGN_IN": "open"}, "WEB_SIGN_IN='open': use accounts or iap"),
        ({"WEB_SIGN_IN": "iap"}, "WEB_IAP_AUDIENCE must be set"),
        ({"WEB_ALLOWED_HOSTS": " , "}, "WEB_ALLOWED_HOSTS must name the page's hosts"),
    ],
)
def test_settings_name_the_variable_and_the_problem(env, words):
    base = {"WEB_GATEWAY_URL": "http://x/", "WEB_ALLOWED_HOSTS": HOST} if env else {}
    with pytest.raises(ValueError, match=re.escape(words)):
        WebSettings.from_env({**base, **env})
    conf = WebSettings.from_env(
        {"WEB_GATEWAY_URL": "http://x/", "WEB_GATEWAY_AUTH": "metadata", "WEB_ALLOWED_HOSTS": "a,b"}
    )
    assert (conf.metadata_url, conf.hosts()) == (METADATA, ["a", "b"])
