"""Reading the services' JSON log lines in tests."""

import re

# Request ids are random hex: a feature value the tests look for ("17771") turns up in one of
# them now and then, so they are blanked before such a search.
REQUEST_ID = re.compile(r'"request_id":\s*"[^"]*"')


def without_request_ids(text: str) -> str:
    return REQUEST_ID.sub('"request_id": ""', text)
