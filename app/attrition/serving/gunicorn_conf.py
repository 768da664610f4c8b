"""gunicorn hooks for the serving app (`gunicorn -c python:attrition.serving.gunicorn_conf`).

Bind address, workers, threads and timeouts come from the command line (the role's inputs).
"""

import os
import shutil

accesslog = None  # the app logs one structured line per request itself
wsgi_app = "attrition.serving.wsgi:create_app()"
control_socket_disable = True  # gunicorn 24+ would open an admin socket under $HOME


def on_starting(server):
    """A fresh metrics directory per start: files of a previous run's workers would be summed."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, mode=0o700)


def child_exit(server, worker):
    from attrition.serving import metrics

    metrics.worker_exited(worker.pid)
