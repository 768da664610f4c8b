"""The fleet's edge on this machine, for the benchmarks: nginx (Debian's package) with the edge
role's own configuration (roles/edge/templates/etc/nginx/nginx.conf.j2 and its defaults, rendered
by Ansible's template module), TLS with a throwaway CA's certificate for 127.0.0.1, in front of
app servers on loopback. Only the pid file and the logs move into the benchmark's folder (no
journal here) and the sites listen on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from testkit.mlflow_server import free_port
from testkit.paths import REPO
from testkit.pki import make_pki

ROLE = REPO / "roles/edge"
BIN = Path(sys.executable).parent


def app_max_body(site: str) -> int:
    """The app's own body limit, which the edge's site takes (playbooks/group_vars/all/edge.yml)."""
    role, variable = {
        "serving": ("serving", "serving_max_body_bytes"),
        "function": ("gateway", "gateway_max_body_bytes"),
    }[site]
    return yaml.safe_load((REPO / f"roles/{role}/defaults/main.yml").read_text())[variable]


def render(folder: Path, sites: list[dict], tls: dict) -> Path:
    """The role's nginx.conf for `sites` (the role's site entries), in `folder`."""
    variables = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    variables.update(
        edge_listen_address="127.0.0.1",
        edge_sites=sites,
        __edge_tls_dir=str(tls["cert"].parent),
        ansible_python_interpreter=sys.executable,
    )
    (folder / "edge-vars.json").write_text(json.dumps(variables))
    conf = folder / "nginx.conf"
    subprocess.run(
        [
            str(BIN / "ansible"),
            "localhost",
            "-c",
            "local",
            "-i",
            "localhost,",
            "-m",
            "template",
            "-a",
            f"src={ROLE}/templates/etc/nginx/nginx.conf.j2 dest={conf}",
            "-e",
            f"@{folder / 'edge-vars.json'}",
        ],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    text = conf.read_text()
    # The role's paths that need systemd (the journal, /run/nginx); a template that no longer
    # has them fails here instead of benchmarking something else.
    for pattern, local in (
        (r"^pid .*;$", f"pid {folder}/nginx.pid;"),
        (r"^error_log .*;$", f"error_log {folder}/error.log warn;"),
        (r"^(\s*)access_log .* edge;$", rf"\1access_log {folder}/access.log edge;"),
    ):
        text, count = re.subn(pattern, local, text, flags=re.M)
        if count != 1:
            raise RuntimeError(f"{pattern!r} matched {count} lines of the edge's nginx.conf")
    conf.write_text(text)
    return conf


@contextlib.contextmanager
def edge(folder: Path, upstreams: dict[str, int]):
    """nginx with one TLS site per upstream ({name: app port on 127.0.0.1}); yields
    ({name: public port}, the CA file that verifies it). No rate limit: one load generator is
    one client address, and the limit would measure itself."""
    folder.mkdir(parents=True, exist_ok=True)
    tls = make_pki(folder, ("127.0.0.1", "localhost"), server="host")  # the role's names
    ports = {name: free_port() for name in upstreams}
    sites = [
        {"name": name, "port": ports[name], "upstream_port": port, "max_body": app_max_body(name)}
        for name, port in upstreams.items()
    ]
    conf = render(folder, sites, tls)
    # As on the hosts, the workers run as www-data (nginx's temp folders are its).
    cmd = ["nginx", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)]
    subprocess.run([*cmd, "-t", "-q"], check=True)
    proc = subprocess.Popen([*cmd, "-g", "daemon off; user www-data;"], start_new_session=True)
    try:
        from serving import wait_listening  # bench/serving.py

        for port in ports.values():
            wait_listening(port, 30)
        yield ports, str(tls["fleet"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
