"""The web page in a real headless browser (Debian's chromium through chromedriver), in front
of the real function, serving and PostgreSQL: sign in, fill, submit, see the result and the
history row, see a field error, sign out; the page's key never reaches the browser."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from testkit.cli import run_cli
from testkit.gateway_server import TOKEN, record_move
from testkit.http_stand_in import stand_in
from testkit.mlflow_server import STARTUP_SECONDS, free_port
from testkit.serving_server import Server

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
ANALYST = {"name": "ana", "role": "analyst", "user_id": 4242, "password": "ana-password-123"}
ADMIN = {"name": "hra", "role": "hr_admin", "user_id": 4243, "password": "hra-password-123"}


@pytest.fixture(scope="module")
def page_url(fn, tmp_path_factory):
    port = free_port()
    folder = tmp_path_factory.mktemp("web")
    log, accounts = folder / "web.log", str(folder / "accounts.sqlite3")
    synced = run_cli(
        "web-users", "sync", "--accounts-file", accounts, stdin=json.dumps([ANALYST, ADMIN])
    )
    assert synced.returncode == 0, synced.stderr
    env = {
        **os.environ,
        "WEB_GATEWAY_URL": fn.url + "/",
        "WEB_GATEWAY_KEY": TOKEN,
        "WEB_ACCOUNTS_FILE": accounts,
        "WEB_ALLOWED_HOSTS": "localhost",
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-b",
                f"127.0.0.1:{port}",
                "--no-control-socket",
                "-k",
                "gthread",
                "--threads",
                "4",
                "--graceful-timeout",
                "5",
                "attrition.web.app:create_app()",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # localhost: the browser keeps Secure (__Host-) cookies from http only for it.
    server = Server(proc, f"http://localhost:{port}", log)
    try:
        server.wait_until(
            lambda: server.call("/healthz")[0] == 200, STARTUP_SECONDS, "the web page"
        )
        yield server.url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("chromium and chromium-driver are missing (fleet.sh test installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.implicitly_wait(5)
    yield driver
    with contextlib.suppress(Exception):
        driver.quit()


def click_and_wait(browser, element_id: str):
    """Click the element and wait until the page it was on has been replaced (the old one stays
    on screen until the answer comes)."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, element_id).click()
    WebDriverWait(browser, 15).until(replaced(page))


def replaced(element):
    """selenium's staleness_of, also when chromedriver says so with a generic error: it answers
    "Node with given id does not belong to the document" instead of a stale element reference
    while the old page is being torn down (a failed CI rehearsal)."""

    def check(_):
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as err:
            if "does not belong to the document" not in str(err):
                raise
            return True
        return False

    return check


def submit(browser):
    """Click Predict and wait for the answer page."""
    click_and_wait(browser, "submit")


def fill(browser, **values):
    for name, value in values.items():
        field = browser.find_element(By.ID, name)
        field.clear()
        field.send_keys(str(value))


def sign_in(browser, page_url, who):
    browser.delete_all_cookies()
    browser.get(page_url + "/")
    assert browser.current_url == page_url + "/login"  # sent to sign in first
    fill(browser, name=who["name"], password=who["password"])
    click_and_wait(browser, "sign-in")


def test_fill_submit_see_result_and_history(browser, page_url):
    sign_in(browser, page_url, ANALYST)
    assert browser.current_url == page_url + "/"
    assert browser.find_element(By.ID, "signed-in").text.startswith("ana (analyst, user 4242)")
    assert browser.find_element(By.ID, "no-history").text == "None yet."
    assert browser.find_element(By.ID, "age").get_attribute("value") == "40"  # a default
    assert "Age (years)" in browser.find_element(By.CSS_SELECTOR, "label[for=age]").text
    fill(browser, age=29, overtime=1, monthlyincome=2100)
    submit(browser)
    label = browser.find_element(By.ID, "label").text
    probability = browser.find_element(By.ID, "probability").text
    assert label in ("Likely to leave", "Likely to stay")
    assert probability.endswith(" %") and 0 <= float(probability[:-2]) <= 100
    rows = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert len(rows) == 1
    cells = [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[1:4] == ["29", "2100", "yes"]
    assert cells[4] == probability
    assert TOKEN not in browser.page_source


def test_an_hr_admin_sees_the_analysts_history_and_the_models_moves(browser, page_url, gateway_db):
    record_move(gateway_db, "manual", 8, 7, True, "web test: roll back", "synthetic")
    sign_in(browser, page_url, ADMIN)
    fill(browser, user_id=4242)
    click_and_wait(browser, "lookup")
    assert browser.current_url == page_url + "/?user_id=4242"
    assert browser.find_element(By.ID, "history-of").text == "Recent predictions of user 4242"
    assert browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")  # the analyst's
    assert browser.find_element(By.ID, "data-kind").text == "synthetic"
    assert "Version 7 of attrition" in browser.find_element(By.ID, "production").text
    assert "(pinned by hand)" in browser.find_element(By.ID, "production").text
    first = browser.find_elements(By.CSS_SELECTOR, "#moves tbody tr")[0]
    cells = [c.text for c in first.find_elements(By.TAG_NAME, "td")]
    assert cells[1:] == ["manual", "8", "7", "synthetic", "web test: roll back"]


def test_field_error_is_shown_next_to_the_field_then_sign_out(browser, page_url):
    sign_in(browser, page_url, ADMIN)
    fill(browser, age=17)
    submit(browser)
    error = browser.find_element(By.ID, "error-age")
    assert error.text == "17 is outside 18 to 70"
    assert "invalid" in error.find_element(By.XPATH, "..").get_attribute("class")
    assert browser.find_elements(By.ID, "result") == []
    fill(browser, age="abc")
    submit(browser)
    assert "whole number" in browser.find_element(By.ID, "error-age").text
    assert browser.find_element(By.ID, "no-history")  # nothing was stored for this user
    click_and_wait(browser, "logout")
    assert browser.current_url == page_url + "/login"
    browser.get(page_url + "/")
    assert browser.current_url == page_url + "/login"  # the session is over


def test_a_wrong_password_is_refused_and_said(browser, page_url):
    sign_in_page = page_url + "/login"
    browser.delete_all_cookies()
    browser.get(sign_in_page)
    fill(browser, name="ana", password="not-the-password")
    click_and_wait(browser, "sign-in")
    assert "Wrong name or password" in browser.find_element(By.ID, "problem").text
    assert browser.get_cookie("__Host-attrition-session") is None


def test_google_cloud_identity_token_from_the_metadata_server():
    """On Google Cloud the page sends an identity token for the function's URL, fetched from
    the metadata server (no metadata server exists here: a local stand-in records the calls)."""
    from attrition.web.app import Gateway

    def answer(path, headers):
        return b"id-token-1" if path.startswith("/identity") else b"{}"

    with stand_in(answer) as (base, seen):
        gw = Gateway(base + "/fn", metadata_url=base + "/identity")
        assert gw.call("GET", query={"user_id": "1"})[0] == 200
        assert gw.call("GET", query={"user_id": "1"})[0] == 200
    from urllib.parse import quote

    # format=full: the token names the VM's service account, the function's client.
    assert seen[0][0] == "/identity?audience=" + quote(base + "/fn", safe="") + "&format=full"
    assert seen[0][1]["Metadata-Flavor"] == "Google"
    tokens = [headers["Authorization"] for _, headers in seen[1:]]
    assert tokens == ["Bearer id-token-1", "Bearer id-token-1"]  # fetched once, kept
