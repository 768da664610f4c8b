"""The function's copy of the feature contract is the generated one."""

from pathlib import Path

from attrition import features

COPY = Path(__file__).resolve().parents[1] / "cloud_function" / "contract.json"


def test_contract_copy_is_current():
    assert COPY.read_text() == features.contract_json(), (
        "cloud_function/contract.json is stale: python -m attrition.features > " + str(COPY)
    )
