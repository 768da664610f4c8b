"""The function's copy of the feature contract is the generated one."""

from attrition import features
from testkit.paths import CLOUD_FUNCTION

COPY = CLOUD_FUNCTION / "contract.json"


def test_contract_copy_is_current():
    assert COPY.read_text() == features.contract_json(), (
        "cloud_function/contract.json is stale: python -m attrition.features > " + str(COPY)
    )
