"""The monitoring's two programs of ours: the jobs' outcome recorder (a unit's ExecStopPost)
and the alert log (Alertmanager's webhook receiver). The fleet's molecule scenarios run both
for real; here each outcome and each bad request."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time

import pytest

from testkit.mlflow_server import free_port
from testkit.paths import ALERT_LOG, JOB_OUTCOME


def record(tmp_path, name: str, result: str) -> dict[str, float]:
    env = {**os.environ, "ATTRITION_TEXTFILE_DIR": str(tmp_path), "SERVICE_RESULT": result}
    subprocess.run(["/bin/sh", str(JOB_OUTCOME), name], env=env, check=True)
    text = (tmp_path / f"attrition_job_{name.replace('-', '_')}.prom").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers
    return {
        metric: float(value)
        for metric, value in re.findall(rf'^(\w+)\{{name="{name}"\}} (\S+)$', text, re.M)
    }


def test_a_success_then_a_failure_keeps_the_last_success(tmp_path):
    before = time.time()
    first = record(tmp_path, "backup-diff", "success")
    assert first["attrition_job_last_run_success"] == 1
    assert before - 1 <= first["attrition_job_last_success_timestamp_seconds"] <= time.time()
    second = record(tmp_path, "backup-diff", "exit-code")
    assert second["attrition_job_last_run_success"] == 0
    assert (
        second["attrition_job_last_success_timestamp_seconds"]
        == first["attrition_job_last_success_timestamp_seconds"]
    )
    assert (
        second["attrition_job_last_run_timestamp_seconds"]
        >= first["attrition_job_last_run_timestamp_seconds"]
    )


def test_a_job_that_never_succeeded_reports_zero(tmp_path):
    outcome = record(tmp_path, "training", "timeout")
    assert outcome["attrition_job_last_run_success"] == 0
    assert outcome["attrition_job_last_success_timestamp_seconds"] == 0


@pytest.fixture
def alert_log(tmp_path):
    port, log = free_port(), tmp_path / "alerts.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(ALERT_LOG), "127.0.0.1", str(port), str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            break
        except OSError:
            time.sleep(0.05)

    def post(body: bytes, headers=None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/", body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read().decode()

    yield post, log, proc
    proc.terminate()
    proc.wait(5)


NOTIFICATION = {
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "EndpointDown", "endpoint": "serving", "instance": "serving"},
            "annotations": {"summary": "serving on serving does not answer as it should"},
        }
    ],
}


def test_alert_log_keeps_a_notification_and_says_it_in_the_journal(alert_log):
    post, log, proc = alert_log
    assert post(json.dumps(NOTIFICATION).encode()) == (200, "ok\n")
    assert [json.loads(line) for line in log.read_text().splitlines()] == [NOTIFICATION]
    proc.terminate()
    out = proc.communicate(timeout=5)[0]
    assert out.startswith('FIRING EndpointDown {"alertname": "EndpointDown", "endpoint": "serving"')
    assert out.rstrip().endswith("serving on serving does not answer as it should")


@pytest.mark.parametrize(
    "body, headers, status, words",
    [
        (b"{not json", None, 400, "body: not an Alertmanager notification"),
        (b'{"alerts": 3}', None, 400, "body: not an Alertmanager notification"),
        (b'{"alerts": [{"labels": {}}]}', None, 400, "body: not an Alertmanager notification"),
        (b"x", {"Content-Length": "many"}, 411, "Content-Length: required, a number"),
        (b"x", {"Content-Length": str(2 << 20)}, 413, "body: larger than"),
    ],
)
def test_alert_log_refuses_what_is_not_a_notification_and_keeps_nothing(
    alert_log, body, headers, status, words
):
    post, log, _ = alert_log
    answer = post(body, headers)
    assert answer[0] == status and words in answer[1]
    assert not log.exists()
