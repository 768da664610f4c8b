"""ansible.cfg's strategy: Mitogen under Ansible's own strategies, templating connection
variables that Mitogen 0.3 reads as written (files/ansible/strategy_plugins/accelerated.py)."""

from __future__ import annotations

import os
import sys

import pytest

from testkit.paths import STRATEGY_PLUGINS

pytestmark = pytest.mark.unit

sys.path.insert(0, str(STRATEGY_PLUGINS))
import accelerated  # noqa: E402
from ansible_mitogen import transport_config  # noqa: E402


class _Templar:
    def template(self, value):
        return value.replace("{{ fleet_name }}", "attrition")


class _Connection:
    templar = _Templar()

    def __init__(self, options):
        self.options = options

    def get_option(self, name, hostvars=None):
        return self.options[name]


def _spec_reading(options):
    """A PlayContextSpec of a throwaway subclass, patched as the strategy patches Mitogen's."""

    class Spec(transport_config.PlayContextSpec):
        pass

    accelerated._template_connection_options(Spec)
    spec = object.__new__(Spec)
    spec._connection = _Connection(options)
    spec._task_vars = {}
    return spec


def test_mitogen_still_has_the_method_the_strategy_patches():
    assert callable(getattr(transport_config.PlayContextSpec, "_connection_option", None))


def test_a_templated_host_reaches_the_connection_rendered():
    spec = _spec_reading({"host": "{{ fleet_name }}-db"})
    assert spec.remote_addr() == "attrition-db"


def test_plain_values_and_non_strings_pass_unchanged():
    spec = _spec_reading({"host": "10.0.0.5", "port": 22})
    assert spec.remote_addr() == "10.0.0.5"
    assert spec._connection_option("port") == 22


@pytest.mark.parametrize("base", ["linear", "free"])
def test_each_strategy_is_mitogen_over_ansibles_own(base):
    from ansible.plugins.loader import strategy_loader

    cls = accelerated.strategy_class(base)
    assert issubclass(cls, strategy_loader.get(base, class_only=True))
    assert any(k.__module__.startswith("ansible_mitogen") for k in cls.__mro__)


def test_no_process_of_ansible_is_pinned_to_a_cpu():
    from ansible_mitogen import affinity

    accelerated.strategy_class("linear")
    cpus = os.sched_getaffinity(0)
    policy = affinity.policy
    for assign in (policy.assign_controller, policy.assign_worker, policy.assign_subprocess):
        assign()
    policy.assign_muxprocess(0)
    assert type(policy) is affinity.Policy
    assert os.sched_getaffinity(0) == cpus


def test_without_mitogen_ansibles_own_strategy_runs(monkeypatch):
    from ansible.plugins.loader import strategy_loader

    monkeypatch.setitem(sys.modules, "ansible_mitogen.strategy", None)  # import fails
    assert accelerated.strategy_class("linear") is strategy_loader.get("linear", class_only=True)
