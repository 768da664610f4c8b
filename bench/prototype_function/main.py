"""The prototype's gateway, rebuilt for bench/gateway.py as the baseline (not for use): a
SQLAlchemy engine per request, `mlflow models serve` behind it, one INSERT per row, no
validation. (Its SQL is parameterised here: the benchmark needs its cost, not its injection.)"""

import json
import os
import urllib.request
import uuid
from pathlib import Path

import functions_framework
import sqlalchemy

CONTRACT = Path(__file__).resolve().parents[2] / "cloud_function" / "contract.json"
NAMES = [f["name"] for f in json.loads(CONTRACT.read_text())]
# Column names come from the contract, values are bound.
INSERT = sqlalchemy.text(
    "INSERT INTO predictions.predictions (request_id, row_index, user_id, model_name,"  # noqa: S608
    " model_version, " + ", ".join(NAMES) + ", probability, label) VALUES (:rid, :i, :uid,"
    " 'attrition', 1, " + ", ".join(f":{n}" for n in NAMES) + ", :p, :label)"
)


@functions_framework.http
def predict(request):
    doc = request.get_json()
    engine = sqlalchemy.create_engine(os.environ["PROTOTYPE_DB_URL"])  # per request, as it was
    body = json.dumps({"dataframe_records": doc["data"]}).encode()
    url = os.environ["PROTOTYPE_SERVING_URL"] + "/invocations"
    ask = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(ask) as answer:  # noqa: S310
        labels = json.loads(answer.read())["predictions"]
    rid = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO predictions.requests (request_id, user_id, body_sha256, model_name,"
                " model_version, threshold, row_count) VALUES (:rid, :uid, '\\x00', 'attrition', 1,"
                " 0.5, :n)"
            ),
            {"rid": rid, "uid": doc["user_id"], "n": len(labels)},
        )
        for i, (row, label) in enumerate(zip(doc["data"], labels)):
            conn.execute(
                INSERT,
                {
                    "rid": rid,
                    "i": i,
                    "uid": doc["user_id"],
                    "p": float(label),
                    "label": bool(label),
                    **row,
                },
            )
    engine.dispose()
    return {"predictions": [{"attrition": bool(v)} for v in labels]}
