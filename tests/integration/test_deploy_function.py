"""playbooks/deploy_function.yml against a recording fake gcloud: the exact commands, skipping
an unchanged deploy, check mode, invoker bindings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import testkit
from testkit.paths import CLOUD_FUNCTION, REPO

FAKE = Path(testkit.__file__).parent / "fake_gcloud"
SETTINGS = {
    "function_region": "us-west2",
    "function_vpc_connector": "attrition-connector",
    "function_serving_url": "https://10.10.0.12:8080",
    "function_db_host": "10.10.0.10",
    "function_url": "https://us-west2-p.cloudfunctions.net/ml2-external-inference",
    "function_invokers": ["serviceAccount:web@p.iam.gserviceaccount.com", "user:hr@example.com"],
    "function_ca_cert": "-----BEGIN CERTIFICATE-----\nthe fleet CA\n-----END CERTIFICATE-----",
}


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "cloud_function"
    shutil.copytree(CLOUD_FUNCTION, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def fake_env(tmp_path) -> dict:
    path = f"{FAKE}:{Path(sys.executable).parent}:{os.environ['PATH']}"
    return {
        **os.environ,
        "PATH": path,
        "FAKE_GCLOUD_LOG": str(tmp_path / "gcloud.log"),
        "FAKE_GCLOUD_STATE": str(tmp_path / "deployed"),
    }


def deploy(tmp_path, source, *extra, **overrides):
    """Run the playbook; (calls recorded by the fake gcloud, playbook output)."""
    log = tmp_path / "gcloud.log"
    log.unlink(missing_ok=True)
    env = fake_env(tmp_path)
    variables = {**SETTINGS, "function_source": str(source), **overrides}
    run = subprocess.run(
        ["ansible-playbook", "playbooks/deploy_function.yml", "-e", json.dumps(variables), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return calls, run.stdout


def test_deploy_commands_then_skip_then_redeploy_on_change(tmp_path, source):
    calls, _ = deploy(tmp_path, source)
    assert calls[0][:3] == ["functions", "describe", "ml2-external-inference"]
    label = calls[1][-1]
    assert label.startswith("--update-labels=attrition-deploy=") and len(label) == 33 + 40
    staged = calls[1][9]
    assert staged.startswith("--source=") and not Path(staged[9:]).exists()  # removed after
    assert calls[1] == [
        "functions",
        "deploy",
        "ml2-external-inference",
        "--gen2",
        "--runtime=python3.12",
        "--region=us-west2",
        "--trigger-http",
        "--no-allow-unauthenticated",
        "--entry-point=predict",
        staged,
        "--memory=512Mi",
        "--timeout=30s",
        "--max-instances=10",
        "--min-instances=0",
        "--vpc-connector=attrition-connector",
        "--egress-settings=private-ranges-only",
        "--set-env-vars=GATEWAY_SERVING_URL=https://10.10.0.12:8080,"
        "GATEWAY_SERVING_CA_FILE=/workspace/fleet-ca.crt,GATEWAY_AUTH=iam,"
        "GATEWAY_IAM_AUDIENCE=https://us-west2-p.cloudfunctions.net/ml2-external-inference,"
        "GATEWAY_MAX_ROWS=100,"
        "PGHOST=10.10.0.10,PGDATABASE=attrition,PGUSER=attrition_gateway,PGSSLMODE=verify-full,"
        "PGSSLROOTCERT=/workspace/fleet-ca.crt",
        "--set-secrets=PGPASSWORD=attrition-gateway-db-password:latest",
        "--quiet",
        label,
    ]
    assert calls[2:] == [
        [
            "functions",
            "add-invoker-policy-binding",
            "ml2-external-inference",
            "--region=us-west2",
            f"--member={m}",
            "--quiet",
        ]
        for m in SETTINGS["function_invokers"]
    ]

    # What Google Cloud got: the function's files and the fleet CA's certificate.
    shipped = json.loads((tmp_path / "deployed.source").read_text())
    assert set(shipped) >= {"main.py", "serving_client.py", "requirements.txt", "fleet-ca.crt"}
    assert shipped["fleet-ca.crt"] == SETTINGS["function_ca_cert"] + "\n"

    calls, _ = deploy(tmp_path, source)  # nothing changed: only the describe
    assert [c[:2] for c in calls] == [["functions", "describe"]]

    other_ca = SETTINGS["function_ca_cert"].replace("the fleet CA", "a new fleet CA")
    calls, _ = deploy(tmp_path, source, function_ca_cert=other_ca)  # a new CA is a new deploy
    assert [c[:2] for c in calls][:2] == [["functions", "describe"], ["functions", "deploy"]]

    (source / "main.py").write_text((source / "main.py").read_text() + "\n# changed\n")
    calls, _ = deploy(tmp_path, source)
    assert [c[:2] for c in calls][:2] == [["functions", "describe"], ["functions", "deploy"]]

    calls, _ = deploy(tmp_path, source, function_max_instances=20)  # a setting changed
    assert "--max-instances=20" in calls[1]


def test_check_mode_prints_and_runs_nothing(tmp_path, source):
    calls, out = deploy(tmp_path, source, "--check")
    assert [c[:2] for c in calls] == [["functions", "describe"]]
    assert "would run: gcloud functions deploy ml2-external-inference --gen2" in out


def test_missing_settings_are_named(tmp_path, source):
    log = tmp_path / "gcloud.log"
    env = fake_env(tmp_path)
    run = subprocess.run(
        [
            "ansible-playbook",
            "playbooks/deploy_function.yml",
            "-e",
            json.dumps({"function_source": str(source)}),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "set function_region, function_vpc_connector" in run.stdout
    assert not log.exists()
