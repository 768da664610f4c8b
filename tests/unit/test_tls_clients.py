"""Our HTTP clients verify the server: the function's client of serving, the web page's client of
the function, and MLflow's client (training and serving to the tracking server) accept a
certificate from the CA they are given for the name they asked for, and refuse one from another
CA or for another name (an HTTPS server on loopback, in this process)."""

from __future__ import annotations

import importlib.util
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from attrition.web.app import Gateway
from testkit.paths import CLOUD_FUNCTION
from testkit.pki import make_pki

_spec = importlib.util.spec_from_file_location(
    "serving_client", CLOUD_FUNCTION / "serving_client.py"
)
serving_client = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serving_client)

ANSWER = {
    "model": {"name": "attrition", "version": "1"},
    "threshold": 0.5,
    "predictions": [{"attrition": False, "probability": 0.1}],
}


EXPERIMENTS = "/api/2.0/mlflow/experiments/search"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The fleet's CA and another one (a CA file each), and a server certificate for `localhost`
    (only: 127.0.0.1 is then a name it does not hold) signed by the fleet's."""
    files = make_pki(tmp_path_factory.mktemp("pki"), ("localhost",))
    return {name: str(path) for name, path in files.items()}


@pytest.fixture(scope="module")
def https_port(pki):
    class Handler(BaseHTTPRequestHandler):
        def answer(self):
            # MLflow's client asks the tracking API; everything else gets serving's answer.
            found = {"experiments": []} if self.path.startswith(EXPERIMENTS) else ANSWER
            body = json.dumps(found).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.answer()

        do_GET = answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pki["cert"], pki["key"])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def predict(url: str, ca_file: str) -> dict:
    client = serving_client.ServingClient(url, timeout=5, pool_size=1, ca_file=ca_file)
    return client.predict([[1] * 3], ("a", "b", "c"), "tls-test")


def test_function_client_accepts_the_fleet_ca_for_the_servers_name(pki, https_port):
    assert predict(f"https://localhost:{https_port}", pki["fleet"])["version"] == 1


def test_function_client_refuses_another_ca(pki, https_port):
    with pytest.raises(serving_client.Unavailable, match="SSLError"):
        predict(f"https://localhost:{https_port}", pki["other"])


def test_function_client_refuses_the_system_cas_for_a_fleet_certificate(https_port):
    with pytest.raises(serving_client.Unavailable, match="SSLError"):
        predict(f"https://localhost:{https_port}", "")


def test_function_client_refuses_a_name_the_certificate_does_not_hold(pki, https_port):
    with pytest.raises(serving_client.Unavailable, match="SSLError"):
        predict(f"https://127.0.0.1:{https_port}", pki["fleet"])


def test_page_client_accepts_the_fleet_ca(pki, https_port):
    gateway = Gateway(f"https://localhost:{https_port}/", token="t" * 20, ca_file=pki["fleet"])
    assert gateway.call("GET", query={"user_id": "1"}) == (200, ANSWER)


@pytest.mark.parametrize("ca", ["other", "system"])
def test_page_client_refuses_another_ca(pki, https_port, ca):
    gateway = Gateway(f"https://localhost:{https_port}/", token="t" * 20, ca_file=pki.get(ca, ""))
    status, answer = gateway.call("GET", query={"user_id": "1"})
    assert status == 503 and "SSLError" in answer["error"]


def search_experiments(monkeypatch, url: str, ca_file: str):
    """What training and serving do: MLflow's client with the CA file their units set."""
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", ca_file)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    return MlflowClient(tracking_uri=url).search_experiments()


def test_mlflow_client_accepts_the_fleet_ca(monkeypatch, pki, https_port):
    assert search_experiments(monkeypatch, f"https://localhost:{https_port}", pki["fleet"]) == []


@pytest.mark.parametrize(("host", "ca"), [("localhost", "other"), ("127.0.0.1", "fleet")])
def test_mlflow_client_refuses_another_ca_or_name(monkeypatch, pki, https_port, host, ca):
    with pytest.raises(Exception, match=r"SSL|certificate"):
        search_experiments(monkeypatch, f"https://{host}:{https_port}", pki[ca])
