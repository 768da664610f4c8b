"""The serving host's /predict, with a timeout and one retry on connection errors only (a
request that reached the model is never sent twice)."""

import json

import urllib3


class Unavailable(Exception):
    """Serving could not be reached or has no model (503)."""


class TimedOut(Exception):
    """Serving took longer than the timeout (504)."""


class BadAnswer(Exception):
    """Serving answered something we cannot use (502)."""


class ServingClient:
    def __init__(self, url: str, timeout: float, pool_size: int, ca_file: str = ""):
        self.url = url + "/predict"
        # https is verified (urllib3's default): against ca_file when given, else the system's CAs.
        self.http = urllib3.PoolManager(
            ca_certs=ca_file or None,
            maxsize=pool_size,
            timeout=urllib3.Timeout(connect=min(timeout, 2.0), read=timeout),
            retries=urllib3.Retry(
                total=1,
                connect=1,
                read=0,
                status=0,
                other=0,
                redirect=0,
                allowed_methods=None,
                raise_on_status=False,
            ),
        )

    def predict(self, rows: list, names: tuple, request_id: str) -> dict:
        body = json.dumps({"dataframe_split": {"columns": list(names), "data": rows}})
        try:
            answer = self.http.request(
                "POST",
                self.url,
                body=body.encode(),
                headers={"Content-Type": "application/json", "X-Request-ID": request_id},
            )
        except urllib3.exceptions.MaxRetryError as err:
            if isinstance(err.reason, urllib3.exceptions.ReadTimeoutError):
                raise TimedOut("the serving host did not answer in time") from err
            raise Unavailable(
                f"the serving host cannot be reached ({type(err.reason).__name__})"
            ) from err
        except urllib3.exceptions.TimeoutError as err:
            raise TimedOut("the serving host did not answer in time") from err
        except urllib3.exceptions.HTTPError as err:
            raise Unavailable(f"the serving host failed ({type(err).__name__})") from err
        if answer.status == 503:
            raise Unavailable("the serving host has no model loaded")
        if answer.status != 200:
            raise BadAnswer(f"the serving host answered {answer.status}")
        try:
            out = json.loads(answer.data)
            version = int(out["model"]["version"])
            preds = [(bool(p["attrition"]), float(p["probability"])) for p in out["predictions"]]
            result = {
                "name": str(out["model"]["name"]),
                "version": version,
                "threshold": float(out["threshold"]),
                "predictions": preds,
            }
        except (ValueError, KeyError, TypeError) as err:
            raise BadAnswer(
                f"the serving host's answer is unusable ({type(err).__name__})"
            ) from err
        if len(preds) != len(rows) or not all(0 <= p <= 1 for _, p in preds):
            raise BadAnswer("the serving host's answer does not match the request")
        return result
