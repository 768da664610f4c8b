"""The fleet's alert log: Alertmanager's webhook receiver on loopback.

Each notification becomes one line per alert in the journal (FIRING or RESOLVED, the alert's
name, labels and summary) and one JSON line in the file given (the whole notification, as
Alertmanager sent it), where scripts and the fleet's tests read it. Standard library only: it
runs on the system's Python. Arguments: address, port, file.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20  # Alertmanager's notifications are a few kB; anything larger is refused


class Receiver(BaseHTTPRequestHandler):
    log_file = ""

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self.answer(411, "Content-Length: required, a number")
        if length > MAX_BODY:
            return self.answer(413, f"body: larger than {MAX_BODY} bytes")
        try:
            notification = json.loads(self.rfile.read(length))
            alerts = notification["alerts"]
            lines = [
                "{} {} {} {}".format(
                    alert["status"].upper(),
                    alert["labels"].get("alertname", "?"),
                    json.dumps(alert["labels"], sort_keys=True),
                    alert.get("annotations", {}).get("summary", ""),
                )
                for alert in alerts
            ]
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            return self.answer(400, f"body: not an Alertmanager notification ({err})")
        with open(self.log_file, "a", encoding="utf-8") as log:
            log.write(json.dumps(notification, sort_keys=True) + "\n")
        for line in lines:
            print(line, flush=True)
        self.answer(200, "ok")

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # the journal gets the alerts, not every request
        pass


if __name__ == "__main__":
    address, port, Receiver.log_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ThreadingHTTPServer((address, port), Receiver).serve_forever()
