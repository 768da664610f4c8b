"""What one Ansible task costs on a fleet host: Mitogen (ansible.cfg's strategy) against
Ansible's own `linear` strategy (the baseline), in the same run, on the same host.

    .venv/bin/python bench/ansible_tasks.py [--host db] [--tasks 40]

Needs the local fleet up (`fleet.sh up`). Each strategy runs a playbook of N `stat` tasks on one
host three times; the figure is the median wall time per task, startup included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def playbook(host: str, tasks: int) -> str:
    task = "    - ansible.builtin.stat:\n        path: /etc/hosts\n"
    return f"- hosts: {host}\n  gather_facts: false\n  become: true\n  tasks:\n" + task * tasks


def seconds_per_task(path: str, strategy: str, tasks: int, rounds: int = 3) -> float:
    env = {**os.environ, "ANSIBLE_STRATEGY": strategy}
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), path],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        times.append((time.perf_counter() - started) / tasks)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="db")
    parser.add_argument("--tasks", type=int, default=40)
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".yml", dir=REPO / "playbooks") as file:
        file.write(playbook(args.host, args.tasks))  # beside the playbooks: their group_vars
        file.flush()
        baseline = seconds_per_task(file.name, "linear", args.tasks)
        ours = seconds_per_task(file.name, "accelerated_linear", args.tasks)
    print(f"{args.tasks} stat tasks on {args.host}, median of 3 runs, seconds per task:")
    print(f"  Ansible's linear strategy (baseline): {baseline:.3f}")
    print(f"  accelerated_linear (Mitogen):        {ours:.3f}  ({baseline / ours:.1f}x)")


if __name__ == "__main__":
    main()
