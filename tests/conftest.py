"""What every test may use, and the markers: a test under tests/unit is marked `unit` (the
package only, no services, seconds), one under tests/integration `integration` (real
PostgreSQL, tracking server, gunicorn, functions-framework, browser). `pytest -m unit` runs the
first kind alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.paths import IBM_CSV

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        kind = Path(item.fspath).relative_to(HERE).parts[0]
        item.add_marker(kind)


@pytest.fixture(scope="session")
def ibm_csv() -> Path:
    if not IBM_CSV.exists():
        pytest.fail(f"the IBM data set is missing at {IBM_CSV}")
    return IBM_CSV
