"""The function's settings: typed from GATEWAY_* variables, each bad value named."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys

import pytest

from attrition import metrics_registry
from attrition import settings as package_settings
from testkit.paths import CLOUD_FUNCTION

_spec = importlib.util.spec_from_file_location("function_settings", CLOUD_FUNCTION / "settings.py")
function_settings = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = function_settings  # dataclasses look their module up there
_spec.loader.exec_module(function_settings)
Settings = function_settings.Settings

GOOD = {"GATEWAY_SERVING_URL": "http://serving:8080"}


def test_the_defaults_and_typed_values():
    conf = Settings.from_env({**GOOD, "GATEWAY_SERVING_TIMEOUT": "2.5", "GATEWAY_MAX_ROWS": "7"})
    assert conf.serving_url == "http://serving:8080"
    assert conf.serving_timeout == 2.5
    assert conf.max_rows == 7
    assert conf.db_pool_size == 8
    assert conf.auth == "key"


def test_iam_names_the_audience_its_tokens_are_for():
    conf = Settings.from_env({**GOOD, "GATEWAY_AUTH": "iam", "GATEWAY_IAM_AUDIENCE": "https://f"})
    assert (conf.auth, conf.iam_audience, conf.iam_certs_url) == ("iam", "https://f", "")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "GATEWAY_SERVING_URL must be set"),
        ({**GOOD, "GATEWAY_AUTH": "open"}, "GATEWAY_AUTH='open': use key or iam"),
        ({**GOOD, "GATEWAY_AUTH": "iam"}, "GATEWAY_IAM_AUDIENCE"),
        ({**GOOD, "GATEWAY_MAX_ROWS": "ten"}, "GATEWAY_MAX_ROWS='ten' is not a valid int"),
        (
            {**GOOD, "GATEWAY_SERVING_TIMEOUT": "x"},
            "GATEWAY_SERVING_TIMEOUT='x' is not a valid float",
        ),
        ({**GOOD, "GATEWAY_METRICS_PATH": "metrics"}, "GATEWAY_METRICS_PATH='metrics': a path"),
    ],
)
def test_a_bad_setting_is_named(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_the_conversion_is_the_packages_own():
    """The function cannot import the package (it is deployed alone), so it carries a copy of
    the conversion: the copy must stay the same code."""
    copy = inspect.getsource(function_settings.typed_from_env)
    assert copy == inspect.getsource(package_settings.typed_from_env)


def test_the_metrics_registry_is_the_packages_own():
    """The same for the function's metrics registry (read, not imported: importing the file a
    second time would register its metrics twice)."""
    source = (CLOUD_FUNCTION / "metrics.py").read_text()
    copy = next(
        ast.get_source_segment(source, node)
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.name == "registry"
    )
    assert copy + "\n" == inspect.getsource(metrics_registry.registry)
