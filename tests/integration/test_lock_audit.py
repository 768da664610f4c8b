"""files/requirements/audit.sh against a stand-in of OSV's query API (OSV cannot be reached from
our machines): it asks about every pin of every lock, fails on an advisory naming it, and says
when it could not ask at all."""

from __future__ import annotations

import json
import os
import re
import subprocess

from testkit.http_stand_in import stand_in
from testkit.paths import REPO

AUDIT = REPO / "files/requirements/audit.sh"


def pinned(lock: str, name: str) -> str:
    """The version lock file pins for name (its first pin)."""
    text = (REPO / lock).read_text()
    return re.search(rf"^{re.escape(name)}==(\S+)", text, re.MULTILINE).group(1)


def audit(osv_url: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(AUDIT)],
        env={**os.environ, "OSV_URL": osv_url, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def advisories_for(name: str, version: str):
    """An OSV answer with one advisory for name==version, none for anything else."""

    def post(path: str, body: bytes) -> bytes:
        query = json.loads(body)
        if query.get("package", {}).get("name") != name or query.get("version") != version:
            return b"{}"
        vuln = {
            "id": "PYSEC-0000-TEST",
            "summary": f"a test advisory for {name} {version}",
            "affected": [
                {
                    "package": {"name": name, "ecosystem": "PyPI"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                }
            ],
        }
        return json.dumps({"vulns": [vuln]}).encode()

    return post


def test_no_advisory_passes_after_asking_about_every_lock():
    with stand_in(lambda path, headers: b"", post=lambda path, body: b"{}") as (url, seen):
        result = audit(f"{url}/v1/query")
    assert result.returncode == 0, result.stdout + result.stderr
    asked = {json.loads(body).get("package", {}).get("name") for path, body in seen}
    # One pin from each kind of lock: hosts, tracking server, emulator, function, controller.
    for name in ("scikit-learn", "gunicorn", "flask", "mlflow", "gcp-storage-emulator"):
        assert name in asked
    for name in ("functions-framework", "ansible-core", "molecule", "uv"):
        assert name in asked


def test_an_advisory_fails_the_audit_and_names_the_package():
    version = pinned("cloud_function/requirements.txt", "urllib3")
    with stand_in(lambda path, headers: b"", post=advisories_for("urllib3", version)) as (url, _):
        result = audit(f"{url}/v1/query")
    assert result.returncode != 0
    assert "PYSEC-0000-TEST" in result.stdout
    assert re.search(rf"urllib3\s+{re.escape(version)}", result.stdout)


def test_an_unreachable_source_is_reported_and_fails_only_when_required():
    closed = "http://127.0.0.1:9/v1/query"  # the discard port: nothing listens there
    result = audit(closed)
    assert result.returncode == 0
    assert f"audit not run: the advisory source {closed} cannot be reached" in result.stderr
    assert audit(closed, AUDIT_REQUIRED="1").returncode != 0
