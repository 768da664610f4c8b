"""The web page in a real headless browser (Debian's chromium through chromedriver), in front
of the real function, serving and PostgreSQL: fill, submit, see the result and the history row,
see a field error; the token never reaches the browser."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from testkit.gateway_server import TOKEN, record_move
from testkit.mlflow_server import STARTUP_SECONDS, free_port
from testkit.serving_server import Server

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def page_url(fn, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("web") / "web.log"
    env = {**os.environ, "WEB_GATEWAY_URL": fn.url + "/", "WEB_GATEWAY_KEY": TOKEN}
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
    server = Server(proc, f"http://127.0.0.1:{port}", log)
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


def submit(browser):
    """Click Predict and wait for the answer page (not the old one, still on screen)."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(page))


def fill(browser, **values):
    for name, value in values.items():
        field = browser.find_element(By.ID, name)
        field.clear()
        field.send_keys(str(value))


def test_fill_submit_see_result_and_history(browser, page_url):
    browser.get(page_url + "/?user_id=4242")
    assert browser.find_element(By.ID, "no-history").text == "None yet."
    assert browser.find_element(By.ID, "age").get_attribute("value") == "40"  # a default
    assert "Age (years)" in browser.find_element(By.CSS_SELECTOR, "label[for=age]").text
    fill(browser, user_id=4242, age=29, overtime=1, monthlyincome=2100)
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


def test_page_shows_what_production_learned_from(browser, page_url, gateway_db):
    record_move(gateway_db, "manual", 8, 7, True, "web test: roll back", "synthetic")
    browser.get(page_url + "/?user_id=4242")
    assert browser.find_element(By.ID, "data-kind").text == "synthetic"
    assert "Version 7 of attrition" in browser.find_element(By.ID, "production").text
    assert "(pinned by hand)" in browser.find_element(By.ID, "production").text
    first = browser.find_elements(By.CSS_SELECTOR, "#moves tbody tr")[0]
    cells = [c.text for c in first.find_elements(By.TAG_NAME, "td")]
    assert cells[1:] == ["manual", "8", "7", "synthetic", "web test: roll back"]


def test_field_error_is_shown_next_to_the_field(browser, page_url):
    browser.get(page_url + "/?user_id=4243")
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


def test_google_cloud_identity_token_from_the_metadata_server():
    """On Google Cloud the page sends an identity token for the function's URL, fetched from
    the metadata server (no metadata server exists here: a local stand-in records the calls)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from attrition.web.app import Gateway

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(
                (self.path, self.headers.get("Metadata-Flavor"), self.headers.get("Authorization"))
            )
            body = b"id-token-1" if self.path.startswith("/identity") else json.dumps({}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        gw = Gateway(base + "/fn", metadata_url=base + "/identity")
        assert gw.call("GET", query={"user_id": "1"})[0] == 200
        assert gw.call("GET", query={"user_id": "1"})[0] == 200
    finally:
        server.shutdown()
    from urllib.parse import quote

    # format=full: the token names the VM's service account, the function's client.
    assert seen[0][0] == "/identity?audience=" + quote(base + "/fn", safe="") + "&format=full"
    assert seen[0][1] == "Google"
    assert [s[2] for s in seen[1:]] == ["Bearer id-token-1", "Bearer id-token-1"]  # cached
