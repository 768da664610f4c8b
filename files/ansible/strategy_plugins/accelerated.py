"""Mitogen under Ansible's own strategies, when Mitogen is installed (the fleet's venvs have it).

Mitogen keeps one Python interpreter per host and runs modules in it: a task costs a few
milliseconds on the host instead of a new interpreter that re-compiles Ansible's module code
(about 0.4 s per task on our hosts; docs/benchmarks.md). Without Mitogen, Ansible's own
strategy runs, with a warning: slower, same result.

Mitogen 0.3 reads connection variables such as `ansible_host` untemplated (its issue 1083):
`ansible_host: "{{ fleet_name }}-db"` would reach `docker exec` as written. The patch below
templates them the way Mitogen already templates the Python interpreter. It touches one private
method, so pyproject.toml pins Mitogen exactly and tests/unit/test_accelerated_strategy.py fails
if the method is gone. Mitogen's CPU pinning is switched off (`_leave_cpus_to_the_kernel`).
"""

from ansible.plugins.loader import strategy_loader
from ansible.utils.display import Display


def _template_connection_options(spec_class):
    original = spec_class._connection_option

    def templated(self, name, fallback_attr=None):
        value = original(self, name, fallback_attr)
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            return self._connection.templar.template(value)
        return value

    spec_class._connection_option = templated


def _leave_cpus_to_the_kernel():
    """Mitogen pins its multiplexer to CPU 0 and, on fewer than 4 CPUs, the strategy and every
    worker it forks to CPU 1: on our 2-core machines all of Ansible's own work shared one core
    and a task on five hosts took five times as long as on one. Its base policy pins nothing."""
    import ansible_mitogen.affinity

    ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()


def strategy_class(base_name):
    """The StrategyModule for Ansible's strategy `base_name`, with Mitogen when it is there."""
    base = strategy_loader.get(base_name, class_only=True)
    try:
        import ansible_mitogen.strategy
        import ansible_mitogen.transport_config
    except ImportError:
        Display().warning(
            f"Mitogen is not installed: Ansible's '{base_name}' strategy runs (slower)"
        )
        return base
    _leave_cpus_to_the_kernel()
    spec = ansible_mitogen.transport_config.PlayContextSpec
    if not getattr(spec, "_templates_options", False):
        _template_connection_options(spec)
        spec._templates_options = True

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, base):
        pass

    return StrategyModule
